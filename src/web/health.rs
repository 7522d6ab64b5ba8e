//! Liveness (`/healthz`: the process answers) and readiness (`/readyz`: the
//! database answers, every migration is applied and the process is not
//! draining for a shutdown), with the connected accounts that need reconnecting
//! in readiness's detail.

use actix_web::{HttpResponse, web};
use serde_json::json;

use super::AppState;
use crate::store::grants;

pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    if state.draining.load(std::sync::atomic::Ordering::Relaxed) {
        // Still serving, about to stop: the load balancer should send elsewhere.
        return HttpResponse::ServiceUnavailable().json(json!({ "status": "draining" }));
    }
    match state.store.is_ready().await {
        Ok(true) => {
            // A dead grant stalls one rep's leads, not the service: the others
            // still flow, so the process stays ready (taking it out of the load
            // balancer would stop every lead). The detail names the accounts,
            // for the operator and the alert's runbook.
            let reconnect = state
                .store
                .run(grants::list_status)
                .await
                .map(|rows| {
                    rows.into_iter()
                        .filter(|r| !r.connected)
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default();
            let accounts: Vec<_> = reconnect
                .iter()
                .map(|r| json!({"provider": r.provider, "account": r.account, "reason": r.reason, "since": r.since.and_utc()}))
                .collect();
            HttpResponse::Ok().json(json!({
                "status": "ready",
                "accounts": { "reconnect_needed": accounts }
            }))
        }
        Ok(false) => {
            HttpResponse::ServiceUnavailable().json(json!({ "status": "migrations_pending" }))
        }
        Err(error) => {
            tracing::warn!(%error, "readiness check failed");
            HttpResponse::ServiceUnavailable().json(json!({ "status": "database_unavailable" }))
        }
    }
}
