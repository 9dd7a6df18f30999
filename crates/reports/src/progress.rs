//! The annual KPI progress report's records (年次KPI進捗報告書): the city,
//! the year, the KPIs by status, and per plan and policy each KPI's baseline,
//! target, actual, achievement, status and commentary.
//!
//! One model for every rendering: the app's `reports::progress_book` builds
//! it from the KPI status service, the PDF (citykpi-pdf) typesets it and the
//! web application shows it as a page, so the two cannot disagree. The
//! numbers are formatted here ([`number`], [`percent`]) for the same reason.

use citykpi_domain::FiscalYear;
use citykpi_domain::progress::{Status, StatusCounts};

/// The whole report.
#[derive(Debug, Clone)]
pub struct ProgressBook {
    pub city_name: String,
    pub city_name_en: String,
    pub fy: FiscalYear,
    pub area_code: String,
    /// All KPIs by status.
    pub counts: StatusCounts,
    pub plans: Vec<PlanSection>,
}

/// One plan (総合計画, 総合戦略 …) with its policies.
#[derive(Debug, Clone)]
pub struct PlanSection {
    pub code: String,
    pub name: String,
    /// The English name ("" when none is recorded).
    pub name_en: String,
    /// Rolled-up achievement rate.
    pub rate: Option<f64>,
    pub status: Status,
    pub counts: StatusCounts,
    pub policies: Vec<PolicySection>,
}

/// One policy (the plan's top level) with the KPIs at or below it.
#[derive(Debug, Clone)]
pub struct PolicySection {
    pub code: String,
    pub name: String,
    pub name_en: String,
    pub rate: Option<f64>,
    pub status: Status,
    /// The KPIs at or below the policy, by status.
    pub counts: StatusCounts,
    pub kpis: Vec<KpiLine>,
}

/// One KPI's row.
#[derive(Debug, Clone)]
pub struct KpiLine {
    pub code: String,
    pub name: String,
    pub name_en: String,
    pub unit: String,
    pub baseline: Option<f64>,
    /// The target of the year of the actual.
    pub target: Option<f64>,
    pub final_target: Option<f64>,
    pub final_target_fy: Option<FiscalYear>,
    pub actual: Option<f64>,
    pub actual_fy: Option<FiscalYear>,
    /// The actual is a provisional figure (速報値).
    pub provisional: bool,
    /// Achievement rate against `target`.
    pub rate: Option<f64>,
    /// Progress from the baseline to the final target, 0..=1.
    pub progress_to_final: Option<f64>,
    pub status: Status,
    /// The actual is older than the publication lag allows.
    pub stale: bool,
    /// The commentary (the KPI's description; empty = a box to fill in).
    pub commentary: String,
}

impl KpiLine {
    /// The actual as printed: `number`, with `*` for a provisional figure.
    pub fn actual_text(&self) -> String {
        let mut actual = number(self.actual);
        if self.provisional && self.actual.is_some() {
            actual.push('*');
        }
        actual
    }
}

/// `1234567.5` → `1,234,567.5`: groups the digits before the decimal point.
pub fn group_digits(s: &str) -> String {
    let (sign, rest) = match s.strip_prefix('-') {
        Some(r) => ("-", r),
        None => ("", s),
    };
    let (int, frac) = match rest.find('.') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    if !int.chars().all(|c| c.is_ascii_digit()) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + int.len() / 3);
    out.push_str(sign);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out.push_str(frac);
    out
}

/// A KPI value as the reports print it (the rounding of `citykpi kpi
/// status`): whole numbers without decimals, others to two places, with
/// thousands separators; `-` when there is none.
pub fn number(v: Option<f64>) -> String {
    match v {
        None => "-".into(),
        Some(v) if !v.is_finite() => "-".into(),
        Some(v) if v.fract() == 0.0 && v.abs() < 1e12 => group_digits(&format!("{v:.0}")),
        Some(v) => group_digits(&format!("{v:.2}")),
    }
}

/// A rate (1.0 = 100%) to one decimal place in percent; `-` when none.
pub fn percent(v: Option<f64>) -> String {
    match v {
        Some(r) if r.is_finite() => format!("{:.1}%", r * 100.0),
        _ => "-".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(group_digits("1234567"), "1,234,567");
        assert_eq!(group_digits("-1234.56"), "-1,234.56");
        assert_eq!(group_digits("123"), "123");
        assert_eq!(number(Some(1234.0)), "1,234");
        assert_eq!(number(Some(12.345)), "12.35");
        assert_eq!(number(None), "-");
        assert_eq!(number(Some(f64::NAN)), "-");
        assert_eq!(percent(Some(0.9876)), "98.8%");
        assert_eq!(percent(None), "-");
    }

    #[test]
    fn provisional_actual_is_marked() {
        let mut k = KpiLine {
            code: "K".into(),
            name: "指標".into(),
            name_en: String::new(),
            unit: "%".into(),
            baseline: None,
            target: None,
            final_target: None,
            final_target_fy: None,
            actual: Some(1500.0),
            actual_fy: None,
            provisional: true,
            rate: None,
            progress_to_final: None,
            status: Status::NoData,
            stale: false,
            commentary: String::new(),
        };
        assert_eq!(k.actual_text(), "1,500*");
        k.actual = None;
        assert_eq!(k.actual_text(), "-");
    }
}
