//! HTTP caching for the public read routes: `ETag` with `If-None-Match` → `304`, and
//! `Cache-Control`.
//!
//! Each route declares how it may be cached ([`Cache`], in the route table), and [`layer`]
//! gives it the matching middleware; no list of paths is kept here. Search and suggest
//! results are a function of the query and of the index's state ([`Cache::IndexState`]), so
//! their (weak) ETag is a hash of the request line and the index watermark, and a matching
//! `If-None-Match` is answered `304` *without searching*. Records, institutions and the
//! OpenAPI document get a hash of the body ([`Cache::Body`]). Streamed bodies (the NDJSON
//! export) are not tagged. Everything here may change with the next harvest, so it is
//! cacheable for a minute.

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;
use sha2::{Digest, Sha256};

use super::Cache;
use crate::state::AppState;

/// Largest body we hash; larger ones are sent without an ETag.
const MAX_HASHED: usize = 4 << 20;

/// `handler` with the ETag middleware of `cache` as a route layer.
pub fn layer(state: &AppState, cache: Cache, handler: MethodRouter<AppState>) -> MethodRouter<AppState> {
    match cache {
        Cache::None => handler,
        Cache::IndexState => handler.route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            tag_by_index_state,
        )),
        Cache::Body => handler.route_layer(axum::middleware::from_fn(tag_by_body)),
    }
}

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

/// [`Cache::IndexState`]: tagged by request and index watermark; a match is answered `304`
/// without running the handler.
pub async fn tag_by_index_state(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if !matches!(*request.method(), Method::GET | Method::HEAD) {
        return next.run(request).await;
    }
    let if_none_match = request.headers().get(header::IF_NONE_MATCH).cloned();
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
    response
}

/// [`Cache::Body`]: tagged by a hash of the body.
pub async fn tag_by_body(request: Request, next: Next) -> Response {
    if !matches!(*request.method(), Method::GET | Method::HEAD) {
        return next.run(request).await;
    }
    let if_none_match = request.headers().get(header::IF_NONE_MATCH).cloned();
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
