//! Observations (実績値): a measured value of a KPI for a period and an area.

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::fiscal::{FiscalYear, FiscalYearError};

/// The period an observation covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Period {
    /// A whole fiscal year: `2024`.
    Year(FiscalYear),
    /// A quarter of a fiscal year, Q1 = April–June: `2024Q1`.
    Quarter(FiscalYear, u8),
    /// A calendar month: `2024-04`.
    Month(i32, u8),
}

impl Period {
    /// The fiscal year the period belongs to.
    pub fn fiscal_year(&self) -> FiscalYear {
        match *self {
            Period::Year(fy) | Period::Quarter(fy, _) => fy,
            Period::Month(y, m) => FiscalYear::containing_clamped(y, u32::from(m)),
        }
    }

    /// Parses `2024` / `2024年度` / `R6` (a fiscal year), `2024Q1`, `2024-04` / `2024/4`.
    pub fn parse(input: &str) -> Result<Period, FiscalYearError> {
        let s = crate::text::normalize(input);
        let unreadable = || FiscalYearError::Unreadable(input.trim().to_string());
        if let Some((y, q)) = s.to_ascii_uppercase().split_once('Q') {
            let fy = FiscalYear::parse(y)?;
            let q: u8 = q.parse().map_err(|_| unreadable())?;
            return if (1..=4).contains(&q) {
                Ok(Period::Quarter(fy, q))
            } else {
                Err(unreadable())
            };
        }
        if let Some((y, m)) = s.split_once(['-', '/']) {
            let y: i32 = y.trim().parse().map_err(|_| unreadable())?;
            let m: u8 = m
                .trim()
                .trim_end_matches('月')
                .parse()
                .map_err(|_| unreadable())?;
            if !(1..=12).contains(&m) {
                return Err(unreadable());
            }
            FiscalYear::containing(y, u32::from(m))?;
            return Ok(Period::Month(y, m));
        }
        FiscalYear::parse(&s).map(Period::Year)
    }

    /// Periods per fiscal year (1, 4 or 12) and the period's running number
    /// at that frequency, so that consecutive months or quarters differ by 1
    /// across fiscal years.
    pub fn ordinal(&self) -> (u8, i32) {
        match *self {
            Period::Year(fy) => (1, fy.year()),
            Period::Quarter(fy, q) => (4, fy.year() * 4 + i32::from(q) - 1),
            Period::Month(y, m) => (12, y * 12 + i32::from(m) - 1),
        }
    }

    /// The period with running number `ordinal` at `per_year` periods a year
    /// (the inverse of `ordinal`); None outside the fiscal years accepted.
    pub fn from_ordinal(per_year: u8, ordinal: i32) -> Option<Period> {
        match per_year {
            1 => FiscalYear::new(ordinal).ok().map(Period::Year),
            4 => FiscalYear::new(ordinal.div_euclid(4))
                .ok()
                .map(|fy| Period::Quarter(fy, (ordinal.rem_euclid(4) + 1) as u8)),
            12 => {
                let (y, m) = (ordinal.div_euclid(12), ordinal.rem_euclid(12) + 1);
                FiscalYear::containing(y, m as u32)
                    .ok()
                    .map(|_| Period::Month(y, m as u8))
            }
            _ => None,
        }
    }

    /// The place in its fiscal year, 0-based: April (or Q1) = 0, March (or Q4)
    /// = 11 (3); a whole year is 0.
    pub fn fiscal_position(&self) -> u8 {
        match *self {
            Period::Year(_) => 0,
            Period::Quarter(_, q) => q - 1,
            Period::Month(_, m) => (m + 8) % 12,
        }
    }

    /// The same period one year earlier (for the year-over-year change).
    pub fn year_before(&self) -> Option<Period> {
        let (per_year, n) = self.ordinal();
        Period::from_ordinal(per_year, n - i32::from(per_year))
    }

    pub fn label_ja(&self) -> String {
        match *self {
            Period::Year(fy) => fy.label_ja(),
            Period::Quarter(fy, q) => format!("{}年度 第{}四半期", fy.year(), q),
            Period::Month(y, m) => format!("{y}年{m}月"),
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Period::Year(fy) => write!(f, "{fy}"),
            Period::Quarter(fy, q) => write!(f, "{fy}Q{q}"),
            Period::Month(y, m) => write!(f, "{y}-{m:02}"),
        }
    }
}

impl TryFrom<String> for Period {
    type Error = FiscalYearError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Period::parse(&s)
    }
}

impl From<Period> for String {
    fn from(p: Period) -> String {
        p.to_string()
    }
}

/// A value, or the explicit reason there is none. Missing is never zero.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum ObsValue {
    Value(f64),
    /// Not collected / not yet available (統計の "-" / "…").
    Missing,
    /// Withheld for confidentiality (秘匿, "X" / "***").
    Secret,
}

impl ObsValue {
    pub fn value(&self) -> Option<f64> {
        match self {
            ObsValue::Value(v) => Some(*v),
            _ => None,
        }
    }

    /// Reads a cell: a number, or the markers of official statistics for a
    /// missing (`-`, `…`, `...`, `欠測`, empty) or secret (`X`, `x`, `***`, `秘匿`) cell.
    pub fn parse(s: &str) -> Result<ObsValue, crate::text::NumberError> {
        let n = crate::text::normalize(s);
        match n.as_str() {
            "" | "-" | "…" | "..." | "‥" | "欠測" | "missing" | "NA" | "n/a" => {
                Ok(ObsValue::Missing)
            }
            "X" | "x" | "***" | "秘匿" | "secret" => Ok(ObsValue::Secret),
            _ => crate::text::parse_number(s).map(ObsValue::Value),
        }
    }
}

