//! Bearer-token roles for the admin API: an admin token may change things, a
//! viewer token may only read. Tokens are compared in constant time; an unset
//! token matches nothing.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{FromRequest, HttpRequest, web};
use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;

use super::{ApiError, AppState};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Viewer,
    Admin,
}

/// Who is calling: their role, and the name recorded in the audit log
/// (`admin` or `viewer`, plus the `X-Actor` header when given, e.g. `admin:maria`).
#[derive(Debug, Clone)]
pub struct Caller {
    pub role: Role,
    pub actor: String,
}

impl Caller {
    /// Refuses viewers with 403.
    pub fn require_admin(&self) -> Result<(), ApiError> {
        match self.role {
            Role::Admin => Ok(()),
            Role::Viewer => Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "this action needs the admin token",
            )),
        }
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        ready(identify(req))
    }
}

fn identify(req: &HttpRequest) -> Result<Caller, ApiError> {
    let unauthorized = || {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "a valid bearer token is required",
        )
    };
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(unauthorized)?;
    let token = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(unauthorized)?;
    let role = if matches(&state.config.admin_token, token) {
        Role::Admin
    } else if matches(&state.config.viewer_token, token) {
        Role::Viewer
    } else {
        return Err(unauthorized());
    };
    let base = match role {
        Role::Admin => "admin",
        Role::Viewer => "viewer",
    };
    let actor = match req
        .headers()
        .get("x-actor")
        .and_then(|v| v.to_str().ok())
        .map(clean_actor)
    {
        Some(name) if !name.is_empty() => format!("{base}:{name}"),
        _ => base.to_string(),
    };
    Ok(Caller { role, actor })
}

pub(crate) fn matches(expected: &Option<SecretString>, given: &str) -> bool {
    expected
        .as_ref()
        .is_some_and(|secret| bool::from(secret.expose_secret().as_bytes().ct_eq(given.as_bytes())))
}

/// Keeps an operator-supplied name short and printable for the audit log.
pub(crate) fn clean_actor(raw: &str) -> String {
    raw.chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | '@'))
        .take(64)
        .collect()
}
