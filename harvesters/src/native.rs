//! Reading the `jincheng` metadata format — the unified [`Record`] as XML, as another
//! Jincheng's OAI-PMH provider writes it — back into a [`Record`], exactly.
//!
//! The format (namespace `urn:jincheng:record:1`, schema published by the provider at
//! `{base URL}/schemas/jincheng.xsd`) has one element per field of [`Record`], in
//! declaration order: absent optional fields are absent elements, present ones are elements
//! even when empty, lists are repeated elements, `date` and `holding` nest their own
//! fields. Text is kept exactly as written (no trimming), so a record read back equals the
//! record written.
//!
//! Entities are never expanded: only XML's five predefined entities and character
//! references are resolved, and a DOCTYPE is refused. Elements nested deeper than
//! [`crate::xml_text::MAX_ELEMENT_DEPTH`] (counted from the outermost element of the text,
//! envelope included) are refused as the text is read.

use quick_xml::{Reader, events::Event};
use schemas::{Curation, DateRange, EventInfo, Holding, ImageLink, Record, ResourceType, record_id};

use crate::xml_text::check_depth;

/// Reads the first `<jincheng>` element in `xml` (which may be a whole OAI-PMH `<record>`
/// or just the metadata element) into a [`Record`], exactly as it was written.
pub fn read_jincheng_record(xml: &str) -> Result<Record, String> {
    let mut reader = Reader::from_str(xml);
    // Element names from the `<jincheng>` root down; empty until the root is found.
    let mut path: Vec<String> = Vec::new();
    let mut text = String::new();
    let mut record = Record::default();
    let mut seen = Seen::default();
    let mut date: Option<DateRange> = None;
    let mut holding: Option<Holding> = None;
    let mut nested = Nested::default();
    // Open elements, the envelope's included: `path` only follows the record's.
    let mut depth = 0usize;
    let mut done = false;
    while !done {
        let at = reader.buffer_position();
        let event = reader
            .read_event()
            .map_err(|e| format!("malformed XML at byte {}: {e}", reader.error_position()))?;
        match event {
            Event::Start(ref start) | Event::Empty(ref start) => {
                check_depth(depth + 1, usize::try_from(at).unwrap_or(usize::MAX))?;
                if matches!(event, Event::Start(_)) {
                    depth += 1;
                }
                let qname = start.name();
                let local = local_name(qname.as_ref());
                if path.is_empty() && local != "jincheng" {
                    // Outside the record (the OAI-PMH envelope): look further in.
                    continue;
                }
                path.push(local.to_owned());
                text.clear();
                match path_of(&path).as_slice() {
                    ["jincheng", "date"] => {
                        date = Some(DateRange {
                            display: String::new(),
                            year_start: None,
                            year_end: None,
                        });
                    }
                    ["jincheng", "holding"] => holding = Some(Holding::default()),
                    ["jincheng", "event"] => nested.event = Some(EventInfo::default()),
                    ["jincheng", "image"] => nested.image = Some(ImageLink::default()),
                    ["jincheng", "curation"] => nested.curation = Some(Curation::default()),
                    _ => {}
                }
                if matches!(event, Event::Empty(_)) {
                    done = close(
                        &mut path,
                        &mut text,
                        &mut record,
                        &mut seen,
                        &mut date,
                        &mut holding,
                        &mut nested,
                    )?;
                }
            }
            Event::End(_) => {
                // The reader checks that end tags match, so this count is exact.
                depth = depth.saturating_sub(1);
                if path.is_empty() {
                    continue;
                }
                done = close(
                    &mut path,
                    &mut text,
                    &mut record,
                    &mut seen,
                    &mut date,
                    &mut holding,
                    &mut nested,
                )?;
            }
            Event::Text(t) if !path.is_empty() => text.push_str(&t.xml10_content()),
            Event::CData(t) if !path.is_empty() => text.push_str(&t.xml10_content()),
            Event::GeneralRef(reference) => {
                let c = resolve_reference(&reference)?;
                if !path.is_empty() {
                    text.push(c);
                }
            }
            Event::DocType(_) => return Err("DOCTYPE in a jincheng record".into()),
            Event::Eof => return Err("no complete <jincheng> element".into()),
            _ => {}
        }
    }
    if !seen.id || !seen.institution || !seen.title {
        return Err("a jincheng record needs id, institution and title".into());
    }
    Ok(record)
}

/// Nested elements being read, besides `date` and `holding`.
#[derive(Default)]
struct Nested {
    event: Option<EventInfo>,
    image: Option<ImageLink>,
    curation: Option<Curation>,
}

