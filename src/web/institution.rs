//! `GET /institutions/{id}`: one institution — its venue (address, the week's hours with
//! today marked, open now or when it opens, facilities, its parent and its branches and
//! service points, see [`super::venues`]) and a browse of its records (the results page's
//! search, restricted to it; `?page=` pages through them) — with the institution as
//! schema.org JSON-LD.

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;

use super::error::PageError;
use super::html::SafeJson;
use super::layout::{Frame, SearchForm, render};
use super::search::{HitsView, Outcome, PagerLink, run};
use super::url_state::UrlState;
use super::venues::VenueView;
use crate::state::AppState;

pub(crate) async fn institution(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    uri: Uri,
    RawQuery(raw): RawQuery,
) -> Response {
    let frame = Frame::new(&state, &headers, &uri);
    let page = UrlState::parse(raw.as_deref()).get("page").map(str::to_string);
    let mut url = UrlState::default().with("institution", &id);
    if let Some(page) = &page {
        url = url.with("page", page);
    }
    match run(&state, &url).await {
        Ok(outcome) => match InstitutionPage::new(&frame, &url, &outcome, &id) {
            Some(page) => render(StatusCode::OK, &page),
            None => PageError::NotFound("没有这个机构，链接可能有误。".into()).render(&frame),
        },
        Err(err) => err.render(&frame),
    }
}

/// `templates/institution.html`.
#[derive(Template)]
#[template(path = "institution.html")]
struct InstitutionPage<'a> {
    frame: &'a Frame,
    title: &'a str,
    kind: &'static str,
    level: &'static str,
    district: Option<&'static str>,
    /// Searches within the institution.
    search: SearchForm<'a>,
    hits: HitsView,
    pager: Vec<PagerLink>,
    /// The visitor's facts, when it has a venue or service points.
    venue: Option<VenueView>,
    /// The institution as schema.org JSON-LD.
    jsonld: SafeJson,
    /// A library's link to the purchase suggestion form.
    purchase: Option<super::suggestions::SuggestLink>,
    /// Its id as a URL segment, for its events and their calendar.
    segment: String,
}

impl<'a> InstitutionPage<'a> {
    /// The page of institution `id`, if there is one.
    fn new(
        frame: &'a Frame,
        url: &UrlState,
        outcome: &'a Outcome,
        id: &'a str,
    ) -> Option<InstitutionPage<'a>> {
        let institution = outcome.institutions.get(id)?;
        let mut all: Vec<schemas::Institution> = outcome.institutions.values().cloned().collect();
        all.sort_by(|a, b| a.id.cmp(&b.id));
        let now = time::OffsetDateTime::now_utc();
        let parent = institution
            .venue
            .as_ref()
            .and_then(|v| v.parent.as_deref())
            .and_then(|p| outcome.institutions.get(p));
        let year = schemas::lanzhou_time(now).year();
        Some(InstitutionPage {
            purchase: super::suggestions::offer_on_institution(institution),
            venue: VenueView::new(institution, &all, now),
            jsonld: SafeJson::new(&crate::jsonld::institution_to_jsonld(institution, parent, year)),
            frame,
            title: &institution.name,
            kind: institution.institution_type.label(),
            level: institution.level.label(),
            district: institution.district.map(|d| d.label()),
            search: SearchForm {
                label: "检索词",
                ..SearchForm::new("", vec![("institution", id)])
            },
            hits: HitsView::new(url, outcome, "h3"),
            pager: institution_pager(url, outcome, id),
            segment: super::home::url_segment(id),
        })
    }
}

/// Previous and next within the institution's own page.
fn institution_pager(url: &UrlState, outcome: &Outcome, id: &str) -> Vec<PagerLink> {
    let page = outcome.page;
    let shown = page * outcome.page_size;
    let base = format!("/institutions/{}", super::home::url_segment(id));
    let mut links = Vec::new();
    if page > 1 {
        links.push(PagerLink::to(
            format!("{base}?page={}", page - 1),
            "上一页".into(),
            "prev",
        ));
    }
    if shown < outcome.results.total && shown < services::search::MAX_RESULT_WINDOW {
        links.push(PagerLink::to(
            format!("{base}?page={}", page + 1),
            "下一页".into(),
            "next",
        ));
    }
    links.push(PagerLink::to(
        url.without(&["page"]).href(),
        "按条件筛选本馆馆藏".into(),
        "",
    ));
    links
}
