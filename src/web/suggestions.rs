//! Readers' purchase suggestions (读者荐购) on the citizen pages:
//!
//! - `GET /suggestions/new?library=…&title=…` — the form (no account), with the library
//!   chosen and the title filled in when the link came from a search or a library's page.
//! - `POST /suggestions` — stores it through [`services::suggestions::submit`] (limited per
//!   client address, like the API) and goes to its status page; invalid fields are shown
//!   beside each input.
//! - `GET /suggestions/{code}` — the public status: title, library, status and the library's
//!   answer; never a contact.
//!
//! **Where the form is offered** ([`offer_after_search`]): under a search with a query that
//! found at most [`store::analytics::LOW_RESULTS`] (3) results, when the search is about
//! libraries — limited to libraries only (by institution or by institution type), or not
//! limited to any institution or institution type at all (a title nobody holds is most likely
//! a book, and the libraries are among those searched). A search limited to museums, art
//! galleries or cultural centres does not offer it. Every library's page offers it too.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use schemas::{Institution, InstitutionType};
use services::suggestions::{self, SuggestionInput};

use super::error::PageError;
use super::layout::{Frame, render};
use super::search::Outcome;
use crate::access::ClientIp;
use crate::state::AppState;

/// A link to the suggestion form, as a search or an institution page offers it.
pub(crate) struct SuggestLink {
    pub(crate) href: String,
    pub(crate) text: String,
}

/// The form's URL for `library` (if chosen) and `title` (if any).
fn form_href(library: Option<&str>, title: &str) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    if let Some(library) = library {
        query.append_pair("library", library);
    }
    if !title.is_empty() {
        query.append_pair("title", title);
    }
    format!("/suggestions/new?{}", query.finish())
}

/// The link on a library's page; `None` for other institutions.
pub(crate) fn offer_on_institution(institution: &Institution) -> Option<SuggestLink> {
    (institution.institution_type == InstitutionType::Library).then(|| SuggestLink {
        href: form_href(Some(&institution.id), ""),
        text: "没找到想读的书？向本馆荐购".into(),
    })
}

/// The link under a search that found little, when the search is about libraries (see the
/// module documentation); `query` is the query as typed.
pub(crate) fn offer_after_search(outcome: &Outcome, query: &str) -> Option<SuggestLink> {
    let query = query.trim();
    if query.is_empty() || outcome.results.total as u64 > store::analytics::LOW_RESULTS {
        return None;
    }
    let filters = &outcome.filters;
    let is_library = |id: &String| {
        outcome
            .institutions
            .get(id)
            .is_some_and(|i| i.institution_type == InstitutionType::Library)
    };
    let library = match filters.institutions.as_slice() {
        [] if filters.institution_types.is_empty()
            || filters.institution_types.contains(&InstitutionType::Library) =>
        {
            None
        }
        [one] if is_library(one) => Some(one.as_str()),
        several if !several.is_empty() && several.iter().all(is_library) => None,
        _ => return None,
    };
    Some(SuggestLink {
        href: form_href(library, query),
        text: format!("没有找到想要的书？向图书馆荐购“{query}”"),
    })
}

/// One library in the form's choice.
struct LibraryChoice {
    id: String,
    name: String,
    selected: bool,
}

/// `templates/suggestion_form.html`.
#[derive(Template)]
#[template(path = "suggestion_form.html")]
struct FormPage<'a> {
    frame: &'a Frame,
    title: &'static str,
    libraries: Vec<LibraryChoice>,
    values: SuggestionInput,
    /// Field errors by field name (`title`, `isbn`, `consent`, …).
    errors: Vec<(String, String)>,
    /// A problem with the whole submission (too many at once).
    notice: Option<&'static str>,
    retention_days: u32,
}

impl FormPage<'_> {
    /// The error of `field`, if any.
    fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }
}

fn libraries(state: &AppState, chosen: &str) -> Result<Vec<LibraryChoice>, PageError> {
    let mut libraries: Vec<LibraryChoice> = state
        .store
        .institutions()?
        .into_iter()
        .filter(|i| i.institution_type == InstitutionType::Library)
        .map(|i| LibraryChoice {
            selected: i.id == chosen,
            id: i.id,
            name: i.name,
        })
        .collect();
    libraries.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(libraries)
}

fn form_page<'a>(
    state: &AppState,
    frame: &'a Frame,
    values: SuggestionInput,
    errors: Vec<(String, String)>,
    notice: Option<&'static str>,
) -> Result<FormPage<'a>, PageError> {
    Ok(FormPage {
        frame,
        title: "读者荐购",
        libraries: libraries(state, &values.library)?,
        values,
        errors,
        notice,
        retention_days: state.suggestions.contact_retention_days,
    })
}

