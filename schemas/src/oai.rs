//! The OAI-PMH 2.0 vocabulary that both sides of the protocol share — the provider that
//! answers (`oai-provider`) and the harvester that asks (`harvesters`): the error codes
//! (§3.6), record datestamps at seconds granularity, and the `from`/`until` arguments, which
//! may be days or seconds.

use std::fmt;
use std::str::FromStr;

use serde::Deserialize;
use time::{Date, Month, OffsetDateTime, Time};

/// The error codes of OAI-PMH 2.0 §3.6.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// Illegal, missing, repeated or malformed arguments.
    BadArgument,
    /// The resumption token is invalid or expired.
    BadResumptionToken,
    /// The verb is missing, repeated or not a verb.
    BadVerb,
    /// The format is not supported by the item or the repository.
    CannotDisseminateFormat,
    /// The identifier is unknown or illegal in this repository.
    IdDoesNotExist,
    /// The selection is empty.
    NoRecordsMatch,
    /// The item has no metadata formats.
    NoMetadataFormats,
    /// The repository does not support sets.
    NoSetHierarchy,
}

impl ErrorCode {
    /// Every code.
    pub const ALL: [ErrorCode; 8] = [
        ErrorCode::BadArgument,
        ErrorCode::BadResumptionToken,
        ErrorCode::BadVerb,
        ErrorCode::CannotDisseminateFormat,
        ErrorCode::IdDoesNotExist,
        ErrorCode::NoRecordsMatch,
        ErrorCode::NoMetadataFormats,
        ErrorCode::NoSetHierarchy,
    ];

    /// The code a response names (`<error code="…">`), if it is one of the protocol's.
    pub fn from_name(name: &str) -> Option<ErrorCode> {
        ErrorCode::ALL.into_iter().find(|code| code.as_str() == name)
    }

    /// The code as the protocol spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadArgument => "badArgument",
            ErrorCode::BadResumptionToken => "badResumptionToken",
            ErrorCode::BadVerb => "badVerb",
            ErrorCode::CannotDisseminateFormat => "cannotDisseminateFormat",
            ErrorCode::IdDoesNotExist => "idDoesNotExist",
            ErrorCode::NoRecordsMatch => "noRecordsMatch",
            ErrorCode::NoMetadataFormats => "noMetadataFormats",
            ErrorCode::NoSetHierarchy => "noSetHierarchy",
        }
    }

    /// For badVerb and badArgument the response's `<request>` element must carry no
    /// attributes (§3.2), since the arguments are exactly what was wrong.
    pub fn echoes_arguments(self) -> bool {
        !matches!(self, ErrorCode::BadVerb | ErrorCode::BadArgument)
    }
}

/// A valid UTC datestamp at seconds granularity, `YYYY-MM-DDThh:mm:ssZ`.
///
/// Ordered as text: for this fixed-width format that is chronological order, which lets the
/// provider compare datestamps and bounds without converting them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(try_from = "String")]
pub struct Datestamp(String);

/// How precise a `from`/`until` argument is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Granularity {
    /// `YYYY-MM-DD`
    Day,
    /// `YYYY-MM-DDThh:mm:ssZ`
    Seconds,
}

impl Granularity {
    /// As Identify spells it: `YYYY-MM-DD` or `YYYY-MM-DDThh:mm:ssZ`.
    pub fn as_str(self) -> &'static str {
        match self {
            Granularity::Day => "YYYY-MM-DD",
            Granularity::Seconds => "YYYY-MM-DDThh:mm:ssZ",
        }
    }

    /// The granularity Identify names, if it is one of the protocol's two.
    pub fn from_name(name: &str) -> Option<Granularity> {
        [Granularity::Day, Granularity::Seconds]
            .into_iter()
            .find(|g| g.as_str() == name.trim())
    }
}

/// A valid `from` or `until` argument, kept as given so resumption tokens can repeat it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateArgument {
    text: String,
    granularity: Granularity,
}

impl Datestamp {
    /// The datestamp as written in responses.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Datestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Datestamp {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.parse::<DateArgument>()?.granularity {
            Granularity::Seconds => Ok(Datestamp(s.to_string())),
            Granularity::Day => Err(format!("{s:?} is a day, not a datestamp with time")),
        }
    }
}

