//! `GET /api/v1/records/{id}`: the full record, as stored — as JSON, or as schema.org JSON-LD
//! when the client asks for `Accept: application/ld+json`.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use super::ApiError;
use crate::jsonld::record_to_jsonld;
use crate::server::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/records/{id}", get(record))
}

fn wants_jsonld(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.split(',').any(|t| t.trim().starts_with("application/ld+json")))
}

async fn record(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let store = state.store.clone();
    let lookup = id.clone();
    let found = tokio::task::spawn_blocking(move || {
        let record = store.record(&lookup)?;
        let institution = match &record {
            Some(r) => store.institutions()?.into_iter().find(|i| i.id == r.institution),
            None => None,
        };
        Ok::<_, ApiError>(record.map(|r| (r, institution)))
    })
    .await??;
    let Some((record, institution)) = found else {
        return Err(ApiError::record_not_found(&id));
    };
    if wants_jsonld(&headers) {
        let body = record_to_jsonld(&record, institution.as_ref());
        return Ok(([(header::CONTENT_TYPE, "application/ld+json")], Json(body)).into_response());
    }
    Ok(Json(record).into_response())
}
