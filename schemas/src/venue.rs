//! Venues and the service network: where an institution (or one of its service points) is,
//! how to reach it, what it offers and when it is open; and the mobile services (流动图书车,
//! 舞台车, 文化车) that visit stops on a schedule.
//!
//! Hours are written as the people who post them on a door write them: `"09:00-12:00"`, in
//! Lanzhou time. What they mean at an instant ("open now", "next open") is in `hours.rs`.

use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::validate::{ValidationErrors, is_slug};
use crate::vocab::{District, UnknownTerm, vocabulary};

vocabulary! {
    /// What a venue offers its visitors.
    Facility, "facility" {
        BlindReadingSeats = "blind_reading_seats", "盲人阅览坐席" | "盲人阅览室";
        StepFreeAccess = "step_free_access", "无障碍通道" | "wheelchair access";
        AccessibleToilet = "accessible_toilet", "无障碍卫生间";
        SelfServiceLoans = "self_service_loans", "自助借还" | "self-service";
        Open24Hours = "open_24_hours", "24小时" | "24h" | "24-hour";
        Parking = "parking", "停车" | "停车场";
        Wifi = "wifi", "无线网络" | "wi-fi";
        NursingRoom = "nursing_room", "母婴室";
        ChildrensArea = "childrens_area", "少儿阅览区" | "少儿区";
    }
}

vocabulary! {
    /// Where a venue stands in the service network (总馆 → 分馆 → 服务点).
    ServicePointKind, "service point kind" {
        Main = "main", "总馆";
        Branch = "branch", "分馆";
        ServicePoint = "service_point", "服务点" | "基层服务点";
        CulturalStation = "cultural_station", "综合文化站" | "文化站";
        CityBookBar = "city_book_bar", "城市书吧" | "书吧";
        FarmhouseLibrary = "farmhouse_library", "农家书屋";
    }
}

vocabulary! {
    /// What kind of vehicle a mobile service is.
    MobileServiceKind, "mobile service kind" {
        MobileLibrary = "mobile_library", "流动图书车" | "图书车";
        StageTruck = "stage_truck", "舞台车" | "流动舞台车";
        CultureTruck = "culture_truck", "文化车" | "流动文化车";
    }
}

vocabulary! {
    /// A day of the week, Monday first, as Chinese calendars count.
    Weekday, "weekday" {
        Mon = "mon", "周一" | "monday" | "星期一";
        Tue = "tue", "周二" | "tuesday" | "星期二";
        Wed = "wed", "周三" | "wednesday" | "星期三";
        Thu = "thu", "周四" | "thursday" | "星期四";
        Fri = "fri", "周五" | "friday" | "星期五";
        Sat = "sat", "周六" | "saturday" | "星期六";
        Sun = "sun", "周日" | "sunday" | "星期日" | "星期天";
    }
}

/// Where a venue is, in WGS-84 degrees.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GeoPoint {
    /// Latitude, -90 to 90 (Lanzhou is near 36.06).
    pub lat: f64,
    /// Longitude, -180 to 180 (Lanzhou is near 103.83).
    pub lon: f64,
}

/// Whether a visit costs anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AdmissionKind {
    /// Free of charge (免费开放).
    Free,
    /// A ticket is needed (购票).
    Ticketed,
}

/// Admission: free or ticketed, with a note (`凭身份证免费领票`, `成人 20 元`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Admission {
    /// Free or ticketed.
    pub kind: AdmissionKind,
    /// What to know before coming.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Opening hours for each day of a week: a list of intervals per day, each `"HH:MM-HH:MM"`
