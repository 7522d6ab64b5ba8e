//! Sales Agent: answers inbound HubSpot leads with a personal, threaded Gmail draft.
//!
//! # Layout
//!
//! ```text
//! main.rs        thin: hands over to cli::run
//! cli.rs         serve | migrate | sandbox | demo; --help lists every variable
//! config/        every setting, its variable and default, in one table
//! app.rs         wires store, metrics, supervisor and web server; returns a handle
//! telemetry.rs   log output (text or JSON)
//! metrics.rs     one Metrics struct, namespace `sales_agent`
//! assets/        the asset catalogue: Drive folder allowlist, sync, tags, ranking
//! compose/       the reply: time zone, slots, voice (and its training), template and model composers, guardrails
//! intake/        step 1: signatures, payload shapes, field map, idempotency key
//! engine/        runs one workflow's steps: state, failure policy, retries, send-once
//! steps/         the 13 steps: order, names, failure policy, one file per step
//! store/         diesel over SQLite | PostgreSQL: pool, migrations, one file per table
//! actors/        supervisor, workflow and connector actors (the only actix actors)
//! reps.rs        the reps leads are routed to, from a seed file
//! unsubscribe.rs one-click unsubscribe tokens
//! connectors/    external API clients; error classification, retries, limits, breaker
//! experiments/   A/B variants of the reply: assignment, outcomes, significance
//! web/           routes: webhooks, admin API, web console, unsubscribe, health, metrics; JSON errors
//! demo/          the service wired to a sandbox; `sales-agent demo`
//! sandbox/       local stand-in for HubSpot, Gmail, Calendar, Drive, OAuth, LLM
//! bench/         `sales-agent bench <name>`: the performance benchmarks
//! ```
//!
//! # Message flow
//!
//! ```text
//! HubSpot ─POST /webhooks/hubspot─► web::webhooks
//!     read ≤ limit → verify signature (raw body) → intake::parse → idempotency key
//!     → store::events::accept (event + workflow + audit, one transaction)
//!     → 202 {workflow_id}  ──WorkflowAccepted──► actors::Supervisor
//! Supervisor ──store::leases::claim_runnable──► DB (new, retry due, lease expired)
//!     └─ starts one WorkflowActor per claimed workflow ─► engine::runner::run
//!          steps::run(step) for each unfinished step ─► ConnectorActor (limiter,
//!          retries, breaker) ─► HubSpot / Gmail / Calendar / Drive / LLM
//!          store::step_runs::record (fenced on the lease) after every step
//! ```

pub mod actors;
pub mod app;
pub mod assets;
pub mod bench;
pub mod cli;
pub mod compose;
pub mod config;
pub mod connectors;
pub mod demo;
pub mod engine;
pub mod experiments;
pub mod intake;
pub mod metrics;
pub mod reps;
pub mod sandbox;
pub mod steps;
pub mod store;
pub mod telemetry;
pub mod unsubscribe;
pub mod web;
