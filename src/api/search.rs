//! `GET /api/v1/search`: full-text search with filters, facets, highlights and paging.
//!
//! Parameters: `q`, `institution`, `institution_type`, `resource_type`, `region`, `language`,
//! `period` (a broad dynasty or period: `唐`, `清`, `民国`, `现代`, …) and `accessible_format`
//! (`braille`, `large_print`, `audio`, `sign_language`) (each may repeat: values of one kind
//! are OR, kinds are AND), `year_from`, `year_to`, `sort` (`relevance`, the default;
//! `date_desc`, newest first; `date_asc`, oldest first; undated records come last), `page`
//! (from 1), `page_size` (1–100), `collapse` (default `true`: one hit per work, listing every
//! copy under `holdings`; `false` lists every record) and `explain` (default `false`: `true`
//! adds each hit's score `explanation`). An empty `q` browses with the filters. Every filter
//! has a facet of the same name in the response (and `year`), counted disjunctively: a
//! facet's counts ignore its own filter.
//! Parameters this version does not know are ignored, so clients may add their own (e.g.
//! tracking tags). The parameters are read, and the search run, by the search service
//! (`services::search`), which the results page uses too.

use std::collections::BTreeMap;

use axum::extract::{RawQuery, State};
use axum::routing::get;
use axum::{Json, Router};
use schemas::{InstitutionType, ResourceType};
use serde::Serialize;
use services::search::{Found, SearchParams};

use super::ApiError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/search", get(search))
}

/// The search response, version 1. Fields are only ever added, never renamed or removed.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct SearchResponse {
    /// Number of matching records (works, when collapsed).
    pub total: usize,
    /// Time spent searching, in milliseconds.
    pub took_ms: u64,
    /// The page asked for.
    pub page: usize,
    /// The page size asked for.
    pub page_size: usize,
    /// This page's hits.
    pub hits: Vec<HitResponse>,
    /// Counts per facet value.
    pub facets: BTreeMap<&'static str, Vec<FacetValueResponse>>,
}

/// One hit.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct HitResponse {
    id: String,
    title: String,
    creators: Vec<String>,
    institution: InstitutionRef,
    resource_type: ResourceType,
    year: Option<i32>,
    highlights: BTreeMap<String, String>,
    /// Every copy of the work (collapsed) or of this record.
    holdings: Vec<HoldingResponse>,
    /// The local copy of the record's first fetched image link, to show without hot-linking
    /// the institution's server; absent until the background fetcher has it.
    #[serde(skip_serializing_if = "Option::is_none")]
    thumbnail: Option<services::remote_images::LocalImage>,
    /// tantivy's explanation of the score, as JSON text; only with `explain=true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    explanation: Option<String>,
}

/// One copy of a hit's work.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct HoldingResponse {
    record_id: String,
    institution: String,
    institution_name: String,
    branch: Option<String>,
    call_number: Option<String>,
}

/// The institution of a hit.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct InstitutionRef {
    id: String,
    name: String,
    #[serde(rename = "type")]
    institution_type: InstitutionType,
}

/// One facet value and how many matching records have it.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct FacetValueResponse {
    value: String,
    count: u64,
}

async fn search(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    peer: Option<axum::Extension<axum::extract::ConnectInfo<std::net::SocketAddr>>>,
    RawQuery(raw): RawQuery,
) -> Result<Json<SearchResponse>, ApiError> {
    let SearchParams {
        request,
        page,
        page_size,
    } = SearchParams::parse(raw.as_deref())?;
    let search = state.search.clone();
    let (request, found) = tokio::task::spawn_blocking(move || {
        let found = search.search(&request);
        (request, found)
    })
    .await?;
    let Found {
        results,
        took_ms,
        mut thumbnails,
    } = found?;
    let client = peer.map(|axum::Extension(connect)| state.access.client_ip(connect.0.ip(), &headers));
    // Queued, never awaited: the search is not slowed by its statistics.
    state.analytics.record_search(
        services::analytics::SearchLog {
            query: &request.query,
            filters: &request.filters,
            results: results.total as u64,
            took_ms,
            page,
        },
        &headers,
        client,
    );
    let hits = results
        .hits
        .into_iter()
        .map(|hit| HitResponse {
            thumbnail: thumbnails.remove(&hit.id).map(|thumbnail| thumbnail.image),
            id: hit.id,
            title: hit.title,
            creators: hit.creators,
            institution: InstitutionRef {
                id: hit.institution,
                name: hit.institution_name,
                institution_type: hit.institution_type,
            },
            resource_type: hit.resource_type,
            year: hit.year,
            highlights: hit.highlights.into_iter().collect(),
            holdings: hit
                .holdings
                .into_iter()
                .map(|h| HoldingResponse {
                    record_id: h.record_id,
                    institution: h.institution,
                    institution_name: h.institution_name,
                    branch: h.branch,
                    call_number: h.call_number,
                })
                .collect(),
            explanation: hit.explanation,
        })
        .collect();
    let facets = results
        .facets
        .into_iter()
        .map(|facet| {
            let values = facet
                .values
                .into_iter()
                .map(|v| FacetValueResponse {
                    value: v.value,
                    count: v.count,
                })
                .collect();
            (facet.name, values)
        })
        .collect();
    Ok(Json(SearchResponse {
        total: results.total,
        took_ms,
        page,
        page_size,
        hits,
        facets,
    }))
}