/// in Lanzhou time (`"09:00-12:00"`, `"14:00-21:00"`). A day without intervals is closed.
/// An interval may end at `24:00`; one that would pass midnight is refused (write it as
/// `"20:00-24:00"` on one day and `"00:00-02:00"` on the next).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WeeklyHours {
    /// Monday.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mon: Vec<String>,
    /// Tuesday.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tue: Vec<String>,
    /// Wednesday.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub wed: Vec<String>,
    /// Thursday.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub thu: Vec<String>,
    /// Friday.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fri: Vec<String>,
    /// Saturday.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sat: Vec<String>,
    /// Sunday.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sun: Vec<String>,
}

impl WeeklyHours {
    /// The intervals of `day`, as written.
    pub fn day(&self, day: Weekday) -> &[String] {
        match day {
            Weekday::Mon => &self.mon,
            Weekday::Tue => &self.tue,
            Weekday::Wed => &self.wed,
            Weekday::Thu => &self.thu,
            Weekday::Fri => &self.fri,
            Weekday::Sat => &self.sat,
            Weekday::Sun => &self.sun,
        }
    }

    /// The same intervals every day of the week.
    pub fn every_day(intervals: &[&str]) -> WeeklyHours {
        let day: Vec<String> = intervals.iter().map(|s| s.to_string()).collect();
        WeeklyHours {
            mon: day.clone(),
            tue: day.clone(),
            wed: day.clone(),
            thu: day.clone(),
            fri: day.clone(),
            sat: day.clone(),
            sun: day,
        }
    }
}

/// Hours for part of every year (夏季, 冬季), from `from` to `until` inclusive, written
/// `MM-DD`. A season may wrap the new year (`11-01` to `02-28`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SeasonalHours {
    /// What it is called (`夏季开放时间`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// First day, `MM-DD`.
    pub from: String,
    /// Last day, `MM-DD`.
    pub until: String,
    /// The week's hours during the season.
    pub weekly: WeeklyHours,
}

/// Different hours on particular dates: a holiday closure or special hours. `date` (and
/// `until`, for a run of days) are `YYYY-MM-DD`; no `hours` means closed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HoursException {
    /// The (first) date, `YYYY-MM-DD`.
    pub date: String,
    /// The last date of a run of days, inclusive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    /// The hours on those days; none means closed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hours: Vec<String>,
    /// Why (`国庆节闭馆`, `除夕延时开放`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// When a venue is open. Exceptions beat seasons, and seasons beat the regular week.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OpeningHours {
    /// The regular week.
    #[serde(default)]
    pub weekly: WeeklyHours,
    /// Seasonal weeks, which replace the regular week on their days.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub seasons: Vec<SeasonalHours>,
    /// Dates with other hours (or closed), which replace everything else on their days.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exceptions: Vec<HoursException>,
    /// Anything else to know (`周一闭馆，法定节假日另行通知`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The visitor's facts of an institution or a service point.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Venue {
    /// Its place in the service network.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<ServicePointKind>,
    /// The institution it belongs to (a 分馆's 总馆, a 服务点's 分馆), by id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// Street address (`兰州市城关区金昌南路 ××号`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// Coordinates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geo: Option<GeoPoint>,
    /// Telephone (`0931-1234567`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Web site (`https://…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    /// What it offers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub facilities: Vec<Facility>,
    /// Free or ticketed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admission: Option<Admission>,
    /// When it is open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hours: Option<OpeningHours>,
}

/// One visit of a mobile service to a stop: on a weekday every week, or on listed dates,
/// during `time` (`"10:00-11:30"`, Lanzhou time).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StopVisit {
    /// Every week on this day (or give `dates`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weekday: Option<Weekday>,
    /// On these dates, `YYYY-MM-DD` (or give `weekday`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dates: Vec<String>,
    /// From when to when, `HH:MM-HH:MM`.
    pub time: String,
}

/// A stop of a mobile service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MobileStop {
    /// Where it stops (`和平镇政府广场`).
    pub name: String,
    /// The district or county of the stop.
    pub district: District,
    /// Coordinates, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geo: Option<GeoPoint>,
    /// When it is there.
    pub schedule: Vec<StopVisit>,
}

