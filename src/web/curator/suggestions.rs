//! `GET /curator/suggestions?library=…&order=newest|requested`, `POST
//! /curator/suggestions/{code}/answer`, `POST /curator/suggestions/{code}/merge`: the readers'
//! purchase suggestions of one's own libraries (admins: every library), with the contacts
//! left for a reply; answered (ordered / held / declined, with a public note) and merged
//! through the same service as the JSON API ([`services::suggestions`], audited).

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use schemas::InstitutionType;
use services::suggestions::{self, SuggestionError};
use store::suggestions::{SuggestionOrder, SuggestionStatus};

use super::{
    Curator, Failure, FormData, Who, done_message, id_segment, own_institutions, query_pairs, redirect,
    respond,
};
use crate::state::AppState;

/// One library the account may see, as a link.
struct LibraryLink {
    href: String,
    name: String,
    current: bool,
}

/// One suggestion with its forms.
struct Row {
    code: String,
    title: String,
    creator: Option<String>,
    isbn: Option<String>,
    reason: Option<String>,
    requesters: u64,
    status: &'static str,
    note: Option<String>,
    day: String,
    contacts: Vec<String>,
    public_href: String,
    answer_action: String,
    merge_action: String,
}

/// `templates/curator/suggestions.html`.
#[derive(Template)]
#[template(path = "curator/suggestions.html")]
struct SuggestionsPage {
    title: String,
    who: Option<Who>,
    done: Option<&'static str>,
    libraries: Vec<LibraryLink>,
    newest_href: String,
    requested_href: String,
    by_requests: bool,
    rows: Vec<Row>,
    csrf: String,
}

fn list_path(library: &str, order: &str) -> String {
    format!(
        "/curator/suggestions?library={}&order={order}",
        id_segment(library)
    )
}

fn failure(err: SuggestionError) -> Failure {
    match err {
        SuggestionError::Forbidden(_) => Failure::Forbidden,
        SuggestionError::NotFound(_) => Failure::NotFound,
        SuggestionError::Invalid(errors) => Failure::BadRequest(
            errors
                .errors
                .into_iter()
                .map(|e| e.message_zh)
                .collect::<Vec<_>>()
                .join("；"),
        ),
        SuggestionError::Store(err) => err.into(),
    }
}

/// `GET /curator/suggestions`.
pub(super) async fn list(
    State(state): State<AppState>,
    curator: Curator,
    RawQuery(raw): RawQuery,
) -> Result<Response, Failure> {
    let query = query_pairs(raw.as_deref());
    let libraries: Vec<_> = own_institutions(&state, &curator)?
        .into_iter()
        .filter(|i| i.institution_type == InstitutionType::Library)
        .collect();
    let chosen = match query.get("library") {
        "" => libraries.first().map(|l| l.id.clone()).unwrap_or_default(),
        id => id.to_string(),
    };
    let by_requests = query.get("order") == "requested";
    let order = if by_requests {
        SuggestionOrder::MostRequested
    } else {
        SuggestionOrder::Newest
    };
    let mut rows = Vec::new();
    if !chosen.is_empty() {
        let (store, principal, library) = (state.store.clone(), curator.principal.clone(), chosen.clone());
        let found = tokio::task::spawn_blocking(move || {
            let rows = suggestions::list(&store, &principal, &library, order)?;
            rows.into_iter()
                .map(|row| Ok((store.suggestion_contacts(&row.code)?, row)))
                .collect::<Result<Vec<_>, SuggestionError>>()
        })
        .await?
        .map_err(failure)?;
        for (contacts, row) in found {
            rows.push(Row {
                public_href: format!("/suggestions/{}", row.code),
                answer_action: format!("/curator/suggestions/{}/answer", row.code),
                merge_action: format!("/curator/suggestions/{}/merge", row.code),
                day: time::OffsetDateTime::from_unix_timestamp(row.created_at)
                    .map(store::analytics::day_of)
                    .unwrap_or_default(),
                status: row.status.label(),
                code: row.code,
                title: row.title,
                creator: row.creator,
                isbn: row.isbn,
                reason: row.reason,
                requesters: row.requesters,
                note: row.note,
                contacts,
            });
        }
    }
    let name = libraries
        .iter()
        .find(|l| l.id == chosen)
        .map_or_else(String::new, |l| l.name.clone());
    Ok(respond(
        StatusCode::OK,
        &SuggestionsPage {
            title: format!("读者荐购 {name}").trim().to_string(),
            who: curator.who(),
            done: done_message(query.get("done")),
            libraries: libraries
                .iter()
                .map(|l| LibraryLink {
                    href: list_path(&l.id, "newest"),
                    name: l.name.clone(),
                    current: l.id == chosen,
                })
                .collect(),
            newest_href: list_path(&chosen, "newest"),
            requested_href: list_path(&chosen, "requested"),
            by_requests,
            rows,
            csrf: curator.csrf.clone(),
        },
    ))
}

/// The status a form's `status` field names (an answer, never `open`).
fn answer_status(value: &str) -> Option<SuggestionStatus> {
    SuggestionStatus::from_name(value).filter(|s| *s != SuggestionStatus::Open)
}

/// `POST /curator/suggestions/{code}/answer`: `status`, `note`, `csrf`.
pub(super) async fn answer(
    State(state): State<AppState>,
    curator: Curator,
    Path(code): Path<String>,
    body: Bytes,
) -> Result<Response, Failure> {
    let form = FormData::parse(&body);
    curator.check_csrf(&form)?;
    let status = answer_status(form.get("status"))
        .ok_or_else(|| Failure::BadRequest("请选择答复：已订购、已有馆藏或不予采购。".into()))?;
    let (store, principal, note) = (
        state.store.clone(),
        curator.principal.clone(),
        form.get("note").to_string(),
    );
    let row = tokio::task::spawn_blocking(move || {
        suggestions::answer(
            &store,
            &principal,
            &code,
            status,
            &note,
            time::OffsetDateTime::now_utc(),
        )
    })
    .await?
    .map_err(failure)?;
    Ok(redirect(&format!(
        "{}&done=answered",
        list_path(&row.institution, "newest")
    )))
}

/// `POST /curator/suggestions/{code}/merge`: `into` (the code kept), `csrf`.
pub(super) async fn merge(
    State(state): State<AppState>,
    curator: Curator,
    Path(code): Path<String>,
    body: Bytes,
) -> Result<Response, Failure> {
    let form = FormData::parse(&body);
    curator.check_csrf(&form)?;
    let (store, principal, into) = (
        state.store.clone(),
        curator.principal.clone(),
        form.get("into").to_string(),
    );
    let row = tokio::task::spawn_blocking(move || {
        suggestions::merge(&store, &principal, &into, &code, time::OffsetDateTime::now_utc())
    })
    .await?
    .map_err(failure)?;
    Ok(redirect(&format!(
        "{}&done=merged",
        list_path(&row.institution, "newest")
    )))
}
