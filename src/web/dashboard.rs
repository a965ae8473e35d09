//! The admin dashboard: one HTML page with SVG charts drawn on the server. No script runs on
//! it, and nothing is loaded from elsewhere (its Content-Security-Policy forbids both).
//! The page is `templates/dashboard.html`; this module computes the charts' geometry.
//! Below the search statistics come the service statistics institutions report
//! ([`services::statistics`]): visits per day, per institution and per district, with a
//! table of all four figures per district (the charts' numbers, for screen readers too).

use askama::Template;
use services::analytics::reports::{Cell, Table};
use services::statistics::{Aggregates, Totals};

fn int(cell: Option<&Cell>) -> u64 {
    match cell {
        Some(Cell::Int(n)) => *n,
        _ => 0,
    }
}

fn text(cell: Option<&Cell>) -> String {
    match cell {
        Some(Cell::Text(s)) => s.clone(),
        Some(Cell::Int(n)) => n.to_string(),
        Some(Cell::Float(x)) => format!("{x:.2}"),
        None => String::new(),
    }
}

/// A horizontal bar chart, ready to draw.
pub struct BarChart {
    title: String,
    width: u64,
    height: u64,
    /// Where the labels end and the bars start.
    label_x: u64,
    bar_x: u64,
    bar_height: u64,
    bars: Vec<Bar>,
}

/// One bar with its label and value.
struct Bar {
    label: String,
    value: u64,
    y: u64,
    width: u64,
    text_y: u64,
    value_x: u64,
}

/// A horizontal bar chart of `(label, value)`.
pub fn bar_chart(title: &str, bars: &[(String, u64)]) -> BarChart {
    const WIDTH: u64 = 640;
    const LABEL: u64 = 200;
    const ROW: u64 = 22;
    let max = bars.iter().map(|b| b.1).max().unwrap_or(0).max(1);
    BarChart {
        title: title.to_string(),
        width: WIDTH,
        height: ROW * bars.len().max(1) as u64 + 30,
        label_x: LABEL - 6,
        bar_x: LABEL,
        bar_height: ROW - 6,
        bars: bars
            .iter()
            .enumerate()
            .map(|(i, (label, value))| {
                let y = i as u64 * ROW + 4;
                let width = (WIDTH - LABEL - 60) * value / max;
                Bar {
                    label: label.clone(),
                    value: *value,
                    y,
                    width,
                    text_y: y + 14,
                    value_x: LABEL + width + 4,
                }
            })
            .collect(),
    }
}

/// A line chart, ready to draw.
pub struct LineChart {
    title: String,
    width: u64,
    height: u64,
    pad: u64,
    /// The x axis's height and end.
    axis_y: u64,
    axis_end: u64,
    max: u64,
    /// The points as `x,y x,y …`.
    polyline: String,
    points: Vec<Point>,
    /// The first and last labels, under the axis.
    first: String,
    last: String,
    label_y: u64,
}

/// One point, with its label and value as a tooltip.
struct Point {
    x: String,
    y: String,
    label: String,
    value: u64,
}

/// A line chart of `(label, value)` in order (days or weeks).
pub fn line_chart(title: &str, points: &[(String, u64)]) -> LineChart {
    const WIDTH: u64 = 640;
    const HEIGHT: u64 = 200;
    const PAD: u64 = 30;
    let max = points.iter().map(|p| p.1).max().unwrap_or(0).max(1);
    let step = if points.len() > 1 {
        (WIDTH - 2 * PAD) as f64 / (points.len() - 1) as f64
    } else {
        0.0
    };
    let drawn: Vec<Point> = points
        .iter()
        .enumerate()
        .map(|(i, (label, v))| {
            let x = PAD as f64 + step * i as f64;
            let y = (HEIGHT - PAD) as f64 - (HEIGHT - 2 * PAD) as f64 * (*v as f64) / max as f64;
            Point {
                x: format!("{x:.1}"),
                y: format!("{y:.1}"),
                label: label.clone(),
                value: *v,
            }
        })
        .collect();
    LineChart {
        title: title.to_string(),
        width: WIDTH,
        height: HEIGHT,
        pad: PAD,
        axis_y: HEIGHT - PAD,
        axis_end: WIDTH - PAD,
        max,
        polyline: drawn
            .iter()
            .map(|p| format!("{},{}", p.x, p.y))
            .collect::<Vec<_>>()
            .join(" "),
        points: drawn,
        first: points.first().map(|p| p.0.clone()).unwrap_or_default(),
        last: points.last().map(|p| p.0.clone()).unwrap_or_default(),
        label_y: HEIGHT - 10,
    }
}

/// `templates/dashboard.html`.
#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage<'a> {
    from: &'a str,
    to: &'a str,
    volume: LineChart,
    bars: Vec<BarChart>,
    service_volume: LineChart,
    service_bars: Vec<BarChart>,
    service_rows: Vec<ServiceRow>,
}

