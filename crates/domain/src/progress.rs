//! Progress rules: achievement rate, the expected path, status per KPI and year,
//! and the roll-up from KPIs to measures, policies and plans.

use serde::{Deserialize, Serialize};

/// Status of a KPI (or a plan node) for a fiscal year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// A: the year's target is reached.
    Achieved,
    /// B: at least `on_track` of the way to the year's target.
    OnTrack,
    /// C: some progress from the baseline.
    Behind,
    /// D: no progress, or worse than the baseline.
    AtRisk,
    /// No value to judge: shown explicitly, never as zero.
    NoData,
}

impl Status {
    pub const ALL: [Status; 5] =
        [Status::Achieved, Status::OnTrack, Status::Behind, Status::AtRisk, Status::NoData];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Achieved => "achieved",
            Status::OnTrack => "on_track",
            Status::Behind => "behind",
            Status::AtRisk => "at_risk",
            Status::NoData => "no_data",
        }
    }

    pub fn label_ja(self) -> &'static str {
        match self {
            Status::Achieved => "達成",
            Status::OnTrack => "順調",
            Status::Behind => "遅れ",
            Status::AtRisk => "要注意",
            Status::NoData => "データなし",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Status::Achieved => "Achieved",
            Status::OnTrack => "On track",
            Status::Behind => "Behind",
            Status::AtRisk => "At risk",
            Status::NoData => "No data",
        }
    }

    /// The grade in the plan's style: A–D or ◎○△×; "−" for no data.
    pub fn grade(self, style: GradeStyle) -> &'static str {
        match (style, self) {
            (_, Status::NoData) => "−",
            (GradeStyle::Letters, Status::Achieved) => "A",
            (GradeStyle::Letters, Status::OnTrack) => "B",
            (GradeStyle::Letters, Status::Behind) => "C",
            (GradeStyle::Letters, Status::AtRisk) => "D",
            (GradeStyle::Symbols, Status::Achieved) => "◎",
            (GradeStyle::Symbols, Status::OnTrack) => "○",
            (GradeStyle::Symbols, Status::Behind) => "△",
            (GradeStyle::Symbols, Status::AtRisk) => "×",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GradeStyle {
    #[default]
    Letters,
    Symbols,
}

/// Cut-offs on the achievement rate against the year's target. Each city sets
/// its own, so they are data on the plan, not code.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StatusThresholds {
    /// Rate at or above which the year's target counts as reached (usually 1.0).
    pub achieved: f64,
    /// Rate at or above which the KPI is on track (e.g. 0.8).
    pub on_track: f64,
    /// Rate above which there is "some progress" (usually 0.0).
    pub behind: f64,
    #[serde(default)]
    pub style: GradeStyle,
}

impl Default for StatusThresholds {
    fn default() -> Self {
        Self { achieved: 1.0, on_track: 0.8, behind: 0.0, style: GradeStyle::Letters }
    }
}

impl StatusThresholds {
    pub fn classify(&self, rate: Option<f64>) -> Status {
        match rate {
            None => Status::NoData,
            Some(r) if r >= self.achieved => Status::Achieved,
            Some(r) if r >= self.on_track => Status::OnTrack,
            Some(r) if r > self.behind => Status::Behind,
            Some(_) => Status::AtRisk,
        }
    }
}

/// How a parent node combines its children.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RollupMethod {
    /// Weighted average; a child without a weight counts with weight 1.
    #[default]
    Weighted,
    /// Plain average; weights are ignored.
    Plain,
}
