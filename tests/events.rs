//! Events people can follow (issue 15), through the real router: the filters of `/events`
//! and `GET /api/v1/events` (dates, `when`, district, institution, type, audience, free,
//! registration), "now live" and replays, 400s on bad parameters, and the single event's
//! `.ics` read by its id however old the event is. Every request names its instant with
//! `at`, so nothing depends on the clock.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::body::Body;
use axum::http::Request;
use jincheng::Instance;
use jincheng::bench::synthetic_institutions;
use schemas::{Audience, DateRange, EventInfo, Record, ResourceType};
use serde_json::Value;
use services::config::Config;
use tower::ServiceExt;

/// Friday 1 May 2099, 10:00 in Lanzhou.
const AT: &str = "at=2099-05-01T10:00:00%2B08:00";

fn instance(dir: &std::path::Path) -> Instance {
    let mut text = format!("data_dir = {:?}\n", dir.display().to_string());
    for i in synthetic_institutions() {
        text.push_str(&format!(
            "[[institutions]]\nid = {:?}\nname = {:?}\ntype = {:?}\ndistrict = {:?}\nlevel = {:?}\n",
            i.id,
            i.name,
            i.institution_type.as_str(),
            i.district.unwrap().as_str(),
            i.level.as_str()
        ));
    }
    Instance::open(Config::parse(&text).unwrap()).unwrap()
}

async fn filled(dir: &std::path::Path, records: &[Record]) -> Instance {
    let instance = instance(dir);
    instance.store.import_records(records).unwrap();
    instance
        .wait_indexed(std::time::Duration::from_secs(60))
        .await
        .unwrap();
    instance
}

