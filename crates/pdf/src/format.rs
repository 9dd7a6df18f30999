//! Numbers as the reports print them: the same rounding as `citykpi kpi
//! status` (whole numbers without decimals, others to two places, rates to
//! one place in percent), with thousands separators.

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

/// A KPI value: whole numbers without decimals, others to two places;
/// `-` when there is none.
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
