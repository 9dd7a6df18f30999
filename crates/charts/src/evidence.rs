//! Charts of the evidence workbench: paths over the years with the treatment
//! marked (actual vs synthetic / counterfactual, DiD group means), and
//! labelled horizontal bars (donor weights, the placebo distribution with
//! the city's bar highlighted).

use std::fmt::Write as _;

use crate::axis::{Scale, left_margin, ticks, value_grid};
use crate::palette;
use crate::svg::{c, close, escape, format_number, open, text};

/// One line: its legend label, colour, whether dashed, and its points.
#[derive(Debug, Clone)]
pub struct PathSeries<'a> {
    /// `data-series` attribute value.
    pub key: &'a str,
    pub label: &'a str,
    pub color: &'a str,
    pub dashed: bool,
    pub points: Vec<(i64, f64)>,
}

#[derive(Debug, Clone)]
pub struct PathsChart<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub desc: &'a str,
    pub unit: &'a str,
    pub series: &'a [PathSeries<'a>],
    /// The first treated period and its label: a vertical line is drawn just
    /// before it (`data-series="treatment"`) and the later years shaded.
    pub treatment: Option<(i64, &'a str)>,
    pub width: u32,
    pub height: u32,
}

const RIGHT: f64 = 20.0;
const TOP: f64 = 48.0;
const BOTTOM: f64 = 32.0;

/// Draws the paths: one polyline and markers per series, a legend at the top.
pub fn paths_chart(chart: &PathsChart<'_>) -> String {
    let width = chart.width.max(200);
    let height = chart.height.max(120);
    let (w, h) = (f64::from(width), f64::from(height));
    let points = chart
        .series
        .iter()
        .flat_map(|s| s.points.iter())
        .filter(|p| p.1.is_finite());
    let (t_lo, t_hi, v_lo, v_hi) = points.fold(
        (i64::MAX, i64::MIN, f64::INFINITY, f64::NEG_INFINITY),
        |(a, b, lo, hi), p| (a.min(p.0), b.max(p.0), lo.min(p.1), hi.max(p.1)),
    );
    let mut out = String::with_capacity(4096);
    open(&mut out, chart.id, width, height, chart.title, chart.desc);
    let _ = write!(
        out,
        "<rect width=\"{width}\" height=\"{height}\" fill=\"#ffffff\"/>"
    );
    if t_lo > t_hi {
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
    let left = left_margin(&tick_values, 64.0);
    let ys = Scale {
        d0: tick_values.first().copied().unwrap_or(0.0),
        d1: tick_values.last().copied().unwrap_or(1.0),
        r0: h - BOTTOM,
        r1: TOP,
    };
    let xs = Scale {
        d0: t_lo as f64 - 0.5,
        d1: t_hi as f64 + 0.5,
        r0: left,
        r1: w - RIGHT,
    };
    if let Some((t0, label)) = chart.treatment {
        let x = xs.at(t0 as f64 - 0.5).clamp(left, w - RIGHT);
        let _ = write!(
            out,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\" fill-opacity=\"0.6\"/>",
            c(x),
            c(TOP),
            c((w - RIGHT - x).max(0.0)),
            c(h - BOTTOM - TOP),
            palette::TRACK
        );
        let _ = write!(
            out,
            "<line data-series=\"treatment\" data-period=\"{t0}\" x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"2\" stroke-dasharray=\"4 3\"/>",
            c(x),
            c(TOP - 4.0),
            c(x),
            c(h - BOTTOM),
            palette::TEXT_MUTED
        );
        text(&mut out, x + 4.0, TOP + 12.0, "start", palette::TEXT, label);
    }
    value_grid(
        &mut out,
        &ys,
        &tick_values,
        left,
        w - RIGHT,
        TOP,
        chart.unit,
    );
    let span = (t_hi - t_lo + 1) as usize;
    let every = span
        .div_ceil(((w - left - RIGHT) / 44.0).max(1.0) as usize)
        .max(1);
    for (i, t) in (t_lo..=t_hi).enumerate() {
        if i % every == 0 || t == t_hi {
            text(
                &mut out,
                xs.at(t as f64),
                h - BOTTOM + 18.0,
                "middle",
                palette::TEXT_MUTED,
                &t.to_string(),
            );
        }
    }
    // Legend along the top.
    let mut lx = left;
    for s in chart.series {
        let _ = write!(
            out,
            "<line x1=\"{}\" y1=\"14\" x2=\"{}\" y2=\"14\" stroke=\"{}\" stroke-width=\"3\"{}/>",
            c(lx),
            c(lx + 20.0),
            s.color,
            if s.dashed {
                " stroke-dasharray=\"6 4\""
            } else {
                ""
            }
        );
        text(&mut out, lx + 24.0, 18.0, "start", palette::TEXT, s.label);
        lx += 36.0 + s.label.chars().count() as f64 * 12.0;
    }
    for s in chart.series {
        let pts: Vec<&(i64, f64)> = s.points.iter().filter(|p| p.1.is_finite()).collect();
        let line: Vec<String> = pts
            .iter()
            .map(|(t, v)| format!("{},{}", c(xs.at(*t as f64)), c(ys.at(*v))))
            .collect();
        let _ = write!(
            out,
            "<polyline data-series=\"{}\" points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"{}/>",
            escape(s.key),
            line.join(" "),
            s.color,
            if s.dashed {
                " stroke-dasharray=\"6 4\""
            } else {
                ""
            }
        );
        for (t, v) in pts {
            let _ = write!(
                out,
                "<circle data-series=\"{}\" data-period=\"{t}\" data-value=\"{v}\" cx=\"{}\" cy=\"{}\" r=\"3\" fill=\"{}\"><title>{}</title></circle>",
                escape(s.key),
                c(xs.at(*t as f64)),
                c(ys.at(*v)),
                s.color,
                escape(&format!("{} {t}: {}", s.label, format_number(*v)))
            );
        }
    }
    close(&mut out);
    out
}

/// One labelled bar; `highlight` draws it in the accent colour.
#[derive(Debug, Clone)]
pub struct Bar {
    pub label: String,
    pub value: f64,
    pub highlight: bool,
}

#[derive(Debug, Clone)]
pub struct BarsChart<'a> {
    pub id: &'a str,
    /// `data-series` of the bars.
    pub key: &'a str,
    pub title: &'a str,
    pub desc: &'a str,
    pub bars: &'a [Bar],
    pub width: u32,
}

