//! `GET /metrics`: the Prometheus metrics of [`crate::metrics`], for the operator's scraper.
//!
//! Unless `[metrics] public = true`, only two kinds of request are answered: from the
//! loopback interface, and with `Authorization: Bearer <token>` (the token of the environment
//! variable `[metrics] token_env`, compared in constant time). Everyone else gets
//! `404 not_found`, the answer of a route that does not exist, so a scan learns nothing.
//!
//! "From the loopback interface" is decided by the TCP peer. `X-Forwarded-For` can only
//! narrow it: when the peer is a trusted proxy (`[api] trusted_proxies`), the client it
//! names must be on loopback too, so a reverse proxy on the same host does not open
//! `/metrics` to everyone it forwards. A forged header from anyone else is not read.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::ApiError;
use super::endpoint::{Content, Endpoint, Success};
use crate::error::ErrorCode;
use crate::metrics::{CONTENT_TYPE, ConnectionCounts, Snapshot};
use crate::state::AppState;

/// The route.
pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::get("/metrics", metrics)
            .summary("Prometheus metrics")
            .description(
                "Requests and latency per route, harvest runs and items per source, index \
                 lag, store and index size, connections; in the Prometheus text format \
                 (0.0.4). Unless `[metrics] public = true`, answered only to the loopback \
                 interface and to `Authorization: Bearer` with the token of `[metrics] \
                 token_env`; to anyone else `404 not_found`.",
            )
            .respond(Success {
                status: 200,
                description: "The metrics",
                content: vec![Content::Other("text/plain", || json!({"type": "string"}))],
                headers: Vec::new(),
            })
            .errors(&[ErrorCode::NotFound]),
    ]
}

async fn metrics(State(state): State<AppState>, request: Request) -> Result<Response, ApiError> {
    if !allowed(&state, request.extensions(), request.headers()) {
        return Err(ApiError::not_found());
    }
    let connections = request.extensions().get::<Arc<ConnectionCounts>>().cloned();
    let reader = state.clone();
    let snapshot = tokio::task::spawn_blocking(move || Snapshot::read(&reader)).await??;
    let text = state.metrics.encode(&snapshot, connections.as_deref());
    Ok((
        [
            (header::CONTENT_TYPE, CONTENT_TYPE),
            (header::CACHE_CONTROL, "no-store"),
        ],
        text,
    )
        .into_response())
}

/// Whether this request may read the metrics; see the module documentation.
fn allowed(state: &AppState, extensions: &axum::http::Extensions, headers: &HeaderMap) -> bool {
    let config = &state.metrics_access;
    if config.public {
        return true;
    }
    let peer = extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    if let Some(peer) = peer
        && is_loopback(peer)
        && is_loopback(state.access.client_ip(peer, headers))
    {
        return true;
    }
    let Some(token) = &config.token else {
        return false;
    };
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|given| services::auth::secret::equal(given.trim(), token.expose()))
}

/// Loopback, IPv4-mapped IPv6 addresses (`::ffff:127.0.0.1`) included.
fn is_loopback(ip: IpAddr) -> bool {
    ip.to_canonical().is_loopback()
}
