//! `/api/v1/suggestions…` and `/api/v1/curate/suggestions…`: readers' purchase suggestions
//! (读者荐购; the rules are [`services::suggestions`]').
//!
//! | method and path                                  | what                                        |
//! |--------------------------------------------------|---------------------------------------------|
//! | `POST /api/v1/suggestions`                       | suggest a purchase to a library (no account; `[suggestions] rate_per_ip`) |
//! | `GET /api/v1/suggestions/{code}`                 | its public status (never a contact)         |
//! | `GET /api/v1/curate/suggestions?library=…&order=` | a library's suggestions, with contacts (its curators) |
//! | `POST /api/v1/curate/suggestions/{code}/answer`  | ordered / held / declined, with a public note |
//! | `POST /api/v1/curate/suggestions/{code}/merge`   | merge `{code}` into `into`                  |

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::ApiError;
use super::endpoint::Endpoint;
use crate::access::ClientIp;
use crate::error::ErrorCode;
use crate::extract::ApiQuery;
use crate::state::AppState;
use services::auth::Principal;
use services::suggestions::{self, SuggestionInput};
use store::suggestions::{SuggestionOrder, SuggestionRow, SuggestionStatus};

/// The public routes (no account).
pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::post("/api/v1/suggestions", submit)
            .summary("Suggest a purchase to a library (读者荐购)")
            .description(
                "No account needed. A suggestion for something the library was already asked \
                 for (the same ISBN, or the same title once traditional/simplified characters, \
                 width, case and punctuation are folded) counts one more requester of that \
                 suggestion, and its code is answered (`duplicate: true`). A contact is kept only \
                 with `consent: true`, only for the library's curators, and is deleted after the \
                 configured retention (90 days by default). Limited per client address \
                 (`[suggestions] rate_per_ip`).",
            )
            .json_body::<SuggestionBody>()
            .json::<Submitted>(201, "Stored, or counted as one more requester of a duplicate")
            .errors(&[ErrorCode::ValidationFailed]),
        Endpoint::get("/api/v1/suggestions/{code}", status)
            .summary("The public status of a purchase suggestion, by its code")
            .description(
                "A merged suggestion answers with the one it was merged into (`merged_from` \
                 names the code asked for). Contacts are never shown.",
            )
            .json::<PublicSuggestion>(200, "The suggestion")
            .errors(&[ErrorCode::SuggestionNotFound]),
    ]
}

/// The curators' routes.
pub fn curate_endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::get("/api/v1/curate/suggestions", list)
            .summary("A library's purchase suggestions (its curators and admins)")
            .signed_in()
            .query::<ListQuery>()
            .json::<CuratorList>(200, "The suggestions, merged ones left out")
            .errors(&[ErrorCode::Forbidden, ErrorCode::SuggestionNotFound]),
        Endpoint::post("/api/v1/curate/suggestions/{code}/answer", answer)
            .summary("Answer a purchase suggestion: ordered, held or declined, with a public note")
            .signed_in()
            .json_body::<AnswerBody>()
            .json::<PublicSuggestion>(200, "The suggestion as answered")
            .errors(&[
                ErrorCode::Forbidden,
                ErrorCode::SuggestionNotFound,
                ErrorCode::ValidationFailed,
            ]),
        Endpoint::post("/api/v1/curate/suggestions/{code}/merge", merge)
            .summary("Merge a purchase suggestion into another of the same library")
            .signed_in()
            .json_body::<MergeBody>()
            .json::<PublicSuggestion>(200, "The suggestion kept, with the requesters of both")
            .errors(&[
                ErrorCode::Forbidden,
                ErrorCode::SuggestionNotFound,
                ErrorCode::ValidationFailed,
            ]),
    ]
}

/// A citizen's suggestion.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SuggestionBody {
    /// The library's id (an institution of type `library`).
    library: String,
    /// Title (required; at most 300 characters).
    title: String,
    /// Creator (at most 200 characters).
    #[serde(default)]
    creator: String,
    /// ISBN-10 or ISBN-13, hyphens allowed; stored as ISBN-13.
    #[serde(default)]
    isbn: String,
    /// Why the library should buy it (at most 1000 characters).
    #[serde(default)]
    reason: String,
    /// A contact for a reply (at most 200 characters); needs `consent: true`.
    #[serde(default)]
    contact: String,
    /// Agreement that the contact is kept for the retention time.
    #[serde(default)]
    consent: bool,
}

/// What a submission did.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Submitted {
    /// The suggestion's code (the existing one for a duplicate).
    code: String,
    /// True if it joined an existing suggestion as one more requester.
    duplicate: bool,
    /// The public status page.
    status_url: String,
    /// The suggestion.
    suggestion: PublicSuggestion,
}

/// A suggestion as anyone may see it: never a contact.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct PublicSuggestion {
    /// Its code.
    code: String,
    /// The library's id.
    library: String,
    /// Title.
    title: String,
    /// Creator.
    creator: Option<String>,
    /// ISBN-13.
    isbn: Option<String>,
    /// `open`, `ordered`, `held` or `declined`.
    status: String,
    /// The status in Chinese.
    status_label: String,
    /// The library's public note.
    note: Option<String>,
    /// How many people asked for it.
    requesters: u64,
    /// The first request (RFC 3339, UTC).
    created_at: String,
    /// The code asked for, when it was merged into this one.
    #[serde(skip_serializing_if = "Option::is_none")]
    merged_from: Option<String>,
}

