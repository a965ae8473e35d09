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
//! | `suggestion_not_found` | 404 | no purchase suggestion with that code            |
//! | `method_not_allowed`| 405    | the route does not serve that method (`Allow`     |
//! |                     |        | lists those it does)                              |
//! | `invalid_body`      | 400    | the body is not the JSON (or form) the route takes|
//! | `unauthorized`      | 401    | no valid session cookie or bearer token; or a     |
//! |                     |        | failed login (never says whether the user exists) |
//! | `forbidden`         | 403    | signed in, but not allowed (another institution,  |
//! |                     |        | a harvested record, an admin-only route)          |
//! | `csrf_failed`       | 403    | a cookie-authenticated unsafe request without the |
//! |                     |        | session's `X-CSRF-Token` header                   |
//! | `conflict`          | 409    | it exists already (e.g. a username)               |
//! | `precondition_failed` | 412  | `If-Match` does not match the current ETag        |
//! | `payload_too_large` | 413    | a body, upload or image (in pixels) over a limit  |
//! | `uri_too_long`      | 414    | the URL is longer than 16 KiB                     |
//! | `headers_too_large` | 431    | the header fields are over 32 KiB or 100 fields   |
//! |                     |        | (a request head over 60 KiB is refused by hyper   |
//! |                     |        | itself: a bare `431` without a body, see          |
//! |                     |        | `server::connections`)                            |
//! | `unsupported_media_type` | 415 | an upload that is not JPEG, PNG or WebP       |
//! | `validation_failed` | 422    | invalid fields; `errors` lists every one, each    |
//! |                     |        | with `field`, `code`, `message` and `message_zh`  |
//! | `precondition_required` | 428 | a change without `If-Match`                     |
//! | `too_many_attempts` | 429    | login locked after 5 failures in 15 minutes;      |
//! |                     |        | `retry_after_secs` (and `Retry-After`) say how long|
//! | `api_key_required`  | 401    | the route needs an `X-API-Key` (see `[api]`)      |
//! | `invalid_api_key`   | 401    | the `X-API-Key` is unknown or revoked             |
//! | `rate_limited`      | 429    | over the client's rate; `retry_after_secs` (and   |
//! |                     |        | `Retry-After`) say how long to wait               |
//! | `timeout`           | 503    | the request took longer than the server allows    |
//! | `too_many_connections` | 503 | the server holds `[server] max_connections`       |
//! |                     |        | connections; sent on the new connection, closed   |
//! |                     |        | after it (`Connection: close`, `Retry-After`)     |
//! | `internal`          | 500    | a bug or a storage failure (details in the log)   |
//! | `insufficient_storage` | 507 | the disk is full: nothing of the request was      |
//! |                     |        | stored; the same request may succeed later        |

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// The stable error codes of the table above; each has one HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// `invalid_parameter`.
    InvalidParameter,
    /// `query_too_long`.
    QueryTooLong,
    /// `page_out_of_range`.
    PageOutOfRange,
    /// `not_found`.
    NotFound,
    /// `record_not_found`.
    RecordNotFound,
    /// `suggestion_not_found`.
    SuggestionNotFound,
    /// `method_not_allowed`.
    MethodNotAllowed,
    /// `invalid_body`.
    InvalidBody,
    /// `unauthorized`.
    Unauthorized,
    /// `forbidden`.
    Forbidden,
    /// `csrf_failed`.
    CsrfFailed,
    /// `conflict`.
    Conflict,
    /// `precondition_failed`.
    PreconditionFailed,
    /// `payload_too_large`.
    PayloadTooLarge,
    /// `uri_too_long`.
    UriTooLong,
    /// `headers_too_large`.
    HeadersTooLarge,
    /// `unsupported_media_type`.
    UnsupportedMediaType,
    /// `validation_failed`.
    ValidationFailed,
    /// `precondition_required`.
    PreconditionRequired,
    /// `too_many_attempts`.
    TooManyAttempts,
    /// `api_key_required`.
    ApiKeyRequired,
    /// `invalid_api_key`.
    InvalidApiKey,
    /// `rate_limited`.
    RateLimited,
    /// `timeout`.
    Timeout,
    /// `too_many_connections`.
    TooManyConnections,
    /// `internal`.
    Internal,
    /// `insufficient_storage`.
    InsufficientStorage,
}

