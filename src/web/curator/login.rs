//! `/curator/login` and `/curator/logout`.
//!
//! The login form posts the username and password here; the check is the one the JSON API
//! uses ([`services::auth::login::log_in`]: the same lockout, the same answer whether or not
//! the username exists). Success sets the session and CSRF cookies and goes to the page
//! the curator came for (only ever a `/curator` path), or to the list.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;

use super::{Curator, Failure, FormData, Who, done_message, query_pairs, redirect, respond};
use crate::state::AppState;
use services::auth::login::{self, LoginError};
use services::auth::{AuthMethod, CSRF_COOKIE, Password, SESSION_COOKIE, SESSION_TTL_SECS};

/// Where to go after logging in: a `/curator` path, never another site.
fn safe_next(next: &str) -> &str {
    let ok = (next == "/curator" || next.starts_with("/curator/") || next.starts_with("/curator?"))
        && !next.contains("//")
        && !next.contains('\\')
        && next.bytes().all(|b| (0x21..0x7f).contains(&b));
    if ok { next } else { "/curator" }
}

/// What the form shows besides its fields.
#[derive(Default)]
struct LoginView<'a> {
    username: &'a str,
    next: &'a str,
    /// A message about the whole attempt (wrong password, lockout).
    alert: Option<String>,
    /// Messages beside the fields.
    username_error: Option<&'static str>,
    password_error: Option<&'static str>,
    done: &'a str,
}

/// `templates/curator/login.html`.
#[derive(Template)]
#[template(path = "curator/login.html")]
struct LoginPage<'a> {
    title: &'a str,
    who: Option<Who>,
    done: Option<&'static str>,
    alert: Option<String>,
    next: &'a str,
    username: &'a str,
    username_error: Option<&'static str>,
    password_error: Option<&'static str>,
}

/// The login page titled `title`.
fn render<'a>(title: &'a str, view: LoginView<'a>) -> LoginPage<'a> {
    LoginPage {
        title,
        who: None,
        done: done_message(view.done),
        alert: view.alert,
        next: safe_next(view.next),
        username: view.username,
        username_error: view.username_error,
        password_error: view.password_error,
    }
}

/// `GET /curator/login?next=…`
pub(super) async fn form(RawQuery(raw): RawQuery) -> Response {
    let query = query_pairs(raw.as_deref());
    let view = LoginView {
        next: query.get("next"),
        done: query.get("done"),
        ..LoginView::default()
    };
    respond(StatusCode::OK, &render("馆员登录", view))
}

/// `POST /curator/login`: `username`, `password`, `next`.
pub(super) async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Failure> {
    // A login form posted from another site would log the victim into the attacker's
    // account (login CSRF); browsers say where a request comes from.
    if headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == "cross-site")
    {
        return Err(Failure::Csrf);
    }
    let form = FormData::parse(&body);
    let username = form.get("username").trim().to_string();
    let password = form.get("password").to_string();
    let next = safe_next(form.get("next")).to_string();
    let mut view = LoginView {
        username: &username,
        next: &next,
        ..LoginView::default()
    };
    if username.is_empty() || password.is_empty() {
        if username.is_empty() {
            view.username_error = Some("请填写用户名。");
        }
        if password.is_empty() {
            view.password_error = Some("请填写密码。");
        }
        view.alert = Some("请填写用户名和密码。".into());
        return Ok(respond(
            StatusCode::UNPROCESSABLE_ENTITY,
            &render("馆员登录", view),
        ));
    }
    let store = state.store.clone();
    let name = username.clone();
    let outcome =
        tokio::task::spawn_blocking(move || login::log_in(&store, &name, &Password::new(password))).await?;
    let session = match outcome {
        Ok(session) => session,
        Err(LoginError::WrongCredentials) => {
            view.alert = Some("用户名或密码错误，请重试。".into());
            return Ok(respond(StatusCode::UNAUTHORIZED, &render("登录失败", view)));
        }
        Err(LoginError::Locked { retry_after_secs }) => {
            let minutes = retry_after_secs.div_ceil(60);
            view.alert = Some(format!(
                "登录失败次数过多，该账号已暂时锁定。请在约 {minutes} 分钟后再试；如忘记密码，请联系管理员。"
            ));
            let mut response = respond(StatusCode::TOO_MANY_REQUESTS, &render("账号已暂时锁定", view));
            if let Ok(value) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            return Ok(response);
        }
        Err(LoginError::Store(err)) => return Err(err.into()),
    };
    let secure = services::auth::secure_cookies(&state.curation);
    let mut response = redirect(&next);
    for cookie in [
        login::set_cookie(
            SESSION_COOKIE,
            session.session.expose(),
            SESSION_TTL_SECS,
            true,
            secure,
        ),
        login::set_cookie(
            CSRF_COOKIE,
            session.csrf.expose(),
            SESSION_TTL_SECS,
            false,
            secure,
        ),
    ] {
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    Ok(response)
}

/// `POST /curator/logout`: ends the session and forgets the cookies.
pub(super) async fn logout(
    State(state): State<AppState>,
    curator: Curator,
    body: Bytes,
) -> Result<Response, Failure> {
    curator.check_csrf(&FormData::parse(&body))?;
    if let AuthMethod::Session { id_hash } = &curator.principal.method {
        let store = state.store.clone();
        let id_hash = id_hash.clone();
        tokio::task::spawn_blocking(move || store.delete_session(&id_hash)).await??;
    }
    let secure = services::auth::secure_cookies(&state.curation);
    let mut response = redirect("/curator/login?done=logout");
    for cookie in [
        login::set_cookie(SESSION_COOKIE, "", 0, true, secure),
        login::set_cookie(CSRF_COOKIE, "", 0, false, secure),
    ] {
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    Ok(response)
}
