//! The six verbs, answered from a [`Repository`].

use std::time::Duration;

use time::OffsetDateTime;

use crate::repository::{ListPosition, Repository};
use crate::request::{self, ListRequest, OaiError, Request};
use crate::response::ResponseWriter;
use crate::token::ResumptionToken;
use schemas::oai::Datestamp;
use schemas::oai::ErrorCode;

/// How a provider pages lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProviderConfig {
    /// Records (or headers) per page of ListRecords and ListIdentifiers.
    pub page_size: usize,
    /// How long a resumption token stays valid (its `expirationDate`).
    pub token_lifetime: Duration,
}

impl Default for ProviderConfig {
    fn default() -> Self {
        ProviderConfig {
            page_size: 100,
            token_lifetime: Duration::from_secs(24 * 60 * 60),
        }
    }
}

/// An OAI-PMH 2.0 data provider over a [`Repository`].
#[derive(Debug, Clone)]
pub struct Provider<R> {
    repository: R,
    config: ProviderConfig,
}

/// What kind of list is being written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ListVerb {
    Identifiers,
    Records,
}

impl ListVerb {
    fn name(self) -> &'static str {
        match self {
            ListVerb::Identifiers => "ListIdentifiers",
            ListVerb::Records => "ListRecords",
        }
    }
}

impl<R: Repository> Provider<R> {
    /// A provider serving `repository`.
    pub fn new(repository: R, config: ProviderConfig) -> Self {
        let config = ProviderConfig {
            page_size: config.page_size.max(1),
            ..config
        };
        Provider { repository, config }
    }

    /// The repository served.
    pub fn repository(&self) -> &R {
        &self.repository
    }

    /// The whole response document for one request with `arguments` (from a query string
    /// or a form body), at time `now`. `base_url` is the repository's URL as the harvester
    /// reached it. Protocol errors are part of the document; only a repository failure is
    /// an `Err`.
    pub fn respond(
        &self,
        base_url: &str,
        arguments: &[(String, String)],
        now: OffsetDateTime,
    ) -> Result<String, R::Error> {
        let response_date = Datestamp::from_time(now);
        let outcome = match request::parse(arguments) {
            Ok(request) => {
                let mut writer = ResponseWriter::new(&response_date, base_url, Some(arguments));
                match self.answer(&mut writer, &request, base_url, now)? {
                    Ok(()) => Ok(writer),
                    Err(error) => Err(error),
                }
            }
            Err(error) => Err(error),
        };
        Ok(match outcome {
            Ok(writer) => writer.finish(),
            Err(error) => {
                let echo = error.code.echoes_arguments().then_some(arguments);
                let mut writer = ResponseWriter::new(&response_date, base_url, echo);
                writer.error(&error);
                writer.finish()
            }
        })
    }

    /// Answers a well-formed request: the outer `Result` is the repository's, the inner the
    /// protocol's.
    fn answer(
        &self,
        writer: &mut ResponseWriter,
        request: &Request,
        base_url: &str,
        now: OffsetDateTime,
    ) -> Result<Result<(), OaiError>, R::Error> {
        let repo = &self.repository;
        match request {
            Request::Identify => writer.identify(&repo.info()?, base_url),
            Request::ListMetadataFormats { identifier } => {
                let mut formats = repo.formats(base_url);
                if let Some(identifier) = identifier {
                    let Some(item) = repo.get(identifier)? else {
                        return Ok(Err(unknown(identifier)));
                    };
                    if !repo.header(&item).deleted {
                        formats.retain(|f| repo.supports(&item, &f.prefix));
                    }
                    if formats.is_empty() {
                        return Ok(Err(OaiError::new(
                            ErrorCode::NoMetadataFormats,
                            format!("{identifier:?} has no metadata formats"),
                        )));
                    }
                }
                writer.metadata_formats(&formats);
            }
            Request::ListSets => {
                let sets = repo.sets()?;
                if sets.is_empty() {
                    return Ok(Err(OaiError::new(
                        ErrorCode::NoSetHierarchy,
                        "this repository has no sets",
                    )));
                }
                writer.sets(&sets);
            }
            Request::GetRecord {
                identifier,
                metadata_prefix,
            } => {
                let Some(item) = repo.get(identifier)? else {
                    return Ok(Err(unknown(identifier)));
                };
                let header = repo.header(&item);
                let known = repo
                    .formats(base_url)
                    .iter()
                    .any(|f| f.prefix == *metadata_prefix);
                if !known || (!header.deleted && !repo.supports(&item, metadata_prefix)) {
                    return Ok(Err(OaiError::new(
                        ErrorCode::CannotDisseminateFormat,
                        format!("{identifier:?} is not available as {metadata_prefix:?}"),
                    )));
                }
                writer.open("GetRecord");
                self.write_record(writer, &item, &header, metadata_prefix, base_url)?;
                writer.close("GetRecord");
            }
            Request::ListIdentifiers(list) => {
                return self.list_page(writer, list, ListVerb::Identifiers, base_url, now);
            }
            Request::ListRecords(list) => {
                return self.list_page(writer, list, ListVerb::Records, base_url, now);
            }
        }
        Ok(Ok(()))
    }

