//! Sales Agent: answers inbound HubSpot leads with a personal, threaded Gmail draft.
//!
//! # Layout
//!
//! Floors, bottom first; a module imports its own floor or lower ones, never
//! higher, and no import loop spans two top-level modules
//! (`tests/it/floor_plan.rs` checks both):
//!
//! ```text
//! domain/        shared types: submission, lead, intent, reps, voice, steps and their
//!                needs, outcomes, statuses, tags, variants (imports nothing of the crate)
//! config/ metrics.rs secrets.rs store/ telemetry.rs
//!                settings; one Metrics struct; the keyring sealing stored tokens;
//!                diesel over SQLite | PostgreSQL; logs
//! accounts/ intake/ unsubscribe.rs connectors/
//!                connected accounts' grants (sealed at rest); step 1's parsing and
//!                signatures; unsubscribe tokens; external API clients, error
//!                classification, limits, breaker, connector mailboxes
//! services.rs    what a workflow reaches the world through (store, connectors, config, metrics)
//! compose/ assets/ experiments/
//!                the reply (time zone, slots, voice, composers, guardrails); the asset
//!                catalogue; A/B variants — logic over domain types
//! steps/         the 13 steps, one file each, over a narrow context (`StepCx`)
//! engine/        the driver: runs a workflow's step graph, commits, retries, ends
//! actors/        supervisor, workflow, connector and web actors (the only actix actors)
//! web/           routes: webhooks, admin API, web console, unsubscribe, health,
//!                metrics; JSON errors
//! app.rs cli.rs demo/ sandbox/ bench/
//!                wiring and handle; commands; the demo; the API stand-in; benchmarks
//! ```
//!
//! # Message flow
//!
//! ```text
//! HubSpot ─POST /webhooks/hubspot─► web::webhooks (served by actors::WebServer)
//!     read ≤ limit → verify signature (raw body) → intake::parse → idempotency key
//!     → store::events::accept (event + workflow + audit, one transaction)
//!     → 202 {workflow_id}  ──WorkflowAccepted──► WebServer ──► actors::Supervisor
//! Supervisor ──store::leases::claim_runnable──► DB (new, retry due, lease expired)
//!     └─ starts one WorkflowActor per claimed workflow ─► engine::runner::run
//!          every step whose needs (Step::needs) are committed starts at once;
//!          steps::run(step) ─► connector mailbox ─► ConnectorActor (limiter,
//!          retries, breaker) ─► HubSpot / Gmail / Calendar / Drive / LLM
//!          store::step_runs::record (fenced on the lease) as each step ends
//! ```

pub mod accounts;
pub mod actors;
pub mod app;
pub mod assets;
pub mod bench;
pub mod cli;
pub mod compose;
pub mod config;
pub mod connectors;
pub mod demo;
pub mod domain;
pub mod engine;
pub mod experiments;
pub mod intake;
pub mod metrics;
pub mod sandbox;
pub mod secrets;
pub mod services;
pub mod steps;
pub mod store;
pub mod telemetry;
pub mod unsubscribe;
pub mod web;
