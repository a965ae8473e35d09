//! `GET /events`: the cultural events (lectures, exhibitions, performances) by date —
//! upcoming ones first, soonest first, then past ones, most recent first — grouped by day,
//! each with its time, venue, institution and its registration and live-stream links.
//!
//! Events are the records of resource type `event`; their times are the ISO 8601 text of
//! [`schemas::EventInfo`], local to Lanzhou unless they carry an offset, so "today" is the
//! date in Lanzhou time (UTC+8, [`schemas::lanzhou_time`]) at the instant of the request, or
//! at `?at=` (RFC 3339), which tests and curious readers use to see the calendar of another
//! day.

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use indexer::{Filters, SearchRequest, SortOrder};
use schemas::{District, Record, ResourceType};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::error::PageError;
use super::home::url_segment;
use super::html::safe_url;
use super::layout::{Frame, render};
use super::search::year_label;
use super::url_state::UrlState;
use crate::state::AppState;

/// Event records read at most (the newest by year when there are more).
const MAX_EVENTS: usize = 500;
/// Past events listed at most: the page is about what is coming.
const PAST_SHOWN: usize = 50;
/// Events without a start time listed at most (the rest are a link away).
const UNDATED_SHOWN: usize = 30;
/// The years `at` may name (instants far from now would overflow in Lanzhou time).
const AT_YEARS: std::ops::RangeInclusive<i32> = 1900..=2200;

/// `GET /events?at=`: the calendar as of `at`, or of now.
pub(crate) async fn events(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    RawQuery(raw): RawQuery,
) -> Response {
    let frame = Frame::new(&state, &headers, &uri);
    let now = match instant_param(raw.as_deref()) {
        Ok(now) => now,
        Err(err) => return err.render(&frame),
    };
    match load(&state, now).await {
        Ok(calendar) => render(StatusCode::OK, &EventsPage::new(&frame, &calendar)),
        Err(err) => err.render(&frame),
    }
}

/// The `at` parameter of a query string (RFC 3339, years [`AT_YEARS`]), or now.
pub(crate) fn instant_param(raw: Option<&str>) -> Result<OffsetDateTime, PageError> {
    let at = form_urlencoded::parse(raw.unwrap_or("").as_bytes())
        .find(|(key, _)| key == "at")
        .map(|(_, value)| value.trim().to_string())
        .filter(|value| !value.is_empty());
    let Some(at) = at else {
        return Ok(OffsetDateTime::now_utc());
    };
    OffsetDateTime::parse(&at, &Rfc3339)
        .ok()
        .filter(|t| AT_YEARS.contains(&t.year()))
        .ok_or_else(|| {
            PageError::BadRequest(format!(
                "时间参数 at 无法识别：{at}（例如 2026-12-08T09:30:00+08:00）"
            ))
        })
}

/// One event as listed.
#[derive(Debug, Clone)]
pub(crate) struct Listed {
    pub(crate) id: String,
    pub(crate) title: String,
    pub(crate) institution_name: String,
    /// The institution's id.
    pub(crate) institution: String,
    /// The institution's district, if known.
    pub(crate) district: Option<District>,
    /// The kind of activity as the source names it (`讲座`, `展览`, `活动`).
    pub(crate) activity: Option<String>,
    pub(crate) description: Option<String>,
    /// The event's page at its source.
    pub(crate) source_url: Option<String>,
    /// `YYYY-MM-DD` of the start.
    pub(crate) day: String,
    /// The start as the record gives it (ISO 8601), for ordering and the time of day.
    pub(crate) start: String,
    /// The end, if given.
    pub(crate) end: Option<String>,
    /// The record's first year, for events without a start time.
    pub(crate) year: Option<i32>,
    pub(crate) venue: Option<String>,
    pub(crate) registration_url: Option<String>,
    pub(crate) live_stream_url: Option<String>,
}

/// The events, split around today.
#[derive(Debug, Default)]
pub(crate) struct Calendar {
    /// Starting or still running today or later, soonest first.
    pub(crate) upcoming: Vec<Listed>,
    /// Over before today, most recent first.
    pub(crate) past: Vec<Listed>,
    /// Event records without a start time, newest year first (at most [`UNDATED_SHOWN`]).
    pub(crate) undated: Vec<Listed>,
    /// How many event records have no start time.
    pub(crate) undated_total: usize,
}