impl ErrorCode {
    /// Every code, in the order of the table.
    pub const ALL: [ErrorCode; 27] = [
        ErrorCode::InvalidParameter,
        ErrorCode::QueryTooLong,
        ErrorCode::PageOutOfRange,
        ErrorCode::NotFound,
        ErrorCode::RecordNotFound,
        ErrorCode::SuggestionNotFound,
        ErrorCode::MethodNotAllowed,
        ErrorCode::InvalidBody,
        ErrorCode::Unauthorized,
        ErrorCode::Forbidden,
        ErrorCode::CsrfFailed,
        ErrorCode::Conflict,
        ErrorCode::PreconditionFailed,
        ErrorCode::PayloadTooLarge,
        ErrorCode::UriTooLong,
        ErrorCode::HeadersTooLarge,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::ValidationFailed,
        ErrorCode::PreconditionRequired,
        ErrorCode::TooManyAttempts,
        ErrorCode::ApiKeyRequired,
        ErrorCode::InvalidApiKey,
        ErrorCode::RateLimited,
        ErrorCode::Timeout,
        ErrorCode::TooManyConnections,
        ErrorCode::Internal,
        ErrorCode::InsufficientStorage,
    ];

    /// The code as clients see it.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidParameter => "invalid_parameter",
            ErrorCode::QueryTooLong => "query_too_long",
            ErrorCode::PageOutOfRange => "page_out_of_range",
            ErrorCode::NotFound => "not_found",
            ErrorCode::RecordNotFound => "record_not_found",
            ErrorCode::SuggestionNotFound => "suggestion_not_found",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::InvalidBody => "invalid_body",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::CsrfFailed => "csrf_failed",
            ErrorCode::Conflict => "conflict",
            ErrorCode::PreconditionFailed => "precondition_failed",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::UriTooLong => "uri_too_long",
            ErrorCode::HeadersTooLarge => "headers_too_large",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::ValidationFailed => "validation_failed",
            ErrorCode::PreconditionRequired => "precondition_required",
            ErrorCode::TooManyAttempts => "too_many_attempts",
            ErrorCode::ApiKeyRequired => "api_key_required",
            ErrorCode::InvalidApiKey => "invalid_api_key",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::Timeout => "timeout",
            ErrorCode::TooManyConnections => "too_many_connections",
            ErrorCode::Internal => "internal",
            ErrorCode::InsufficientStorage => "insufficient_storage",
        }
    }

    /// The HTTP status it is answered with.
    pub fn status(self) -> StatusCode {
        match self {
            ErrorCode::InvalidParameter => StatusCode::BAD_REQUEST,
            ErrorCode::QueryTooLong => StatusCode::BAD_REQUEST,
            ErrorCode::PageOutOfRange => StatusCode::BAD_REQUEST,
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::RecordNotFound => StatusCode::NOT_FOUND,
            ErrorCode::SuggestionNotFound => StatusCode::NOT_FOUND,
            ErrorCode::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::InvalidBody => StatusCode::BAD_REQUEST,
            ErrorCode::Unauthorized => StatusCode::UNAUTHORIZED,
            ErrorCode::Forbidden => StatusCode::FORBIDDEN,
            ErrorCode::CsrfFailed => StatusCode::FORBIDDEN,
            ErrorCode::Conflict => StatusCode::CONFLICT,
            ErrorCode::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::UriTooLong => StatusCode::URI_TOO_LONG,
            ErrorCode::HeadersTooLarge => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            ErrorCode::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::ValidationFailed => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::PreconditionRequired => StatusCode::PRECONDITION_REQUIRED,
            ErrorCode::TooManyAttempts => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::ApiKeyRequired => StatusCode::UNAUTHORIZED,
            ErrorCode::InvalidApiKey => StatusCode::UNAUTHORIZED,
            ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::Timeout => StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::TooManyConnections => StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::InsufficientStorage => StatusCode::INSUFFICIENT_STORAGE,
        }
    }
}

/// An error answered to an API client.
#[derive(Debug)]
pub struct ApiError {
    code: ErrorCode,
    message: String,
    /// Extra members of the error object, for the few codes that have them.
    details: Option<Box<ErrorDetails>>,
}

/// Extra members of an error: the field errors of `validation_failed`, the wait of
/// `too_many_attempts`.
#[derive(Debug, Default)]
struct ErrorDetails {
    field_errors: Vec<schemas::FieldError>,
    retry_after_secs: Option<u64>,
}

impl ApiError {
    /// `invalid_parameter` (400).
    pub fn invalid_parameter(message: impl Into<String>) -> Self {
        ApiError {
            code: ErrorCode::InvalidParameter,
            message: message.into(),
            details: None,
        }
    }

    /// `query_too_long` (400).
    pub fn query_too_long(message: impl Into<String>) -> Self {
        ApiError {
            code: ErrorCode::QueryTooLong,
            message: message.into(),
            details: None,
        }
    }

    /// `page_out_of_range` (400).
    pub fn page_out_of_range(message: impl Into<String>) -> Self {
        ApiError {
            code: ErrorCode::PageOutOfRange,
            message: message.into(),
            details: None,
        }
    }

