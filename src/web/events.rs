//! `GET /events`: the cultural events (lectures, exhibitions, performances) by date —
//! upcoming ones first, soonest first, then past ones, most recent first — grouped by day,
//! each with its time, venue, institution and its registration and live-stream links.
//!
//! Events are the records of resource type `event`; their times are the ISO 8601 text of
//! [`schemas::EventInfo`], local to Lanzhou unless they carry an offset, so "today" is the
//! date in Lanzhou time (UTC+8, [`schemas::lanzhou_time`]) at the instant of the request, or
//! at `?at=` (RFC 3339), which tests and curious readers use to see the calendar of another
//! day.
//!
//! A filter form narrows the list by dates (`from`, `to`, or `when=today|this-week|
//! this-weekend`), district, institution, kind of activity, audience, free and registration
//! ([`super::event_filter`]). An event with a live stream is marked 正在直播 while it runs
//! ([`Listed::live_at`]); after it ends, its replay (回放) is linked when the record has one.

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use indexer::{Filters, SearchRequest, SortOrder};
use schemas::{Audience, District, Record, ResourceType};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::error::PageError;
use super::event_filter::{EventFilter, EventQuery, When};
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
    let answer = async {
        let now = instant_param(raw.as_deref())?;
        let query: EventQuery = parse_page_query(raw.as_deref())?;
        let filter = query
            .filter(now)
            .map_err(|e| PageError::BadRequest(e.chinese()))?;
        let calendar = load(&state, now).await?;
        Ok::<_, PageError>(EventsPage::new(
            &frame,
            &calendar.only(&filter),
            &query,
            &filter,
            now,
            raw.as_deref(),
        ))
    };
    match answer.await {
        Ok(page) => render(StatusCode::OK, &page),
        Err(err) => err.render(&frame),
    }
}

/// The query of a page, with the API's parser's message in a page error.
fn parse_page_query(raw: Option<&str>) -> Result<EventQuery, PageError> {
    crate::extract::parse_query(raw).map_err(|e| PageError::BadRequest(format!("参数有误：{}", e.message())))
}

/// The filter a page's or feed's query string asks for, at `now`; a bad value is a 400.
pub(crate) fn query_filter(raw: Option<&str>, now: OffsetDateTime) -> Result<EventFilter, PageError> {
    parse_page_query(raw)?
        .filter(now)
        .map_err(|e| PageError::BadRequest(e.chinese()))
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
    /// Where to watch it again.
    pub(crate) replay_url: Option<String>,
    /// Whom it is for: the event's own audiences, then its curators'.
    pub(crate) audience: Vec<Audience>,
    /// Known free or paid.
    pub(crate) free: Option<bool>,
}

impl Listed {
    /// A listed event of `record` (an event record or not: its times are what it has).
    pub(crate) fn new(
        record: Record,
        institution_name: String,
        year: Option<i32>,
        district: Option<District>,
    ) -> Listed {
        let event = record.event.unwrap_or_default();
        let start = event.start.unwrap_or_default();
        let mut audience = event.audience;
        for a in record.curation.iter().flat_map(|c| &c.audiences) {
            if !audience.contains(a) {
                audience.push(*a);
            }
        }
        Listed {
            id: record.id,
            title: record.title,
            institution_name,
            institution: record.institution,
            district,
            activity: record.resource_type_original,
            description: record.description,
            source_url: record.source_url,
            day: day_of(&start).unwrap_or_default().to_string(),
            start,
            end: event.end,
            year,
            venue: event.venue,
            registration_url: event.registration_url,
            live_stream_url: event.live_stream_url,
            replay_url: event.replay_url,
            audience,
            free: event.free,
        }
    }

    /// Streaming live at `now`: it has a live-stream link and runs at `now`
    /// ([`crate::ical::event_span`]: without an end, its day, or two hours from a start time).
    pub(crate) fn live_at(&self, now: OffsetDateTime) -> bool {
        self.live_stream_url.is_some()
            && crate::ical::event_span(&self.start, self.end.as_deref())
                .is_some_and(|(from, until)| from <= now && now < until)
    }

    /// Over at `now`.
    pub(crate) fn ended_at(&self, now: OffsetDateTime) -> bool {
        crate::ical::event_span(&self.start, self.end.as_deref()).is_some_and(|(_, until)| until <= now)
    }
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
    /// Every institution, `(id, name)`, by name: what the filter form offers.
    pub(crate) institutions: Vec<(String, String)>,
    /// The kinds of activity among the events, sorted.
    pub(crate) activities: Vec<String>,
}

