//! The OAI-PMH 2.0 data provider: the axum route and the six verbs.
//!
//! Requests are parsed by [`crate::request`], answered here from the embedded
//! [`crate::samples`], and written by [`crate::response`]. Every OAI-PMH outcome, errors
//! included, is an HTTP 200 with an XML body, as §3.1.2.1 requires; only a collection that
//! does not exist is an HTTP 404, because that URL is no repository at all.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{OriginalUri, Path};
use axum::http::header::{CONTENT_TYPE, HOST};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::datestamp::{self, Datestamp};
use crate::request::{self, ErrorCode, ListRequest, OAI_DC, OaiError, Request};
use crate::response::ResponseWriter;
use crate::samples::{self, Collection, SampleRecord};

/// Records (or headers) per page of ListRecords and ListIdentifiers.
pub(crate) const PAGE_SIZE: usize = 100;

/// The route serving every collection at `/demo/{collection}/oai`.
pub(crate) fn routes() -> Router {
    Router::new().route("/demo/{collection}/oai", get(serve).post(serve))
}

/// Answers one OAI-PMH request; GET takes the arguments from the query string, POST from an
/// `application/x-www-form-urlencoded` body (§3.1.1).
async fn serve(
    Path(name): Path<String>,
    OriginalUri(uri): OriginalUri,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(collection) = samples::find(&name) else {
        let known: Vec<&str> = samples::all().iter().map(|c| c.institution.id.as_str()).collect();
        let message = format!("No demo collection {name:?}. Collections: {}\n", known.join(", "));
        return (
            StatusCode::NOT_FOUND,
            [(CONTENT_TYPE, "text/plain; charset=utf-8")],
            message,
        )
            .into_response();
    };
    let raw: &[u8] = if method == Method::POST {
        &body
    } else {
        uri.query().unwrap_or_default().as_bytes()
    };
    let arguments: Vec<(String, String)> = form_urlencoded::parse(raw).into_owned().collect();
    let xml = respond(
        collection,
        &base_url(&headers, &uri),
        &arguments,
        &datestamp::now(),
    );
    ([(CONTENT_TYPE, "text/xml; charset=utf-8")], xml).into_response()
}

/// The repository's base URL as the harvester reached it: scheme, `Host` and the path, so
/// Identify is right whatever address and port the demo server was bound to.
fn base_url(headers: &HeaderMap, uri: &Uri) -> String {
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

/// The whole response document for one request.
fn respond(
    collection: &Collection,
    base_url: &str,
    arguments: &[(String, String)],
    now: &Datestamp,
) -> String {
    let answer = request::parse(arguments).and_then(|request| {
        let mut writer = ResponseWriter::new(now, base_url, Some(arguments));
        answer(&mut writer, collection, &request, base_url)?;
        Ok(writer)
    });
    match answer {
        Ok(writer) => writer.finish(),
        Err(error) => {
            let echo = error.code.echoes_arguments().then_some(arguments);
            let mut writer = ResponseWriter::new(now, base_url, echo);
            writer.error(&error);
            writer.finish()
        }
    }
}

fn answer(
    writer: &mut ResponseWriter,
    collection: &Collection,
    request: &Request,
    base_url: &str,
) -> Result<(), OaiError> {
    match request {
        Request::Identify => writer.identify(collection, base_url),
        Request::ListMetadataFormats { identifier } => {
            if let Some(identifier) = identifier {
                existing(collection, identifier)?;
            }
            writer.metadata_formats();
        }
        Request::ListSets => writer.sets(collection),
        Request::GetRecord {
            identifier,
            metadata_prefix,
        } => {
            let record = existing(collection, identifier)?;
            disseminable(metadata_prefix)?;
            writer.open("GetRecord");
            writer.record(record);
            writer.close("GetRecord");
        }
        Request::ListIdentifiers(list) => {
            list_page(
                writer,
                collection,
                list,
                "ListIdentifiers",
                ResponseWriter::header,
            )?;
        }
        Request::ListRecords(list) => {
            list_page(writer, collection, list, "ListRecords", ResponseWriter::record)?;
        }
    }
    Ok(())
}

fn existing<'c>(collection: &'c Collection, identifier: &str) -> Result<&'c SampleRecord, OaiError> {
    collection.record(identifier).ok_or_else(|| {
        OaiError::new(
            ErrorCode::IdDoesNotExist,
            format!("{identifier:?} is unknown in this repository"),
        )
    })
}

fn disseminable(prefix: &str) -> Result<(), OaiError> {
    if prefix == OAI_DC {
        Ok(())
    } else {
        Err(OaiError::new(
            ErrorCode::CannotDisseminateFormat,
            format!("{prefix:?} is not supported; this repository disseminates oai_dc only"),
        ))
    }
}

/// True if the record is in the list's selection: datestamp within `from`..=`until`, in the
/// set or one of its descendants.
fn selected(record: &SampleRecord, list: &ListRequest) -> bool {
    list.from
        .as_ref()
        .is_none_or(|from| record.datestamp >= from.first_second())
        && list
            .until
            .as_ref()
            .is_none_or(|until| record.datestamp <= until.last_second())
        && list.set.as_deref().is_none_or(|set| record.in_set(set))
}

/// Writes one page of a list verb. Lists longer than a page are split with resumption
/// tokens carrying `completeListSize` and `cursor`; the last page of a split list gets an
/// empty token. A token whose selection no longer makes sense is badResumptionToken, never
/// the error the same arguments would get without a token.
fn list_page(
    writer: &mut ResponseWriter,
    collection: &Collection,
    list: &ListRequest,
    verb: &str,
    write_item: fn(&mut ResponseWriter, &SampleRecord),
) -> Result<(), OaiError> {
    let bad_token = || {
        OaiError::new(
            ErrorCode::BadResumptionToken,
            "this resumptionToken was not issued by this repository",
        )
    };
    if let Err(error) = disseminable(&list.metadata_prefix) {
        return Err(if list.resumed { bad_token() } else { error });
    }
    let matching: Vec<&SampleRecord> = collection.records.iter().filter(|r| selected(r, list)).collect();
    if matching.is_empty() {
        return Err(if list.resumed {
            bad_token()
        } else {
            OaiError::new(
                ErrorCode::NoRecordsMatch,
                "no records match the from, until and set arguments",
            )
        });
    }
    if list.cursor >= matching.len() || !list.cursor.is_multiple_of(PAGE_SIZE) {
        return Err(bad_token());
    }
    let end = (list.cursor + PAGE_SIZE).min(matching.len());
    writer.open(verb);
    for record in &matching[list.cursor..end] {
        write_item(writer, record);
    }
    if matching.len() > PAGE_SIZE {
        let token = (end < matching.len()).then(|| request::encode_token(list, end));
        writer.resumption_token(token.as_deref(), matching.len(), list.cursor);
    }
    writer.close(verb);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_url_comes_from_the_host_header() {
        let mut headers = HeaderMap::new();
        headers.insert(HOST, "127.0.0.1:8080".parse().unwrap());
        let uri: Uri = "/demo/lzlib/oai?verb=Identify".parse().unwrap();
        assert_eq!(base_url(&headers, &uri), "http://127.0.0.1:8080/demo/lzlib/oai");
        headers.insert("x-forwarded-proto", "https".parse().unwrap());
        assert_eq!(base_url(&headers, &uri), "https://127.0.0.1:8080/demo/lzlib/oai");
        headers.insert(HOST, "evil\"><x".parse().unwrap());
        assert_eq!(base_url(&headers, &uri), "https://localhost/demo/lzlib/oai");
    }
}
