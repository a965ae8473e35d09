//! LIDO (Lightweight Information Describing Objects, versions 1.0 and 1.1): museum objects,
//! from a file (`<lido:lidoWrap>` or a single `<lido:lido>`) or one record at a time (for
//! OAI-PMH `metadataPrefix=lido`).
//!
//! What is mapped, from `descriptiveMetadata` and `administrativeMetadata`:
//!
//! | Record field | LIDO |
//! | --- | --- |
//! | `title`, `alternative_titles` | `titleSet/appellationValue`, the one in `xml:lang="zh…"` first |
//! | `resource_type` (+ original) | `objectWorkType/term`: Artwork for painting, calligraphy and other art terms, else Artefact |
//! | `subjects` | `classification/term`, `subjectConcept/term` |
//! | `description` | `objectDescriptionSet/descriptiveNoteValue` |
//! | `measurements` | `displayObjectMeasurements` |
//! | `creators` | `eventActor` (`displayActorInRole`, else the actor's `appellationValue`) |
//! | `period`, `date` | `periodName/term`, else `eventDate/displayDate`; years from the display date through [`normalize_date`], else from `earliestDate`/`latestDate`, else from the period |
//! | `culture` | `event/culture/term` |
//! | `place` | `eventPlace/displayPlace`, else the place's `appellationValue` |
//! | `materials`, `techniques` | `termMaterialsTech` by its `type` (`material`/`technique`, or 材质/工艺); else `displayMaterialsTech` as one material |
//! | `inventory_number` | `repositorySet/workID` (the one typed `inventory number` first) |
//! | `holdings` | one holding at the repository (`repositoryName/legalBodyName/appellationValue` as its branch) |
//! | `images` | `resourceSet/resourceRepresentation/linkResource`, captioned by `resourceDescription` |
//! | `rights` | `rightsWorkSet` (`creditLine`, `rightsType/term`, `rightsHolder`) |
//! | `source_url` | `recordInfoSet/recordInfoLink` |
//! | `identifiers` | `lidoRecID`, `objectPublishedID` |
//! | `language` | `descriptiveMetadata/@xml:lang` |
//!
//! The local id is `lidoRecID`. A record without one, without a title, outside the LIDO
//! namespace or whose XML is broken is quarantined with the reason; its neighbours go on.

pub(crate) mod xml_tree;

use schemas::{
    DateRange, Holding, ImageLink, Record, ResourceType, normalize_date, normalize_language, record_id,
};

use self::xml_tree::{Element, RecordSpan, decode_xml, parse_record, split_records};
use crate::{Error, HarvestedItem, ItemOutcome, Result};

/// The LIDO namespace (the same for versions 1.0 and 1.1).
pub const LIDO_NAMESPACE: &str = "http://www.lido-schema.org";

/// Where LIDO records come from and where they belong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LidoOptions {
    /// Our id for the source; record ids are `{source_id}:{lidoRecID}`.
    pub source_id: String,
    /// Id of the institution the records are attributed to.
    pub institution: String,
}

/// Reads a LIDO file: a `<lido:lidoWrap>` of records, or a single `<lido:lido>`. Each
/// record becomes one [`HarvestedItem`] (quarantined if it cannot be mapped).
///
/// Fails only if the file is not XML at all or holds no LIDO record.
pub fn read_lido(bytes: &[u8], options: &LidoOptions) -> Result<Vec<HarvestedItem>> {
    let decoded = decode_xml(bytes);
    let unreadable = |message: String| Error::Protocol {
        url: format!("source {}", options.source_id),
        message,
    };
    let spans = split_records(&decoded.text, |ancestors, name| {
        name == "lido" && ancestors.iter().all(|a| a == "lidoWrap" || a == "metadata")
    })
    .map_err(|e| unreadable(format!("not a LIDO file: {e}")))?;
    if spans.is_empty() {
        return Err(unreadable("no <lido:lido> record in the file".into()));
    }
    Ok(spans
        .into_iter()
        .map(|span| item_from_span(span, options))
        .collect())
}

