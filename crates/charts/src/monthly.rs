//! A monthly or quarterly KPI: every value, the fiscal years marked where
//! they begin (April), each year's target as a step, and the forecast to the
//! end of the fiscal year shaded.

use std::fmt::Write as _;

use crate::axis::{Scale, left_margin, ticks, value_grid};
use crate::palette;
use crate::svg::{c, close, escape, format_number, open, text};

/// One value. `index` is the period's running number (consecutive months or
/// quarters differ by 1), `label` what a reader calls it (2025年4月).
#[derive(Debug, Clone, PartialEq)]
pub struct PeriodPoint {
    pub index: i32,
    pub label: String,
    pub value: f64,
    /// 速報値: drawn with a hollow marker.
    pub provisional: bool,
}

/// One forecast period with its 80% interval.
#[derive(Debug, Clone, PartialEq)]
pub struct PeriodForecast {
    pub index: i32,
    pub label: String,
    pub mean: f64,
    pub lower: f64,
    pub upper: f64,
}

/// Where a fiscal year begins (the index of its April or first quarter) and
/// what it is called (令和7年度 / FY2025).
#[derive(Debug, Clone, PartialEq)]
pub struct FiscalStart {
    pub index: i32,
    pub year: i32,
    pub label: String,
}

/// A target that holds for the periods `from..=to` (a fiscal year's target,
/// when it is on the scale of one period's value).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TargetStep {
    pub from: i32,
    pub to: i32,
    pub value: f64,
}

#[derive(Debug, Clone, Copy)]
pub struct MonthlyLabels<'a> {
    pub actual: &'a str,
    pub provisional: &'a str,
    pub target: &'a str,
    pub forecast: &'a str,
    pub fy_boundary: &'a str,
}

#[derive(Debug, Clone)]
pub struct MonthlyChart<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub desc: &'a str,
    pub unit: &'a str,
    pub actuals: &'a [PeriodPoint],
    pub forecast: &'a [PeriodForecast],
    /// Fiscal years within the span; a boundary line is drawn where each
    /// begins (except at the left edge).
    pub fiscal_years: &'a [FiscalStart],
    pub targets: &'a [TargetStep],
    pub labels: MonthlyLabels<'a>,
    pub width: u32,
    pub height: u32,
}

const MIN_LEFT: f64 = 64.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 44.0;
const BOTTOM: f64 = 32.0;

