//! Human labels for the machine names the console shows (workflow statuses,
//! step outcomes, intents, experiment states, step names): one mapping, used by
//! templates through the `label` filter and by code through [`label`]. Values
//! and CSS classes keep the machine name; only the text a person reads changes.

use crate::domain::{Intent, Outcome, WorkflowStatus};

/// The intents a lead can be filtered by.
pub const INTENTS: [Intent; 6] = Intent::ALL;

const OUTCOMES: [Outcome; 4] = [
    Outcome::Ok,
    Outcome::Skipped,
    Outcome::Degraded,
    Outcome::Failed,
];

// Exhaustive matches: a new variant does not compile until it has a label.
fn status(status: WorkflowStatus) -> &'static str {
    match status {
        WorkflowStatus::Pending => "Pending",
        WorkflowStatus::Running => "Running",
        WorkflowStatus::RetryWait => "Waiting to retry",
        WorkflowStatus::Waiting => "Waiting for an account",
        WorkflowStatus::Completed => "Completed",
        WorkflowStatus::Skipped => "Skipped",
        WorkflowStatus::DeadLettered => "Dead-lettered",
        WorkflowStatus::Cancelled => "Cancelled",
    }
}

fn outcome(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Ok => "OK",
        Outcome::Skipped => "Skipped",
        Outcome::Degraded => "Degraded",
        Outcome::Failed => "Failed",
    }
}

pub fn intent(intent: Intent) -> &'static str {
    match intent {
        Intent::Demo => "Demo request",
        Intent::Pricing => "Pricing",
        Intent::Question => "Question",
        Intent::Partnership => "Partnership",
        Intent::Support => "Support",
        Intent::Spam => "Spam",
    }
}

/// States that are not an enum of the domain: a step not run yet, an
/// experiment's state, a draft nobody approved yet.
const OTHERS: &[(&str, &str)] = &[
    ("not run", "Not run"),
    ("stopped", "Stopped"),
    ("waiting_approval", "Waiting for approval"),
];

/// The label of a machine name; an unknown one reads as words ("select_assets"
/// becomes "Select assets"), so nothing is ever shown with underscores.
pub fn label(raw: &str) -> String {
    let known = WorkflowStatus::ALL
        .iter()
        .find(|s| s.as_str() == raw)
        .map(|s| status(*s))
        .or_else(|| {
            OUTCOMES
                .iter()
                .find(|o| o.as_str() == raw)
                .map(|o| outcome(*o))
        })
        .or_else(|| {
            INTENTS
                .iter()
                .find(|i| i.as_str() == raw)
                .map(|i| intent(*i))
        })
        .or_else(|| OTHERS.iter().find(|(k, _)| *k == raw).map(|(_, v)| *v));
    match known {
        Some(label) => label.to_string(),
        None => {
            let words = raw.replace('_', " ");
            let mut chars = words.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_uppercase().chain(chars).collect()
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_outcomes_and_intents_read_as_words() {
        assert_eq!(label("dead_lettered"), "Dead-lettered");
        assert_eq!(label("retry_wait"), "Waiting to retry");
        assert_eq!(label("waiting_approval"), "Waiting for approval");
        assert_eq!(label("ok"), "OK");
        assert_eq!(label("demo"), "Demo request");
        assert_eq!(label("resolve_contact"), "Resolve contact");
        assert_eq!(label(""), "");
        for s in WorkflowStatus::ALL {
            assert!(!label(s.as_str()).contains('_'), "{s:?}");
        }
    }
}
