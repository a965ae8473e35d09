//! LIDO: a Gansu museum file of twelve objects and two broken ones, and a single record as
//! OAI-PMH carries it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use jincheng_harvesters::{ItemOutcome, LidoOptions, map_lido_record, read_lido};
use schemas::{ImageLink, Record, ResourceType};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/lido/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn options() -> LidoOptions {
    LidoOptions {
        source_id: "gsm-lido".into(),
        institution: "gsmuseum".into(),
    }
}

fn record(outcome: &ItemOutcome) -> &Record {
    match outcome {
        ItemOutcome::Record(record) => record,
        other => panic!("not a record: {other:?}"),
    }
}

fn years(record: &Record) -> (Option<i32>, Option<i32>) {
    let date = record.date.as_ref().unwrap();
    (date.year_start, date.year_end)
}

#[test]
fn a_museum_file_maps_every_object() {
    let items = read_lido(&fixture("gansu_museum.xml"), &options()).unwrap();
    assert_eq!(items.len(), 14);

    let horse = record(&items[0].outcome);
    assert_eq!(items[0].local_id, "GSM-0001");
    assert_eq!(horse.id, "gsm-lido:GSM-0001");
    assert_eq!(horse.title, "铜奔马");
    assert_eq!(
        horse.alternative_titles,
        ["Galloping Horse Treading on a Flying Swallow"]
    );
    assert_eq!(horse.resource_type, ResourceType::Artefact);
    assert_eq!(horse.resource_type_original.as_deref(), Some("青铜器"));
    assert_eq!(horse.subjects, ["馆藏文物"]);
    assert_eq!(horse.materials, ["青铜"]);
    assert_eq!(horse.techniques, ["铸造"]);
    assert_eq!(
        horse.measurements.as_deref(),
        Some("高34.5厘米，长45厘米，宽13.1厘米")
    );
    assert_eq!(horse.period.as_deref(), Some("东汉"));
    assert_eq!(years(horse), (Some(25), Some(220)));
    assert_eq!(horse.place.as_deref(), Some("甘肃省武威市雷台汉墓"));
    assert_eq!(horse.culture, None);
    assert_eq!(horse.inventory_number.as_deref(), Some("GSM-0001"));
    assert_eq!(horse.holdings.len(), 1);
    assert_eq!(horse.holdings[0].branch.as_deref(), Some("甘肃省博物馆"));
    assert_eq!(
        horse.description.as_deref(),
        Some("1969年出土，造型矫健，为中国旅游标志。")
    );
    assert_eq!(horse.rights.as_deref(), Some("甘肃省博物馆藏"));
    assert_eq!(
        horse.images,
        [ImageLink {
            url: "https://img.gansumuseum.example.cn/GSM-0001/front.jpg".into(),
            caption: Some("正面".into()),
        }]
    );
    assert_eq!(
        horse.source_url.as_deref(),
        Some("https://www.gansumuseum.example.cn/collection/GSM-0001")
    );
    assert_eq!(horse.language.as_deref(), Some("zh"));
    assert_eq!(horse.identifiers, ["GSM-0001"]);

    let bottle = record(&items[1].outcome);
    assert_eq!(bottle.title, "彩陶旋涡纹尖底瓶");
    assert_eq!(bottle.culture.as_deref(), Some("马家窑文化"));
    assert_eq!(bottle.period.as_deref(), Some("新石器时代"));
    assert_eq!(bottle.date.as_ref().unwrap().display, "新石器时代马家窑文化");
    assert_eq!(years(bottle), (Some(-3300), Some(-2050)));
    assert_eq!(bottle.techniques, ["彩绘"]);

    // Display dates the normaliser reads; earliest/latest where it cannot.
    type Years = (Option<i32>, Option<i32>);
    let expected: [(usize, Years); 9] = [
        (2, (Some(-5000), Some(-3000))),  // 仰韶文化
        (3, (Some(-2650), Some(-2350))),  // 马家窑文化半山类型
        (4, (Some(-2350), Some(-2050))),  // 马家窑文化马厂类型
        (5, (Some(220), Some(420))),      // 魏晋
        (6, (Some(618), Some(907))),      // 唐代
        (7, (Some(1736), Some(1795))),    // 大清乾隆年制
        (8, (Some(1931), Some(1931))),    // 民国二十年
        (9, (Some(1877), Some(1877))),    // 光绪三年
        (11, (Some(-2200), Some(-1600))), // 齐家文化, from the period name
    ];
    for (i, want) in expected {
        assert_eq!(years(record(&items[i].outcome)), want, "item {i}");
    }
    assert_eq!(record(&items[9].outcome).resource_type, ResourceType::Artwork);
    assert_eq!(
        record(&items[9].outcome).resource_type_original.as_deref(),
        Some("绘画")
    );
    assert_eq!(record(&items[10].outcome).unparsed_date(), Some("年代不详"));

    let ItemOutcome::Quarantined { reason } = &items[12].outcome else {
        panic!()
    };
    assert!(
        reason.starts_with("broken LIDO record: malformed XML"),
        "{reason}"
    );
    assert_eq!(items[12].local_id, "GSM-9001");
    let ItemOutcome::Quarantined { reason } = &items[13].outcome else {
        panic!()
    };
    assert_eq!(reason, "LIDO record has no lidoRecID");
}

#[test]
fn one_record_as_oai_pmh_carries_it() {
    let xml = String::from_utf8(fixture("single.xml")).unwrap();
    let item = map_lido_record(&xml, &options());
    assert_eq!(record(&item.outcome).title, "铜奔马");
    // Without its own namespace declaration the lido prefix is still understood.
    let bare = xml.replace(" xmlns:lido=\"http://www.lido-schema.org\"", "");
    assert_eq!(
        record(&map_lido_record(&bare, &options()).outcome).title,
        "铜奔马"
    );
    // In another namespace it is not LIDO.
    let other = xml.replace("http://www.lido-schema.org", "urn:not-lido");
    assert!(matches!(
        map_lido_record(&other, &options()).outcome,
        ItemOutcome::Quarantined { .. }
    ));
    // A single <lido:lido> file works too.
    assert_eq!(read_lido(xml.as_bytes(), &options()).unwrap().len(), 1);
}

#[test]
fn files_that_are_not_lido_fail_and_nothing_panics() {
    assert!(read_lido(b"not xml", &options()).is_err());
    assert!(read_lido(b"<root><other/></root>", &options()).is_err());
    let bytes = fixture("gansu_museum.xml");
    for cut in (0..bytes.len()).step_by(1013) {
        let _ = read_lido(&bytes[..cut], &options());
    }
    let hostile = br#"<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<lido:lidoWrap xmlns:lido="http://www.lido-schema.org"><lido:lido><lido:lidoRecID>X</lido:lidoRecID>&xxe;</lido:lido></lido:lidoWrap>"#;
    let items = read_lido(hostile, &options()).unwrap();
    assert!(
        matches!(&items[0].outcome, ItemOutcome::Quarantined { reason } if reason.contains("not expanded"))
    );
}
