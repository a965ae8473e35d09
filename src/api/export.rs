//! `GET /api/v1/export`: every record of some institutions as NDJSON, for partners.
//!
//! Parameters: `institution` (repeatable; all when absent), `resource_type` (repeatable),
//! `since` (UTC `YYYY-MM-DDThh:mm:ssZ`: only what changed at or after it, deletions included,
//! so a partner can keep a copy in step). Each line is
//! `{"id", "updated_at", "deleted", "record"}`; the stream is produced in batches from the
//! store, so memory does not grow with the collection.

use axum::Router;
use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use schemas::{Record, ResourceType};
use serde_json::json;

use super::ApiError;
use crate::state::AppState;

/// Rows read from the store per batch.
const BATCH: usize = 1_000;

pub fn router() -> Router<AppState> {
    Router::new().route("/export", get(export))
}

struct ExportParams {
    institutions: Vec<String>,
    resource_types: Vec<ResourceType>,
    since: Option<String>,
}

fn parse(raw: Option<&str>) -> Result<ExportParams, ApiError> {
    let mut params = ExportParams {
        institutions: Vec::new(),
        resource_types: Vec::new(),
        since: None,
    };
    for (key, value) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        match key.as_ref() {
            "institution" => params.institutions.push(value.into_owned()),
            "resource_type" => {
                params
                    .resource_types
                    .push(value.parse().map_err(|e: schemas::UnknownTerm| {
                        ApiError::invalid_parameter(format!("resource_type: {e}"))
                    })?)
            }
            "since" => {
                let format = time::format_description::well_known::Rfc3339;
                let at = time::OffsetDateTime::parse(&value, &format).map_err(|_| {
                    ApiError::invalid_parameter("since must be a UTC time like 2026-01-31T00:00:00Z")
                })?;
                let utc = at.to_offset(time::UtcOffset::UTC);
                let text = utc
                    .format(&time::macros::format_description!(
                        "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
                    ))
                    .map_err(ApiError::internal)?;
                params.since = Some(text);
            }
            _ => {}
        }
    }
    Ok(params)
}

async fn export(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Result<Response, ApiError> {
    let params = parse(raw.as_deref())?;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<String, std::io::Error>>(4);
    let store = state.store.clone();
    tokio::task::spawn_blocking(move || {
        let mut after = 0;
        loop {
            let rows = match store.export_batch(after, &params.institutions, params.since.as_deref(), BATCH) {
                Ok(rows) => rows,
                Err(err) => {
                    tracing::error!("export failed: {err}");
                    let _ = tx.blocking_send(Err(std::io::Error::other("export failed")));
                    return;
                }
            };
            let Some(last) = rows.last() else { return };
            after = last.seq;
            let mut chunk = String::new();
            for row in rows {
                let record: Option<Record> = row
                    .record_json
                    .as_deref()
                    .and_then(|j| serde_json::from_str(j).ok());
                if let Some(record) = &record
                    && !params.resource_types.is_empty()
                    && !params.resource_types.contains(&record.resource_type)
                {
                    continue;
                }
                let line = json!({
                    "id": row.id,
                    "updated_at": row.updated_at,
                    "deleted": record.is_none(),
                    "record": record,
                });
                chunk.push_str(&line.to_string());
                chunk.push('\n');
            }
            // The client went away: stop reading the store.
            if tx.blocking_send(Ok(chunk)).is_err() {
                return;
            }
        }
    });
    // A receiver keeps answering `None` once its senders are gone, so this stream may be
    // polled again after it ended (compression and hyper do): `stream::unfold` would panic.
    let stream = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx));
    Ok((
        [(header::CONTENT_TYPE, "application/x-ndjson; charset=utf-8")],
        Body::from_stream(stream),
    )
        .into_response())
}
