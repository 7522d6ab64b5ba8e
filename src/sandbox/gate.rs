//! The path every request takes before and after its handler: count it, apply
//! the endpoint's faults, check the credential, charge the quota, run the
//! handler, and record what was answered.

use std::future::Future;

use actix_web::http::StatusCode;
use actix_web::{HttpMessage, HttpRequest, HttpResponse};

use actix_web::http::header::{HeaderName, HeaderValue};

use super::Sandbox;

use super::faults::Phase;
use super::quota::RateInfo;
use super::refusals::{injected_429, insufficient_scope, quota_429, unauthorized};
use super::respond::{self, Provider, bearer};

/// What a request costs against the quotas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cost {
    Free,
    HubSpot,
    HubSpotSearch,
    /// Gmail quota units (§2.1 of the API facts).
    Gmail(u32),
    /// Gmail units plus one message against the daily sending limit.
    GmailSend(u32),
    /// One Calendar request for the user.
    Calendar,
}

/// A named endpoint: the stable name used for faults and stats.
#[derive(Debug, Clone, Copy)]
pub struct Endpoint {
    pub name: &'static str,
    pub provider: Provider,
    pub cost: Cost,
}

pub const fn endpoint(name: &'static str, provider: Provider, cost: Cost) -> Endpoint {
    Endpoint {
        name,
        provider,
        cost,
    }
}

/// Marks a request whose answer should carry broken content (`malformedRate`);
/// handlers that can break their content look for it in the request's extensions.
#[derive(Debug, Clone, Copy)]
pub struct Malformed;

/// Who is calling, once the credential checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    HubSpot { token: String },
    Google { email: String },
    Llm,
    Anonymous,
}

impl Principal {
    pub fn email(&self) -> &str {
        match self {
            Principal::Google { email } => email,
            _ => "",
        }
    }
}

/// Runs `handler` behind the gate for `ep`.
pub async fn serve<F, Fut>(
    sb: &Sandbox,
    req: &HttpRequest,
    ep: Endpoint,
    handler: F,
) -> HttpResponse
where
    F: FnOnce(Principal) -> Fut,
    Fut: Future<Output = HttpResponse>,
{
    let plan = sb.lock_faults().plan(ep.name);
    if !plan.delay.is_zero() {
        actix_web::rt::time::sleep(plan.delay).await;
    }
    if plan.malformed {
        req.extensions_mut().insert(Malformed);
    }
    let response = match admit(sb, req, ep, &plan) {
        Err(response) => response,
        Ok((principal, rate)) => {
            let after = plan.phase == Phase::After;
            let email = principal.email().to_string();
            // Only delivered mail counts toward the daily sending limit.
            let refund = || {
                if matches!(ep.cost, Cost::GmailSend(_)) {
                    sb.lock_quotas().refund_send(&email);
                }
            };
            if !after && let Some(response) = strike(sb, ep, &plan).await {
                refund();
                return record(sb, ep, response);
            }
            let mut response = handler(principal).await;
            if !response.status().is_success() {
                refund();
            }
            if after && let Some(failure) = strike(sb, ep, &plan).await {
                return record(sb, ep, failure);
            }
            if let Some(rate) = rate {
                rate_headers(&mut response, rate);
            }
            response
        }
    };
    record(sb, ep, response)
}

/// HubSpot's `X-HubSpot-RateLimit-*` headers (search responses carry none).
fn rate_headers(response: &mut HttpResponse, rate: RateInfo) {
    let headers = response.headers_mut();
    for (name, value) in [
        ("x-hubspot-ratelimit-max", rate.max.to_string()),
        ("x-hubspot-ratelimit-remaining", rate.remaining.to_string()),
        (
            "x-hubspot-ratelimit-interval-milliseconds",
            rate.interval_ms.to_string(),
        ),
    ] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(HeaderName::from_static(name), value);
        }
    }
}

/// Credential, injected auth failures and 429s, then the quota.
fn admit(
    sb: &Sandbox,
    req: &HttpRequest,
    ep: Endpoint,
    plan: &super::faults::Plan,
) -> Result<(Principal, Option<RateInfo>), HttpResponse> {
    let principal = authenticate(sb, req, ep)?;
    if plan.auth_failure {
        sb.count(ep.name, |s| s.injected_auth_failures += 1);
        return Err(unauthorized(ep.provider, true));
    }
    if let Some(injected) = &plan.rate_limited {
        sb.count(ep.name, |s| s.injected_429s += 1);
        return Err(injected_429(ep.provider, injected));
    }
    let now = sb.clock.now_ms();
    let admitted = {
        let mut quotas = sb.lock_quotas();
        match (&ep.cost, &principal) {
            (Cost::HubSpot, Principal::HubSpot { token }) => quotas.hubspot(token, false, now),
            // Search responses carry no rate-limit headers.
            (Cost::HubSpotSearch, Principal::HubSpot { token }) => {
                quotas.hubspot(token, true, now).map(|_| None)
            }
            (Cost::Gmail(units), Principal::Google { email }) => {
                quotas.gmail(email, *units, false, now).map(|()| None)
            }
            (Cost::GmailSend(units), Principal::Google { email }) => {
                quotas.gmail(email, *units, true, now).map(|()| None)
            }
            (Cost::Calendar, Principal::Google { email }) => {
                quotas.calendar(email, now).map(|()| None)
            }
            _ => Ok(None),
        }
    };
    match admitted {
        Ok(rate) => Ok((principal, rate)),
        Err(refusal) => {
            sb.count(ep.name, |s| s.quota_429s += 1);
            Err(quota_429(refusal))
        }
    }
}

