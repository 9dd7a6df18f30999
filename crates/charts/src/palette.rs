//! Colours from the Japanese Digital Agency design system's primitive palette
//! (values of `@digital-go-jp/design-tokens`). Every colour used for a mark or
//! text has at least 3:1 contrast against white (graphics, WCAG 1.4.11); text
//! colours at least 4.5:1.

/// Text: solid gray 900.
pub const TEXT: &str = "#1a1a1a";
/// Secondary text and axis labels: solid gray 700 (8.5:1 on white).
pub const TEXT_MUTED: &str = "#4d4d4d";
/// Grid lines: solid gray 100 (decorative, no contrast requirement).
pub const GRID: &str = "#e6e6e6";
/// Axis line: solid gray 536.
pub const AXIS: &str = "#767676";
/// Actuals: blue 900 (the system's primary colour).
pub const ACTUAL: &str = "#0017c1";
/// Target path and final target: orange 800.
pub const TARGET: &str = "#c74700";
/// Budget bars: light blue 800.
pub const BUDGET: &str = "#0066be";
/// Settled / direct cost: blue 1100.
pub const SETTLED: &str = "#000071";
/// Staff cost stacked on top of the direct cost: cyan 900.
pub const STAFF: &str = "#006f83";
/// Progress track: solid gray 50.
pub const TRACK: &str = "#f2f2f2";

/// Status colours, in the order achieved, on track, behind, at risk, no data.
pub const STATUS_ACHIEVED: &str = "#197a4b"; // green 800
pub const STATUS_ON_TRACK: &str = "#0031d8"; // blue 800
pub const STATUS_BEHIND: &str = "#927200"; // yellow 900
pub const STATUS_AT_RISK: &str = "#ce0000"; // red 900
pub const STATUS_NO_DATA: &str = "#767676"; // solid gray 536

/// The colour of a status by its code (`achieved`, `on_track`, `behind`,
/// `at_risk`, `no_data`); unknown codes get the no-data gray.
pub fn status_color(code: &str) -> &'static str {
    match code {
        "achieved" => STATUS_ACHIEVED,
        "on_track" => STATUS_ON_TRACK,
        "behind" => STATUS_BEHIND,
        "at_risk" => STATUS_AT_RISK,
        _ => STATUS_NO_DATA,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn luminance(hex: &str) -> f64 {
        let v = |i: usize| {
            let c = f64::from(u8::from_str_radix(&hex[i..i + 2], 16).unwrap()) / 255.0;
            if c <= 0.03928 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * v(1) + 0.7152 * v(3) + 0.0722 * v(5)
    }

    fn contrast_on_white(hex: &str) -> f64 {
        1.05 / (luminance(hex) + 0.05)
    }

    #[test]
    fn marks_have_contrast_on_white() {
        for c in [
            TEXT,
            TEXT_MUTED,
            AXIS,
            ACTUAL,
            TARGET,
            BUDGET,
            SETTLED,
            STAFF,
            STATUS_ACHIEVED,
            STATUS_ON_TRACK,
            STATUS_BEHIND,
            STATUS_AT_RISK,
            STATUS_NO_DATA,
        ] {
            assert!(
                contrast_on_white(c) >= 4.5,
                "{c}: {:.2}",
                contrast_on_white(c)
            );
        }
    }
}
