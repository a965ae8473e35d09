//! Mapping of simple Dublin Core (`oai_dc`) into [`Record`]. Dates, ISBNs, languages and
//! 中图法 classes go through the normalisers of `schemas`, shared by every format.

use schemas::{
    District, EventInfo, Record, ResourceType, is_clc_class, normalize_date, normalize_datetime,
    normalize_isbn, normalize_language, parse_time_span, record_id,
};

/// The Dublin Core elements of one `oai_dc` record, each in source order, with values as
/// decoded from the XML (untrimmed).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct DcFields {
    pub(crate) title: Vec<String>,
    pub(crate) creator: Vec<String>,
    pub(crate) contributor: Vec<String>,
    pub(crate) subject: Vec<String>,
    pub(crate) description: Vec<String>,
    pub(crate) publisher: Vec<String>,
    pub(crate) date: Vec<String>,
    pub(crate) r#type: Vec<String>,
    pub(crate) format: Vec<String>,
    pub(crate) identifier: Vec<String>,
    pub(crate) language: Vec<String>,
    pub(crate) coverage: Vec<String>,
    pub(crate) rights: Vec<String>,
}

impl DcFields {
    /// Adds the text of the DC element with local name `element`; elements that have no
    /// place in [`Record`] (`source`, `relation`) are ignored.
    pub(crate) fn push(&mut self, element: &str, value: String) {
        let list = match element {
            "title" => &mut self.title,
            "creator" => &mut self.creator,
            "contributor" => &mut self.contributor,
            "subject" => &mut self.subject,
            "description" => &mut self.description,
            "publisher" => &mut self.publisher,
            "date" => &mut self.date,
            "type" => &mut self.r#type,
            "format" => &mut self.format,
            "identifier" => &mut self.identifier,
            "language" => &mut self.language,
            "coverage" => &mut self.coverage,
            "rights" => &mut self.rights,
            _ => return,
        };
        list.push(value);
    }
}

/// Trimmed, non-empty values.
fn cleaned(values: &[String]) -> impl Iterator<Item = &str> {
    values.iter().map(|v| v.trim()).filter(|v| !v.is_empty())
}

fn joined(values: &[String], separator: &str) -> Option<String> {
    let parts: Vec<&str> = cleaned(values).collect();
    (!parts.is_empty()).then(|| parts.join(separator))
}