/// A controlled value by its machine value.
fn term<T: std::str::FromStr>(kind: &str, value: String) -> Result<T, String> {
    value.parse().map_err(|_| format!("unknown {kind} {value:?}"))
}

/// Required fields met so far.
#[derive(Default)]
struct Seen {
    id: bool,
    institution: bool,
    title: bool,
}

fn path_of(path: &[String]) -> Vec<&str> {
    path.iter().map(String::as_str).collect()
}

/// Ends the innermost element: stores its text where it belongs. True when the root ended.
fn close(
    path: &mut Vec<String>,
    text: &mut String,
    record: &mut Record,
    seen: &mut Seen,
    date: &mut Option<DateRange>,
    holding: &mut Option<Holding>,
    nested: &mut Nested,
) -> Result<bool, String> {
    let value = std::mem::take(text);
    let r = record;
    match path_of(path).as_slice() {
        ["jincheng"] => {
            path.pop();
            return Ok(true);
        }
        ["jincheng", "id"] => (r.id, seen.id) = (value, true),
        ["jincheng", "institution"] => (r.institution, seen.institution) = (value, true),
        ["jincheng", "resourceType"] => {
            r.resource_type = ResourceType::ALL
                .iter()
                .find(|t| t.as_str() == value)
                .copied()
                .ok_or_else(|| format!("unknown resourceType {value:?}"))?;
        }
        ["jincheng", "resourceTypeOriginal"] => r.resource_type_original = Some(value),
        ["jincheng", "title"] => (r.title, seen.title) = (value, true),
        ["jincheng", "alternativeTitle"] => r.alternative_titles.push(value),
        ["jincheng", "creator"] => r.creators.push(value),
        ["jincheng", "contributor"] => r.contributors.push(value),
        ["jincheng", "subject"] => r.subjects.push(value),
        ["jincheng", "classification"] => r.classifications.push(value),
        ["jincheng", "description"] => r.description = Some(value),
        ["jincheng", "publisher"] => r.publisher = Some(value),
        ["jincheng", "date"] => r.date = date.take(),
        ["jincheng", "date", field] => {
            let d = date.as_mut().ok_or("date field outside <date>")?;
            match *field {
                "display" => d.display = value,
                "yearStart" => d.year_start = Some(number(&value)?),
                "yearEnd" => d.year_end = Some(number(&value)?),
                other => return Err(format!("unknown date field <{other}>")),
            }
        }
        ["jincheng", "language"] => r.language = Some(value),
        ["jincheng", "isbn"] => r.isbns.push(value),
        ["jincheng", "identifier"] => r.identifiers.push(value),
        ["jincheng", "extent"] => r.extent = Some(value),
        ["jincheng", "coverage"] => r.coverage.push(value),
        ["jincheng", "rights"] => r.rights = Some(value),
        ["jincheng", "sourceUrl"] => r.source_url = Some(value),
        ["jincheng", "holding"] => r.holdings.extend(holding.take()),
        ["jincheng", "holding", field] => {
            let h = holding.as_mut().ok_or("holding field outside <holding>")?;
            match *field {
                "institution" => h.institution = value,
                "branch" => h.branch = Some(value),
                "callNumber" => h.call_number = Some(value),
                "items" => h.items = Some(number(&value)?),
                "status" => h.status = Some(value),
                other => return Err(format!("unknown holding field <{other}>")),
            }
        }
        ["jincheng", "event"] => r.event = nested.event.take(),
        ["jincheng", "event", field] => {
            let e = nested.event.as_mut().ok_or("event field outside <event>")?;
            match *field {
                "start" => e.start = Some(value),
                "end" => e.end = Some(value),
                "venue" => e.venue = Some(value),
                "organiser" => e.organiser = Some(value),
                "liveStreamUrl" => e.live_stream_url = Some(value),
                "registrationUrl" => e.registration_url = Some(value),
                "replayUrl" => e.replay_url = Some(value),
                "audience" => e.audience.push(term("audience", value)?),
                "free" => e.free = Some(number(&value)?),
                other => return Err(format!("unknown event field <{other}>")),
            }
        }
        ["jincheng", "material"] => r.materials.push(value),
        ["jincheng", "technique"] => r.techniques.push(value),
        ["jincheng", "measurements"] => r.measurements = Some(value),
        ["jincheng", "period"] => r.period = Some(value),
        ["jincheng", "culture"] => r.culture = Some(value),
        ["jincheng", "place"] => r.place = Some(value),
        ["jincheng", "inventoryNumber"] => r.inventory_number = Some(value),
        ["jincheng", "image"] => r.images.extend(nested.image.take()),
        ["jincheng", "image", field] => {
            let i = nested.image.as_mut().ok_or("image field outside <image>")?;
            match *field {
                "url" => i.url = value,
                "caption" => i.caption = Some(value),
                other => return Err(format!("unknown image field <{other}>")),
            }
        }
        ["jincheng", "edition"] => r.edition = Some(value),
        ["jincheng", "curation"] => r.curation = nested.curation.take(),
        ["jincheng", "curation", field] => {
            let c = nested
                .curation
                .as_mut()
                .ok_or("curation field outside <curation>")?;
            match *field {
                "specialCollection" => {
                    c.special_collection = match value.as_str() {
                        "true" | "1" => true,
                        "false" | "0" => false,
                        _ => return Err(format!("specialCollection {value:?} is not a boolean")),
                    }
                }
                "brand" => c.brand = Some(value),
                "accessibleFormat" => c.accessible_formats.push(term("accessible format", value)?),
                "audience" => c.audiences.push(term("audience", value)?),
                other => return Err(format!("unknown curation field <{other}>")),
            }
        }
        other => return Err(format!("unexpected element <{}>", other.join("/"))),
    }
    path.pop();
    Ok(false)
}

