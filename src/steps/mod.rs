//! The 13 steps of a workflow: their order, stable names and failure policy.
//! Each step's logic lives in its own file, free of actix types.
//!
//! The stable name (`as_str`) is what the database, logs and metric labels use;
//! never rename one.

pub mod booking;
mod compose;
mod context;
mod conversation;
pub mod dedupe;
mod deliver;
mod engagement;
mod error;
mod intake;
pub mod once;
pub mod pilot;
mod propose_slots;
pub mod qualify;
mod record;
mod resolve_company;
mod resolve_contact;
pub mod route;
mod select_assets;
pub mod send;
pub mod state;
pub mod validate;
mod variants;

use std::future::Future;
use std::pin::Pin;

pub use context::{StepCx, StepDone, recorded_end};
pub use error::StepError;
pub use state::WorkflowState;

pub use crate::domain::{FailurePolicy, Step};

/// Runs one step.
///
/// Each step's future is boxed on its own. Inline, a future over all thirteen
/// is as large as the largest (compose, deliver, record: ~2.5 KB), and so is
/// every workflow in flight while it waits in an early step's rate limiter
/// (the contact steps' futures are ~0.6 KB); with 10,000 workflows in flight
/// that difference is ~20 MB.
pub async fn run(step: Step, cx: &StepCx<'_>) -> Result<StepDone, StepError> {
    type StepFuture<'a> = Pin<Box<dyn Future<Output = Result<StepDone, StepError>> + 'a>>;
    let future: StepFuture<'_> = match step {
        Step::Intake => Box::pin(intake::run(cx)),
        Step::Validate => Box::pin(validate::run(cx)),
        Step::Dedupe => Box::pin(dedupe::run(cx)),
        Step::ResolveContact => Box::pin(resolve_contact::run(cx)),
        Step::ResolveCompany => Box::pin(resolve_company::run(cx)),
        Step::ConversationContext => Box::pin(conversation::run(cx)),
        Step::Qualify => Box::pin(qualify::run(cx)),
        Step::Route => Box::pin(route::run(cx)),
        Step::SelectAssets => Box::pin(select_assets::run(cx)),
        Step::ProposeSlots => Box::pin(propose_slots::run(cx)),
        Step::Compose => Box::pin(compose::run(cx)),
        Step::Deliver => Box::pin(deliver::run(cx)),
        Step::Record => Box::pin(record::run(cx)),
    };
    future.await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn there_are_thirteen_steps_in_order_with_unique_names() {
        assert_eq!(Step::ALL.len(), 13);
        let mut names: Vec<&str> = Step::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(names.first(), Some(&"intake"));
        assert_eq!(names.last(), Some(&"record"));
        names.sort();
        names.dedup();
        assert_eq!(names.len(), 13);
        for step in Step::ALL {
            assert_eq!(Step::parse(step.as_str()), Some(step));
        }
        assert!(Step::ALL.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn only_enriching_steps_degrade() {
        let degrading: Vec<&str> = Step::ALL
            .into_iter()
            .filter(|s| s.on_failure() == FailurePolicy::Degrade)
            .map(Step::as_str)
            .collect();
        assert_eq!(
            degrading,
            [
                "resolve_company",
                "conversation_context",
                "qualify",
                "select_assets",
                "propose_slots"
            ]
        );
    }
}
