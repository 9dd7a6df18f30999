//! A KPI's actuals against its target path.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::axis::{Scale, left_margin, ticks, value_grid};
use crate::palette;
use crate::svg::{c, close, escape, format_number, open, text};

/// One actual value of a fiscal year.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ActualPoint {
    pub year: i32,
    pub value: f64,
    /// 速報値: drawn with a hollow marker.
    pub provisional: bool,
}

/// One forecast year: the central value and the 80% prediction interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ForecastPoint {
    pub year: i32,
    pub mean: f64,
    pub lower: f64,
    pub upper: f64,
}

/// Legend and tooltip words, from the page's message catalogue.
#[derive(Debug, Clone, Copy)]
pub struct LineLabels<'a> {
    pub actual: &'a str,
    pub provisional: &'a str,
    pub target_path: &'a str,
    pub final_target: &'a str,
    /// The forecast and its 80% band.
    pub forecast: &'a str,
}

#[derive(Debug, Clone)]
pub struct LineChart<'a> {
    /// Unique within the page: prefixes the ids of `<title>` and `<desc>`.
    pub id: &'a str,
    pub title: &'a str,
    pub desc: &'a str,
    pub unit: &'a str,
    pub actuals: &'a [ActualPoint],
    /// The expected value per year (baseline → interim targets → final target).
    pub target_path: &'a [(i32, f64)],
    pub final_target: Option<(i32, f64)>,
    /// The forecast after the last actual (empty: none drawn).
    pub forecast: &'a [ForecastPoint],
    pub labels: LineLabels<'a>,
    pub width: u32,
    pub height: u32,
}

/// The narrowest left margin; wider when the y labels need it.
const MIN_LEFT: f64 = 64.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 44.0;
const BOTTOM: f64 = 32.0;

