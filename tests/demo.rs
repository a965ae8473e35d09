//! The embedded demo: sample providers on our own server, harvested over HTTP, searchable.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/http.rs"]
mod http;

use http::encode;
use serde_json::Value;
use store::RunStatus;

async fn get(base: &str, path: &str) -> Value {
    http::get_json(&format!("{base}{path}")).await.1
}

/// The demo's sources in formats other than OAI-PMH, with the records each holds.
const FORMAT_SOURCES: &[(&str, u64)] = &[
    ("ydlib-cnmarc", 40),
    ("lzlib-marcxml", 30),
    ("lzmuseum-lido", 25),
    ("lzhy-csv", 30),
    ("lzart-api", 45),
    ("qlhculture-rss", 15),
];

async fn record(base: &str, id: &str) -> Value {
    let (status, body) = http::get_json(&format!("{base}/api/v1/records/{}", encode(id))).await;
    assert_eq!(status, 200, "{id}: {body}");
    body
}

/// One record of each format has the fields only that format carries.
async fn check_format_fields(base: &str) {
    // CNMARC (GB18030): title, holdings per branch from 905 with a 中图法 call number.
    let cnmarc = record(base, "ydlib-cnmarc:YD000001").await;
    assert_eq!(cnmarc["title"], "永登县志：1991-2010", "{cnmarc}");
    assert_eq!(cnmarc["institution"], "ydlib");
    assert_eq!(cnmarc["holdings"][0]["branch"], "永登县图书馆总馆", "{cnmarc}");
    assert!(
        cnmarc["holdings"][0]["call_number"]
            .as_str()
            .is_some_and(|c| c.starts_with("K294.24/")),
        "{cnmarc}"
    );
    assert_eq!(cnmarc["isbns"].as_array().map(Vec::len), Some(1), "{cnmarc}");

    // MARCXML (MARC21): holdings from 852 with branch, call number and status.
    let marcxml = record(base, "lzlib-marcxml:LZDF00001").await;
    assert_eq!(marcxml["title"], "兰州历史地图集", "{marcxml}");
    let holding = &marcxml["holdings"][0];
    assert!(
        holding["branch"]
            .as_str()
            .is_some_and(|b| b.starts_with("兰州市图书馆")),
        "{marcxml}"
    );
    assert!(
        holding["call_number"]
            .as_str()
            .is_some_and(|c| c.starts_with("K992.421/")),
        "{marcxml}"
    );
    assert!(marcxml["classifications"][0] == "K992.421", "{marcxml}");

    // LIDO: materials, techniques, measurements, culture.
    let lido = record(base, "lzmuseum-lido:LZM-LIDO-0001").await;
    assert_eq!(lido["title"], "马家窑类型彩陶旋纹双耳罐", "{lido}");
    assert_eq!(lido["resource_type"], "artefact", "{lido}");
    assert_eq!(lido["materials"][0], "泥质红陶", "{lido}");
    assert_eq!(lido["techniques"][0], "彩绘", "{lido}");
    assert_eq!(lido["culture"], "马家窑文化", "{lido}");
    assert_eq!(lido["measurements"], "高28.6厘米，口径11.2厘米", "{lido}");

    // CSV (GBK): a work by several painters, split on "；".
    let found = get(
        base,
        &format!("/api/v1/search?q={}&institution=lzhy", encode("河西走廊长卷")),
    )
    .await;
    let id = found["hits"][0]["id"].as_str().unwrap_or_default().to_owned();
    assert!(id.starts_with("lzhy-csv:"), "{found}");
    let csv = record(base, &id).await;
    assert_eq!(csv["title"], "河西走廊长卷", "{csv}");
    assert_eq!(csv["resource_type"], "artwork", "{csv}");
    assert_eq!(
        csv["subjects"],
        serde_json::json!(["丝路", "山水", "戈壁"]),
        "{csv}"
    );
    assert_eq!(csv["creators"].as_array().map(Vec::len), Some(3), "{csv}");
    assert_eq!(csv["materials"][0], "纸本设色", "{csv}");

    // JSON API (paged): creators from an array of objects, measurements from a nested path.
    let api = record(base, "lzart-api:LZAM-W0001").await;
    assert!(api["creators"].as_array().is_some_and(|c| !c.is_empty()), "{api}");
    assert!(
        api["measurements"].as_str().is_some_and(|m| m.contains("厘米×")),
        "{api}"
    );
    assert!(
        api["source_url"]
            .as_str()
            .is_some_and(|u| u.ends_with("/works/LZAM-W0001")),
        "{api}"
    );

    // RSS: the event's start, end, venue and organiser from the description lines.
    let feed = record(base, "qlhculture-rss:qlhwhg-event-001").await;
    assert_eq!(feed["title"], "“七里河大讲堂”：黄河文化与兰州", "{feed}");
    assert_eq!(feed["resource_type"], "event", "{feed}");
    assert_eq!(feed["event"]["start"], "2025-03-08T14:30", "{feed}");
    assert_eq!(feed["event"]["end"], "2025-03-08T16:30", "{feed}");
    assert_eq!(feed["event"]["venue"], "七里河区文化馆三楼报告厅", "{feed}");
    assert_eq!(feed["event"]["organiser"], "七里河区文化馆", "{feed}");
    assert!(
        feed["event"]["registration_url"]
            .as_str()
            .is_some_and(|u| u.ends_with("/signup/001")),
        "{feed}"
    );
}

