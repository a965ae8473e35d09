//! An iCalendar (RFC 5545) writer for events: one `VCALENDAR` with a `VEVENT` per event,
//! text values escaped (§3.3.11) and content lines folded at 75 octets without splitting a
//! UTF-8 character (§3.1).
//!
//! Times: a start that is a date (`2027-02-09`) is an all-day event (`VALUE=DATE`, with the
//! exclusive end the day after its last day); a date-time is written in UTC (`…Z`), read as
//! Lanzhou time when it carries no offset ([`schemas::LANZHOU_OFFSET`]). UTC rather than
//! `TZID=Asia/Shanghai` because a `TZID` needs a `VTIMEZONE` of its own, and UTC needs none.
//!
//! ```
//! use jincheng::ical::{CalendarEvent, calendar};
//! use time::macros::datetime;
//!
//! let event = CalendarEvent {
//!     uid: "lzculture:1@jincheng".into(),
//!     start: "2025-03-08T14:30".into(),
//!     end: Some("2025-03-08T16:30".into()),
//!     summary: "讲座; 黄河, 兰州".into(),
//!     ..CalendarEvent::default()
//! };
//! let text = calendar("金城", &[event], datetime!(2025-03-01 0:00 UTC));
//! assert!(text.contains("DTSTART:20250308T063000Z\r\n"));
//! assert!(text.contains("SUMMARY:讲座\\; 黄河\\, 兰州\r\n"));
//! ```

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// The longest content line, in octets, before folding (RFC 5545 §3.1).
const LINE_OCTETS: usize = 75;

/// One event as the calendar shows it. Times are the ISO 8601 text of
/// [`schemas::EventInfo`]; an event whose start cannot be read is left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CalendarEvent {
    /// Globally unique and stable: the record id with the host's name.
    pub uid: String,
    /// The start (ISO 8601).
    pub start: String,
    /// The end (ISO 8601), if known.
    pub end: Option<String>,
    /// The title.
    pub summary: String,
    /// Where it takes place.
    pub location: Option<String>,
    /// What it is about.
    pub description: Option<String>,
    /// Its page.
    pub url: Option<String>,
}

/// A point in time as iCalendar writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum When {
    /// A whole day.
    Day(Date),
    /// An instant.
    Instant(OffsetDateTime),
}

/// Reads `YYYY-MM-DD`, `YYYY-MM-DDThh:mm[:ss]` (Lanzhou time) or the same with `Z` or an
/// offset `±hh:mm`.
fn when_of(iso: &str) -> Option<When> {
    let iso = iso.trim();
    let day = |text: &str| -> Option<Date> {
        let mut parts = text.split('-');
        let year: i32 = parts.next()?.parse().ok()?;
        let month: u8 = parts.next()?.parse().ok()?;
        let date: u8 = parts.next()?.parse().ok()?;
        if parts.next().is_some() {
            return None;
        }
        Date::from_calendar_date(year, Month::try_from(month).ok()?, date).ok()
    };
    let Some((date_text, rest)) = iso.split_once('T') else {
        return day(iso).map(When::Day);
    };
    let date = day(date_text)?;
    // The offset starts at the first `Z`, `+` or `-` after the date.
    let split = rest.find(['Z', '+', '-']).unwrap_or(rest.len());
    let (time_text, offset_text) = rest.split_at(split);
    let mut fields = time_text.split(':');
    let hour: u8 = fields.next()?.parse().ok()?;
    let minute: u8 = fields.next()?.parse().ok()?;
    let second: u8 = match fields.next() {
        Some(s) => s.parse().ok()?,
        None => 0,
    };
    if fields.next().is_some() {
        return None;
    }
    let time = Time::from_hms(hour, minute, second).ok()?;
    let offset = match offset_text {
        "" => schemas::LANZHOU_OFFSET,
        "Z" => UtcOffset::UTC,
        text => {
            let sign: i8 = if text.starts_with('-') { -1 } else { 1 };
            let (h, m) = text.get(1..)?.split_once(':')?;
            let h: i8 = h.parse().ok()?;
            let m: i8 = m.parse().ok()?;
            UtcOffset::from_hms(sign * h, sign * m, 0).ok()?
        }
    };
    Some(When::Instant(
        PrimitiveDateTime::new(date, time).assume_offset(offset),
    ))
}

/// How long an event with a start time and no end is taken to last, for "now live": two
/// hours (a lecture or a performance), cut at midnight in Lanzhou.
pub const DEFAULT_DURATION: time::Duration = time::Duration::hours(2);

