//! `GET /search`: the results page. Takes the parameters of `/api/v1/search` (parsed by the
//! same function, so the page and the API never disagree) and shows the hits with their
//! highlights, the facets as links that keep the rest of the URL (period and accessible
//! format among them), the order (relevance, newest or oldest first), a year range and
//! paging.

use std::collections::HashMap;

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, Uri};
use axum::response::{Html, IntoResponse, Response};
use indexer::{Hit, SearchResults};
use schemas::{AccessibleFormat, Institution, InstitutionType, ResourceType};

use super::error::PageError;
use super::home::url_segment;
use super::html::{escape, highlight};
use super::layout::{Frame, search_form};
use super::url_state::{FILTER_KEYS, UrlState};
use crate::state::AppState;
use services::analytics::{Channel, SearchLog};
use services::search::{Found, MAX_RESULT_WINDOW, SearchError, SearchParams};

/// Facet values shown before the rest fold away under “更多”.
const FACET_VALUES_SHOWN: usize = 8;
/// Facet values listed at most, folded or not.
const FACET_VALUES_MAX: usize = 40;
/// Holdings listed under one hit.
const HOLDINGS_SHOWN: usize = 3;

pub(crate) async fn search(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    RawQuery(raw): RawQuery,
) -> Response {
    let frame = Frame::new(&headers, &uri);
    let url = UrlState::parse(raw.as_deref());
    match run(&state, &url).await {
        Ok(outcome) => {
            // Queued, never awaited: the page is not slowed by its statistics.
            state.analytics.record_search_via(
                Channel::Web,
                SearchLog {
                    query: &outcome.query,
                    filters: &outcome.filters,
                    results: outcome.results.total as u64,
                    took_ms: outcome.took_ms,
                    page: outcome.page,
                },
                &headers,
                None,
            );
            let title = match url.get("q") {
                Some(q) => format!("“{q}”的检索结果"),
                None => "浏览馆藏".to_string(),
            };
            let main = render_results_page(&url, &outcome);
            Html(frame.page(&title, &main)).into_response()
        }
        Err(err) => err.render(&frame),
    }
}

/// A search done: the results and what is needed to show them.
pub(crate) struct Outcome {
    pub(crate) results: SearchResults,
    /// The query and filters as searched, and the time the search took (for the statistics).
    pub(crate) query: String,
    pub(crate) filters: indexer::Filters,
    pub(crate) took_ms: u64,
    pub(crate) page: usize,
    pub(crate) page_size: usize,
    /// Every institution by id, for names and districts.
    pub(crate) institutions: HashMap<String, Institution>,
    /// The thumbnail of each hit that has one, by record id: `(url, alt text)`.
    pub(crate) thumbnails: HashMap<String, (String, String)>,
}

/// Runs the search the URL describes, through the same search service as the API.
pub(crate) async fn run(state: &AppState, url: &UrlState) -> Result<Outcome, PageError> {
    let SearchParams {
        mut request,
        page,
        page_size,
    } = SearchParams::parse(Some(&url.query())).map_err(|err| explain_bad_url(url, err))?;
    request.explain = false;
    let search = state.search.clone();
    let store = state.store.clone();
    let (request, found, institutions) = tokio::task::spawn_blocking(move || {
        let found = search.search(&request);
        (request, found, store.institutions())
    })
    .await?;
    let Found {
        results,
        took_ms,
        thumbnails,
    } = found.map_err(crate::error::ApiError::from)?;
    let thumbnails = results
        .hits
        .iter()
        .filter_map(|hit| {
            let thumbnail = thumbnails.get(&hit.id)?;
            let alt = thumbnail.alt.clone().unwrap_or_else(|| hit.title.clone());
            Some((hit.id.clone(), (thumbnail.image.thumb_url.clone(), alt)))
        })
        .collect();
    Ok(Outcome {
        results,
        query: request.query,
        filters: request.filters,
        took_ms,
        page,
        page_size,
        institutions: institutions?.into_iter().map(|i| (i.id.clone(), i)).collect(),
        thumbnails,
    })
}

