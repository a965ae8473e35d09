//! The accept loop under hostile clients, on a real loopback server: sockets that send
//! nothing (or half an HTTP/2 preface) neither starve searches nor stay open, connections
//! over the cap get a clear `503`, and idle connections are closed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use jincheng::Instance;
use jincheng::bench::{synthetic_institutions, synthetic_record};
use jincheng::server::ConnectionLimits;
use services::config::Config;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[path = "support/http.rs"]
mod http;

/// Generous: these tests wait for states, they never measure speed.
const DEADLINE: Duration = Duration::from_secs(30);
/// The HTTP/2 connection preface a client sends first.
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

struct Server {
    _dir: tempfile::TempDir,
    base: String,
    address: std::net::SocketAddr,
}

/// A server with some searchable records and `[server]` settings `server`.
async fn start(server: &str) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let mut text = format!(
        "data_dir = {:?}\n[server]\n{server}\n",
        dir.path().display().to_string()
    );
    for i in synthetic_institutions() {
        text.push_str(&format!(
            "[[institutions]]\nid = {:?}\nname = {:?}\ntype = {:?}\ndistrict = {:?}\n",
            i.id,
            i.name,
            i.institution_type.as_str(),
            i.district.unwrap().as_str()
        ));
    }
    let instance = Instance::open(Config::parse(&text).unwrap()).unwrap();
    let institutions = synthetic_institutions();
    let records: Vec<_> = (0..50).map(|i| synthetic_record(i, &institutions)).collect();
    instance.store.import_records(&records).unwrap();
    instance.wait_indexed(Duration::from_secs(60)).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let limits = ConnectionLimits::from(&instance.config.server);
    tokio::spawn(jincheng::server::serve_with(
        listener,
        instance.router(),
        limits,
        std::future::pending(),
    ));
    Server {
        _dir: dir,
        base: format!("http://{address}"),
        address,
    }
}

/// Room for our sockets and the server's ends of them in this one process.
fn raise_fd_limit(sockets: u64) {
    let wanted = 2 * sockets + 512;
    let got = rlimit::increase_nofile_limit(wanted).unwrap();
    assert!(got >= wanted, "cannot open {wanted} files (limit {got})");
}

/// Reads until the server closes the connection (or resets it); everything read.
async fn read_until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut all = Vec::new();
    let mut buf = [0u8; 4096];
    let closed = tokio::time::timeout(DEADLINE, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => all.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(
        closed.is_ok(),
        "the server kept the connection open for {DEADLINE:?}"
    );
    all
}

