//! The HTTP server: shared state, the router with its protective layers
//! ([`crate::response_policy`]: security headers and uniform error shapes), and the accept loop
//! ([`connections`]: connection cap, first-request and idle timeouts).

mod connections;

pub use connections::{ConnectionLimits, MAX_REQUEST_HEAD_BYTES, serve_with};

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::response::IntoResponse;
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;

use crate::api;
use crate::error::ApiError;
use crate::state::AppState;

/// Largest request body any route accepts.
const MAX_BODY_BYTES: usize = 1 << 20;

/// The whole application as a router, without a socket (tests call it with `oneshot`).
pub fn app(state: AppState, request_timeout: Duration, cors_origins: &[String]) -> Router {
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::list(
            cors_origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()),
        ))
        .allow_methods([Method::GET, Method::HEAD])
        .allow_headers([HeaderName::from_static("x-api-key"), header::IF_NONE_MATCH])
        .expose_headers([header::ETAG, header::RETRY_AFTER]);
    let limits = state.curation.image_limits();
    let metrics = Arc::clone(&state.metrics);
    // API keys, rate limits and ETags are route layers inside `api::router` and
    // `api::upload_router`, given by where each route is listed (`api::groups`).
    // The pages and the OAI-PMH provider have a per-client rate of their own.
    let pages = axum::middleware::from_fn_with_state(state.access.clone(), crate::access::page_guard);
    api::router(&state)
        .merge(crate::oai::router().route_layer(pages.clone()))
        .merge(crate::web::router().route_layer(pages.clone()))
        .fallback(|| async { ApiError::not_found() })
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        // Image uploads are larger: their routes cap the raw body themselves.
        .merge(api::upload_router(&state, &limits))
        .merge(crate::web::curator::upload_router(&limits).route_layer(pages))
        .with_state(state)
        // Inside the response policy, so a timeout's 503 gets its headers and JSON shape.
        .layer(axum::middleware::from_fn_with_state(
            request_timeout,
            crate::response_policy::time_limit,
        ))
        .layer(axum::middleware::from_fn(crate::response_policy::apply))
        .layer(CompressionLayer::new())
        .layer(cors)
        .layer(CatchPanicLayer::custom(|_| {
            ApiError::internal("a handler panicked").into_response()
        }))
        // Outermost, so every answer is counted as the client gets it (a panic's 500, a
        // timeout's 503). A layer of the router wraps each route after routing, so the
        // request knows its route template (`MatchedPath`).
        .layer(axum::middleware::from_fn_with_state(
            metrics,
            crate::metrics::track,
        ))
}

/// Serves `router` on `listener` with the default [`ConnectionLimits`] until `shutdown`
/// resolves; connections that are open then are finished gracefully.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    serve_with(listener, router, ConnectionLimits::default(), shutdown).await
}
