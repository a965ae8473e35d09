//! The citizen pages in a real browser: Debian's headless Chromium, driven by the npm package
//! `playwright-core`, against a real Jincheng server on loopback that has harvested the bundled
//! demo collections.
//!
//! This test makes sure the tools are there (it installs Debian's `chromium`, `chromium-driver`
//! and a CJK font with apt-get when they are missing, and runs `npm ci` in `tests/browser` when
//! `node_modules` was not installed from the current `package-lock.json`), starts the server,
//! creates a curator of a museum, a curator of a library and an administrator, and runs every scenario in
//! `tests/browser/scenarios/` with `node tests/browser/run.mjs`. The scenarios run axe-core in every page they visit and fail
//! on serious or critical violations; they also fail if the page asks for anything that is not
//! on 127.0.0.1. Screenshots and axe reports are kept in `target/browser-artifacts/`.
//! `tests/browser/README.md` explains how to add a scenario.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use schemas::{DateRange, Record, ResourceType};
use services::auth::{NewUser, Password, Role};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// The CJK font of `fonts-wqy-zenhei`.
const CJK_FONT: &str = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc";
/// Debian's packages the browser tests need: the browser, its driver (for WebDriver clients),
/// and a CJK font so that screenshots of Chinese pages show characters rather than boxes.
const DEBIAN_PACKAGES: &[&str] = &["chromium", "chromium-driver", "fonts-wqy-zenhei"];
/// Where `npm ci` records which lockfile `node_modules` was installed from (`.ci/run` reads
/// the same stamp, so CI and this test agree on when to reinstall).
const LOCK_STAMP: &str = "node_modules/.jincheng-package-lock.json";
/// The longest the scenarios may take together before the test gives up on them.
const SCENARIO_TIMEOUT: Duration = Duration::from_secs(600);

const CURATOR: &str = "browser-curator";
const CURATOR_PASSWORD: &str = "a long curator passphrase";
const CURATOR_INSTITUTION: &str = "lzmuseum";
/// A curator of a demo library, for the purchase suggestion scenario.
const LIBRARIAN: &str = "browser-librarian";
const LIBRARIAN_PASSWORD: &str = "a long librarian passphrase";
const LIBRARIAN_INSTITUTION: &str = "lzlib";
const ADMIN: &str = "browser-admin";
const ADMIN_PASSWORD: &str = "a long admin passphrase";

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

/// `target/browser-artifacts`, or `$BROWSER_ARTIFACTS` when set.
fn artifacts_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("BROWSER_ARTIFACTS") {
        return PathBuf::from(dir);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    let target = if target.is_relative() {
        Path::new(env!("CARGO_MANIFEST_DIR")).join(target)
    } else {
        target
    };
    target.join("browser-artifacts")
}

