//! Readers' purchase suggestions (读者荐购) through the real router: submissions over the API
//! and the pages, de-duplication by ISBN and by a title in either script, the consent a
//! contact needs, contacts never shown publicly and deleted after their retention, the rate
//! limit per client, the curators' list, answers and merges (only for their own library),
//! the search and institution pages that offer the form, and the `acquisitions` report that
//! ranks unmet searches and suggestions together. API answers are checked against the
//! OpenAPI document.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/router.rs"]
mod router;

use axum::body::Body;
use axum::http::{Request, Response, header};
use jincheng::Instance;
use serde_json::{Value, json};
use services::config::Config;
use services::suggestions::{self, SuggestionInput};
use time::macros::datetime;

use router::{check_response, session};

const CONFIG: &str = r#"
[[institutions]]
id = "lib"
name = "示例市图书馆"
type = "library"
district = "城关区"

[[institutions]]
id = "yz"
name = "示例县图书馆"
type = "library"
district = "榆中县"

[[institutions]]
id = "museum"
name = "示例博物馆"
type = "museum"
district = "七里河区"
"#;

const CONTACT: &str = "reader-13800000000@example.cn";

fn instance_with(dir: &std::path::Path, extra: &str) -> Instance {
    let text = format!("data_dir = {:?}\n{extra}\n{CONFIG}", dir.display().to_string());
    Instance::open(Config::parse(&text).unwrap()).unwrap()
}

fn instance(dir: &std::path::Path) -> Instance {
    instance_with(dir, "")
}

async fn send(instance: &Instance, request: Request<Body>) -> (Response<Body>, String) {
    let (response, body) = router::send(instance, request).await;
    (response, String::from_utf8(body).unwrap())
}

async fn get(instance: &Instance, uri: &str) -> (u16, String) {
    let (response, body) = send(instance, Request::get(uri).body(Body::empty()).unwrap()).await;
    (response.status().as_u16(), body)
}

async fn post_json(instance: &Instance, uri: &str, body: Value) -> (u16, Value) {
    let request = Request::post(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let (response, body) = send(instance, request).await;
    (
        response.status().as_u16(),
        serde_json::from_str(&body).unwrap_or(Value::Null),
    )
}

async fn post_form(
    instance: &Instance,
    uri: &str,
    pairs: &[(&str, &str)],
    session: Option<&(String, String)>,
) -> (Response<Body>, String) {
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    let mut request = Request::post(uri).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some((cookie, _)) = session {
        request = request.header(header::COOKIE, cookie);
    }
    send(instance, request.body(Body::from(body)).unwrap()).await
}

async fn openapi(instance: &Instance) -> Value {
    let (_, doc) = get(instance, "/api/v1/openapi.json").await;
    serde_json::from_str(&doc).unwrap()
}

/// An API call with a session (cookie and `X-CSRF-Token`).
async fn call(
    instance: &Instance,
    method: &str,
    uri: &str,
    session: &(String, String),
    body: Option<Value>,
) -> (u16, Value) {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::COOKIE, &session.0)
        .header("X-CSRF-Token", &session.1)
        .header(header::CONTENT_TYPE, "application/json")
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
        .unwrap();
    let (response, body) = send(instance, request).await;
    (
        response.status().as_u16(),
        serde_json::from_str(&body).unwrap_or(Value::Null),
    )
}

fn error_fields(error: &Value) -> Vec<String> {
    error["error"]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| format!("{}:{}", e["field"].as_str().unwrap(), e["code"].as_str().unwrap()))
        .collect()
}

