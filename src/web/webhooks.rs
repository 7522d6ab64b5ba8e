//! `POST /webhooks/hubspot`: bound the body, verify the signature on the raw bytes,
//! parse, commit the event and its workflow (grouped with other deliveries
//! arriving meanwhile, see [`super::intake_queue`]), then answer — never 2xx
//! before the commit.
//!
//! | outcome                         | status | body                               |
//! |---------------------------------|--------|------------------------------------|
//! | new submission committed        | 202    | `{"workflow_id", "duplicate":false}` |
//! | same submission seen before     | 200    | `{"workflow_id", "duplicate":true}`  |
//! | malformed JSON, missing email…  | 400    | error naming the `field`           |
//! | bad, missing or stale signature | 401    | error                              |
//! | body over the limit             | 413    | error                              |
//! | body slower than the deadline   | 408    | error                              |
//! | unverified bodies over budget   | 503    | error (HubSpot retries)            |
//!
//! Memory before authentication is bounded: the signature headers and timestamp
//! are checked before the body is read, the body is read against a deadline into a
//! buffer that grows only with what arrived, and all unverified bodies together
//! hold at most `SALES_AGENT_WEBHOOK_UNVERIFIED_BYTES`. A refusal before the body
//! was read whole closes the connection.
//! | database unreachable            | 503    | error (HubSpot retries)            |

use std::sync::Arc;
use std::time::SystemTime;

use actix_web::http::StatusCode;
use actix_web::http::header::CONTENT_LENGTH;
use actix_web::web;
use actix_web::{HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde_json::json;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, timeout_at};

use super::{ApiError, AppState};
use crate::actors::supervisor::WorkflowAccepted;
use crate::config::WebhookConfig;
use crate::intake;
use crate::intake::signature::{self, SignedRequest};
use crate::store::events::{self, NewIntake};

pub async fn receive(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    let (result, label) = match accept(&req, payload, &state).await {
        Ok(accepted) => {
            let (status, label) = if accepted.duplicate {
                (StatusCode::OK, "duplicate")
            } else {
                (StatusCode::ACCEPTED, "accepted")
            };
            let body =
                json!({ "workflow_id": accepted.workflow_id, "duplicate": accepted.duplicate });
            (HttpResponse::build(status).json(body), label)
        }
        Err(error) => {
            let label = match error.status {
                StatusCode::UNAUTHORIZED => "unauthorized",
                StatusCode::PAYLOAD_TOO_LARGE => "too_large",
                StatusCode::REQUEST_TIMEOUT => "timeout",
                StatusCode::BAD_REQUEST => "bad_request",
                StatusCode::SERVICE_UNAVAILABLE => "unavailable",
                _ => "internal",
            };
            (actix_web::ResponseError::error_response(&error), label)
        }
    };
    state
        .metrics
        .webhooks_received
        .with_label_values(&[label])
        .inc();
    result
}

async fn accept(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
) -> Result<events::Accepted, ApiError> {
    let webhook = &state.config.webhook;
    let uri = public_uri(&state.config.public_url, req);
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    let mut signed = SignedRequest {
        method: req.method().as_str(),
        uri: &uri,
        body: &[],
        v3_signature: header(signature::HEADER_V3),
        timestamp: header(signature::HEADER_TIMESTAMP),
        legacy_signature: header(signature::HEADER_LEGACY),
        legacy_version: header(signature::HEADER_VERSION),
    };
    // Headers first: a delivery that cannot be authentic is refused before a byte
    // of its body is read.
    signature::precheck(webhook, &signed, SystemTime::now())
        .map_err(|error| unauthorized(&error).closing())?;

    let read = read_limited(req, payload, webhook, &state.unverified).await?;
    signed.body = &read.body;
    let version = signature::verify(webhook, &signed, SystemTime::now())
        .map_err(|error| unauthorized(&error))?;
    let body = read.verified();

    let submission = intake::parse(&body).map_err(|error| {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_payload", error.message)
            .with_field(error.field)
    })?;
    let intake = NewIntake::from_delivery(&submission, &body, version.as_str());

    let accepted = state.intake.accept(intake).await.map_err(|error| {
        tracing::error!(%error, "webhook could not be committed");
        ApiError::from_store(&error, "the delivery could not be stored")
    })?;
    if !accepted.duplicate {
        state
            .accepted
            .do_send(WorkflowAccepted(accepted.workflow_id.clone()));
    }
    tracing::info!(workflow.id = %accepted.workflow_id, duplicate = accepted.duplicate, "webhook accepted");
    Ok(accepted)
}

