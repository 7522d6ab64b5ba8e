//! Writing the reply: where the prospect is (`timezone`), when to meet (`slots`).
//! Pure functions, no I/O; the steps feed them what the connectors found.

pub mod slots;
pub mod timezone;