impl Calendar {
    /// The events that pass `filter` (all of them for an empty filter).
    pub(crate) fn only(self, filter: &EventFilter) -> Calendar {
        if filter.is_empty() {
            return self;
        }
        let keep = |list: Vec<Listed>| list.into_iter().filter(|e| filter.matches(e)).collect::<Vec<_>>();
        let undated = keep(self.undated);
        Calendar {
            upcoming: keep(self.upcoming),
            past: keep(self.past),
            undated_total: undated.len(),
            undated,
            institutions: self.institutions,
            activities: self.activities,
        }
    }
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
        let mut institutions = store.institutions()?;
        institutions.sort_by(|a, b| a.name.cmp(&b.name));
        let districts: std::collections::HashMap<String, District> = institutions
            .iter()
            .filter_map(|i| Some((i.id.clone(), i.district?)))
            .collect();
        let mut records = Vec::with_capacity(results.hits.len());
        for hit in &results.hits {
            if let Some(record) = store.record(&hit.id)? {
                let district = districts.get(&record.institution).copied();
                records.push((record, hit.institution_name.clone(), hit.year, district));
            }
        }
        let names = institutions.into_iter().map(|i| (i.id, i.name)).collect();
        Ok::<_, PageError>((records, names))
    })
    .await??;
    let (records, institutions) = records;
    let mut activities: Vec<String> = records
        .iter()
        .filter_map(|(record, ..)| record.resource_type_original.clone())
        .collect();
    activities.sort();
    activities.dedup();
    Ok(Calendar {
        institutions,
        activities,
        ..split(records, &today(now))
    })
}

/// The event record `id`, read from the store by its id (however old it is); `None` when
/// there is no such record or it is not an event.
pub(crate) async fn load_one(state: &AppState, id: &str) -> Result<Option<Listed>, PageError> {
    let store = state.store.clone();
    let id = id.to_string();
    tokio::task::spawn_blocking(move || -> Result<Option<Listed>, PageError> {
        let Some(record) = store
            .record(&id)?
            .filter(|r| r.resource_type == ResourceType::Event)
        else {
            return Ok(None);
        };
        let institution = store
            .institutions()?
            .into_iter()
            .find(|i| i.id == record.institution);
        let (name, district) =
            institution.map_or_else(|| (record.institution.clone(), None), |i| (i.name, i.district));
        let year = record.date.as_ref().and_then(|d| d.year_start);
        Ok(Some(Listed::new(record, name, year, district)))
    })
    .await?
}

/// An event record with its institution's name, its year and its institution's district.
type Found = (Record, String, Option<i32>, Option<District>);

/// Sorts `records` into a [`Calendar`] around `today` (`YYYY-MM-DD`).
fn split(records: Vec<Found>, today: &str) -> Calendar {
    let mut calendar = Calendar::default();
    for (record, institution_name, year, district) in records {
        let listed = Listed::new(record, institution_name, year, district);
        if listed.day.is_empty() {
            calendar.undated.push(listed);
            continue;
        }
        let last_day = listed
            .end
            .as_deref()
            .and_then(day_of)
            .unwrap_or(listed.day.as_str());
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
    /// The filter form, as filled in.
    form: FilterForm,
    /// Some filter is set.
    filtered: bool,
    /// Calendars and feeds to follow the events shown.
    follow: Vec<FollowLink>,
}

/// The filter form's fields, with what the query chose.
struct FilterForm {
    /// `at`, kept across a filtering.
    at: Option<String>,
    from: String,
    to: String,
    when: Vec<Choice>,
    district: Vec<Choice>,
    institution: Vec<Choice>,
    activity: Vec<Choice>,
    audience: Vec<Choice>,
    free: Vec<Choice>,
    registration: Vec<Choice>,
}

/// One option of a select: "any" (an empty value) first.
struct Choice {
    value: String,
    label: String,
    selected: bool,
}

/// The options of a select whose chosen value is `chosen`.
fn choices<'c>(chosen: Option<&str>, options: impl IntoIterator<Item = (&'c str, &'c str)>) -> Vec<Choice> {
    let chosen = chosen.map(str::trim).unwrap_or("");
    std::iter::once(("", "不限"))
        .chain(options)
        .map(|(value, label)| Choice {
            value: value.to_string(),
            label: label.to_string(),
            selected: value == chosen,
        })
        .collect()
}

impl FilterForm {
    fn new(query: &EventQuery, calendar: &Calendar) -> FilterForm {
        let text = |v: &Option<String>| v.as_deref().map(str::trim).unwrap_or("").to_string();
        // Vocabulary terms may be given as codes or labels; the form shows the code chosen.
        let district = query
            .district
            .as_deref()
            .and_then(|d| d.trim().parse::<District>().ok());
        let audience = query
            .audience
            .as_deref()
            .and_then(|a| a.trim().parse::<Audience>().ok());
        FilterForm {
            at: query
                .at
                .as_deref()
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .map(str::to_string),
            from: text(&query.from),
            to: text(&query.to),
            when: choices(
                query.when.as_deref(),
                When::ALL.iter().map(|(_, code, label)| (*code, *label)),
            ),
            district: choices(
                district.map(District::as_str),
                District::ALL.iter().map(|d| (d.as_str(), d.label())),
            ),
            institution: choices(
                query.institution.as_deref(),
                calendar
                    .institutions
                    .iter()
                    .map(|(id, name)| (id.as_str(), name.as_str())),
            ),
            activity: choices(
                query.activity.as_deref(),
                calendar.activities.iter().map(|a| (a.as_str(), a.as_str())),
            ),
            audience: choices(
                audience.map(Audience::as_str),
                Audience::ALL.iter().map(|a| (a.as_str(), a.label())),
            ),
            free: choices(query.free.as_deref(), [("true", "免费"), ("false", "收费")]),
            registration: choices(
                query.registration.as_deref(),
                [("true", "需报名"), ("false", "无需报名")],
            ),
        }
    }
}

