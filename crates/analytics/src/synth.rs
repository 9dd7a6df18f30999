//! Synthetic control (Abadie & Gardeazabal 2003; Abadie, Diamond & Hainmueller
//! 2010): a weighted average of untreated donors that tracks the treated unit
//! before the treatment stands in for it afterwards.
//!
//! - Inner problem: donor weights W on the simplex (w ≥ 0, Σw = 1) minimising
//!   (X₁ − X₀W)' V (X₁ − X₀W), solved exactly by an active-set method
//!   (`simplex_ls`) warm-started from the previous V's weights, so the V
//!   search's thousands of solves take microseconds each. If it cannot
//!   certify its answer, a QP with clarabel (`simplex_weights`) solves it,
//!   written with the residual r = X₁ − X₀W as extra variables so the QP stays
//!   sparse (k + J variables) even with thousands of donors.
//! - Outer problem (with predictors): V diagonal, chosen to minimise the outcome
//!   MSPE over the fit period, by Nelder–Mead over softmax-parameterised V, from
//!   equal weights and from the regression-based V of the R `Synth` package;
//!   the best of both wins. Predictors are scaled by their standard deviation
//!   across units first, as `Synth` and `pysyncon` do.
//! - Without predictors, every pre-period outcome is a predictor and V = I
//!   (the "outcome-only" fit of Arkhangelsky et al. 2021, Table 1).

use std::collections::BTreeMap;

use clarabel::algebra::CscMatrix;
use clarabel::solver::{
    DefaultSettings, DefaultSolver, IPSolver, NonnegativeConeT, SolverStatus, ZeroConeT,
};
use nalgebra::DMatrix;
use serde::Serialize;

use crate::ols::EstimationError;
use crate::optim::nelder_mead;
use crate::panel::Panel;
use crate::simplex_ls;

/// A predictor: the mean of `column` over `from..=to` every `step`-th period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PredictorSpec {
    pub column: String,
    pub from: i64,
    pub to: i64,
    pub step: i64,
}

impl PredictorSpec {
    /// Parses `COL:FROM-TO` or `COL:FROM-TO:STEP` (`sec.agriculture:1961-1969:2`)
    /// or `COL:T` for a single period. The column name may itself contain `:`
    /// only if the period part is given.
    pub fn parse(s: &str) -> Result<PredictorSpec, EstimationError> {
        let bad = || {
            EstimationError::Invalid(format!(
                "predictor \"{s}\" is not COL:FROM-TO[:STEP] / 予測変数「{s}」は 列:開始-終了[:間隔] の形ではありません"
            ))
        };
        let parts: Vec<&str> = s.rsplitn(3, ':').collect();
        let (column, range, step) = match parts.as_slice() {
            [step, range, col] if step.trim().parse::<i64>().is_ok() && range.contains('-') => {
                (*col, *range, step.trim().parse::<i64>().map_err(|_| bad())?)
            }
            [range, rest @ ..] if !rest.is_empty() => {
                let col = s[..s.len() - range.len() - 1].to_string();
                return PredictorSpec::from_parts(&col, range, 1).ok_or_else(bad);
            }
            _ => return Err(bad()),
        };
        PredictorSpec::from_parts(column, range, step).ok_or_else(bad)
    }

    fn from_parts(column: &str, range: &str, step: i64) -> Option<PredictorSpec> {
        let (from, to) = match range.split_once('-') {
            Some((a, b)) => (a.trim().parse().ok()?, b.trim().parse().ok()?),
            None => {
                let t: i64 = range.trim().parse().ok()?;
                (t, t)
            }
        };
        (step >= 1 && from <= to && !column.trim().is_empty()).then(|| PredictorSpec {
            column: column.trim().to_string(),
            from,
            to,
            step,
        })
    }

    pub fn label(&self) -> String {
        match (self.from == self.to, self.step) {
            (true, _) => format!("{}:{}", self.column, self.from),
            (false, 1) => format!("{}:{}-{}", self.column, self.from, self.to),
            (false, s) => format!("{}:{}-{}:{}", self.column, self.from, self.to, s),
        }
    }

    fn periods(&self) -> impl Iterator<Item = i64> + '_ {
        (self.from..=self.to).step_by(self.step as usize)
    }
}

/// Effort spent on the outer optimisation over V.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct VSearch {
    /// Evaluations of the outer loss (one QP each) per starting point.
    pub max_evals_per_start: usize,
}

