//! Parsing an OAI-PMH request: the verb, its arguments and their syntax (OAI-PMH 2.0 §3.1,
//! §3.3, §3.5). Everything that can be judged without looking at the repository is judged
//! here, so the verbs only meet well-formed requests.

use std::fmt;

use crate::token::ResumptionToken;
use schemas::oai::{DateArgument, Datestamp, ErrorCode};

/// A well-formed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// `Identify`.
    Identify,
    /// `ListMetadataFormats`, for the whole repository or one item.
    ListMetadataFormats {
        /// The item asked about, if any.
        identifier: Option<String>,
    },
    /// `ListSets` (never split, so it takes no resumption token).
    ListSets,
    /// `ListIdentifiers`.
    ListIdentifiers(ListRequest),
    /// `ListRecords`.
    ListRecords(ListRequest),
    /// `GetRecord`.
    GetRecord {
        /// The item's OAI identifier.
        identifier: String,
        /// The format asked for.
        metadata_prefix: String,
    },
}

/// A list verb's request: a new selection or the resumption of one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListRequest {
    /// The first page of a selection given as arguments.
    Start(ListQuery),
    /// A later page, named by a resumption token this provider issued.
    Resume(ResumptionToken),
}

impl ListRequest {
    /// The selection, however it was given.
    pub fn query(&self) -> &ListQuery {
        match self {
            ListRequest::Start(query) => query,
            ListRequest::Resume(token) => &token.query,
        }
    }
}

/// The selection of a list verb: format, datestamp bounds and set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    /// The metadata format; well-formed but not necessarily supported.
    pub metadata_prefix: String,
    /// Earliest datestamp (inclusive), as given.
    pub from: Option<DateArgument>,
    /// Latest datestamp (inclusive), as given.
    pub until: Option<DateArgument>,
    /// The set (with its descendants), as given.
    pub set: Option<String>,
}

impl ListQuery {
    /// The first second the selection covers, if bounded below.
    pub fn from_second(&self) -> Option<Datestamp> {
        self.from.as_ref().map(DateArgument::first_second)
    }

    /// The last second the selection covers, if bounded above.
    pub fn until_second(&self) -> Option<Datestamp> {
        self.until.as_ref().map(DateArgument::last_second)
    }

    /// True if `datestamp` is within `from..=until`.
    pub fn covers(&self, datestamp: &Datestamp) -> bool {
        self.from_second().is_none_or(|from| *datestamp >= from)
            && self.until_second().is_none_or(|until| *datestamp <= until)
    }

    /// Builds a selection from argument texts, checking each (the message says what is wrong).
    pub(crate) fn parse(
        prefix: &str,
        from: Option<&str>,
        until: Option<&str>,
        set: Option<&str>,
    ) -> Result<ListQuery, String> {
        if !is_unreserved(prefix) {
            return Err(format!("{prefix:?} is not a well-formed metadataPrefix"));
        }
        let from = from.map(str::parse::<DateArgument>).transpose()?;
        let until = until.map(str::parse::<DateArgument>).transpose()?;
        if let (Some(f), Some(u)) = (&from, &until) {
            if f.granularity() != u.granularity() {
                return Err("from and until must have the same granularity".into());
            }
            if f.first_second() > u.last_second() {
                return Err(format!("from {} is later than until {}", f.as_str(), u.as_str()));
            }
        }
        if let Some(set) = set
            && !is_set_spec(set)
        {
            return Err(format!("{set:?} is not a well-formed setSpec"));
        }
        Ok(ListQuery {
            metadata_prefix: prefix.to_string(),
            from,
            until,
            set: set.map(str::to_string),
        })
    }
}

/// An OAI-PMH error condition, reported as `<error code="…">message</error>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OaiError {
    /// The protocol's code.
    pub code: ErrorCode,
    /// A message for people.
    pub message: String,
}

impl OaiError {
    /// An error with `code` and `message`.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        OaiError {
            code,
            message: message.into(),
        }
    }
}

impl fmt::Display for OaiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl std::error::Error for OaiError {}

const VERBS: [&str; 6] = [
    "Identify",
    "ListMetadataFormats",
    "ListSets",
    "ListIdentifiers",
    "ListRecords",
    "GetRecord",
];

