//! Resumption tokens (OAI-PMH 2.0 §3.5).
//!
//! A token carries everything needed to serve the next page, so the provider keeps no state
//! between requests: the selection, the `cursor` (items already sent), the
//! `completeListSize` announced on the first page, the expiry, and two values the
//! repository chose: a **snapshot** (fixed when the list started, e.g. the highest change
//! number then) and a **position** (where the next page starts, e.g. the last change number
//! sent). A repository that orders items by a change number and bounds the list by the
//! snapshot never skips nor repeats an item, however the data changes between requests.
//!
//! Tokens look like `v1.{cursor}.{size}.{expires}.{snapshot}.{position}.{prefix}.{from}.
//! {until}.{set}.{check}` with `~` separating the fields instead of `.` (the fields are
//! escaped so the separator never occurs in them). The last field is a checksum of the
//! others: it is no security measure (tokens are no secrets and grant nothing), but it turns
//! hand-edited or truncated tokens into `badResumptionToken` instead of a strange page.

use crate::request::ListQuery;

const VERSION: &str = "v1";
const SEPARATOR: char = '~';

/// The state of a list between two pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResumptionToken {
    /// The selection being listed.
    pub query: ListQuery,
    /// Number of items sent before the page this token asks for.
    pub cursor: u64,
    /// The list size announced on the first page.
    pub complete_list_size: u64,
    /// When the token expires, in seconds since the Unix epoch (UTC).
    pub expires: i64,
    /// The repository's snapshot of the list, fixed on the first page.
    pub snapshot: String,
    /// The repository's position of the next page.
    pub position: String,
}

impl ResumptionToken {
    /// The token as sent to harvesters.
    pub fn encode(&self) -> String {
        let date =
            |d: &Option<crate::DateArgument>| d.as_ref().map(|d| d.as_str().to_string()).unwrap_or_default();
        let fields = [
            VERSION.to_string(),
            self.cursor.to_string(),
            self.complete_list_size.to_string(),
            self.expires.to_string(),
            escape(&self.snapshot),
            escape(&self.position),
            self.query.metadata_prefix.clone(),
            date(&self.query.from),
            date(&self.query.until),
            self.query.set.clone().unwrap_or_default(),
        ];
        let body = fields.join(&SEPARATOR.to_string());
        format!("{body}{SEPARATOR}{:016x}", checksum(&body))
    }

    /// Reads a token this provider issued; anything else is `None`. Expiry is not checked
    /// here (see [`ResumptionToken::expires`]).
    pub fn decode(text: &str) -> Option<ResumptionToken> {
        let (body, check) = text.rsplit_once(SEPARATOR)?;
        if check.len() != 16 || u64::from_str_radix(check, 16).ok()? != checksum(body) {
            return None;
        }
        let fields: Vec<&str> = body.split(SEPARATOR).collect();
        let [
            version,
            cursor,
            size,
            expires,
            snapshot,
            position,
            prefix,
            from,
            until,
            set,
        ] = fields.as_slice()
        else {
            return None;
        };
        if *version != VERSION {
            return None;
        }
        let non_empty = |s: &'_ str| (!s.is_empty()).then_some(s.to_string());
        let from = non_empty(from);
        let until = non_empty(until);
        let set = non_empty(set);
        let query = ListQuery::parse(prefix, from.as_deref(), until.as_deref(), set.as_deref()).ok()?;
        Some(ResumptionToken {
            query,
            cursor: canonical_number(cursor)?,
            complete_list_size: canonical_number(size)?,
            expires: expires.parse().ok()?,
            snapshot: unescape(snapshot)?,
            position: unescape(position)?,
        })
    }
}

/// Only the canonical decimal form: "+100" or "0100" were never issued.
fn canonical_number(text: &str) -> Option<u64> {
    let n: u64 = text.parse().ok()?;
    (n.to_string() == text).then_some(n)
}

/// FNV-1a, 64 bits.
fn checksum(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Escapes `%` and the separator in a repository-chosen value.
fn escape(value: &str) -> String {
    value.replace('%', "%25").replace(SEPARATOR, "%7E")
}

fn unescape(value: &str) -> Option<String> {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(at) = rest.find('%') {
        out.push_str(rest.get(..at)?);
        match rest.get(at..at + 3)? {
            "%25" => out.push('%'),
            "%7E" => out.push(SEPARATOR),
            _ => return None,
        }
        rest = rest.get(at + 3..)?;
    }
    out.push_str(rest);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token() -> ResumptionToken {
        ResumptionToken {
            query: ListQuery::parse("oai_dc", Some("2024-05-01"), Some("2026-01-01"), Some("clc:I"))
                .unwrap_or_else(|e| panic!("{e}")),
            cursor: 100,
            complete_list_size: 250,
            expires: 1_900_000_000,
            snapshot: "12~%34".into(),
            position: "99".into(),
        }
    }

    #[test]
    fn tokens_round_trip() {
        let token = token();
        assert_eq!(ResumptionToken::decode(&token.encode()), Some(token));
    }

    #[test]
    fn edited_and_foreign_tokens_are_refused() {
        let text = token().encode();
        assert!(ResumptionToken::decode(&text.replacen("100", "200", 1)).is_none());
        assert!(ResumptionToken::decode(&text[..text.len() - 1]).is_none());
        for forged in [
            "garbage-token-!!",
            "",
            "100|oai_dc|||",
            "v1~~~~~~~~~~0000000000000000",
        ] {
            assert!(ResumptionToken::decode(forged).is_none(), "{forged}");
        }
    }
}
