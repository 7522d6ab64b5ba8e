//! Wires the store, metrics, connector actors, supervisor and web actor together
//! and returns a handle that knows its port (tests bind port 0).
//!
//! Stopping for a rolling deploy (SIGTERM): readiness turns 503 for the drain
//! period while the server still answers, so a load balancer's health check takes
//! the process out first; then the server stops taking connections and lets those
//! in flight finish; the workflows get the grace period to finish their step and
//! the rest are let go at once (their leases expire now, so another process picks
//! them up); last, the process's shared quota leases close. SIGINT skips the drain
//! period.

use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use actix::{Actor, Addr, AsyncContext, Context};
use actix_web::dev::Server;
use actix_web::{App, HttpServer, web};

use crate::accounts::google::{GoogleAccounts, SYNC_PERIOD};
use crate::actors::connector;
use crate::actors::supervisor::Supervisor;
use crate::actors::web::{Ended, Shutdown, WebServer};
use crate::config::Config;
use crate::connectors::setup::{Clients, Policies};
use crate::connectors::shared::{SharedBudget, SharedSettings};
use crate::metrics::Metrics;
use crate::services::Services;
use crate::store::{Store, StoreError, audit, reps};
use crate::web::intake_queue::IntakeQueue;
use crate::web::{AppState, UnverifiedBodies, routes};

/// A built, not yet serving service: the web actor's context is made, so the
/// handlers know its address, but the actor starts only with `spawn` or
/// `run_until_stopped`.
pub struct Application {
    port: u16,
    server: Server,
    web: Context<WebServer>,
    supervisor: Addr<Supervisor>,
    state: AppState,
    account_sync: tokio::task::JoinHandle<()>,
    /// The fleet's quota budgets (PostgreSQL, sharing on).
    quota: Option<Arc<SharedBudget>>,
    /// SIGTERM, listened for from the start of `build`: one that comes while
    /// the service is still starting drains it too, instead of killing it.
    terminate: Terminate,
}

#[cfg(unix)]
type Terminate = Option<tokio::signal::unix::Signal>;
#[cfg(not(unix))]
type Terminate = Option<()>;