    fn write_record(
        &self,
        writer: &mut ResponseWriter,
        item: &R::Item,
        header: &crate::Header,
        prefix: &str,
        base_url: &str,
    ) -> Result<(), R::Error> {
        writer.xml.push_str("<record>");
        writer.header(header);
        if !header.deleted {
            writer.xml.push_str("<metadata>");
            self.repository
                .write_metadata(item, prefix, base_url, &mut writer.xml)?;
            writer.xml.push_str("</metadata>\n");
        }
        writer.xml.push_str("</record>\n");
        Ok(())
    }

    /// Writes one page of a list verb. Lists longer than a page are split with resumption
    /// tokens carrying `completeListSize`, `cursor` and `expirationDate`; the last page of a
    /// split list gets an empty token. A token whose selection no longer makes sense is
    /// badResumptionToken, never the error the same arguments would get without a token.
    fn list_page(
        &self,
        writer: &mut ResponseWriter,
        list: &ListRequest,
        verb: ListVerb,
        base_url: &str,
        now: OffsetDateTime,
    ) -> Result<Result<(), OaiError>, R::Error> {
        let repo = &self.repository;
        let query = list.query();
        let bad_token = |why: &str| {
            Ok(Err(OaiError::new(
                ErrorCode::BadResumptionToken,
                format!("this resumptionToken {why}"),
            )))
        };
        let position = match list {
            ListRequest::Start(_) => None,
            ListRequest::Resume(token) => {
                if token.expires < now.unix_timestamp() {
                    return bad_token("has expired; start the list again");
                }
                let position = ListPosition {
                    snapshot: token.snapshot.clone(),
                    after: token.position.clone(),
                };
                if !repo.valid_position(&position) {
                    return bad_token("was not issued by this repository");
                }
                Some(position)
            }
        };
        let supported = repo
            .formats(base_url)
            .iter()
            .any(|f| f.prefix == query.metadata_prefix);
        if !supported {
            if position.is_some() {
                return bad_token("names a format this repository no longer disseminates");
            }
            return Ok(Err(OaiError::new(
                ErrorCode::CannotDisseminateFormat,
                format!("{:?} is not a format of this repository", query.metadata_prefix),
            )));
        }
        let slice = repo.list(query, position.as_ref(), self.config.page_size)?;
        if slice.items.is_empty() {
            // Also on a resumed list whose remaining items all changed after its snapshot:
            // they come with the next incremental harvest, and harvesters treat
            // noRecordsMatch as the end of a list.
            return Ok(Err(OaiError::new(
                ErrorCode::NoRecordsMatch,
                "no records match the from, until, set and metadataPrefix arguments",
            )));
        }
        let (cursor, complete_list_size) = match list {
            ListRequest::Start(_) => (0, slice.complete_list_size),
            ListRequest::Resume(token) => (token.cursor, token.complete_list_size),
        };
        writer.open(verb.name());
        for item in &slice.items {
            let header = repo.header(item);
            match verb {
                ListVerb::Identifiers => writer.header(&header),
                ListVerb::Records => {
                    self.write_record(writer, item, &header, &query.metadata_prefix, base_url)?;
                }
            }
        }
        let sent = cursor + slice.items.len() as u64;
        match slice.next {
            Some(after) => {
                let lifetime = i64::try_from(self.config.token_lifetime.as_secs()).unwrap_or(i64::MAX / 4);
                let expires = now.unix_timestamp().saturating_add(lifetime);
                let token = ResumptionToken {
                    query: query.clone(),
                    cursor: sent,
                    // A list that grew past its announced size (it cannot, with a snapshot)
                    // must still never announce fewer items than were sent.
                    complete_list_size: complete_list_size.max(sent + 1),
                    expires,
                    snapshot: slice.snapshot,
                    position: after,
                };
                let expiration = OffsetDateTime::from_unix_timestamp(expires)
                    .map(Datestamp::from_time)
                    .unwrap_or_else(|_| Datestamp::from_time(now));
                writer.resumption_token(
                    Some((&token.encode(), &expiration)),
                    complete_list_size.max(sent + 1),
                    cursor,
                );
            }
            None if cursor > 0 => writer.resumption_token(None, sent, cursor),
            None => {}
        }
        writer.close(verb.name());
        Ok(Ok(()))
    }
}

fn unknown(identifier: &str) -> OaiError {
    OaiError::new(
        ErrorCode::IdDoesNotExist,
        format!("{identifier:?} is unknown in this repository"),
    )
}
