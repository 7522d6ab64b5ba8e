//! The sandbox: a local, faithful stand-in for HubSpot, Gmail, Google Calendar,
//! Google Drive, Google OAuth and an OpenAI-compatible LLM, all on one port under
//! their real paths, so a client whose base URL points here works unchanged. It
//! keeps state, rejects what the real APIs reject with their error shapes, and
//! injects faults and enforces quotas deterministically from a seed.
//!
//! Use it from a test (inside an actix system) or as `sales-agent sandbox`:
//!
//! ```text
//! let sb = sandbox::spawn(SandboxOptions::default())?;   // demo fixture, port 0
//! client base URL = sb.base_url()                          // every provider
//! sb.drafts(email) / sb.sent(email) / sb.crm_objects("notes") / sb.events(cal)
//! sb.set_faults(seed, table) / sb.advance(duration) / sb.stats() / sb.stop().await
//! ```
//!
//! ```text
//! mod.rs        options, handle, spawn, route table
//! gate.rs       per request: faults → auth → quota → handler → stats
//! refusals.rs   401/403/429 answers in each provider's shape
//! respond.rs    provider error shapes, JSON bodies, bearer tokens
//! faults.rs     seeded per-endpoint fault plans
//! quota.rs      rolling windows at the published limits
//! clock.rs      advanceable clock
//! fixture.rs    the fixture schema (+ fixtures/demo.json)
//! state.rs      the world the handlers change
//! hubspot/      CRM objects (contacts, companies, notes, tasks, emails,
//!               meetings), batch, search, rules, associations, owners, forms,
//!               OAuth app install, tokens and token info
//! gmail/        threads, messages, drafts, send, `q` search
//! mime.rs       RFC 5322 parsing
//! oauth/        Google's OAuth 2.0 / OpenID Connect provider: authorize +
//!               consent page, /token (code + PKCE, refresh, JWT bearer),
//!               /revoke, discovery, JWKS, userinfo
//! consent.rs    the consent driver: clicks through a consent page over HTTP
//! scopes.rs     which Google scopes permit which endpoint
//! calendar.rs   freeBusy, events
//! drive.rs      files          drive_query.rs  Drive `q`
//! drive_create.rs  files.create (multipart upload, HTML → Google Doc)
//! drive_permissions.rs  permissions.create, permissions.list
//! llm.rs        /v1/chat/completions, /v1/models
//! control.rs    /_sandbox/* (stats, faults, quotas, clock, revoke, redirect
//!               URIs, scope removal, signing-key rotation, issued tokens)
//! holdings.rs   /_sandbox/state: everything held, in the providers' shapes
//! serve.rs      `sales-agent sandbox`: flags, --help, run until a signal
//! ```

// Handlers short-circuit with the provider's ready-made error response; boxing
// it would only add noise at every `?`.
#![expect(clippy::result_large_err)]

mod calendar;
mod calendar_change;
mod calendar_list;
mod control;
mod drive;
mod drive_create;
mod drive_permissions;
mod drive_query;
mod gate;
mod gmail;
mod holdings;
mod hubspot;
mod llm;
mod oauth;
mod refusals;
mod respond;
mod scopes;
mod serve;

pub mod clock;
pub mod consent;
pub mod faults;
pub mod fixture;
pub mod mime;
pub mod quota;
pub mod state;

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpServer, web};
use serde::Serialize;

pub use clock::Clock;
pub use faults::{FaultSpec, Faults, Phase};
pub use fixture::{Fixture, FixtureError};
pub use quota::QuotaConfig;
pub use serve::{ENDPOINTS, SandboxArgs, ServeError, help, serve, shutdown_signal};
pub use state::World;

/// Counters for one endpoint, served by `GET /_sandbox/stats`.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EndpointStats {
    pub requests: u64,
    pub statuses: BTreeMap<u16, u64>,
    /// Every 429 answered, whatever its cause.
    pub sent_429s: u64,
    pub quota_429s: u64,
    pub injected_429s: u64,
    pub injected_5xx: u64,
    pub injected_timeouts: u64,
    pub injected_drops: u64,
    pub injected_auth_failures: u64,
}

/// The shared state behind every handler.
#[derive(Debug)]
pub struct Sandbox {
    pub clock: Clock,
    /// What the world was built from, for `reset`.
    fixture: Fixture,
    world: Mutex<World>,
    faults: Mutex<Faults>,
    quotas: Mutex<quota::Quotas>,
    stats: Mutex<BTreeMap<String, EndpointStats>>,
}

