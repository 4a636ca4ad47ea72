//! The one error type at the edge. Every failure leaves as API.md's shape:
//! `{"error": {"code": "snake_case", "message": "human text"}}`. Internal errors are logged with
//! their detail and answered with a generic message.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::domain::chat::TransitionError;
use crate::domain::values::InvalidField;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    InvalidInput(String),
    #[error("authentication required")]
    Unauthenticated,
    #[error("{0}")]
    Unauthorized(&'static str, &'static str),
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("not found")]
    NotFound,
    /// 404 with a message of its own (a link that no longer works).
    #[error("{0}")]
    NotFoundWith(&'static str),
    #[error("{1}")]
    Conflict(&'static str, String),
    #[error("request body too large")]
    TooLarge,
    /// Too large for a limit a person can be told about ("files may be at most 10 MB here").
    #[error("{0}")]
    TooLargeFor(String),
    #[error("the body was not sent in time")]
    BodyTimeout,
    #[error("the body is not JSON")]
    NotJson,
    #[error("too many connections")]
    TooManyConnections,
    #[error("wrong password")]
    WrongPassword,
    #[error("server busy")]
    Busy,
    #[error("not ready")]
    NotReady,
    #[error("too many requests")]
    RateLimited { retry_after_secs: u64 },
    #[error("internal error: {0}")]
    Internal(String),
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn invalid(field: &str, reason: impl std::fmt::Display) -> Self {
        Self::InvalidInput(format!("{field}: {reason}"))
    }

    pub fn internal(e: impl std::fmt::Display) -> Self {
        Self::Internal(e.to_string())
    }

    fn parts(&self) -> (StatusCode, &'static str, String) {
        match self {
            Self::InvalidInput(m) => (StatusCode::BAD_REQUEST, "invalid_input", m.clone()),
            Self::Unauthenticated => (StatusCode::UNAUTHORIZED, "unauthenticated", "log in or send a valid token".into()),
            Self::Unauthorized(code, m) => (StatusCode::UNAUTHORIZED, code, (*m).into()),
            Self::Forbidden(m) => (StatusCode::FORBIDDEN, "forbidden", (*m).into()),
            Self::NotFound => (StatusCode::NOT_FOUND, "not_found", "no such resource".into()),
            Self::NotFoundWith(m) => (StatusCode::NOT_FOUND, "not_found", (*m).into()),
            Self::Conflict(code, m) => (StatusCode::CONFLICT, code, m.clone()),
            Self::TooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "too_large", "the request body is too large".into()),
            Self::TooLargeFor(m) => (StatusCode::PAYLOAD_TOO_LARGE, "too_large", m.clone()),
            Self::BodyTimeout => (StatusCode::REQUEST_TIMEOUT, "request_timeout", "the request body did not arrive in time".into()),
            Self::TooManyConnections => {
                (StatusCode::TOO_MANY_REQUESTS, "too_many_connections", "too many open connections from here; close one first".into())
            }
            Self::WrongPassword => (StatusCode::FORBIDDEN, "wrong_password", "the current password is wrong".into()),
            Self::Busy => (StatusCode::SERVICE_UNAVAILABLE, "server_busy", "Baton is at its connection limit; retry shortly".into()),
            Self::NotReady => (StatusCode::SERVICE_UNAVAILABLE, "not_ready", "the database does not answer".into()),
            Self::NotJson => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", "send the body as JSON, with Content-Type: application/json".into())
            }
            Self::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate_limited", "too many requests; retry later".into()),
            Self::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal", "something went wrong on our side".into()),
        }
    }
}

/// The error body, for responses built outside handlers (fallbacks, middleware).
pub fn error_response(status: StatusCode, code: &str, message: &str) -> Response {
    (status, axum::Json(json!({"error": {"code": code, "message": message}}))).into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Self::Internal(detail) = &self {
            tracing::error!(error = %detail, "request failed");
        }
        let (status, code, message) = self.parts();
        let mut res = error_response(status, code, &message);
        match self {
            Self::RateLimited { retry_after_secs } => {
                res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs.max(1)));
            }
            Self::BodyTimeout => {
                // The rest of the body is still on its way: this connection is done.
                res.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            Self::TooManyConnections | Self::Busy => {
                res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            }
            _ => {}
        }
        res
    }
}

impl From<InvalidField> for ApiError {
    fn from(e: InvalidField) -> Self {
        Self::InvalidInput(e.to_string())
    }
}

impl From<TransitionError> for ApiError {
    fn from(e: TransitionError) -> Self {
        match e {
            TransitionError::NotVisible => Self::NotFound,
            TransitionError::SameAgent => Self::InvalidInput("agent_id: the chat is already with that agent".into()),
            other => Self::Conflict(other.code(), other.to_string()),
        }
    }
}

impl From<crate::services::attachments::UploadError> for ApiError {
    fn from(e: crate::services::attachments::UploadError) -> Self {
        use crate::services::attachments::UploadError as U;
        match e {
            U::Invalid(f) => f.into(),
            U::TooLarge { .. } => Self::TooLargeFor(e.to_string()),
            U::Off => Self::Conflict("attachments_off", e.to_string()),
            U::NotOpen => Self::Conflict("attachments_not_open", e.to_string()),
            U::Store(s) => s.into(),
            U::Blob(m) => Self::Internal(m),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Self::NotFound,
            StoreError::Conflict(code, m) => Self::Conflict(code, m),
            StoreError::Transition(t) => t.into(),
            StoreError::Invalid(m) => Self::InvalidInput(m),
            other => Self::Internal(other.to_string()),
        }
    }
}
