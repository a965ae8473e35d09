//! Service statistics over HTTP ([`services::statistics`]).
//!
//! | method and path                  | who                                                    |
//! |----------------------------------|--------------------------------------------------------|
//! | `POST /api/v1/statistics?institution=` | an institution's `X-API-Key` (its own rows only), or a curator (their institutions) or an admin (any); `text/csv` or `application/json` `{"rows": [...]}` → the per-row report |
//! | `GET /api/v1/statistics?institution=&district=&from=&to=` | admin, or any valid `X-API-Key`: daily aggregates |
//!
//! The report is `200` whenever the body could be read, even if rows failed: valid rows are
//! stored, and `errors` lists every failing row with its column and reason (the codes are
//! those of [`services::statistics`]). Reporting a day again replaces its figures.

use std::collections::BTreeMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::ApiError;
use super::endpoint::{Endpoint, RequestBody, schema_of};
use crate::error::ErrorCode;
use crate::extract::ApiQuery;
use crate::state::AppState;
use services::analytics::{format_day, parse_day, today};
use services::auth::Principal;
use services::statistics::{self, InstitutionDay, Reporter, RowError, Selection, Totals};

/// Longest range of days one `GET` covers.
const MAX_RANGE_DAYS: i64 = 3_660;

/// The `/api/v1/statistics` routes.
pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::post("/api/v1/statistics", report)
            .summary("Report daily service statistics (loans, visits, event attendance, online views)")
            .description(
                "A CSV file (`text/csv`: a header row of `date`/`日期`, `institution`/`机构`, \
                 `loans`/`借阅量`/`外借`, `visits`/`到馆人次`, `event_attendance`/`活动参与人次`, \
                 `online_views`/`线上访问量`; UTF-8 with or without BOM, or GBK) or JSON rows with \
                 the same keys. Send an institution's `X-API-Key`, or sign in as a curator or \
                 admin. Valid rows are stored even when other rows fail; `errors` names each \
                 failing row, its column and why. A day reported again replaces its figures.",
            )
            .admin_or_key()
            .query::<ReportQuery>()
            .body(RequestBody::JsonOrText(schema_of::<RowsBody>, "text/csv"))
            .json::<ReportResponse>(200, "What was stored, and every row refused with its reason")
            .errors(&[
                ErrorCode::InvalidBody,
                ErrorCode::UnsupportedMediaType,
                ErrorCode::PayloadTooLarge,
                ErrorCode::CsrfFailed,
            ]),
        Endpoint::get("/api/v1/statistics", aggregates)
            .summary("Daily service statistics per institution, and their sums per day")
            .admin_or_key()
            .query::<AggregateQuery>()
            .json::<AggregateResponse>(200, "The aggregates")
            .errors(&[ErrorCode::InvalidParameter]),
    ]
}

/// The parameters of `POST /statistics`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct ReportQuery {
    /// The institution of rows that name none (an institution's key: always its own).
    institution: Option<String>,
}

/// A JSON report.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct RowsBody {
    /// One object per day, keyed by the column names (English or Chinese); figures are whole
    /// numbers (or strings of them), `null` or absent when not reported.
    rows: Vec<BTreeMap<String, Value>>,
}

/// A refused row.
#[derive(Debug, Serialize, schemars::JsonSchema)]
struct RowErrorView {
    /// CSV: the line as a spreadsheet numbers it (the header is 1); JSON: the position in
    /// `rows` from 1; 0: the upload as a whole.
    row: usize,
    /// The column (header or key) as sent, if the problem is in one.
    column: Option<String>,
    /// `bad_date`, `future_date`, `negative_number`, `not_a_number`, `too_large`,
    /// `no_figures`, `unknown_column`, `duplicate_column`, `missing_column`,
    /// `wrong_institution`, `duplicate_day`, `too_many_rows`, `too_large_file`, `malformed`.
    code: String,
    /// Why, in English.
    message: String,
    /// Why, in Chinese.
    message_zh: String,
}

impl From<RowError> for RowErrorView {
    fn from(e: RowError) -> Self {
        RowErrorView {
            row: e.row,
            column: e.column,
            code: e.code.to_string(),
            message: e.message,
            message_zh: e.message_zh,
        }
    }
}

/// What a report did.
#[derive(Debug, Serialize, schemars::JsonSchema)]
struct ReportResponse {
    /// Valid rows, stored (or already stored with the same figures).
    accepted: usize,
    /// Rows whose stored figures changed.
    changed: usize,
    /// Rows refused.
    rejected: usize,
    /// The encoding a CSV body was read in (`UTF-8`, `UTF-8 (BOM)`, `GB18030`).
    encoding: Option<String>,
    /// Every problem, in row order.
    errors: Vec<RowErrorView>,
}

/// The parameters of `GET /statistics`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct AggregateQuery {
    /// Only this institution (id).
    institution: Option<String>,
    /// Only institutions in this district (Chinese name, e.g. `城关区`).
    district: Option<String>,
    /// First day, `YYYY-MM-DD` (default: 29 days before `to`).
    #[schemars(extend("format" = "date"))]
    from: Option<String>,
    /// Last day, `YYYY-MM-DD` (default: today, in Lanzhou).
    #[schemars(extend("format" = "date"))]
    to: Option<String>,
}

/// One day's sums over the selected institutions.
#[derive(Debug, Serialize, schemars::JsonSchema)]
struct DayTotals {
    /// `YYYY-MM-DD`.
    day: String,
    /// The sums.
    #[serde(flatten)]
    totals: Totals,
}

