//! Venues on the citizen pages: the institution page's visitor facts (address, phone, the
//! week's hours with today marked, "open now" or "closed, opens at …", facilities, its
//! branches and service points), the directory `/institutions` (filtered by district, type,
//! facility and "open now"), and `/mobile-stops`, the next visits of the mobile services in
//! a district.
//!
//! Every time is Lanzhou time (UTC+8), and "now" is the server's clock; the rules are the
//! services' ([`services::institutions::VenueFilter`]) and the schemas' (opening hours).

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use schemas::{
    District, Facility, Institution, InstitutionType, MobileServiceKind, OpenStatus, ServicePointKind,
    Weekday,
};
use services::institutions::{VenueFilter, service_points, status};
use time::{Date, OffsetDateTime};

use super::error::PageError;
use super::home::url_segment;
use super::html::safe_url;
use super::layout::{Frame, render};
use crate::error::ApiError;
use crate::state::AppState;

/// How many days ahead `/mobile-stops` looks.
const STOP_DAYS: u16 = 30;
/// How many visits it lists.
const STOPS_SHOWN: usize = 30;

fn date_label(date: Date) -> String {
    format!(
        "{}月{}日 {}",
        u8::from(date.month()),
        date.day(),
        Weekday::of(date).label()
    )
}

fn clock(instant: OffsetDateTime) -> String {
    let local = schemas::lanzhou_time(instant);
    format!("{:02}:{:02}", local.hour(), local.minute())
}

/// "今天 21:00", "明天 09:00" or "12月10日 周四 09:00".
fn when(instant: OffsetDateTime, now: OffsetDateTime) -> String {
    let (day, today) = (
        schemas::lanzhou_time(instant).date(),
        schemas::lanzhou_time(now).date(),
    );
    let prefix = if day == today {
        "今天".to_string()
    } else if today.next_day() == Some(day) {
        "明天".to_string()
    } else {
        date_label(day)
    };
    format!("{prefix} {}", clock(instant))
}

/// The status line of a venue: open or not, and the text for people.
fn status_line(status: Option<OpenStatus>, now: OffsetDateTime) -> (bool, String) {
    match status {
        None => (false, "暂无开放时间信息".into()),
        Some(OpenStatus {
            open_now: true,
            closes_at: None,
            ..
        }) => (true, "正在开放（全天开放）".into()),
        Some(OpenStatus {
            open_now: true,
            closes_at: Some(closes),
            ..
        }) => (true, format!("正在开放，{}闭馆", when(closes, now))),
        Some(OpenStatus {
            next_open: Some(opens),
            ..
        }) => (false, format!("已闭馆，{}开放", when(opens, now))),
        Some(_) => (false, "已闭馆，暂无开放时间安排".into()),
    }
}

/// One day of the week's hours.
pub(crate) struct DayRow {
    pub(crate) label: String,
    pub(crate) hours: String,
    pub(crate) today: bool,
    pub(crate) late: bool,
    pub(crate) note: Option<String>,
}

/// Another institution as linked.
pub(crate) struct Linked {
    pub(crate) href: String,
    pub(crate) name: String,
    pub(crate) kind: Option<&'static str>,
    pub(crate) status: String,
    pub(crate) open: bool,
}

impl Linked {
    fn new(institution: &Institution, now: OffsetDateTime) -> Linked {
        let (open, status) = status_line(status(institution, now), now);
        Linked {
            href: format!("/institutions/{}", url_segment(&institution.id)),
            name: institution.name.clone(),
            kind: institution.venue.as_ref().and_then(|v| v.kind).map(|k| k.label()),
            status,
            open,
        }
    }
}

/// The visitor's facts on an institution's page.
pub(crate) struct VenueView {
    pub(crate) kind: Option<&'static str>,
    pub(crate) address: Option<String>,
    pub(crate) phone: Option<String>,
    pub(crate) website: Option<String>,
    pub(crate) admission: Option<String>,
    pub(crate) facilities: Vec<&'static str>,
    /// Open now, and the status line.
    pub(crate) open: bool,
    pub(crate) status: String,
    /// The seven days from today (empty without hours).
    pub(crate) week: Vec<DayRow>,
    pub(crate) hours_note: Option<String>,
    pub(crate) parent: Option<Linked>,
    pub(crate) service_points: Vec<Linked>,
}

