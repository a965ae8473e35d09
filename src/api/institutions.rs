//! `/api/v1/institutions`: the directory of institutions and their venues.
//!
//! | route                                           | who                                 |
//! |-------------------------------------------------|-------------------------------------|
//! | `GET /institutions?district=&type=&facility=&kind=&open_now=&at=` | anyone            |
//! | `GET /institutions/{id}?at=`                    | anyone: with parent, service points |
//! | `PUT /curate/institutions/{id}/venue`           | admins; curators of `{id}` only     |
//!
//! "Open now" is decided in Lanzhou time (UTC+8) at `at` (an RFC 3339 instant), which is
//! the server's clock when absent: clients and tests can ask about any instant.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use schemas::{Facility, Institution, InstitutionType, ServicePointKind, Venue};
use serde::{Deserialize, Serialize};
use services::institutions::{HoursAndFacilities, VenueFilter, service_points, status};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::ApiError;
use super::endpoint::{Cache, Endpoint};
use crate::error::ErrorCode;
use crate::extract::{ApiQuery, Flag, Term};
use crate::state::AppState;

/// The public routes.
pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::get("/api/v1/institutions", institutions)
            .summary("Every institution with its venue, opening status and live record count")
            .description(
                "Filters combine: `district`, `type`, `facility`, `kind` (place in the service \
                 network) and `open_now` (in Lanzhou time at `at`, or now). An institution without \
                 opening hours is neither open nor closed, so `open_now` leaves it out.",
            )
            .query::<DirectoryQuery>()
            .json::<Institutions>(200, "Institutions")
            .cache(Cache::Body),
        Endpoint::get("/api/v1/institutions/{id}", institution)
            .summary("One institution: venue, opening status, the week's hours, parent and service points")
            .query::<AtQuery>()
            .json::<InstitutionDetail>(200, "The institution")
            .errors(&[ErrorCode::NotFound])
            .cache(Cache::Body),
    ]
}

/// The curators' route (accounts group).
pub fn curate_endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::put("/api/v1/curate/institutions/{id}/venue", update_venue)
            .summary("Replace an institution's opening hours and/or facilities (its curators and admins)")
            .signed_in()
            .json_body::<HoursAndFacilities>()
            .json::<Venue>(200, "The venue as stored")
            .errors(&[
                ErrorCode::Forbidden,
                ErrorCode::NotFound,
                ErrorCode::ValidationFailed,
            ]),
    ]
}

/// The directory's filters.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct DirectoryQuery {
    /// Only this district or county (`城关区`).
    district: Option<Term<schemas::District>>,
    /// Only this type (`library`, `museum`, … or `图书馆`).
    #[serde(rename = "type")]
    institution_type: Option<Term<InstitutionType>>,
    /// Only venues offering this facility (`blind_reading_seats`, … or `盲人阅览坐席`).
    facility: Option<Term<Facility>>,
    /// Only this kind of service point (`branch`, `city_book_bar`, … or `分馆`).
    kind: Option<Term<ServicePointKind>>,
    /// Only those open (`true`) or closed (`false`) at `at`.
    open_now: Option<Flag>,
    /// The instant to decide "open now" at (RFC 3339, e.g. `2026-12-08T09:30:00+08:00`);
    /// now when absent.
    #[schemars(extend("format" = "date-time"))]
    at: Option<String>,
}

/// The instant to answer for.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub(super) struct AtQuery {
    /// The instant to decide "open now" at (RFC 3339); now when absent.
    #[schemars(extend("format" = "date-time"))]
    at: Option<String>,
}

/// The years `at` may name: hours are about the present, and instants near the ends of
/// the calendar would overflow when moved to Lanzhou time or searched ahead from.
const AT_YEARS: std::ops::RangeInclusive<i32> = 1900..=2200;

/// `at`, or now.
pub(super) fn instant(at: Option<&str>) -> Result<OffsetDateTime, ApiError> {
    let Some(text) = at else {
        return Ok(OffsetDateTime::now_utc());
    };
    OffsetDateTime::parse(text.trim(), &Rfc3339)
        .ok()
        .filter(|t| AT_YEARS.contains(&t.year()))
        .ok_or_else(|| {
            ApiError::invalid_parameter(
                "at must be an RFC 3339 instant from 1900 to 2200, e.g. 2026-12-08T09:30:00+08:00",
            )
        })
}

/// An instant as RFC 3339 in Lanzhou time (`2026-12-08T09:00:00+08:00`).
pub(super) fn lanzhou_text(instant: OffsetDateTime) -> String {
    schemas::lanzhou_time(instant)
        .format(&Rfc3339)
        .unwrap_or_default()
}

/// One institution with its record count and opening status.
#[derive(Serialize, schemars::JsonSchema)]
pub(super) struct InstitutionEntry {
    #[serde(flatten)]
    institution: Institution,
    /// Chinese label of the type, for display.
    type_label: String,
    records: u64,
    /// Open at the instant asked about; absent without opening hours.
    #[serde(skip_serializing_if = "Option::is_none")]
    open_now: Option<bool>,
    /// When open: when it closes (Lanzhou time; absent for a venue that never closes).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "date-time"))]
    closes_at: Option<String>,
    /// When closed: when it next opens (Lanzhou time; absent when nothing is scheduled).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "date-time"))]
    next_open: Option<String>,
    /// Open late (夜间, past 19:00) on the day asked about.
    late_today: bool,
}

