//! `GET /api/v1/suggest`: completions of what the user is typing.
//!
//! Parameters: `q`, the prefix typed so far (Chinese, traditional or simplified, pinyin or
//! pinyin initials; at most [`MAX_PREFIX_CHARS`] characters), and `limit` (1–20, default
//! 10). The answer lists titles, creators and subjects starting with the prefix (or whose
//! pinyin does), the values held by most records first:
//! `{"suggestions": [{"text": "靜夜思", "field": "title", "count": 3}]}`.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};

use super::ApiError;
use super::endpoint::{Cache, Endpoint};
use crate::error::ErrorCode;
use crate::extract::{ApiQuery, in_range};
use crate::state::AppState;

/// Longest accepted prefix, in characters.
pub const MAX_PREFIX_CHARS: usize = indexer::MAX_SUGGEST_PREFIX_CHARS;
/// Most suggestions one request may ask for.
pub const MAX_LIMIT: usize = indexer::MAX_SUGGEST_LIMIT;
/// Suggestions when `limit` is not given.
const DEFAULT_LIMIT: usize = 10;

/// The route.
pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::get("/api/v1/suggest", suggest)
            .summary(
                "Completions of a prefix (Chinese, pinyin or initials) from titles, creators and subjects",
            )
            .query::<SuggestQuery>()
            .json::<SuggestResponse>(200, "Completions, best first")
            .errors(&[ErrorCode::QueryTooLong])
            .cache(Cache::IndexState),
    ]
}

/// The suggest response, version 1. Fields are only ever added, never renamed or removed.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct SuggestResponse {
    /// Best first.
    pub suggestions: Vec<SuggestionResponse>,
}

/// One completion.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct SuggestionResponse {
    /// The value as catalogued.
    text: String,
    /// `title`, `creator` or `subject`.
    field: &'static str,
    /// Records with this value.
    count: u64,
}

/// The suggest parameters.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct SuggestQuery {
    /// The prefix typed so far (required, not empty).
    #[schemars(length(min = 1, max = MAX_PREFIX_CHARS))]
    q: Option<String>,
    /// How many completions.
    #[serde(default = "default_limit")]
    #[schemars(range(min = 1, max = MAX_LIMIT))]
    limit: usize,
}

fn default_limit() -> usize {
    DEFAULT_LIMIT
}

#[derive(Debug, PartialEq, Eq)]
struct Params {
    prefix: String,
    limit: usize,
}

/// The explicit checks: the prefix is required and bounded, the limit in range.
fn check(query: SuggestQuery) -> Result<Params, ApiError> {
    let prefix = query.q.unwrap_or_default();
    let chars = prefix.chars().count();
    if chars > MAX_PREFIX_CHARS {
        return Err(ApiError::query_too_long(format!(
            "q has {chars} characters; at most {MAX_PREFIX_CHARS}"
        )));
    }
    if prefix.is_empty() {
        return Err(ApiError::invalid_parameter("q is required and may not be empty"));
    }
    let limit = in_range("limit", query.limit, 1..=MAX_LIMIT)?;
    Ok(Params { prefix, limit })
}

#[cfg(test)]
fn parse_params(raw: Option<&str>) -> Result<Params, ApiError> {
    check(crate::extract::parse_query(raw)?)
}

async fn suggest(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<SuggestQuery>,
) -> Result<Json<SuggestResponse>, ApiError> {
    let Params { prefix, limit } = check(query)?;
    // On the worker, like a search (see `search`): a few term-dictionary lookups.
    let suggestions = state
        .indexing
        .index()
        .suggest(&prefix, limit)
        .map_err(|err| match err {
            indexer::Error::QueryTooLong { .. } => ApiError::query_too_long(err.to_string()),
            other => ApiError::internal(other),
        })?;
    Ok(Json(SuggestResponse {
        suggestions: suggestions
            .into_iter()
            .map(|s| SuggestionResponse {
                text: s.text,
                field: s.field,
                count: s.count,
            })
            .collect(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_code(raw: &str) -> &'static str {
        parse_params(Some(raw)).unwrap_err().code().as_str()
    }

    #[test]
    fn prefix_and_limit() {
        let params = parse_params(Some("q=%E9%9D%9C&limit=5&utm=x")).unwrap();
        assert_eq!(
            params,
            Params {
                prefix: "靜".into(),
                limit: 5
            }
        );
        assert_eq!(parse_params(Some("q=jy")).unwrap().limit, DEFAULT_LIMIT);
    }

    #[test]
    fn bad_parameters_are_400s_with_codes() {
        assert_eq!(error_code(""), "invalid_parameter");
        assert_eq!(error_code("q="), "invalid_parameter");
        assert_eq!(error_code("q=%20%20"), "invalid_parameter");
        assert_eq!(error_code("q=a&limit=0"), "invalid_parameter");
        assert_eq!(error_code("q=a&limit=21"), "invalid_parameter");
        assert_eq!(error_code("q=a&limit=x"), "invalid_parameter");
        assert_eq!(
            error_code(&format!("q={}", "字".repeat(MAX_PREFIX_CHARS + 1))),
            "query_too_long"
        );
    }
}