impl VenueView {
    /// The view of `institution` among `all` at `now`; `None` when it has no venue and no
    /// service points.
    pub(crate) fn new(
        institution: &Institution,
        all: &[Institution],
        now: OffsetDateTime,
    ) -> Option<VenueView> {
        let points: Vec<Linked> = service_points(all, &institution.id)
            .into_iter()
            .map(|i| Linked::new(i, now))
            .collect();
        let venue = institution.venue.as_ref();
        if venue.is_none() && points.is_empty() {
            return None;
        }
        let hours = venue.and_then(|v| v.hours.as_ref());
        let (open, status) = status_line(status(institution, now), now);
        let week = hours.map_or_else(Vec::new, |h| {
            h.week_from(now)
                .into_iter()
                .enumerate()
                .map(|(n, day)| DayRow {
                    label: date_label(day.date),
                    hours: if day.intervals.is_empty() {
                        "闭馆".into()
                    } else if day.intervals == [(0, 1440)] {
                        "全天开放".into()
                    } else {
                        day.intervals
                            .iter()
                            .map(|&(a, b)| {
                                format!("{}–{}", schemas::format_clock(a), schemas::format_clock(b))
                            })
                            .collect::<Vec<_>>()
                            .join("，")
                    },
                    today: n == 0,
                    late: day.is_late(),
                    note: h.note_of(&day).map(str::to_string),
                })
                .collect()
        });
        let parent = venue
            .and_then(|v| v.parent.as_deref())
            .and_then(|p| all.iter().find(|i| i.id == p))
            .map(|p| Linked::new(p, now));
        Some(VenueView {
            kind: venue.and_then(|v| v.kind).map(|k| k.label()),
            address: venue.and_then(|v| v.address.clone()),
            phone: venue.and_then(|v| v.phone.clone()),
            website: venue
                .and_then(|v| v.website.as_deref())
                .and_then(safe_url)
                .map(str::to_string),
            admission: venue.and_then(|v| v.admission.as_ref()).map(|a| {
                let kind = match a.kind {
                    schemas::AdmissionKind::Free => "免费开放",
                    schemas::AdmissionKind::Ticketed => "凭票入场",
                };
                match &a.note {
                    Some(note) => format!("{kind}（{note}）"),
                    None => kind.to_string(),
                }
            }),
            facilities: venue.map_or_else(Vec::new, |v| v.facilities.iter().map(|f| f.label()).collect()),
            open,
            status,
            week,
            hours_note: hours.and_then(|h| h.note.clone()),
            parent,
            service_points: points,
        })
    }
}

/// Reads from the store off the async threads; a failure is logged and a 500 page.
async fn read<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&store::Store) -> store::Result<T> + Send + 'static,
) -> Result<T, PageError> {
    let store = state.store.clone();
    let found = tokio::task::spawn_blocking(move || f(&store))
        .await
        .map_err(ApiError::from)?;
    Ok(found.map_err(ApiError::from)?)
}

/// A choice of a filter's `<select>`.
struct Choice {
    value: &'static str,
    label: &'static str,
    selected: bool,
}

fn choices<T: Copy + PartialEq>(
    all: &[T],
    chosen: Option<T>,
    value: fn(T) -> &'static str,
    label: fn(T) -> &'static str,
) -> Vec<Choice> {
    all.iter()
        .map(|&t| Choice {
            value: value(t),
            label: label(t),
            selected: chosen == Some(t),
        })
        .collect()
}

/// Parses a filter parameter, or says which one is wrong.
fn term<T: std::str::FromStr>(value: Option<&str>, what: &str) -> Result<Option<T>, PageError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v
            .parse()
            .map(Some)
            .map_err(|_| PageError::BadRequest(format!("没有这个{what}：{v}"))),
    }
}

fn params(raw: Option<&str>) -> Vec<(String, String)> {
    form_urlencoded::parse(raw.unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

fn param<'a>(params: &'a [(String, String)], key: &str) -> Option<&'a str> {
    params.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// One institution in the directory.
struct Entry {
    link: Linked,
    type_label: &'static str,
    district: Option<&'static str>,
    address: Option<String>,
    facilities: Vec<&'static str>,
    late: bool,
}

/// `templates/directory.html`.
#[derive(Template)]
#[template(path = "directory.html")]
struct DirectoryPage<'a> {
    frame: &'a Frame,
    title: &'static str,
    districts: Vec<Choice>,
    types: Vec<Choice>,
    facilities: Vec<Choice>,
    open_now: bool,
    entries: Vec<Entry>,
}

