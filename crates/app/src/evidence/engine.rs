//! The evidence computation: synthetic control, difference-in-differences
//! and interrupted time series on a panel, with the design checks that turn a
//! bad design into a reason instead of a number. The CLI's CSV mode, the
//! stored-data service ([`super::stored`]), the web page and the API all end
//! here; the estimators themselves are `citykpi_analytics`'.

use std::collections::BTreeMap;

use citykpi_analytics::did::{Did2x2, did_2x2, did_twfe};
use citykpi_analytics::its::{ItsPoint, interrupted_time_series};
use citykpi_analytics::ols::{Coefficient, EstimationError};
use citykpi_analytics::panel::{Panel, PanelError};
use citykpi_analytics::synth::{
    PathPoint, PlaceboSummary, PredictorBalance, PredictorSpec, SynthSpec, WeightSolver,
    synthetic_control,
};
use citykpi_domain::evidence::{EvidenceMethod, LinkEvidence};
use citykpi_domain::program::EvidenceGrade;
use serde::{Deserialize, Serialize};

use crate::AppError;

/// Fewest periods before the treatment a synthetic control or an interrupted
/// time series is fitted on (a pre-trend needs three points to be a trend).
pub const MIN_PRE_PERIODS: usize = 3;

/// Everything an evidence run can fail with. Each variant names the field
/// (see [`EvidenceError::field`]) and says why, in Japanese and English.
#[derive(Debug, thiserror::Error)]
pub enum EvidenceError {
    #[error(
        "介入前の時点が{have}つしかありません（{need}つ以上必要）/ only {have} periods before the treatment ({need} or more needed)"
    )]
    TooFewPrePeriods { have: usize, need: usize },
    #[error(
        "介入後の時点が{have}つしかありません（{need}つ以上必要）/ only {have} periods from the treatment on ({need} or more needed)"
    )]
    TooFewPostPeriods { have: usize, need: usize },
    #[error(
        "「{unit}」の介入前の平均 {treated:.4} が対照の範囲（{low:.4}〜{high:.4}）の外にあり、合成コントロールでは再現できません。範囲を含む対照を加えるか、差の差分法を使ってください / \"{unit}\"'s pre-treatment mean {treated:.4} lies outside the donors' range ({low:.4} to {high:.4}): no synthetic control can fit it; add donors that span it or use difference-in-differences"
    )]
    OutsideDonorRange {
        unit: String,
        treated: f64,
        low: f64,
        high: f64,
    },
    #[error(
        "欠測のある対照があります: {} 。対照から外すか、欠測のある対照を除く指定をしてください / donors with missing years: {}; leave them out or ask to drop incomplete donors",
        list_missing(.0), list_missing(.0)
    )]
    DonorsMissingYears(Vec<MissingYears>),
    #[error(
        "「{unit}」の値に欠測があります（{}）/ \"{unit}\" has missing years ({})",
        join_years(.years), join_years(.years)
    )]
    TreatedMissingYears { unit: String, years: Vec<i64> },
    #[error("{what}に変動がありません（すべて {value}）/ no variation in {what} (all {value})")]
    NoVariation { what: String, value: f64 },
    #[error(
        "対照となる単位がありません（{need}つ以上必要）/ no comparison units ({need} or more needed)"
    )]
    TooFewComparisonUnits { need: usize },
    #[error("{field}: {reason}")]
    Invalid { field: String, reason: String },
    #[error(transparent)]
    Panel(#[from] PanelError),
    #[error(transparent)]
    Estimation(#[from] EstimationError),
    #[error(transparent)]
    App(#[from] AppError),
}

impl From<citykpi_store::StoreError> for EvidenceError {
    fn from(e: citykpi_store::StoreError) -> Self {
        EvidenceError::App(e.into())
    }
}

impl EvidenceError {
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        EvidenceError::Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// The input field the problem is about (the form's field name).
    pub fn field(&self) -> &str {
        match self {
            EvidenceError::TooFewPrePeriods { .. } | EvidenceError::TooFewPostPeriods { .. } => {
                "treatment_year"
            }
            EvidenceError::OutsideDonorRange { .. }
            | EvidenceError::DonorsMissingYears(_)
            | EvidenceError::TooFewComparisonUnits { .. } => "units",
            EvidenceError::TreatedMissingYears { .. } | EvidenceError::NoVariation { .. } => {
                "outcome"
            }
            EvidenceError::Invalid { field, .. } => field,
            EvidenceError::Panel(_) | EvidenceError::Estimation(_) => "data",
            EvidenceError::App(_) => "store",
        }
    }

    /// Whether the design (not the system) is at fault: shown to the user as
    /// a reason, answered 422 by the API.
    pub fn is_design(&self) -> bool {
        !matches!(self, EvidenceError::App(_))
    }
}

impl From<EvidenceError> for AppError {
    fn from(e: EvidenceError) -> Self {
        match e {
            EvidenceError::App(a) => a,
            other => AppError::invalid(other.field().to_string(), other.to_string()),
        }
    }
}

/// A unit and the years it lacks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MissingYears {
    pub unit: String,
    pub years: Vec<i64>,
}

fn join_years(years: &[i64]) -> String {
    years
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn list_missing(list: &[MissingYears]) -> String {
    list.iter()
        .map(|m| format!("{} ({})", m.unit, join_years(&m.years)))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The three designs the workbench runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// 合成コントロール法.
    Synth,
    /// 差の差分法.
    Did,
    /// 分断時系列分析.
    Its,
}

impl Method {
    pub const ALL: [Method; 3] = [Method::Synth, Method::Did, Method::Its];
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Synth => "synth",
            Method::Did => "did",
            Method::Its => "its",
        }
    }
    pub fn parse(s: &str) -> Option<Method> {
        match s.trim() {
            "synth" | "synthetic_control" => Some(Method::Synth),
            "did" | "difference_in_differences" => Some(Method::Did),
            "its" | "interrupted_time_series" => Some(Method::Its),
            _ => None,
        }
    }
    pub fn evidence_method(self) -> EvidenceMethod {
        match self {
            Method::Synth => EvidenceMethod::SyntheticControl,
            Method::Did => EvidenceMethod::DifferenceInDifferences,
            Method::Its => EvidenceMethod::InterruptedTimeSeries,
        }
    }
}