async fn search(base: &str) -> (u16, serde_json::Value, Duration) {
    let started = Instant::now();
    let response = http::client()
        .get(format!("{base}/api/v1/search?q={}", http::encode("记录")))
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .expect("the search was answered");
    let status = response.status().as_u16();
    let body = response.json().await.unwrap();
    (status, body, started.elapsed())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_thousand_idle_sockets_do_not_starve_a_search() {
    raise_fd_limit(1_100);
    let server = start("header_read_timeout = \"60s\"").await;
    let mut idle = Vec::new();
    for _ in 0..1_000 {
        idle.push(TcpStream::connect(server.address).await.unwrap());
    }
    for _ in 0..20 {
        let mut stream = TcpStream::connect(server.address).await.unwrap();
        stream.write_all(&H2_PREFACE[..10]).await.unwrap();
        idle.push(stream);
    }
    let (status, body, latency) = search(&server.base).await;
    println!("search with {} idle sockets open: {latency:?}", idle.len());
    assert_eq!(status, 200, "{body}");
    assert!(body["total"].as_u64().is_some(), "{body}");
    // The idle sockets are still held (the timeout is a minute): the search did not wait
    // for any of them to go away.
    let mut probe = [0u8; 1];
    assert!(
        idle[0].try_read(&mut probe).is_err(),
        "an idle socket was closed early"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn connections_over_the_cap_are_refused_with_a_json_503() {
    let server = start("max_connections = 8\nheader_read_timeout = \"60s\"").await;
    let mut held = Vec::new();
    for _ in 0..8 {
        held.push(TcpStream::connect(server.address).await.unwrap());
    }
    let mut extra = TcpStream::connect(server.address).await.unwrap();
    extra
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let answer = String::from_utf8(read_until_closed(&mut extra).await).unwrap();
    assert!(answer.starts_with("HTTP/1.1 503 "), "{answer}");
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    let head = head.to_ascii_lowercase();
    assert!(head.contains("\r\nconnection: close"), "{head}");
    assert!(head.contains("\r\ncontent-type: application/json"), "{head}");
    let body: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(body["error"]["code"], "too_many_connections", "{body}");

    // Once the held connections go, the server answers again.
    drop(held);
    let started = Instant::now();
    loop {
        let response = http::client()
            .get(format!("{}/healthz", server.base))
            .send()
            .await;
        if response.is_ok_and(|r| r.status() == 200) {
            break;
        }
        assert!(started.elapsed() < DEADLINE, "still refused after {DEADLINE:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn connections_without_a_request_are_closed_after_the_header_timeout() {
    let server = start("header_read_timeout = \"1s\"").await;
    let silent = TcpStream::connect(server.address).await.unwrap();
    let mut half_preface = TcpStream::connect(server.address).await.unwrap();
    half_preface.write_all(&H2_PREFACE[..10]).await.unwrap();
    let mut whole_preface = TcpStream::connect(server.address).await.unwrap();
    whole_preface.write_all(H2_PREFACE).await.unwrap();
    whole_preface.write_all(&frame(0x4, 0, 0, &[])).await.unwrap();
    let mut half_headers = TcpStream::connect(server.address).await.unwrap();
    half_headers
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n")
        .await
        .unwrap();
    // A keep-alive connection that made one request and then went quiet.
    let mut kept_alive = TcpStream::connect(server.address).await.unwrap();
    kept_alive
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    for (name, mut stream) in [
        ("silent", silent),
        ("half an HTTP/2 preface", half_preface),
        ("an HTTP/2 preface only", whole_preface),
        ("half a request head", half_headers),
        ("an idle HTTP/1 keep-alive", kept_alive),
    ] {
        let read = read_until_closed(&mut stream).await;
        println!("{name}: closed after {:?}", started.elapsed());
        if name.contains("keep-alive") {
            assert!(read.starts_with(b"HTTP/1.1 200"), "{name}: answered first");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_idle_http2_connection_is_told_to_go_away() {
    let server = start("idle_timeout = \"1s\"\nheader_read_timeout = \"60s\"").await;
    let mut stream = TcpStream::connect(server.address).await.unwrap();
    stream.write_all(H2_PREFACE).await.unwrap();
    stream.write_all(&frame(0x4, 0, 0, &[])).await.unwrap();
    // GET /healthz, from the HPACK static table, :authority as a literal.
    let mut headers = vec![0x82, 0x86, 0x44, 8];
    headers.extend_from_slice(b"/healthz");
    headers.extend_from_slice(&[0x41, 9]);
    headers.extend_from_slice(b"localhost");
    // END_STREAM | END_HEADERS on stream 1.
    stream.write_all(&frame(0x1, 0x5, 1, &headers)).await.unwrap();
    // Read frames until the server closes, answering its pings as a client does (a
    // graceful HTTP/2 shutdown waits for one).
    let mut read = Vec::new();
    let mut answered = 0;
    let mut buf = [0u8; 4096];
    let closed = tokio::time::timeout(DEADLINE, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => read.extend_from_slice(&buf[..n]),
            }
            let pings: Vec<_> = frames(&read)
                .into_iter()
                .filter(|(kind, flags, ..)| *kind == 0x6 && flags & 0x1 == 0)
                .collect();
            for (_, _, _, payload) in &pings[answered..] {
                let _ = stream.write_all(&frame(0x6, 0x1, 0, payload)).await;
            }
            answered = pings.len();
        }
    })
    .await;
    assert!(closed.is_ok(), "the idle connection stayed open for {DEADLINE:?}");
    let frames = frames(&read);
    assert!(
        frames
            .iter()
            .any(|(kind, _, stream, _)| *kind == 0x1 && *stream == 1),
        "the request was answered: {frames:?}"
    );
    let goaways: Vec<_> = frames.iter().filter(|(kind, ..)| *kind == 0x7).collect();
    assert!(!goaways.is_empty(), "no GOAWAY: {frames:?}");
    for (_, _, _, payload) in goaways {
        assert_eq!(payload.get(4..8), Some(&[0, 0, 0, 0][..]), "GOAWAY with NO_ERROR");
    }
}

/// One HTTP/2 frame.
fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = u32::try_from(payload.len()).unwrap().to_be_bytes();
    let mut out = vec![len[1], len[2], len[3], kind, flags];
    out.extend_from_slice(&stream.to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// The frames in `bytes`: (type, flags, stream, payload).
fn frames(mut bytes: &[u8]) -> Vec<(u8, u8, u32, Vec<u8>)> {
    let mut out = Vec::new();
    while bytes.len() >= 9 {
        let len = u32::from_be_bytes([0, bytes[0], bytes[1], bytes[2]]) as usize;
        let stream = u32::from_be_bytes([bytes[5], bytes[6], bytes[7], bytes[8]]) & 0x7fff_ffff;
        let Some(payload) = bytes.get(9..9 + len) else {
            break;
        };
        out.push((bytes[3], bytes[4], stream, payload.to_vec()));
        bytes = &bytes[9 + len..];
    }
    out
}

/// A long URL gets the API's JSON `414` over a real socket too; one too long for the
/// request-head buffer is refused by hyper (`431`), never with a bodyless `414`.
#[tokio::test(flavor = "multi_thread")]
async fn long_urls_are_refused_in_the_api_error_shape() {
    let server = start("").await;
    let client = http::client();
    let response = client
        .get(format!("{}/api/v1/search?q={}", server.base, "a".repeat(20_000)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 414);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "uri_too_long", "{body}");

    let mut stream = TcpStream::connect(server.address).await.unwrap();
    let request = format!(
        "GET /api/v1/search?q={} HTTP/1.1\r\nHost: localhost\r\n\r\n",
        "a".repeat(70_000)
    );
    // The server may refuse before reading everything; a failed write is fine.
    let _ = stream.write_all(request.as_bytes()).await;
    let answer = read_until_closed(&mut stream).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(!answer.starts_with("HTTP/1.1 414"), "{answer}");
}

/// Header fields over the API's limits get its JSON `431 headers_too_large` over a real
/// socket (hyper's own buffer is larger, so it does not refuse them first); a head too long
/// even for hyper's buffer is hyper's bare `431`, whose body hyper cannot give (it answers
/// while parsing, before any service runs).
#[tokio::test(flavor = "multi_thread")]
async fn oversized_headers_are_refused_in_the_api_error_shape() {
    let server = start("").await;
    let client = http::client();
    let big = client
        .get(format!("{}/api/v1/search?q=a", server.base))
        .header("x-padding", "p".repeat(40 * 1024))
        .send()
        .await
        .unwrap();
    let many = (0..120).fold(
        client.get(format!("{}/api/v1/search?q=a", server.base)),
        |request, i| request.header(format!("x-field-{i}"), "v"),
    );
    let many = many.send().await.unwrap();
    for response in [big, many] {
        assert_eq!(response.status(), 431);
        assert_eq!(response.headers()["content-type"], "application/json");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "headers_too_large", "{body}");
    }

    let mut stream = TcpStream::connect(server.address).await.unwrap();
    let request = format!(
        "GET /api/v1/search?q=a HTTP/1.1\r\nHost: localhost\r\nX-Padding: {}\r\n\r\n",
        "p".repeat(70 * 1024)
    );
    let _ = stream.write_all(request.as_bytes()).await;
    let answer = read_until_closed(&mut stream).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer}");
}
