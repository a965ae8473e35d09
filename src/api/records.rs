//! `GET /api/v1/records/{id}`: the full record, as stored.

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use schemas::Record;

use super::ApiError;
use crate::server::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/records/{id}", get(record))
}

async fn record(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<Record>, ApiError> {
    let store = state.store.clone();
    let lookup = id.clone();
    match tokio::task::spawn_blocking(move || store.record(&lookup)).await?? {
        Some(record) => Ok(Json(record)),
        None => Err(ApiError::record_not_found(&id)),
    }
}
