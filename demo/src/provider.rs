//! The OAI-PMH 2.0 data provider: the axum route and the [`Repository`] over one sample
//! collection. The protocol (verbs, errors, tokens, XML) is `jincheng-oai-provider`'s.
//!
//! Every OAI-PMH outcome, errors included, is an HTTP 200 with an XML body, as §3.1.2.1
//! requires; only a collection that does not exist is an HTTP 404, because that URL is no
//! repository at all.

use std::convert::Infallible;
use std::fmt::Write as _;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{OriginalUri, Path};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use jincheng_oai_provider::{
    Datestamp, DeletedRecord, Header, ListPosition, ListQuery, ListSlice, MetadataFormat, Provider,
    ProviderConfig, Repository, RepositoryInfo, SetInfo, escape,
};

use crate::samples::{self, Collection, SampleRecord};

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
    let arguments = jincheng_oai_provider::request_arguments(&method, &uri, &body);
    let base_url = jincheng_oai_provider::base_url(&headers, &uri);
    let provider = Provider::new(SampleRepository(collection), ProviderConfig::default());
    match provider.respond(&base_url, &arguments, time::OffsetDateTime::now_utc()) {
        Ok(xml) => jincheng_oai_provider::xml_response(xml),
        Err(never) => match never {},
    }
}

/// One sample collection as an OAI-PMH repository.
struct SampleRepository(&'static Collection);

const OAI_DC_OPEN: &str = concat!(
    r#"<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" "#,
    r#"xmlns:dc="http://purl.org/dc/elements/1.1/" "#,
    r#"xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" "#,
    r#"xsi:schemaLocation="http://www.openarchives.org/OAI/2.0/oai_dc/ http://www.openarchives.org/OAI/2.0/oai_dc.xsd">"#,
);

impl Repository for SampleRepository {
    type Item = &'static SampleRecord;
    type Error = Infallible;

    fn info(&self) -> Result<RepositoryInfo, Infallible> {
        let institution = &self.0.institution;
        let earliest = self
            .0
            .earliest_datestamp()
            .cloned()
            .unwrap_or_else(Datestamp::now);
        Ok(RepositoryInfo {
            repository_name: institution.repository_name.clone(),
            admin_emails: vec![format!("demo@{}.example.invalid", institution.id)],
            earliest_datestamp: earliest,
            deleted_record: DeletedRecord::Persistent,
        })
    }

    fn formats(&self, _base_url: &str) -> Vec<MetadataFormat> {
        vec![MetadataFormat::oai_dc()]
    }

    fn supports(&self, _item: &Self::Item, prefix: &str) -> bool {
        prefix == "oai_dc"
    }

    fn sets(&self) -> Result<Vec<SetInfo>, Infallible> {
        Ok(self
            .0
            .institution
            .sets
            .iter()
            .map(|(spec, name)| SetInfo {
                spec: spec.clone(),
                name: name.clone(),
            })
            .collect())
    }

    fn get(&self, identifier: &str) -> Result<Option<Self::Item>, Infallible> {
        Ok(self.0.record(identifier))
    }

    fn header(&self, record: &Self::Item) -> Header {
        Header {
            identifier: record.identifier.clone(),
            datestamp: record.datestamp.clone(),
            deleted: record.deleted,
            sets: record.sets.clone(),
        }
    }

    /// The data never changes while the process runs, so the position is the number of
    /// matching records already listed and the snapshot is unused.
    fn list(
        &self,
        query: &ListQuery,
        resume: Option<&ListPosition>,
        limit: usize,
    ) -> Result<ListSlice<Self::Item>, Infallible> {
        let skip: usize = resume.and_then(|p| p.after.parse().ok()).unwrap_or(0);
        let matching: Vec<&'static SampleRecord> = self
            .0
            .records
            .iter()
            .filter(|r| query.covers(&r.datestamp) && query.set.as_deref().is_none_or(|set| r.in_set(set)))
            .collect();
        let end = skip.saturating_add(limit).min(matching.len());
        let items = matching.get(skip..end).unwrap_or_default().to_vec();
        Ok(ListSlice {
            items,
            complete_list_size: matching.len() as u64,
            snapshot: String::new(),
            next: (end < matching.len()).then(|| end.to_string()),
        })
    }

    fn valid_position(&self, position: &ListPosition) -> bool {
        position.snapshot.is_empty()
            && position
                .after
                .parse::<usize>()
                .is_ok_and(|n| n > 0 && n.to_string() == position.after && n <= self.0.records.len())
    }

    fn write_metadata(
        &self,
        record: &Self::Item,
        _prefix: &str,
        _base_url: &str,
        out: &mut String,
    ) -> Result<(), Infallible> {
        out.push_str(OAI_DC_OPEN);
        out.push('\n');
        for (name, values) in record.dc.elements() {
            for value in values {
                let _ = writeln!(out, "<dc:{name}>{}</dc:{name}>", escape(value));
            }
        }
        out.push_str("</oai_dc:dc>");
        Ok(())
    }
}
