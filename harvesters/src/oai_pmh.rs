//! The OAI-PMH 2.0 harvester: requests, pages, and following resumption tokens.

use std::collections::HashSet;

use time::{
    Date, PrimitiveDateTime, Time, format_description::well_known::Rfc3339, macros::format_description,
};
use tokio::sync::OnceCell;
use url::Url;

use crate::{
    Error, HttpLimits, Result,
    http_fetch::HttpFetcher,
    oai_response::{MappingContext, ResponseError, parse_identify, parse_list_records},
};

/// One OAI-PMH repository to harvest, and where its records belong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OaiPmhSource {
    /// Our id for the source; record ids are `{source_id}:{OAI identifier}`.
    pub source_id: String,
    /// Id of the institution the records are attributed to.
    pub institution: String,
    /// The repository's base URL, e.g. `https://lib.example.org/oai`.
    pub base_url: Url,
    /// The metadata format requested. Only `oai_dc` is mapped.
    pub metadata_prefix: String,
    /// Harvest only this set (`setSpec`), or the whole repository.
    pub set: Option<String>,
}

/// What a repository says about itself (`verb=Identify`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identify {
    /// The repository's human-readable name.
    pub repository_name: String,
    /// The finest datestamp granularity the repository supports for `from`/`until`.
    pub granularity: Granularity,
    /// The earliest datestamp it holds.
    pub earliest_datestamp: String,
    /// How it reports deletions: `no`, `transient` or `persistent`.
    pub deleted_record: String,
}

/// Datestamp granularity of a repository: the protocol's vocabulary, shared with the
/// provider.
pub use schemas::oai::Granularity;

/// Which `ListRecords` page to fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListRequest {
    /// The first page of a list, optionally limited to datestamps in `from..=until`, given
    /// as UTC `YYYY-MM-DDThh:mm:ssZ` (or `YYYY-MM-DD`). They are sent in the repository's
    /// granularity; with day granularity the list may start a little earlier and end a little
    /// later than asked, never the other way round. The source's set and metadata prefix are
    /// used.
    Start {
        /// Earliest datestamp wanted (inclusive).
        from: Option<String>,
        /// Latest datestamp wanted (inclusive).
        until: Option<String>,
    },
    /// The page a resumption token points to.
    Resume {
        /// The token from the previous page.
        token: String,
    },
}

/// One page of a `ListRecords` list.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// The repository's `responseDate`: the safe `from` for the next incremental harvest.
    pub response_date: String,
    /// The page's records, in order; broken ones are quarantined, not dropped.
    pub items: Vec<HarvestedItem>,
    /// The token for the next page; `None` when the list is complete.
    pub next_token: Option<String>,
    /// The size of the whole list, if the repository says.
    pub complete_list_size: Option<u64>,
    /// How many records came before this page, if the repository says.
    pub cursor: Option<u64>,
}

/// One `<record>` of a page.
#[derive(Debug, Clone, PartialEq)]
pub struct HarvestedItem {
    /// The OAI identifier (empty if the record has none, which quarantines it).
    pub local_id: String,
    /// The header's datestamp, as given.
    pub datestamp: String,
    /// The header's `setSpec`s.
    pub sets: Vec<String>,
    /// The whole `<record>` element as it appears in the response (namespace declarations
    /// made on the envelope are not repeated), kept for quarantine review and re-mapping.
    pub raw: String,
    /// What became of it.
    pub outcome: ItemOutcome,
}

/// What became of one harvested record.
#[derive(Debug, Clone, PartialEq)]
pub enum ItemOutcome {
    /// Mapped and valid.
    Record(Box<schemas::Record>),
    /// The repository says the record was deleted.
    Deleted,
    /// The record could not be read or mapped; the reason says why.
    Quarantined {
        /// Why, in English, for the harvest report.
        reason: String,
    },
}