impl fmt::Display for ObsValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ObsValue::Value(v) => write!(f, "{v}"),
            ObsValue::Missing => f.write_str("-"),
            ObsValue::Secret => f.write_str("X"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObsStatus {
    /// 速報値 / 暫定値
    Provisional,
    /// 確定値
    #[default]
    Final,
}

impl ObsStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ObsStatus::Provisional => "provisional",
            ObsStatus::Final => "final",
        }
    }
    pub fn parse(s: &str) -> Option<ObsStatus> {
        match crate::text::normalize(s).to_lowercase().as_str() {
            "provisional" | "速報" | "速報値" | "暫定" | "暫定値" | "p" => {
                Some(ObsStatus::Provisional)
            }
            "" | "final" | "確定" | "確定値" | "f" => Some(ObsStatus::Final),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    pub kpi_code: String,
    pub period: Period,
    /// 6-digit local-government code; the city itself by default.
    pub area_code: String,
    pub value: ObsValue,
    #[serde(default)]
    pub status: ObsStatus,
    #[serde(default)]
    pub source: String,
    #[serde(default)]
    pub note: String,
    /// Login of who entered it ("import" / "demo" for batch loads).
    #[serde(default)]
    pub entered_by: String,
    /// RFC 3339 timestamp, set by the service that records it.
    #[serde(default)]
    pub entered_at: String,
    /// Who confirmed the value for publication (確認済); empty while it is
    /// unconfirmed (未確認). This is the city's sign-off, not the statistics'
    /// provisional/final `status`: only confirmed values leave the building
    /// (public portal, public API, open data).
    #[serde(default)]
    pub confirmed_by: String,
    /// RFC 3339 timestamp of the confirmation (empty while unconfirmed).
    #[serde(default)]
    pub confirmed_at: String,
}

impl Observation {
    /// Confirmed (確認済) by someone who may publish it.
    pub fn is_confirmed(&self) -> bool {
        !self.confirmed_by.is_empty()
    }

    /// The same figure as `other` (key, value, status, source, note): who
    /// entered or confirmed it, and when, aside. Saving the same figure
    /// again changes nothing, so it does not lose its confirmation.
    pub fn same_figure(&self, other: &Observation) -> bool {
        self.kpi_code == other.kpi_code
            && self.period == other.period
            && self.area_code == other.area_code
            && self.value == other.value
            && self.status == other.status
            && self.source == other.source
            && self.note == other.note
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods() {
        let fy = |y| FiscalYear::new(y).unwrap();
        assert_eq!(Period::parse("2024"), Ok(Period::Year(fy(2024))));
        assert_eq!(Period::parse("令和6年度"), Ok(Period::Year(fy(2024))));
        assert_eq!(Period::parse("2024Q2"), Ok(Period::Quarter(fy(2024), 2)));
        assert_eq!(Period::parse("2025-03"), Ok(Period::Month(2025, 3)));
        assert_eq!(Period::parse("2025/3"), Ok(Period::Month(2025, 3)));
        assert_eq!(Period::Month(2025, 3).fiscal_year(), fy(2024));
        assert_eq!(Period::Month(2025, 3).to_string(), "2025-03");
        assert!(Period::parse("2024Q5").is_err());
        assert!(Period::parse("2024-13").is_err());
        assert!(Period::parse("soon").is_err());
    }

    #[test]
    fn running_numbers_cross_fiscal_years() {
        let fy = |y| FiscalYear::new(y).unwrap();
        let (per, n) = Period::Month(2025, 3).ordinal();
        assert_eq!(per, 12);
        assert_eq!(
            Period::from_ordinal(12, n + 1),
            Some(Period::Month(2025, 4))
        );
        assert_eq!(Period::Month(2025, 4).fiscal_position(), 0);
        assert_eq!(Period::Month(2026, 3).fiscal_position(), 11);
        assert_eq!(Period::Month(2025, 1).fiscal_position(), 9);
        let (_, q) = Period::Quarter(fy(2024), 4).ordinal();
        assert_eq!(
            Period::from_ordinal(4, q + 1),
            Some(Period::Quarter(fy(2025), 1))
        );
        assert_eq!(Period::Quarter(fy(2024), 4).fiscal_position(), 3);
        assert_eq!(
            Period::Month(2025, 2).year_before(),
            Some(Period::Month(2024, 2))
        );
        assert_eq!(
            Period::Quarter(fy(2024), 2).year_before(),
            Some(Period::Quarter(fy(2023), 2))
        );
        assert_eq!(
            Period::Year(fy(2024)).year_before(),
            Some(Period::Year(fy(2023)))
        );
    }

    #[test]
    fn values_missing_and_secret_are_not_zero() {
        assert_eq!(ObsValue::parse("１２．５"), Ok(ObsValue::Value(12.5)));
        assert_eq!(ObsValue::parse("-"), Ok(ObsValue::Missing));
        assert_eq!(ObsValue::parse(""), Ok(ObsValue::Missing));
        assert_eq!(ObsValue::parse("***"), Ok(ObsValue::Secret));
        assert_eq!(ObsValue::parse("X"), Ok(ObsValue::Secret));
        assert_eq!(ObsValue::parse("△3"), Ok(ObsValue::Value(-3.0)));
        assert!(ObsValue::parse("many").is_err());
        assert_eq!(ObsValue::Missing.value(), None);
    }
}
