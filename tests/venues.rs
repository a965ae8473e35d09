//! Venues and the service network through the real router: the directory's filters and
//! "open now" at a given instant, one institution with its parent and service points, the
//! mobile stops, the curators' and admins' edits (with the 403 of another institution's
//! curator), every answer checked against the OpenAPI document; and the citizen pages.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/router.rs"]
mod router;

use axum::body::Body;
use axum::http::{Request, header};
use jincheng::Instance;
use serde_json::{Value, json};
use services::config::Config;

use router::{check_response, get_json, send, session};

/// Sample venues whose answers are certain at the instants the tests ask about (2026-12-07
/// is a Monday).
const CONFIG: &str = r#"
[[institutions]]
id = "lib"
name = "示例市图书馆"
type = "library"
district = "城关区"
[institutions.venue]
kind = "main"
address = "兰州市城关区示例路 1 号"
geo = { lat = 36.06, lon = 103.83 }
phone = "0931-0000000"
website = "https://lib.example.cn"
facilities = ["blind_reading_seats", "step_free_access"]
admission = { kind = "free" }
[institutions.venue.hours]
weekly = { tue = ["09:00-12:00", "14:00-21:00"], wed = ["09:00-12:00", "14:00-21:00"], thu = ["09:00-12:00", "14:00-21:00"], fri = ["09:00-12:00", "14:00-21:00"], sat = ["09:00-21:00"], sun = ["09:00-21:00"] }
[[institutions.venue.hours.exceptions]]
date = "2026-12-31"
note = "跨年闭馆"

[[institutions]]
id = "bar"
name = "示例城市书吧"
type = "library"
district = "城关区"
level = "township"
[institutions.venue]
kind = "city_book_bar"
parent = "lib"
facilities = ["open_24_hours", "self_service_loans"]
hours = { weekly = { mon = ["00:00-24:00"], tue = ["00:00-24:00"], wed = ["00:00-24:00"], thu = ["00:00-24:00"], fri = ["00:00-24:00"], sat = ["00:00-24:00"], sun = ["00:00-24:00"] } }

[[institutions]]
id = "yz"
name = "示例县图书馆"
type = "library"
district = "榆中县"
level = "county"
[institutions.venue]
kind = "main"
hours = { weekly = { mon = ["08:30-17:30"], tue = ["08:30-17:30"], wed = ["08:30-17:30"], thu = ["08:30-17:30"], fri = ["08:30-17:30"] } }

[[institutions]]
id = "yz-hp"
name = "示例村服务点"
type = "library"
district = "榆中县"
level = "village"
[institutions.venue]
kind = "service_point"
parent = "yz"
hours = { note = "暂停开放" }

[[institutions]]
id = "museum"
name = "示例博物馆"
type = "museum"
district = "七里河区"

[[mobile_routes]]
id = "bus"
name = "示例流动图书车"
kind = "mobile_library"
institution = "yz"
[[mobile_routes.stops]]
name = "和平镇广场"
district = "榆中县"
schedule = [{ weekday = "wed", time = "10:00-11:30" }]
[[mobile_routes.stops]]
name = "西固公园"
district = "西固区"
geo = { lat = 36.09, lon = 103.62 }
schedule = [{ dates = ["2026-12-08"], time = "15:00-16:00" }]
"#;

fn instance(dir: &std::path::Path) -> Instance {
    let text = format!("data_dir = {:?}\n{CONFIG}", dir.display().to_string());
    Instance::open(Config::parse(&text).unwrap()).unwrap()
}

async fn get_page(instance: &Instance, uri: &str) -> (u16, String) {
    let (response, body) = send(instance, Request::get(uri).body(Body::empty()).unwrap()).await;
    (response.status().as_u16(), String::from_utf8(body).unwrap())
}

