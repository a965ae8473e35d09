//! The admin dashboard: one HTML page with SVG charts drawn on the server. No script runs on
//! it, and nothing is loaded from elsewhere (its Content-Security-Policy forbids both).

use std::fmt::Write;

use services::analytics::reports::{Cell, Table};

use super::html::escape;

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

/// A horizontal bar chart of `(label, value)`.
pub fn bar_chart(title: &str, bars: &[(String, u64)]) -> String {
    const WIDTH: u64 = 640;
    const LABEL: u64 = 200;
    const ROW: u64 = 22;
    let max = bars.iter().map(|b| b.1).max().unwrap_or(0).max(1);
    let height = ROW * bars.len().max(1) as u64 + 30;
    let mut svg = format!(
        "<figure><figcaption>{}</figcaption><svg xmlns=\"http://www.w3.org/2000/svg\" \
         width=\"{WIDTH}\" height=\"{height}\" role=\"img\" aria-label=\"{}\">",
        escape(title),
        escape(title)
    );
    if bars.is_empty() {
        svg.push_str("<text x=\"0\" y=\"20\">no data</text>");
    }
    for (i, (label, value)) in bars.iter().enumerate() {
        let y = i as u64 * ROW + 4;
        let w = (WIDTH - LABEL - 60) * value / max;
        let _ = write!(
            svg,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" font-size=\"12\">{}</text>\
             <rect x=\"{LABEL}\" y=\"{y}\" width=\"{w}\" height=\"{}\" fill=\"#3b6ea5\"/>\
             <text x=\"{}\" y=\"{}\" font-size=\"12\">{value}</text>",
            LABEL - 6,
            y + 14,
            escape(label),
            ROW - 6,
            LABEL + w + 4,
            y + 14
        );
    }
    svg.push_str("</svg></figure>");
    svg
}

/// A line chart of `(label, value)` in order (days or weeks).
pub fn line_chart(title: &str, points: &[(String, u64)]) -> String {
    const WIDTH: u64 = 640;
    const HEIGHT: u64 = 200;
    const PAD: u64 = 30;
    let max = points.iter().map(|p| p.1).max().unwrap_or(0).max(1);
    let step = if points.len() > 1 {
        (WIDTH - 2 * PAD) as f64 / (points.len() - 1) as f64
    } else {
        0.0
    };
    let coords: Vec<(f64, f64)> = points
        .iter()
        .enumerate()
        .map(|(i, (_, v))| {
            let x = PAD as f64 + step * i as f64;
            let y = (HEIGHT - PAD) as f64 - (HEIGHT - 2 * PAD) as f64 * (*v as f64) / max as f64;
            (x, y)
        })
        .collect();
    let mut svg = format!(
        "<figure><figcaption>{}</figcaption><svg xmlns=\"http://www.w3.org/2000/svg\" \
         width=\"{WIDTH}\" height=\"{HEIGHT}\" role=\"img\" aria-label=\"{}\">\
         <line x1=\"{PAD}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#999\"/>\
         <text x=\"2\" y=\"{}\" font-size=\"11\">{max}</text>",
        escape(title),
        escape(title),
        HEIGHT - PAD,
        WIDTH - PAD,
        HEIGHT - PAD,
        PAD
    );
    if coords.is_empty() {
        svg.push_str("<text x=\"40\" y=\"100\">no data</text>");
    } else {
        let path: Vec<String> = coords.iter().map(|(x, y)| format!("{x:.1},{y:.1}")).collect();
        let _ = write!(
            svg,
            "<polyline fill=\"none\" stroke=\"#3b6ea5\" stroke-width=\"2\" points=\"{}\"/>",
            path.join(" ")
        );
        for ((x, y), (label, value)) in coords.iter().zip(points) {
            let _ = write!(
                svg,
                "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"3\" fill=\"#3b6ea5\"><title>{}: {value}</title></circle>",
                escape(label)
            );
        }
        if let (Some(first), Some(last)) = (points.first(), points.last()) {
            let _ = write!(
                svg,
                "<text x=\"{PAD}\" y=\"{}\" font-size=\"11\">{}</text>\
                 <text x=\"{}\" y=\"{}\" font-size=\"11\" text-anchor=\"end\">{}</text>",
                HEIGHT - 10,
                escape(&first.0),
                WIDTH - PAD,
                HEIGHT - 10,
                escape(&last.0)
            );
        }
    }
    svg.push_str("</svg></figure>");
    svg
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

/// The whole page.
pub fn page(
    from: &str,
    to: &str,
    volume: &Table,
    top: &Table,
    zero: &Table,
    demand: &Table,
    activities: &Table,
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
    format!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
         <title>Jincheng search analytics</title>\
         <style>body{{font-family:sans-serif;margin:2em;max-width:60em}}figure{{margin:1.5em 0}}\
         figcaption{{font-weight:bold;margin-bottom:.5em}}</style></head><body>\
         <h1>搜索分析 Search analytics</h1><p>{} – {} (Lanzhou days). Reports: \
         <code>/api/v1/admin/analytics/{{report}}?from=&amp;to=&amp;format=json|csv|ndjson</code></p>\
         <form method=\"get\"><label>from <input name=\"from\" value=\"{}\"></label> \
         <label>to <input name=\"to\" value=\"{}\"></label> <button>show</button></form>\
         {}{}{}{}{}{}</body></html>",
        escape(from),
        escape(to),
        escape(from),
        escape(to),
        line_chart("Searches per day", &series(volume, "searches", usize::MAX)),
        bar_chart("Top queries", &series(top, "searches", 15)),
        bar_chart("Zero-result queries", &series(zero, "zero_results", 15)),
        bar_chart("Demand by district (region filter)", &districts),
        bar_chart("Demand by institution and resource type", &kinds),
        bar_chart("Demand by activity type (cultural centres)", &by_activity),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_escaped() {
        let svg = bar_chart("t", &[("<script>".into(), 3)]);
        assert!(svg.contains("&lt;script&gt;") && !svg.contains("<script>"));
        assert!(line_chart("t", &[("a".into(), 1), ("b".into(), 2)]).contains("<polyline"));
    }
}
