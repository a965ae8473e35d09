//! The MARC readers on small committed fixtures (`tests/fixtures/marc/`, written by
//! `make_fixtures.py` beside them): each way real-world MARC breaks quarantines exactly the
//! broken record, with a reason, and its neighbours are read.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use jincheng_harvesters::{
    HarvestedItem, ItemOutcome, MarcEncoding, MarcFormat, MarcOptions, read_iso2709, read_marc_file,
    read_marcxml,
};
use schemas::Record;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/marc/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn options(format: MarcFormat) -> MarcOptions {
    MarcOptions {
        format,
        encoding: MarcEncoding::Auto,
        source_id: "fx".into(),
        institution: "lzlib".into(),
    }
}

fn read(name: &str, format: MarcFormat) -> Vec<HarvestedItem> {
    let bytes = fixture(name);
    let items: Vec<HarvestedItem> = if name.ends_with(".xml") {
        read_marcxml(&bytes, &options(format)).collect()
    } else {
        read_iso2709(&bytes, &options(format)).collect()
    };
    // Sniffing gives the same answer as asking for the right reader.
    let sniffed: Vec<HarvestedItem> = read_marc_file(&bytes, &options(format)).collect();
    assert_eq!(items, sniffed, "{name}");
    items
}

fn record(item: &HarvestedItem) -> &Record {
    match &item.outcome {
        ItemOutcome::Record(record) => record,
        other => panic!("{}: expected a record, got {other:?}", item.local_id),
    }
}

fn reason(item: &HarvestedItem) -> &str {
    match &item.outcome {
        ItemOutcome::Quarantined { reason } => reason,
        other => panic!("{}: expected a quarantine, got {other:?}", item.local_id),
    }
}

/// `Ok(title)` for records, `Err(reason)` for quarantines.
fn outcomes(items: &[HarvestedItem]) -> Vec<Result<&str, &str>> {
    items
        .iter()
        .map(|item| match &item.outcome {
            ItemOutcome::Record(record) => Ok(record.title.as_str()),
            ItemOutcome::Quarantined { reason } => Err(reason.as_str()),
            ItemOutcome::Deleted => Err("deleted"),
        })
        .collect()
}

#[test]
fn a_truncated_file_quarantines_its_last_record() {
    let items = read("truncated.mrc", MarcFormat::Marc21);
    let got = outcomes(&items);
    assert_eq!(got.len(), 3, "{got:?}");
    assert_eq!(&got[..2], &[Ok("第一条"), Ok("第二条")]);
    let why = reason(&items[2]);
    assert!(
        why.contains("record 3 at byte") && why.contains("truncated"),
        "{why}"
    );
    assert!(!items[2].raw.is_empty());
}

#[test]
fn wrong_leader_lengths_and_directories_quarantine_only_their_record() {
    let items = read("wrong_leader.mrc", MarcFormat::Marc21);
    let got = outcomes(&items);
    assert_eq!(got.len(), 7, "{got:?}");
    for (i, title) in [(0, "好一"), (2, "好二"), (4, "好三"), (6, "好四")] {
        assert_eq!(got[i], Ok(title), "{got:?}");
    }
    assert!(
        reason(&items[1]).contains("leader states a record length of 100 bytes"),
        "{got:?}"
    );
    assert!(reason(&items[3]).contains("base address 30"), "{got:?}");
    assert!(reason(&items[5]).contains("points outside the record"), "{got:?}");
    assert_eq!(items[4].local_id, "FX0003");
}

#[test]
fn records_over_99999_bytes_are_cut_at_their_terminator_and_quarantined() {
    let items = read("oversized.mrc", MarcFormat::Marc21);
    let got = outcomes(&items);
    assert_eq!(got.len(), 3, "{got:?}");
    assert_eq!((got[0], got[2]), (Ok("前"), Ok("后")));
    let why = reason(&items[1]);
    assert!(why.contains("108350 bytes") && why.contains("99999"), "{why}");
}

#[test]
fn invalid_utf8_quarantines_its_record_with_the_bytes_shown() {
    let items = read("invalid_utf8.mrc", MarcFormat::Marc21);
    let got = outcomes(&items);
    assert_eq!((got.len(), got[0], got[2]), (3, Ok("前"), Ok("后")), "{got:?}");
    let why = reason(&items[1]);
    assert!(why.contains("field 245 is not valid UTF-8 (byte 0xC3"), "{why}");
    assert_eq!(items[1].local_id, "FX0022");
    assert!(items[1].raw.contains("静\\xC3("), "{}", items[1].raw);
}

