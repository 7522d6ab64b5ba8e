//! The only place actix actors live. Actors are mailboxes and lifecycles; the work
//! they trigger lives in plain functions elsewhere.
//!
//! - `supervisor` — one per process: claims workflows, starts workflow actors
//! - `workflow` — one per running workflow: runs `engine::runner`
//! - `connector` — one per external service: limiter, retries, breaker

pub mod connector;
pub mod supervisor;
pub mod workflow;