/// Parses the arguments of a GET query string or a POST form body.
pub fn parse(arguments: &[(String, String)]) -> Result<Request, OaiError> {
    let verbs: Vec<&str> = arguments
        .iter()
        .filter(|(k, _)| k == "verb")
        .map(|(_, v)| v.as_str())
        .collect();
    let verb = match verbs.as_slice() {
        [] => return Err(OaiError::new(ErrorCode::BadVerb, "the verb argument is missing")),
        [verb] => *verb,
        _ => return Err(OaiError::new(ErrorCode::BadVerb, "the verb argument is repeated")),
    };
    if !VERBS.contains(&verb) {
        return Err(OaiError::new(
            ErrorCode::BadVerb,
            format!("{verb:?} is not an OAI-PMH verb"),
        ));
    }
    let args = Arguments::new(verb, arguments)?;
    match verb {
        "Identify" => {
            args.allow(&[])?;
            Ok(Request::Identify)
        }
        "ListMetadataFormats" => {
            args.allow(&["identifier"])?;
            Ok(Request::ListMetadataFormats {
                identifier: args.get("identifier").map(str::to_string),
            })
        }
        "ListSets" => {
            args.allow(&["resumptionToken"])?;
            match args.get("resumptionToken") {
                // The set list is always complete in one response, so no token is valid.
                Some(_) => Err(OaiError::new(
                    ErrorCode::BadResumptionToken,
                    "ListSets is never split; this resumptionToken was not issued",
                )),
                None => Ok(Request::ListSets),
            }
        }
        "GetRecord" => {
            args.allow(&["identifier", "metadataPrefix"])?;
            let identifier = args.require("identifier")?.to_string();
            let prefix = args.require("metadataPrefix")?;
            if !is_unreserved(prefix) {
                return Err(OaiError::new(
                    ErrorCode::BadArgument,
                    format!("{prefix:?} is not a well-formed metadataPrefix"),
                ));
            }
            Ok(Request::GetRecord {
                identifier,
                metadata_prefix: prefix.to_string(),
            })
        }
        list_verb => {
            let list = if let Some(token) = args.get("resumptionToken") {
                args.allow(&["resumptionToken"]).map_err(|_| {
                    OaiError::new(ErrorCode::BadArgument, "resumptionToken is an exclusive argument")
                })?;
                ListRequest::Resume(ResumptionToken::decode(token).ok_or_else(|| {
                    OaiError::new(
                        ErrorCode::BadResumptionToken,
                        format!("{token:?} is not a resumptionToken issued by this repository"),
                    )
                })?)
            } else {
                args.allow(&["metadataPrefix", "from", "until", "set"])?;
                ListRequest::Start(
                    ListQuery::parse(
                        args.require("metadataPrefix")?,
                        args.get("from"),
                        args.get("until"),
                        args.get("set"),
                    )
                    .map_err(|message| OaiError::new(ErrorCode::BadArgument, message))?,
                )
            };
            Ok(if list_verb == "ListRecords" {
                Request::ListRecords(list)
            } else {
                Request::ListIdentifiers(list)
            })
        }
    }
}

/// The arguments other than `verb`, checked for repetition and emptiness.
struct Arguments<'a> {
    verb: &'a str,
    pairs: Vec<(&'a str, &'a str)>,
}

impl<'a> Arguments<'a> {
    fn new(verb: &'a str, arguments: &'a [(String, String)]) -> Result<Self, OaiError> {
        let mut pairs: Vec<(&str, &str)> = Vec::new();
        for (key, value) in arguments.iter().filter(|(k, _)| k != "verb") {
            if pairs.iter().any(|(k, _)| k == key) {
                return Err(OaiError::new(
                    ErrorCode::BadArgument,
                    format!("the argument {key:?} is repeated"),
                ));
            }
            if value.is_empty() {
                return Err(OaiError::new(
                    ErrorCode::BadArgument,
                    format!("the argument {key:?} is empty"),
                ));
            }
            pairs.push((key, value));
        }
        Ok(Arguments { verb, pairs })
    }

    fn get(&self, key: &str) -> Option<&'a str> {
        self.pairs.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }

    fn require(&self, key: &str) -> Result<&'a str, OaiError> {
        self.get(key).ok_or_else(|| {
            OaiError::new(
                ErrorCode::BadArgument,
                format!("{} requires the argument {key:?}", self.verb),
            )
        })
    }

    fn allow(&self, allowed: &[&str]) -> Result<(), OaiError> {
        match self.pairs.iter().find(|(k, _)| !allowed.contains(k)) {
            Some((key, _)) => Err(OaiError::new(
                ErrorCode::BadArgument,
                format!("{key:?} is not a legal argument of {}", self.verb),
            )),
            None => Ok(()),
        }
    }
}

