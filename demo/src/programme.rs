//! 甘肃省图书馆's programme of events as an RSS 2.0 feed whose dates follow the calendar:
//! every event is dated relative to the day of the request (in Lanzhou time), so the demo
//! always has an event on today with a live stream (直播), events on the coming weekend and
//! in the coming weeks, and one just past with its replay. All of it is SAMPLE data.
//!
//! The feed is served at `/demo/events/gslib.rss` and harvested by the source
//! `gslib-events`. Items keep their `guid` from day to day, so a later harvest updates the
//! same records with their new dates. The lines of each description (`活动时间：`, `地点：`,
//! `主办单位：`, `报名链接：`, `云直播：`) are the ones the feed harvester reads.

use std::fmt::Write;

use axum::http::header;
use axum::response::IntoResponse;
use time::{Date, Duration, OffsetDateTime, Weekday};

/// When an event of the programme takes place, relative to the day of the request.
#[derive(Debug, Clone, Copy)]
enum When {
    /// That many days after today (negative: before).
    InDays(i64),
    /// The first such weekday after today (never today itself).
    Next(Weekday),
}

/// One event: when, the time of day, title, category, place and the extra lines.
struct Planned {
    when: When,
    hours: &'static str,
    title: &'static str,
    category: &'static str,
    venue: &'static str,
    lines: &'static [&'static str],
}

const PROGRAMME: &[Planned] = &[
    Planned {
        when: When::InDays(0),
        hours: "00:00-23:59",
        title: "“陇上书香”云展播：甘肃古籍里的黄河（全天直播）",
        category: "展览",
        venue: "甘肃省图书馆一楼展厅",
        lines: &[
            "免费参观，线上同步直播。",
            "云直播：http://live.gslib.example.invalid/room/01",
        ],
    },
    Planned {
        when: When::InDays(3),
        hours: "19:00-21:00",
        title: "夜读金城：黄河诗词分享会",
        category: "读书会",
        venue: "甘肃省图书馆二楼报告厅",
        lines: &["夜间开放活动，免费，面向成人读者。"],
    },
    Planned {
        when: When::Next(Weekday::Saturday),
        hours: "10:00-11:30",
        title: "周末绘本故事会：羊皮筏子过黄河",
        category: "少儿活动",
        venue: "甘肃省图书馆少儿阅览区",
        lines: &[
            "面向 4-8 岁少儿及家长（亲子），免费。",
            "报名链接：http://www.gslib.example.invalid/signup/03",
        ],
    },
    Planned {
        when: When::Next(Weekday::Sunday),
        hours: "14:30-16:30",
        title: "敦煌学公益讲座：莫高窟的故事",
        category: "讲座",
        venue: "甘肃省图书馆二楼报告厅",
        lines: &[
            "公益讲座，免费，需预约。",
            "报名链接：http://www.gslib.example.invalid/signup/04",
            "云直播：http://live.gslib.example.invalid/room/04",
        ],
    },
    Planned {
        when: When::InDays(10),
        hours: "09:30-11:30",
        title: "古籍修复体验课",
        category: "培训",
        venue: "甘肃省图书馆古籍部",
        lines: &[
            "限 20 人，免费，需报名。",
            "报名链接：http://www.gslib.example.invalid/signup/05",
        ],
    },
    Planned {
        when: When::InDays(17),
        hours: "14:00-16:00",
        title: "银龄课堂：老年人智能手机使用培训",
        category: "培训",
        venue: "甘肃省图书馆一楼多功能厅",
        lines: &["面向老年读者，免费。"],
    },
    Planned {
        when: When::InDays(24),
        hours: "09:00-17:00",
        title: "西北地方文献珍品展",
        category: "展览",
        venue: "甘肃省图书馆三楼展厅",
        lines: &["免费参观。"],
    },
    Planned {
        when: When::InDays(-2),
        hours: "14:30-16:30",
        title: "讲座回看：丝绸之路上的甘肃",
        category: "讲座",
        venue: "甘肃省图书馆二楼报告厅",
        lines: &["云直播：http://live.gslib.example.invalid/room/08"],
    },
];

