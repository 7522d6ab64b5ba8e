//! The 13 steps' identities: their order, stable names, failure policy and the
//! results each one needs. The stable name (`as_str`) is what the database, logs
//! and metric labels use; never rename one.

/// One step of the workflow. [`Step::ALL`] lists them in an order in which each
/// comes after the steps it needs; the driver runs every step whose needs are
/// committed, so independent steps run side by side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Step {
    Intake,
    Validate,
    Dedupe,
    ResolveContact,
    ResolveCompany,
    ConversationContext,
    Qualify,
    Route,
    SelectAssets,
    ProposeSlots,
    Compose,
    Deliver,
    Record,
}

/// What a step's failure (after the connector's own retries) does to the workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailurePolicy {
    /// Without this step's result the reply would be wrong: retry if transient,
    /// else dead-letter the workflow.
    FailWorkflow,
    /// The reply is still worth sending without this input: record the step as
    /// degraded and continue.
    Degrade,
}

impl Step {
    pub const ALL: [Step; 13] = [
        Step::Intake,
        Step::Validate,
        Step::Dedupe,
        Step::ResolveContact,
        Step::ResolveCompany,
        Step::ConversationContext,
        Step::Qualify,
        Step::Route,
        Step::SelectAssets,
        Step::ProposeSlots,
        Step::Compose,
        Step::Deliver,
        Step::Record,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Step::Intake => "intake",
            Step::Validate => "validate",
            Step::Dedupe => "dedupe",
            Step::ResolveContact => "resolve_contact",
            Step::ResolveCompany => "resolve_company",
            Step::ConversationContext => "conversation_context",
            Step::Qualify => "qualify",
            Step::Route => "route",
            Step::SelectAssets => "select_assets",
            Step::ProposeSlots => "propose_slots",
            Step::Compose => "compose",
            Step::Deliver => "deliver",
            Step::Record => "record",
        }
    }

    pub fn parse(name: &str) -> Option<Step> {
        Step::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// The explicit failure policy of each step.
    pub fn on_failure(self) -> FailurePolicy {
        match self {
            // Context that enriches the reply but is not needed to send one.
            Step::ResolveCompany
            | Step::ConversationContext
            | Step::Qualify
            | Step::SelectAssets
            | Step::ProposeSlots => FailurePolicy::Degrade,
            // Identity, routing, the reply itself and its record are not optional.
            Step::Intake
            | Step::Validate
            | Step::Dedupe
            | Step::ResolveContact
            | Step::Route
            | Step::Compose
            | Step::Deliver
            | Step::Record => FailurePolicy::FailWorkflow,
        }
    }

    /// The steps whose committed results this step needs before it starts: what
    /// it reads from the workflow state, and the steps that may end the workflow
    /// before a write of its own (so a spam lead never holds a rep's slots). Each
    /// comes earlier in [`Step::ALL`]; everything not named may run beside it.
    pub fn needs(self) -> &'static [Step] {
        use Step::*;
        match self {
            Intake => &[],
            Validate => &[Intake],
            Dedupe => &[Validate],
            // The CRM, the mailboxes and the rules all look at the validated,
            // unsuppressed lead, side by side.
            ResolveContact | ConversationContext | Qualify => &[Dedupe],
            // Associates the company with the contact.
            ResolveCompany => &[ResolveContact],
            // The contact's owner, else the mailbox of the conversation.
            Route => &[ResolveContact, ConversationContext],
            SelectAssets => &[ResolveCompany, Qualify, Route],
            // Holds the rep's slots; not for spam.
            ProposeSlots => &[Qualify, Route],
            Compose => &[
                ResolveCompany,
                ConversationContext,
                Qualify,
                Route,
                SelectAssets,
                ProposeSlots,
            ],
            Deliver => &[ConversationContext, Route, ProposeSlots, Compose],
            Record => &[ResolveContact, Qualify, ProposeSlots, Compose, Deliver],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_step_comes_after_what_it_needs_and_record_needs_everything() {
        for (i, step) in Step::ALL.iter().enumerate() {
            for need in step.needs() {
                let at = Step::ALL.iter().position(|s| s == need).unwrap();
                assert!(at < i, "{step:?} needs {need:?}, which comes later");
            }
        }
        // Everything before record is reachable from it: no step is left out of the reply.
        let mut seen = std::collections::BTreeSet::new();
        let mut todo = vec![Step::Record];
        while let Some(step) = todo.pop() {
            for need in step.needs() {
                if seen.insert(*need) {
                    todo.push(*need);
                }
            }
        }
        assert_eq!(seen.len(), 12);
    }

    #[test]
    fn the_contact_conversation_and_rules_do_not_wait_for_each_other() {
        for (a, b) in [
            (Step::ResolveContact, Step::ConversationContext),
            (Step::ResolveContact, Step::Qualify),
            (Step::ConversationContext, Step::Qualify),
            (Step::ResolveCompany, Step::Route),
        ] {
            assert!(!a.needs().contains(&b) && !b.needs().contains(&a));
        }
    }
}
