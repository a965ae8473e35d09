//! Headers and error shapes every response gets, whichever route answered it.
//!
//! - **Content-Security-Policy** on every HTML page that does not set its own: scripts,
//!   styles and everything else from our own origin only (no inline script, no inline
//!   style, no `eval`), images also from the institutions' `http(s)` servers (harvested
//!   image links not yet fetched), and `frame-ancestors 'none'`: no page may be framed by
//!   another site (clickjacking). JSON-LD `<script type="application/ld+json">` is data,
//!   never executed, so the policy does not touch it. The two pages with inline code (the
//!   API docs and the analytics dashboard) set their own policy allowing exactly that code
//!   by hash ([`inline_hash`]).
//! - **`Cache-Control: no-store`** on everything under the signed-in areas (`/api/v1/auth`,
//!   `/api/v1/admin`, `/api/v1/curate`, `/api/v1/analytics`, `/admin`, `/curator`), so no
//!   browser or proxy keeps a copy of who is signed in or of private reports.
//! - **JSON errors for 413 and 414**: a body over a limit is refused by a tower layer with a
//!   plain-text `413`, which becomes the API's `payload_too_large`; a URL longer than
//!   [`MAX_URI_BYTES`] is answered `uri_too_long` before any route runs.
//! - **JSON 431** for header fields over [`MAX_HEADER_BYTES`] or [`MAX_HEADER_FIELDS`]
//!   (`headers_too_large`), checked before any route runs. hyper's own buffer
//!   ([`crate::server::MAX_REQUEST_HEAD_BYTES`], and 256 fields) is larger, so only a head
//!   past it meets hyper's bare `431`: hyper writes that answer itself while parsing
//!   (`Conn::on_parse_error` writes a head and no body), before any service exists to shape it.
//! - **JSON 503 on timeout** ([`time_limit`]): a request not answered within the server's
//!   `request_timeout` gets `timeout`, and its handler's future is dropped.
//! - **JSON for every other error under `/api/`**: an error status that a layer or the router
//!   answered without a JSON body (a `405` for a method the route does not serve, a rejection
//!   in plain text) is given the API's shape with the code its status has in the table.

use std::sync::LazyLock;

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use sha2::{Digest, Sha256};

use crate::error::ApiError;

/// Longest URL (path and query) answered, in bytes; longer ones get `414 uri_too_long`.
pub const MAX_URI_BYTES: usize = 16 * 1024;

/// Most bytes of header fields (names, values and 4 bytes of framing each) answered;
/// more get `431 headers_too_large`.
pub const MAX_HEADER_BYTES: usize = 32 * 1024;
/// Most header fields answered; more get `431 headers_too_large`.
pub const MAX_HEADER_FIELDS: usize = 100;

/// The policy of the citizen pages.
pub const PAGE_POLICY: &str = "default-src 'self'; img-src 'self' https: http:; object-src 'none'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
/// The policy of the curator pages: as [`PAGE_POLICY`], and previews of images chosen for
/// upload (`blob:` URLs).
pub const CURATOR_POLICY: &str = "default-src 'self'; img-src 'self' https: http: blob:; \
     object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Path prefixes whose answers are never stored by a cache.
const PRIVATE_PREFIXES: &[&str] = &[
    "/api/v1/auth/",
    "/api/v1/admin/",
    "/api/v1/curate/",
    "/api/v1/analytics/",
    "/admin/",
    "/curator",
];