/// A synthetic control: who is treated from when, and how.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SynthInput {
    pub treated: String,
    pub treatment_time: i64,
    pub exclude: Vec<String>,
    pub predictors: Vec<PredictorSpec>,
    pub fit_period: Option<(i64, i64)>,
    pub placebos: bool,
    pub solver: WeightSolver,
    /// Drop donors with missing years (reported in `dropped_donors`) instead
    /// of refusing the design with their list.
    pub drop_incomplete_donors: bool,
}

/// A difference-in-differences on a panel.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DidInput {
    pub treated: Vec<String>,
    pub treatment_time: i64,
    pub exclude: Vec<String>,
    pub cluster: bool,
}

/// An interrupted time series of one series.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ItsInput {
    pub interruption: i64,
    pub newey_west: Option<usize>,
}

/// 95% interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Interval {
    pub level: f64,
    pub lower: f64,
    pub upper: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SynthReport {
    pub treated: String,
    pub treatment_time: i64,
    /// Mean post-treatment gap (treated − synthetic).
    pub estimate: f64,
    pub estimate_meaning: &'static str,
    /// A synthetic control has no sampling interval: always None (the
    /// placebo p-value is its inference).
    pub interval: Option<Interval>,
    pub p_value: Option<f64>,
    pub weights: BTreeMap<String, f64>,
    pub pre_rmspe: f64,
    pub post_rmspe: f64,
    pub rmspe_ratio: f64,
    pub fit_mspe: f64,
    pub v_method: String,
    pub balance: Vec<PredictorBalance>,
    pub path: Vec<PathPoint>,
    pub placebos: Option<PlaceboSummary>,
    pub dropped_donors: Vec<String>,
}

