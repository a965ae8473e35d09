//! An OAI-PMH 2.0 data provider, independent of where its records come from.
//!
//! The main types:
//! - [`Repository`]: what a provider needs from a record source — [`RepositoryInfo`] for
//!   Identify, the [`MetadataFormat`]s and which item supports which, the [`SetInfo`]s,
//!   items by identifier, a stable paged list ([`ListSlice`], resumed from a
//!   [`ListPosition`]) and the metadata of an item in a format.
//! - [`Provider`]: answers the six verbs from a repository: [`request parsing`](parse)
//!   (GET and POST, repeated, illegal and missing arguments, every error code of §3.6),
//!   response writing (escaping, schema locations), [`ResumptionToken`]s with `cursor`,
//!   `completeListSize` and `expirationDate`, `from`/`until` at seconds granularity.
//! - [`request_arguments`], [`base_url`], [`xml_response`]: the HTTP glue for axum.
//!
//! ```
//! use jincheng_oai_provider::{
//!     Datestamp, DeletedRecord, Header, ListPosition, ListQuery, ListSlice, MetadataFormat,
//!     Provider, ProviderConfig, Repository, RepositoryInfo, SetInfo, push_element,
//! };
//!
//! /// A repository of one poem.
//! struct Poems;
//!
//! impl Repository for Poems {
//!     type Item = ();
//!     type Error = std::convert::Infallible;
//!     fn info(&self) -> Result<RepositoryInfo, Self::Error> {
//!         Ok(RepositoryInfo {
//!             repository_name: "Poems".into(),
//!             admin_emails: vec!["poems@example.invalid".into()],
//!             earliest_datestamp: "2024-01-01T00:00:00Z".parse().expect("a datestamp"),
//!             deleted_record: DeletedRecord::No,
//!         })
//!     }
//!     fn formats(&self, _base_url: &str) -> Vec<MetadataFormat> { vec![MetadataFormat::oai_dc()] }
//!     fn supports(&self, _item: &(), _prefix: &str) -> bool { true }
//!     fn sets(&self) -> Result<Vec<SetInfo>, Self::Error> { Ok(Vec::new()) }
//!     fn get(&self, id: &str) -> Result<Option<()>, Self::Error> { Ok((id == "oai:x:1").then_some(())) }
//!     fn header(&self, _item: &()) -> Header {
//!         Header {
//!             identifier: "oai:x:1".into(),
//!             datestamp: "2024-01-01T00:00:00Z".parse().expect("a datestamp"),
//!             deleted: false,
//!             sets: vec![],
//!         }
//!     }
//!     fn list(&self, q: &ListQuery, _: Option<&ListPosition>, _: usize) -> Result<ListSlice<()>, Self::Error> {
//!         let hit = q.covers(&self.header(&()).datestamp) && q.set.is_none();
//!         Ok(ListSlice { items: if hit { vec![()] } else { vec![] }, complete_list_size: 1, snapshot: String::new(), next: None })
//!     }
//!     fn write_metadata(&self, _: &(), _: &str, _: &str, out: &mut String) -> Result<(), Self::Error> {
//!         out.push_str(r#"<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" xmlns:dc="http://purl.org/dc/elements/1.1/">"#);
//!         push_element(out, "dc:title", "静夜思");
//!         out.push_str("</oai_dc:dc>");
//!         Ok(())
//!     }
//! }
//!
//! let provider = Provider::new(Poems, ProviderConfig::default());
//! let args = vec![("verb".to_string(), "ListRecords".to_string()), ("metadataPrefix".to_string(), "oai_dc".to_string())];
//! let xml = provider.respond("http://localhost/oai", &args, time::OffsetDateTime::now_utc()).expect("infallible");
//! assert!(xml.contains("<dc:title>静夜思</dc:title>"));
//! ```
//!
//! Errors: protocol errors are part of the response document ([`OaiError`] with its
//! [`ErrorCode`]); the only failure of [`Provider::respond`] is the repository's own error
//! type, which a server turns into HTTP 500 ([`repository_failure`]).
//!
//! Architecture invariant: this crate knows nothing of records, SQLite or the demo data; it
//! only knows the protocol. Every provider of the workspace (the demo's sample
//! collections, the app's `/oai`) uses it, so they behave alike.

mod http;
mod provider;
mod repository;
mod request;
mod response;
mod token;

pub use schemas::oai::{DateArgument, Datestamp, ErrorCode, Granularity};

pub use crate::{
    http::{base_url, repository_failure, request_arguments, xml_response},
    provider::{Provider, ProviderConfig},
    repository::{
        DeletedRecord, Header, ListPosition, ListSlice, MetadataFormat, Repository, RepositoryInfo, SetInfo,
    },
    request::{ListQuery, ListRequest, OaiError, Request, is_set_spec, is_unreserved, parse},
    response::{escape, is_xml_char, push_element},
    token::ResumptionToken,
};

/// True if `spec` names `set` or one of its descendants in the set hierarchy (`clc` holds
/// `clc:I`, not `clcx`).
pub fn set_contains(set: &str, spec: &str) -> bool {
    spec == set
        || (spec.len() > set.len() && spec.starts_with(set) && spec.as_bytes().get(set.len()) == Some(&b':'))
}
