//! The embedded sample collections: `institutions.json` and one `collections/{id}.jsonl` per
//! institution, written by `demo/generate.py` and compiled into the binary with
//! `include_str!`, so the demo works from any working directory.
//!
//! The files are parsed and checked once, on first use. They are part of the source tree and
//! a unit test proves they load, so a failure here is a build mistake, not a runtime
//! condition: [`all`] panics with the reason rather than serving half a demo.

use std::collections::HashSet;
use std::sync::LazyLock;

use serde::Deserialize;

use jincheng_oai_provider::Datestamp;

const INSTITUTIONS_JSON: &str = include_str!("../institutions.json");

/// Every collection file, by institution id. Adding a collection means adding it to
/// `generate.py` and here; a unit test checks both lists agree with the directory.
const COLLECTION_FILES: &[(&str, &str)] = &[
    ("lzlib", include_str!("../collections/lzlib.jsonl")),
    ("yzlib", include_str!("../collections/yzlib.jsonl")),
    ("lzmuseum", include_str!("../collections/lzmuseum.jsonl")),
    ("lzart", include_str!("../collections/lzart.jsonl")),
    ("lzculture", include_str!("../collections/lzculture.jsonl")),
    ("xgculture", include_str!("../collections/xgculture.jsonl")),
    ("liancheng", include_str!("../collections/liancheng.jsonl")),
    ("gslib", include_str!("../collections/gslib.jsonl")),
    ("gsmuseum", include_str!("../collections/gsmuseum.jsonl")),
];

/// One institution and the description of its OAI-PMH repository.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct InstitutionEntry {
    /// Institution id, also the collection name in URLs.
    pub id: String,
    /// Official name.
    pub name: String,
    /// `library`, `museum`, `art_gallery` or `cultural_centre`.
    #[serde(rename = "type")]
    pub institution_type: String,
    /// Lanzhou district or county, by Chinese name.
    pub district: String,
    /// `city`, `county`, `township` or `village`.
    pub level: String,
    /// The `repositoryName` that Identify reports.
    pub repository_name: String,
    /// The repository's sets as (setSpec, setName), parents before children.
    pub sets: Vec<(String, String)>,
}

/// One record of a collection file, as the provider serves it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SampleRecord {
    /// The OAI identifier, e.g. `oai:lzlib.example.invalid:00001`.
    pub identifier: String,
    /// Last change (or deletion), seconds granularity.
    pub datestamp: Datestamp,
    /// Withdrawn: served as a header with `status="deleted"` and no metadata.
    pub deleted: bool,
    /// The setSpecs the record belongs to (leaves; parents match by prefix).
    pub sets: Vec<String>,
    /// The Dublin Core description; empty for deleted records.
    #[serde(default)]
    pub dc: DublinCore,
}

/// The fifteen Dublin Core elements, each repeatable. Field order is the order in which
/// [`DublinCore::elements`] lists them and the provider writes them.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct DublinCore {
    pub title: Vec<String>,
    pub creator: Vec<String>,
    pub subject: Vec<String>,
    pub description: Vec<String>,
    pub publisher: Vec<String>,
    pub contributor: Vec<String>,
    pub date: Vec<String>,
    #[serde(rename = "type")]
    pub resource_type: Vec<String>,
    pub format: Vec<String>,
    pub identifier: Vec<String>,
    pub source: Vec<String>,
    pub language: Vec<String>,
    pub relation: Vec<String>,
    pub coverage: Vec<String>,
    pub rights: Vec<String>,
}

impl DublinCore {
    /// Every element with its values, in canonical order, including empty ones.
    pub fn elements(&self) -> [(&'static str, &[String]); 15] {
        [
            ("title", &self.title),
            ("creator", &self.creator),
            ("subject", &self.subject),
            ("description", &self.description),
            ("publisher", &self.publisher),
            ("contributor", &self.contributor),
            ("date", &self.date),
            ("type", &self.resource_type),
            ("format", &self.format),
            ("identifier", &self.identifier),
            ("source", &self.source),
            ("language", &self.language),
            ("relation", &self.relation),
            ("coverage", &self.coverage),
            ("rights", &self.rights),
        ]
    }

    fn is_empty(&self) -> bool {
        self.elements().iter().all(|(_, values)| values.is_empty())
    }
}

/// One institution's collection, records in serving order: by (datestamp, identifier).
#[derive(Debug)]
pub(crate) struct Collection {
    pub institution: InstitutionEntry,
    pub records: Vec<SampleRecord>,
}

impl Collection {
    /// The oldest datestamp, which Identify reports as `earliestDatestamp`.
    pub fn earliest_datestamp(&self) -> Option<&Datestamp> {
        self.records.first().map(|r| &r.datestamp)
    }

