//! Monthly and quarterly KPIs: additive Holt–Winters (seasonal exponential
//! smoothing), written to give the same numbers as R's `stats::HoltWinters`
//! and `predict.HoltWinters` (start values from a classical decomposition of
//! the first two seasons, the recursions of R's C code, the variance of the
//! h-step error from the one-step residuals).
//!
//! `augurs-ets` 0.10 (already a dependency for the yearly forecasts) declares
//! seasonal models but does not implement them (`unimplemented!` when fitted),
//! so the seasonal model is here.
//!
//! | data | model | why |
//! |---|---|---|
//! | ≥ 2 whole seasons (24 months, 8 quarters) | level + trend + additive season, α β γ by least squares | two seasons are what the start values need (R refuses fewer) |
//! | 3 periods – under 2 seasons | level only (simple exponential smoothing), α by least squares | the season and a trend cannot be told apart from under two seasons: a trend fitted to half a season's swing would run away; a level with widening intervals is the honest forecast |
//! | fewer | none | no residual to size the interval |

use citykpi_domain::kpi::Direction;
use serde::Serialize;
use statrs::distribution::{ContinuousCDF, Normal};

use crate::optim::nelder_mead;

/// A fitted model: the smoothing parameters, the state after the last
/// observation and the fit's one-step residuals.
#[derive(Debug, Clone, PartialEq)]
pub struct HoltWinters {
    /// Periods per season (12 months, 4 quarters); 1 for the level-only model.
    pub period: usize,
    pub alpha: f64,
    /// None: no trend component.
    pub beta: Option<f64>,
    /// None: no seasonal component.
    pub gamma: Option<f64>,
    /// Level after the last observation (R's `a`).
    pub level: f64,
    /// Trend after the last observation (R's `b`; 0 without trend).
    pub trend: f64,
    /// Seasonal effects of the next `period` periods, the next first (R's `s1` …).
    pub season: Vec<f64>,
    /// Sum of squared one-step errors.
    pub sse: f64,
    /// One-step errors of the fitted part.
    pub residuals: Vec<f64>,
}

/// Which components to smooth, with fixed parameters or (None) chosen by
/// least squares.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spec {
    pub period: usize,
    pub alpha: Option<f64>,
    pub trend: Component,
    pub season: Component,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Component {
    Off,
    Fitted,
    Fixed(f64),
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SeasonalError {
    #[error(
        "季節成分には少なくとも2周期分（{needed}点）の値が必要です（{got}点） / a seasonal model needs two whole seasons ({needed} values), got {got}"
    )]
    TooShort { needed: usize, got: usize },
    #[error("値が数値ではありません / a value is not a finite number")]
    NotFinite,
    #[error("平滑化パラメータは0〜1です / smoothing parameters must be within 0–1")]
    BadParameter,
}

/// Start values of level, trend and season as R computes them: a classical
/// additive decomposition (centred moving average) of the first two seasons,
/// a straight line through its trend, the mean seasonal deviation by position.
fn seasonal_start(x: &[f64], f: usize) -> (f64, f64, Vec<f64>) {
    let wind = &x[..2 * f];
    let n = wind.len();
    // Centred moving average: weights ½, 1, …, 1, ½ over f + 1 values for
    // even f; f equal weights for odd f.
    let weights: Vec<f64> = if f.is_multiple_of(2) {
        let mut w = vec![1.0 / f as f64; f + 1];
        w[0] = 0.5 / f as f64;
        w[f] = 0.5 / f as f64;
        w
    } else {
        vec![1.0 / f as f64; f]
    };
    let half = weights.len() / 2;
    let trend: Vec<Option<f64>> = (0..n)
        .map(|i| {
            (i >= half && i + half < n).then(|| {
                weights
                    .iter()
                    .enumerate()
                    .map(|(k, w)| w * wind[i + k - half])
                    .sum()
            })
        })
        .collect();
    let mut figure: Vec<f64> = (0..f)
        .map(|pos| {
            let dev: Vec<f64> = (pos..n)
                .step_by(f)
                .filter_map(|i| trend[i].map(|t| wind[i] - t))
                .collect();
            if dev.is_empty() {
                0.0
            } else {
                dev.iter().sum::<f64>() / dev.len() as f64
            }
        })
        .collect();
    let mean = figure.iter().sum::<f64>() / f as f64;
    for v in &mut figure {
        *v -= mean;
    }
    // Least-squares line through the trend values against 1, 2, …, m.
    let dat: Vec<f64> = trend.iter().flatten().copied().collect();
    let m = dat.len() as f64;
    let tbar = (m + 1.0) / 2.0;
    let ybar = dat.iter().sum::<f64>() / m;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (i, y) in dat.iter().enumerate() {
        let t = (i + 1) as f64 - tbar;
        sxy += t * (y - ybar);
        sxx += t * t;
    }
    let slope = if sxx > 0.0 { sxy / sxx } else { 0.0 };
    (ybar - slope * tbar, slope, figure)
}

