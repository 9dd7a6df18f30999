//! Counts of KPIs by status: a stacked bar and a donut.

use std::f64::consts::PI;
use std::fmt::Write as _;

use crate::palette;
use crate::svg::{c, close, escape, open, text};

#[derive(Debug, Clone, Copy)]
pub struct StatusSlice<'a> {
    /// Status code, e.g. `achieved` (kept as a data attribute).
    pub code: &'a str,
    pub label: &'a str,
    pub count: usize,
    pub color: &'a str,
}

/// A horizontal bar split by status, with a legend row of labels and counts.
pub fn status_bar(
    id: &str,
    title: &str,
    desc: &str,
    slices: &[StatusSlice<'_>],
    width: u32,
) -> String {
    let width = width.max(200);
    let w = f64::from(width);
    let height = 64u32;
    let total: usize = slices.iter().map(|s| s.count).sum();
    let mut out = String::with_capacity(2048);
    open(&mut out, id, width, height, title, desc);
    let _ = write!(
        out,
        "<rect x=\"0\" y=\"0\" width=\"{}\" height=\"24\" fill=\"{}\"/>",
        c(w),
        palette::TRACK
    );
    let mut x = 0.0;
    for s in slices.iter().filter(|s| s.count > 0) {
        let part = w * s.count as f64 / total.max(1) as f64;
        x += part;
        // A share too small to draw gets no rect (a zero-width rect is
        // invalid SVG); its count is in the legend below.
        if c(part) == "0" {
            continue;
        }
        let _ = write!(
            out,
            "<rect data-status=\"{}\" data-count=\"{}\" x=\"{}\" y=\"0\" width=\"{}\" height=\"24\" fill=\"{}\" stroke=\"#ffffff\" stroke-width=\"1\"><title>{}</title></rect>",
            escape(s.code),
            s.count,
            c(x - part),
            c(part),
            escape(s.color),
            escape(&format!("{} {}", s.label, s.count))
        );
    }
    let mut lx = 0.0;
    for s in slices {
        let _ = write!(
            out,
            "<rect x=\"{}\" y=\"38\" width=\"12\" height=\"12\" fill=\"{}\"/>",
            c(lx),
            escape(s.color)
        );
        let label = format!("{} {}", s.label, s.count);
        text(&mut out, lx + 16.0, 49.0, "start", palette::TEXT, &label);
        lx += label
            .chars()
            .map(|ch| if ch.is_ascii() { 7.0 } else { 12.5 })
            .sum::<f64>()
            + 30.0;
    }
    close(&mut out);
    out
}

/// A donut of the same counts with the total in the middle.
pub fn status_donut(
    id: &str,
    title: &str,
    desc: &str,
    slices: &[StatusSlice<'_>],
    size: u32,
    total_label: &str,
) -> String {
    let size = size.max(80);
    let s = f64::from(size);
    let (cx, cy) = (s / 2.0, s / 2.0);
    let r = s / 2.0 - 4.0;
    let stroke = (s * 0.16).max(8.0);
    let rm = r - stroke / 2.0;
    let total: usize = slices.iter().map(|s| s.count).sum();
    let mut out = String::with_capacity(2048);
    open(&mut out, id, size, size, title, desc);
    let _ = write!(
        out,
        "<circle cx=\"{}\" cy=\"{}\" r=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"{}\"/>",
        c(cx),
        c(cy),
        c(rm),
        palette::TRACK,
        c(stroke)
    );
    let nonzero: Vec<&StatusSlice> = slices.iter().filter(|s| s.count > 0).collect();
    let mut start = -PI / 2.0;
    for sl in &nonzero {
        let angle = 2.0 * PI * sl.count as f64 / total.max(1) as f64;
        if nonzero.len() == 1 {
            // A full circle cannot be drawn as one arc.
            let _ = write!(
                out,
                "<circle data-status=\"{}\" data-count=\"{}\" cx=\"{}\" cy=\"{}\" r=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"{}\"><title>{}</title></circle>",
                escape(sl.code),
                sl.count,
                c(cx),
                c(cy),
                c(rm),
                escape(sl.color),
                c(stroke),
                escape(&format!("{} {}", sl.label, sl.count))
            );
            break;
        }
        let end = start + angle;
        let (x0, y0) = (cx + rm * start.cos(), cy + rm * start.sin());
        let (x1, y1) = (cx + rm * end.cos(), cy + rm * end.sin());
        let large = if angle > PI { 1 } else { 0 };
        let _ = write!(
            out,
            "<path data-status=\"{}\" data-count=\"{}\" d=\"M{} {}A{} {} 0 {large} 1 {} {}\" fill=\"none\" stroke=\"{}\" stroke-width=\"{}\"><title>{}</title></path>",
            escape(sl.code),
            sl.count,
            c(x0),
            c(y0),
            c(rm),
            c(rm),
            c(x1),
            c(y1),
            escape(sl.color),
            c(stroke),
            escape(&format!("{} {}", sl.label, sl.count))
        );
        start = end;
    }
    let _ = write!(
        out,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"{}\" font-weight=\"700\" fill=\"{}\">{total}</text>",
        c(cx),
        c(cy + 2.0),
        c((s * 0.18).max(12.0)),
        palette::TEXT
    );
    text(
        &mut out,
        cx,
        cy + s * 0.14 + 4.0,
        "middle",
        palette::TEXT_MUTED,
        total_label,
    );
    close(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slices() -> Vec<StatusSlice<'static>> {
        vec![
            StatusSlice {
                code: "achieved",
                label: "達成",
                count: 3,
                color: palette::STATUS_ACHIEVED,
            },
            StatusSlice {
                code: "on_track",
                label: "順調",
                count: 1,
                color: palette::STATUS_ON_TRACK,
            },
            StatusSlice {
                code: "behind",
                label: "遅れ",
                count: 0,
                color: palette::STATUS_BEHIND,
            },
            StatusSlice {
                code: "no_data",
                label: "データなし",
                count: 4,
                color: palette::STATUS_NO_DATA,
            },
        ]
    }

    #[test]
    fn bar_widths_are_proportional() {
        let svg = status_bar("s", "状況", "達成3 順調1 データなし4", &slices(), 800);
        let doc = roxmltree::Document::parse(&svg).unwrap();
        let parts: Vec<_> = doc
            .descendants()
            .filter(|n| n.attribute("data-status").is_some())
            .collect();
        assert_eq!(parts.len(), 3, "zero counts draw nothing");
        let width = |code: &str| -> f64 {
            parts
                .iter()
                .find(|n| n.attribute("data-status") == Some(code))
                .unwrap()
                .attribute("width")
                .unwrap()
                .parse()
                .unwrap()
        };
        assert_eq!(width("achieved"), 300.0);
        assert_eq!(width("on_track"), 100.0);
        assert_eq!(width("no_data"), 400.0);
        // The legend lists every status, even zero.
        assert!(doc.descendants().any(|n| n.text() == Some("遅れ 0")));
    }

    #[test]
    fn donut_arcs_and_total() {
        let svg = status_donut("d", "状況", "内訳", &slices(), 160, "指標");
        let doc = roxmltree::Document::parse(&svg).unwrap();
        let arcs = doc
            .descendants()
            .filter(|n| n.has_tag_name("path") && n.attribute("data-status").is_some())
            .count();
        assert_eq!(arcs, 3);
        assert!(doc.descendants().any(|n| n.text() == Some("8")));
        // The no-data arc is half of the circle: its large-arc flag is 0 and
        // it ends where the first one started (the top).
        let single = status_donut(
            "d1",
            "t",
            "d",
            &[StatusSlice {
                code: "achieved",
                label: "達成",
                count: 2,
                color: "#197a4b",
            }],
            160,
            "指標",
        );
        let doc = roxmltree::Document::parse(&single).unwrap();
        assert!(doc.descendants().any(|n| n.has_tag_name("circle") && n.attribute("data-status") == Some("achieved")));
    }

    #[test]
    fn empty_counts_are_valid() {
        roxmltree::Document::parse(&status_bar("e", "t", "d", &[], 300)).unwrap();
        roxmltree::Document::parse(&status_donut("e", "t", "d", &[], 100, "")).unwrap();
    }
}
