//! Search analytics end to end: generated traffic through the real router, every report's
//! numbers checked exactly, no personal data in the database, a 10,000-search burst with no
//! loss, and the roll-up of old raw events.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use jincheng::Instance;
use schemas::Record;
use serde_json::{Value, json};
use services::analytics::reports::{self, Period, Range};
use services::analytics::{Channel, ClickEvent, Event, SearchEvent, format_day, parse_day, today};
use services::auth::Password;
use services::auth::accounts::{NewUser, Role, create_user};
use services::auth::secret::Secret;
use services::config::Config;
use time::macros::datetime;
use tower::ServiceExt;

const ADMIN_TOKEN: &str = "jct_analytics_test_admin_token";

struct Harness {
    _dir: tempfile::TempDir,
    instance: Instance,
    router: axum::Router,
}

impl Harness {
    async fn new() -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let text = format!(
            "data_dir = {:?}\n\
             [api]\nrate_per_ip = \"1000000/min\"\nrate_per_key = \"1000000/min\"\n\
             trusted_proxies = [\"10.9.8.7\"]\n\
             [[institutions]]\nid = \"lib\"\nname = \"兰州市图书馆\"\ntype = \"library\"\ndistrict = \"城关区\"\n\
             [[institutions]]\nid = \"mus\"\nname = \"甘肃省博物馆\"\ntype = \"museum\"\ndistrict = \"城关区\"\n",
            dir.path().display().to_string()
        );
        let instance = Instance::open(Config::parse(&text).unwrap()).unwrap();
        let mut records = vec![
            Record::new("lib:1", "lib", "黄河文化"),
            Record::new("lib:2", "lib", "黄河之水"),
            Record::new("lib:3", "lib", "黄河风情"),
            Record::new("lib:4", "lib", "黄河铁桥"),
            Record::new("lib:5", "lib", "黄河故事"),
            Record::new("mus:1", "mus", "马踏飞燕"),
        ];
        records[0].creators.push("张三".into());
        instance.store.import_records(&records).unwrap();
        instance
            .wait_indexed(std::time::Duration::from_secs(60))
            .await
            .unwrap();
        let admin = create_user(
            &instance.store,
            &NewUser {
                username: "admin".into(),
                password: Password::new("correct horse battery staple 42"),
                role: Role::Admin,
                institutions: vec![],
            },
        )
        .unwrap();
        instance
            .store
            .create_token(
                &Secret::from_client(ADMIN_TOKEN).stored_hash(),
                admin.id,
                "t",
                None,
            )
            .unwrap();
        let router = instance.router();
        Harness {
            _dir: dir,
            instance,
            router,
        }
    }

    async fn send(&self, request: Request<Body>) -> (StatusCode, String) {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, String::from_utf8(body.to_vec()).unwrap())
    }

    /// Searches with `query` (URL-encoded here) and extra parameters; returns the total.
    async fn search(&self, query: &str, extra: &str, headers: &[(&str, &str)]) -> u64 {
        let q: String = form_urlencoded::byte_serialize(query.as_bytes()).collect();
        let mut request = Request::get(format!("/api/v1/search?q={q}{extra}"));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let (status, body) = self.send(request.body(Body::empty()).unwrap()).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        serde_json::from_str::<Value>(&body).unwrap()["total"]
            .as_u64()
            .unwrap()
    }

    async fn click(&self, query: &str, record_id: &str, position: u32) -> StatusCode {
        let body = json!({"query": query, "record_id": record_id, "position": position});
        let request = Request::post("/api/v1/analytics/click")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap();
        self.send(request).await.0
    }

    async fn report(&self, name: &str, params: &str) -> Vec<Value> {
        let request = Request::get(format!("/api/v1/admin/analytics/{name}?{params}"))
            .header(header::AUTHORIZATION, format!("Bearer {ADMIN_TOKEN}"))
            .body(Body::empty())
            .unwrap();
        let (status, body) = self.send(request).await;
        assert_eq!(status, StatusCode::OK, "{name}: {body}");
        serde_json::from_str::<Value>(&body).unwrap()["rows"]
            .as_array()
            .unwrap()
            .clone()
    }

    fn record_at(
        &self,
        at: time::OffsetDateTime,
        query: &str,
        results: u64,
        filters: &[(&'static str, &str)],
    ) {
        self.instance.analytics.record(Event::Search(SearchEvent {
            at,
            query: query.into(),
            filters: filters.iter().map(|(k, v)| (*k, v.to_string())).collect(),
            results,
            took_ms: 1,
            page: 1,
            channel: Channel::Api,
            session: None,
        }));
    }
}

fn today_params() -> String {
    let day = format_day(today());
    format!("from={day}&to={day}")
}

#[tokio::test(flavor = "multi_thread")]
async fn generated_traffic_gives_exact_reports() {
    let h = Harness::new().await;
    let web = [("x-jincheng-channel", "web")];
    // 黄河: 3 plain + 2 traditional, all found.
    for _ in 0..3 {
        assert_eq!(h.search("黄河", "", &web).await, 5);
    }
    for _ in 0..2 {
        assert_eq!(h.search("黃河", "", &[]).await, 5);
    }
    // 红楼梦: twice traditional and full-width-spaced, once simplified; never found.
    assert_eq!(h.search("紅樓夢", "", &[]).await, 0);
    assert_eq!(h.search(" 紅樓夢　", "", &[]).await, 0);
    assert_eq!(h.search("红楼梦", "", &web).await, 0);
    // 李白 within the library: an author it lacks.
    for _ in 0..2 {
        assert_eq!(h.search("李白", "&institution=lib", &[]).await, 0);
    }
    // An ISBN, twice, city-wide.
    for _ in 0..2 {
        assert_eq!(h.search("9787101000016", "", &[]).await, 0);
    }
    // 马踏飞燕 in Chengguan museums: one result, clicked.
    assert_eq!(
        h.search("马踏飞燕", "&region=chengguan&institution_type=museum", &[])
            .await,
        1
    );
    assert_eq!(h.click("马踏飞燕", "mus:1", 1).await, StatusCode::ACCEPTED);
    // Browsing by district (empty query): counted in volume and filters only.
    h.search("", "&region=chengguan", &[]).await;
    // Bad clicks are refused and not counted.
    assert_eq!(h.click("x", "", 1).await, StatusCode::BAD_REQUEST);
    assert_eq!(h.click("x", "lib:1", 0).await, StatusCode::BAD_REQUEST);
    h.instance.analytics.flush().await;

    let p = today_params();
    let day = format_day(today());
    assert_eq!(
        h.report("volume", &p).await,
        [json!({"day": day, "searches": 14, "zero_results": 7, "clicks": 1})]
    );
    assert_eq!(
        h.report("top_queries", &p).await,
        [
            json!({"query": "黄河", "searches": 5, "zero_results": 0, "sessions": 1, "clicks": 0}),
            json!({"query": "红楼梦", "searches": 3, "zero_results": 3, "sessions": 1, "clicks": 0}),
            json!({"query": "9787101000016", "searches": 2, "zero_results": 2, "sessions": 1, "clicks": 0}),
            json!({"query": "李白", "searches": 2, "zero_results": 2, "sessions": 1, "clicks": 0}),
            json!({"query": "马踏飞燕", "searches": 1, "zero_results": 0, "sessions": 1, "clicks": 1}),
        ]
    );
    assert_eq!(
        h.report("zero_results", &p).await,
        [
            json!({"query": "红楼梦", "zero_results": 3, "searches": 3}),
            json!({"query": "9787101000016", "zero_results": 2, "searches": 2}),
            json!({"query": "李白", "zero_results": 2, "searches": 2}),
        ]
    );
    assert_eq!(
        h.report("no_clicks", &p).await,
        [json!({"query": "黄河", "searches_with_results": 5})]
    );
    assert_eq!(
        h.report("filters", &p).await,
        [
            json!({"kind": "institution", "value": "lib", "searches": 2}),
            json!({"kind": "institution_type", "value": "museum", "searches": 1}),
            json!({"kind": "region", "value": "城关区", "searches": 2}),
        ]
    );
    assert_eq!(
        h.report("demand", &p).await,
        [
            json!({"kind": "institution_type", "value": "museum", "searches": 1}),
            json!({"kind": "region", "value": "城关区", "searches": 2}),
        ]
    );
    assert_eq!(
        h.report("acquisitions", &p).await,
        [
            json!({"institution": "all", "query": "红楼梦", "looks_like": "title", "zero_results": 3, "low_results": 0, "searches": 3, "suggestion": "", "requesters": 0, "demand": 3}),
            json!({"institution": "all", "query": "9787101000016", "looks_like": "isbn", "zero_results": 2, "low_results": 0, "searches": 2, "suggestion": "", "requesters": 0, "demand": 2}),
            json!({"institution": "lib", "query": "李白", "looks_like": "author", "zero_results": 2, "low_results": 0, "searches": 2, "suggestion": "", "requesters": 0, "demand": 2}),
        ]
    );
    assert_eq!(
        h.report("seasonal", &p).await,
        [json!({"month": &day[..7], "kind": "institution_type", "value": "museum", "searches": 1})]
    );
    assert_eq!(
        h.report("channels", &p).await,
        [
            json!({"channel": "api", "searches": 10}),
            json!({"channel": "web", "searches": 4}),
        ]
    );
    assert_eq!(
        h.report("status", &p).await,
        [json!({"accepted": 15, "written": 15, "dropped": 0, "failed": 0})]
    );

    // The same report as CSV and NDJSON.
    let csv_request = Request::get(format!("/api/v1/admin/analytics/zero_results?{p}&format=csv"))
        .header(header::AUTHORIZATION, format!("Bearer {ADMIN_TOKEN}"))
        .body(Body::empty())
        .unwrap();
    let (status, csv) = h.send(csv_request).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        csv,
        "query,zero_results,searches\r\n红楼梦,3,3\r\n9787101000016,2,2\r\n李白,2,2\r\n"
    );
    let nd_request = Request::get(format!("/api/v1/admin/analytics/no_clicks?{p}&format=ndjson"))
        .header(header::AUTHORIZATION, format!("Bearer {ADMIN_TOKEN}"))
        .body(Body::empty())
        .unwrap();
    let (_, ndjson) = h.send(nd_request).await;
    let lines: Vec<Value> = ndjson.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines, [json!({"query": "黄河", "searches_with_results": 5})]);

    // Reports and the dashboard are for admins only.
    let (status, _) = h
        .send(
            Request::get(format!("/api/v1/admin/analytics/volume?{p}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = h
        .send(Request::get("/admin/analytics").body(Body::empty()).unwrap())
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, html) = h
        .send(
            Request::get("/admin/analytics")
                .header(header::AUTHORIZATION, format!("Bearer {ADMIN_TOKEN}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<svg") && html.contains("红楼梦") && !html.contains("<script"));
    let (status, _) = h
        .send(
            Request::get("/api/v1/admin/analytics/nonsense")
                .header(header::AUTHORIZATION, format!("Bearer {ADMIN_TOKEN}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = h
        .send(
            Request::get("/api/v1/admin/analytics/volume?from=2026-02-30")
                .header(header::AUTHORIZATION, format!("Bearer {ADMIN_TOKEN}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread")]
async fn rising_queries_weekly_volume_and_the_export() {
    let h = Harness::new().await;
    // The week ending Wednesday 2026-01-28 (Lanzhou) against the four weeks before it.
    for i in 0..6 {
        h.record_at(
            datetime!(2026-01-27 02:00 UTC) + time::Duration::minutes(i),
            "敦煌",
            5,
            &[],
        );
    }
    for i in 0..8 {
        h.record_at(
            datetime!(2026-01-05 02:00 UTC) + time::Duration::days(i),
            "敦煌",
            5,
            &[],
        );
        h.record_at(
            datetime!(2026-01-05 02:00 UTC) + time::Duration::days(i),
            "兰州",
            5,
            &[],
        );
    }
    h.record_at(datetime!(2026-01-28 02:00 UTC), "兰州", 5, &[]);
    for _ in 0..3 {
        h.record_at(datetime!(2026-01-22 02:00 UTC), "新词", 0, &[]);
    }
    // Outside both windows: ignored.
    h.record_at(datetime!(2025-12-01 02:00 UTC), "新词", 0, &[]);
    h.instance.analytics.flush().await;

    assert_eq!(
        h.report("rising", "to=2026-01-28").await,
        [
            json!({"query": "敦煌", "this_week": 6, "previous_weekly_average": 2.0, "increase": 4.0}),
            json!({"query": "新词", "this_week": 3, "previous_weekly_average": 0.0, "increase": 3.0}),
        ]
    );
    // Weeks start on Monday: 2026-01-05 and 2026-01-12 are Mondays.
    assert_eq!(
        h.report("volume", "from=2026-01-05&to=2026-01-18&by=week").await,
        [
            json!({"week": "2026-01-05", "searches": 14, "zero_results": 0, "clicks": 0}),
            json!({"week": "2026-01-12", "searches": 2, "zero_results": 0, "clicks": 0}),
        ]
    );

    // The export: complete days only, queries searched at least 3 times that day.
    let export = |auth: Option<(&'static str, String)>| {
        let mut request = Request::get("/api/v1/analytics/export?since=2026-01-27");
        if let Some((name, value)) = auth {
            request = request.header(name, value);
        }
        request.body(Body::empty()).unwrap()
    };
    let (status, _) = h.send(export(None)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (_, key) = h.instance.store.create_api_key("provincial platform").unwrap();
    let (status, body) = h.send(export(Some(("x-api-key", key)))).await;
    assert_eq!(status, StatusCode::OK);
    let lines: Vec<Value> = body.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(
        lines,
        [
            json!({"day": "2026-01-27", "query": "敦煌", "searches": 6, "zero_results": 0, "low_results": 0, "clicks": 0})
        ]
    );
    let (status, admin_body) = h
        .send(export(Some(("authorization", format!("Bearer {ADMIN_TOKEN}")))))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(admin_body, body);
    let (status, _) = h
        .send(export(Some(("x-api-key", "jc_not_a_key".to_string()))))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread")]
async fn cultural_centres_see_demand_by_activity_type_and_month() {
    let h = Harness::new().await;
    let jan = datetime!(2026-01-10 02:00 UTC);
    let feb = datetime!(2026-02-14 02:00 UTC);
    // January: 书法培训 three times (twice found nothing), 少儿书法培训 once (course, family
    // and art at once), 寒假亲子 twice, and 静夜思, which names no activity.
    h.record_at(jan, "书法培训", 0, &[]);
    h.record_at(jan, "书法培训", 0, &[]);
    h.record_at(jan, "书法培训", 4, &[]);
    h.record_at(jan, "少儿书法培训", 2, &[]);
    h.record_at(jan, "寒假亲子", 3, &[]);
    h.record_at(jan + time::Duration::days(1), "寒假亲子", 3, &[]);
    h.record_at(jan, "静夜思", 1, &[]);
    h.instance.analytics.record(Event::Click(ClickEvent {
        at: jan,
        query: "书法培训".into(),
        record_id: "cc:1".into(),
        position: 1,
    }));
    // February: 兰州太平鼓演出 twice, one zero-result 剪纸.
    h.record_at(feb, "兰州太平鼓演出", 5, &[]);
    h.record_at(feb, "兰州太平鼓演出", 5, &[]);
    h.record_at(feb, "剪纸", 0, &[]);
    // Outside the range: ignored.
    h.record_at(datetime!(2025-12-31 02:00 UTC), "书法培训", 0, &[]);
    h.instance.analytics.flush().await;

    let row =
        |month: &str, activity: &str, label: &str, searches: u64, zero: u64, queries: u64, clicks: u64| {
            json!({"month": month, "activity": activity, "label": label, "searches": searches,
               "zero_results": zero, "queries": queries, "clicks": clicks})
        };
    let before = h.report("activities", "from=2026-01-01&to=2026-02-28").await;
    assert_eq!(
        before,
        [
            row("2026-01", "course", "培训课程", 4, 2, 2, 1),
            row("2026-01", "art", "书画艺术", 4, 2, 2, 1),
            row("2026-01", "family", "少儿亲子", 3, 0, 2, 0),
            row("2026-02", "performance", "演出", 2, 0, 1, 0),
            row("2026-02", "heritage", "非遗传承", 1, 1, 1, 0),
        ]
    );
    // The same numbers survive the roll-up of raw events into daily aggregates.
    let rolled = h.instance.store.roll_up_analytics("2026-03-01").unwrap();
    assert_eq!((rolled.searches, rolled.clicks), (11, 1));
    // The dashboard charts the range's demand per type, busiest first.
    let (status, html) = h
        .send(
            Request::get("/admin/analytics?from=2026-01-01&to=2026-02-28")
                .header(header::AUTHORIZATION, format!("Bearer {ADMIN_TOKEN}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let chart = &html[html.find("Demand by activity type").unwrap()..];
    let (course, family, heritage) = (
        chart.find("培训课程").unwrap(),
        chart.find("少儿亲子").unwrap(),
        chart.find("非遗传承").unwrap(),
    );
    assert!(course < family && family < heritage, "busiest first");

    // Period and accessible-format filters count as facet usage too.
    h.search("", "&period=%E5%94%90&accessible_format=braille", &[])
        .await;
    h.instance.analytics.flush().await;
    assert_eq!(
        h.report("filters", &today_params()).await,
        [
            json!({"kind": "accessible_format", "value": "braille", "searches": 1}),
            json!({"kind": "period", "value": "唐", "searches": 1}),
        ]
    );
    assert_eq!(
        h.report("activities", "from=2026-01-01&to=2026-02-28").await,
        before
    );
    assert_eq!(
        h.report("activities", "from=2026-02-01&to=2026-02-28").await[0],
        row("2026-02", "performance", "演出", 2, 0, 1, 0)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn no_personal_data_reaches_the_database() {
    let h = Harness::new().await;
    let (_, key) = h.instance.store.create_api_key("reading app").unwrap();
    const CLIENT_IP: &str = "203.0.113.77";
    const PROXY_IP: &str = "10.9.8.7";
    const AGENT: &str = "PrivacyProbe/9.9 (Linux; secret-agent-771)";
    for with_key in [false, true] {
        let mut request = Request::get("/api/v1/search?q=%E9%BB%84%E6%B2%B3")
            .header("x-forwarded-for", CLIENT_IP)
            .header(header::USER_AGENT, AGENT)
            .header(header::COOKIE, "tracking=cookie-value-5521");
        if with_key {
            request = request.header("x-api-key", key.as_str());
        }
        let mut request = request.body(Body::empty()).unwrap();
        request
            .extensions_mut()
            .insert(ConnectInfo(SocketAddr::new(PROXY_IP.parse().unwrap(), 40_000)));
        let (status, _) = h.send(request).await;
        assert_eq!(status, StatusCode::OK);
    }
    // A phone number pasted into the search box is not kept either.
    let request = Request::get("/api/v1/search?q=139%201234%205678")
        .body(Body::empty())
        .unwrap();
    assert_eq!(h.send(request).await.0, StatusCode::OK);
    let click = Request::post("/api/v1/analytics/click")
        .header(header::CONTENT_TYPE, "application/json")
        .header("x-forwarded-for", CLIENT_IP)
        .header(header::USER_AGENT, AGENT)
        .body(Body::from(
            json!({"query": "黄河", "record_id": "lib:1", "position": 1}).to_string(),
        ))
        .unwrap();
    assert_eq!(h.send(click).await.0, StatusCode::ACCEPTED);
    h.instance.analytics.flush().await;
    // Roll today's events up too, so the aggregates are scanned as well as the raw rows.
    let tomorrow = format_day(today() + time::Duration::days(1));
    let raw = h.instance.store.analytics_dump().unwrap();
    h.instance.store.roll_up_analytics(&tomorrow).unwrap();
    let rolled = h.instance.store.analytics_dump().unwrap();
    assert!(raw.iter().any(|v| v == "黄河"), "the events were stored");
    assert!(raw.iter().any(|v| v == "app") && raw.iter().any(|v| v == "api"));
    assert!(raw.iter().any(|v| v == services::analytics::REDACTED));
    let key_hash = Secret::from_client(&key).stored_hash();
    for value in raw.iter().chain(&rolled) {
        for secret in [
            CLIENT_IP,
            PROXY_IP,
            "PrivacyProbe",
            "secret-agent",
            "cookie-value",
            key.as_str(),
            key_hash.as_str(),
            &key[3..19],
            "13912345678",
            "139 1234 5678",
        ] {
            assert!(!value.contains(secret), "{value:?} contains {secret:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_burst_of_ten_thousand_searches_loses_nothing() {
    let h = Harness::new().await;
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..20 {
        let router = h.router.clone();
        tasks.spawn(async move {
            for i in 0..500 {
                let uri = format!("/api/v1/search?q=burst{}", (worker * 500 + i) % 7);
                let response = router
                    .clone()
                    .oneshot(Request::get(uri).body(Body::empty()).unwrap())
                    .await
                    .unwrap();
                assert_eq!(response.status(), StatusCode::OK);
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    h.instance.analytics.flush().await;
    let stats = h.instance.analytics.stats();
    assert_eq!(
        (stats.accepted, stats.written, stats.dropped, stats.failed),
        (10_000, 10_000, 0, 0)
    );
    let volume = h.report("volume", &today_params()).await;
    assert_eq!(volume[0]["searches"], 10_000);
    let top = h.report("top_queries", &today_params()).await;
    let total: u64 = top.iter().map(|r| r["searches"].as_u64().unwrap()).sum();
    assert_eq!((top.len(), total), (7, 10_000));

    // Straight into the handle, faster than any writer: the channel holds a burst this size.
    for i in 0..10_000 {
        h.record_at(
            datetime!(2026-01-01 02:00 UTC),
            &format!("direct{}", i % 3),
            1,
            &[],
        );
    }
    h.instance.analytics.flush().await;
    assert_eq!(h.instance.analytics.stats().dropped, 0);
    assert_eq!(
        h.report("volume", "from=2026-01-01&to=2026-01-01").await,
        [json!({"day": "2026-01-01", "searches": 10_000, "zero_results": 0, "clicks": 0})]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn old_raw_events_roll_up_into_identical_daily_aggregates() {
    let h = Harness::new().await;
    let day1 = datetime!(2025-06-01 03:00 UTC);
    let day2 = datetime!(2025-06-02 03:00 UTC);
    for (at, query, results) in [
        (day1, "敦煌", 0),
        (day1, "敦煌", 0),
        (day1, "敦煌", 2),
        (day1, "李白", 0),
        (day2, "李白", 0),
        (day2, "黄河", 9),
    ] {
        h.record_at(
            at,
            query,
            results,
            &[("region", "chengguan"), ("institution", "lib")],
        );
    }
    h.instance
        .analytics
        .record(Event::Click(services::analytics::ClickEvent {
            at: day1,
            query: "敦煌".into(),
            record_id: "lib:1".into(),
            position: 2,
        }));
    h.instance.analytics.flush().await;
    let range = Range {
        from: parse_day("2025-06-01").unwrap(),
        to: parse_day("2025-06-02").unwrap(),
        by: Period::Day,
    };
    let stats = h.instance.analytics.stats();
    let all = |store: &store::Store| {
        reports::REPORTS
            .iter()
            .filter(|name| **name != "status")
            .map(|name| reports::run(store, name, range, stats).unwrap().unwrap())
            .collect::<Vec<_>>()
    };
    let before = all(&h.instance.store);
    assert_eq!(
        before[1].objects(),
        [
            json!({"query": "敦煌", "searches": 3, "zero_results": 2, "sessions": 0, "clicks": 1}),
            json!({"query": "李白", "searches": 2, "zero_results": 2, "sessions": 0, "clicks": 0}),
            json!({"query": "黄河", "searches": 1, "zero_results": 0, "sessions": 0, "clicks": 0}),
        ]
    );

    // Roll up the first day only, then (again, idempotently) everything.
    let rolled = h.instance.store.roll_up_analytics("2025-06-02").unwrap();
    assert_eq!((rolled.searches, rolled.clicks), (4, 1));
    assert_eq!(all(&h.instance.store), before);
    let rolled = h.instance.store.roll_up_analytics("2025-06-02").unwrap();
    assert_eq!((rolled.searches, rolled.clicks), (0, 0));
    let rolled = h.instance.store.roll_up_analytics("2025-06-03").unwrap();
    assert_eq!((rolled.searches, rolled.clicks), (2, 0));
    assert_eq!(all(&h.instance.store), before);
    // Acquisition suggestions survive the roll-up with their library.
    assert_eq!(
        before[7].objects(),
        [
            json!({"institution": "lib", "query": "敦煌", "looks_like": "title", "zero_results": 2, "low_results": 1, "searches": 3, "suggestion": "", "requesters": 0, "demand": 3}),
            json!({"institution": "lib", "query": "李白", "looks_like": "author", "zero_results": 2, "low_results": 0, "searches": 2, "suggestion": "", "requesters": 0, "demand": 2}),
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn searches_on_the_web_page_count_as_web_and_carry_click_data() {
    let h = Harness::new().await;
    let (status, page) = h
        .send(
            Request::get("/search?q=%E9%BB%84%E6%B2%B3")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("data-q=\"黄河\""),
        "the result list names its query"
    );
    assert!(
        page.contains("data-rid=\"") && page.contains("data-pos=\"1\""),
        "each hit names its record and position"
    );
    let (status, _) = h
        .send(
            Request::get("/search?q=%E5%BD%A9%E9%99%B6")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    h.instance.analytics.flush().await;
    assert_eq!(
        h.report("channels", &today_params()).await,
        [json!({"channel": "web", "searches": 2})]
    );
}

/// The ids of a search's hits, best first, and the first hit's explanation.
async fn ranked(h: &Harness, query: &str) -> (Vec<String>, String) {
    let q: String = form_urlencoded::byte_serialize(query.as_bytes()).collect();
    let request = Request::get(format!("/api/v1/search?q={q}&explain=true"))
        .body(Body::empty())
        .unwrap();
    let (status, body) = h.send(request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    let hits = body["hits"].as_array().unwrap();
    let ids = hits
        .iter()
        .map(|h| h["id"].as_str().unwrap().to_string())
        .collect();
    let explanation = hits[0]["explanation"].as_str().unwrap_or_default().to_string();
    (ids, explanation)
}

#[tokio::test]
async fn the_most_clicked_of_equal_matches_comes_first() {
    let h = Harness::new().await;
    // Three records titled alike: equal matches, in id order.
    let alike: Vec<Record> = (6..=8)
        .map(|n| Record::new(format!("lib:{n}"), "lib", "河西走廊"))
        .collect();
    h.instance.store.import_records(&alike).unwrap();
    h.instance
        .wait_indexed(std::time::Duration::from_secs(60))
        .await
        .unwrap();
    let (before, _) = ranked(&h, "河西走廊").await;
    assert_eq!(before, ["lib:6", "lib:7", "lib:8"]);
    for _ in 0..30 {
        assert_eq!(h.click("河西走廊", "lib:8", 3).await, StatusCode::ACCEPTED);
    }
    h.instance.analytics.flush().await;
    assert_eq!(h.instance.refresh_popularity().unwrap(), 1);
    let (after, explanation) = ranked(&h, "河西走廊").await;
    assert_eq!(after, ["lib:8", "lib:6", "lib:7"]);
    assert!(explanation.contains("by its clicks, 3"), "{explanation}");
}