    /// `not_found` (404).
    pub fn not_found() -> Self {
        ApiError {
            code: ErrorCode::NotFound,
            message: "no such resource".into(),
            details: None,
        }
    }

    /// `record_not_found` (404).
    pub fn record_not_found(id: &str) -> Self {
        ApiError {
            code: ErrorCode::RecordNotFound,
            message: format!("no record {id:?}"),
            details: None,
        }
    }

    /// `timeout` (503).
    pub fn timeout() -> Self {
        ApiError {
            code: ErrorCode::Timeout,
            message: "the request took too long; try again".into(),
            details: None,
        }
    }

    /// `internal` (500); the cause is logged here and not sent.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!("internal error: {cause}");
        ApiError {
            code: ErrorCode::Internal,
            message: "internal error".into(),
            details: None,
        }
    }

    /// `insufficient_storage` (507): the disk is full, so nothing was stored; the cause is
    /// logged here.
    pub fn insufficient_storage(cause: impl std::fmt::Display) -> Self {
        tracing::error!("the disk is full: {cause}");
        Self::with(
            ErrorCode::InsufficientStorage,
            "the server's disk is full: nothing was saved; try again later",
        )
    }

    fn with(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
            details: None,
        }
    }

    /// `invalid_body` (400).
    pub fn invalid_body(message: impl Into<String>) -> Self {
        Self::with(ErrorCode::InvalidBody, message)
    }

    /// `unauthorized` (401).
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::with(ErrorCode::Unauthorized, message)
    }

    /// `forbidden` (403).
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::with(ErrorCode::Forbidden, message)
    }

    /// `csrf_failed` (403).
    pub fn csrf_failed() -> Self {
        Self::with(
            ErrorCode::CsrfFailed,
            "this request needs the session's X-CSRF-Token header",
        )
    }

    /// `conflict` (409).
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::with(ErrorCode::Conflict, message)
    }

    /// `precondition_failed` (412).
    pub fn precondition_failed(message: impl Into<String>) -> Self {
        Self::with(ErrorCode::PreconditionFailed, message)
    }

    /// `payload_too_large` (413).
    pub fn payload_too_large(message: impl Into<String>) -> Self {
        Self::with(ErrorCode::PayloadTooLarge, message)
    }

    /// `uri_too_long` (414).
    pub fn uri_too_long(max_bytes: usize) -> Self {
        Self::with(
            ErrorCode::UriTooLong,
            format!("the URL is longer than {max_bytes} bytes"),
        )
    }

    /// `method_not_allowed` (405).
    pub fn method_not_allowed() -> Self {
        Self::with(
            ErrorCode::MethodNotAllowed,
            "this route does not serve that method; `Allow` lists those it does",
        )
    }

    /// `headers_too_large` (431).
    pub fn headers_too_large(message: impl Into<String>) -> Self {
        Self::with(ErrorCode::HeadersTooLarge, message)
    }

    /// `too_many_connections` (503): written by the accept loop on a connection over the cap.
    pub fn too_many_connections() -> Self {
        Self::with(
            ErrorCode::TooManyConnections,
            "the server has too many open connections; try again shortly",
        )
    }

    /// `unsupported_media_type` (415).
    pub fn unsupported_media_type(message: impl Into<String>) -> Self {
        Self::with(ErrorCode::UnsupportedMediaType, message)
    }

    /// `validation_failed` (422) listing every invalid field.
    pub fn validation_failed(errors: schemas::ValidationErrors) -> Self {
        let mut error = Self::with(
            ErrorCode::ValidationFailed,
            format!("{} invalid field(s): {errors}", errors.errors.len()),
        );
        error.details = Some(Box::new(ErrorDetails {
            field_errors: errors.errors,
            ..ErrorDetails::default()
        }));
        error
    }

    /// `precondition_required` (428).
    pub fn precondition_required(message: impl Into<String>) -> Self {
        Self::with(ErrorCode::PreconditionRequired, message)
    }

    /// `too_many_attempts` (429), to be retried after `retry_after_secs`.
    pub fn too_many_attempts(retry_after_secs: u64) -> Self {
        let mut error = Self::with(
            ErrorCode::TooManyAttempts,
            "too many failed logins for this username; try again later",
        );
        error.details = Some(Box::new(ErrorDetails {
            retry_after_secs: Some(retry_after_secs),
            ..ErrorDetails::default()
        }));
        error
    }

    /// `api_key_required` (401): this route needs an `X-API-Key`.
    pub fn api_key_required() -> Self {
        Self::with(ErrorCode::ApiKeyRequired, "this route needs an X-API-Key header")
    }

    /// `invalid_api_key` (401): the `X-API-Key` is unknown or revoked.
    pub fn invalid_api_key() -> Self {
        Self::with(ErrorCode::InvalidApiKey, "the X-API-Key is unknown or revoked")
    }

    /// `rate_limited` (429), to be retried after `retry_after_secs`.
    pub fn rate_limited(retry_after_secs: u64) -> Self {
        let mut error = Self::with(
            ErrorCode::RateLimited,
            "too many requests from this client; slow down",
        );
        error.details = Some(Box::new(ErrorDetails {
            retry_after_secs: Some(retry_after_secs),
            ..ErrorDetails::default()
        }));
        error
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.code.status()
    }

    /// The stable code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The message sent with it (for people).
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut error = json!({"code": self.code.as_str(), "message": self.message});
        let mut retry_after = None;
        if let Some(details) = self.details {
            if !details.field_errors.is_empty() {
                error["errors"] = json!(details.field_errors);
            }
            if let Some(secs) = details.retry_after_secs {
                error["retry_after_secs"] = json!(secs);
                retry_after = Some(secs);
            }
        }
        let mut response = (self.code.status(), Json(json!({ "error": error }))).into_response();
        if let Some(secs) = retry_after {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(secs),
            );
        }
        response
    }
}

