//! Writes that have no idempotency key of their own (a Gmail draft, a HubSpot note
//! or task) are made at most once by looking for them before making them. When
//! the provider fails in a way that may have taken effect, look again before the
//! next try, rather than handing the whole workflow back for a later retry.
//!
//! Looking first is only safe while no one else is writing the same thing: a
//! process whose lease lapsed (its renewals queued behind work, or it paused) may
//! still be mid-step while another process has claimed the workflow. So every
//! write passes the [`Fence`] first: the lease must still be this process's, and
//! is stretched to a full lease for the write that follows.

use std::future::Future;

use super::{StepCx, StepError};
use crate::connectors::ConnectorError;
use crate::services::Services;
use crate::store::leases;

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

impl Earlier {
    /// What a ledger plan says: a row this very attempt created (`fresh`)
    /// proves no earlier attempt wrote.
    pub fn after_plan(fresh: bool) -> Self {
        if fresh {
            Earlier::Impossible
        } else {
            Earlier::Possible
        }
    }
}

/// The lease a workflow's external writes are made under.
#[derive(Clone, Copy)]
pub struct Fence<'a> {
    services: &'a Services,
    workflow_id: &'a str,
    /// `None` when the workflow runs outside the engine's leases (a step run by
    /// itself in a test): there is no other runner to fence against.
    owner: Option<&'a str>,
}

impl<'a> Fence<'a> {
    /// The fence of a workflow run outside the step graph (booking): `owner`
    /// is the lease owner it runs under, `None` when it holds no lease.
    pub fn new(services: &'a Services, workflow_id: &'a str, owner: Option<&'a str>) -> Self {
        Fence {
            services,
            workflow_id,
            owner,
        }
    }

    pub fn of(cx: &'a StepCx<'a>) -> Self {
        Fence {
            services: cx.services,
            workflow_id: &cx.workflow.id,
            owner: cx.workflow.lease_owner.as_deref(),
        }
    }

    /// For a write made outside a workflow run (the stale-draft watcher, under
    /// its own lease on the watch row): there is no workflow lease to hold.
    pub fn unleased(services: &'a Services, workflow_id: &'a str) -> Self {
        Fence {
            services,
            workflow_id,
            owner: None,
        }
    }

    pub fn services(&self) -> &'a Services {
        self.services
    }

    pub fn workflow_id(&self) -> &'a str {
        self.workflow_id
    }

    /// Ok when this process still holds the workflow's lease, now stretched to a
    /// full lease; [`StepError::LeaseLost`] when it does not, and nothing is written.
    pub async fn hold(&self) -> Result<(), StepError> {
        let Some(owner) = self.owner else {
            return Ok(());
        };
        let (owner, id, lease) = (
            owner.to_string(),
            self.workflow_id.to_string(),
            self.services.config.engine.lease,
        );
        let held = self
            .services
            .store
            .run(move |c| leases::hold_for_write(c, &owner, &id, lease))
            .await?;
        if held {
            Ok(())
        } else {
            Err(StepError::LeaseLost)
        }
    }
}

/// The id of the earlier write `lookup` finds, else of the one `create` makes —
/// each `create` only after the fence holds.
pub async fn find_or_create<L, LF, C, CF>(
    earlier: Earlier,
    fence: Fence<'_>,
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
        fence.hold().await?;
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
