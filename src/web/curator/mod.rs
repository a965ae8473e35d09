//! The curator pages: server-rendered HTML in Chinese under `/curator/…`, over the curation
//! service ([`services::curate`]) and the accounts and sessions of [`services::auth`].
//!
//! | method and path                              | what                                          |
//! |----------------------------------------------|-----------------------------------------------|
//! | `GET /curator`                               | [`list`]: one's own records; search, state, type, institution |
//! | `GET`, `POST /curator/login`                 | [`login`]: the login form (lockout explained) |
//! | `POST /curator/logout`                       | ends the session                              |
//! | `GET /curator/records/new`, `POST /curator/records` | [`records`]: the create form           |
//! | `GET`, `POST /curator/records/{id}`          | the edit page (form, images, delete) and its save |
//! | `POST /curator/records/{id}/delete`, `…/restore` | soft delete and restore                   |
//! | `POST /curator/records/{id}/images`          | [`images`]: multipart upload (file + alt text) |
//! | `POST /curator/records/{id}/images/change`   | move up/down, change alt text, remove         |
//! | `GET /curator/records/{id}/history`          | [`history`]: who changed what, when           |
//! | `GET /curator/venues`, `GET`, `POST /curator/institutions/{id}/venue` | [`venue`]: one's own institutions' weekly hours and facilities |
//! | `GET /curator/suggestions`, `POST /curator/suggestions/{code}/answer`, `…/merge` | [`suggestions`]: readers' purchase suggestions of one's own libraries: answer, merge |
//! | `GET`, `POST /curator/statistics`           | [`statistics`]: CSV upload of daily service statistics, with per-row errors |
//! | `GET /static/curator.css`, `/static/curator.js` | the pages' stylesheet and small script     |
//!
//! **Why plain form posts.** Every form is an ordinary HTML form posted to these handlers,
//! not a script calling the JSON API: the pages then work without JavaScript (old office
//! browsers, locked-down intranets, screen readers), they can be tested over plain HTTP,
//! and validation messages are rendered on the server beside each field with
//! `aria-invalid` and `aria-describedby`, where a screen reader finds them. The script
//! (`web/curator.js`) only adds conveniences: a preview of the image chosen for upload and
//! hiding the event fields for records that are not events.
//!
//! **CSRF.** The session cookie is `SameSite=Strict` already; in addition every form carries
//! the session's CSRF token in a hidden `csrf` field (a synchronizer token: the token is
//! stored with the session), compared in constant time before anything is changed. The
//! JSON API's `X-CSRF-Token` header cannot be sent by a plain form, which is why these
//! handlers read the session themselves ([`crate::extract::session_principal`]) instead of
//! taking the [`Principal`] extractor.
//!
//! **Lost updates.** The edit form carries the version it was rendered from; saving sends
//! it as `If-Match`, so a stale form is refused with a message (and the entered values kept).
//!
//! The pages are askama templates under `templates/curator/`, which escape every value
//! (see [`crate::web`]); no value is ever written into them unescaped.

mod form;
mod history;
mod images;
mod list;
mod login;
mod records;
mod statistics;
mod suggestions;
mod venue;

use askama::Template;
use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};

use crate::error::ApiError;
use crate::state::AppState;
use services::auth::{Principal, secret};
use services::curate::CurateError;
use services::curate::images::ImageLimits;

/// The curator stylesheet, served at `/static/curator.css`.
const STYLESHEET: &str = include_str!("../../../web/curator.css");
/// The curator script, served at `/static/curator.js`.
const SCRIPT: &str = include_str!("../../../web/curator.js");

/// Every curator page except the image upload (see [`upload_router`]).
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/curator", get(list::list))
        .route("/curator/login", get(login::form).post(login::submit))
        .route("/curator/logout", post(login::logout))
        .route("/curator/records", post(records::create))
        .route("/curator/records/new", get(records::new_form))
        .route("/curator/records/{id}", get(records::edit).post(records::update))
        .route("/curator/records/{id}/delete", post(records::delete))
        .route("/curator/records/{id}/restore", post(records::restore))
        .route("/curator/records/{id}/images/change", post(images::change))
        .route("/curator/records/{id}/history", get(history::history))
        .route("/curator/venues", get(venue::list))
        .route("/curator/suggestions", get(suggestions::list))
        .route("/curator/suggestions/{code}/answer", post(suggestions::answer))
        .route("/curator/suggestions/{code}/merge", post(suggestions::merge))
        .route(
            "/curator/statistics",
            get(statistics::form).post(statistics::upload),
        )
        .route(
            "/curator/institutions/{id}/venue",
            get(venue::form).post(venue::save),
        )
        .route("/static/curator.css", get(stylesheet))
        .route("/static/curator.js", get(script))
}

/// The image upload form's route. Uploads are larger than the server's general body limit,
/// so the server mounts this router beside the API's own upload routes, and it caps the raw
/// body itself.
pub(crate) fn upload_router(limits: &ImageLimits) -> Router<AppState> {
    images::upload_router(limits)
}

