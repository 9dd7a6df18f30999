//! A small progress bar: used in lists and trees, many per page, so the output
//! is kept short.

use std::fmt::Write as _;

use crate::palette;
use crate::svg::{c, escape};

#[derive(Debug, Clone, Copy)]
pub struct ProgressBar<'a> {
    /// Accessible name, e.g. "最終目標までの進捗 45%".
    pub label: &'a str,
    /// 0..=1; None = no data (an empty track with a dash).
    pub fraction: Option<f64>,
    pub color: &'a str,
    pub width: u32,
}

pub fn progress_bar(bar: &ProgressBar<'_>) -> String {
    let width = bar.width.max(60);
    let track = f64::from(width) - 44.0;
    let mut out = String::with_capacity(512);
    let _ = write!(
        out,
        "<svg{} width=\"{width}\" height=\"16\" viewBox=\"0 0 {width} 16\" role=\"img\" aria-label=\"{}\" font-family=\"{}\" font-size=\"12\">\
         <rect x=\"0\" y=\"3\" width=\"{}\" height=\"10\" rx=\"2\" fill=\"{}\"/>",
        crate::SVG_NAMESPACE_ATTR,
        escape(bar.label),
        crate::FONT_FAMILY,
        c(track),
        palette::TRACK,
    );
    let shown = match bar.fraction.filter(|f| f.is_finite()) {
        Some(f) => {
            let f = f.clamp(0.0, 1.0);
            // No fill at all for a share too small to draw: a zero-width
            // rect is invalid SVG, which the PDF's renderer warns about.
            let fill = c(track * f);
            if fill != "0" {
                let _ = write!(
                    out,
                    "<rect data-fraction=\"{f}\" x=\"0\" y=\"3\" width=\"{fill}\" height=\"10\" rx=\"2\" fill=\"{}\"/>",
                    escape(bar.color)
                );
            }
            format!("{}%", (f * 100.0).round() as i64)
        }
        None => "−".to_string(),
    };
    let _ = write!(
        out,
        "<text x=\"{width}\" y=\"13\" text-anchor=\"end\" fill=\"{}\">{shown}</text></svg>",
        palette::TEXT
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every rect's width and height, which must be positive: renderers
    /// (the PDF's SVG reader) reject a zero-width rect with a warning.
    fn rect_sizes(svg: &str) -> Vec<(String, String)> {
        let doc = roxmltree::Document::parse(svg).unwrap();
        doc.descendants()
            .filter(|n| n.has_tag_name("rect"))
            .map(|n| {
                (
                    n.attribute("width").unwrap_or("").to_string(),
                    n.attribute("height").unwrap_or("").to_string(),
                )
            })
            .collect()
    }

    #[test]
    fn no_empty_rect_at_zero() {
        for f in [0.0, 0.0004, 1e-9] {
            let svg = progress_bar(&ProgressBar {
                label: "進捗 0%",
                fraction: Some(f),
                color: "#197a4b",
                width: 144,
            });
            for (w, h) in rect_sizes(&svg) {
                let w: f64 = w.parse().unwrap_or(0.0);
                let h: f64 = h.parse().unwrap_or(0.0);
                assert!(w > 0.0 && h > 0.0, "{f}: a rect {w}×{h} in {svg}");
            }
            // Still read as 0%, the track alone.
            assert!(svg.contains(">0%<"), "{svg}");
        }
    }

    #[test]
    fn fill_width_and_label() {
        let svg = progress_bar(&ProgressBar {
            label: "進捗 <45%>",
            fraction: Some(0.45),
            color: "#197a4b",
            width: 144,
        });
        let doc = roxmltree::Document::parse(&svg).unwrap();
        let fill = doc
            .descendants()
            .find(|n| n.attribute("data-fraction").is_some())
            .unwrap();
        assert_eq!(fill.attribute("width"), Some("45"));
        assert!(doc.descendants().any(|n| n.text() == Some("45%")));
        assert_eq!(
            doc.root_element().attribute("aria-label"),
            Some("進捗 <45%>")
        );
        // Out of range is clamped; missing shows a dash, never 0%.
        let over = progress_bar(&ProgressBar {
            label: "x",
            fraction: Some(1.7),
            color: "#000",
            width: 144,
        });
        assert!(over.contains(">100%<"));
        let none = progress_bar(&ProgressBar {
            label: "x",
            fraction: None,
            color: "#000",
            width: 144,
        });
        assert!(none.contains(">−<") && !none.contains("0%"));
        roxmltree::Document::parse(&none).unwrap();
    }
}
