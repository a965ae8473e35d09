//! `GET /search`: the results page. Takes the parameters of `/api/v1/search` (parsed by the
//! same function, so the page and the API never disagree) and shows the hits with their
//! highlights, the facets as links that keep the rest of the URL (period, accessible
//! format, level, branch, brand, audience and special collections among them), the filters
//! in force, the order (relevance, newest or oldest first), a year range and paging. The
//! page is `templates/search.html`; the hits (`templates/hits.html`) and the pager
//! (`templates/pager.html`) are shared with the institution page.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use indexer::{Hit, SearchResults};
use schemas::{AccessibleFormat, Audience, Institution, InstitutionType, Level, ResourceType};

use super::error::PageError;
use super::home::url_segment;
use super::html::Highlight;
use super::layout::{Frame, SearchForm, render};
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
    let frame = Frame::new(&state, &headers, &uri);
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
            render(StatusCode::OK, &ResultsPage::new(&frame, title, &url, &outcome))
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

/// `templates/search.html`: the results page.
#[derive(Template)]
#[template(path = "search.html")]
struct ResultsPage<'a> {
    frame: &'a Frame,
    title: String,
    search: SearchForm<'a>,
    /// The filters in force, each a link that removes it.
    active: Vec<ActiveFilter>,
    /// The state without any filter.
    clear_href: String,
    /// The orders, when there is more than one result to order.
    sorts: Vec<SortLink>,
    hits: HitsView,
    pager: Vec<PagerLink>,
    facets: Vec<FacetView>,
    /// The year form's hidden fields (everything but the years and the page).
    year_hidden: Vec<(&'static str, &'a str)>,
    /// The purchase suggestion form, when a library search found little.
    purchase: Option<super::suggestions::SuggestLink>,
    year_from: &'a str,
    year_to: &'a str,
}

/// One filter in force.
struct ActiveFilter {
    href: String,
    text: String,
}

/// One order of the results.
struct SortLink {
    href: String,
    label: &'static str,
    current: bool,
}

/// One facet with its values.
struct FacetView {
    title: &'static str,
    values: Vec<FacetValueView>,
    /// Values shown before the rest fold away under “更多”.
    shown: usize,
}

/// One value of a facet: a link that chooses or unchooses it.
struct FacetValueView {
    href: String,
    label: String,
    count: u64,
    chosen: bool,
}

/// One link of a pager (`templates/pager.html`), or the gap between page numbers.
pub(crate) struct PagerLink {
    pub(crate) href: String,
    pub(crate) label: String,
    /// `prev`, `next` or nothing.
    pub(crate) rel: &'static str,
    /// This page.
    pub(crate) current: bool,
    /// An ellipsis, not a link.
    pub(crate) gap: bool,
}

impl PagerLink {
    /// A link to `href` reading `label`, with `rel` (`prev`, `next`, or empty).
    pub(crate) fn to(href: String, label: String, rel: &'static str) -> PagerLink {
        PagerLink {
            href,
            label,
            rel,
            current: false,
            gap: false,
        }
    }
}

impl<'a> ResultsPage<'a> {
    fn new(frame: &'a Frame, title: String, url: &'a UrlState, outcome: &Outcome) -> ResultsPage<'a> {
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
        let year_hidden = ["q", "sort"]
            .iter()
            .chain(FILTER_KEYS.iter())
            .flat_map(|key| url.all(key).map(move |v| (*key, v)))
            .collect();
        ResultsPage {
            frame,
            title,
            search: SearchForm::new(query, kept),
            active: active_filters(url, outcome),
            clear_href: url
                .without(&FILTER_KEYS)
                .without(&["year_from", "year_to", "page"])
                .href(),
            sorts: if outcome.results.total > 1 {
                sort_links(url)
            } else {
                Vec::new()
            },
            hits: HitsView::new(url, outcome, "h2"),
            purchase: super::suggestions::offer_after_search(outcome, query),
            pager: pager(url, outcome),
            facets: facets(url, outcome),
            year_hidden,
            year_from: url.get("year_from").unwrap_or(""),
            year_to: url.get("year_to").unwrap_or(""),
        }
    }
}

