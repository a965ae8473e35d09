//! Search: the one path every face (the JSON API, the citizen pages) searches through, so
//! that they show the same hits, holdings, thumbnails and facets and refuse the same
//! requests with the same errors.
//!
//! - [`SearchParams::parse`] reads the search parameters of a query string (the API's and the
//!   results page's URLs are the same): `q`, `institution`, `institution_type`,
//!   `resource_type`, `region`, `language`, `period`, `accessible_format`, `level`, `branch`,
//!   `brand`, `audience` (each may repeat: values of one kind are OR, kinds are AND),
//!   `special_collection` (`true`: only curators' special holdings), `year_from`, `year_to`,
//!   `sort`, `page`, `page_size` (0 to 100; 0 asks only for the total and the facets),
//!   `collapse`, `explain`. Parameters it does not know are ignored.
//! - [`SearchService::search`] runs a request against the index and finds each hit's
//!   thumbnail: the local copy of its first image, whether a curator uploaded it or the
//!   background fetcher copied a harvested link. Hits never hot-link an institution's server.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use indexer::{Filters, Index, SearchRequest, SearchResults, SortOrder};
use schemas::{AccessibleFormat, Audience, District, Level};
use store::Store;

use crate::remote_images::LocalImage;

/// Longest accepted query, in characters.
pub const MAX_QUERY_CHARS: usize = 256;
/// Largest page.
pub const MAX_PAGE_SIZE: usize = 100;
/// Deepest result reachable by paging (`page × page_size`); deep paging costs every engine
/// dearly and no person reads that far.
pub const MAX_RESULT_WINDOW: usize = 10_000;
/// Most values one filter may list.
pub const MAX_FILTER_VALUES: usize = 50;

/// Why a search request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SearchError {
    /// A parameter is malformed or out of range (400 `invalid_parameter`).
    #[error("{0}")]
    InvalidParameter(String),
    /// `q` is longer than [`MAX_QUERY_CHARS`] (400 `query_too_long`).
    #[error("{0}")]
    QueryTooLong(String),
    /// `page × page_size` goes past [`MAX_RESULT_WINDOW`] (400 `page_out_of_range`).
    #[error("{0}")]
    PageOutOfRange(String),
    /// The index or the store failed (500); the message is for the log.
    #[error("search failed: {0}")]
    Internal(String),
}

/// A search request parsed from a query string, with the page it asks for.
#[derive(Debug, Clone)]
pub struct SearchParams {
    /// What to ask the index.
    pub request: SearchRequest,
    /// The page asked for, from 1.
    pub page: usize,
    /// Hits per page.
    pub page_size: usize,
}

impl SearchParams {
    /// Parses the search parameters listed in the module documentation.
    pub fn parse(raw: Option<&str>) -> Result<SearchParams, SearchError> {
        parse_params(raw)
    }
}

