//! Which events to show: the filters of `/events`, of `GET /api/v1/events` and of the
//! calendar feeds, read from one query string ([`EventQuery`]) into one [`EventFilter`].
//!
//! Dates are days in Lanzhou. `when` names a range relative to the day of the instant asked
//! about (`at`, or now): `today`; `this-week`, Monday to Sunday; `this-weekend`, that week's
//! Saturday and Sunday (on a Sunday, yesterday is still part of it). An event is in a range
//! when any of its days is. Facts a record does not state stay unknown: `free=true` keeps
//! only events known to be free, `free=false` only those known to be paid.

use schemas::{Audience, District};
use time::{Date, Duration, OffsetDateTime};

use super::events::Listed;

/// A range of days relative to today.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum When {
    /// Today.
    Today,
    /// Monday to Sunday of this week.
    ThisWeek,
    /// Saturday and Sunday of this week.
    ThisWeekend,
}

impl When {
    /// Every value with its Chinese label, in the order the filter form offers them.
    pub(crate) const ALL: [(When, &'static str, &'static str); 3] = [
        (When::Today, "today", "今天"),
        (When::ThisWeek, "this-week", "本周"),
        (When::ThisWeekend, "this-weekend", "本周末"),
    ];

    /// The first and last day of the range, for `today`.
    pub(crate) fn days(self, today: Date) -> (Date, Date) {
        let monday = today - Duration::days(i64::from(today.weekday().number_days_from_monday()));
        match self {
            When::Today => (today, today),
            When::ThisWeek => (monday, monday + Duration::days(6)),
            When::ThisWeekend => (monday + Duration::days(5), monday + Duration::days(6)),
        }
    }
}

/// The query string of the event lists. Every parameter is optional; an empty value (as a
/// form sends for "any") is the same as none.
#[derive(Debug, Default, serde::Deserialize, schemars::JsonSchema)]
pub(crate) struct EventQuery {
    /// Events on or after this day (`YYYY-MM-DD`, Lanzhou).
    #[schemars(extend("format" = "date"))]
    pub(crate) from: Option<String>,
    /// Events on or before this day (`YYYY-MM-DD`, Lanzhou).
    #[schemars(extend("format" = "date"))]
    pub(crate) to: Option<String>,
    /// A range relative to the day of `at`: `today`, `this-week` (Monday to Sunday) or
    /// `this-weekend`; not together with `from` or `to`.
    #[schemars(with = "Option<When>")]
    pub(crate) when: Option<String>,
    /// Events of the institutions in this district or county (`chengguan` or `城关区`).
    #[schemars(with = "Option<District>")]
    pub(crate) district: Option<String>,
    /// Events of this institution (its id).
    pub(crate) institution: Option<String>,
    /// The kind of activity as the source names it (`讲座`, `展览`, `演出`).
    #[serde(rename = "type")]
    pub(crate) activity: Option<String>,
    /// Events meant for this audience (`children`, `elderly`, `families`… or `少年儿童`).
    #[schemars(with = "Option<Audience>")]
    pub(crate) audience: Option<String>,
    /// `true`: only events known to be free; `false`: only those known to be paid.
    #[schemars(with = "Option<bool>")]
    pub(crate) free: Option<String>,
    /// `true`: only events with a registration link; `false`: only those without.
    #[schemars(with = "Option<bool>")]
    pub(crate) registration: Option<String>,
    /// The instant that "today", "upcoming" and "now live" are taken at (RFC 3339, e.g.
    /// `2026-12-08T09:30:00+08:00`); now when absent.
    #[schemars(extend("format" = "date-time"))]
    pub(crate) at: Option<String>,
}

/// A parameter of [`EventQuery`] that does not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FilterError {
    /// The parameter.
    pub(crate) name: &'static str,
    /// What was given.
    pub(crate) value: String,
    /// What is expected, in English (the API) and Chinese (the page).
    pub(crate) expected: (&'static str, &'static str),
}

impl FilterError {
    /// The API's message.
    pub(crate) fn english(&self) -> String {
        format!("{} must be {}, not {:?}", self.name, self.expected.0, self.value)
    }

    /// The page's message.
    pub(crate) fn chinese(&self) -> String {
        format!(
            "参数 {} 无法识别：{}（应为{}）",
            self.name, self.value, self.expected.1
        )
    }
}

/// Which events pass.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct EventFilter {
    /// Events of this institution (its id).
    pub(crate) institution: Option<String>,
    /// Events of the institutions in this district.
    pub(crate) district: Option<District>,
    /// Events of this kind, as the source names it.
    pub(crate) activity: Option<String>,
    /// Events with a day on or after this one.
    pub(crate) from: Option<Date>,
    /// Events with a day on or before this one.
    pub(crate) to: Option<Date>,
    /// Events meant for this audience.
    pub(crate) audience: Option<Audience>,
    /// Events known free (`true`) or known paid (`false`).
    pub(crate) free: Option<bool>,
    /// Events with (`true`) or without (`false`) a registration link.
    pub(crate) registration: Option<bool>,
}

/// A `YYYY-MM-DD` day.
pub(crate) fn parse_day(text: &str) -> Option<Date> {
    Date::parse(text, time::macros::format_description!("[year]-[month]-[day]")).ok()
}

