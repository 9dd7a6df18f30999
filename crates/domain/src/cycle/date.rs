//! A calendar date for deadlines (締切日). Only what deadlines need: parse
//! `YYYY-MM-DD` (full-width digits and `2025/07/31` as Excel writes them),
//! compare, print. No clock here: "today" is given by the caller.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::text::normalize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CalendarDate {
    year: i32,
    month: u32,
    day: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("「{0}」は日付（YYYY-MM-DD）として読めません / cannot read \"{0}\" as a date (YYYY-MM-DD)")]
pub struct DateError(pub String);

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

impl CalendarDate {
    pub fn new(year: i32, month: u32, day: u32) -> Result<Self, DateError> {
        if !(1900..=2200).contains(&year) || day == 0 || day > days_in_month(year, month) {
            return Err(DateError(format!("{year:04}-{month:02}-{day:02}")));
        }
        Ok(Self { year, month, day })
    }

    pub fn year(self) -> i32 {
        self.year
    }
    pub fn month(self) -> u32 {
        self.month
    }
    pub fn day(self) -> u32 {
        self.day
    }

    pub fn parse(input: &str) -> Result<Self, DateError> {
        let s = normalize(input);
        let err = || DateError(input.trim().to_string());
        let parts: Vec<&str> = s.split(['-', '/']).collect();
        let [y, m, d] = parts.as_slice() else {
            return Err(err());
        };
        if y.len() != 4 || m.is_empty() || m.len() > 2 || d.is_empty() || d.len() > 2 {
            return Err(err());
        }
        let y: i32 = y.parse().map_err(|_| err())?;
        let m: u32 = m.parse().map_err(|_| err())?;
        let d: u32 = d.parse().map_err(|_| err())?;
        Self::new(y, m, d).map_err(|_| err())
    }

    /// 2025年7月31日
    pub fn label_ja(self) -> String {
        format!("{}年{}月{}日", self.year, self.month, self.day)
    }
}

impl fmt::Display for CalendarDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl TryFrom<String> for CalendarDate {
    type Error = DateError;
    fn try_from(s: String) -> Result<Self, DateError> {
        Self::parse(&s)
    }
}

impl From<CalendarDate> for String {
    fn from(d: CalendarDate) -> String {
        d.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_office_spellings_and_refuses_impossible_dates() {
        let d = CalendarDate::parse("2025-07-31").unwrap();
        assert_eq!(d.to_string(), "2025-07-31");
        assert_eq!(d.label_ja(), "2025年7月31日");
        assert_eq!(
            CalendarDate::parse("２０２５/８/１").unwrap().to_string(),
            "2025-08-01"
        );
        assert_eq!(CalendarDate::parse("2024-02-29").unwrap().day(), 29);
        for bad in [
            "2025-02-29",
            "2025-13-01",
            "2025-04-31",
            "25-1-1",
            "",
            "2025-1",
            "x",
        ] {
            assert!(CalendarDate::parse(bad).is_err(), "{bad}");
        }
        assert!(
            CalendarDate::parse("2025-07-31").unwrap() < CalendarDate::parse("2025-08-01").unwrap()
        );
        assert!(serde_json::from_str::<CalendarDate>("\"2025-02-30\"").is_err());
    }
}
