//! A program's money per year: the budget next to the full cost
//! (direct cost + staff cost, stacked).

use std::fmt::Write as _;

use crate::axis::{Scale, left_margin, ticks, value_grid};
use crate::palette;
use crate::svg::{c, close, escape, format_number, open, text};

#[derive(Debug, Clone, PartialEq)]
pub struct MoneyYear {
    /// Axis label, e.g. "2024" or "R6".
    pub label: String,
    /// The budget in force, in yen.
    pub budget: i64,
    /// The direct cost in yen: the settled amount when known, else the budget.
    pub direct_cost: i64,
    /// Whether `direct_cost` is a settled amount (drawn solid) or the budget
    /// standing in for it (drawn as an outline).
    pub settled: bool,
    /// Staff cost in yen, stacked on the direct cost to make the full cost.
    pub staff_cost: i64,
}

#[derive(Debug, Clone, Copy)]
pub struct MoneyLabels<'a> {
    pub budget: &'a str,
    pub direct_cost: &'a str,
    pub staff_cost: &'a str,
    /// Shown in tooltips of a direct cost that is still the budget.
    pub not_settled: &'a str,
}

#[derive(Debug, Clone)]
pub struct MoneyChart<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub desc: &'a str,
    /// Unit label of the axis, e.g. "千円".
    pub unit: &'a str,
    /// Yen per axis unit: 1000 for 千円.
    pub divisor: i64,
    pub years: &'a [MoneyYear],
    pub labels: MoneyLabels<'a>,
    pub width: u32,
    pub height: u32,
}

/// The narrowest left margin; wider when the y labels need it.
const MIN_LEFT: f64 = 76.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 44.0;
const BOTTOM: f64 = 32.0;

