//! `GET /api/v1/search`: full-text search with filters, facets, highlights and paging.
//!
//! Parameters: `q`, `institution`, `institution_type`, `resource_type`, `region`, `language`,
//! `period` (a broad dynasty or period: `唐`, `清`, `民国`, `现代`, …) and `accessible_format`
//! (`braille`, `large_print`, `audio`, `sign_language`) (each may repeat: values of one kind
//! are OR, kinds are AND), `year_from`, `year_to`, `sort` (`relevance`, the default;
//! `date_desc`, newest first; `date_asc`, oldest first; undated records come last), `page`
//! (from 1), `page_size` (0–100; `0` answers only the total and the facets, with no hits),
//! `collapse` (default `true`: one hit per work, listing every copy under `holdings`;
//! `false` lists every record) and `explain` (default `false`: `true` adds each hit's score
//! `explanation`); also `level`, `branch`, `brand`, `audience` (repeatable) and
//! `special_collection`. An empty `q` browses with the filters. Every filter has a facet of
//! the same name in the response (and `year`), counted disjunctively: a facet's counts
//! ignore its own filter.
//! Parameters this version does not know are ignored, so clients may add their own (e.g.
//! tracking tags). The parameters are read, and the search run, by the search service
//! (`services::search`), which the results page uses too; [`SearchQuery`] describes them
//! for the OpenAPI document, and a test checks that the service understands each one.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{RawQuery, State};
use schemas::{InstitutionType, ResourceType};
use serde::{Deserialize, Serialize};
use services::search::{Found, SearchParams};

use crate::error::ErrorCode;

use super::ApiError;
use super::endpoint::{Cache, Endpoint};
use crate::extract::Flag;
use crate::state::AppState;

/// The route.
pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::get("/api/v1/search", search)
            .summary("Search records")
            .description(
                "Filters of one kind are OR, kinds are AND. Every filter has a facet of the same \
                 name in the response (and `year`), counted disjunctively: a facet's counts \
                 ignore its own filter. `page_size=0` answers only `total` and `facets`.",
            )
            .query::<SearchQuery>()
            .json::<SearchResponse>(200, "Hits, facets and highlights")
            .errors(&[ErrorCode::QueryTooLong, ErrorCode::PageOutOfRange])
            .cache(Cache::IndexState),
    ]
}

/// The search parameters, as documented. They are read by
/// [`services::search::SearchParams::parse`] (shared with the results page), not through
/// this type; `tests::every_documented_parameter_is_understood` keeps the two in step.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[allow(dead_code)]
pub struct SearchQuery {
    /// Query: words (all must match), "phrases", -exclusions, `title:`/`creator:`/
    /// `subject:`/`isbn:` prefixes. Empty browses with the filters.
    #[schemars(length(max = services::search::MAX_QUERY_CHARS))]
    q: Option<String>,
    /// Institution ids (OR).
    #[serde(default)]
    institution: Vec<String>,
    /// Institution types (OR).
    #[serde(default)]
    institution_type: Vec<InstitutionType>,
    /// Resource types (OR).
    #[serde(default)]
    resource_type: Vec<ResourceType>,
    /// Districts of Lanzhou (OR); a copy at a known branch counts under the branch's district.
    #[serde(default)]
    region: Vec<schemas::District>,
    /// Language codes (OR).
    #[serde(default)]
    language: Vec<String>,
    /// Broad dynasties or periods (OR), from the record's years, e.g. 唐, 宋, 明, 清, 民国,
    /// 现代; a record spanning several has each.
    #[serde(default)]
    period: Vec<Period>,
    /// Accessible formats (OR), from the curators' flags.
    #[serde(default)]
    accessible_format: Vec<schemas::AccessibleFormat>,
    /// Administrative levels of the institution (OR).
    #[serde(default)]
    level: Vec<schemas::Level>,
    /// Branches holding a copy (OR).
    #[serde(default)]
    branch: Vec<String>,
    /// Curators' brands (reading programmes, named collections) (OR).
    #[serde(default)]
    brand: Vec<String>,
    /// Intended audiences (OR).
    #[serde(default)]
    audience: Vec<schemas::Audience>,
    /// `true`: only the curators' special collections.
    special_collection: Option<Flag>,
    /// Records covering this year or later (negative years are BCE).
    #[schemars(range(min = -10_000, max = 2_100))]
    year_from: Option<i32>,
    /// Records covering this year or earlier.
    #[schemars(range(min = -10_000, max = 2_100))]
    year_to: Option<i32>,
    /// Order of hits: best match, newest first or oldest first (by first year; undated
    /// records last).
    #[serde(default)]
    sort: Sort,
    /// Page, from 1; `page × page_size` ≤ 10000.
    #[serde(default = "first_page")]
    #[schemars(range(min = 1, max = services::search::MAX_RESULT_WINDOW))]
    page: usize,
    /// Hits per page; `0` answers only the total and the facets.
    #[serde(default = "default_page_size")]
    #[schemars(range(min = 0, max = services::search::MAX_PAGE_SIZE))]
    page_size: usize,
    /// `true`: one hit per work, every copy under `holdings` (records sharing an ISBN or
    /// ISSN, or — published types only, across different sources — the same normalised
    /// title, creators, publisher and year; museum objects, artworks, manuscripts, rubbings,
    /// photographs and events never collapse); `total` and facet counts then count works.
    /// `false`: every record.
    #[serde(default = "yes")]
    collapse: Flag,
    /// `true` adds each hit's score `explanation`.
    #[serde(default)]
    explain: Flag,
}