    /// The record with this OAI identifier.
    pub fn record(&self, identifier: &str) -> Option<&SampleRecord> {
        self.records.iter().find(|r| r.identifier == identifier)
    }

    /// True if `spec` is one of this repository's sets.
    #[cfg(test)]
    pub fn has_set(&self, spec: &str) -> bool {
        self.institution.sets.iter().any(|(s, _)| s == spec)
    }
}

impl SampleRecord {
    /// True if the record is in set `spec` or one of its descendants (`clc` holds `clc:I`).
    pub fn in_set(&self, spec: &str) -> bool {
        self.sets.iter().any(|s| {
            s == spec || (s.len() > spec.len() && s.starts_with(spec) && s.as_bytes()[spec.len()] == b':')
        })
    }
}

static COLLECTIONS: LazyLock<Vec<Collection>> =
    LazyLock::new(|| load().unwrap_or_else(|reason| panic!("the embedded demo data is broken: {reason}")));

/// Every sample collection, parsed on first use.
pub(crate) fn all() -> &'static [Collection] {
    &COLLECTIONS
}

/// The collection named `id`.
pub(crate) fn find(id: &str) -> Option<&'static Collection> {
    all().iter().find(|c| c.institution.id == id)
}

/// Parses and checks the embedded files; the error names the file and line at fault.
fn load() -> Result<Vec<Collection>, String> {
    let institutions: Vec<InstitutionEntry> =
        serde_json::from_str(INSTITUTIONS_JSON).map_err(|e| format!("institutions.json: {e}"))?;
    let mut collections = Vec::with_capacity(institutions.len());
    for institution in institutions {
        let Some((_, text)) = COLLECTION_FILES.iter().find(|(id, _)| *id == institution.id) else {
            return Err(format!("no collection file for institution {:?}", institution.id));
        };
        let file = format!("collections/{}.jsonl", institution.id);
        let records = parse_records(&file, text)?;
        check_records(&file, &institution, &records)?;
        collections.push(Collection { institution, records });
    }
    for (id, _) in COLLECTION_FILES {
        if !collections.iter().any(|c| c.institution.id == *id) {
            return Err(format!(
                "collections/{id}.jsonl has no entry in institutions.json"
            ));
        }
    }
    Ok(collections)
}

fn parse_records(file: &str, text: &str) -> Result<Vec<SampleRecord>, String> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| serde_json::from_str(line).map_err(|e| format!("{file}:{}: {e}", i + 1)))
        .collect()
}