/// The recursions of R's `C_HoltWinters` (additive), from the start values.
#[allow(clippy::too_many_arguments)]
fn filter(
    x: &[f64],
    f: usize,
    start_time: usize,
    alpha: f64,
    beta: Option<f64>,
    gamma: Option<f64>,
    l0: f64,
    b0: f64,
    s0: &[f64],
) -> HoltWinters {
    let mut level = l0;
    let mut trend = if beta.is_some() { b0 } else { 0.0 };
    // season[k] is the effect for the k-th period from the start of the fit.
    let mut season: Vec<f64> = if gamma.is_some() {
        s0.to_vec()
    } else {
        Vec::new()
    };
    let mut sse = 0.0;
    let mut residuals = Vec::with_capacity(x.len().saturating_sub(start_time));
    for (k, &xi) in x.iter().enumerate().skip(start_time) {
        let s = if gamma.is_some() {
            season[k - start_time]
        } else {
            0.0
        };
        let xhat = level + trend + s;
        let res = xi - xhat;
        sse += res * res;
        residuals.push(res);
        let new_level = alpha * (xi - s) + (1.0 - alpha) * (level + trend);
        if let Some(b) = beta {
            trend = b * (new_level - level) + (1.0 - b) * trend;
        }
        level = new_level;
        if let Some(g) = gamma {
            season.push(g * (xi - level) + (1.0 - g) * s);
        }
    }
    let fitted = x.len().saturating_sub(start_time);
    let next = if gamma.is_some() {
        season[fitted..fitted + f].to_vec()
    } else {
        Vec::new()
    };
    HoltWinters {
        period: if gamma.is_some() { f } else { 1 },
        alpha,
        beta,
        gamma,
        level,
        trend,
        season: next,
        sse,
        residuals,
    }
}