/// The first value of `name` in a form or query string.
fn field(pairs: &[(String, String)], name: &str) -> String {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

fn pairs(bytes: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(bytes)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// `GET /suggestions/new`: the form.
pub(crate) async fn new_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    RawQuery(raw): RawQuery,
) -> Response {
    let frame = Frame::new(&state, &headers, &uri);
    let query = pairs(raw.unwrap_or_default().as_bytes());
    let values = SuggestionInput {
        library: field(&query, "library"),
        title: field(&query, "title")
            .chars()
            .take(suggestions::LIMITS.title)
            .collect(),
        ..SuggestionInput::default()
    };
    match form_page(&state, &frame, values, Vec::new(), None) {
        Ok(page) => render(StatusCode::OK, &page),
        Err(err) => err.render(&frame),
    }
}

/// `POST /suggestions`: stores the suggestion and goes to its status page.
pub(crate) async fn submit(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    let frame = Frame::new(&state, &headers, &uri);
    let form = pairs(&body);
    let input = SuggestionInput {
        library: field(&form, "library"),
        title: field(&form, "title"),
        creator: field(&form, "creator"),
        isbn: field(&form, "isbn"),
        reason: field(&form, "reason"),
        contact: field(&form, "contact"),
        consent: field(&form, "consent") == "yes",
    };
    let again = |input, errors, notice, status| match form_page(&state, &frame, input, errors, notice) {
        Ok(page) => render(status, &page),
        Err(err) => err.render(&frame),
    };
    if state.access.take_suggestion(client).is_err() {
        return again(
            input,
            Vec::new(),
            Some("提交过于频繁，请稍后再试。"),
            StatusCode::TOO_MANY_REQUESTS,
        );
    }
    let (store, config, sent) = (state.store.clone(), state.suggestions, input.clone());
    let done = tokio::task::spawn_blocking(move || {
        suggestions::submit(&store, &config, &sent, time::OffsetDateTime::now_utc())
    })
    .await;
    match done {
        Ok(Ok(done)) => {
            let sent = if done.duplicate { "duplicate" } else { "new" };
            see_other(&format!("/suggestions/{}?sent={sent}", done.row.code))
        }
        Ok(Err(suggestions::SuggestionError::Invalid(invalid))) => {
            let errors = invalid
                .errors
                .into_iter()
                .map(|e| (e.field, e.message_zh))
                .collect();
            again(input, errors, None, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Ok(Err(err)) => {
            tracing::error!("suggestion page: {err}");
            PageError::Internal.render(&frame)
        }
        Err(err) => PageError::from(err).render(&frame),
    }
}

fn see_other(location: &str) -> Response {
    let mut headers = HeaderMap::new();
    if let Ok(value) = HeaderValue::from_str(location) {
        headers.insert(header::LOCATION, value);
    }
    (StatusCode::SEE_OTHER, headers).into_response()
}

/// `templates/suggestion.html`.
#[derive(Template)]
#[template(path = "suggestion.html")]
struct StatusPage<'a> {
    frame: &'a Frame,
    title: String,
    code: String,
    /// The confirmation after a submission.
    sent: Option<String>,
    /// The code asked for, when it was merged into this one.
    merged_from: Option<String>,
    book: String,
    creator: Option<String>,
    isbn: Option<String>,
    library: String,
    library_href: String,
    status: &'static str,
    answered: bool,
    note: Option<String>,
    requesters: u64,
    day: String,
}

/// `GET /suggestions/{code}`: the public status.
pub(crate) async fn status(
    State(state): State<AppState>,
    Path(code): Path<String>,
    headers: HeaderMap,
    uri: Uri,
    RawQuery(raw): RawQuery,
) -> Response {
    let frame = Frame::new(&state, &headers, &uri);
    let store = state.store.clone();
    let found = tokio::task::spawn_blocking(move || {
        let found = suggestions::public(&store, &code)?;
        Ok::<_, store::StoreError>((found, store.institutions()?))
    })
    .await;
    let (row, merged_from, institutions) = match found {
        Ok(Ok((Some((row, merged_from)), institutions))) => (row, merged_from, institutions),
        Ok(Ok((None, _))) => {
            return PageError::NotFound("没有这个荐购编号，请核对后再试。".into()).render(&frame);
        }
        Ok(Err(err)) => return PageError::from(err).render(&frame),
        Err(err) => return PageError::from(err).render(&frame),
    };
    let sent = match field(&pairs(raw.unwrap_or_default().as_bytes()), "sent").as_str() {
        "new" => Some(format!(
            "已收到您的荐购。请记下荐购编号 {}，凭它随时查看图书馆的答复。",
            row.code
        )),
        "duplicate" => Some(format!(
            "已有读者荐购过这本书，您的荐购已计入（现共 {} 位读者）。荐购编号 {}。",
            row.requesters, row.code
        )),
        _ => None,
    };
    let library = institutions
        .iter()
        .find(|i| i.id == row.institution)
        .map_or_else(|| row.institution.clone(), |i| i.name.clone());
    let day = time::OffsetDateTime::from_unix_timestamp(row.created_at)
        .map(store::analytics::day_of)
        .unwrap_or_default();
    let page = StatusPage {
        frame: &frame,
        title: format!("荐购 {}", row.code),
        sent,
        merged_from,
        library_href: format!("/institutions/{}", super::home::url_segment(&row.institution)),
        library,
        status: row.status.label(),
        answered: row.status != store::suggestions::SuggestionStatus::Open,
        note: row.note,
        requesters: row.requesters,
        book: row.title,
        creator: row.creator,
        isbn: row.isbn,
        code: row.code,
        day,
    };
    render(StatusCode::OK, &page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_links_carry_library_and_title() {
        assert_eq!(
            form_href(Some("lzlib"), "紅樓夢 & 续"),
            "/suggestions/new?library=lzlib&title=%E7%B4%85%E6%A8%93%E5%A4%A2+%26+%E7%BB%AD"
        );
        assert_eq!(form_href(None, ""), "/suggestions/new?");
    }
}