/// A mobile service (流动图书车, 舞台车, 文化车) and its route.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MobileRoute {
    /// Stable short id (`lzlib-bus-1`).
    pub id: String,
    /// Its name (`兰州市图书馆流动图书车 1 号线`).
    pub name: String,
    /// The vehicle.
    pub kind: MobileServiceKind,
    /// The institution that runs it, by id.
    pub institution: String,
    /// Anything else to know.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Its stops, in route order.
    pub stops: Vec<MobileStop>,
}

/// A clock time as minutes after midnight, `0..=1440` (`24:00` is 1440).
pub type Minutes = u16;

/// Why an interval is not understood.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntervalError {
    /// Not `HH:MM-HH:MM`.
    Malformed,
    /// It ends at or before it starts (or passes midnight).
    EndsBeforeStart,
}

impl fmt::Display for IntervalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            IntervalError::Malformed => "must be HH:MM-HH:MM, e.g. 09:00-17:30",
            IntervalError::EndsBeforeStart => {
                "must end after it starts; hours past midnight end at 24:00 and continue at 00:00 the next day"
            }
        })
    }
}

fn parse_clock(text: &str) -> Option<Minutes> {
    let (h, m) = text.trim().split_once(':')?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return None;
    }
    let h: u16 = h.parse().ok()?;
    let m: u16 = m.parse().ok()?;
    match (h, m) {
        (24, 0) => Some(1440),
        (0..=23, 0..=59) => Some(h * 60 + m),
        _ => None,
    }
}

/// Parses `"09:00-12:00"` (a `–`, `—` or `~` between the times is accepted too) into minutes
/// after midnight.
pub fn parse_interval(text: &str) -> Result<(Minutes, Minutes), IntervalError> {
    let (a, b) = text
        .split_once(['-', '–', '—', '~'])
        .ok_or(IntervalError::Malformed)?;
    let (opens, closes) = (
        parse_clock(a).ok_or(IntervalError::Malformed)?,
        parse_clock(b).ok_or(IntervalError::Malformed)?,
    );
    if opens >= 1440 || closes <= opens {
        return Err(IntervalError::EndsBeforeStart);
    }
    Ok((opens, closes))
}

/// Formats minutes after midnight as `HH:MM`.
pub fn format_clock(minutes: Minutes) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// Parses `MM-DD` into (month, day), accepting 02-29.
pub(crate) fn parse_month_day(text: &str) -> Option<(u8, u8)> {
    let (m, d) = text.trim().split_once('-')?;
    if m.len() != 2 || d.len() != 2 {
        return None;
    }
    let (m, d): (u8, u8) = (m.parse().ok()?, d.parse().ok()?);
    let days = match m {
        2 => 29,
        4 | 6 | 9 | 11 => 30,
        1..=12 => 31,
        _ => return None,
    };
    (1..=days).contains(&d).then_some((m, d))
}

/// Parses `YYYY-MM-DD`.
pub(crate) fn parse_date(text: &str) -> Option<time::Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(text.trim(), &format).ok()
}

/// Longest text field of a venue (addresses, notes, names).
const MAX_TEXT_CHARS: usize = 500;

impl ValidationErrors {
    fn invalid(&mut self, field: String, message: String, message_zh: String) {
        self.errors.push(crate::FieldError {
            field,
            code: "invalid",
            message,
            message_zh,
        });
    }

    fn check_text(&mut self, field: String, text: &str, required: bool) {
        let n = text.trim().chars().count();
        if required && n == 0 {
            self.errors.push(crate::FieldError {
                message: format!("{field} is required"),
                message_zh: format!("{field} 为必填项"),
                field,
                code: "required",
            });
        } else if n > MAX_TEXT_CHARS || text.chars().any(char::is_control) {
            self.errors.push(crate::FieldError {
                message: format!(
                    "{field} must be at most {MAX_TEXT_CHARS} characters, without control characters"
                ),
                message_zh: format!("{field} 不得超过 {MAX_TEXT_CHARS} 字且不得含控制字符"),
                field,
                code: "too_long",
            });
        }
    }