fn unauthorized(error: &signature::SignatureError) -> ApiError {
    tracing::warn!(reason = %error, "webhook signature rejected");
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "invalid_signature",
        error.to_string(),
    )
}

/// Body bytes held by deliveries whose signature is not yet verified, bounded
/// across all connections so that unauthenticated senders cannot make the service
/// hold more than this however many connections they open.
#[derive(Clone)]
pub struct UnverifiedBodies(Arc<Semaphore>);

impl UnverifiedBodies {
    pub fn new(bytes: usize) -> Self {
        UnverifiedBodies(Arc::new(Semaphore::new(bytes.min(Semaphore::MAX_PERMITS))))
    }

    /// Bytes still free for unverified bodies.
    pub fn available(&self) -> usize {
        self.0.available_permits()
    }
}

/// A body read but not yet verified: it holds its share of the budget until
/// [`ReadBody::verified`] (or until dropped).
struct ReadBody {
    body: web::Bytes,
    _held: Option<OwnedSemaphorePermit>,
}

impl ReadBody {
    fn verified(self) -> web::Bytes {
        self.body
    }
}

/// Reads the body within the configured deadline, refusing it as soon as it
/// passes the size limit. Never sizes a buffer from `Content-Length`: memory grows
/// only with bytes that arrived, and each chunk first takes its share of the
/// unverified-bytes budget; when the budget is spent the delivery is refused at
/// once (503, HubSpot retries) rather than queued holding its connection.
async fn read_limited(
    req: &HttpRequest,
    mut payload: web::Payload,
    webhook: &WebhookConfig,
    budget: &UnverifiedBodies,
) -> Result<ReadBody, ApiError> {
    let limit = webhook.max_body_bytes;
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("body exceeds {limit} bytes"),
        )
        .closing()
    };
    let timed_out = || {
        ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "body_timeout",
            format!(
                "body did not arrive within {} s",
                webhook.body_timeout.as_secs()
            ),
        )
        .closing()
    };
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|len| len > limit) {
        return Err(too_large());
    }
    let deadline = Instant::now() + webhook.body_timeout;
    let mut held: Option<OwnedSemaphorePermit> = None;
    let mut body: Vec<u8> = Vec::new();
    loop {
        let chunk = match timeout_at(deadline, payload.next()).await {
            Err(_) => return Err(timed_out()),
            Ok(None) => break,
            Ok(Some(chunk)) => chunk.map_err(|e| {
                ApiError::new(StatusCode::BAD_REQUEST, "unreadable_body", e.to_string()).closing()
            })?,
        };
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        // The buffer grows (at most doubling, never past the limit) only with
        // what arrived, and every byte of its capacity is taken from the budget
        // first, so the budget bounds real memory, not just the bytes received.
        let needed = body.len() + chunk.len();
        if needed > body.capacity() {
            let grown = needed.max((body.capacity() * 2).min(limit));
            let share = u32::try_from(grown - body.capacity()).map_err(|_| too_large())?;
            let permit = budget
                .0
                .clone()
                .try_acquire_many_owned(share)
                .map_err(|_| {
                    tracing::warn!("webhook refused: unverified bodies hold their whole budget");
                    ApiError::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "busy",
                        "too many unverified deliveries in flight; retry later",
                    )
                    .closing()
                })?;
            match held.as_mut() {
                Some(held) => held.merge(permit),
                None => held = Some(permit),
            }
            body.reserve_exact(grown - body.len());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(ReadBody {
        body: body.into(),
        _held: held,
    })
}

/// The URI as HubSpot called it: the configured public base plus this request's
/// path and query (the service may sit behind a proxy that rewrote the host).
fn public_uri(base: &url::Url, req: &HttpRequest) -> String {
    let path_and_query = req
        .uri()
        .path_and_query()
        .map(|pq| pq.as_str())
        .unwrap_or("/");
    format!("{}{}", base.as_str().trim_end_matches('/'), path_and_query)
}
