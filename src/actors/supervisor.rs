//! The supervisor: one per process. It learns of new workflows from the web
//! handler and, on start and on a timer, finds every unfinished workflow in the
//! database, so nothing accepted before a crash or restart is forgotten.

use std::collections::BTreeSet;
use std::time::Duration;

use actix::prelude::*;

use crate::store::{Store, workflows};

pub struct Supervisor {
    store: Store,
    poll: Duration,
    /// Unfinished workflows this process knows about.
    runnable: BTreeSet<String>,
}

impl Supervisor {
    pub fn new(store: Store, poll: Duration) -> Self {
        Supervisor {
            store,
            poll,
            runnable: BTreeSet::new(),
        }
    }

    /// Reloads the unfinished workflows from the database.
    fn rescan(&mut self, ctx: &mut Context<Self>) {
        let store = self.store.clone();
        async move { store.run(workflows::list_unfinished_ids).await }
            .into_actor(self)
            .map(|found, act, _ctx| match found {
                Ok(ids) => {
                    if ids.len() != act.runnable.len() {
                        tracing::info!(
                            unfinished = ids.len(),
                            "supervisor found unfinished workflows"
                        );
                    }
                    act.runnable = ids.into_iter().collect();
                }
                Err(error) => tracing::warn!(%error, "supervisor could not scan for workflows"),
            })
            .spawn(ctx);
    }
}

impl Actor for Supervisor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.rescan(ctx);
        ctx.run_interval(self.poll, |act, ctx| act.rescan(ctx));
    }
}

/// A workflow was just committed by the webhook handler.
#[derive(Message)]
#[rtype(result = "()")]
pub struct WorkflowAccepted(pub String);

impl Handler<WorkflowAccepted> for Supervisor {
    type Result = ();

    fn handle(&mut self, msg: WorkflowAccepted, _ctx: &mut Context<Self>) {
        self.runnable.insert(msg.0);
    }
}

/// The unfinished workflows the supervisor knows of, sorted by id.
#[derive(Message)]
#[rtype(result = "Vec<String>")]
pub struct Runnable;

impl Handler<Runnable> for Supervisor {
    type Result = Vec<String>;

    fn handle(&mut self, _msg: Runnable, _ctx: &mut Context<Self>) -> Vec<String> {
        self.runnable.iter().cloned().collect()
    }
}
