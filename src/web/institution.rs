//! `GET /institutions/{id}`: one institution and a browse of its records (the results page's
//! search, restricted to it; `?page=` pages through them).

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Uri};
use axum::response::{Html, IntoResponse, Response};

use super::error::PageError;
use super::html::escape;
use super::layout::{Frame, search_form};
use super::search::{Outcome, render_hits, run};
use super::url_state::UrlState;
use crate::state::AppState;

pub(crate) async fn institution(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    uri: Uri,
    RawQuery(raw): RawQuery,
) -> Response {
    let frame = Frame::new(&headers, &uri);
    let page = UrlState::parse(raw.as_deref()).get("page").map(str::to_string);
    let mut url = UrlState::default().with("institution", &id);
    if let Some(page) = &page {
        url = url.with("page", page);
    }
    match run(&state, &url).await {
        Ok(outcome) => match outcome.institutions.get(&id) {
            Some(institution) => {
                let main = render(&url, &outcome, &id);
                Html(frame.page(&institution.name, &main)).into_response()
            }
            None => PageError::NotFound("没有这个机构，链接可能有误。".into()).render(&frame),
        },
        Err(err) => err.render(&frame),
    }
}

fn render(url: &UrlState, outcome: &Outcome, id: &str) -> String {
    let Some(institution) = outcome.institutions.get(id) else {
        return String::new();
    };
    let mut out = format!("<h1>{}</h1>\n<dl class=\"fields\">", escape(&institution.name));
    out.push_str(&format!(
        "<dt>类型</dt><dd>{}</dd><dt>级别</dt><dd>{}</dd>",
        institution.institution_type.label(),
        institution.level.label()
    ));
    if let Some(district) = institution.district {
        out.push_str(&format!("<dt>所在区县</dt><dd>{}</dd>", district.label()));
    }
    out.push_str(&format!(
        "<dt>馆藏记录</dt><dd>{} 条</dd></dl>\n",
        outcome.results.total
    ));
    out.push_str("<section aria-labelledby=\"in-this\"><h2 id=\"in-this\">在本馆中搜索</h2>");
    out.push_str(&search_form("", &[("institution", id)]).replacen(
        "<label for=\"q\">搜索馆藏与活动</label>",
        "<label for=\"q\">检索词</label>",
        1,
    ));
    out.push_str("</section>\n<section aria-labelledby=\"browse\"><h2 id=\"browse\">馆藏浏览</h2>\n");
    out.push_str(&render_hits(url, outcome, "h3"));
    out.push_str(&institution_pager(url, outcome, id));
    out.push_str("</section>");
    out
}

/// Previous and next within the institution's own page.
fn institution_pager(url: &UrlState, outcome: &Outcome, id: &str) -> String {
    let page = outcome.page;
    let shown = page * outcome.page_size;
    let base = format!("/institutions/{}", super::home::url_segment(id));
    let mut links = Vec::new();
    if page > 1 {
        links.push(format!(
            "<li><a href=\"{}?page={}\" rel=\"prev\">上一页</a></li>",
            escape(&base),
            page - 1
        ));
    }
    if shown < outcome.results.total && shown < services::search::MAX_RESULT_WINDOW {
        links.push(format!(
            "<li><a href=\"{}?page={}\" rel=\"next\">下一页</a></li>",
            escape(&base),
            page + 1
        ));
    }
    links.push(format!(
        "<li><a href=\"{}\">按条件筛选本馆馆藏</a></li>",
        url.without(&["page"]).href()
    ));
    format!(
        "<nav class=\"pager\" aria-label=\"分页\"><ul>{}</ul></nav>\n",
        links.join("")
    )
}