/// Maps the XML of one `<lido:lido>` element (as an OAI-PMH `metadataPrefix=lido` record
/// carries it) into a [`HarvestedItem`]. The `lido` prefix is taken as bound to
/// [`LIDO_NAMESPACE`] unless the element declares otherwise.
pub fn map_lido_record(xml: &str, options: &LidoOptions) -> HarvestedItem {
    let declarations = [("xmlns:lido".to_owned(), LIDO_NAMESPACE.to_owned())];
    let xml = xml.trim();
    let xml = if xml.starts_with("<?xml") {
        xml.find("?>")
            .and_then(|at| xml.get(at + 2..))
            .unwrap_or(xml)
            .trim()
    } else {
        xml
    };
    item_from_span(
        RecordSpan {
            raw: xml.to_owned(),
            element: parse_record(xml, &declarations),
        },
        options,
    )
}

fn item_from_span(span: RecordSpan, options: &LidoOptions) -> HarvestedItem {
    let element = match span.element {
        Ok(element) => element,
        Err(reason) => {
            return HarvestedItem {
                local_id: recover_id(&span.raw),
                datestamp: String::new(),
                sets: Vec::new(),
                raw: span.raw,
                outcome: ItemOutcome::Quarantined {
                    reason: format!("broken LIDO record: {reason}"),
                },
            };
        }
    };
    let local_id = lido_children(&element, "lidoRecID")
        .next()
        .map(Element::text)
        .unwrap_or_default();
    let outcome = match map_element(&element, &local_id, options) {
        Ok(record) => ItemOutcome::Record(Box::new(record)),
        Err(reason) => ItemOutcome::Quarantined { reason },
    };
    HarvestedItem {
        local_id,
        datestamp: String::new(),
        sets: Vec::new(),
        raw: span.raw,
        outcome,
    }
}

/// The `lidoRecID` of a record whose XML is broken, found by plain text search, so the
/// quarantine report can name it.
fn recover_id(raw: &str) -> String {
    let Some(at) = raw.find("lidoRecID") else {
        return String::new();
    };
    let rest = raw.get(at..).unwrap_or_default();
    let Some(open_end) = rest.find('>') else {
        return String::new();
    };
    let value = rest.get(open_end + 1..).unwrap_or_default();
    let end = value.find('<').unwrap_or(value.len());
    value.get(..end).unwrap_or_default().trim().to_owned()
}

/// Child elements named `name` in the LIDO namespace.
fn lido_children<'a>(element: &'a Element, name: &str) -> impl Iterator<Item = &'a Element> {
    element
        .children_named(name)
        .filter(|e| e.namespace.as_deref() == Some(LIDO_NAMESPACE))
}

/// Elements at `path` (LIDO local names) below `element`.
fn at<'a>(element: &'a Element, path: &[&str]) -> Vec<&'a Element> {
    let mut current = vec![element];
    for step in path {
        current = current.into_iter().flat_map(|e| lido_children(e, step)).collect();
    }
    current
}

/// The non-empty texts of the elements at `path`.
fn texts(element: &Element, path: &[&str]) -> Vec<String> {
    at(element, path)
        .into_iter()
        .filter_map(Element::non_empty_text)
        .collect()
}

fn first_text(element: &Element, path: &[&str]) -> Option<String> {
    texts(element, path).into_iter().next()
}

fn is_chinese(lang: Option<&str>) -> bool {
    lang.is_some_and(|l| l.eq_ignore_ascii_case("zh") || l.to_ascii_lowercase().starts_with("zh-"))
}

/// Terms that make an object an artwork rather than an artefact.
const ARTWORK_TERMS: &[&str] = &[
    "书画",
    "绘画",
    "书法",
    "国画",
    "中国画",
    "油画",
    "版画",
    "水彩",
    "壁画",
    "唐卡",
    "字画",
    "画",
    "painting",
    "calligraphy",
    "drawing",
    "print",
    "artwork",
];

