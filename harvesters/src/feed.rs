//! RSS 2.0 and Atom activity feeds → event records.
//!
//! Cultural centres announce lectures, performances and exhibitions in feeds. Each
//! `<item>` (RSS) or `<entry>` (Atom) becomes an [`ResourceType::Event`] record:
//!
//! - **title**; **description** from `description`/`content:encoded` (RSS) or
//!   `content`/`summary` (Atom), with HTML tags stripped to text; **link** (Atom's
//!   `rel="alternate"` or plain link) → `source_url`; `category` → subjects (the first is
//!   kept as the original type term); the record's date is the event's start date, else
//!   `pubDate`/`published`/`updated`.
//! - **Event facts**, first from elements, then from the description:
//!   - start/end: the RSS event module (`ev:startdate`, `ev:enddate`), or any element named
//!     `startdate`/`enddate`/`startDate`/`endDate`/`dtstart`/`dtend`; else a description
//!     line `活动时间：2025年3月8日 14:30-16:30` (also `时间`, `演出时间`, `讲座时间`,
//!     `展览时间`, `日期`);
//!   - venue: `ev:location`, else `地点：…` (also `活动地点`, `演出地点`, `地址`, `场馆`);
//!   - organiser: `ev:organizer`, else `主办：…` (also `主办单位`, `主办方`, `承办单位`);
//!   - live stream (云直播): an enclosure or `rel="enclosure"`/`rel="related"` link whose
//!     type is video or HLS or whose title or URL says 直播/live, else a URL after
//!     `直播：`/`云直播：`/`直播地址：`;
//!   - registration: a `rel="related"` link titled 报名/预约/register, else a URL after
//!     `报名：`/`报名链接：`/`预约：`.
//!
//!   Times become ISO 8601 through [`schemas::parse_time_span`]; no time zone is invented.
//! - The local id is the `guid` (RSS) or `id` (Atom), else the link. Items repeating an
//!   earlier id are dropped (feeds repeat items across updates); an item without any id or
//!   without a title, or whose XML is broken, is quarantined.

use std::collections::HashSet;

use schemas::{
    EventInfo, Record, ResourceType, normalize_date, normalize_datetime, parse_time_span, record_id,
};
use time::{OffsetDateTime, format_description::well_known::Rfc2822};

use crate::{
    Error, HarvestedItem, ItemOutcome, Result,
    lido::xml_tree::{Element, decode_xml, split_records},
};

/// Where a feed comes from and where its events belong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedOptions {
    /// Our id for the source; record ids are `{source_id}:{guid or id}`.
    pub source_id: String,
    /// Id of the institution organising the events.
    pub institution: String,
}

/// Reads an RSS 2.0 (or 1.0) or Atom feed into one [`HarvestedItem`] per distinct item.
///
/// Fails only if the document is not XML or not a feed.
pub fn read_feed(bytes: &[u8], options: &FeedOptions) -> Result<Vec<HarvestedItem>> {
    let decoded = decode_xml(bytes);
    let unreadable = |message: String| Error::Protocol {
        url: format!("source {}", options.source_id),
        message,
    };
    let spans = split_records(&decoded.text, |ancestors, name| {
        matches!(name, "item" | "entry") && (1..=2).contains(&ancestors.len())
    })
    .map_err(|e| unreadable(format!("not a feed: {e}")))?;
    if spans.is_empty() && !looks_like_feed(&decoded.text) {
        return Err(unreadable("not an RSS or Atom feed".into()));
    }
    let mut seen = HashSet::new();
    let mut items = Vec::new();
    for span in spans {
        let element = match span.element {
            Ok(element) => element,
            Err(reason) => {
                items.push(HarvestedItem {
                    local_id: String::new(),
                    datestamp: String::new(),
                    sets: Vec::new(),
                    raw: span.raw,
                    outcome: ItemOutcome::Quarantined {
                        reason: format!("broken feed item: {reason}"),
                    },
                });
                continue;
            }
        };
        let local_id = item_id(&element);
        if !local_id.is_empty() && !seen.insert(local_id.clone()) {
            tracing::debug!(source = %options.source_id, %local_id, "repeated feed item dropped");
            continue;
        }
        let datestamp =
            child_text(&element, &["pubDate", "updated", "published", "date"]).unwrap_or_default();
        let outcome = match map_item(&element, &local_id, options) {
            Ok(record) => ItemOutcome::Record(Box::new(record)),
            Err(reason) => ItemOutcome::Quarantined { reason },
        };
        items.push(HarvestedItem {
            local_id,
            datestamp,
            sets: Vec::new(),
            raw: span.raw,
            outcome,
        });
    }
    Ok(items)
}