/// The cultural centres' Dublin Core events (issue 15) have their start from `dc:date` and
/// their place from `dc:coverage`, so the upcoming ones are on `/events` and in the
/// calendars, as of a fixed instant (never the machine's date).
async fn check_dublin_core_events(demo: &jincheng::demo::Demo) {
    let dc_sources = ["lzculture", "xgculture", "liancheng"];
    let changes = demo.instance.store.changes_since(0, 1_000_000).unwrap();
    let events: Vec<schemas::Record> = changes
        .into_iter()
        .filter_map(|c| c.record)
        .filter(|r| {
            r.resource_type == schemas::ResourceType::Event && dc_sources.contains(&r.institution.as_str())
        })
        .collect();
    assert!(
        events.len() >= 130,
        "{} Dublin Core events: {:?}",
        events.len(),
        events.iter().map(|r| &r.id).take(5).collect::<Vec<_>>()
    );
    let without_start: Vec<&str> = events
        .iter()
        .filter(|r| r.event.as_ref().and_then(|e| e.start.as_ref()).is_none())
        .map(|r| r.id.as_str())
        .collect();
    assert!(without_start.is_empty(), "no start: {without_start:?}");
    assert!(
        events
            .iter()
            .all(|r| r.event.as_ref().is_some_and(|e| e.venue.is_some())),
        "every demo event names its place"
    );
    assert!(
        events
            .iter()
            .any(|r| r.event.as_ref().is_some_and(|e| e.end.is_some()))
    );
    let hulu = events
        .iter()
        .find(|r| {
            r.title.starts_with("刻葫芦")
                && r.event.as_ref().and_then(|e| e.start.as_deref()) == Some("2027-02-09")
        })
        .expect("刻葫芦技艺公益培训 on 2027-02-09");
    let upcoming_at = "2026-12-01T09:00:00%2B08:00";
    let client = http::client();
    let text = |path: String| {
        let client = client.clone();
        let url = format!("{}{path}", demo.base_url);
        async move {
            let response = client.get(&url).send().await.unwrap();
            let status = response.status().as_u16();
            (status, response.text().await.unwrap())
        }
    };
    let (status, page) = text(format!("/events?at={upcoming_at}")).await;
    assert_eq!(status, 200);
    assert!(page.contains(&hulu.title), "{page}");
    assert!(page.contains("2027年2月9日"), "{page}");
    let (status, calendar) = text(format!("/calendars/institution/lzculture.ics?at={upcoming_at}")).await;
    assert_eq!(status, 200, "{calendar}");
    let upcoming = events
        .iter()
        .filter(|r| r.institution == "lzculture")
        .filter(|r| {
            let e = r.event.as_ref().unwrap();
            e.end.as_ref().or(e.start.as_ref()).unwrap().as_str() >= "2026-12-01"
        })
        .count();
    assert!(upcoming > 0);
    assert_eq!(calendar.matches("BEGIN:VEVENT").count(), upcoming, "{calendar}");
    let (status, one) = text(format!("/events/{}.ics", encode(&hulu.id))).await;
    assert_eq!(status, 200, "{one}");
    assert!(one.contains("DTSTART;VALUE=DATE:20270209\r\n"), "{one}");
}

