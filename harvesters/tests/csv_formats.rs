//! CSV exports: a GBK museum export and a UTF-8-BOM events export, with their broken rows.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use jincheng_harvesters::{CsvEncoding, CsvOptions, Error, ItemOutcome, read_csv, read_csv_report};
use schemas::{Record, ResourceType};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/csv/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect()
}

fn museum_options() -> CsvOptions {
    CsvOptions {
        source_id: "gsm-csv".into(),
        institution: "gsmuseum".into(),
        id_column: "藏品编号".into(),
        columns: map(&[
            ("title", "名称"),
            ("resource_type", "类别"),
            ("period", "年代"),
            ("materials", "质地"),
            ("measurements", "尺寸"),
            ("place", "出土地点"),
            ("description", "描述"),
            ("inventory_number", "藏品编号"),
        ]),
        default_resource_type: Some(ResourceType::Artefact),
        ..CsvOptions::default()
    }
}

fn record(outcome: &ItemOutcome) -> &Record {
    match outcome {
        ItemOutcome::Record(record) => record,
        other => panic!("not a record: {other:?}"),
    }
}

fn reason(outcome: &ItemOutcome) -> &str {
    match outcome {
        ItemOutcome::Quarantined { reason } => reason,
        other => panic!("not quarantined: {other:?}"),
    }
}

#[test]
fn a_gbk_museum_export_maps_and_quarantines_its_broken_rows() {
    let harvest = read_csv_report(&fixture("museum_gbk.csv"), &museum_options()).unwrap();
    assert_eq!(harvest.encoding, CsvEncoding::Gb18030);
    let items = harvest.items;
    let ids: Vec<&str> = items.iter().map(|i| i.local_id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "GM-0001", "GM-0002", "GM-0003", "GM-0004", "GM-0005", "", "GM-0007"
        ]
    );

    let horse = record(&items[0].outcome);
    assert_eq!(horse.id, "gsm-csv:GM-0001");
    assert_eq!(horse.institution, "gsmuseum");
    assert_eq!(horse.title, "铜奔马");
    assert_eq!(horse.resource_type, ResourceType::Artefact);
    assert_eq!(horse.resource_type_original.as_deref(), Some("青铜器"));
    assert_eq!(horse.period.as_deref(), Some("东汉"));
    let date = horse.date.as_ref().unwrap();
    assert_eq!(
        (date.display.as_str(), date.year_start, date.year_end),
        ("东汉", Some(25), Some(220))
    );
    assert_eq!(horse.materials, ["青铜"]);
    assert_eq!(horse.measurements.as_deref(), Some("高34.5厘米，长45厘米"));
    assert_eq!(horse.place.as_deref(), Some("甘肃省武威市雷台汉墓"));
    assert_eq!(horse.description.as_deref(), Some("中国旅游标志。"));
    assert_eq!(horse.inventory_number.as_deref(), Some("GM-0001"));
    assert_eq!(
        items[0].raw,
        "GM-0001,铜奔马,青铜器,东汉,青铜,高34.5厘米，长45厘米,甘肃省武威市雷台汉墓,中国旅游标志。"
    );

    let jar = record(&items[1].outcome);
    assert_eq!(jar.year(), Some(-3300));
    let brick = record(&items[2].outcome);
    assert_eq!(brick.date.as_ref().and_then(|d| d.year_end), Some(420));

    assert_eq!(reason(&items[3].outcome), "row 5 has 2 columns; the header has 8");
    assert_eq!(items[3].raw, "GM-0004,短行");
    assert_eq!(
        reason(&items[4].outcome),
        "row 6 has bytes that are not valid GB18030"
    );
    assert_eq!(reason(&items[5].outcome), "row 7 has no id (column \"藏品编号\")");

    // An unparseable date is kept for display, and reported, not quarantined.
    let statue = record(&items[6].outcome);
    assert_eq!(statue.unparsed_date(), Some("年代不详"));
}

#[test]
fn a_bom_events_export_with_separators_and_a_required_time() {
    let options = CsvOptions {
        source_id: "lzwhg-csv".into(),
        institution: "lzwhg".into(),
        id_column: "编号".into(),
        columns: map(&[
            ("title", "活动名称"),
            ("resource_type", "类型"),
            ("event.start", "开始时间"),
            ("event.end", "结束时间"),
            ("event.venue", "地点"),
            ("creators", "主讲人"),
            ("subjects", "标签"),
        ]),
        separators: map(&[("creators", "|"), ("subjects", "|")]),
        delimiter: Some(b';'),
        required: vec!["event.start".into()],
        ..CsvOptions::default()
    };
    let harvest = read_csv_report(&fixture("events_bom.csv"), &options).unwrap();
    assert_eq!(harvest.encoding, CsvEncoding::Utf8Bom);
    let items = harvest.items;
    assert_eq!(items.len(), 3);
    let lecture = record(&items[0].outcome);
    assert_eq!(lecture.title, "秦腔经典唱段赏析");
    assert_eq!(lecture.resource_type, ResourceType::Event);
    assert_eq!(lecture.creators, ["张三", "李四"]);
    assert_eq!(lecture.subjects, ["秦腔", "戏曲"]);
    let event = lecture.event.as_ref().unwrap();
    assert_eq!(event.start.as_deref(), Some("2025-03-08T14:30"));
    assert_eq!(event.end.as_deref(), Some("2025-03-08T16:30"));
    assert_eq!(event.venue.as_deref(), Some("兰州市文化馆三楼多功能厅"));
    let class = record(&items[1].outcome);
    assert_eq!(
        class.event.as_ref().and_then(|e| e.start.as_deref()),
        Some("2025-04-12T09:00")
    );
    assert_eq!(class.event.as_ref().and_then(|e| e.end.as_deref()), None);
    assert!(reason(&items[2].outcome).starts_with("row 4: required event.start (开始时间)"));
}

#[test]
fn a_missing_mapped_column_fails_the_file_and_names_it() {
    let mut options = museum_options();
    options.columns.insert("creators".into(), "作者".into());
    let err = read_csv(&fixture("museum_gbk.csv"), &options).unwrap_err();
    assert!(
        matches!(&err, Error::InvalidSource(m) if m.contains("\"作者\"")),
        "{err}"
    );

    let mut options = museum_options();
    options.columns.insert("colour".into(), "颜色".into());
    assert!(matches!(read_csv(b"a\n", &options), Err(Error::InvalidSource(_))));
    assert!(matches!(
        read_csv(b"", &museum_options()),
        Err(Error::InvalidSource(_))
    ));
}

#[test]
fn hostile_bytes_never_panic() {
    for bytes in [
        &b"\xff\xfe\x00"[..],
        b"\"unterminated,quote\n1,2",
        b"\xef\xbb\xbf",
        b",,,,\n,,,,\n",
        "藏品编号,名称\n\"GM-1\",\"a\"\"b\"\n".as_bytes(),
    ] {
        let _ = read_csv(bytes, &museum_options());
    }
}
