//! Fiscal years (年度) and the Japanese era (和暦).
//!
//! A Japanese fiscal year runs from April 1 to March 31 and is named by the
//! calendar year in which it starts: 2025年度 = 2025-04-01 → 2026-03-31.
//! Era names for fiscal years follow the convention of Japanese budget documents:
//! the fiscal year that starts in an era's first calendar year takes the new era's
//! "first year" (元年度), e.g. FY2019 = 令和元年度 even though Reiwa began on May 1.

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::text::normalize;

/// Lowest and highest fiscal year citykpi accepts. Anything outside is a typo
/// (e.g. 202 or 20245) rather than a real year, so input outside is refused.
pub const MIN_FY: i32 = 1950;
pub const MAX_FY: i32 = 2100;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "i32", into = "i32")]
pub struct FiscalYear(i32);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FiscalYearError {
    #[error(
        "年度 {0} は範囲外です（{MIN_FY}〜{MAX_FY}） / fiscal year {0} is out of range ({MIN_FY}-{MAX_FY})"
    )]
    OutOfRange(i32),
    #[error("「{0}」は年度として読めません / cannot read \"{0}\" as a fiscal year")]
    Unreadable(String),
}

/// A Japanese era with the calendar year of its first fiscal year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Era {
    pub name_ja: &'static str,
    pub letter: char,
    pub first_fy: i32,
}

/// Eras newest first, so that lookups find the current era quickly.
pub const ERAS: [Era; 3] = [
    Era {
        name_ja: "令和",
        letter: 'R',
        first_fy: 2019,
    },
    Era {
        name_ja: "平成",
        letter: 'H',
        first_fy: 1989,
    },
    Era {
        name_ja: "昭和",
        letter: 'S',
        first_fy: 1926,
    },
];

impl FiscalYear {
    pub fn new(year: i32) -> Result<Self, FiscalYearError> {
        if (MIN_FY..=MAX_FY).contains(&year) {
            Ok(Self(year))
        } else {
            Err(FiscalYearError::OutOfRange(year))
        }
    }

    /// The fiscal year a calendar date falls in: January–March belong to the
    /// fiscal year that started in the previous calendar year.
    pub fn containing(year: i32, month: u32) -> Result<Self, FiscalYearError> {
        Self::new(if month >= 4 { year } else { year - 1 })
    }

    /// As `containing`, clamped into the accepted range; for periods that were
    /// validated when they were read.
    pub fn containing_clamped(year: i32, month: u32) -> Self {
        Self((if month >= 4 { year } else { year - 1 }).clamp(MIN_FY, MAX_FY))
    }

    pub fn year(self) -> i32 {
        self.0
    }

    pub fn next(self) -> Self {
        Self(self.0 + 1)
    }

    pub fn prev(self) -> Self {
        Self(self.0 - 1)
    }

    /// (year, month, day) of April 1 and March 31.
    pub fn first_day(self) -> (i32, u32, u32) {
        (self.0, 4, 1)
    }
    pub fn last_day(self) -> (i32, u32, u32) {
        (self.0 + 1, 3, 31)
    }

    pub fn era(self) -> Option<(Era, i32)> {
        ERAS.iter()
            .find(|e| self.0 >= e.first_fy)
            .map(|e| (*e, self.0 - e.first_fy + 1))
    }

    /// 令和7年度; the first year of an era is 元年度.
    pub fn wareki(self) -> String {
        match self.era() {
            Some((era, 1)) => format!("{}元年度", era.name_ja),
            Some((era, n)) => format!("{}{}年度", era.name_ja, n),
            None => format!("{}年度", self.0),
        }
    }

    /// 2025年度（令和7年度）, the form used on screens and in reports.
    pub fn label_ja(self) -> String {
        format!("{}年度（{}）", self.0, self.wareki())
    }

    /// FY2025, the English form.
    pub fn label_en(self) -> String {
        format!("FY{}", self.0)
    }

