//! What opening hours and mobile schedules mean at an instant, in Lanzhou time.
//!
//! Lanzhou keeps China Standard Time, UTC+8 all year (China has had no daylight saving since
//! 1991), so a fixed offset is exact: no time-zone database is needed. Every function takes
//! the instant it is asked about, so callers (and tests) choose "now".

use time::{Date, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

use crate::venue::{
    Minutes, MobileRoute, MobileServiceKind, OpeningHours, Weekday, WeeklyHours, parse_date, parse_interval,
    parse_month_day,
};
use crate::vocab::District;

/// Lanzhou's offset from UTC: eight hours, all year.
pub const LANZHOU_OFFSET: UtcOffset = match UtcOffset::from_hms(8, 0, 0) {
    Ok(offset) => offset,
    Err(_) => UtcOffset::UTC,
};

/// An interval that ends at or after this (19:00) makes a day's opening a late one (夜间).
pub const LATE_FROM: Minutes = 19 * 60;

/// How far ahead "next open" looks: a venue closed for longer is "not scheduled".
const LOOKAHEAD_DAYS: i64 = 400;

/// How far "closes at" follows hours that run on past midnight: a venue open around the
/// clock for a week is simply open (no closing time), and a directory of 24-hour venues
/// does not walk a year of days for each.
const ROUND_THE_CLOCK_DAYS: i64 = 8;

/// The instant in Lanzhou time. (At the very end of the calendar, where that would
/// overflow, the instant is returned as it is rather than panicking.)
pub fn lanzhou_time(instant: OffsetDateTime) -> OffsetDateTime {
    instant.checked_to_offset(LANZHOU_OFFSET).unwrap_or(instant)
}

/// Where a day's hours came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoursSource {
    /// The regular week.
    Regular,
    /// A season (its index in [`OpeningHours::seasons`]).
    Season(usize),
    /// An exception (its index in [`OpeningHours::exceptions`]).
    Exception(usize),
}

/// One day's hours, resolved: the intervals in order, and where they came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayHours {
    /// The date (in Lanzhou).
    pub date: Date,
    /// Opening intervals in minutes after midnight, sorted; empty when closed.
    pub intervals: Vec<(Minutes, Minutes)>,
    /// Which rule gave them.
    pub source: HoursSource,
}

impl DayHours {
    /// True when the venue is open past [`LATE_FROM`] that day (夜间开放); a day open around
    /// the clock is not a late opening but a 24-hour one.
    pub fn is_late(&self) -> bool {
        self.intervals
            .iter()
            .any(|&(opens, closes)| closes >= LATE_FROM && (opens, closes) != (0, 1440))
    }
}

/// Whether a venue is open at an instant, and when that changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenStatus {
    /// Open at the instant.
    pub open_now: bool,
    /// When open: when it closes (absent for a venue open around the clock for the coming
    /// week, as a 24-hour one).
    pub closes_at: Option<OffsetDateTime>,
    /// When closed: when it next opens (absent when no opening is scheduled).
    pub next_open: Option<OffsetDateTime>,
}

fn season_contains(from: (u8, u8), until: (u8, u8), day: (u8, u8)) -> bool {
    if from <= until {
        from <= day && day <= until
    } else {
        // A season across the new year (11-01 to 02-28).
        day >= from || day <= until
    }
}

fn parsed(intervals: &[String]) -> Vec<(Minutes, Minutes)> {
    // Invalid intervals are refused when hours are stored; any that slip through (an older
    // store) are skipped rather than guessed.
    let mut out: Vec<_> = intervals.iter().filter_map(|i| parse_interval(i).ok()).collect();
    out.sort_unstable();
    out
}

fn week_day(week: &WeeklyHours, date: Date) -> Vec<(Minutes, Minutes)> {
    parsed(week.day(Weekday::of(date)))
}

fn at_minutes(date: Date, minutes: Minutes) -> OffsetDateTime {
    let midnight = PrimitiveDateTime::new(date, Time::MIDNIGHT).assume_offset(LANZHOU_OFFSET);
    // Only 24:00 of the calendar's last day could overflow; it then stays at midnight.
    midnight
        .checked_add(time::Duration::minutes(i64::from(minutes)))
        .unwrap_or(midnight)
}

