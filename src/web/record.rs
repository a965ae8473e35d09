//! `GET /records/{id}`: one record with every field, its holdings per branch, a citation,
//! and the record as schema.org JSON-LD for search engines.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, Uri};
use axum::response::{Html, IntoResponse, Response};
use schemas::{Institution, Record, ResourceType};

use super::error::PageError;
use super::home::url_segment;
use super::html::{escape, json_in_script, safe_url};
use super::layout::Frame;
use super::url_state::UrlState;
use crate::jsonld::record_to_jsonld;
use crate::state::AppState;

pub(crate) async fn record(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let frame = Frame::new(&headers, &uri);
    match load(&state, id).await {
        Ok((record, institution, fetched)) => {
            let main = render(&record, institution.as_ref(), &fetched);
            Html(frame.page(&record.title, &main)).into_response()
        }
        Err(err) => err.render(&frame),
    }
}

/// The local copies of a record's fetched image links, by link URL.
type FetchedImages = std::collections::HashMap<String, store::remote_images::FetchedImage>;

async fn load(
    state: &AppState,
    id: String,
) -> Result<(Record, Option<Institution>, FetchedImages), PageError> {
    let store = state.store.clone();
    let found = tokio::task::spawn_blocking(move || {
        let Some(record) = store.record(&id)? else {
            return Ok::<_, PageError>(None);
        };
        let institution = store
            .institutions()?
            .into_iter()
            .find(|i| i.id == record.institution);
        let fetched = store.fetched_remote_images(record.images.iter().map(|i| i.url.as_str()))?;
        Ok(Some((record, institution, fetched)))
    })
    .await??;
    found.ok_or_else(|| PageError::NotFound("没有这条记录：它可能已被删除，或链接有误。".into()))
}

fn render(record: &Record, institution: Option<&Institution>, fetched: &FetchedImages) -> String {
    let mut out = String::with_capacity(8 * 1024);
    out.push_str(&format!(
        "<article class=\"record\"><h1>{}</h1>\n",
        escape(&record.title)
    ));
    if let Some(institution) = institution {
        let district = institution
            .district
            .map(|d| format!(" · {}", d.label()))
            .unwrap_or_default();
        out.push_str(&format!(
            "<p class=\"where\"><a href=\"/institutions/{}\">{}</a> <span class=\"meta\">{}{district}</span></p>\n",
            escape(&url_segment(&institution.id)),
            escape(&institution.name),
            institution.institution_type.label()
        ));
    }

    for image in &record.images {
        // The local copy when there is one (fetched in the background), else the original.
        let local = services::remote_images::LocalImage::of_link(&image.url, fetched).map(|l| l.display_url);
        let Some(src) = local.as_deref().or_else(|| safe_url(&image.url)) else {
            continue;
        };
        let alt = image.caption.as_deref().unwrap_or(&record.title);
        out.push_str(&format!(
            "<figure><img src=\"{}\" alt=\"{}\" loading=\"lazy\">{}</figure>\n",
            escape(src),
            escape(alt),
            image
                .caption
                .as_deref()
                .map(|c| format!("<figcaption>{}</figcaption>", escape(c)))
                .unwrap_or_default()
        ));
    }

    out.push_str("<dl class=\"fields\">\n");
    let mut field = |label: &str, value: &str| {
        if !value.trim().is_empty() {
            out.push_str(&format!("<dt>{label}</dt><dd>{}</dd>\n", escape(value)));
        }
    };
    field("资源类型", record.resource_type.label());
    field("其他题名", &record.alternative_titles.join("；"));
    field("责任者", &record.creators.join("；"));
    field("其他责任者", &record.contributors.join("；"));
    field("版本", record.edition.as_deref().unwrap_or(""));
    field("出版者", record.publisher.as_deref().unwrap_or(""));
    field("日期", record.date.as_ref().map_or("", |d| d.display.as_str()));
    field("时代", record.period.as_deref().unwrap_or(""));
    field("文化", record.culture.as_deref().unwrap_or(""));
    field("产地/出土地", record.place.as_deref().unwrap_or(""));
    field("主题", &record.subjects.join("；"));
    field("分类号", &record.classifications.join("；"));
    field("ISBN", &record.isbns.join("；"));
    field(
        "语种",
        record
            .language
            .as_deref()
            .map_or("", super::search::language_label),
    );
    field("载体形态", record.extent.as_deref().unwrap_or(""));
    field("尺寸", record.measurements.as_deref().unwrap_or(""));
    field("材质", &record.materials.join("；"));
    field("工艺", &record.techniques.join("；"));
    field("时空范围", &record.coverage.join("；"));
    field("藏品编号", record.inventory_number.as_deref().unwrap_or(""));
    field("其他标识", &record.identifiers.join("；"));
    field("权利", record.rights.as_deref().unwrap_or(""));
    if let Some(curation) = &record.curation {
        if curation.special_collection {
            field("特色馆藏", "是");
        }
        field("品牌项目", curation.brand.as_deref().unwrap_or(""));
        let formats: Vec<&str> = curation.accessible_formats.iter().map(|f| f.label()).collect();
        field("无障碍版本", &formats.join("；"));
        let audiences: Vec<&str> = curation.audiences.iter().map(|a| a.label()).collect();
        field("适用人群", &audiences.join("；"));
    }
    if let Some(event) = &record.event {
        field("开始时间", event.start.as_deref().unwrap_or(""));
        field("结束时间", event.end.as_deref().unwrap_or(""));
        field("地点", event.venue.as_deref().unwrap_or(""));
        field("主办", event.organiser.as_deref().unwrap_or(""));
    }
    out.push_str("</dl>\n");

    if let Some(description) = &record.description {
        out.push_str(&format!(
            "<section aria-labelledby=\"about\"><h2 id=\"about\">简介</h2><p class=\"description\">{}</p></section>\n",
            escape(description)
        ));
    }

    if let Some(event) = &record.event {
        let links: Vec<String> = [
            (event.registration_url.as_deref(), "报名参加"),
            (event.live_stream_url.as_deref(), "观看直播"),
        ]
        .into_iter()
        .filter_map(|(url, label)| {
            url.and_then(safe_url)
                .map(|u| format!("<a href=\"{}\" rel=\"noopener nofollow\">{label}</a>", escape(u)))
        })
        .collect();
        if !links.is_empty() {
            out.push_str(&format!("<p class=\"links\">{}</p>\n", links.join(" · ")));
        }
    }

    out.push_str(&holdings(record, institution));

    // An event is attended, not cited.
    if record.resource_type != ResourceType::Event {
        out.push_str(&format!(
        "<section aria-labelledby=\"cite\"><h2 id=\"cite\">引用</h2><p class=\"citation\">{}</p></section>\n",
        escape(&citation(record))
    ));
    }
    if let Some(url) = record.source_url.as_deref().and_then(safe_url) {
        out.push_str(&format!(
            "<p class=\"links\"><a href=\"{}\" rel=\"noopener nofollow\">在来源系统中查看</a></p>\n",
            escape(url)
        ));
    }
    let more = UrlState::default()
        .with("institution", &record.institution)
        .href();
    out.push_str(&format!(
        "<p class=\"links\"><a href=\"{more}\">本馆更多馆藏</a> · <a href=\"/api/v1/records/{}\">JSON 数据</a></p>\n",
        escape(&url_segment(&record.id))
    ));
    out.push_str("</article>\n");

    out.push_str(&format!(
        "<script type=\"application/ld+json\">{}</script>",
        json_in_script(&record_to_jsonld(record, institution))
    ));
    out
}

