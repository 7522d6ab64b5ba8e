//! The workflow actor: one per running workflow. It runs `engine::runner::run` to
//! the end of this attempt, tells the supervisor how it ended, and stops. All the
//! logic is in the runner; this is only a lifecycle.

use std::sync::Arc;

use actix::prelude::*;

use super::supervisor::{Supervisor, WorkflowFinished};
use crate::engine::runner::{self, RunEnd};
use crate::services::Services;

pub struct WorkflowActor {
    pub services: Arc<Services>,
    pub workflow_id: String,
    pub owner: String,
    pub supervisor: Addr<Supervisor>,
}

impl Actor for WorkflowActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        let (services, id, owner) = (
            self.services.clone(),
            self.workflow_id.clone(),
            self.owner.clone(),
        );
        async move { runner::run(&services, &id, &owner).await }
            .into_actor(self)
            .map(|result, act, ctx| {
                let end = result.unwrap_or_else(|error| {
                    // The store failed mid-run: the lease expires and the workflow is claimed again.
                    tracing::error!(workflow.id = %act.workflow_id, %error, "workflow run stopped on a database error");
                    RunEnd::NotOurs
                });
                act.supervisor.do_send(WorkflowFinished { workflow_id: act.workflow_id.clone(), end });
                ctx.stop();
            })
            .wait(ctx);
    }
}
