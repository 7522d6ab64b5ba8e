//! Writing the reply: where the prospect is (`timezone`), when to meet (`slots`,
//! and `overlap`: how much a rep's hours meet the prospect's),
//! how the rep writes (`voice`, learnt from sent mail by `training`), the built-in
//! composer (`template`), the model composer's prompt and output checks (`model`)
//! and the checks every draft must pass (`guardrails`). Pure functions, no I/O.

pub mod booking_link;
pub mod guardrails;
pub mod overlap;
pub use crate::domain::links;
pub mod model;
pub mod slots;
pub mod template;
pub mod timezone;
pub mod training;
pub mod voice;