/// The day of `when`, counted from `today`.
fn day_of(when: When, today: Date) -> Date {
    match when {
        When::InDays(days) => today.saturating_add(Duration::days(days)),
        When::Next(weekday) => {
            let ahead = (7 + i64::from(weekday.number_days_from_monday())
                - i64::from(today.weekday().number_days_from_monday()))
                % 7;
            today.saturating_add(Duration::days(if ahead == 0 { 7 } else { ahead }))
        }
    }
}

/// The RSS 2.0 feed of the programme as of `now`.
pub fn feed(now: OffsetDateTime) -> String {
    let today = schemas::lanzhou_time(now).date();
    let published = today.saturating_sub(Duration::days(7));
    let mut items = String::new();
    for (n, event) in PROGRAMME.iter().enumerate() {
        let n = n + 1;
        let day = day_of(event.when, today);
        let mut description = format!(
            "<p>活动时间：{}年{}月{}日 {}</p><p>地点：{}</p><p>主办单位：甘肃省图书馆</p>",
            day.year(),
            u8::from(day.month()),
            day.day(),
            event.hours,
            event.venue
        );
        for line in event.lines {
            let _ = write!(description, "<p>{line}</p>");
        }
        description.push_str("<p>示例数据（虚构，仅供演示）Sample data for demonstration</p>");
        let _ = write!(
            items,
            "<item>\n  <title>{title}</title>\n  <link>http://www.gslib.example.invalid/events/{n:02}</link>\n  \
             <guid isPermaLink=\"false\">gslib-event-{n:02}</guid>\n  <pubDate>{weekday}, {d:02} {month} {y} 09:00:00 +0800</pubDate>\n  \
             <category>{category}</category>\n  <description><![CDATA[{description}]]></description>\n</item>\n",
            title = event.title,
            weekday = &published.weekday().to_string()[..3],
            d = published.day(),
            month = &published.month().to_string()[..3],
            y = published.year(),
            category = event.category,
        );
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\">\n<channel>\n\
         <title>甘肃省图书馆 · 活动预告（示例数据）</title>\n<link>http://www.gslib.example.invalid/</link>\n\
         <description>讲座、展览、读书会与培训。示例数据（虚构，仅供演示）Sample data for demonstration</description>\n\
         <language>zh-cn</language>\n{items}</channel>\n</rss>\n"
    )
}

/// `GET /demo/events/gslib.rss`.
pub(crate) async fn serve() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/rss+xml; charset=utf-8")],
        feed(OffsetDateTime::now_utc()),
    )
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn the_programme_follows_the_calendar() {
        // Monday 2026-12-07, 23:30 in Lanzhou (15:30 UTC).
        let rss = feed(datetime!(2026-12-07 15:30 UTC));
        assert!(rss.contains("活动时间：2026年12月7日 00:00-23:59"), "{rss}");
        assert!(rss.contains("活动时间：2026年12月10日 19:00-21:00"), "{rss}");
        assert!(
            rss.contains("活动时间：2026年12月12日 10:00-11:30"),
            "coming Saturday: {rss}"
        );
        assert!(
            rss.contains("活动时间：2026年12月13日 14:30-16:30"),
            "coming Sunday: {rss}"
        );
        assert!(
            rss.contains("活动时间：2026年12月5日 14:30-16:30"),
            "two days ago: {rss}"
        );
        assert!(
            rss.contains("<pubDate>Mon, 30 Nov 2026 09:00:00 +0800</pubDate>"),
            "{rss}"
        );
        // 16:30 UTC is already Tuesday in Lanzhou; on a Saturday the next Saturday is a week on.
        assert!(feed(datetime!(2026-12-07 16:30 UTC)).contains("活动时间：2026年12月8日 00:00-23:59"));
        let saturday = feed(datetime!(2026-12-12 02:00 UTC));
        assert!(
            saturday.contains("活动时间：2026年12月19日 10:00-11:30"),
            "{saturday}"
        );
        assert_eq!(rss.matches("<item>").count(), PROGRAMME.len());
    }

    #[test]
    fn the_feed_is_well_formed_xml() {
        let rss = feed(OffsetDateTime::now_utc());
        let mut reader = quick_xml::Reader::from_str(&rss);
        let mut items = 0;
        loop {
            match reader.read_event().unwrap() {
                quick_xml::events::Event::Start(e) if e.name().as_ref() == "item" => items += 1,
                quick_xml::events::Event::Eof => break,
                _ => {}
            }
        }
        assert_eq!(items, PROGRAMME.len());
    }
}