async fn get(instance: &Instance, uri: &str) -> (u16, String) {
    let response = instance
        .router()
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

/// An event of `institution` (a synthetic one: `b-lzlib` is in 城关区, `b-qlhlib` in
/// 七里河区, `b-yzlib` in 榆中县).
fn event(id: &str, institution: &str, title: &str, start: &str, end: Option<&str>) -> Record {
    let mut record = Record::new(id, institution, title);
    record.resource_type = ResourceType::Event;
    record.resource_type_original = Some("讲座".into());
    let year: i32 = start[..4].parse().unwrap();
    record.date = Some(DateRange {
        display: year.to_string(),
        year_start: Some(year),
        year_end: Some(year),
    });
    record.event = Some(EventInfo {
        start: Some(start.into()),
        end: end.map(str::to_string),
        ..EventInfo::default()
    });
    record
}

fn with(mut record: Record, change: impl FnOnce(&mut Record, &mut EventInfo)) -> Record {
    let mut info = record.event.take().unwrap();
    change(&mut record, &mut info);
    record.event = Some(info);
    record
}

/// A week of events around Friday 1 May 2099.
fn week() -> Vec<Record> {
    vec![
        with(
            event(
                "ev:sat",
                "b-qlhlib",
                "周六少儿剪纸",
                "2099-05-02T14:30",
                Some("2099-05-02T16:00"),
            ),
            |_, e| {
                e.free = Some(true);
                e.audience = vec![Audience::Children];
                e.registration_url = Some("https://reg.example.cn/sat".into());
            },
        ),
        with(
            event(
                "ev:sun",
                "b-lzlib",
                "周日秦腔专场",
                "2099-05-03T19:00",
                Some("2099-05-03T21:00"),
            ),
            |r, e| {
                r.resource_type_original = Some("演出".into());
                e.free = Some(false);
            },
        ),
        with(
            event(
                "ev:live",
                "b-lzlib",
                "直播中的讲座",
                "2099-05-01T09:00",
                Some("2099-05-01T12:00"),
            ),
            |_, e| e.live_stream_url = Some("https://live.example.cn/now".into()),
        ),
        // No end: live for two hours from 09:30, so still at 10:00 ...
        with(
            event(
                "ev:live-noend",
                "b-yzlib",
                "无结束时间的直播",
                "2099-05-01T09:30",
                None,
            ),
            |_, e| e.live_stream_url = Some("https://live.example.cn/noend".into()),
        ),
        // ... but not from 07:00.
        with(
            event("ev:early", "b-yzlib", "早场直播", "2099-05-01T07:00", None),
            |_, e| e.live_stream_url = Some("https://live.example.cn/early".into()),
        ),
        with(
            event(
                "ev:wed",
                "b-lzlib",
                "周三已结束的直播",
                "2099-04-29T19:00",
                Some("2099-04-29T21:00"),
            ),
            |_, e| {
                e.live_stream_url = Some("https://live.example.cn/wed".into());
                e.replay_url = Some("https://replay.example.cn/wed".into());
            },
        ),
        event("ev:mon", "b-yzlib", "下周一的讲座", "2099-05-04T09:00", None),
    ]
}

/// The ids of the events of an API answer's list, in order.
fn ids(json: &Value, list: &str) -> Vec<String> {
    json[list]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect()
}

async fn api(instance: &Instance, query: &str) -> Value {
    let (status, body) = get(instance, &format!("/api/v1/events?{AT}&{query}")).await;
    assert_eq!(status, 200, "{query}: {body}");
    serde_json::from_str(&body).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn filters_live_and_replay_on_the_page_and_in_the_api() {
    let dir = tempfile::tempdir().unwrap();
    let instance = filled(dir.path(), &week()).await;

    // Unfiltered: upcoming from today (Friday), soonest first; Wednesday's is past.
    let all = api(&instance, "").await;
    assert_eq!(
        ids(&all, "upcoming"),
        [
            "ev:early",
            "ev:live",
            "ev:live-noend",
            "ev:sat",
            "ev:sun",
            "ev:mon"
        ]
    );
    assert_eq!(ids(&all, "past"), ["ev:wed"]);
    assert_eq!(all["at"], "2099-05-01T10:00:00+08:00");

    // Each filter, in the API.
    let cases: &[(&str, &[&str])] = &[
        ("when=this-weekend", &["ev:sat", "ev:sun"]),
        ("when=today", &["ev:early", "ev:live", "ev:live-noend"]),
        (
            "when=this-week",
            &["ev:early", "ev:live", "ev:live-noend", "ev:sat", "ev:sun"],
        ),
        ("from=2099-05-02&to=2099-05-04", &["ev:sat", "ev:sun", "ev:mon"]),
        ("from=2099-05-04", &["ev:mon"]),
        ("district=qilihe", &["ev:sat"]),
        ("district=榆中县", &["ev:early", "ev:live-noend", "ev:mon"]),
        ("institution=b-lzlib", &["ev:live", "ev:sun"]),
        ("type=演出", &["ev:sun"]),
        ("audience=children", &["ev:sat"]),
        ("free=true", &["ev:sat"]),
        ("free=false", &["ev:sun"]),
        ("registration=true", &["ev:sat"]),
        ("district=chengguan&when=this-weekend", &["ev:sun"]),
        // An empty value, as the page's form sends for "any", is no filter.
        ("district=&when=this-weekend", &["ev:sat", "ev:sun"]),
    ];
    for (query, expected) in cases {
        assert_eq!(
            ids(&api(&instance, query).await, "upcoming"),
            *expected,
            "{query}"
        );
    }
    // Wednesday is in this week, as a past event.
    assert_eq!(ids(&api(&instance, "when=this-week").await, "past"), ["ev:wed"]);
    assert!(ids(&api(&instance, "when=this-weekend").await, "past").is_empty());

    // Live at 10:00: the 09:00–12:00 stream and the 09:30 one without an end; not 07:00's.
    let live: Vec<(String, bool)> = all["upcoming"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["id"].as_str().unwrap().to_string(),
                e["live"].as_bool().unwrap(),
            )
        })
        .filter(|(_, live)| *live)
        .collect();
    assert_eq!(
        live,
        [("ev:live".to_string(), true), ("ev:live-noend".to_string(), true)]
    );
    // After it ended, the replay; the day after, the second stream is no longer live.
    assert_eq!(all["past"][0]["replay_url"], "https://replay.example.cn/wed");
    assert_eq!(all["past"][0]["live"], false);
    let (_, later) = get(
        &instance,
        "/api/v1/events?at=2099-05-01T11:45:00%2B08:00&when=today",
    )
    .await;
    let later: Value = serde_json::from_str(&later).unwrap();
    let still_live: Vec<&str> = later["upcoming"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["live"] == true)
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        still_live,
        ["ev:live"],
        "the 09:30 stream without an end is over at 11:30"
    );
    // Before it ended, no replay is offered.
    let (_, before) = get(&instance, "/api/v1/events?at=2099-04-29T20:00:00%2B08:00").await;
    let before: Value = serde_json::from_str(&before).unwrap();
    let wed = before["upcoming"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == "ev:wed")
        .unwrap();
    assert_eq!(wed["live"], true);
    assert!(wed.get("replay_url").is_none(), "{wed}");

    // The page: the filter form, and the same filters.
    let (status, page) = get(&instance, &format!("/events?{AT}")).await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("<form class=\"filters\" action=\"/events\""),
        "{page}"
    );
    assert!(page.contains("<label for=\"district\">"));
    assert!(page.contains("<option value=\"this-weekend\">本周末</option>"));
    assert!(
        page.contains("<option value=\"b-qlhlib\">七里河区图书馆</option>"),
        "{page}"
    );
    assert!(page.contains("<option value=\"演出\">演出</option>"));
    assert!(
        page.contains("name=\"at\" value=\"2099-05-01T10:00:00+08:00\""),
        "at is kept"
    );
    // Now live: marked, with its stream; the one over has its replay and no stream link.
    assert_eq!(page.matches("正在直播").count(), 2, "{page}");
    assert!(page.contains("href=\"https://live.example.cn/now\""));
    assert!(!page.contains("href=\"https://live.example.cn/wed\""));
    assert!(page.contains("href=\"https://replay.example.cn/wed\"") && page.contains("观看回放"));
    assert!(
        page.contains("主办：七里河区图书馆 · 免费 · 适合：少年儿童"),
        "{page}"
    );

    let page_cases: &[(&str, &[&str], &[&str])] = &[
        (
            "when=this-weekend",
            &["周六少儿剪纸", "周日秦腔专场"],
            &["下周一的讲座", "直播中的讲座"],
        ),
        (
            "district=qilihe",
            &["周六少儿剪纸"],
            &["周日秦腔专场", "下周一的讲座"],
        ),
        (
            "institution=b-yzlib",
            &["下周一的讲座", "早场直播"],
            &["周六少儿剪纸"],
        ),
        ("type=演出", &["周日秦腔专场"], &["周六少儿剪纸"]),
        ("audience=children", &["周六少儿剪纸"], &["周日秦腔专场"]),
        (
            "free=true&registration=true",
            &["周六少儿剪纸"],
            &["周日秦腔专场"],
        ),
        ("free=false", &["周日秦腔专场"], &["周六少儿剪纸"]),
        (
            "from=2099-05-04&to=2099-05-04",
            &["下周一的讲座"],
            &["周日秦腔专场"],
        ),
    ];
    for (query, shown, hidden) in page_cases {
        let (status, page) = get(&instance, &format!("/events?{AT}&{query}")).await;
        assert_eq!(status, 200, "{query}: {page}");
        for title in *shown {
            assert!(page.contains(title), "{query}: {title} missing");
        }
        for title in *hidden {
            assert!(!page.contains(title), "{query}: {title} shown");
        }
        assert!(page.contains("清除筛选"), "{query}");
    }
    // The chosen values stay chosen, and the calendar of the choice is offered.
    let (_, chosen) = get(
        &instance,
        &format!("/events?{AT}&district=七里河区&institution=b-qlhlib"),
    )
    .await;
    assert!(
        chosen.contains("<option value=\"七里河区\" selected>七里河区</option>"),
        "{chosen}"
    );
    assert!(
        chosen.contains("href=\"/calendars/institution/b-qlhlib.ics\""),
        "{chosen}"
    );
    assert!(chosen.contains("href=\"/calendars/district/%E4%B8%83%E9%87%8C%E6%B2%B3%E5%8C%BA.ics\""));
    let (_, none) = get(&instance, &format!("/events?{AT}&audience=elderly")).await;
    assert!(none.contains("没有符合条件的近期活动"), "{none}");
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_parameters_are_400s_naming_the_parameter() {
    let dir = tempfile::tempdir().unwrap();
    let instance = filled(dir.path(), &week()).await;
    let bad = [
        ("from=2099-13-01", "from"),
        ("to=tomorrow", "to"),
        ("from=2099-05-04&to=2099-05-01", "to"),
        ("when=someday", "when"),
        ("when=today&from=2099-05-01", "when"),
        ("district=火星区", "district"),
        ("audience=aliens", "audience"),
        ("free=maybe", "free"),
        ("registration=2", "registration"),
        ("at=yesterday", "at"),
    ];
    for (query, name) in bad {
        let (status, body) = get(&instance, &format!("/api/v1/events?{query}")).await;
        assert_eq!(status, 400, "{query}: {body}");
        let json: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(json["error"]["code"], "invalid_parameter", "{query}");
        assert!(
            json["error"]["message"].as_str().unwrap().starts_with(name),
            "{query}: {body}"
        );

        let (status, page) = get(&instance, &format!("/events?{query}")).await;
        assert_eq!(status, 400, "{query}: {page}");
        assert!(page.contains(name), "{query}: the page names {name}");
    }
    // The route is documented.
    let (_, openapi) = get(&instance, "/api/v1/openapi.json").await;
    let openapi: Value = serde_json::from_str(&openapi).unwrap();
    let route = &openapi["paths"]["/api/v1/events"]["get"];
    let names: Vec<&str> = route["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for name in [
        "from",
        "to",
        "when",
        "district",
        "institution",
        "type",
        "audience",
        "free",
        "registration",
        "at",
    ] {
        assert!(names.contains(&name), "{name} in {names:?}");
    }
    assert!(route["responses"]["400"].is_object(), "{route}");
}