/// Harvests one OAI-PMH repository, a page at a time.
///
/// The harvester keeps no position: each [`list_records`](Self::list_records) call fetches one
/// page, and the caller stores the returned token (or the last datestamp) as its checkpoint,
/// so an interrupted harvest resumes where it stopped. [`Harvest`] follows tokens for you.
#[derive(Debug)]
pub struct OaiPmhHarvester {
    source: OaiPmhSource,
    http: HttpFetcher,
    identify: OnceCell<Identify>,
}

impl OaiPmhHarvester {
    /// A harvester for `source`, with `limits` for every request.
    ///
    /// Fails if the base URL is not `http(s)`, if the address policy refuses its literal
    /// IP address, or if the metadata prefix has no mapping (`oai_dc`, `jincheng`, `marcxml`).
    pub fn new(source: OaiPmhSource, limits: HttpLimits) -> Result<Self> {
        match source.metadata_prefix.as_str() {
            "oai_dc" => {}
            // Another Jincheng's lossless format (see `native.rs`).
            "jincheng" => {}
            // MARC21 slim records, mapped like MARCXML files (see `marc/`).
            "marcxml" => {}
            other => {
                return Err(Error::InvalidSource(format!(
                    "metadata prefix {other:?} has no mapping; supported: oai_dc, jincheng, marcxml"
                )));
            }
        }
        if source.base_url.query().is_some() || source.base_url.fragment().is_some() {
            return Err(Error::InvalidSource(format!(
                "base URL {} must not have a query or fragment",
                source.base_url
            )));
        }
        limits
            .address_policy
            .check_url(&source.base_url)
            .map_err(|reason| Error::AddressRefused {
                url: source.base_url.to_string(),
                reason,
            })?;
        Ok(OaiPmhHarvester {
            source,
            http: HttpFetcher::new(limits)?,
            identify: OnceCell::new(),
        })
    }

    /// The source being harvested.
    pub fn source(&self) -> &OaiPmhSource {
        &self.source
    }

    /// Asks the repository about itself; the answer is cached after the first success.
    pub async fn identify(&self) -> Result<Identify> {
        let identify = self
            .identify
            .get_or_try_init(|| async {
                let url = self.url(&[("verb", "Identify")]);
                let body = self.http.get(&url).await?;
                parse_identify(&body).map_err(|e| response_error(&url, e))
            })
            .await?;
        Ok(identify.clone())
    }

    /// Fetches one page of `ListRecords`.
    ///
    /// `noRecordsMatch` gives an empty, complete page; other OAI-PMH errors are
    /// [`Error::Oai`] (on `badResumptionToken`, restart from the last `from`).
    pub async fn list_records(&self, request: &ListRequest) -> Result<Page> {
        let url = match request {
            ListRequest::Resume { token } => self.url(&[("verb", "ListRecords"), ("resumptionToken", token)]),
            ListRequest::Start { from, until } => {
                let granularity = if from.is_some() || until.is_some() {
                    Some(self.identify().await?.granularity)
                } else {
                    None
                };
                let from = from
                    .as_deref()
                    .zip(granularity)
                    .map(|(d, g)| format_datestamp(d, g, Bound::From))
                    .transpose()?;
                let until = until
                    .as_deref()
                    .zip(granularity)
                    .map(|(d, g)| format_datestamp(d, g, Bound::Until))
                    .transpose()?;
                let mut pairs = vec![
                    ("verb", "ListRecords"),
                    ("metadataPrefix", self.source.metadata_prefix.as_str()),
                ];
                if let Some(from) = &from {
                    pairs.push(("from", from));
                }
                if let Some(until) = &until {
                    pairs.push(("until", until));
                }
                if let Some(set) = &self.source.set {
                    pairs.push(("set", set));
                }
                self.url(&pairs)
            }
        };
        let body = self.http.get(&url).await?;
        // Decoding, parsing and mapping a page of hundreds of records is milliseconds of CPU:
        // it runs on the blocking pool, so the async workers keep answering searches meanwhile
        // (measured by `jincheng bench load-during-harvest`).
        let source_id = self.source.source_id.clone();
        let institution = self.source.institution.clone();
        let parsed = tokio::task::spawn_blocking(move || {
            let context = MappingContext {
                source_id: &source_id,
                institution: &institution,
            };
            parse_list_records(&body, context)
        })
        .await;
        match parsed {
            Ok(page) => page.map_err(|e| response_error(&url, e)),
            // A panic in the parser is a bug: it propagates as it would have without the hop.
            Err(join) if join.is_panic() => std::panic::resume_unwind(join.into_panic()),
            Err(join) => Err(response_error(
                &url,
                ResponseError::Unreadable(format!("parsing was cancelled: {join}")),
            )),
        }
    }

