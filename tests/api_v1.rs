//! The app-facing API contract: the OpenAPI document matches real responses; API keys, rate
//! limits, proxies, CORS, ETags and compression behave as documented.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/router.rs"]
mod router;

use axum::body::Body;
use axum::http::{HeaderValue, Request, header};
use jincheng::Instance;
use jincheng::bench::{synthetic_institutions, synthetic_record};
use serde_json::Value;
use services::config::Config;

use router::{check_response, get_json, send, session};

fn instance(dir: &std::path::Path, api: &str) -> Instance {
    let mut text = format!("data_dir = {:?}\n{api}\n", dir.display().to_string());
    for i in synthetic_institutions() {
        text.push_str(&format!(
            "[[institutions]]\nid = {:?}\nname = {:?}\ntype = {:?}\ndistrict = {:?}\n",
            i.id,
            i.name,
            i.institution_type.as_str(),
            i.district.unwrap().as_str()
        ));
    }
    Instance::open(Config::parse(&text).unwrap()).unwrap()
}

async fn filled(dir: &std::path::Path, api: &str) -> Instance {
    let instance = instance(dir, api);
    let institutions = synthetic_institutions();
    let records: Vec<_> = (0..300).map(|i| synthetic_record(i, &institutions)).collect();
    instance.store.import_records(&records).unwrap();
    instance
        .wait_indexed(std::time::Duration::from_secs(60))
        .await
        .unwrap();
    instance
}

/// An admin's session cookie and CSRF token.
async fn admin_session(instance: &Instance) -> (String, String) {
    session(instance, "admin", services::auth::Role::Admin, &[]).await
}

/// Validates `value` against the named component schema of the OpenAPI document.
fn check(doc: &Value, schema: &str, value: &Value) {
    let root = serde_json::json!({
        "$ref": format!("#/components/schemas/{schema}"),
        "components": doc["components"],
    });
    let validator = jsonschema::validator_for(&root).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(value)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{schema}: {errors:#?}\n{value}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_openapi_document_describes_real_responses() {
    let dir = tempfile::tempdir().unwrap();
    let instance = filled(dir.path(), "").await;
    let (status, doc) = get_json(&instance, "/api/v1/openapi.json").await;
    assert_eq!(status, 200);
    assert_eq!(doc["openapi"], "3.1.0");
    for path in [
        "/api/v1/search",
        "/api/v1/suggest",
        "/api/v1/records/{id}",
        "/api/v1/institutions",
        "/api/v1/export",
        "/healthz",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} is documented");
    }

    let (_, search) = get_json(&instance, "/api/v1/search?q=%E9%BB%84%E6%B2%B3&page_size=5").await;
    assert!(search["total"].as_u64().unwrap() > 0);
    check(&doc, "SearchResponse", &search);
    let (_, browse) = get_json(&instance, "/api/v1/search?institution_type=museum").await;
    check(&doc, "SearchResponse", &browse);
    let id = search["hits"][0]["id"].as_str().unwrap();
    let (_, record) = get_json(&instance, &format!("/api/v1/records/{id}")).await;
    check(&doc, "Record", &record);
    let (_, institutions) = get_json(&instance, "/api/v1/institutions").await;
    check(&doc, "InstitutionList", &institutions);
    let (status, suggest) = get_json(&instance, "/api/v1/suggest?q=%E9%BB%84").await;
    assert_eq!(status, 200);
    assert!(
        !suggest["suggestions"].as_array().unwrap().is_empty(),
        "{suggest}"
    );
    check(&doc, "SuggestResponse", &suggest);
    let (_, health) = get_json(&instance, "/healthz").await;
    check(&doc, "Health", &health);
    let (status, error) = get_json(&instance, "/api/v1/search?page=0").await;
    assert_eq!(status, 400);
    check(&doc, "ErrorResponse", &error);

    // page_size=0: the total and the facets, no hits.
    let (status, counts) = get_json(&instance, "/api/v1/search?q=%E9%BB%84%E6%B2%B3&page_size=0").await;
    assert_eq!(status, 200, "{counts}");
    check(&doc, "SearchResponse", &counts);
    assert_eq!(counts["total"], search["total"]);
    assert_eq!(counts["page_size"], 0);
    assert!(counts["hits"].as_array().unwrap().is_empty(), "{counts}");
    assert!(
        !counts["facets"]["institution"].as_array().unwrap().is_empty(),
        "{counts}"
    );

    let (response, page) = send(&instance, Request::get("/api/docs").body(Body::empty()).unwrap()).await;
    assert_eq!(response.status(), 200);
    let page = String::from_utf8(page).unwrap();
    assert!(
        page.contains("/api/v1/openapi.json") && !page.contains("https://cdn"),
        "rendered locally"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn keys_are_required_where_configured_and_revocable() {
    let dir = tempfile::tempdir().unwrap();
    let instance = filled(dir.path(), "[api]\nkeys = \"required\"").await;
    let (status, body) = get_json(&instance, "/api/v1/search?q=x").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("api_key_required"))
    );
    let (status, _) = get_json(&instance, "/healthz").await;
    assert_eq!(status, 200, "health needs no key");

    let (id, key) = instance.store.create_api_key("省阅读App").unwrap();
    let with_key = |key: &str| {
        Request::get("/api/v1/search?q=x")
            .header("x-api-key", key)
            .body(Body::empty())
            .unwrap()
    };
    let (response, _) = send(&instance, with_key(&key)).await;
    assert_eq!(response.status(), 200);
    let (response, body) = send(&instance, with_key("jc_forged")).await;
    assert_eq!(response.status(), 401);
    assert_eq!(
        serde_json::from_slice::<Value>(&body).unwrap()["error"]["code"],
        "invalid_api_key"
    );
    instance.store.revoke_api_key(id).unwrap();
    let (response, _) = send(&instance, with_key(&key)).await;
    assert_eq!(response.status(), 401, "a revoked key stops working at once");
}

