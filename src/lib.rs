//! Sales Agent: answers inbound HubSpot leads with a personal, threaded Gmail draft.
//!
//! # Layout
//!
//! ```text
//! main.rs        thin: hands over to cli::run
//! cli.rs         serve | migrate; --help lists every environment variable
//! config.rs      every setting, its variable and default, in one table
//! app.rs         wires store, metrics, supervisor and web server; returns a handle
//! telemetry.rs   log output (text or JSON)
//! metrics.rs     one Metrics struct, namespace `sales_agent`
//! compose/       the reply: time zone, slots, voice, template composer, guardrails
//! intake/        step 1: signatures, payload shapes, field map, idempotency key
//! engine/        runs one workflow's steps: state, failure policy, retries, send-once
//! steps/         the 13 steps: order, names, failure policy, one file per step
//! store/         diesel over SQLite | PostgreSQL: pool, migrations, one file per table
//! actors/        the supervisor and the connector actor (the only place actix actors live)
//! connectors/    external API clients; error classification, retries, limits, breaker
//! web/           routes: webhooks, health, metrics; JSON errors
//! demo/          the service wired to a sandbox; `sales-agent demo`
//! sandbox/       local stand-in for HubSpot, Gmail, Calendar, Drive, OAuth, LLM
//! ```
//!
//! # Message flow
//!
//! ```text
//! HubSpot ─POST /webhooks/hubspot─► web::webhooks
//!     read ≤ limit → verify signature (raw body) → intake::parse → idempotency key
//!     → store::events::accept (event + workflow + audit, one transaction)
//!     → 202 {workflow_id}  ──WorkflowAccepted──► actors::Supervisor
//! Supervisor (start + every poll) ──store::workflows::list_unfinished_ids──► DB
//! ```

pub mod actors;
pub mod app;
pub mod cli;
pub mod compose;
pub mod config;
pub mod connectors;
pub mod demo;
pub mod engine;
pub mod intake;
pub mod metrics;
pub mod reps;
pub mod sandbox;
pub mod steps;
pub mod store;
pub mod telemetry;
pub mod unsubscribe;
pub mod web;
