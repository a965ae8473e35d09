//! Backup while serving, and restore into a fresh data directory (issue 18): `jincheng
//! backup` runs as its own process during a burst of curated writes from a running instance;
//! `jincheng restore` brings the copy back elsewhere, and every write acknowledged before the
//! backup began is there, searchable after the rebuilt index.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jincheng::Instance;
use serde_json::json;
use services::auth::{AuthMethod, Principal, Role};
use services::config::Config;
use services::search::SearchParams;

const CONFIG: &str = r#"
[[institutions]]
id = "lzmuseum"
name = "兰州市博物馆"
type = "museum"
district = "城关区"
"#;

/// A config file for `data_dir`, written beside it.
fn config_file(root: &Path, name: &str) -> PathBuf {
    let data = root.join(name);
    let path = root.join(format!("{name}.toml"));
    std::fs::write(
        &path,
        format!("data_dir = {:?}\n{CONFIG}", data.display().to_string()),
    )
    .unwrap();
    path
}

fn admin() -> Principal {
    Principal {
        user_id: 1,
        username: "admin".into(),
        role: Role::Admin,
        institutions: Default::default(),
        method: AuthMethod::Token { id: 0 },
    }
}

fn jincheng(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_jincheng"))
        .args(args)
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_backup_during_a_write_burst_restores_every_acknowledged_write() {
    let root = tempfile::tempdir().unwrap();
    let live = config_file(root.path(), "live");
    let instance = Instance::open(Config::load(&live).unwrap()).unwrap();

    // A curator keeps writing; each id is noted once its write is acknowledged.
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (store, acknowledged, stop) = (instance.store.clone(), acknowledged.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                let body = json!({"institution": "lzmuseum", "title": format!("馆藏备份测试 {n}"), "resource_type": "artefact"});
                let change = services::curate::create(&store, &admin(), body).unwrap();
                acknowledged.lock().unwrap().push(change.row.id);
                n += 1;
            }
        })
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while acknowledged.lock().unwrap().len() < 50 {
        assert!(std::time::Instant::now() < deadline, "the writer never got going");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let backup = root.path().join("jincheng-backup.db");
    let before: Vec<String> = acknowledged.lock().unwrap().clone();
    let output = {
        let (live, backup) = (live.clone(), backup.clone());
        tokio::task::spawn_blocking(move || {
            jincheng(&[
                "backup",
                "--config",
                live.to_str().unwrap(),
                "--to",
                backup.to_str().unwrap(),
            ])
        })
        .await
        .unwrap()
    };
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let during = acknowledged.lock().unwrap().len();
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
    let after = acknowledged.lock().unwrap().len();
    assert!(
        after > before.len(),
        "writes went on around the backup ({during} during)"
    );

    // A restore into the data directory of the running instance is refused.
    let refused = jincheng(&[
        "restore",
        "--config",
        live.to_str().unwrap(),
        "--from",
        backup.to_str().unwrap(),
    ]);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("stop it before restoring"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    instance.indexing.shutdown();
    drop(instance);

    // Restored elsewhere: every write acknowledged before the backup began is there, and the
    // rebuilt index finds them.
    let fresh = config_file(root.path(), "fresh");
    let output = jincheng(&[
        "restore",
        "--config",
        fresh.to_str().unwrap(),
        "--from",
        backup.to_str().unwrap(),
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let restored = Instance::open(Config::load(&fresh).unwrap()).unwrap();
    for id in &before {
        assert!(
            restored.store.record(id).unwrap().is_some(),
            "{id} was acknowledged before the backup"
        );
        assert!(
            restored.store.curated(id).unwrap().is_some(),
            "{id} keeps its curation row"
        );
    }
    let stored = restored.store.live_records().unwrap();
    assert!(
        stored >= before.len() as u64 && stored <= after as u64,
        "{stored}"
    );
    let params = SearchParams::parse(Some(
        "q=%E9%A6%86%E8%97%8F%E5%A4%87%E4%BB%BD%E6%B5%8B%E8%AF%95&page_size=0",
    ))
    .unwrap();
    let search = restored.state().search;
    let found = tokio::task::spawn_blocking(move || search.search(&params.request).unwrap())
        .await
        .unwrap();
    assert_eq!(found.results.total as u64, stored);

    // A file that is not a store is refused, and the store stays as it was.
    restored.indexing.shutdown();
    drop(restored);
    let junk = root.path().join("junk.db");
    std::fs::write(&junk, b"not a database at all, just bytes").unwrap();
    let output = jincheng(&[
        "restore",
        "--config",
        fresh.to_str().unwrap(),
        "--from",
        junk.to_str().unwrap(),
    ]);
    assert!(!output.status.success());
    let again = Instance::open(Config::load(&fresh).unwrap()).unwrap();
    assert_eq!(again.store.live_records().unwrap(), stored);
}
