//! Parsing an OAI-PMH request: the verb, its arguments and their syntax (OAI-PMH 2.0 §3.1,
//! §3.3, §3.5). Everything that can be judged without looking at the collection is judged
//! here, so the verbs only meet well-formed requests.

use std::fmt;

use crate::datestamp::DateArgument;

/// The one metadata format the demo disseminates.
pub(crate) const OAI_DC: &str = "oai_dc";

/// A well-formed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Request {
    Identify,
    ListMetadataFormats {
        identifier: Option<String>,
    },
    ListSets,
    ListIdentifiers(ListRequest),
    ListRecords(ListRequest),
    GetRecord {
        identifier: String,
        metadata_prefix: String,
    },
}

/// The selection of a list request, whether given as arguments or by a resumption token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ListRequest {
    pub metadata_prefix: String,
    pub from: Option<DateArgument>,
    pub until: Option<DateArgument>,
    pub set: Option<String>,
    /// Position of the first item of the page asked for; 0 unless resuming.
    pub cursor: usize,
    /// True if the request carried a resumptionToken (its problems are badResumptionToken).
    pub resumed: bool,
}

/// The error codes of OAI-PMH 2.0 §3.6 that this provider can return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorCode {
    BadArgument,
    BadResumptionToken,
    BadVerb,
    CannotDisseminateFormat,
    IdDoesNotExist,
    NoRecordsMatch,
}

/// An OAI-PMH error condition, reported as `<error code="…">message</error>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OaiError {
    pub code: ErrorCode,
    pub message: String,
}

impl ErrorCode {
    /// The code as the protocol spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadArgument => "badArgument",
            ErrorCode::BadResumptionToken => "badResumptionToken",
            ErrorCode::BadVerb => "badVerb",
            ErrorCode::CannotDisseminateFormat => "cannotDisseminateFormat",
            ErrorCode::IdDoesNotExist => "idDoesNotExist",
            ErrorCode::NoRecordsMatch => "noRecordsMatch",
        }
    }

    /// For badVerb and badArgument the response's `<request>` element must carry no
    /// attributes (§3.2), since the arguments are exactly what was wrong.
    pub fn echoes_arguments(self) -> bool {
        !matches!(self, ErrorCode::BadVerb | ErrorCode::BadArgument)
    }
}

