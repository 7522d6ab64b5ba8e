//! Writes that have no idempotency key of their own (a Gmail draft, a HubSpot note
//! or task) are made at most once by looking for them before making them. When
//! the provider fails in a way that may have taken effect, look again before the
//! next try, rather than handing the whole workflow back for a later retry.

use std::future::Future;

use super::StepError;
use crate::connectors::ConnectorError;

/// Tries to make a write this many times when its outcome keeps coming back unknown.
const ATTEMPTS: u32 = 3;

/// Whether an earlier attempt may have made the write: when the ledger row for it
/// was created by this very attempt, nothing before it can have reached the
/// provider, and the first look-up is skipped (a round trip off the path to the
/// reply). Any later try, and any attempt that found the row, looks first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Earlier {
    Impossible,
    Possible,
}

/// The id of the earlier write `lookup` finds, else of the one `create` makes.
pub async fn find_or_create<L, LF, C, CF>(
    earlier: Earlier,
    lookup: L,
    create: C,
) -> Result<String, StepError>
where
    L: Fn() -> LF,
    LF: Future<Output = Result<Option<String>, ConnectorError>>,
    C: Fn() -> CF,
    CF: Future<Output = Result<String, ConnectorError>>,
{
    let mut unknown = None;
    for n in 0..ATTEMPTS {
        let may_exist = n > 0 || earlier == Earlier::Possible;
        if may_exist && let Some(id) = lookup().await? {
            return Ok(id);
        }
        match create().await {
            Ok(id) => return Ok(id),
            Err(error @ ConnectorError::OutcomeUnknown { .. }) => unknown = Some(error),
            Err(error) => return Err(error.into()),
        }
    }
    // Still unknown: the workflow retries later and looks once more first.
    Err(unknown
        .map(StepError::from)
        .unwrap_or_else(|| StepError::transient("write outcome unknown")))
}
