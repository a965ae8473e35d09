//! `GET /api/v1/events`: the cultural events, filtered as on the `/events` page
//! ([`crate::web::event_filter`]): upcoming ones soonest first, then past ones most recent
//! first, each with `live` (streaming at `at`, or now) and the replay link once it is over.
//! Events without a start time are left out. The answer depends on the instant (`at` is
//! echoed, `live` changes by the minute), so it carries no ETag.

use axum::Json;
use axum::extract::State;
use serde::Serialize;

use super::ApiError;
use super::endpoint::Endpoint;
use super::institutions::{instant, lanzhou_text};
use crate::extract::ApiQuery;
use crate::state::AppState;
use crate::web::event_filter::EventQuery;
use crate::web::events::{Listed, load};

/// The route.
pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::get("/api/v1/events", events)
            .summary("Cultural events, filtered by dates, district, institution, type, audience, free and registration")
            .description(
                "Filters combine. Days are Lanzhou days: `from` and `to` (inclusive), or `when` \
                 (`today`, `this-week` Monday to Sunday, `this-weekend`) around the day of `at` (or now). \
                 `free=true` keeps only events known to be free; an event that does not say stays \
                 out of both `free=true` and `free=false`. `live` is true while an event with a live \
                 stream runs (without an end: its day, or two hours from its start time).",
            )
            .query::<EventQuery>()
            .json::<EventList>(200, "Events: upcoming soonest first, then past ones"),
    ]
}

/// The events that passed the filters.
#[derive(Serialize, schemars::JsonSchema)]
struct EventList {
    /// The instant "upcoming" and `live` were decided at (RFC 3339, Lanzhou time).
    #[schemars(extend("format" = "date-time"))]
    at: String,
    /// Events on or after the day of `at`, soonest first.
    upcoming: Vec<EventEntry>,
    /// Events over before that day, most recent first (at most 50).
    past: Vec<EventEntry>,
}

/// One event.
#[derive(Serialize, schemars::JsonSchema)]
struct EventEntry {
    /// The record's id (`/api/v1/records/{id}`).
    id: String,
    title: String,
    /// The institution's id.
    institution: String,
    institution_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    district: Option<schemas::District>,
    /// The kind of activity as the source names it (`讲座`).
    #[serde(skip_serializing_if = "Option::is_none")]
    activity: Option<String>,
    /// When it starts (ISO 8601, Lanzhou time unless it has an offset).
    start: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    end: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    venue: Option<String>,
    /// Whom it is for, when known.
    audience: Vec<schemas::Audience>,
    /// Free (`true`), paid (`false`) or not said (absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    free: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    registration_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    live_stream_url: Option<String>,
    /// Streaming live at `at`.
    live: bool,
    /// The replay, once the event is over.
    #[serde(skip_serializing_if = "Option::is_none")]
    replay_url: Option<String>,
    /// Its calendar file.
    ics_url: String,
}

impl EventEntry {
    fn new(event: Listed, at: time::OffsetDateTime) -> EventEntry {
        EventEntry {
            live: event.live_at(at),
            replay_url: event.replay_url.clone().filter(|_| event.ended_at(at)),
            ics_url: format!("/events/{}.ics", crate::web::url_segment(&event.id)),
            id: event.id,
            title: event.title,
            institution: event.institution,
            institution_name: event.institution_name,
            district: event.district,
            activity: event.activity,
            start: event.start,
            end: event.end,
            venue: event.venue,
            audience: event.audience,
            free: event.free,
            registration_url: event.registration_url,
            live_stream_url: event.live_stream_url,
        }
    }
}

async fn events(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<EventQuery>,
) -> Result<Json<EventList>, ApiError> {
    // An empty `at`, as a form may send, is "now".
    let at = instant(query.at.as_deref().filter(|a| !a.trim().is_empty()))?;
    let filter = query
        .filter(at)
        .map_err(|e| ApiError::invalid_parameter(e.english()))?;
    let calendar = load(&state, at)
        .await
        .map_err(|_| ApiError::internal("reading the events failed"))?
        .only(&filter);
    let entries = |list: Vec<Listed>| list.into_iter().map(|e| EventEntry::new(e, at)).collect();
    Ok(Json(EventList {
        at: lanzhou_text(at),
        upcoming: entries(calendar.upcoming),
        past: entries(calendar.past),
    }))
}
