//! `GET /`: the search box and the ways in — by kind of institution, by district, by
//! institution.

use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::{Html, IntoResponse, Response};
use schemas::{District, InstitutionType, ResourceType};

use super::error::PageError;
use super::html::escape;
use super::layout::{Frame, search_form};
use super::search::{run, year_label};
use super::url_state::UrlState;
use crate::server::AppState;

pub(crate) async fn home(State(state): State<AppState>, headers: HeaderMap, uri: Uri) -> Response {
    let frame = Frame::new(&headers, &uri);
    match render(&state).await {
        Ok(main) => Html(frame.page("首页", &main)).into_response(),
        Err(err) => err.render(&frame),
    }
}

async fn render(state: &AppState) -> Result<String, PageError> {
    let store = state.store.clone();
    let (institutions, counts) = tokio::task::spawn_blocking(move || {
        Ok::<_, PageError>((store.institutions()?, store.records_per_institution()?))
    })
    .await??;

    let mut main = String::from("<h1>兰州公共文化资源检索</h1>\n");
    main.push_str(&search_form("", &[]));

    main.push_str(
        "\n<section aria-labelledby=\"by-type\"><h2 id=\"by-type\">按机构类型浏览</h2><ul class=\"tiles\">",
    );
    for kind in InstitutionType::ALL {
        let href = UrlState::default().with("institution_type", kind.as_str()).href();
        main.push_str(&format!("<li><a href=\"{href}\">{}</a></li>", kind.label()));
    }
    main.push_str("</ul></section>\n");

    main.push_str(&latest_events(state).await?);
    let audio = UrlState::default()
        .with("resource_type", ResourceType::Audio.as_str())
        .href();
    main.push_str(&format!(
        "<section aria-labelledby=\"accessible\"><h2 id=\"accessible\">无障碍阅读</h2>\
<p><a href=\"{audio}\">有声读物与音频资源</a> · 页面右上角可切换“大字高对比”显示。</p></section>\n"
    ));

    main.push_str(
        "<section aria-labelledby=\"by-district\"><h2 id=\"by-district\">按区县浏览</h2><ul class=\"tiles\">",
    );
    for district in District::ALL {
        let href = UrlState::default().with("region", district.as_str()).href();
        main.push_str(&format!("<li><a href=\"{href}\">{}</a></li>", district.label()));
    }
    main.push_str("</ul></section>\n");

    main.push_str(
        "<section aria-labelledby=\"by-institution\"><h2 id=\"by-institution\">参与机构</h2><ul class=\"institutions\">",
    );
    for institution in &institutions {
        let count = counts.get(&institution.id).copied().unwrap_or(0);
        let district = institution.district.map_or("", |d| d.label());
        main.push_str(&format!(
            "<li><a href=\"/institutions/{}\">{}</a> <span class=\"meta\">{} · {} · {count} 条</span></li>",
            escape(&url_segment(&institution.id)),
            escape(&institution.name),
            institution.institution_type.label(),
            district,
        ));
    }
    if institutions.is_empty() {
        main.push_str("<li>暂无机构。</li>");
    }
    main.push_str("</ul></section>");
    Ok(main)
}

/// The newest event records (by year), with a link to all of them.
async fn latest_events(state: &AppState) -> Result<String, PageError> {
    let all = UrlState::default().with("resource_type", ResourceType::Event.as_str());
    let outcome = run(state, &all.clone().with("page_size", "5")).await?;
    let mut out = String::from("<section aria-labelledby=\"events\"><h2 id=\"events\">文化活动</h2>");
    if !outcome.results.hits.is_empty() {
        out.push_str("<ul class=\"events\">");
        for hit in &outcome.results.hits {
            out.push_str(&format!(
                "<li><a href=\"/records/{}\">{}</a> <span class=\"meta\">{}{}</span></li>",
                escape(&url_segment(&hit.id)),
                escape(&hit.title),
                escape(&hit.institution_name),
                hit.year
                    .map(|y| format!(" · {}", year_label(y)))
                    .unwrap_or_default(),
            ));
        }
        out.push_str("</ul>");
    }
    out.push_str(&format!(
        "<p><a href=\"{}\">查看全部讲座、展览、演出等活动（{} 项）</a></p></section>\n",
        all.href(),
        outcome.results.total
    ));
    Ok(out)
}

/// `text` percent-encoded for one path segment.
pub(crate) fn url_segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~:".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
