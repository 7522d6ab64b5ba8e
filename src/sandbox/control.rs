//! The control plane under `/_sandbox/`, which no real provider has: read the
//! per-endpoint stats, read or replace the fault table, change quotas, advance
//! the clock, revoke a refresh token, reset to the fixture. No auth: the
//! sandbox is a local tool.

use std::collections::BTreeMap;
use std::time::Duration;

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use super::Sandbox;
use super::faults::FaultSpec;
use super::quota::QuotaConfig;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/_sandbox/stats", web::get().to(stats))
        .route("/_sandbox/faults", web::get().to(get_faults))
        .route("/_sandbox/faults", web::post().to(set_faults))
        .route("/_sandbox/quotas", web::get().to(get_quotas))
        .route("/_sandbox/quotas", web::post().to(set_quotas))
        .route("/_sandbox/clock/advance", web::post().to(advance))
        .route("/_sandbox/oauth/revoke", web::post().to(revoke))
        .route("/_sandbox/reset", web::post().to(reset))
        .route(
            "/_sandbox/form-submissions",
            web::get().to(form_submissions),
        );
}

fn bad(message: String) -> HttpResponse {
    HttpResponse::BadRequest().json(json!({"error": message}))
}

async fn stats(sb: web::Data<Sandbox>) -> HttpResponse {
    HttpResponse::Ok().json(json!({"endpoints": sb.stats(), "clockMs": sb.clock.now_ms()}))
}

async fn get_faults(sb: web::Data<Sandbox>) -> HttpResponse {
    HttpResponse::Ok().json(json!({"faults": sb.lock_faults().table()}))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FaultsBody {
    seed: Option<u64>,
    #[serde(default)]
    faults: BTreeMap<String, FaultSpec>,
}

/// Replaces the whole table; `{"faults":{}}` clears it. Sequences restart from the seed.
async fn set_faults(sb: web::Data<Sandbox>, body: web::Bytes) -> HttpResponse {
    match serde_json::from_slice::<FaultsBody>(&body) {
        Ok(b) => {
            let mut faults = sb.lock_faults();
            faults.replace(b.seed, b.faults);
            HttpResponse::Ok().json(json!({"faults": faults.table()}))
        }
        Err(e) => bad(e.to_string()),
    }
}

async fn get_quotas(sb: web::Data<Sandbox>) -> HttpResponse {
    HttpResponse::Ok().json(&sb.lock_quotas().config)
}

async fn set_quotas(sb: web::Data<Sandbox>, body: web::Bytes) -> HttpResponse {
    match serde_json::from_slice::<QuotaConfig>(&body) {
        Ok(config) => {
            sb.lock_quotas().config = config.clone();
            HttpResponse::Ok().json(config)
        }
        Err(e) => bad(e.to_string()),
    }
}

#[derive(Deserialize)]
struct AdvanceBody {
    ms: u64,
}

async fn advance(sb: web::Data<Sandbox>, body: web::Bytes) -> HttpResponse {
    match serde_json::from_slice::<AdvanceBody>(&body) {
        Ok(b) => {
            sb.clock.advance(Duration::from_millis(b.ms));
            HttpResponse::Ok().json(json!({"clockMs": sb.clock.now_ms()}))
        }
        Err(e) => bad(e.to_string()),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RevokeBody {
    refresh_token: String,
}

async fn revoke(sb: web::Data<Sandbox>, body: web::Bytes) -> HttpResponse {
    match serde_json::from_slice::<RevokeBody>(&body) {
        Ok(b) if super::oauth::revoke(&mut sb.lock_world(), &b.refresh_token) => {
            HttpResponse::Ok().json(json!({"revoked": true}))
        }
        Ok(_) => HttpResponse::NotFound().json(json!({"error": "unknown refresh token"})),
        Err(e) => bad(e.to_string()),
    }
}

async fn reset(sb: web::Data<Sandbox>) -> HttpResponse {
    match sb.reset() {
        Ok(()) => HttpResponse::Ok().json(json!({"reset": true})),
        Err(e) => HttpResponse::InternalServerError().json(json!({"error": e.to_string()})),
    }
}

async fn form_submissions(sb: web::Data<Sandbox>) -> HttpResponse {
    HttpResponse::Ok().json(json!({"results": sb.lock_world().hubspot.form_submissions}))
}
