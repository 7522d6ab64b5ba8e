//! The control plane under `/_sandbox/`, which no real provider has: read the
//! per-endpoint stats, read or replace the fault table, change quotas, advance
//! the clock, reset to the fixture, and the OAuth levers a person or an admin
//! pulls at the provider (register a redirect URI, revoke a grant from the
//! account page, remove a scope, rotate the signing key, list issued tokens),
//! and everything it holds in the providers' shapes (`state`, in `holdings`).
//! No auth: the sandbox is a local tool.

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
        .route("/_sandbox/oauth/remove-scope", web::post().to(remove_scope))
        .route(
            "/_sandbox/oauth/redirect-uris",
            web::post().to(redirect_uri),
        )
        .route(
            "/_sandbox/oauth/rotate-signing-key",
            web::post().to(rotate_signing_key),
        )
        .route("/_sandbox/oauth/issued", web::get().to(issued))
        .route("/_sandbox/reset", web::post().to(reset))
        .route(
            "/_sandbox/form-submissions",
            web::get().to(form_submissions),
        )
        .route("/_sandbox/state", web::get().to(super::holdings::state));
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

/// Either one refresh token (Google or HubSpot), or every grant a Google
/// account gave (removing the app on the account page).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RevokeBody {
    refresh_token: Option<String>,
    email: Option<String>,
}

async fn revoke(sb: web::Data<Sandbox>, body: web::Bytes) -> HttpResponse {
    let b = match serde_json::from_slice::<RevokeBody>(&body) {
        Ok(b) => b,
        Err(e) => return bad(e.to_string()),
    };
    let mut world = sb.lock_world();
    let revoked = match (&b.refresh_token, &b.email) {
        (Some(t), None) => usize::from(world.google.revoke(t) || world.hubspot.oauth.revoke(t)),
        (None, Some(email)) => world.google.revoke_user(email),
        _ => return bad("give refreshToken or email".into()),
    };
    if revoked == 0 {
        return HttpResponse::NotFound().json(json!({"error": "nothing to revoke"}));
    }
    HttpResponse::Ok().json(json!({"revoked": true, "grants": revoked}))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RemoveScopeBody {
    email: String,
    scope: String,
}

/// Takes one scope out of a Google account's grants and live access tokens.
async fn remove_scope(sb: web::Data<Sandbox>, body: web::Bytes) -> HttpResponse {
    match serde_json::from_slice::<RemoveScopeBody>(&body) {
        Ok(b) => {
            let grants = sb.lock_world().google.remove_scope(&b.email, &b.scope);
            HttpResponse::Ok().json(json!({"grants": grants}))
        }
        Err(e) => bad(e.to_string()),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RedirectUriBody {
    /// The Google client id or a HubSpot app's client id; the Google client
    /// when absent.
    client_id: Option<String>,
    redirect_uri: String,
}

/// Registers a redirect URI, as adding it in the provider's console does
/// (tests start services on ports picked at run time).
async fn redirect_uri(sb: web::Data<Sandbox>, body: web::Bytes) -> HttpResponse {
    let b = match serde_json::from_slice::<RedirectUriBody>(&body) {
        Ok(b) => b,
        Err(e) => return bad(e.to_string()),
    };
    if url::Url::parse(&b.redirect_uri).is_err() {
        return bad("redirectUri must be an absolute URL".into());
    }
    match super::oauth::register_redirect_uri(
        &mut sb.lock_world(),
        b.client_id.as_deref(),
        &b.redirect_uri,
    ) {
        true => HttpResponse::Ok().json(json!({"registered": b.redirect_uri})),
        false => HttpResponse::NotFound().json(json!({"error": "unknown client id"})),
    }
}

async fn rotate_signing_key(sb: web::Data<Sandbox>) -> HttpResponse {
    let kid = super::oauth::id_token::rotate(&mut sb.lock_world());
    HttpResponse::Ok().json(json!({"kid": kid}))
}

/// Every token the providers issued and still hold, for tests that look for
/// them where they must not be (logs, database files).
async fn issued(sb: web::Data<Sandbox>) -> HttpResponse {
    HttpResponse::Ok().json(json!({"tokens": super::oauth::issued_tokens(&sb.lock_world())}))
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