/// The aggregates.
#[derive(Debug, Serialize, schemars::JsonSchema)]
struct AggregateResponse {
    /// First day.
    from: String,
    /// Last day.
    to: String,
    /// Per day, summed over the selected institutions.
    days: Vec<DayTotals>,
    /// Every reported institution-day.
    rows: Vec<InstitutionDay>,
    /// Everything summed.
    total: Totals,
}

/// Who is reporting: an institution's key, or an account.
async fn reporter(
    state: &AppState,
    headers: &HeaderMap,
    principal: Result<Principal, ApiError>,
    chosen: Option<String>,
) -> Result<(String, Reporter), ApiError> {
    let store = state.store.clone();
    if let Some(key) = headers.get("x-api-key").and_then(|v| v.to_str().ok()) {
        let key = key.to_string();
        let found = tokio::task::spawn_blocking(move || store.api_key_institution(&key)).await??;
        return match found {
            Some((id, Some(institution))) => {
                if chosen.as_ref().is_some_and(|c| *c != institution) {
                    return Err(ApiError::forbidden(format!(
                        "this key reports for {institution} only"
                    )));
                }
                Ok((format!("api-key:{id}"), Reporter::institution_key(&institution)))
            }
            Some((_, None)) => Err(ApiError::forbidden(
                "this key belongs to no institution; ask an admin for the institution's key",
            )),
            None => Err(ApiError::invalid_api_key()),
        };
    }
    let principal = principal?;
    let known = tokio::task::spawn_blocking(move || store.institutions()).await??;
    let reporter = Reporter::account(&principal, &known, chosen.as_deref());
    if let Some(chosen) = &chosen
        && !reporter.may_report(chosen)
    {
        return Err(ApiError::forbidden(format!("you may not report for {chosen}")));
    }
    Ok((principal.username, reporter))
}

async fn report(
    State(state): State<AppState>,
    headers: HeaderMap,
    principal: Result<Principal, ApiError>,
    ApiQuery(query): ApiQuery<ReportQuery>,
    body: Bytes,
) -> Result<Json<ReportResponse>, ApiError> {
    let chosen = query
        .institution
        .map(|i| i.trim().to_string())
        .filter(|i| !i.is_empty());
    let (actor, reporter) = reporter(&state, &headers, principal, chosen).await?;
    if body.len() > statistics::MAX_UPLOAD_BYTES {
        return Err(ApiError::payload_too_large(format!(
            "a report has at most {} bytes",
            statistics::MAX_UPLOAD_BYTES
        )));
    }
    let media = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let today = today();
    let checked = match media.as_str() {
        "text/csv" => statistics::read_csv(&body, &reporter, today),
        "application/json" => {
            let rows: RowsBody = serde_json::from_slice(&body)
                .map_err(|e| ApiError::invalid_body(format!("the body is not {{\"rows\": [...]}}: {e}")))?;
            statistics::read_json(&rows.rows, &reporter, today)
        }
        _ => {
            return Err(ApiError::unsupported_media_type(
                "send text/csv or application/json",
            ));
        }
    };
    let encoding = checked.encoding.map(str::to_string);
    let store = state.store.clone();
    let done = tokio::task::spawn_blocking(move || statistics::submit(&store, &actor, checked)).await??;
    Ok(Json(ReportResponse {
        accepted: done.accepted,
        changed: done.changed,
        rejected: done.rejected,
        encoding,
        errors: done.errors.into_iter().map(RowErrorView::from).collect(),
    }))
}

async fn aggregates(
    State(state): State<AppState>,
    headers: HeaderMap,
    principal: Result<Principal, ApiError>,
    ApiQuery(query): ApiQuery<AggregateQuery>,
) -> Result<Json<AggregateResponse>, ApiError> {
    // The access guard has already refused an unknown or revoked key.
    if !headers.contains_key("x-api-key") {
        principal
            .map_err(|_| ApiError::unauthorized("send an X-API-Key, or log in as an admin"))?
            .require_admin()?;
    }
    let selection = selection(query)?;
    let store = state.store.clone();
    let (from, to) = (format_day(selection.from), format_day(selection.to));
    let found = tokio::task::spawn_blocking(move || statistics::aggregates(&store, &selection)).await??;
    Ok(Json(AggregateResponse {
        from,
        to,
        days: found
            .days
            .into_iter()
            .map(|(day, totals)| DayTotals { day, totals })
            .collect(),
        rows: found.rows,
        total: found.total,
    }))
}

fn day_param(key: &str, value: &str) -> Result<time::Date, ApiError> {
    parse_day(value).ok_or_else(|| ApiError::invalid_parameter(format!("{key} must be a date YYYY-MM-DD")))
}

fn selection(query: AggregateQuery) -> Result<Selection, ApiError> {
    let to = query.to.as_deref().map(|v| day_param("to", v)).transpose()?;
    let to = to.unwrap_or_else(today);
    let from = query.from.as_deref().map(|v| day_param("from", v)).transpose()?;
    let from = from.unwrap_or(to - time::Duration::days(29));
    if from > to {
        return Err(ApiError::invalid_parameter("from is after to"));
    }
    if (to - from).whole_days() > MAX_RANGE_DAYS {
        return Err(ApiError::invalid_parameter(format!(
            "at most {MAX_RANGE_DAYS} days at once"
        )));
    }
    let district = query
        .district
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(|d| {
            d.parse::<schemas::District>()
                .map_err(|_| ApiError::invalid_parameter(format!("unknown district {d:?}")))
        })
        .transpose()?;
    Ok(Selection {
        from,
        to,
        institution: query
            .institution
            .map(|i| i.trim().to_string())
            .filter(|i| !i.is_empty()),
        district,
    })
}