fn ids(list: &Value) -> Vec<String> {
    list["institutions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect()
}

async fn write(
    instance: &Instance,
    method: &str,
    uri: &str,
    session: &(String, String),
    body: Value,
) -> (u16, Value) {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::COOKIE, &session.0)
        .header("X-CSRF-Token", &session.1)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let (response, body) = send(instance, request).await;
    (
        response.status().as_u16(),
        serde_json::from_slice(&body).unwrap_or(Value::Null),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn the_directory_filters_and_open_now_at_an_instant() {
    let dir = tempfile::tempdir().unwrap();
    let instance = instance(dir.path());
    let (_, doc) = get_json(&instance, "/api/v1/openapi.json").await;
    for path in [
        "/api/v1/institutions",
        "/api/v1/institutions/{id}",
        "/api/v1/mobile-stops",
        "/api/v1/mobile-routes",
        "/api/v1/curate/institutions/{id}/venue",
        "/api/v1/admin/mobile-routes",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} is documented");
    }

    // Monday 10:00 in Lanzhou (02:00 UTC): the city library is closed on Mondays.
    let monday = "2026-12-07T02:00:00Z";
    let (status, all) = get_json(&instance, &format!("/api/v1/institutions?at={monday}")).await;
    assert_eq!(status, 200);
    check_response(&doc, "get", "/api/v1/institutions", 200, &all);
    assert_eq!(ids(&all), ["bar", "lib", "museum", "yz", "yz-hp"]);
    let (_, open) = get_json(
        &instance,
        &format!("/api/v1/institutions?open_now=true&at={monday}"),
    )
    .await;
    assert_eq!(ids(&open), ["bar", "yz"]);
    let (_, closed) = get_json(
        &instance,
        &format!("/api/v1/institutions?open_now=false&at={monday}"),
    )
    .await;
    assert_eq!(ids(&closed), ["lib", "yz-hp"], "the museum has no hours: neither");
    let lib = &closed["institutions"][0];
    assert_eq!(lib["open_now"], false);
    assert_eq!(lib["next_open"], "2026-12-08T09:00:00+08:00");
    assert_eq!(lib["venue"]["address"], "兰州市城关区示例路 1 号");
    assert!(
        closed["institutions"][1]["next_open"].is_null(),
        "a point with no hours never opens"
    );

    // Tuesday 20:30 in Lanzhou: the late opening (夜间) is on; the county library is closed.
    let tuesday_night = "2026-12-08T20:30:00%2B08:00";
    let (_, open) = get_json(
        &instance,
        &format!("/api/v1/institutions?open_now=1&at={tuesday_night}"),
    )
    .await;
    assert_eq!(ids(&open), ["bar", "lib"]);
    assert_eq!(open["institutions"][1]["late_today"], true);
    assert_eq!(open["institutions"][1]["closes_at"], "2026-12-08T21:00:00+08:00");
    assert!(
        open["institutions"][0]["closes_at"].is_null(),
        "a 24-hour venue never closes"
    );

    // The other filters, by machine value or Chinese label.
    for (query, expected) in [
        ("facility=blind_reading_seats", vec!["lib"]),
        ("facility=24%E5%B0%8F%E6%97%B6", vec!["bar"]),
        ("district=%E6%A6%86%E4%B8%AD%E5%8E%BF", vec!["yz", "yz-hp"]),
        ("kind=city_book_bar", vec!["bar"]),
        ("type=museum", vec!["museum"]),
        (
            "district=%E5%9F%8E%E5%85%B3%E5%8C%BA&open_now=true&at=2026-12-07T02:00:00Z",
            vec!["bar"],
        ),
    ] {
        let (status, list) = get_json(&instance, &format!("/api/v1/institutions?{query}")).await;
        assert_eq!(status, 200, "{query}");
        assert_eq!(ids(&list), expected, "{query}");
    }
    for bad in [
        "at=yesterday",
        "at=9999-12-31T23:59:59Z",
        "facility=pool",
        "open_now=maybe",
        "kind=castle",
    ] {
        let (status, error) = get_json(&instance, &format!("/api/v1/institutions?{bad}")).await;
        assert_eq!(status, 400, "{bad}");
        assert_eq!(error["error"]["code"], "invalid_parameter", "{bad}");
        check_response(&doc, "get", "/api/v1/institutions", 400, &error);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn one_institution_with_its_network_and_the_mobile_stops() {
    let dir = tempfile::tempdir().unwrap();
    let instance = instance(dir.path());
    let (_, doc) = get_json(&instance, "/api/v1/openapi.json").await;

    let (status, lib) = get_json(&instance, "/api/v1/institutions/lib?at=2026-12-28T02:00:00Z").await;
    assert_eq!(status, 200);
    check_response(&doc, "get", "/api/v1/institutions/{id}", 200, &lib);
    assert_eq!(lib["service_points"][0]["id"], "bar");
    assert!(lib["parent"].is_null());
    let week = lib["week"].as_array().unwrap();
    assert_eq!(week.len(), 7);
    // From Monday 2026-12-28: closed Monday, the exception on Thursday the 31st.
    assert_eq!(week[0]["date"], "2026-12-28");
    assert_eq!(week[0]["hours"], json!([]));
    assert_eq!(week[1]["hours"], json!(["09:00-12:00", "14:00-21:00"]));
    assert_eq!(week[1]["late"], true);
    assert_eq!(week[3]["hours"], json!([]));
    assert_eq!(week[3]["note"], "跨年闭馆");

    let (_, point) = get_json(&instance, "/api/v1/institutions/yz-hp").await;
    assert_eq!(point["parent"], json!({"id": "yz", "name": "示例县图书馆"}));
    let (status, missing) = get_json(&instance, "/api/v1/institutions/nope").await;
    assert_eq!(status, 404);
    check_response(&doc, "get", "/api/v1/institutions/{id}", 404, &missing);

    // Tuesday 2026-12-08 09:00 in Lanzhou: 西固's visit that afternoon, then 榆中's Wednesday.
    let (status, stops) = get_json(&instance, "/api/v1/mobile-stops?at=2026-12-08T01:00:00Z&limit=2").await;
    assert_eq!(status, 200);
    check_response(&doc, "get", "/api/v1/mobile-stops", 200, &stops);
    let names: Vec<&str> = stops["stops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["stop"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["西固公园", "和平镇广场"]);
    assert_eq!(stops["stops"][1]["starts"], "2026-12-09T10:00:00+08:00");
    let (_, yuzhong) = get_json(
        &instance,
        "/api/v1/mobile-stops?district=%E6%A6%86%E4%B8%AD%E5%8E%BF&at=2026-12-08T01:00:00Z&limit=3",
    )
    .await;
    let dates: Vec<&str> = yuzhong["stops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["starts"].as_str().unwrap())
        .collect();
    assert_eq!(
        dates,
        [
            "2026-12-09T10:00:00+08:00",
            "2026-12-16T10:00:00+08:00",
            "2026-12-23T10:00:00+08:00"
        ]
    );
    let (status, _) = get_json(&instance, "/api/v1/mobile-stops?limit=0").await;
    assert_eq!(status, 400);
    let (status, routes) = get_json(&instance, "/api/v1/mobile-routes").await;
    assert_eq!(status, 200);
    check_response(&doc, "get", "/api/v1/mobile-routes", 200, &routes);
    assert_eq!(routes["routes"][0]["stops"].as_array().unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn curators_keep_their_own_hours_and_admins_the_network() {
    use services::auth::Role;
    let dir = tempfile::tempdir().unwrap();
    let instance = instance(dir.path());
    let (_, doc) = get_json(&instance, "/api/v1/openapi.json").await;
    let county = session(&instance, "county", Role::Curator, &["yz"]).await;
    let city = session(&instance, "city", Role::Curator, &["lib"]).await;
    let admin = session(&instance, "admin", Role::Admin, &[]).await;
    let path = "/api/v1/curate/institutions/{id}/venue";
    let edit = json!({"hours": {"weekly": {"mon": ["09:00-17:00"]}}, "facilities": ["parking"]});

    // The county library's curator may not touch the city library's hours.
    let (status, error) = write(
        &instance,
        "PUT",
        "/api/v1/curate/institutions/lib/venue",
        &county,
        edit.clone(),
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(error["error"]["code"], "forbidden");
    check_response(&doc, "put", path, 403, &error);
    let (_, lib) = get_json(&instance, "/api/v1/institutions/lib").await;
    assert_eq!(
        lib["venue"]["facilities"],
        json!(["blind_reading_seats", "step_free_access"])
    );

    // Its own curator may; the address and the rest of the venue stay.
    let (status, venue) = write(
        &instance,
        "PUT",
        "/api/v1/curate/institutions/lib/venue",
        &city,
        edit,
    )
    .await;
    assert_eq!(status, 200, "{venue}");
    check_response(&doc, "put", path, 200, &venue);
    let (_, lib) = get_json(&instance, "/api/v1/institutions/lib?at=2026-12-07T02:00:00Z").await;
    assert_eq!(lib["open_now"], true, "open on Mondays now");
    assert_eq!(lib["venue"]["facilities"], json!(["parking"]));
    assert_eq!(lib["venue"]["address"], "兰州市城关区示例路 1 号");
    let audit = instance.store.audit_log(None, None, 10, 0).unwrap();
    assert_eq!(audit[0].action, store::curated::AuditAction::UpdateVenue);
    assert_eq!(audit[0].actor, "city");

    // Hours past midnight are refused with the field and a way to write them.
    let bad = json!({"hours": {"weekly": {"fri": ["20:00-02:00"]}}});
    let (status, error) = write(
        &instance,
        "PUT",
        "/api/v1/curate/institutions/lib/venue",
        &city,
        bad,
    )
    .await;
    assert_eq!(status, 422);
    check_response(&doc, "put", path, 422, &error);
    assert_eq!(error["error"]["errors"][0]["field"], "venue.hours.weekly.fri[0]");
    let (status, _) = write(
        &instance,
        "PUT",
        "/api/v1/curate/institutions/nope/venue",
        &admin,
        json!({}),
    )
    .await;
    assert_eq!(status, 404);

    // Mobile routes and the network belong to admins.
    let route = json!({
        "id": "stage", "name": "舞台车", "kind": "stage_truck", "institution": "yz",
        "stops": [{"name": "文化广场", "district": "榆中县", "schedule": [{"weekday": "sat", "time": "19:00-21:00"}]}]
    });
    let (status, _) = write(
        &instance,
        "POST",
        "/api/v1/admin/mobile-routes",
        &county,
        route.clone(),
    )
    .await;
    assert_eq!(status, 403);
    let (status, stored) = write(&instance, "POST", "/api/v1/admin/mobile-routes", &admin, route).await;
    assert_eq!(status, 201);
    check_response(&doc, "post", "/api/v1/admin/mobile-routes", 201, &stored);
    let (_, stops) = get_json(&instance, "/api/v1/mobile-stops?kind=stage_truck").await;
    assert_eq!(stops["stops"][0]["stop"], "文化广场");
    let orphan = json!({"id": "x", "name": "某服务点", "type": "library", "venue": {"parent": "nowhere"}});
    let (status, error) = write(&instance, "POST", "/api/v1/admin/institutions", &admin, orphan).await;
    assert_eq!(status, 422);
    assert_eq!(error["error"]["errors"][0]["field"], "venue.parent");
}

#[tokio::test(flavor = "multi_thread")]
async fn citizen_pages_show_hours_facilities_and_the_network() {
    let dir = tempfile::tempdir().unwrap();
    let instance = instance(dir.path());

    let (_, home) = get_page(&instance, "/").await;
    assert!(home.contains("href=\"/institutions?open_now=1\"") && home.contains("href=\"/mobile-stops\""));
    let (status, page) = get_page(&instance, "/institutions/lib").await;
    assert_eq!(status, 200);
    for text in [
        "兰州市城关区示例路 1 号",
        "0931-0000000",
        "盲人阅览坐席",
        "无障碍通道",
        "免费开放",
        "开放时间",
        "aria-current=\"date\"",
        "示例城市书吧",
        "\"openingHoursSpecification\"",
        "\"amenityFeature\"",
        "\"geo\"",
    ] {
        assert!(page.contains(text), "the institution page shows {text}");
    }
    let (_, bar) = get_page(&instance, "/institutions/bar").await;
    assert!(
        bar.contains("正在开放"),
        "a 24-hour venue is open whenever the test runs"
    );
    assert!(bar.contains("示例市图书馆"), "and names its parent");
    let (_, point) = get_page(&instance, "/institutions/yz-hp").await;
    assert!(point.contains("暂无开放时间"), "a point without hours says so");

    // The directory: the 24-hour book bar is open at any instant; a venue without hours
    // and one with none scheduled never are.
    let (status, open) = get_page(&instance, "/institutions?open_now=1").await;
    assert_eq!(status, 200);
    assert!(open.contains("示例城市书吧"));
    assert!(!open.contains("示例博物馆") && !open.contains("示例村服务点"));
    assert!(open.contains("<label"), "the filters are labelled");
    let (_, yuzhong) = get_page(&instance, "/institutions?district=%E6%A6%86%E4%B8%AD%E5%8E%BF").await;
    assert!(yuzhong.contains("示例村服务点") && !yuzhong.contains("示例城市书吧"));
    let (_, blind) = get_page(&instance, "/institutions?facility=blind_reading_seats").await;
    assert!(blind.contains("示例市图书馆") && !blind.contains("示例县图书馆"));
    let (status, _) = get_page(&instance, "/institutions?facility=pool").await;
    assert_eq!(status, 400);

    // The next mobile-library stops in a district (weekly, so there is always one ahead).
    let (status, stops) = get_page(&instance, "/mobile-stops?district=%E6%A6%86%E4%B8%AD%E5%8E%BF").await;
    assert_eq!(status, 200);
    assert!(stops.contains("和平镇广场") && stops.contains("示例流动图书车"));
    assert!(!stops.contains("西固公园"));
}

#[tokio::test(flavor = "multi_thread")]
async fn curators_keep_their_hours_on_their_pages() {
    use services::auth::Role;
    let dir = tempfile::tempdir().unwrap();
    let instance = instance(dir.path());
    let city = session(&instance, "city", Role::Curator, &["lib"]).await;
    let county = session(&instance, "county", Role::Curator, &["yz"]).await;
    let page = |who: &(String, String), uri: &str| {
        Request::get(uri)
            .header(header::COOKIE, &who.0)
            .body(Body::empty())
            .unwrap()
    };
    let post = |who: &(String, String), uri: &str, form: &str| {
        Request::post(uri)
            .header(header::COOKIE, &who.0)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(form.to_string()))
            .unwrap()
    };
    let encode = |pairs: &[(&str, &str)]| {
        let mut out = form_urlencoded::Serializer::new(String::new());
        for (k, v) in pairs {
            out.append_pair(k, v);
        }
        out.finish()
    };

    let (response, body) = send(&instance, page(&city, "/curator/venues")).await;
    assert_eq!(response.status(), 200);
    let list = String::from_utf8(body).unwrap();
    assert!(
        list.contains("/curator/institutions/lib/venue") && !list.contains("/curator/institutions/yz/venue")
    );
    let (response, body) = send(&instance, page(&city, "/curator/institutions/lib/venue")).await;
    assert_eq!(response.status(), 200);
    let form = String::from_utf8(body).unwrap();
    assert!(
        form.contains("value=\"09:00-12:00，14:00-21:00\""),
        "the week is filled in"
    );
    assert!(form.contains("<label for=\"h-mon\">周一</label>"));

    // Another institution's curator: 403, on the page and on the post.
    let (response, _) = send(&instance, page(&county, "/curator/institutions/lib/venue")).await;
    assert_eq!(response.status(), 403);
    let open_mondays = encode(&[
        ("csrf", &county.1),
        ("mon", "09:00-17:00"),
        ("facility", "parking"),
    ]);
    let (response, _) = send(
        &instance,
        post(&county, "/curator/institutions/lib/venue", &open_mondays),
    )
    .await;
    assert_eq!(response.status(), 403);
    // Without the session's CSRF token: refused.
    let forged = encode(&[("csrf", "forged"), ("mon", "09:00-17:00")]);
    let (response, _) = send(&instance, post(&city, "/curator/institutions/lib/venue", &forged)).await;
    assert_eq!(response.status(), 403);

    // Past midnight: the form again, the message beside Friday, the entry kept.
    let bad = encode(&[("csrf", &city.1), ("fri", "20:00-02:00")]);
    let (response, body) = send(&instance, post(&city, "/curator/institutions/lib/venue", &bad)).await;
    assert_eq!(response.status(), 422);
    let again = String::from_utf8(body).unwrap();
    assert!(again.contains("id=\"h-fri-error\"") && again.contains("24:00"));
    assert!(again.contains("value=\"20:00-02:00\"") && again.contains("aria-invalid=\"true\""));

    // Its own curator saves Mondays, a note and parking; seasons and exceptions stay.
    let good = encode(&[
        ("csrf", &city.1),
        ("mon", "09:00-12:00，14:00-17:00"),
        ("sat", "09:00-21:00"),
        ("note", "示例说明"),
        ("facility", "parking"),
        ("facility", "blind_reading_seats"),
    ]);
    let (response, _) = send(&instance, post(&city, "/curator/institutions/lib/venue", &good)).await;
    assert_eq!(response.status(), 303);
    let (_, lib) = get_json(&instance, "/api/v1/institutions/lib").await;
    let hours = &lib["venue"]["hours"];
    assert_eq!(hours["weekly"]["mon"], json!(["09:00-12:00", "14:00-17:00"]));
    assert!(hours["weekly"]["tue"].is_null(), "a day left empty is closed");
    assert_eq!(hours["note"], "示例说明");
    assert_eq!(hours["exceptions"][0]["date"], "2026-12-31");
    assert_eq!(
        lib["venue"]["facilities"],
        json!(["parking", "blind_reading_seats"])
    );
    let audit = instance
        .store
        .audit_log(Some(&["lib".to_string()]), None, 5, 0)
        .unwrap();
    assert_eq!(audit[0].action, store::curated::AuditAction::UpdateVenue);
}
