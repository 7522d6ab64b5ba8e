//! The ground floor: types every layer shares — the submission, the lead and their
//! intent, reps and their voice, the steps and their outcomes, workflow statuses,
//! asset tags, experiment arms, the step records read outside the workflow, the
//! operating mode, and dead-letter reasons as ops group them.
//! This module imports nothing else of the crate; everything else may import it.

pub mod experiment;
pub mod intent;
mod intent_words;
pub mod language;
pub mod lead;
pub mod links;
pub mod mode;
pub mod normalise;
pub mod reason;
pub mod records;
pub mod rep;
pub mod stale;
pub mod status;
pub mod step;
pub mod submission;
pub mod tags;
pub mod voice;

pub use experiment::{Element, Variant};
pub use language::{Lang, LanguageGuess, LanguageSource};
pub use lead::{Intent, Lead};
pub use mode::Mode;
pub use records::{Delivery, RouteInfo, RouteReason};
pub use rep::{Rep, RepError, WorkingHours};
pub use stale::StaleReason;
pub use status::{Outcome, WorkflowStatus};
pub use step::{FailurePolicy, Step};
pub use submission::{FormSubmission, PayloadShape, idempotency_key};
pub use tags::{TAG_KEYS, Tags};
pub use voice::{CtaStyle, Formality, LocalVoice, Tone, VoiceProfile};
