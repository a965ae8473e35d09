//! Service statistics in (issue #15): a curator's CSV upload on the page (UTF-8 and GBK,
//! per-row errors, re-upload replacing figures, other institutions refused, CSRF), the API
//! with an institution's key (CSV and JSON, 401 without a key, 403 with another's), the
//! daily aggregates per institution and district, the provincial export and the dashboard.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use jincheng::Instance;
use serde_json::{Value, json};
use services::analytics::{format_day, today};
use services::auth::Password;
use services::auth::accounts::{NewUser, Role, create_user};
use services::auth::secret::Secret;
use services::config::Config;
use store::ServiceDay;
use tower::ServiceExt;

const ADMIN_TOKEN: &str = "jct_statistics_test_admin_token";
const CURATOR_TOKEN: &str = "jct_statistics_test_curator_token";
const PASSWORD: &str = "a long enough password";

struct Harness {
    _dir: tempfile::TempDir,
    instance: Instance,
    router: axum::Router,
}

/// A response: status, body, and the `Set-Cookie` pairs.
struct Answer {
    status: StatusCode,
    body: String,
    cookies: Vec<String>,
}

impl Harness {
    async fn new() -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let text = format!(
            "data_dir = {:?}\n\
             [api]\nrate_per_ip = \"1000000/min\"\nrate_per_key = \"1000000/min\"\nrate_per_ip_pages = \"1000000/min\"\n\
             [[institutions]]\nid = \"lib\"\nname = \"兰州市图书馆\"\ntype = \"library\"\ndistrict = \"城关区\"\n\
             [[institutions]]\nid = \"mus\"\nname = \"兰州市博物馆\"\ntype = \"museum\"\ndistrict = \"城关区\"\n\
             [[institutions]]\nid = \"xg\"\nname = \"西固区图书馆\"\ntype = \"library\"\ndistrict = \"西固区\"\n",
            dir.path().display().to_string()
        );
        let instance = Instance::open(Config::parse(&text).unwrap()).unwrap();
        for (username, role, institutions, token) in [
            ("admin", Role::Admin, vec![], ADMIN_TOKEN),
            ("cur-lib", Role::Curator, vec!["lib".to_string()], CURATOR_TOKEN),
        ] {
            let user = create_user(
                &instance.store,
                &NewUser {
                    username: username.into(),
                    password: Password::new(PASSWORD),
                    role,
                    institutions,
                },
            )
            .unwrap();
            instance
                .store
                .create_token(&Secret::from_client(token).stored_hash(), user.id, "t", None)
                .unwrap();
        }
        let router = instance.router();
        Harness {
            _dir: dir,
            instance,
            router,
        }
    }

    async fn send(&self, request: Request<Body>) -> Answer {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let cookies = response
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
            .collect();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        Answer {
            status,
            body: String::from_utf8_lossy(&body).into_owned(),
            cookies,
        }
    }

    /// Logs `cur-lib` in on the curator page; returns the cookie header and the CSRF token.
    async fn login(&self) -> (String, String) {
        let body = format!(
            "username=cur-lib&password={}&next=%2Fcurator",
            PASSWORD.replace(' ', "+")
        );
        let answer = self
            .send(
                Request::post("/curator/login")
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(Body::from(body))
                    .unwrap(),
            )
            .await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
        let csrf = answer
            .cookies
            .iter()
            .find_map(|c| c.strip_prefix("jincheng_csrf="))
            .expect("a CSRF cookie")
            .to_string();
        (answer.cookies.join("; "), csrf)
    }

    /// Posts the upload form: `csrf`, `institution`, then the file.
    async fn upload(&self, cookie: &str, csrf: &str, institution: &str, file: &[u8]) -> Answer {
        const BOUNDARY: &str = "statistics-test-boundary";
        let mut body = Vec::new();
        for (name, value) in [("csrf", csrf), ("institution", institution)] {
            body.extend_from_slice(
                format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                    .as_bytes(),
            );
        }
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"stats.csv\"\r\n\
                 Content-Type: text/csv\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(file);
        body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
        self.send(
            Request::post("/curator/statistics")
                .header(header::COOKIE, cookie)
                .header(
                    header::CONTENT_TYPE,
                    format!("multipart/form-data; boundary={BOUNDARY}"),
                )
                .body(Body::from(body))
                .unwrap(),
        )
        .await
    }

    /// `POST /api/v1/statistics{query}` with `auth` (a header) and a body of `media`.
    async fn report(&self, query: &str, auth: Option<(&str, &str)>, media: &str, body: &str) -> Answer {
        let mut request =
            Request::post(format!("/api/v1/statistics{query}")).header(header::CONTENT_TYPE, media);
        if let Some((name, value)) = auth {
            request = request.header(name, value);
        }
        self.send(request.body(Body::from(body.to_string())).unwrap())
            .await
    }

    async fn get(&self, path: &str, auth: Option<(&str, &str)>) -> Answer {
        let mut request = Request::get(path);
        if let Some((name, value)) = auth {
            request = request.header(name, value);
        }
        self.send(request.body(Body::empty()).unwrap()).await
    }

    fn days(&self, institution: &str) -> Vec<ServiceDay> {
        self.instance
            .store
            .service_days("2000-01-01", "2999-12-31", Some(&[institution.to_string()]))
            .unwrap()
    }
}