fn map_element(element: &Element, local_id: &str, options: &LidoOptions) -> Result<Record, String> {
    if element.namespace.as_deref() != Some(LIDO_NAMESPACE) || element.name != "lido" {
        return Err(format!(
            "not a LIDO record: <{}> in namespace {:?}",
            element.name,
            element.namespace.as_deref().unwrap_or("(none)")
        ));
    }
    if local_id.is_empty() {
        return Err("LIDO record has no lidoRecID".into());
    }
    let descriptive = lido_children(element, "descriptiveMetadata").next();
    let Some(descriptive) = descriptive else {
        return Err("LIDO record has no descriptiveMetadata".into());
    };
    let administrative = lido_children(element, "administrativeMetadata").next();
    let record_lang = descriptive.attribute("lang");

    // Titles: the Chinese one first (by its own xml:lang or the record's), then the rest.
    let mut titles: Vec<(bool, String)> = Vec::new();
    for set in at(
        descriptive,
        &["objectIdentificationWrap", "titleWrap", "titleSet"],
    ) {
        for value in lido_children(set, "appellationValue") {
            if let Some(text) = value.non_empty_text() {
                let lang = value.attribute("lang").or(set.attribute("lang")).or(record_lang);
                titles.push((is_chinese(lang), text));
            }
        }
    }
    let preferred = titles.iter().position(|(zh, _)| *zh).unwrap_or(0);
    if titles.is_empty() {
        return Err(format!(
            "LIDO record {local_id} has no title (titleSet/appellationValue)"
        ));
    }
    let (_, title) = titles.remove(preferred);
    let mut record = Record::new(
        record_id(&options.source_id, local_id),
        &options.institution,
        title,
    );
    record.alternative_titles = titles.into_iter().map(|(_, t)| t).collect();

    // Work type → resource type, the original kept.
    let classification = ["objectClassificationWrap"];
    let work_types = texts(
        descriptive,
        &[classification[0], "objectWorkTypeWrap", "objectWorkType", "term"],
    );
    if let Some(work_type) = work_types.first() {
        record.resource_type = match work_type.parse::<ResourceType>() {
            Ok(known @ (ResourceType::Artwork | ResourceType::Rubbing | ResourceType::Map)) => known,
            _ if ARTWORK_TERMS.iter().any(|t| work_type.to_lowercase().contains(t)) => ResourceType::Artwork,
            _ => ResourceType::Artefact,
        };
        record.resource_type_original = Some(work_type.clone());
    } else {
        record.resource_type = ResourceType::Artefact;
    }
    record.subjects = texts(
        descriptive,
        &[classification[0], "classificationWrap", "classification", "term"],
    );
    for subject in texts(
        descriptive,
        &[
            "objectRelationWrap",
            "subjectWrap",
            "subjectSet",
            "subject",
            "subjectConcept",
            "term",
        ],
    ) {
        if !record.subjects.contains(&subject) {
            record.subjects.push(subject);
        }
    }

    let identification = "objectIdentificationWrap";
    let notes = texts(
        descriptive,
        &[
            identification,
            "objectDescriptionWrap",
            "objectDescriptionSet",
            "descriptiveNoteValue",
        ],
    );
    record.description = (!notes.is_empty()).then(|| notes.join("\n"));
    let measurements = texts(
        descriptive,
        &[
            identification,
            "objectMeasurementsWrap",
            "objectMeasurementsSet",
            "displayObjectMeasurements",
        ],
    );
    record.measurements = (!measurements.is_empty()).then(|| measurements.join("；"));

    // The repository: inventory number and where the object is.
    for set in at(descriptive, &[identification, "repositoryWrap", "repositorySet"]) {
        let ids = lido_children(set, "workID").collect::<Vec<_>>();
        let inventory = ids
            .iter()
            .find(|id| {
                id.attribute("type")
                    .is_some_and(|t| t.to_lowercase().contains("inventory") || t.contains("编号"))
            })
            .or(ids.first())
            .and_then(|id| id.non_empty_text());
        if record.inventory_number.is_none() {
            record.inventory_number = inventory;
        }
        if let Some(name) = first_text(set, &["repositoryName", "legalBodyName", "appellationValue"])
            && !record.holdings.iter().any(|h| h.branch.as_deref() == Some(&name))
        {
            record.holdings.push(Holding {
                institution: options.institution.clone(),
                branch: Some(name),
                ..Holding::default()
            });
        }
    }

    // Events: the production (or the first) event gives maker, date, culture, place,
    // materials and techniques.
    let events = at(descriptive, &["eventWrap", "eventSet", "event"]);
    let production = events
        .iter()
        .find(|e| {
            texts(e, &["eventType", "term"]).iter().any(|t| {
                matches!(
                    t.to_lowercase().as_str(),
                    "production" | "creation" | "制作" | "创作" | "生产"
                )
            })
        })
        .or(events.first())
        .copied();
    if let Some(event) = production {
        map_event(event, &mut record);
    }

    // Administrative metadata: rights, images, the record's page.
    if let Some(admin) = administrative {
        let mut rights = Vec::new();
        for set in at(admin, &["rightsWorkWrap", "rightsWorkSet"]) {
            rights.extend(texts(set, &["rightsType", "term"]));
            rights.extend(texts(set, &["rightsHolder", "legalBodyName", "appellationValue"]));
            rights.extend(texts(set, &["creditLine"]));
        }
        rights.dedup();
        record.rights = (!rights.is_empty()).then(|| rights.join("; "));
        for set in at(admin, &["resourceWrap", "resourceSet"]) {
            let caption = first_text(set, &["resourceDescription"]);
            for link in texts(set, &["resourceRepresentation", "linkResource"]) {
                record.images.push(ImageLink {
                    url: link,
                    caption: caption.clone(),
                });
            }
        }
        record.source_url = first_text(admin, &["recordWrap", "recordInfoSet", "recordInfoLink"]);
    }

    record.identifiers.push(local_id.to_owned());
    for id in texts(element, &["objectPublishedID"]) {
        if !record.identifiers.contains(&id) {
            record.identifiers.push(id);
        }
    }
    record.language = record_lang.map(normalize_language);

    record.validate().map_err(|e| format!("invalid record: {e}"))?;
    Ok(record)
}