fn looks_like_feed(text: &str) -> bool {
    ["<rss", "<feed", "<rdf:RDF", "<channel"]
        .iter()
        .any(|t| text.contains(t))
}

fn child_text(element: &Element, names: &[&str]) -> Option<String> {
    names
        .iter()
        .find_map(|name| element.children_named(name).find_map(Element::non_empty_text))
}

/// The `guid` or `id`, else the link.
fn item_id(item: &Element) -> String {
    child_text(item, &["guid", "id"])
        .or_else(|| item_link(item))
        .unwrap_or_default()
}

/// RSS `<link>text</link>`, or Atom's alternate (or first) `<link href>`.
fn item_link(item: &Element) -> Option<String> {
    let links: Vec<&Element> = item.children_named("link").collect();
    if let Some(text) = links.iter().find_map(|l| l.non_empty_text()) {
        return Some(text);
    }
    links
        .iter()
        .find(|l| l.attribute("rel").is_none_or(|r| r == "alternate"))
        .and_then(|l| l.attribute("href"))
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
}

fn map_item(item: &Element, local_id: &str, options: &FeedOptions) -> std::result::Result<Record, String> {
    if local_id.is_empty() {
        return Err("feed item has no guid, id or link".into());
    }
    let title = child_text(item, &["title"]).map(|t| html_to_text(&t));
    let Some(title) = title.filter(|t| !t.is_empty()) else {
        return Err(format!("feed item {local_id} has no title"));
    };
    let mut record = Record::new(
        record_id(&options.source_id, local_id),
        &options.institution,
        title,
    );
    record.resource_type = ResourceType::Event;
    record.source_url = item_link(item);

    let html = child_text(item, &["encoded", "content", "description", "summary"]);
    let text = html.as_deref().map(html_to_text).filter(|t| !t.is_empty());

    for category in item.children_named("category") {
        let term = category
            .attribute("term")
            .map(str::to_owned)
            .or_else(|| category.non_empty_text());
        if let Some(term) = term.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty())
            && !record.subjects.contains(&term)
        {
            record.subjects.push(term);
        }
    }
    record.resource_type_original = record.subjects.first().cloned();
    for author in item.children_named("author") {
        if let Some(name) = child_text(author, &["name"]).or_else(|| author.non_empty_text()) {
            record.creators.push(name);
        }
    }

    let mut event = EventInfo::default();
    let element_time = |names: &[&str]| -> Option<String> {
        names.iter().find_map(|name| {
            let mut found = Vec::new();
            item.descendants(name, &mut found);
            found
                .into_iter()
                .find_map(|e| e.non_empty_text().and_then(|t| normalize_datetime(&t)))
        })
    };
    event.start = element_time(&["startdate", "startDate", "dtstart"]);
    event.end = element_time(&["enddate", "endDate", "dtend"]);
    event.venue = child_text(item, &["location"]);
    event.organiser = child_text(item, &["organizer", "organiser"]);
    for link in item
        .children_named("link")
        .chain(item.children_named("enclosure"))
    {
        let Some(href) = link.attribute("href").or(link.attribute("url")) else {
            continue;
        };
        let rel = if link.name == "enclosure" {
            Some("enclosure")
        } else {
            link.attribute("rel")
        };
        let kind = link.attribute("type").unwrap_or_default().to_lowercase();
        let title = link.attribute("title").unwrap_or_default().to_lowercase();
        let lower_href = href.to_lowercase();
        if !matches!(rel, Some("related" | "enclosure")) {
            continue;
        }
        let is_stream = kind.starts_with("video/")
            || kind.contains("mpegurl")
            || title.contains("直播")
            || title.contains("live")
            || lower_href.contains("live");
        let is_registration = ["报名", "预约", "register", "registration", "signup"]
            .iter()
            .any(|w| title.contains(w));
        let is_replay = ["回放", "replay", "recording"].iter().any(|w| title.contains(w));
        if is_replay && event.replay_url.is_none() {
            event.replay_url = Some(href.trim().to_owned());
        } else if is_registration && event.registration_url.is_none() {
            event.registration_url = Some(href.trim().to_owned());
        } else if is_stream && event.live_stream_url.is_none() {
            event.live_stream_url = Some(href.trim().to_owned());
        }
    }
    if let Some(text) = &text {
        let facts = DescriptionFacts::read(text);
        if event.start.is_none()
            && let Some((start, end)) = facts.time.as_deref().and_then(parse_time_span)
        {
            event.start = Some(start);
            if event.end.is_none() {
                event.end = end;
            }
        }
        event.venue = event.venue.or(facts.venue);
        event.organiser = event.organiser.or(facts.organiser);
        event.live_stream_url = event.live_stream_url.or(facts.live_stream);
        event.registration_url = event.registration_url.or(facts.registration);
    }
    // Free or paid, and whom it is for, as the title, categories and text say
    // ([`EventInfo::read_text`]).
    for text in [Some(&record.title), text.as_ref()]
        .into_iter()
        .flatten()
        .chain(&record.subjects)
    {
        event.read_text(text);
    }
    record.description = text;

    // The record's date: the event's day, else when the item was published.
    let published = child_text(item, &["pubDate", "published", "updated", "date"]);
    record.date = match (&event.start, &published) {
        (Some(start), _) => Some(normalize_date(start.get(..10).unwrap_or(start))),
        (None, Some(published)) => Some(normalize_date(&published_day(published))),
        (None, None) => None,
    };
    if !event.is_empty() {
        record.event = Some(event);
    }
    record.validate().map_err(|e| format!("invalid record: {e}"))?;
    Ok(record)
}

