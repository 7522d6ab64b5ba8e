//! The only place actix actors live. Actors are mailboxes and lifecycles; the work
//! they trigger lives in plain functions elsewhere.

pub mod connector;
pub mod supervisor;