fn number<T: std::str::FromStr>(text: &str) -> Result<T, String> {
    text.trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a valid number"))
}

fn local_name(qname: &str) -> &str {
    qname.rsplit(':').next().unwrap_or(qname)
}

/// An entity or character reference, without expanding any entity a DTD may declare.
fn resolve_reference(name: &str) -> Result<char, String> {
    if let Some(number) = name.strip_prefix('#') {
        let code = match number.strip_prefix('x') {
            Some(hex) => u32::from_str_radix(hex, 16),
            None => number.parse(),
        }
        .map_err(|_| format!("bad character reference &{name};"))?;
        return char::from_u32(code).ok_or_else(|| format!("&{name}; is not a character"));
    }
    match name {
        "amp" => Ok('&'),
        "lt" => Ok('<'),
        "gt" => Ok('>'),
        "quot" => Ok('"'),
        "apos" => Ok('\''),
        _ => Err(format!(
            "undefined entity &{name}; (DTD entities are not expanded)"
        )),
    }
}

/// Maps a harvested `jincheng` record: the record as its provider has it, under our id
/// `{source_id}:{OAI identifier}` (the provider's identifier contains its own record id, so
/// the chain of platforms stays visible), validated like every harvested record.
pub(crate) fn map_jincheng(span: &str, source_id: &str, identifier: &str) -> Result<Record, String> {
    let mut record = read_jincheng_record(span)?;
    record.id = record_id(source_id, identifier);
    record.validate().map_err(|e| format!("invalid record: {e}"))?;
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_is_read_exactly() {
        let xml = concat!(
            r#"<record><header><identifier>oai:x:1</identifier></header><metadata>"#,
            r#"<jincheng xmlns="urn:jincheng:record:1"><id>a:1</id><institution>lzlib</institution>"#,
            r#"<resourceType>book</resourceType><title> 静夜思 &amp; &#13;</title><creator>李白</creator>"#,
            r#"<creator></creator><date><display>唐</display><yearStart>-618</yearStart></date>"#,
            r#"<holding><institution>lzlib</institution><items>3</items></holding></jincheng></metadata></record>"#,
        );
        let record = read_jincheng_record(xml).unwrap_or_else(|e| panic!("{e}"));
        let mut want = Record::new("a:1", "lzlib", " 静夜思 & \r");
        want.resource_type = ResourceType::Book;
        want.creators = vec!["李白".into(), String::new()];
        want.date = Some(DateRange {
            display: "唐".into(),
            year_start: Some(-618),
            year_end: None,
        });
        want.holdings = vec![Holding {
            institution: "lzlib".into(),
            items: Some(3),
            ..Holding::default()
        }];
        assert_eq!(record, want);
    }

    #[test]
    fn broken_records_are_errors() {
        for bad in [
            "<jincheng><id>a</id></jincheng>",
            "<jincheng><id>a</id><institution>b</institution><title>t</title><bogus/></jincheng>",
            "<jincheng><id>a</id><institution>b</institution><title>&ent;</title></jincheng>",
            "<jincheng><id>a</id><institution>b</institution><title>t</title>",
            "<jincheng><id>a</id><institution>b</institution><title>t</title><resourceType>x</resourceType></jincheng>",
        ] {
            assert!(read_jincheng_record(bad).is_err(), "{bad}");
        }
    }
}