fn logistic(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

fn logit(p: f64) -> f64 {
    let p = p.clamp(1e-6, 1.0 - 1e-6);
    (p / (1.0 - p)).ln()
}

/// Fits the model of `spec` to `x` (oldest first). Parameters not fixed are
/// chosen by least squares of the one-step errors (R: L-BFGS-B within
/// [0, 1]; here Nelder–Mead on the logit scale from several starts, which
/// finds the same minimum or a lower one).
pub fn fit(x: &[f64], spec: Spec) -> Result<HoltWinters, SeasonalError> {
    if x.iter().any(|v| !v.is_finite()) {
        return Err(SeasonalError::NotFinite);
    }
    let fixed = [spec.alpha, fixed_of(spec.trend), fixed_of(spec.season)];
    if fixed.iter().flatten().any(|p| !(0.0..=1.0).contains(p)) {
        return Err(SeasonalError::BadParameter);
    }
    let seasonal = spec.season != Component::Off;
    let with_trend = spec.trend != Component::Off;
    let f = spec.period.max(1);
    let (start_time, l0, b0, s0) = if seasonal {
        if f < 2 || x.len() < 2 * f {
            return Err(SeasonalError::TooShort {
                needed: 2 * f,
                got: x.len(),
            });
        }
        let (l, b, s) = seasonal_start(x, f);
        (f, l, b, s)
    } else {
        let needed = if with_trend { 3 } else { 2 };
        if x.len() < needed {
            return Err(SeasonalError::TooShort {
                needed,
                got: x.len(),
            });
        }
        if with_trend {
            (2, x[1], x[1] - x[0], Vec::new())
        } else {
            (1, x[0], 0.0, Vec::new())
        }
    };
    let run =
        |a: f64, b: Option<f64>, g: Option<f64>| filter(x, f, start_time, a, b, g, l0, b0, &s0);
    // Free parameters in the order alpha, beta, gamma.
    let free: Vec<usize> = [
        spec.alpha.is_none(),
        spec.trend == Component::Fitted,
        spec.season == Component::Fitted,
    ]
    .iter()
    .enumerate()
    .filter_map(|(i, f)| f.then_some(i))
    .collect();
    let assemble = |p: &[f64]| -> (f64, Option<f64>, Option<f64>) {
        let mut v = [
            spec.alpha.unwrap_or(0.0),
            fixed_of(spec.trend).unwrap_or(0.0),
            fixed_of(spec.season).unwrap_or(0.0),
        ];
        for (k, &i) in free.iter().enumerate() {
            v[i] = p[k];
        }
        (v[0], with_trend.then_some(v[1]), seasonal.then_some(v[2]))
    };
    if free.is_empty() {
        let (a, b, g) = assemble(&[]);
        return Ok(run(a, b, g));
    }
    let mut objective = |z: &[f64]| {
        let p: Vec<f64> = z.iter().map(|z| logistic(*z)).collect();
        let (a, b, g) = assemble(&p);
        run(a, b, g).sse
    };
    // R's starting point (0.3, 0.1, 0.1) and two others, the best kept.
    let starts = [[0.3, 0.1, 0.1], [0.6, 0.02, 0.4], [0.1, 0.01, 0.6]];
    let mut best: Option<(f64, Vec<f64>)> = None;
    for s in starts {
        let z0: Vec<f64> = free.iter().map(|&i| logit(s[i])).collect();
        let m = nelder_mead(&mut objective, &z0, 0.5, 4000, 1e-12, 1e-9);
        // A restart from the found point polishes a collapsed simplex.
        let m = nelder_mead(&mut objective, &m.x, 0.1, 2000, 1e-14, 1e-10);
        if best.as_ref().is_none_or(|(v, _)| m.value < *v) {
            best = Some((m.value, m.x));
        }
    }
    let z = best.map(|(_, z)| z).unwrap_or_default();
    let p: Vec<f64> = z.iter().map(|z| logistic(*z)).collect();
    let (a, b, g) = assemble(&p);
    Ok(run(a, b, g))
}

fn fixed_of(c: Component) -> Option<f64> {
    match c {
        Component::Fixed(v) => Some(v),
        _ => None,
    }
}

impl HoltWinters {
    /// The point forecast `h` periods after the last observation (h ≥ 1).
    pub fn predict(&self, h: usize) -> f64 {
        let s = if self.season.is_empty() {
            0.0
        } else {
            self.season[(h - 1) % self.season.len()]
        };
        self.level + h as f64 * self.trend + s
    }

    /// The sample variance of the one-step residuals (R's `var(residuals)`).
    pub fn residual_variance(&self) -> f64 {
        let n = self.residuals.len();
        if n < 2 {
            return f64::NAN;
        }
        let mean = self.residuals.iter().sum::<f64>() / n as f64;
        self.residuals
            .iter()
            .map(|r| (r - mean) * (r - mean))
            .sum::<f64>()
            / (n - 1) as f64
    }

    /// Weight of the error `j` periods back in a forecast's error (ψⱼ).
    fn psi(&self, j: usize) -> f64 {
        if j == 0 {
            return 1.0;
        }
        let beta = self.beta.unwrap_or(0.0);
        let gamma = self.gamma.unwrap_or(0.0);
        let seasonal_hit = self.gamma.is_some() && j.is_multiple_of(self.period);
        self.alpha * (1.0 + j as f64 * beta)
            + if seasonal_hit {
                gamma * (1.0 - self.alpha)
            } else {
                0.0
            }
    }

    /// Standard deviation of the forecast `h` periods ahead (R's
    /// `predict.HoltWinters`: σ² (1 + Σⱼ₌₁ʰ⁻¹ ψⱼ²)).
    pub fn forecast_sd(&self, h: usize) -> f64 {
        let sum: f64 = (1..h).map(|j| self.psi(j).powi(2)).sum();
        (self.residual_variance() * (1.0 + sum)).sqrt()
    }

    /// Standard deviation of Σₕ wₕ · (forecast h) for h = 1 … w.len(): the
    /// errors of successive forecasts share their shocks, so the variance of a
    /// sum is not the sum of variances. With eₙ₊ₕ = Σₖ ψₕ₋ₖ εₙ₊ₖ the sum is
    /// Σₖ εₙ₊ₖ Σₕ≥ₖ wₕ ψₕ₋ₖ.
    pub fn weighted_sum_sd(&self, w: &[f64]) -> f64 {
        let var: f64 = (0..w.len())
            .map(|k| {
                let c: f64 = (k..w.len()).map(|h| w[h] * self.psi(h - k)).sum();
                c * c
            })
            .sum();
        (self.residual_variance() * var).sqrt()
    }
}

/// How a monthly or quarterly KPI was forecast.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SeasonalMethod {
    /// Level, trend and additive season (Holt–Winters).
    HoltWinters,
    /// Level only: under two seasons of data.
    LevelOnly,
    None,
}