impl TryFrom<String> for Datestamp {
    type Error = String;

    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl DateArgument {
    /// The argument as the harvester wrote it.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Its granularity; `from` and `until` must agree.
    pub fn granularity(&self) -> Granularity {
        self.granularity
    }

    /// The first second it covers (a day starts at midnight).
    pub fn first_second(&self) -> Datestamp {
        match self.granularity {
            Granularity::Day => Datestamp(format!("{}T00:00:00Z", self.text)),
            Granularity::Seconds => Datestamp(self.text.clone()),
        }
    }

    /// The last second it covers (a day ends at 23:59:59), since `until` is inclusive.
    pub fn last_second(&self) -> Datestamp {
        match self.granularity {
            Granularity::Day => Datestamp(format!("{}T23:59:59Z", self.text)),
            Granularity::Seconds => Datestamp(self.text.clone()),
        }
    }
}

impl FromStr for DateArgument {
    type Err = String;

    /// Accepts exactly `YYYY-MM-DD` or `YYYY-MM-DDThh:mm:ssZ` naming a real day and time.
    fn from_str(s: &str) -> Result<Self, String> {
        let invalid = || format!("{s:?} is not a date of the form YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ");
        let b = s.as_bytes();
        let digits = |range: std::ops::Range<usize>| -> Option<u16> {
            let part = b.get(range)?;
            if part.iter().all(u8::is_ascii_digit) {
                std::str::from_utf8(part).ok()?.parse().ok()
            } else {
                None
            }
        };
        let day_shape = b.len() >= 10 && b[4] == b'-' && b[7] == b'-';
        let (Some(year), Some(month), Some(day), true) =
            (digits(0..4), digits(5..7), digits(8..10), day_shape)
        else {
            return Err(invalid());
        };
        let month = u8::try_from(month)
            .ok()
            .and_then(|m| Month::try_from(m).ok())
            .ok_or_else(invalid)?;
        let day = u8::try_from(day).map_err(|_| invalid())?;
        Date::from_calendar_date(i32::from(year), month, day).map_err(|_| invalid())?;
        let granularity = match b.len() {
            10 => Granularity::Day,
            20 if b[10] == b'T' && b[13] == b':' && b[16] == b':' && b[19] == b'Z' => {
                let (Some(h), Some(m), Some(sec)) = (digits(11..13), digits(14..16), digits(17..19)) else {
                    return Err(invalid());
                };
                let hms = |v: u16| u8::try_from(v).map_err(|_| invalid());
                Time::from_hms(hms(h)?, hms(m)?, hms(sec)?).map_err(|_| invalid())?;
                Granularity::Seconds
            }
            _ => return Err(invalid()),
        };
        Ok(DateArgument {
            text: s.to_string(),
            granularity,
        })
    }
}

impl Datestamp {
    /// The datestamp of a moment (converted to UTC, fractions of a second dropped).
    pub fn from_time(t: OffsetDateTime) -> Datestamp {
        let t = t.to_offset(time::UtcOffset::UTC);
        Datestamp(format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        ))
    }

    /// The current time, for `responseDate`.
    pub fn now() -> Datestamp {
        Datestamp::from_time(OffsetDateTime::now_utc())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_and_seconds_parse() {
        let day: DateArgument = "2025-02-28".parse().unwrap();
        assert_eq!(day.granularity(), Granularity::Day);
        assert_eq!(day.first_second().as_str(), "2025-02-28T00:00:00Z");
        assert_eq!(day.last_second().as_str(), "2025-02-28T23:59:59Z");
        let second: DateArgument = "2025-02-28T13:05:09Z".parse().unwrap();
        assert_eq!(second.granularity(), Granularity::Seconds);
        assert_eq!(second.first_second(), second.last_second());
    }

    #[test]
    fn malformed_and_impossible_dates_are_rejected() {
        for bad in [
            "",
            "yesterday",
            "2025-2-28",
            "2025-02-29",
            "2025-13-01",
            "2025-02-28T24:00:00Z",
            "2025-02-28T12:00:00",
            "2025-02-28T12:00Z",
            "2025-02-28T12:00:00.5Z",
            "2025-02-28 12:00:00Z",
            "+025-02-28",
            "２０２５-02-28",
        ] {
            assert!(bad.parse::<DateArgument>().is_err(), "{bad:?} was accepted");
        }
        assert!("2025-02-28".parse::<Datestamp>().is_err());
    }

    #[test]
    fn now_is_a_datestamp() {
        let now = Datestamp::now();
        assert_eq!(now.as_str().parse::<Datestamp>(), Ok(now.clone()));
        assert!(now.as_str() > "2026-01-01");
    }
}