/// RFC 3339 of Unix seconds.
pub(crate) fn rfc3339(seconds: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(seconds)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

impl PublicSuggestion {
    fn new(row: SuggestionRow, merged_from: Option<String>) -> PublicSuggestion {
        PublicSuggestion {
            code: row.code,
            library: row.institution,
            title: row.title,
            creator: row.creator,
            isbn: row.isbn,
            status: row.status.as_str().into(),
            status_label: row.status.label().into(),
            note: row.note,
            requesters: row.requesters,
            created_at: rfc3339(row.created_at),
            merged_from,
        }
    }
}

async fn submit(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    body: Result<Json<SuggestionBody>, JsonRejection>,
) -> Result<(StatusCode, Json<Submitted>), ApiError> {
    let Json(body) = body?;
    state.access.take_suggestion(client)?;
    let input = SuggestionInput {
        library: body.library,
        title: body.title,
        creator: body.creator,
        isbn: body.isbn,
        reason: body.reason,
        contact: body.contact,
        consent: body.consent,
    };
    let (store, config) = (state.store.clone(), state.suggestions);
    let done = tokio::task::spawn_blocking(move || {
        suggestions::submit(&store, &config, &input, time::OffsetDateTime::now_utc())
    })
    .await??;
    let code = done.row.code.clone();
    Ok((
        StatusCode::CREATED,
        Json(Submitted {
            status_url: format!("/suggestions/{code}"),
            code,
            duplicate: done.duplicate,
            suggestion: PublicSuggestion::new(done.row, None),
        }),
    ))
}

async fn status(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> Result<Json<PublicSuggestion>, ApiError> {
    let store = state.store.clone();
    let asked = code.clone();
    let found = tokio::task::spawn_blocking(move || suggestions::public(&store, &asked)).await??;
    let (row, merged_from) = found.ok_or(services::suggestions::SuggestionError::NotFound(code))?;
    Ok(Json(PublicSuggestion::new(row, merged_from)))
}

/// Which library's suggestions, in which order.
#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct ListQuery {
    /// The library's id.
    library: String,
    /// `newest` (default) or `requested` (most requesters first).
    #[serde(default)]
    order: Order,
}

/// The order of a list.
#[derive(Debug, Default, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Order {
    /// Newest first.
    #[default]
    Newest,
    /// Most requesters first.
    Requested,
}

impl From<Order> for SuggestionOrder {
    fn from(order: Order) -> SuggestionOrder {
        match order {
            Order::Newest => SuggestionOrder::Newest,
            Order::Requested => SuggestionOrder::MostRequested,
        }
    }
}

/// A library's suggestions.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct CuratorList {
    /// The suggestions.
    suggestions: Vec<CuratorSuggestion>,
}

/// A suggestion as its library's curators see it.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct CuratorSuggestion {
    /// The public view.
    #[serde(flatten)]
    public: PublicSuggestion,
    /// The requester's reason.
    reason: Option<String>,
    /// Contacts left (with consent) for a reply, until their retention ends.
    contacts: Vec<String>,
}

async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<CuratorList>, ApiError> {
    let store = state.store.clone();
    let rows = tokio::task::spawn_blocking(move || {
        let rows = suggestions::list(&store, &principal, &query.library, query.order.into())?;
        rows.into_iter()
            .map(|row| {
                let contacts = store.suggestion_contacts(&row.code)?;
                Ok(CuratorSuggestion {
                    reason: row.reason.clone(),
                    public: PublicSuggestion::new(row, None),
                    contacts,
                })
            })
            .collect::<Result<Vec<_>, services::suggestions::SuggestionError>>()
    })
    .await??;
    Ok(Json(CuratorList { suggestions: rows }))
}

/// A curator's answer.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AnswerBody {
    /// `ordered` (已订购), `held` (已有馆藏) or `declined` (不予采购).
    status: AnswerStatus,
    /// A public note (at most 1000 characters).
    #[serde(default)]
    note: String,
}

/// The statuses an answer may set.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum AnswerStatus {
    /// 已订购.
    Ordered,
    /// 已有馆藏.
    Held,
    /// 不予采购.
    Declined,
}

impl From<AnswerStatus> for SuggestionStatus {
    fn from(status: AnswerStatus) -> SuggestionStatus {
        match status {
            AnswerStatus::Ordered => SuggestionStatus::Ordered,
            AnswerStatus::Held => SuggestionStatus::Held,
            AnswerStatus::Declined => SuggestionStatus::Declined,
        }
    }
}

async fn answer(
    State(state): State<AppState>,
    principal: Principal,
    Path(code): Path<String>,
    body: Result<Json<AnswerBody>, JsonRejection>,
) -> Result<Json<PublicSuggestion>, ApiError> {
    let Json(body) = body?;
    let store = state.store.clone();
    let row = tokio::task::spawn_blocking(move || {
        suggestions::answer(
            &store,
            &principal,
            &code,
            body.status.into(),
            &body.note,
            time::OffsetDateTime::now_utc(),
        )
    })
    .await??;
    Ok(Json(PublicSuggestion::new(row, None)))
}

/// Which suggestion to merge into.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MergeBody {
    /// The code of the suggestion that is kept.
    into: String,
}

async fn merge(
    State(state): State<AppState>,
    principal: Principal,
    Path(code): Path<String>,
    body: Result<Json<MergeBody>, JsonRejection>,
) -> Result<Json<PublicSuggestion>, ApiError> {
    let Json(body) = body?;
    let store = state.store.clone();
    let row = tokio::task::spawn_blocking(move || {
        suggestions::merge(
            &store,
            &principal,
            &body.into,
            &code,
            time::OffsetDateTime::now_utc(),
        )
    })
    .await??;
    Ok(Json(PublicSuggestion::new(row, None)))
}