    fn check_geo(&mut self, field: &str, geo: &GeoPoint) {
        if !(-90.0..=90.0).contains(&geo.lat) {
            self.errors.push(crate::FieldError {
                field: format!("{field}.lat"),
                code: "out_of_range",
                message: format!("{field}.lat {} is outside -90..=90", geo.lat),
                message_zh: format!("{field}.lat {} 超出 -90 至 90 的范围", geo.lat),
            });
        }
        if !(-180.0..=180.0).contains(&geo.lon) {
            self.errors.push(crate::FieldError {
                field: format!("{field}.lon"),
                code: "out_of_range",
                message: format!("{field}.lon {} is outside -180..=180", geo.lon),
                message_zh: format!("{field}.lon {} 超出 -180 至 180 的范围", geo.lon),
            });
        }
    }

    /// Checks a day's intervals: each understood, none overlapping.
    fn check_intervals(&mut self, field: &str, intervals: &[String]) {
        let mut parsed = Vec::new();
        for (i, text) in intervals.iter().enumerate() {
            match parse_interval(text) {
                Ok(interval) => parsed.push(interval),
                Err(err) => self.invalid(
                    format!("{field}[{i}]"),
                    format!("{field}[{i}] {text:?} {err}"),
                    match err {
                        IntervalError::Malformed => {
                            format!("{field}[{i}] 应写作 HH:MM-HH:MM，如 09:00-17:30")
                        }
                        IntervalError::EndsBeforeStart => format!(
                            "{field}[{i}] 结束时间须晚于开始时间；跨午夜请写到 24:00，次日从 00:00 起"
                        ),
                    },
                ),
            }
        }
        parsed.sort_unstable();
        if parsed.windows(2).any(|w| w[1].0 < w[0].1) {
            self.invalid(
                field.to_string(),
                format!("{field} has overlapping intervals"),
                format!("{field} 的时段相互重叠"),
            );
        }
    }

    fn check_week(&mut self, field: &str, week: &WeeklyHours) {
        for day in Weekday::ALL {
            self.check_intervals(&format!("{field}.{}", day.as_str()), week.day(*day));
        }
    }

    fn check_date(&mut self, field: String, text: &str) -> Option<time::Date> {
        let date = parse_date(text);
        if date.is_none() {
            self.invalid(
                field.clone(),
                format!("{field} {text:?} must be a date YYYY-MM-DD"),
                format!("{field} 应为 YYYY-MM-DD 格式的日期"),
            );
        }
        date
    }

    fn check_hours(&mut self, field: &str, hours: &OpeningHours) {
        self.check_week(&format!("{field}.weekly"), &hours.weekly);
        for (i, season) in hours.seasons.iter().enumerate() {
            let at = format!("{field}.seasons[{i}]");
            for (name, text) in [("from", &season.from), ("until", &season.until)] {
                if parse_month_day(text).is_none() {
                    self.invalid(
                        format!("{at}.{name}"),
                        format!("{at}.{name} {text:?} must be a day of the year MM-DD"),
                        format!("{at}.{name} 应为 MM-DD 格式的月日"),
                    );
                }
            }
            if let Some(name) = &season.name {
                self.check_text(format!("{at}.name"), name, false);
            }
            self.check_week(&format!("{at}.weekly"), &season.weekly);
        }
        for (i, exception) in hours.exceptions.iter().enumerate() {
            let at = format!("{field}.exceptions[{i}]");
            let first = self.check_date(format!("{at}.date"), &exception.date);
            if let Some(until) = &exception.until
                && let Some(last) = self.check_date(format!("{at}.until"), until)
                && let Some(first) = first
                && !(0..=366).contains(&(last - first).whole_days())
            {
                self.invalid(
                    format!("{at}.until"),
                    format!("{at}.until must be on or after date, and within a year of it"),
                    format!("{at}.until 须不早于 date，且相距不超过一年"),
                );
            }
            self.check_intervals(&format!("{at}.hours"), &exception.hours);
            if let Some(note) = &exception.note {
                self.check_text(format!("{at}.note"), note, false);
            }
        }
        if let Some(note) = &hours.note {
            self.check_text(format!("{field}.note"), note, false);
        }
    }
}

