//! The one error type of the crate.
//!
//! Every variant is a reason a *request* or a *page* failed. Problems with a single record
//! are not errors: they come back as data, in [`crate::ItemOutcome::Quarantined`], so one bad
//! record never stops a harvest.

use std::time::Duration;

/// Why a harvesting request failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The source's configuration cannot work (bad base URL, unsupported metadata format).
    #[error("invalid source configuration: {0}")]
    InvalidSource(String),

    /// The request asked for something malformed (e.g. a `from` that is not a UTC datestamp).
    #[error("invalid request: {0}")]
    InvalidRequest(String),

    /// The HTTP client could not be built (TLS setup).
    #[error("cannot build the HTTP client: {0}")]
    Client(#[source] reqwest::Error),

    /// The [`crate::AddressPolicy`] refused the URL, a redirect target, or every address a
    /// host name resolves to.
    #[error("refused to fetch {url}: {reason}")]
    AddressRefused {
        /// The URL that was refused.
        url: String,
        /// Why it was refused.
        reason: String,
    },

    /// The server answered with a status that retrying cannot fix (403, 404, other 4xx,
    /// unexpected 3xx).
    #[error("{url} answered HTTP {status}")]
    Status {
        /// The URL requested.
        url: String,
        /// The HTTP status code.
        status: u16,
    },

    /// The server kept answering 503/429/5xx until the retries ran out.
    #[error("{url} still answered HTTP {status} after {attempts} attempts")]
    Unavailable {
        /// The URL requested.
        url: String,
        /// The last HTTP status code.
        status: u16,
        /// How many requests were made.
        attempts: u32,
    },

    /// Every attempt timed out.
    #[error("{url} timed out ({timeout:?} per request) after {attempts} attempts")]
    Timeout {
        /// The URL requested.
        url: String,
        /// The per-request timeout.
        timeout: Duration,
        /// How many requests were made.
        attempts: u32,
    },

    /// Every attempt failed to connect or broke off (or the last one did).
    #[error("cannot fetch {url} after {attempts} attempts: {source}")]
    Connection {
        /// The URL requested.
        url: String,
        /// How many requests were made.
        attempts: u32,
        /// The last network error.
        #[source]
        source: reqwest::Error,
    },

    /// The response body grew past [`crate::HttpLimits::max_response_bytes`] (counted after
    /// decompression); reading stopped there.
    #[error("response from {url} is larger than {limit} bytes")]
    TooLarge {
        /// The URL requested.
        url: String,
        /// The limit that was exceeded.
        limit: u64,
    },

    /// A dump read as a stream cannot be read on: an I/O or decompression error, a run of
    /// bytes too long to be a record, XML broken outside any record. What came before was
    /// read.
    #[error("reading the {what} dump: {message}")]
    Dump {
        /// The kind of dump (`MARCXML`, `CSV`, …).
        what: String,
        /// What went wrong, and where.
        message: String,
    },

    /// The response is not a readable OAI-PMH document: not XML, not OAI-PMH, or truncated
    /// before it said whether the list goes on. The page's records cannot be trusted.
    #[error("unreadable OAI-PMH response from {url}: {message}")]
    Protocol {
        /// The URL requested.
        url: String,
        /// What is wrong with the response.
        message: String,
    },

    /// The repository answered with an OAI-PMH error, e.g. `badResumptionToken` (restart
    /// from the last `from` datestamp), `badArgument` or `cannotDisseminateFormat`.
    /// (`noRecordsMatch` is not an error: it is an empty, complete page.)
    #[error("OAI-PMH error {code}: {message}")]
    Oai {
        /// The OAI-PMH error code, e.g. `badResumptionToken`.
        code: String,
        /// The repository's message.
        message: String,
    },

    /// The repository handed out a resumption token it had already given in this list, so
    /// following it would never end.
    #[error("resumption token {token:?} repeats: the list would never end")]
    TokenLoop {
        /// The repeated token.
        token: String,
    },

    /// The repository kept sending empty pages, each with a new resumption token.
    #[error("{pages} empty pages in a row, each with a new resumption token")]
    NoProgress {
        /// How many empty pages came in a row.
        pages: u32,
    },
}