/// One line of the service statistics table.
struct ServiceRow {
    label: String,
    totals: Totals,
}

/// `(first column, column `value`)` pairs of a table, at most `n`.
pub fn series(table: &Table, value: &str, n: usize) -> Vec<(String, u64)> {
    let Some(col) = table.columns.iter().position(|c| *c == value) else {
        return Vec::new();
    };
    table
        .rows
        .iter()
        .take(n)
        .map(|row| (text(row.first()), int(row.get(col))))
        .collect()
}

/// The whole page: the search reports' tables, then the service statistics.
// One argument per section of the page, in page order; a struct would only rename them.
#[allow(clippy::too_many_arguments)]
pub fn page(
    from: &str,
    to: &str,
    volume: &Table,
    top: &Table,
    zero: &Table,
    demand: &Table,
    activities: &Table,
    services: &Aggregates,
) -> String {
    let districts: Vec<(String, u64)> = demand
        .rows
        .iter()
        .filter(|row| text(row.first()) == "region")
        .map(|row| (text(row.get(1)), int(row.get(2))))
        .collect();
    let kinds: Vec<(String, u64)> = demand
        .rows
        .iter()
        .filter(|row| text(row.first()) != "region")
        .map(|row| {
            (
                format!("{}: {}", text(row.first()), text(row.get(1))),
                int(row.get(2)),
            )
        })
        .collect();
    // The activities report is per month; the chart sums the range, by the type's name.
    let mut by_activity: Vec<(String, u64)> = Vec::new();
    for row in &activities.rows {
        let (label, searches) = (text(row.get(2)), int(row.get(3)));
        match by_activity.iter_mut().find(|(l, _)| *l == label) {
            Some(entry) => entry.1 += searches,
            None => by_activity.push((label, searches)),
        }
    }
    by_activity.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let page = DashboardPage {
        from,
        to,
        volume: line_chart("Searches per day", &series(volume, "searches", usize::MAX)),
        bars: vec![
            bar_chart("Top queries", &series(top, "searches", 15)),
            bar_chart("Zero-result queries", &series(zero, "zero_results", 15)),
            bar_chart("Demand by district (region filter)", &districts),
            bar_chart("Demand by institution and resource type", &kinds),
            bar_chart("Demand by activity type (cultural centres)", &by_activity),
        ],
        service_volume: line_chart(
            "服务统计：每日到馆人次 Visits per day (reported by institutions)",
            &services
                .days
                .iter()
                .map(|(day, t)| (day.clone(), t.visits))
                .collect::<Vec<_>>(),
        ),
        service_bars: vec![
            bar_chart(
                "到馆人次（按机构） Visits by institution",
                &services
                    .institutions
                    .iter()
                    .take(15)
                    .map(|(_, name, _, t)| (name.clone(), t.visits))
                    .collect::<Vec<_>>(),
            ),
            bar_chart(
                "借阅量（按机构） Loans by institution",
                &services
                    .institutions
                    .iter()
                    .filter(|(_, _, _, t)| t.loans > 0)
                    .take(15)
                    .map(|(_, name, _, t)| (name.clone(), t.loans))
                    .collect::<Vec<_>>(),
            ),
            bar_chart(
                "到馆人次（按区县） Visits by district",
                &services
                    .districts
                    .iter()
                    .map(|(district, t)| (district_label(district), t.visits))
                    .collect::<Vec<_>>(),
            ),
        ],
        service_rows: services
            .districts
            .iter()
            .map(|(district, totals)| ServiceRow {
                label: district_label(district),
                totals: *totals,
            })
            .chain(std::iter::once(ServiceRow {
                label: "合计 Total".into(),
                totals: services.total,
            }))
            .collect(),
    };
    page.render().unwrap_or_else(|err| {
        tracing::error!("the dashboard failed to render: {err}");
        "<!doctype html><title>error</title><p>The dashboard failed to render.</p>".to_string()
    })
}

/// A district's name, or a word for institutions without one.
fn district_label(district: &str) -> String {
    if district.is_empty() {
        "（未设区县）".into()
    } else {
        district.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_escaped() {
        let empty = Table {
            columns: vec!["term", "searches"],
            rows: vec![vec![Cell::Text("<script>\"x".into()), Cell::Int(3)]],
        };
        let html = page(
            "<b>",
            "2026-01-31",
            &empty,
            &empty,
            &empty,
            &empty,
            &empty,
            &Aggregates::default(),
        );
        assert!(
            html.contains("&lt;script&gt;&quot;x") && !html.contains("<script>"),
            "{html}"
        );
        assert!(
            html.contains("value=\"&lt;b&gt;\"") && !html.contains("<b>"),
            "{html}"
        );
        assert!(
            html.contains("<polyline") && html.contains("<rect x=\"200\""),
            "{html}"
        );
        assert_eq!(
            line_chart("t", &[("a".into(), 1), ("b".into(), 2)]).polyline,
            "30.0,100.0 610.0,30.0"
        );
    }
}