/// Maps one `oai_dc` record to a validated [`Record`], or explains why it cannot be one.
pub(crate) fn map_oai_dc(
    dc: &DcFields,
    source_id: &str,
    institution: &str,
    identifier: &str,
) -> Result<Record, String> {
    let mut titles = cleaned(&dc.title);
    let title = titles.next().ok_or("oai_dc record has no dc:title")?;
    let mut record = Record::new(record_id(source_id, identifier), institution, title);
    record.alternative_titles = titles.map(str::to_owned).collect();
    record.creators = cleaned(&dc.creator).map(str::to_owned).collect();
    record.contributors = cleaned(&dc.contributor).map(str::to_owned).collect();
    for subject in cleaned(&dc.subject) {
        if is_clc_class(subject) {
            record.classifications.push(subject.to_owned());
        } else {
            record.subjects.push(subject.to_owned());
        }
    }
    record.description = joined(&dc.description, "\n");
    record.publisher = joined(&dc.publisher, "; ");
    record.date = cleaned(&dc.date).next().map(normalize_date);

    // The first type term the vocabulary knows wins; if none is known the first term is
    // still kept as the original so nothing the source said is lost.
    let types: Vec<&str> = cleaned(&dc.r#type).collect();
    let known = types
        .iter()
        .find_map(|t| t.parse::<ResourceType>().ok().map(|rt| (rt, *t)));
    match (known, types.first()) {
        (Some((resource_type, original)), _) => {
            record.resource_type = resource_type;
            record.resource_type_original = Some(original.to_owned());
        }
        (None, Some(original)) => record.resource_type_original = Some((*original).to_owned()),
        (None, None) => {}
    }

    record.language = cleaned(&dc.language).next().map(normalize_language);
    for value in cleaned(&dc.identifier) {
        if let Some(candidate) = isbn_candidate(value)
            && let Some(isbn) = normalize_isbn(candidate)
        {
            if !record.isbns.contains(&isbn) {
                record.isbns.push(isbn);
            }
            continue;
        }
        let lower = value.to_ascii_lowercase();
        if (lower.starts_with("http://") || lower.starts_with("https://")) && record.source_url.is_none() {
            record.source_url = Some(value.to_owned());
        }
        record.identifiers.push(value.to_owned());
    }
    record.extent = joined(&dc.format, "; ");
    record.coverage = cleaned(&dc.coverage).map(str::to_owned).collect();
    record.rights = joined(&dc.rights, "; ");
    if record.resource_type == ResourceType::Event {
        let event = event_of(dc, record.event.take().unwrap_or_default());
        record.event = (!event.is_empty()).then_some(event);
    }

    record.validate().map_err(|e| format!("invalid record: {e}"))?;
    Ok(record)
}

/// The start, end and place of an event from Dublin Core: the first `dc:date` that reads as
/// a time (a date, a date-time, an ISO 8601 interval `2025-03-08/2025-03-10` or a span such
/// as `2025年3月8日 14:30-16:30`), and the first `dc:coverage` that names a place more
/// precisely than a district or county (`兰州音乐厅` rather than `城关区`, which the
/// institution's district already says) and is not itself a time or period. Whether it is
/// free and whom it is for come from its title, subjects and descriptions
/// ([`EventInfo::read_text`]: `免费开放` or `公益讲座` make it free, `少儿` names an audience).
fn event_of(dc: &DcFields, mut event: EventInfo) -> EventInfo {
    for text in dc.title.iter().chain(&dc.subject).chain(&dc.description) {
        event.read_text(text);
    }
    if event.start.is_none()
        && let Some((start, end)) = cleaned(&dc.date).find_map(time_span)
    {
        event.start = Some(start);
        event.end = end;
    }
    if event.venue.is_none() {
        event.venue = cleaned(&dc.coverage)
            .find(|c| c.parse::<District>().is_err() && time_span(c).is_none() && !is_period(c))
            .map(str::to_owned);
    }
    event
}

/// A start and optional end read from one `dc:date` value.
fn time_span(value: &str) -> Option<(String, Option<String>)> {
    // ISO 8601 intervals use a solidus, which `parse_time_span` reads as a date separator
    // (`2025/3/8`); try the interval first, and only when both halves are times.
    if let Some((first, second)) = value.split_once('/')
        && let (Some(start), Some(end)) = (normalize_datetime(first), normalize_datetime(second))
    {
        return Some((start, Some(end)));
    }
    parse_time_span(value)
}

/// True when a coverage value is a time rather than a place: it gives years (`魏晋南北朝`,
/// `1950-1960`), as `normalize_date` understands them.
fn is_period(value: &str) -> bool {
    normalize_date(value).is_understood()
}

/// The ISBN part of an identifier written `ISBN 978-7-…`, `ISBN: 7-…` or `urn:isbn:…`,
/// without trailing qualifiers such as `(pbk.)` or `: CNY38.00`.
fn isbn_candidate(value: &str) -> Option<&str> {
    let lower = value.to_ascii_lowercase();
    let rest = if lower.starts_with("urn:isbn:") {
        value.get("urn:isbn:".len()..)?
    } else if lower.starts_with("isbn") {
        value.get("isbn".len()..)?
    } else {
        return None;
    };
    let rest = rest.trim_start_matches([' ', ':', '：', '\t']);
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || matches!(c, 'x' | 'X' | '-' | ' ')))
        .unwrap_or(rest.len());
    Some(rest.get(..end)?.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isbn_identifiers_lose_their_prefix_and_qualifiers() {
        assert_eq!(
            isbn_candidate("ISBN 978-7-5580-6440-1"),
            Some("978-7-5580-6440-1")
        );
        assert_eq!(
            isbn_candidate("ISBN: 7-101-00001-0 : CNY12.00"),
            Some("7-101-00001-0")
        );
        assert_eq!(isbn_candidate("isbn 7101000012 (pbk.)"), Some("7101000012"));
        assert_eq!(isbn_candidate("urn:isbn:9787558064401"), Some("9787558064401"));
        assert_eq!(isbn_candidate("https://example.org/isbn"), None);
    }

    fn sample() -> DcFields {
        let mut dc = DcFields::default();
        for (element, value) in [
            ("title", " 开封魏晋南北朝古典小说图录：以开封为中心 "),
            ("title", "Kaifeng illustrated"),
            ("title", "  "),
            ("creator", "梁春"),
            ("contributor", "王五"),
            ("subject", "古典小说-史料"),
            ("subject", "I242.4"),
            ("description", "第一段。"),
            ("description", "第二段。"),
            ("publisher", "南京：江苏凤凰美术出版社"),
            ("date", "2022"),
            ("type", "图书"),
            ("format", "890页；30cm"),
            ("identifier", "ISBN 978-7-5580-6440-1"),
            ("identifier", "ISBN 978-7-5580-6440-9"),
            ("identifier", "https://peer.example.org/item/000047"),
            ("identifier", "https://mirror.example.org/000047"),
            ("language", "chi"),
            ("coverage", "魏晋南北朝"),
            ("coverage", ""),
            ("rights", "CC0"),
            ("source", "浙江图书馆"),
        ] {
            dc.push(element, value.to_owned());
        }
        dc
    }

    #[test]
    fn oai_dc_maps_every_element() {
        let record = map_oai_dc(&sample(), "peer", "zjlib", "oai:x:1").unwrap();
        assert_eq!(record.id, "peer:oai:x:1");
        assert_eq!(record.institution, "zjlib");
        assert_eq!(record.title, "开封魏晋南北朝古典小说图录：以开封为中心");
        assert_eq!(record.alternative_titles, ["Kaifeng illustrated"]);
        assert_eq!(record.creators, ["梁春"]);
        assert_eq!(record.contributors, ["王五"]);
        assert_eq!(record.subjects, ["古典小说-史料"]);
        assert_eq!(record.classifications, ["I242.4"]);
        assert_eq!(record.description.as_deref(), Some("第一段。\n第二段。"));
        assert_eq!(record.publisher.as_deref(), Some("南京：江苏凤凰美术出版社"));
        assert_eq!(record.year(), Some(2022));
        assert_eq!(record.resource_type, ResourceType::Book);
        assert_eq!(record.resource_type_original.as_deref(), Some("图书"));
        assert_eq!(record.language.as_deref(), Some("zh"));
        assert_eq!(record.isbns, ["9787558064401"]);
        assert_eq!(
            record.identifiers,
            [
                "ISBN 978-7-5580-6440-9",
                "https://peer.example.org/item/000047",
                "https://mirror.example.org/000047"
            ]
        );
        assert_eq!(
            record.source_url.as_deref(),
            Some("https://peer.example.org/item/000047")
        );
        assert_eq!(record.extent.as_deref(), Some("890页；30cm"));
        assert_eq!(record.coverage, ["魏晋南北朝"]);
        assert_eq!(record.rights.as_deref(), Some("CC0"));
    }

    fn event(dates: &[&str], coverage: &[&str]) -> Record {
        let mut dc = DcFields::default();
        dc.push("title", "刻葫芦技艺公益培训".into());
        dc.push("type", "活动".into());
        for date in dates {
            dc.push("date", (*date).into());
        }
        for place in coverage {
            dc.push("coverage", (*place).into());
        }
        map_oai_dc(&dc, "lzculture", "lzculture", "oai:x:4").unwrap()
    }

    #[test]
    fn events_get_their_start_end_and_place_from_date_and_coverage() {
        let info = |r: Record| {
            let e = r.event.unwrap_or_default();
            (e.start, e.end, e.venue)
        };
        let s = |v: &str| Some(v.to_string());
        assert_eq!(
            info(event(&["2027-02-09"], &["兰州音乐厅", "城关区"])),
            (s("2027-02-09"), None, s("兰州音乐厅"))
        );
        assert_eq!(
            info(event(&["2025-03-08/2025-03-10"], &["城关区", "西固公园"])),
            (s("2025-03-08"), s("2025-03-10"), s("西固公园"))
        );
        assert_eq!(
            info(event(
                &["2025-03-08T14:30:00+08:00/2025-03-08T16:30:00+08:00"],
                &[]
            )),
            (
                s("2025-03-08T14:30:00+08:00"),
                s("2025-03-08T16:30:00+08:00"),
                None
            )
        );
        assert_eq!(
            info(event(
                &["待定", "2025年3月8日 14:30-16:30"],
                &["永登县连城镇", "永登县"]
            )),
            (s("2025-03-08T14:30"), s("2025-03-08T16:30"), s("永登县连城镇"))
        );
        // Districts alone and periods are not places; no time, no place: only what the
        // title says (公益: free, EventInfo::read_text).
        assert_eq!(info(event(&["待定"], &["城关区", "明清"])), (None, None, None));
        assert_eq!(
            event(&["待定"], &["城关区"]).event,
            Some(EventInfo {
                free: Some(true),
                ..EventInfo::default()
            })
        );
        // The year of a range is still the record's date.
        assert_eq!(event(&["2025-03-08/2025-03-10"], &[]).year(), Some(2025));
    }

    #[test]
    fn only_events_get_event_info() {
        let record = map_oai_dc(&sample(), "peer", "zjlib", "oai:x:1").unwrap();
        assert_eq!(record.event, None);
    }

    #[test]
    fn unknown_types_are_other_but_kept() {
        let mut dc = sample();
        dc.r#type = vec!["Dataset".into(), "  ".into()];
        let record = map_oai_dc(&dc, "peer", "zjlib", "1").unwrap();
        assert_eq!(record.resource_type, ResourceType::Other);
        assert_eq!(record.resource_type_original.as_deref(), Some("Dataset"));
    }

    #[test]
    fn records_without_a_usable_title_or_valid_fields_are_refused() {
        let mut dc = sample();
        dc.title = vec!["   ".into()];
        assert!(
            map_oai_dc(&dc, "peer", "zjlib", "1")
                .unwrap_err()
                .contains("title")
        );

        let mut dc = sample();
        dc.title = vec!["长".repeat(2_001)];
        let err = map_oai_dc(&dc, "peer", "zjlib", "1").unwrap_err();
        assert!(err.contains("title has 2001 characters"), "{err}");

        let err = map_oai_dc(&sample(), "peer", "not a slug", "1").unwrap_err();
        assert!(err.contains("institution"), "{err}");
    }
}