/// A calendar or feed to subscribe to.
struct FollowLink {
    href: String,
    label: String,
}

/// The calendars that follow what `filter` chose, then the Atom feed of the same filter.
fn follow_links(filter: &EventFilter, calendar: &Calendar, raw: Option<&str>) -> Vec<FollowLink> {
    let mut links = Vec::new();
    if let Some(id) = &filter.institution {
        let name = calendar
            .institutions
            .iter()
            .find(|(i, _)| i == id)
            .map_or(id.as_str(), |(_, name)| name.as_str());
        links.push(FollowLink {
            href: format!("/calendars/institution/{}.ics", url_segment(id)),
            label: format!("订阅{name}的活动日历（iCalendar）"),
        });
    }
    if let Some(district) = filter.district {
        links.push(FollowLink {
            href: format!("/calendars/district/{}.ics", url_segment(district.as_str())),
            label: format!("订阅{}的活动日历（iCalendar）", district.label()),
        });
    }
    if let Some(activity) = &filter.activity {
        links.push(FollowLink {
            href: format!("/calendars/type/{}.ics", url_segment(activity)),
            label: format!("订阅{activity}类活动日历（iCalendar）"),
        });
    }
    let query: String = form_urlencoded::parse(raw.unwrap_or("").as_bytes())
        .filter(|(key, value)| key != "at" && !value.trim().is_empty())
        .fold(
            form_urlencoded::Serializer::new(String::new()),
            |mut out, (key, value)| {
                out.append_pair(&key, &value);
                out
            },
        )
        .finish();
    links.push(FollowLink {
        href: if query.is_empty() {
            "/events/feed.xml".to_string()
        } else {
            format!("/events/feed.xml?{query}")
        },
        label: "订阅这些活动的 Atom 信息源".to_string(),
    });
    links
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
    /// Streaming live now (正在直播).
    live: bool,
    /// Time, venue and organiser, each with its label.
    meta: Vec<String>,
    links: Vec<EventLink>,
}

struct EventLink {
    href: String,
    label: &'static str,
}

impl<'a> EventsPage<'a> {
    fn new(
        frame: &'a Frame,
        calendar: &Calendar,
        query: &EventQuery,
        filter: &EventFilter,
        now: OffsetDateTime,
        raw: Option<&str>,
    ) -> EventsPage<'a> {
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
                group.events.push(event_item(event, now));
            }
        }
        EventsPage {
            frame,
            title: "文化活动",
            all_href: UrlState::default()
                .with("resource_type", ResourceType::Event.as_str())
                .sorted("date_desc")
                .href(),
            upcoming: by_day(&calendar.upcoming, now),
            past: by_day(&calendar.past, now),
            undated,
            undated_more: calendar.undated_total.saturating_sub(calendar.undated.len()),
            form: FilterForm::new(query, calendar),
            filtered: !filter.is_empty(),
            follow: follow_links(filter, calendar, raw),
        }
    }
}

/// The events under one heading per day, in the order given.
fn by_day(events: &[Listed], now: OffsetDateTime) -> Vec<Group> {
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
            group.events.push(event_item(event, now));
        }
    }
    out
}

/// The links of an event at `now`: registration; the live stream until it ends, then its
/// replay if it has one.
fn event_links(event: &Listed, now: OffsetDateTime) -> Vec<EventLink> {
    let stream = if event.ended_at(now) {
        (event.replay_url.as_deref(), "观看回放")
    } else {
        (event.live_stream_url.as_deref(), "观看直播")
    };
    [(event.registration_url.as_deref(), "报名"), stream]
        .into_iter()
        .filter_map(|(url, label)| {
            url.and_then(safe_url).map(|href| EventLink {
                href: href.to_string(),
                label,
            })
        })
        .collect()
}

fn event_item(event: &Listed, now: OffsetDateTime) -> EventItem {
    let mut meta = Vec::new();
    if let Some(time) = time_label(event) {
        meta.push(format!("时间：{time}"));
    }
    if let Some(venue) = &event.venue {
        meta.push(format!("地点：{venue}"));
    }
    meta.push(format!("主办：{}", event.institution_name));
    if event.free == Some(true) {
        meta.push("免费".to_string());
    }
    if !event.audience.is_empty() {
        let labels: Vec<&str> = event.audience.iter().map(|a| a.label()).collect();
        meta.push(format!("适合：{}", labels.join("、")));
    }
    EventItem {
        href: format!("/records/{}", url_segment(&event.id)),
        title: event.title.clone(),
        live: event.live_at(now),
        meta,
        links: event_links(event, now),
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
