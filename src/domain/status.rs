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
    Completed,
    Skipped,
    DeadLettered,
    Cancelled,
}

impl WorkflowStatus {
    pub const ALL: [WorkflowStatus; 7] = [
        WorkflowStatus::Pending,
        WorkflowStatus::Running,
        WorkflowStatus::RetryWait,
        WorkflowStatus::Completed,
        WorkflowStatus::Skipped,
        WorkflowStatus::DeadLettered,
        WorkflowStatus::Cancelled,
    ];

    /// Statuses of workflows that still have work to do.
    pub const UNFINISHED: [WorkflowStatus; 3] = [
        WorkflowStatus::Pending,
        WorkflowStatus::Running,
        WorkflowStatus::RetryWait,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            WorkflowStatus::Pending => "pending",
            WorkflowStatus::Running => "running",
            WorkflowStatus::RetryWait => "retry_wait",
            WorkflowStatus::Completed => "completed",
            WorkflowStatus::Skipped => "skipped",
            WorkflowStatus::DeadLettered => "dead_lettered",
            WorkflowStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }
}
