//! Difference-in-differences: the 2×2 table of means, the regression form
//! `y ~ post + treated + post×treated` for repeated cross-sections, and the
//! two-way fixed-effects regression on a panel.

use nalgebra::DMatrix;
use serde::Serialize;

use crate::ols::{Coefficient, Covariance, EstimationError, OlsFit, ols};
use crate::panel::Panel;

/// Means of the four cells and the DiD estimate
/// (treated post − treated pre) − (control post − control pre).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Did2x2 {
    pub treated_pre: f64,
    pub treated_post: f64,
    pub control_pre: f64,
    pub control_post: f64,
    pub estimate: f64,
    pub treated_units: Vec<String>,
    pub control_units: Vec<String>,
    /// Observations used in each cell: treated pre, treated post, control pre, control post.
    pub cell_counts: [usize; 4],
}

/// Resolves unit names to indices with a clear error for an unknown one.
pub(crate) fn resolve_units(
    panel: &Panel,
    names: &[String],
) -> Result<Vec<usize>, EstimationError> {
    names
        .iter()
        .map(|n| {
            panel
                .unit_index(n)
                .ok_or_else(|| EstimationError::UnknownUnit(n.clone()))
        })
        .collect()
}

/// The 2×2 DiD on a panel. Periods `>= treatment_time` are "post". Controls are
/// every unit that is neither treated nor excluded. Missing cells are skipped.
pub fn did_2x2(
    panel: &Panel,
    treated: &[String],
    treatment_time: i64,
    exclude: &[String],
) -> Result<Did2x2, EstimationError> {
    let treated_idx = resolve_units(panel, treated)?;
    let excluded_idx = resolve_units(panel, exclude)?;
    if treated_idx.is_empty() {
        return Err(EstimationError::Invalid("no treated unit given".into()));
    }
    let controls: Vec<usize> = (0..panel.units.len())
        .filter(|u| !treated_idx.contains(u) && !excluded_idx.contains(u))
        .collect();
    let mut sums = [0.0; 4];
    let mut counts = [0usize; 4];
    for u in 0..panel.units.len() {
        let group = if treated_idx.contains(&u) {
            0
        } else if controls.contains(&u) {
            2
        } else {
            continue;
        };
        for (p, &t) in panel.periods.iter().enumerate() {
            if let Some(v) = panel.outcome[u][p] {
                let cell = group + usize::from(t >= treatment_time);
                sums[cell] += v;
                counts[cell] += 1;
            }
        }
    }
    let names = ["treated pre", "treated post", "control pre", "control post"];
    if let Some(i) = counts.iter().position(|&c| c == 0) {
        return Err(EstimationError::NotEnoughData(format!(
            "no observation in the {} cell",
            names[i]
        )));
    }
    let m: Vec<f64> = sums
        .iter()
        .zip(&counts)
        .map(|(s, &c)| s / c as f64)
        .collect();
    Ok(Did2x2 {
        treated_pre: m[0],
        treated_post: m[1],
        control_pre: m[2],
        control_post: m[3],
        estimate: (m[1] - m[0]) - (m[3] - m[2]),
        treated_units: treated_idx
            .iter()
            .map(|&u| panel.units[u].clone())
            .collect(),
        control_units: controls.iter().map(|&u| panel.units[u].clone()).collect(),
        cell_counts: counts,
    })
}

/// A DiD estimate from a regression, with the whole fit for reference.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DidRegression {
    /// The coefficient on treated × post.
    pub effect: Coefficient,
    pub fit: OlsFit,
}

/// One observation of a repeated cross-section (e.g. house sales in two years).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DidObservation {
    pub outcome: f64,
    pub treated: bool,
    pub post: bool,
    /// Cluster id, used when `cluster` is asked for.
    pub cluster: usize,
}

/// `y = b0 + b1·post + b2·treated + b3·post·treated + e`; b3 is the DiD.
/// Coefficient names: `const`, `post`, `treated`, `post_x_treated`.
pub fn did_regression(
    obs: &[DidObservation],
    cluster: bool,
) -> Result<DidRegression, EstimationError> {
    let n = obs.len();
    let x = DMatrix::from_fn(n, 4, |i, j| {
        let o = &obs[i];
        let (p, t) = (f64::from(u8::from(o.post)), f64::from(u8::from(o.treated)));
        [1.0, p, t, p * t][j]
    });
    let y: Vec<f64> = obs.iter().map(|o| o.outcome).collect();
    let names: Vec<String> = ["const", "post", "treated", "post_x_treated"]
        .map(String::from)
        .into();
    let cov = if cluster {
        Covariance::Cluster(obs.iter().map(|o| o.cluster).collect())
    } else {
        Covariance::Conventional
    };
    let fit = ols(&x, &y, &names, &cov)?;
    Ok(DidRegression {
        effect: fit.coefficients[3].clone(),
        fit,
    })
}