impl SeasonalMethod {
    pub fn label_ja(self) -> &'static str {
        match self {
            SeasonalMethod::HoltWinters => "季節調整付き指数平滑法（ホルト・ウィンタース加法型）",
            SeasonalMethod::LevelOnly => "単純指数平滑法（季節・傾向なし）",
            SeasonalMethod::None => "予測なし",
        }
    }
    pub fn label_en(self) -> &'static str {
        match self {
            SeasonalMethod::HoltWinters => "Seasonal exponential smoothing (additive Holt–Winters)",
            SeasonalMethod::LevelOnly => "Simple exponential smoothing (no season, no trend)",
            SeasonalMethod::None => "No forecast",
        }
    }
}

/// What the year's figure is made of (the KPI's status basis, seen at the
/// end of the fiscal year, when a twelve-month window is the fiscal year).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum YearFigure {
    /// The year's periods added up (year to date, twelve-month sum).
    Sum,
    /// Their mean.
    Mean,
    /// The last period's value.
    Last,
}

#[derive(Debug, Clone, PartialEq)]
pub struct YearEndRequest {
    /// Periods per season: 12 (months) or 4 (quarters).
    pub period: usize,
    /// The latest run of consecutive values, oldest first.
    pub series: Vec<f64>,
    /// Values of the target fiscal year already observed.
    pub observed_in_year: Vec<f64>,
    /// Periods from the last value to the end of the target fiscal year.
    pub horizon: usize,
    pub figure: YearFigure,
    /// The target for the year's figure, if one is set.
    pub target: Option<f64>,
    pub direction: Direction,
}