/// True for text matching the XSD pattern of metadataPrefix and of one setSpec component:
/// URI "unreserved" characters only.
pub fn is_unreserved(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b))
}

/// True for a well-formed setSpec: unreserved components separated by `:`.
pub fn is_set_spec(s: &str) -> bool {
    s.split(':').all(is_unreserved)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn code(pairs: &[(&str, &str)]) -> ErrorCode {
        match parse(&args(pairs)) {
            Err(e) => e.code,
            Ok(request) => panic!("{pairs:?} was accepted as {request:?}"),
        }
    }

    #[test]
    fn verbs_are_checked_first() {
        assert_eq!(code(&[]), ErrorCode::BadVerb);
        assert_eq!(code(&[("verb", "identify")]), ErrorCode::BadVerb);
        assert_eq!(
            code(&[("verb", "Identify"), ("verb", "Identify")]),
            ErrorCode::BadVerb
        );
        assert_eq!(code(&[("metadataPrefix", "oai_dc")]), ErrorCode::BadVerb);
    }

    #[test]
    fn arguments_are_checked_per_verb() {
        assert_eq!(parse(&args(&[("verb", "Identify")])), Ok(Request::Identify));
        assert_eq!(
            code(&[("verb", "Identify"), ("foo", "bar")]),
            ErrorCode::BadArgument
        );
        assert_eq!(code(&[("verb", "ListRecords")]), ErrorCode::BadArgument);
        assert_eq!(
            code(&[
                ("verb", "ListRecords"),
                ("metadataPrefix", "oai_dc"),
                ("metadataPrefix", "oai_dc")
            ]),
            ErrorCode::BadArgument
        );
        assert_eq!(
            code(&[
                ("verb", "ListRecords"),
                ("metadataPrefix", "oai_dc"),
                ("from", "")
            ]),
            ErrorCode::BadArgument
        );
        assert_eq!(
            code(&[("verb", "GetRecord"), ("metadataPrefix", "oai_dc")]),
            ErrorCode::BadArgument
        );
        assert_eq!(
            code(&[
                ("verb", "GetRecord"),
                ("identifier", "x"),
                ("metadataPrefix", "a b")
            ]),
            ErrorCode::BadArgument
        );
        assert_eq!(
            code(&[("verb", "ListSets"), ("resumptionToken", "x")]),
            ErrorCode::BadResumptionToken
        );
        assert_eq!(
            code(&[("verb", "ListRecords"), ("metadataPrefix", "oai dc")]),
            ErrorCode::BadArgument
        );
        assert_eq!(
            code(&[
                ("verb", "ListRecords"),
                ("metadataPrefix", "oai_dc"),
                ("set", "a b")
            ]),
            ErrorCode::BadArgument
        );
        assert_eq!(
            code(&[("verb", "ListRecords"), ("resumptionToken", "garbage-token-!!")]),
            ErrorCode::BadResumptionToken
        );
        assert_eq!(
            code(&[
                ("verb", "ListRecords"),
                ("resumptionToken", "x"),
                ("metadataPrefix", "oai_dc")
            ]),
            ErrorCode::BadArgument
        );
    }

    #[test]
    fn dates_must_be_valid_and_agree() {
        let list = |from: &str, until: &str| {
            code(&[
                ("verb", "ListIdentifiers"),
                ("metadataPrefix", "oai_dc"),
                ("from", from),
                ("until", until),
            ])
        };
        assert_eq!(list("2025-01-01", "2025-01-01T00:00:00Z"), ErrorCode::BadArgument);
        assert_eq!(list("2025-01-02", "2025-01-01"), ErrorCode::BadArgument);
        assert_eq!(list("2025-01-32", "2025-02-01"), ErrorCode::BadArgument);
        let same_day = parse(&args(&[
            ("verb", "ListIdentifiers"),
            ("metadataPrefix", "oai_dc"),
            ("from", "2025-01-01"),
            ("until", "2025-01-01"),
        ]));
        assert!(same_day.is_ok());
    }

    #[test]
    fn only_bad_verb_and_bad_argument_hide_the_arguments() {
        assert!(!ErrorCode::BadVerb.echoes_arguments());
        assert!(!ErrorCode::BadArgument.echoes_arguments());
        assert!(ErrorCode::NoRecordsMatch.echoes_arguments());
        assert!(ErrorCode::BadResumptionToken.echoes_arguments());
    }
}
