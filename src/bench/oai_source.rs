//! An OAI-PMH provider on a loopback port for the benchmarks: any
//! [`jincheng_oai_provider::Repository`] served by `jincheng-oai-provider`, the way the
//! app's own `/oai` serves the store.

use std::sync::Arc;

use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, Method};
use axum::response::Response;
use jincheng_oai_provider::{Provider, ProviderConfig, Repository};
use tokio::net::TcpListener;
use tokio::sync::watch;

/// Serves `repository` at `http://{address}/oai` with pages of `page_size` records until
/// `stop` turns true; returns the address.
pub async fn start<R>(
    repository: R,
    page_size: usize,
    stop: watch::Receiver<bool>,
) -> anyhow::Result<std::net::SocketAddr>
where
    R: Repository + Send + Sync + 'static,
    R::Error: Send,
{
    let provider = Arc::new(Provider::new(
        repository,
        ProviderConfig {
            page_size,
            ..ProviderConfig::default()
        },
    ));
    let router = axum::Router::new()
        .route("/oai", axum::routing::get(serve_oai::<R>).post(serve_oai::<R>))
        .with_state(provider);
    let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
    let addr = listener.local_addr()?;
    let mut stop = stop;
    tokio::spawn(async move {
        let served = axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = stop.wait_for(|stopped| *stopped).await;
            })
            .await;
        if let Err(err) = served {
            tracing::error!("the benchmark's OAI-PMH provider stopped: {err}");
        }
    });
    Ok(addr)
}

async fn serve_oai<R>(
    State(provider): State<Arc<Provider<R>>>,
    OriginalUri(uri): OriginalUri,
    method: Method,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response
where
    R: Repository + Send + Sync + 'static,
    R::Error: Send,
{
    let arguments = jincheng_oai_provider::request_arguments(&method, &uri, &body);
    let base_url = jincheng_oai_provider::base_url(&headers, &uri);
    // Writing a page of XML is CPU work: off the runtime's workers, like the app's own `/oai`.
    let answered = tokio::task::spawn_blocking(move || {
        provider.respond(&base_url, &arguments, time::OffsetDateTime::now_utc())
    })
    .await;
    match answered {
        Ok(Ok(xml)) => jincheng_oai_provider::xml_response(xml),
        _ => jincheng_oai_provider::repository_failure(),
    }
}