async fn stylesheet() -> Response {
    super::static_file(STYLESHEET, "text/css; charset=utf-8")
}

async fn script() -> Response {
    super::static_file(SCRIPT, "text/javascript; charset=utf-8")
}

/// A logged-in account on a curator page, with its session's CSRF token.
#[derive(Debug, Clone)]
pub(crate) struct Curator {
    principal: Principal,
    csrf: String,
}

/// Who is logged in, as the frame of every curator page (`templates/curator/base.html`)
/// shows it, with the session's CSRF token for the logout form.
pub(crate) struct Who {
    username: String,
    role: &'static str,
    csrf: String,
}

impl Curator {
    /// The account for the page's frame.
    fn who(&self) -> Option<Who> {
        Some(Who {
            username: self.principal.username.clone(),
            role: if self.principal.is_admin() {
                "管理员"
            } else {
                "馆员"
            },
            csrf: self.csrf.clone(),
        })
    }

    /// Refuses a form whose `csrf` field is not this session's token.
    fn check_csrf(&self, form: &FormData) -> Result<(), Failure> {
        if secret::equal(form.get("csrf"), &self.csrf) {
            Ok(())
        } else {
            Err(Failure::Csrf)
        }
    }
}

impl FromRequestParts<AppState> for Curator {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Failure> {
        match crate::extract::session_principal(parts, state).await {
            Ok(Some((principal, csrf))) => Ok(Curator { principal, csrf }),
            Ok(None) => {
                let next = parts.uri.path_and_query().map_or("/curator", |pq| pq.as_str());
                // After a post, come back to the page the form was on, not to the post.
                let next = if parts.method == axum::http::Method::GET {
                    next.to_string()
                } else {
                    "/curator".to_string()
                };
                Err(Failure::LoginRequired(next))
            }
            Err(err) => {
                tracing::error!("curator page: session lookup failed: {err:?}");
                Err(Failure::Internal)
            }
        }
    }
}

/// A submitted `application/x-www-form-urlencoded` body, in order (repeated names kept).
#[derive(Debug, Default, Clone)]
pub(crate) struct FormData(Vec<(String, String)>);

impl FormData {
    /// Parses a body.
    fn parse(body: &[u8]) -> FormData {
        FormData(
            form_urlencoded::parse(body)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// The first value of `name`, or `""`.
    fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// Every value of `name`.
    fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// Why a curator page could not be shown or a form not be applied.
#[derive(Debug)]
pub(crate) enum Failure {
    /// No live session: go to the login form, then back to this path.
    LoginRequired(String),
    /// The form's CSRF token is missing or wrong (403).
    Csrf,
    /// Not this account's to see or change (403).
    Forbidden,
    /// No such record, or withdrawn and not this account's (404).
    NotFound,
    /// The request makes no sense (400).
    BadRequest(String),
    /// Our fault; logged (500).
    Internal,
}

impl From<CurateError> for Failure {
    fn from(err: CurateError) -> Self {
        match err {
            CurateError::Forbidden(_) => Failure::Forbidden,
            CurateError::NotFound(_) => Failure::NotFound,
            CurateError::Store(err) => {
                tracing::error!("curator page: store failed: {err}");
                Failure::Internal
            }
            other => Failure::BadRequest(other.to_string()),
        }
    }
}

impl From<store::StoreError> for Failure {
    fn from(err: store::StoreError) -> Self {
        tracing::error!("curator page: store failed: {err}");
        Failure::Internal
    }
}

impl From<tokio::task::JoinError> for Failure {
    fn from(err: tokio::task::JoinError) -> Self {
        tracing::error!("curator page: task failed: {err}");
        Failure::Internal
    }
}

impl From<ApiError> for Failure {
    fn from(err: ApiError) -> Self {
        tracing::error!("curator page failed: {err:?}");
        Failure::Internal
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let (status, title, message) = match self {
            Failure::LoginRequired(next) => {
                let location = format!(
                    "/curator/login?{}",
                    form_urlencoded::Serializer::new(String::new())
                        .append_pair("next", &next)
                        .finish()
                );
                return redirect(&location);
            }
            Failure::Csrf => (
                StatusCode::FORBIDDEN,
                "表单校验失败",
                "这张表单已过期或并非从本站提交（CSRF 校验失败），所做修改未保存。请返回页面、刷新后重新提交。"
                    .to_string(),
            ),
            Failure::Forbidden => (
                StatusCode::FORBIDDEN,
                "无权操作",
                "这条记录不属于您负责的机构，或由自动采集维护，不能在此查看或修改。".to_string(),
            ),
            Failure::NotFound => (
                StatusCode::NOT_FOUND,
                "未找到",
                "没有这条记录，或它已被删除且不属于您负责的机构。".to_string(),
            ),
            Failure::BadRequest(message) => (StatusCode::BAD_REQUEST, "请求有误", message),
            Failure::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "出错了",
                "服务器暂时出了问题，请稍后再试。".to_string(),
            ),
        };
        respond(
            status,
            &NoticePage {
                title,
                who: None,
                message: &message,
            },
        )
    }
}

/// `templates/curator/notice.html`: why a page could not be shown.
#[derive(Template)]
#[template(path = "curator/notice.html")]
struct NoticePage<'a> {
    title: &'a str,
    who: Option<Who>,
    message: &'a str,
}

/// `templates/curator/conflict.html`: a change refused because the record changed since its
/// page was shown.
#[derive(Template)]
#[template(path = "curator/conflict.html")]
struct ConflictPage<'a> {
    title: &'a str,
    who: Option<Who>,
    heading: &'a str,
    /// The message around the link to the latest version.
    before_link: String,
    href: String,
    after_link: &'a str,
}

