//! The demo's sources in the other formats Jincheng harvests: a CNMARC (GB18030) ISO 2709
//! file, a MARCXML file, a LIDO file, a GBK CSV export, an RSS 2.0 feed (all served as static
//! files at `/demo/files/{name}`) and a paged JSON API at `/demo/api/works`. The files are
//! written by `demo/generate.py` and compiled in with `include_bytes!`; like the OAI-PMH
//! collections, every record in them is SAMPLE data.
//!
//! The app harvests them as whole dumps over HTTP; the data never changes while the process
//! runs, so a second harvest finds everything unchanged.
//!
//! Every work of the JSON API links a picture at `/demo/images/{id}.png` (a relative link,
//! resolved by the harvester against the page's URL), so the demo shows the background fetching and thumbnails
//! of harvested image links. The pictures are drawn on request ([`picture`]): a soft
//! two-colour gradient, different for every work, not a reproduction of anything.

use std::fmt::Write as _;
use std::sync::LazyLock;

use axum::Router;
use axum::extract::{Path, RawQuery};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

/// Every static file: (name, content type, bytes).
pub(crate) const FILES: &[(&str, &str, &[u8])] = &[
    (
        "ydlib_cnmarc.mrc",
        "application/marc",
        include_bytes!("../files/ydlib_cnmarc.mrc"),
    ),
    (
        "lzlib_marcxml.xml",
        "application/marcxml+xml; charset=utf-8",
        include_bytes!("../files/lzlib_marcxml.xml"),
    ),
    (
        "lzmuseum_lido.xml",
        "application/xml; charset=utf-8",
        include_bytes!("../files/lzmuseum_lido.xml"),
    ),
    (
        "lzhy_works.csv",
        "text/csv; charset=gbk",
        include_bytes!("../files/lzhy_works.csv"),
    ),
    (
        "qlhculture_events.rss",
        "application/rss+xml; charset=utf-8",
        include_bytes!("../files/qlhculture_events.rss"),
    ),
];

/// The JSON API's records, served paged by [`works`].
const WORKS_JSON: &str = include_str!("../files/lzart_works.json");

/// Default and largest page size of the JSON API.
const DEFAULT_SIZE: usize = 20;
const MAX_SIZE: usize = 100;

static WORKS: LazyLock<Vec<Value>> = LazyLock::new(|| {
    serde_json::from_str(WORKS_JSON)
        .unwrap_or_else(|e| panic!("the embedded demo file files/lzart_works.json is broken: {e}"))
});

/// The JSON API's records, parsed on first use.
pub(crate) fn works() -> &'static [Value] {
    &WORKS
}

/// An institution that only the file sources use.
struct ExtraInstitution {
    id: &'static str,
    name: &'static str,
    institution_type: &'static str,
    district: &'static str,
    level: &'static str,
}

/// The institutions that have no OAI-PMH collection.
const EXTRA_INSTITUTIONS: &[ExtraInstitution] = &[
    ExtraInstitution {
        id: "ydlib",
        name: "永登县图书馆",
        institution_type: "library",
        district: "永登县",
        level: "county",
    },
    ExtraInstitution {
        id: "lzhy",
        name: "兰州画院",
        institution_type: "art_gallery",
        district: "城关区",
        level: "city",
    },
    ExtraInstitution {
        id: "qlhculture",
        name: "七里河区文化馆",
        institution_type: "cultural_centre",
        district: "七里河区",
        level: "county",
    },
];

/// Routes: `/demo/files/{name}` and `/demo/api/works?page=N&size=M`.
pub(crate) fn routes() -> Router {
    Router::new()
        .route("/demo/files/{name}", get(file))
        .route("/demo/api/works", get(api_works))
        .route("/demo/images/{name}", get(image))
}

/// Side of the demo pictures, in pixels.
const PICTURE_SIZE: (u32, u32) = (480, 320);

/// The PNG picture of the work `id` (a known work id), or `None` for anything else.
pub fn picture(id: &str) -> Option<Vec<u8>> {
    works().iter().find(|w| w["id"].as_str() == Some(id))?;
    // Two colours from the id's bytes: every work looks different, and always the same.
    let hash = id
        .bytes()
        .fold(2166136261u32, |h, b| (h ^ u32::from(b)).wrapping_mul(16777619));
    let [a, b, c, d] = hash.to_le_bytes();
    let from = [a / 2 + 100, b / 2 + 90, c / 2 + 80];
    let to = [d / 3 + 40, a / 3 + 50, b / 3 + 60];
    let (width, height) = PICTURE_SIZE;
    let picture = image::RgbImage::from_fn(width, height, |x, y| {
        let t = (x + y) as f32 / (width + height) as f32;
        image::Rgb(std::array::from_fn(|i| {
            (f32::from(from[i]) * (1.0 - t) + f32::from(to[i]) * t) as u8
        }))
    });
    let mut png = std::io::Cursor::new(Vec::new());
    picture.write_to(&mut png, image::ImageFormat::Png).ok()?;
    Some(png.into_inner())
}