/// Draws the chart: one marker per value (`data-series="actual"`), a line
/// through consecutive values, a boundary per fiscal year
/// (`data-series="fy-boundary"`), the forecast band and the shaded rest of
/// the year (`data-series="forecast-span"`).
pub fn monthly_chart(chart: &MonthlyChart<'_>) -> String {
    let width = chart.width.max(200);
    let height = chart.height.max(120);
    let (w, h) = (f64::from(width), f64::from(height));
    let actuals: Vec<&PeriodPoint> = chart
        .actuals
        .iter()
        .filter(|p| p.value.is_finite())
        .collect();
    let forecast: Vec<&PeriodForecast> = chart
        .forecast
        .iter()
        .filter(|p| p.mean.is_finite() && p.lower.is_finite() && p.upper.is_finite())
        .collect();
    let targets: Vec<&TargetStep> = chart
        .targets
        .iter()
        .filter(|t| t.value.is_finite())
        .collect();
    let indices = actuals
        .iter()
        .map(|p| p.index)
        .chain(forecast.iter().map(|p| p.index));
    let (i_first, i_last) =
        indices.fold((i32::MAX, i32::MIN), |(lo, hi), i| (lo.min(i), hi.max(i)));

    let mut out = String::with_capacity(8192 + actuals.len() * 200);
    open(&mut out, chart.id, width, height, chart.title, chart.desc);
    let _ = write!(
        out,
        "<rect width=\"{width}\" height=\"{height}\" fill=\"#ffffff\"/>"
    );
    if i_first > i_last {
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
    let in_span = |t: &&&TargetStep| t.to >= i_first && t.from <= i_last;
    let values = actuals
        .iter()
        .map(|p| p.value)
        .chain(forecast.iter().flat_map(|p| [p.lower, p.upper]))
        .chain(targets.iter().filter(in_span).map(|t| t.value));
    let (v_lo, v_hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
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
    let xs = Scale {
        d0: f64::from(i_first) - 0.5,
        d1: f64::from(i_last) + 0.5,
        r0: left,
        r1: w - RIGHT,
    };
    let x_at = |i: i32| xs.at(f64::from(i));

    value_grid(
        &mut out,
        &ys,
        &tick_values,
        left,
        w - RIGHT,
        TOP,
        chart.unit,
    );

    // The rest of the fiscal year, shaded behind everything else.
    if let (Some(first), Some(last)) = (forecast.first(), forecast.last()) {
        let x0 = x_at(first.index) - (x_at(first.index) - x_at(first.index - 1)) / 2.0;
        let x1 =
            (x_at(last.index) + (x_at(last.index + 1) - x_at(last.index)) / 2.0).min(w - RIGHT);
        let _ = write!(
            out,
            "<rect data-series=\"forecast-span\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\" fill-opacity=\"0.06\"/>",
            c(x0),
            c(TOP),
            c((x1 - x0).max(0.0)),
            c(h - BOTTOM - TOP),
            palette::ACTUAL
        );
    }

    // Fiscal-year boundaries (April) and the years' names.
    let fys: Vec<&FiscalStart> = chart
        .fiscal_years
        .iter()
        .filter(|f| f.index <= i_last)
        .collect();
    let every = {
        let room = ((w - left - RIGHT) / 64.0).max(1.0) as usize;
        fys.len().div_ceil(room).max(1)
    };
    for (k, f) in fys.iter().enumerate() {
        let next = fys.get(k + 1).map(|n| n.index).unwrap_or(i_last + 1);
        if next <= i_first {
            continue;
        }
        if f.index > i_first {
            let x = x_at(f.index) - (x_at(f.index) - x_at(f.index - 1)) / 2.0;
            let _ = write!(
                out,
                "<line data-series=\"fy-boundary\" data-fy=\"{}\" x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"1\" stroke-dasharray=\"3 3\"><title>{}</title></line>",
                f.year,
                c(x),
                c(TOP - 4.0),
                c(x),
                c(h - BOTTOM),
                palette::AXIS,
                escape(&format!("{} {}", chart.labels.fy_boundary, f.label))
            );
        }
        if k % every == 0 {
            let from = f.index.max(i_first);
            let to = (next - 1).min(i_last);
            let mid = (x_at(from) + x_at(to)) / 2.0;
            text(
                &mut out,
                mid,
                h - BOTTOM + 18.0,
                "middle",
                palette::TEXT_MUTED,
                &f.label,
            );
        }
    }
    let _ = write!(
        out,
        "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"1\"/>",
        c(left),
        c(h - BOTTOM),
        c(w - RIGHT),
        c(h - BOTTOM),
        palette::AXIS
    );

    // Each year's target as a dashed step over its periods.
    for t in targets.iter().filter(in_span) {
        let from = t.from.max(i_first);
        let to = t.to.min(i_last);
        let (x0, x1) = (
            x_at(from) - 0.4 * (x_at(from + 1) - x_at(from)),
            x_at(to) + 0.4 * (x_at(to + 1) - x_at(to)),
        );
        let y = ys.at(t.value);
        let _ = write!(
            out,
            "<line data-series=\"target\" data-value=\"{}\" x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"2\" stroke-dasharray=\"6 4\"><title>{}</title></line>",
            t.value,
            c(x0),
            c(y),
            c(x1),
            c(y),
            palette::TARGET,
            escape(&format!(
                "{}: {}",
                chart.labels.target,
                format_number(t.value)
            ))
        );
    }

    // Forecast: band and dotted path, from the last value on.
    if !forecast.is_empty() {
        let start = actuals
            .iter()
            .max_by_key(|p| p.index)
            .filter(|p| forecast.first().is_some_and(|f| f.index == p.index + 1))
            .map(|p| (p.index, p.value));
        let upper: Vec<String> = start
            .into_iter()
            .chain(forecast.iter().map(|p| (p.index, p.upper)))
            .map(|(i, v)| format!("{},{}", c(x_at(i)), c(ys.at(v))))
            .collect();
        let lower: Vec<String> = forecast
            .iter()
            .rev()
            .map(|p| (p.index, p.lower))
            .chain(start)
            .map(|(i, v)| format!("{},{}", c(x_at(i)), c(ys.at(v))))
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
            .chain(forecast.iter().map(|p| (p.index, p.mean)))
            .map(|(i, v)| format!("{},{}", c(x_at(i)), c(ys.at(v))))
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
                "<circle data-series=\"forecast\" data-period=\"{}\" data-value=\"{}\" cx=\"{}\" cy=\"{}\" r=\"2.5\" fill=\"{}\" fill-opacity=\"0.5\"><title>{}</title></circle>",
                escape(&p.label),
                p.mean,
                c(x_at(p.index)),
                c(ys.at(p.mean)),
                palette::ACTUAL,
                escape(&format!(
                    "{} {}: {} ({}–{})",
                    chart.labels.forecast,
                    p.label,
                    format_number(p.mean),
                    format_number(p.lower),
                    format_number(p.upper)
                ))
            );
        }
    }

    // Values: a line through each run of consecutive periods, a marker each.
    let mut sorted = actuals.clone();
    sorted.sort_by_key(|p| p.index);
    let mut runs: Vec<Vec<&PeriodPoint>> = Vec::new();
    for p in &sorted {
        match runs.last_mut() {
            Some(run) if run.last().is_some_and(|q| q.index + 1 == p.index) => run.push(p),
            _ => runs.push(vec![p]),
        }
    }
    for run in runs.iter().filter(|r| r.len() > 1) {
        let pts: Vec<String> = run
            .iter()
            .map(|p| format!("{},{}", c(x_at(p.index)), c(ys.at(p.value))))
            .collect();
        let _ = write!(
            out,
            "<polyline data-series=\"actual\" points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"/>",
            pts.join(" "),
            palette::ACTUAL
        );
    }
    // Markers shrink as the series grows so that ten years of months stay legible.
    let r = if sorted.len() > 60 { 2.5 } else { 3.5 };
    for p in &sorted {
        let fill = if p.provisional {
            "#ffffff"
        } else {
            palette::ACTUAL
        };
        let tip = if p.provisional {
            format!(
                "{}: {}（{}）",
                p.label,
                format_number(p.value),
                chart.labels.provisional
            )
        } else {
            format!("{}: {}", p.label, format_number(p.value))
        };
        let _ = write!(
            out,
            "<circle data-series=\"actual\" data-period=\"{}\" data-value=\"{}\" data-provisional=\"{}\" cx=\"{}\" cy=\"{}\" r=\"{r}\" fill=\"{fill}\" stroke=\"{}\" stroke-width=\"1.5\"><title>{}</title></circle>",
            escape(&p.label),
            p.value,
            p.provisional,
            c(x_at(p.index)),
            c(ys.at(p.value)),
            palette::ACTUAL,
            escape(&tip)
        );
    }

    legend(
        &mut out,
        chart,
        !sorted.is_empty(),
        sorted.iter().any(|p| p.provisional),
        !targets.is_empty(),
        !forecast.is_empty(),
    );
    close(&mut out);
    out
}

