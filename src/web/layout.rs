//! The frame every page shares: `lang="zh-CN"`, the skip link, the header with the display
//! switch, and the footer; and the switch itself.

use axum::extract::RawQuery;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

use super::html::escape;

/// The cookie that remembers the large-text, high-contrast mode.
const DISPLAY_COOKIE: &str = "jc_display";

/// What the frame needs to know about the request.
pub(crate) struct Frame {
    /// Large text and high contrast.
    large: bool,
    /// This page's path and query, where the display switch comes back to.
    here: String,
}

impl Frame {
    /// The frame for a request.
    pub(crate) fn new(headers: &HeaderMap, uri: &Uri) -> Frame {
        let large = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .any(|c| c.trim() == format!("{DISPLAY_COOKIE}=large"));
        let here = uri
            .path_and_query()
            .map_or_else(|| "/".to_string(), |pq| pq.as_str().to_string());
        Frame { large, here }
    }

    /// A whole page: `title` in the tab, `main` as the page's main content.
    pub(crate) fn page(&self, title: &str, main: &str) -> String {
        let (class, switch_mode, switch_label) = if self.large {
            (" class=\"large\"", "normal", "标准显示")
        } else {
            ("", "large", "大字高对比")
        };
        let switch_href = escape(&format!(
            "/display?{}",
            form_urlencoded::Serializer::new(String::new())
                .append_pair("mode", switch_mode)
                .append_pair("back", &self.here)
                .finish()
        ));
        format!(
            "<!DOCTYPE html>\n<html lang=\"zh-CN\"{class}>\n<head>\n<meta charset=\"utf-8\">\n\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
<title>{title} · 金城文化资源检索</title>\n\
<link rel=\"stylesheet\" href=\"/static/site.css\">\n\
<script src=\"/static/suggest.js\" defer></script>\n</head>\n<body>\n\
<a class=\"skip\" href=\"#main\">跳到主要内容</a>\n\
<header class=\"site\"><a class=\"brand\" href=\"/\">金城 · 兰州公共文化资源检索</a>\
<a class=\"display\" href=\"{switch_href}\">{switch_label}</a></header>\n\
<main id=\"main\" tabindex=\"-1\">\n{main}\n</main>\n\
<footer class=\"site\"><p>汇集兰州市图书馆、博物馆、美术馆、文化馆的馆藏与活动。\
<a href=\"/api/docs\">开放接口</a></p></footer>\n</body>\n</html>\n",
            title = escape(title),
        )
    }
}

/// The search form shown on the home page and above results. `hidden` are the filters a new
/// query keeps, as `(key, value)`.
pub(crate) fn search_form(query: &str, hidden: &[(&str, &str)]) -> String {
    let mut out = String::from(
        "<form class=\"search\" role=\"search\" action=\"/search\" method=\"get\">\n\
<label for=\"q\">搜索馆藏与活动</label>\n<div class=\"searchrow\">\
<input id=\"q\" name=\"q\" type=\"search\" autocomplete=\"off\" \
placeholder=\"题名、作者、主题，如：静夜思\" maxlength=\"256\"",
    );
    out.push_str(&format!(" value=\"{}\">", escape(query)));
    out.push_str("<button type=\"submit\">搜索</button></div>\n");
    for (key, value) in hidden {
        out.push_str(&format!(
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">\n",
            escape(key),
            escape(value)
        ));
    }
    out.push_str("</form>");
    out
}

/// `GET /display?mode=large|normal&back=/…`: remembers the mode in a cookie for a year and
/// goes back to the page the reader was on (only ever a path on this site).
pub(crate) async fn switch_display(RawQuery(raw): RawQuery) -> Response {
    let mut mode = "normal".to_string();
    let mut back = "/".to_string();
    for (key, value) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        match key.as_ref() {
            "mode" => mode = value.into_owned(),
            "back" if value.starts_with('/') && !value.starts_with("//") && !value.contains('\\') => {
                back = value.into_owned();
            }
            _ => {}
        }
    }
    let cookie = if mode == "large" {
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