/// The mean outcome of the treated and the comparison group in one period.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GroupMean {
    pub period: i64,
    pub treated: Option<f64>,
    pub control: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DidReport {
    pub treatment_time: i64,
    /// The two-way fixed-effects coefficient on treated × post.
    pub estimate: f64,
    pub estimate_meaning: &'static str,
    pub std_error: f64,
    pub interval: Option<Interval>,
    pub p_value: Option<f64>,
    pub standard_errors: String,
    pub two_by_two: Did2x2,
    pub group_means: Vec<GroupMean>,
    pub n: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItsReport {
    pub interruption: i64,
    /// The level change at the interruption.
    pub estimate: f64,
    pub estimate_meaning: &'static str,
    pub interval: Option<Interval>,
    pub p_value: Option<f64>,
    pub level_change: Coefficient,
    pub slope_change: Coefficient,
    pub pre_slope: Coefficient,
    pub effect_at_end: f64,
    pub standard_errors: String,
    pub r_squared: f64,
    pub path: Vec<ItsPoint>,
}

/// The result of one run, tagged by `method` in JSON.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "method")]
pub enum EvidenceReport {
    #[serde(rename = "synthetic_control")]
    Synth(SynthReport),
    #[serde(rename = "difference_in_differences")]
    Did(DidReport),
    #[serde(rename = "interrupted_time_series")]
    Its(ItsReport),
}

impl EvidenceReport {
    pub fn method(&self) -> Method {
        match self {
            EvidenceReport::Synth(_) => Method::Synth,
            EvidenceReport::Did(_) => Method::Did,
            EvidenceReport::Its(_) => Method::Its,
        }
    }
    pub fn estimate(&self) -> f64 {
        match self {
            EvidenceReport::Synth(r) => r.estimate,
            EvidenceReport::Did(r) => r.estimate,
            EvidenceReport::Its(r) => r.estimate,
        }
    }
    pub fn interval(&self) -> Option<Interval> {
        match self {
            EvidenceReport::Synth(r) => r.interval,
            EvidenceReport::Did(r) => r.interval,
            EvidenceReport::Its(r) => r.interval,
        }
    }
    pub fn p_value(&self) -> Option<f64> {
        match self {
            EvidenceReport::Synth(r) => r.p_value,
            EvidenceReport::Did(r) => r.p_value,
            EvidenceReport::Its(r) => r.p_value,
        }
    }
    pub fn meaning(&self) -> &'static str {
        match self {
            EvidenceReport::Synth(r) => r.estimate_meaning,
            EvidenceReport::Did(r) => r.estimate_meaning,
            EvidenceReport::Its(r) => r.estimate_meaning,
        }
    }

    /// The report as the evidence record of the link `program` → `kpi`;
    /// `grade` None = the method's default grade.
    pub fn to_evidence(
        &self,
        program: &str,
        kpi: &str,
        grade: Option<EvidenceGrade>,
        note: &str,
        data: String,
    ) -> LinkEvidence {
        let method = self.method().evidence_method();
        let interval = self.interval();
        LinkEvidence {
            program_code: program.to_string(),
            kpi_code: kpi.to_string(),
            method,
            data,
            estimate: self.estimate(),
            interval: interval.map(|i| (i.lower, i.upper)),
            level: interval.map(|i| i.level),
            p_value: self.p_value(),
            grade: grade.unwrap_or_else(|| method.default_grade()),
            note: note.to_string(),
            detail: serde_json::to_string(self).unwrap_or_default(),
        }
    }
}

fn pre_post(panel: &Panel, t0: i64) -> (usize, usize) {
    let pre = panel.periods.iter().filter(|&&t| t < t0).count();
    (pre, panel.periods.len() - pre)
}

fn unit_index(panel: &Panel, unit: &str) -> Result<usize, EvidenceError> {
    panel
        .unit_index(unit)
        .ok_or_else(|| EstimationError::UnknownUnit(unit.to_string()).into())
}

fn missing_years(panel: &Panel, u: usize) -> Vec<i64> {
    panel
        .periods
        .iter()
        .zip(&panel.outcome[u])
        .filter(|(_, v)| v.is_none())
        .map(|(t, _)| *t)
        .collect()
}

