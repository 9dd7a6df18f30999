//! Will a KPI reach its target? A forecast path to the target year with 80% and
//! 95% prediction intervals and the probability of reaching the target.
//!
//! KPIs are yearly and short (3–8 points is typical), so the method depends on
//! how many points there are:
//!
//! | points used | method | why |
//! |---|---|---|
//! | ≥ 8, consecutive years | ETS (augurs AutoETS, non-seasonal, chosen by AICc) | enough points for AICc to choose between level / trend / damped models |
//! | 3 – 7 (or gaps in the years) | linear trend by (weighted) OLS, t-distribution prediction interval | two parameters is what a short series can support; the t interval widens honestly with few points |
//! | 2 | naive drift: the one observed change continued | no residual is observable, so the interval is a wide heuristic (σ = max(|change|, 10% of the level) per year, growing like a random walk with estimated drift) |
//! | 0 – 1 | none | a single point says nothing about movement |
//!
//! ETS intervals are converted to a normal distribution (σ from the 95% band)
//! for the probability; multiplicative models make that an approximation.

use augurs::ets::AutoETS;
use augurs::{Fit, Predict};
use citykpi_domain::kpi::Direction;
use serde::Serialize;
use statrs::distribution::{ContinuousCDF, Normal, StudentsT};

/// Fewest consecutive yearly points for which ETS is used.
pub const ETS_MIN_POINTS: usize = 8;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ForecastError {
    #[error("{year}年度の値が重複しています / the value for {year} is given twice")]
    DuplicateYear { year: i32 },
    #[error("{year}年度の値が数値ではありません / the value for {year} is not a finite number")]
    NotFinite { year: i32 },
    #[error(
        "目標年度{target}は最新の実績年度{last}より後でなければなりません / the target year {target} must be after the last observed year {last}"
    )]
    TargetNotAhead { target: i32, last: i32 },
    #[error(
        "目標年度{0}が遠すぎます（100年以内） / target year {0} is too far ahead (limit 100 years)"
    )]
    TooFar(i32),
    #[error(
        "暫定値の重み{0}は0より大きく1以下でなければなりません / the weight of provisional values must be in (0, 1], got {0}"
    )]
    BadWeight(f64),
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct YearPoint {
    pub year: i32,
    pub value: f64,
    /// 速報値・暫定値: may be revised.
    pub provisional: bool,
}

/// What to do with provisional values.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", content = "weight", rename_all = "snake_case")]
pub enum ProvisionalPolicy {
    Include,
    /// Weight in the linear-trend fit (ETS cannot weight and uses them as is).
    Downweight(f64),
    Exclude,
}