/// The holdings table: one row per branch with its call number, items and status.
fn holdings(record: &Record, institution: Option<&Institution>) -> String {
    // A holding that says nothing but its institution (a museum's object) needs no table.
    let informative = record
        .holdings
        .iter()
        .any(|h| h.call_number.is_some() || h.items.is_some() || h.status.is_some() || h.branch.is_some());
    if !informative {
        return String::new();
    }
    let mut out = String::from(
        "<section aria-labelledby=\"holdings\"><h2 id=\"holdings\">馆藏信息</h2>\n\
<div class=\"table-wrap\"><table class=\"holdings\"><caption class=\"sr\">各馆藏地点的索书号与状态</caption>\n\
<thead><tr><th scope=\"col\">馆藏地点</th><th scope=\"col\">索书号</th><th scope=\"col\">册数</th><th scope=\"col\">状态</th></tr></thead><tbody>\n",
    );
    for holding in &record.holdings {
        let owner = match institution {
            Some(i) if i.id == holding.institution => i.name.clone(),
            _ => holding.institution.clone(),
        };
        let place = match &holding.branch {
            Some(branch) if *branch != owner => format!("{owner} {branch}"),
            _ => owner,
        };
        out.push_str(&format!(
            "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            escape(&place),
            escape(holding.call_number.as_deref().unwrap_or("—")),
            holding.items.map_or_else(|| "—".to_string(), |n| n.to_string()),
            escape(holding.status.as_deref().unwrap_or("—")),
        ));
    }
    out.push_str("</tbody></table></div></section>\n");
    out
}

/// A reference in the style of GB/T 7714-2015: `作者. 题名[M]. 出版地: 出版者, 年.`
/// At most three authors are named, then `等`.
pub(crate) fn citation(record: &Record) -> String {
    let code = match record.resource_type {
        ResourceType::Book | ResourceType::AncientBook => "M",
        ResourceType::Periodical => "J",
        ResourceType::Map => "CM",
        ResourceType::Manuscript => "A",
        _ => "Z",
    };
    let mut out = String::new();
    if !record.creators.is_empty() {
        out.push_str(
            &record
                .creators
                .iter()
                .take(3)
                .cloned()
                .collect::<Vec<_>>()
                .join(", "),
        );
        if record.creators.len() > 3 {
            out.push_str(", 等");
        }
        out.push_str(". ");
    }
    out.push_str(&record.title);
    out.push_str(&format!("[{code}]. "));
    if let Some(edition) = &record.edition {
        out.push_str(edition);
        out.push_str(". ");
    }
    let year = record.date.as_ref().map(|d| match d.year_start {
        Some(y) if y >= 0 && d.year_start == d.year_end => y.to_string(),
        _ => d.display.clone(),
    });
    match (&record.publisher, year) {
        (Some(publisher), Some(year)) => out.push_str(&format!("{}, {year}.", publisher.replace('：', ": "))),
        (Some(publisher), None) => out.push_str(&format!("{}.", publisher.replace('：', ": "))),
        (None, Some(year)) => out.push_str(&format!("{year}.")),
        (None, None) => {
            out.truncate(out.trim_end().len());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn citation_follows_gbt_7714() {
        let mut record = Record::new("x:1", "lib", "唐诗三百首");
        record.resource_type = ResourceType::Book;
        record.creators = vec!["蘅塘退士".into()];
        record.publisher = Some("北京：中华书局".into());
        record.date = Some(schemas::DateRange {
            display: "2003".into(),
            year_start: Some(2003),
            year_end: Some(2003),
        });
        assert_eq!(
            citation(&record),
            "蘅塘退士. 唐诗三百首[M]. 北京: 中华书局, 2003."
        );
        record.creators = vec!["甲".into(), "乙".into(), "丙".into(), "丁".into()];
        record.publisher = None;
        record.date = None;
        assert_eq!(citation(&record), "甲, 乙, 丙, 等. 唐诗三百首[M].");
    }
}