/// A poisoned lock only means a handler panicked mid-update; the sandbox keeps
/// serving with whatever state it left, as a test double should.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Sandbox {
    pub fn lock_world(&self) -> MutexGuard<'_, World> {
        lock(&self.world)
    }
    pub fn lock_faults(&self) -> MutexGuard<'_, Faults> {
        lock(&self.faults)
    }
    pub fn lock_quotas(&self) -> MutexGuard<'_, quota::Quotas> {
        lock(&self.quotas)
    }
    pub fn stats(&self) -> BTreeMap<String, EndpointStats> {
        lock(&self.stats).clone()
    }
    /// Puts the world back as the fixture built it, empties quota windows and
    /// stats, and restarts fault sequences; the fault table and clock stay.
    pub fn reset(&self) -> Result<(), FixtureError> {
        let fresh = World::from_fixture(&self.fixture, self.clock.now_utc())?;
        *self.lock_world() = fresh;
        let mut quotas = self.lock_quotas();
        *quotas = quota::Quotas::new(quotas.config.clone());
        drop(quotas);
        let mut faults = self.lock_faults();
        let table = faults.table().clone();
        faults.replace(None, table);
        drop(faults);
        lock(&self.stats).clear();
        Ok(())
    }

    fn count(&self, endpoint: &str, f: impl FnOnce(&mut EndpointStats)) {
        f(lock(&self.stats).entry(endpoint.to_string()).or_default());
    }
}

/// How to start a sandbox. `SandboxOptions::default()` is the demo fixture on
/// `127.0.0.1:0` with the fixture's faults and the published quotas.
#[derive(Debug, Default)]
pub struct SandboxOptions {
    pub fixture: Option<Fixture>,
    /// Overrides the fixture's seed.
    pub seed: Option<u64>,
    /// Bind here when no listener is given (default `127.0.0.1:0`).
    pub bind: Option<std::net::SocketAddr>,
    pub listener: Option<TcpListener>,
    /// Added to (and overriding) the fixture's faults.
    pub faults: BTreeMap<String, FaultSpec>,
    /// Overrides the fixture's quotas.
    pub quotas: Option<QuotaConfig>,
}

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error(transparent)]
    Fixture(#[from] FixtureError),
    #[error("sandbox bind: {0}")]
    Bind(#[from] std::io::Error),
}

/// A running sandbox: where it listens, direct access to its state, and stop.
pub struct SandboxHandle {
    addr: std::net::SocketAddr,
    sandbox: Arc<Sandbox>,
    server: ServerHandle,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// Starts the sandbox inside the current actix system.
pub fn spawn(options: SandboxOptions) -> Result<SandboxHandle, SandboxError> {
    let fixture = options.fixture.unwrap_or_else(Fixture::demo);
    let clock = Clock::new();
    let world = World::from_fixture(&fixture, clock.now_utc())?;
    let seed = options.seed.or(fixture.seed).unwrap_or(0);
    let mut table = fixture.faults.clone();
    table.extend(options.faults);
    let quotas = options
        .quotas
        .or(fixture.quotas.clone())
        .unwrap_or_default();
    let sandbox = Arc::new(Sandbox {
        clock,
        fixture,
        world: Mutex::new(world),
        faults: Mutex::new(Faults::new(seed, table)),
        quotas: Mutex::new(quota::Quotas::new(quotas)),
        stats: Mutex::new(BTreeMap::new()),
    });
    let listener = match options.listener {
        Some(l) => l,
        None => TcpListener::bind(options.bind.unwrap_or_else(|| ([127, 0, 0, 1], 0).into()))?,
    };
    let addr = listener.local_addr()?;
    let shared = web::Data::from(sandbox.clone());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(shared.clone())
            // Gmail accepts raw messages of up to ~35 MB.
            .app_data(web::PayloadConfig::new(40 << 20))
            .configure(routes)
    })
    .workers(2)
    // Requests held by a timeout fault must not hold up stop() for long.
    .shutdown_timeout(1)
    // The embedding process owns signals; `serve` handles them for the CLI.
    .disable_signals()
    .listen(listener)?
    .run();
    let handle = server.handle();
    let task = actix_web::rt::spawn(server);
    tracing::info!(%addr, seed, "sandbox listening");
    Ok(SandboxHandle {
        addr,
        sandbox,
        server: handle,
        task,
    })
}

/// Every route, under the providers' real paths.
fn routes(cfg: &mut web::ServiceConfig) {
    hubspot::routes(cfg);
    gmail::routes(cfg);
    calendar::routes(cfg);
    drive::routes(cfg);
    oauth::routes(cfg);
    llm::routes(cfg);
    control::routes(cfg);
    cfg.default_service(web::to(unknown_route));
}

/// A path no route serves: 404 in the shape of the provider that owns the prefix.
async fn unknown_route(req: actix_web::HttpRequest) -> actix_web::HttpResponse {
    use actix_web::http::StatusCode;
    let path = req.path();
    if path.starts_with("/crm/") || path.starts_with("/form-integrations/") {
        respond::hubspot(
            StatusCode::NOT_FOUND,
            "OBJECT_NOT_FOUND",
            "resource not found",
            vec![],
        )
    } else if path.starts_with("/v1/") {
        respond::openai(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            None,
            &format!("Invalid URL ({} {path})", req.method()),
        )
    } else {
        respond::google(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "global",
            "notFound",
            "Not Found",
        )
    }
}

