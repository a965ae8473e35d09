//! Interoperability with pymarc, an independent MARC implementation: the files that
//! `../shared/peers/make_marc.py` writes (MARC21 ISO 2709 and MARCXML, CNMARC in UTF-8 and in
//! GB18030) are read and every mapped field of every record is compared with the generator's
//! JSON-lines ground truth; and the pyoai peer's `marcxml` records are harvested over
//! loopback OAI-PMH and compared with the same truth.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../tests/support/peer.rs"]
mod peer;

use std::path::Path;
use std::process::Command;

use jincheng_harvesters::{
    Harvest, HarvestedItem, HttpLimits, ItemOutcome, ListRequest, MarcEncoding, MarcFormat, MarcOptions,
    OaiPmhHarvester, OaiPmhSource, read_iso2709, read_marc_file, read_marcxml,
};
use schemas::{DateRange, Holding, Record, ResourceType};
use serde_json::Value;

/// `cn_data.PERIODS` and `cn_data.PLACES`: how the generator splits a subject string into
/// geographic and chronological subdivisions.
const PERIODS: &[&str] = &[
    "先秦",
    "秦汉",
    "魏晋南北朝",
    "隋唐",
    "宋代",
    "辽金",
    "元代",
    "明代",
    "清代",
    "明清",
    "民国",
    "近代",
];
const PLACES: &[&str] = &[
    "江南",
    "敦煌",
    "西域",
    "岭南",
    "巴蜀",
    "燕京",
    "金陵",
    "长安",
    "洛阳",
    "徽州",
    "苏州",
    "杭州",
    "泉州",
    "云南",
    "西藏",
    "蒙古",
    "山西",
    "福建",
    "湘西",
    "景德镇",
    "龙泉",
    "大同",
    "开封",
    "扬州",
];

const SOURCE: &str = "peer";
const INSTITUTION: &str = "peer-lib";

/// Runs make_marc.py into a fresh temporary directory.
fn make_marc(records: usize, with_deleted: bool) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut command = Command::new(peer::peer_python());
    command
        .arg(peer::peers_dir().join("make_marc.py"))
        .args(["-n", &records.to_string(), "--out-dir"])
        .arg(dir.path());
    if with_deleted {
        command.arg("--with-deleted");
    }
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "make_marc.py failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    dir
}

fn truth(dir: &Path) -> Vec<Value> {
    std::fs::read_to_string(dir.join("cn_records.jsonl"))
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

fn s(value: &Value) -> String {
    value
        .as_str()
        .unwrap_or_else(|| panic!("not a string: {value}"))
        .to_owned()
}

/// The record the mapping must produce from the generator's record `rec`.
fn expected(rec: &Value, format: MarcFormat) -> Record {
    let local_id = format!("PEER{}", s(&rec["local_id"]));
    let mut title = s(&rec["title"]);
    let subtitle = s(&rec["subtitle"]);
    if !subtitle.is_empty() {
        title = format!("{title}：{subtitle}");
    }
    let mut record = Record::new(format!("{SOURCE}:{local_id}"), INSTITUTION, title);
    let image = matches!(rec["dc_type"].as_str(), Some("拓片" | "图像"));
    record.resource_type = if image {
        ResourceType::Image
    } else {
        ResourceType::Book
    };
    record.resource_type_original = Some(format!("leader/06-07={}m", if image { 'k' } else { 'a' }));
    let names: Vec<String> = rec["creators"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| s(&c[0]))
        .collect();
    record.creators = names.iter().take(1).cloned().collect();
    for name in names.iter().skip(1) {
        if !record.contributors.contains(name) {
            record.contributors.push(name.clone());
        }
    }
    for subject in rec["subjects"].as_array().unwrap() {
        let subject = s(subject);
        let mut parts = subject.split('-');
        parts.next();
        let (mut geographic, mut chronological) = (Vec::new(), Vec::new());
        for part in parts {
            if PERIODS.contains(&part) {
                chronological.push(part.to_owned());
            } else if part == "中国" || PLACES.contains(&part) {
                geographic.push(part.to_owned());
            }
        }
        for c in geographic.into_iter().chain(chronological) {
            if !record.coverage.contains(&c) {
                record.coverage.push(c);
            }
        }
        if !record.subjects.contains(&subject) {
            record.subjects.push(subject);
        }
    }
    record.classifications = vec![s(&rec["clc"])];
    record.description = Some(s(&rec["description"]));
    record.publisher = Some(format!("{}：{}", s(&rec["pub_place"]), s(&rec["publisher"])));
    let year = i32::try_from(rec["year"].as_i64().unwrap()).unwrap();
    record.date = Some(DateRange {
        display: year.to_string(),
        year_start: Some(year),
        year_end: Some(year),
    });
    record.language = Some("zh".into());
    let isbn = s(&rec["isbn"]);
    if !isbn.is_empty() {
        record.isbns = vec![isbn.replace('-', "")];
    }
    let edition = s(&rec["edition"]);
    record.edition = (!edition.is_empty()).then_some(edition);
    record.extent = Some(format!(
        "{}页 : 图 ; {}cm",
        rec["pages"].as_i64().unwrap(),
        rec["size_cm"].as_i64().unwrap()
    ));
    if format == MarcFormat::Marc21 {
        let url = format!("https://peer.example.org/item/{}", s(&rec["local_id"]));
        record.identifiers = vec![url.clone()];
        record.source_url = Some(url);
    }
    record.holdings = rec["holdings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| Holding {
            institution: INSTITUTION.into(),
            branch: Some(match format {
                MarcFormat::Marc21 => s(&h["branch"]),
                MarcFormat::Cnmarc => s(&h["branch_code"]),
            }),
            call_number: Some(s(&h["call_number"])),
            items: Some(1),
            status: match format {
                MarcFormat::Marc21 => Some(s(&h["status"])),
                MarcFormat::Cnmarc => None,
            },
        })
        .collect();
    record
}

