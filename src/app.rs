//! Wires the store, metrics, supervisor and web server together and returns a
//! handle that knows its port (tests bind port 0).

use std::net::TcpListener;
use std::sync::Arc;

use actix::{Actor, Addr};
use actix_web::dev::{Server, ServerHandle};
use actix_web::{App, HttpServer, web};

use crate::actors::supervisor::Supervisor;
use crate::config::Config;
use crate::metrics::Metrics;
use crate::store::Store;
use crate::web::{AppState, routes};

/// A built, not yet running service.
pub struct Application {
    port: u16,
    server: Server,
    state: AppState,
}

/// A service running in the background of the current actix system.
pub struct RunningApp {
    pub port: u16,
    pub state: AppState,
    handle: ServerHandle,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("DATABASE_URL: {0}")]
    Database(#[from] crate::store::StoreError),
    #[error("SALES_AGENT_BIND: {0}")]
    Bind(#[from] std::io::Error),
}

impl Application {
    /// Opens the database, applies migrations, starts the supervisor and binds.
    /// Must run inside an actix system.
    pub async fn build(config: Config) -> Result<Self, StartError> {
        let listener = TcpListener::bind(config.bind)?;
        Self::build_with_listener(config, listener).await
    }

    pub async fn build_with_listener(
        config: Config,
        listener: TcpListener,
    ) -> Result<Self, StartError> {
        let store = Store::open(
            &config.database_url,
            config.db_pool_size,
            config.db_busy_timeout,
        )?;
        let applied = store.migrate().await?;
        tracing::info!(
            backend = store.backend().as_str(),
            applied,
            "database ready"
        );
        let supervisor = Supervisor::new(store.clone(), config.supervisor_poll).start();
        let state = AppState {
            config: Arc::new(config),
            store,
            metrics: Metrics::new(),
            supervisor,
        };
        let port = listener.local_addr()?.port();
        let server_state = state.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new(server_state.clone()))
                .configure(routes)
        })
        .listen(listener)?
        .run();
        tracing::info!(port, "listening");
        Ok(Application {
            port,
            server,
            state,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until the process is asked to stop (SIGINT/SIGTERM).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }

    /// Serves in the background; the returned handle stops it.
    pub fn spawn(self) -> RunningApp {
        let handle = self.server.handle();
        let task = actix_web::rt::spawn(self.server);
        RunningApp {
            port: self.port,
            state: self.state,
            handle,
            task,
        }
    }
}

impl RunningApp {
    pub fn supervisor(&self) -> &Addr<Supervisor> {
        &self.state.supervisor
    }

    /// Stops accepting requests, finishes those in flight, and waits.
    pub async fn stop(self) {
        self.handle.stop(true).await;
        let _ = self.task.await;
    }
}