impl SandboxHandle {
    /// `http://127.0.0.1:PORT` — the base URL for every provider's client.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> std::net::SocketAddr {
        self.addr
    }

    /// The shared state, for assertions and direct changes.
    pub fn sandbox(&self) -> &Arc<Sandbox> {
        &self.sandbox
    }

    /// A read-only look at the world (drafts, sent mail, notes, tasks, contacts,
    /// events, permissions) through a closure, so no lock escapes.
    pub fn inspect<R>(&self, f: impl FnOnce(&World) -> R) -> R {
        f(&self.sandbox.lock_world())
    }

    /// Drafts in `email`'s mailbox as `(draft id, message)`.
    pub fn drafts(&self, email: &str) -> Vec<(String, mime::Message)> {
        self.inspect(|w| {
            let Some(mb) = w.mailboxes.get(&email.to_ascii_lowercase()) else {
                return vec![];
            };
            mb.drafts
                .iter()
                .filter_map(|(d, m)| Some((d.clone(), mb.messages.get(m)?.clone())))
                .collect()
        })
    }

    /// Messages in `email`'s mailbox carrying `label` (e.g. `SENT`, `INBOX`).
    pub fn messages(&self, email: &str, label: &str) -> Vec<mime::Message> {
        self.inspect(|w| {
            w.mailboxes
                .get(&email.to_ascii_lowercase())
                .map(|mb| {
                    mb.messages
                        .values()
                        .filter(|m| m.label_ids.iter().any(|l| l == label))
                        .cloned()
                        .collect()
                })
                .unwrap_or_default()
        })
    }

    /// Messages `email` has sent.
    pub fn sent(&self, email: &str) -> Vec<mime::Message> {
        self.messages(email, "SENT")
    }

    /// Ids of the `to_type` records associated with a CRM record, e.g. the
    /// notes on contact 5101: `associated("contacts", 5101, "notes")`.
    pub fn associated(&self, from_type: &str, id: u64, to_type: &str) -> Vec<u64> {
        let (Some(from), Some(to)) = (
            state::ObjectType::parse(from_type),
            state::ObjectType::parse(to_type),
        ) else {
            return vec![];
        };
        self.inspect(|w| {
            w.hubspot
                .associated(from, id, to)
                .iter()
                .map(|a| a.to_id)
                .collect()
        })
    }

    /// CRM records of one type (`contacts`, `companies`, `notes`, `tasks`, `emails`).
    pub fn crm_objects(&self, object_type: &str) -> Vec<state::CrmObject> {
        let Some(t) = state::ObjectType::parse(object_type) else {
            return vec![];
        };
        self.inspect(|w| w.hubspot.objects(t).cloned().collect())
    }

    /// Events on a calendar.
    pub fn events(&self, calendar_id: &str) -> Vec<state::Event> {
        self.inspect(|w| {
            w.calendars
                .get(&calendar_id.to_ascii_lowercase())
                .map(|c| c.events.values().cloned().collect())
                .unwrap_or_default()
        })
    }

    /// Permissions created on a Drive file.
    pub fn permissions(&self, file_id: &str) -> Vec<state::Permission> {
        self.inspect(|w| {
            w.drive
                .permissions
                .get(file_id)
                .cloned()
                .unwrap_or_default()
        })
    }

    /// The sample form submissions from the fixture, in the Forms API shape.
    pub fn form_submissions(&self) -> Vec<serde_json::Value> {
        self.inspect(|w| w.hubspot.form_submissions.clone())
    }

    pub fn stats(&self) -> BTreeMap<String, EndpointStats> {
        self.sandbox.stats()
    }

    /// Replaces the fault table (and optionally the seed); sequences restart.
    pub fn set_faults(&self, seed: Option<u64>, table: BTreeMap<String, FaultSpec>) {
        self.sandbox.lock_faults().replace(seed, table);
    }

    /// Revokes a refresh token, as a user removing the app's access would.
    pub fn revoke_refresh_token(&self, token: &str) -> bool {
        let mut world = self.sandbox.lock_world();
        oauth::revoke(&mut world, token) || world.hubspot.oauth.revoke(token)
    }

    /// Registers a redirect URI for the Google client (`client_id` `None`) or
    /// a HubSpot app; false for an unknown client id.
    pub fn register_redirect_uri(&self, client_id: Option<&str>, uri: &str) -> bool {
        oauth::register_redirect_uri(&mut self.sandbox.lock_world(), client_id, uri)
    }

    /// Every refresh and access token issued (Google and HubSpot), revoked or not.
    pub fn issued_tokens(&self) -> Vec<String> {
        oauth::issued_tokens(&self.sandbox.lock_world())
    }

    /// Back to the fixture's state (see [`Sandbox::reset`]).
    pub fn reset(&self) -> Result<(), FixtureError> {
        self.sandbox.reset()
    }

    /// Moves the sandbox clock forward (quota windows, token expiry, dates).
    pub fn advance(&self, by: Duration) {
        self.sandbox.clock.advance(by);
    }

    /// Stops the server; requests held by faults are cut after a second.
    pub async fn stop(self) {
        self.server.stop(true).await;
        // After a requested stop the server's own result carries nothing to act on.
        let _ = self.task.await;
    }
}