fn render_results_page(url: &UrlState, outcome: &Outcome) -> String {
    let query = url.get("q").unwrap_or("");
    let kept: Vec<(&str, &str)> = FILTER_KEYS
        .iter()
        .flat_map(|key| url.all(key).map(move |v| (*key, v)))
        .chain(
            ["year_from", "year_to", "sort"]
                .iter()
                .filter_map(|k| url.get(k).map(|v| (*k, v))),
        )
        .collect();
    let mut main = String::with_capacity(16 * 1024);
    main.push_str("<h1 class=\"sr\">检索结果</h1>\n");
    main.push_str(&search_form(query, &kept));
    main.push_str(&active_filters(url, outcome));
    main.push_str("\n<div class=\"results-layout\">\n<div class=\"results\">\n");
    if outcome.results.total > 1 {
        main.push_str(&sort_control(url));
    }
    main.push_str(&render_hits(url, outcome, "h2"));
    main.push_str(&pager(url, outcome));
    main.push_str("</div>\n<aside class=\"facets\" aria-labelledby=\"facets-title\"><h2 id=\"facets-title\">筛选结果</h2>\n");
    main.push_str(&facets(url, outcome));
    main.push_str(&year_form(url));
    main.push_str("</aside>\n</div>");
    main
}

/// The count and the list of hits; `heading` is the element of each hit's title.
pub(crate) fn render_hits(url: &UrlState, outcome: &Outcome, heading: &str) -> String {
    let results = &outcome.results;
    let mut out = String::new();
    let pages = page_count(results.total, outcome.page_size);
    if results.total == 0 {
        out.push_str(
            "<p class=\"count\" role=\"status\">没有找到结果。可以换一个检索词，或减少筛选条件。</p>\n",
        );
        if url.get("q").is_some() && url.without(&["q", "page"]) != UrlState::default() {
            let href = url
                .without(&FILTER_KEYS)
                .without(&["year_from", "year_to", "page"])
                .href();
            out.push_str(&format!("<p><a href=\"{href}\">去掉全部筛选再搜索</a></p>\n"));
        }
        return out;
    }
    out.push_str(&format!(
        "<p class=\"count\" role=\"status\">共 {} 条结果，第 {} / {} 页</p>\n",
        results.total,
        outcome.page,
        pages.max(1)
    ));
    if results.hits.is_empty() {
        out.push_str(&format!(
            "<p>这一页已超出结果范围。<a href=\"{}\">回到第 1 页</a></p>\n",
            url.on_page(1).href()
        ));
        return out;
    }
    let start = (outcome.page - 1) * outcome.page_size + 1;
    // The query and each hit's position feed the click statistics (web/suggest.js).
    out.push_str(&format!(
        "<ol class=\"hits\" start=\"{start}\" data-q=\"{}\">\n",
        escape(url.get("q").unwrap_or(""))
    ));
    for (n, hit) in results.hits.iter().enumerate() {
        out.push_str(&render_hit(hit, outcome, heading, start + n));
    }
    out.push_str("</ol>\n");
    out
}

