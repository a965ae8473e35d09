//! Search analytics over HTTP.
//!
//! | method and path                                   | who                                  |
//! |---------------------------------------------------|--------------------------------------|
//! | `POST /api/v1/analytics/click`                    | anyone (rate-limited like all `/api/v1`): `{query, record_id, position}` → 202 |
//! | `GET /api/v1/admin/analytics/{report}?from=&to=&format=json\|csv\|ndjson&by=day\|week` | admin |
//! | `GET /api/v1/analytics/export?since=YYYY-MM-DD`   | admin, or any valid `X-API-Key` (the provincial platform) |
//! | `GET /admin/analytics?from=&to=`                  | admin (session cookie): the dashboard |
//!
//! Days are Lanzhou days; `to` defaults to today and `from` to 29 days before `to`.
//!
//! The export is meant to be polled: it lists the daily aggregates of complete days only
//! (from `since` up to yesterday), so a day's numbers never change after it was fetched, and
//! only queries searched at least [`MIN_PUBLISHED_SEARCHES`] times that day, so a rare query
//! (which may name a person) never leaves the city. A key is enough because the export holds
//! nothing an admin report would not already show to the platform's operators; keys are
//! issued by admins, revocable, and never stored in the analytics.
//!
//! After the search lines come the service statistics of the same days, one line per
//! institution and day: `{"kind": "service", "day", "institution", "district", "loans",
//! "visits", "event_attendance", "online_views"}` (a figure the institution did not report
//! is `null`). They are the institutions' own published figures, so no threshold applies.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::Date;

use super::ApiError;
use super::endpoint::{Content, Endpoint, Success, schema_of};
use crate::error::ErrorCode;
use crate::extract::ApiQuery;
use services::analytics::reports::{self, Period, Range};
use services::analytics::{MAX_RECORD_ID_CHARS, format_day, parse_day, today};
use services::search::{MAX_QUERY_CHARS, MAX_RESULT_WINDOW};

use crate::state::AppState;
use crate::web::dashboard;
use services::auth::Principal;
use services::statistics;

/// A query must be searched this many times in a day to appear in the public export.
pub const MIN_PUBLISHED_SEARCHES: u64 = 3;
/// Longest range of days a report covers.
const MAX_RANGE_DAYS: i64 = 3_660;

/// The `/api/v1` routes.
pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::post("/api/v1/analytics/click", click)
            .summary("Log which hit of which query was opened")
            .json_body::<ClickBody>()
            .respond(Success {
                status: 202,
                description: "Queued",
                content: vec![Content::Empty],
                headers: Vec::new(),
            })
            .errors(&[ErrorCode::QueryTooLong, ErrorCode::InvalidParameter]),
        Endpoint::get("/api/v1/analytics/export", export)
            .summary("Daily aggregates of complete days, for the provincial platform")
            .description(
                "Only queries searched at least 3 times that day, from `since` up to yesterday, so a \
                 day's search numbers never change after it was fetched. Then the service \
                 statistics institutions reported for the same days (`kind: service`), which an \
                 institution may correct by reporting a day again.",
            )
            .admin_or_key()
            .query::<ExportQuery>()
            .respond(Success {
                status: 200,
                description: "One JSON object a line",
                content: vec![Content::Other("application/x-ndjson", || {
                    json!({"type": "string", "description": "lines of {day, query, searches, zero_results, low_results, clicks} (search statistics), then lines of {kind: \"service\", day, institution, district, loans, visits, event_attendance, online_views} (the service statistics institutions reported; a figure not reported is null)"})
                })],
                headers: Vec::new(),
            }),
        Endpoint::get("/api/v1/admin/analytics/{report}", report)
            .summary("A search report")
            .admin()
            .path_param(
                "report",
                || json!({"type": "string", "enum": reports::REPORTS}),
                "Which report",
            )
            .query::<ReportQuery>()
            .respond(Success {
                status: 200,
                description: "The report: JSON, CSV or NDJSON (`format`)",
                content: vec![
                    Content::Json(schema_of::<ReportResponse>),
                    Content::Other("text/csv", || json!({"type": "string"})),
                    Content::Other("application/x-ndjson", || json!({"type": "string"})),
                ],
                headers: Vec::new(),
            })
            .errors(&[ErrorCode::NotFound]),
    ]
}

