//! The supervisor: one per process. It claims runnable workflows from the
//! database (new, retry due, lease expired) under a lease, up to the configured
//! concurrency, starts one workflow actor for each, renews the leases of those
//! still running, and on shutdown stops claiming and waits for them to finish.
//! New workflows wake it at once; a timer catches retries and other processes'
//! expired leases. Three more timers: experiment outcomes, the janitor that
//! enforces the retention settings (`store::retention`), and the watcher of
//! open drafts' threads (`engine::stale`). The poll also carries unfinished
//! bookings to their end (`engine::booking`).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use tokio::sync::watch;

use super::workflow::WorkflowActor;
use crate::engine::runner::RunEnd;
use crate::services::Services;
use crate::store::{leases, retention};

pub struct Supervisor {
    services: Arc<Services>,
    /// This process's lease owner name.
    owner: String,
    poll: Duration,
    in_flight: BTreeSet<String>,
    claiming: bool,
    /// A claim was asked for while one was running: claim again after it.
    claim_again: bool,
    draining: bool,
    /// The leases of the workflows still running were let go (shutdown): never renew them.
    let_go: bool,
    in_flight_count: watch::Sender<usize>,
    checking_experiments: bool,
    purging: bool,
    checking_drafts: bool,
    /// A pass over due bookings is running (`engine::booking::resume_due`).
    booking: bool,
}

impl Supervisor {
    pub fn new(services: Arc<Services>, poll: Duration) -> Self {
        let owner = format!("{}-{}", std::process::id(), uuid::Uuid::new_v4().simple());
        Supervisor {
            services,
            owner,
            poll,
            in_flight: BTreeSet::new(),
            claiming: false,
            claim_again: false,
            draining: false,
            let_go: false,
            in_flight_count: watch::channel(0).0,
            checking_experiments: false,
            purging: false,
            checking_drafts: false,
            booking: false,
        }
    }

    fn lease(&self) -> Duration {
        self.services.config.engine.lease
    }

    /// Claims as many runnable workflows as there are free slots.
    fn fill(&mut self, ctx: &mut Context<Self>) {
        if self.draining || !self.services.config.engine.run_workflows {
            return;
        }
        if self.claiming {
            self.claim_again = true;
            return;
        }
        let free = self
            .services
            .config
            .engine
            .concurrency
            .saturating_sub(self.in_flight.len());
        if free == 0 {
            return;
        }
        self.claiming = true;
        let (store, owner, lease) = (
            self.services.store.clone(),
            self.owner.clone(),
            self.lease(),
        );
        async move {
            store
                .run(move |c| leases::claim_runnable(c, &owner, lease, free as i64))
                .await
        }
        .into_actor(self)
        .map(move |claimed, act, ctx| {
            act.claiming = false;
            match claimed {
                Ok(ids) => {
                    let full = ids.len() == free;
                    for id in ids {
                        act.start_workflow(id, ctx);
                    }
                    if full {
                        act.claim_again = true;
                    }
                }
                Err(error) => tracing::warn!(%error, "could not claim workflows"),
            }
            if std::mem::take(&mut act.claim_again) {
                act.fill(ctx);
            }
        })
        .spawn(ctx);
    }

    fn start_workflow(&mut self, workflow_id: String, ctx: &mut Context<Self>) {
        if !self.in_flight.insert(workflow_id.clone()) {
            return;
        }
        self.published_in_flight();
        WorkflowActor {
            services: self.services.clone(),
            workflow_id,
            owner: self.owner.clone(),
            supervisor: ctx.address(),
        }
        .start();
    }

    fn published_in_flight(&self) {
        self.in_flight_count.send_replace(self.in_flight.len());
        let gauge = &self.services.metrics.workflows_in_flight;
        gauge.set(self.in_flight.len() as i64);
    }

    /// Counts the runnable backlog for the `workflows_runnable` gauge.
    fn count_backlog(&mut self, ctx: &mut Context<Self>) {
        let store = self.services.store.clone();
        async move { store.run(leases::count_runnable).await }
            .into_actor(self)
            .map(|counted, act, _ctx| match counted {
                Ok(n) => act.services.metrics.workflows_runnable.set(n),
                Err(error) => tracing::warn!(%error, "could not count runnable workflows"),
            })
            .spawn(ctx);
    }