/// Two-way fixed effects on a panel: y_it = α_i + λ_t + δ·D_it + e_it with
/// D_it = 1 for treated units from `treatment_time` on. Unit and period
/// dummies (first of each dropped) are in the fit as `unit:NAME` / `period:T`;
/// δ is `treated_x_post`. `cluster` = cluster-robust by unit.
pub fn did_twfe(
    panel: &Panel,
    treated: &[String],
    treatment_time: i64,
    exclude: &[String],
    cluster: bool,
) -> Result<DidRegression, EstimationError> {
    let treated_idx = resolve_units(panel, treated)?;
    let excluded_idx = resolve_units(panel, exclude)?;
    if treated_idx.is_empty() {
        return Err(EstimationError::Invalid("no treated unit given".into()));
    }
    let units: Vec<usize> = (0..panel.units.len())
        .filter(|u| !excluded_idx.contains(u))
        .collect();
    let mut rows: Vec<(usize, usize, f64)> = Vec::new();
    for (ui, &u) in units.iter().enumerate() {
        for p in 0..panel.periods.len() {
            if let Some(v) = panel.outcome[u][p] {
                rows.push((ui, p, v));
            }
        }
    }
    let (nu, np) = (units.len(), panel.periods.len());
    let k = 2 + (nu - 1) + (np - 1);
    let mut names = vec!["const".to_string(), "treated_x_post".to_string()];
    names.extend(
        units
            .iter()
            .skip(1)
            .map(|&u| format!("unit:{}", panel.units[u])),
    );
    names.extend(panel.periods.iter().skip(1).map(|t| format!("period:{t}")));
    let mut x = DMatrix::zeros(rows.len(), k);
    for (i, &(ui, p, _)) in rows.iter().enumerate() {
        x[(i, 0)] = 1.0;
        if treated_idx.contains(&units[ui]) && panel.periods[p] >= treatment_time {
            x[(i, 1)] = 1.0;
        }
        if ui > 0 {
            x[(i, 1 + ui)] = 1.0;
        }
        if p > 0 {
            x[(i, 1 + (nu - 1) + p)] = 1.0;
        }
    }
    let y: Vec<f64> = rows.iter().map(|r| r.2).collect();
    let cov = if cluster {
        Covariance::Cluster(rows.iter().map(|r| r.0).collect())
    } else {
        Covariance::Conventional
    };
    let fit = ols(&x, &y, &names, &cov)?;
    Ok(DidRegression {
        effect: fit.coefficients[1].clone(),
        fit,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::panel::{PanelSpec, Table};
    use crate::testdata::shared_data;

    fn prop99() -> Panel {
        let text = shared_data("prop99/california_prop99.csv");
        let spec = PanelSpec {
            unit: "State".into(),
            time: "Year".into(),
            outcome: "PacksPerCapita".into(),
            columns: None,
        };
        Panel::from_csv_str(&text, &spec).unwrap()
    }

    #[test]
    fn prop99_plain_did_is_minus_27_349() {
        let p = prop99();
        assert_eq!(p.units.len(), 39);
        assert_eq!(p.periods.len(), 31);
        let d = did_2x2(&p, &["California".into()], 1989, &[]).unwrap();
        assert_eq!(d.control_units.len(), 38);
        // Arkhangelsky et al. (2021) Table 1: −27.3; −27.349111 from this file. Tolerance 1e-3.
        assert!((d.estimate - -27.349).abs() < 1e-3, "{}", d.estimate);
        // The two-way FE regression gives the same point estimate on a balanced panel.
        let fe = did_twfe(&p, &["California".into()], 1989, &[], false).unwrap();
        assert!(
            (fe.effect.estimate - d.estimate).abs() < 1e-8,
            "{}",
            fe.effect.estimate
        );
        // statsmodels `PacksPerCapita ~ D + C(State) + C(Year)`: SE 4.40945446;
        // clustered by state (cov_type="cluster"): 2.84874154.
        assert!(
            (fe.effect.std_error - 4.409454461).abs() < 1e-6,
            "{}",
            fe.effect.std_error
        );
        let cl = did_twfe(&p, &["California".into()], 1989, &[], true).unwrap();
        assert!((cl.effect.estimate - d.estimate).abs() < 1e-8);
        assert!(
            (cl.effect.std_error - 2.848741543).abs() < 1e-6,
            "{}",
            cl.effect.std_error
        );
        assert!(matches!(
            did_2x2(&p, &["Tokyo".into()], 1989, &[]),
            Err(EstimationError::UnknownUnit(u)) if u == "Tokyo"
        ));
    }

    #[test]
    fn kiel_incinerator_matches_wooldridge_example_13_3() {
        let t = Table::parse(&shared_data("kielmc/kielmc.csv")).unwrap();
        let rprice = t.required_column("rprice").unwrap();
        let y81 = t.required_column("y81").unwrap();
        let nearinc = t.required_column("nearinc").unwrap();
        let obs: Vec<DidObservation> = (0..rprice.len())
            .map(|i| DidObservation {
                outcome: rprice[i],
                post: y81[i] == 1.0,
                treated: nearinc[i] == 1.0,
                cluster: i,
            })
            .collect();
        assert_eq!(obs.len(), 321);
        let r = did_regression(&obs, false).unwrap();
        let want_coef = [82517.23, 18790.29, -18824.37, -11863.90];
        let want_se = [2726.91, 4050.07, 4875.32, 7456.65];
        for (j, c) in r.fit.coefficients.iter().enumerate() {
            // Published to two decimals: tolerance 0.01.
            assert!(
                (c.estimate - want_coef[j]).abs() < 0.01,
                "{} {}",
                c.name,
                c.estimate
            );
            assert!(
                (c.std_error - want_se[j]).abs() < 0.01,
                "{} {}",
                c.name,
                c.std_error
            );
        }
        assert!(
            (r.fit.r_squared - 0.1740).abs() < 1e-4,
            "{}",
            r.fit.r_squared
        );
        assert!((r.effect.estimate - -11863.90).abs() < 0.01);
        // Each house its own cluster = HC1 (White with n/(n−k)); differs from the conventional SE.
        let hc = did_regression(&obs, true).unwrap();
        assert!((hc.effect.estimate - r.effect.estimate).abs() < 1e-6);
        // statsmodels cov_type="HC1": 8635.5853 for the DiD term.
        assert!(
            (hc.effect.std_error - 8635.585271746).abs() < 1e-4,
            "{}",
            hc.effect.std_error
        );
    }
}
