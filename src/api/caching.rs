//! HTTP caching for the public read routes: `ETag` with `If-None-Match` → `304`, and
//! `Cache-Control`.
//!
//! Search and suggest results are a function of the query and of the index's state, so their
//! (weak) ETag is a hash of the request line and the index watermark, and a matching
//! `If-None-Match` is answered `304` *without searching*. Records and institutions get a hash
//! of the body. Streamed bodies (the NDJSON export) pass through untouched. Everything here
//! may change with the next harvest, so it is cacheable for a minute.

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use crate::state::AppState;

/// Largest body we hash; larger ones are sent without an ETag.
const MAX_HASHED: usize = 4 << 20;
/// Routes answered from the index: tagged by request and watermark.
const FROM_INDEX: &[&str] = &["/api/v1/search", "/api/v1/suggest"];
/// Routes answered from the store: tagged by body.
const FROM_STORE: &[&str] = &["/api/v1/records/", "/api/v1/institutions"];

fn tag_of(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    format!(
        "W/\"{}\"",
        digest[..12]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    )
}

fn matches(if_none_match: Option<&HeaderValue>, tag: &str) -> bool {
    if_none_match
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag || t.trim() == "*"))
}

fn cache_headers(headers: &mut HeaderMap, tag: &str) {
    if let Ok(value) = HeaderValue::from_str(tag) {
        headers.insert(header::ETAG, value);
    }
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=60"),
    );
    headers.insert(
        header::VARY,
        HeaderValue::from_static("accept, accept-encoding, x-api-key"),
    );
}

/// The middleware; see the module documentation.
pub async fn etag(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if !matches!(*request.method(), Method::GET | Method::HEAD) {
        return next.run(request).await;
    }
    let path = request.uri().path();
    let if_none_match = request.headers().get(header::IF_NONE_MATCH).cloned();
    if FROM_INDEX.contains(&path) {
        let request_line = format!("{}|{}", request.uri(), state.indexing.watermark());
        let tag = tag_of(request_line.as_bytes());
        if matches(if_none_match.as_ref(), &tag) {
            let mut response = StatusCode::NOT_MODIFIED.into_response();
            cache_headers(response.headers_mut(), &tag);
            return response;
        }
        let mut response = next.run(request).await;
        if response.status() == StatusCode::OK {
            cache_headers(response.headers_mut(), &tag);
        }
        return response;
    }
    if !FROM_STORE.iter().any(|p| path.starts_with(p)) {
        return next.run(request).await;
    }
    let response = next.run(request).await;
    if response.status() != StatusCode::OK {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_HASHED).await else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "response too large to send").into_response();
    };
    let tag = tag_of(&bytes);
    cache_headers(&mut parts.headers, &tag);
    if matches(if_none_match.as_ref(), &tag) {
        parts.status = StatusCode::NOT_MODIFIED;
        return Response::from_parts(parts, Body::empty());
    }
    Response::from_parts(parts, Body::from(bytes))
}