/// `GET /demo/images/{id}.png`.
async fn image(Path(name): Path<String>) -> Response {
    match name.strip_suffix(".png").and_then(picture) {
        Some(png) => ([(CONTENT_TYPE, "image/png")], png).into_response(),
        None => (StatusCode::NOT_FOUND, "no such picture").into_response(),
    }
}

async fn file(Path(name): Path<String>) -> Response {
    match FILES.iter().find(|(n, _, _)| *n == name) {
        Some((_, content_type, bytes)) => ([(CONTENT_TYPE, *content_type)], *bytes).into_response(),
        None => {
            let known: Vec<&str> = FILES.iter().map(|(n, _, _)| *n).collect();
            (
                StatusCode::NOT_FOUND,
                [(CONTENT_TYPE, "text/plain; charset=utf-8")],
                format!("No demo file {name:?}. Files: {}\n", known.join(", ")),
            )
                .into_response()
        }
    }
}

/// `?page=N&size=M` (page from 1, size 1..=100, defaults 1 and 20) → one page of works as
/// `{"code": 0, "data": {"items": [...]}, "total": N, "page": N, "size": M}`; a page past the
/// end has no items. A malformed number is HTTP 400.
async fn api_works(RawQuery(query): RawQuery) -> Response {
    let mut page = 1usize;
    let mut size = DEFAULT_SIZE;
    for pair in query
        .as_deref()
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
    {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let target = match key {
            "page" => &mut page,
            "size" => &mut size,
            _ => continue,
        };
        match value.parse::<usize>() {
            Ok(n) if n >= 1 => *target = n,
            _ => {
                let body = json!({"code": 400, "message": format!("{key} must be a positive integer")});
                return (StatusCode::BAD_REQUEST, axum::Json(body)).into_response();
            }
        }
    }
    let size = size.min(MAX_SIZE);
    let all = works();
    let start = (page - 1).saturating_mul(size).min(all.len());
    let end = start.saturating_add(size).min(all.len());
    // Picture links are relative, as many real APIs write them; the harvester resolves them
    // against the page's URL.
    let items: Vec<Value> = all[start..end]
        .iter()
        .map(|work| {
            let mut work = work.clone();
            if let Some(id) = work["id"].as_str().map(str::to_owned) {
                work["image"] = json!(format!("/demo/images/{id}.png"));
            }
            work
        })
        .collect();
    let body = json!({
        "code": 0,
        "data": {"items": items},
        "total": all.len(),
        "page": page,
        "size": size,
    });
    axum::Json(body).into_response()
}

/// Branches named in the sample MARC holdings, with their districts.
const BRANCHES: [(&str, &str, &str); 7] = [
    ("lzlib", "兰州市图书馆总馆", "城关区"),
    ("lzlib", "兰州市图书馆七里河分馆", "七里河区"),
    ("lzlib", "兰州市图书馆安宁分馆", "安宁区"),
    ("ydlib", "永登县图书馆总馆", "永登县"),
    ("ydlib", "永登县图书馆连城分馆", "永登县"),
    ("ydlib", "永登县图书馆苦水分馆", "永登县"),
    ("ydlib", "永登县图书馆红城分馆", "永登县"),
];