impl Default for VSearch {
    fn default() -> Self {
        Self {
            max_evals_per_start: 3000,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct SynthSpec {
    pub treated: String,
    /// First treated period.
    pub treatment_time: i64,
    pub exclude: Vec<String>,
    /// Empty = outcome-only fit (every pre-period outcome, V = I).
    pub predictors: Vec<PredictorSpec>,
    /// Periods whose outcome MSPE chooses V; default all pre periods.
    pub fit_period: Option<(i64, i64)>,
    /// Run in-space placebos (each donor as treated).
    pub placebos: bool,
    pub v_search: VSearch,
    /// How the outcome-only fit solves for the weights (ignored with predictors).
    pub solver: WeightSolver,
}

/// The solver of the outcome-only fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WeightSolver {
    /// The exact minimiser of the pre-period squared error on the simplex
    /// (interior-point QP). Prop 99: −19.514 (scipy NNLS agrees).
    #[default]
    ExactQp,
    /// A port of the synthdid reference implementation's `sc_estimate`
    /// (Arkhangelsky et al. 2021): Frank–Wolfe with a 1e-6·σ ridge, stopped when
    /// the loss falls by less than (1e-5·σ)², 100 iterations, sparsified
    /// (weights ≤ max/4 set to 0), then up to 10,000 more. Its early stop is why
    /// the published outcome-only estimate is −19.62 rather than the exact −19.51;
    /// use it to reproduce published synthdid/SC numbers.
    SynthdidFrankWolfe,
}

impl WeightSolver {
    pub fn parse(s: &str) -> Option<WeightSolver> {
        match s.trim().to_ascii_lowercase().as_str() {
            "exact" | "qp" | "exact_qp" => Some(WeightSolver::ExactQp),
            "synthdid" | "frank-wolfe" | "fw" | "synthdid_frank_wolfe" => {
                Some(WeightSolver::SynthdidFrankWolfe)
            }
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DonorWeight {
    pub unit: String,
    pub weight: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PredictorBalance {
    pub predictor: String,
    /// Weight in V (sums to 1).
    pub v: f64,
    pub treated: f64,
    pub synthetic: f64,
    pub donor_mean: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PathPoint {
    pub period: i64,
    pub treated: f64,
    pub synthetic: f64,
    pub gap: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlaceboRun {
    pub unit: String,
    pub pre_rmspe: f64,
    pub post_rmspe: f64,
    pub ratio: f64,
    pub average_effect: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlaceboSummary {
    /// One run per donor, the donor playing treated with the other donors as pool.
    pub runs: Vec<PlaceboRun>,
    /// Rank of the treated unit's post/pre RMSPE ratio among all (1 = largest).
    pub rank: usize,
    /// Permutation p-value: share of units (treated included) whose ratio is
    /// at least the treated unit's.
    pub p_value: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SynthResult {
    pub treated: String,
    pub treatment_time: i64,
    /// Every donor, heaviest first.
    pub weights: Vec<DonorWeight>,
    pub balance: Vec<PredictorBalance>,
    pub path: Vec<PathPoint>,
    /// Mean gap over the post periods: the estimated effect.
    pub average_effect: f64,
    pub pre_rmspe: f64,
    pub post_rmspe: f64,
    pub rmspe_ratio: f64,
    /// Outcome MSPE over the fit period (the outer loss).
    pub fit_mspe: f64,
    /// "identity (outcome-only)" or how V was found.
    pub v_method: String,
    /// Donors dropped because of missing data, with the reason.
    pub dropped_donors: Vec<String>,
    pub placebos: Option<PlaceboSummary>,
}

impl SynthResult {
    pub fn weight_of(&self, unit: &str) -> f64 {
        self.weights
            .iter()
            .find(|w| w.unit == unit)
            .map(|w| w.weight)
            .unwrap_or(0.0)
    }
}

/// The data of one fit: predictors X (k × units), fit-period outcomes Z and
/// the full outcome paths Y, column 0 = treated, 1.. = donors.
struct FitData {
    x: DMatrix<f64>,
    z: DMatrix<f64>,
    y: DMatrix<f64>,
    labels: Vec<String>,
}

fn value(panel: &Panel, column: &str, u: usize, t: i64) -> Result<Option<f64>, EstimationError> {
    let var = panel
        .variable(column)
        .ok_or_else(|| EstimationError::UnknownColumn(column.to_string()))?;
    let p = panel
        .period_index(t)
        .ok_or(EstimationError::UnknownPeriod(t))?;
    Ok(var[u][p])
}

/// The predictor values of unit `u`, or the first one that cannot be computed.
fn predictor_values(
    panel: &Panel,
    spec: &SynthSpec,
    pre: &[i64],
    u: usize,
) -> Result<Vec<f64>, EstimationError> {
    if spec.predictors.is_empty() {
        return pre
            .iter()
            .map(|&t| {
                value(panel, &panel.outcome_name, u, t)?.ok_or_else(|| {
                    EstimationError::MissingValue {
                        unit: panel.units[u].clone(),
                        column: panel.outcome_name.clone(),
                        time: t,
                    }
                })
            })
            .collect();
    }
    spec.predictors
        .iter()
        .map(|p| {
            let mut sum = 0.0;
            let mut n = 0usize;
            for t in p.periods() {
                // A period absent from the panel is a typo in the spec, not missing data.
                if let Some(v) = value(panel, &p.column, u, t)? {
                    sum += v;
                    n += 1;
                }
            }
            if n == 0 {
                Err(EstimationError::MissingValue {
                    unit: panel.units[u].clone(),
                    column: p.column.clone(),
                    time: p.from,
                })
            } else {
                Ok(sum / n as f64)
            }
        })
        .collect()
}

fn outcome_row(panel: &Panel, u: usize, periods: &[i64]) -> Result<Vec<f64>, EstimationError> {
    periods
        .iter()
        .map(|&t| {
            value(panel, &panel.outcome_name, u, t)?.ok_or_else(|| EstimationError::MissingValue {
                unit: panel.units[u].clone(),
                column: panel.outcome_name.clone(),
                time: t,
            })
        })
        .collect()
}

/// A generated panel for benchmarks and tests, the same for the same
/// arguments: `donors` + 1 units (`U0000` is the treated one) over `periods`
/// years from 2000, outcome `y` from two common factors with unit loadings
/// plus noise, and `covariates` columns `x1`, `x2`, … that shift the outcome.
/// A linear congruential generator keeps it reproducible without
/// dependencies. The treated unit's first loading lies just above every
/// donor's, so it sits outside the donors' hull and its weights are unique.
pub fn generated_panel(donors: usize, periods: usize, covariates: usize) -> Panel {
    let mut state: u64 = 0x2545F4914F6CDD1D;
    let mut uniform = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let f1: Vec<f64> = (0..periods).map(|t| 100.0 + 1.5 * t as f64).collect();
    let f2: Vec<f64> = (0..periods)
        .map(|t| 10.0 * (t as f64 / 6.0).sin())
        .collect();
    let units: Vec<String> = (0..=donors).map(|u| format!("U{u:04}")).collect();
    let mut columns: BTreeMap<String, Vec<Vec<Option<f64>>>> = BTreeMap::new();
    let mut outcome = Vec::with_capacity(donors + 1);
    for u in 0..=donors {
        let (mut a, b) = (0.5 + uniform(), uniform() * 2.0 - 1.0);
        if u == 0 && covariates > 0 {
            a = 1.55;
        }
        let c: Vec<f64> = (0..covariates).map(|_| uniform()).collect();
        let shift: f64 = c.iter().enumerate().map(|(m, c)| (m + 1) as f64 * c).sum();
        outcome.push(
            (0..periods)
                .map(|t| Some(a * f1[t] + b * f2[t] + 5.0 * shift + (uniform() - 0.5) * 4.0))
                .collect(),
        );
        for (m, cm) in c.iter().enumerate() {
            let col = columns.entry(format!("x{}", m + 1)).or_default();
            col.push(
                (0..periods)
                    .map(|_| Some(cm + (uniform() - 0.5) * 0.1))
                    .collect(),
            );
        }
    }
    Panel {
        units,
        periods: (2000..2000 + periods as i64).collect(),
        outcome_name: "y".into(),
        outcome,
        columns,
    }
}

/// Fits the synthetic control for `spec.treated`, and the placebos if asked.
pub fn synthetic_control(panel: &Panel, spec: &SynthSpec) -> Result<SynthResult, EstimationError> {
    let treated = panel
        .unit_index(&spec.treated)
        .ok_or_else(|| EstimationError::UnknownUnit(spec.treated.clone()))?;
    let mut excluded = Vec::new();
    for e in &spec.exclude {
        excluded.push(
            panel
                .unit_index(e)
                .ok_or_else(|| EstimationError::UnknownUnit(e.clone()))?,
        );
    }
    let pre: Vec<i64> = panel
        .periods
        .iter()
        .copied()
        .filter(|&t| t < spec.treatment_time)
        .collect();
    let post_count = panel
        .periods
        .iter()
        .filter(|&&t| t >= spec.treatment_time)
        .count();
    if pre.len() < 2 || post_count == 0 {
        return Err(EstimationError::NotEnoughData(format!(
            "{} pre-treatment and {post_count} post-treatment periods; need ≥2 and ≥1",
            pre.len()
        )));
    }
    let fit_periods: Vec<i64> = match spec.fit_period {
        Some((a, b)) => {
            for t in [a, b] {
                panel
                    .period_index(t)
                    .ok_or(EstimationError::UnknownPeriod(t))?;
            }
            panel
                .periods
                .iter()
                .copied()
                .filter(|&t| t >= a && t <= b)
                .collect()
        }
        None => pre.clone(),
    };
    // The treated unit must be complete; a donor with a gap is dropped and reported.
    let treated_x = predictor_values(panel, spec, &pre, treated)?;
    let treated_y = outcome_row(panel, treated, &panel.periods)?;
    let mut donors = Vec::new();
    let mut donor_x = Vec::new();
    let mut donor_y = Vec::new();
    let mut dropped = Vec::new();
    for u in 0..panel.units.len() {
        if u == treated || excluded.contains(&u) {
            continue;
        }
        match (
            predictor_values(panel, spec, &pre, u),
            outcome_row(panel, u, &panel.periods),
        ) {
            (Ok(x), Ok(y)) => {
                donors.push(u);
                donor_x.push(x);
                donor_y.push(y);
            }
            (Err(e), _) | (_, Err(e)) => match e {
                EstimationError::MissingValue { .. } => dropped.push(e.to_string()),
                other => return Err(other),
            },
        }
    }
    if donors.len() < 2 {
        return Err(EstimationError::NotEnoughData(format!(
            "{} usable donors; need 2 or more",
            donors.len()
        )));
    }
    let labels: Vec<String> = if spec.predictors.is_empty() {
        pre.iter()
            .map(|t| format!("{}:{t}", panel.outcome_name))
            .collect()
    } else {
        spec.predictors.iter().map(PredictorSpec::label).collect()
    };
    let k = labels.len();
    let units = donors.len() + 1;
    let x = DMatrix::from_fn(k, units, |i, j| {
        if j == 0 {
            treated_x[i]
        } else {
            donor_x[j - 1][i]
        }
    });
    let y = DMatrix::from_fn(panel.periods.len(), units, |t, j| {
        if j == 0 {
            treated_y[t]
        } else {
            donor_y[j - 1][t]
        }
    });
    let fit_rows: Vec<usize> = fit_periods
        .iter()
        .filter_map(|&t| panel.period_index(t))
        .collect();
    let z = DMatrix::from_fn(fit_rows.len(), units, |r, j| y[(fit_rows[r], j)]);
    let data = FitData { x, z, y, labels };

    let outcome_only = spec.predictors.is_empty();
    let fit = fit_one(&data, outcome_only, spec.v_search, spec.solver)?;
    let pre_rows = pre.len();
    let stats = path_stats(&data.y, &fit.w, pre_rows);

    let names: Vec<String> = donors.iter().map(|&u| panel.units[u].clone()).collect();
    let mut weights: Vec<DonorWeight> = names
        .iter()
        .zip(&fit.w)
        .map(|(n, &w)| DonorWeight {
            unit: n.clone(),
            weight: w,
        })
        .collect();
    weights.sort_by(|a, b| b.weight.total_cmp(&a.weight));

    let balance = (0..k)
        .map(|i| PredictorBalance {
            predictor: data.labels[i].clone(),
            v: fit.v[i],
            treated: data.x[(i, 0)],
            synthetic: (0..donors.len())
                .map(|j| fit.w[j] * data.x[(i, j + 1)])
                .sum(),
            donor_mean: (1..units).map(|j| data.x[(i, j)]).sum::<f64>() / donors.len() as f64,
        })
        .collect();
    let path = panel
        .periods
        .iter()
        .enumerate()
        .map(|(t, &period)| {
            let synthetic: f64 = (0..donors.len())
                .map(|j| fit.w[j] * data.y[(t, j + 1)])
                .sum();
            PathPoint {
                period,
                treated: data.y[(t, 0)],
                synthetic,
                gap: data.y[(t, 0)] - synthetic,
            }
        })
        .collect();

    let placebos = if spec.placebos {
        let mut runs = Vec::with_capacity(donors.len());
        for (j, name) in names.iter().enumerate() {
            // Donor j plays treated; the pool is the other donors (the real
            // treated unit is left out, as in Abadie et al. 2010).
            let cols: Vec<usize> = std::iter::once(j + 1)
                .chain((1..units).filter(|&c| c != j + 1))
                .collect();
            let pick =
                |m: &DMatrix<f64>| DMatrix::from_fn(m.nrows(), cols.len(), |r, c| m[(r, cols[c])]);
            let pd = FitData {
                x: pick(&data.x),
                z: pick(&data.z),
                y: pick(&data.y),
                labels: data.labels.clone(),
            };
            let pf = fit_one(&pd, outcome_only, spec.v_search, spec.solver)?;
            let s = path_stats(&pd.y, &pf.w, pre_rows);
            runs.push(PlaceboRun {
                unit: name.clone(),
                pre_rmspe: s.pre_rmspe,
                post_rmspe: s.post_rmspe,
                ratio: s.ratio,
                average_effect: s.average_effect,
            });
        }
        let at_least = runs.iter().filter(|r| r.ratio >= stats.ratio).count();
        let rank = 1 + runs.iter().filter(|r| r.ratio > stats.ratio).count();
        Some(PlaceboSummary {
            p_value: (at_least + 1) as f64 / (runs.len() + 1) as f64,
            rank,
            runs,
        })
    } else {
        None
    };

    Ok(SynthResult {
        treated: panel.units[treated].clone(),
        treatment_time: spec.treatment_time,
        weights,
        balance,
        path,
        average_effect: stats.average_effect,
        pre_rmspe: stats.pre_rmspe,
        post_rmspe: stats.post_rmspe,
        rmspe_ratio: stats.ratio,
        fit_mspe: fit.loss,
        v_method: fit.v_method,
        dropped_donors: dropped,
        placebos,
    })
}

struct PathStats {
    pre_rmspe: f64,
    post_rmspe: f64,
    ratio: f64,
    average_effect: f64,
}

fn path_stats(y: &DMatrix<f64>, w: &[f64], pre_rows: usize) -> PathStats {
    let gaps: Vec<f64> = (0..y.nrows())
        .map(|t| {
            y[(t, 0)]
                - w.iter()
                    .enumerate()
                    .map(|(j, wj)| wj * y[(t, j + 1)])
                    .sum::<f64>()
        })
        .collect();
    let rms = |g: &[f64]| (g.iter().map(|v| v * v).sum::<f64>() / g.len() as f64).sqrt();
    let (pre, post) = gaps.split_at(pre_rows);
    let pre_rmspe = rms(pre);
    let post_rmspe = rms(post);
    PathStats {
        pre_rmspe,
        post_rmspe,
        ratio: if pre_rmspe > 0.0 {
            post_rmspe / pre_rmspe
        } else {
            f64::INFINITY
        },
        average_effect: post.iter().sum::<f64>() / post.len() as f64,
    }
}

struct Fit {
    w: Vec<f64>,
    v: Vec<f64>,
    loss: f64,
    v_method: String,
}

fn mspe(z: &DMatrix<f64>, w: &[f64]) -> f64 {
    let t = z.nrows();
    // Most donors weigh 0: sum over the others only, column by column.
    let mut fitted = vec![0.0; t];
    for (j, &wj) in w.iter().enumerate() {
        if wj != 0.0 {
            for (f, zr) in fitted.iter_mut().zip(z.column(j + 1).iter()) {
                *f += wj * zr;
            }
        }
    }
    fitted
        .iter()
        .zip(z.column(0).iter())
        .map(|(f, z0)| (z0 - f).powi(2))
        .sum::<f64>()
        / t as f64
}

/// The donor weights for predictor weights `v`: the active-set solver
/// warm-started from `w` (any feasible weights, or empty), falling back to the
/// interior-point QP when it cannot certify its answer.
fn inner_weights(
    xs: &DMatrix<f64>,
    v: &[f64],
    w: &mut Vec<f64>,
    ws: &mut simplex_ls::Workspace,
) -> Result<(), EstimationError> {
    w.resize(xs.ncols() - 1, 0.0);
    if simplex_ls::solve(xs.as_slice(), xs.nrows(), v, w, ws).is_none() {
        *w = simplex_weights(xs, v)?;
    }
    Ok(())
}

fn softmax(theta: &[f64]) -> Vec<f64> {
    let m = theta.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = theta.iter().map(|t| (t - m).exp()).collect();
    let s: f64 = e.iter().sum();
    e.iter().map(|v| v / s).collect()
}

fn fit_one(
    data: &FitData,
    outcome_only: bool,
    search: VSearch,
    solver: WeightSolver,
) -> Result<Fit, EstimationError> {
    let k = data.x.nrows();
    let units = data.x.ncols();
    if outcome_only {
        let (w, method) = match solver {
            WeightSolver::ExactQp => {
                let mut w = Vec::new();
                inner_weights(
                    &data.x,
                    &vec![1.0; k],
                    &mut w,
                    &mut simplex_ls::Workspace::default(),
                )?;
                (w, "identity (outcome-only), exact QP")
            }
            WeightSolver::SynthdidFrankWolfe => (
                synthdid_weights(&data.x)?,
                "identity (outcome-only), synthdid Frank-Wolfe",
            ),
        };
        let loss = mspe(&data.z, &w);
        return Ok(Fit {
            w,
            v: vec![1.0 / k as f64; k],
            loss,
            v_method: method.into(),
        });
    }
    // Scale each predictor by its standard deviation across all units (n − 1).
    let mut xs = data.x.clone();
    for i in 0..k {
        let row: Vec<f64> = (0..units).map(|j| data.x[(i, j)]).collect();
        let mean = row.iter().sum::<f64>() / units as f64;
        let sd =
            (row.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (units as f64 - 1.0)).sqrt();
        if sd > 0.0 {
            for j in 0..units {
                xs[(i, j)] /= sd;
            }
        }
    }
    if k == 1 {
        let mut w = Vec::new();
        inner_weights(&xs, &[1.0], &mut w, &mut simplex_ls::Workspace::default())?;
        let loss = mspe(&data.z, &w);
        return Ok(Fit {
            w,
            v: vec![1.0],
            loss,
            v_method: "single predictor".into(),
        });
    }

    let mut starts: Vec<(&str, Vec<f64>)> = vec![("equal", vec![0.0; k])];
    if let Some(v) = regression_v(&xs, &data.z) {
        starts.push((
            "regression-based",
            v.iter().map(|x| x.max(1e-8).ln()).collect(),
        ));
    }
    let mut best: Option<Fit> = None;
    let mut failure: Option<EstimationError> = None;
    // The weights of the previous V start the next solve (nearby V, nearby W).
    let mut w = Vec::new();
    let mut ws = simplex_ls::Workspace::default();
    for (name, theta0) in starts {
        let mut objective =
            |theta: &[f64]| match inner_weights(&xs, &softmax(theta), &mut w, &mut ws) {
                Ok(()) => mspe(&data.z, &w),
                Err(e) => {
                    failure.get_or_insert(e);
                    f64::INFINITY
                }
            };
        // A restart from the best point escapes a collapsed simplex, a known
        // weakness of Nelder–Mead on flat objectives like this one.
        let half = search.max_evals_per_start / 2;
        let first = nelder_mead(&mut objective, &theta0, 1.0, half, 1e-10, 1e-6);
        let m = nelder_mead(
            &mut objective,
            &first.x,
            0.5,
            search.max_evals_per_start - first.evaluations.min(half),
            1e-12,
            1e-7,
        );
        let m = if first.value < m.value { first } else { m };
        if best.as_ref().is_none_or(|b| m.value < b.loss) {
            let v = softmax(&m.x);
            let mut w = Vec::new();
            inner_weights(&xs, &v, &mut w, &mut simplex_ls::Workspace::default())?;
            let loss = mspe(&data.z, &w);
            best = Some(Fit {
                w,
                v,
                loss,
                v_method: format!("Nelder-Mead over V from the {name} start"),
            });
        }
    }
    match best {
        Some(b) if b.loss.is_finite() => Ok(b),
        _ => {
            Err(failure
                .unwrap_or_else(|| EstimationError::Solver("no finite loss for any V".into())))
        }
    }
}

/// The regression-based starting V of the R `Synth` package: regress the
/// fit-period outcomes on the scaled predictors across units and take the
/// squared coefficients, normalised.
fn regression_v(xs: &DMatrix<f64>, z: &DMatrix<f64>) -> Option<Vec<f64>> {
    let (k, units) = xs.shape();
    let xall = DMatrix::from_fn(
        units,
        k + 1,
        |u, c| if c == 0 { 1.0 } else { xs[(c - 1, u)] },
    );
    let xtx = xall.transpose() * &xall;
    let inv = xtx.try_inverse()?;
    let beta = inv * xall.transpose() * z.transpose(); // (k+1) × T
    let diag: Vec<f64> = (1..=k)
        .map(|i| beta.row(i).iter().map(|b| b * b).sum())
        .collect();
    let s: f64 = diag.iter().sum();
    (s.is_finite() && s > 0.0).then(|| diag.iter().map(|d| d / s).collect())
}

/// synthdid's `sc.weight.fw` on `x` (k pre-periods × units, column 0 treated),
/// with its defaults for `sc_estimate`, including the sparsifying second pass.
pub fn synthdid_weights(x: &DMatrix<f64>) -> Result<Vec<f64>, EstimationError> {
    let (t0, units) = x.shape();
    let j_count = units - 1;
    if t0 < 2 || j_count < 1 {
        return Err(EstimationError::NotEnoughData(
            "synthdid weights need 2 pre periods and a donor".into(),
        ));
    }
    // noise.level = sd of the donors' first differences over the pre period.
    let diffs: Vec<f64> = (1..units)
        .flat_map(|j| (1..t0).map(move |t| x[(t, j)] - x[(t - 1, j)]))
        .collect();
    let mean = diffs.iter().sum::<f64>() / diffs.len() as f64;
    let noise = (diffs.iter().map(|d| (d - mean).powi(2)).sum::<f64>()
        / (diffs.len() as f64 - 1.0).max(1.0))
    .sqrt();
    let zeta = 1e-6 * noise;
    let min_decrease = 1e-5 * noise;
    let a = x.columns(1, j_count).into_owned();
    let b: Vec<f64> = (0..t0).map(|t| x[(t, 0)]).collect();
    let eta = t0 as f64 * zeta * zeta;
    // Columns of A as contiguous slices; A·w kept up to date incrementally
    // (A·w' = (1 − step)·A·w + step·A_i), as in synthdid's fw.step.
    let cols: Vec<Vec<f64>> = (0..j_count)
        .map(|j| (0..t0).map(|t| a[(t, j)]).collect())
        .collect();
    let run = |mut w: Vec<f64>, max_iter: usize| -> Vec<f64> {
        let mut vals: Vec<f64> = Vec::new();
        let mut ax: Vec<f64> = (0..t0)
            .map(|t| (0..j_count).map(|j| cols[j][t] * w[j]).sum())
            .collect();
        let mut resid = vec![0.0; t0];
        while vals.len() < max_iter
            && (vals.len() < 2
                || vals[vals.len() - 2] - vals[vals.len() - 1] > min_decrease * min_decrease)
        {
            // One Frank–Wolfe step with exact line search.
            for t in 0..t0 {
                resid[t] = ax[t] - b[t];
            }
            let mut i = 0;
            let mut best = f64::INFINITY;
            for (j, col) in cols.iter().enumerate() {
                let g = col.iter().zip(&resid).map(|(x, r)| x * r).sum::<f64>() + eta * w[j];
                if g < best {
                    best = g;
                    i = j;
                }
            }
            let w_norm2: f64 = w.iter().map(|v| v * v).sum();
            // dx = e_i − w: w·dx = w_i − |w|², |dx|² = |w|² − 2w_i + 1.
            let w_dx = w[i] - w_norm2;
            let dx_norm2 = w_norm2 - 2.0 * w[i] + 1.0;
            if dx_norm2 > 0.0 {
                let mut num = eta * w_dx;
                let mut den = eta * dx_norm2;
                for t in 0..t0 {
                    let d = cols[i][t] - ax[t];
                    num += d * resid[t];
                    den += d * d;
                }
                let step = if den > 0.0 {
                    (-num / den).clamp(0.0, 1.0)
                } else {
                    0.0
                };
                for wj in w.iter_mut() {
                    *wj *= 1.0 - step;
                }
                w[i] += step;
                for t in 0..t0 {
                    ax[t] += step * (cols[i][t] - ax[t]);
                }
            }
            let err2: f64 = ax.iter().zip(&b).map(|(y, bb)| (y - bb).powi(2)).sum();
            vals.push(zeta * zeta * w.iter().map(|v| v * v).sum::<f64>() + err2 / t0 as f64);
        }
        w
    };
    let first = run(vec![1.0 / j_count as f64; j_count], 100);
    let max = first.iter().copied().fold(0.0, f64::max);
    let mut sparse: Vec<f64> = first
        .iter()
        .map(|&v| if v <= max / 4.0 { 0.0 } else { v })
        .collect();
    let s: f64 = sparse.iter().sum();
    if s <= 0.0 {
        return Err(EstimationError::Solver("synthdid weights vanished".into()));
    }
    sparse.iter_mut().for_each(|v| *v /= s);
    Ok(run(sparse, 10_000))
}

/// Donor weights on the simplex minimising (X₁ − X₀w)' diag(v) (X₁ − X₀w).
/// Column 0 of `x` is the treated unit. Variables [w (J), r (k)].
pub fn simplex_weights(x: &DMatrix<f64>, v: &[f64]) -> Result<Vec<f64>, EstimationError> {
    let (k, units) = x.shape();
    let j_count = units - 1;
    let n = j_count + k;
    // P: ½ r' diag(v) r, upper-triangular CSC (diagonal only).
    let mut p_colptr = vec![0usize; n + 1];
    let mut p_rows = Vec::with_capacity(k);
    let mut p_vals = Vec::with_capacity(k);
    for c in 0..n {
        if c >= j_count {
            let i = c - j_count;
            p_rows.push(c);
            p_vals.push(v[i].max(0.0));
        }
        p_colptr[c + 1] = p_rows.len();
    }
    let p = CscMatrix::new(n, n, p_colptr, p_rows, p_vals);
    let q = vec![0.0; n];
    // A: rows 0..k: X₀w + r = X₁; row k: Σw = 1; rows k+1..: −w ≤ 0.
    let m = k + 1 + j_count;
    let mut colptr = vec![0usize];
    let mut rows = Vec::with_capacity(j_count * (k + 2) + k);
    let mut vals = Vec::with_capacity(j_count * (k + 2) + k);
    for j in 0..j_count {
        for i in 0..k {
            let a = x[(i, j + 1)];
            if a != 0.0 {
                rows.push(i);
                vals.push(a);
            }
        }
        rows.push(k);
        vals.push(1.0);
        rows.push(k + 1 + j);
        vals.push(-1.0);
        colptr.push(rows.len());
    }
    for i in 0..k {
        rows.push(i);
        vals.push(1.0);
        colptr.push(rows.len());
    }
    let a = CscMatrix::new(m, n, colptr, rows, vals);
    let mut b: Vec<f64> = (0..k).map(|i| x[(i, 0)]).collect();
    b.push(1.0);
    b.extend(std::iter::repeat_n(0.0, j_count));
    let cones = [ZeroConeT(k + 1), NonnegativeConeT(j_count)];
    let settings = DefaultSettings::<f64> {
        verbose: false,
        tol_gap_abs: 1e-10,
        tol_gap_rel: 1e-10,
        tol_feas: 1e-10,
        max_iter: 200,
        ..DefaultSettings::default()
    };
    let mut solver = DefaultSolver::new(&p, &q, &a, &b, &cones, settings)
        .map_err(|e| EstimationError::Solver(format!("{e:?}")))?;
    solver.solve();
    match solver.solution.status {
        SolverStatus::Solved | SolverStatus::AlmostSolved => {}
        s => return Err(EstimationError::Solver(format!("donor-weight QP: {s:?}"))),
    }
    let mut w: Vec<f64> = solver.solution.x[..j_count]
        .iter()
        .map(|v| v.max(0.0))
        .collect();
    let s: f64 = w.iter().sum();
    if s.is_nan() || s <= 0.0 {
        return Err(EstimationError::Solver("donor weights sum to zero".into()));
    }
    for wj in &mut w {
        *wj /= s;
    }
    Ok(w)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::panel::PanelSpec;
    use crate::testdata::shared_data;

    pub(crate) fn prop99() -> Panel {
        let spec = PanelSpec {
            unit: "State".into(),
            time: "Year".into(),
            outcome: "PacksPerCapita".into(),
            columns: None,
        };
        Panel::from_csv_str(&shared_data("prop99/california_prop99.csv"), &spec).unwrap()
    }

    pub(crate) fn basque() -> Panel {
        let spec = PanelSpec {
            unit: "regionno".into(),
            time: "year".into(),
            outcome: "gdpcap".into(),
            columns: None,
        };
        Panel::from_csv_str(&shared_data("basque/basque.csv"), &spec).unwrap()
    }

    pub(crate) fn basque_spec() -> SynthSpec {
        let mut predictors: Vec<PredictorSpec> = [
            "school.illit",
            "school.prim",
            "school.med",
            "school.high",
            "school.post.high",
            "invest",
        ]
        .iter()
        .map(|c| PredictorSpec {
            column: c.to_string(),
            from: 1964,
            to: 1969,
            step: 1,
        })
        .collect();
        predictors.push(PredictorSpec {
            column: "gdpcap".into(),
            from: 1960,
            to: 1969,
            step: 1,
        });
        for c in [
            "sec.agriculture",
            "sec.energy",
            "sec.industry",
            "sec.construction",
            "sec.services.venta",
            "sec.services.nonventa",
        ] {
            predictors.push(PredictorSpec {
                column: c.into(),
                from: 1961,
                to: 1969,
                step: 2,
            });
        }
        predictors.push(PredictorSpec {
            column: "popdens".into(),
            from: 1969,
            to: 1969,
            step: 1,
        });
        SynthSpec {
            treated: "17".into(),
            treatment_time: 1970,
            exclude: vec!["1".into()],
            predictors,
            fit_period: Some((1960, 1969)),
            placebos: false,
            v_search: VSearch::default(),
            solver: WeightSolver::ExactQp,
        }
    }

    #[test]
    fn predictor_specs_parse() {
        let p = PredictorSpec::parse("sec.energy:1961-1969:2").unwrap();
        assert_eq!(
            (p.column.as_str(), p.from, p.to, p.step),
            ("sec.energy", 1961, 1969, 2)
        );
        assert_eq!(
            p.periods().collect::<Vec<_>>(),
            vec![1961, 1963, 1965, 1967, 1969]
        );
        let p = PredictorSpec::parse("popdens:1969").unwrap();
        assert_eq!((p.from, p.to, p.step), (1969, 1969, 1));
        let p = PredictorSpec::parse("gdpcap:1960-1969").unwrap();
        assert_eq!(p.label(), "gdpcap:1960-1969");
        for bad in [
            "gdpcap",
            "gdpcap:1969-1960",
            "gdpcap:x-y",
            ":1960-1969",
            "g:1960-1969:0",
        ] {
            assert!(PredictorSpec::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn prop99_outcome_only_effect_is_minus_19_62() {
        let p = prop99();
        let spec = SynthSpec {
            treated: "California".into(),
            treatment_time: 1989,
            solver: WeightSolver::SynthdidFrankWolfe,
            ..Default::default()
        };
        let r = synthetic_control(&p, &spec).unwrap();
        // Arkhangelsky et al. (2021) Table 1: −19.6; synthdid's reference code −19.61966. Tolerance 0.02.
        assert!(
            (r.average_effect - -19.62).abs() < 0.02,
            "{}",
            r.average_effect
        );
        assert!(
            (r.average_effect - -19.61966).abs() < 1e-3,
            "{}",
            r.average_effect
        );
        // synthdid's weights (its R code, ported to numpy here as a check): Utah .3961, Montana .2323.
        assert!(
            (r.weight_of("Utah") - 0.3961).abs() < 0.005,
            "{}",
            r.weight_of("Utah")
        );
        assert!((r.weight_of("Montana") - 0.2323).abs() < 0.005);
        let sum: f64 = r.weights.iter().map(|w| w.weight).sum();
        assert!((sum - 1.0).abs() < 1e-9);
        assert!(r.weights.iter().all(|w| w.weight >= 0.0));
        assert_eq!(r.weights.len(), 38);
        assert_eq!(r.path.len(), 31);
        assert!(r.pre_rmspe > 0.0 && r.pre_rmspe < 3.0, "{}", r.pre_rmspe);
    }

    #[test]
    fn prop99_in_space_placebos() {
        let p = prop99();
        let spec = SynthSpec {
            treated: "California".into(),
            treatment_time: 1989,
            placebos: true,
            ..Default::default()
        };
        let r = synthetic_control(&p, &spec).unwrap();
        let pl = r.placebos.as_ref().unwrap();
        assert_eq!(pl.runs.len(), 38);
        // The permutation p-value recomputed from the runs: (#placebos with ratio ≥ California's + 1) / 39.
        let at_least = pl.runs.iter().filter(|x| x.ratio >= r.rmspe_ratio).count();
        assert!((pl.p_value - (at_least + 1) as f64 / 39.0).abs() < 1e-12);
        assert_eq!(
            pl.rank,
            1 + pl.runs.iter().filter(|x| x.ratio > r.rmspe_ratio).count()
        );
        // California's post/pre RMSPE ratio is among the most extreme (rank 3 of 39 with this fit).
        assert!(pl.rank <= 3, "{}", pl.rank);
        assert!(pl.p_value < 0.1, "{}", pl.p_value);
        // A placebo run is itself a synthetic control: e.g. Utah's pre-period fit is finite and positive.
        let utah = pl.runs.iter().find(|x| x.unit == "Utah").unwrap();
        assert!(utah.pre_rmspe > 0.0 && utah.pre_rmspe.is_finite());
        assert!((r.rmspe_ratio - r.post_rmspe / r.pre_rmspe).abs() < 1e-12);
    }

    #[test]
    fn errors_are_clear() {
        let p = prop99();
        let base = SynthSpec {
            treated: "California".into(),
            treatment_time: 1989,
            ..Default::default()
        };
        let e = synthetic_control(
            &p,
            &SynthSpec {
                treated: "Tokyo".into(),
                ..base.clone()
            },
        )
        .unwrap_err();
        assert_eq!(e, EstimationError::UnknownUnit("Tokyo".into()));
        let e = synthetic_control(
            &p,
            &SynthSpec {
                treatment_time: 1971,
                ..base.clone()
            },
        )
        .unwrap_err();
        assert!(matches!(e, EstimationError::NotEnoughData(_)), "{e}");
        let e = synthetic_control(
            &p,
            &SynthSpec {
                predictors: vec![PredictorSpec::parse("income:1980-1988").unwrap()],
                ..base.clone()
            },
        )
        .unwrap_err();
        assert_eq!(e, EstimationError::UnknownColumn("income".into()));
        let e = synthetic_control(
            &p,
            &SynthSpec {
                fit_period: Some((1900, 1988)),
                ..base
            },
        )
        .unwrap_err();
        assert_eq!(e, EstimationError::UnknownPeriod(1900));
    }

    #[test]
    fn prop99_outcome_only_exact_qp_is_the_true_minimum() {
        let p = prop99();
        let spec = SynthSpec {
            treated: "California".into(),
            treatment_time: 1989,
            ..Default::default()
        };
        let r = synthetic_control(&p, &spec).unwrap();
        // Independent check: scipy.optimize.nnls on the same problem (Σw = 1 as a
        // heavily weighted row) gives −19.51375, squared error 52.1296 over 19 years,
        // Utah .3939, Montana .2318, Nevada .2049, Connecticut .1091.
        assert!(
            (r.average_effect - -19.51375).abs() < 1e-3,
            "{}",
            r.average_effect
        );
        assert!(
            (r.fit_mspe * 19.0 - 52.1296).abs() < 1e-3,
            "{}",
            r.fit_mspe * 19.0
        );
        for (unit, w) in [
            ("Utah", 0.3939),
            ("Montana", 0.2318),
            ("Nevada", 0.2049),
            ("Connecticut", 0.1091),
        ] {
            assert!(
                (r.weight_of(unit) - w).abs() < 0.005,
                "{unit} {}",
                r.weight_of(unit)
            );
        }
        // The exact optimum fits the pre period better than synthdid's early-stopped one.
        let fw = synthetic_control(
            &p,
            &SynthSpec {
                solver: WeightSolver::SynthdidFrankWolfe,
                ..spec.clone()
            },
        )
        .unwrap();
        assert!(r.fit_mspe < fw.fit_mspe);
    }

    /// The large predictor case of issue 22: 1,741 donors, 5 predictors
    /// (3 covariates, the outcome's mean over two halves of the pre period).
    pub(crate) fn large_predictor_spec() -> SynthSpec {
        let mut predictors: Vec<PredictorSpec> = ["x1", "x2", "x3"]
            .iter()
            .map(|c| PredictorSpec::parse(&format!("{c}:2000-2029")).unwrap())
            .collect();
        predictors.push(PredictorSpec::parse("y:2000-2014").unwrap());
        predictors.push(PredictorSpec::parse("y:2015-2029").unwrap());
        SynthSpec {
            treated: "U0000".into(),
            treatment_time: 2030,
            predictors,
            ..Default::default()
        }
    }

    #[test]
    fn large_predictor_case_beats_simple_baselines() {
        let p = generated_panel(1741, 40, 3);
        let r = synthetic_control(&p, &large_predictor_spec()).unwrap();
        assert_eq!(r.weights.len(), 1741);
        let sum: f64 = r.weights.iter().map(|w| w.weight).sum();
        assert!((sum - 1.0).abs() < 1e-9, "{sum}");
        assert!(r.weights.iter().all(|w| w.weight >= 0.0));
        let pre = 30;
        let y0 = &p.outcome[0];
        let mspe_of = |fitted: &dyn Fn(usize) -> f64| {
            (0..pre)
                .map(|t| (y0[t].unwrap() - fitted(t)).powi(2))
                .sum::<f64>()
                / pre as f64
        };
        // Baseline 1: every donor equally.
        let equal =
            mspe_of(&|t| (1..=1741).map(|u| p.outcome[u][t].unwrap()).sum::<f64>() / 1741.0);
        // Baseline 2: the single donor that tracks the treated unit best.
        // (Measured: fit 45.42, equal weights 5,637.8, best single donor 67.06.)
        let single = (1..=1741)
            .map(|u| mspe_of(&|t| p.outcome[u][t].unwrap()))
            .fold(f64::INFINITY, f64::min);
        eprintln!(
            "fit {} equal {equal} single {single} {}",
            r.fit_mspe, r.v_method
        );
        assert!(r.fit_mspe < single, "{} vs {single}", r.fit_mspe);
        assert!(r.fit_mspe < equal / 100.0, "{} vs {equal}", r.fit_mspe);
        // The reported loss is the pre-period MSPE of the reported weights.
        let w: std::collections::HashMap<&str, f64> = r
            .weights
            .iter()
            .map(|w| (w.unit.as_str(), w.weight))
            .collect();
        let own = mspe_of(&|t| {
            (1..=1741)
                .map(|u| w[p.units[u].as_str()] * p.outcome[u][t].unwrap())
                .sum::<f64>()
        });
        assert!(
            (own - r.fit_mspe).abs() < 1e-9 * own.max(1.0),
            "{own} {}",
            r.fit_mspe
        );
        assert!((r.pre_rmspe - own.sqrt()).abs() < 1e-9 * own.max(1.0));
    }

    #[test]
    fn basque_weights_are_cataluna_and_madrid() {
        let p = basque();
        let r = synthetic_control(&p, &basque_spec()).unwrap();
        eprintln!("{:?}\n{}", &r.weights[..4], r.v_method);
        // Abadie & Gardeazabal (2003): Cataluña 0.8508, Madrid 0.1492, others 0. Tolerance 0.01.
        assert!(
            (r.weight_of("10") - 0.8508).abs() < 0.01,
            "Cataluña {}",
            r.weight_of("10")
        );
        assert!(
            (r.weight_of("14") - 0.1492).abs() < 0.01,
            "Madrid {}",
            r.weight_of("14")
        );
        for w in &r.weights {
            if w.unit != "10" && w.unit != "14" {
                assert!(w.weight < 0.01, "{} {}", w.unit, w.weight);
            }
        }
    }
}
