//! `GET /`: the search box and the ways in — by kind of institution, upcoming events,
//! accessible formats (braille, audio, large print, sign language), by district, by
//! institution.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use schemas::{AccessibleFormat, District, InstitutionType, ResourceType};

use super::error::PageError;
use super::events::{day_label, time_label};
use super::layout::{Frame, SearchForm, render};
use super::url_state::UrlState;
use crate::state::AppState;

/// Upcoming events listed on the home page.
const UPCOMING_SHOWN: usize = 5;

pub(crate) async fn home(State(state): State<AppState>, headers: HeaderMap, uri: Uri) -> Response {
    let frame = Frame::new(&state, &headers, &uri);
    match load(&state).await {
        Ok(data) => render(StatusCode::OK, &HomePage::new(&frame, &data)),
        Err(err) => err.render(&frame),
    }
}

/// A link with its text.
pub(crate) struct Link {
    pub(crate) href: String,
    pub(crate) label: &'static str,
}

/// One upcoming event on the home page.
struct EventLine {
    href: String,
    title: String,
    when: String,
    institution: String,
    /// The live stream, while the event streams (正在直播).
    live: Option<String>,
}

/// One participating institution.
struct InstitutionLine {
    href: String,
    name: String,
    kind: &'static str,
    district: &'static str,
    count: u64,
}

/// `templates/home.html`.
#[derive(Template)]
#[template(path = "home.html")]
struct HomePage<'a> {
    frame: &'a Frame,
    title: &'static str,
    search: SearchForm<'a>,
    types: Vec<Link>,
    /// Said above the events when none is coming up.
    events_note: Option<&'static str>,
    events: Vec<EventLine>,
    upcoming: usize,
    formats: Vec<Link>,
    audio_href: String,
    districts: Vec<Link>,
    institutions: Vec<InstitutionLine>,
}

/// What the home page shows, read from the store and the index.
struct HomeData {
    institutions: Vec<schemas::Institution>,
    counts: std::collections::HashMap<String, u64>,
    calendar: super::events::Calendar,
    /// The instant the calendar is of.
    now: time::OffsetDateTime,
}

async fn load(state: &AppState) -> Result<HomeData, PageError> {
    let store = state.store.clone();
    let (institutions, counts) = tokio::task::spawn_blocking(move || {
        Ok::<_, PageError>((store.institutions()?, store.records_per_institution()?))
    })
    .await??;
    let now = time::OffsetDateTime::now_utc();
    let calendar = super::events::load(state, now).await?;
    Ok(HomeData {
        institutions,
        counts,
        calendar,
        now,
    })
}

impl<'a> HomePage<'a> {
    fn new(frame: &'a Frame, data: &HomeData) -> HomePage<'a> {
        let calendar = &data.calendar;
        // Without anything coming up, the latest past events show what the venues offer.
        let (listed, events_note) = match (calendar.upcoming.is_empty(), calendar.past.is_empty()) {
            (false, _) => (&calendar.upcoming, None),
            (true, false) => (&calendar.past, Some("近期暂无活动预告。最近举办过：")),
            (true, true) => (&calendar.past, Some("近期暂无活动预告。")),
        };
        let events = listed
            .iter()
            .take(UPCOMING_SHOWN)
            .map(|event| EventLine {
                href: format!("/records/{}", url_segment(&event.id)),
                title: event.title.clone(),
                when: match time_label(event) {
                    Some(time) => format!("{} {time}", day_label(&event.day)),
                    None => day_label(&event.day),
                },
                institution: event.institution_name.clone(),
                live: event
                    .live_stream_url
                    .as_deref()
                    .filter(|_| event.live_at(data.now))
                    .and_then(super::html::safe_url)
                    .map(str::to_string),
            })
            .collect();
        let format_label = |format: AccessibleFormat| match format {
            AccessibleFormat::Braille => "盲文读物",
            AccessibleFormat::LargePrint => "大字版图书",
            AccessibleFormat::Audio => "有声读物",
            AccessibleFormat::SignLanguage => "手语视频与活动",
        };
        HomePage {
            frame,
            title: "首页",
            search: SearchForm::new("", Vec::new()),
            types: InstitutionType::ALL
                .iter()
                .map(|kind| Link {
                    href: UrlState::default().with("institution_type", kind.as_str()).href(),
                    label: kind.label(),
                })
                .collect(),
            events_note,
            events,
            upcoming: calendar.upcoming.len(),
            formats: AccessibleFormat::ALL
                .iter()
                .map(|format| Link {
                    href: UrlState::default()
                        .with("accessible_format", format.as_str())
                        .href(),
                    label: format_label(*format),
                })
                .collect(),
            audio_href: UrlState::default()
                .with("resource_type", ResourceType::Audio.as_str())
                .href(),
            districts: District::ALL
                .iter()
                .map(|district| Link {
                    href: UrlState::default().with("region", district.as_str()).href(),
                    label: district.label(),
                })
                .collect(),
            institutions: data
                .institutions
                .iter()
                .map(|institution| InstitutionLine {
                    href: format!("/institutions/{}", url_segment(&institution.id)),
                    name: institution.name.clone(),
                    kind: institution.institution_type.label(),
                    district: institution.district.map_or("", |d| d.label()),
                    count: data.counts.get(&institution.id).copied().unwrap_or(0),
                })
                .collect(),
        }
    }
}

/// `text` percent-encoded for one path segment.
pub(crate) fn url_segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~:".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
