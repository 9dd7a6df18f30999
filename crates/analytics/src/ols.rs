//! Ordinary least squares with conventional, cluster-robust and Newey–West
//! standard errors. The building block of DiD and interrupted time series.

use nalgebra::{DMatrix, DVector};
use serde::Serialize;
use statrs::distribution::{ContinuousCDF, StudentsT};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EstimationError {
    #[error("データが足りません: {0} / not enough data: {0}")]
    NotEnoughData(String),
    #[error(
        "説明変数が線形従属です（{0}）。同じ情報を持つ列を除いてください / the regressors are collinear ({0}); drop a redundant column"
    )]
    Collinear(String),
    #[error("単位「{0}」がデータにありません / unit \"{0}\" is not in the data")]
    UnknownUnit(String),
    #[error("時点{0}がデータにありません / time {0} is not in the data")]
    UnknownPeriod(i64),
    #[error("列「{0}」がデータにありません / column \"{0}\" is not in the data")]
    UnknownColumn(String),
    #[error(
        "単位「{unit}」の{time}の「{column}」が欠測です / \"{column}\" of unit \"{unit}\" at {time} is missing"
    )]
    MissingValue {
        unit: String,
        column: String,
        time: i64,
    },
    #[error("入力が不正です: {0} / invalid input: {0}")]
    Invalid(String),
    #[error("最適化が失敗しました: {0} / the optimisation failed: {0}")]
    Solver(String),
}

/// How to estimate the covariance of the coefficients.
#[derive(Debug, Clone, PartialEq)]
pub enum Covariance {
    /// σ² (X'X)⁻¹.
    Conventional,
    /// Cluster-robust (CR1, as Stata's `vce(cluster)` and statsmodels'
    /// `cov_type="cluster"`): the sandwich with the small-sample factor
    /// G/(G−1)·(N−1)/(N−K). One cluster id per observation.
    Cluster(Vec<usize>),
    /// Newey–West HAC with a Bartlett kernel over `lags` lags, without a
    /// small-sample factor (as statsmodels' `cov_type="HAC"` by default).
    /// Rows must be in time order.
    NeweyWest { lags: usize },
}