#[test]
fn a_wrong_gbk_byte_quarantines_its_cnmarc_record() {
    let items = read("cnmarc_gb18030.mrc", MarcFormat::Cnmarc);
    let got = outcomes(&items);
    assert_eq!(
        (got.len(), got[0], got[2]),
        (3, Ok("兰亭序"), Ok("快雪时晴帖")),
        "{got:?}"
    );
    let why = reason(&items[1]);
    assert!(
        why.contains("field 200 is not valid GB18030/GBK (byte 0x81"),
        "{why}"
    );
    assert!(items[1].raw.contains("兰\\x81"), "{}", items[1].raw);

    let first = record(&items[0]);
    assert_eq!(first.id, "fx:CN0001");
    assert_eq!(first.creators, ["王羲之书"]);
    assert_eq!(first.isbns, ["9787532564989"]);
    assert_eq!(first.subjects, ["书法-中国-东晋"]);
    assert_eq!(first.coverage, ["中国", "东晋"]);
    assert_eq!(first.holdings.len(), 1);
    assert_eq!(first.holdings[0].branch.as_deref(), Some("ZG"));
    assert_eq!(first.holdings[0].call_number.as_deref(), Some("J292.1/7"));
    assert_eq!(first.holdings[0].items, Some(1));
    assert_eq!(items[0].datestamp, "");

    // An explicit encoding overrides what the records declare.
    let bytes = fixture("cnmarc_gb18030.mrc");
    let utf8 = MarcOptions {
        encoding: MarcEncoding::Utf8,
        ..options(MarcFormat::Cnmarc)
    };
    let forced: Vec<_> = read_iso2709(&bytes, &utf8).collect();
    assert!(forced.iter().all(|i| reason(i).contains("not valid UTF-8")));
}

#[test]
fn broken_marcxml_quarantines_the_broken_records_only() {
    let items = read("broken.xml", MarcFormat::Marc21);
    let got = outcomes(&items);
    assert_eq!(got.len(), 5, "{got:?}");
    assert_eq!((got[0], got[3]), (Ok("好的 & 对的"), Ok("也好")), "{got:?}");
    assert!(
        reason(&items[1]).contains("</marc:datafield> closes <marc:subfield>"),
        "{got:?}"
    );
    assert!(reason(&items[2]).contains("undefined entity &xxe;"), "{got:?}");
    assert!(reason(&items[4]).contains("truncated"), "{got:?}");
    assert!(items[1].raw.starts_with("<marc:record>") && items[1].raw.ends_with("</marc:record>"));
}

#[test]
fn marc8_records_are_decoded_in_every_set_and_invalid_ones_quarantined() {
    let items = read("marc8.mrc", MarcFormat::Marc21);
    let got = outcomes(&items);
    assert_eq!(got.len(), 4, "{got:?}");
    let first = record(&items[0]);
    assert_eq!(first.title, "Café müsic");
    assert_eq!(first.creators, ["Dvořák, Antonín"]);
    // Leader/09 blank and 245 in EACC: the record is MARC-8 (its bytes are all ASCII) and
    // its CJK title and author come out as Unicode.
    let eacc = record(&items[1]);
    assert_eq!(eacc.id, "fx:M8-2");
    assert_eq!(eacc.title, "静夜思");
    assert_eq!(eacc.creators, ["李白"]);
    // A triple that is not in the EACC table quarantines its record alone.
    let why = reason(&items[2]);
    assert!(
        why.contains("field 245") && why.contains("0x7E7E7E at offset 10") && why.contains("CJK (EACC)"),
        "{why}"
    );
    assert_eq!(got[3], Ok("Plain ASCII"));
}

#[test]
fn vernacular_880_fields_are_displayed_and_romanised_ones_searchable() {
    let items = read("marc21_880.mrc", MarcFormat::Marc21);
    assert_eq!(items.len(), 2);
    let linked = record(&items[0]);
    assert_eq!(linked.id, "fx:FX0880");
    assert_eq!(linked.title, "李白集校注");
    assert_eq!(linked.alternative_titles, ["Li Bai ji jiao zhu"]);
    assert_eq!(linked.creators, ["李白, 701-762"]);
    assert_eq!(linked.contributors, ["Li, Bai, 701-762"]);
    assert_eq!(
        linked.publisher.as_deref(),
        Some("上海：上海古籍出版社 = Shanghai : Shanghai gu ji chu ban she")
    );
    assert_eq!(linked.year(), Some(1980));
    assert_eq!(linked.subjects, ["唐诗-注释-唐代"]);
    assert_eq!(linked.coverage, ["唐代"]);

    let plain = record(&items[1]);
    assert_eq!(
        (plain.title.as_str(), plain.creators.as_slice()),
        ("静夜思", &["佚名著".to_owned()][..])
    );
    assert_eq!(plain.isbns, ["9787101000016"]);
    assert_eq!(items[1].datestamp, "2024-01-02T03:04:05Z");
}

#[test]
fn garbage_never_panics_and_yields_quarantines() {
    for bytes in [
        &b""[..],
        b"\x1d\x1d\x1d",
        b"00000",
        b"99999nam a2299999 i 4500\x1e\x1d",
        b"<",
        b"<record>",
    ] {
        for item in read_marc_file(bytes, &options(MarcFormat::Marc21)) {
            assert!(
                matches!(item.outcome, ItemOutcome::Quarantined { .. }),
                "{item:?}"
            );
        }
    }
    // A large file that is not MARC at all is one quarantine, its raw text capped.
    let noise: Vec<u8> = (0..3_000_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8 | 0x80)
        .collect();
    let items: Vec<_> = read_iso2709(&noise, &options(MarcFormat::Marc21)).collect();
    assert!(!items.is_empty() && items.iter().all(|i| i.raw.len() < 300 * 1024));
}
