//! `GET /api/v1/records/{id}`: the full record, as stored — as JSON, or as schema.org JSON-LD
//! when the client asks for `Accept: application/ld+json`.
//!
//! In the JSON, each image whose local copy exists (a curated image, or a harvested link
//! fetched by [`services::remote_images`]) also carries `thumb_url` and `display_url`, served
//! from `/images/…`; its `url` stays the original link.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};

use super::ApiError;
use super::endpoint::{Cache, Content, Endpoint, Success};
use crate::error::ErrorCode;
use crate::jsonld::record_to_jsonld;
use crate::state::AppState;
use services::remote_images::LocalImage;

/// The route.
pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::get("/api/v1/records/{id}", record)
            .summary("One record, as stored")
            .description(
                "JSON, or schema.org JSON-LD with `Accept: application/ld+json`. An image with a \
                 local copy also has `thumb_url` and `display_url`; its `url` stays the original link.",
            )
            .header("Accept", "`application/ld+json` for schema.org JSON-LD")
            .respond(Success {
                status: 200,
                description: "The record",
                content: vec![
                    Content::Json(super::endpoint::schema_of::<schemas::Record>),
                    Content::Other("application/ld+json", || serde_json::json!({"type": "object"})),
                ],
                headers: Vec::new(),
            })
            .errors(&[ErrorCode::RecordNotFound])
            .cache(Cache::Body),
    ]
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
        let (institution, fetched) = match &record {
            Some(r) => (
                store.institutions()?.into_iter().find(|i| i.id == r.institution),
                store.fetched_remote_images(r.images.iter().map(|i| i.url.as_str()))?,
            ),
            None => (None, Default::default()),
        };
        Ok::<_, ApiError>(record.map(|r| (r, institution, fetched)))
    })
    .await??;
    let Some((record, institution, fetched)) = found else {
        return Err(ApiError::record_not_found(&id));
    };
    if wants_jsonld(&headers) {
        let body = record_to_jsonld(&record, institution.as_ref());
        return Ok(([(header::CONTENT_TYPE, "application/ld+json")], Json(body)).into_response());
    }
    let mut body = serde_json::to_value(&record).map_err(ApiError::internal)?;
    if let Some(images) = body.get_mut("images").and_then(|v| v.as_array_mut()) {
        for (image, link) in images.iter_mut().zip(&record.images) {
            let (Some(object), Some(local)) =
                (image.as_object_mut(), LocalImage::of_link(&link.url, &fetched))
            else {
                continue;
            };
            object.insert("thumb_url".into(), local.thumb_url.into());
            object.insert("display_url".into(), local.display_url.into());
        }
    }
    Ok(Json(body).into_response())
}