impl OaiError {
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

const VERBS: [&str; 6] = [
    "Identify",
    "ListMetadataFormats",
    "ListSets",
    "ListIdentifiers",
    "ListRecords",
    "GetRecord",
];

/// Parses the arguments of a GET query string or a POST form body.
pub(crate) fn parse(arguments: &[(String, String)]) -> Result<Request, OaiError> {
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
            Ok(Request::GetRecord {
                identifier: args.require("identifier")?.to_string(),
                metadata_prefix: metadata_prefix(args.require("metadataPrefix")?)?,
            })
        }
        list_verb => {
            let list = if let Some(token) = args.get("resumptionToken") {
                args.allow(&["resumptionToken"]).map_err(|_| {
                    OaiError::new(ErrorCode::BadArgument, "resumptionToken is an exclusive argument")
                })?;
                decode_token(token)?
            } else {
                args.allow(&["metadataPrefix", "from", "until", "set"])?;
                list_request(
                    args.require("metadataPrefix")?,
                    args.get("from"),
                    args.get("until"),
                    args.get("set"),
                    0,
                )
                .map_err(|message| OaiError::new(ErrorCode::BadArgument, message))?
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

/// True for text matching the XSD patterns of metadataPrefix and of one setSpec component:
/// URI "unreserved" characters only.
fn is_unreserved(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b))
}

fn metadata_prefix(prefix: &str) -> Result<String, OaiError> {
    if is_unreserved(prefix) {
        Ok(prefix.to_string())
    } else {
        Err(OaiError::new(
            ErrorCode::BadArgument,
            format!("{prefix:?} is not a well-formed metadataPrefix"),
        ))
    }
}

fn list_request(
    prefix: &str,
    from: Option<&str>,
    until: Option<&str>,
    set: Option<&str>,
    cursor: usize,
) -> Result<ListRequest, String> {
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
        && !set.split(':').all(is_unreserved)
    {
        return Err(format!("{set:?} is not a well-formed setSpec"));
    }
    Ok(ListRequest {
        metadata_prefix: prefix.to_string(),
        from,
        until,
        set: set.map(str::to_string),
        cursor,
        resumed: false,
    })
}

/// The resumptionToken that resumes `list` at item `cursor`.
///
/// Tokens carry the whole selection, so the provider keeps no state between requests; the
/// collections never change while the process runs, so a token stays valid forever. `|`
/// separates the fields because it can occur in none of them.
pub(crate) fn encode_token(list: &ListRequest, cursor: usize) -> String {
    let date = |d: &Option<DateArgument>| d.as_ref().map(|d| d.as_str().to_string()).unwrap_or_default();
    format!(
        "{cursor}|{}|{}|{}|{}",
        list.metadata_prefix,
        date(&list.from),
        date(&list.until),
        list.set.as_deref().unwrap_or_default()
    )
}

fn decode_token(token: &str) -> Result<ListRequest, OaiError> {
    let bad = || {
        OaiError::new(
            ErrorCode::BadResumptionToken,
            format!("{token:?} is not a resumptionToken issued by this repository"),
        )
    };
    let fields: Vec<&str> = token.split('|').collect();
    let [cursor_text, prefix, from, until, set] = fields.as_slice() else {
        return Err(bad());
    };
    // Only the canonical decimal form: "+100" or "0100" were never issued, nor was 0.
    let cursor: usize = cursor_text.parse().map_err(|_| bad())?;
    if cursor == 0 || cursor.to_string() != *cursor_text {
        return Err(bad());
    }
    let mut list =
        list_request(prefix, non_empty(from), non_empty(until), non_empty(set), cursor).map_err(|_| bad())?;
    list.resumed = true;
    Ok(list)
}

fn non_empty(s: &str) -> Option<&str> {
    (!s.is_empty()).then_some(s)
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
        parse(&args(pairs)).unwrap_err().code
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
    fn tokens_round_trip_and_forgeries_are_refused() {
        let Ok(Request::ListRecords(list)) = parse(&args(&[
            ("verb", "ListRecords"),
            ("metadataPrefix", "oai_dc"),
            ("from", "2024-05-01"),
            ("until", "2026-01-01"),
            ("set", "clc:I"),
        ])) else {
            panic!("valid request refused");
        };
        let token = encode_token(&list, 100);
        let resumed = parse(&args(&[("verb", "ListRecords"), ("resumptionToken", &token)])).unwrap();
        let want = ListRequest {
            cursor: 100,
            resumed: true,
            ..list.clone()
        };
        assert_eq!(resumed, Request::ListRecords(want));
        for forged in [
            "garbage-token-!!",
            "0|oai_dc|||",
            "+100|oai_dc|||",
            "0100|oai_dc|||",
            "100|oai_dc|yesterday||",
            "100|oai_dc||||",
            "100|oai dc|||",
        ] {
            assert_eq!(
                code(&[("verb", "ListRecords"), ("resumptionToken", forged)]),
                ErrorCode::BadResumptionToken,
                "{forged}"
            );
        }
        assert_eq!(
            code(&[
                ("verb", "ListRecords"),
                ("resumptionToken", &token),
                ("metadataPrefix", "oai_dc")
            ]),
            ErrorCode::BadArgument
        );
    }

    #[test]
    fn only_bad_verb_and_bad_argument_hide_the_arguments() {
        assert!(!ErrorCode::BadVerb.echoes_arguments());
        assert!(!ErrorCode::BadArgument.echoes_arguments());
        assert!(ErrorCode::NoRecordsMatch.echoes_arguments());
        assert!(ErrorCode::BadResumptionToken.echoes_arguments());
    }
}
