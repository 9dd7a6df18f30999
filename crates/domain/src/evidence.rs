//! Evidence attached to a program–KPI link: what a causal estimate (or
//! another study) says the program changed in the KPI. The declared
//! contribution of a link (its weight and grade) is what the owner claims;
//! evidence records what was measured, by which method on which data, so the
//! cycle can put estimated values beside declared ones.

use serde::{Deserialize, Serialize};

use crate::program::EvidenceGrade;

/// How an effect was estimated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceMethod {
    /// 差の差分法 (2×2 or with unit and period fixed effects).
    DifferenceInDifferences,
    /// 分断時系列分析 (segmented regression).
    InterruptedTimeSeries,
    /// 合成コントロール法 (Abadie).
    SyntheticControl,
    /// ランダム化比較試験.
    RandomisedTrial,
    /// Another study (described in the data and note).
    Other,
}

impl EvidenceMethod {
    pub const ALL: [EvidenceMethod; 5] = [
        EvidenceMethod::DifferenceInDifferences,
        EvidenceMethod::InterruptedTimeSeries,
        EvidenceMethod::SyntheticControl,
        EvidenceMethod::RandomisedTrial,
        EvidenceMethod::Other,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            EvidenceMethod::DifferenceInDifferences => "difference_in_differences",
            EvidenceMethod::InterruptedTimeSeries => "interrupted_time_series",
            EvidenceMethod::SyntheticControl => "synthetic_control",
            EvidenceMethod::RandomisedTrial => "randomised_trial",
            EvidenceMethod::Other => "other",
        }
    }
    pub fn parse(s: &str) -> Option<EvidenceMethod> {
        Self::ALL.into_iter().find(|m| m.as_str() == s.trim())
    }
    pub fn label_ja(self) -> &'static str {
        match self {
            EvidenceMethod::DifferenceInDifferences => "差の差分法",
            EvidenceMethod::InterruptedTimeSeries => "分断時系列分析",
            EvidenceMethod::SyntheticControl => "合成コントロール法",
            EvidenceMethod::RandomisedTrial => "ランダム化比較試験",
            EvidenceMethod::Other => "その他",
        }
    }
    pub fn label_en(self) -> &'static str {
        match self {
            EvidenceMethod::DifferenceInDifferences => "Difference-in-differences",
            EvidenceMethod::InterruptedTimeSeries => "Interrupted time series",
            EvidenceMethod::SyntheticControl => "Synthetic control",
            EvidenceMethod::RandomisedTrial => "Randomised trial",
            EvidenceMethod::Other => "Other",
        }
    }
    /// The grade a result of this method earns by default: the causal
    /// designs are grade A; anything else is a correlation until shown otherwise.
    pub fn default_grade(self) -> EvidenceGrade {
        match self {
            EvidenceMethod::Other => EvidenceGrade::Correlational,
            _ => EvidenceGrade::Causal,
        }
    }
}

/// One piece of evidence on the link `program_code` → `kpi_code`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkEvidence {
    pub program_code: String,
    pub kpi_code: String,
    pub method: EvidenceMethod,
    /// What the estimate was computed from (file, units, periods, outcome).
    pub data: String,
    /// The estimated effect on the KPI, in the KPI's unit.
    pub estimate: f64,
    /// The interval around the estimate and its level (e.g. 0.95), when the
    /// method gives one (a synthetic control gives a placebo p-value instead).
    pub interval: Option<(f64, f64)>,
    pub level: Option<f64>,
    pub p_value: Option<f64>,
    pub grade: EvidenceGrade,
    #[serde(default)]
    pub note: String,
    /// The method's full result (weights, paths, …) as JSON text.
    #[serde(default)]
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EvidenceError {
    #[error("{field}: 値が有限の数ではありません / {field}: not a finite number")]
    NotFinite { field: &'static str },
    #[error(
        "区間の下限 {lower} が上限 {upper} を超えています / interval lower bound {lower} exceeds upper bound {upper}"
    )]
    IntervalReversed { lower: f64, upper: f64 },
    #[error(
        "{field} は0から1の間でなければなりません（{value}）/ {field} must lie between 0 and 1, got {value}"
    )]
    OutOfUnit { field: &'static str, value: f64 },
    #[error(
        "推定値 {estimate} が区間 [{lower}, {upper}] の外です / estimate {estimate} lies outside its interval [{lower}, {upper}]"
    )]
    EstimateOutsideInterval {
        estimate: f64,
        lower: f64,
        upper: f64,
    },
    #[error("{field} が空です / {field} is empty")]
    Empty { field: &'static str },
}

