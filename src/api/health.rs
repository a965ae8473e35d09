//! `GET /healthz` and `GET /readyz`: liveness, and readiness by how far this node's index is
//! behind the store's change log.
//!
//! `/healthz` answers `200` whenever the process serves (a liveness probe must not restart a
//! node that is only catching up). `/readyz` answers the same report with `503` while the
//! index is more than [`READY_MAX_LAG`] changes behind, e.g. while a node rebuilds its index
//! after a start, so a load balancer sends searches elsewhere until it has caught up.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;

use super::ApiError;
use super::endpoint::{Content, Endpoint, Success, schema_of};
use crate::state::AppState;

/// Most changes the index may be behind the store for the node to be ready. A harvest keeps
/// the lag near `services::harvest::MAX_INDEX_LAG` (500) plus a page, so a node serving
/// during a harvest stays ready; a rebuild of the whole index is far above it.
pub const READY_MAX_LAG: u64 = 5_000;

/// The routes.
pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::get("/healthz", healthz)
            .summary("Liveness and indexing progress")
            .json::<Health>(200, "Health"),
        Endpoint::get("/readyz", readyz)
            .summary("Readiness: whether the index has caught up with the store")
            .description("`200` when the index is at most 5,000 changes behind the store, else `503`.")
            .json::<Health>(200, "Ready")
            .respond(Success {
                status: 503,
                description: "Not ready: the index is catching up",
                content: vec![Content::Json(schema_of::<Health>)],
                headers: Vec::new(),
            }),
    ]
}

/// The health report.
#[derive(Serialize, schemars::JsonSchema)]
pub(super) struct Health {
    /// `ok` when the index has every change of the store, else `indexing`.
    status: String,
    /// Whether the index is at most 5,000 changes behind the store (what `/readyz` answers).
    ready: bool,
    /// Highest change number in the store.
    store_seq: u64,
    /// Highest change number committed to the index.
    indexed_seq: u64,
    /// Changes of the store's change log not yet in this node's index.
    lag: u64,
    /// Live records in the store.
    records: u64,
    /// Documents in the index.
    index_docs: u64,
}

async fn health(state: &AppState) -> Result<Health, ApiError> {
    let store = state.store.clone();
    let (store_seq, records) =
        tokio::task::spawn_blocking(move || Ok::<_, ApiError>((store.max_seq()?, store.live_records()?)))
            .await??;
    let indexed_seq = state.indexing.watermark();
    let lag = store_seq.saturating_sub(indexed_seq);
    Ok(Health {
        status: if lag == 0 { "ok" } else { "indexing" }.to_string(),
        ready: lag <= READY_MAX_LAG,
        store_seq,
        indexed_seq,
        lag,
        records,
        index_docs: state.indexing.index().num_docs(),
    })
}

async fn healthz(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    Ok(Json(health(&state).await?))
}

async fn readyz(State(state): State<AppState>) -> Result<(StatusCode, Json<Health>), ApiError> {
    let health = health(&state).await?;
    let status = if health.ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    Ok((status, Json(health)))
}