/// The instants an event runs over, `[start, end)`, from the ISO 8601 text of
/// [`schemas::EventInfo`]: a date starts at midnight in Lanzhou and, as an end, lasts to
/// the next midnight. Without an end, an event whose start is a date lasts that day, and one
/// with a start time lasts [`DEFAULT_DURATION`], but not past midnight. `None` when the start
/// does not read.
pub fn event_span(start: &str, end: Option<&str>) -> Option<(OffsetDateTime, OffsetDateTime)> {
    let midnight =
        |day: Date| PrimitiveDateTime::new(day, Time::MIDNIGHT).assume_offset(schemas::LANZHOU_OFFSET);
    let after = |day: Date| day.next_day().map(midnight);
    let (from, default_end) = match when_of(start)? {
        When::Day(day) => (midnight(day), after(day)?),
        When::Instant(instant) => {
            let cut = after(schemas::lanzhou_time(instant).date())?;
            (instant, instant.checked_add(DEFAULT_DURATION)?.min(cut))
        }
    };
    let until = match end.and_then(when_of) {
        Some(When::Day(day)) => after(day)?,
        Some(When::Instant(instant)) => instant,
        None => default_end,
    };
    Some((from, until.max(from)))
}

/// `20250308` for a date.
fn date_text(date: Date) -> String {
    format!("{:04}{:02}{:02}", date.year(), u8::from(date.month()), date.day())
}

/// `20250308T063000Z` for an instant.
fn utc_text(instant: OffsetDateTime) -> String {
    let utc = instant.to_offset(UtcOffset::UTC);
    format!(
        "{}T{:02}{:02}{:02}Z",
        date_text(utc.date()),
        utc.hour(),
        utc.minute(),
        utc.second()
    )
}

