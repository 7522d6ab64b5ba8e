//! The 13 steps' identities: their order, stable names, failure policy and the
//! results each one needs. The stable name (`as_str`) is what the database, logs
//! and metric labels use; never rename one.

/// One step of the workflow, in the order they run.
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

    /// The step after this one, if any.
    pub fn next(self) -> Option<Step> {
        Step::ALL
            .iter()
            .position(|s| *s == self)
            .and_then(|i| Step::ALL.get(i + 1).copied())
    }
}