pub fn money_chart(chart: &MoneyChart<'_>) -> String {
    let width = chart.width.max(200);
    let height = chart.height.max(120);
    let (w, h) = (f64::from(width), f64::from(height));
    let div = chart.divisor.max(1) as f64;
    let mut out = String::with_capacity(4096);
    open(&mut out, chart.id, width, height, chart.title, chart.desc);
    let _ = write!(
        out,
        "<rect width=\"{width}\" height=\"{height}\" fill=\"#ffffff\"/>"
    );
    if chart.years.is_empty() {
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
    let max = chart
        .years
        .iter()
        .map(|y| (y.budget.max(0)).max(y.direct_cost.max(0) + y.staff_cost.max(0)))
        .max()
        .unwrap_or(0) as f64
        / div;
    let tick_values = ticks(0.0, max.max(1.0), 4);
    let top = tick_values.last().copied().unwrap_or(1.0);
    let left = left_margin(&tick_values, MIN_LEFT);
    let ys = Scale {
        d0: 0.0,
        d1: top,
        r0: h - BOTTOM,
        r1: TOP,
    };
    value_grid(
        &mut out,
        &ys,
        &tick_values,
        left,
        w - RIGHT,
        TOP,
        chart.unit,
    );

    let n = chart.years.len() as f64;
    let slot = (w - left - RIGHT) / n;
    let bar = (slot * 0.32).min(36.0);
    let every = (chart.years.len())
        .div_ceil(((w - left - RIGHT) / 44.0).max(1.0) as usize)
        .max(1);
    for (i, y) in chart.years.iter().enumerate() {
        let centre = left + slot * (i as f64 + 0.5);
        let budget = y.budget.max(0) as f64 / div;
        let direct = y.direct_cost.max(0) as f64 / div;
        let staff = y.staff_cost.max(0) as f64 / div;
        // Budget: left bar.
        let x_budget = centre - bar - 1.0;
        let _ = write!(
            out,
            "<rect data-series=\"budget\" data-label=\"{}\" data-value=\"{}\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"><title>{}</title></rect>",
            escape(&y.label),
            y.budget,
            c(x_budget),
            c(ys.at(budget)),
            c(bar),
            c(ys.at(0.0) - ys.at(budget)),
            palette::BUDGET,
            escape(&format!(
                "{} {}: {} {}",
                y.label,
                chart.labels.budget,
                format_number(budget),
                chart.unit
            ))
        );
        // Full cost: direct cost with the staff cost stacked on top.
        let x_cost = centre + 1.0;
        let (fill, stroke) = if y.settled {
            (palette::SETTLED, palette::SETTLED)
        } else {
            ("#ffffff", palette::SETTLED)
        };
        let direct_tip = if y.settled {
            format!(
                "{} {}: {} {}",
                y.label,
                chart.labels.direct_cost,
                format_number(direct),
                chart.unit
            )
        } else {
            format!(
                "{} {}: {} {}（{}）",
                y.label,
                chart.labels.direct_cost,
                format_number(direct),
                chart.unit,
                chart.labels.not_settled
            )
        };
        let _ = write!(
            out,
            "<rect data-series=\"direct\" data-label=\"{}\" data-value=\"{}\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"1.5\"><title>{}</title></rect>",
            escape(&y.label),
            y.direct_cost,
            c(x_cost),
            c(ys.at(direct)),
            c(bar),
            c(ys.at(0.0) - ys.at(direct)),
            escape(&direct_tip)
        );
        let _ = write!(
            out,
            "<rect data-series=\"staff\" data-label=\"{}\" data-value=\"{}\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"><title>{}</title></rect>",
            escape(&y.label),
            y.staff_cost,
            c(x_cost),
            c(ys.at(direct + staff)),
            c(bar),
            c(ys.at(direct) - ys.at(direct + staff)),
            palette::STAFF,
            escape(&format!(
                "{} {}: {} {}",
                y.label,
                chart.labels.staff_cost,
                format_number(staff),
                chart.unit
            ))
        );
        if i % every == 0 {
            text(
                &mut out,
                centre,
                h - BOTTOM + 18.0,
                "middle",
                palette::TEXT_MUTED,
                &y.label,
            );
        }
    }
    let _ = write!(
        out,
        "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\"/>",
        c(left),
        c(h - BOTTOM),
        c(w - RIGHT),
        c(h - BOTTOM),
        palette::AXIS
    );
    // Legend.
    let mut x = left;
    for (label, fill) in [
        (chart.labels.budget, palette::BUDGET),
        (chart.labels.direct_cost, palette::SETTLED),
        (chart.labels.staff_cost, palette::STAFF),
    ] {
        let _ = write!(
            out,
            "<rect x=\"{}\" y=\"8\" width=\"14\" height=\"14\" fill=\"{fill}\"/>",
            c(x)
        );
        text(&mut out, x + 20.0, 20.0, "start", palette::TEXT, label);
        x += label
            .chars()
            .map(|ch| if ch.is_ascii() { 7.0 } else { 12.5 })
            .sum::<f64>()
            + 36.0;
    }
    close(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart(years: &[MoneyYear]) -> String {
        money_chart(&MoneyChart {
            id: "m",
            title: "事業費の推移",
            desc: "予算額とフルコスト",
            unit: "千円",
            divisor: 1000,
            years,
            labels: MoneyLabels {
                budget: "予算額",
                direct_cost: "事業費",
                staff_cost: "人件費",
                not_settled: "決算前",
            },
            width: 600,
            height: 300,
        })
    }

    #[test]
    fn bars_stack_full_cost_and_scale_to_zero() {
        let years = vec![
            MoneyYear {
                label: "2023".into(),
                budget: 10_000_000,
                direct_cost: 9_000_000,
                settled: true,
                staff_cost: 8_000_000,
            },
            MoneyYear {
                label: "2024".into(),
                budget: 12_000_000,
                direct_cost: 12_000_000,
                settled: false,
                staff_cost: 4_000_000,
            },
        ];
        let svg = chart(&years);
        let doc = roxmltree::Document::parse(&svg).unwrap();
        let rect = |series: &str, label: &str| {
            doc.descendants()
                .find(|n| {
                    n.attribute("data-series") == Some(series)
                        && n.attribute("data-label") == Some(label)
                })
                .unwrap()
        };
        let num = |n: roxmltree::Node, a: &str| n.attribute(a).unwrap().parse::<f64>().unwrap();
        // Max full cost 17,000 千円 → ticks 0..20,000 (step 5,000); plot 268 → 44 (224 px).
        let px_per_thousand = 224.0 / 20_000.0;
        let direct = rect("direct", "2023");
        let staff = rect("staff", "2023");
        assert!((num(direct, "height") - 9_000.0 * px_per_thousand).abs() < 0.2);
        assert!((num(staff, "height") - 8_000.0 * px_per_thousand).abs() < 0.2);
        // Staff cost sits exactly on top of the direct cost.
        assert!((num(staff, "y") + num(staff, "height") - num(direct, "y")).abs() < 0.2);
        assert!((num(direct, "y") + num(direct, "height") - 268.0).abs() < 0.2);
        // Unsettled direct cost is an outline.
        assert_eq!(rect("direct", "2024").attribute("fill"), Some("#ffffff"));
        assert_eq!(
            rect("direct", "2023").attribute("fill"),
            Some(palette::SETTLED)
        );
        assert_eq!(
            rect("budget", "2024").attribute("data-value"),
            Some("12000000")
        );
        assert!(svg.contains("決算前"));
    }

    #[test]
    fn no_years_is_valid() {
        roxmltree::Document::parse(&chart(&[])).unwrap();
    }
}