/// Refuses an outcome that is the same number everywhere (nothing to estimate).
fn check_variation(panel: &Panel, units: &[usize]) -> Result<(), EvidenceError> {
    let mut values = units
        .iter()
        .flat_map(|&u| panel.outcome[u].iter().flatten().copied());
    let Some(first) = values.next() else {
        return Err(EvidenceError::invalid(
            "outcome",
            "値がありません / there are no values",
        ));
    };
    if values.all(|v| (v - first).abs() <= f64::EPSILON * first.abs().max(1.0)) {
        return Err(EvidenceError::NoVariation {
            what: panel.outcome_name.clone(),
            value: first,
        });
    }
    Ok(())
}

/// Synthetic control with the design checks: enough pre-periods, a complete
/// treated series, donors complete (or dropped when asked), variation, and a
/// treated pre-treatment mean inside the donors' range (a convex
/// combination of donors cannot leave it).
pub fn synth(panel: &Panel, input: &SynthInput) -> Result<SynthReport, EvidenceError> {
    let treated = unit_index(panel, &input.treated)?;
    let (pre, post) = pre_post(panel, input.treatment_time);
    if pre < MIN_PRE_PERIODS {
        return Err(EvidenceError::TooFewPrePeriods {
            have: pre,
            need: MIN_PRE_PERIODS,
        });
    }
    if post == 0 {
        return Err(EvidenceError::TooFewPostPeriods { have: 0, need: 1 });
    }
    let gaps = missing_years(panel, treated);
    if !gaps.is_empty() {
        return Err(EvidenceError::TreatedMissingYears {
            unit: panel.units[treated].clone(),
            years: gaps,
        });
    }
    let mut excluded = Vec::new();
    for e in &input.exclude {
        excluded.push(unit_index(panel, e)?);
    }
    let candidates: Vec<usize> = (0..panel.units.len())
        .filter(|u| *u != treated && !excluded.contains(u))
        .collect();
    let incomplete: Vec<MissingYears> = candidates
        .iter()
        .map(|&u| MissingYears {
            unit: panel.units[u].clone(),
            years: missing_years(panel, u),
        })
        .filter(|m| !m.years.is_empty())
        .collect();
    if !incomplete.is_empty() && !input.drop_incomplete_donors {
        return Err(EvidenceError::DonorsMissingYears(incomplete));
    }
    let donors: Vec<usize> = candidates
        .into_iter()
        .filter(|u| !incomplete.iter().any(|m| m.unit == panel.units[*u]))
        .collect();
    if donors.len() < 2 {
        return Err(EvidenceError::TooFewComparisonUnits { need: 2 });
    }
    let mut all = donors.clone();
    all.push(treated);
    check_variation(panel, &all)?;
    let pre_mean = |u: usize| {
        let vals: Vec<f64> = panel
            .periods
            .iter()
            .zip(&panel.outcome[u])
            .filter(|(t, _)| **t < input.treatment_time)
            .filter_map(|(_, v)| *v)
            .collect();
        vals.iter().sum::<f64>() / vals.len().max(1) as f64
    };
    if input.predictors.is_empty() {
        let t = pre_mean(treated);
        let (low, high) = donors
            .iter()
            .map(|&u| pre_mean(u))
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                (lo.min(v), hi.max(v))
            });
        if t < low || t > high {
            return Err(EvidenceError::OutsideDonorRange {
                unit: panel.units[treated].clone(),
                treated: t,
                low,
                high,
            });
        }
    }
    // Incomplete donors (when asked to drop them) are left to the
    // estimator, which drops and reports them in `dropped_donors`.
    let spec = SynthSpec {
        treated: input.treated.clone(),
        treatment_time: input.treatment_time,
        exclude: input.exclude.clone(),
        predictors: input.predictors.clone(),
        fit_period: input.fit_period,
        placebos: input.placebos,
        solver: input.solver,
        ..Default::default()
    };
    let r = synthetic_control(panel, &spec)?;
    Ok(SynthReport {
        treated: r.treated,
        treatment_time: r.treatment_time,
        estimate: r.average_effect,
        estimate_meaning: "mean post-treatment gap (treated − synthetic)",
        interval: None,
        p_value: r.placebos.as_ref().map(|p| p.p_value),
        weights: r
            .weights
            .iter()
            .map(|w| (w.unit.clone(), w.weight))
            .collect(),
        pre_rmspe: r.pre_rmspe,
        post_rmspe: r.post_rmspe,
        rmspe_ratio: r.rmspe_ratio,
        fit_mspe: r.fit_mspe,
        v_method: r.v_method,
        balance: r.balance,
        path: r.path,
        placebos: r.placebos,
        dropped_donors: r.dropped_donors,
    })
}