/// The single event's calendar reads the record by its id: an event older than the 500
/// newest, which the events list no longer reaches, still has its `.ics`.
#[tokio::test(flavor = "multi_thread")]
async fn the_ics_of_an_old_event_is_read_by_its_id() {
    let dir = tempfile::tempdir().unwrap();
    let mut records: Vec<Record> = (0..505)
        .map(|i| {
            let day = format!("2098-{:02}-{:02}T10:00", 1 + i % 12, 1 + i % 28);
            event(
                &format!("ev:new-{i}"),
                "b-lzlib",
                &format!("新活动{i}"),
                &day,
                None,
            )
        })
        .collect();
    records.push(event(
        "ev:ancient",
        "b-qlhlib",
        "千禧年讲座",
        "1999-12-31T19:30",
        Some("1999-12-31T21:00"),
    ));
    let mut not_an_event = Record::new("book:1", "b-lzlib", "黄河志");
    not_an_event.resource_type = ResourceType::Book;
    records.push(not_an_event);
    let instance = filled(dir.path(), &records).await;

    let (status, ics) = get(&instance, "/events/ev:ancient.ics").await;
    assert_eq!(status, 200, "{ics}");
    assert!(ics.contains("SUMMARY:千禧年讲座\r\n"), "{ics}");
    // 19:30 in Lanzhou is 11:30 UTC.
    assert!(ics.contains("DTSTART:19991231T113000Z\r\n"), "{ics}");
    assert!(ics.contains("UID:ev:ancient@jincheng\r\n"));
    // The list itself holds only the 500 newest, so the old one is not found there.
    let (_, list) = get(
        &instance,
        "/api/v1/events?at=2099-01-01T00:00:00Z&institution=b-qlhlib",
    )
    .await;
    assert!(
        !list.contains("ev:ancient"),
        "the list is capped; the .ics is not"
    );

    assert_eq!(get(&instance, "/events/book:1.ics").await.0, 404, "not an event");
    assert_eq!(get(&instance, "/events/nothing.ics").await.0, 404);
}