/// A CSP source allowing one inline `<script>` or `<style>` whose text is exactly `text`:
/// `'sha256-…'`.
pub fn inline_hash(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// A policy for a page whose only code is one inline `<script>` (`script`) and one inline
/// `<style>` (`style`), fetching JSON from our origin, never framed.
pub fn inline_page_policy(script: Option<&str>, style: Option<&str>) -> String {
    let mut policy = String::from("default-src 'none'; connect-src 'self'; img-src 'self'");
    if let Some(script) = script {
        policy.push_str("; script-src ");
        policy.push_str(&inline_hash(script));
    }
    if let Some(style) = style {
        policy.push_str("; style-src ");
        policy.push_str(&inline_hash(style));
    }
    policy.push_str("; base-uri 'none'; form-action 'self'; frame-ancestors 'none'");
    policy
}

/// The middleware; see the module documentation.
pub async fn apply(request: Request, next: Next) -> Response {
    let uri = request.uri();
    let uri_bytes = uri.path().len() + uri.query().map_or(0, |q| q.len() + 1);
    let path = uri.path().to_string();
    let private = PRIVATE_PREFIXES.iter().any(|p| path.starts_with(p));
    let mut response = if uri_bytes > MAX_URI_BYTES {
        ApiError::uri_too_long(MAX_URI_BYTES).into_response()
    } else if let Some(refusal) = oversized_headers(request.headers()) {
        refusal.into_response()
    } else {
        next.run(request).await
    };
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE && !is_json_or_html(response.headers()) {
        response = ApiError::payload_too_large("the body is larger than this route accepts").into_response();
    }
    let replacement = if path.starts_with("/api/") && !is_json(response.headers()) {
        api_error_for(response.status())
    } else {
        None
    };
    if let Some(error) = replacement {
        let (mut parts, _) = response.into_parts();
        let (error_parts, body) = error.into_response().into_parts();
        // Keep what the refusal said besides its body (`Allow` on a 405, for one).
        parts.headers.remove(header::CONTENT_LENGTH);
        parts.headers.extend(error_parts.headers);
        response = Response::from_parts(parts, body);
    }
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if private && !no_store(headers) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if is_html(headers) && !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        let policy = if path.starts_with("/curator") {
            CURATOR_POLICY
        } else {
            PAGE_POLICY
        };
        headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(policy));
    }
    response
}

/// The middleware answering `503 timeout` when the rest of the server takes longer than
/// `limit` to answer; the request's future is dropped then (whatever it was waiting for is
/// cancelled with it).
pub async fn time_limit(
    axum::extract::State(limit): axum::extract::State<std::time::Duration>,
    request: Request,
    next: Next,
) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::timeout().into_response(),
    }
}

/// The refusal of header fields over [`MAX_HEADER_BYTES`] or [`MAX_HEADER_FIELDS`].
fn oversized_headers(headers: &HeaderMap) -> Option<ApiError> {
    if headers.len() > MAX_HEADER_FIELDS {
        return Some(ApiError::headers_too_large(format!(
            "the request has more than {MAX_HEADER_FIELDS} header fields"
        )));
    }
    let bytes: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    (bytes > MAX_HEADER_BYTES).then(|| {
        ApiError::headers_too_large(format!(
            "the header fields are larger than {MAX_HEADER_BYTES} bytes"
        ))
    })
}

/// The API error an error status without a JSON body stands for.
fn api_error_for(status: StatusCode) -> Option<ApiError> {
    let error = match status {
        StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::payload_too_large("the body is larger than this route accepts")
        }
        StatusCode::URI_TOO_LONG => ApiError::uri_too_long(MAX_URI_BYTES),
        StatusCode::METHOD_NOT_ALLOWED => ApiError::method_not_allowed(),
        StatusCode::NOT_FOUND => ApiError::not_found(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ApiError::unsupported_media_type("this route does not take that content type")
        }
        StatusCode::SERVICE_UNAVAILABLE | StatusCode::REQUEST_TIMEOUT => ApiError::timeout(),
        status if status.is_client_error() => ApiError::invalid_body(format!(
            "the request was refused: {}",
            status.canonical_reason().unwrap_or("client error")
        )),
        status if status.is_server_error() => ApiError::internal(format!("a bodyless {status}")),
        _ => return None,
    };
    Some(error)
}

/// A policy header value for an inline page, computed once.
pub fn header_value(policy: &LazyLock<String>) -> HeaderValue {
    HeaderValue::from_str(policy).unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'"))
}

fn content_type(headers: &HeaderMap) -> &str {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

fn is_html(headers: &HeaderMap) -> bool {
    content_type(headers).starts_with("text/html")
}

fn is_json(headers: &HeaderMap) -> bool {
    content_type(headers).starts_with("application/json")
}

fn is_json_or_html(headers: &HeaderMap) -> bool {
    let content_type = content_type(headers);
    content_type.starts_with("application/json") || content_type.starts_with("text/html")
}

fn no_store(headers: &HeaderMap) -> bool {
    headers
        .get(header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("no-store"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_hashes_are_base64_sha256() {
        // echo -n 'alert(1)' | openssl sha256 -binary | base64
        assert_eq!(
            inline_hash("alert(1)"),
            "'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI='"
        );
    }

    #[test]
    fn inline_policies_allow_only_the_hashed_code() {
        let policy = inline_page_policy(Some("a()"), None);
        assert!(policy.contains("script-src 'sha256-"), "{policy}");
        assert!(!policy.contains("unsafe-inline"));
        assert!(policy.contains("frame-ancestors 'none'"));
    }
}
