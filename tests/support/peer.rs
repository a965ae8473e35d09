//! The pyoai OAI-PMH test peer (`../shared/peers/oai_server.py`) as a test fixture.
//!
//! Shared by several crates' tests, so it uses only std and `serde_json`:
//!
//! ```ignore
//! #[path = "../../tests/support/peer.rs"] // from a member crate's tests/
//! mod peer;
//! let server = peer::PeerServer::start(2000);
//! let url = server.base_url(); // http://127.0.0.1:PORT/oai
//! assert_eq!(server.truth().len(), 2000);
//! ```
//!
//! [`PeerServer::start`] makes the peers' virtualenv (`setup.sh`, idempotent), picks a free
//! loopback port, starts the server, waits until `Identify` answers and loads the ground
//! truth (`--dump-json`). Dropping the server kills the process.

#![allow(dead_code)] // each test binary uses a different part of it

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// One record as the peer serves it: the ground truth to compare a harvest with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TruthRecord {
    /// OAI identifier, e.g. `oai:peer.example.org:000001`.
    pub identifier: String,
    /// `YYYY-MM-DDThh:mm:ssZ`.
    pub datestamp: String,
    /// Whether the header says `status="deleted"`.
    pub deleted: bool,
    /// The record's sets, e.g. `["nlc", "type:book"]`.
    pub sets: Vec<String>,
    /// The main title (the served `dc:title` may append `：subtitle`).
    pub title: String,
}

/// How to start the peer.
#[derive(Debug, Clone)]
pub struct PeerOptions {
    /// Number of records (`-n`).
    pub records: usize,
    /// Answer every K-th request with 503 + `Retry-After: 1` (`--flaky K`); 0 = never.
    pub flaky: u32,
    /// Records per page (`--page-size`).
    pub page_size: usize,
}

impl Default for PeerOptions {
    fn default() -> Self {
        PeerOptions {
            records: 2000,
            flaky: 0,
            page_size: 50,
        }
    }
}

/// A running pyoai peer on a loopback port; killed on drop.
#[derive(Debug)]
pub struct PeerServer {
    child: Child,
    port: u16,
    truth: Vec<TruthRecord>,
}

/// How long the server may take to answer its first `Identify`.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);

impl PeerServer {
    /// Starts a peer serving `records` records, 50 a page.
    pub fn start(records: usize) -> PeerServer {
        Self::start_with(PeerOptions {
            records,
            ..PeerOptions::default()
        })
    }

    /// Starts a peer with `options`. Panics (this is test support) if it cannot.
    pub fn start_with(options: PeerOptions) -> PeerServer {
        let python = peer_python();
        let script = peers_dir().join("oai_server.py");
        let truth = load_truth(python, &script, options.records);
        // The free port is found by binding port 0 and letting it go again; another process
        // may grab it in between, so a server that dies at once is retried on a new port.
        let mut last_error = String::new();
        for _ in 0..3 {
            let port = free_port();
            let mut command = Command::new(python);
            command
                .arg(&script)
                .args(["--host", "127.0.0.1", "--port", &port.to_string()])
                .args(["-n", &options.records.to_string()])
                .args(["--page-size", &options.page_size.to_string()])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped());
            if options.flaky > 0 {
                command.args(["--flaky", &options.flaky.to_string()]);
            }
            let child = command
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {}: {e}", script.display()));
            let mut server = PeerServer {
                child,
                port,
                truth: truth.clone(),
            };
            match server.wait_until_ready() {
                Ok(()) => return server,
                Err(e) => last_error = e,
            }
        }
        panic!("the OAI-PMH peer did not start: {last_error}");
    }

    /// The base URL, `http://127.0.0.1:PORT/oai`.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}/oai", self.port)
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Every record it serves, in datestamp order (deleted ones included).
    pub fn truth(&self) -> &[TruthRecord] {
        &self.truth
    }

    /// Polls `Identify` until the server answers with HTTP (any status: a flaky peer may
    /// answer 503), failing early if the process exits.
    fn wait_until_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                let mut stderr = String::new();
                if let Some(pipe) = self.child.stderr.as_mut() {
                    let _ = pipe.read_to_string(&mut stderr);
                }
                return Err(format!("peer exited with {status}: {stderr}"));
            }
            if let Ok(response) = http_get(address, "/oai?verb=Identify")
                && response.starts_with("HTTP/")
            {
                // Nobody reads stderr from here on; a full pipe must not block the peer.
                drop(self.child.stderr.take());
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        Err(format!(
            "no answer on port {} within {STARTUP_TIMEOUT:?}",
            self.port
        ))
    }
}

