//! The only place actix actors live. Actors are mailboxes and lifecycles; the work
//! they trigger lives in plain functions elsewhere.
//!
//! - `supervisor` — one per process: claims workflows, starts workflow actors
//! - `workflow` — one per running workflow: runs `engine::runner`
//! - `connector` — one per external service: limiter, retries, breaker
//! - `web` — one per process: owns the HTTP server, hands accepted workflows to
//!   the supervisor, shuts down requests first, then workflows

pub mod connector;
pub mod supervisor;
pub mod web;
pub mod workflow;
