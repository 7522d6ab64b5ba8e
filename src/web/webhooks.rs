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
//! | database unreachable            | 503    | error (HubSpot retries)            |

use std::time::SystemTime;

use actix_web::http::StatusCode;
use actix_web::http::header::CONTENT_LENGTH;
use actix_web::web::{self, BytesMut};
use actix_web::{HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde_json::json;

use super::{ApiError, AppState};
use crate::actors::supervisor::WorkflowAccepted;
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
    let body = read_limited(req, payload, webhook.max_body_bytes).await?;

    let uri = public_uri(&state.config.public_url, req);
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    let signed = SignedRequest {
        method: req.method().as_str(),
        uri: &uri,
        body: &body,
        v3_signature: header(signature::HEADER_V3),
        timestamp: header(signature::HEADER_TIMESTAMP),
        legacy_signature: header(signature::HEADER_LEGACY),
        legacy_version: header(signature::HEADER_VERSION),
    };
    let version = signature::verify(webhook, &signed, SystemTime::now()).map_err(|error| {
        tracing::warn!(reason = %error, "webhook signature rejected");
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_signature",
            error.to_string(),
        )
    })?;

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

/// Reads the body, refusing it as soon as it passes `limit` bytes.
async fn read_limited(
    req: &HttpRequest,
    mut payload: web::Payload,
    limit: usize,
) -> Result<web::Bytes, ApiError> {
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("body exceeds {limit} bytes"),
        )
    };
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|len| len > limit) {
        return Err(too_large());
    }
    let mut body = BytesMut::with_capacity(declared.unwrap_or(0));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| {
            ApiError::new(StatusCode::BAD_REQUEST, "unreadable_body", e.to_string())
        })?;
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
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