/// Draws the chart. Years without an actual leave a gap in the actuals line;
/// years are spaced evenly over the whole span, so a gap is visible as such.
pub fn line_chart(chart: &LineChart<'_>) -> String {
    let width = chart.width.max(200);
    let height = chart.height.max(120);
    let (w, h) = (f64::from(width), f64::from(height));
    let actuals: Vec<ActualPoint> = chart
        .actuals
        .iter()
        .copied()
        .filter(|p| p.value.is_finite())
        .collect();
    let path: Vec<(i32, f64)> = chart
        .target_path
        .iter()
        .copied()
        .filter(|(_, v)| v.is_finite())
        .collect();
    let final_target = chart.final_target.filter(|(_, v)| v.is_finite());
    let forecast: Vec<ForecastPoint> = chart
        .forecast
        .iter()
        .copied()
        .filter(|p| p.mean.is_finite() && p.lower.is_finite() && p.upper.is_finite())
        .collect();

    let years = actuals
        .iter()
        .map(|p| p.year)
        .chain(path.iter().map(|p| p.0))
        .chain(final_target.map(|p| p.0))
        .chain(forecast.iter().map(|p| p.year));
    let (y_first, y_last) = years.fold((i32::MAX, i32::MIN), |(lo, hi), y| (lo.min(y), hi.max(y)));
    let values = actuals
        .iter()
        .map(|p| p.value)
        .chain(path.iter().map(|p| p.1))
        .chain(final_target.map(|p| p.1))
        .chain(forecast.iter().flat_map(|p| [p.lower, p.upper]));
    let (v_lo, v_hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });

    let mut out = String::with_capacity(4096);
    open(&mut out, chart.id, width, height, chart.title, chart.desc);
    let _ = write!(
        out,
        "<rect width=\"{width}\" height=\"{height}\" fill=\"#ffffff\"/>"
    );
    if y_first > y_last {
        // Nothing to draw: say so in the chart itself rather than draw empty axes.
        text(
            &mut out,
            w / 2.0,
            h / 2.0,
            "middle",
            palette::TEXT_MUTED,
            chart.desc,
        );
        close(&mut out);
        return out;
    }

    let tick_values = ticks(v_lo, v_hi, 4);
    let (d0, d1) = (
        tick_values.first().copied().unwrap_or(0.0),
        tick_values.last().copied().unwrap_or(1.0),
    );
    let left = left_margin(&tick_values, MIN_LEFT);
    let ys = Scale {
        d0,
        d1,
        r0: h - BOTTOM,
        r1: TOP,
    };
    // Half a slot of padding at both ends so that end markers are not clipped.
    let xs = Scale {
        d0: f64::from(y_first) - 0.5,
        d1: f64::from(y_last) + 0.5,
        r0: left,
        r1: w - RIGHT,
    };

    // Grid and y labels.
    value_grid(
        &mut out,
        &ys,
        &tick_values,
        left,
        w - RIGHT,
        TOP,
        chart.unit,
    );
    let _ = write!(
        out,
        "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"1\"/>",
        c(left),
        c(h - BOTTOM),
        c(w - RIGHT),
        c(h - BOTTOM),
        palette::AXIS
    );
    // Year labels; thinned so that they never overlap.
    let span = (y_last - y_first + 1) as usize;
    let every = span
        .div_ceil(((w - left - RIGHT) / 44.0).max(1.0) as usize)
        .max(1);
    for (i, year) in (y_first..=y_last).enumerate() {
        if i % every == 0 || year == y_last {
            text(
                &mut out,
                xs.at(f64::from(year)),
                h - BOTTOM + 18.0,
                "middle",
                palette::TEXT_MUTED,
                &year.to_string(),
            );
        }
    }

    // Target path: dashed.
    if path.len() > 1 {
        let pts: Vec<String> = path
            .iter()
            .map(|(y, v)| format!("{},{}", c(xs.at(f64::from(*y))), c(ys.at(*v))))
            .collect();
        let _ = write!(
            out,
            "<polyline data-series=\"target\" points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\" stroke-dasharray=\"6 4\"/>",
            pts.join(" "),
            palette::TARGET
        );
    }
    if let Some((year, v)) = final_target {
        let (x, y) = (xs.at(f64::from(year)), ys.at(v));
        let _ = write!(
            out,
            "<path data-series=\"final\" data-year=\"{year}\" data-value=\"{v}\" d=\"M{} {}L{} {}L{} {}L{} {}Z\" fill=\"{}\"><title>{}</title></path>",
            c(x),
            c(y - 7.0),
            c(x + 7.0),
            c(y),
            c(x),
            c(y + 7.0),
            c(x - 7.0),
            c(y),
            palette::TARGET,
            escape(&format!(
                "{} {year}: {}",
                chart.labels.final_target,
                format_number(v)
            ))
        );
    }

    let by_year: BTreeMap<i32, ActualPoint> = actuals.iter().map(|p| (p.year, *p)).collect();

    // Forecast: the 80% band as a light area, the central path dotted, both
    // starting from the last actual so that the eye follows on.
    if !forecast.is_empty() {
        let start = by_year
            .values()
            .next_back()
            .map(|p| (p.year, p.value))
            .filter(|(y, _)| forecast.first().is_some_and(|f| f.year > *y));
        let upper: Vec<String> = start
            .into_iter()
            .chain(forecast.iter().map(|p| (p.year, p.upper)))
            .map(|(y, v)| format!("{},{}", c(xs.at(f64::from(y))), c(ys.at(v))))
            .collect();
        let lower: Vec<String> = forecast
            .iter()
            .rev()
            .map(|p| (p.year, p.lower))
            .chain(start)
            .map(|(y, v)| format!("{},{}", c(xs.at(f64::from(y))), c(ys.at(v))))
            .collect();
        let _ = write!(
            out,
            "<polygon data-series=\"forecast-band\" points=\"{} {}\" fill=\"{}\" fill-opacity=\"0.18\" stroke=\"none\"/>",
            upper.join(" "),
            lower.join(" "),
            palette::ACTUAL
        );
        let mean: Vec<String> = start
            .into_iter()
            .chain(forecast.iter().map(|p| (p.year, p.mean)))
            .map(|(y, v)| format!("{},{}", c(xs.at(f64::from(y))), c(ys.at(v))))
            .collect();
        let _ = write!(
            out,
            "<polyline data-series=\"forecast\" points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\" stroke-dasharray=\"2 4\"/>",
            mean.join(" "),
            palette::ACTUAL
        );
        for p in &forecast {
            let _ = write!(
                out,
                "<circle data-series=\"forecast\" data-year=\"{}\" data-value=\"{}\" cx=\"{}\" cy=\"{}\" r=\"3\" fill=\"{}\" fill-opacity=\"0.5\"><title>{}</title></circle>",
                p.year,
                p.mean,
                c(xs.at(f64::from(p.year))),
                c(ys.at(p.mean)),
                palette::ACTUAL,
                escape(&format!(
                    "{} {}: {} ({}–{})",
                    chart.labels.forecast,
                    p.year,
                    format_number(p.mean),
                    format_number(p.lower),
                    format_number(p.upper)
                ))
            );
        }
    }

    // Actuals: one polyline per run of consecutive years.
    let mut runs: Vec<Vec<ActualPoint>> = Vec::new();
    for p in by_year.values() {
        match runs.last_mut() {
            Some(run) if run.last().is_some_and(|q| q.year + 1 == p.year) => run.push(*p),
            _ => runs.push(vec![*p]),
        }
    }
    for run in runs.iter().filter(|r| r.len() > 1) {
        let pts: Vec<String> = run
            .iter()
            .map(|p| format!("{},{}", c(xs.at(f64::from(p.year))), c(ys.at(p.value))))
            .collect();
        let _ = write!(
            out,
            "<polyline data-series=\"actual\" points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2.5\"/>",
            pts.join(" "),
            palette::ACTUAL
        );
    }
    for p in by_year.values() {
        let fill = if p.provisional {
            "#ffffff"
        } else {
            palette::ACTUAL
        };
        let tip = if p.provisional {
            format!(
                "{}: {}（{}）",
                p.year,
                format_number(p.value),
                chart.labels.provisional
            )
        } else {
            format!("{}: {}", p.year, format_number(p.value))
        };
        let _ = write!(
            out,
            "<circle data-series=\"actual\" data-year=\"{}\" data-value=\"{}\" data-provisional=\"{}\" cx=\"{}\" cy=\"{}\" r=\"4.5\" fill=\"{fill}\" stroke=\"{}\" stroke-width=\"2\"><title>{}</title></circle>",
            p.year,
            p.value,
            p.provisional,
            c(xs.at(f64::from(p.year))),
            c(ys.at(p.value)),
            palette::ACTUAL,
            escape(&tip)
        );
    }

    legend(
        &mut out,
        chart,
        &by_year,
        path.len() > 1,
        final_target.is_some(),
        !forecast.is_empty(),
    );
    close(&mut out);
    out
}