/// A service running in the background of the current actix system.
pub struct RunningApp {
    pub port: u16,
    pub state: AppState,
    supervisor: Addr<Supervisor>,
    web: Addr<WebServer>,
    ended: Ended,
    account_sync: tokio::task::AbortHandle,
    quota: Option<Arc<SharedBudget>>,
}

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("DATABASE_URL: {0}")]
    Database(#[from] StoreError),
    #[error("SALES_AGENT_BIND: {0}")]
    Bind(#[from] std::io::Error),
    #[error("SALES_AGENT_REPS_FILE: {0}")]
    Reps(String),
    #[error(transparent)]
    Secrets(#[from] crate::secrets::SecretsError),
    #[error(transparent)]
    Accounts(#[from] crate::accounts::AccountsError),
    /// The service account's key file (the message names the setting).
    #[error("{0}")]
    ServiceAccount(String),
}

impl Application {
    /// Opens the database, applies migrations, loads the reps file, opens the
    /// stored grants, starts the connector actors and the supervisor, and binds. Must run inside an actix system.
    pub async fn build(config: Config) -> Result<Self, StartError> {
        let listener = TcpListener::bind(config.bind)?;
        Self::build_with_listener(config, listener).await
    }

    pub async fn build_with_listener(
        config: Config,
        listener: TcpListener,
    ) -> Result<Self, StartError> {
        #[cfg(unix)]
        let terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        #[cfg(not(unix))]
        let terminate = None;
        if config.public_url.scheme() != "https" {
            tracing::warn!(
                public_url = %config.public_url,
                "SALES_AGENT_PUBLIC_URL is not https: replies are left as drafts without the one-click unsubscribe header, and none is sent"
            );
        }
        if config.webhook.client_secrets.is_empty() {
            tracing::warn!(
                "SALES_AGENT_HUBSPOT_CLIENT_SECRET is unset: every webhook will be refused with 401"
            );
        }
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
        if let Some(path) = &config.engine.reps_file {
            let loaded = reps_from_file(&store, path).await?;
            tracing::info!(reps_added = loaded, "reps file read");
        }
        // The grants: configured tokens sealed in when a key is given, every
        // stored one opened; a database of sealed grants without its key stops here.
        let keyring = crate::secrets::Keyring::from_settings(&config.secret_keys)?.map(Arc::new);
        let mut connectors_config = config.connectors.clone();
        connectors_config.google_refresh_tokens = crate::accounts::open_google_grants(
            &store,
            keyring.clone(),
            config.connectors.google_refresh_tokens.clone(),
        )
        .await?;
        // Phone numbering data is built on first use; build it now, beside start-up.
        tokio::task::spawn_blocking(crate::compose::timezone::warm);
        let metrics = Metrics::new();
        let clients = Clients::from_config(&connectors_config);
        clients
            .use_service_account(&connectors_config)
            .map_err(StartError::ServiceAccount)?;
        // The grants as this process uses them: a grant stored as dead before a
        // restart stays dead until reconnected; the gauge is set before serving.
        let accounts = Arc::new(GoogleAccounts::new(
            store.clone(),
            keyring.clone(),
            clients.credentials.clone(),
            clients.google_tokens.clone(),
            metrics.clone(),
        ));
        accounts.sync().await?;
        let account_sync = accounts.clone().spawn_sync(SYNC_PERIOD);
        // A HubSpot connection made in the console replaces the environment's token.
        if let Some(keyring) = &keyring {
            clients
                .hubspot_tokens
                .persist_in(store.clone(), keyring.clone());
        }
        let hubspot = Arc::new(crate::accounts::hubspot::HubSpotAccount::new(
            clients.hubspot_tokens.clone(),
            keyring,
            config.connectors.hubspot_auth_url.clone(),
        ));
        hubspot.load(&store).await?;
        let quota = shared_quota(&store, &config)?;
        let mut policies = Policies::from_config(&config.connectors, &metrics);
        if let Some(budget) = &quota {
            policies = policies.shared(budget);
        }
        let connectors = connector::start(clients, policies);
        // One client for the process: it holds the provider's signing keys.
        let google = crate::connectors::google_oauth::GoogleOAuth::from_config(
            &config,
            crate::connectors::http::client(config.connectors.timeout),
        )
        .map(Arc::new);
        let config = Arc::new(config);
        let services = Arc::new(Services {
            store: store.clone(),
            connectors,
            config: config.clone(),
            metrics: metrics.clone(),
        });
        let supervisor = Supervisor::new(services.clone(), config.supervisor_poll).start();
        let web = Context::<WebServer>::new();
        let state = AppState {
            unverified: UnverifiedBodies::new(config.webhook.unverified_bytes),
            config,
            engine: services,
            intake: IntakeQueue::start(store.clone()),
            store,
            metrics,
            accepted: web.address().recipient(),
            accounts,
            google,
            hubspot,
            draining: Arc::new(AtomicBool::new(false)),
        };
        let port = listener.local_addr()?.port();
        let server_state = state.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new(server_state.clone()))
                .configure(routes)
        })
        // Signals are ours (see the module notes): actix would stop at once.
        .disable_signals()
        .listen(listener)?
        .run();
        tracing::info!(port, "listening");
        Ok(Application {
            port,
            server,
            web,
            supervisor,
            state,
            account_sync,
            quota,
            terminate,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until the process is asked to stop (SIGINT/SIGTERM), then lets
    /// running workflows finish their step within the grace period.
    pub async fn run_until_stopped(mut self) -> std::io::Result<()> {
        let (draining, drain) = (self.state.draining.clone(), self.state.config.engine.drain);
        let quota = self.quota.clone();
        let terminate = self.terminate.take();
        let (web, ended) = self.start_web();
        let stopper = tokio::spawn(async move {
            if stop_signal(terminate).await {
                draining.store(true, Ordering::Relaxed);
                tracing::info!(
                    drain_secs = drain.as_secs(),
                    "SIGTERM: readiness fails while load balancers drain, then the server stops"
                );
                tokio::time::sleep(drain).await;
            }
            web.send(Shutdown).await.ok();
        });
        let served = ended.await.unwrap_or(Ok(()));
        stopper.abort();
        if let Some(quota) = quota {
            quota.release_all().await;
        }
        served
    }

    /// Serves in the background; the returned handle stops it.
    pub fn spawn(self) -> RunningApp {
        let (port, state, supervisor) = (self.port, self.state.clone(), self.supervisor.clone());
        let account_sync = self.account_sync.abort_handle();
        let quota = self.quota.clone();
        let (web, ended) = self.start_web();
        RunningApp {
            port,
            state,
            supervisor,
            web,
            ended,
            account_sync,
            quota,
        }
    }

    fn start_web(self) -> (Addr<WebServer>, Ended) {
        let grace = self.state.config.engine.shutdown_grace;
        WebServer::start_in(self.web, self.server, self.supervisor, grace)
    }
}

impl RunningApp {
    pub fn supervisor(&self) -> &Addr<Supervisor> {
        &self.supervisor
    }

    /// Stops accepting requests, lets those in flight and the running workflows
    /// finish, and waits.
    pub async fn stop(self) {
        self.account_sync.abort();
        let _ = self.web.send(Shutdown).await;
        let _ = self.ended.await;
        if let Some(quota) = self.quota {
            quota.release_all().await;
        }
    }
}

/// The fleet's shared quota budgets: on PostgreSQL unless the lease share is 0.
/// They have four connections of their own: a lease asked for behind a queue
/// of step writes would hold the quota idle meanwhile.
fn shared_quota(store: &Store, config: &Config) -> Result<Option<Arc<SharedBudget>>, StartError> {
    let percent = config.connectors.quota_lease_percent;
    if store.backend() != crate::store::Backend::Postgres || percent == 0 {
        return Ok(None);
    }
    let store = Store::open(&config.database_url, 4, config.db_busy_timeout)?;
    let owner = format!("{}-{}", std::process::id(), uuid::Uuid::new_v4().simple());
    let settings = SharedSettings {
        lease_fraction: f64::from(percent) / 100.0,
        ..SharedSettings::default()
    };
    Ok(Some(SharedBudget::new(store, owner, settings)))
}

/// Waits for SIGTERM (true: drain first) or SIGINT (false: stop now).
async fn stop_signal(terminate: Terminate) -> bool {
    #[cfg(unix)]
    if let Some(mut term) = terminate {
        return tokio::select! {
            _ = term.recv() => true,
            _ = tokio::signal::ctrl_c() => false,
        };
    }
    #[cfg(not(unix))]
    let _ = terminate;
    let _ = tokio::signal::ctrl_c().await;
    false
}

/// Seeds the reps of a seed file that the database does not hold yet, with an
/// audit entry; returns how many it added. A rep already stored keeps what the
/// console or the admin API made of it: the file seeds, it does not overwrite.
async fn reps_from_file(store: &Store, path: &std::path::Path) -> Result<usize, StartError> {
    let loaded = crate::domain::rep::load_file(path).map_err(StartError::Reps)?;
    let added = store
        .run(move |c| {
            let mut added = 0;
            for rep in &loaded {
                // Processes starting together may insert the same new rep at once;
                // the one that loses the race finds it stored and leaves it.
                added += usize::from(reps::insert_if_absent(c, rep)?);
            }
            audit::append(
                c,
                &audit::Entry {
                    actor: "system",
                    action: "reps.loaded",
                    workflow_id: None,
                    reason: None,
                    detail: serde_json::json!({ "count": loaded.len(), "added": added }),
                },
            )?;
            Ok(added)
        })
        .await?;
    Ok(added)
}