/// The dashboard page, outside `/api/v1`.
pub fn page_endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::get("/admin/analytics", dashboard_page)
            .summary("The search statistics dashboard (HTML, admins)")
            .admin()
            .query::<ReportQuery>()
            .respond(super::openapi::html("The dashboard")),
    ]
}

/// The body of `POST /analytics/click`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct ClickBody {
    /// The query whose results were shown.
    #[schemars(length(max = MAX_QUERY_CHARS))]
    query: String,
    /// The record opened.
    #[schemars(length(min = 1, max = MAX_RECORD_ID_CHARS), regex(pattern = r"\S"))]
    record_id: String,
    /// Its position in the results, from 1.
    #[schemars(range(min = 1, max = MAX_RESULT_WINDOW))]
    position: u32,
}

/// A report as JSON.
#[derive(Serialize, schemars::JsonSchema)]
struct ReportResponse {
    /// Its name.
    report: String,
    /// First day (Lanzhou).
    from: String,
    /// Last day.
    to: String,
    /// One object per row, keyed by column.
    rows: Vec<serde_json::Value>,
}

async fn click(
    State(state): State<AppState>,
    body: Result<Json<ClickBody>, JsonRejection>,
) -> Result<StatusCode, ApiError> {
    let Json(body) = body?;
    if body.query.chars().count() > MAX_QUERY_CHARS {
        return Err(ApiError::query_too_long(format!(
            "query has more than {MAX_QUERY_CHARS} characters"
        )));
    }
    let record_id = body.record_id.trim();
    if record_id.is_empty() || record_id.chars().count() > MAX_RECORD_ID_CHARS {
        return Err(ApiError::invalid_parameter(format!(
            "record_id must have 1 to {MAX_RECORD_ID_CHARS} characters"
        )));
    }
    if body.position == 0 || body.position as usize > MAX_RESULT_WINDOW {
        return Err(ApiError::invalid_parameter(format!(
            "position must be from 1 to {MAX_RESULT_WINDOW}"
        )));
    }
    state
        .analytics
        .record_click(&body.query, record_id, body.position);
    Ok(StatusCode::ACCEPTED)
}

/// Output format of a report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
enum Format {
    /// `{report, from, to, rows}`.
    #[default]
    Json,
    /// A header line and a line per row.
    Csv,
    /// A JSON object per row, a line each.
    Ndjson,
}

/// Days grouped by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
enum By {
    /// Days.
    #[default]
    Day,
    /// Weeks.
    Week,
}

/// The report parameters.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct ReportQuery {
    /// First day, `YYYY-MM-DD` (default: 29 days before `to`).
    #[schemars(extend("format" = "date"))]
    from: Option<String>,
    /// Last day, `YYYY-MM-DD` (default: today, in Lanzhou).
    #[schemars(extend("format" = "date"))]
    to: Option<String>,
    /// Output format.
    #[serde(default)]
    format: Format,
    /// Grouping of the days, where the report has one.
    #[serde(default)]
    by: By,
}

/// The export parameters.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct ExportQuery {
    /// First day, `YYYY-MM-DD` (default: 30 days ago).
    #[schemars(extend("format" = "date"))]
    since: Option<String>,
}

struct ReportParams {
    range: Range,
    format: Format,
}

fn day_param(key: &str, value: &str) -> Result<Date, ApiError> {
    parse_day(value).ok_or_else(|| ApiError::invalid_parameter(format!("{key} must be a date YYYY-MM-DD")))
}

fn report_params(query: ReportQuery) -> Result<ReportParams, ApiError> {
    let from = query.from.as_deref().map(|v| day_param("from", v)).transpose()?;
    let to = query.to.as_deref().map(|v| day_param("to", v)).transpose()?;
    let by = match query.by {
        By::Day => Period::Day,
        By::Week => Period::Week,
    };
    let to = to.unwrap_or_else(today);
    let from = from.unwrap_or(to - time::Duration::days(29));
    if from > to {
        return Err(ApiError::invalid_parameter("from is after to"));
    }
    if (to - from).whole_days() > MAX_RANGE_DAYS {
        return Err(ApiError::invalid_parameter(format!(
            "a report covers at most {MAX_RANGE_DAYS} days"
        )));
    }
    Ok(ReportParams {
        range: Range { from, to, by },
        format: query.format,
    })
}