impl Default for ProvisionalPolicy {
    fn default() -> Self {
        ProvisionalPolicy::Downweight(0.5)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Target {
    pub year: i32,
    pub value: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ForecastRequest {
    pub points: Vec<YearPoint>,
    pub target: Target,
    pub direction: Direction,
    pub provisional: ProvisionalPolicy,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ForecastMethod {
    Ets,
    LinearTrend,
    NaiveDrift,
    None,
}

impl ForecastMethod {
    pub fn label_ja(self) -> &'static str {
        match self {
            ForecastMethod::Ets => "指数平滑法（ETS）",
            ForecastMethod::LinearTrend => "線形トレンド",
            ForecastMethod::NaiveDrift => "直近の変化の延長",
            ForecastMethod::None => "予測なし",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PathYear {
    pub year: i32,
    pub mean: f64,
    pub lower80: f64,
    pub upper80: f64,
    pub lower95: f64,
    pub upper95: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KpiForecast {
    pub method: ForecastMethod,
    /// Why this method (Japanese / English).
    pub reason: String,
    /// The ETS model chosen, e.g. `AAdN`.
    pub model: Option<String>,
    pub points_used: usize,
    /// Years after the last observation up to the target year.
    pub path: Vec<PathYear>,
    /// Probability that the target year's value meets the target in the KPI's direction.
    pub probability_of_reaching: Option<f64>,
}

impl KpiForecast {
    pub fn at_target(&self) -> Option<&PathYear> {
        self.path.last()
    }
}

/// Predictive distribution of one year: location, scale and (for t) df.
#[derive(Clone, Copy)]
struct Predictive {
    mean: f64,
    scale: f64,
    df: Option<f64>,
}

impl Predictive {
    fn cdf(&self, x: f64) -> f64 {
        if self.scale.is_nan() || self.scale <= 0.0 {
            return if x >= self.mean { 1.0 } else { 0.0 };
        }
        let z = (x - self.mean) / self.scale;
        match self.df {
            Some(df) => StudentsT::new(0.0, 1.0, df)
                .map(|t| t.cdf(z))
                .unwrap_or(f64::NAN),
            None => Normal::standard().cdf(z),
        }
    }
    fn quantile(&self, p: f64) -> f64 {
        let q = match self.df {
            Some(df) => StudentsT::new(0.0, 1.0, df)
                .map(|t| t.inverse_cdf(p))
                .unwrap_or(f64::NAN),
            None => Normal::standard().inverse_cdf(p),
        };
        self.mean + q * self.scale
    }
    fn path_year(&self, year: i32) -> PathYear {
        PathYear {
            year,
            mean: self.mean,
            lower80: self.quantile(0.10),
            upper80: self.quantile(0.90),
            lower95: self.quantile(0.025),
            upper95: self.quantile(0.975),
        }
    }
}

fn probability(dist: &Predictive, target: f64, direction: Direction) -> f64 {
    match direction {
        Direction::HigherIsBetter => 1.0 - dist.cdf(target) + point_mass(dist, target),
        Direction::LowerIsBetter => dist.cdf(target),
        Direction::Band { lower, upper } => {
            (dist.cdf(upper) - dist.cdf(lower) + point_mass(dist, lower)).max(0.0)
        }
    }
}

/// With a zero-width distribution the cdf is a step; reaching exactly counts.
fn point_mass(dist: &Predictive, x: f64) -> f64 {
    if dist.scale <= 0.0 && dist.mean == x {
        1.0
    } else {
        0.0
    }
}

/// Forecasts one KPI to its target year.
pub fn forecast_kpi(req: &ForecastRequest) -> Result<KpiForecast, ForecastError> {
    if let ProvisionalPolicy::Downweight(w) = req.provisional
        && !(w > 0.0 && w <= 1.0)
    {
        return Err(ForecastError::BadWeight(w));
    }
    let mut points = req.points.clone();
    points.sort_by_key(|p| p.year);
    for pair in points.windows(2) {
        if pair[0].year == pair[1].year {
            return Err(ForecastError::DuplicateYear { year: pair[0].year });
        }
    }
    if let Some(p) = points.iter().find(|p| !p.value.is_finite()) {
        return Err(ForecastError::NotFinite { year: p.year });
    }
    if let Some(last) = points.last()
        && req.target.year <= last.year
    {
        return Err(ForecastError::TargetNotAhead {
            target: req.target.year,
            last: last.year,
        });
    }
    let excluded = if req.provisional == ProvisionalPolicy::Exclude {
        let before = points.len();
        points.retain(|p| !p.provisional);
        before - points.len()
    } else {
        0
    };
    let excluded_note = if excluded > 0 {
        format!("（暫定値{excluded}件を除外 / {excluded} provisional excluded）")
    } else {
        String::new()
    };
    let n = points.len();
    let Some(last) = points.last().copied() else {
        return Ok(none(format!(
            "実績がありません{excluded_note} / no observations"
        )));
    };
    if req.target.year - last.year > 100 {
        return Err(ForecastError::TooFar(req.target.year));
    }
    let horizon = (req.target.year - last.year) as usize;
    if n < 2 {
        return Ok(none(format!(
            "実績が1点だけでは変化の方向が分かりません{excluded_note} / one observation shows no movement"
        )));
    }
    let consecutive = points.windows(2).all(|p| p[1].year == p[0].year + 1);
    if n >= ETS_MIN_POINTS && consecutive {
        match ets(&points, horizon) {
            Ok((model, dists)) => {
                return Ok(finish(
                    ForecastMethod::Ets,
                    format!(
                        "連続した{n}年分の実績があるため指数平滑法（AICcで{model}を選択）{excluded_note} / {n} consecutive yearly points: ETS, {model} chosen by AICc"
                    ),
                    Some(model),
                    n,
                    last.year,
                    dists,
                    req,
                ));
            }
            Err(e) if n >= 3 => {
                let (dists, _) = linear_trend(&points, horizon, req.provisional);
                return Ok(finish(
                    ForecastMethod::LinearTrend,
                    format!(
                        "ETSの推定に失敗したため線形トレンド（{e}） / ETS failed ({e}), linear trend used"
                    ),
                    None,
                    n,
                    last.year,
                    dists,
                    req,
                ));
            }
            Err(_) => {}
        }
    }
    if n >= 3 {
        let (dists, df) = linear_trend(&points, horizon, req.provisional);
        let why = if n >= ETS_MIN_POINTS {
            "年度に欠けがあるため".to_string()
        } else {
            format!("実績{n}点（ETSは{ETS_MIN_POINTS}点以上）のため")
        };
        let why_en = if n >= ETS_MIN_POINTS {
            "years are not consecutive".to_string()
        } else {
            format!("{n} points (ETS needs {ETS_MIN_POINTS})")
        };
        return Ok(finish(
            ForecastMethod::LinearTrend,
            format!(
                "{why}線形トレンド、予測区間はt分布（自由度{df}）{excluded_note} / {why_en}: linear trend, t prediction interval with {df} df"
            ),
            None,
            n,
            last.year,
            dists,
            req,
        ));
    }
    let first = points[0];
    let dists = naive_drift(first, last, horizon);
    Ok(finish(
        ForecastMethod::NaiveDrift,
        format!(
            "実績2点のため直近の変化を延長（区間は幅広い目安）{excluded_note} / two points: the observed change continued, with a deliberately wide interval"
        ),
        None,
        n,
        last.year,
        dists,
        req,
    ))
}

/// Forecasts many KPIs (e.g. the whole plan for a dashboard), in order,
/// spread over the machine's cores (each forecast is independent).
pub fn forecast_many(reqs: &[ForecastRequest]) -> Vec<Result<KpiForecast, ForecastError>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if threads < 2 || reqs.len() < 64 {
        return reqs.iter().map(forecast_kpi).collect();
    }
    let chunk = reqs.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = reqs
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(forecast_kpi).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| match h.join() {
                Ok(results) => results,
                // A panic inside a forecast is a bug; re-raise it on this thread.
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    })
}

fn none(reason: String) -> KpiForecast {
    KpiForecast {
        method: ForecastMethod::None,
        reason,
        model: None,
        points_used: 0,
        path: Vec::new(),
        probability_of_reaching: None,
    }
}

fn finish(
    method: ForecastMethod,
    reason: String,
    model: Option<String>,
    n: usize,
    last_year: i32,
    dists: Vec<Predictive>,
    req: &ForecastRequest,
) -> KpiForecast {
    let path: Vec<PathYear> = dists
        .iter()
        .enumerate()
        .map(|(h, d)| d.path_year(last_year + 1 + h as i32))
        .collect();
    let probability_of_reaching = dists
        .last()
        .map(|d| probability(d, req.target.value, req.direction));
    KpiForecast {
        method,
        reason,
        model,
        points_used: n,
        path,
        probability_of_reaching,
    }
}

fn ets(points: &[YearPoint], horizon: usize) -> Result<(String, Vec<Predictive>), String> {
    let y: Vec<f64> = points.iter().map(|p| p.value).collect();
    let fitted = AutoETS::non_seasonal().fit(&y).map_err(|e| e.to_string())?;
    let damped = if fitted.model().damped() {
        ", damped"
    } else {
        ""
    };
    let model = format!("ETS({}{damped})", fitted.model().model_type());
    let fc = fitted.predict(horizon, 0.95).map_err(|e| e.to_string())?;
    let intervals = fc.intervals.ok_or("ETS gave no intervals")?;
    let z975 = Normal::standard().inverse_cdf(0.975);
    let dists = (0..horizon)
        .map(|h| Predictive {
            mean: fc.point[h],
            scale: ((intervals.upper[h] - intervals.lower[h]) / (2.0 * z975)).max(0.0),
            df: None,
        })
        .collect::<Vec<_>>();
    if dists
        .iter()
        .any(|d| !d.mean.is_finite() || !d.scale.is_finite())
    {
        return Err("ETS forecast is not finite".into());
    }
    Ok((model, dists))
}

/// Weighted least squares line through the points; predictive t distributions
/// for the next `horizon` years. Returns the distributions and the df.
fn linear_trend(
    points: &[YearPoint],
    horizon: usize,
    policy: ProvisionalPolicy,
) -> (Vec<Predictive>, usize) {
    let w: Vec<f64> = points
        .iter()
        .map(|p| match (p.provisional, policy) {
            (true, ProvisionalPolicy::Downweight(w)) => w,
            _ => 1.0,
        })
        .collect();
    let sw: f64 = w.iter().sum();
    let xbar = points
        .iter()
        .zip(&w)
        .map(|(p, wi)| wi * f64::from(p.year))
        .sum::<f64>()
        / sw;
    let ybar = points
        .iter()
        .zip(&w)
        .map(|(p, wi)| wi * p.value)
        .sum::<f64>()
        / sw;
    let sxx: f64 = points
        .iter()
        .zip(&w)
        .map(|(p, wi)| wi * (f64::from(p.year) - xbar).powi(2))
        .sum();
    let sxy: f64 = points
        .iter()
        .zip(&w)
        .map(|(p, wi)| wi * (f64::from(p.year) - xbar) * (p.value - ybar))
        .sum();
    let slope = sxy / sxx;
    let intercept = ybar - slope * xbar;
    let df = points.len() - 2;
    let ssr: f64 = points
        .iter()
        .zip(&w)
        .map(|(p, wi)| wi * (p.value - intercept - slope * f64::from(p.year)).powi(2))
        .sum();
    let sigma2 = ssr / df as f64;
    let last = points.last().map(|p| p.year).unwrap_or(0);
    let dists = (1..=horizon)
        .map(|h| {
            let x0 = f64::from(last) + h as f64;
            // Var of a new (full-weight) observation: σ²(1 + 1/Σw + (x0 − x̄)²/Sxx).
            let var = sigma2 * (1.0 + 1.0 / sw + (x0 - xbar).powi(2) / sxx);
            Predictive {
                mean: intercept + slope * x0,
                scale: var.max(0.0).sqrt(),
                df: Some(df as f64),
            }
        })
        .collect();
    (dists, df)
}

fn naive_drift(first: YearPoint, last: YearPoint, horizon: usize) -> Vec<Predictive> {
    let span = f64::from(last.year - first.year);
    let drift = (last.value - first.value) / span;
    let level = first.value.abs().max(last.value.abs());
    // Heuristic σ per year: the observed yearly change or 10% of the level, whichever is larger.
    let sigma = drift.abs().max(0.1 * level).max(f64::MIN_POSITIVE);
    (1..=horizon)
        .map(|h| {
            let h = h as f64;
            // Random walk with a drift estimated from `span` years: σ²·h·(1 + h/span).
            Predictive {
                mean: last.value + drift * h,
                scale: sigma * (h * (1.0 + h / span)).sqrt(),
                df: None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pts(v: &[(i32, f64)]) -> Vec<YearPoint> {
        v.iter()
            .map(|&(year, value)| YearPoint {
                year,
                value,
                provisional: false,
            })
            .collect()
    }

    fn req(points: Vec<YearPoint>, target: (i32, f64), direction: Direction) -> ForecastRequest {
        ForecastRequest {
            points,
            target: Target {
                year: target.0,
                value: target.1,
            },
            direction,
            provisional: ProvisionalPolicy::default(),
        }
    }

    #[test]
    fn linear_trend_matches_hand_computation() {
        // y = 10, 12, 13, 15 in 2019..2022: slope 1.6, intercept at 2019 = 10.1,
        // residuals −0.1, 0.3, −0.3, 0.1 → SSR 0.2, σ² = 0.1, df 2.
        let r = forecast_kpi(&req(
            pts(&[(2019, 10.0), (2020, 12.0), (2021, 13.0), (2022, 15.0)]),
            (2025, 20.0),
            Direction::HigherIsBetter,
        ))
        .unwrap();
        assert_eq!(r.method, ForecastMethod::LinearTrend);
        assert!(r.reason.contains("4 points"), "{}", r.reason);
        assert_eq!(r.path.len(), 3);
        let at = r.at_target().unwrap();
        assert_eq!(at.year, 2025);
        assert!((at.mean - (10.1 + 1.6 * 6.0)).abs() < 1e-9, "{}", at.mean);
        // se = sqrt(0.1·(1 + 1/4 + (2025 − 2020.5)²/5)) = sqrt(0.53) ; t(0.975, 2) = 4.302653.
        let se = (0.1f64 * (1.0 + 0.25 + 4.5f64.powi(2) / 5.0)).sqrt();
        assert!(
            (at.upper95 - (19.7 + 4.302653 * se)).abs() < 1e-5,
            "{}",
            at.upper95
        );
        // P(Y ≥ 20) = 1 − T₂((20 − 19.7)/se).
        let p = r.probability_of_reaching.unwrap();
        let t = StudentsT::new(0.0, 1.0, 2.0).unwrap();
        assert!((p - (1.0 - t.cdf(0.3 / se))).abs() < 1e-12);
        assert!(p > 0.3 && p < 0.5, "{p}");
        // The same path read as lower-is-better: the complement.
        let lower = forecast_kpi(&req(
            pts(&[(2019, 10.0), (2020, 12.0), (2021, 13.0), (2022, 15.0)]),
            (2025, 20.0),
            Direction::LowerIsBetter,
        ))
        .unwrap();
        assert!((lower.probability_of_reaching.unwrap() - (1.0 - p)).abs() < 1e-12);
        assert!(
            at.lower95 < at.lower80
                && at.lower80 < at.mean
                && at.mean < at.upper80
                && at.upper80 < at.upper95
        );
    }

    #[test]
    fn provisional_points_are_downweighted_or_excluded() {
        let mut p = pts(&[(2019, 10.0), (2020, 11.0), (2021, 12.0), (2022, 20.0)]);
        p[3].provisional = true;
        let full = forecast_kpi(&ForecastRequest {
            provisional: ProvisionalPolicy::Include,
            ..req(p.clone(), (2024, 15.0), Direction::HigherIsBetter)
        })
        .unwrap();
        let half = forecast_kpi(&req(p.clone(), (2024, 15.0), Direction::HigherIsBetter)).unwrap();
        let none = forecast_kpi(&ForecastRequest {
            provisional: ProvisionalPolicy::Exclude,
            ..req(p.clone(), (2024, 15.0), Direction::HigherIsBetter)
        })
        .unwrap();
        let m = |r: &KpiForecast| r.at_target().unwrap().mean;
        assert!(
            m(&full) > m(&half) && m(&half) > m(&none),
            "{} {} {}",
            m(&full),
            m(&half),
            m(&none)
        );
        // Excluded: the exact line 10, 11, 12 → 15 in 2024, with a zero-width interval.
        assert!((m(&none) - 15.0).abs() < 1e-9);
        let at = none.at_target().unwrap();
        assert!((at.upper95 - at.lower95).abs() < 1e-9);
        assert_eq!(none.probability_of_reaching, Some(1.0));
        assert_eq!(none.points_used, 3);
        assert!(none.reason.contains("provisional excluded"));
        assert_eq!(
            none.path.len(),
            3,
            "path runs from the last final value's next year"
        );
    }

    #[test]
    fn method_depends_on_the_number_of_points() {
        let two = forecast_kpi(&req(
            pts(&[(2020, 100.0), (2022, 104.0)]),
            (2026, 110.0),
            Direction::HigherIsBetter,
        ))
        .unwrap();
        assert_eq!(two.method, ForecastMethod::NaiveDrift);
        let at = two.at_target().unwrap();
        // Drift 2/year → 112 in 2026; σ = max(2, 10.4) = 10.4, h = 4, span 2: sd = 10.4·sqrt(4·3).
        assert!((at.mean - 112.0).abs() < 1e-9);
        let sd = 10.4 * 12f64.sqrt();
        assert!((at.upper95 - (112.0 + 1.959964 * sd)).abs() < 1e-3);
        let one = forecast_kpi(&req(
            pts(&[(2020, 100.0)]),
            (2026, 110.0),
            Direction::HigherIsBetter,
        ))
        .unwrap();
        assert_eq!(one.method, ForecastMethod::None);
        assert!(one.path.is_empty() && one.probability_of_reaching.is_none());
        let zero = forecast_kpi(&req(vec![], (2026, 110.0), Direction::HigherIsBetter)).unwrap();
        assert_eq!(zero.method, ForecastMethod::None);

        let ten: Vec<(i32, f64)> = (0..10)
            .map(|i| {
                (
                    2010 + i,
                    50.0 + 2.0 * i as f64 + if i % 2 == 0 { 0.4 } else { -0.4 },
                )
            })
            .collect();
        let r = forecast_kpi(&req(pts(&ten), (2025, 80.0), Direction::HigherIsBetter)).unwrap();
        assert_eq!(r.method, ForecastMethod::Ets, "{}", r.reason);
        assert!(r.model.is_some());
        let at = r.at_target().unwrap();
        assert_eq!(at.year, 2025);
        // A steady +2/year series: the forecast for 2025 lies near 50 + 2·15 = 80.
        assert!((at.mean - 80.0).abs() < 4.0, "{}", at.mean);
        assert!(at.lower95 < at.mean && at.mean < at.upper95);
        // A gap in the years falls back to the linear trend even with 10 points.
        let mut gappy = ten.clone();
        gappy[9].0 = 2021;
        let g = forecast_kpi(&req(pts(&gappy), (2025, 80.0), Direction::HigherIsBetter)).unwrap();
        assert_eq!(g.method, ForecastMethod::LinearTrend);
        assert!(g.reason.contains("not consecutive"));
    }

    #[test]
    fn band_and_errors() {
        let r = forecast_kpi(&req(
            pts(&[(2019, 10.0), (2020, 12.0), (2021, 13.0), (2022, 15.0)]),
            (2025, 0.0),
            Direction::Band {
                lower: 18.0,
                upper: 21.0,
            },
        ))
        .unwrap();
        let p = r.probability_of_reaching.unwrap();
        assert!(p > 0.5 && p < 1.0, "{p}");
        assert_eq!(
            forecast_kpi(&req(
                pts(&[(2019, 1.0), (2019, 2.0)]),
                (2025, 3.0),
                Direction::HigherIsBetter
            ))
            .unwrap_err(),
            ForecastError::DuplicateYear { year: 2019 }
        );
        assert_eq!(
            forecast_kpi(&req(
                pts(&[(2019, 1.0), (2022, 2.0)]),
                (2022, 3.0),
                Direction::HigherIsBetter
            ))
            .unwrap_err(),
            ForecastError::TargetNotAhead {
                target: 2022,
                last: 2022
            }
        );
        assert!(matches!(
            forecast_kpi(&req(
                pts(&[(2019, f64::NAN), (2020, 2.0)]),
                (2025, 3.0),
                Direction::HigherIsBetter
            )),
            Err(ForecastError::NotFinite { year: 2019 })
        ));
        let bad = ForecastRequest {
            provisional: ProvisionalPolicy::Downweight(0.0),
            ..req(vec![], (2025, 1.0), Direction::HigherIsBetter)
        };
        assert_eq!(
            forecast_kpi(&bad).unwrap_err(),
            ForecastError::BadWeight(0.0)
        );
    }
}