/// The day `n` days before today (Lanzhou).
fn ago(n: i64) -> String {
    format_day(today() - time::Duration::days(n))
}

fn bearer(token: &str) -> (&'static str, String) {
    ("authorization", format!("Bearer {token}"))
}

#[tokio::test]
async fn a_curator_uploads_csv_rows_are_checked_one_by_one_and_a_reupload_replaces() {
    let h = Harness::new().await;
    let (cookie, csrf) = h.login().await;
    let form = h.get("/curator/statistics", Some(("cookie", &cookie))).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(
        form.body.contains("type=\"file\"") && form.body.contains(&csrf),
        "{}",
        form.body
    );
    assert!(form.body.contains("兰州市图书馆") && !form.body.contains("兰州市博物馆"));

    let (d3, d2, future) = (ago(3), ago(2), format_day(today() + time::Duration::days(2)));
    let csv = format!(
        "日期,借阅量,到馆人次,活动参与人次,线上访问量\n\
         {d3},120,300,40,900\n\
         {d2},-5,310,,950\n\
         {future},1,1,1,1\n\
         not a day,1,1,1,1\n\
         {d2},130,,,\n"
    );
    let page = h.upload(&cookie, &csrf, "lib", csv.as_bytes()).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("已保存 2 行"), "{}", page.body);
    assert!(page.body.contains("3 行有错误"), "{}", page.body);
    for (row, column, reason) in [
        ("3", "借阅量", "是负数"),
        ("4", "日期", "还没有到"),
        ("5", "日期", "不是日期"),
    ] {
        let line = format!("<tr><td>{row}</td><td>{column}</td><td>");
        let at = page
            .body
            .find(&line)
            .unwrap_or_else(|| panic!("no error row {row}: {}", page.body));
        assert!(
            page.body[at..].split("</tr>").next().unwrap().contains(reason),
            "{row}"
        );
    }
    let stored = h.days("lib");
    assert_eq!(stored.len(), 2, "the valid rows are stored despite the others");
    assert_eq!(
        (stored[0].day.as_str(), stored[0].visits),
        (d3.as_str(), Some(300))
    );
    assert_eq!(
        (stored[1].day.as_str(), stored[1].loans, stored[1].visits),
        (d2.as_str(), Some(130), None)
    );

    // The corrected file again: the days are replaced, not added.
    let corrected = format!("date,loans,visits\n{d3},120,300\n{d2},131,310\n");
    let page = h.upload(&cookie, &csrf, "lib", corrected.as_bytes()).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains("已保存 2 行（其中 2 行为新增或更正）"),
        "{}",
        page.body
    );
    let stored = h.days("lib");
    assert_eq!(stored.len(), 2);
    assert_eq!(
        stored[0].event_attendance, None,
        "a re-report replaces the whole day"
    );
    assert_eq!((stored[1].loans, stored[1].visits), (Some(131), Some(310)));
    let audit = h
        .instance
        .store
        .audit_log(Some(&["lib".to_string()]), None, 10, 0)
        .unwrap();
    let reports: Vec<_> = audit
        .iter()
        .filter(|e| e.action.as_str() == "report_statistics")
        .collect();
    assert_eq!(reports.len(), 2, "each upload that changed something is audited");
    assert!(reports.iter().all(|e| e.actor == "cur-lib"));
}

