//! How console requests fail: an unsigned visitor is sent to the sign-in page;
//! anything else is an HTML page with the status and a plain message.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};

use super::templates;
use crate::web::ApiError;

#[derive(Debug)]
pub enum ConsoleError {
    /// No live session: go and sign in.
    SignIn,
    /// A page explaining what went wrong.
    Page { status: StatusCode, message: String },
}

impl ConsoleError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ConsoleError::Page {
            status,
            message: message.into(),
        }
    }

    pub fn forbidden(message: &str) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }
}

impl From<ApiError> for ConsoleError {
    fn from(error: ApiError) -> Self {
        ConsoleError::new(error.status, error.message)
    }
}

impl From<crate::store::StoreError> for ConsoleError {
    fn from(error: crate::store::StoreError) -> Self {
        tracing::error!(%error, "console request failed in the store");
        ApiError::from_store(&error, "the page could not be read").into()
    }
}

impl std::fmt::Display for ConsoleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConsoleError::SignIn => f.write_str("sign-in required"),
            ConsoleError::Page { status, message } => write!(f, "{status}: {message}"),
        }
    }
}

impl ResponseError for ConsoleError {
    fn status_code(&self) -> StatusCode {
        match self {
            ConsoleError::SignIn => StatusCode::SEE_OTHER,
            ConsoleError::Page { status, .. } => *status,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            ConsoleError::SignIn => HttpResponse::SeeOther()
                .insert_header((header::LOCATION, "/signin"))
                .finish(),
            ConsoleError::Page { status, message } => {
                let html = templates::render(
                    "error.html",
                    minijinja::context! { status => status.as_u16(), reason => status.canonical_reason(), message },
                )
                .unwrap_or_else(|_| "error".to_string());
                super::page::html(HttpResponse::build(*status), html)
            }
        }
    }
}
