//! Reading text the way Japanese offices write it: full-width digits and
//! letters, thousands separators, and △ / ▲ for a minus sign.

use unicode_normalization::UnicodeNormalization;

/// NFKC: full-width digits and Latin letters become ASCII, half-width kana
/// become full-width. Also trims.
pub fn normalize(s: &str) -> String {
    // ASCII is already NFKC; skipping the table walk keeps bulk imports fast.
    if s.is_ascii() {
        return s.trim().to_string();
    }
    s.nfkc().collect::<String>().trim().to_string()
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("「{input}」は数値として読めません / \"{input}\" is not a number")]
pub struct NumberError {
    pub input: String,
}

/// Parses a decimal number written as staff write it: `1,234`, `１，２３４`,
/// `△12` / `▲12` (minus, as in budget documents), `-12`, `12.5`, `1,234円`
/// is *not* accepted (units belong in the column header, not in the cell).
/// Display width of a string in terminal and Excel columns: East Asian
/// characters take two, ASCII and half-width katakana one.
pub fn display_width(s: &str) -> usize {
    s.chars()
        .map(|c| {
            if c.is_ascii() || ('\u{ff61}'..='\u{ff9f}').contains(&c) {
                1
            } else {
                2
            }
        })
        .sum()
}

pub fn parse_number(input: &str) -> Result<f64, NumberError> {
    let err = || NumberError {
        input: input.trim().to_string(),
    };
    let s = normalize(input);
    let (neg, body) = match s.chars().next() {
        Some('△') | Some('▲') | Some('-') | Some('−') | Some('ー') => {
            let first = s.chars().next().map(char::len_utf8).unwrap_or(0);
            (true, s[first..].trim())
        }
        Some('+') => (false, s[1..].trim()),
        _ => (false, s.as_str()),
    };
    // NFKC maps the ideographic comma 、 to itself, so accept it as a separator too.
    let cleaned: String = body.chars().filter(|c| *c != ',' && *c != '、').collect();
    if cleaned.is_empty() || !cleaned.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return Err(err());
    }
    // Separators must group thousands: "1,23" is a typo, not 123.
    if body.contains(',') {
        let int_part = body.split('.').next().unwrap_or("");
        let groups: Vec<&str> = int_part.split(',').collect();
        let ok = groups
            .first()
            .is_some_and(|g| !g.is_empty() && g.len() <= 3)
            && groups.iter().skip(1).all(|g| g.len() == 3);
        if !ok {
            return Err(err());
        }
    }
    let v: f64 = cleaned.parse().map_err(|_| err())?;
    if !v.is_finite() {
        return Err(err());
    }
    Ok(if neg { -v } else { v })
}

/// Parses whole yen. Fractions are refused rather than rounded: money is exact.
pub fn parse_yen(input: &str) -> Result<i64, NumberError> {
    let v = parse_number(input)?;
    if v.fract() != 0.0 || v.abs() > 9.0e15 {
        return Err(NumberError {
            input: input.trim().to_string(),
        });
    }
    Ok(v as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_as_offices_write_them() {
        let table = [
            ("1234", 1234.0),
            ("1,234", 1234.0),
            ("１，２３４", 1234.0),
            ("△12", -12.0),
            ("▲1,200", -1200.0),
            ("-3.5", -3.5),
            ("－3.5", -3.5),
            ("＋7", 7.0),
            (" 0.25 ", 0.25),
            ("1,234,567.5", 1234567.5),
        ];
        for (s, want) in table {
            assert_eq!(parse_number(s), Ok(want), "{s}");
        }
    }

    #[test]
    fn not_numbers() {
        for s in [
            "", "abc", "1,23", "12円", "1.2.3", "△", "NaN", "inf", "1e5x",
        ] {
            assert!(parse_number(s).is_err(), "{s}");
        }
    }

    #[test]
    fn yen_must_be_whole() {
        assert_eq!(parse_yen("１２，０００"), Ok(12000));
        assert_eq!(parse_yen("△500"), Ok(-500));
        assert!(parse_yen("12.5").is_err());
    }

    #[test]
    fn normalize_folds_width() {
        assert_eq!(normalize(" ＡＢＣ１２３ "), "ABC123");
        assert_eq!(normalize("ｶﾀｶﾅ"), "カタカナ");
    }
}