#[tokio::test]
async fn suggestions_are_deduplicated_and_their_status_is_public_without_contacts() {
    let dir = tempfile::tempdir().unwrap();
    let instance = instance(dir.path());
    let doc = openapi(&instance).await;
    let path = "/api/v1/suggestions";

    let (status, first) = post_json(
        &instance,
        path,
        json!({"library": "lib", "title": "红楼梦", "creator": "曹雪芹", "isbn": "7-101-00001-0",
               "reason": "经典", "contact": CONTACT, "consent": true}),
    )
    .await;
    assert_eq!(status, 201, "{first}");
    check_response(&doc, "post", path, 201, &first);
    assert_eq!(first["duplicate"], false);
    assert_eq!(first["suggestion"]["isbn"], "9787101000016", "stored as ISBN-13");
    let code = first["code"].as_str().unwrap().to_string();
    assert!(
        !first.to_string().contains(CONTACT),
        "the answer never carries the contact"
    );

    // Traditional script, full-width brackets and no ISBN: the same title, one more requester.
    let (status, again) = post_json(&instance, path, json!({"library": "lib", "title": "《紅樓夢》"})).await;
    assert_eq!(status, 201);
    assert_eq!(
        (again["duplicate"].as_bool(), again["code"].as_str()),
        (Some(true), Some(code.as_str()))
    );
    assert_eq!(again["suggestion"]["requesters"], 2);
    // Another title with the same ISBN: the same book.
    let (_, by_isbn) = post_json(
        &instance,
        path,
        json!({"library": "lib", "title": "石头记", "isbn": "978-7-101-00001-6"}),
    )
    .await;
    assert_eq!(by_isbn["code"], code.as_str());
    assert_eq!(by_isbn["suggestion"]["requesters"], 3);
    // Another library keeps its own.
    let (_, other) = post_json(&instance, path, json!({"library": "yz", "title": "红楼梦"})).await;
    assert_eq!(other["duplicate"], false);
    assert_ne!(other["code"], code.as_str());

    // The public status: JSON and page, never the contact.
    let status_path = format!("/api/v1/suggestions/{code}");
    let (status, public) = get(&instance, &status_path).await;
    assert_eq!(status, 200);
    let public: Value = serde_json::from_str(&public).unwrap();
    check_response(&doc, "get", "/api/v1/suggestions/{code}", 200, &public);
    assert_eq!(public["status"], "open");
    assert_eq!(public["requesters"], 3);
    assert!(!public.to_string().contains(CONTACT));
    let (status, page) = get(&instance, &format!("/suggestions/{}", code.to_lowercase())).await;
    assert_eq!(status, 200);
    assert!(page.contains("红楼梦") && page.contains("示例市图书馆") && page.contains("待处理"));
    assert!(!page.contains(CONTACT), "the status page never shows the contact");
    let (status, missing) = get(&instance, "/api/v1/suggestions/0000000000").await;
    assert_eq!(status, 404);
    let missing: Value = serde_json::from_str(&missing).unwrap();
    assert_eq!(missing["error"]["code"], "suggestion_not_found");
    check_response(&doc, "get", "/api/v1/suggestions/{code}", 404, &missing);
    assert_eq!(get(&instance, "/suggestions/nonsense").await.0, 404);

    // Refusals: a contact without consent, a museum, no title, a bad ISBN, too long a reason.
    let long = "很".repeat(suggestions::LIMITS.reason + 1);
    let (status, error) = post_json(
        &instance,
        path,
        json!({"library": "museum", "title": "《》", "isbn": "978-7-101-00001-7",
               "reason": long, "contact": CONTACT}),
    )
    .await;
    assert_eq!(status, 422, "{error}");
    check_response(&doc, "post", path, 422, &error);
    assert_eq!(
        error_fields(&error),
        [
            "title:required",
            "isbn:invalid_isbn",
            "reason:too_long",
            "consent:consent_required",
            "library:not_a_library"
        ]
    );
    let (status, error) = post_json(&instance, path, json!({"library": "lib"})).await;
    assert_eq!(
        (status, error["error"]["code"].as_str()),
        (400, Some("invalid_body"))
    );
    // Only the consented contact was kept.
    assert_eq!(instance.store.suggestion_contacts(&code).unwrap(), [CONTACT]);

    // The page form: the same rules, and a duplicate goes to the existing suggestion's page.
    let (response, body) = post_form(
        &instance,
        "/suggestions",
        &[("library", "lib"), ("title", "红楼梦"), ("contact", CONTACT)],
        None,
    )
    .await;
    assert_eq!(response.status(), 422);
    assert!(body.contains("留下联系方式须勾选同意") && body.contains("aria-invalid=\"true\""));
    let (response, _) = post_form(
        &instance,
        "/suggestions",
        &[("library", "lib"), ("title", "紅樓夢")],
        None,
    )
    .await;
    assert_eq!(response.status(), 303);
    assert_eq!(
        response.headers()[header::LOCATION].to_str().unwrap(),
        format!("/suggestions/{code}?sent=duplicate")
    );
}

