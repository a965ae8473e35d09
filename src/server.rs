//! The HTTP server: shared state, the router with its protective layers, and the accept loop.

use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, Request};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::IntoResponse;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower::ServiceExt;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

use crate::api;
use crate::error::ApiError;
pub use crate::state::AppState;

/// Largest request body any route accepts.
const MAX_BODY_BYTES: usize = 1 << 20;
/// Time a client has to send its request headers (slowloris guard).
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

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
    // API keys, rate limits and ETags are route layers inside `api::router` and
    // `api::upload_router`, given by where each route is listed (`api::groups`).
    api::router(&state)
        .merge(crate::oai::router())
        .merge(crate::web::router())
        .fallback(|| async { ApiError::not_found() })
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        // Image uploads are larger: their routes cap the raw body themselves.
        .merge(api::upload_router(&state, &limits))
        .merge(crate::web::curator::upload_router(&limits))
        .with_state(state)
        .layer(CompressionLayer::new())
        .layer(cors)
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            request_timeout,
        ))
        .layer(CatchPanicLayer::custom(|_| {
            ApiError::internal("a handler panicked").into_response()
        }))
}

/// Serves `router` on `listener` until `shutdown` resolves; connections that are open then
/// are finished gracefully.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(err) => {
                    // Running out of file descriptors must not end the server.
                    tracing::warn!("accept failed: {err}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let service = TowerToHyperService::new(router.clone().map_request(
            move |req: Request<hyper::body::Incoming>| {
                let mut req = req.map(axum::body::Body::new);
                req.extensions_mut().insert(ConnectInfo(peer));
                req
            },
        ));
        let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
        let connection = graceful.watch(connection.into_owned());
        tokio::spawn(async move {
            let _ = connection.await;
        });
    }
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(Duration::from_secs(10)) => {}
    }
    Ok(())
}