impl From<store::StoreError> for ApiError {
    fn from(err: store::StoreError) -> Self {
        if err.is_disk_full() {
            ApiError::insufficient_storage(err)
        } else {
            ApiError::internal(err)
        }
    }
}

impl From<axum::extract::rejection::JsonRejection> for ApiError {
    fn from(rejection: axum::extract::rejection::JsonRejection) -> Self {
        use axum::extract::rejection::JsonRejection;
        match rejection {
            JsonRejection::MissingJsonContentType(_) => {
                ApiError::unsupported_media_type("the body must be JSON (Content-Type: application/json)")
            }
            JsonRejection::BytesRejection(_) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                ApiError::payload_too_large("the body is too large")
            }
            other => ApiError::invalid_body(other.body_text()),
        }
    }
}

impl From<services::search::SearchError> for ApiError {
    fn from(err: services::search::SearchError) -> Self {
        use services::search::SearchError;
        match err {
            SearchError::InvalidParameter(message) => ApiError::invalid_parameter(message),
            SearchError::QueryTooLong(message) => ApiError::query_too_long(message),
            SearchError::PageOutOfRange(message) => ApiError::page_out_of_range(message),
            SearchError::Internal(message) => ApiError::internal(message),
        }
    }
}

impl From<services::institutions::InstitutionError> for ApiError {
    fn from(err: services::institutions::InstitutionError) -> Self {
        use services::institutions::InstitutionError;
        match err {
            InstitutionError::Forbidden(forbidden) => forbidden.into(),
            InstitutionError::Invalid(errors) => ApiError::validation_failed(errors),
            InstitutionError::NotFound(_) => ApiError::not_found(),
            InstitutionError::Store(err) => err.into(),
        }
    }
}

impl From<services::suggestions::SuggestionError> for ApiError {
    fn from(err: services::suggestions::SuggestionError) -> Self {
        use services::suggestions::SuggestionError;
        match err {
            SuggestionError::Invalid(errors) => ApiError::validation_failed(errors),
            SuggestionError::NotFound(code) => Self::with(
                ErrorCode::SuggestionNotFound,
                format!("no purchase suggestion {code}"),
            ),
            SuggestionError::Forbidden(forbidden) => forbidden.into(),
            SuggestionError::Store(err) => err.into(),
        }
    }
}

impl From<services::auth::Forbidden> for ApiError {
    fn from(err: services::auth::Forbidden) -> Self {
        ApiError::forbidden(err.0)
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(err: tokio::task::JoinError) -> Self {
        ApiError::internal(err)
    }
}

/// The shape of every error response, for the OpenAPI description.
#[derive(serde::Serialize, schemars::JsonSchema)]
pub(super) struct ErrorResponse {
    error: ErrorBody,
}

/// The `error` member.
#[derive(serde::Serialize, schemars::JsonSchema)]
struct ErrorBody {
    /// Stable code from the table in this module.
    #[schemars(schema_with = "error_codes")]
    code: String,
    /// For people; may change.
    message: String,
    /// `validation_failed`: every invalid field.
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<Vec<FieldErrorDoc>>,
    /// `too_many_attempts`, `rate_limited`: seconds to wait.
    #[serde(skip_serializing_if = "Option::is_none")]
    retry_after_secs: Option<u64>,
}

/// Every code, as the schema of `code` (a client may meet codes added later: within v1 they
/// are only added).
fn error_codes(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let codes: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    schemars::json_schema!({"type": "string", "examples": codes})
}

/// One invalid field of a `validation_failed` error.
#[derive(serde::Serialize, schemars::JsonSchema)]
struct FieldErrorDoc {
    field: String,
    code: String,
    message: String,
    message_zh: String,
}
