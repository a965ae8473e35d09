//! Events to follow in a calendar app: `GET /events/{record id}.ics`, one event, and the
//! subscribable feeds of upcoming events `GET /calendars/institution/{id}.ics`,
//! `/calendars/district/{district}.ics` (a district's code or Chinese name) and
//! `/calendars/type/{activity}.ics` (the source's kind of activity: `讲座`, `展览`, `活动`).
//! All are `text/calendar; charset=utf-8`, written by [`crate::ical`]; `?at=` (RFC 3339)
//! chooses the instant that "upcoming" and `DTSTAMP` are taken at, as on `/events`.

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use schemas::District;
use time::OffsetDateTime;

use super::error::PageError;
use super::event_filter::EventFilter;
use super::events::{Listed, instant_param, load, load_one};
use super::layout::Frame;
use crate::ical::{CalendarEvent, calendar};
use crate::state::AppState;

/// The id in `{id}.ics`, or a 404.
fn ics_name(file: &str) -> Result<&str, PageError> {
    file.strip_suffix(".ics")
        .filter(|id| !id.trim().is_empty())
        .ok_or_else(|| PageError::NotFound("日历文件的网址应以 .ics 结尾。".into()))
}

/// The calendar event of a listed event.
pub(crate) fn calendar_event(event: &Listed) -> CalendarEvent {
    let description = [
        event.description.clone(),
        Some(format!("主办：{}", event.institution_name)),
        event.registration_url.as_ref().map(|url| format!("报名：{url}")),
        event.live_stream_url.as_ref().map(|url| format!("直播：{url}")),
        event.replay_url.as_ref().map(|url| format!("回放：{url}")),
    ];
    CalendarEvent {
        uid: format!("{}@jincheng", event.id),
        start: event.start.clone(),
        end: event.end.clone(),
        summary: event.title.clone(),
        location: event.venue.clone(),
        description: Some(description.into_iter().flatten().collect::<Vec<_>>().join("\n")),
        url: event
            .source_url
            .clone()
            .filter(|u| u.starts_with("https://") || u.starts_with("http://")),
    }
}

/// A `text/calendar` response.
fn ics_response(text: String, file: &str) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/calendar; charset=utf-8"),
    );
    // The name is ASCII by construction (`event.ics`, `calendar.ics`).
    if let Ok(value) = HeaderValue::from_str(&format!("inline; filename=\"{file}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    (StatusCode::OK, headers, text).into_response()
}

/// `GET /events/{id}.ics`: one event, whether past or upcoming; 404 for a record that is not
/// an event with a start.
pub(crate) async fn event_ics(
    State(state): State<AppState>,
    Path(file): Path<String>,
    headers: HeaderMap,
    uri: Uri,
    RawQuery(raw): RawQuery,
) -> Response {
    let frame = Frame::new(&state, &headers, &uri);
    match event_calendar(&state, &file, raw.as_deref()).await {
        Ok(text) => ics_response(text, "event.ics"),
        Err(err) => err.render(&frame),
    }
}

/// The calendar of one event, read by its id (however old it is).
async fn event_calendar(state: &AppState, file: &str, raw: Option<&str>) -> Result<String, PageError> {
    let id = ics_name(file)?;
    let now = instant_param(raw)?;
    let event = load_one(state, id)
        .await?
        .filter(|e| !e.day.is_empty())
        .ok_or_else(|| PageError::NotFound("没有这个活动，或它没有开始时间。".into()))?;
    Ok(calendar(&event.title, &[calendar_event(&event)], now))
}

/// The upcoming events that pass `filter`, as a calendar named `name`.
async fn feed(
    state: &AppState,
    filter: &EventFilter,
    name: &str,
    now: OffsetDateTime,
) -> Result<String, PageError> {
    let all = load(state, now).await?;
    let events: Vec<CalendarEvent> = all
        .upcoming
        .iter()
        .filter(|e| filter.matches(e))
        .map(calendar_event)
        .collect();
    Ok(calendar(name, &events, now))
}

/// `GET /calendars/{kind}/{value}.ics`: the upcoming events of an institution, a district or
/// a kind of activity. An unknown institution or district is a 404.
pub(crate) async fn feed_ics(
    State(state): State<AppState>,
    Path((kind, file)): Path<(String, String)>,
    headers: HeaderMap,
    uri: Uri,
    RawQuery(raw): RawQuery,
) -> Response {
    let frame = Frame::new(&state, &headers, &uri);
    let answer = async {
        let value = ics_name(&file)?;
        let now = instant_param(raw.as_deref())?;
        let (filter, name) = filter_of(&state, &kind, value).await?;
        feed(&state, &filter, &name, now).await
    };
    match answer.await {
        Ok(text) => ics_response(text, "calendar.ics"),
        Err(err) => err.render(&frame),
    }
}

/// The filter and the calendar's name for `/calendars/{kind}/{value}.ics`.
pub(crate) async fn filter_of(
    state: &AppState,
    kind: &str,
    value: &str,
) -> Result<(EventFilter, String), PageError> {
    match kind {
        "institution" => {
            let store = state.store.clone();
            let id = value.to_string();
            let institution = tokio::task::spawn_blocking(move || {
                Ok::<_, PageError>(store.institutions()?.into_iter().find(|i| i.id == id))
            })
            .await??
            .ok_or_else(|| PageError::NotFound(format!("没有这个机构：{value}")))?;
            Ok((
                EventFilter {
                    institution: Some(institution.id),
                    ..EventFilter::default()
                },
                format!("{}·文化活动", institution.name),
            ))
        }
        "district" => {
            let district: District = value
                .parse()
                .map_err(|_| PageError::NotFound(format!("没有这个区县：{value}")))?;
            Ok((
                EventFilter {
                    district: Some(district),
                    ..EventFilter::default()
                },
                format!("{}·文化活动", district.label()),
            ))
        }
        "type" => Ok((
            EventFilter {
                activity: Some(value.to_string()),
                ..EventFilter::default()
            },
            format!("{value}·文化活动"),
        )),
        _ => Err(PageError::NotFound(
            "日历只按机构（institution）、区县（district）或活动类型（type）订阅。".into(),
        )),
    }
}