fn parse_params(raw: Option<&str>) -> Result<SearchParams, SearchError> {
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
                    return Err(SearchError::QueryTooLong(format!(
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
            "level" => push(&mut filters.levels, "level", parse_term::<Level>(&key, value)?)?,
            "branch" => push(&mut filters.branches, "branch", value.to_string())?,
            "brand" => push(&mut filters.brands, "brand", value.to_string())?,
            "audience" => push(
                &mut filters.audiences,
                "audience",
                parse_term::<Audience>(&key, value)?,
            )?,
            "special_collection" => filters.special_collection = parse_bool(&key, value)?,
            "sort" => {
                sort = value.parse().map_err(|_| {
                    SearchError::InvalidParameter(format!(
                        "sort must be relevance, date_desc or date_asc, not {value:?}"
                    ))
                })?;
            }
            "year_from" => filters.year_from = Some(parse_number(&key, value, -10_000, 2_100)?),
            "year_to" => filters.year_to = Some(parse_number(&key, value, -10_000, 2_100)?),
            "page" => page = parse_number(&key, value, 1, MAX_RESULT_WINDOW as i64)?,
            "page_size" => page_size = parse_number(&key, value, 0, MAX_PAGE_SIZE as i64)?,
            "collapse" => collapse = parse_bool(&key, value)?,
            "explain" => explain = parse_bool(&key, value)?,
            _ => {}
        }
    }
    if let (Some(from), Some(to)) = (filters.year_from, filters.year_to)
        && from > to
    {
        return Err(SearchError::InvalidParameter(format!(
            "year_from {from} is after year_to {to}"
        )));
    }
    if page * page_size > MAX_RESULT_WINDOW {
        return Err(SearchError::PageOutOfRange(format!(
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
    Ok(SearchParams {
        request,
        page,
        page_size,
    })
}

fn push<T>(values: &mut Vec<T>, name: &str, value: T) -> Result<(), SearchError> {
    if values.len() >= MAX_FILTER_VALUES {
        return Err(SearchError::InvalidParameter(format!(
            "{name} may be given at most {MAX_FILTER_VALUES} times"
        )));
    }
    values.push(value);
    Ok(())
}

fn parse_term<T>(key: &str, value: &str) -> Result<T, SearchError>
where
    T: std::str::FromStr<Err = schemas::UnknownTerm>,
{
    value
        .parse()
        .map_err(|e: schemas::UnknownTerm| SearchError::InvalidParameter(format!("{key}: {e}")))
}

fn parse_number<T>(key: &str, value: &str, min: i64, max: i64) -> Result<T, SearchError>
where
    T: TryFrom<i64>,
{
    value
        .parse::<i64>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .and_then(|n| T::try_from(n).ok())
        .ok_or_else(|| {
            SearchError::InvalidParameter(format!("{key} must be a whole number from {min} to {max}"))
        })
}

fn parse_bool(key: &str, value: &str) -> Result<bool, SearchError> {
    match value {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(SearchError::InvalidParameter(format!(
            "{key} must be true or false"
        ))),
    }
}

/// A search done.
#[derive(Debug)]
pub struct Found {
    /// The index's answer.
    pub results: SearchResults,
    /// Time the search took, thumbnails included, in milliseconds.
    pub took_ms: u64,
    /// The thumbnail of each hit that has one, by record id.
    pub thumbnails: HashMap<String, Thumbnail>,
}

/// A hit's picture: the local copy of its first image that has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thumbnail {
    /// The served sizes.
    pub image: LocalImage,
    /// What it shows, for screen readers, when the record says so (a curator's alt text).
    pub alt: Option<String>,
}

/// The search service: the index to ask and the store that knows each hit's pictures.
/// Cheap to clone.
#[derive(Clone)]
pub struct SearchService {
    index: Index,
    store: Arc<Store>,
}

impl SearchService {
    /// Searches `index`, with the hits' pictures from `store`.
    pub fn new(index: Index, store: Arc<Store>) -> SearchService {
        SearchService { index, store }
    }

    /// The index searched.
    pub fn index(&self) -> &Index {
        &self.index
    }

    /// Runs `request` (blocking: call it from a blocking thread). A picture that cannot be
    /// looked up is logged and left out; it never fails the search.
    pub fn search(&self, request: &SearchRequest) -> Result<Found, SearchError> {
        let started = Instant::now();
        let results = self.index.search(request).map_err(|err| match err {
            indexer::Error::QueryTooLong { .. } => SearchError::QueryTooLong(err.to_string()),
            other => SearchError::Internal(other.to_string()),
        })?;
        let ids = results.hits.iter().map(|hit| hit.id.as_str());
        let thumbnails = match self.store.hit_images(ids) {
            Ok(found) => found
                .into_iter()
                .map(|(id, image)| {
                    let thumbnail = Thumbnail {
                        image: LocalImage::of_hash(&image.hash),
                        alt: image.alt,
                    };
                    (id, thumbnail)
                })
                .collect(),
            Err(err) => {
                tracing::warn!("search thumbnails: {err}");
                HashMap::new()
            }
        };
        Ok(Found {
            results,
            took_ms: started.elapsed().as_millis() as u64,
            thumbnails,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_code(raw: &str) -> &'static str {
        match parse_params(Some(raw)).unwrap_err() {
            SearchError::InvalidParameter(_) => "invalid_parameter",
            SearchError::QueryTooLong(_) => "query_too_long",
            SearchError::PageOutOfRange(_) => "page_out_of_range",
            SearchError::Internal(_) => "internal",
        }
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
