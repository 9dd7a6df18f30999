//! Strategic plans as trees: plan → policy (政策) → measure (施策) → KPIs.

use serde::{Deserialize, Serialize};

use crate::fiscal::FiscalYear;
use crate::progress::{RollupMethod, StatusThresholds};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub code: String,
    pub name_ja: String,
    #[serde(default)]
    pub name_en: String,
    pub start_fy: FiscalYear,
    pub end_fy: FiscalYear,
    /// Names of the tree's levels, top first. Default: 政策 / 施策.
    #[serde(default = "LevelName::defaults")]
    pub level_names: Vec<LevelName>,
    #[serde(default)]
    pub thresholds: StatusThresholds,
    #[serde(default)]
    pub rollup: RollupMethod,
    #[serde(default)]
    pub published: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LevelName {
    pub ja: String,
    pub en: String,
}

impl LevelName {
    pub fn defaults() -> Vec<LevelName> {
        vec![
            LevelName {
                ja: "政策".into(),
                en: "Policy".into(),
            },
            LevelName {
                ja: "施策".into(),
                en: "Measure".into(),
            },
        ]
    }
}

impl Plan {
    /// The name of a tree level (1 = top), or a generic one past the configured levels.
    pub fn level_name(&self, level: u8) -> LevelName {
        self.level_names
            .get(usize::from(level.max(1)) - 1)
            .cloned()
            .unwrap_or_else(|| LevelName {
                ja: format!("第{level}階層"),
                en: format!("Level {level}"),
            })
    }
}

/// A node of a plan's tree. Codes are unique across all plans so that a KPI can
/// name the measures it serves by code alone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanNode {
    pub code: String,
    pub plan_code: String,
    /// None for a top-level node (a policy).
    pub parent_code: Option<String>,
    /// 1 = policy, 2 = measure, … (names in `Plan::level_names`).
    pub level: u8,
    pub name_ja: String,
    #[serde(default)]
    pub name_en: String,
    #[serde(default)]
    pub sort_order: i32,
    /// Weight in the parent's roll-up; None = plain average share.
    pub weight: Option<f64>,
}
