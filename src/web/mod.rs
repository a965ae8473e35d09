//! The citizen web pages: server-rendered HTML in Chinese, over the same state as the API.
//!
//! - `/` — [`home`]: the search box, entry points by institution type and district, the
//!   institutions with their record counts.
//! - `/search` — [`search`]: results with highlights, facets, a year range and paging. The
//!   URL holds the whole state, so every result page can be shared and bookmarked.
//! - `/events` — [`events`]: cultural events by date, upcoming first, then past ones
//!   (`?at=` for the calendar as of another instant).
//! - `/events/{id}.ics`, `/calendars/{institution|district|type}/{value}.ics` —
//!   [`calendars`]: one event, or the upcoming events of an institution, a district or a kind
//!   of activity, as iCalendar for calendar apps; `/events/feed.xml` — [`event_feed`]: the
//!   upcoming events as Atom, with the same filters as query parameters.
//! - `/records/{id}` — [`record`]: every field, holdings per branch, a citation and the
//!   record as schema.org JSON-LD.
//! - `/institutions/{id}` — [`institution`]: one institution — address, hours for the week
//!   with today marked, open now or when it opens, facilities, its branches and service
//!   points ([`venues`]) — and a browse of its records, with the institution as JSON-LD.
//! - `/institutions` — [`venues`]: the directory of venues and service points, filtered by
//!   district, type, facility and "open now"; `/mobile-stops` — the next visits of the
//!   mobile services (流动图书车, 舞台车) in a district.
//! - `/suggestions/new`, `/suggestions`, `/suggestions/{code}` — [`suggestions`]: readers'
//!   purchase suggestions (读者荐购): the form (offered under a library search that found
//!   little and on every library's page), and each suggestion's public status by its code.
//! - `/display` — switches the large-text, high-contrast mode (a cookie) and goes back.
//! - `/static/…` — the stylesheet and the autocomplete script, compiled into the binary so
//!   the pages work on an intranet without any CDN.
//!
//! **Pages are askama templates** (`templates/*.html`, the curator pages under
//! `templates/curator/`), compiled into the binary and checked by the compiler: a template
//! that names a missing field or method does not build. Each handler fills a view struct
//! (`#[derive(Template)]`) with plain values, and the template escapes every `{{ value }}`
//! by default, so no page can forget to escape anything. The escaper is ours
//! ([`html::Html`], named in `askama.toml`), writing the named entities the pages always
//! wrote. Only two kinds of value are written unescaped, with `|safe`, and each is a
//! newtype whose constructor does the checking: [`html::Highlight`] (the indexer's
//! highlights, checked to contain nothing but `<em>` tags, or escaped whole) and
//! [`html::SafeJson`] (the JSON-LD, with `<`, `>` and `&` as `\u` escapes so that no
//! record text can close its `<script>`). A test reads every template and fails on any
//! other `|safe`.
//!
//! Why askama: its templates are HTML files with the Jinja syntax that people who write
//! HTML already know, checked at compile time, escaping by default for `.html`; maud would
//! have kept the HTML inside Rust macros, where only Rust programmers can edit it, and
//! run-time engines (tera, minijinja) would find a mistyped field only when a page is shown.

mod calendars;
pub(crate) mod curator;
pub mod dashboard;
mod error;
mod event_feed;
pub(crate) mod event_filter;
pub(crate) mod events;
mod home;
mod html;
mod institution;
mod layout;
mod record;
mod search;
mod suggestions;
mod url_state;
mod venues;

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

pub(crate) use home::url_segment;

use crate::state::AppState;

/// The stylesheet, served at `/static/site.css`.
const STYLESHEET: &str = include_str!("../../web/site.css");
/// The autocomplete script, served at `/static/suggest.js`.
const SUGGEST_SCRIPT: &str = include_str!("../../web/suggest.js");

/// Every citizen page and its static files.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home::home))
        .route("/search", get(search::search))
        .route("/events", get(events::events))
        .route("/events/feed.xml", get(event_feed::feed))
        .route("/events/{file}", get(calendars::event_ics))
        .route("/calendars/{kind}/{file}", get(calendars::feed_ics))
        .route("/records/{id}", get(record::record))
        .route("/institutions", get(venues::directory))
        .route("/institutions/{id}", get(institution::institution))
        .route("/mobile-stops", get(venues::mobile_stops))
        .route("/suggestions", axum::routing::post(suggestions::submit))
        .route("/suggestions/new", get(suggestions::new_form))
        .route("/suggestions/{code}", get(suggestions::status))
        .route("/display", get(layout::switch_display))
        .route("/static/site.css", get(stylesheet))
        .route("/static/suggest.js", get(suggest_script))
        .merge(curator::router())
}

async fn stylesheet() -> Response {
    static_file(STYLESHEET, "text/css; charset=utf-8")
}

async fn suggest_script() -> Response {
    static_file(SUGGEST_SCRIPT, "text/javascript; charset=utf-8")
}

fn static_file(body: &'static str, content_type: &'static str) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    // The files change only with the binary; a day of caching keeps revisits light.
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    (StatusCode::OK, headers, body).into_response()
}
