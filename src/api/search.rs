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
//! tracking tags).

use std::collections::BTreeMap;
use std::time::Instant;

use axum::extract::{RawQuery, State};
use axum::routing::get;
use axum::{Json, Router};
use indexer::{Filters, SearchRequest, SortOrder};
use schemas::{AccessibleFormat, District, InstitutionType, ResourceType};
use serde::Serialize;

use super::ApiError;
use crate::server::AppState;

/// Longest accepted query, in characters.
pub const MAX_QUERY_CHARS: usize = 256;
/// Largest page.
pub const MAX_PAGE_SIZE: usize = 100;
/// Deepest result reachable by paging (`page × page_size`); deep paging costs every engine
/// dearly and no person reads that far.
pub const MAX_RESULT_WINDOW: usize = 10_000;
/// Most values one filter may list.
const MAX_FILTER_VALUES: usize = 50;

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
    thumbnail: Option<crate::remote_images::LocalImage>,
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

/// A search request parsed from a query string, with the page it asks for. The citizen
/// pages (`crate::web`) parse their URLs with the same rules.
#[derive(Debug)]
pub(crate) struct Params {
    pub(crate) request: SearchRequest,
    pub(crate) page: usize,
    pub(crate) page_size: usize,
}

/// Parses the search parameters listed in the module documentation.
pub(crate) fn parse_params(raw: Option<&str>) -> Result<Params, ApiError> {
    let mut query = String::new();
    let mut filters = Filters::default();
    let (mut page, mut page_size) = (1usize, 20usize);
    let (mut collapse, mut explain) = (true, false);
    let mut sort = SortOrder::Relevance;
    for (key, value) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        let value = value.trim();
        match key.as_ref() {
            "q" => {
                if value.chars().count() > MAX_QUERY_CHARS {
                    return Err(ApiError::query_too_long(format!(
                        "q has {} characters; at most {MAX_QUERY_CHARS}",
                        value.chars().count()
                    )));
                }
                query = value.to_string();
            }
            "institution" => push(&mut filters.institutions, "institution", value.to_string())?,
            "institution_type" => push(
                &mut filters.institution_types,
                "institution_type",
                parse_term(&key, value)?,
            )?,
            "resource_type" => push(
                &mut filters.resource_types,
                "resource_type",
                parse_term(&key, value)?,
            )?,
            "region" => push(
                &mut filters.regions,
                "region",
                parse_term::<District>(&key, value)?,
            )?,
            "language" => push(&mut filters.languages, "language", value.to_ascii_lowercase())?,
            "period" => push(&mut filters.periods, "period", value.to_string())?,
            "accessible_format" => push(
                &mut filters.accessible_formats,
                "accessible_format",
                parse_term::<AccessibleFormat>(&key, value)?,
            )?,
            "sort" => {
                sort = value.parse().map_err(|_| {
                    ApiError::invalid_parameter(format!(
                        "sort must be relevance, date_desc or date_asc, not {value:?}"
                    ))
                })?;
            }
            "year_from" => filters.year_from = Some(parse_number(&key, value, -10_000, 2_100)?),
            "year_to" => filters.year_to = Some(parse_number(&key, value, -10_000, 2_100)?),
            "page" => page = parse_number(&key, value, 1, MAX_RESULT_WINDOW as i64)?,
            "page_size" => page_size = parse_number(&key, value, 1, MAX_PAGE_SIZE as i64)?,
            "collapse" => collapse = parse_bool(&key, value)?,
            "explain" => explain = parse_bool(&key, value)?,
            _ => {}
        }
    }
    if let (Some(from), Some(to)) = (filters.year_from, filters.year_to)
        && from > to
    {
        return Err(ApiError::invalid_parameter(format!(
            "year_from {from} is after year_to {to}"
        )));
    }
    if page * page_size > MAX_RESULT_WINDOW {
        return Err(ApiError::page_out_of_range(format!(
            "page {page} × page_size {page_size} goes past result {MAX_RESULT_WINDOW}; narrow the search instead"
        )));
    }
    let request = SearchRequest {
        query,
        filters,
        offset: (page - 1) * page_size,
        limit: page_size,
        explain,
        collapse,
        sort,
    };
    Ok(Params {
        request,
        page,
        page_size,
    })
}

fn push<T>(values: &mut Vec<T>, name: &str, value: T) -> Result<(), ApiError> {
    if values.len() >= MAX_FILTER_VALUES {
        return Err(ApiError::invalid_parameter(format!(
            "{name} may be given at most {MAX_FILTER_VALUES} times"
        )));
    }
    values.push(value);
    Ok(())
}

fn parse_term<T>(key: &str, value: &str) -> Result<T, ApiError>
where
    T: std::str::FromStr<Err = schemas::UnknownTerm>,
{
    value
        .parse()
        .map_err(|e: schemas::UnknownTerm| ApiError::invalid_parameter(format!("{key}: {e}")))
}

