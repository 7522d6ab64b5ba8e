//! How a step fails, and what the runner does about it. Connector and store errors
//! are mapped here, once.

use std::time::Duration;

use crate::connectors::ConnectorError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum StepError {
    /// Worth another attempt later (after `retry_after` when the provider named it).
    #[error("{message}")]
    Transient {
        message: String,
        retry_after: Option<Duration>,
    },
    /// Will not succeed by trying again: dead-letter (or degrade) with this reason.
    #[error("{0}")]
    Permanent(String),
    /// Not now, and not a failure: quiet hours, send limit, a paused mailbox.
    #[error("deferred: {reason}")]
    Defer { after: Duration, reason: String },
    /// A connected account (a rep's Google mailbox) must be reconnected first: the
    /// workflow waits, visibly, and resumes when it is. The account is kept for
    /// the code, never shown (this message reaches logs and stored errors); the
    /// rep's id when the step knows it (routing does, a connector call does not).
    #[error("waiting for a mailbox to be reconnected")]
    WaitForAccount {
        account: String,
        rep_id: Option<String>,
    },
    /// Another process owns the workflow now: stop touching it.
    #[error("lease lost")]
    LeaseLost,
}

impl StepError {
    pub fn transient(message: impl Into<String>) -> Self {
        StepError::Transient {
            message: message.into(),
            retry_after: None,
        }
    }
}

impl From<ConnectorError> for StepError {
    fn from(error: ConnectorError) -> Self {
        match &error {
            ConnectorError::NeedsReauth { account } => StepError::WaitForAccount {
                account: account.clone(),
                rep_id: None,
            },
            ConnectorError::QuotaExhausted(_) => StepError::Defer {
                after: Duration::from_secs(60 * 60),
                reason: error.to_string(),
            },
            // Every step looks for its earlier attempt before writing, so re-running
            // it after an unknown outcome is safe.
            ConnectorError::OutcomeUnknown { .. } => StepError::transient(error.to_string()),
            e if e.is_retryable() => StepError::Transient {
                message: e.to_string(),
                retry_after: e.retry_after(),
            },
            e => StepError::Permanent(e.to_string()),
        }
    }
}

impl From<StoreError> for StepError {
    fn from(error: StoreError) -> Self {
        StepError::transient(error.to_string())
    }
}