impl InstitutionEntry {
    fn new(institution: &Institution, records: u64, at: OffsetDateTime) -> InstitutionEntry {
        let open = status(institution, at);
        let late_today = institution
            .venue
            .as_ref()
            .and_then(|v| v.hours.as_ref())
            .is_some_and(|h| h.on(schemas::lanzhou_time(at).date()).is_late());
        InstitutionEntry {
            type_label: institution.institution_type.label().to_string(),
            records,
            open_now: open.as_ref().map(|s| s.open_now),
            closes_at: open.as_ref().and_then(|s| s.closes_at).map(lanzhou_text),
            next_open: open.as_ref().and_then(|s| s.next_open).map(lanzhou_text),
            late_today,
            institution: institution.clone(),
        }
    }
}

/// Every institution.
#[derive(Serialize, schemars::JsonSchema)]
#[schemars(rename = "InstitutionList")]
pub(super) struct Institutions {
    institutions: Vec<InstitutionEntry>,
}

/// Another institution, named.
#[derive(Serialize, schemars::JsonSchema)]
struct InstitutionRef {
    id: String,
    name: String,
}

/// One day's hours.
#[derive(Serialize, schemars::JsonSchema)]
struct DayView {
    /// The date (`YYYY-MM-DD`, Lanzhou).
    date: String,
    /// `mon` … `sun`.
    weekday: schemas::Weekday,
    /// Opening intervals (`09:00-12:00`); none when closed.
    hours: Vec<String>,
    /// Open late (夜间, past 19:00).
    late: bool,
    /// Why the day differs from the regular week (an exception's or a season's note).
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<String>,
}

/// One institution in full.
#[derive(Serialize, schemars::JsonSchema)]
struct InstitutionDetail {
    #[serde(flatten)]
    entry: InstitutionEntry,
    /// The institution above it in the service network.
    #[serde(skip_serializing_if = "Option::is_none")]
    parent: Option<InstitutionRef>,
    /// Its branches and service points.
    service_points: Vec<InstitutionEntry>,
    /// The hours of the seven days from the day asked about (empty without hours).
    week: Vec<DayView>,
}

fn week_view(hours: &schemas::OpeningHours, at: OffsetDateTime) -> Vec<DayView> {
    hours
        .week_from(at)
        .into_iter()
        .map(|day| DayView {
            date: day.date.to_string(),
            weekday: schemas::Weekday::of(day.date),
            hours: day
                .intervals
                .iter()
                .map(|&(a, b)| format!("{}-{}", schemas::format_clock(a), schemas::format_clock(b)))
                .collect(),
            late: day.is_late(),
            note: hours.note_of(&day).map(str::to_string),
        })
        .collect()
}

async fn institutions(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<DirectoryQuery>,
) -> Result<Json<Institutions>, ApiError> {
    let at = instant(query.at.as_deref())?;
    let filter = VenueFilter {
        district: query.district.map(|Term(d)| d),
        institution_type: query.institution_type.map(|Term(t)| t),
        facility: query.facility.map(|Term(f)| f),
        kind: query.kind.map(|Term(k)| k),
        open_now: query.open_now.map(|Flag(f)| f),
    };
    let store = state.store.clone();
    let (list, counts) = tokio::task::spawn_blocking(move || {
        Ok::<_, ApiError>((store.institutions()?, store.records_per_institution()?))
    })
    .await??;
    let institutions = list
        .iter()
        .filter(|i| filter.matches(i, at))
        .map(|i| InstitutionEntry::new(i, counts.get(&i.id).copied().unwrap_or(0), at))
        .collect();
    Ok(Json(Institutions { institutions }))
}

async fn institution(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<AtQuery>,
) -> Result<Json<InstitutionDetail>, ApiError> {
    let at = instant(query.at.as_deref())?;
    let store = state.store.clone();
    let (list, counts) = tokio::task::spawn_blocking(move || {
        Ok::<_, ApiError>((store.institutions()?, store.records_per_institution()?))
    })
    .await??;
    let records = |i: &Institution| counts.get(&i.id).copied().unwrap_or(0);
    let found = list.iter().find(|i| i.id == id).ok_or_else(ApiError::not_found)?;
    let parent = found
        .venue
        .as_ref()
        .and_then(|v| v.parent.as_deref())
        .and_then(|p| list.iter().find(|i| i.id == p))
        .map(|p| InstitutionRef {
            id: p.id.clone(),
            name: p.name.clone(),
        });
    let week = found
        .venue
        .as_ref()
        .and_then(|v| v.hours.as_ref())
        .map(|h| week_view(h, at))
        .unwrap_or_default();
    Ok(Json(InstitutionDetail {
        entry: InstitutionEntry::new(found, records(found), at),
        parent,
        service_points: service_points(&list, &id)
            .into_iter()
            .map(|i| InstitutionEntry::new(i, records(i), at))
            .collect(),
        week,
    }))
}

async fn update_venue(
    State(state): State<AppState>,
    principal: services::auth::Principal,
    Path(id): Path<String>,
    body: Result<Json<HoursAndFacilities>, JsonRejection>,
) -> Result<Json<Venue>, ApiError> {
    let Json(edit) = body?;
    let store = state.store.clone();
    let venue = tokio::task::spawn_blocking(move || {
        services::institutions::update_hours_and_facilities(&store, &principal, &id, edit)
    })
    .await??;
    Ok(Json(venue))
}