fn options(format: MarcFormat, encoding: MarcEncoding) -> MarcOptions {
    MarcOptions {
        format,
        encoding,
        source_id: SOURCE.into(),
        institution: INSTITUTION.into(),
    }
}

/// Compares every item with its ground-truth record; returns how many matched.
fn compare(file: &str, items: &[HarvestedItem], truth: &[Value], format: MarcFormat) -> usize {
    assert_eq!(items.len(), truth.len(), "{file}: number of records");
    let mut mismatches = Vec::new();
    for (item, rec) in items.iter().zip(truth) {
        let want = expected(rec, format);
        assert_eq!(item.local_id, format!("PEER{}", s(&rec["local_id"])), "{file}");
        assert_eq!(item.datestamp, s(&rec["datestamp"]), "{file} {}", item.local_id);
        match &item.outcome {
            ItemOutcome::Record(got) if **got == want => {}
            ItemOutcome::Record(got) => {
                mismatches.push(format!("{}:\n got {got:?}\nwant {want:?}", item.local_id))
            }
            other => mismatches.push(format!("{}: {other:?}", item.local_id)),
        }
    }
    assert!(
        mismatches.is_empty(),
        "{file}: {} of {} records differ from the ground truth; first:\n{}",
        mismatches.len(),
        items.len(),
        mismatches.first().unwrap()
    );
    eprintln!(
        "{file}: {} records, every mapped field equal to the ground truth",
        items.len()
    );
    items.len()
}

#[test]
fn pymarc_files_map_to_the_ground_truth_field_by_field() {
    let dir = make_marc(300, false);
    let truth = truth(dir.path());
    assert_eq!(truth.len(), 300);
    let read = |name: &str| std::fs::read(dir.path().join(name)).unwrap();

    let marc21 = options(MarcFormat::Marc21, MarcEncoding::Auto);
    let cnmarc = options(MarcFormat::Cnmarc, MarcEncoding::Auto);
    let mrc = read("cn_marc21.mrc");
    let items: Vec<_> = read_iso2709(&mrc, &marc21).collect();
    compare("cn_marc21.mrc", &items, &truth, MarcFormat::Marc21);

    let xml = read("cn_marc21.xml");
    let xml_items: Vec<_> = read_marcxml(&xml, &marc21).collect();
    compare("cn_marc21.xml", &xml_items, &truth, MarcFormat::Marc21);
    // The same records, whichever way they were serialised.
    let outcomes = |items: &[HarvestedItem]| items.iter().map(|i| i.outcome.clone()).collect::<Vec<_>>();
    assert_eq!(outcomes(&items), outcomes(&xml_items));

    let utf8 = read("cn_unimarc_utf8.mrc");
    let utf8_items: Vec<_> = read_marc_file(&utf8, &cnmarc).collect();
    compare("cn_unimarc_utf8.mrc", &utf8_items, &truth, MarcFormat::Cnmarc);

    // GB18030 found from 100$a/26-29, and when the encoding is given explicitly.
    let gb = read("cn_unimarc_gb18030.mrc");
    let gb_items: Vec<_> = read_iso2709(&gb, &cnmarc).collect();
    compare("cn_unimarc_gb18030.mrc", &gb_items, &truth, MarcFormat::Cnmarc);
    let explicit: Vec<_> = read_iso2709(&gb, &options(MarcFormat::Cnmarc, MarcEncoding::Gb18030)).collect();
    assert_eq!(outcomes(&explicit), outcomes(&gb_items));
    assert_eq!(outcomes(&utf8_items), outcomes(&gb_items));
}

#[test]
fn deleted_records_are_reported_as_deletions() {
    let dir = make_marc(40, true);
    let truth = truth(dir.path());
    let mrc = std::fs::read(dir.path().join("cn_unimarc_utf8.mrc")).unwrap();
    let items: Vec<_> = read_iso2709(&mrc, &options(MarcFormat::Cnmarc, MarcEncoding::Auto)).collect();
    assert_eq!(items.len(), truth.len());
    let mut deleted = 0;
    for (item, rec) in items.iter().zip(&truth) {
        let is_deleted = rec["deleted"].as_bool().unwrap();
        assert_eq!(
            matches!(item.outcome, ItemOutcome::Deleted),
            is_deleted,
            "{}",
            item.local_id
        );
        deleted += usize::from(is_deleted);
    }
    assert_eq!(deleted, 2, "records 17 and 34 are deleted");
}