/// Runs `command`, panicking with its output when it cannot start or fails.
fn run(command: &mut Command, what: &str) {
    let output = command
        .output()
        .unwrap_or_else(|err| panic!("{what}: cannot start {command:?}: {err}"));
    assert!(
        output.status.success(),
        "{what} failed ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Installs Debian's Chromium, ChromeDriver and a CJK font unless they are already there.
fn ensure_chromium() {
    let installed = || {
        [CHROMIUM, CHROMEDRIVER, CJK_FONT]
            .iter()
            .all(|p| Path::new(p).exists())
    };
    if installed() {
        return;
    }
    assert!(
        is_root(),
        "the browser tests need {CHROMIUM} and {CHROMEDRIVER}; install them as root with \
         `apt-get install -y --no-install-recommends {}` (or run .ci/run as root)",
        DEBIAN_PACKAGES.join(" ")
    );
    let install = || {
        Command::new("apt-get")
            .args(["install", "-y", "-q", "--no-install-recommends"])
            .args(DEBIAN_PACKAGES)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    // Package lists may be missing or stale on a fresh machine: update once and retry.
    if !install() {
        run(Command::new("apt-get").args(["update", "-q"]), "apt-get update");
        run(
            Command::new("apt-get")
                .args(["install", "-y", "-q", "--no-install-recommends"])
                .args(DEBIAN_PACKAGES)
                .env("DEBIAN_FRONTEND", "noninteractive"),
            "apt-get install chromium",
        );
    }
    assert!(
        installed(),
        "apt-get installed {} but {CHROMIUM}, {CHROMEDRIVER} or {CJK_FONT} is still missing",
        DEBIAN_PACKAGES.join(" ")
    );
}

/// Runs `npm ci` in `tests/browser` unless `node_modules` was installed from the current
/// `package-lock.json`.
fn ensure_node_modules() {
    let dir = browser_dir();
    let lock = std::fs::read(dir.join("package-lock.json")).expect("tests/browser/package-lock.json");
    if std::fs::read(dir.join(LOCK_STAMP)).is_ok_and(|stamp| stamp == lock) {
        return;
    }
    run(
        Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir),
        "npm ci in tests/browser (needs Node.js 20 and npm; the npm registry or its cache)",
    );
    std::fs::write(dir.join(LOCK_STAMP), lock).expect("writing the lockfile stamp");
}

/// A modern edition catalogued in simplified characters, beside the demo's traditional
/// 靜夜思, so a scenario can check that a query in either script (or in pinyin) finds both.
/// Its publisher makes it another work than the demo's copy, so the two are separate hits.
fn simplified_poem() -> Record {
    let mut record = Record::new("browser:jys-simplified", "lzlib", "静夜思");
    record.resource_type = ResourceType::Book;
    record.creators = vec!["李白".into()];
    record.publisher = Some("兰州：甘肃少年儿童出版社".into());
    record.subjects = vec!["唐诗".into()];
    record.language = Some("zh".into());
    record.date = Some(DateRange {
        display: "1999".into(),
        year_start: Some(1999),
        year_end: Some(1999),
    });
    record
}

#[tokio::test(flavor = "multi_thread")]
async fn citizen_pages_in_a_real_browser() {
    // The tools first: without them nothing below means anything.
    tokio::task::spawn_blocking(|| {
        ensure_chromium();
        ensure_node_modules();
    })
    .await
    .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let demo = jincheng::demo::start(listener, dir.path().join("data"), async {
        let _ = stopped.await;
    })
    .await
    .unwrap();
    let instance = &demo.instance;
    for (username, password, role, institutions) in [
        (
            CURATOR,
            CURATOR_PASSWORD,
            Role::Curator,
            vec![CURATOR_INSTITUTION.to_string()],
        ),
        (
            LIBRARIAN,
            LIBRARIAN_PASSWORD,
            Role::Curator,
            vec![LIBRARIAN_INSTITUTION.to_string()],
        ),
        (ADMIN, ADMIN_PASSWORD, Role::Admin, vec![]),
    ] {
        services::auth::accounts::create_user(
            &instance.store,
            &NewUser {
                username: username.into(),
                password: Password::new(password),
                role,
                institutions,
            },
        )
        .unwrap();
    }
    instance.store.import_records(&[simplified_poem()]).unwrap();
    instance.wait_indexed(Duration::from_secs(60)).await.unwrap();

    let artifacts = artifacts_dir();
    let _ = std::fs::remove_dir_all(&artifacts);
    std::fs::create_dir_all(&artifacts).unwrap();
    let credentials = serde_json::json!({
        "curator": {"username": CURATOR, "password": CURATOR_PASSWORD,
                    "institutions": [CURATOR_INSTITUTION]},
        "librarian": {"username": LIBRARIAN, "password": LIBRARIAN_PASSWORD,
                      "institutions": [LIBRARIAN_INSTITUTION]},
        "admin": {"username": ADMIN, "password": ADMIN_PASSWORD},
    });

    let mut node = tokio::process::Command::new("node");
    node.arg("run.mjs")
        .current_dir(browser_dir())
        .env("JINCHENG_BASE_URL", &demo.base_url)
        .env("JINCHENG_CREDENTIALS", credentials.to_string())
        .env("JINCHENG_ARTIFACTS", &artifacts)
        .env("JINCHENG_CHROMIUM", CHROMIUM)
        .kill_on_drop(true);
    let output = tokio::time::timeout(SCENARIO_TIMEOUT, node.output())
        .await
        .unwrap_or_else(|_| panic!("the browser scenarios took longer than {SCENARIO_TIMEOUT:?}"))
        .expect("cannot start node (Node.js 20 is needed for the browser tests)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "browser scenarios failed ({}); screenshots and axe reports are in {}\n{stdout}\n{stderr}",
        output.status,
        artifacts.display()
    );
    assert!(
        stdout.contains("scenarios passed"),
        "the runner ran no scenario:\n{stdout}"
    );
    // The scenario report, for `cargo test --test browser -- --nocapture`.
    println!("{stdout}");

    let _ = stop.send(());
    demo.server.await.unwrap().unwrap();
    demo.instance.indexing.shutdown();
}