#[tokio::test(flavor = "multi_thread")]
async fn clients_are_rate_limited_by_key_or_by_trusted_address() {
    let dir = tempfile::tempdir().unwrap();
    let api = "[api]\nrate_per_ip = \"3/min\"\nrate_per_key = \"5/min\"\ntrusted_proxies = [\"0.0.0.0\"]";
    let instance = filled(dir.path(), api).await;
    // Without a socket the peer is 0.0.0.0, configured here as the trusted proxy, so the
    // client is whoever X-Forwarded-For names.
    let from = |client: &str| {
        Request::get("/api/v1/institutions")
            .header("x-forwarded-for", client)
            .body(Body::empty())
            .unwrap()
    };
    for _ in 0..3 {
        assert_eq!(send(&instance, from("203.0.113.1")).await.0.status(), 200);
    }
    let (limited, body) = send(&instance, from("203.0.113.1")).await;
    assert_eq!(limited.status(), 429);
    assert!(
        limited.headers()[header::RETRY_AFTER]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            >= 1
    );
    assert_eq!(
        serde_json::from_slice::<Value>(&body).unwrap()["error"]["code"],
        "rate_limited"
    );
    assert_eq!(
        send(&instance, from("203.0.113.2")).await.0.status(),
        200,
        "another client is not limited"
    );

    let (_, key) = instance.store.create_api_key("app").unwrap();
    let keyed = || {
        Request::get("/api/v1/institutions")
            .header("x-forwarded-for", "203.0.113.1")
            .header("x-api-key", &key)
            .body(Body::empty())
            .unwrap()
    };
    for _ in 0..5 {
        assert_eq!(
            send(&instance, keyed()).await.0.status(),
            200,
            "a key has its own, larger budget"
        );
    }
    assert_eq!(send(&instance, keyed()).await.0.status(), 429);
}