impl Drop for PeerServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A minimal HTTP/1.0 GET over loopback, returning the whole response.
fn http_get(address: SocketAddr, path: &str) -> std::io::Result<String> {
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {address}\r\n\r\n")?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    Ok(response)
}

fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .unwrap_or_else(|e| panic!("no free loopback port: {e}"))
}

/// The workspace root: the nearest ancestor of this crate's manifest directory whose
/// `Cargo.toml` declares `[workspace]`.
fn workspace_root() -> PathBuf {
    let start = Path::new(env!("CARGO_MANIFEST_DIR"));
    start
        .ancestors()
        .find(|dir| {
            std::fs::read_to_string(dir.join("Cargo.toml"))
                .is_ok_and(|manifest| manifest.lines().any(|l| l.trim() == "[workspace]"))
        })
        .unwrap_or(start)
        .to_path_buf()
}

/// `<workspace root>/../shared/peers`.
pub fn peers_dir() -> PathBuf {
    let dir = workspace_root().join("../shared/peers");
    assert!(
        dir.join("setup.sh").is_file(),
        "the test peers are missing: no {}",
        dir.join("setup.sh").display()
    );
    dir
}

/// The peers' python, from `setup.sh` (run once per test process).
///
/// Test binaries run in parallel, and `setup.sh` deletes and rebuilds a stale venv, so runs
/// are serialised with `flock` when it is available.
pub fn peer_python() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| {
        let setup = peers_dir().join("setup.sh");
        let home = std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_else(std::env::temp_dir);
        let lock_dir = home.join(".cache/jincheng-peers");
        let _ = std::fs::create_dir_all(&lock_dir);
        let has_flock = Command::new("flock")
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        let mut command = if has_flock {
            let mut c = Command::new("flock");
            c.arg(lock_dir.join("setup.lock")).arg(&setup);
            c
        } else {
            Command::new(&setup)
        };
        let output = command
            .stderr(Stdio::inherit())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", setup.display()));
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{} failed: {stdout}", setup.display());
        let python = stdout.lines().last().unwrap_or_default().trim();
        assert!(!python.is_empty(), "{} printed no python path", setup.display());
        PathBuf::from(python)
    })
}

/// Runs the server with `--dump-json` and parses the ground truth.
fn load_truth(python: &Path, script: &Path, records: usize) -> Vec<TruthRecord> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let file = std::env::temp_dir().join(format!("jincheng-peer-truth-{}-{nanos}.json", std::process::id()));
    let output = Command::new(python)
        .arg(script)
        .args(["-n", &records.to_string(), "--dump-json"])
        .arg(&file)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
    assert!(
        output.status.success(),
        "--dump-json failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let _ = std::fs::remove_file(&file);
    let json: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("ground truth is not JSON: {e}"));
    let field = |record: &serde_json::Value, name: &str| -> String {
        record[name]
            .as_str()
            .unwrap_or_else(|| panic!("ground truth record without {name}: {record}"))
            .to_owned()
    };
    json["records"]
        .as_array()
        .unwrap_or_else(|| panic!("ground truth has no records array"))
        .iter()
        .map(|record| TruthRecord {
            identifier: field(record, "identifier"),
            datestamp: field(record, "datestamp"),
            deleted: record["deleted"]
                .as_bool()
                .unwrap_or_else(|| panic!("no deleted: {record}")),
            sets: record["sets"]
                .as_array()
                .map(|sets| {
                    sets.iter()
                        .filter_map(|s| s.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default(),
            title: field(record, "title"),
        })
        .collect()
}