/// One forecast period after the last value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct StepForecast {
    /// 1 = the period after the last value.
    pub step: usize,
    pub mean: f64,
    pub lower80: f64,
    pub upper80: f64,
    pub lower95: f64,
    pub upper95: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct YearEndForecast {
    pub method: SeasonalMethod,
    /// Why this method (Japanese / English).
    pub reason: String,
    pub alpha: Option<f64>,
    pub beta: Option<f64>,
    pub gamma: Option<f64>,
    pub points_used: usize,
    /// The periods up to the end of the target fiscal year.
    pub path: Vec<StepForecast>,
    /// The year's figure: observed part plus forecast, with its 80% interval.
    pub year_mean: Option<f64>,
    pub year_lower80: Option<f64>,
    pub year_upper80: Option<f64>,
    /// Probability that the year's figure meets the target in the KPI's direction.
    pub probability: Option<f64>,
}

fn normal_interval(mean: f64, sd: f64, level: f64) -> (f64, f64) {
    let z = Normal::standard().inverse_cdf(0.5 + level / 2.0);
    (mean - z * sd, mean + z * sd)
}

/// P(X meets `target`) for X ~ N(mean, sd²) in the KPI's direction; with no
/// spread (sd 0) the value is certain and reaching the target exactly counts.
pub fn probability_normal(mean: f64, sd: f64, target: f64, direction: Direction) -> f64 {
    let certain = sd.is_nan() || sd <= 0.0;
    let at_most = |x: f64| {
        if certain {
            if mean <= x { 1.0 } else { 0.0 }
        } else {
            Normal::standard().cdf((x - mean) / sd)
        }
    };
    let below = |x: f64| {
        if certain {
            if mean < x { 1.0 } else { 0.0 }
        } else {
            Normal::standard().cdf((x - mean) / sd)
        }
    };
    match direction {
        Direction::HigherIsBetter => 1.0 - below(target),
        Direction::LowerIsBetter => at_most(target),
        Direction::Band { lower, upper } => (at_most(upper) - below(lower)).max(0.0),
    }
}

