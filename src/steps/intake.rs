//! Step 1, intake: the webhook already verified and committed the submission; this
//! step records where it came from, so the workflow detail starts at the beginning.

use crate::steps::{StepCx, StepDone, StepError};

pub async fn run(cx: &StepCx<'_>) -> Result<StepDone, StepError> {
    Ok(StepDone::ok(serde_json::json!({
        "shape": cx.submission.shape.as_str(),
        "idempotency_key": cx.workflow.idempotency_key,
        "received_at": cx.workflow.created_at.and_utc(),
    })))
}
