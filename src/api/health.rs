//! `GET /healthz`: liveness plus how far the index is behind the store.

use axum::Json;
use axum::extract::State;
use serde::Serialize;

use super::ApiError;
use super::endpoint::Endpoint;
use crate::state::AppState;

/// The route.
pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::get("/healthz", healthz)
            .summary("Liveness and indexing progress")
            .json::<Health>(200, "Health"),
    ]
}

/// The health report.
#[derive(Serialize, schemars::JsonSchema)]
pub(super) struct Health {
    status: String,
    /// Highest change number in the store.
    store_seq: u64,
    /// Highest change number committed to the index.
    indexed_seq: u64,
    /// Live records in the store.
    records: u64,
    /// Documents in the index.
    index_docs: u64,
}

async fn healthz(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    let store = state.store.clone();
    let (store_seq, records) =
        tokio::task::spawn_blocking(move || Ok::<_, ApiError>((store.max_seq()?, store.live_records()?)))
            .await??;
    let indexed_seq = state.indexing.watermark();
    Ok(Json(Health {
        status: if indexed_seq >= store_seq {
            "ok"
        } else {
            "indexing"
        }
        .to_string(),
        store_seq,
        indexed_seq,
        records,
        index_docs: state.indexing.index().num_docs(),
    }))
}
