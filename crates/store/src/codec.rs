//! How domain values are written into columns and read back. Every mapping
//! here must round-trip exactly: a value read back equals the value written.

use citykpi_domain::FiscalYear;
use citykpi_domain::kpi::Direction;
use citykpi_domain::observation::{ObsStatus, ObsValue, Period};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Entity, Result, StoreError};

/// The serde name of a unit-like enum (`"department_editor"`), so that the
/// database holds the same words as the JSON and CSV exports.
pub(crate) fn enum_text<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        // Unit enums always serialise to a string; anything else is kept as JSON.
        Ok(other) => other.to_string(),
        Err(e) => e.to_string(),
    }
}

pub(crate) fn enum_from_text<T: DeserializeOwned>(
    entity: Entity,
    key: &str,
    field: &str,
    text: &str,
) -> Result<T> {
    serde_json::from_value(serde_json::Value::String(text.to_string()))
        .map_err(|_| StoreError::invalid(entity, key, format!("{field} = \"{text}\"")))
}

pub(crate) fn json_text<T: Serialize>(value: &T) -> String {
    // Serialising plain data structs cannot fail; "null" keeps the column valid if it ever did.
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_string())
}

pub(crate) fn json_from_text<T: DeserializeOwned>(
    entity: Entity,
    key: &str,
    field: &str,
    text: &str,
) -> Result<T> {
    serde_json::from_str(text)
        .map_err(|e| StoreError::invalid(entity, key, format!("{field}: {e}")))
}

pub(crate) fn fy(entity: Entity, key: &str, year: i64) -> Result<FiscalYear> {
    i32::try_from(year)
        .ok()
        .and_then(|y| FiscalYear::new(y).ok())
        .ok_or_else(|| StoreError::invalid(entity, key, format!("fiscal year {year}")))
}

pub(crate) fn opt_fy(entity: Entity, key: &str, year: Option<i64>) -> Result<Option<FiscalYear>> {
    year.map(|y| fy(entity, key, y)).transpose()
}

pub(crate) fn direction_columns(d: &Direction) -> (&'static str, Option<f64>, Option<f64>) {
    match *d {
        Direction::Band { lower, upper } => ("band", Some(lower), Some(upper)),
        other => (other.as_str(), None, None),
    }
}

pub(crate) fn direction_from_columns(
    key: &str,
    text: &str,
    lower: Option<f64>,
    upper: Option<f64>,
) -> Result<Direction> {
    match (text, lower, upper) {
        ("higher", _, _) => Ok(Direction::HigherIsBetter),
        ("lower", _, _) => Ok(Direction::LowerIsBetter),
        ("band", Some(lower), Some(upper)) => Ok(Direction::Band { lower, upper }),
        _ => Err(StoreError::invalid(
            Entity::Kpi,
            key,
            format!("direction = \"{text}\""),
        )),
    }
}

pub(crate) fn value_columns(v: ObsValue) -> (Option<f64>, &'static str) {
    match v {
        ObsValue::Value(x) => (Some(x), "value"),
        ObsValue::Missing => (None, "missing"),
        ObsValue::Secret => (None, "secret"),
    }
}

pub(crate) fn value_from_columns(key: &str, value: Option<f64>, kind: &str) -> Result<ObsValue> {
    match (kind, value) {
        ("value", Some(x)) => Ok(ObsValue::Value(x)),
        ("missing", None) => Ok(ObsValue::Missing),
        ("secret", None) => Ok(ObsValue::Secret),
        _ => Err(StoreError::invalid(
            Entity::Observation,
            key,
            format!("value_kind = \"{kind}\""),
        )),
    }
}

pub(crate) fn status_from_text(key: &str, text: &str) -> Result<ObsStatus> {
    match text {
        "final" => Ok(ObsStatus::Final),
        "provisional" => Ok(ObsStatus::Provisional),
        _ => Err(StoreError::invalid(
            Entity::Observation,
            key,
            format!("status = \"{text}\""),
        )),
    }
}

/// Reads a period back from its canonical text (`2024`, `2024Q1`, `2024-04`)
/// without the lenient normalisation of `Period::parse`, which bulk loads
/// of millions of rows do not need.
pub(crate) fn period_from_text(key: &str, text: &str) -> Result<Period> {
    let bad = || StoreError::invalid(Entity::Observation, key, format!("period = \"{text}\""));
    let b = text.as_bytes();
    let year: i32 = text
        .get(0..4)
        .and_then(|y| y.parse().ok())
        .ok_or_else(bad)?;
    match b.len() {
        4 => FiscalYear::new(year).map(Period::Year).map_err(|_| bad()),
        6 if b[4] == b'Q' => {
            let q = b[5].wrapping_sub(b'0');
            if !(1..=4).contains(&q) {
                return Err(bad());
            }
            FiscalYear::new(year)
                .map(|fy| Period::Quarter(fy, q))
                .map_err(|_| bad())
        }
        7 if b[4] == b'-' => {
            let m: u8 = text[5..7].parse().map_err(|_| bad())?;
            if !(1..=12).contains(&m) {
                return Err(bad());
            }
            Ok(Period::Month(year, m))
        }
        _ => Err(bad()),
    }
}

/// A number that sorts periods exactly as their text does byte-wise
/// (`2024` < `2024-01` < … < `2024-12` < `2024Q1`), which is the order of the
/// observations' primary key. Sorting a bulk load by it turns random B-tree
/// inserts into appends.
pub(crate) fn period_sort_key(p: Period) -> u32 {
    let (year, sub) = match p {
        Period::Year(fy) => (fy.year(), 0),
        Period::Month(y, m) => (y, u32::from(m)),
        Period::Quarter(fy, q) => (fy.year(), 20 + u32::from(q)),
    };
    (year.max(0) as u32) * 100 + sub
}

/// Text for a key made of several codes, as shown in messages and the audit log.
pub(crate) fn observation_key(kpi_code: &str, period: Period, area_code: &str) -> String {
    format!("{kpi_code}/{period}/{area_code}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn period_text_round_trips_and_sorts_like_its_text() {
        let fy = |y| FiscalYear::new(y).unwrap();
        let mut periods = vec![
            Period::Quarter(fy(2024), 1),
            Period::Month(2024, 12),
            Period::Year(fy(2024)),
            Period::Month(2025, 3),
            Period::Quarter(fy(2023), 4),
            Period::Month(2024, 4),
            Period::Year(fy(2025)),
        ];
        for p in &periods {
            assert_eq!(period_from_text("k", &p.to_string()).unwrap(), *p);
        }
        let mut by_text = periods.clone();
        by_text.sort_by_key(|p| p.to_string());
        periods.sort_by_key(|p| period_sort_key(*p));
        assert_eq!(periods, by_text);
        for bad in ["", "20", "2024Q5", "2024-13", "2024-4", "abcd", "2024X1"] {
            assert!(period_from_text("k", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn enum_text_uses_serde_names() {
        use citykpi_domain::org::Role;
        assert_eq!(enum_text(&Role::DepartmentEditor), "department_editor");
        let r: Role = enum_from_text(Entity::User, "u", "role", "finance").unwrap();
        assert_eq!(r, Role::Finance);
        assert!(enum_from_text::<Role>(Entity::User, "u", "role", "mayor").is_err());
    }
}
