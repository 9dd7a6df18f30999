//! Japanese local-government codes (全国地方公共団体コード): 2 digits of
//! prefecture, 3 of municipality and a check digit. The five digits are
//! multiplied by 6, 5, 4, 3, 2 and summed; r = sum mod 11; the check digit is
//! (11 − r) mod 10. Used by member addresses and by the statistics imports
//! (`citykpi_analytics::lgcode` re-exports it).

/// Why a code is refused.
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

/// The check digit of five ASCII digits.
pub fn check_digit(five: &str) -> Result<u8, LgCodeError> {
    let digits: Vec<u32> = five.chars().filter_map(|c| c.to_digit(10)).collect();
    if five.len() != 5 || digits.len() != 5 {
        return Err(LgCodeError::Shape(five.to_string()));
    }
    let sum: u32 = digits.iter().zip([6, 5, 4, 3, 2]).map(|(d, w)| d * w).sum();
    Ok(((11 - sum % 11) % 10) as u8)
}

/// Accepts a 5-digit code (adds the check digit) or a 6-digit one (verifies
/// it); full-width digits are folded. Returns the 6-digit code.
pub fn normalize(code: &str) -> Result<String, LgCodeError> {
    let c = crate::text::normalize(code);
    if c.is_empty() || !c.bytes().all(|b| b.is_ascii_digit()) {
        return Err(LgCodeError::Shape(c));
    }
    match c.len() {
        5 => Ok(format!("{c}{}", check_digit(&c)?)),
        6 => {
            let expected = check_digit(&c[..5])?;
            if c.as_bytes()[5] == b'0' + expected {
                Ok(c)
            } else {
                Err(LgCodeError::CheckDigit { code: c, expected })
            }
        }
        _ => Err(LgCodeError::Shape(c)),
    }
}

/// The prefecture part (`27` for 271403).
pub fn prefecture(code: &str) -> &str {
    code.get(..2).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_codes() {
        assert_eq!(normalize("01213").unwrap(), "012131");
        assert_eq!(normalize("271403").unwrap(), "271403");
        assert_eq!(normalize("２７１４０").unwrap(), "271403");
        // 札幌市 011002, 東京都千代田区 131016, 横浜市 141003
        for c in ["011002", "131016", "141003"] {
            assert_eq!(normalize(c).unwrap(), c);
        }
        assert_eq!(
            normalize("271404"),
            Err(LgCodeError::CheckDigit {
                code: "271404".into(),
                expected: 3
            })
        );
        assert!(matches!(normalize(""), Err(LgCodeError::Shape(_))));
        assert!(matches!(normalize("2714"), Err(LgCodeError::Shape(_))));
        assert!(matches!(
            normalize("あいうえお"),
            Err(LgCodeError::Shape(_))
        ));
        assert_eq!(prefecture("271403"), "27");
        assert_eq!(prefecture(""), "");
    }
}
