//! The citizen web pages, through the real router: home, results, record, institution,
//! events, the period and accessible-format facets, the level, branch, brand, audience and
//! special-collection facets, sorting, escaping (hostile text on every page), errors and
//! page weight.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::body::Body;
use axum::http::{Request, header};
use jincheng::Instance;
use jincheng::bench::{synthetic_institutions, synthetic_record};
use schemas::{DateRange, Holding, ImageLink, Record, ResourceType};
use serde_json::Value;
use services::config::Config;
use tower::ServiceExt;

const XSS: &str = "<script>alert(1)</script>";

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

fn poem() -> Record {
    let mut record = Record::new("web:jys", "b-lzlib", "靜夜思");
    record.resource_type = ResourceType::Book;
    record.creators = vec!["李白".into()];
    record.subjects = vec!["唐诗".into()];
    record.publisher = Some("北京：中华书局".into());
    record.date = Some(DateRange {
        display: "2003".into(),
        year_start: Some(2003),
        year_end: Some(2003),
    });
    record.isbns = vec!["9787101000001".into()];
    record.language = Some("zh".into());
    record.source_url = Some("https://opac.example.cn/record/1".into());
    record.images = vec![ImageLink {
        url: "https://img.example.cn/jys.jpg".into(),
        caption: Some("书影".into()),
    }];
    record.holdings = vec![
        Holding {
            institution: "b-lzlib".into(),
            branch: Some("总馆二楼".into()),
            call_number: Some("I222.742/1".into()),
            items: Some(2),
            status: Some("在架".into()),
        },
        Holding {
            institution: "b-lzlib".into(),
            branch: Some("七里河分馆".into()),
            call_number: Some("I222.742/2".into()),
            items: Some(1),
            status: Some("借出".into()),
        },
    ];
    record
}

fn hostile() -> Record {
    let mut record = Record::new("web:xss", "b-lzlib", XSS);
    record.creators = vec![XSS.into()];
    record.subjects = vec![XSS.into()];
    record.description = Some(format!("{XSS} 静夜 </script><!--"));
    record.publisher = Some(XSS.into());
    record.source_url = Some("javascript:alert(1)".into());
    record.images = vec![
        ImageLink {
            url: "javascript:alert(1)".into(),
            caption: Some(XSS.into()),
        },
        ImageLink {
            url: "https://img.example.cn/x.jpg\" onerror=\"alert(1)".into(),
            caption: Some(XSS.into()),
        },
        // Browsers read these as //evil.example/…: another site.
        ImageLink {
            url: "/\\evil.example/x.jpg".into(),
            caption: None,
        },
        ImageLink {
            url: "/\t/evil.example/y.jpg".into(),
            caption: None,
        },
    ];
    record.holdings = vec![Holding {
        institution: "b-lzlib".into(),
        branch: Some(XSS.into()),
        call_number: Some(XSS.into()),
        ..Holding::default()
    }];
    record
}

async fn filled(dir: &std::path::Path) -> Instance {
    let instance = instance(dir);
    let institutions = synthetic_institutions();
    let mut records: Vec<_> = (0..300).map(|i| synthetic_record(i, &institutions)).collect();
    records.push(poem());
    records.push(hostile());
    instance.store.import_records(&records).unwrap();
    instance
        .wait_indexed(std::time::Duration::from_secs(60))
        .await
        .unwrap();
    instance
}

async fn get(instance: &Instance, uri: &str) -> (u16, String, String) {
    let response = instance
        .router()
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let body = String::from_utf8(body.to_vec()).unwrap();
    // `WEB_PAGES_DUMP=dir` keeps every page fetched, to look at in a browser.
    if let Ok(dump) = std::env::var("WEB_PAGES_DUMP") {
        let name: String = uri
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        std::fs::write(std::path::Path::new(&dump).join(format!("{name}.html")), &body).unwrap();
    }
    (status, content_type, body)
}

/// Every `href="…"` of a page, with `&amp;` undone.
fn links(html: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .map(|rest| rest[..rest.find('"').unwrap()].replace("&amp;", "&"))
        .collect()
}

fn every_image_has_alt(html: &str) -> bool {
    html.split("<img ")
        .skip(1)
        .all(|rest| rest[..rest.find('>').unwrap()].contains(" alt=\""))
}