impl Covariance {
    pub fn label(&self) -> String {
        match self {
            Covariance::Conventional => "conventional".into(),
            Covariance::Cluster(ids) => {
                let mut g = ids.clone();
                g.sort_unstable();
                g.dedup();
                format!("cluster-robust ({} clusters)", g.len())
            }
            Covariance::NeweyWest { lags } => format!("Newey-West ({lags} lags)"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Coefficient {
    pub name: String,
    pub estimate: f64,
    pub std_error: f64,
    pub t: f64,
    pub p_value: f64,
    /// 95% confidence interval from the t distribution with the residual df
    /// (G−1 df for cluster-robust errors).
    pub ci95: (f64, f64),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OlsFit {
    pub coefficients: Vec<Coefficient>,
    pub n: usize,
    pub df_resid: usize,
    pub r_squared: f64,
    /// Residual variance σ² = SSR/(n−k).
    pub sigma2: f64,
    pub covariance: String,
    #[serde(skip)]
    pub residuals: Vec<f64>,
    #[serde(skip)]
    pub fitted: Vec<f64>,
}

impl OlsFit {
    pub fn coef(&self, name: &str) -> Option<&Coefficient> {
        self.coefficients.iter().find(|c| c.name == name)
    }
}

/// Fits y = Xβ + e. `x` is n×k with the intercept column included by the caller.
pub fn ols(
    x: &DMatrix<f64>,
    y: &[f64],
    names: &[String],
    cov: &Covariance,
) -> Result<OlsFit, EstimationError> {
    let (n, k) = x.shape();
    if names.len() != k || y.len() != n {
        return Err(EstimationError::Invalid(format!(
            "{} names for {k} columns, {} outcomes for {n} rows",
            names.len(),
            y.len()
        )));
    }
    if n <= k {
        return Err(EstimationError::NotEnoughData(format!(
            "{n} observations for {k} coefficients"
        )));
    }
    if x.iter().chain(y).any(|v| !v.is_finite()) {
        return Err(EstimationError::Invalid(
            "non-finite value in the data".into(),
        ));
    }
    let yv = DVector::from_column_slice(y);
    let xtx = x.transpose() * x;
    let xtx_inv = invert_spd(&xtx, names)?;
    let beta = &xtx_inv * (x.transpose() * &yv);
    let fitted = x * &beta;
    let resid = &yv - &fitted;
    let ssr = resid.norm_squared();
    let mean = yv.mean();
    let sst: f64 = yv.iter().map(|v| (v - mean).powi(2)).sum();
    let df_resid = n - k;
    let sigma2 = ssr / df_resid as f64;

    let (vcov, df_inference) = match cov {
        Covariance::Conventional => (&xtx_inv * sigma2, df_resid),
        Covariance::Cluster(ids) => {
            if ids.len() != n {
                return Err(EstimationError::Invalid(format!(
                    "{} cluster ids for {n} rows",
                    ids.len()
                )));
            }
            let mut scores: std::collections::BTreeMap<usize, DVector<f64>> = Default::default();
            for i in 0..n {
                let s = scores.entry(ids[i]).or_insert_with(|| DVector::zeros(k));
                *s += x.row(i).transpose() * resid[i];
            }
            let g = scores.len();
            if g < 2 {
                return Err(EstimationError::NotEnoughData(
                    "cluster-robust errors need two clusters or more".into(),
                ));
            }
            let mut meat = DMatrix::zeros(k, k);
            for s in scores.values() {
                meat += s * s.transpose();
            }
            let factor = (g as f64 / (g as f64 - 1.0)) * ((n as f64 - 1.0) / df_resid as f64);
            (&xtx_inv * meat * &xtx_inv * factor, g - 1)
        }
        Covariance::NeweyWest { lags } => {
            let mut meat = DMatrix::zeros(k, k);
            let score = |i: usize| x.row(i).transpose() * resid[i];
            for i in 0..n {
                let s = score(i);
                meat += &s * s.transpose();
            }
            for l in 1..=*lags {
                if l >= n {
                    break;
                }
                let w = 1.0 - l as f64 / (*lags as f64 + 1.0);
                let mut gamma = DMatrix::zeros(k, k);
                for i in l..n {
                    gamma += score(i) * score(i - l).transpose();
                }
                meat += (&gamma + gamma.transpose()) * w;
            }
            (&xtx_inv * meat * &xtx_inv, df_resid)
        }
    };

    let tdist = StudentsT::new(0.0, 1.0, df_inference.max(1) as f64)
        .map_err(|e| EstimationError::Invalid(e.to_string()))?;
    let tcrit = tdist.inverse_cdf(0.975);
    let coefficients = (0..k)
        .map(|j| {
            let se = vcov[(j, j)].max(0.0).sqrt();
            let t = if se > 0.0 { beta[j] / se } else { f64::NAN };
            Coefficient {
                name: names[j].clone(),
                estimate: beta[j],
                std_error: se,
                t,
                p_value: if t.is_finite() {
                    2.0 * (1.0 - tdist.cdf(t.abs()))
                } else {
                    f64::NAN
                },
                ci95: (beta[j] - tcrit * se, beta[j] + tcrit * se),
            }
        })
        .collect();
    Ok(OlsFit {
        coefficients,
        n,
        df_resid,
        r_squared: if sst > 0.0 { 1.0 - ssr / sst } else { f64::NAN },
        sigma2,
        covariance: cov.label(),
        residuals: resid.iter().copied().collect(),
        fitted: fitted.iter().copied().collect(),
    })
}

/// Inverts X'X after scaling it to unit diagonal, so that the rank check does
/// not depend on the units of the regressors (yen vs. dummies).
pub(crate) fn invert_spd(
    xtx: &DMatrix<f64>,
    names: &[String],
) -> Result<DMatrix<f64>, EstimationError> {
    let k = xtx.nrows();
    let d: Vec<f64> = (0..k).map(|j| xtx[(j, j)]).collect();
    if let Some(j) = d.iter().position(|v| *v <= 0.0) {
        return Err(EstimationError::Collinear(format!(
            "column \"{}\" is all zero",
            names[j]
        )));
    }
    let s: Vec<f64> = d.iter().map(|v| 1.0 / v.sqrt()).collect();
    let scaled = DMatrix::from_fn(k, k, |i, j| xtx[(i, j)] * s[i] * s[j]);
    let eig_min = scaled.clone().symmetric_eigenvalues().min();
    if eig_min < 1e-10 {
        return Err(EstimationError::Collinear(format!(
            "smallest scaled eigenvalue {eig_min:.1e}"
        )));
    }
    let inv = scaled
        .cholesky()
        .ok_or_else(|| EstimationError::Collinear("X'X is not positive definite".into()))?
        .inverse();
    Ok(DMatrix::from_fn(k, k, |i, j| inv[(i, j)] * s[i] * s[j]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_line_and_collinearity() {
        let x = DMatrix::from_row_slice(4, 2, &[1.0, 0.0, 1.0, 1.0, 1.0, 2.0, 1.0, 3.0]);
        let y = [1.0, 3.1, 4.9, 7.0];
        let names = vec!["const".to_string(), "t".to_string()];
        let fit = ols(&x, &y, &names, &Covariance::Conventional).unwrap();
        // Normal equations by hand: slope = Sxy/Sxx = 9.9/5 = 1.98, intercept = 4 − 1.98·1.5 = 1.03.
        assert!((fit.coefficients[1].estimate - 1.98).abs() < 1e-12);
        assert!((fit.coefficients[0].estimate - 1.03).abs() < 1e-12);
        let xc = DMatrix::from_row_slice(3, 2, &[1.0, 2.0, 1.0, 2.0, 1.0, 2.0]);
        assert!(matches!(
            ols(&xc, &[1.0, 2.0, 3.0], &names, &Covariance::Conventional),
            Err(EstimationError::Collinear(_))
        ));
        assert!(matches!(
            ols(
                &x.rows(0, 2).into_owned(),
                &y[..2],
                &names,
                &Covariance::Conventional
            ),
            Err(EstimationError::NotEnoughData(_))
        ));
    }
}
