//! `GET /api/v1/export`: every record of some institutions as NDJSON, for partners.
//!
//! Parameters: `institution` (repeatable; all when absent), `resource_type` (repeatable),
//! `since` (UTC `YYYY-MM-DDThh:mm:ssZ`: only what changed at or after it, deletions included,
//! so a partner can keep a copy in step). Each line is
//! `{"id", "updated_at", "deleted", "record"}`; the stream is produced in batches from the
//! store, so memory does not grow with the collection.

use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use schemas::{Record, ResourceType};
use serde::Deserialize;
use serde_json::json;

use super::ApiError;
use super::endpoint::{Content, Endpoint, Success};
use crate::extract::{ApiQuery, Term};
use crate::state::AppState;

/// Rows read from the store per batch.
const BATCH: usize = 1_000;

/// The route. Streamed, so it is not tagged for caching.
pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::get("/api/v1/export", export)
            .summary("Every record of some institutions as NDJSON, streamed; `since` gives increments with deletions")
            .query::<ExportQuery>()
            .respond(Success {
                status: 200,
                description: "One JSON object a line: `{id, updated_at, deleted, record}`",
                content: vec![Content::Other("application/x-ndjson", || {
                    json!({"type": "string"})
                })],
                headers: Vec::new(),
            }),
    ]
}

/// The export parameters.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct ExportQuery {
    /// Institution ids (all when absent).
    #[serde(default)]
    institution: Vec<String>,
    /// Resource types (all when absent).
    #[serde(default)]
    resource_type: Vec<Term<ResourceType>>,
    /// UTC time: only changes at or after it, deletions included (e.g. `2026-01-31T00:00:00Z`).
    #[schemars(extend("format" = "date-time"))]
    since: Option<String>,
}

struct ExportParams {
    institutions: Vec<String>,
    resource_types: Vec<ResourceType>,
    since: Option<String>,
}

fn check(query: ExportQuery) -> Result<ExportParams, ApiError> {
    let since = match query.since {
        None => None,
        Some(since) => {
            let format = time::format_description::well_known::Rfc3339;
            let at = time::OffsetDateTime::parse(&since, &format).map_err(|_| {
                ApiError::invalid_parameter("since must be a UTC time like 2026-01-31T00:00:00Z")
            })?;
            let utc = at.to_offset(time::UtcOffset::UTC);
            let text = utc
                .format(&time::macros::format_description!(
                    "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
                ))
                .map_err(ApiError::internal)?;
            Some(text)
        }
    };
    Ok(ExportParams {
        institutions: query.institution,
        resource_types: query.resource_type.into_iter().map(|Term(t)| t).collect(),
        since,
    })
}

async fn export(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ExportQuery>,
) -> Result<Response, ApiError> {
    let params = check(query)?;
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