fn legend(
    out: &mut String,
    chart: &MonthlyChart<'_>,
    has_actual: bool,
    has_provisional: bool,
    has_target: bool,
    has_forecast: bool,
) {
    let mut x = MIN_LEFT;
    let y = 16.0;
    // Labels are Japanese (about one 12px em per character) or Latin (about half).
    fn item(out: &mut String, x: &mut f64, y: f64, mark: String, label: &str) {
        out.push_str(&mark);
        text(out, *x + 26.0, y + 4.0, "start", palette::TEXT, label);
        *x += label
            .chars()
            .map(|ch| if ch.is_ascii() { 7.0 } else { 12.5 })
            .sum::<f64>()
            + 34.0;
    }
    if has_actual {
        let m = format!(
            "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"2\"/><circle cx=\"{}\" cy=\"{}\" r=\"3.5\" fill=\"{}\"/>",
            c(x),
            c(y),
            c(x + 20.0),
            c(y),
            palette::ACTUAL,
            c(x + 10.0),
            c(y),
            palette::ACTUAL
        );
        item(out, &mut x, y, m, chart.labels.actual);
    }
    if has_provisional {
        let m = format!(
            "<circle cx=\"{}\" cy=\"{}\" r=\"3.5\" fill=\"#ffffff\" stroke=\"{}\" stroke-width=\"1.5\"/>",
            c(x + 10.0),
            c(y),
            palette::ACTUAL
        );
        item(out, &mut x, y, m, chart.labels.provisional);
    }
    if has_target {
        let m = format!(
            "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"2\" stroke-dasharray=\"6 4\"/>",
            c(x),
            c(y),
            c(x + 20.0),
            c(y),
            palette::TARGET
        );
        item(out, &mut x, y, m, chart.labels.target);
    }
    if has_forecast {
        let m = format!(
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
        item(out, &mut x, y, m, chart.labels.forecast);
    }
    let m = format!(
        "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"1\" stroke-dasharray=\"3 3\"/>",
        c(x + 10.0),
        c(y - 7.0),
        c(x + 10.0),
        c(y + 7.0),
        palette::AXIS
    );
    item(out, &mut x, y, m, chart.labels.fy_boundary);
}

#[cfg(test)]
mod tests {
    use super::*;

    const LABELS: MonthlyLabels<'static> = MonthlyLabels {
        actual: "実績値",
        provisional: "速報値",
        target: "年度目標",
        forecast: "予測（80%予測区間）",
        fy_boundary: "年度の境目（4月）",
    };

    /// 30 months from April 2023 (index 0 = April 2023), a forecast of the
    /// 6 months to March 2026.
    #[test]
    fn one_marker_per_value_and_a_boundary_per_april() {
        let actuals: Vec<PeriodPoint> = (0..30)
            .map(|i| PeriodPoint {
                index: i,
                label: format!("m{i}"),
                value: 10.0 + f64::from(i % 12),
                provisional: i == 29,
            })
            .collect();
        let forecast: Vec<PeriodForecast> = (30..36)
            .map(|i| PeriodForecast {
                index: i,
                label: format!("m{i}"),
                mean: 12.0,
                lower: 10.0,
                upper: 14.0,
            })
            .collect();
        let fys: Vec<FiscalStart> = (0..3)
            .map(|k| FiscalStart {
                index: k * 12,
                year: 2023 + k,
                label: format!("FY{}", 2023 + k),
            })
            .collect();
        let targets = [TargetStep {
            from: 12,
            to: 23,
            value: 15.0,
        }];
        let svg = monthly_chart(&MonthlyChart {
            id: "m",
            title: "残業",
            desc: "月ごとの値",
            unit: "時間",
            actuals: &actuals,
            forecast: &forecast,
            fiscal_years: &fys,
            targets: &targets,
            labels: LABELS,
            width: 720,
            height: 320,
        });
        assert_eq!(svg.matches("<circle data-series=\"actual\"").count(), 30);
        assert_eq!(svg.matches("data-provisional=\"true\"").count(), 1);
        // April 2024 and April 2025; the left edge (April 2023) is no boundary.
        assert_eq!(svg.matches("data-series=\"fy-boundary\"").count(), 2);
        assert!(svg.contains("data-fy=\"2024\"") && svg.contains("data-fy=\"2025\""));
        assert_eq!(svg.matches("<circle data-series=\"forecast\"").count(), 6);
        assert_eq!(svg.matches("data-series=\"forecast-span\"").count(), 1);
        assert_eq!(svg.matches("data-series=\"target\"").count(), 1);
        assert!(svg.contains(">FY2024<"));
        // One line: the months are consecutive.
        assert_eq!(svg.matches("<polyline data-series=\"actual\"").count(), 1);
    }

    #[test]
    fn empty_chart_says_so() {
        let svg = monthly_chart(&MonthlyChart {
            id: "m",
            title: "t",
            desc: "値がありません",
            unit: "",
            actuals: &[],
            forecast: &[],
            fiscal_years: &[],
            targets: &[],
            labels: LABELS,
            width: 720,
            height: 320,
        });
        assert!(svg.contains("値がありません"));
        assert!(!svg.contains("data-series"));
    }
}