/// The legend above the plot: only the series that are drawn.
fn legend(
    out: &mut String,
    chart: &LineChart<'_>,
    actuals: &BTreeMap<i32, ActualPoint>,
    has_path: bool,
    has_final: bool,
    has_forecast: bool,
) {
    let mut x = MIN_LEFT;
    let y = 16.0;
    // Labels are Japanese (about one 12px em per character) or Latin (about half).
    let advance = |s: &str| {
        s.chars()
            .map(|ch| if ch.is_ascii() { 7.0 } else { 12.5 })
            .sum::<f64>()
            + 34.0
    };
    if !actuals.is_empty() {
        let _ = write!(
            out,
            "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"2.5\"/><circle cx=\"{}\" cy=\"{}\" r=\"4\" fill=\"{}\"/>",
            c(x),
            c(y),
            c(x + 20.0),
            c(y),
            palette::ACTUAL,
            c(x + 10.0),
            c(y),
            palette::ACTUAL
        );
        text(
            out,
            x + 26.0,
            y + 4.0,
            "start",
            palette::TEXT,
            chart.labels.actual,
        );
        x += advance(chart.labels.actual);
    }
    if actuals.values().any(|p| p.provisional) {
        let _ = write!(
            out,
            "<circle cx=\"{}\" cy=\"{}\" r=\"4\" fill=\"#ffffff\" stroke=\"{}\" stroke-width=\"2\"/>",
            c(x + 10.0),
            c(y),
            palette::ACTUAL
        );
        text(
            out,
            x + 26.0,
            y + 4.0,
            "start",
            palette::TEXT,
            chart.labels.provisional,
        );
        x += advance(chart.labels.provisional);
    }
    if has_path {
        let _ = write!(
            out,
            "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"2\" stroke-dasharray=\"6 4\"/>",
            c(x),
            c(y),
            c(x + 20.0),
            c(y),
            palette::TARGET
        );
        text(
            out,
            x + 26.0,
            y + 4.0,
            "start",
            palette::TEXT,
            chart.labels.target_path,
        );
        x += advance(chart.labels.target_path);
    }
    if has_final {
        let _ = write!(
            out,
            "<path d=\"M{} {}L{} {}L{} {}L{} {}Z\" fill=\"{}\"/>",
            c(x + 10.0),
            c(y - 6.0),
            c(x + 16.0),
            c(y),
            c(x + 10.0),
            c(y + 6.0),
            c(x + 4.0),
            c(y),
            palette::TARGET
        );
        text(
            out,
            x + 26.0,
            y + 4.0,
            "start",
            palette::TEXT,
            chart.labels.final_target,
        );
        x += advance(chart.labels.final_target);
    }
    if has_forecast {
        let _ = write!(
            out,
            "<rect x=\"{}\" y=\"{}\" width=\"20\" height=\"10\" fill=\"{}\" fill-opacity=\"0.18\"/><line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"2\" stroke-dasharray=\"2 4\"/>",
            c(x),
            c(y - 5.0),
            palette::ACTUAL,
            c(x),
            c(y),
            c(x + 20.0),
            c(y),
            palette::ACTUAL
        );
        text(
            out,
            x + 26.0,
            y + 4.0,
            "start",
            palette::TEXT,
            chart.labels.forecast,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LABELS: LineLabels<'static> = LineLabels {
        actual: "実績値",
        provisional: "速報値",
        target_path: "目標の経路",
        final_target: "最終目標",
        forecast: "予測（80%予測区間）",
    };

    fn chart<'a>(actuals: &'a [ActualPoint], path: &'a [(i32, f64)]) -> LineChart<'a> {
        LineChart {
            id: "k1",
            title: "市民満足度 <推移>",
            desc: "2020年度から2024年度の実績値と目標",
            unit: "%",
            actuals,
            target_path: path,
            final_target: Some((2030, 80.0)),
            forecast: &[],
            labels: LABELS,
            width: 640,
            height: 300,
        }
    }

    fn pt(year: i32, value: f64, provisional: bool) -> ActualPoint {
        ActualPoint {
            year,
            value,
            provisional,
        }
    }

    #[test]
    fn parses_as_xml_with_accessible_name() {
        let actuals = [pt(2020, 50.0, false), pt(2021, 55.0, false)];
        let svg = line_chart(&chart(&actuals, &[(2020, 50.0), (2030, 80.0)]));
        let doc = roxmltree::Document::parse(&svg).unwrap();
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "svg");
        assert_eq!(root.attribute("role"), Some("img"));
        assert_eq!(root.attribute("aria-labelledby"), Some("k1-title k1-desc"));
        let title = doc.descendants().find(|n| n.has_tag_name("title")).unwrap();
        assert_eq!(title.text(), Some("市民満足度 <推移>"));
        assert_eq!(title.attribute("id"), Some("k1-title"));
        assert!(svg.contains("&lt;推移&gt;"), "title is escaped");
        assert!(
            root.attribute("font-family")
                .unwrap()
                .contains("Noto Sans JP")
        );
    }

    #[test]
    fn forecast_band_starts_at_last_actual_and_widens_the_scale() {
        let actuals = [pt(2022, 50.0, false), pt(2023, 55.0, false)];
        let forecast = [
            ForecastPoint {
                year: 2024,
                mean: 58.0,
                lower: 54.0,
                upper: 62.0,
            },
            ForecastPoint {
                year: 2025,
                mean: 61.0,
                lower: 40.0,
                upper: 95.0,
            },
        ];
        let mut spec = chart(&actuals, &[]);
        spec.forecast = &forecast;
        let svg = line_chart(&spec);
        let doc = roxmltree::Document::parse(&svg).unwrap();
        let band = doc
            .descendants()
            .find(|n| n.attribute("data-series") == Some("forecast-band"))
            .expect("band drawn");
        // Upper edge: last actual + 2 years; lower edge: 2 years + back to the last actual.
        assert_eq!(band.attribute("points").unwrap().split(' ').count(), 6);
        let marks: Vec<_> = doc
            .descendants()
            .filter(|n| n.has_tag_name("circle") && n.attribute("data-series") == Some("forecast"))
            .collect();
        assert_eq!(marks.len(), 2);
        assert_eq!(marks[1].attribute("data-year"), Some("2025"));
        assert!(marks[1].children().any(|c| {
            c.text()
                .is_some_and(|t| t.contains("40") && t.contains("95"))
        }));
        // The y labels (right-aligned) reach the band's top.
        let top_tick = doc
            .descendants()
            .filter(|n| n.has_tag_name("text") && n.attribute("text-anchor") == Some("end"))
            .filter_map(|n| n.text().and_then(|t| t.parse::<f64>().ok()))
            .fold(f64::MIN, f64::max);
        assert!(top_tick >= 95.0, "{top_tick}");
        assert!(
            svg.contains("予測（80%予測区間）"),
            "legend names the forecast"
        );

        // Without a forecast nothing of it is drawn.
        let svg = line_chart(&chart(&actuals, &[]));
        assert!(!svg.contains("forecast"));
    }

    #[test]
    fn gaps_provisional_markers_and_dashed_target() {
        // 2022 is missing: the actuals line must break there.
        let actuals = [
            pt(2020, 50.0, false),
            pt(2021, 55.0, false),
            pt(2023, 60.0, false),
            pt(2024, 62.0, true),
        ];
        let path = [(2020, 50.0), (2025, 65.0), (2030, 80.0)];
        let svg = line_chart(&chart(&actuals, &path));
        let doc = roxmltree::Document::parse(&svg).unwrap();

        let lines: Vec<_> = doc
            .descendants()
            .filter(|n| n.has_tag_name("polyline") && n.attribute("data-series") == Some("actual"))
            .collect();
        assert_eq!(lines.len(), 2, "two runs around the missing year");
        assert_eq!(lines[0].attribute("points").unwrap().split(' ').count(), 2);
        assert_eq!(lines[1].attribute("points").unwrap().split(' ').count(), 2);

        let markers: Vec<_> = doc
            .descendants()
            .filter(|n| n.has_tag_name("circle") && n.attribute("data-year").is_some())
            .collect();
        assert_eq!(markers.len(), 4);
        let provisional = markers
            .iter()
            .find(|n| n.attribute("data-year") == Some("2024"))
            .unwrap();
        assert_eq!(provisional.attribute("fill"), Some("#ffffff"), "hollow");
        assert_eq!(provisional.attribute("data-provisional"), Some("true"));
        let settled = markers
            .iter()
            .find(|n| n.attribute("data-year") == Some("2020"))
            .unwrap();
        assert_eq!(settled.attribute("fill"), Some(palette::ACTUAL));

        // x positions increase with the year and are evenly spaced:
        // span 2020..=2030 → 11 slots over 640-64-20 = 556 px.
        let cx = |y: &str| -> f64 {
            markers
                .iter()
                .find(|n| n.attribute("data-year") == Some(y))
                .unwrap()
                .attribute("cx")
                .unwrap()
                .parse()
                .unwrap()
        };
        let slot = 556.0 / 11.0;
        assert!((cx("2021") - cx("2020") - slot).abs() < 0.2);
        assert!((cx("2023") - cx("2020") - 3.0 * slot).abs() < 0.2);
        assert!((cx("2020") - (64.0 + slot / 2.0)).abs() < 0.2);

        // y: ticks 50..80 step 10 (range 30/4 → 10); plot from 300-32=268 up to 44.
        let cy = |y: &str| -> f64 {
            markers
                .iter()
                .find(|n| n.attribute("data-year") == Some(y))
                .unwrap()
                .attribute("cy")
                .unwrap()
                .parse()
                .unwrap()
        };
        assert!((cy("2020") - 268.0).abs() < 0.2, "{}", cy("2020"));
        assert!((cy("2021") - (268.0 - 224.0 * 5.0 / 30.0)).abs() < 0.2);

        let target = doc
            .descendants()
            .find(|n| n.attribute("data-series") == Some("target"))
            .unwrap();
        assert_eq!(target.attribute("stroke-dasharray"), Some("6 4"));
        assert_eq!(target.attribute("points").unwrap().split(' ').count(), 3);
        let fin = doc
            .descendants()
            .find(|n| n.attribute("data-series") == Some("final"))
            .unwrap();
        assert_eq!(fin.attribute("data-year"), Some("2030"));
        // The legend names the provisional marker because one is drawn.
        assert!(doc.descendants().any(|n| n.text() == Some("速報値")));
    }

    #[test]
    fn empty_and_non_finite_input_still_valid_svg() {
        let mut ch = chart(&[], &[]);
        ch.final_target = None;
        let svg = line_chart(&ch);
        roxmltree::Document::parse(&svg).unwrap();
        let actuals = [pt(2020, f64::NAN, false), pt(2021, 3.0, false)];
        let svg = line_chart(&chart(&actuals, &[]));
        let doc = roxmltree::Document::parse(&svg).unwrap();
        assert_eq!(
            doc.descendants()
                .filter(|n| n.has_tag_name("circle") && n.attribute("data-year").is_some())
                .count(),
            1
        );
        assert!(!svg.contains("NaN"));
    }
}