/// Difference-in-differences (2×2 table and two-way fixed effects) with the
/// design checks: periods on both sides, a comparison group, variation.
pub fn did(panel: &Panel, input: &DidInput) -> Result<DidReport, EvidenceError> {
    let (pre, post) = pre_post(panel, input.treatment_time);
    if pre == 0 {
        return Err(EvidenceError::TooFewPrePeriods { have: 0, need: 1 });
    }
    if post == 0 {
        return Err(EvidenceError::TooFewPostPeriods { have: 0, need: 1 });
    }
    if input.treated.is_empty() {
        return Err(EvidenceError::invalid(
            "treated",
            "介入を受けた単位がありません / no treated unit given",
        ));
    }
    let mut treated = Vec::new();
    for t in &input.treated {
        treated.push(unit_index(panel, t)?);
    }
    let mut excluded = Vec::new();
    for e in &input.exclude {
        excluded.push(unit_index(panel, e)?);
    }
    let controls: Vec<usize> = (0..panel.units.len())
        .filter(|u| !treated.contains(u) && !excluded.contains(u))
        .collect();
    if controls.is_empty() {
        return Err(EvidenceError::TooFewComparisonUnits { need: 1 });
    }
    let mut all = controls.clone();
    all.extend(&treated);
    check_variation(panel, &all)?;
    let table = did_2x2(panel, &input.treated, input.treatment_time, &input.exclude)?;
    let fe = did_twfe(
        panel,
        &input.treated,
        input.treatment_time,
        &input.exclude,
        input.cluster,
    )?;
    let mean = |units: &[usize], p: usize| {
        let v: Vec<f64> = units.iter().filter_map(|&u| panel.outcome[u][p]).collect();
        (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
    };
    let group_means = panel
        .periods
        .iter()
        .enumerate()
        .map(|(p, &t)| GroupMean {
            period: t,
            treated: mean(&treated, p),
            control: mean(&controls, p),
        })
        .collect();
    Ok(DidReport {
        treatment_time: input.treatment_time,
        estimate: fe.effect.estimate,
        estimate_meaning: "treated × post coefficient of the two-way fixed-effects regression",
        std_error: fe.effect.std_error,
        interval: Some(Interval {
            level: 0.95,
            lower: fe.effect.ci95.0,
            upper: fe.effect.ci95.1,
        }),
        p_value: Some(fe.effect.p_value),
        standard_errors: fe.fit.covariance.clone(),
        two_by_two: table,
        group_means,
        n: fe.fit.n,
    })
}

/// Interrupted time series of `points` (period, value) with the design
/// checks: enough points before, two from the interruption on, variation.
pub fn its(points: &[(i64, f64)], input: &ItsInput) -> Result<ItsReport, EvidenceError> {
    let pre = points.iter().filter(|p| p.0 < input.interruption).count();
    let post = points.len() - pre;
    if pre < MIN_PRE_PERIODS {
        return Err(EvidenceError::TooFewPrePeriods {
            have: pre,
            need: MIN_PRE_PERIODS,
        });
    }
    if post < 2 {
        return Err(EvidenceError::TooFewPostPeriods {
            have: post,
            need: 2,
        });
    }
    if let Some(first) = points.first().map(|p| p.1)
        && points.iter().all(|p| p.1 == first)
    {
        return Err(EvidenceError::NoVariation {
            what: "series".into(),
            value: first,
        });
    }
    let r = interrupted_time_series(points, input.interruption, input.newey_west)?;
    Ok(ItsReport {
        interruption: r.interruption,
        estimate: r.level_change.estimate,
        estimate_meaning: "level change at the interruption",
        interval: Some(Interval {
            level: 0.95,
            lower: r.level_change.ci95.0,
            upper: r.level_change.ci95.1,
        }),
        p_value: Some(r.level_change.p_value),
        level_change: r.level_change,
        slope_change: r.slope_change,
        pre_slope: r.pre_slope,
        effect_at_end: r.effect_at_end,
        standard_errors: r.fit.covariance,
        r_squared: r.fit.r_squared,
        path: r.path,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A panel of `rows` (unit, values from 2010 on; None = missing).
    fn panel(rows: &[(&str, &[Option<f64>])]) -> Panel {
        let n = rows.iter().map(|r| r.1.len()).max().unwrap_or(0);
        Panel {
            units: rows.iter().map(|r| r.0.to_string()).collect(),
            periods: (0..n as i64).map(|i| 2010 + i).collect(),
            outcome_name: "y".into(),
            outcome: rows.iter().map(|r| r.1.to_vec()).collect(),
            columns: BTreeMap::new(),
        }
    }

    fn synth_input(t0: i64) -> SynthInput {
        SynthInput {
            treated: "city".into(),
            treatment_time: t0,
            ..Default::default()
        }
    }

    #[test]
    fn treated_outside_the_donors_range_is_refused() {
        let p = panel(&[
            ("city", &[Some(10.0), Some(11.0), Some(12.0), Some(13.0)]),
            ("a", &[Some(1.0), Some(2.0), Some(3.0), Some(4.0)]),
            ("b", &[Some(2.0), Some(2.5), Some(3.5), Some(4.0)]),
        ]);
        match synth(&p, &synth_input(2013)) {
            Err(e @ EvidenceError::OutsideDonorRange { .. }) => {
                assert_eq!(e.field(), "units");
                assert!(e.to_string().contains("city"), "{e}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn donors_with_missing_years_are_listed_or_dropped() {
        let p = panel(&[
            ("city", &[Some(3.0), Some(3.7), Some(4.6), Some(6.0)]),
            ("a", &[Some(1.0), None, Some(3.0), Some(4.0)]),
            ("b", &[Some(3.0), Some(4.0), Some(5.0), Some(6.0)]),
            ("c", &[Some(1.5), Some(2.5), Some(3.5), None]),
            ("d", &[Some(2.5), Some(3.5), Some(4.5), Some(5.5)]),
        ]);
        match synth(&p, &synth_input(2013)) {
            Err(EvidenceError::DonorsMissingYears(list)) => {
                assert_eq!(
                    list,
                    vec![
                        MissingYears {
                            unit: "a".into(),
                            years: vec![2011]
                        },
                        MissingYears {
                            unit: "c".into(),
                            years: vec![2013]
                        },
                    ]
                );
            }
            other => panic!("{other:?}"),
        }
        let r = synth(
            &p,
            &SynthInput {
                drop_incomplete_donors: true,
                ..synth_input(2013)
            },
        )
        .unwrap();
        assert_eq!(r.weights.len(), 2);
        assert_eq!(r.dropped_donors.len(), 2);
    }

    #[test]
    fn too_few_periods_and_no_variation() {
        let p = panel(&[
            ("city", &[Some(1.0), Some(1.0), Some(1.0), Some(1.0)]),
            ("a", &[Some(1.0), Some(1.0), Some(1.0), Some(1.0)]),
            ("b", &[Some(1.0), Some(1.0), Some(1.0), Some(1.0)]),
        ]);
        assert!(matches!(
            synth(&p, &synth_input(2012)),
            Err(EvidenceError::TooFewPrePeriods { have: 2, need: 3 })
        ));
        assert!(matches!(
            synth(&p, &synth_input(2013)),
            Err(EvidenceError::NoVariation { .. })
        ));
        let did_in = DidInput {
            treated: vec!["city".into()],
            treatment_time: 2013,
            ..Default::default()
        };
        assert!(matches!(
            did(&p, &did_in),
            Err(EvidenceError::NoVariation { .. })
        ));
        let pts = [(2010, 1.0), (2011, 2.0), (2012, 3.0), (2013, 5.0)];
        assert!(matches!(
            its(
                &pts,
                &ItsInput {
                    interruption: 2013,
                    newey_west: None
                }
            ),
            Err(EvidenceError::TooFewPostPeriods { have: 1, need: 2 })
        ));
    }
}