fn parse_number<T>(key: &str, value: &str, min: i64, max: i64) -> Result<T, ApiError>
where
    T: TryFrom<i64>,
{
    value
        .parse::<i64>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .and_then(|n| T::try_from(n).ok())
        .ok_or_else(|| {
            ApiError::invalid_parameter(format!("{key} must be a whole number from {min} to {max}"))
        })
}

fn parse_bool(key: &str, value: &str) -> Result<bool, ApiError> {
    match value {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(ApiError::invalid_parameter(format!(
            "{key} must be true or false"
        ))),
    }
}

async fn search(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    peer: Option<axum::Extension<axum::extract::ConnectInfo<std::net::SocketAddr>>>,
    RawQuery(raw): RawQuery,
) -> Result<Json<SearchResponse>, ApiError> {
    let Params {
        request,
        page,
        page_size,
    } = parse_params(raw.as_deref())?;
    // Kept for the analytics event, which is queued after the search (never awaited).
    let (logged_query, logged_filters) = (request.query.clone(), request.filters.clone());
    let started = Instant::now();
    let index = state.indexing.index().clone();
    let results = tokio::task::spawn_blocking(move || index.search(&request))
        .await?
        .map_err(|err| match err {
            indexer::Error::QueryTooLong { .. } => ApiError::query_too_long(err.to_string()),
            other => ApiError::internal(other),
        })?;
    let took_ms = started.elapsed().as_millis() as u64;
    let mut thumbnails = {
        let store = state.store.clone();
        let ids: Vec<String> = results.hits.iter().map(|hit| hit.id.clone()).collect();
        // A missing picture must not fail the search.
        match tokio::task::spawn_blocking(move || store.record_thumbnails(ids.iter().map(String::as_str)))
            .await
        {
            Ok(Ok(found)) => found,
            Ok(Err(err)) => {
                tracing::warn!("search thumbnails: {err}");
                Default::default()
            }
            Err(err) => {
                tracing::warn!("search thumbnails: {err}");
                Default::default()
            }
        }
    };
    let client = peer.map(|axum::Extension(connect)| state.access.client_ip(connect.0.ip(), &headers));
    state.analytics.record_search(
        crate::analytics::SearchLog {
            query: &logged_query,
            filters: &logged_filters,
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
            thumbnail: thumbnails
                .remove(&hit.id)
                .map(|image| crate::remote_images::LocalImage::of_hash(&image.hash)),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn error_code(raw: &str) -> &'static str {
        parse_params(Some(raw)).unwrap_err().code()
    }

    #[test]
    fn repeated_filters_and_paging() {
        let params =
            parse_params(Some("q=%E9%BB%84%E6%B2%B3&institution=a&institution=b&region=%E5%9F%8E%E5%85%B3%E5%8C%BA&page=3&page_size=10&utm=x"))
                .unwrap();
        assert_eq!(params.request.query, "黄河");
        assert_eq!(params.request.filters.institutions, ["a", "b"]);
        assert_eq!(params.request.filters.regions, [District::Chengguan]);
        assert_eq!((params.request.offset, params.request.limit), (20, 10));
        assert!(params.request.collapse && !params.request.explain);
        let params = parse_params(Some("q=x&collapse=false&explain=true")).unwrap();
        assert!(!params.request.collapse && params.request.explain);
        let params = parse_params(Some(
            "period=%E6%B8%85&period=%E6%B0%91%E5%9B%BD&accessible_format=braille&accessible_format=%E5%A4%A7%E5%AD%97%E7%89%88&sort=date_asc",
        ))
        .unwrap();
        assert_eq!(params.request.filters.periods, ["清", "民国"]);
        assert_eq!(
            params.request.filters.accessible_formats,
            [AccessibleFormat::Braille, AccessibleFormat::LargePrint]
        );
        assert_eq!(params.request.sort, SortOrder::DateAsc);
        assert_eq!(parse_params(None).unwrap().request.sort, SortOrder::Relevance);
    }

    #[test]
    fn bad_parameters_are_400s_with_codes() {
        assert_eq!(error_code("page=0"), "invalid_parameter");
        assert_eq!(error_code("page=abc"), "invalid_parameter");
        assert_eq!(error_code("page_size=1000"), "invalid_parameter");
        assert_eq!(error_code("page=200&page_size=100"), "page_out_of_range");
        assert_eq!(error_code("institution_type=zoo"), "invalid_parameter");
        assert_eq!(error_code("year_from=2000&year_to=1990"), "invalid_parameter");
        assert_eq!(error_code("year_from=99999999999999999999"), "invalid_parameter");
        assert_eq!(error_code("collapse=maybe"), "invalid_parameter");
        assert_eq!(error_code("explain=yes"), "invalid_parameter");
        assert_eq!(error_code("sort=newest"), "invalid_parameter");
        assert_eq!(error_code("sort="), "invalid_parameter");
        assert_eq!(error_code("accessible_format=smell"), "invalid_parameter");
        assert_eq!(
            error_code(&format!("q={}", "字".repeat(MAX_QUERY_CHARS + 1))),
            "query_too_long"
        );
        assert_eq!(
            error_code(&"institution=a&".repeat(MAX_FILTER_VALUES + 1)),
            "invalid_parameter"
        );
    }
}