/// Forecasts a monthly or quarterly series to the end of a fiscal year and
/// the year's figure on the KPI's basis: Holt–Winters from two whole seasons,
/// else the level-only fallback, else none.
pub fn forecast_year_end(req: &YearEndRequest) -> YearEndForecast {
    let n = req.series.len();
    let f = req.period.max(1);
    let none = |reason: String| YearEndForecast {
        method: SeasonalMethod::None,
        reason,
        alpha: None,
        beta: None,
        gamma: None,
        points_used: n,
        path: Vec::new(),
        year_mean: None,
        year_lower80: None,
        year_upper80: None,
        probability: None,
    };
    let (spec, method, reason) = if n >= 2 * f {
        (
            Spec {
                period: f,
                alpha: None,
                trend: Component::Fitted,
                season: Component::Fitted,
            },
            SeasonalMethod::HoltWinters,
            format!(
                "連続した{n}期分（2周期以上）の値があるため季節変動を推定 / {n} consecutive values (two seasons or more): the season is estimated"
            ),
        )
    } else if n >= 3 {
        (
            Spec {
                period: f,
                alpha: None,
                trend: Component::Off,
                season: Component::Off,
            },
            SeasonalMethod::LevelOnly,
            format!(
                "連続した値が{n}期分で2周期（{}期）に満たないため、季節と傾向を分けられず水準のみで予測 / {n} consecutive values, under two seasons ({} periods): season and trend cannot be told apart, so the level alone is forecast",
                2 * f,
                2 * f
            ),
        )
    } else {
        return none(format!(
            "連続した値が{n}期分しかなく予測できません（3期以上必要） / only {n} consecutive values (3 needed)"
        ));
    };
    let model = match fit(&req.series, spec) {
        Ok(m) => m,
        Err(e) => return none(e.to_string()),
    };
    let h_max = req.horizon;
    let path: Vec<StepForecast> = (1..=h_max)
        .map(|h| {
            let mean = model.predict(h);
            let sd = model.forecast_sd(h);
            let (lower80, upper80) = normal_interval(mean, sd, 0.8);
            let (lower95, upper95) = normal_interval(mean, sd, 0.95);
            StepForecast {
                step: h,
                mean,
                lower80,
                upper80,
                lower95,
                upper95,
            }
        })
        .collect();
    let observed: f64 = req.observed_in_year.iter().sum();
    let count = req.observed_in_year.len() + h_max;
    let year = if count == 0 {
        None
    } else {
        match req.figure {
            YearFigure::Last if h_max == 0 => req.observed_in_year.last().map(|v| (*v, 0.0)),
            YearFigure::Last => Some((model.predict(h_max), model.forecast_sd(h_max))),
            YearFigure::Sum | YearFigure::Mean => {
                let total = observed + path.iter().map(|p| p.mean).sum::<f64>();
                let sd = model.weighted_sum_sd(&vec![1.0; h_max]);
                // A sum over fewer periods than a year (a gap in the observed
                // part) is scaled up as the status basis does.
                let scale = if req.figure == YearFigure::Mean {
                    1.0 / count as f64
                } else {
                    f as f64 / count as f64
                };
                Some((total * scale, sd * scale))
            }
        }
    };
    let (year_mean, year_lower80, year_upper80, probability) = match year {
        Some((m, sd)) if m.is_finite() => {
            let (lo, hi) = normal_interval(m, sd, 0.8);
            (
                Some(m),
                Some(lo),
                Some(hi),
                req.target
                    .filter(|t| t.is_finite())
                    .map(|t| probability_normal(m, sd, t, req.direction)),
            )
        }
        _ => (None, None, None, None),
    };
    YearEndForecast {
        method,
        reason,
        alpha: Some(model.alpha),
        beta: model.beta,
        gamma: model.gamma,
        points_used: n,
        path,
        year_mean,
        year_lower80,
        year_upper80,
        probability,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdata::shared_data;

    fn co2() -> Vec<f64> {
        let text = shared_data("holtwinters/co2.csv");
        text.lines()
            .skip(1)
            .map(|l| l.rsplit(',').next().unwrap().parse().unwrap())
            .collect()
    }

    fn seasonal(alpha: Option<f64>, trend: Component, season: Component) -> Spec {
        Spec {
            period: 12,
            alpha,
            trend,
            season,
        }
    }

    /// R's published figures for `HoltWinters(co2)` with its parameters:
    /// the recursions and start values match to 1e-8.
    #[test]
    fn reproduces_r_holtwinters_co2_coefficients() {
        let x = co2();
        assert_eq!(x.len(), 468);
        let m = fit(
            &x,
            seasonal(
                Some(0.5126484436),
                Component::Fixed(0.009497669046),
                Component::Fixed(0.472886788),
            ),
        )
        .unwrap();
        let close = |a: f64, b: f64, tol: f64| (a - b).abs() < tol;
        assert!(close(m.level, 364.761623668987, 1e-6), "a = {}", m.level);
        assert!(close(m.trend, 0.124743804250, 1e-8), "b = {}", m.trend);
        let s = [
            0.221527459955,
            0.955280060451,
            1.598474394862,
            2.875802915198,
            3.282008835348,
            2.440698989396,
            0.896943263585,
            -1.379642761382,
            -3.411237617243,
            -3.257016264834,
            -1.913485028617,
            -0.584424985580,
        ];
        for (i, (got, want)) in m.season.iter().zip(s).enumerate() {
            assert!(close(*got, want, 1e-6), "s{}: {got} vs {want}", i + 1);
        }
        assert!(close(m.sse, 43.12986137, 1e-6), "SSE {}", m.sse);
        // predict(m, 24, prediction.interval = TRUE), 95%: months 1, 12, 24.
        let z = 1.959963984540054;
        for (h, fit, upr) in [
            (1, 365.107894933, 365.710471196),
            (12, 365.674124334, 366.913787779),
            (24, 367.171049985, 368.962766392),
        ] {
            assert!(close(m.predict(h), fit, 1e-6), "fit {h}: {}", m.predict(h));
            let u = m.predict(h) + z * m.forecast_sd(h);
            assert!(close(u, upr, 1e-6), "upper {h}: {u} vs {upr}");
        }
    }

    #[test]
    fn reproduces_r_with_other_fixed_parameters() {
        let m = fit(
            &co2(),
            seasonal(Some(0.5), Component::Fixed(0.01), Component::Fixed(0.5)),
        )
        .unwrap();
        assert!((m.sse - 43.2068612976).abs() < 1e-7);
        assert!((m.level - 364.743789041).abs() < 1e-7);
        assert!((m.trend - 0.125199648942).abs() < 1e-9);
        assert!((m.season[0] - 0.232087743201).abs() < 1e-8);
        assert!((m.season[11] - -0.561155879509).abs() < 1e-8);
    }

    /// Parameters chosen by least squares: R's optimum (SSE 43.1299) or a
    /// lower one, at parameters within 0.01 of R's.
    #[test]
    fn least_squares_parameters_match_r() {
        let m = fit(&co2(), seasonal(None, Component::Fitted, Component::Fitted)).unwrap();
        assert!(m.sse <= 43.12986137 + 1e-6, "SSE {}", m.sse);
        assert!(m.sse > 43.0, "SSE {}", m.sse);
        assert!((m.alpha - 0.5126484).abs() < 0.01, "alpha {}", m.alpha);
        assert!((m.beta.unwrap() - 0.009497669).abs() < 0.002);
        assert!((m.gamma.unwrap() - 0.4728868).abs() < 0.01);
    }

    /// The fallback (level only) against R's `HoltWinters(x, gamma = FALSE,
    /// beta = FALSE)`.
    #[test]
    fn level_only_fallback_matches_r() {
        let x = co2();
        let spec = Spec {
            period: 12,
            alpha: Some(0.5),
            trend: Component::Off,
            season: Component::Off,
        };
        let m = fit(&x[..18], spec).unwrap();
        assert!((m.level - 319.14193367).abs() < 1e-7);
        assert!((m.sse - 35.3394196504).abs() < 1e-8);
        let z = 1.959963984540054;
        for (h, lwr, upr) in [
            (1, 316.366666037, 321.917201303),
            (2, 316.039090129, 322.244777211),
            (3, 315.742938870, 322.540928470),
        ] {
            let sd = m.forecast_sd(h);
            assert!((m.predict(h) - z * sd - lwr).abs() < 1e-7, "h {h}");
            assert!((m.predict(h) + z * sd - upr).abs() < 1e-7, "h {h}");
        }
        // Nile, alpha by least squares: R's optimize() stops within about
        // 1e-4 of the minimum, so the SSE agrees to 1e-6 relative.
        let nile: Vec<f64> = shared_data("holtwinters/nile.csv")
            .lines()
            .skip(1)
            .map(|l| l.rsplit(',').next().unwrap().parse().unwrap())
            .collect();
        let m = fit(
            &nile,
            Spec {
                period: 1,
                alpha: None,
                trend: Component::Off,
                season: Component::Off,
            },
        )
        .unwrap();
        assert!((m.alpha - 0.246557877).abs() < 1e-3, "alpha {}", m.alpha);
        assert!(m.sse <= 2038871.83289 * (1.0 + 1e-9), "SSE {}", m.sse);
        assert!((m.sse - 2038871.83289).abs() / 2038871.83289 < 1e-6);
    }

    #[test]
    fn short_or_bad_series_are_refused() {
        let x = co2();
        assert_eq!(
            fit(
                &x[..23],
                seasonal(None, Component::Fitted, Component::Fitted)
            ),
            Err(SeasonalError::TooShort {
                needed: 24,
                got: 23
            })
        );
        assert_eq!(
            fit(
                &[1.0, f64::NAN, 2.0],
                seasonal(None, Component::Off, Component::Off)
            ),
            Err(SeasonalError::NotFinite)
        );
        assert_eq!(
            fit(
                &x,
                seasonal(Some(1.5), Component::Fitted, Component::Fitted)
            ),
            Err(SeasonalError::BadParameter)
        );
    }

    /// The variance of a sum of forecasts: with no memory (ψ = 0 beyond the
    /// first, α = 0 is not allowed, so a tiny α) it is the sum of the
    /// variances; with full memory (α = 1, random walk) the shocks pile up.
    #[test]
    fn variance_of_a_sum_counts_shared_shocks() {
        let mut m = fit(
            &co2()[..18],
            Spec {
                period: 12,
                alpha: Some(1.0),
                trend: Component::Off,
                season: Component::Off,
            },
        )
        .unwrap();
        let s2 = m.residual_variance();
        // Random walk: e1 + e2 + e3 = 3ε1 + 2ε2 + ε3 → variance 14σ².
        assert!((m.weighted_sum_sd(&[1.0, 1.0, 1.0]).powi(2) - 14.0 * s2).abs() < 1e-9);
        m.alpha = 1e-12;
        assert!((m.weighted_sum_sd(&[1.0, 1.0, 1.0]).powi(2) - 3.0 * s2).abs() < 1e-6);
        // One weight: the h-step variance.
        m.alpha = 0.4;
        let sd3 = m.forecast_sd(3);
        assert!((m.weighted_sum_sd(&[0.0, 0.0, 1.0]) - sd3).abs() < 1e-12);
    }

    /// Two seasons and more: the seasonal model, and the year's mean of the
    /// observed and forecast months. One value short: the level-only
    /// fallback, said so.
    #[test]
    fn year_end_forecast_and_fallback() {
        let x = co2();
        // January 1959 – September 1961: 33 months; the fiscal year to March
        // 1962 has 6 months observed (April – September) and 6 to come.
        let series = x[..33].to_vec();
        let req = YearEndRequest {
            period: 12,
            series: series.clone(),
            observed_in_year: x[27..33].to_vec(),
            horizon: 6,
            figure: YearFigure::Mean,
            target: Some(318.0),
            direction: Direction::LowerIsBetter,
        };
        let f = forecast_year_end(&req);
        assert_eq!(f.method, SeasonalMethod::HoltWinters);
        assert_eq!(f.path.len(), 6);
        let m = fit(
            &series,
            Spec {
                period: 12,
                alpha: None,
                trend: Component::Fitted,
                season: Component::Fitted,
            },
        )
        .unwrap();
        let want =
            (x[27..33].iter().sum::<f64>() + (1..=6).map(|h| m.predict(h)).sum::<f64>()) / 12.0;
        assert!((f.year_mean.unwrap() - want).abs() < 1e-9);
        let sd = m.weighted_sum_sd(&[1.0; 6]) / 12.0;
        let p = Normal::standard().cdf((318.0 - want) / sd);
        assert!((f.probability.unwrap() - p).abs() < 1e-12);
        assert!(f.path[0].lower80 < f.path[0].mean && f.path[0].mean < f.path[0].upper80);
        // The last value's path: latest basis uses the sixth step alone.
        let last = forecast_year_end(&YearEndRequest {
            figure: YearFigure::Last,
            ..req.clone()
        });
        assert!((last.year_mean.unwrap() - m.predict(6)).abs() < 1e-12);

        let short = forecast_year_end(&YearEndRequest {
            series: x[..23].to_vec(),
            ..req.clone()
        });
        assert_eq!(short.method, SeasonalMethod::LevelOnly);
        assert!(short.reason.contains("2周期"));
        assert!(short.gamma.is_none() && short.beta.is_none());
        // A flat forecast: every step at the last level.
        assert!((short.path[0].mean - short.path[5].mean).abs() < 1e-12);
        let none = forecast_year_end(&YearEndRequest {
            series: x[..2].to_vec(),
            ..req
        });
        assert_eq!(none.method, SeasonalMethod::None);
        assert_eq!(none.probability, None);
    }
}