fn map_event(event: &Element, record: &mut Record) {
    for actor in at(event, &["eventActor"]) {
        let name = first_text(actor, &["displayActorInRole"]).or_else(|| {
            first_text(
                actor,
                &["actorInRole", "actor", "nameActorSet", "appellationValue"],
            )
        });
        if let Some(name) = name {
            record.creators.push(name);
        }
    }
    record.culture = first_text(event, &["culture", "term"]);
    record.place = first_text(event, &["eventPlace", "displayPlace"]).or_else(|| {
        first_text(
            event,
            &["eventPlace", "place", "namePlaceSet", "appellationValue"],
        )
    });

    let display_date = first_text(event, &["eventDate", "displayDate"]);
    let period_name = first_text(event, &["periodName", "term"]);
    record.period = period_name.clone().or_else(|| display_date.clone());
    let earliest = first_text(event, &["eventDate", "date", "earliestDate"]).and_then(|t| year_of(&t));
    let latest = first_text(event, &["eventDate", "date", "latestDate"]).and_then(|t| year_of(&t));
    let from_display = display_date.as_deref().map(normalize_date);
    let from_period = period_name.as_deref().map(normalize_date);
    record.date = match (from_display, earliest.zip(latest), from_period) {
        (Some(d), _, _) if d.is_understood() => Some(d),
        (display, Some((start, end)), _) if start <= end => Some(DateRange {
            display: display
                .map(|d| d.display)
                .or(period_name)
                .unwrap_or_else(|| format!("{start}–{end}")),
            year_start: Some(start),
            year_end: Some(end),
        }),
        (_, _, Some(p)) if p.is_understood() => Some(p),
        (display, _, period) => display.or(period),
    };

    for term in at(
        event,
        &["eventMaterialsTech", "materialsTech", "termMaterialsTech"],
    ) {
        let kind = term.attribute("type").unwrap_or_default().to_lowercase();
        for text in texts(term, &["term"]) {
            if kind.contains("technique") || kind.contains("工艺") || kind.contains("技法") {
                record.techniques.push(text);
            } else {
                record.materials.push(text);
            }
        }
    }
    if record.materials.is_empty()
        && record.techniques.is_empty()
        && let Some(display) = first_text(event, &["eventMaterialsTech", "displayMaterialsTech"])
    {
        record.materials.push(display);
    }
}

/// The year of a LIDO `earliestDate`/`latestDate`: `-3300`, `1736`, `1736-01-01`.
fn year_of(text: &str) -> Option<i32> {
    let text = text.trim();
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let end = digits.find(|c: char| !c.is_ascii_digit()).unwrap_or(digits.len());
    let year: i32 = digits.get(..end)?.parse().ok()?;
    if end == 0 || year == 0 {
        return None;
    }
    Some(if negative { -year } else { year })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn years_of_lido_dates() {
        assert_eq!(year_of("-3300"), Some(-3300));
        assert_eq!(year_of("1736-01-01"), Some(1736));
        assert_eq!(year_of("0"), None);
        assert_eq!(year_of("about 1900"), None);
    }

    #[test]
    fn broken_records_are_named_by_their_id() {
        assert_eq!(
            recover_id("<lido:lido><lido:lidoRecID lido:type=\"local\">GM-9</lido:lidoRecID><x>"),
            "GM-9"
        );
        assert_eq!(recover_id("<lido:lido>"), "");
    }
}