/// 甘肃省图书馆's programme is dated relative to today, so the demo always has upcoming
/// events (on `/events` and in the library's calendar, as of now); and every citizen page of
/// the demo says that its holdings are sample data (issue 15).
async fn check_programme_and_notice(base: &str) {
    let client = http::client();
    let text = |path: &str| {
        let client = client.clone();
        let url = format!("{base}{path}");
        async move {
            let response = client.get(&url).send().await.unwrap();
            let status = response.status().as_u16();
            (status, response.text().await.unwrap())
        }
    };
    // Three and ten days ahead: upcoming whenever the test runs, even across midnight.
    let (status, events) = text("/events").await;
    assert_eq!(status, 200);
    for title in ["夜读金城：黄河诗词分享会", "古籍修复体验课"] {
        assert!(events.contains(title), "{title}: {events}");
    }
    // A morning's `10:00-11:30` is a start and an end (not a time with the offset -11:30).
    let (status, api) = text("/api/v1/events?institution=gslib").await;
    assert_eq!(status, 200, "{api}");
    let api: Value = serde_json::from_str(&api).unwrap();
    let story = api["upcoming"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["title"] == "周末绘本故事会：羊皮筏子过黄河")
        .unwrap_or_else(|| panic!("the coming Saturday's story hour: {api}"));
    assert!(story["start"].as_str().unwrap().ends_with("T10:00"), "{story}");
    assert!(story["end"].as_str().unwrap().ends_with("T11:30"), "{story}");
    let (status, calendar) = text("/calendars/institution/gslib.ics").await;
    assert_eq!(status, 200, "{calendar}");
    assert!(calendar.matches("BEGIN:VEVENT").count() >= 6, "{calendar}");

    // The notice has no character that the pages' escaper would change.
    let notice = jincheng_demo::SAMPLE_NOTICE;
    let record = format!("/records/{}", encode("ydlib-cnmarc:YD000001"));
    let search = format!("/search?q={}", encode("静夜思"));
    for path in [
        "/",
        search.as_str(),
        "/events",
        "/institutions",
        "/institutions/gslib",
        &record,
    ] {
        let (status, page) = text(path).await;
        assert_eq!(status, 200, "{path}");
        assert!(page.contains(notice), "{path} has no sample-data notice: {page}");
    }
    let (status, missing) = text("/records/no-such-record").await;
    assert_eq!(status, 404);
    assert!(missing.contains(notice), "{missing}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_demo_harvests_over_http_and_finds_the_poem_twice_over() {
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let demo = jincheng::demo::start(listener, dir.path().join("data"), async {
        let _ = stopped.await;
    })
    .await
    .unwrap();

    let added: u64 = demo.runs.iter().map(|r| r.counts.added).sum();
    assert!(added >= 500, "at least 500 sample records ({added})");
    // Sample service statistics for every institution over the last 30 days, for the
    // dashboard; marked as sample by who reported them. (31 days asked for, so the count
    // holds even if Lanzhou's midnight passed since the demo started.)
    let today = services::analytics::today();
    let from = services::analytics::format_day(today - time::Duration::days(30));
    let days = demo
        .instance
        .store
        .service_days(&from, &services::analytics::format_day(today), None)
        .unwrap();
    let institutions = demo.instance.store.institutions().unwrap().len();
    assert_eq!(
        days.len(),
        institutions * 30,
        "one sample day per institution and day"
    );
    assert!(days.iter().all(|d| d.visits.is_some_and(|v| v > 0)));
    assert!(
        demo.runs
            .iter()
            .all(|r| r.status == RunStatus::Complete && r.counts.quarantined == 0),
        "{:?}",
        demo.runs
    );
    // One source of every format, with exactly the records `demo/generate.py` wrote.
    for (source, records) in FORMAT_SOURCES {
        let run = demo.runs.iter().find(|r| r.source == *source);
        let run = run.unwrap_or_else(|| panic!("no run of {source}: {:?}", demo.runs));
        assert_eq!(
            (run.status.as_str(), run.counts.added, run.counts.quarantined),
            ("complete", *records, 0),
            "{run:?}"
        );
    }
    check_format_fields(&demo.base_url).await;

    // The JSON API's works link pictures (relative links, resolved by the harvester); the
    // background fetcher turns them into local thumbnails that the record and its hit show.
    let work = "lzart-api:LZAM-W0001";
    let mut local = None;
    for _ in 0..150 {
        let body = record(&demo.base_url, work).await;
        assert_eq!(
            body["images"][0]["url"],
            format!("{}/demo/images/LZAM-W0001.png", demo.base_url)
        );
        if let Some(thumb) = body["images"][0]["thumb_url"].as_str() {
            local = Some(thumb.to_string());
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let thumb = local.expect("a thumbnail within 30 s");
    let response = http::client()
        .get(format!("{}{thumb}", demo.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "image/jpeg");
    let found = get(
        &demo.base_url,
        &format!("/api/v1/search?q={}", encode("金城组画之一")),
    )
    .await;
    assert_eq!(found["hits"][0]["id"], work, "{found}");
    assert_eq!(
        found["hits"][0]["thumbnail"]["thumb_url"],
        thumb.as_str(),
        "{found}"
    );

    let institutions = get(&demo.base_url, "/api/v1/institutions").await;
    let types: std::collections::BTreeSet<&str> = institutions["institutions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types.into_iter().collect::<Vec<_>>(),
        ["art_gallery", "cultural_centre", "library", "museum"]
    );

    // Simplified and traditional queries both find the poem catalogued in traditional script.
    for query in ["静夜思", "靜夜思"] {
        let found = get(&demo.base_url, &format!("/api/v1/search?q={}", encode(query))).await;
        let first = &found["hits"][0];
        assert_eq!(first["title"], "靜夜思", "{query}: {found}");
        assert_eq!(first["creators"][0], "李白");
        assert_eq!(first["highlights"]["title"], "<em>靜夜思</em>");
    }
    // A line of the poem, in simplified characters, finds it through its description.
    let found = get(
        &demo.base_url,
        &format!("/api/v1/search?q={}", encode("床前明月光")),
    )
    .await;
    assert_eq!(found["hits"][0]["title"], "靜夜思", "{found}");

    // Distinct museum objects with one title are distinct hits (issue 12): each fragment of
    // 织金锦残片 is its own hit, never "holdings" of another; collapsing changes nothing there.
    let collapsed = get(
        &demo.base_url,
        &format!("/api/v1/search?q={}&page_size=100", encode("织金锦残片")),
    )
    .await;
    let every = get(
        &demo.base_url,
        &format!(
            "/api/v1/search?q={}&page_size=100&collapse=false",
            encode("织金锦残片")
        ),
    )
    .await;
    let fragments = every["hits"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["title"] == "织金锦残片")
        .count();
    assert!(fragments >= 2, "{every}");
    let fragment_hits = collapsed["hits"].as_array().unwrap();
    assert_eq!(
        fragment_hits
            .iter()
            .filter(|h| h["title"] == "织金锦残片")
            .count(),
        fragments,
        "{collapsed}"
    );
    assert!(
        fragment_hits
            .iter()
            .all(|h| h["holdings"].as_array().unwrap().len() <= 1)
    );
    // page_size=0: the total and the facets, no hits.
    let counted = get(
        &demo.base_url,
        &format!("/api/v1/search?q={}&page_size=0", encode("织金锦残片")),
    )
    .await;
    assert_eq!(counted["total"], collapsed["total"]);
    assert_eq!(counted["hits"].as_array().unwrap().len(), 0);
    assert!(
        counted["facets"]["institution"]
            .as_array()
            .is_some_and(|v| !v.is_empty())
    );
    // A copy held by 兰州市图书馆七里河分馆 counts under 七里河区 (the branch's district, from
    // the config), though the library itself is in 城关区; the branch facet lists it.
    let branch = get(
        &demo.base_url,
        &format!(
            "/api/v1/search?q=&institution=lzlib&region={}",
            encode("七里河区")
        ),
    )
    .await;
    assert!(branch["total"].as_u64().unwrap() > 0, "{branch}");
    let branches: Vec<&str> = branch["facets"]["branch"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["value"].as_str().unwrap())
        .collect();
    assert!(branches.contains(&"兰州市图书馆七里河分馆"), "{branches:?}");

    check_dublin_core_events(&demo).await;
    check_programme_and_notice(&demo.base_url).await;

    let health = get(&demo.base_url, "/healthz").await;
    assert_eq!(health["status"], "ok");
    let _ = stop.send(());
    demo.server.await.unwrap().unwrap();
    demo.instance.indexing.shutdown();
    drop(demo.instance);

    // A second start on the same data directory and address harvests incrementally:
    // nothing new.
    let listener = tokio::net::TcpListener::bind(address).await.unwrap();
    let again = jincheng::demo::start(listener, dir.path().join("data"), std::future::pending())
        .await
        .unwrap();
    for run in &again.runs {
        assert_eq!(run.status, RunStatus::Complete, "{run:?}");
        // The programme moves with the calendar: if Lanzhou's date changed between the two
        // starts, its events have new dates (updated), but none is new or gone.
        let updated = if run.source == "gslib-events" {
            0
        } else {
            run.counts.updated
        };
        assert_eq!(
            (run.counts.added, updated, run.counts.deleted),
            (0, 0, 0),
            "{run:?}"
        );
    }
    // Whole-dump sources re-read their file: every record is recognised as unchanged.
    for (source, records) in FORMAT_SOURCES {
        let run = again.runs.iter().find(|r| r.source == *source).unwrap();
        assert_eq!(run.counts.unchanged, *records, "{run:?}");
    }
    assert_eq!(again.instance.store.live_records().unwrap(), added);
}
