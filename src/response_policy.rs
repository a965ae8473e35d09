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
    } else {
        next.run(request).await
    };
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE && !is_json_or_html(response.headers()) {
        response = ApiError::payload_too_large("the body is larger than this route accepts").into_response();
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