/// An injected 5xx or timeout, if the plan has one.
async fn strike(sb: &Sandbox, ep: Endpoint, plan: &super::faults::Plan) -> Option<HttpResponse> {
    if let Some(hold) = plan.timeout {
        sb.count(ep.name, |s| s.injected_timeouts += 1);
        // Held past any sensible client timeout; a client that waits this long
        // gets a gateway timeout rather than an answer.
        actix_web::rt::time::sleep(hold).await;
        return Some(respond::server_error(
            ep.provider,
            StatusCode::GATEWAY_TIMEOUT,
        ));
    }
    if plan.dropped {
        sb.count(ep.name, |s| s.injected_drops += 1);
        return Some(dropped());
    }
    let status = plan.error.and_then(|s| StatusCode::from_u16(s).ok())?;
    sb.count(ep.name, |s| s.injected_5xx += 1);
    Some(respond::server_error(ep.provider, status))
}

/// A response whose body fails at once: actix aborts the connection, so the
/// client sees it closed with no complete answer.
fn dropped() -> HttpResponse {
    let failing = futures_util::stream::once(async {
        Err::<actix_web::web::Bytes, std::io::Error>(std::io::Error::other(
            "connection dropped by fault",
        ))
    });
    let mut response = HttpResponse::Ok().streaming(failing);
    response.extensions_mut().insert(Dropped);
    response
}

/// Marks a response that will never reach the client, so stats do not count
/// its placeholder status.
#[derive(Clone, Copy)]
struct Dropped;

fn record(sb: &Sandbox, ep: Endpoint, response: HttpResponse) -> HttpResponse {
    // Every name must be listed for --help and fault tables; tests catch a miss.
    debug_assert!(
        super::ENDPOINTS.contains(&ep.name),
        "endpoint {} is missing from ENDPOINTS",
        ep.name
    );
    let status = response.status().as_u16();
    let dropped = response.extensions().get::<Dropped>().is_some();
    sb.count(ep.name, |s| {
        s.requests += 1;
        if dropped {
            return;
        }
        *s.statuses.entry(status).or_default() += 1;
        if status == 429 {
            s.sent_429s += 1;
        }
    });
    response
}

fn authenticate(sb: &Sandbox, req: &HttpRequest, ep: Endpoint) -> Result<Principal, HttpResponse> {
    let provider = ep.provider;
    let token = bearer(req);
    match provider {
        Provider::OAuth => Ok(Principal::Anonymous),
        Provider::HubSpot => {
            let token = token.ok_or_else(|| unauthorized(provider, false))?;
            let world = sb.lock_world();
            if world.hubspot.tokens.iter().any(|t| t == token) {
                return Ok(Principal::HubSpot {
                    token: token.to_string(),
                });
            }
            match world.hubspot.oauth.access_tokens.get(token) {
                Some(a) if a.expires_at_ms > sb.clock.now_ms() => Ok(Principal::HubSpot {
                    // HubSpot limits an OAuth app per portal, not per token
                    // (tokens change every 30 minutes).
                    token: format!("oauth:{}:{}", a.install.app_id, a.install.hub_id),
                }),
                Some(a) => Err(super::refusals::expired_oauth(
                    (sb.clock.now_ms() - a.expires_at_ms) / 60_000,
                )),
                None => Err(unauthorized(provider, true)),
            }
        }
        Provider::Google => {
            let token = token.ok_or_else(|| unauthorized(provider, false))?;
            let world = sb.lock_world();
            match world.google.access_tokens.get(token) {
                Some(t) if t.expires_at_ms > sb.clock.now_ms() => {
                    if !super::scopes::permits(&t.scope, ep.name) {
                        return Err(insufficient_scope());
                    }
                    Ok(Principal::Google {
                        email: t.email.clone(),
                    })
                }
                _ => Err(unauthorized(provider, true)),
            }
        }
        Provider::Llm => {
            let token = token.ok_or_else(|| unauthorized(provider, false))?;
            if sb.lock_world().llm_keys.iter().any(|k| k == token) {
                Ok(Principal::Llm)
            } else {
                Err(unauthorized(provider, true))
            }
        }
    }
}
