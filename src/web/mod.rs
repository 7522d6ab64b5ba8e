//! The HTTP surface: routes and the state every handler shares.
//!
//! - `POST /webhooks/hubspot` — signed form submissions (`webhooks`)
//! - `GET /healthz`, `GET /readyz` — liveness and readiness (`health`)
//! - `GET /metrics` — Prometheus text format (`metrics`)

mod error;
mod health;
mod metrics;
mod webhooks;

use std::sync::Arc;

use actix::Addr;
use actix_web::web;

pub use error::ApiError;

use crate::actors::supervisor::Supervisor;
use crate::config::Config;
use crate::metrics::Metrics;
use crate::store::Store;

/// What handlers share; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub store: Store,
    pub metrics: Metrics,
    pub supervisor: Addr<Supervisor>,
}

/// Registers every route.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/webhooks/hubspot", web::post().to(webhooks::receive))
        .route("/healthz", web::get().to(health::healthz))
        .route("/readyz", web::get().to(health::readyz))
        .route("/metrics", web::get().to(metrics::render))
        .default_service(web::to(error::not_found));
}