fn render_hit(hit: &Hit, outcome: &Outcome, heading: &str, position: usize) -> String {
    let highlighted = |field: &str| {
        hit.highlights
            .iter()
            .find(|(name, _)| name == field)
            .map(|(_, html)| highlight(html))
    };
    let title = highlighted("title").unwrap_or_else(|| escape(&hit.title));
    let creators = highlighted("creators").unwrap_or_else(|| escape(&hit.creators.join("; ")));
    let mut out = String::from("<li class=\"hit\">");
    if let Some((src, alt)) = outcome.thumbnails.get(&hit.id) {
        out.push_str(&format!(
            "<img class=\"thumb\" src=\"{}\" alt=\"{}\" width=\"72\" height=\"72\" loading=\"lazy\">",
            escape(src),
            escape(alt)
        ));
    }
    out.push_str(&format!(
        "<{heading}><a href=\"/records/{}\" data-rid=\"{}\" data-pos=\"{position}\">{title}</a></{heading}>\n<p class=\"meta\">",
        escape(&url_segment(&hit.id)),
        escape(&hit.id)
    ));
    let mut meta = Vec::new();
    if !creators.is_empty() {
        meta.push(format!("作者：{creators}"));
    }
    meta.push(hit.resource_type.label().to_string());
    if let Some(year) = hit.year {
        meta.push(year_label(year));
    }
    out.push_str(&meta.join(" · "));
    out.push_str("</p>\n");
    let district = outcome
        .institutions
        .get(&hit.institution)
        .and_then(|i| i.district)
        .map(|d| format!(" · {}", d.label()))
        .unwrap_or_default();
    out.push_str(&format!(
        "<p class=\"where\"><a href=\"/institutions/{}\">{}</a> <span class=\"meta\">{}{district}</span></p>\n",
        escape(&url_segment(&hit.institution)),
        escape(&hit.institution_name),
        hit.institution_type.label(),
    ));
    for field in ["subjects", "description"] {
        if let Some(html) = highlighted(field) {
            let label = if field == "subjects" { "主题：" } else { "" };
            out.push_str(&format!("<p class=\"snippet\">{label}{html}</p>\n"));
        }
    }
    let copies: Vec<String> = hit
        .holdings
        .iter()
        .filter(|h| h.branch.is_some() || h.call_number.is_some() || hit.holdings.len() > 1)
        .take(HOLDINGS_SHOWN)
        .map(|h| {
            let mut text = escape(&h.institution_name);
            if let Some(branch) = &h.branch {
                text.push(' ');
                text.push_str(&escape(branch));
            }
            if let Some(call) = &h.call_number {
                text.push_str(&format!("（索书号 {}）", escape(call)));
            }
            text
        })
        .collect();
    if !copies.is_empty() {
        let more = hit.holdings.len().saturating_sub(HOLDINGS_SHOWN);
        let more = if more > 0 {
            format!(" 等 {} 处", hit.holdings.len())
        } else {
            String::new()
        };
        out.push_str(&format!(
            "<p class=\"copies\">馆藏：{}{more}</p>\n",
            copies.join("；")
        ));
    }
    out.push_str("</li>\n");
    out
}

/// Names the parameter that makes a URL unusable, in words a reader understands: each pair
/// is tried alone, so the message can say which box or link is wrong.
fn explain_bad_url(url: &UrlState, err: SearchError) -> PageError {
    if !matches!(err, SearchError::InvalidParameter(_)) {
        return crate::error::ApiError::from(err).into();
    }
    for (key, value) in url.pairs() {
        let alone = UrlState::default().with(key, value);
        if SearchParams::parse(Some(&alone.query())).is_ok() {
            continue;
        }
        let message = match key {
            "year_from" | "year_to" => {
                format!("年份“{value}”无法识别：请填写 -10000 到 2100 之间的整数（公元前用负数）。")
            }
            "page" | "page_size" => format!("页码“{value}”无法识别：请使用页面上的翻页链接。"),
            "sort" => format!("排序方式“{value}”无法识别：请使用页面上的排序链接。"),
            _ => format!("没有这种{}：“{value}”。", facet_title(key)),
        };
        return PageError::BadRequest(message);
    }
    if let (Some(from), Some(to)) = (url.get("year_from"), url.get("year_to")) {
        return PageError::BadRequest(format!("起始年份 {from} 晚于结束年份 {to}，请调换后重试。"));
    }
    crate::error::ApiError::from(err).into()
}

/// The orders a reader can choose, as `(sort parameter, label)`.
const SORT_ORDERS: [(&str, &str); 3] = [
    ("relevance", "相关度"),
    ("date_desc", "年代从新到旧"),
    ("date_asc", "年代从旧到新"),
];

/// The order of the results: one link per order, the current one marked.
fn sort_control(url: &UrlState) -> String {
    let current = url.get("sort").unwrap_or("relevance");
    let mut out = String::from("<nav class=\"sort\" aria-label=\"排序\"><span>排序：</span><ul>");
    for (sort, label) in SORT_ORDERS {
        if sort == current {
            out.push_str(&format!(
                "<li><a href=\"{}\" aria-current=\"true\">{label}<span class=\"sr\">（当前排序）</span></a></li>",
                url.sorted(sort).href()
            ));
        } else {
            out.push_str(&format!(
                "<li><a href=\"{}\">{label}</a></li>",
                url.sorted(sort).href()
            ));
        }
    }
    out.push_str("</ul></nav>\n");
    out
}