#[tokio::test]
async fn gbk_files_are_read_and_other_institutions_refused() {
    let h = Harness::new().await;
    let (cookie, csrf) = h.login().await;
    let text = format!("日期,外借,到馆人次\n{},7,42\n", ago(1));
    let (gbk, _, _) = encoding_rs::GBK.encode(&text);
    let page = h.upload(&cookie, &csrf, "lib", &gbk).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("GB18030"), "{}", page.body);
    assert_eq!(h.days("lib")[0].visits, Some(42));
    assert_eq!(h.days("lib")[0].loans, Some(7));

    // Another institution, chosen in the form: refused, nothing stored.
    let csv = format!("date,visits\n{},5\n", ago(1));
    let page = h.upload(&cookie, &csrf, "mus", csv.as_bytes()).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    // ... or named in the file: that row is refused.
    let csv = format!("date,institution,visits\n{},mus,5\n{},lib,6\n", ago(4), ago(4));
    let page = h.upload(&cookie, &csrf, "lib", csv.as_bytes()).await;
    assert!(page.body.contains("无权为机构“mus”报送"), "{}", page.body);
    assert!(h.days("mus").is_empty());
    assert_eq!(h.days("lib").len(), 2);
    // Without the CSRF token nothing is stored.
    let page = h.upload(&cookie, "forged", "lib", csv.as_bytes()).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    // A header the page does not know stores nothing.
    let csv = format!("日期,到馆人数\n{},5\n", ago(5));
    let page = h.upload(&cookie, &csrf, "lib", csv.as_bytes()).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("无法识别的列“到馆人数”"), "{}", page.body);
    assert_eq!(h.days("lib").len(), 2);
}

