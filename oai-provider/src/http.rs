//! The HTTP side of OAI-PMH (§3.1): arguments from GET query strings and POST form bodies,
//! the base URL as the harvester reached it, and the XML response.

use axum::http::header::{CONTENT_TYPE, HOST};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

/// The request's arguments: from the query string for GET, from the
/// `application/x-www-form-urlencoded` body for POST (§3.1.1).
pub fn request_arguments(method: &Method, uri: &Uri, body: &[u8]) -> Vec<(String, String)> {
    let raw: &[u8] = if method == Method::POST {
        body
    } else {
        uri.query().unwrap_or_default().as_bytes()
    };
    form_urlencoded::parse(raw).into_owned().collect()
}

/// The repository's base URL as the harvester reached it: scheme, `Host` and the path, so
/// Identify and `<request>` are right whatever address and port the server was bound to.
/// A `Host` that is not a plain host name becomes `localhost`.
pub fn base_url(headers: &HeaderMap, uri: &Uri) -> String {
    let valid_host = |h: &&str| {
        !h.is_empty()
            && h.len() <= 255
            && h.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".-_:[]".contains(&b))
    };
    let host = uri
        .authority()
        .map(|a| a.as_str())
        .or_else(|| headers.get(HOST).and_then(|h| h.to_str().ok()))
        .filter(valid_host)
        .unwrap_or("localhost");
    let https = headers
        .get("x-forwarded-proto")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"https"));
    format!("{}://{host}{}", if https { "https" } else { "http" }, uri.path())
}

/// An OAI-PMH response: HTTP 200 with the XML document, errors included (§3.1.2.1).
pub fn xml_response(xml: String) -> Response {
    ([(CONTENT_TYPE, "text/xml; charset=utf-8")], xml).into_response()
}

/// The answer when the repository itself failed (not a protocol error): HTTP 500, with no
/// detail (the caller logs it).
pub fn repository_failure() -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        [(CONTENT_TYPE, "text/plain; charset=utf-8")],
        "the repository could not answer; try again later\n",
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_url_comes_from_the_host_header() {
        let mut headers = HeaderMap::new();
        headers.insert(HOST, axum::http::HeaderValue::from_static("127.0.0.1:8080"));
        let uri: Uri = Uri::from_static("/demo/lzlib/oai?verb=Identify");
        assert_eq!(base_url(&headers, &uri), "http://127.0.0.1:8080/demo/lzlib/oai");
        headers.insert("x-forwarded-proto", axum::http::HeaderValue::from_static("https"));
        assert_eq!(base_url(&headers, &uri), "https://127.0.0.1:8080/demo/lzlib/oai");
        headers.insert(HOST, axum::http::HeaderValue::from_static("evil\"><x"));
        assert_eq!(base_url(&headers, &uri), "https://localhost/demo/lzlib/oai");
    }

    #[test]
    fn post_bodies_and_query_strings_give_the_arguments() {
        let uri = Uri::from_static("/oai?verb=Identify&x=%E5%85%B0");
        let get = request_arguments(&Method::GET, &uri, b"ignored=1");
        assert_eq!(
            get,
            [("verb".into(), "Identify".into()), ("x".into(), "兰".into())]
        );
        let post = request_arguments(&Method::POST, &uri, b"verb=ListSets");
        assert_eq!(post, [("verb".to_string(), "ListSets".to_string())]);
    }
}
