//! Each provider's error body, exactly as its real API shapes it, and the one
//! JSON-body reader every handler uses so bad content types and malformed JSON
//! are rejected the way that provider rejects them.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// Whose conventions a response follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    HubSpot,
    Google,
    OAuth,
    Llm,
}

/// HubSpot's error body: `{status:"error", message, correlationId, category, errors?}`.
pub fn hubspot(
    status: StatusCode,
    category: &str,
    message: &str,
    errors: Vec<Value>,
) -> HttpResponse {
    let mut body = json!({
        "status": "error",
        "message": message,
        "correlationId": uuid::Uuid::new_v4().to_string(),
        "category": category,
    });
    if !errors.is_empty() {
        body["errors"] = Value::Array(errors);
    }
    HttpResponse::build(status).json(body)
}

/// HubSpot's 400 `VALIDATION_ERROR` with one entry in `errors`.
pub fn hubspot_invalid(message: &str, code: &str, context: Value) -> HttpResponse {
    hubspot(
        StatusCode::BAD_REQUEST,
        "VALIDATION_ERROR",
        message,
        vec![json!({"message": message, "code": code, "context": context})],
    )
}

/// HubSpot's 404 for an object that does not exist.
pub fn hubspot_not_found() -> HttpResponse {
    hubspot(
        StatusCode::NOT_FOUND,
        "OBJECT_NOT_FOUND",
        "resource not found",
        vec![],
    )
}

/// Google's error envelope: `{"error":{code, message, errors:[{domain, reason, message}], status}}`.
pub fn google(
    code: StatusCode,
    status: &str,
    domain: &str,
    reason: &str,
    message: &str,
) -> HttpResponse {
    HttpResponse::build(code).json(json!({
        "error": {
            "code": code.as_u16(),
            "message": message,
            "errors": [{"message": message, "domain": domain, "reason": reason}],
            "status": status,
        }
    }))
}

pub fn google_bad_request(message: &str) -> HttpResponse {
    google(
        StatusCode::BAD_REQUEST,
        "INVALID_ARGUMENT",
        "global",
        "badRequest",
        message,
    )
}

pub fn google_not_found(message: &str) -> HttpResponse {
    google(
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        "global",
        "notFound",
        message,
    )
}

/// The OAuth token endpoint's flat error: `{"error", "error_description"}`.
pub fn oauth(status: StatusCode, error: &str, description: &str) -> HttpResponse {
    HttpResponse::build(status).json(json!({"error": error, "error_description": description}))
}

/// OpenAI's error envelope: `{"error":{message, type, param, code}}`.
pub fn openai(status: StatusCode, kind: &str, code: Option<&str>, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(json!({
        "error": {"message": message, "type": kind, "param": null, "code": code}
    }))
}

pub fn openai_invalid(message: &str) -> HttpResponse {
    openai(
        StatusCode::BAD_REQUEST,
        "invalid_request_error",
        None,
        message,
    )
}

/// A 5xx in the provider's shape (used by fault injection).
pub fn server_error(provider: Provider, status: StatusCode) -> HttpResponse {
    match provider {
        Provider::HubSpot => hubspot(status, "INTERNAL_ERROR", "internal error", vec![]),
        Provider::Google | Provider::OAuth => google(
            status,
            if status == StatusCode::SERVICE_UNAVAILABLE {
                "UNAVAILABLE"
            } else {
                "INTERNAL"
            },
            "global",
            "backendError",
            "Backend Error",
        ),
        Provider::Llm => openai(
            status,
            "server_error",
            None,
            "The server had an error while processing your request.",
        ),
    }
}

/// Reads a JSON body the way the provider does: the content type must be JSON
/// (HubSpot answers 415, Google and OpenAI 400) and the body must parse into `T`.
pub fn json_body<T: DeserializeOwned>(
    provider: Provider,
    req: &HttpRequest,
    body: &[u8],
) -> Result<T, HttpResponse> {
    let content_type = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let is_json = content_type
        .split(';')
        .next()
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return Err(match provider {
            Provider::HubSpot => hubspot(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "VALIDATION_ERROR",
                &format!("Content type '{content_type}' not supported"),
                vec![],
            ),
            Provider::Llm => {
                openai_invalid("Invalid Content-Type header, expected application/json.")
            }
            _ => google_bad_request("Invalid JSON payload received. Expected application/json."),
        });
    }
    serde_json::from_slice::<T>(body).map_err(|e| match provider {
        Provider::HubSpot => hubspot(
            StatusCode::BAD_REQUEST,
            "VALIDATION_ERROR",
            &format!(
                "Invalid input JSON on line {}, column {}: {e}",
                e.line(),
                e.column()
            ),
            vec![],
        ),
        Provider::Llm => openai_invalid(&format!(
            "We could not parse the JSON body of your request. ({e})"
        )),
        _ => google_bad_request(&format!("Invalid JSON payload received. {e}")),
    })
}

/// The bearer token of `Authorization: Bearer …`, if any.
pub fn bearer(req: &HttpRequest) -> Option<&str> {
    let value = req.headers().get(actix_web::http::header::AUTHORIZATION)?;
    let value = value.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}