/// True for a telephone number as Chinese venues write them: digits, spaces, `+-()`, and
/// `转` before an extension.
fn is_phone(text: &str) -> bool {
    let digits = text.chars().filter(char::is_ascii_digit).count();
    (5..=20).contains(&digits)
        && text.chars().count() <= 32
        && text
            .chars()
            .all(|c| c.is_ascii_digit() || " +-()/、转".contains(c))
}

impl Venue {
    /// Checks every field of the venue, reporting each problem under `field` (`venue`).
    pub(crate) fn check(&self, field: &str, own_id: &str, errors: &mut ValidationErrors) {
        if let Some(parent) = &self.parent {
            if !is_slug(parent) {
                errors.invalid(
                    format!("{field}.parent"),
                    "parent must be an institution id (letters, digits, - and _)".into(),
                    "parent 必须是机构标识（字母、数字、- 和 _）".into(),
                );
            } else if parent == own_id {
                errors.invalid(
                    format!("{field}.parent"),
                    "an institution cannot be its own parent".into(),
                    "机构不能以自身为上级".into(),
                );
            }
        }
        if let Some(address) = &self.address {
            errors.check_text(format!("{field}.address"), address, true);
        }
        if let Some(geo) = &self.geo {
            errors.check_geo(&format!("{field}.geo"), geo);
        }
        if let Some(phone) = &self.phone
            && !is_phone(phone)
        {
            errors.invalid(
                format!("{field}.phone"),
                format!("{field}.phone {phone:?} must be a telephone number (5-20 digits, spaces, +-())"),
                format!("{field}.phone 应为电话号码（5 至 20 位数字，可含空格、+-()）"),
            );
        }
        if let Some(website) = &self.website {
            let ok = (website.starts_with("https://") || website.starts_with("http://"))
                && website.len() > "https://".len()
                && website.len() <= 2_000
                && !website.chars().any(|c| c.is_whitespace() || c.is_control());
            if !ok {
                errors.invalid(
                    format!("{field}.website"),
                    format!("{field}.website must be an http(s) URL"),
                    format!("{field}.website 必须是 http(s) 网址"),
                );
            }
        }
        if let Some(note) = self.admission.as_ref().and_then(|a| a.note.as_ref()) {
            errors.check_text(format!("{field}.admission.note"), note, false);
        }
        if let Some(hours) = &self.hours {
            errors.check_hours(&format!("{field}.hours"), hours);
        }
    }

    /// Checks the venue on its own (as a curator's or an admin's edit).
    pub fn validate(&self, own_id: &str) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors { errors: Vec::new() };
        self.check("venue", own_id, &mut errors);
        errors.into_result()
    }
}

