//! Japanese local-government codes (全国地方公共団体コード): 5 digits
//! (2 prefecture + 3 municipality) plus a check digit. Multiply the five
//! digits by 6, 5, 4, 3, 2, sum, r = sum mod 11, check = (11 − r) mod 10.

// The rule lives once, in the domain (member addresses use it too).
pub use citykpi_domain::lgcode::{LgCodeError, check_digit, normalize};

/// `01213` → `012131`.
pub fn with_check_digit(five: &str) -> Result<String, LgCodeError> {
    Ok(format!("{five}{}", check_digit(five)?))
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
            serde_json::from_str(&shared_data("../crates/app/data/jp_local_gov_codes.json"))
                .unwrap();
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
