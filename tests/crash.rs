//! A `kill -9` while the server is indexing loses nothing: after a restart the index catches
//! up with every record the store acknowledged.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use jincheng::bench::{synthetic_institutions, synthetic_record};
use serde_json::Value;
use store::Store;

#[path = "support/http.rs"]
mod http;

const RECORDS: usize = 150_000;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The server process; killed (SIGKILL) when dropped, so a failing test leaves nothing behind.
struct Server(Child);

impl Server {
    fn start(config: &std::path::Path) -> Server {
        let child = Command::new(env!("CARGO_BIN_EXE_jincheng"))
            .args(["serve", "--config"])
            .arg(config)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        Server(child)
    }

    fn kill_9(&mut self) {
        self.0.kill().unwrap();
        self.0.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `/healthz`, or `None` while the server is not answering yet.
async fn health(client: &reqwest::Client, port: u16) -> Option<Value> {
    let response = client
        .get(format!("http://127.0.0.1:{port}/healthz"))
        .send()
        .await
        .ok()?;
    response.json().await.ok()
}

#[tokio::test(flavor = "multi_thread")]
async fn kill_9_during_indexing_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let institutions = synthetic_institutions();
    {
        let store = Store::open(&{
            std::fs::create_dir_all(&data).unwrap();
            data.join("jincheng.db")
        })
        .unwrap();
        store.upsert_institutions(&institutions).unwrap();
        let records: Vec<_> = (0..RECORDS).map(|i| synthetic_record(i, &institutions)).collect();
        for chunk in records.chunks(10_000) {
            store.import_records(chunk).unwrap();
        }
    }
    let port = free_port();
    let mut config = format!(
        "data_dir = {:?}\n[server]\nbind = \"127.0.0.1:{port}\"\n",
        data.display().to_string()
    );
    for institution in &institutions {
        config.push_str(&format!(
            "[[institutions]]\nid = {:?}\nname = {:?}\ntype = {:?}\n",
            institution.id,
            institution.name,
            institution.institution_type.as_str()
        ));
    }
    let config_path = dir.path().join("jincheng.toml");
    std::fs::write(&config_path, config).unwrap();

    // First start: kill -9 once the follower has committed its first batch but before it
    // has finished: the index then holds some records, and uncommitted segment files.
    let client = http::client();
    let mut server = Server::start(&config_path);
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        assert!(Instant::now() < deadline, "server never answered");
        if let Some(h) = health(&client, port).await {
            let indexed = h["indexed_seq"].as_u64().unwrap();
            // The store's own last change, not the record count: the server's start may
            // re-enter records into the change log (a configured institution that differs
            // from the stored one re-sequences its records).
            let stored = h["store_seq"].as_u64().unwrap();
            assert!(indexed < stored, "indexing finished before the kill could land");
            if indexed > 0 {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    server.kill_9();

    // Restart: the index must converge on exactly what the store holds.
    let mut server = Server::start(&config_path);
    let deadline = Instant::now() + Duration::from_secs(300);
    let final_health = loop {
        assert!(Instant::now() < deadline, "index never caught up after restart");
        if let Some(h) = health(&client, port).await
            && h["status"] == "ok"
            && h["indexed_seq"] == h["store_seq"]
        {
            break h;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(final_health["records"], RECORDS as u64);
    assert_eq!(final_health["index_docs"], RECORDS as u64);
    let search: Value = client
        .get(format!(
            "http://127.0.0.1:{port}/api/v1/search?page_size=1&collapse=false"
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(search["total"], RECORDS as u64);
    server.kill_9();
}