impl LinkEvidence {
    /// Every problem of the record (empty when it can be stored).
    pub fn problems(&self) -> Vec<EvidenceError> {
        let mut out = Vec::new();
        if self.program_code.trim().is_empty() {
            out.push(EvidenceError::Empty {
                field: "program_code",
            });
        }
        if self.kpi_code.trim().is_empty() {
            out.push(EvidenceError::Empty { field: "kpi_code" });
        }
        if !self.estimate.is_finite() {
            out.push(EvidenceError::NotFinite { field: "estimate" });
        }
        if let Some((lower, upper)) = self.interval {
            if !lower.is_finite() || !upper.is_finite() {
                out.push(EvidenceError::NotFinite { field: "interval" });
            } else if lower > upper {
                out.push(EvidenceError::IntervalReversed { lower, upper });
            } else if self.estimate.is_finite() && !(lower..=upper).contains(&self.estimate) {
                out.push(EvidenceError::EstimateOutsideInterval {
                    estimate: self.estimate,
                    lower,
                    upper,
                });
            }
        }
        if let Some(v) = self.level
            && !(v > 0.0 && v < 1.0)
        {
            out.push(EvidenceError::OutOfUnit {
                field: "level",
                value: v,
            });
        }
        if let Some(v) = self.p_value
            && !(0.0..=1.0).contains(&v)
        {
            out.push(EvidenceError::OutOfUnit {
                field: "p_value",
                value: v,
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev() -> LinkEvidence {
        LinkEvidence {
            program_code: "P0001".into(),
            kpi_code: "K001".into(),
            method: EvidenceMethod::DifferenceInDifferences,
            data: "panel.csv".into(),
            estimate: -27.349,
            interval: Some((-35.0, -19.7)),
            level: Some(0.95),
            p_value: None,
            grade: EvidenceGrade::Causal,
            note: String::new(),
            detail: String::new(),
        }
    }

    #[test]
    fn a_sound_record_has_no_problems() {
        assert!(ev().problems().is_empty());
        let mut synth = ev();
        synth.method = EvidenceMethod::SyntheticControl;
        synth.interval = None;
        synth.level = None;
        synth.p_value = Some(1.0);
        assert!(synth.problems().is_empty(), "{:?}", synth.problems());
    }

    #[test]
    fn every_problem_is_listed() {
        let mut bad = ev();
        bad.kpi_code = " ".into();
        bad.estimate = f64::NAN;
        bad.interval = Some((3.0, 1.0));
        bad.level = Some(95.0);
        let p = bad.problems();
        assert_eq!(p.len(), 4, "{p:?}");
        assert!(p.contains(&EvidenceError::IntervalReversed {
            lower: 3.0,
            upper: 1.0
        }));
        assert!(p[3].to_string().contains("level"));

        let mut outside = ev();
        outside.estimate = 5.0;
        assert!(matches!(
            outside.problems()[..],
            [EvidenceError::EstimateOutsideInterval { .. }]
        ));
    }

    #[test]
    fn methods_round_trip_and_grade() {
        for m in EvidenceMethod::ALL {
            assert_eq!(EvidenceMethod::parse(m.as_str()), Some(m));
        }
        assert_eq!(EvidenceMethod::parse("magic"), None);
        assert_eq!(
            EvidenceMethod::SyntheticControl.default_grade(),
            EvidenceGrade::Causal
        );
        assert_eq!(
            EvidenceMethod::Other.default_grade(),
            EvidenceGrade::Correlational
        );
    }
}