async fn report(
    State(state): State<AppState>,
    principal: Principal,
    Path(name): Path<String>,
    ApiQuery(query): ApiQuery<ReportQuery>,
) -> Result<Response, ApiError> {
    principal.require_admin()?;
    let params = report_params(query)?;
    if !reports::REPORTS.contains(&name.as_str()) {
        return Err(ApiError::not_found());
    }
    let store = state.store.clone();
    let stats = state.analytics.stats();
    let range = params.range;
    let report_name = name.clone();
    let table =
        tokio::task::spawn_blocking(move || reports::run(&store, &report_name, range, stats).transpose())
            .await??
            .ok_or_else(ApiError::not_found)?;
    let response = match params.format {
        Format::Json => Json(ReportResponse {
            report: name,
            from: format_day(range.from),
            to: format_day(range.to),
            rows: table.objects(),
        })
        .into_response(),
        Format::Csv => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            )],
            table.to_csv(),
        )
            .into_response(),
        Format::Ndjson => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/x-ndjson"),
            )],
            table.to_ndjson(),
        )
            .into_response(),
    };
    Ok(response)
}

async fn export(
    State(state): State<AppState>,
    headers: HeaderMap,
    principal: Result<Principal, ApiError>,
    ApiQuery(query): ApiQuery<ExportQuery>,
) -> Result<Response, ApiError> {
    // The access guard has already rejected an unknown or revoked key, so a key here is valid.
    if !headers.contains_key("x-api-key") {
        principal
            .map_err(|_| ApiError::unauthorized("send an X-API-Key, or log in as an admin"))?
            .require_admin()?;
    }
    let since = query
        .since
        .as_deref()
        .map(|v| day_param("since", v))
        .transpose()?;
    let today = today();
    let since = since.unwrap_or(today - time::Duration::days(30));
    let store = state.store.clone();
    let (rows, services) = tokio::task::spawn_blocking(move || {
        let rows =
            store.analytics_daily_export(&format_day(since), &format_day(today), MIN_PUBLISHED_SEARCHES)?;
        // Complete days only, like the searches: up to yesterday.
        let services = match today.previous_day().filter(|yesterday| *yesterday >= since) {
            Some(yesterday) => {
                let selection = statistics::Selection {
                    from: since,
                    to: yesterday,
                    institution: None,
                    district: None,
                };
                statistics::aggregates(&store, &selection)?.rows
            }
            None => Vec::new(),
        };
        Ok::<_, store::StoreError>((rows, services))
    })
    .await??;
    let mut body = String::new();
    for row in rows {
        let line = json!({
            "day": row.day,
            "query": row.counts.query,
            "searches": row.counts.searches,
            "zero_results": row.counts.zero_results,
            "low_results": row.counts.low_results,
            "clicks": row.counts.clicks,
        });
        body.push_str(&line.to_string());
        body.push('\n');
    }
    for row in services {
        let line = json!({
            "kind": "service",
            "day": row.day,
            "institution": row.institution,
            "district": row.district,
            "loans": row.loans,
            "visits": row.visits,
            "event_attendance": row.event_attendance,
            "online_views": row.online_views,
        });
        body.push_str(&line.to_string());
        body.push('\n');
    }
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-ndjson"),
        )],
        body,
    )
        .into_response())
}

async fn dashboard_page(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<ReportQuery>,
) -> Result<Response, ApiError> {
    principal.require_admin()?;
    let params = report_params(query)?;
    let store = state.store.clone();
    let stats = state.analytics.stats();
    let range = params.range;
    let html = tokio::task::spawn_blocking(move || {
        let run = |name: &str| {
            reports::run(&store, name, range, stats).unwrap_or_else(|| {
                Ok(reports::Table {
                    columns: Vec::new(),
                    rows: Vec::new(),
                })
            })
        };
        Ok::<_, store::StoreError>(dashboard::page(
            &format_day(range.from),
            &format_day(range.to),
            &run("volume")?,
            &run("top_queries")?,
            &run("zero_results")?,
            &run("demand")?,
            &run("activities")?,
            &statistics::aggregates(
                &store,
                &statistics::Selection {
                    from: range.from,
                    to: range.to,
                    institution: None,
                    district: None,
                },
            )?,
        ))
    })
    .await??;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (
                header::CONTENT_SECURITY_POLICY,
                // No script; the inline style sheet only. Never framed (clickjacking).
                HeaderValue::from_static(
                    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; \
                     form-action 'self'; frame-ancestors 'none'",
                ),
            ),
        ],
        html,
    )
        .into_response())
}
