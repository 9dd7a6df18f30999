//! Interrupted time series: segmented regression
//! y_t = b0 + b1·(t − t₀) + b2·post_t + b3·(t − T)·post_t + e_t,
//! where T is the interruption and post_t = [t ≥ T]. b2 is the level change at
//! T and b3 the change in slope after it. Newey–West errors are available
//! because yearly KPI series are autocorrelated.

use nalgebra::DMatrix;
use serde::Serialize;

use crate::ols::{Coefficient, Covariance, EstimationError, OlsFit, ols};
use crate::panel::Panel;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItsPoint {
    pub period: i64,
    pub observed: f64,
    pub fitted: f64,
    /// The pre-interruption line continued (None before T).
    pub counterfactual: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItsResult {
    pub interruption: i64,
    pub level_change: Coefficient,
    pub slope_change: Coefficient,
    /// Pre-interruption slope.
    pub pre_slope: Coefficient,
    /// Fitted effect at the last period: b2 + b3·(t_last − T).
    pub effect_at_end: f64,
    pub path: Vec<ItsPoint>,
    pub fit: OlsFit,
}

/// Segmented regression on (period, value) points (any order; sorted here).
/// `newey_west_lags`: None = conventional errors.
pub fn interrupted_time_series(
    points: &[(i64, f64)],
    interruption: i64,
    newey_west_lags: Option<usize>,
) -> Result<ItsResult, EstimationError> {
    let mut pts = points.to_vec();
    pts.sort_by_key(|p| p.0);
    if let Some(w) = pts.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(EstimationError::Invalid(format!(
            "period {} appears twice",
            w[0].0
        )));
    }
    let pre = pts.iter().filter(|p| p.0 < interruption).count();
    let post = pts.len() - pre;
    if pre < 2 || post < 2 {
        return Err(EstimationError::NotEnoughData(format!(
            "{pre} points before and {post} from the interruption; need 2 or more on each side"
        )));
    }
    let t0 = pts[0].0;
    let row = |t: i64| {
        let after = t >= interruption;
        [
            1.0,
            (t - t0) as f64,
            f64::from(u8::from(after)),
            if after {
                (t - interruption) as f64
            } else {
                0.0
            },
        ]
    };
    let x = DMatrix::from_fn(pts.len(), 4, |i, j| row(pts[i].0)[j]);
    let y: Vec<f64> = pts.iter().map(|p| p.1).collect();
    let names: Vec<String> = ["const", "time", "level_change", "slope_change"]
        .map(String::from)
        .into();
    let cov = match newey_west_lags {
        Some(lags) => Covariance::NeweyWest { lags },
        None => Covariance::Conventional,
    };
    let fit = ols(&x, &y, &names, &cov)?;
    let b: Vec<f64> = fit.coefficients.iter().map(|c| c.estimate).collect();
    let last = pts[pts.len() - 1].0;
    let path = pts
        .iter()
        .zip(&fit.fitted)
        .map(|(&(t, v), &f)| ItsPoint {
            period: t,
            observed: v,
            fitted: f,
            counterfactual: (t >= interruption).then(|| b[0] + b[1] * (t - t0) as f64),
        })
        .collect();
    Ok(ItsResult {
        interruption,
        level_change: fit.coefficients[2].clone(),
        slope_change: fit.coefficients[3].clone(),
        pre_slope: fit.coefficients[1].clone(),
        effect_at_end: b[2] + b[3] * (last - interruption) as f64,
        path,
        fit,
    })
}

/// The series of one unit of a panel (or of the only unit), missing cells skipped.
pub fn series_of(panel: &Panel, unit: Option<&str>) -> Result<Vec<(i64, f64)>, EstimationError> {
    let u = match unit {
        Some(name) => panel
            .unit_index(name)
            .ok_or_else(|| EstimationError::UnknownUnit(name.to_string()))?,
        None if panel.units.len() == 1 => 0,
        None => {
            return Err(EstimationError::Invalid(format!(
                "the data has {} units; name one / データに{}個の単位があります。1つを指定してください",
                panel.units.len(),
                panel.units.len()
            )));
        }
    };
    Ok(panel
        .periods
        .iter()
        .zip(&panel.outcome[u])
        .filter_map(|(&t, v)| v.map(|v| (t, v)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::panel::PanelSpec;
    use crate::testdata::shared_data;

    #[test]
    fn recovers_a_known_break() {
        // y = 10 + 0.5·(t − 2000) + 3·post + 0.8·(t − 2010)·post, exactly.
        let pts: Vec<(i64, f64)> = (2000..2020)
            .map(|t| {
                let post = t >= 2010;
                (
                    t,
                    10.0 + 0.5 * (t - 2000) as f64
                        + if post {
                            3.0 + 0.8 * (t - 2010) as f64
                        } else {
                            0.0
                        },
                )
            })
            .collect();
        let r = interrupted_time_series(&pts, 2010, None).unwrap();
        assert!((r.level_change.estimate - 3.0).abs() < 1e-9);
        assert!((r.slope_change.estimate - 0.8).abs() < 1e-9);
        assert!((r.pre_slope.estimate - 0.5).abs() < 1e-9);
        assert!((r.effect_at_end - (3.0 + 0.8 * 9.0)).abs() < 1e-9);
        let last = r.path.last().unwrap();
        assert!((last.counterfactual.unwrap() - (10.0 + 0.5 * 19.0)).abs() < 1e-9);
        assert!(r.path[0].counterfactual.is_none());
        assert!(matches!(
            interrupted_time_series(&pts[..11], 2010, None),
            Err(EstimationError::NotEnoughData(_))
        ));
    }

    #[test]
    fn prop99_california_matches_statsmodels() {
        let spec = PanelSpec {
            unit: "State".into(),
            time: "Year".into(),
            outcome: "PacksPerCapita".into(),
            columns: None,
        };
        let p = Panel::from_csv_str(&shared_data("prop99/california_prop99.csv"), &spec).unwrap();
        let s = series_of(&p, Some("California")).unwrap();
        assert!(matches!(
            series_of(&p, None),
            Err(EstimationError::Invalid(_))
        ));
        // Independent check: statsmodels 0.15 OLS on the same design (numbers pasted from its output).
        let r = interrupted_time_series(&s, 1989, None).unwrap();
        let want = [
            (132.22578914663166, 2.28661904884966),
            (-1.7794736477543878, 0.21703627534556286),
            (-20.05809662955463, 3.7471105397412074),
            (-1.4946523787141333, 0.4846286376799995),
        ];
        for (c, (b, se)) in r.fit.coefficients.iter().zip(want) {
            assert!((c.estimate - b).abs() < 1e-6, "{} {}", c.name, c.estimate);
            assert!(
                (c.std_error - se).abs() < 1e-6,
                "{} {}",
                c.name,
                c.std_error
            );
        }
        assert!((r.fit.r_squared - 0.9731630528209103).abs() < 1e-9);
        // statsmodels cov_type="HAC", maxlags=2 (Bartlett, small-sample correction).
        let nw = interrupted_time_series(&s, 1989, Some(2)).unwrap();
        let want_nw = [
            4.469089479322964,
            0.3989657623768143,
            5.028621954336853,
            0.4107106101325556,
        ];
        for (c, se) in nw.fit.coefficients.iter().zip(want_nw) {
            assert!(
                (c.std_error - se).abs() < 1e-6,
                "{} {}",
                c.name,
                c.std_error
            );
        }
    }
}