#[tokio::test]
async fn suggestions_are_rate_limited_per_client() {
    let dir = tempfile::tempdir().unwrap();
    let instance = instance_with(dir.path(), "[suggestions]\nrate_per_ip = \"2/h\"\n");
    let doc = openapi(&instance).await;
    for title in ["甲", "乙"] {
        let (status, _) = post_json(
            &instance,
            "/api/v1/suggestions",
            json!({"library": "lib", "title": title}),
        )
        .await;
        assert_eq!(status, 201);
    }
    let (status, error) = post_json(
        &instance,
        "/api/v1/suggestions",
        json!({"library": "lib", "title": "丙"}),
    )
    .await;
    assert_eq!(status, 429);
    assert_eq!(error["error"]["code"], "rate_limited");
    check_response(&doc, "post", "/api/v1/suggestions", 429, &error);
    // The pages share the allowance.
    let (response, body) = post_form(
        &instance,
        "/suggestions",
        &[("library", "lib"), ("title", "丁")],
        None,
    )
    .await;
    assert_eq!(response.status(), 429);
    assert!(body.contains("提交过于频繁"));
    assert_eq!(
        instance
            .store
            .suggestions_of("lib", store::suggestions::SuggestionOrder::Newest, 10)
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn contacts_are_deleted_when_their_retention_ends() {
    let dir = tempfile::tempdir().unwrap();
    let instance = instance_with(dir.path(), "[suggestions]\ncontact_retention_days = 90\n");
    let config = instance.config.suggestions;
    let store = &instance.store;
    let at = datetime!(2026-12-07 10:00 UTC);
    let input = SuggestionInput {
        library: "lib".into(),
        title: "三体".into(),
        contact: CONTACT.into(),
        consent: true,
        ..SuggestionInput::default()
    };
    let code = suggestions::submit(store, &config, &input, at).unwrap().row.code;
    let due = at + time::Duration::days(90);
    assert_eq!(
        suggestions::sweep_contacts(store, due - time::Duration::seconds(1)).unwrap(),
        0
    );
    assert_eq!(store.suggestion_contacts(&code).unwrap(), [CONTACT]);
    assert_eq!(suggestions::sweep_contacts(store, due).unwrap(), 1);
    assert!(store.suggestion_contacts(&code).unwrap().is_empty());
    // A write after the due time deletes it too, without the sweep.
    suggestions::submit(store, &config, &input, at).unwrap();
    let other = SuggestionInput {
        title: "球状闪电".into(),
        ..SuggestionInput::default()
    };
    let other = SuggestionInput {
        library: "lib".into(),
        ..other
    };
    suggestions::submit(store, &config, &other, due).unwrap();
    assert!(store.suggestion_contacts(&code).unwrap().is_empty());
    // The suggestion itself stays.
    assert_eq!(store.suggestion(&code).unwrap().unwrap().requesters, 2);
}

#[tokio::test]
async fn curators_answer_and_merge_only_their_own_librarys_suggestions() {
    use services::auth::Role;
    let dir = tempfile::tempdir().unwrap();
    let instance = instance(dir.path());
    let doc = openapi(&instance).await;
    let city = session(&instance, "city", Role::Curator, &["lib"]).await;
    let county = session(&instance, "county", Role::Curator, &["yz"]).await;
    let admin = session(&instance, "admin", Role::Admin, &[]).await;
    let submit = |title: &'static str, library: &'static str| {
        let instance = &instance;
        async move {
            let (_, answer) = post_json(
                instance,
                "/api/v1/suggestions",
                json!({"library": library, "title": title, "contact": CONTACT, "consent": true}),
            )
            .await;
            answer["code"].as_str().unwrap().to_string()
        }
    };
    let santi = submit("三体", "lib").await;
    let santi_set = submit("三体全集", "lib").await;
    submit("三体全集", "lib").await;
    let county_code = submit("农村电商实务", "yz").await;

    // Lists: one's own library (with contacts), not another's; admins all.
    let (status, list) = call(
        &instance,
        "GET",
        "/api/v1/curate/suggestions?library=lib&order=requested",
        &city,
        None,
    )
    .await;
    assert_eq!(status, 200, "{list}");
    check_response(&doc, "get", "/api/v1/curate/suggestions", 200, &list);
    let codes: Vec<&str> = list["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        [santi_set.as_str(), santi.as_str()],
        "most requested first"
    );
    assert_eq!(list["suggestions"][0]["contacts"], json!([CONTACT, CONTACT]));
    let (status, error) = call(
        &instance,
        "GET",
        "/api/v1/curate/suggestions?library=lib",
        &county,
        None,
    )
    .await;
    assert_eq!(
        (status, error["error"]["code"].as_str()),
        (403, Some("forbidden"))
    );
    check_response(&doc, "get", "/api/v1/curate/suggestions", 403, &error);
    let (status, _) = call(
        &instance,
        "GET",
        "/api/v1/curate/suggestions?library=yz",
        &admin,
        None,
    )
    .await;
    assert_eq!(status, 200);

    // Answers: not another library's; one's own, seen publicly.
    let answer = json!({"status": "ordered", "note": "下月到馆"});
    let answer_path = "/api/v1/curate/suggestions/{code}/answer";
    let (status, error) = call(
        &instance,
        "POST",
        &format!("/api/v1/curate/suggestions/{santi}/answer"),
        &county,
        Some(answer.clone()),
    )
    .await;
    assert_eq!(status, 403);
    check_response(&doc, "post", answer_path, 403, &error);
    let (status, answered) = call(
        &instance,
        "POST",
        &format!("/api/v1/curate/suggestions/{santi}/answer"),
        &city,
        Some(answer),
    )
    .await;
    assert_eq!(status, 200, "{answered}");
    check_response(&doc, "post", answer_path, 200, &answered);
    let (_, public) = get(&instance, &format!("/suggestions/{santi}")).await;
    assert!(public.contains("已订购") && public.contains("下月到馆") && !public.contains(CONTACT));
    let (status, _) = call(
        &instance,
        "POST",
        &format!("/api/v1/curate/suggestions/{santi}/answer"),
        &city,
        Some(json!({"status": "open"})),
    )
    .await;
    assert_eq!(status, 400, "open is not an answer");

    // Merges: within one library only; requesters add up and the merged code points on.
    let merge_path = "/api/v1/curate/suggestions/{code}/merge";
    let (status, error) = call(
        &instance,
        "POST",
        &format!("/api/v1/curate/suggestions/{county_code}/merge"),
        &admin,
        Some(json!({"into": santi})),
    )
    .await;
    assert_eq!(status, 422, "{error}");
    check_response(&doc, "post", merge_path, 422, &error);
    let (status, _) = call(
        &instance,
        "POST",
        &format!("/api/v1/curate/suggestions/{santi_set}/merge"),
        &county,
        Some(json!({"into": santi})),
    )
    .await;
    assert_eq!(status, 403);
    let (status, kept) = call(
        &instance,
        "POST",
        &format!("/api/v1/curate/suggestions/{santi_set}/merge"),
        &city,
        Some(json!({"into": santi})),
    )
    .await;
    assert_eq!(status, 200, "{kept}");
    check_response(&doc, "post", merge_path, 200, &kept);
    assert_eq!(kept["requesters"], 3);
    let (_, merged) = get(&instance, &format!("/api/v1/suggestions/{santi_set}")).await;
    let merged: Value = serde_json::from_str(&merged).unwrap();
    assert_eq!(
        (merged["code"].as_str(), merged["merged_from"].as_str()),
        (Some(santi.as_str()), Some(santi_set.as_str()))
    );
    assert_eq!(
        instance.store.suggestion_contacts(&santi).unwrap().len(),
        3,
        "contacts follow the merge"
    );
    let (status, _) = call(
        &instance,
        "POST",
        &format!("/api/v1/curate/suggestions/{santi_set}/merge"),
        &city,
        Some(json!({"into": santi})),
    )
    .await;
    assert_eq!(status, 422, "not twice");

    let audit = instance.store.audit_log(None, None, 10, 0).unwrap();
    let actions: Vec<_> = audit.iter().map(|a| (a.action, a.actor.as_str())).collect();
    use store::curated::AuditAction;
    assert_eq!(
        actions,
        [
            (AuditAction::MergeSuggestions, "city"),
            (AuditAction::AnswerSuggestion, "city")
        ]
    );
    assert!(
        !audit.iter().any(|a| format!("{:?}", a.after).contains(CONTACT)),
        "audits hold no contact"
    );

    // The curator pages: own library with contacts; another's refused; CSRF required.
    let page = |uri: &str, s: &(String, String)| {
        Request::get(uri)
            .header(header::COOKIE, &s.0)
            .body(Body::empty())
            .unwrap()
    };
    let (response, body) = send(&instance, page("/curator/suggestions?library=lib", &city)).await;
    assert_eq!(response.status(), 200);
    assert!(body.contains(&santi) && body.contains(CONTACT) && !body.contains(&county_code));
    let (response, _) = send(&instance, page("/curator/suggestions?library=lib", &county)).await;
    assert_eq!(response.status(), 403);
    let action = format!("/curator/suggestions/{county_code}/answer");
    let (response, _) = post_form(&instance, &action, &[("status", "held")], Some(&county)).await;
    assert_eq!(response.status(), 403, "no CSRF token");
    let (response, _) = post_form(
        &instance,
        &action,
        &[("status", "held"), ("csrf", &city.1)],
        Some(&city),
    )
    .await;
    assert_eq!(response.status(), 403, "another library's");
    let (response, _) = post_form(
        &instance,
        &action,
        &[("status", "held"), ("note", "馆内可借"), ("csrf", &county.1)],
        Some(&county),
    )
    .await;
    assert_eq!(response.status(), 303);
    let (_, public) = get(&instance, &format!("/api/v1/suggestions/{county_code}")).await;
    let public: Value = serde_json::from_str(&public).unwrap();
    assert_eq!(
        (public["status"].as_str(), public["note"].as_str()),
        (Some("held"), Some("馆内可借"))
    );
}

#[tokio::test]
async fn library_searches_that_find_little_and_library_pages_offer_the_form() {
    let dir = tempfile::tempdir().unwrap();
    let instance = instance(dir.path());
    let (_, page) = get(&instance, "/search?q=%E4%B8%89%E4%BD%93&institution=lib").await;
    assert!(
        page.contains("/suggestions/new?library=lib&amp;title=%E4%B8%89%E4%BD%93"),
        "{page}"
    );
    let (_, page) = get(&instance, "/search?q=%E4%B8%89%E4%BD%93").await;
    assert!(
        page.contains("/suggestions/new?title="),
        "an unscoped search offers it too"
    );
    let (_, page) = get(&instance, "/search?q=%E4%B8%89%E4%BD%93&institution=museum").await;
    assert!(!page.contains("/suggestions/new"), "not on a museum search");
    let (_, page) = get(&instance, "/search?q=%E4%B8%89%E4%BD%93&institution_type=museum").await;
    assert!(!page.contains("/suggestions/new"));
    let (_, page) = get(&instance, "/institutions/yz").await;
    assert!(page.contains("/suggestions/new?library=yz"));
    let (_, page) = get(&instance, "/institutions/museum").await;
    assert!(!page.contains("/suggestions/new"));
    let (status, form) = get(&instance, "/suggestions/new?library=yz&title=%E4%B8%89%E4%BD%93").await;
    assert_eq!(status, 200);
    assert!(form.contains("<option value=\"yz\" selected>") && form.contains("value=\"三体\""));
    assert!(!form.contains("value=\"museum\""), "only libraries are offered");
}

#[tokio::test]
async fn the_acquisitions_report_ranks_unmet_searches_and_suggestions_together() {
    use services::analytics::reports::{self, Period, Range};
    use store::analytics::{Channel, Event, SearchEvent};
    let dir = tempfile::tempdir().unwrap();
    let instance = instance(dir.path());
    let store = &instance.store;
    let at = datetime!(2026-12-07 02:00 UTC);
    let search = |query: &str, institution: &str| {
        Event::Search(SearchEvent {
            at,
            query: query.into(),
            filters: vec![("institution", institution.to_string())],
            results: 0,
            took_ms: 1,
            page: 1,
            channel: Channel::Web,
            session: None,
        })
    };
    // 红楼梦: 2 unmet searches and 2 requesters (2 + 2 × 3 = 8); 李白: 4 unmet searches;
    // 三体: 1 requester only (3).
    let events = [
        search("红楼梦", "lib"),
        search("红楼梦", "lib"),
        search("李白", "lib"),
        search("李白", "lib"),
        search("李白", "lib"),
        search("李白", "lib"),
    ];
    store.insert_analytics_events(&events).unwrap();
    let config = instance.config.suggestions;
    let input = |title: &str| SuggestionInput {
        library: "lib".into(),
        title: title.into(),
        ..SuggestionInput::default()
    };
    let hongloumeng = suggestions::submit(store, &config, &input("《紅樓夢》"), at)
        .unwrap()
        .row
        .code;
    suggestions::submit(store, &config, &input("红楼梦"), at).unwrap();
    let santi = suggestions::submit(store, &config, &input("三体"), at)
        .unwrap()
        .row
        .code;
    // An answered suggestion is no longer unmet demand.
    let answered = suggestions::submit(store, &config, &input("已答复之书"), at)
        .unwrap()
        .row
        .code;
    store
        .answer_suggestion::<store::StoreError>(
            "x",
            &answered,
            store::suggestions::SuggestionStatus::Held,
            None,
            0,
            |_| Ok(()),
        )
        .unwrap();

    let day = time::macros::date!(2026 - 12 - 07);
    let range = Range {
        from: day,
        to: day,
        by: Period::Day,
    };
    let table = reports::run(store, "acquisitions", range, Default::default())
        .unwrap()
        .unwrap();
    let rows: Vec<(String, String, u64)> = table
        .objects()
        .iter()
        .map(|r| {
            (
                r["query"].as_str().unwrap().to_string(),
                r["suggestion"].as_str().unwrap().to_string(),
                r["demand"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("红楼梦".to_string(), hongloumeng, 8),
            ("李白".to_string(), String::new(), 4),
            ("三体".to_string(), santi, 3),
        ]
    );
}
