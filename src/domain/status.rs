//! Where a step and a workflow stand: a step run's outcome and a workflow's status,
//! as stored and shown.

/// How a step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Ok,
    Skipped,
    Degraded,
    Failed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Skipped => "skipped",
            Outcome::Degraded => "degraded",
            Outcome::Failed => "failed",
        }
    }

    /// Whether the workflow may move past a step that ended this way.
    pub fn is_final(self) -> bool {
        !matches!(self, Outcome::Failed)
    }
}

/// Where a workflow stands. Stored by [`WorkflowStatus::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkflowStatus {
    Pending,
    Running,
    RetryWait,
    /// Waits for a connected account (a rep's Google mailbox) to be reconnected;
    /// reconnecting it makes the workflow pending again.
    Waiting,
    Completed,
    Skipped,
    DeadLettered,
    Cancelled,
}

impl WorkflowStatus {
    pub const ALL: [WorkflowStatus; 8] = [
        WorkflowStatus::Pending,
        WorkflowStatus::Running,
        WorkflowStatus::RetryWait,
        WorkflowStatus::Waiting,
        WorkflowStatus::Completed,
        WorkflowStatus::Skipped,
        WorkflowStatus::DeadLettered,
        WorkflowStatus::Cancelled,
    ];

    /// Statuses of workflows that still have work to do.
    pub const UNFINISHED: [WorkflowStatus; 4] = [
        WorkflowStatus::Pending,
        WorkflowStatus::Running,
        WorkflowStatus::RetryWait,
        WorkflowStatus::Waiting,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            WorkflowStatus::Pending => "pending",
            WorkflowStatus::Running => "running",
            WorkflowStatus::RetryWait => "retry_wait",
            WorkflowStatus::Waiting => "waiting",
            WorkflowStatus::Completed => "completed",
            WorkflowStatus::Skipped => "skipped",
            WorkflowStatus::DeadLettered => "dead_lettered",
            WorkflowStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    /// The lead has ended for good without an answer that offers times, so the
    /// slots it held are free for other prospects at once. A dead-lettered
    /// workflow keeps them: a retry resumes with the times it already chose.
    pub fn gives_up_holds(self) -> bool {
        matches!(self, WorkflowStatus::Skipped | WorkflowStatus::Cancelled)
    }
}
