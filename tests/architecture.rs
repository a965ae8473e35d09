//! The layering of ARCHITECTURE.md, checked: each crate may depend only on the crates below
//! it, and none may reach for a technology that belongs to another layer.
//!
//! Cargo already refuses a cycle between crates; this test refuses a dependency that points
//! the wrong way without making a cycle (the store taking `axum`, a harvester taking
//! `tantivy`), and a source file that names a layer's technology from outside it (which a
//! dependency pulled in transitively would otherwise allow).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The workspace root.
fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The names under `[dependencies]` of a crate's manifest (workspace aliases as written).
fn dependencies(krate: &str) -> BTreeSet<String> {
    let manifest = root().join(krate).join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).unwrap_or_else(|e| panic!("{}: {e}", manifest.display()));
    let value: toml::Table = text
        .parse()
        .unwrap_or_else(|e| panic!("{}: {e}", manifest.display()));
    value
        .get("dependencies")
        .and_then(toml::Value::as_table)
        .map(|deps| deps.keys().cloned().collect())
        .unwrap_or_default()
}

/// Every `.rs` file under `dir`.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out
}

/// Files under `krate/src` whose code (comments aside) names one of `paths` (`axum::`).
fn files_naming(krate: &str, paths: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for file in sources(&root().join(krate).join("src")) {
        let text = std::fs::read_to_string(&file).expect("readable source");
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            if let Some(path) = paths.iter().find(|p| code.contains(*p)) {
                found.push(format!("{}:{}: {path}", file.display(), n + 1));
            }
        }
    }
    found
}

/// Each library crate and what it must not depend on: the layers above it and the
/// technologies of its neighbours.
const FORBIDDEN: &[(&str, &[&str])] = &[
    (
        "schemas",
        &[
            "harvesters",
            "indexer",
            "store",
            "services",
            "tantivy",
            "rusqlite",
            "reqwest",
            "axum",
            "tokio",
            "hyper",
        ],
    ),
    (
        "harvesters",
        &[
            "indexer", "store", "services", "tantivy", "rusqlite", "axum", "hyper",
        ],
    ),
    (
        "indexer",
        &[
            "harvesters",
            "store",
            "services",
            "rusqlite",
            "reqwest",
            "axum",
            "hyper",
            "tokio",
        ],
    ),
    (
        "store",
        &[
            "harvesters",
            "indexer",
            "services",
            "tantivy",
            "reqwest",
            "axum",
            "hyper",
            // tokio is allowed: it drives the PostgreSQL connections inside `db/pg.rs`, behind
            // the store's synchronous interface (ARCHITECTURE.md, Decisions).
            "image",
        ],
    ),
    (
        "services",
        &[
            "axum",
            "hyper",
            "hyper-util",
            "tower",
            "tower-http",
            "tantivy",
            "rusqlite",
        ],
    ),
    (
        "oai-provider",
        &[
            "store",
            "services",
            "indexer",
            "harvesters",
            "rusqlite",
            "tantivy",
        ],
    ),
];

#[test]
fn no_crate_depends_on_a_layer_above_it() {
    let mut wrong = Vec::new();
    for (krate, forbidden) in FORBIDDEN {
        let deps = dependencies(krate);
        for name in *forbidden {
            if deps.contains(*name) {
                wrong.push(format!("{krate} depends on {name}"));
            }
        }
    }
    assert!(wrong.is_empty(), "dependencies against the layering: {wrong:#?}");
}

#[test]
fn each_technology_stays_in_its_layer() {
    let mut wrong = Vec::new();
    // tantivy belongs to the indexer, SQLite to the store, HTTP serving to the app.
    for krate in [
        "schemas",
        "harvesters",
        "store",
        "services",
        "oai-provider",
        "demo",
        ".",
    ] {
        if krate != "indexer" {
            wrong.extend(files_naming(krate, &["tantivy::"]));
        }
    }
    for krate in [
        "schemas",
        "harvesters",
        "indexer",
        "services",
        "oai-provider",
        "demo",
        ".",
    ] {
        wrong.extend(files_naming(krate, &["rusqlite::"]));
    }
    for krate in ["schemas", "harvesters", "indexer", "store", "services"] {
        wrong.extend(files_naming(krate, &["axum::", "hyper::", "tower_http::"]));
    }
    assert!(
        wrong.is_empty(),
        "a layer's technology named outside it: {wrong:#?}"
    );
}

#[test]
fn the_app_translates_and_the_services_decide() {
    // The HTTP face holds no curation rule of its own: the limits live in the service.
    let app = files_naming(".", &["const MAX_IMAGES", "const MAX_ALT_CHARS", "fn check_alt"]);
    assert!(app.is_empty(), "curation rules in the app: {app:#?}");
    // And no handler talks to the index directly: searches go through the search service.
    let direct: Vec<String> = files_naming(".", &["indexing.index().search(", ".index().search("]);
    assert!(
        direct.is_empty(),
        "searches outside the search service: {direct:#?}"
    );
}

/// Files of the app under `paths` (relative to `src/`) whose code names one of `names`.
fn app_files_naming(paths: &[&str], names: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for path in paths {
        let full = root().join("src").join(path);
        let files = if full.is_dir() { sources(&full) } else { vec![full] };
        for file in files {
            let text = std::fs::read_to_string(&file).expect("readable source");
            for (n, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or("");
                if let Some(name) = names.iter().find(|p| code.contains(*p)) {
                    found.push(format!("{}:{}: {name}", file.display(), n + 1));
                }
            }
        }
    }
    found
}

#[test]
fn the_apps_modules_point_one_way() {
    // The faces (API, pages, OAI-PMH) are composed by the server; they never reach back.
    let upward = app_files_naming(&["api", "web", "oai.rs"], &["crate::server"]);
    assert!(
        upward.is_empty(),
        "a face names the server that composes it: {upward:#?}"
    );
    // What every face shares (state, errors, extractors, access, response policy) names no
    // face.
    let shared = [
        "state.rs",
        "error.rs",
        "extract.rs",
        "access.rs",
        "response_policy.rs",
    ];
    let into_faces = app_files_naming(&shared, &["crate::api", "crate::web", "crate::oai"]);
    assert!(
        into_faces.is_empty(),
        "shared app code names a face: {into_faces:#?}"
    );
}