impl OpeningHours {
    /// The hours of `date` (a Lanzhou calendar day): an exception covering it, else a season
    /// covering it (the first listed), else the regular week.
    pub fn on(&self, date: Date) -> DayHours {
        for (i, exception) in self.exceptions.iter().enumerate() {
            let Some(first) = parse_date(&exception.date) else {
                continue;
            };
            let last = exception.until.as_deref().and_then(parse_date).unwrap_or(first);
            if first <= date && date <= last {
                return DayHours {
                    date,
                    intervals: parsed(&exception.hours),
                    source: HoursSource::Exception(i),
                };
            }
        }
        let day = (u8::from(date.month()), date.day());
        for (i, season) in self.seasons.iter().enumerate() {
            if let (Some(from), Some(until)) = (parse_month_day(&season.from), parse_month_day(&season.until))
                && season_contains(from, until, day)
            {
                return DayHours {
                    date,
                    intervals: week_day(&season.weekly, date),
                    source: HoursSource::Season(i),
                };
            }
        }
        DayHours {
            date,
            intervals: week_day(&self.weekly, date),
            source: HoursSource::Regular,
        }
    }

    /// Why `day` differs from the regular week: its exception's note or its season's name.
    pub fn note_of(&self, day: &DayHours) -> Option<&str> {
        match day.source {
            HoursSource::Exception(i) => self.exceptions.get(i)?.note.as_deref(),
            HoursSource::Season(i) => self.seasons.get(i)?.name.as_deref(),
            HoursSource::Regular => None,
        }
    }

    /// The seven days starting with the Lanzhou date of `instant`.
    pub fn week_from(&self, instant: OffsetDateTime) -> Vec<DayHours> {
        let today = lanzhou_time(instant).date();
        (0..7)
            .filter_map(|n| today.checked_add(time::Duration::days(n)))
            .map(|date| self.on(date))
            .collect()
    }

    /// Whether the venue is open at `instant`, and when it next closes or opens.
    pub fn status_at(&self, instant: OffsetDateTime) -> OpenStatus {
        let local = lanzhou_time(instant);
        let today = local.date();
        let now = local.hour() as Minutes * 60 + local.minute() as Minutes;
        let current = self
            .on(today)
            .intervals
            .into_iter()
            .find(|&(opens, closes)| opens <= now && now < closes);
        if let Some((_, mut closes)) = current {
            // Follow an interval that ends at 24:00 into one that starts at 00:00 the next
            // day, so that a 24-hour venue does not "close" at midnight.
            let mut date = today;
            let mut closes_at = None;
            for _ in 0..ROUND_THE_CLOCK_DAYS {
                let next = date.next_day();
                let continues = next.and_then(|next| self.on(next).intervals.first().copied());
                match (closes, next, continues) {
                    (1440, Some(next), Some((0, end))) => {
                        date = next;
                        closes = end;
                    }
                    _ => {
                        closes_at = Some(at_minutes(date, closes));
                        break;
                    }
                }
            }
            return OpenStatus {
                open_now: true,
                closes_at,
                next_open: None,
            };
        }
        OpenStatus {
            open_now: false,
            closes_at: None,
            next_open: self.next_opening(today, now),
        }
    }

    /// True when no rule has any interval: such hours never open, whatever the day.
    fn never_opens(&self) -> bool {
        let week_empty = |w: &WeeklyHours| Weekday::ALL.iter().all(|d| w.day(*d).is_empty());
        week_empty(&self.weekly)
            && self.seasons.iter().all(|s| week_empty(&s.weekly))
            && self.exceptions.iter().all(|e| e.hours.is_empty())
    }

    /// The first opening after minute `now` of `today`, within the look-ahead.
    fn next_opening(&self, today: Date, now: Minutes) -> Option<OffsetDateTime> {
        if self.never_opens() {
            return None;
        }
        let mut date = today;
        for n in 0..LOOKAHEAD_DAYS {
            if let Some(&(opens, _)) = self
                .on(date)
                .intervals
                .iter()
                .find(|&&(opens, _)| n > 0 || opens > now)
            {
                return Some(at_minutes(date, opens));
            }
            date = date.next_day()?;
        }
        None
    }
}

/// A coming visit of a mobile service to a stop.
#[derive(Debug, Clone, PartialEq)]
pub struct UpcomingStop<'a> {
    /// The route.
    pub route: &'a MobileRoute,
    /// The stop's index in the route.
    pub stop: usize,
    /// When the vehicle arrives.
    pub starts: OffsetDateTime,
    /// When it leaves.
    pub ends: OffsetDateTime,
}

impl UpcomingStop<'_> {
    /// The stop itself.
    pub fn stop(&self) -> &crate::MobileStop {
        &self.route.stops[self.stop]
    }
}

