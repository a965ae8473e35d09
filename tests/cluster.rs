//! Several nodes on one PostgreSQL store (issue #17): `jincheng serve` processes on loopback,
//! each with its own data directory and index, sharing a database of the tests' private
//! PostgreSQL cluster (`store::test_cluster`).
//!
//! One scenario, in the order a deployment lives it: a harvest of the peer OAI-PMH provider
//! (2,000 records, flaky) starts on node A; A is killed with `kill -9` half way; another node
//! takes the source's lease over once it expires and finishes from the checkpoint; every
//! node ends with exactly the provider's live records. Then a curator's writes on B are
//! searched for on A and C; a session made on A works on C and a token revoked on A is
//! refused on B and C; a node started late bootstraps from the store and answers as the
//! others do.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use store::{RunStatus, Store};

#[path = "support/http.rs"]
mod http;
#[path = "support/peer.rs"]
mod peer;

/// Live records of the peer's 2,000 (every 17th is deleted).
const LIVE: u64 = 1883;
const PASSWORD: &str = "correct horse battery";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A `jincheng serve` process; killed when dropped, so a failing test leaves nothing behind.
struct Node {
    child: Child,
    port: u16,
}

impl Node {
    fn start(dir: &Path, name: &str, database: &str, peer: &str) -> Node {
        let port = free_port();
        let data = dir.join(name);
        let config = format!(
            r#"data_dir = {data:?}
[server]
bind = "127.0.0.1:{port}"
[store]
url = "{database}"
node = "{name}"
harvest_lease = "3s"
connections = 8
[api]
rate_per_ip = "1000000/min"
[[institutions]]
id = "nlc"
name = "兰州市图书馆"
type = "library"
district = "城关区"
[[sources]]
id = "peer"
institution = "nlc"
protocol = "oai-pmh"
url = "{peer}"
"#,
            data = data.display().to_string()
        );
        let path = dir.join(format!("{name}.toml"));
        std::fs::write(&path, config).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_jincheng"))
            .args(["serve", "--config"])
            .arg(&path)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        Node { child, port }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn kill_9(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `check` every 20 ms until it gives a value, failing after `limit`.
async fn wait_for<T, F: std::future::Future<Output = Option<T>>>(
    what: &str,
    limit: Duration,
    mut check: impl FnMut() -> F,
) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn get_json(client: &reqwest::Client, url: &str) -> Option<Value> {
    client.get(url).send().await.ok()?.json().await.ok()
}

/// Waits until `node` answers and its index holds everything the store has.
async fn caught_up(client: &reqwest::Client, node: &Node) -> Value {
    wait_for(
        "the node's index catching up with the store",
        Duration::from_secs(180),
        || async {
            let health = get_json(client, &node.url("/healthz")).await?;
            (health["indexed_seq"].as_u64()? >= health["store_seq"].as_u64()?).then_some(health)
        },
    )
    .await
}

/// The total of a search and the ids of its first page, every record apart (no collapsing of
/// copies of one work).
async fn search(client: &reqwest::Client, node: &Node, query: &str) -> (u64, Vec<String>) {
    let url = node.url(&format!("/api/v1/search?q={query}&page_size=20&collapse=false"));
    let body = get_json(client, &url).await.expect("a search answer");
    let ids = body["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .map(|hit| hit["id"].as_str().unwrap().to_owned())
        .collect();
    (body["total"].as_u64().expect("a total"), ids)
}

/// Logs in on `node`: the session cookie and the CSRF token.
async fn log_in(client: &reqwest::Client, node: &Node) -> (String, String) {
    let response = client
        .post(node.url("/api/v1/auth/login"))
        .json(&json!({"username": "admin", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|c| c.to_str().unwrap().split(';').next().unwrap().to_owned())
        .collect::<Vec<_>>()
        .join("; ");
    let body: Value = response.json().await.unwrap();
    (cookie, body["csrf_token"].as_str().unwrap().to_owned())
}

/// The status of `/api/v1/auth/me` on `node` with one credential header.
async fn me(client: &reqwest::Client, node: &Node, (header, value): (&str, &str)) -> u16 {
    let response = client
        .get(node.url("/api/v1/auth/me"))
        .header(header, value)
        .send()
        .await
        .unwrap();
    response.status().as_u16()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

#[tokio::test(flavor = "multi_thread")]
async fn nodes_share_harvests_writes_sessions_and_results() {
    let database = store::test_cluster::database();
    let peer = peer::PeerServer::start_with(peer::PeerOptions {
        records: 2000,
        flaky: 7,
        ..peer::PeerOptions::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&database, None, 2).unwrap();
    let client = http::client();

    // A harvests; B and C start while it does, find the source's lease held, and wait.
    let mut a = Node::start(dir.path(), "a", &database, &peer.base_url());
    wait_for(
        "A harvesting its first pages",
        Duration::from_secs(120),
        || async { (store.max_seq().unwrap() >= 200).then_some(()) },
    )
    .await;
    let b = Node::start(dir.path(), "b", &database, &peer.base_url());
    let c = Node::start(dir.path(), "c", &database, &peer.base_url());
    let stored = store.live_records().unwrap();
    a.kill_9();
    assert!(stored < LIVE, "A was killed half way ({stored} of {LIVE} stored)");

    // Once A's lease has expired, B or C takes the source over and resumes from the
    // checkpoint: A's run is marked interrupted, the next one resumed and complete.
    let runs = wait_for(
        "the harvest finished by another node",
        Duration::from_secs(300),
        || async {
            let runs = store.runs(Some("peer"), 10).unwrap();
            (runs.first()?.status == RunStatus::Complete).then_some(runs)
        },
    )
    .await;
    assert!(
        runs[0].resumed,
        "the second run resumed from the checkpoint: {runs:?}"
    );
    assert!(
        runs.iter().any(|run| run.status == RunStatus::Interrupted),
        "A's run was marked interrupted: {runs:?}"
    );
    assert_eq!(store.live_records().unwrap(), LIVE);
    let ids = store.live_ids("peer").unwrap();
    let distinct: std::collections::HashSet<_> = ids.iter().collect();
    assert_eq!((ids.len(), distinct.len()), (LIVE as usize, LIVE as usize));
    for node in [&b, &c] {
        caught_up(&client, node).await;
        assert_eq!(search(&client, node, "").await.0, LIVE, "every live record, once");
    }
    // Each node's metrics read the shared store: its size, and the harvest's runs.
    let metrics = client
        .get(b.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let sample = |name: &str| {
        metrics
            .lines()
            .find_map(|line| line.strip_prefix(name)?.trim().parse::<f64>().ok())
            .unwrap_or_else(|| panic!("{name} in {metrics}"))
    };
    assert!(
        sample("jincheng_store_size_bytes") > 1e6,
        "the PostgreSQL database's size"
    );
    assert_eq!(
        sample("jincheng_harvest_runs_total{source=\"peer\",status=\"complete\"}"),
        1.0
    );

    // A curator's writes on B are found by searches on A's replacement nodes C (and B).
    services::auth::accounts::create_user(
        &store,
        &services::auth::NewUser {
            username: "admin".into(),
            password: services::auth::Password::new(PASSWORD),
            role: services::auth::Role::Admin,
            institutions: vec![],
        },
    )
    .unwrap();
    let (cookie_b, csrf_b) = log_in(&client, &b).await;
    let mut delays = Vec::new();
    for n in 0..100 {
        let word = format!("jcprobe{n}x");
        let response = client
            .post(b.url("/api/v1/curate/records"))
            .header("cookie", &cookie_b)
            .header("x-csrf-token", &csrf_b)
            .json(&json!({"institution": "nlc", "title": format!("金城集群 {word}")}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
        let written = Instant::now();
        for node in [&b, &c] {
            wait_for(
                "a write on B found on every node",
                Duration::from_secs(30),
                || async { (search(&client, node, &word).await.0 == 1).then_some(()) },
            )
            .await;
        }
        delays.push(written.elapsed());
    }
    delays.sort();
    eprintln!(
        "write on B to searchable on B and C, 100 writes: p50 {:?}, p99 {:?}, max {:?}",
        percentile(&delays, 0.5),
        percentile(&delays, 0.99),
        delays[delays.len() - 1]
    );

    // A session made on C works on B; a token made on B and revoked on C is refused on both.
    let (cookie_c, csrf_c) = log_in(&client, &c).await;
    assert_eq!(
        me(&client, &b, ("cookie", &cookie_c)).await,
        200,
        "C's session on B"
    );
    let token: Value = client
        .post(b.url("/api/v1/auth/tokens"))
        .header("cookie", &cookie_b)
        .header("x-csrf-token", &csrf_b)
        .json(&json!({"name": "import script"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bearer = format!("Bearer {}", token["token"].as_str().unwrap());
    for node in [&b, &c] {
        let status = me(&client, node, ("authorization", &bearer)).await;
        assert_eq!(status, 200, "the token works on every node");
    }
    let revoked = client
        .delete(c.url(&format!("/api/v1/auth/tokens/{}", token["id"])))
        .header("cookie", &cookie_c)
        .header("x-csrf-token", &csrf_c)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 204);
    for node in [&b, &c] {
        let status = me(&client, node, ("authorization", &bearer)).await;
        assert_eq!(status, 401, "the revoked token is refused on every node");
    }

    // A node started late bootstraps from the store and answers as the others do.
    let started = Instant::now();
    let d = Node::start(dir.path(), "d", &database, &peer.base_url());
    caught_up(&client, &d).await;
    eprintln!(
        "node D bootstrapped {} records in {:?}",
        LIVE + 100,
        started.elapsed()
    );
    for query in ["", "jcprobe7x", "history", "兰州"] {
        let expected = search(&client, &b, query).await;
        for node in [&c, &d] {
            assert_eq!(
                search(&client, node, query).await,
                expected,
                "{query:?} on every node"
            );
        }
    }
}
