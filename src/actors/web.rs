//! The web actor: one per process, owning the HTTP server (webhooks, admin API,
//! health, metrics). It serves from the moment it starts, hands every workflow a
//! handler accepted to the supervisor, and shuts down in order: stop taking
//! requests, let those in flight finish, then drain the supervisor's running
//! workflows within the grace period (letting go of the leases of those left)
//! and stop it. The routes themselves live in `web`; the application hands this
//! actor the built server, and on SIGTERM first fails readiness for the drain
//! period (`app`).

use std::time::Duration;

use actix::prelude::*;
use actix_web::dev::{Server, ServerHandle};
use tokio::sync::oneshot;

use super::supervisor::{Drain, Stop, Supervisor, WorkflowAccepted};

pub struct WebServer {
    /// Taken when the actor starts serving it.
    server: Option<Server>,
    handle: ServerHandle,
    supervisor: Addr<Supervisor>,
    grace: Duration,
    /// Told how serving ended, once the supervisor has drained.
    ended: Option<oneshot::Sender<std::io::Result<()>>>,
}

/// Learns when a [`WebServer`] has stopped serving and drained.
pub type Ended = oneshot::Receiver<std::io::Result<()>>;

impl WebServer {
    /// Starts the actor in `ctx` (made beforehand, so the server's handlers could
    /// be given its address) serving `server`.
    pub fn start_in(
        ctx: Context<Self>,
        server: Server,
        supervisor: Addr<Supervisor>,
        grace: Duration,
    ) -> (Addr<Self>, Ended) {
        let (ended, receiver) = oneshot::channel();
        let actor = WebServer {
            handle: server.handle(),
            server: Some(server),
            supervisor,
            grace,
            ended: Some(ended),
        };
        (ctx.run(actor), receiver)
    }
}

impl Actor for WebServer {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        let Some(server) = self.server.take() else {
            return;
        };
        // The server ends on SIGINT/SIGTERM (actix-web stops gracefully) or on
        // `Shutdown`; either way the workflows drain after the requests.
        server
            .into_actor(self)
            .then(|served, act, _ctx| {
                let (supervisor, grace) = (act.supervisor.clone(), act.grace);
                async move {
                    drain(&supervisor, grace).await;
                    supervisor.do_send(Stop);
                    served
                }
                .into_actor(act)
            })
            .map(|served, act, ctx| {
                if let Some(ended) = act.ended.take() {
                    let _ = ended.send(served);
                }
                ctx.stop();
            })
            .spawn(ctx);
    }
}

/// Stop serving: no new connections, requests in flight finish, then the
/// workflows drain (see [`WebServer`]). Answers once the server has stopped.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Shutdown;

impl Handler<Shutdown> for WebServer {
    type Result = ResponseFuture<()>;

    fn handle(&mut self, _msg: Shutdown, _ctx: &mut Context<Self>) -> Self::Result {
        let handle = self.handle.clone();
        Box::pin(async move { handle.stop(true).await })
    }
}

impl Handler<WorkflowAccepted> for WebServer {
    type Result = ();

    fn handle(&mut self, accepted: WorkflowAccepted, _ctx: &mut Context<Self>) {
        self.supervisor.do_send(accepted);
    }
}

async fn drain(supervisor: &Addr<Supervisor>, deadline: Duration) {
    match supervisor.send(Drain { deadline }).await {
        Ok(0) => tracing::info!("all workflows drained"),
        Ok(left) => tracing::warn!(
            left,
            "workflows still running at shutdown; their leases were let go and they resume elsewhere"
        ),
        Err(error) => tracing::warn!(%error, "supervisor gone before draining"),
    }
}
