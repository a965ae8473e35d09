//! `GET /`: the search box and the ways in — by kind of institution, upcoming events,
//! accessible formats (braille, audio, large print, sign language), by district, by
//! institution.

use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::{Html, IntoResponse, Response};
use schemas::{AccessibleFormat, District, InstitutionType, ResourceType};

use super::error::PageError;
use super::events::{day_label, time_label};
use super::html::escape;
use super::layout::{Frame, search_form};
use super::url_state::UrlState;
use crate::state::AppState;

/// Upcoming events listed on the home page.
const UPCOMING_SHOWN: usize = 5;

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

    main.push_str(&upcoming_events(state).await?);
    main.push_str(&accessible_resources());

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

/// Events in Beijing time from today on, soonest first, with a link to the events page.
async fn upcoming_events(state: &AppState) -> Result<String, PageError> {
    let calendar = super::events::load(state).await?;
    let mut out = String::from("<section aria-labelledby=\"events\"><h2 id=\"events\">近期活动</h2>");
    // Without anything coming up, the latest past events show what the venues offer.
    let (listed, note) = match (calendar.upcoming.is_empty(), calendar.past.is_empty()) {
        (false, _) => (&calendar.upcoming, ""),
        (true, false) => (&calendar.past, "<p>近期暂无活动预告。最近举办过：</p>"),
        (true, true) => (&calendar.past, "<p>近期暂无活动预告。</p>"),
    };
    out.push_str(note);
    if !listed.is_empty() {
        out.push_str("<ul class=\"events\">");
        for event in listed.iter().take(UPCOMING_SHOWN) {
            let when = match time_label(event) {
                Some(time) => format!("{} {time}", day_label(&event.day)),
                None => day_label(&event.day),
            };
            out.push_str(&format!(
                "<li><a href=\"/records/{}\">{}</a> <span class=\"meta\">{} · {}</span></li>",
                escape(&url_segment(&event.id)),
                escape(&event.title),
                escape(&when),
                escape(&event.institution_name),
            ));
        }
        out.push_str("</ul>");
    }
    out.push_str(&format!(
        "<p><a href=\"/events\">全部活动日程（即将举办 {} 项）</a></p></section>\n",
        calendar.upcoming.len()
    ));
    Ok(out)
}

/// The ways into the accessible formats: each links to the results filtered by it.
fn accessible_resources() -> String {
    let mut out = String::from(
        "<section aria-labelledby=\"accessible\"><h2 id=\"accessible\">无障碍阅读</h2><ul class=\"tiles\">",
    );
    let label = |format: AccessibleFormat| match format {
        AccessibleFormat::Braille => "盲文读物",
        AccessibleFormat::LargePrint => "大字版图书",
        AccessibleFormat::Audio => "有声读物",
        AccessibleFormat::SignLanguage => "手语视频与活动",
    };
    for format in AccessibleFormat::ALL {
        let href = UrlState::default()
            .with("accessible_format", format.as_str())
            .href();
        out.push_str(&format!("<li><a href=\"{href}\">{}</a></li>", label(*format)));
    }
    let audio = UrlState::default()
        .with("resource_type", ResourceType::Audio.as_str())
        .href();
    out.push_str(&format!(
        "</ul><p><a href=\"{audio}\">全部音频资源</a> · 页面右上角可切换“大字高对比”显示。</p></section>\n"
    ));
    out
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
