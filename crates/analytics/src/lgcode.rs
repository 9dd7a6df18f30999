//! Japanese local-government codes (全国地方公共団体コード): 5 digits
//! (2 prefecture + 3 municipality) plus a check digit. Multiply the five
//! digits by 6, 5, 4, 3, 2, sum, r = sum mod 11, check = (11 − r) mod 10.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LgCodeError {
    #[error(
        "団体コード「{0}」は5桁または6桁の数字でなければなりません / local-government code \"{0}\" must be 5 or 6 digits"
    )]
    Shape(String),
    #[error(
        "団体コード「{code}」の検査数字が違います（正しくは{expected}） / wrong check digit in \"{code}\" (expected {expected})"
    )]
    CheckDigit { code: String, expected: u8 },
}

/// The check digit of a 5-digit code.
pub fn check_digit(five: &str) -> Result<u8, LgCodeError> {
    let digits: Vec<u32> = five.chars().filter_map(|c| c.to_digit(10)).collect();
    if five.len() != 5 || digits.len() != 5 {
        return Err(LgCodeError::Shape(five.to_string()));
    }
    let sum: u32 = digits.iter().zip([6, 5, 4, 3, 2]).map(|(d, w)| d * w).sum();
    Ok(((11 - sum % 11) % 10) as u8)
}

/// `01213` → `012131`.
pub fn with_check_digit(five: &str) -> Result<String, LgCodeError> {
    Ok(format!("{five}{}", check_digit(five)?))
}

/// Accepts a 5-digit code (adds the check digit) or a 6-digit one (verifies
/// it); full-width digits are folded first. Returns the 6-digit code.
pub fn normalize(code: &str) -> Result<String, LgCodeError> {
    let c = citykpi_domain::text::normalize(code);
    if !c.bytes().all(|b| b.is_ascii_digit()) {
        return Err(LgCodeError::Shape(code.trim().to_string()));
    }
    match c.len() {
        5 => with_check_digit(&c),
        6 => {
            let expected = check_digit(&c[..5])?;
            if c.as_bytes()[5] == b'0' + expected {
                Ok(c)
            } else {
                Err(LgCodeError::CheckDigit { code: c, expected })
            }
        }
        _ => Err(LgCodeError::Shape(code.trim().to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdata::shared_data;

    fn collect_codes(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Array(a) => a.iter().for_each(|x| collect_codes(x, out)),
            serde_json::Value::Object(o) => {
                if let Some(serde_json::Value::String(c)) = o.get("code") {
                    out.push(c.clone());
                }
                o.values().for_each(|x| collect_codes(x, out));
            }
            _ => {}
        }
    }

    #[test]
    fn every_code_in_the_national_list_passes() {
        let json: serde_json::Value =
            serde_json::from_str(&shared_data("municipalities/jp_local_gov_codes.json")).unwrap();
        let mut codes = Vec::new();
        collect_codes(&json, &mut codes);
        // 47 prefectures + 1,747 municipalities + the wards of designated cities.
        assert!(codes.len() > 47 + 1747, "{}", codes.len());
        for c in &codes {
            assert_eq!(normalize(c).as_deref(), Ok(c.as_str()), "{c}");
            assert_eq!(with_check_digit(&c[..5]).as_deref(), Ok(c.as_str()));
        }
    }

    #[test]
    fn examples_and_errors() {
        assert_eq!(with_check_digit("01213").unwrap(), "012131");
        assert_eq!(with_check_digit("27140").unwrap(), "271403");
        assert_eq!(normalize("２７１４０").unwrap(), "271403");
        assert_eq!(
            normalize("271404"),
            Err(LgCodeError::CheckDigit {
                code: "271404".into(),
                expected: 3
            })
        );
        assert!(matches!(normalize("2714"), Err(LgCodeError::Shape(_))));
        assert!(matches!(normalize("27a40"), Err(LgCodeError::Shape(_))));
        assert!(matches!(normalize("27140x"), Err(LgCodeError::Shape(_))));
        assert!(
            matches!(normalize("ab\u{3042}c"), Err(LgCodeError::Shape(_))),
            "multi-byte input must not panic"
        );
        assert!(
            normalize("271404")
                .unwrap_err()
                .to_string()
                .contains("expected 3")
        );
    }
}
