//! Numbers as the reports print them: the same rounding as `citykpi kpi
//! status` (whole numbers without decimals, others to two places, rates to
//! one place in percent), with thousands separators.

/// The KPI numbers are formatted by the report model, so the PDF and the
/// web page print them alike.
pub use citykpi_reports::progress::{group_digits, number, percent};

/// Whole yen with separators (negative as △).
pub fn yen(v: i64) -> String {
    citykpi_domain::money::format_yen(v)
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
        assert_eq!(percent(Some(0.9876)), "98.8%");
        assert_eq!(percent(None), "-");
        assert_eq!(yen(-1_200_000), "△1,200,000");
    }
}
