//! KPIs (重要業績評価指標): definition, direction, baseline and targets.

use serde::{Deserialize, Serialize};

use crate::fiscal::FiscalYear;

/// Which way is better.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Direction {
    HigherIsBetter,
    LowerIsBetter,
    /// Keep the value within [lower, upper] (e.g. a reserve ratio).
    Band {
        lower: f64,
        upper: f64,
    },
}

impl Direction {
    pub fn as_str(&self) -> &'static str {
        match self {
            Direction::HigherIsBetter => "higher",
            Direction::LowerIsBetter => "lower",
            Direction::Band { .. } => "band",
        }
    }
    pub fn label_ja(&self) -> &'static str {
        match self {
            Direction::HigherIsBetter => "増加が望ましい",
            Direction::LowerIsBetter => "減少が望ましい",
            Direction::Band { .. } => "範囲内が望ましい",
        }
    }
    /// Parses `higher`/`lower`/`band` (or ↑ ↓ 増 減 範囲) with the band bounds
    /// given separately.
    pub fn parse(s: &str, band: Option<(f64, f64)>) -> Option<Direction> {
        let s = crate::text::normalize(s).to_lowercase();
        match s.as_str() {
            "higher" | "up" | "↑" | "増" | "増加" | "増加が望ましい" | "上昇" => {
                Some(Direction::HigherIsBetter)
            }
            "lower" | "down" | "↓" | "減" | "減少" | "減少が望ましい" | "低下" => {
                Some(Direction::LowerIsBetter)
            }
            "band" | "range" | "範囲" | "範囲内" | "範囲内が望ましい" => band
                .filter(|(l, u)| l <= u)
                .map(|(lower, upper)| Direction::Band { lower, upper }),
            _ => None,
        }
    }
}

/// How often a KPI is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Frequency {
    #[default]
    Annual,
    Quarterly,
    Monthly,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct YearValue {
    pub fy: FiscalYear,
    pub value: f64,
}

/// A KPI's membership in a plan node (measure), with its weight in the roll-up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeLink {
    pub node_code: String,
    pub weight: Option<f64>,
}

/// An SDG tag: goal 1–17, optionally a target such as "11.2" or "3.d".
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SdgTag {
    pub goal: u8,
    pub target: Option<String>,
}

impl SdgTag {
    /// `11`, `11.2`, `3.d`, `SDG11`, `ゴール11`.
    pub fn parse(s: &str) -> Option<SdgTag> {
        let s = crate::text::normalize(s);
        let s = s
            .trim_start_matches("SDGs")
            .trim_start_matches("SDG")
            .trim_start_matches("sdg")
            .trim_start_matches("ゴール")
            .trim();
        let (goal, target) = match s.split_once('.') {
            Some((g, t)) => (g, Some(t)),
            None => (s, None),
        };
        let goal: u8 = goal.parse().ok()?;
        if !(1..=17).contains(&goal) {
            return None;
        }
        match target {
            Some(t)
                if !t.is_empty()
                    && t.len() <= 2
                    && t.chars().all(|c| c.is_ascii_alphanumeric()) =>
            {
                Some(SdgTag {
                    goal,
                    target: Some(format!("{goal}.{}", t.to_ascii_lowercase())),
                })
            }
            Some(_) => None,
            None => Some(SdgTag { goal, target: None }),
        }
    }
}

impl std::fmt::Display for SdgTag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.target {
            Some(t) => f.write_str(t),
            None => write!(f, "{}", self.goal),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Kpi {
    pub code: String,
    pub name_ja: String,
    #[serde(default)]
    pub name_en: String,
    pub unit: String,
    pub direction: Direction,
    #[serde(default)]
    pub frequency: Frequency,
    pub baseline: Option<YearValue>,
    /// Yearly targets (interim), ascending by year.
    #[serde(default)]
    pub targets: Vec<YearValue>,
    pub final_target: Option<YearValue>,
    #[serde(default)]
    pub source: String,
    /// Years between the end of a fiscal year and the publication of its value
    /// (0 = same autumn, 2 = census-like statistics).
    #[serde(default)]
    pub publication_lag_years: u8,
    #[serde(default)]
    pub description: String,
    /// Owner sections; a KPI may be co-owned by several departments.
    #[serde(default)]
    pub owner_sections: Vec<String>,
    /// Plan nodes (measures) the KPI serves; one KPI can serve several plans.
    #[serde(default)]
    pub nodes: Vec<NodeLink>,
    #[serde(default)]
    pub sdgs: Vec<SdgTag>,
    #[serde(default)]
    pub published: bool,
}

impl Kpi {
    /// The target for a year: the yearly target if set, the final target in its
    /// year, else None (the progress rules then use the expected path).
    pub fn target_for(&self, fy: FiscalYear) -> Option<f64> {
        self.targets
            .iter()
            .find(|t| t.fy == fy)
            .map(|t| t.value)
            .or_else(|| self.final_target.filter(|t| t.fy == fy).map(|t| t.value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sdg_tags() {
        assert_eq!(
            SdgTag::parse("11"),
            Some(SdgTag {
                goal: 11,
                target: None
            })
        );
        assert_eq!(
            SdgTag::parse("SDG11.2").map(|t| t.to_string()),
            Some("11.2".to_string())
        );
        assert_eq!(
            SdgTag::parse("3.D").map(|t| t.to_string()),
            Some("3.d".to_string())
        );
        assert_eq!(
            SdgTag::parse("１７"),
            Some(SdgTag {
                goal: 17,
                target: None
            })
        );
        assert_eq!(SdgTag::parse("18"), None);
        assert_eq!(SdgTag::parse("0"), None);
        assert_eq!(SdgTag::parse("x"), None);
    }

    #[test]
    fn direction_parse() {
        assert_eq!(Direction::parse("↑", None), Some(Direction::HigherIsBetter));
        assert_eq!(
            Direction::parse("減少", None),
            Some(Direction::LowerIsBetter)
        );
        assert_eq!(
            Direction::parse("band", Some((1.0, 2.0))),
            Some(Direction::Band {
                lower: 1.0,
                upper: 2.0
            })
        );
        assert_eq!(Direction::parse("band", None), None);
        assert_eq!(Direction::parse("band", Some((3.0, 2.0))), None);
        assert_eq!(Direction::parse("sideways", None), None);
    }
}
