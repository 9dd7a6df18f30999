//! Calendar days (due dates, periods, retention), kept as `YYYY-MM-DD`.
//! A small type of our own: the domain has no I/O and no clock, so "today"
//! is always passed in by the caller.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A day of the proleptic Gregorian calendar, years 1900–2999.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Day {
    y: i32,
    m: u32,
    d: u32,
}

fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

impl Day {
    /// 1970-01-01, the day `to_days` counts from.
    pub const EPOCH: Day = Day {
        y: 1970,
        m: 1,
        d: 1,
    };

    pub fn new(y: i32, m: u32, d: u32) -> Option<Day> {
        ((1900..=2999).contains(&y) && (1..=12).contains(&m) && d >= 1 && d <= days_in_month(y, m))
            .then_some(Day { y, m, d })
    }

    /// Reads `2025-06-30`, `2025/6/30` or `２０２５－０６－３０`.
    pub fn parse(s: &str) -> Option<Day> {
        let n = crate::text::normalize(s);
        let parts: Vec<&str> = n.split(['-', '/', '.']).collect();
        let [y, m, d] = parts.as_slice() else {
            return None;
        };
        Day::new(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
    }

    pub fn year(self) -> i32 {
        self.y
    }
    pub fn month(self) -> u32 {
        self.m
    }
    pub fn day(self) -> u32 {
        self.d
    }

    /// Days since 1970-01-01 (civil-from-days inverse).
    pub fn to_days(self) -> i64 {
        let y = i64::from(self.y) - i64::from(self.m <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(self.m);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(self.d) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The day `days` after 1970-01-01, if inside the supported years.
    pub fn from_days(days: i64) -> Option<Day> {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = doy - (153 * mp + 2) / 5 + 1;
        let m = if mp < 10 { mp + 3 } else { mp - 9 };
        let y = yoe + era * 400 + i64::from(m <= 2);
        Day::new(i32::try_from(y).ok()?, m as u32, d as u32)
    }

    /// This day plus `n` days (saturating at the ends of the supported range).
    pub fn plus_days(self, n: i64) -> Day {
        Day::from_days(self.to_days().saturating_add(n)).unwrap_or(self)
    }

    /// Days from `self` to `later` (negative when `later` is earlier).
    pub fn days_until(self, later: Day) -> i64 {
        later.to_days() - self.to_days()
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.y, self.m, self.d)
    }
}

impl TryFrom<String> for Day {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Day::parse(&s).ok_or_else(|| format!("\"{s}\" is not a date (YYYY-MM-DD)"))
    }
}

impl From<Day> for String {
    fn from(d: Day) -> String {
        d.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_arithmetic() {
        let d = Day::parse("２０２４/２/２８").unwrap();
        assert_eq!(d.to_string(), "2024-02-28");
        assert_eq!(d.plus_days(1).to_string(), "2024-02-29");
        assert_eq!(d.plus_days(2).to_string(), "2024-03-01");
        assert_eq!(Day::parse("2025-01-01").unwrap().to_days(), 20_089);
        assert_eq!(Day::from_days(0).unwrap().to_string(), "1970-01-01");
        assert!(Day::parse("2023-02-29").is_none());
        assert!(Day::parse("2025-13-01").is_none());
        assert!(Day::parse("nonsense").is_none());
        assert!(Day::parse("").is_none());
        assert_eq!(d.days_until(Day::parse("2024-03-30").unwrap()), 31);
        for n in [-20_000i64, -1, 0, 1, 59, 365, 10_000, 40_000] {
            assert_eq!(Day::from_days(n).unwrap().to_days(), n);
        }
        assert_eq!(serde_json::to_string(&d).unwrap(), "\"2024-02-28\"");
        assert!(serde_json::from_str::<Day>("\"2024-02-30\"").is_err());
    }
}