/// The next visits after `instant` (including one under way) of the routes' stops, in
/// `district` if given and of `kind` if given, soonest first, at most `limit`, looking
/// `days` days ahead.
pub fn next_stops<'a>(
    routes: &'a [MobileRoute],
    district: Option<District>,
    kind: Option<MobileServiceKind>,
    instant: OffsetDateTime,
    days: u16,
    limit: usize,
) -> Vec<UpcomingStop<'a>> {
    let today = lanzhou_time(instant).date();
    let mut found = Vec::new();
    for route in routes.iter().filter(|r| kind.is_none_or(|k| r.kind == k)) {
        for (index, stop) in route.stops.iter().enumerate() {
            if district.is_some_and(|d| stop.district != d) {
                continue;
            }
            for visit in &stop.schedule {
                let Ok((opens, closes)) = parse_interval(&visit.time) else {
                    continue;
                };
                let mut dates: Vec<Date> = visit.dates.iter().filter_map(|d| parse_date(d)).collect();
                if let Some(weekday) = visit.weekday {
                    dates.extend(
                        (0..i64::from(days))
                            .filter_map(|n| today.checked_add(time::Duration::days(n)))
                            .filter(|d| Weekday::of(*d) == weekday),
                    );
                }
                for date in dates {
                    let (starts, ends) = (at_minutes(date, opens), at_minutes(date, closes));
                    let within = (date - today).whole_days() < i64::from(days);
                    if ends > instant && within {
                        found.push(UpcomingStop {
                            route,
                            stop: index,
                            starts,
                            ends,
                        });
                    }
                }
            }
        }
    }
    found.sort_by(|a, b| (a.starts, &a.route.id, a.stop).cmp(&(b.starts, &b.route.id, b.stop)));
    found.truncate(limit);
    found
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;
    use crate::venue::{HoursException, MobileStop, SeasonalHours, StopVisit};

    /// Tue–Sun 09:00–12:00 and 14:00–21:00, closed Mondays; summer (07-01..08-31) 08:00–22:00
    /// every day; closed 2026-10-01..10-07; 2026-12-31 09:00–17:00.
    fn library() -> OpeningHours {
        let mut weekly = WeeklyHours::every_day(&["09:00-12:00", "14:00-21:00"]);
        weekly.mon.clear();
        OpeningHours {
            weekly,
            seasons: vec![SeasonalHours {
                name: Some("夏季".into()),
                from: "07-01".into(),
                until: "08-31".into(),
                weekly: WeeklyHours::every_day(&["08:00-22:00"]),
            }],
            exceptions: vec![
                HoursException {
                    date: "2026-10-01".into(),
                    until: Some("2026-10-07".into()),
                    hours: vec![],
                    note: Some("国庆节闭馆".into()),
                },
                HoursException {
                    date: "2026-12-31".into(),
                    until: None,
                    hours: vec!["09:00-17:00".into()],
                    note: None,
                },
            ],
            note: None,
        }
    }

    #[test]
    fn open_now_is_decided_in_lanzhou_time() {
        let hours = library();
        // 2026-12-08 is a Tuesday. 01:30 UTC is 09:30 in Lanzhou: open, until 12:00.
        let status = hours.status_at(datetime!(2026-12-08 01:30 UTC));
        assert!(status.open_now);
        assert_eq!(status.closes_at, Some(datetime!(2026-12-08 12:00 +8)));
        // 12:30 UTC is 20:30 Lanzhou: the late opening (夜间) is on.
        assert!(hours.status_at(datetime!(2026-12-08 12:30 UTC)).open_now);
        assert!(hours.on(datetime!(2026-12-08 0:00).date()).is_late());
        // 13:30 UTC is 21:30 Lanzhou: closed, opens Wednesday 09:00.
        let status = hours.status_at(datetime!(2026-12-08 13:30 UTC));
        assert!(!status.open_now);
        assert_eq!(status.next_open, Some(datetime!(2026-12-09 09:00 +8)));
        // The lunch break: 04:30 UTC is 12:30 Lanzhou.
        let status = hours.status_at(datetime!(2026-12-08 04:30 UTC));
        assert!(!status.open_now);
        assert_eq!(status.next_open, Some(datetime!(2026-12-08 14:00 +8)));
        // Sunday 23:00 UTC is Monday 07:00 in Lanzhou: closed all Monday, opens Tuesday.
        let status = hours.status_at(datetime!(2026-12-06 23:00 UTC));
        assert!(!status.open_now);
        assert_eq!(status.next_open, Some(datetime!(2026-12-08 09:00 +8)));
    }

    #[test]
    fn exceptions_beat_seasons_beat_the_regular_week() {
        let hours = library();
        // Summer Monday: the season opens Mondays too.
        let summer_monday = datetime!(2026-07-06 10:00 +8);
        assert!(hours.status_at(summer_monday).open_now);
        assert_eq!(hours.on(summer_monday.date()).source, HoursSource::Season(0));
        // New Year's Eve, a Thursday: the exception closes at 17:00, not 21:00.
        let eve = hours.status_at(datetime!(2026-12-31 18:00 +8));
        assert!(!eve.open_now);
        assert_eq!(eve.next_open, Some(datetime!(2027-01-01 09:00 +8)));
        assert_eq!(
            hours.on(datetime!(2026-12-31 0:00).date()).source,
            HoursSource::Exception(1)
        );
    }

    #[test]
    fn next_open_crosses_a_week_long_closure() {
        let hours = library();
        // 2026-09-30 (Wednesday) 21:30: closed until after the holiday week; 10-08 is a
        // Thursday.
        let status = hours.status_at(datetime!(2026-09-30 21:30 +8));
        assert!(!status.open_now);
        assert_eq!(status.next_open, Some(datetime!(2026-10-08 09:00 +8)));
        assert!(!hours.status_at(datetime!(2026-10-03 10:00 +8)).open_now);
    }

    #[test]
    fn a_season_may_wrap_the_new_year() {
        let hours = OpeningHours {
            seasons: vec![SeasonalHours {
                name: Some("冬季".into()),
                from: "11-01".into(),
                until: "02-28".into(),
                weekly: WeeklyHours::every_day(&["10:00-16:00"]),
            }],
            weekly: WeeklyHours::every_day(&["08:00-18:00"]),
            ..OpeningHours::default()
        };
        assert!(!hours.status_at(datetime!(2027-01-15 17:00 +8)).open_now);
        assert!(hours.status_at(datetime!(2027-06-15 17:00 +8)).open_now);
    }

    #[test]
    fn a_24_hour_venue_never_closes_and_a_closed_one_never_opens() {
        let always = OpeningHours {
            weekly: WeeklyHours::every_day(&["00:00-24:00"]),
            ..OpeningHours::default()
        };
        let status = always.status_at(datetime!(2026-12-08 03:00 +8));
        assert!(status.open_now);
        assert!(
            !always.on(datetime!(2026-12-08 0:00).date()).is_late(),
            "24-hour, not late"
        );
        assert_eq!(status.closes_at, None);
        // Hours that end at 24:00 and go on at 00:00 close at the last interval's end.
        let late = OpeningHours {
            weekly: WeeklyHours {
                fri: vec!["20:00-24:00".into()],
                sat: vec!["00:00-02:00".into()],
                ..WeeklyHours::default()
            },
            ..OpeningHours::default()
        };
        // 2026-12-11 is a Friday.
        let status = late.status_at(datetime!(2026-12-11 23:00 +8));
        assert!(status.open_now);
        assert_eq!(status.closes_at, Some(datetime!(2026-12-12 02:00 +8)));
        let never = OpeningHours::default();
        assert_eq!(
            never.status_at(datetime!(2026-12-08 12:00 UTC)),
            OpenStatus {
                open_now: false,
                closes_at: None,
                next_open: None
            }
        );
    }

    #[test]
    fn next_stops_are_in_the_district_and_soonest_first() {
        let route = MobileRoute {
            id: "bus".into(),
            name: "流动图书车".into(),
            kind: MobileServiceKind::MobileLibrary,
            institution: "lzlib".into(),
            note: None,
            stops: vec![
                MobileStop {
                    name: "和平镇".into(),
                    district: District::Yuzhong,
                    geo: None,
                    schedule: vec![StopVisit {
                        weekday: Some(Weekday::Wed),
                        dates: vec![],
                        time: "10:00-11:30".into(),
                    }],
                },
                MobileStop {
                    name: "夏官营镇".into(),
                    district: District::Yuzhong,
                    geo: None,
                    schedule: vec![StopVisit {
                        weekday: None,
                        dates: vec!["2026-12-08".into()],
                        time: "15:00-16:00".into(),
                    }],
                },
                MobileStop {
                    name: "西固公园".into(),
                    district: District::Xigu,
                    geo: None,
                    schedule: vec![StopVisit {
                        weekday: Some(Weekday::Tue),
                        dates: vec![],
                        time: "09:00-10:00".into(),
                    }],
                },
            ],
        };
        let routes = [route];
        // Tuesday 2026-12-08 14:00 in Lanzhou.
        let now = datetime!(2026-12-08 06:00 UTC);
        let stops = next_stops(&routes, Some(District::Yuzhong), None, now, 14, 3);
        let got: Vec<(&str, OffsetDateTime)> =
            stops.iter().map(|s| (s.stop().name.as_str(), s.starts)).collect();
        assert_eq!(
            got,
            [
                ("夏官营镇", datetime!(2026-12-08 15:00 +8)),
                ("和平镇", datetime!(2026-12-09 10:00 +8)),
                ("和平镇", datetime!(2026-12-16 10:00 +8)),
            ]
        );
        // 西固's Tuesday visit this morning is over: the next is a week later.
        let xigu = next_stops(&routes, Some(District::Xigu), None, now, 14, 5);
        assert_eq!(xigu.len(), 1);
        assert_eq!(xigu[0].starts, datetime!(2026-12-15 09:00 +8));
        assert!(next_stops(&routes, None, Some(MobileServiceKind::StageTruck), now, 14, 5).is_empty());
    }
}
