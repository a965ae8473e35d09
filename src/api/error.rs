//! The one API error type and its table of codes.
//!
//! Every error leaves the server as `{"error": {"code": "…", "message": "…"}}` with the status
//! below. Codes are stable (clients may match on them); messages are for people and may
//! change. Internal details are logged, never sent.
//!
//! | code                | status | when                                              |
//! |---------------------|--------|---------------------------------------------------|
//! | `invalid_parameter` | 400    | a query parameter is malformed or out of range    |
//! | `query_too_long`    | 400    | `q` is longer than the limit                      |
//! | `page_out_of_range` | 400    | `page × page_size` goes past the paging cap       |
//! | `not_found`         | 404    | no such route                                     |
//! | `record_not_found`  | 404    | no live record with that id                       |
//! | `timeout`           | 503    | the request took longer than the server allows    |
//! | `internal`          | 500    | a bug or a storage failure (details in the log)   |

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An error answered to an API client.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    /// `invalid_parameter` (400).
    pub fn invalid_parameter(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            code: "invalid_parameter",
            message: message.into(),
        }
    }

    /// `query_too_long` (400).
    pub fn query_too_long(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            code: "query_too_long",
            message: message.into(),
        }
    }

    /// `page_out_of_range` (400).
    pub fn page_out_of_range(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            code: "page_out_of_range",
            message: message.into(),
        }
    }

    /// `not_found` (404).
    pub fn not_found() -> Self {
        ApiError {
            status: StatusCode::NOT_FOUND,
            code: "not_found",
            message: "no such resource".into(),
        }
    }

    /// `record_not_found` (404).
    pub fn record_not_found(id: &str) -> Self {
        ApiError {
            status: StatusCode::NOT_FOUND,
            code: "record_not_found",
            message: format!("no record {id:?}"),
        }
    }

    /// `timeout` (503).
    pub fn timeout() -> Self {
        ApiError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            code: "timeout",
            message: "the request took too long; try again".into(),
        }
    }

    /// `internal` (500); the cause is logged here and not sent.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!("internal error: {cause}");
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "internal",
            message: "internal error".into(),
        }
    }

    /// The stable code.
    pub fn code(&self) -> &'static str {
        self.code
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error": {"code": self.code, "message": self.message}});
        (self.status, Json(body)).into_response()
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(err: crate::store::StoreError) -> Self {
        ApiError::internal(err)
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(err: tokio::task::JoinError) -> Self {
        ApiError::internal(err)
    }
}