/// `YYYY-MM-DD` of an RFC 2822 (`pubDate`) or RFC 3339 (`updated`) time; else the text.
fn published_day(text: &str) -> String {
    if let Ok(time) = OffsetDateTime::parse(text.trim(), &Rfc2822) {
        return format!(
            "{:04}-{:02}-{:02}",
            time.year(),
            u8::from(time.month()),
            time.day()
        );
    }
    match normalize_datetime(text) {
        Some(iso) => iso.get(..10).unwrap_or(&iso).to_owned(),
        None => text.trim().to_owned(),
    }
}

/// Event facts written as `标签：值` lines in a description.
#[derive(Debug, Default, PartialEq, Eq)]
struct DescriptionFacts {
    time: Option<String>,
    venue: Option<String>,
    organiser: Option<String>,
    live_stream: Option<String>,
    registration: Option<String>,
}

const TIME_LABELS: &[&str] = &[
    "活动时间",
    "演出时间",
    "讲座时间",
    "展览时间",
    "开展时间",
    "时间",
    "日期",
];
const VENUE_LABELS: &[&str] = &["活动地点", "演出地点", "展览地点", "地点", "地址", "场馆"];
const ORGANISER_LABELS: &[&str] = &["主办单位", "主办方", "主办", "承办单位"];
const STREAM_LABELS: &[&str] = &["云直播", "直播地址", "直播链接", "直播"];
const REGISTRATION_LABELS: &[&str] = &["报名链接", "报名地址", "预约链接", "报名", "预约"];

impl DescriptionFacts {
    fn read(text: &str) -> Self {
        let all_labels: Vec<&str> = [
            TIME_LABELS,
            VENUE_LABELS,
            ORGANISER_LABELS,
            STREAM_LABELS,
            REGISTRATION_LABELS,
        ]
        .concat();
        let mut facts = DescriptionFacts::default();
        for line in text.lines() {
            let labelled = labelled_values(line, &all_labels);
            for (label, value) in labelled {
                let slot = if TIME_LABELS.contains(&label) {
                    &mut facts.time
                } else if VENUE_LABELS.contains(&label) {
                    &mut facts.venue
                } else if ORGANISER_LABELS.contains(&label) {
                    &mut facts.organiser
                } else if STREAM_LABELS.contains(&label) {
                    &mut facts.live_stream
                } else {
                    &mut facts.registration
                };
                let value = if STREAM_LABELS.contains(&label) || REGISTRATION_LABELS.contains(&label) {
                    first_url(&value)
                } else {
                    Some(value)
                };
                if slot.is_none() {
                    *slot = value.filter(|v| !v.is_empty());
                }
            }
        }
        facts
    }
}