/// The date in Lanzhou at `now`, `YYYY-MM-DD`.
fn today(now: OffsetDateTime) -> String {
    let date = schemas::lanzhou_time(now).date();
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

/// The `YYYY-MM-DD` an ISO 8601 time starts with, if it does.
fn day_of(iso: &str) -> Option<&str> {
    let day = iso.get(..10)?;
    let bytes = day.as_bytes();
    let shaped = bytes.iter().enumerate().all(|(i, b)| {
        if i == 4 || i == 7 {
            *b == b'-'
        } else {
            b.is_ascii_digit()
        }
    });
    shaped.then_some(day)
}

/// Every event record, split around the day of `now` in Lanzhou.
pub(crate) async fn load(state: &AppState, now: OffsetDateTime) -> Result<Calendar, PageError> {
    let search = state.search.clone();
    let store = state.store.clone();
    let records = tokio::task::spawn_blocking(move || {
        let request = SearchRequest {
            filters: Filters {
                resource_types: vec![ResourceType::Event],
                ..Filters::default()
            },
            limit: MAX_EVENTS,
            sort: SortOrder::DateDesc,
            ..SearchRequest::default()
        };
        let results = search
            .search(&request)
            .map_err(crate::error::ApiError::from)?
            .results;
        let districts: std::collections::HashMap<String, District> = store
            .institutions()?
            .into_iter()
            .filter_map(|i| Some((i.id, i.district?)))
            .collect();
        let mut records = Vec::with_capacity(results.hits.len());
        for hit in &results.hits {
            if let Some(record) = store.record(&hit.id)? {
                let district = districts.get(&record.institution).copied();
                records.push((record, hit.institution_name.clone(), hit.year, district));
            }
        }
        Ok::<_, PageError>(records)
    })
    .await??;
    Ok(split(records, &today(now)))
}

/// An event record with its institution's name, its year and its institution's district.
type Found = (Record, String, Option<i32>, Option<District>);

/// Sorts `records` into a [`Calendar`] around `today` (`YYYY-MM-DD`).
fn split(records: Vec<Found>, today: &str) -> Calendar {
    let mut calendar = Calendar::default();
    for (record, institution_name, year, district) in records {
        let event = record.event.clone().unwrap_or_default();
        let start = event.start.clone().unwrap_or_default();
        let listed = Listed {
            id: record.id,
            title: record.title,
            institution_name,
            institution: record.institution,
            district,
            activity: record.resource_type_original,
            description: record.description,
            source_url: record.source_url,
            day: day_of(&start).unwrap_or_default().to_string(),
            start: start.clone(),
            end: event.end.clone(),
            year,
            venue: event.venue,
            registration_url: event.registration_url,
            live_stream_url: event.live_stream_url,
        };
        let Some(day) = day_of(&start) else {
            calendar.undated.push(listed);
            continue;
        };
        let last_day = event.end.as_deref().and_then(day_of).unwrap_or(day);
        if last_day >= today {
            calendar.upcoming.push(listed);
        } else {
            calendar.past.push(listed);
        }
    }
    let by_start = |a: &Listed, b: &Listed| a.start.cmp(&b.start).then_with(|| a.id.cmp(&b.id));
    calendar.upcoming.sort_by(by_start);
    calendar.past.sort_by(|a, b| by_start(b, a));
    calendar.past.truncate(PAST_SHOWN);
    calendar
        .undated
        .sort_by(|a, b| b.year.cmp(&a.year).then_with(|| a.id.cmp(&b.id)));
    calendar.undated_total = calendar.undated.len();
    calendar.undated.truncate(UNDATED_SHOWN);
    calendar
}

/// `2025年3月8日 星期六` for `2025-03-08`.
pub(crate) fn day_label(day: &str) -> String {
    let parts: Vec<u32> = day.split('-').filter_map(|p| p.parse().ok()).collect();
    let [year, month, date] = parts[..] else {
        return day.to_string();
    };
    let weekday = time::Month::try_from(month as u8)
        .ok()
        .and_then(|m| time::Date::from_calendar_date(year as i32, m, date as u8).ok())
        .map(|d| {
            const NAMES: [&str; 7] = ["一", "二", "三", "四", "五", "六", "日"];
            format!(
                " 星期{}",
                NAMES[usize::from(d.weekday().number_days_from_monday())]
            )
        })
        .unwrap_or_default();
    format!("{year}年{month}月{date}日{weekday}")
}

/// `14:30` from an ISO 8601 date-time, if it has a time.
fn time_of(iso: &str) -> Option<&str> {
    let time = iso.get(11..16)?;
    (iso.as_bytes().get(10) == Some(&b'T')).then_some(time)
}

/// The time of an event: `14:30–16:00`, `14:30 起`, or until another day.
pub(crate) fn time_label(event: &Listed) -> Option<String> {
    let start = time_of(&event.start);
    let end = event.end.as_deref();
    let end_day = end.and_then(day_of).filter(|d| *d != event.day);
    let end_time = end.and_then(time_of);
    match (start, end_day, end_time) {
        (_, Some(day), _) => Some(format!(
            "{}至 {}",
            start.map(|s| format!("{s} ")).unwrap_or_default(),
            day_label(day)
        )),
        (Some(s), None, Some(e)) => Some(format!("{s}–{e}")),
        (Some(s), None, None) => Some(format!("{s} 开始")),
        (None, None, _) => None,
    }
}

/// `templates/events.html`.
#[derive(Template)]
#[template(path = "events.html")]
struct EventsPage<'a> {
    frame: &'a Frame,
    title: &'static str,
    /// Every event in the results.
    all_href: String,
    upcoming: Vec<Group>,
    past: Vec<Group>,
    /// Events without a start time, by year.
    undated: Vec<Group>,
    /// Undated events not listed.
    undated_more: usize,
}