/// The count and the list of hits (`templates/hits.html`).
pub(crate) struct HitsView {
    /// The element of each hit's title (`h2` on the results page, `h3` under a heading).
    pub(crate) heading: &'static str,
    pub(crate) total: usize,
    pub(crate) page: usize,
    pub(crate) pages: usize,
    /// Without hits: the same search without its filters, when there were any.
    pub(crate) unfiltered_href: Option<String>,
    /// Past the last page: the first page.
    pub(crate) first_page_href: String,
    /// The position of the first hit.
    pub(crate) start: usize,
    /// The query, for the click statistics (`web/suggest.js`).
    pub(crate) query: String,
    pub(crate) items: Vec<HitView>,
}

/// One hit.
pub(crate) struct HitView {
    pub(crate) thumbnail: Option<Thumbnail>,
    pub(crate) href: String,
    pub(crate) id: String,
    pub(crate) position: usize,
    pub(crate) title: Highlight,
    pub(crate) creators: Highlight,
    pub(crate) kind: &'static str,
    pub(crate) year: Option<String>,
    pub(crate) institution_href: String,
    pub(crate) institution_name: String,
    /// The institution's type and district.
    pub(crate) institution_meta: String,
    pub(crate) snippets: Vec<Snippet>,
    /// Where copies are, at most [`HOLDINGS_SHOWN`].
    pub(crate) copies: Vec<String>,
    /// ` 等 n 处` when there are more.
    pub(crate) copies_more: String,
}

pub(crate) struct Thumbnail {
    pub(crate) src: String,
    pub(crate) alt: String,
}

/// A highlighted passage of the subjects or the description.
pub(crate) struct Snippet {
    pub(crate) label: &'static str,
    pub(crate) html: Highlight,
}

impl HitsView {
    /// The hits of `outcome`; `heading` is the element of each hit's title.
    pub(crate) fn new(url: &UrlState, outcome: &Outcome, heading: &'static str) -> HitsView {
        let results = &outcome.results;
        let filtered = url.get("q").is_some() && url.without(&["q", "page"]) != UrlState::default();
        let start = (outcome.page.max(1) - 1) * outcome.page_size + 1;
        HitsView {
            heading,
            total: results.total,
            page: outcome.page,
            pages: page_count(results.total, outcome.page_size).max(1),
            unfiltered_href: filtered.then(|| {
                url.without(&FILTER_KEYS)
                    .without(&["year_from", "year_to", "page"])
                    .href()
            }),
            first_page_href: url.on_page(1).href(),
            start,
            query: url.get("q").unwrap_or("").to_string(),
            items: results
                .hits
                .iter()
                .enumerate()
                .map(|(n, hit)| hit_view(hit, outcome, start + n))
                .collect(),
        }
    }
}