/// The 409 page of a change refused because record `id` changed since its page was shown.
fn conflict(curator: &Curator, heading: &str, before_link: String, id: &str, after_link: &str) -> Response {
    respond(
        StatusCode::CONFLICT,
        &ConflictPage {
            title: "记录已被修改",
            who: curator.who(),
            heading,
            before_link,
            href: record_path(id),
            after_link,
        },
    )
}

/// A `303 See Other` to a path on this site.
fn redirect(location: &str) -> Response {
    let mut headers = HeaderMap::new();
    if let Ok(value) = HeaderValue::from_str(location) {
        headers.insert(header::LOCATION, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    (StatusCode::SEE_OTHER, headers).into_response()
}

/// A page response: private, never cached, never framed by another site. A template that
/// fails to render (it cannot, short of a formatting bug) is logged and answered with a 500.
fn respond(status: StatusCode, page: &impl Template) -> Response {
    let (status, body) = match page.render() {
        Ok(body) => (status, body),
        Err(err) => {
            tracing::error!("curator page failed to render: {err}");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "服务器暂时出了问题，请稍后再试。".to_string(),
            )
        }
    };
    let mut response = (status, Html(body)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("frame-ancestors 'none'"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

/// A stored UTC time (RFC 3339) as Lanzhou's clock shows it, `2026-11-27 20:01`; curators
/// read local time. Text that is not such a time is shown as it is.
fn local_time(utc: &str) -> String {
    use time::format_description::well_known::Rfc3339;
    let shown = time::OffsetDateTime::parse(utc, &Rfc3339).ok().and_then(|t| {
        schemas::lanzhou_time(t)
            .format(time::macros::format_description!(
                "[year]-[month]-[day] [hour]:[minute]"
            ))
            .ok()
    });
    shown.unwrap_or_else(|| utc.to_string())
}

/// A record id as one URL path segment.
fn id_segment(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for byte in id.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~' | b':') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The edit page of record `id`.
fn record_path(id: &str) -> String {
    format!("/curator/records/{}", id_segment(id))
}

/// The one-line confirmation a redirect asks a page to show (`?done=…`); only known keys
/// are shown, so the URL cannot put text on the page.
fn done_message(done: &str) -> Option<&'static str> {
    Some(match done {
        "created" => "记录已创建。现在可以上传图像。",
        "saved" => "修改已保存。",
        "deleted" => "记录已删除（可在“已删除”中恢复）。",
        "restored" => "记录已恢复。",
        "uploaded" => "图像已上传。",
        "images" => "图像已更新。",
        "logout" => "您已退出登录。",
        "venue" => "开放时间与服务设施已保存。",
        "answered" => "答复已保存，读者可在荐购状态页看到。",
        "merged" => "荐购已合并，荐购人数已相加。",
        _ => return None,
    })
}

/// The `?…` of a request, parsed.
fn query_pairs(raw: Option<&str>) -> FormData {
    FormData::parse(raw.unwrap_or("").as_bytes())
}

/// Runs store work off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, CurateError> + Send + 'static,
) -> Result<Result<T, CurateError>, Failure> {
    Ok(tokio::task::spawn_blocking(f).await?)
}

/// The Chinese name of an institution id (or the id itself).
fn institution_name(institutions: &[schemas::Institution], id: &str) -> String {
    institutions
        .iter()
        .find(|i| i.id == id)
        .map_or_else(|| id.to_string(), |i| i.name.clone())
}

/// The institutions `curator` may curate, with their names (all of them for an admin).
fn own_institutions(state: &AppState, curator: &Curator) -> Result<Vec<schemas::Institution>, Failure> {
    Ok(state
        .store
        .institutions()?
        .into_iter()
        .filter(|i| curator.principal.may_curate(&i.id))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_shown_on_lanzhous_clock_and_ids_stay_one_segment() {
        assert_eq!(local_time("2026-11-27T12:01:15.436Z"), "2026-11-27 20:01");
        assert_eq!(local_time("2026-12-31T16:30:00Z"), "2027-01-01 00:30");
        assert_eq!(local_time("not a time"), "not a time");
        assert_eq!(id_segment("curated-lzlib:ab-1"), "curated-lzlib:ab-1");
        assert_eq!(id_segment("a/b?c"), "a%2Fb%3Fc");
        assert_eq!(done_message("<script>"), None);
    }
}
