//! Writing the reply: where the prospect is (`timezone`), when to meet (`slots`,
//! and `overlap`: how much a rep's hours meet the prospect's), the prospect's
//! language (`language`), slots and sentences in it (`dates`, `phrases`),
//! how the rep writes (`voice`, learnt from sent mail by `training`), the built-in
//! composer (`template`), the model composer's prompt and output checks (`model`)
//! and the checks every draft must pass (`guardrails`). Pure functions, no I/O.

pub mod booking_link;
pub mod dates;
pub mod guardrails;
pub mod language;
pub mod overlap;
pub mod phrases;
pub use crate::domain::links;
pub mod model;
pub mod slots;
pub mod template;
pub mod timezone;
pub mod training;
pub mod voice;
