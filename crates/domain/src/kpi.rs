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

impl Frequency {
    /// Periods in one fiscal year: 1, 4 or 12.
    pub fn per_year(self) -> u8 {
        match self {
            Frequency::Annual => 1,
            Frequency::Quarterly => 4,
            Frequency::Monthly => 12,
        }
    }
}

/// How the values of a monthly or quarterly KPI are judged against its
/// yearly target (a yearly value, where one is recorded, is judged as it is).
///
/// Which one fits depends on what the value is: a count that adds up over
/// the year (visitors, consultations) is a sum; a level or an average per
/// month (overtime hours per employee, a rate) is a mean; a stock (registered
/// users, a running total) is its latest value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusBasis {
    /// 年度累計: the fiscal year's values so far, added up, against the part
    /// of the yearly target for the periods reported (target × periods ÷ 12 or 4).
    YtdSum,
    /// 直近12か月合計: the latest twelve months (four quarters) added up,
    /// against a yearly target. Missing periods in the window are filled in
    /// proportionally (sum × 12 ÷ months reported).
    Last12Sum,
    /// 直近12か月平均: the mean of the latest twelve months (four quarters),
    /// against a yearly target stated as a level per period.
    Last12Mean,
    /// 最新値: the latest value alone.
    Latest,
}

impl StatusBasis {
    pub const ALL: [StatusBasis; 4] = [
        StatusBasis::YtdSum,
        StatusBasis::Last12Sum,
        StatusBasis::Last12Mean,
        StatusBasis::Latest,
    ];

    /// The basis a KPI of this frequency has unless it declares one: the
    /// latest value for yearly KPIs; for monthly and quarterly ones the mean
    /// of the latest twelve months, which spans a whole seasonal cycle (a
    /// single month of a seasonal series says more about the calendar than
    /// about progress) and suits levels and rates, the common monthly KPIs.
    /// Counts that add up over the year declare `YtdSum` or `Last12Sum`.
    pub fn default_for(frequency: Frequency) -> StatusBasis {
        match frequency {
            Frequency::Annual => StatusBasis::Latest,
            Frequency::Quarterly | Frequency::Monthly => StatusBasis::Last12Mean,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            StatusBasis::YtdSum => "ytd_sum",
            StatusBasis::Last12Sum => "last12_sum",
            StatusBasis::Last12Mean => "last12_mean",
            StatusBasis::Latest => "latest",
        }
    }

    pub fn label_ja(self) -> &'static str {
        match self {
            StatusBasis::YtdSum => "年度累計",
            StatusBasis::Last12Sum => "直近12か月合計",
            StatusBasis::Last12Mean => "直近12か月平均",
            StatusBasis::Latest => "最新値",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            StatusBasis::YtdSum => "Fiscal year to date, summed",
            StatusBasis::Last12Sum => "Latest 12 months, summed",
            StatusBasis::Last12Mean => "Latest 12 months, mean",
            StatusBasis::Latest => "Latest value",
        }
    }

    /// Reads `ytd_sum` / `last12_sum` / `last12_mean` / `latest` or the
    /// Japanese labels (年度累計, 直近12か月合計, 直近12か月平均, 最新値).
    pub fn parse(s: &str) -> Option<StatusBasis> {
        let s = crate::text::normalize(s).to_lowercase();
        match s.as_str() {
            "ytd_sum" | "ytd" | "year_to_date" | "年度累計" | "累計" => {
                Some(StatusBasis::YtdSum)
            }
            "last12_sum" | "rolling_sum" | "直近12か月合計" | "直近12ヶ月合計" | "12か月合計" => {
                Some(StatusBasis::Last12Sum)
            }
            "last12_mean" | "rolling_mean" | "直近12か月平均" | "直近12ヶ月平均" | "12か月平均" => {
                Some(StatusBasis::Last12Mean)
            }
            "latest" | "last" | "最新値" | "最新" => Some(StatusBasis::Latest),
            _ => None,
        }
    }
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
    /// How monthly or quarterly values are judged; `None` = the default of
    /// the KPI's frequency (`StatusBasis::default_for`).
    #[serde(default)]
    pub status_basis: Option<StatusBasis>,
}

impl Kpi {
    /// The status basis in force: the declared one, else the frequency's default.
    pub fn basis(&self) -> StatusBasis {
        self.status_basis
            .unwrap_or_else(|| StatusBasis::default_for(self.frequency))
    }

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
    fn status_basis_parse_and_defaults() {
        for b in StatusBasis::ALL {
            assert_eq!(StatusBasis::parse(b.as_str()), Some(b));
            assert_eq!(StatusBasis::parse(b.label_ja()), Some(b));
        }
        assert_eq!(
            StatusBasis::parse("直近１２ヶ月平均"),
            Some(StatusBasis::Last12Mean)
        );
        assert_eq!(StatusBasis::parse("median"), None);
        assert_eq!(
            StatusBasis::default_for(Frequency::Monthly),
            StatusBasis::Last12Mean
        );
        assert_eq!(
            StatusBasis::default_for(Frequency::Annual),
            StatusBasis::Latest
        );
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