fn first_page() -> usize {
    1
}

fn default_page_size() -> usize {
    20
}

fn yes() -> Flag {
    Flag(true)
}

/// A broad period (the values [`schemas::broad_periods`] gives).
#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct Period(String);

impl schemars::JsonSchema for Period {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Period".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let values: Vec<&str> = schemas::broad_periods().collect();
        schemars::json_schema!({
            "type": "string",
            "description": "A broad dynasty or period",
            "enum": values,
        })
    }
}

/// The order of hits.
#[derive(Debug, Default, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
enum Sort {
    /// Best match first.
    #[default]
    Relevance,
    /// Newest first.
    DateDesc,
    /// Oldest first.
    DateAsc,
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
    // Run on the runtime's worker, not the blocking pool: a search is CPU-bound, bounded by
    // the query limits and mostly under a millisecond, and the hop to a pool thread and back
    // (two thread wake-ups) cost more than many searches themselves; the runtime has a
    // worker per core, so searches never oversubscribe the CPU. (Its one store read, the
    // page's thumbnails, waits at most for another bounded read of the shared reader.)
    let found = state.search.search(&request);
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A value of a documented parameter that is not its default.
    fn sample(schema: &serde_json::Value, generator: &schemars::SchemaGenerator) -> String {
        let schema = match schema.get("items") {
            Some(items) => items,
            None => schema,
        };
        let schema = match schema.get("$ref").and_then(|r| r.as_str()) {
            Some(reference) => {
                let name = reference.rsplit('/').next().unwrap_or_default();
                serde_json::to_value(&generator.definitions()[name]).unwrap()
            }
            None => schema.clone(),
        };
        if let Some(values) = schema.get("enum").or_else(|| schema.get("oneOf")) {
            let last = values.as_array().unwrap().last().unwrap();
            let last = last.get("const").unwrap_or(last);
            return last.as_str().unwrap().to_string();
        }
        let types = schema["type"].to_string();
        if types.contains("boolean") {
            let default = schema.get("default").and_then(|d| d.as_bool()).unwrap_or(false);
            return (!default).to_string();
        }
        if types.contains("integer") {
            let min = schema.get("minimum").and_then(|m| m.as_i64()).unwrap_or(0);
            let default = schema.get("default").and_then(|d| d.as_i64());
            return if default == Some(min) { min + 1 } else { min }.to_string();
        }
        "x".into()
    }

    #[test]
    fn every_documented_parameter_is_understood() {
        let mut generator = schemars::generate::SchemaSettings::draft2020_12().into_generator();
        let schema =
            serde_json::to_value(<SearchQuery as schemars::JsonSchema>::json_schema(&mut generator)).unwrap();
        let properties = schema["properties"].as_object().unwrap();
        assert!(properties.len() >= 20, "{properties:?}");
        let plain = format!("{:?}", SearchParams::parse(None).unwrap());
        for (name, property) in properties {
            let value = sample(property, &generator);
            let query: String = form_urlencoded::Serializer::new(String::new())
                .append_pair(name, &value)
                .finish();
            let parsed = SearchParams::parse(Some(&query))
                .unwrap_or_else(|e| panic!("{query}: a documented value is refused: {e}"));
            assert_ne!(
                format!("{parsed:?}"),
                plain,
                "{query} changes nothing: not a parameter?"
            );
        }
        for name in [
            "level",
            "branch",
            "brand",
            "audience",
            "special_collection",
            "collapse",
            "explain",
        ] {
            assert!(properties.contains_key(name), "{name} is documented");
        }
    }
}