#[tokio::test]
async fn the_api_takes_an_institutions_key_and_answers_per_row_errors() {
    let h = Harness::new().await;
    let (_, lib_key) = h
        .instance
        .store
        .create_institution_api_key("图书馆", Some("lib"))
        .unwrap();
    let (_, app_key) = h.instance.store.create_api_key("app").unwrap();
    let csv = format!("date,loans,visits\n{},10,20\n", ago(1));

    let answer = h.report("", None, "text/csv", &csv).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.body);
    let answer = h
        .report("", Some(("x-api-key", "jc_nope")), "text/csv", &csv)
        .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    let answer = h
        .report("", Some(("x-api-key", &app_key)), "text/csv", &csv)
        .await;
    assert_eq!(
        answer.status,
        StatusCode::FORBIDDEN,
        "an app's key reports for no institution"
    );
    let answer = h
        .report(
            "?institution=mus",
            Some(("x-api-key", &lib_key)),
            "text/csv",
            &csv,
        )
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    let answer = h
        .report("", Some(("x-api-key", &lib_key)), "text/plain", &csv)
        .await;
    assert_eq!(answer.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(h.days("lib").is_empty());

    let answer = h
        .report("", Some(("x-api-key", &lib_key)), "text/csv", &csv)
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let report: Value = serde_json::from_str(&answer.body).unwrap();
    assert_eq!(report["accepted"], 1);
    assert_eq!(report["encoding"], "UTF-8");

    let rows = json!({"rows": [
        {"date": ago(2), "visits": 5, "线上访问量": "7"},
        {"date": ago(3), "visits": -1},
        {"date": ago(3), "institution": "mus", "visits": 1},
        {"date": ago(3), "visitors": 1},
    ]});
    let answer = h
        .report(
            "",
            Some(("x-api-key", &lib_key)),
            "application/json",
            &rows.to_string(),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let report: Value = serde_json::from_str(&answer.body).unwrap();
    assert_eq!(
        (report["accepted"].clone(), report["rejected"].clone()),
        (json!(1), json!(3))
    );
    let errors: Vec<(u64, String, String)> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["row"].as_u64().unwrap(),
                e["column"].as_str().unwrap_or("").to_string(),
                e["code"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        errors,
        [
            (2, "visits".into(), "negative_number".into()),
            (3, "institution".into(), "wrong_institution".into()),
            (4, "visitors".into(), "unknown_column".into()),
        ]
    );
    assert_eq!(h.days("lib").len(), 2);
    assert_eq!(h.days("lib")[0].online_views, Some(7));
    let answer = h
        .report(
            "",
            Some(("x-api-key", &lib_key)),
            "application/json",
            "{\"rows\": 3}",
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(answer.body.contains("invalid_body"), "{}", answer.body);

    // A curator's bearer token works too, for their own institution only.
    let (name, value) = bearer(CURATOR_TOKEN);
    let answer = h
        .report("?institution=xg", Some((name, &value)), "text/csv", &csv)
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    let answer = h.report("", Some((name, &value)), "text/csv", &csv).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
}

#[tokio::test]
async fn aggregates_per_district_the_export_and_the_dashboard() {
    let h = Harness::new().await;
    let day = |institution: &str, day: String, visits: u64| ServiceDay {
        institution: institution.into(),
        day,
        loans: Some(visits / 10),
        visits: Some(visits),
        event_attendance: None,
        online_views: Some(1),
    };
    h.instance
        .store
        .put_service_days(
            "test",
            &[
                day("lib", ago(2), 100),
                day("mus", ago(2), 50),
                day("xg", ago(2), 7),
                day("lib", ago(1), 200),
            ],
        )
        .unwrap();
    let (admin, token) = bearer(ADMIN_TOKEN);
    let query = format!(
        "/api/v1/statistics?district=%E5%9F%8E%E5%85%B3%E5%8C%BA&from={}&to={}",
        ago(9),
        ago(0)
    );
    assert_eq!(h.get(&query, None).await.status, StatusCode::UNAUTHORIZED);
    let answer = h.get(&query, Some((admin, &token))).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let found: Value = serde_json::from_str(&answer.body).unwrap();
    assert_eq!(found["total"]["visits"], 350, "城关区: lib and mus, not xg");
    assert_eq!(found["days"][0]["day"], ago(2).as_str());
    assert_eq!(found["days"][0]["visits"], 150);
    assert_eq!(found["days"][0]["reports"], 2);
    assert_eq!(found["rows"].as_array().unwrap().len(), 3);
    let answer = h
        .get("/api/v1/statistics?institution=xg", Some((admin, &token)))
        .await;
    let found: Value = serde_json::from_str(&answer.body).unwrap();
    assert_eq!(found["total"]["visits"], 7);
    assert_eq!(found["rows"][0]["district"], "西固区");
    let answer = h
        .get("/api/v1/statistics?district=nowhere", Some((admin, &token)))
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);

    // The provincial export: complete days only, one line per institution and day.
    let (_, key) = h.instance.store.create_api_key("provincial platform").unwrap();
    let answer = h
        .get(
            &format!("/api/v1/analytics/export?since={}", ago(9)),
            Some(("x-api-key", &key)),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let lines: Vec<Value> = answer
        .body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let services: Vec<&Value> = lines.iter().filter(|l| l["kind"] == "service").collect();
    assert_eq!(services.len(), 4, "{}", answer.body);
    assert_eq!(
        *services[0],
        json!({"kind": "service", "day": ago(2), "institution": "lib", "district": "城关区",
               "loans": 10, "visits": 100, "event_attendance": null, "online_views": 1})
    );

    // The dashboard: charts per institution and district, and the table.
    let answer = h.get("/admin/analytics", Some((admin, &token))).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let html = answer.body;
    assert!(
        html.contains("到馆人次（按机构） Visits by institution"),
        "{html}"
    );
    assert!(
        html.contains(">兰州市图书馆</text>") && html.contains(">西固区图书馆</text>"),
        "{html}"
    );
    assert!(
        html.contains(
            "<tr><th scope=\"row\">城关区</th><td>35</td><td>350</td><td>0</td><td>3</td><td>3</td></tr>"
        ),
        "{html}"
    );
    assert!(
        html.contains("<th scope=\"row\">西固区</th><td>0</td><td>7</td>"),
        "{html}"
    );
}
