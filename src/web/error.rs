//! JSON errors for every route: `{"error": {"code", "message", "field"?}}`.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

/// The one error body every route answers with, as the API reference names it.
#[derive(Serialize, ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody {
    pub error: ApiError,
}

/// What went wrong: a stable `code` to branch on, a `message` for people, and
/// the `field` of the request at fault when there is one.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = ErrorDetail)]
pub struct ApiError {
    #[serde(skip)]
    #[schema(ignore)]
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Close the connection after answering: the request's body was not read
    /// whole, and what is left of it must not be read as the next request.
    #[serde(skip)]
    #[schema(ignore)]
    pub close: bool,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            field: None,
            close: false,
        }
    }

    /// Answers and closes the connection (see [`ApiError::close`]).
    pub fn closing(mut self) -> Self {
        self.close = true;
        self
    }

    /// A store failure: 503 when the database is away (the caller may retry),
    /// else 500 with `message`.
    pub fn from_store(error: &crate::store::StoreError, message: &str) -> Self {
        if error.is_unavailable() {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "database_unavailable",
                "try again later",
            )
        } else {
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
        }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        if self.close {
            response.force_close();
        }
        response.json(ErrorBody {
            error: self.clone(),
        })
    }
}

pub async fn not_found() -> HttpResponse {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such route").error_response()
}

/// A 400 for a body or query the framework could not read.
pub fn bad_input(code: &'static str, message: String) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, code, message)
}