impl MobileRoute {
    /// Checks the route and lists every invalid field.
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors { errors: Vec::new() };
        if !is_slug(&self.id) {
            errors.invalid(
                "id".into(),
                "id must be 1-64 ASCII letters, digits, - or _".into(),
                "id 必须是 1 至 64 个字母、数字、- 或 _".into(),
            );
        }
        errors.check_text("name".into(), &self.name, true);
        if !is_slug(&self.institution) {
            errors.invalid(
                "institution".into(),
                "institution must be an institution id".into(),
                "institution 必须是机构标识".into(),
            );
        }
        if let Some(note) = &self.note {
            errors.check_text("note".into(), note, false);
        }
        if self.stops.is_empty() {
            errors.errors.push(crate::FieldError {
                field: "stops".into(),
                code: "required",
                message: "a route needs at least one stop".into(),
                message_zh: "线路至少要有一个停靠点".into(),
            });
        }
        for (i, stop) in self.stops.iter().enumerate() {
            let at = format!("stops[{i}]");
            errors.check_text(format!("{at}.name"), &stop.name, true);
            if let Some(geo) = &stop.geo {
                errors.check_geo(&format!("{at}.geo"), geo);
            }
            if stop.schedule.is_empty() {
                errors.errors.push(crate::FieldError {
                    field: format!("{at}.schedule"),
                    code: "required",
                    message: format!("{at}.schedule needs at least one visit"),
                    message_zh: format!("{at}.schedule 至少要有一次停靠"),
                });
            }
            for (j, visit) in stop.schedule.iter().enumerate() {
                let at = format!("{at}.schedule[{j}]");
                let (has_weekday, has_dates) = (visit.weekday.is_some(), !visit.dates.is_empty());
                if has_weekday == has_dates {
                    errors.invalid(
                        at.clone(),
                        format!("{at} must give either a weekday or dates, not both or neither"),
                        format!("{at} 须给出 weekday 或 dates 之一"),
                    );
                }
                for (k, date) in visit.dates.iter().enumerate() {
                    errors.check_date(format!("{at}.dates[{k}]"), date);
                }
                errors.check_intervals(&format!("{at}.time"), std::slice::from_ref(&visit.time));
            }
        }
        errors.into_result()
    }
}

/// The first problem of the service network that `institutions` make together: a parent
/// that is not among them, or a cycle of parents (a 服务点 that is its own 总馆).
pub fn network_problem(institutions: &[crate::Institution]) -> Option<String> {
    let parent_of = |id: &str| {
        institutions
            .iter()
            .find(|i| i.id == id)
            .and_then(|i| i.venue.as_ref())
            .and_then(|v| v.parent.as_deref())
    };
    for institution in institutions {
        let Some(parent) = institution.venue.as_ref().and_then(|v| v.parent.as_deref()) else {
            continue;
        };
        if !institutions.iter().any(|i| i.id == parent) {
            return Some(format!(
                "institution {:?} names parent {parent:?}, which is not declared",
                institution.id
            ));
        }
        let mut at = Some(parent);
        for _ in 0..institutions.len() {
            match at {
                Some(id) if id == institution.id => {
                    return Some(format!(
                        "institution {:?} is its own parent's parent",
                        institution.id
                    ));
                }
                Some(id) => at = parent_of(id),
                None => break,
            }
        }
    }
    None
}