/// The invariants the provider relies on: serving order, unique identifiers, declared sets,
/// metadata exactly on live records.
fn check_records(file: &str, institution: &InstitutionEntry, records: &[SampleRecord]) -> Result<(), String> {
    let mut seen = HashSet::new();
    for (i, pair) in records.windows(2).enumerate() {
        let (a, b) = (&pair[0], &pair[1]);
        if (&a.datestamp, &a.identifier) >= (&b.datestamp, &b.identifier) {
            return Err(format!(
                "{file}:{}: records are not ordered by (datestamp, identifier)",
                i + 2
            ));
        }
    }
    for (i, record) in records.iter().enumerate() {
        let line = i + 1;
        if !seen.insert(record.identifier.as_str()) {
            return Err(format!(
                "{file}:{line}: duplicate identifier {}",
                record.identifier
            ));
        }
        if let Some(set) = record
            .sets
            .iter()
            .find(|s| !institution.sets.iter().any(|(spec, _)| spec == *s))
        {
            return Err(format!(
                "{file}:{line}: set {set:?} is not declared in institutions.json"
            ));
        }
        if record.deleted != record.dc.is_empty() {
            return Err(format!(
                "{file}:{line}: deleted records, and only they, have no metadata"
            ));
        }
        if !record.deleted && record.dc.title.is_empty() {
            return Err(format!("{file}:{line}: no dc:title"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use schemas::{District, InstitutionType, Level, ResourceType};

    use super::*;

    const RIGHTS: &str = "示例数据（虚构，仅供演示）Sample data for demonstration";

    fn live() -> impl Iterator<Item = (&'static Collection, &'static SampleRecord)> {
        all()
            .iter()
            .flat_map(|c| c.records.iter().map(move |r| (c, r)))
            .filter(|(_, r)| !r.deleted)
    }

    fn find_title(collection: &str, title: &str) -> &'static SampleRecord {
        let found: Vec<_> = find(collection)
            .unwrap()
            .records
            .iter()
            .filter(|r| r.dc.title.first().is_some_and(|t| t == title))
            .collect();
        assert_eq!(
            found.len(),
            1,
            "{collection}: want exactly one record titled {title}"
        );
        found[0]
    }

    #[test]
    fn data_loads_with_enough_records_and_institutions() {
        assert!(all().len() >= 5);
        let live = live().count();
        assert!(live >= 600, "only {live} live records");
        for collection in all() {
            let deleted = collection.records.iter().filter(|r| r.deleted).count();
            assert!(
                (2..=3).contains(&deleted),
                "{}: {deleted} deleted",
                collection.institution.id
            );
        }
    }

    #[test]
    fn institutions_use_the_schema_vocabularies_and_cover_every_type() {
        let mut types = HashSet::new();
        let mut districts = HashSet::new();
        let mut levels = HashSet::new();
        for c in all() {
            let i = &c.institution;
            types.insert(i.institution_type.parse::<InstitutionType>().unwrap());
            districts.insert(i.district.parse::<District>().unwrap());
            levels.insert(i.level.parse::<Level>().unwrap());
            assert!(!i.sets.is_empty(), "{} has no sets", i.id);
            for (spec, _) in &i.sets {
                if let Some((parent, _)) = spec.rsplit_once(':') {
                    assert!(c.has_set(parent), "{}: set {spec} has no parent {parent}", i.id);
                }
            }
        }
        assert_eq!(
            types.len(),
            InstitutionType::ALL.len(),
            "every institution type is present"
        );
        assert!(districts.len() >= 3, "{districts:?}");
        assert!(levels.len() >= 3, "{levels:?}");
    }

    #[test]
    fn identifiers_are_unique_across_collections_and_datestamps_valid() {
        let now = Datestamp::now();
        let mut seen = HashSet::new();
        for c in all() {
            for r in &c.records {
                assert!(seen.insert(&r.identifier), "duplicate {}", r.identifier);
                assert!(
                    r.identifier
                        .starts_with(&format!("oai:{}.example.invalid:", c.institution.id))
                );
                let year = &r.datestamp.as_str()[..4];
                assert!(
                    ("2024"..="2026").contains(&year),
                    "{}: {}",
                    r.identifier,
                    r.datestamp
                );
                assert!(r.datestamp < now, "{} is in the future", r.identifier);
            }
        }
    }

    #[test]
    fn every_live_record_is_marked_as_sample_data_and_has_a_known_type() {
        for (c, r) in live() {
            assert_eq!(r.dc.rights, [RIGHTS], "{}", r.identifier);
            assert_eq!(r.dc.resource_type.len(), 1, "{}", r.identifier);
            let parsed = r.dc.resource_type[0].parse::<ResourceType>();
            assert!(
                parsed.is_ok_and(|t| t != ResourceType::Other),
                "{} in {}: dc:type {:?} is not in the schema vocabulary",
                r.identifier,
                c.institution.id,
                r.dc.resource_type
            );
            let text: String =
                r.dc.elements()
                    .iter()
                    .flat_map(|(_, v)| v.iter())
                    .cloned()
                    .collect();
            assert!(!text.chars().any(|ch| ch.is_control()), "{}", r.identifier);
        }
    }

    #[test]
    fn varied_types_and_languages_are_present() {
        let mut types = HashSet::new();
        let mut languages = HashMap::new();
        for (_, r) in live() {
            types.extend(r.dc.resource_type.iter().map(String::as_str));
            for l in &r.dc.language {
                *languages.entry(l.as_str()).or_insert(0) += 1;
            }
        }
        for want in [
            "图书",
            "Text",
            "古籍",
            "文物",
            "PhysicalObject",
            "绘画",
            "书法",
            "Event",
            "活动",
            "StillImage",
        ] {
            assert!(types.contains(want), "no dc:type {want}");
        }
        for want in ["chi", "zh", "eng"] {
            assert!(
                languages.get(want).is_some_and(|n| *n >= 3),
                "language {want}: {languages:?}"
            );
        }
    }

    #[test]
    fn every_isbn_has_a_valid_check_digit() {
        let mut count = 0;
        for (_, r) in live() {
            for id in r.dc.identifier.iter().filter_map(|i| i.strip_prefix("ISBN ")) {
                let digits: String = id.chars().filter(|c| *c != '-').collect();
                assert!(is_valid_isbn13(&digits), "{}: invalid ISBN {id}", r.identifier);
                count += 1;
            }
        }
        assert!(count >= 250, "only {count} ISBNs");
    }

    fn is_valid_isbn13(digits: &str) -> bool {
        digits.len() == 13
            && digits.starts_with("97")
            && digits.bytes().all(|b| b.is_ascii_digit())
            && digits
                .bytes()
                .enumerate()
                .map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 1 } else { 3 })
                .sum::<u32>()
                % 10
                == 0
    }

    #[test]
    fn isbn_check_is_itself_correct() {
        assert!(is_valid_isbn13("9787101139662"));
        assert!(!is_valid_isbn13("9787101139663"));
        assert!(!is_valid_isbn13("978710113966"));
    }

    #[test]
    fn the_records_the_demo_relies_on_are_present() {
        let poem = find_title("lzlib", "靜夜思");
        assert_eq!(poem.dc.creator, ["李白"]);
        assert_eq!(
            poem.dc.description,
            ["牀前明月光，疑是地上霜。舉頭望明月，低頭思故鄉。"]
        );
        assert_eq!(poem.dc.resource_type, ["古籍"]);
        assert_eq!(poem.dc.date, ["唐"]);
        assert!(poem.dc.subject.contains(&"唐诗".to_string()));

        let anthology = find_title("lzlib", "唐诗三百首");
        assert!(anthology.dc.creator[0].starts_with("蘅塘退士"));
        assert!(anthology.dc.publisher[0].ends_with("中华书局"));
        assert!(anthology.dc.identifier.iter().any(|i| i.starts_with("ISBN 978")));

        let horse = find_title("lzmuseum", "铜奔马");
        assert_eq!(horse.dc.title, ["铜奔马", "马踏飞燕"]);
        assert_eq!(horse.dc.date, ["东汉"]);

        find_title("lzculture", "兰州黄河文化艺术中心非遗展演");
        let traditional = live()
            .filter(|(_, r)| r.dc.publisher.iter().any(|p| p.contains("中華書局")))
            .count();
        assert!(traditional >= 2, "{traditional} records published by 中華書局");
        let escaped = live()
            .filter(|(_, r)| r.dc.title.iter().any(|t| t.contains('&') && t.contains('<')))
            .count();
        assert!(escaped >= 1, "no title exercising XML escaping");
    }

    #[test]
    fn each_collection_covers_its_institution_type() {
        for c in all() {
            let types: HashSet<ResourceType> = c
                .records
                .iter()
                .flat_map(|r| &r.dc.resource_type)
                .filter_map(|t| t.parse().ok())
                .collect();
            let want = match c.institution.institution_type.as_str() {
                "library" => ResourceType::Book,
                "museum" => ResourceType::Artefact,
                "art_gallery" => ResourceType::Artwork,
                _ => ResourceType::Event,
            };
            assert!(types.contains(&want), "{}: {types:?}", c.institution.id);
        }
    }

    #[test]
    fn embedded_file_list_matches_the_directory_and_stays_small() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/collections");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        on_disk.sort();
        let mut embedded: Vec<String> = COLLECTION_FILES
            .iter()
            .map(|(id, _)| format!("{id}.jsonl"))
            .collect();
        embedded.sort();
        assert_eq!(on_disk, embedded);
        let bytes: usize = COLLECTION_FILES.iter().map(|(_, text)| text.len()).sum();
        assert!(bytes < 1_500_000, "{bytes} bytes of sample data");
    }

    #[test]
    fn in_set_matches_descendants_only() {
        let record = SampleRecord {
            identifier: "x".into(),
            datestamp: "2025-01-01T00:00:00Z".parse().unwrap(),
            deleted: true,
            sets: vec!["clc:I".into()],
            dc: DublinCore::default(),
        };
        assert!(record.in_set("clc"));
        assert!(record.in_set("clc:I"));
        assert!(!record.in_set("cl"));
        assert!(!record.in_set("clc:I:x"));
        assert!(!record.in_set("clc:"));
    }
}