    fn url(&self, pairs: &[(&str, &str)]) -> Url {
        let mut url = self.source.base_url.clone();
        url.query_pairs_mut().extend_pairs(pairs);
        url
    }
}

fn response_error(url: &Url, error: ResponseError) -> Error {
    match error {
        ResponseError::Oai { code, message } => Error::Oai { code, message },
        ResponseError::Unreadable(message) => Error::Protocol {
            url: url.to_string(),
            message,
        },
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bound {
    From,
    Until,
}

/// Formats a UTC datestamp (`YYYY-MM-DDThh:mm:ssZ` or `YYYY-MM-DD`) in `granularity`.
/// A day-only `until` stretches to the end of that day, so bounds stay inclusive.
fn format_datestamp(text: &str, granularity: Granularity, bound: Bound) -> Result<String> {
    let text = text.trim();
    let invalid = || {
        Error::InvalidRequest(format!(
            "{text:?} is not a UTC datestamp (YYYY-MM-DDThh:mm:ssZ or YYYY-MM-DD)"
        ))
    };
    let day_format = format_description!("[year]-[month]-[day]");
    let second_format = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    let datetime = if let Ok(date) = Date::parse(text, day_format) {
        let time = match bound {
            Bound::From => Time::MIDNIGHT,
            Bound::Until => Time::from_hms(23, 59, 59).map_err(|_| invalid())?,
        };
        PrimitiveDateTime::new(date, time)
    } else if text.ends_with('Z') {
        let parsed = time::OffsetDateTime::parse(text, &Rfc3339).map_err(|_| invalid())?;
        PrimitiveDateTime::new(parsed.date(), parsed.time())
    } else {
        return Err(invalid());
    };
    let formatted = match granularity {
        Granularity::Day => datetime.date().format(day_format),
        Granularity::Seconds => datetime.format(second_format),
    };
    formatted.map_err(|_| invalid())
}

/// Most empty pages in a row (each with a new token) before a harvest gives up.
const MAX_EMPTY_PAGES_IN_A_ROW: u32 = 20;

/// Follows one list from its first page (or a stored token) to the end, refusing token
/// loops and endless runs of empty pages.
///
/// ```no_run
/// # async fn run(harvester: jincheng_harvesters::OaiPmhHarvester) -> jincheng_harvesters::Result<()> {
/// use jincheng_harvesters::{Harvest, ListRequest};
/// let mut harvest = Harvest::new(&harvester, ListRequest::Start { from: None, until: None });
/// while let Some(page) = harvest.next_page().await? {
///     // store page.items, then checkpoint harvest.resume_request()
/// }
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Harvest<'h> {
    harvester: &'h OaiPmhHarvester,
    next: Option<ListRequest>,
    seen_tokens: HashSet<String>,
    empty_pages_in_a_row: u32,
}

impl<'h> Harvest<'h> {
    /// A harvest starting with `request`.
    pub fn new(harvester: &'h OaiPmhHarvester, request: ListRequest) -> Self {
        Harvest {
            harvester,
            next: Some(request),
            seen_tokens: HashSet::new(),
            empty_pages_in_a_row: 0,
        }
    }

    /// The next page, or `None` once the list is complete. After an error the same page is
    /// fetched again on the next call.
    pub async fn next_page(&mut self) -> Result<Option<Page>> {
        let Some(request) = &self.next else {
            return Ok(None);
        };
        let page = self.harvester.list_records(request).await?;
        if page.items.is_empty() && page.next_token.is_some() {
            self.empty_pages_in_a_row += 1;
            if self.empty_pages_in_a_row >= MAX_EMPTY_PAGES_IN_A_ROW {
                self.next = None;
                return Err(Error::NoProgress {
                    pages: self.empty_pages_in_a_row,
                });
            }
        } else {
            self.empty_pages_in_a_row = 0;
        }
        self.next = match &page.next_token {
            None => None,
            Some(token) => {
                // A repeated token would make the harvest go round forever.
                if !self.seen_tokens.insert(token.clone()) {
                    self.next = None;
                    return Err(Error::TokenLoop { token: token.clone() });
                }
                Some(ListRequest::Resume { token: token.clone() })
            }
        };
        Ok(Some(page))
    }

    /// The request that fetches the next page: the checkpoint to store after saving a page.
    /// `None` once the list is complete.
    pub fn resume_request(&self) -> Option<&ListRequest> {
        self.next.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datestamps_follow_the_repository_granularity() {
        let f = |t, g, b| format_datestamp(t, g, b).unwrap();
        assert_eq!(
            f("2023-05-01T12:34:56Z", Granularity::Seconds, Bound::From),
            "2023-05-01T12:34:56Z"
        );
        assert_eq!(
            f("2023-05-01T12:34:56Z", Granularity::Day, Bound::From),
            "2023-05-01"
        );
        assert_eq!(
            f("2023-05-01T12:34:56Z", Granularity::Day, Bound::Until),
            "2023-05-01"
        );
        assert_eq!(
            f("2023-05-01", Granularity::Seconds, Bound::From),
            "2023-05-01T00:00:00Z"
        );
        assert_eq!(
            f("2023-05-01", Granularity::Seconds, Bound::Until),
            "2023-05-01T23:59:59Z"
        );
        for bad in ["yesterday", "2023-05-01T12:34:56+08:00", "2023-13-01", ""] {
            assert!(
                matches!(
                    format_datestamp(bad, Granularity::Seconds, Bound::From),
                    Err(Error::InvalidRequest(_))
                ),
                "{bad:?}"
            );
        }
    }

    fn source(prefix: &str, base: &str) -> OaiPmhSource {
        OaiPmhSource {
            source_id: "peer".into(),
            institution: "lzlib".into(),
            base_url: Url::parse(base).unwrap(),
            metadata_prefix: prefix.into(),
            set: None,
        }
    }

    #[test]
    fn sources_are_checked_up_front() {
        let limits = HttpLimits::default;
        assert!(OaiPmhHarvester::new(source("oai_dc", "http://127.0.0.1/oai"), limits()).is_ok());
        assert!(OaiPmhHarvester::new(source("marcxml", "http://127.0.0.1/oai"), limits()).is_ok());
        assert!(matches!(
            OaiPmhHarvester::new(source("mods", "http://127.0.0.1/oai"), limits()),
            Err(Error::InvalidSource(_))
        ));
        assert!(matches!(
            OaiPmhHarvester::new(source("oai_dc", "http://x.org/oai?verb=Identify"), limits()),
            Err(Error::InvalidSource(_))
        ));
        let public_only = HttpLimits {
            address_policy: crate::AddressPolicy::PublicOnly,
            ..limits()
        };
        assert!(matches!(
            OaiPmhHarvester::new(source("oai_dc", "http://127.0.0.1/oai"), public_only),
            Err(Error::AddressRefused { .. })
        ));
    }

    #[test]
    fn request_urls_carry_the_arguments() {
        let mut src = source("oai_dc", "http://127.0.0.1:9/oai");
        src.set = Some("type:book".into());
        let harvester = OaiPmhHarvester::new(src, HttpLimits::default()).unwrap();
        let url = harvester.url(&[("verb", "ListRecords"), ("resumptionToken", "a%3Db&c d")]);
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:9/oai?verb=ListRecords&resumptionToken=a%253Db%26c+d"
        );
        let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        assert_eq!(pairs[1].1, "a%3Db&c d");
    }
}