#[tokio::test(flavor = "multi_thread")]
async fn etags_compression_and_cors() {
    let dir = tempfile::tempdir().unwrap();
    let instance = filled(dir.path(), "[api]\ncors_origins = [\"https://app.example\"]").await;
    let uri = "/api/v1/search?q=%E6%95%A6%E7%85%8C&page_size=50";
    let (first, body) = send(&instance, Request::get(uri).body(Body::empty()).unwrap()).await;
    let etag = first.headers()[header::ETAG].clone();
    assert_eq!(first.headers()[header::CACHE_CONTROL], "public, max-age=60");
    let (again, empty) = send(
        &instance,
        Request::get(uri)
            .header(header::IF_NONE_MATCH, etag.clone())
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(again.status(), 304);
    assert!(empty.is_empty());

    let (gzipped, compressed) = send(
        &instance,
        Request::get(uri)
            .header(header::ACCEPT_ENCODING, "gzip")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(gzipped.headers()[header::CONTENT_ENCODING], "gzip");
    assert!(
        compressed.len() < body.len(),
        "{} < {}",
        compressed.len(),
        body.len()
    );
    let (brotli, _) = send(
        &instance,
        Request::get(uri)
            .header(header::ACCEPT_ENCODING, "br")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(brotli.headers()[header::CONTENT_ENCODING], "br");

    let cors = |origin: &str| {
        Request::get(uri)
            .header(header::ORIGIN, origin)
            .body(Body::empty())
            .unwrap()
    };
    let (allowed, _) = send(&instance, cors("https://app.example")).await;
    assert_eq!(
        allowed.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "https://app.example"
    );
    let (other, _) = send(&instance, cors("https://evil.example")).await;
    assert!(other.headers().get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn admins_reload_dictionaries_and_manage_keys_without_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let instance = instance(dir.path(), "");
    let mut record = schemas::Record::new("local:1", "b-lzlib", "兰州水车博览园");
    record.resource_type = schemas::ResourceType::Book;
    instance.store.import_records(&[record]).unwrap();
    instance
        .wait_indexed(std::time::Duration::from_secs(30))
        .await
        .unwrap();
    let total = |body: Value| body["total"].as_u64().unwrap();
    let query = "/api/v1/search?q=%E7%BF%BB%E8%BD%A6"; // 翻车, the old name of the water wheel
    assert_eq!(total(get_json(&instance, query).await.1), 0);

    std::fs::create_dir_all(dir.path().join("dictionaries")).unwrap();
    std::fs::write(
        dir.path().join("dictionaries").join("synonyms.txt"),
        "水车,翻车\n",
    )
    .unwrap();
    let (cookie, csrf) = admin_session(&instance).await;
    let reload = |auth: bool| {
        let request = Request::post("/api/v1/admin/dictionaries/reload");
        let request = if auth {
            request
                .header(header::COOKIE, &cookie)
                .header("x-csrf-token", &csrf)
        } else {
            request
        };
        request.body(Body::empty()).unwrap()
    };
    assert_eq!(
        send(&instance, reload(false)).await.0.status(),
        401,
        "only admins reload"
    );
    let (response, body) = send(&instance, reload(true)).await;
    assert_eq!(response.status(), 200, "{}", String::from_utf8_lossy(&body));
    let stats: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(stats["synonyms_from_file"], true);
    // No names.txt in the data directory: the built-in name authority.
    assert_eq!(stats["names_from_file"], false);
    assert!(stats["name_groups"].as_u64().unwrap() >= 60, "{stats}");
    assert_eq!(
        total(get_json(&instance, query).await.1),
        1,
        "the synonym works at once"
    );

    // The admin issues, lists and revokes app keys over the API too.
    let admin_request = |method: &str, uri: &str, body: Body| {
        Request::builder()
            .method(method)
            .uri(uri)
            .header(header::COOKIE, &cookie)
            .header("x-csrf-token", &csrf)
            .header(header::CONTENT_TYPE, "application/json")
            .body(body)
            .unwrap()
    };
    let (response, body) = send(
        &instance,
        admin_request(
            "POST",
            "/api/v1/admin/api-keys",
            Body::from(r#"{"name":"省阅读App"}"#),
        ),
    )
    .await;
    assert_eq!(response.status(), 201);
    let issued: Value = serde_json::from_slice(&body).unwrap();
    let key = issued["key"].as_str().unwrap().to_string();
    let search_with_key = || {
        Request::get("/api/v1/search?q=x")
            .header("x-api-key", key.as_str())
            .body(Body::empty())
            .unwrap()
    };
    assert_eq!(send(&instance, search_with_key()).await.0.status(), 200);
    let (_, body) = send(
        &instance,
        admin_request("GET", "/api/v1/admin/api-keys", Body::empty()),
    )
    .await;
    let listed: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(listed["api_keys"][0]["name"], "省阅读App");
    assert!(
        !String::from_utf8_lossy(&body).contains(&key),
        "secrets are never listed"
    );
    let uri = format!("/api/v1/admin/api-keys/{}", issued["id"]);
    assert_eq!(
        send(&instance, admin_request("DELETE", &uri, Body::empty()))
            .await
            .0
            .status(),
        204
    );
    assert_eq!(send(&instance, search_with_key()).await.0.status(), 401);
}

/// Facet values of `name` in a search response, as `(value, count)`.
fn facet_counts(response: &Value, name: &str) -> Vec<(String, u64)> {
    response["facets"][name]
        .as_array()
        .unwrap_or_else(|| panic!("no {name} facet in {response}"))
        .iter()
        .map(|v| {
            (
                v["value"].as_str().unwrap().to_string(),
                v["count"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn hit_ids(response: &Value) -> Vec<&str> {
    response["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_str().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn search_by_period_and_accessible_format_sorted_by_date() {
    use schemas::{AccessibleFormat, Curation, DateRange, Record, ResourceType};
    let dir = tempfile::tempdir().unwrap();
    let instance = instance(dir.path(), "");
    let book = |id: &str, title: &str, years: Option<(i32, i32)>, formats: &[AccessibleFormat]| {
        let mut record = Record::new(id, "b-lzlib", title);
        record.resource_type = ResourceType::Book;
        record.date = years.map(|(start, end)| DateRange {
            display: format!("{start}-{end}"),
            year_start: Some(start),
            year_end: Some(end),
        });
        record.curation = (!formats.is_empty()).then(|| Curation {
            accessible_formats: formats.to_vec(),
            ..Curation::default()
        });
        record
    };
    use AccessibleFormat::*;
    let records = [
        book("api:tang", "黄河唐诗", Some((618, 907)), &[Braille]),
        book("api:mq", "黄河碑刻", Some((1368, 1911)), &[]),
        book("api:qing", "黄河乾隆图", Some((1736, 1795)), &[LargePrint, Audio]),
        book("api:today", "黄河新志", Some((2003, 2003)), &[Braille]),
        book("api:undated", "黄河杂记", None, &[SignLanguage]),
    ];
    instance.store.import_records(&records).unwrap();
    instance
        .wait_indexed(std::time::Duration::from_secs(60))
        .await
        .unwrap();
    let (_, doc) = get_json(&instance, "/api/v1/openapi.json").await;
    let documented: Vec<&str> = doc["paths"]["/api/v1/search"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for name in ["period", "accessible_format", "sort"] {
        assert!(documented.contains(&name), "{name} is documented");
    }

    // 黄河 = %E9%BB%84%E6%B2%B3
    let (status, all) = get_json(&instance, "/api/v1/search?q=%E9%BB%84%E6%B2%B3").await;
    assert_eq!(status, 200, "{all}");
    check(&doc, "SearchResponse", &all);
    assert_eq!(all["total"], 5);
    let pairs = |list: &[(&str, u64)]| -> Vec<(String, u64)> {
        list.iter().map(|(v, c)| (v.to_string(), *c)).collect()
    };
    assert_eq!(
        facet_counts(&all, "period"),
        pairs(&[("唐", 1), ("明", 1), ("清", 2), ("现代", 1)])
    );
    assert_eq!(
        facet_counts(&all, "accessible_format"),
        pairs(&[
            ("braille", 2),
            ("audio", 1),
            ("large_print", 1),
            ("sign_language", 1)
        ])
    );

    // Filtered by period (清 = %E6%B8%85), the period facet still counts every period.
    let (_, qing) = get_json(&instance, "/api/v1/search?period=%E6%B8%85&sort=date_asc").await;
    check(&doc, "SearchResponse", &qing);
    assert_eq!(qing["total"], 2);
    assert_eq!(hit_ids(&qing), ["api:mq", "api:qing"]);
    assert_eq!(facet_counts(&qing, "period").len(), 4);
    assert_eq!(
        facet_counts(&qing, "accessible_format"),
        pairs(&[("audio", 1), ("large_print", 1)])
    );
    // Formats are OR within, AND with the period.
    let (_, formats) = get_json(
        &instance,
        "/api/v1/search?accessible_format=braille&accessible_format=audio",
    )
    .await;
    assert_eq!(formats["total"], 3);
    let (_, both) = get_json(
        &instance,
        "/api/v1/search?accessible_format=braille&period=%E6%B8%85",
    )
    .await;
    assert_eq!(both["total"], 0);
    assert_eq!(facet_counts(&both, "period"), pairs(&[("唐", 1), ("现代", 1)]));

    // Date orders; the undated record comes last both ways.
    let (_, newest) = get_json(&instance, "/api/v1/search?q=%E9%BB%84%E6%B2%B3&sort=date_desc").await;
    check(&doc, "SearchResponse", &newest);
    assert_eq!(
        hit_ids(&newest),
        ["api:today", "api:qing", "api:mq", "api:tang", "api:undated"]
    );
    let (_, oldest) = get_json(&instance, "/api/v1/search?sort=date_asc&page_size=2&page=2").await;
    assert_eq!(hit_ids(&oldest), ["api:qing", "api:today"]);
    let (_, relevance) = get_json(&instance, "/api/v1/search?sort=relevance").await;
    assert_eq!(relevance["total"], 5);

    for bad in ["sort=newest", "sort=DATE_ASC", "accessible_format=smell"] {
        let (status, error) = get_json(&instance, &format!("/api/v1/search?{bad}")).await;
        assert_eq!(status, 400, "{bad}");
        assert_eq!(error["error"]["code"], "invalid_parameter", "{bad}: {error}");
        check(&doc, "ErrorResponse", &error);
    }
}

/// Bodies and URLs over the limits are refused in the documented error shape, whichever
/// layer refuses them.
#[tokio::test(flavor = "multi_thread")]
async fn too_large_bodies_and_too_long_urls_get_json_errors() {
    let dir = tempfile::tempdir().unwrap();
    let instance = instance(dir.path(), "");
    let big = vec![b' '; 2 << 20];
    let request = Request::post("/api/v1/auth/login")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CONTENT_LENGTH, big.len())
        .body(Body::from(big))
        .unwrap();
    let (response, body) = send(&instance, request).await;
    assert_eq!(response.status(), 413);
    assert!(
        response.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["error"]["code"], "payload_too_large", "{body}");

    let long = format!("/api/v1/search?q={}", "a".repeat(20_000));
    let (status, body) = get_json(&instance, &long).await;
    assert_eq!(status, 414, "{body}");
    assert_eq!(body["error"]["code"], "uri_too_long", "{body}");
    let (status, body) = get_json(&instance, &format!("/search?q={}", "a".repeat(20_000))).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (414, &Value::from("uri_too_long"))
    );

    // A method the route does not serve: the router's bodyless 405, in the API's shape,
    // still saying which methods it does serve.
    let request = Request::delete("/api/v1/search").body(Body::empty()).unwrap();
    let (response, body) = send(&instance, request).await;
    assert_eq!(response.status(), 405);
    assert!(response.headers().contains_key(header::ALLOW));
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["error"]["code"], "method_not_allowed", "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn account_curation_and_admin_responses_match_the_document() {
    let dir = tempfile::tempdir().unwrap();
    let instance = filled(dir.path(), "").await;
    let (_, doc) = get_json(&instance, "/api/v1/openapi.json").await;
    let (cookie, csrf) = admin_session(&instance).await;
    let call = |method: &str, uri: &str, body: Option<Value>| {
        let request = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::COOKIE, &cookie)
            .header("x-csrf-token", &csrf);
        match body {
            Some(body) => request
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string()))
                .unwrap(),
            None => request.body(Body::empty()).unwrap(),
        }
    };
    let calls: Vec<(&str, &str, &str, Option<Value>, u16)> = vec![
        ("get", "/api/v1/auth/me", "/api/v1/auth/me", None, 200),
        (
            "post",
            "/api/v1/auth/tokens",
            "/api/v1/auth/tokens",
            Some(serde_json::json!({"name": "nightly", "expires_in_days": 30})),
            201,
        ),
        ("get", "/api/v1/auth/tokens", "/api/v1/auth/tokens", None, 200),
        ("get", "/api/v1/admin/users", "/api/v1/admin/users", None, 200),
        (
            "post",
            "/api/v1/admin/users",
            "/api/v1/admin/users",
            Some(
                serde_json::json!({"username": "curator", "password": "another long passphrase",
                "role": "curator", "institutions": ["b-lzlib"]}),
            ),
            201,
        ),
        (
            "post",
            "/api/v1/admin/users",
            "/api/v1/admin/users",
            Some(
                serde_json::json!({"username": "curator", "password": "another long passphrase",
                "role": "curator", "institutions": ["b-lzlib"]}),
            ),
            409,
        ),
        (
            "get",
            "/api/v1/admin/runs?limit=5",
            "/api/v1/admin/runs",
            None,
            200,
        ),
        (
            "get",
            "/api/v1/admin/quarantine",
            "/api/v1/admin/quarantine",
            None,
            200,
        ),
        (
            "get",
            "/api/v1/admin/images?state=failed",
            "/api/v1/admin/images",
            None,
            200,
        ),
        (
            "get",
            "/api/v1/admin/images?state=lost",
            "/api/v1/admin/images",
            None,
            400,
        ),
        (
            "get",
            "/api/v1/admin/runs?limit=501",
            "/api/v1/admin/runs",
            None,
            400,
        ),
        (
            "post",
            "/api/v1/admin/api-keys",
            "/api/v1/admin/api-keys",
            Some(serde_json::json!({"name": "app"})),
            201,
        ),
        (
            "get",
            "/api/v1/admin/api-keys",
            "/api/v1/admin/api-keys",
            None,
            200,
        ),
        (
            "post",
            "/api/v1/admin/dictionaries/reload",
            "/api/v1/admin/dictionaries/reload",
            None,
            200,
        ),
        (
            "post",
            "/api/v1/curate/records",
            "/api/v1/curate/records",
            Some(
                serde_json::json!({"institution": "b-lzlib", "title": "兰州手抄本", "resource_type": "manuscript"}),
            ),
            201,
        ),
        (
            "post",
            "/api/v1/curate/records",
            "/api/v1/curate/records",
            Some(serde_json::json!({"institution": "b-lzlib", "title": ""})),
            422,
        ),
        (
            "get",
            "/api/v1/curate/records?status=all&page_size=5",
            "/api/v1/curate/records",
            None,
            200,
        ),
        (
            "get",
            "/api/v1/curate/records?page_size=0",
            "/api/v1/curate/records",
            None,
            400,
        ),
        (
            "get",
            "/api/v1/admin/audit?limit=3",
            "/api/v1/admin/audit",
            None,
            200,
        ),
        (
            "get",
            "/api/v1/admin/analytics/volume?format=json",
            "/api/v1/admin/analytics/{report}",
            None,
            200,
        ),
        (
            "get",
            "/api/v1/admin/analytics/volume?by=month",
            "/api/v1/admin/analytics/{report}",
            None,
            400,
        ),
    ];
    for (method, uri, path, body, expected) in calls {
        let (response, bytes) = send(&instance, call(&method.to_uppercase(), uri, body)).await;
        let value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        assert_eq!(response.status().as_u16(), expected, "{method} {uri}: {value}");
        check_response(&doc, method, path, expected, &value);
    }
}

/// A stand-in for each kind of path parameter.
fn concrete(path: &str, record_id: &str) -> String {
    // An institution's routes take an institution id (one of the synthetic institutions).
    let id = if path.contains("/institutions/{id}") {
        "b-lzlib"
    } else {
        record_id
    };
    path.replace("{id}", id)
        .replace("{report}", "volume")
        .replace("{username}", "nobody")
        .replace("{hash}", &"0".repeat(64))
        .replace("{file}", "thumb.jpg")
}

/// Parameters a route needs to answer 200 (the rest need none).
fn sample_query(path: &str) -> &'static str {
    match path {
        "/api/v1/suggest" => "?q=%E9%BB%84",
        _ => "",
    }
}

/// Every (method, path, operation) of the document.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut all = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            all.push((method.clone(), path.clone(), op.clone()));
        }
    }
    all
}

#[tokio::test(flavor = "multi_thread")]
async fn every_documented_route_is_served_with_its_documented_layers() {
    // Rate limits: one request per client an hour; the client is X-Forwarded-For.
    let dir = tempfile::tempdir().unwrap();
    let api = "[api]\nrate_per_ip = \"1/h\"\ntrusted_proxies = [\"0.0.0.0\"]";
    let instance = instance(dir.path(), api);
    let doc = serde_json::to_value(jincheng::api::document()).unwrap();
    let operations = operations(&doc);
    assert!(operations.len() >= 40, "{}", operations.len());
    for (n, (method, path, op)) in operations.iter().enumerate() {
        let uri = format!("{}{}", concrete(path, "nope"), sample_query(path));
        let client = format!("198.51.100.{}", n + 1);
        let request = || {
            Request::builder()
                .method(method.to_uppercase().as_str())
                .uri(&uri)
                .header("x-forwarded-for", &client)
                .body(Body::empty())
                .unwrap()
        };
        let (first, body) = send(&instance, request()).await;
        let status = first.status().as_u16();
        assert_ne!(status, 405, "{method} {path} is not served");
        assert!(
            op["responses"][status.to_string()].is_object(),
            "{method} {path} answered an undocumented {status}: {}",
            String::from_utf8_lossy(&body)
        );
        if status >= 400 {
            check_response(
                &doc,
                method,
                path,
                status,
                &serde_json::from_slice(&body).unwrap(),
            );
        }
        let (second, body) = send(&instance, request()).await;
        if op["responses"]["429"].is_object() {
            assert_eq!(second.status(), 429, "{method} {path} is rate limited");
            assert!(
                second.headers()[header::RETRY_AFTER]
                    .to_str()
                    .unwrap()
                    .parse::<u64>()
                    .unwrap()
                    >= 1
            );
            let error: Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(error["error"]["code"], "rate_limited");
        } else {
            assert_ne!(second.status(), 429, "{method} {path} is not rate limited");
            assert!(op["x-guard"].is_null(), "{method} {path}");
        }
    }

    // API keys: required on the public reads only.
    let dir = tempfile::tempdir().unwrap();
    let instance = filled(dir.path(), "[api]\nkeys = \"required\"").await;
    let (_, search) = get_json(&instance, "/api/v1/search?page_size=1").await;
    assert_eq!(search["error"]["code"], "api_key_required");
    let (_, key) = instance.store.create_api_key("app").unwrap();
    let record_id = {
        let request = Request::get("/api/v1/search?page_size=1")
            .header("x-api-key", &key)
            .body(Body::empty())
            .unwrap();
        let (_, body) = send(&instance, request).await;
        serde_json::from_slice::<Value>(&body).unwrap()["hits"][0]["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let mut public_reads = 0;
    for (method, path, op) in &operations {
        let uri = format!("{}{}", concrete(path, &record_id), sample_query(path));
        let request = Request::builder()
            .method(method.to_uppercase().as_str())
            .uri(&uri)
            .body(Body::empty())
            .unwrap();
        let (response, body) = send(&instance, request).await;
        let code = serde_json::from_slice::<Value>(&body).unwrap_or(Value::Null)["error"]["code"].clone();
        if op["x-guard"] == "public-read" {
            public_reads += 1;
            assert_eq!(response.status(), 401, "{method} {path}");
            assert_eq!(code, "api_key_required", "{method} {path}");
        } else {
            assert_ne!(code, "api_key_required", "{method} {path} needs no key");
        }
    }
    assert!(public_reads >= 6, "{public_reads}");

    // ETags: on exactly the routes documented with them, revalidated with 304.
    let mut tagged = 0;
    for (method, path, op) in operations.iter().filter(|(m, _, _)| m == "get") {
        let uri = format!("{}{}", concrete(path, &record_id), sample_query(path));
        let get = |etag: Option<&HeaderValue>| {
            let mut request = Request::get(&uri).header("x-api-key", &key);
            if let Some(etag) = etag {
                request = request.header(header::IF_NONE_MATCH, etag);
            }
            request.body(Body::empty()).unwrap()
        };
        let (first, _) = send(&instance, get(None)).await;
        if op["x-etag"].is_string() {
            tagged += 1;
            assert_eq!(first.status(), 200, "{method} {path}");
            let etag = first
                .headers()
                .get(header::ETAG)
                .unwrap_or_else(|| panic!("{path} has no ETag"));
            assert_eq!(
                first.headers()[header::CACHE_CONTROL],
                "public, max-age=60",
                "{path}"
            );
            let (again, body) = send(&instance, get(Some(etag))).await;
            assert_eq!(again.status(), 304, "{path}");
            assert!(body.is_empty());
            assert!(op["responses"]["304"].is_object(), "{path}");
        } else if path.starts_with("/api/v1/") {
            assert!(first.headers().get(header::ETAG).is_none(), "{path} is tagged");
        }
    }
    assert!(tagged >= 5, "{tagged}");
}

/// The pages and `/oai` have a per-client rate of their own (issue 18): a client over it is
/// refused before any page is built or any password hashed, and the API's budget is apart.
#[tokio::test(flavor = "multi_thread")]
async fn pages_and_the_oai_provider_are_rate_limited_per_client() {
    let dir = tempfile::tempdir().unwrap();
    let instance = instance(dir.path(), "[api]\nrate_per_ip_pages = \"3/h\"");
    for uri in ["/search?q=x", "/oai?verb=Identify", "/records/none"] {
        let (response, _) = send(&instance, Request::get(uri).body(Body::empty()).unwrap()).await;
        assert_ne!(response.status(), 429, "{uri}");
    }
    let login = Request::post("/curator/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from("username=a&password=b"))
        .unwrap();
    let (response, body) = send(&instance, login).await;
    assert_eq!(response.status(), 429, "{}", String::from_utf8_lossy(&body));
    assert!(
        response.headers()[header::RETRY_AFTER]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            >= 1
    );
    let error: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(error["error"]["code"], "rate_limited");
    // The API's budget is counted apart.
    let (status, _) = get_json(&instance, "/api/v1/search?q=x").await;
    assert_eq!(status, 200);
}