/// MARC-8 in every character set. pymarc writes ISO 2709 records (leader/09 blank) whose
/// 245 \$a is MARC-8 built from pymarc's own code tables by
/// `tests/fixtures/marc/make_marc8_peer.py`: every character of every set, all 15,739 EACC
/// characters included, then random mixtures of sets, escape sequence forms, spaces and
/// combining marks. pymarc reads them back with its MARC-8 decoder; we must map each record
/// to the title pymarc read.
#[test]
fn marc8_in_every_character_set_reads_as_pymarc_reads_it() {
    let dir = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/marc/make_marc8_peer.py");
    let output = Command::new(peer::peer_python())
        .arg(&script)
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "make_marc8_peer.py failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let truth: Vec<Value> = std::fs::read_to_string(dir.path().join("marc8_peer.jsonl"))
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert!(truth.len() > 500, "only {} records", truth.len());
    let bytes = std::fs::read(dir.path().join("marc8_peer.mrc")).unwrap();
    let items: Vec<HarvestedItem> =
        read_iso2709(&bytes, &options(MarcFormat::Marc21, MarcEncoding::Marc8)).collect();
    assert_eq!(items.len(), truth.len());
    let mut mismatches = Vec::new();
    let mut ideographs = 0;
    for (item, want) in items.iter().zip(&truth) {
        let id = s(&want["id"]);
        assert_eq!(item.local_id, id);
        match &item.outcome {
            ItemOutcome::Record(got) if got.title == s(&want["title"]) => {
                ideographs += got
                    .title
                    .chars()
                    .filter(|c| matches!(c, '\u{3400}'..='\u{9FFF}' | '\u{F900}'..='\u{FAFF}'))
                    .count();
            }
            ItemOutcome::Record(got) => mismatches.push(format!(
                "{id}:\n got {:?}\nwant {:?}",
                got.title,
                s(&want["title"])
            )),
            other => mismatches.push(format!("{id}: {other:?}")),
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {} MARC-8 records read differently from pymarc; first:\n{}",
        mismatches.len(),
        items.len(),
        mismatches.first().unwrap()
    );
    // The whole EACC table went through (a few hundred EACC characters are not ideographs:
    // punctuation, kana, hangul).
    assert!(ideographs > 13_000, "only {ideographs} CJK ideographs decoded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oai_pmh_marcxml_harvest_matches_the_ground_truth() {
    const RECORDS: usize = 120;
    let server = tokio::task::spawn_blocking(|| peer::PeerServer::start(RECORDS))
        .await
        .unwrap();
    // The OAI peer serves make_records(n) including deletions; make_marc.py --with-deleted
    // writes the same records, with their ISBNs.
    let dir = make_marc(RECORDS, true);
    let truth = truth(dir.path());
    let source = OaiPmhSource {
        source_id: SOURCE.into(),
        institution: INSTITUTION.into(),
        base_url: server.base_url().parse().unwrap(),
        metadata_prefix: "marcxml".into(),
        set: None,
    };
    let harvester = OaiPmhHarvester::new(source, HttpLimits::default()).unwrap();
    let mut harvest = Harvest::new(
        &harvester,
        ListRequest::Start {
            from: None,
            until: None,
        },
    );
    let mut items = Vec::new();
    while let Some(page) = harvest.next_page().await.unwrap() {
        items.extend(page.items);
        assert!(items.len() <= RECORDS * 2, "the list does not end");
    }
    assert_eq!(items.len(), RECORDS);
    let mut mapped = 0;
    for rec in &truth {
        let identifier = format!("oai:peer.example.org:{}", s(&rec["local_id"]));
        let item = items
            .iter()
            .find(|i| i.local_id == identifier)
            .unwrap_or_else(|| panic!("{identifier} was not harvested"));
        if rec["deleted"].as_bool().unwrap() {
            assert_eq!(item.outcome, ItemOutcome::Deleted, "{identifier}");
            continue;
        }
        let ItemOutcome::Record(got) = &item.outcome else {
            panic!("{identifier}: {:?}", item.outcome);
        };
        let want = expected(rec, MarcFormat::Marc21);
        assert_eq!(got.id, format!("{SOURCE}:{identifier}"));
        assert_eq!(got.title, want.title, "{identifier}");
        assert_eq!(got.isbns, want.isbns, "{identifier}");
        // Everything else as from a file, under the OAI identifier.
        let same_but_id = Record {
            id: want.id.clone(),
            ..(**got).clone()
        };
        assert_eq!(same_but_id, want, "{identifier}");
        mapped += 1;
    }
    assert_eq!(mapped, RECORDS - RECORDS / 17);
}
