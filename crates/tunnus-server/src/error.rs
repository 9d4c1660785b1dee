//! Errors at the HTTP edge. Handlers return [`AppError`]; it becomes a
//! readable page in the person's language with the request id that is also
//! in the log. Internal details are logged, never shown.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use tunnus_store::{StoreError, StoreErrorKind};

use crate::http::context;
use crate::pages::{ErrorPage, render};

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("configuration: {0}")]
    Config(String),
    #[error("database: {0}")]
    Database(String),
    #[error("redis: {0}")]
    Redis(String),
    #[error("mail: {0}")]
    Mail(String),
    #[error("cannot listen: {0}")]
    Listen(String),
}

/// A request that ends in an error page.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Malformed input the form cannot show field by field.
    #[error("bad request")]
    BadRequest,
    #[error("payload too large")]
    TooLarge,
    #[error("CSRF check failed")]
    Csrf,
    #[error("throttled")]
    Throttled { retry_after_seconds: u64 },
    #[error("not found")]
    NotFound,
    /// Signed in, but not allowed to do this.
    #[error("forbidden")]
    Forbidden,
    /// A dependency (database, Redis) is down or timed out.
    #[error("unavailable: {0}")]
    Unavailable(String),
    #[error("internal: {0}")]
    Internal(String),
}

impl AppError {
    pub fn internal(what: impl Into<String>) -> Self {
        Self::Internal(what.into())
    }

    fn message_key(&self) -> &'static str {
        match self {
            Self::BadRequest => "error-bad-request",
            Self::TooLarge => "error-too-large",
            Self::Csrf => "error-csrf",
            Self::Throttled { .. } => "error-throttled",
            Self::NotFound => "error-not-found",
            Self::Forbidden => "error-forbidden",
            Self::Unavailable(_) => "error-unavailable",
            Self::Internal(_) => "error-internal",
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e.kind() {
            StoreErrorKind::Unavailable => Self::Unavailable(e.to_string()),
            _ => Self::Internal(e.to_string()),
        }
    }
}

impl From<askama::Error> for AppError {
    fn from(e: askama::Error) -> Self {
        Self::Internal(format!("template: {e}"))
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest => StatusCode::BAD_REQUEST,
            Self::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Csrf => StatusCode::FORBIDDEN,
            Self::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let ctx = context::current();
        match self {
            Self::Internal(detail) => tracing::error!(error = %detail, "request failed"),
            Self::Unavailable(detail) => tracing::warn!(error = %detail, "dependency unavailable"),
            other => tracing::info!(error = %other, "request refused"),
        }
        let tr = ctx.tr();
        let page = ErrorPage {
            tr,
            message: tr.t(self.message_key()),
            reference: tr.t_with("error-request-id", &[("id", &ctx.request_id)]),
        };
        let mut response = HttpResponse::build(self.status_code());
        if let Self::Throttled { retry_after_seconds } = self {
            response.insert_header(("Retry-After", retry_after_seconds.to_string()));
        }
        match render(&page) {
            Ok(body) => response.content_type("text/html; charset=utf-8").body(body),
            Err(_) => {
                response.content_type("text/plain; charset=utf-8").body(format!("Error. Reference: {}", ctx.request_id))
            }
        }
    }
}
