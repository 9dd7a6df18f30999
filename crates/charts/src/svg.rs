//! Writing SVG text: escaping, numbers, and the document frame every chart shares.

use std::fmt::Write as _;

use crate::FONT_FAMILY;

/// The namespace declaration of a standalone SVG document.
pub const SVG_NAMESPACE_ATTR: &str = " xmlns=\"http://www.w3.org/2000/svg\"";

/// XML-escapes text for element content and double- or single-quoted attributes.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters are not allowed in XML 1.0 at all.
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' && c != '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// A value for a label: thousands separators, at most `2` decimals, no
/// trailing zeros, and △ for negatives as in Japanese tables.
pub fn format_number(v: f64) -> String {
    if !v.is_finite() {
        return "−".to_string();
    }
    let rounded = (v * 100.0).round() / 100.0;
    let neg = rounded < 0.0;
    let abs = rounded.abs();
    let int = abs.trunc() as u64;
    let frac = ((abs - abs.trunc()) * 100.0).round() as u64;
    let digits = int.to_string();
    let mut out = String::new();
    if neg {
        out.push('△');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if frac > 0 {
        let f = format!("{frac:02}");
        out.push('.');
        out.push_str(f.trim_end_matches('0'));
    }
    out
}

/// A coordinate with one decimal: enough for screens and print, short output.
pub(crate) fn c(v: f64) -> String {
    let r = (v * 10.0).round() / 10.0;
    if r == r.trunc() {
        format!("{}", r as i64)
    } else {
        format!("{r:.1}")
    }
}

/// Opens the `<svg>` element with its accessible name and description.
pub(crate) fn open(out: &mut String, id: &str, width: u32, height: u32, title: &str, desc: &str) {
    let id = escape(id);
    let _ = write!(
        out,
        "<svg{SVG_NAMESPACE_ATTR} width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" \
         role=\"img\" aria-labelledby=\"{id}-title {id}-desc\" font-family=\"{FONT_FAMILY}\" font-size=\"12\">\
         <title id=\"{id}-title\">{}</title><desc id=\"{id}-desc\">{}</desc>",
        escape(title),
        escape(desc)
    );
}

pub(crate) fn close(out: &mut String) {
    out.push_str("</svg>");
}

/// A text label; `anchor` is start / middle / end.
pub(crate) fn text(out: &mut String, x: f64, y: f64, anchor: &str, fill: &str, s: &str) {
    let _ = write!(
        out,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"{anchor}\" fill=\"{fill}\">{}</text>",
        c(x),
        c(y),
        escape(s)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape("<a href=\"x\">R&D's</a>"),
            "&lt;a href=&quot;x&quot;&gt;R&amp;D&#39;s&lt;/a&gt;"
        );
        assert_eq!(escape("a\u{1}b"), "ab");
    }

    #[test]
    fn numbers() {
        assert_eq!(format_number(1234567.0), "1,234,567");
        assert_eq!(format_number(12.5), "12.5");
        assert_eq!(format_number(0.125), "0.13");
        assert_eq!(format_number(-3.0), "△3");
        assert_eq!(format_number(0.0), "0");
        assert_eq!(format_number(f64::NAN), "−");
        assert_eq!(c(12.345), "12.3");
        assert_eq!(c(12.0), "12");
    }
}