    /// Reads the ways staff write a fiscal year: `2024`, `2024年度`, `FY2024`,
    /// `R6`, `R06`, `令和6年度`, `令和元年度`, `H30`, `平成30年度`, with full-width
    /// digits and letters as Excel leaves them.
    pub fn parse(input: &str) -> Result<Self, FiscalYearError> {
        let s = normalize(input);
        let s = s.trim();
        let unreadable = || FiscalYearError::Unreadable(input.trim().to_string());
        if s.is_empty() {
            return Err(unreadable());
        }
        let s = s
            .strip_suffix("年度")
            .or_else(|| s.strip_suffix('年'))
            .unwrap_or(s);
        let s = s.trim();
        let upper = s.to_ascii_uppercase();
        let upper = upper.strip_prefix("FY").unwrap_or(&upper).trim();
        if let Ok(y) = upper.parse::<i32>() {
            // Four digits only: "24" is ambiguous (2024? 令和24?) and refused.
            if upper.len() == 4 {
                return Self::new(y);
            }
            return Err(unreadable());
        }
        for era in ERAS {
            let rest = s
                .strip_prefix(era.name_ja)
                .or_else(|| upper.strip_prefix(era.letter))
                .map(str::trim);
            if let Some(rest) = rest {
                let n = if rest == "元" {
                    1
                } else {
                    rest.parse::<i32>().map_err(|_| unreadable())?
                };
                if n < 1 {
                    return Err(unreadable());
                }
                // An era year past the next era's start (平成35) is not a real year.
                let y = era.first_fy + n - 1;
                let newer = ERAS
                    .iter()
                    .find(|e| e.first_fy > era.first_fy && y > e.first_fy);
                if newer.is_some() {
                    return Err(unreadable());
                }
                return Self::new(y);
            }
        }
        Err(unreadable())
    }
}

impl TryFrom<i32> for FiscalYear {
    type Error = FiscalYearError;
    fn try_from(value: i32) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<FiscalYear> for i32 {
    fn from(fy: FiscalYear) -> i32 {
        fy.0
    }
}

impl fmt::Display for FiscalYear {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl std::str::FromStr for FiscalYear {
    type Err = FiscalYearError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fy(y: i32) -> FiscalYear {
        FiscalYear::new(y).unwrap()
    }

    #[test]
    fn containing_date_uses_april_start() {
        assert_eq!(FiscalYear::containing(2025, 4).unwrap(), fy(2025));
        assert_eq!(FiscalYear::containing(2026, 3).unwrap(), fy(2025));
        assert_eq!(FiscalYear::containing(2026, 1).unwrap(), fy(2025));
        assert_eq!(FiscalYear::containing(2025, 12).unwrap(), fy(2025));
        assert_eq!(fy(2025).last_day(), (2026, 3, 31));
    }

    #[test]
    fn wareki_table() {
        let table = [
            (2025, "令和7年度"),
            (2019, "令和元年度"),
            (2020, "令和2年度"),
            (2018, "平成30年度"),
            (1989, "平成元年度"),
            (1988, "昭和63年度"),
        ];
        for (y, want) in table {
            assert_eq!(fy(y).wareki(), want, "{y}");
        }
        assert_eq!(fy(2025).label_ja(), "2025年度（令和7年度）");
        assert_eq!(fy(2025).label_en(), "FY2025");
    }

    #[test]
    fn parse_accepts_staff_spellings() {
        let table = [
            ("2024", 2024),
            ("2024年度", 2024),
            ("２０２４年度", 2024),
            ("FY2024", 2024),
            ("fy2024", 2024),
            ("R6", 2024),
            ("R06", 2024),
            ("Ｒ６", 2024),
            ("令和6年度", 2024),
            ("令和６年度", 2024),
            ("令和元年度", 2019),
            ("H30", 2018),
            ("平成30年度", 2018),
            ("平成元年", 1989),
            (" 2030 ", 2030),
        ];
        for (s, want) in table {
            assert_eq!(FiscalYear::parse(s), Ok(fy(want)), "{s}");
        }
    }

    #[test]
    fn parse_refuses_nonsense() {
        for s in [
            "",
            "24",
            "20245",
            "令和",
            "R0",
            "平成35",
            "abc",
            "2024-04",
            "1900",
            "2200年度",
        ] {
            assert!(FiscalYear::parse(s).is_err(), "{s} should be refused");
        }
        assert_eq!(
            FiscalYear::parse("1900"),
            Err(FiscalYearError::OutOfRange(1900))
        );
    }

    #[test]
    fn serde_refuses_out_of_range() {
        assert!(serde_json::from_str::<FiscalYear>("2024").is_ok());
        assert!(serde_json::from_str::<FiscalYear>("99999").is_err());
    }
}
