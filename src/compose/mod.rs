//! Writing the reply: where the prospect is (`timezone`), when to meet (`slots`),
//! how the rep writes (`voice`), the built-in composer (`template`) and the checks
//! every draft must pass (`guardrails`). Pure functions, no I/O.

pub mod guardrails;
pub mod slots;
pub mod template;
pub mod timezone;
pub mod voice;