/// The `[[institutions]]`, `[[branches]]` and `[[sources]]` of the file sources, appended to
/// the config.
pub(crate) fn config_toml(toml: &mut String, base: &str, quoted: impl Fn(&str) -> String) {
    for i in EXTRA_INSTITUTIONS {
        let _ = write!(
            toml,
            "\n[[institutions]]\nid = {}\nname = {}\ntype = {}\ndistrict = {}\nlevel = {}\n",
            quoted(i.id),
            quoted(i.name),
            quoted(i.institution_type),
            quoted(i.district),
            quoted(i.level),
        );
    }
    // The branches whose holdings the MARC files list (852 $b, 905): a copy at a branch counts
    // under the branch's district, so 七里河分馆's books are found under 七里河区.
    for (institution, name, district) in BRANCHES {
        let _ = write!(
            toml,
            "\n[[branches]]\ninstitution = {}\nname = {}\ndistrict = {}\n",
            quoted(institution),
            quoted(name),
            quoted(district),
        );
    }
    let file = |name: &str| quoted(&format!("{base}/demo/files/{name}"));
    let _ = write!(
        toml,
        r#"
# 永登县图书馆: CNMARC, ISO 2709 in GB18030, holdings per branch in 905.
[[sources]]
id = "ydlib-cnmarc"
institution = "ydlib"
protocol = "marc"
format = "cnmarc"
encoding = "gb18030"
url = {ydlib}

# 兰州市图书馆 西北地方文献: MARC21 as MARCXML, holdings in 852.
[[sources]]
id = "lzlib-marcxml"
institution = "lzlib"
protocol = "marc"
format = "marc21"
url = {lzlib}

# 兰州市博物馆 精品文物: LIDO.
[[sources]]
id = "lzmuseum-lido"
institution = "lzmuseum"
protocol = "lido"
url = {lido}

# 兰州画院: a GBK CSV export; 作者 and 题材 hold several values separated by "；".
[[sources]]
id = "lzhy-csv"
institution = "lzhy"
protocol = "csv"
url = {csv}
encoding = "gbk"
id_field = "作品编号"
resource_type = "artwork"
[sources.mapping]
title = "作品名称"
creators = "作者"
date = "创作年代"
resource_type = "类别"
materials = "材质"
measurements = "尺寸"
subjects = "题材"
description = "简介"
rights = "版权说明"
[sources.separators]
creators = "；"
subjects = "；"

# 兰州美术馆 online collection: a JSON API, paged by page number.
[[sources]]
id = "lzart-api"
institution = "lzart"
protocol = "json"
url = {api}
records_path = "data.items"
id_field = "id"
resource_type = "artwork"
paging = {{ kind = "page_number", param = "page", size_param = "size", size = 20 }}
[sources.mapping]
title = "title"
creators = "artists.name"
date = "year"
resource_type = "category"
materials = "medium"
measurements = "size.text"
subjects = "tags"
description = "intro"
source_url = "url"
images = "image"
rights = "rights"

# 七里河区文化馆: an RSS 2.0 feed of events (活动时间/地点/主办单位 lines).
[[sources]]
id = "qlhculture-rss"
institution = "qlhculture"
protocol = "feed"
url = {rss}
"#,
        ydlib = file("ydlib_cnmarc.mrc"),
        lzlib = file("lzlib_marcxml.xml"),
        lido = file("lzmuseum_lido.xml"),
        csv = file("lzhy_works.csv"),
        api = quoted(&format!("{base}/demo/api/works")),
        rss = file("qlhculture_events.rss"),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_work_has_its_own_picture_and_nothing_else_has_one() {
        let first = picture("LZAM-W0001").unwrap();
        let decoded = image::load_from_memory(&first).unwrap();
        assert_eq!((decoded.width(), decoded.height()), PICTURE_SIZE);
        assert_eq!(picture("LZAM-W0001").unwrap(), first, "the same every time");
        assert_ne!(picture("LZAM-W0002").unwrap(), first);
        assert!(picture("LZAM-W9999").is_none() && picture("../etc/passwd").is_none());
    }

    #[test]
    fn the_files_are_embedded_small_and_match_the_directory() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/files");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        on_disk.sort();
        let mut embedded: Vec<String> = FILES.iter().map(|(n, _, _)| n.to_string()).collect();
        embedded.push("lzart_works.json".into());
        embedded.sort();
        assert_eq!(on_disk, embedded);
        let bytes: usize = FILES.iter().map(|(_, _, b)| b.len()).sum::<usize>() + WORKS_JSON.len();
        assert!(bytes < 500_000, "{bytes} bytes of sample files");
    }

    #[test]
    fn the_api_has_45_works_with_unique_ids() {
        let ids: std::collections::HashSet<&str> =
            works().iter().map(|w| w["id"].as_str().unwrap()).collect();
        assert_eq!(ids.len(), 45);
        assert!(
            works()
                .iter()
                .all(|w| w["title"].is_string() && w["artists"][0]["name"].is_string())
        );
    }

    #[test]
    fn the_csv_is_gbk_and_the_feed_and_xml_files_are_utf8() {
        let csv = FILES.iter().find(|(n, _, _)| *n == "lzhy_works.csv").unwrap().2;
        assert!(
            std::str::from_utf8(csv).is_err(),
            "the CSV is meant to be GBK, not UTF-8"
        );
        for (name, _, bytes) in FILES
            .iter()
            .filter(|(n, _, _)| n.ends_with(".xml") || n.ends_with(".rss"))
        {
            let text = std::str::from_utf8(bytes).unwrap();
            assert!(
                text.contains("Sample data") || text.contains("SAMPLE data"),
                "{name}"
            );
        }
    }
}