/// Horizontal bars from zero, one row of 24 px per bar, the value written
/// at the end of each.
pub fn bars_chart(chart: &BarsChart<'_>) -> String {
    let width = chart.width.max(240);
    let w = f64::from(width);
    let bars: Vec<&Bar> = chart.bars.iter().filter(|b| b.value.is_finite()).collect();
    let row = 24.0;
    let top = 8.0;
    let h = top * 2.0 + row * bars.len().max(1) as f64;
    let height = h.ceil() as u32;
    let mut out = String::with_capacity(1024 + bars.len() * 300);
    open(&mut out, chart.id, width, height, chart.title, chart.desc);
    let _ = write!(
        out,
        "<rect width=\"{width}\" height=\"{height}\" fill=\"#ffffff\"/>"
    );
    let label_w = bars
        .iter()
        .map(|b| b.label.chars().count())
        .max()
        .unwrap_or(4) as f64
        * 12.0
        + 12.0;
    let label_w = label_w.min(w * 0.45);
    let (lo, hi) = bars.iter().fold((0.0f64, 0.0f64), |(lo, hi), b| {
        (lo.min(b.value), hi.max(b.value))
    });
    let hi = if hi == lo { lo + 1.0 } else { hi };
    let xs = Scale {
        d0: lo,
        d1: hi,
        r0: label_w,
        r1: w - 70.0,
    };
    let zero = xs.at(0.0);
    for (i, b) in bars.iter().enumerate() {
        let y = top + row * i as f64;
        let x1 = xs.at(b.value);
        let (x, bw) = if x1 >= zero {
            (zero, x1 - zero)
        } else {
            (x1, zero - x1)
        };
        let color = if b.highlight {
            palette::TARGET
        } else {
            palette::BUDGET
        };
        text(
            &mut out,
            label_w - 6.0,
            y + 16.0,
            "end",
            if b.highlight {
                palette::TEXT
            } else {
                palette::TEXT_MUTED
            },
            &b.label,
        );
        let _ = write!(
            out,
            "<rect data-series=\"{}\" data-label=\"{}\" data-value=\"{}\"{} x=\"{}\" y=\"{}\" width=\"{}\" height=\"16\" fill=\"{color}\"><title>{}</title></rect>",
            escape(chart.key),
            escape(&b.label),
            b.value,
            if b.highlight {
                " data-highlight=\"true\""
            } else {
                ""
            },
            c(x),
            c(y + 4.0),
            c(bw.max(1.0)),
            escape(&format!("{}: {}", b.label, format_number(b.value)))
        );
        text(
            &mut out,
            x + bw.max(1.0) + 4.0,
            y + 16.0,
            "start",
            palette::TEXT,
            &format_number(b.value),
        );
    }
    let _ = write!(
        out,
        "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"1\"/>",
        c(zero),
        c(top),
        c(zero),
        c(h - top),
        palette::AXIS
    );
    close(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_mark_the_treatment_and_every_point() {
        let series = [
            PathSeries {
                key: "actual",
                label: "自市",
                color: palette::ACTUAL,
                dashed: false,
                points: vec![(2015, 1.0), (2016, 2.0), (2017, 3.0)],
            },
            PathSeries {
                key: "synthetic",
                label: "合成",
                color: palette::TARGET,
                dashed: true,
                points: vec![(2015, 1.0), (2016, 2.0), (2017, 2.5)],
            },
        ];
        let svg = paths_chart(&PathsChart {
            id: "p",
            title: "t",
            desc: "d",
            unit: "%",
            series: &series,
            treatment: Some((2017, "介入")),
            width: 600,
            height: 300,
        });
        assert_eq!(svg.matches("data-series=\"actual\" data-period").count(), 3);
        assert!(svg.contains("data-series=\"treatment\" data-period=\"2017\""));
        assert!(svg.contains("data-value=\"2.5\""));
    }

    #[test]
    fn bars_highlight_one() {
        let bars = [
            Bar {
                label: "A".into(),
                value: 0.7,
                highlight: false,
            },
            Bar {
                label: "B".into(),
                value: 0.3,
                highlight: true,
            },
        ];
        let svg = bars_chart(&BarsChart {
            id: "b",
            key: "weight",
            title: "t",
            desc: "d",
            bars: &bars,
            width: 500,
        });
        assert_eq!(svg.matches("data-series=\"weight\"").count(), 2);
        assert_eq!(svg.matches("data-highlight=\"true\"").count(), 1);
    }
}