impl EventQuery {
    /// The filter this query asks for, with "today" the day of `now` in Lanzhou.
    pub(crate) fn filter(&self, now: OffsetDateTime) -> Result<EventFilter, FilterError> {
        let given = |value: &Option<String>| {
            value
                .as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        let bad = |name, value: String, expected| FilterError {
            name,
            value,
            expected,
        };
        let day = |name, value: Option<String>| {
            value
                .map(|v| {
                    parse_day(&v).ok_or_else(|| bad(name, v, ("a date YYYY-MM-DD", "日期，如 2026-12-08")))
                })
                .transpose()
        };
        let flag = |name, value: Option<String>| {
            value
                .map(|v| match v.as_str() {
                    "true" | "1" => Ok(true),
                    "false" | "0" => Ok(false),
                    _ => Err(bad(name, v, ("true or false", "true 或 false"))),
                })
                .transpose()
        };
        let mut from = day("from", given(&self.from))?;
        let mut to = day("to", given(&self.to))?;
        if let Some(when) = given(&self.when) {
            let expected = (
                "today, this-week or this-weekend",
                "today、this-week 或 this-weekend",
            );
            let range = When::ALL
                .iter()
                .find(|(_, code, _)| *code == when)
                .map(|(w, _, _)| *w)
                .ok_or_else(|| bad("when", when.clone(), expected))?;
            if from.is_some() || to.is_some() {
                return Err(bad(
                    "when",
                    when,
                    ("absent when from or to is given", "空（已给出 from 或 to）"),
                ));
            }
            let (first, last) = range.days(schemas::lanzhou_time(now).date());
            (from, to) = (Some(first), Some(last));
        }
        if let (Some(first), Some(last)) = (from, to)
            && first > last
        {
            return Err(bad(
                "to",
                last.to_string(),
                ("a day on or after from", "不早于 from 的日期"),
            ));
        }
        Ok(EventFilter {
            institution: given(&self.institution),
            district: given(&self.district)
                .map(|d| {
                    d.parse()
                        .map_err(|_| bad("district", d, ("a district or county of Lanzhou", "兰州的区县")))
                })
                .transpose()?,
            activity: given(&self.activity),
            from,
            to,
            audience: given(&self.audience)
                .map(|a| {
                    a.parse().map_err(|_| {
                        bad(
                            "audience",
                            a,
                            ("an audience such as children or elderly", "适合人群，如 少年儿童"),
                        )
                    })
                })
                .transpose()?,
            free: flag("free", given(&self.free))?,
            registration: flag("registration", given(&self.registration))?,
        })
    }
}

impl EventFilter {
    /// True when `event` passes every filter that is set.
    pub(crate) fn matches(&self, event: &Listed) -> bool {
        let first = parse_day(&event.day);
        let last = event
            .end
            .as_deref()
            .and_then(|e| e.get(..10))
            .and_then(parse_day)
            .or(first);
        let in_range = match (first, last) {
            (Some(first), Some(last)) => {
                self.from.is_none_or(|from| last >= from) && self.to.is_none_or(|to| first <= to)
            }
            _ => self.from.is_none() && self.to.is_none(),
        };
        in_range
            && self.institution.as_deref().is_none_or(|i| event.institution == i)
            && self.district.is_none_or(|d| event.district == Some(d))
            && self
                .activity
                .as_deref()
                .is_none_or(|a| event.activity.as_deref() == Some(a))
            && self.audience.is_none_or(|a| event.audience.contains(&a))
            && self.free.is_none_or(|f| event.free == Some(f))
            && self
                .registration
                .is_none_or(|r| event.registration_url.is_some() == r)
    }

    /// True when no filter is set.
    pub(crate) fn is_empty(&self) -> bool {
        *self == EventFilter::default()
    }
}

#[cfg(test)]
mod tests {
    use time::macros::{date, datetime};

    use super::*;

    #[test]
    fn ranges_are_taken_from_the_day_in_lanzhou() {
        // Friday 2026-12-11; the weekend is the 12th and 13th.
        let friday = date!(2026 - 12 - 11);
        assert_eq!(
            When::ThisWeekend.days(friday),
            (date!(2026 - 12 - 12), date!(2026 - 12 - 13))
        );
        assert_eq!(
            When::ThisWeek.days(friday),
            (date!(2026 - 12 - 07), date!(2026 - 12 - 13))
        );
        assert_eq!(
            When::ThisWeekend.days(date!(2026 - 12 - 13)).0,
            date!(2026 - 12 - 12)
        );
        // 20:00 UTC on Friday is already Saturday in Lanzhou.
        let query = EventQuery {
            when: Some("today".into()),
            ..EventQuery::default()
        };
        let filter = query.filter(datetime!(2026-12-11 20:00 UTC)).unwrap();
        assert_eq!(filter.from, Some(date!(2026 - 12 - 12)));
    }

    #[test]
    fn bad_values_name_their_parameter() {
        let now = datetime!(2026-12-11 0:00 UTC);
        let error = |query: EventQuery| query.filter(now).unwrap_err().name;
        let q = |f: fn(&mut EventQuery)| {
            let mut query = EventQuery::default();
            f(&mut query);
            query
        };
        assert_eq!(error(q(|q| q.from = Some("2026-13-01".into()))), "from");
        assert_eq!(error(q(|q| q.when = Some("someday".into()))), "when");
        assert_eq!(
            error(q(|q| {
                q.when = Some("today".into());
                q.to = Some("2026-12-31".into());
            })),
            "when"
        );
        assert_eq!(
            error(q(|q| {
                q.from = Some("2026-12-31".into());
                q.to = Some("2026-12-01".into());
            })),
            "to"
        );
        assert_eq!(error(q(|q| q.district = Some("火星区".into()))), "district");
        assert_eq!(error(q(|q| q.audience = Some("aliens".into()))), "audience");
        assert_eq!(error(q(|q| q.free = Some("yes".into()))), "free");
        // Empty values, as a form sends them, are no filter.
        let empty = q(|q| q.district = Some(String::new()));
        assert!(empty.filter(now).unwrap().is_empty());
    }
}