/// Escapes a TEXT value (RFC 5545 §3.3.11): backslash, semicolon, comma and newlines.
pub fn escape_text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\\n");
            }
            '\n' => out.push_str("\\n"),
            // Other control characters are not allowed in TEXT.
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Writes `line` as a content line: folded so no physical line exceeds 75 octets (the
/// continuation's leading space counts), never inside a UTF-8 character, ended by CRLF.
pub fn push_folded(out: &mut String, line: &str) {
    let mut used = 0;
    for c in line.chars() {
        let len = c.len_utf8();
        if used + len > LINE_OCTETS {
            out.push_str("\r\n ");
            used = 1;
        }
        out.push(c);
        used += len;
    }
    out.push_str("\r\n");
}

/// A calendar named `name` with `events` (those whose start reads), stamped `stamp`.
pub fn calendar(name: &str, events: &[CalendarEvent], stamp: OffsetDateTime) -> String {
    let mut out = String::new();
    let mut line = |text: &str| push_folded(&mut out, text);
    line("BEGIN:VCALENDAR");
    line("VERSION:2.0");
    line("PRODID:-//Jincheng//Lanzhou cultural events//ZH");
    line("CALSCALE:GREGORIAN");
    line("METHOD:PUBLISH");
    line(&format!("X-WR-CALNAME:{}", escape_text(name)));
    line("X-WR-TIMEZONE:Asia/Shanghai");
    for event in events {
        let Some(start) = when_of(&event.start) else {
            continue;
        };
        line("BEGIN:VEVENT");
        line(&format!("UID:{}", escape_text(&event.uid)));
        line(&format!("DTSTAMP:{}", utc_text(stamp)));
        let end = event.end.as_deref().and_then(when_of);
        match (start, end) {
            (When::Day(first), end) => {
                let last = match end {
                    Some(When::Day(last)) => last,
                    Some(When::Instant(last)) => schemas::lanzhou_time(last).date(),
                    None => first,
                }
                .max(first);
                line(&format!("DTSTART;VALUE=DATE:{}", date_text(first)));
                if let Some(after) = last.next_day() {
                    line(&format!("DTEND;VALUE=DATE:{}", date_text(after)));
                }
            }
            (When::Instant(start), end) => {
                line(&format!("DTSTART:{}", utc_text(start)));
                // An end given as a day means "until the end of that day".
                let end = match end {
                    Some(When::Instant(end)) => Some(end),
                    Some(When::Day(day)) => day
                        .next_day()
                        .map(|d| d.midnight().assume_offset(schemas::LANZHOU_OFFSET)),
                    None => None,
                };
                if let Some(end) = end.filter(|end| *end > start) {
                    line(&format!("DTEND:{}", utc_text(end)));
                }
            }
        }
        line(&format!("SUMMARY:{}", escape_text(&event.summary)));
        if let Some(location) = &event.location {
            line(&format!("LOCATION:{}", escape_text(location)));
        }
        if let Some(description) = &event.description {
            line(&format!("DESCRIPTION:{}", escape_text(description)));
        }
        if let Some(url) = &event.url {
            // URL is of type URI, which is not escaped; a URI has no CR or LF to break a line.
            let url: String = url.chars().filter(|c| !c.is_control()).collect();
            line(&format!("URL:{url}"));
        }
        line("END:VEVENT");
    }
    line("END:VCALENDAR");
    out
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn spans_default_to_the_day_or_two_hours_cut_at_midnight() {
        let span = |start, end| event_span(start, end).unwrap();
        assert_eq!(
            span("2025-03-08T14:30", Some("2025-03-08T16:00")),
            (datetime!(2025-03-08 14:30 +8), datetime!(2025-03-08 16:00 +8))
        );
        assert_eq!(
            span("2025-03-08T14:30", None),
            (datetime!(2025-03-08 14:30 +8), datetime!(2025-03-08 16:30 +8))
        );
        assert_eq!(span("2025-03-08T23:00", None).1, datetime!(2025-03-09 0:00 +8));
        assert_eq!(
            span("2025-03-08", Some("2025-03-09")),
            (datetime!(2025-03-08 0:00 +8), datetime!(2025-03-10 0:00 +8))
        );
        assert_eq!(span("2025-03-08", None).1, datetime!(2025-03-09 0:00 +8));
        assert_eq!(event_span("soon", None), None);
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(escape_text("a\\b;c,d\ne\r\nf\u{7}g"), "a\\\\b\\;c\\,d\\ne\\nfg");
        assert_eq!(escape_text("兰州音乐厅"), "兰州音乐厅");
    }

    #[test]
    fn long_lines_fold_at_75_octets_between_characters() {
        let mut out = String::new();
        let line = format!("SUMMARY:{}", "黄河".repeat(40));
        push_folded(&mut out, &line);
        let physical: Vec<&str> = out.trim_end_matches("\r\n").split("\r\n").collect();
        assert!(physical.len() > 1, "{out:?}");
        for (i, part) in physical.iter().enumerate() {
            assert!(part.len() <= 75, "line {i} has {} octets", part.len());
            if i > 0 {
                assert!(part.starts_with(' '));
            }
        }
        // Unfolding gives the line back.
        assert_eq!(out.trim_end_matches("\r\n").replace("\r\n ", ""), line);

        let mut short = String::new();
        push_folded(&mut short, "VERSION:2.0");
        assert_eq!(short, "VERSION:2.0\r\n");
        let mut exact = String::new();
        push_folded(&mut exact, &"a".repeat(75));
        assert_eq!(exact, format!("{}\r\n", "a".repeat(75)));
    }

    #[test]
    fn times_are_read_as_lanzhou_time_unless_they_say_otherwise() {
        let utc = |text: &str| match when_of(text) {
            Some(When::Instant(t)) => utc_text(t),
            other => format!("{other:?}"),
        };
        assert_eq!(utc("2025-03-08T14:30"), "20250308T063000Z");
        assert_eq!(utc("2025-03-08T14:30:15"), "20250308T063015Z");
        assert_eq!(utc("2025-03-08T14:30:00+08:00"), "20250308T063000Z");
        assert_eq!(utc("2025-03-08T06:30:00Z"), "20250308T063000Z");
        assert_eq!(utc("2025-03-08T01:30:00-05:00"), "20250308T063000Z");
        assert_eq!(
            Some(datetime!(2025-03-08 6:30 UTC)),
            OffsetDateTime::parse(
                "2025-03-08T14:30:00+08:00",
                &time::format_description::well_known::Iso8601::DEFAULT
            )
            .ok()
        );
        assert_eq!(
            when_of("2027-02-09"),
            Some(When::Day(time::macros::date!(2027 - 02 - 09)))
        );
        for bad in ["", "2025-02-30", "2025-03-08T25:00", "明天", "2025-03-08T14"] {
            assert_eq!(when_of(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_calendar_has_one_event_per_readable_start() {
        let events = [
            CalendarEvent {
                uid: "a@x".into(),
                start: "2025-03-08".into(),
                end: Some("2025-03-10".into()),
                summary: "展览".into(),
                location: Some("兰州市文化馆展厅".into()),
                ..CalendarEvent::default()
            },
            CalendarEvent {
                uid: "b@x".into(),
                start: "待定".into(),
                summary: "未定".into(),
                ..CalendarEvent::default()
            },
        ];
        let text = calendar("日历", &events, datetime!(2025-03-01 0:00 UTC));
        assert_eq!(text.matches("BEGIN:VEVENT").count(), 1);
        assert!(text.contains("DTSTART;VALUE=DATE:20250308\r\n"), "{text}");
        assert!(text.contains("DTEND;VALUE=DATE:20250311\r\n"), "{text}");
        assert!(text.contains("DTSTAMP:20250301T000000Z\r\n"), "{text}");
        assert!(text.contains("LOCATION:兰州市文化馆展厅\r\n"), "{text}");
        assert!(text.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"));
        assert!(text.ends_with("END:VCALENDAR\r\n"));
    }
}
