//! The frame every page shares: `lang="zh-CN"`, the skip link, the header with the display
//! switch, and the footer; and the switch itself.

use std::sync::Arc;

use askama::Template;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};

use crate::state::AppState;

/// The cookie that remembers the large-text, high-contrast mode.
const DISPLAY_COOKIE: &str = "jc_display";

/// What the frame (`templates/base.html`) needs to know about the request.
pub(crate) struct Frame {
    /// Large text and high contrast.
    pub(crate) large: bool,
    /// This page's path and query, where the display switch comes back to.
    here: String,
    /// The site's notice (`[pages] notice`), shown above every page.
    pub(crate) notice: Option<Arc<str>>,
}

impl Frame {
    /// The frame for a request.
    pub(crate) fn new(state: &AppState, headers: &HeaderMap, uri: &Uri) -> Frame {
        let large = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .any(|c| c.trim() == format!("{DISPLAY_COOKIE}=large"));
        let here = uri
            .path_and_query()
            .map_or_else(|| "/".to_string(), |pq| pq.as_str().to_string());
        Frame {
            large,
            here,
            notice: state.notice.clone(),
        }
    }

    /// The display switch's link: to the other mode, and back here.
    pub(crate) fn switch_href(&self) -> String {
        let mode = if self.large { "normal" } else { "large" };
        format!(
            "/display?{}",
            form_urlencoded::Serializer::new(String::new())
                .append_pair("mode", mode)
                .append_pair("back", &self.here)
                .finish()
        )
    }

    /// The display switch's text.
    pub(crate) fn switch_label(&self) -> &'static str {
        if self.large {
            "标准显示"
        } else {
            "大字高对比"
        }
    }
}

/// The search form (`templates/search_form.html`) shown on the home page, above results and
/// on an institution's page.
pub(crate) struct SearchForm<'a> {
    /// The label of the search box.
    pub(crate) label: &'static str,
    /// The query in the box.
    pub(crate) query: &'a str,
    /// The filters a new query keeps, as `(key, value)`.
    pub(crate) hidden: Vec<(&'a str, &'a str)>,
}

impl<'a> SearchForm<'a> {
    /// The form with its usual label.
    pub(crate) fn new(query: &'a str, hidden: Vec<(&'a str, &'a str)>) -> SearchForm<'a> {
        SearchForm {
            label: "搜索馆藏与活动",
            query,
            hidden,
        }
    }
}

/// A rendered page with `status`; a template that fails to render (it cannot, short of a
/// formatting bug) is logged and answered with a 500.
pub(crate) fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(err) => {
            tracing::error!("page failed to render: {err}");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "服务器暂时出了问题，请稍后再试。",
            )
                .into_response()
        }
    }
}

/// The query of `/display`.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct DisplayQuery {
    /// `large` (large text, high contrast) or anything else (normal).
    mode: Option<String>,
    /// The page to go back to: a path on this site, else `/`.
    back: Option<String>,
}

/// `GET /display?mode=large|normal&back=/…`: remembers the mode in a cookie for a year and
/// goes back to the page the reader was on (only ever a path on this site).
pub(crate) async fn switch_display(
    query: Result<axum::extract::Query<DisplayQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    // A malformed query string is the default: normal text, back to the home page.
    let DisplayQuery { mode, back } = query.map(|q| q.0).unwrap_or_default();
    let back = back
        .filter(|b| b.starts_with('/') && !b.starts_with("//") && !b.contains('\\'))
        .unwrap_or_else(|| "/".to_string());
    let cookie = if mode.as_deref() == Some("large") {
        format!("{DISPLAY_COOKIE}=large; Path=/; Max-Age=31536000; SameSite=Lax; HttpOnly")
    } else {
        format!("{DISPLAY_COOKIE}=; Path=/; Max-Age=0; SameSite=Lax; HttpOnly")
    };
    let mut headers = HeaderMap::new();
    if let Ok(cookie) = HeaderValue::from_str(&cookie) {
        headers.insert(header::SET_COOKIE, cookie);
    }
    let location = HeaderValue::from_str(&ascii_only(&back)).unwrap_or(HeaderValue::from_static("/"));
    headers.insert(header::LOCATION, location);
    (StatusCode::SEE_OTHER, headers).into_response()
}

/// `url` with every byte outside printable ASCII percent-encoded, as a `Location` needs.
fn ascii_only(url: &str) -> String {
    let mut out = String::with_capacity(url.len());
    for byte in url.bytes() {
        if (0x21..0x7f).contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