fn hit_view(hit: &Hit, outcome: &Outcome, position: usize) -> HitView {
    let highlighted = |field: &str| {
        hit.highlights
            .iter()
            .find(|(name, _)| name == field)
            .map(|(_, html)| Highlight::checked(html))
    };
    let district = outcome
        .institutions
        .get(&hit.institution)
        .and_then(|i| i.district)
        .map(|d| format!(" · {}", d.label()))
        .unwrap_or_default();
    let snippets = ["subjects", "description"]
        .into_iter()
        .filter_map(|field| {
            highlighted(field).map(|html| Snippet {
                label: if field == "subjects" { "主题：" } else { "" },
                html,
            })
        })
        .collect();
    let copies: Vec<String> = hit
        .holdings
        .iter()
        .filter(|h| h.branch.is_some() || h.call_number.is_some() || hit.holdings.len() > 1)
        .take(HOLDINGS_SHOWN)
        .map(|h| {
            let mut text = h.institution_name.clone();
            if let Some(branch) = &h.branch {
                text.push(' ');
                text.push_str(branch);
            }
            if let Some(call) = &h.call_number {
                text.push_str(&format!("（索书号 {call}）"));
            }
            text
        })
        .collect();
    let copies_more = if hit.holdings.len() > HOLDINGS_SHOWN && !copies.is_empty() {
        format!(" 等 {} 处", hit.holdings.len())
    } else {
        String::new()
    };
    HitView {
        thumbnail: outcome.thumbnails.get(&hit.id).map(|(src, alt)| Thumbnail {
            src: src.clone(),
            alt: alt.clone(),
        }),
        href: format!("/records/{}", url_segment(&hit.id)),
        id: hit.id.clone(),
        position,
        title: highlighted("title").unwrap_or_else(|| Highlight::plain(&hit.title)),
        creators: highlighted("creators").unwrap_or_else(|| Highlight::plain(&hit.creators.join("; "))),
        kind: hit.resource_type.label(),
        year: hit.year.map(year_label),
        institution_href: format!("/institutions/{}", url_segment(&hit.institution)),
        institution_name: hit.institution_name.clone(),
        institution_meta: format!("{}{district}", hit.institution_type.label()),
        snippets,
        copies,
        copies_more,
    }
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
fn sort_links(url: &UrlState) -> Vec<SortLink> {
    let current = url.get("sort").unwrap_or("relevance");
    SORT_ORDERS
        .iter()
        .map(|(sort, label)| SortLink {
            href: url.sorted(sort).href(),
            label,
            current: *sort == current,
        })
        .collect()
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

/// The filters in force, each removable.
fn active_filters(url: &UrlState, outcome: &Outcome) -> Vec<ActiveFilter> {
    let mut items = Vec::new();
    for key in FILTER_KEYS {
        for value in url.all(key) {
            items.push(ActiveFilter {
                href: url.toggled(key, value).href(),
                text: format!("{}：{}", facet_title(key), value_label(key, value, outcome)),
            });
        }
    }
    let years = (url.get("year_from"), url.get("year_to"));
    if years != (None, None) {
        let from = years.0.unwrap_or("…");
        let to = years.1.unwrap_or("…");
        items.push(ActiveFilter {
            href: url.without(&["year_from", "year_to", "page"]).href(),
            text: format!("年代：{from}–{to}"),
        });
    }
    items
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
        "level" => "层级",
        "branch" => "分馆",
        "brand" => "品牌",
        "audience" => "适用人群",
        "special_collection" => "特色馆藏",
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
        "level" => value
            .parse::<Level>()
            .map_or_else(|_| value.to_string(), |l| l.label().to_string()),
        "audience" => value
            .parse::<Audience>()
            .map_or_else(|_| value.to_string(), |a| a.label().to_string()),
        "special_collection" if value == "true" => "是".to_string(),
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

fn facets(url: &UrlState, outcome: &Outcome) -> Vec<FacetView> {
    let mut out = Vec::new();
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
        out.push(FacetView {
            title: facet_title(key),
            values: values
                .iter()
                .take(FACET_VALUES_MAX)
                .map(|(value, count)| FacetValueView {
                    href: url.toggled(key, value).href(),
                    label: value_label(key, value, outcome),
                    count: *count,
                    chosen: url.has(key, value),
                })
                .collect(),
            shown: FACET_VALUES_SHOWN,
        });
    }
    out
}

/// Previous, a window of page numbers around this one, next.
pub(crate) fn pager(url: &UrlState, outcome: &Outcome) -> Vec<PagerLink> {
    let pages = page_count(outcome.results.total, outcome.page_size);
    if pages <= 1 {
        return Vec::new();
    }
    let page = outcome.page;
    let mut out = Vec::new();
    if page > 1 {
        out.push(PagerLink::to(
            url.on_page(page - 1).href(),
            "上一页".into(),
            "prev",
        ));
    }
    let mut last_shown = 0;
    for n in 1..=pages {
        let near = n == 1 || n == pages || n.abs_diff(page) <= 2;
        if !near {
            continue;
        }
        if n > last_shown + 1 {
            out.push(PagerLink {
                gap: true,
                ..PagerLink::to(String::new(), String::new(), "")
            });
        }
        last_shown = n;
        if n == page {
            out.push(PagerLink {
                current: true,
                ..PagerLink::to(url.on_page(n).href(), format!("第 {n} 页"), "")
            });
        } else {
            out.push(PagerLink::to(url.on_page(n).href(), n.to_string(), ""));
        }
    }
    if page < pages {
        out.push(PagerLink::to(
            url.on_page(page + 1).href(),
            "下一页".into(),
            "next",
        ));
    }
    out
}
