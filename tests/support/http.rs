//! An HTTP client for tests that call our server over loopback.

#![allow(dead_code)] // each test binary uses a different part of it

/// A reqwest client. The workspace builds reqwest with `rustls-no-provider` (the harvesters
/// choose ring), so the process-wide crypto provider is installed first.
pub fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// GET `url` and parse its JSON body, with the status.
pub async fn get_json(url: &str) -> (u16, serde_json::Value) {
    let response = client().get(url).send().await.expect("request failed");
    let status = response.status().as_u16();
    (status, response.json().await.expect("body is not JSON"))
}

/// Percent-encodes a query value.
pub fn encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}