/// `1998年`, or `公元前221年` for years before the common era.
pub(crate) fn year_label(year: i32) -> String {
    if year < 0 {
        format!("公元前{}年", -i64::from(year))
    } else {
        format!("{year}年")
    }
}

fn page_count(total: usize, page_size: usize) -> usize {
    let reachable = MAX_RESULT_WINDOW / page_size.max(1);
    total.div_ceil(page_size.max(1)).min(reachable)
}

/// The filters in force, each removable, and a link that clears them all.
fn active_filters(url: &UrlState, outcome: &Outcome) -> String {
    let mut items = Vec::new();
    for key in FILTER_KEYS {
        for value in url.all(key) {
            items.push(format!(
                "<li><a href=\"{}\">{}：{} <span aria-hidden=\"true\">✕</span><span class=\"sr\">（取消）</span></a></li>",
                url.toggled(key, value).href(),
                facet_title(key),
                escape(&value_label(key, value, outcome)),
            ));
        }
    }
    let years = (url.get("year_from"), url.get("year_to"));
    if years != (None, None) {
        let from = years.0.unwrap_or("…");
        let to = years.1.unwrap_or("…");
        items.push(format!(
            "<li><a href=\"{}\">年代：{}–{} <span aria-hidden=\"true\">✕</span><span class=\"sr\">（取消）</span></a></li>",
            url.without(&["year_from", "year_to", "page"]).href(),
            escape(from),
            escape(to)
        ));
    }
    if items.is_empty() {
        return String::new();
    }
    let clear = url
        .without(&FILTER_KEYS)
        .without(&["year_from", "year_to", "page"])
        .href();
    format!(
        "<nav class=\"active\" aria-label=\"已选条件\"><ul>{}<li><a href=\"{clear}\">清除全部筛选</a></li></ul></nav>",
        items.join("")
    )
}

fn facet_title(key: &str) -> &'static str {
    match key {
        "institution" => "机构",
        "institution_type" => "机构类型",
        "resource_type" => "资源类型",
        "region" => "区县",
        "language" => "语种",
        "period" => "朝代",
        "accessible_format" => "无障碍格式",
        _ => "其他",
    }
}

/// What a facet value is called on the page.
fn value_label(key: &str, value: &str, outcome: &Outcome) -> String {
    match key {
        "institution" => outcome
            .institutions
            .get(value)
            .map_or_else(|| value.to_string(), |i| i.name.clone()),
        "institution_type" => value
            .parse::<InstitutionType>()
            .map_or_else(|_| value.to_string(), |t| t.label().to_string()),
        "resource_type" => value
            .parse::<ResourceType>()
            .map_or_else(|_| value.to_string(), |t| t.label().to_string()),
        "language" => language_label(value).to_string(),
        "accessible_format" => value
            .parse::<AccessibleFormat>()
            .map_or_else(|_| value.to_string(), |f| f.label().to_string()),
        _ => value.to_string(),
    }
}

/// The Chinese name of a language code, or the code when it is not a common one.
pub(crate) fn language_label(code: &str) -> &str {
    match code {
        "zh" => "中文",
        "en" => "英文",
        "ja" => "日文",
        "ru" => "俄文",
        "fr" => "法文",
        "de" => "德文",
        "bo" => "藏文",
        "mn" => "蒙古文",
        "ug" => "维吾尔文",
        other => other,
    }
}