impl Weekday {
    /// The weekday of a calendar date.
    pub fn of(date: time::Date) -> Weekday {
        match date.weekday() {
            time::Weekday::Monday => Weekday::Mon,
            time::Weekday::Tuesday => Weekday::Tue,
            time::Weekday::Wednesday => Weekday::Wed,
            time::Weekday::Thursday => Weekday::Thu,
            time::Weekday::Friday => Weekday::Fri,
            time::Weekday::Saturday => Weekday::Sat,
            time::Weekday::Sunday => Weekday::Sun,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_parse_and_past_midnight_is_refused_clearly() {
        assert_eq!(parse_interval("09:00-12:00"), Ok((540, 720)));
        assert_eq!(parse_interval("9:30–21:00"), Ok((570, 1260)));
        assert_eq!(parse_interval("00:00-24:00"), Ok((0, 1440)));
        assert_eq!(parse_interval("20:00-02:00"), Err(IntervalError::EndsBeforeStart));
        assert_eq!(parse_interval("24:00-24:00"), Err(IntervalError::EndsBeforeStart));
        assert_eq!(parse_interval("25:00-26:00"), Err(IntervalError::Malformed));
        assert_eq!(parse_interval("nine to five"), Err(IntervalError::Malformed));
        assert!(IntervalError::EndsBeforeStart.to_string().contains("24:00"));
    }

    #[test]
    fn facilities_parse_from_chinese_labels() {
        assert_eq!(
            "盲人阅览坐席".parse::<Facility>(),
            Ok(Facility::BlindReadingSeats)
        );
        assert_eq!("24小时".parse::<Facility>(), Ok(Facility::Open24Hours));
        assert_eq!(
            "农家书屋".parse::<ServicePointKind>(),
            Ok(ServicePointKind::FarmhouseLibrary)
        );
        assert_eq!(
            "舞台车".parse::<MobileServiceKind>(),
            Ok(MobileServiceKind::StageTruck)
        );
    }

    #[test]
    fn every_invalid_venue_field_is_listed() {
        let venue = Venue {
            parent: Some("self".into()),
            geo: Some(GeoPoint {
                lat: 91.0,
                lon: 200.0,
            }),
            phone: Some("call us".into()),
            website: Some("javascript:alert(1)".into()),
            hours: Some(OpeningHours {
                weekly: WeeklyHours {
                    tue: vec!["09:00-12:00".into(), "11:00-13:00".into()],
                    wed: vec!["22:00-02:00".into()],
                    ..WeeklyHours::default()
                },
                seasons: vec![SeasonalHours {
                    name: None,
                    from: "13-01".into(),
                    until: "02-30".into(),
                    weekly: WeeklyHours::default(),
                }],
                exceptions: vec![HoursException {
                    date: "2026-10-07".into(),
                    until: Some("2026-10-01".into()),
                    hours: vec![],
                    note: None,
                }],
                note: None,
            }),
            ..Venue::default()
        };
        let errors = venue.validate("self").unwrap_err().errors;
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "venue.parent",
                "venue.geo.lat",
                "venue.geo.lon",
                "venue.phone",
                "venue.website",
                "venue.hours.weekly.tue",
                "venue.hours.weekly.wed[0]",
                "venue.hours.seasons[0].from",
                "venue.hours.seasons[0].until",
                "venue.hours.exceptions[0].until",
            ]
        );
        assert!(errors.iter().all(|e| !e.message_zh.is_empty()));
        assert!(errors[6].message.contains("24:00"), "{}", errors[6].message);
    }

    #[test]
    fn parents_must_exist_and_never_loop() {
        let with_parent = |id: &str, parent: &str| crate::Institution {
            id: id.into(),
            name: id.into(),
            institution_type: crate::InstitutionType::Library,
            district: None,
            level: crate::Level::Village,
            venue: Some(Venue {
                parent: Some(parent.into()),
                ..Venue::default()
            }),
        };
        assert_eq!(
            network_problem(&[with_parent("a", "b"), with_parent("b", "c")]).as_deref(),
            Some("institution \"b\" names parent \"c\", which is not declared")
        );
        assert!(network_problem(&[with_parent("a", "b"), with_parent("b", "a")]).is_some());
        let mut root = with_parent("b", "x");
        root.venue = None;
        assert_eq!(network_problem(&[with_parent("a", "b"), root]), None);
    }

    #[test]
    fn a_route_needs_a_weekday_or_dates_per_visit() {
        let route = MobileRoute {
            id: "bus".into(),
            name: "图书车".into(),
            kind: MobileServiceKind::MobileLibrary,
            institution: "lzlib".into(),
            note: None,
            stops: vec![MobileStop {
                name: "广场".into(),
                district: District::Yuzhong,
                geo: None,
                schedule: vec![
                    StopVisit {
                        weekday: None,
                        dates: vec![],
                        time: "10:00-11:00".into(),
                    },
                    StopVisit {
                        weekday: Some(Weekday::Mon),
                        dates: vec![],
                        time: "10:00".into(),
                    },
                ],
            }],
        };
        let errors = route.validate().unwrap_err().errors;
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["stops[0].schedule[0]", "stops[0].schedule[1].time[0]"]);
    }
}