    /// Extends the leases of the workflows running here.
    fn renew(&mut self, ctx: &mut Context<Self>) {
        if self.in_flight.is_empty() || self.let_go {
            return;
        }
        let ids: Vec<String> = self.in_flight.iter().cloned().collect();
        let (store, owner, lease) = (
            self.services.store.clone(),
            self.owner.clone(),
            self.lease(),
        );
        async move {
            store
                .run_urgent(move |c| leases::renew(c, &owner, &ids, lease))
                .await
        }
        .into_actor(self)
        .map(|renewed, act, _ctx| match renewed {
            Ok(held) if held.len() < act.in_flight.len() => {
                tracing::warn!(
                    lost = act.in_flight.len() - held.len(),
                    "leases lost; those workflows stop at their next write"
                );
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "could not renew leases"),
        })
        .spawn(ctx);
    }
}

impl Supervisor {
    /// Looks for replies and meetings of experiment contacts (see
    /// `experiments::outcomes`); a run still going when the timer fires is skipped.
    fn check_experiments(&mut self, ctx: &mut Context<Self>) {
        if self.draining || self.checking_experiments {
            return;
        }
        self.checking_experiments = true;
        let services = self.services.clone();
        async move { crate::experiments::outcomes::check(&services).await }
            .into_actor(self)
            .map(|result, act, _ctx| {
                act.checking_experiments = false;
                match result {
                    Ok(report) => tracing::debug!(?report, "experiment outcomes checked"),
                    Err(error) => tracing::warn!(%error, "experiment outcome check failed"),
                }
            })
            .spawn(ctx);
    }
}

impl Supervisor {
    /// Reads a batch of open drafts' threads for a prospect's reply (see
    /// `engine::stale`); a check still going when the timer fires is skipped.
    fn check_drafts(&mut self, ctx: &mut Context<Self>) {
        if self.draining || self.checking_drafts {
            return;
        }
        self.checking_drafts = true;
        let (services, owner) = (self.services.clone(), self.owner.clone());
        async move { crate::engine::stale::check(&services, &owner).await }
            .into_actor(self)
            .map(|result, act, _ctx| {
                act.checking_drafts = false;
                match result {
                    Ok(report) => tracing::debug!(?report, "open drafts checked"),
                    Err(error) => tracing::warn!(%error, "stale-draft check failed"),
                }
            })
            .spawn(ctx);
    }
}

impl Supervisor {
    /// The janitor: removes and blanks what is older than the retention
    /// settings, in short batches; a pass still going when the timer fires is
    /// skipped. Every process may run it: the batches are idempotent.
    fn purge_expired(&mut self, ctx: &mut Context<Self>) {
        if self.draining || self.purging {
            return;
        }
        self.purging = true;
        let (store, retention) = (
            self.services.store.clone(),
            self.services.config.retention.clone(),
        );
        async move {
            let cutoffs = retention::Cutoffs::of(&retention, crate::store::now());
            retention::purge_expired(&store, &cutoffs, retention.batch).await
        }
        .into_actor(self)
        .map(|result, act, _ctx| {
            act.purging = false;
            match result {
                Ok(purged) if !purged.is_empty() => tracing::info!(
                    workflows_deleted = purged.workflows_deleted,
                    outputs_blanked = purged.outputs_blanked,
                    messages_blanked = purged.messages_blanked,
                    audit_details_blanked = purged.audit_details_blanked,
                    "expired personal data purged"
                ),
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "the retention janitor failed"),
            }
        })
        .spawn(ctx);
    }
}

impl Supervisor {
    /// Carries accepted bookings whose chain is unfinished (a crash, a retry
    /// due, a lapsed lease) to their end; a pass still going is not doubled.
    fn resume_bookings(&mut self, ctx: &mut Context<Self>) {
        if self.draining || self.booking || !self.services.config.engine.run_workflows {
            return;
        }
        self.booking = true;
        let (services, owner) = (self.services.clone(), self.owner.clone());
        async move { crate::engine::booking::resume_due(&services, &owner).await }
            .into_actor(self)
            .map(|result, act, _ctx| {
                act.booking = false;
                if let Err(error) = result {
                    tracing::warn!(%error, "could not resume bookings");
                }
            })
            .spawn(ctx);
    }
}