/// The `label：value` pairs of one line; a value runs to the next label or the line's end.
fn labelled_values<'a>(line: &str, labels: &[&'a str]) -> Vec<(&'a str, String)> {
    // Every place where a label followed by a colon starts, longest label first.
    let mut starts: Vec<(usize, usize, &'a str)> = Vec::new();
    for (at, _) in line.char_indices() {
        let rest = line.get(at..).unwrap_or_default();
        if starts.last().is_some_and(|(s, end, _)| at >= *s && at < *end) {
            continue;
        }
        let found = labels
            .iter()
            .filter(|l| rest.starts_with(**l))
            .max_by_key(|l| l.len());
        if let Some(label) = found {
            let after = rest.get(label.len()..).unwrap_or_default();
            if let Some(colon) = ['：', ':'].iter().find(|c| after.starts_with(**c)) {
                starts.push((at, at + label.len() + colon.len_utf8(), label));
            }
        }
    }
    let mut out = Vec::new();
    for (i, (_, value_start, label)) in starts.iter().enumerate() {
        let value_end = starts.get(i + 1).map_or(line.len(), |(s, _, _)| *s);
        let value = line.get(*value_start..value_end).unwrap_or_default();
        let value = value.trim().trim_end_matches(['；', ';', '，', ',', '。']).trim();
        out.push((*label, value.to_owned()));
    }
    out
}

fn first_url(text: &str) -> Option<String> {
    let at = text.find("https://").or_else(|| text.find("http://"))?;
    let rest = text.get(at..)?;
    let end = rest
        .find(|c: char| c.is_whitespace() || !c.is_ascii() || matches!(c, '"' | '\'' | '<' | '>'))
        .unwrap_or(rest.len());
    Some(rest.get(..end)?.trim_end_matches(['.', ',', ';', ')']).to_owned())
}

/// HTML to plain text: tags removed (block ends and `<br>` become line breaks), the common
/// entities decoded, lines trimmed, empty lines dropped.
fn html_to_text(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        text.push_str(rest.get(..open).unwrap_or_default());
        let after = rest.get(open + 1..).unwrap_or_default();
        let Some(close) = after.find('>') else {
            // A lone `<` is text.
            text.push('<');
            rest = after;
            continue;
        };
        let tag = after.get(..close).unwrap_or_default().trim().to_lowercase();
        let name = tag
            .trim_start_matches('/')
            .split([' ', '/', '\t', '\n'])
            .next()
            .unwrap_or_default();
        if matches!(
            name,
            "br" | "p" | "div" | "li" | "tr" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6"
        ) {
            text.push('\n');
        }
        rest = after.get(close + 1..).unwrap_or_default();
    }
    text.push_str(rest);
    let text = decode_html_entities(&text);
    text.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

fn decode_html_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(rest.get(..amp).unwrap_or_default());
        let after = rest.get(amp + 1..).unwrap_or_default();
        let entity = after.find(';').filter(|&semi| semi <= 10).and_then(|semi| {
            let name = after.get(..semi)?;
            let c = match name {
                "nbsp" | "ensp" | "emsp" => ' ',
                "amp" => '&',
                "lt" => '<',
                "gt" => '>',
                "quot" => '"',
                "apos" => '\'',
                "middot" => '·',
                "ldquo" => '“',
                "rdquo" => '”',
                _ => {
                    let number = name.strip_prefix('#')?;
                    let code = match number.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                        None => number.parse().ok()?,
                    };
                    char::from_u32(code)?
                }
            };
            Some((c, semi))
        });
        match entity {
            Some((c, semi)) => {
                out.push(c);
                rest = after.get(semi + 1..).unwrap_or_default();
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_becomes_text() {
        assert_eq!(
            html_to_text("<p>活动时间：2025年3月8日&nbsp;14:30</p><p>地点：<b>文化馆</b>&amp;剧场</p>a < b"),
            "活动时间：2025年3月8日 14:30\n地点：文化馆&剧场\na < b"
        );
        assert_eq!(decode_html_entities("&#x4E2D;&#25991;&bogus;"), "中文&bogus;");
    }

    #[test]
    fn labelled_lines_are_read() {
        let facts = DescriptionFacts::read(
            "活动时间：2025年3月8日 14:30-16:30 活动地点：兰州市文化馆三楼\n主办单位：兰州市文化馆；\n云直播：请访问 https://live.example.cn/room/8 观看\n报名：https://reg.example.cn/a?id=1",
        );
        assert_eq!(facts.time.as_deref(), Some("2025年3月8日 14:30-16:30"));
        assert_eq!(facts.venue.as_deref(), Some("兰州市文化馆三楼"));
        assert_eq!(facts.organiser.as_deref(), Some("兰州市文化馆"));
        assert_eq!(
            facts.live_stream.as_deref(),
            Some("https://live.example.cn/room/8")
        );
        assert_eq!(
            facts.registration.as_deref(),
            Some("https://reg.example.cn/a?id=1")
        );
    }

    #[test]
    fn publication_days() {
        assert_eq!(published_day("Mon, 03 Mar 2025 09:00:00 +0800"), "2025-03-03");
        assert_eq!(published_day("2025-03-03T09:00:00+08:00"), "2025-03-03");
        assert_eq!(published_day("sometime"), "sometime");
    }
}
