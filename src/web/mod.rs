//! The HTTP surface: routes and the state every handler shares.
//!
//! - `POST /webhooks/hubspot` — signed form submissions (`webhooks`)
//! - `GET /healthz`, `GET /readyz` — liveness and readiness (`health`)
//! - `GET /metrics` — Prometheus text format (`metrics`)
//! - `/api/…` — the admin API behind bearer tokens (`admin`, `auth`)
//! - `GET|POST /unsubscribe/{token}` — one-click unsubscribe (`unsubscribe`)
//! - `/`, `/leads`, `/drafts`, `/settings`, … — the web console (`console`)
//! - `GET|POST /book/{token}` — the public booking page (`booking`)

mod admin;
pub mod auth;
mod booking;
pub mod client;
pub mod console;
mod error;
mod health;
pub mod intake_queue;
mod metrics;
mod unsubscribe;
mod webhooks;

use std::sync::Arc;

use actix::Recipient;
use actix_web::web;

pub use error::ApiError;
pub use webhooks::UnverifiedBodies;

use crate::actors::supervisor::WorkflowAccepted;
use crate::config::Config;
use crate::metrics::Metrics;
use crate::store::Store;

/// What handlers share; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    /// What the engine uses; the admin's approve-and-send goes through it too.
    pub engine: Arc<crate::services::Services>,
    pub store: Store,
    /// Where webhook deliveries wait for their (group) commit.
    pub intake: intake_queue::IntakeQueue,
    /// Bounds the body bytes held by webhooks not yet verified.
    pub unverified: UnverifiedBodies,
    pub metrics: Metrics,
    /// The web actor, which hands accepted workflows to the supervisor.
    pub accepted: Recipient<WorkflowAccepted>,
    /// The reps' Google grants: reconnection, and what the console shows.
    pub accounts: Arc<crate::accounts::google::GoogleAccounts>,
    /// Google OAuth / OpenID Connect (sign-in, connecting a mailbox); `None` when
    /// no Google client is configured.
    pub google: Option<Arc<crate::connectors::google_oauth::GoogleOAuth>>,
    /// The HubSpot connection the console manages (install, private-app token).
    pub hubspot: Arc<crate::accounts::hubspot::HubSpotAccount>,
    /// Set on SIGTERM: readiness fails so load balancers stop sending here
    /// while the server still answers (see `app::Application::run_until_stopped`).
    pub draining: Arc<std::sync::atomic::AtomicBool>,
}

/// Registers every route, with JSON errors for unreadable bodies and queries.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.app_data(
        web::JsonConfig::default()
            .limit(64 * 1024)
            .error_handler(|e, _| error::bad_input("invalid_body", e.to_string()).into()),
    )
    .app_data(
        web::QueryConfig::default()
            .error_handler(|e, _| error::bad_input("invalid_query", e.to_string()).into()),
    )
    .configure(admin::routes)
    .configure(console::configure)
    .configure(booking::routes)
    .route("/unsubscribe/{token}", web::get().to(unsubscribe::confirm))
    .route(
        "/unsubscribe/{token}",
        web::post().to(unsubscribe::unsubscribe),
    )
    .route("/webhooks/hubspot", web::post().to(webhooks::receive))
    .route("/healthz", web::get().to(health::healthz))
    .route("/readyz", web::get().to(health::readyz))
    .route("/metrics", web::get().to(metrics::render))
    .default_service(web::to(error::not_found));
}
