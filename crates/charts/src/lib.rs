//! Server-side SVG charts for citykpi.
//!
//! Every chart is a pure function from numbers and labels to a self-contained
//! SVG string: all styling is inline presentation attributes (no CSS classes,
//! no scripts, no fonts to download), so the same output renders in a web page
//! under a strict Content-Security-Policy and inside a PDF report.
//!
//! Accessibility: each chart has `role="img"`, a `<title>` and a `<desc>`
//! referenced by `aria-labelledby`; pages show a table with the same numbers
//! next to it (the charts never carry information that the table does not).

mod axis;
pub mod bars;
pub mod evidence;
pub mod line;
pub mod monthly;
pub mod palette;
pub mod progress;
pub mod status;
mod svg;

pub use bars::{MoneyChart, MoneyLabels, MoneyYear, money_chart};
pub use evidence::{Bar, BarsChart, PathSeries, PathsChart, bars_chart, paths_chart};
pub use line::{ActualPoint, ForecastPoint, LineChart, LineLabels, line_chart};
pub use monthly::{
    FiscalStart, MonthlyChart, MonthlyLabels, PeriodForecast, PeriodPoint, TargetStep,
    monthly_chart,
};
pub use progress::{ProgressBar, progress_bar};
pub use status::{StatusSlice, status_bar, status_donut};
pub use svg::{SVG_NAMESPACE_ATTR, escape, format_number};

/// Font list for Japanese labels: fonts already on the reader's machine, never
/// a web font download.
pub const FONT_FAMILY: &str = "'Noto Sans JP', 'Hiragino Sans', 'Yu Gothic', sans-serif";

/// Strips the XML namespace declaration for inlining a chart in an HTML page:
/// the HTML parser places `<svg>` in the SVG namespace itself, and the page
/// then contains no URL at all.
pub fn inline_in_html(svg: &str) -> String {
    svg.replacen(SVG_NAMESPACE_ATTR, "", 1)
}