fn pairs(link: &str) -> Vec<(String, String)> {
    let query = link.split_once('?').map_or("", |(_, q)| q);
    form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn citizen_pages() {
    let dir = tempfile::tempdir().unwrap();
    let instance = filled(dir.path()).await;

    // Home: Chinese, a labelled search box, the deferred autocomplete, the entry points.
    let (status, content_type, home) = get(&instance, "/").await;
    assert_eq!(status, 200);
    assert!(content_type.starts_with("text/html"), "{content_type}");
    assert!(home.contains("<html lang=\"zh-CN\""));
    assert!(home.contains("<label for=\"q\">"));
    assert!(home.contains("id=\"q\" name=\"q\""));
    assert!(home.contains("<script src=\"/static/suggest.js\" defer></script>"));
    assert!(home.contains("href=\"#main\""), "skip link");
    assert!(home.contains("/search?institution_type=museum"));
    assert!(home.contains("/institutions/b-lzlib"));
    assert!(home.contains("兰州市图书馆"));
    assert!(home.contains("href=\"/events\""), "the events entry");
    assert!(
        home.contains("href=\"/search?accessible_format=braille\""),
        "the accessible formats entry"
    );

    // Results: the traditional-character record found by its simplified title, highlighted.
    let (status, _, results) = get(&instance, "/search?q=%E9%9D%99%E5%A4%9C%E6%80%9D").await;
    assert_eq!(status, 200, "{results}");
    assert!(results.contains("<em>靜夜思</em>"), "{results}");
    assert!(results.contains("/records/web:jys"));
    assert!(results.contains("兰州市图书馆"));
    assert!(results.contains("城关区"));
    assert!(results.contains("<fieldset class=\"facet\"><legend>"));
    // Results show the same thumbnails as the API: local copies only (this link was never
    // fetched), so no hit hot-links an institution's server.
    assert!(
        !results.contains("https://img.example.cn/jys.jpg"),
        "no hot-linked thumbnail"
    );

    // Facet links keep the rest of the state and drop the page.
    let browse_uri = "/search?resource_type=book&year_from=1960&page=2";
    let (status, _, browse) = get(&instance, browse_uri).await;
    assert_eq!(status, 200);
    let facet = links(&browse)
        .into_iter()
        .find(|l| l.contains("region="))
        .expect("a district facet link");
    let facet = pairs(&facet);
    assert!(
        facet.contains(&("resource_type".into(), "book".into())),
        "{facet:?}"
    );
    assert!(facet.contains(&("year_from".into(), "1960".into())), "{facet:?}");
    assert!(!facet.iter().any(|(k, _)| k == "page"), "{facet:?}");
    // Paging: next page and previous page keep the filters.
    let all = links(&browse);
    let next = all
        .iter()
        .find(|l| l.contains("page=3"))
        .expect("a link to page 3");
    assert!(next.contains("resource_type=book") && next.contains("year_from=1960"));
    let (_, _, first) = get(&instance, "/search?resource_type=book").await;
    assert!(
        links(&first)
            .iter()
            .any(|l| pairs(l).contains(&("page".into(), "2".into()))),
        "a link to page 2"
    );
    assert!(first.contains("aria-current=\"page\""));
    let (status, _, beyond) = get(&instance, "/search?resource_type=book&page=400").await;
    assert_eq!(status, 200);
    assert!(beyond.contains("回到第 1 页"));

    // The record page: every field, the holdings table, a citation, valid JSON-LD.
    let (status, _, page) = get(&instance, "/records/web:jys").await;
    assert_eq!(status, 200);
    assert!(page.contains("<h1>靜夜思</h1>"));
    assert!(page.contains("<table class=\"holdings\">"));
    assert!(page.contains("七里河分馆") && page.contains("I222.742/2"));
    assert!(page.contains("李白. 靜夜思[M]. 北京: 中华书局, 2003."), "{page}");
    assert!(page.contains("https://opac.example.cn/record/1"));
    assert!(page.contains("<img src=\"https://img.example.cn/jys.jpg\" alt=\"书影\""));
    assert!(every_image_has_alt(&page) && every_image_has_alt(&results));
    let start = page.find("<script type=\"application/ld+json\">").unwrap()
        + "<script type=\"application/ld+json\">".len();
    let end = start + page[start..].find("</script>").unwrap();
    let jsonld: Value = serde_json::from_str(&page[start..end]).unwrap();
    assert_eq!(jsonld["@context"], "https://schema.org");
    assert_eq!(jsonld["name"], "靜夜思");

    // The institution page browses its records.
    let (status, _, library) = get(&instance, "/institutions/b-lzlib").await;
    assert_eq!(status, 200);
    assert!(library.contains("<h1>兰州市图书馆</h1>"));
    assert!(library.contains("class=\"hit\""));
    let (status, _, _) = get(&instance, "/institutions/nowhere").await;
    assert_eq!(status, 404);

    // Unknown records are a 404 page.
    let (status, content_type, missing) = get(&instance, "/records/web:nothing").await;
    assert_eq!(status, 404);
    assert!(content_type.starts_with("text/html"));
    assert!(missing.contains("lang=\"zh-CN\""));
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_text_is_escaped_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let instance = filled(dir.path()).await;
    for uri in [
        "/search?q=alert",
        "/search?q=%E9%9D%99%E5%A4%9C",
        "/search?institution=b-lzlib",
        "/records/web:xss",
        "/institutions/b-lzlib",
        "/events",
        "/search?q=%3Cscript%3Ealert(1)%3C/script%3E",
        "/search?q=%22%3E%3Cscript%3Ealert(1)%3C/script%3E&institution=%3Cscript%3E",
    ] {
        let (status, _, body) = get(&instance, uri).await;
        assert!(status == 200, "{uri}: {status}");
        assert!(!body.contains("<script>alert"), "{uri}: {body}");
        assert!(!body.contains("href=\"javascript:"), "{uri}");
        assert!(!body.contains("src=\"javascript:"), "{uri}");
        assert!(!body.contains("\" onerror"), "{uri}");
        assert!(!body.contains("evil.example"), "{uri}: a link to another site");
        assert!(every_image_has_alt(&body), "{uri}");
    }
    let (_, _, page) = get(&instance, "/records/web:xss").await;
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    // Only the two scripts of our own: the deferred autocomplete and the JSON-LD.
    assert_eq!(page.matches("<script").count(), 2, "{page}");
    assert_eq!(page.matches("</script>").count(), 2, "{page}");
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_parameters_are_friendly_400s_and_pages_are_light() {
    let dir = tempfile::tempdir().unwrap();
    let instance = filled(dir.path()).await;
    for uri in [
        "/search?year_from=abc",
        "/search?year_from=2000&year_to=1990",
        "/search?institution_type=zoo",
        "/search?page=0",
        "/search?page=9999",
    ] {
        let (status, content_type, body) = get(&instance, uri).await;
        assert_eq!(status, 400, "{uri}");
        assert!(content_type.starts_with("text/html"), "{uri}");
        assert!(body.contains("lang=\"zh-CN\"") && body.contains("role=\"alert\""));
        assert!(body.contains("返回首页"), "{uri}");
    }
    let (_, _, body) = get(&instance, "/search?q=x&year_from=abc").await;
    assert!(
        body.contains("年份“abc”无法识别"),
        "the page names the bad box: {body}"
    );
    let (_, _, body) = get(&instance, "/search?institution_type=zoo").await;
    assert!(body.contains("没有这种机构类型：“zoo”"), "{body}");
    let (_, _, body) = get(&instance, "/search?year_from=2000&year_to=1990").await;
    assert!(body.contains("起始年份 2000 晚于结束年份 1990"), "{body}");
    // Empty boxes of the year form are no filter, not an error.
    let (status, _, _) = get(&instance, "/search?q=&year_from=&year_to=").await;
    assert_eq!(status, 200);

    // A full results page, with its stylesheet and script, stays under 50 KB.
    let (_, _, results) = get(&instance, "/search?q=%E5%85%B0%E5%B7%9E").await;
    let (_, _, browse) = get(&instance, "/search").await;
    let (status, css_type, css) = get(&instance, "/static/site.css").await;
    assert_eq!(status, 200);
    assert!(css_type.starts_with("text/css"));
    let (_, js_type, js) = get(&instance, "/static/suggest.js").await;
    assert!(js_type.starts_with("text/javascript"));
    for html in [&results, &browse] {
        let weight = html.len() + css.len() + js.len();
        assert!(weight < 50 * 1024, "results page weighs {weight} bytes");
    }
    println!(
        "page weight: results {} B, browse {} B, css {} B, js {} B",
        results.len(),
        browse.len(),
        css.len(),
        js.len()
    );

    // The display switch sets its cookie and goes back; the mode shows on the next page.
    let response = instance
        .router()
        .oneshot(
            Request::get("/display?mode=large&back=%2Fsearch%3Fq%3Dx")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(response.headers()[header::LOCATION], "/search?q=x");
    let cookie = response.headers()[header::SET_COOKIE].to_str().unwrap();
    assert!(cookie.starts_with("jc_display=large"));
    let response = instance
        .router()
        .oneshot(
            Request::get("/")
                .header(header::COOKIE, "jc_display=large")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    assert!(String::from_utf8_lossy(&body).contains("<html lang=\"zh-CN\" class=\"large\">"));
    let response = instance
        .router()
        .oneshot(
            Request::get("/display?mode=large&back=//evil.example")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.headers()[header::LOCATION], "/");
}

/// Books of four periods with accessible formats, and five events around today.
fn citizen_records() -> Vec<Record> {
    use schemas::{AccessibleFormat, Curation, EventInfo};
    let book = |id: &str, title: &str, years: (i32, i32), formats: &[AccessibleFormat]| {
        let mut record = Record::new(id, "b-lzlib", title);
        record.resource_type = ResourceType::Book;
        record.date = Some(DateRange {
            display: format!("{}-{}", years.0, years.1),
            year_start: Some(years.0),
            year_end: Some(years.1),
        });
        if !formats.is_empty() {
            record.curation = Some(Curation {
                accessible_formats: formats.to_vec(),
                ..Curation::default()
            });
        }
        record
    };
    let event = |id: &str, title: &str, start: &str, end: Option<&str>| {
        let mut record = Record::new(id, "b-culture", title);
        record.resource_type = ResourceType::Event;
        record.event = Some(EventInfo {
            start: Some(start.into()),
            end: end.map(str::to_string),
            venue: Some(format!("{title}会场")),
            ..EventInfo::default()
        });
        record
    };
    use AccessibleFormat::*;
    let mut lecture = event("web:ev-a", "黄河讲坛", "2099-05-01T09:00", None);
    if let Some(info) = &mut lecture.event {
        info.registration_url = Some("https://reg.example.cn/a".into());
        info.live_stream_url = Some("https://live.example.cn/a".into());
    }
    vec![
        book("web:tang", "黄河唐诗", (618, 907), &[Braille]),
        book("web:mq", "黄河碑刻", (1368, 1911), &[]),
        book("web:qing", "黄河乾隆图", (1736, 1795), &[LargePrint, Audio]),
        book("web:today", "黄河新志", (2003, 2003), &[Braille]),
        lecture,
        event(
            "web:ev-b",
            "秦腔演出",
            "2099-05-01T14:30",
            Some("2099-05-01T16:00"),
        ),
        event("web:ev-c", "剪纸展览", "2099-06-10", Some("2099-07-10")),
        event("web:ev-old", "旧展回顾", "2001-03-01T10:00", None),
        event("web:ev-older", "千禧讲座", "2000-12-31", None),
        {
            // Only a year, as many OAI-PMH event records have.
            let mut record = Record::new("web:ev-tbd", "b-culture", "社火展演（2030）");
            record.resource_type = ResourceType::Event;
            record.date = Some(DateRange {
                display: "2030".into(),
                year_start: Some(2030),
                year_end: Some(2030),
            });
            record
        },
    ]
}

/// The position of `needle` in `html`, which must contain it.
fn at(html: &str, needle: &str) -> usize {
    html.find(needle)
        .unwrap_or_else(|| panic!("no {needle:?} in {html}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn periods_formats_sorting_and_events() {
    let dir = tempfile::tempdir().unwrap();
    let instance = instance(dir.path());
    instance.store.import_records(&citizen_records()).unwrap();
    instance
        .wait_indexed(std::time::Duration::from_secs(60))
        .await
        .unwrap();

    // Period and accessible-format facets, with their counts.
    let (status, _, results) = get(&instance, "/search?q=%E9%BB%84%E6%B2%B3").await;
    assert_eq!(status, 200, "{results}");
    // The four books and the 黄河讲坛 lecture, which has no year and so no period.
    assert!(results.contains("共 5 条结果"), "{results}");
    assert!(results.contains("<legend>朝代</legend>"));
    assert!(results.contains("<legend>无障碍格式</legend>"));
    assert!(results.contains(" 清 <span class=\"n\">(2)</span>"), "{results}");
    assert!(results.contains(" 明 <span class=\"n\">(1)</span>"));
    assert!(results.contains(" 现代 <span class=\"n\">(1)</span>"));
    assert!(results.contains(" 盲文 <span class=\"n\">(2)</span>"));
    assert!(results.contains(" 大字版 <span class=\"n\">(1)</span>"));
    let qing = links(&results)
        .into_iter()
        .find(|l| pairs(l).contains(&("period".into(), "清".into())))
        .expect("a link to the 清 facet");
    assert!(pairs(&qing).contains(&("q".into(), "黄河".into())), "{qing}");

    // Following it: two records, the facet now chosen, the other facet narrowed.
    let (status, _, chosen) = get(&instance, &qing).await;
    assert_eq!(status, 200);
    assert!(chosen.contains("共 2 条结果"), "{chosen}");
    assert!(chosen.contains("朝代：清"), "the active filter");
    assert!(chosen.contains("aria-current=\"true\"><span aria-hidden=\"true\">☑</span> 清 "));
    assert!(chosen.contains(" 有声 <span class=\"n\">(1)</span>"));
    assert!(
        !chosen.contains(" 盲文 <span class=\"n\">"),
        "no braille record is 清"
    );
    let (_, _, braille) = get(&instance, "/search?accessible_format=braille").await;
    assert!(braille.contains("共 2 条结果"), "{braille}");
    assert!(braille.contains("/records/web:tang") && braille.contains("/records/web:today"));

    // Sorting: the control keeps the query, the chosen order is marked, hits follow it.
    let (status, _, oldest) = get(&instance, "/search?q=%E9%BB%84%E6%B2%B3&sort=date_asc").await;
    assert_eq!(status, 200);
    assert!(oldest.contains("<nav class=\"sort\" aria-label=\"排序\">"));
    assert!(oldest.contains("aria-current=\"true\">年代从旧到新"));
    let order = ["web:tang", "web:mq", "web:qing", "web:today"];
    let positions: Vec<usize> = order
        .iter()
        .map(|id| at(&oldest, &format!("/records/{id}\"")))
        .collect();
    assert!(positions.is_sorted(), "oldest first: {positions:?}");
    let (_, _, newest) = get(&instance, "/search?q=%E9%BB%84%E6%B2%B3&sort=date_desc").await;
    let positions: Vec<usize> = order
        .iter()
        .rev()
        .map(|id| at(&newest, &format!("/records/{id}\"")))
        .collect();
    assert!(positions.is_sorted(), "newest first: {positions:?}");
    let newest_link = links(&oldest)
        .into_iter()
        .find(|l| l.contains("sort=date_desc"))
        .expect("a link to the newest-first order");
    assert!(pairs(&newest_link).contains(&("q".into(), "黄河".into())));
    let relevance = links(&oldest)
        .into_iter()
        .find(|l| l.starts_with("/search") && !l.contains("sort=") && l.contains("q="))
        .expect("a link back to relevance");
    assert_eq!(pairs(&relevance), [("q".to_string(), "黄河".to_string())]);
    // Facet links and the year form keep the order.
    assert!(
        links(&oldest)
            .iter()
            .filter(|l| l.contains("period="))
            .all(|l| l.contains("sort=date_asc"))
    );
    assert!(oldest.contains("<input type=\"hidden\" name=\"sort\" value=\"date_asc\">"));
    let (status, _, bad) = get(&instance, "/search?sort=newest").await;
    assert_eq!(status, 400);
    assert!(bad.contains("排序方式“newest”无法识别"), "{bad}");

    // The events page: upcoming by date (one heading per day), then past ones, latest first.
    let (status, _, events) = get(&instance, "/events").await;
    assert_eq!(status, 200, "{events}");
    assert!(events.contains("<html lang=\"zh-CN\""));
    let sequence = [
        "即将举办",
        "2099年5月1日 星期五",
        "黄河讲坛",
        "秦腔演出",
        "2099年6月10日 星期三",
        "剪纸展览",
        "往期活动",
        "2001年3月1日 星期四",
        "旧展回顾",
        "2000年12月31日 星期日",
        "千禧讲座",
        "具体日期未详",
        "<h3>2030年</h3>",
        "社火展演（2030）",
    ];
    let positions: Vec<usize> = sequence.iter().map(|s| at(&events, s)).collect();
    assert!(positions.is_sorted(), "{positions:?}\n{events}");
    assert_eq!(events.matches("2099年5月1日").count(), 1, "one heading per day");
    assert!(events.contains("时间：09:00 开始 · 地点：黄河讲坛会场 · 主办："));
    assert!(events.contains("时间：14:30–16:00"));
    assert!(events.contains("时间：至 2099年7月10日 星期五"), "{events}");
    assert!(events.contains("href=\"https://reg.example.cn/a\""));
    assert!(events.contains("href=\"https://live.example.cn/a\""));
    assert!(!events.contains("黄河唐诗"), "only events");

    // The home page leads to the upcoming events and the accessible formats.
    let (_, _, home) = get(&instance, "/").await;
    assert!(home.contains("href=\"/events\""));
    assert!(at(&home, "黄河讲坛") < at(&home, "剪纸展览"), "soonest first");
    assert!(!home.contains("旧展回顾"), "past events are not on the home page");
    for format in ["braille", "large_print", "audio", "sign_language"] {
        assert!(
            home.contains(&format!("href=\"/search?accessible_format={format}\"")),
            "{format}"
        );
    }
}

/// Every page carries a Content-Security-Policy without inline code, and keeps to it: its
/// scripts are files of our own or JSON-LD (data, never run), and it has no inline style.
#[tokio::test(flavor = "multi_thread")]
async fn pages_carry_a_content_security_policy_they_keep_to() {
    let dir = tempfile::tempdir().unwrap();
    let instance = filled(dir.path()).await;
    for uri in [
        "/",
        "/search?q=%E9%9D%99%E5%A4%9C",
        "/records/web:jys",
        "/records/web:xss",
        "/institutions/b-lzlib",
        "/events",
        "/records/no-such-record",
    ] {
        let response = instance
            .router()
            .oneshot(Request::get(uri).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let policy = response
            .headers()
            .get(header::CONTENT_SECURITY_POLICY)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("{uri}: no Content-Security-Policy"));
        assert!(policy.contains("default-src 'self'"), "{uri}: {policy}");
        assert!(policy.contains("frame-ancestors 'none'"), "{uri}: {policy}");
        assert!(policy.contains("object-src 'none'"), "{uri}: {policy}");
        assert!(!policy.contains("unsafe-"), "{uri}: {policy}");
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let body = String::from_utf8(body.to_vec()).unwrap();
        for script in body.split("<script").skip(1) {
            let tag = &script[..script.find('>').unwrap()];
            assert!(
                tag.contains(" src=\"/static/") || tag.contains("type=\"application/ld+json\""),
                "{uri}: an inline script <script{tag}>"
            );
        }
        assert!(!body.contains("<style"), "{uri}: an inline style sheet");
        assert!(!body.contains(" style=\""), "{uri}: an inline style");
        assert!(!body.contains(" onclick=") && !body.contains(" onload="), "{uri}");
    }

    // The API docs run one inline script and style, allowed by their hashes only.
    let response = instance
        .router()
        .oneshot(Request::get("/api/docs").body(Body::empty()).unwrap())
        .await
        .unwrap();
    let policy = response.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_string();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let body = String::from_utf8(body.to_vec()).unwrap();
    let between = |open: &str, close: &str| {
        let start = body.find(open).unwrap() + open.len();
        body[start..start + body[start..].find(close).unwrap()].to_string()
    };
    let hash = |text: &str| {
        use base64::Engine as _;
        use sha2::Digest as _;
        let digest = sha2::Sha256::digest(text.as_bytes());
        format!(
            "'sha256-{}'",
            base64::engine::general_purpose::STANDARD.encode(digest)
        )
    };
    assert!(
        policy.contains(&format!("script-src {}", hash(&between("<script>", "</script>")))),
        "{policy}"
    );
    assert!(
        policy.contains(&format!("style-src {}", hash(&between("<style>", "</style>")))),
        "{policy}"
    );
    assert!(
        policy.contains("frame-ancestors 'none'") && !policy.contains("unsafe-"),
        "{policy}"
    );
}

/// Curated books at two libraries of different levels, with branches, brands and audiences.
fn faceted_records() -> Vec<Record> {
    use schemas::{Audience, Curation};
    let book = |id: &str, institution: &str, title: &str, branch: &str| {
        let mut record = Record::new(id, institution, title);
        record.resource_type = ResourceType::Book;
        record.holdings = vec![Holding {
            institution: institution.into(),
            branch: Some(branch.into()),
            call_number: Some(format!("K29/{id}")),
            ..Holding::default()
        }];
        record
    };
    let mut lecture = book("web:f1", "b-lzlib", "丝路讲坛文集", "七里河分馆");
    lecture.curation = Some(Curation {
        special_collection: true,
        brand: Some("金城讲坛".into()),
        audiences: vec![Audience::Elderly],
        ..Curation::default()
    });
    let mut picture = book("web:f2", "b-lzlib", "丝路绘本", "总馆二楼");
    picture.curation = Some(Curation {
        audiences: vec![Audience::Children],
        ..Curation::default()
    });
    let county = book("web:f3", "b-qlhlib", "丝路地方志", "总馆");
    vec![lecture, picture, county]
}

#[tokio::test(flavor = "multi_thread")]
async fn level_branch_brand_audience_and_special_collection_facets() {
    let dir = tempfile::tempdir().unwrap();
    let instance = instance(dir.path());
    instance.store.import_records(&faceted_records()).unwrap();
    instance
        .wait_indexed(std::time::Duration::from_secs(60))
        .await
        .unwrap();

    let q = "q=%E4%B8%9D%E8%B7%AF"; // 丝路
    let (status, _, results) = get(&instance, &format!("/search?{q}")).await;
    assert_eq!(status, 200, "{results}");
    assert!(results.contains("共 3 条结果"), "{results}");
    for title in ["层级", "分馆", "品牌", "适用人群", "特色馆藏"] {
        assert!(
            results.contains(&format!("<legend>{title}</legend>")),
            "{title}: {results}"
        );
    }
    // Levels and audiences by their Chinese labels; the boolean facet as 是.
    assert!(
        results.contains(" 市级 <span class=\"n\">(2)</span>"),
        "{results}"
    );
    assert!(
        results.contains(" 县区级 <span class=\"n\">(1)</span>"),
        "{results}"
    );
    assert!(
        results.contains(" 老年人 <span class=\"n\">(1)</span>"),
        "{results}"
    );
    assert!(
        results.contains(" 少年儿童 <span class=\"n\">(1)</span>"),
        "{results}"
    );
    assert!(
        results.contains(" 金城讲坛 <span class=\"n\">(1)</span>"),
        "{results}"
    );
    assert!(
        results.contains(" 七里河分馆 <span class=\"n\">(1)</span>"),
        "{results}"
    );
    assert!(results.contains(" 是 <span class=\"n\">(1)</span>"), "{results}");

    // Each facet value is a link that keeps the query and adds its filter.
    let all = links(&results);
    for (key, value) in [
        ("level", "county"),
        ("branch", "七里河分馆"),
        ("brand", "金城讲坛"),
        ("audience", "elderly"),
        ("special_collection", "true"),
    ] {
        let link = all
            .iter()
            .find(|l| pairs(l).contains(&(key.into(), value.into())))
            .unwrap_or_else(|| panic!("a {key}={value} facet link in {all:?}"));
        let link_pairs = pairs(link);
        assert!(link_pairs.contains(&("q".into(), "丝路".into())), "{link}");
        let (status, _, chosen) = get(&instance, link).await;
        assert_eq!(status, 200, "{link}: {chosen}");
        assert!(chosen.contains("共 1 条结果"), "{link}: {chosen}");
        // The active filter names the facet and the value, and removing it keeps the query.
        let nav = &chosen[chosen
            .find("aria-label=\"已选条件\"")
            .expect("the active filters")..];
        let nav = &nav[..nav.find("</nav>").unwrap()];
        let title = match key {
            "level" => "层级：县区级",
            "branch" => "分馆：七里河分馆",
            "brand" => "品牌：金城讲坛",
            "audience" => "适用人群：老年人",
            _ => "特色馆藏：是",
        };
        assert!(nav.contains(title), "{key}: {nav}");
        let removal = links(nav).into_iter().next().expect("the filter's removal link");
        assert_eq!(pairs(&removal), [("q".to_string(), "丝路".to_string())]);
        // The year form and the search box keep the filter.
        assert!(
            chosen.contains(&format!("<input type=\"hidden\" name=\"{key}\"")),
            "{key}"
        );
    }

    // The record page links each holding's branch to its holdings in the results.
    let (status, _, page) = get(&instance, "/records/web:f1").await;
    assert_eq!(status, 200);
    let branch_link = links(&page)
        .into_iter()
        .find(|l| l.contains("branch="))
        .expect("a branch link");
    assert_eq!(
        pairs(&branch_link),
        [
            ("institution".to_string(), "b-lzlib".to_string()),
            ("branch".to_string(), "七里河分馆".to_string())
        ]
    );
    let (status, _, branch) = get(&instance, &branch_link).await;
    assert_eq!(status, 200);
    assert!(
        branch.contains("共 1 条结果") && branch.contains("丝路讲坛文集"),
        "{branch}"
    );
    assert!(branch.contains("分馆：七里河分馆"), "{branch}");
}

/// Text made to break out of an element or an attribute.
const BREAKOUT: &str = "\"onmouseover=alert(1) x=\"";

/// A record whose every shown field is hostile, at an institution whose name is too.
fn hostile_everywhere() -> Record {
    use schemas::{Curation, EventInfo};
    let mut record = Record::new("web:evil", "evil", format!("{XSS}{BREAKOUT}标题"));
    record.resource_type = ResourceType::Event;
    record.creators = vec![format!("{XSS}{BREAKOUT}")];
    record.description = Some(format!("{XSS}{BREAKOUT} 标题"));
    record.subjects = vec![format!("{XSS}{BREAKOUT}")];
    record.holdings = vec![Holding {
        institution: "evil".into(),
        branch: Some(format!("{XSS}{BREAKOUT}")),
        call_number: Some(format!("{XSS}{BREAKOUT}")),
        ..Holding::default()
    }];
    record.curation = Some(Curation {
        brand: Some(format!("{XSS}{BREAKOUT}")),
        ..Curation::default()
    });
    record.event = Some(EventInfo {
        start: Some("2099-01-01T10:00".into()),
        venue: Some(format!("{XSS}{BREAKOUT}")),
        registration_url: Some(format!("https://reg.example.cn/{BREAKOUT}")),
        ..EventInfo::default()
    });
    record
}

/// No page shows hostile text from a record, an institution or the URL unescaped: neither
/// the script nor the attribute that breaks out of its quotes.
#[tokio::test(flavor = "multi_thread")]
async fn hostile_record_institution_and_url_text_never_reaches_a_page_unescaped() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = format!("data_dir = {:?}\n", dir.path().display().to_string());
    text.push_str(&format!(
        "[[institutions]]\nid = \"evil\"\nname = {:?}\ntype = \"library\"\ndistrict = \"城关区\"\n",
        format!("{XSS}{BREAKOUT}图书馆")
    ));
    let instance = Instance::open(Config::parse(&text).unwrap()).unwrap();
    instance.store.import_records(&[hostile_everywhere()]).unwrap();
    instance
        .wait_indexed(std::time::Duration::from_secs(60))
        .await
        .unwrap();
    let hostile_query = "%3Cscript%3Ealert(1)%3C%2Fscript%3E%22onmouseover%3Dalert(1)%20x%3D%22";
    let mut pages = 0;
    for uri in [
        "/".to_string(),
        "/search?q=%E6%A0%87%E9%A2%98".to_string(),
        "/search?q=alert".to_string(),
        "/search".to_string(),
        format!("/search?q={hostile_query}&brand={hostile_query}&year_from=1&year_to={hostile_query}"),
        format!("/search?q={hostile_query}&branch={hostile_query}"),
        "/records/web:evil".to_string(),
        "/institutions/evil".to_string(),
        format!("/institutions/evil?page={hostile_query}"),
        "/events".to_string(),
    ] {
        let (status, _, body) = get(&instance, &uri).await;
        assert!(status == 200 || status == 400, "{uri}: {status}");
        assert!(!body.contains("<script>alert"), "{uri}: {body}");
        // Inside the JSON-LD a quote is `\"`, within a JSON string; elsewhere a quote
        // followed by an attribute would be markup.
        let (html, jsonld) = match body.split_once("<script type=\"application/ld+json\">") {
            Some((before, rest)) => {
                let (json, after) = rest.split_once("</script>").unwrap();
                (format!("{before}{after}"), json.to_string())
            }
            None => (body.clone(), String::new()),
        };
        assert!(!jsonld.contains('<') && !jsonld.contains('>'), "{uri}: {jsonld}");
        assert!(!html.contains("\"onmouseover="), "{uri}: {body}");
        assert!(!html.contains(" onmouseover="), "{uri}: {body}");
        pages += 1;
    }
    assert_eq!(pages, 10);
    // The text is there, escaped, on the record page and in the results.
    let (_, _, record) = get(&instance, "/records/web:evil").await;
    assert!(record.contains("&lt;script&gt;alert(1)&lt;/script&gt;&quot;onmouseover=alert(1) x=&quot;标题"));
    assert!(
        record.contains("&lt;script&gt;alert(1)&lt;/script&gt;&quot;onmouseover=alert(1) x=&quot;图书馆")
    );
    assert_eq!(record.matches("<script").count(), 2, "{record}");
    let (_, _, results) = get(&instance, "/search?q=%E6%A0%87%E9%A2%98").await;
    assert!(results.contains("class=\"hit\""), "{results}");
    assert!(results.contains("&quot;onmouseover=alert(1)"), "{results}");
}

/// A careful reading of an iCalendar text (RFC 5545): CRLF line ends, no physical line
/// over 75 octets, folding undone, every content line `NAME[;PARAM=…]:value`, components
/// balanced; each `VEVENT` as (name with parameters, unescaped value) pairs.
fn parse_ical(text: &str) -> Vec<Vec<(String, String)>> {
    assert!(text.ends_with("\r\n"), "{text:?}");
    for physical in text.trim_end_matches("\r\n").split("\r\n") {
        assert!(physical.len() <= 75, "{} octets: {physical:?}", physical.len());
        assert!(
            !physical.contains('\n') && !physical.contains('\r'),
            "{physical:?}"
        );
    }
    let unfolded = text.replace("\r\n ", "").replace("\r\n\t", "");
    let mut stack: Vec<String> = Vec::new();
    let mut events = Vec::new();
    let mut current: Option<Vec<(String, String)>> = None;
    for line in unfolded.trim_end_matches("\r\n").split("\r\n") {
        let (name, value) = line.split_once(':').unwrap_or_else(|| panic!("{line:?}"));
        assert!(
            name.split(';')
                .next()
                .unwrap()
                .chars()
                .all(|c| c.is_ascii_uppercase() || c == '-'),
            "{line:?}"
        );
        match name {
            "BEGIN" => {
                stack.push(value.to_string());
                if value == "VEVENT" {
                    current = Some(Vec::new());
                }
            }
            "END" => {
                assert_eq!(stack.pop().as_deref(), Some(value), "{text}");
                if value == "VEVENT" {
                    events.push(current.take().unwrap());
                }
            }
            _ => {
                assert!(!stack.is_empty(), "{line:?} outside a component");
                let mut unescaped = String::new();
                let mut chars = value.chars();
                while let Some(c) = chars.next() {
                    if c == '\\' {
                        match chars.next() {
                            Some('n' | 'N') => unescaped.push('\n'),
                            Some(c @ ('\\' | ';' | ',')) => unescaped.push(c),
                            other => panic!("bad escape {other:?} in {line:?}"),
                        }
                    } else {
                        // In TEXT values a bare `;` or `,` would be a separator.
                        let text = ["SUMMARY", "LOCATION", "DESCRIPTION"].contains(&name);
                        assert!(!(text && matches!(c, ';' | ',')), "{line:?}");
                        unescaped.push(c);
                    }
                }
                if let Some(event) = &mut current {
                    event.push((name.to_string(), unescaped));
                }
            }
        }
    }
    assert!(stack.is_empty(), "{text}");
    assert_eq!(unfolded.lines().next(), Some("BEGIN:VCALENDAR"));
    events
}

fn property<'a>(event: &'a [(String, String)], name: &str) -> Option<&'a str> {
    event.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

/// Events to follow (issue 15): an `.ics` per event, calendars per institution, district and
/// activity type, and the Atom feed, all as of an injected instant.
#[tokio::test(flavor = "multi_thread")]
async fn events_as_icalendar_and_atom() {
    let dir = tempfile::tempdir().unwrap();
    let instance = instance(dir.path());
    let mut records = citizen_records();
    // Text that needs escaping and folding, and a kind of activity.
    if let Some(opera) = records.iter_mut().find(|r| r.id == "web:ev-b") {
        opera.description = Some(format!("秦腔; 折子戏, 名段\\选\n{}", "唱".repeat(60)));
        opera.resource_type_original = Some("演出".into());
        opera.source_url = Some("https://culture.example.cn/events/b?x=1;y=2".into());
    }
    instance.store.import_records(&records).unwrap();
    instance
        .wait_indexed(std::time::Duration::from_secs(60))
        .await
        .unwrap();
    let april = "at=2099-04-01T00:00:00%2B08:00";

    let (status, content_type, one) = get(&instance, &format!("/events/web:ev-b.ics?{april}")).await;
    assert_eq!(status, 200, "{one}");
    assert_eq!(content_type, "text/calendar; charset=utf-8");
    let events = parse_ical(&one);
    assert_eq!(events.len(), 1, "{one}");
    let opera = &events[0];
    assert_eq!(property(opera, "UID"), Some("web:ev-b@jincheng"));
    assert_eq!(property(opera, "DTSTAMP"), Some("20990331T160000Z"));
    // 14:30 to 16:00 in Lanzhou is 06:30 to 08:00 UTC.
    assert_eq!(property(opera, "DTSTART"), Some("20990501T063000Z"));
    assert_eq!(property(opera, "DTEND"), Some("20990501T080000Z"));
    assert_eq!(property(opera, "SUMMARY"), Some("秦腔演出"));
    assert_eq!(property(opera, "LOCATION"), Some("秦腔演出会场"));
    assert_eq!(
        property(opera, "URL"),
        Some("https://culture.example.cn/events/b?x=1;y=2")
    );
    let description = property(opera, "DESCRIPTION").unwrap();
    assert!(
        description.starts_with(&format!("秦腔; 折子戏, 名段\\选\n{}", "唱".repeat(60))),
        "{description:?}"
    );
    assert!(description.ends_with("主办：兰州市文化馆"), "{description:?}");

    // An all-day exhibition: dates, with the exclusive end.
    let (_, _, paper) = get(&instance, "/events/web:ev-c.ics").await;
    let paper = parse_ical(&paper);
    assert_eq!(property(&paper[0], "DTSTART;VALUE=DATE"), Some("20990610"));
    assert_eq!(property(&paper[0], "DTEND;VALUE=DATE"), Some("20990711"));

    // Not an event, no start, no such record, no `.ics`: 404 pages.
    for uri in [
        "/events/web:tang.ics",
        "/events/web:ev-tbd.ics",
        "/events/web:nothing.ics",
        "/events/web:ev-b",
        "/events/.ics",
    ] {
        let (status, content_type, _) = get(&instance, uri).await;
        assert_eq!(status, 404, "{uri}");
        assert!(content_type.starts_with("text/html"), "{uri}: {content_type}");
    }

    // The calendars: upcoming only, as of the instant.
    let count = |text: &str| parse_ical(text).len();
    for (uri, expected) in [
        (format!("/calendars/institution/b-culture.ics?{april}"), 3),
        (format!("/calendars/district/chengguan.ics?{april}"), 3),
        (
            format!(
                "/calendars/district/{}.ics?{april}",
                "%E5%9F%8E%E5%85%B3%E5%8C%BA"
            ),
            3,
        ),
        (format!("/calendars/district/anning.ics?{april}"), 0),
        (format!("/calendars/type/{}.ics?{april}", "%E6%BC%94%E5%87%BA"), 1),
        (
            "/calendars/institution/b-culture.ics?at=2099-05-02T00:00:00Z".to_string(),
            1,
        ),
        (
            "/calendars/institution/b-culture.ics?at=2100-01-01T00:00:00Z".to_string(),
            0,
        ),
    ] {
        let (status, content_type, text) = get(&instance, &uri).await;
        assert_eq!(status, 200, "{uri}: {text}");
        assert_eq!(content_type, "text/calendar; charset=utf-8", "{uri}");
        assert_eq!(count(&text), expected, "{uri}: {text}");
    }
    for uri in [
        "/calendars/institution/nowhere.ics",
        "/calendars/district/atlantis.ics",
        "/calendars/weather/chengguan.ics",
        "/calendars/institution/b-culture.ical",
    ] {
        let (status, _, _) = get(&instance, uri).await;
        assert_eq!(status, 404, "{uri}");
    }
    let (status, _, _) = get(&instance, "/calendars/institution/b-culture.ics?at=soon").await;
    assert_eq!(status, 400);

    // The Atom feed, parsed back with quick-xml: entries are the upcoming events, filtered.
    let entries = |xml: &str| -> Vec<String> {
        use quick_xml::events::Event;
        let mut reader = quick_xml::Reader::from_str(xml);
        let mut path: Vec<String> = Vec::new();
        let mut titles = Vec::new();
        let mut root = None;
        loop {
            match reader.read_event().unwrap() {
                Event::Start(e) => {
                    let name = e.name().as_ref().to_string();
                    root.get_or_insert(name.clone());
                    path.push(name);
                }
                Event::End(_) => {
                    path.pop();
                }
                Event::Text(t) if path.join("/") == "feed/entry/title" => {
                    titles.push(t.xml10_content().into_owned());
                }
                Event::Eof => break,
                _ => {}
            }
        }
        assert_eq!(root.as_deref(), Some("feed"));
        titles
    };
    let (status, content_type, xml) = get(&instance, &format!("/events/feed.xml?{april}")).await;
    assert_eq!(status, 200, "{xml}");
    assert_eq!(content_type, "application/atom+xml; charset=utf-8");
    assert!(xml.contains("xmlns=\"http://www.w3.org/2005/Atom\""));
    assert_eq!(entries(&xml), ["黄河讲坛", "秦腔演出", "剪纸展览"]);
    let (_, _, typed) = get(
        &instance,
        &format!("/events/feed.xml?{april}&type=%E6%BC%94%E5%87%BA&district=chengguan&institution=b-culture"),
    )
    .await;
    assert_eq!(entries(&typed), ["秦腔演出"]);
    let (_, _, later) = get(&instance, "/events/feed.xml?at=2099-05-02T00:00:00Z").await;
    assert_eq!(entries(&later), ["剪纸展览"]);
    let (status, _, _) = get(&instance, "/events/feed.xml?district=atlantis").await;
    assert_eq!(status, 400);

    // The page takes the same instant.
    let (status, _, page) = get(&instance, "/events?at=2099-05-02T00:00:00%2B08:00").await;
    assert_eq!(status, 200);
    assert!(
        at(&page, "剪纸展览") < at(&page, "秦腔演出"),
        "秦腔 is past by then"
    );
    let (status, _, _) = get(&instance, "/events?at=tomorrow").await;
    assert_eq!(status, 400);
}
