//! RSS 2.0 and Atom activity feeds → event records.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use jincheng_harvesters::{FeedOptions, ItemOutcome, read_feed};
use schemas::{Record, ResourceType};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/feed/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn options() -> FeedOptions {
    FeedOptions {
        source_id: "lzwhg-feed".into(),
        institution: "lzwhg".into(),
    }
}

fn record(outcome: &ItemOutcome) -> &Record {
    match outcome {
        ItemOutcome::Record(record) => record,
        other => panic!("not a record: {other:?}"),
    }
}

#[test]
fn rss_items_become_events() {
    let items = read_feed(&fixture("events.rss"), &options()).unwrap();
    let ids: Vec<&str> = items.iter().map(|i| i.local_id.as_str()).collect();
    // The repeated guid lzwhg-act-201 is dropped; the broken item has no readable id.
    assert_eq!(ids, ["lzwhg-act-201", "lzwhg-act-202", "", "lzwhg-act-204"]);

    let talk = record(&items[0].outcome);
    assert_eq!(talk.id, "lzwhg-feed:lzwhg-act-201");
    assert_eq!(talk.title, "“金城讲坛”：丝绸之路上的兰州");
    assert_eq!(talk.resource_type, ResourceType::Event);
    assert_eq!(talk.resource_type_original.as_deref(), Some("讲座"));
    assert_eq!(talk.subjects, ["讲座", "历史"]);
    assert_eq!(
        talk.source_url.as_deref(),
        Some("https://www.lzwhg.example.cn/act/201")
    );
    assert_eq!(
        talk.description.as_deref(),
        Some(
            "活动时间：2025年3月8日 14:30-16:30\n地点：兰州市文化馆三楼多功能厅\n主办单位：兰州市文化馆\n云直播：https://live.lzwhg.example.cn/room/201\n报名链接：https://reg.lzwhg.example.cn/201"
        )
    );
    let event = talk.event.as_ref().unwrap();
    assert_eq!(event.start.as_deref(), Some("2025-03-08T14:30"));
    assert_eq!(event.end.as_deref(), Some("2025-03-08T16:30"));
    assert_eq!(event.venue.as_deref(), Some("兰州市文化馆三楼多功能厅"));
    assert_eq!(event.organiser.as_deref(), Some("兰州市文化馆"));
    assert_eq!(
        event.live_stream_url.as_deref(),
        Some("https://live.lzwhg.example.cn/room/201")
    );
    assert_eq!(
        event.registration_url.as_deref(),
        Some("https://reg.lzwhg.example.cn/201")
    );
    assert_eq!(talk.date.as_ref().map(|d| d.display.as_str()), Some("2025-03-08"));
    assert_eq!(talk.year(), Some(2025));
    assert_eq!(items[0].datestamp, "Mon, 03 Mar 2025 09:00:00 +0800");

    let opera = record(&items[1].outcome);
    let event = opera.event.as_ref().unwrap();
    assert_eq!(event.start.as_deref(), Some("2025-02-10T19:30:00+08:00"));
    assert_eq!(event.end.as_deref(), Some("2025-02-10T21:30:00+08:00"));
    assert_eq!(event.venue.as_deref(), Some("金城大剧院"));
    assert_eq!(event.organiser.as_deref(), Some("兰州市秦剧团"));
    assert_eq!(
        event.live_stream_url.as_deref(),
        Some("https://live.lzwhg.example.cn/hls/202.m3u8")
    );
    assert_eq!(event.registration_url, None);
    assert_eq!(
        opera.description.as_deref(),
        Some("经典剧目《三滴血》选段。 欢迎市民观看。")
    );

    let ItemOutcome::Quarantined { reason } = &items[2].outcome else {
        panic!()
    };
    assert!(reason.contains("undefined entity &nbsp;"), "{reason}");
    assert!(items[2].raw.contains("lzwhg-act-203"));
    let ItemOutcome::Quarantined { reason } = &items[3].outcome else {
        panic!()
    };
    assert_eq!(reason, "feed item lzwhg-act-204 has no title");
}

#[test]
fn atom_entries_become_events() {
    let items = read_feed(&fixture("events.atom"), &options()).unwrap();
    assert_eq!(items.len(), 3);
    let show = record(&items[0].outcome);
    assert_eq!(show.id, "lzwhg-feed:tag:lzart.example.cn,2025:exhibit-31");
    assert_eq!(show.title, "黄河之滨——甘肃当代油画展");
    assert_eq!(
        show.source_url.as_deref(),
        Some("https://www.lzart.example.cn/exhibit/31")
    );
    assert_eq!(show.creators, ["兰州美术馆"]);
    assert_eq!(show.subjects, ["展览"]);
    let event = show.event.as_ref().unwrap();
    assert_eq!(event.start.as_deref(), Some("2025-03-15"));
    assert_eq!(event.end.as_deref(), Some("2025-04-30"));
    assert_eq!(event.venue.as_deref(), Some("兰州美术馆一号厅"));
    assert_eq!(
        event.registration_url.as_deref(),
        Some("https://www.lzart.example.cn/book/31")
    );
    assert_eq!(
        event.live_stream_url.as_deref(),
        Some("https://live.lzart.example.cn/31")
    );

    let talk = record(&items[1].outcome);
    assert_eq!(
        talk.source_url.as_deref(),
        Some("https://www.lzart.example.cn/talk/32")
    );
    let event = talk.event.as_ref().unwrap();
    assert_eq!(event.start.as_deref(), Some("2025-03-22T10:00"));
    assert_eq!(event.venue.as_deref(), Some("二楼报告厅"));
    assert_eq!(items[1].datestamp, "2025-03-05T10:00:00+08:00");

    assert!(
        matches!(&items[2].outcome, ItemOutcome::Quarantined { reason } if reason.starts_with("broken feed item"))
    );
}

#[test]
fn documents_that_are_not_feeds_fail_and_nothing_panics() {
    assert!(read_feed(b"plain text", &options()).is_err());
    assert!(read_feed(b"<html><body>hi</body></html>", &options()).is_err());
    let truncated = &fixture("events.rss")[..900];
    let items = read_feed(truncated, &options()).unwrap();
    assert!(matches!(
        items.last().map(|i| &i.outcome),
        Some(ItemOutcome::Quarantined { .. })
    ));
    for cut in (0..fixture("events.atom").len()).step_by(97) {
        let _ = read_feed(&fixture("events.atom")[..cut], &options());
    }
}