impl Actor for Supervisor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        tracing::info!(owner = %self.owner, "supervisor started");
        self.fill(ctx);
        self.resume_bookings(ctx);
        ctx.run_interval(self.poll, |act, ctx| {
            act.fill(ctx);
            act.count_backlog(ctx);
            act.resume_bookings(ctx);
        });
        let renew_every = (self.lease() / 3).max(Duration::from_millis(100));
        ctx.run_interval(renew_every, |act, ctx| act.renew(ctx));
        let check_every = self.services.config.engine.experiment_check_every;
        if !check_every.is_zero() && self.services.config.engine.run_workflows {
            ctx.run_interval(check_every, |act, ctx| act.check_experiments(ctx));
        }
        let drafts_every = self.services.config.engine.stale_check_every;
        if !drafts_every.is_zero() && self.services.config.engine.run_workflows {
            ctx.run_interval(drafts_every, |act, ctx| act.check_drafts(ctx));
        }
        let purge_every = self.services.config.retention.every;
        if !purge_every.is_zero() {
            ctx.run_interval(purge_every, |act, ctx| act.purge_expired(ctx));
        }
    }
}

/// A workflow was just committed by the webhook handler (or re-queued by an admin).
#[derive(Message)]
#[rtype(result = "()")]
pub struct WorkflowAccepted(pub String);

impl Handler<WorkflowAccepted> for Supervisor {
    type Result = ();

    fn handle(&mut self, _msg: WorkflowAccepted, ctx: &mut Context<Self>) {
        self.fill(ctx);
    }
}

/// A workflow actor finished its run.
#[derive(Message)]
#[rtype(result = "()")]
pub struct WorkflowFinished {
    pub workflow_id: String,
    pub end: RunEnd,
}

impl Handler<WorkflowFinished> for Supervisor {
    type Result = ();

    fn handle(&mut self, msg: WorkflowFinished, ctx: &mut Context<Self>) {
        self.in_flight.remove(&msg.workflow_id);
        self.published_in_flight();
        tracing::debug!(workflow.id = %msg.workflow_id, end = ?msg.end, "workflow run ended");
        self.fill(ctx);
    }
}

/// Stops the supervisor (after a [`Drain`]): no more claims, lease renewals or
/// timers. Workflow actors still running finish on their own; their leases expire.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Stop;

impl Handler<Stop> for Supervisor {
    type Result = ();

    fn handle(&mut self, _msg: Stop, ctx: &mut Context<Self>) {
        tracing::info!(owner = %self.owner, "supervisor stopped");
        ctx.stop();
    }
}

/// Stop claiming and wait up to `deadline` for running workflows; answers how
/// many were still running. Their leases are let go at once, so another
/// process resumes them now rather than when the leases would have expired.
#[derive(Message)]
#[rtype(result = "usize")]
pub struct Drain {
    pub deadline: Duration,
}

impl Handler<Drain> for Supervisor {
    type Result = ResponseActFuture<Self, usize>;

    fn handle(&mut self, msg: Drain, _ctx: &mut Context<Self>) -> Self::Result {
        self.draining = true;
        let mut count = self.in_flight_count.subscribe();
        let waited = async move {
            let _ = tokio::time::timeout(msg.deadline, count.wait_for(|n| *n == 0)).await;
            *count.borrow()
        };
        Box::pin(waited.into_actor(self).then(|left, act, _ctx| {
            act.let_go |= left > 0;
            let (store, owner) = (act.services.store.clone(), act.owner.clone());
            async move {
                if left > 0 {
                    match store.run(move |c| leases::let_go(c, &owner)).await {
                        Ok(n) => tracing::info!(let_go = n, "leases of unfinished workflows let go"),
                        Err(error) => tracing::warn!(%error, "could not let go of leases; they expire on their own"),
                    }
                }
                left
            }
            .into_actor(act)
        }))
    }
}