fn facets(url: &UrlState, outcome: &Outcome) -> String {
    let mut out = String::new();
    for key in FILTER_KEYS {
        let Some(facet) = outcome.results.facets.iter().find(|f| f.name == key) else {
            continue;
        };
        let mut values: Vec<(&str, u64)> = facet.values.iter().map(|v| (v.value.as_str(), v.count)).collect();
        // A chosen value always stays visible, so it can be unchosen.
        for chosen in url.all(key) {
            if !values.iter().any(|(v, _)| *v == chosen) {
                values.push((chosen, 0));
            }
        }
        if values.is_empty() {
            continue;
        }
        out.push_str(&format!(
            "<fieldset class=\"facet\"><legend>{}</legend><ul>",
            facet_title(key)
        ));
        for (n, (value, count)) in values.iter().take(FACET_VALUES_MAX).enumerate() {
            if n == FACET_VALUES_SHOWN {
                out.push_str("</ul><details><summary>更多</summary><ul>");
            }
            let chosen = url.has(key, value);
            let (mark, state, current) = if chosen {
                (
                    "☑",
                    "<span class=\"sr\">（已选，点击取消）</span>",
                    " aria-current=\"true\"",
                )
            } else {
                ("☐", "", "")
            };
            out.push_str(&format!(
                "<li><a href=\"{}\"{current}><span aria-hidden=\"true\">{mark}</span> {} <span class=\"n\">({count})</span>{state}</a></li>",
                url.toggled(key, value).href(),
                escape(&value_label(key, value, outcome)),
            ));
        }
        if values.len().min(FACET_VALUES_MAX) > FACET_VALUES_SHOWN {
            out.push_str("</ul></details></fieldset>\n");
        } else {
            out.push_str("</ul></fieldset>\n");
        }
    }
    out
}

/// The year range: a small form that keeps everything else in hidden fields.
fn year_form(url: &UrlState) -> String {
    let mut out = String::from(
        "<form class=\"years\" action=\"/search\" method=\"get\"><fieldset><legend>年代范围</legend>",
    );
    let rest = url.without(&["year_from", "year_to", "page"]);
    for key in ["q", "sort"].iter().chain(FILTER_KEYS.iter()) {
        for value in rest.all(key) {
            out.push_str(&format!(
                "<input type=\"hidden\" name=\"{key}\" value=\"{}\">",
                escape(value)
            ));
        }
    }
    out.push_str(&format!(
        "<label for=\"year_from\">从<span class=\"sr\">（起始年份）</span></label><input id=\"year_from\" name=\"year_from\" type=\"number\" \
inputmode=\"numeric\" min=\"-10000\" max=\"2100\" value=\"{}\">\
<label for=\"year_to\">到<span class=\"sr\">（结束年份）</span></label><input id=\"year_to\" name=\"year_to\" type=\"number\" \
inputmode=\"numeric\" min=\"-10000\" max=\"2100\" value=\"{}\">\
<p class=\"hint\">公元前年份请填负数，如 -221</p><button type=\"submit\">按年代筛选</button></fieldset></form>\n",
        escape(url.get("year_from").unwrap_or("")),
        escape(url.get("year_to").unwrap_or("")),
    ));
    out
}

/// Previous, a window of page numbers around this one, next.
pub(crate) fn pager(url: &UrlState, outcome: &Outcome) -> String {
    let pages = page_count(outcome.results.total, outcome.page_size);
    if pages <= 1 {
        return String::new();
    }
    let page = outcome.page;
    let mut out = String::from("<nav class=\"pager\" aria-label=\"分页\"><ul>");
    if page > 1 {
        out.push_str(&format!(
            "<li><a href=\"{}\" rel=\"prev\">上一页</a></li>",
            url.on_page(page - 1).href()
        ));
    }
    let mut last_shown = 0;
    for n in 1..=pages {
        let near = n == 1 || n == pages || n.abs_diff(page) <= 2;
        if !near {
            continue;
        }
        if n > last_shown + 1 {
            out.push_str("<li class=\"gap\" aria-hidden=\"true\">…</li>");
        }
        last_shown = n;
        if n == page {
            out.push_str(&format!(
                "<li><a href=\"{}\" aria-current=\"page\">第 {n} 页</a></li>",
                url.on_page(n).href()
            ));
        } else {
            out.push_str(&format!("<li><a href=\"{}\">{n}</a></li>", url.on_page(n).href()));
        }
    }
    if page < pages {
        out.push_str(&format!(
            "<li><a href=\"{}\" rel=\"next\">下一页</a></li>",
            url.on_page(page + 1).href()
        ));
    }
    out.push_str("</ul></nav>\n");
    out
}