/// The events of one day (or, undated, of one year).
struct Group {
    /// `YYYY-MM-DD` (empty for a year).
    day: String,
    label: String,
    events: Vec<EventItem>,
}

/// One event as `templates/event_item.html` shows it.
struct EventItem {
    href: String,
    title: String,
    /// Time, venue and organiser, each with its label.
    meta: Vec<String>,
    links: Vec<EventLink>,
}

struct EventLink {
    href: String,
    label: &'static str,
}

impl<'a> EventsPage<'a> {
    fn new(frame: &'a Frame, calendar: &Calendar) -> EventsPage<'a> {
        let mut undated: Vec<Group> = Vec::new();
        let mut current = None;
        for event in &calendar.undated {
            if current != Some(event.year) || undated.is_empty() {
                undated.push(Group {
                    day: String::new(),
                    label: event.year.map_or_else(|| "年份不详".to_string(), year_label),
                    events: Vec::new(),
                });
                current = Some(event.year);
            }
            if let Some(group) = undated.last_mut() {
                group.events.push(event_item(event));
            }
        }
        EventsPage {
            frame,
            title: "文化活动",
            all_href: UrlState::default()
                .with("resource_type", ResourceType::Event.as_str())
                .sorted("date_desc")
                .href(),
            upcoming: by_day(&calendar.upcoming),
            past: by_day(&calendar.past),
            undated,
            undated_more: calendar.undated_total.saturating_sub(calendar.undated.len()),
        }
    }
}

/// The events under one heading per day, in the order given.
fn by_day(events: &[Listed]) -> Vec<Group> {
    let mut out: Vec<Group> = Vec::new();
    for event in events {
        if out.last().is_none_or(|group| group.day != event.day) {
            out.push(Group {
                day: event.day.clone(),
                label: day_label(&event.day),
                events: Vec::new(),
            });
        }
        if let Some(group) = out.last_mut() {
            group.events.push(event_item(event));
        }
    }
    out
}

fn event_item(event: &Listed) -> EventItem {
    let mut meta = Vec::new();
    if let Some(time) = time_label(event) {
        meta.push(format!("时间：{time}"));
    }
    if let Some(venue) = &event.venue {
        meta.push(format!("地点：{venue}"));
    }
    meta.push(format!("主办：{}", event.institution_name));
    let links = [
        (event.registration_url.as_deref(), "报名"),
        (event.live_stream_url.as_deref(), "观看直播"),
    ]
    .into_iter()
    .filter_map(|(url, label)| {
        url.and_then(safe_url).map(|href| EventLink {
            href: href.to_string(),
            label,
        })
    })
    .collect();
    EventItem {
        href: format!("/records/{}", url_segment(&event.id)),
        title: event.title.clone(),
        meta,
        links,
    }
}

#[cfg(test)]
mod tests {
    use schemas::EventInfo;

    use super::*;

    fn event(id: &str, start: Option<&str>, end: Option<&str>) -> Found {
        let mut record = Record::new(id, "lib", id);
        record.resource_type = ResourceType::Event;
        record.event = Some(EventInfo {
            start: start.map(str::to_string),
            end: end.map(str::to_string),
            ..EventInfo::default()
        });
        (record, "图书馆".to_string(), Some(2025), None)
    }

    #[test]
    fn upcoming_soonest_first_past_latest_first() {
        let calendar = split(
            vec![
                event("later", Some("2025-05-01T09:00"), None),
                event("soon", Some("2025-03-08T14:30"), Some("2025-03-08T16:00")),
                event("running", Some("2025-01-10"), Some("2025-04-30")),
                event("last-week", Some("2025-02-28T19:00+08:00"), None),
                event("long-ago", Some("2024-12-01"), None),
                event("no-start", None, None),
            ],
            "2025-03-07",
        );
        let ids = |list: &[Listed]| list.iter().map(|e| e.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&calendar.upcoming), ["running", "soon", "later"]);
        assert_eq!(ids(&calendar.past), ["last-week", "long-ago"]);
        assert_eq!(ids(&calendar.undated), ["no-start"]);
        assert_eq!(time_label(&calendar.upcoming[1]).as_deref(), Some("14:30–16:00"));
        assert_eq!(
            time_label(&calendar.upcoming[0]).as_deref(),
            Some("至 2025年4月30日 星期三")
        );
        assert_eq!(time_label(&calendar.upcoming[2]).as_deref(), Some("09:00 开始"));
    }

    #[test]
    fn days_are_labelled_with_their_weekday() {
        assert_eq!(day_label("2025-03-08"), "2025年3月8日 星期六");
        assert_eq!(day_label("garbage"), "garbage");
        assert_eq!(day_of("2025-03-08T14:30"), Some("2025-03-08"));
        assert_eq!(day_of("2025/03/08"), None);
    }
}
