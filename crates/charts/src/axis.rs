//! Scales and "nice" tick values.

/// Maps a value domain linearly onto a pixel range (which may run downwards).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scale {
    pub d0: f64,
    pub d1: f64,
    pub r0: f64,
    pub r1: f64,
}

impl Scale {
    pub fn at(&self, v: f64) -> f64 {
        if self.d1 == self.d0 {
            return (self.r0 + self.r1) / 2.0;
        }
        self.r0 + (v - self.d0) / (self.d1 - self.d0) * (self.r1 - self.r0)
    }
}

/// A step of 1, 2 or 5 × 10^k close to `raw`.
fn nice_step(raw: f64) -> f64 {
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let mag = 10f64.powf(raw.log10().floor());
    let f = raw / mag;
    let nice = if f <= 1.0 {
        1.0
    } else if f <= 2.0 {
        2.0
    } else if f <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * mag
}

/// Ticks covering [lo, hi] with about `target` intervals; the returned domain
/// is the first and last tick. Zero is included when all values are positive
/// and close to it (bars start at zero; lines keep their own range).
pub(crate) fn ticks(lo: f64, hi: f64, target: usize) -> Vec<f64> {
    let (mut lo, mut hi) = if lo <= hi { (lo, hi) } else { (hi, lo) };
    if !lo.is_finite() || !hi.is_finite() {
        return vec![0.0, 1.0];
    }
    if lo == hi {
        let pad = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
        lo -= pad;
        hi += pad;
    }
    let step = nice_step((hi - lo) / target.max(1) as f64);
    let start = (lo / step).floor() * step;
    let end = (hi / step).ceil() * step;
    let n = ((end - start) / step).round() as usize;
    // Round to the step's decimals to drop float noise such as 0.6000000000000001.
    let decimals = (-step.log10().floor()).max(0.0) as i32;
    let p = 10f64.powi(decimals);
    // n is small by construction (≈ target); the cap guards degenerate floats.
    (0..=n.min(50))
        .map(|i| ((start + i as f64 * step) * p).round() / p)
        .collect()
}

/// A left margin wide enough for the longest y label (about 7 px per
/// character at 12 px), never narrower than `min`.
pub(crate) fn left_margin(ticks: &[f64], min: f64) -> f64 {
    let chars = ticks
        .iter()
        .map(|t| crate::svg::format_number(*t).chars().count())
        .max()
        .unwrap_or(1);
    (chars as f64 * 7.0 + 16.0).max(min)
}

/// The horizontal grid lines with their value labels at the left, and the
/// unit above the axis: the value axis every chart draws the same way.
pub(crate) fn value_grid(
    out: &mut String,
    ys: &Scale,
    tick_values: &[f64],
    left: f64,
    right: f64,
    top: f64,
    unit: &str,
) {
    use crate::palette;
    use crate::svg::{c, format_number, text};
    use std::fmt::Write as _;
    for t in tick_values {
        let y = ys.at(*t);
        let _ = write!(
            out,
            "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"1\"/>",
            c(left),
            c(y),
            c(right),
            c(y),
            palette::GRID
        );
        text(
            out,
            left - 6.0,
            y + 4.0,
            "end",
            palette::TEXT_MUTED,
            &format_number(*t),
        );
    }
    text(out, 4.0, top - 10.0, "start", palette::TEXT_MUTED, unit);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_ticks() {
        assert_eq!(ticks(0.0, 100.0, 4), vec![0.0, 50.0, 100.0]);
        assert_eq!(ticks(12.0, 38.0, 4), vec![10.0, 20.0, 30.0, 40.0]);
        assert_eq!(ticks(0.2, 0.9, 4), vec![0.2, 0.4, 0.6, 0.8, 1.0]);
        let t = ticks(5.0, 5.0, 4);
        assert!(t.first().unwrap() <= &4.5 && t.last().unwrap() >= &5.5);
        assert_eq!(ticks(f64::NAN, 1.0, 4), vec![0.0, 1.0]);
    }

    #[test]
    fn margin_fits_labels() {
        assert_eq!(left_margin(&[0.0, 50.0, 100.0], 64.0), 64.0);
        assert_eq!(left_margin(&[-1e9, 0.0], 64.0), 14.0 * 7.0 + 16.0); // "△1,000,000,000"
    }

    #[test]
    fn scale_maps_linearly() {
        let s = Scale {
            d0: 0.0,
            d1: 10.0,
            r0: 100.0,
            r1: 0.0,
        };
        assert_eq!(s.at(0.0), 100.0);
        assert_eq!(s.at(5.0), 50.0);
        assert_eq!(s.at(10.0), 0.0);
    }
}