/// `GET /institutions?district=&type=&facility=&open_now=1`: the directory.
pub(crate) async fn directory(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    RawQuery(raw): RawQuery,
) -> Response {
    let frame = Frame::new(&state, &headers, &uri);
    let params = params(raw.as_deref());
    let parsed = (|| {
        Ok::<_, PageError>((
            term::<District>(param(&params, "district"), "区县")?,
            term::<InstitutionType>(param(&params, "type"), "机构类型")?,
            term::<Facility>(param(&params, "facility"), "服务设施")?,
            term::<ServicePointKind>(param(&params, "kind"), "服务点类型")?,
        ))
    })();
    let (district, institution_type, facility, kind) = match parsed {
        Ok(parsed) => parsed,
        Err(err) => return err.render(&frame),
    };
    let open_now = matches!(param(&params, "open_now"), Some("1" | "true" | "on"));
    let all = match read(&state, |store| store.institutions()).await {
        Ok(all) => all,
        Err(err) => return err.render(&frame),
    };
    let now = OffsetDateTime::now_utc();
    let today = schemas::lanzhou_time(now).date();
    let filter = VenueFilter {
        district,
        institution_type,
        facility,
        kind,
        open_now: open_now.then_some(true),
    };
    let entries = all
        .iter()
        .filter(|i| filter.matches(i, now))
        .map(|i| {
            let venue = i.venue.as_ref();
            Entry {
                link: Linked::new(i, now),
                type_label: i.institution_type.label(),
                district: i.district.map(|d| d.label()),
                address: venue.and_then(|v| v.address.clone()),
                facilities: venue.map_or_else(Vec::new, |v| v.facilities.iter().map(|f| f.label()).collect()),
                late: venue
                    .and_then(|v| v.hours.as_ref())
                    .is_some_and(|h| h.on(today).is_late()),
            }
        })
        .collect();
    let page = DirectoryPage {
        frame: &frame,
        title: "场馆与服务点",
        districts: choices(District::ALL, district, District::as_str, District::label),
        types: choices(
            InstitutionType::ALL,
            institution_type,
            InstitutionType::as_str,
            InstitutionType::label,
        ),
        facilities: choices(Facility::ALL, facility, Facility::as_str, Facility::label),
        open_now,
        entries,
    };
    render(StatusCode::OK, &page)
}

/// One coming visit of a mobile service.
struct Visit {
    route: String,
    kind: &'static str,
    stop: String,
    district: &'static str,
    when: String,
}

/// `templates/mobile_stops.html`.
#[derive(Template)]
#[template(path = "mobile_stops.html")]
struct StopsPage<'a> {
    frame: &'a Frame,
    title: &'static str,
    districts: Vec<Choice>,
    district: Option<&'static str>,
    visits: Vec<Visit>,
}

/// `GET /mobile-stops?district=`: the next visits of the mobile services.
pub(crate) async fn mobile_stops(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    RawQuery(raw): RawQuery,
) -> Response {
    let frame = Frame::new(&state, &headers, &uri);
    let params = params(raw.as_deref());
    let district = match term::<District>(param(&params, "district"), "区县") {
        Ok(district) => district,
        Err(err) => return err.render(&frame),
    };
    let kind = match term::<MobileServiceKind>(param(&params, "kind"), "流动服务类型") {
        Ok(kind) => kind,
        Err(err) => return err.render(&frame),
    };
    let routes = match read(&state, |store| store.mobile_routes()).await {
        Ok(routes) => routes,
        Err(err) => return err.render(&frame),
    };
    let now = OffsetDateTime::now_utc();
    let visits = schemas::next_stops(&routes, district, kind, now, STOP_DAYS, STOPS_SHOWN)
        .into_iter()
        .map(|v| Visit {
            route: v.route.name.clone(),
            kind: v.route.kind.label(),
            stop: v.stop().name.clone(),
            district: v.stop().district.label(),
            when: format!("{}–{}", when(v.starts, now), clock(v.ends)),
        })
        .collect();
    let page = StopsPage {
        frame: &frame,
        title: "流动服务停靠点",
        districts: choices(District::ALL, district, District::as_str, District::label),
        district: district.map(|d| d.label()),
        visits,
    };
    render(StatusCode::OK, &page)
}
