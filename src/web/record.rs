//! `GET /records/{id}`: one record with every field, its holdings per branch (each branch
//! a link to its holdings in the results), a citation, and the record as schema.org
//! JSON-LD for search engines (`templates/record.html`).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use schemas::{Institution, Record, ResourceType};

use super::error::PageError;
use super::home::url_segment;
use super::html::{SafeJson, safe_url};
use super::layout::{Frame, render};
use super::url_state::UrlState;
use crate::jsonld::record_to_jsonld;
use crate::state::AppState;

pub(crate) async fn record(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let frame = Frame::new(&state, &headers, &uri);
    match load(&state, id).await {
        Ok((record, institution, fetched)) => render(
            StatusCode::OK,
            &RecordPage::new(&frame, &record, institution.as_ref(), &fetched),
        ),
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

/// `templates/record.html`.
#[derive(Template)]
#[template(path = "record.html")]
struct RecordPage<'a> {
    frame: &'a Frame,
    title: &'a str,
    institution: Option<Place>,
    images: Vec<Figure>,
    /// `(label, value)` of every field the record fills.
    fields: Vec<(&'static str, String)>,
    description: Option<&'a str>,
    /// Registration and live stream of an event.
    event_links: Vec<LinkOut>,
    holdings: Vec<HoldingRow>,
    /// None for events: an event is attended, not cited.
    citation: Option<String>,
    source_url: Option<&'a str>,
    more_href: String,
    json_href: String,
    jsonld: SafeJson,
}

/// The institution of a record, linked.
struct Place {
    href: String,
    name: String,
    /// Its type and district.
    meta: String,
}

struct Figure {
    src: String,
    alt: String,
    caption: Option<String>,
}

struct LinkOut {
    href: String,
    label: &'static str,
}

/// One row of the holdings table.
struct HoldingRow {
    /// The institution holding the copy (empty when the branch says it all).
    owner: String,
    /// The branch, linked to its holdings in the results.
    branch: Option<BranchLink>,
    call_number: String,
    items: String,
    status: String,
}

struct BranchLink {
    href: String,
    name: String,
}

impl<'a> RecordPage<'a> {
    fn new(
        frame: &'a Frame,
        record: &'a Record,
        institution: Option<&Institution>,
        fetched: &FetchedImages,
    ) -> RecordPage<'a> {
        let images = record
            .images
            .iter()
            .filter_map(|image| {
                // The local copy when there is one (fetched in the background), else the original.
                let local =
                    services::remote_images::LocalImage::of_link(&image.url, fetched).map(|l| l.display_url);
                let src = local.or_else(|| safe_url(&image.url).map(str::to_string))?;
                Some(Figure {
                    src,
                    alt: image.caption.clone().unwrap_or_else(|| record.title.clone()),
                    caption: image.caption.clone(),
                })
            })
            .collect();
        let event_links = record
            .event
            .iter()
            .flat_map(|event| {
                [
                    (event.registration_url.as_deref(), "报名参加"),
                    (event.live_stream_url.as_deref(), "观看直播"),
                ]
            })
            .filter_map(|(url, label)| {
                url.and_then(safe_url).map(|u| LinkOut {
                    href: u.to_string(),
                    label,
                })
            })
            .collect();
        RecordPage {
            frame,
            title: &record.title,
            institution: institution.map(|institution| Place {
                href: format!("/institutions/{}", url_segment(&institution.id)),
                name: institution.name.clone(),
                meta: format!(
                    "{}{}",
                    institution.institution_type.label(),
                    institution
                        .district
                        .map(|d| format!(" · {}", d.label()))
                        .unwrap_or_default()
                ),
            }),
            images,
            fields: fields(record),
            description: record.description.as_deref(),
            event_links,
            holdings: holdings(record, institution),
            citation: (record.resource_type != ResourceType::Event).then(|| citation(record)),
            source_url: record.source_url.as_deref().and_then(safe_url),
            more_href: UrlState::default()
                .with("institution", &record.institution)
                .href(),
            json_href: format!("/api/v1/records/{}", url_segment(&record.id)),
            jsonld: SafeJson::new(&record_to_jsonld(record, institution)),
        }
    }
}

/// Every field the record fills, as `(label, value)`.
fn fields(record: &Record) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    let mut field = |label: &'static str, value: &str| {
        if !value.trim().is_empty() {
            out.push((label, value.to_string()));
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
    out
}

/// The holdings table's rows: one per branch with its call number, items and status; none
/// when no holding says more than its institution (a museum's object needs no table).
fn holdings(record: &Record, institution: Option<&Institution>) -> Vec<HoldingRow> {
    let informative = record
        .holdings
        .iter()
        .any(|h| h.call_number.is_some() || h.items.is_some() || h.status.is_some() || h.branch.is_some());
    if !informative {
        return Vec::new();
    }
    record
        .holdings
        .iter()
        .map(|holding| {
            let owner = match institution {
                Some(i) if i.id == holding.institution => i.name.clone(),
                _ => holding.institution.clone(),
            };
            let branch = holding
                .branch
                .as_deref()
                .map(str::trim)
                .filter(|b| !b.is_empty())
                .map(|branch| BranchLink {
                    href: UrlState::default()
                        .with("institution", &holding.institution)
                        .with("branch", branch)
                        .href(),
                    name: branch.to_string(),
                });
            // A branch named like its institution stands for both.
            let owner = match &branch {
                Some(b) if b.name == owner => String::new(),
                _ => owner,
            };
            HoldingRow {
                owner,
                branch,
                call_number: holding.call_number.clone().unwrap_or_else(|| "—".into()),
                items: holding.items.map_or_else(|| "—".to_string(), |n| n.to_string()),
                status: holding.status.clone().unwrap_or_else(|| "—".into()),
            }
        })
        .collect()
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
