//! Weighted least squares on the simplex by a primal active-set method
//! (Lawson–Hanson style): the inner problem of the synthetic control,
//!
//!   min_w Σᵢ vᵢ (bᵢ − Σⱼ Aᵢⱼ wⱼ)²   subject to  w ≥ 0, Σw = 1,
//!
//! solved exactly on the set of donors with positive weight, which is small
//! (at most k + 1 for k predictors in general position). Each step costs one
//! pass over the donors (the gradient, O(k·J)) plus a |S|×|S| Cholesky, so a
//! solve takes microseconds where the interior-point QP takes a millisecond,
//! and it warm-starts from the previous weights: the nested search over V
//! solves thousands of nearby problems.
//!
//! Returns `None` when it cannot certify the optimum (a singular sub-problem
//! or too many steps); the caller then uses the interior-point QP.

/// Scratch space reused across solves (no allocation per solve once warm).
#[derive(Debug, Default)]
pub struct Workspace {
    support: Vec<usize>,
    z: Vec<f64>,
    m: Vec<f64>,
    rhs: Vec<f64>,
    d: Vec<f64>,
    r: Vec<f64>,
    u: Vec<f64>,
}

/// `x` is column-major k × (J + 1) (column 0 the treated unit, as in
/// `synth::simplex_weights`), `v` the k predictor weights, `w` on entry a
/// feasible start (≥ 0, sums to 1; anything else is replaced by the best
/// single donor) and on success the optimum.
pub fn solve(x: &[f64], k: usize, v: &[f64], w: &mut [f64], ws: &mut Workspace) -> Option<()> {
    let j_count = w.len();
    if k == 0 || j_count == 0 || x.len() != k * (j_count + 1) || v.len() != k {
        return None;
    }
    if v.iter().any(|x| !x.is_finite() || *x < 0.0) || x.iter().any(|a| !a.is_finite()) {
        return None;
    }
    let b = &x[..k];
    let col = |j: usize| &x[(j + 1) * k..(j + 2) * k];
    let sum: f64 = w.iter().sum();
    ws.support.clear();
    if w.iter().all(|x| *x >= 0.0) && (sum - 1.0).abs() < 1e-9 {
        ws.support.extend((0..j_count).filter(|&j| w[j] > 0.0));
    }
    if ws.support.is_empty() {
        // The single donor closest to the treated unit.
        let dist = |j: usize| -> f64 {
            col(j)
                .iter()
                .zip(b)
                .zip(v)
                .map(|((a, bb), vi)| vi * (bb - a) * (bb - a))
                .sum()
        };
        let best = (0..j_count).min_by(|&a, &c| dist(a).total_cmp(&dist(c)))?;
        w.iter_mut().for_each(|x| *x = 0.0);
        w[best] = 1.0;
        ws.support.push(best);
    }
    ws.r.resize(k, 0.0);
    ws.u.resize(k, 0.0);
    let max_steps = 4 * j_count + 100;
    // The optimality test is relative to |A|·|V r|: the largest entry, once.
    let largest = x.iter().fold(0.0f64, |m, a| m.max(a.abs()));
    let mut steps = 0;
    let mut last_added = usize::MAX;
    loop {
        // Make w optimal on its support, dropping donors that would turn negative.
        loop {
            steps += 1;
            if steps > max_steps {
                return None;
            }
            equality_ls(x, k, v, ws)?;
            let s = ws.support.len();
            if ws.z[..s].iter().all(|&z| z > 0.0) {
                for (i, &j) in ws.support.iter().enumerate() {
                    w[j] = ws.z[i];
                }
                break;
            }
            // Step from w towards z until the first weight reaches zero.
            let mut alpha = 1.0f64;
            for (i, &j) in ws.support.iter().enumerate() {
                let z = ws.z[i];
                if z <= 0.0 {
                    let a = w[j] / (w[j] - z);
                    alpha = alpha.min(a);
                }
            }
            let alpha = alpha.clamp(0.0, 1.0);
            for (i, &j) in ws.support.iter().enumerate() {
                w[j] += alpha * (ws.z[i] - w[j]);
            }
            // Drop the donors at (or numerically below) zero; at least one is.
            let before = ws.support.len();
            let mut smallest = (f64::INFINITY, 0usize);
            for (i, &j) in ws.support.iter().enumerate() {
                if ws.z[i] <= 0.0 && w[j] < smallest.0 {
                    smallest = (w[j], i);
                }
            }
            let drop_at = smallest.1;
            let mut i = 0;
            ws.support.retain(|&j| {
                let keep = i != drop_at && w[j] > 1e-14;
                i += 1;
                if !keep {
                    w[j] = 0.0;
                }
                keep
            });
            if ws.support.len() == before || ws.support.is_empty() {
                return None;
            }
            renormalise(w, &ws.support);
        }
        // Residual and gradient gⱼ = −Aⱼ'V r (halved).
        for i in 0..k {
            let fitted: f64 = ws.support.iter().map(|&j| w[j] * col(j)[i]).sum();
            ws.r[i] = b[i] - fitted;
            ws.u[i] = v[i] * ws.r[i];
        }
        let grad = |j: usize| -> f64 { -col(j).iter().zip(&ws.u).map(|(a, u)| a * u).sum::<f64>() };
        let mu: f64 = ws.support.iter().map(|&j| w[j] * grad(j)).sum();
        let scale = ws.u.iter().map(|u| u.abs()).sum::<f64>() * largest;
        let mut best = (0.0f64, usize::MAX);
        for (j, &wj) in w.iter().enumerate() {
            if wj > 0.0 {
                continue;
            }
            let g = grad(j) - mu;
            if g < best.0 {
                best = (g, j);
            }
        }
        if best.1 == usize::MAX || best.0 >= -1e-11 * scale {
            return Some(());
        }
        if best.1 == last_added && ws.support.len() == 1 {
            return None;
        }
        last_added = best.1;
        ws.support.push(best.1);
        w[best.1] = 0.0;
    }
}

fn renormalise(w: &mut [f64], support: &[usize]) {
    let s: f64 = support.iter().map(|&j| w[j]).sum();
    if s > 0.0 {
        for &j in support {
            w[j] /= s;
        }
    }
}

/// min Σᵢ vᵢ (bᵢ − Σ_{s∈S} A_{i,s} z_s)² with Σz = 1 (no sign constraint), into
/// `ws.z`. Eliminates the first support donor: z₀ = 1 − Σ y, then the
/// normal equations of (b − A₀) ≈ Σ_m (A_m − A₀) y_m by Cholesky.
fn equality_ls(x: &[f64], k: usize, v: &[f64], ws: &mut Workspace) -> Option<()> {
    let s = ws.support.len();
    ws.z.resize(s, 0.0);
    if s == 1 {
        ws.z[0] = 1.0;
        return Some(());
    }
    let p = s - 1;
    let col = |j: usize| &x[(j + 1) * k..(j + 2) * k];
    let a0 = col(ws.support[0]);
    // d = b − A₀ and the differences D_m = A_m − A₀ (k × p, column-major).
    ws.d.resize(k * (p + 1), 0.0);
    for i in 0..k {
        ws.d[i] = x[i] - a0[i];
    }
    for m in 0..p {
        let am = col(ws.support[m + 1]);
        for i in 0..k {
            ws.d[(m + 1) * k + i] = am[i] - a0[i];
        }
    }
    ws.m.resize(p * p, 0.0);
    ws.rhs.resize(p, 0.0);
    // Column m of D starts at (m + 1)·k in ws.d; d itself at 0.
    let mut trace = 0.0;
    for a in 0..p {
        let da = &ws.d[(a + 1) * k..(a + 2) * k];
        for c in 0..=a {
            let dc = &ws.d[(c + 1) * k..(c + 2) * k];
            let g: f64 = (0..k).map(|i| v[i] * da[i] * dc[i]).sum();
            ws.m[a * p + c] = g;
            ws.m[c * p + a] = g;
        }
        trace += ws.m[a * p + a];
        ws.rhs[a] = (0..k).map(|i| v[i] * da[i] * ws.d[i]).sum();
    }
    if !(trace > 0.0 && trace.is_finite()) {
        return None;
    }
    cholesky_solve(&mut ws.m, &mut ws.rhs, p, trace)?;
    let mut rest = 0.0;
    for m in 0..p {
        ws.z[m + 1] = ws.rhs[m];
        rest += ws.rhs[m];
    }
    ws.z[0] = 1.0 - rest;
    Some(())
}

/// Solves M y = r in place (M symmetric p × p, row-major, overwritten by its
/// Cholesky factor). Fails on a (numerically) singular M: donors whose
/// predictors are affinely dependent on the others' are not identified.
fn cholesky_solve(m: &mut [f64], r: &mut [f64], p: usize, trace: f64) -> Option<()> {
    let tiny = 1e-13 * trace;
    for i in 0..p {
        for j in 0..=i {
            let mut s = m[i * p + j];
            for l in 0..j {
                s -= m[i * p + l] * m[j * p + l];
            }
            if i == j {
                if s <= tiny {
                    return None;
                }
                m[i * p + i] = s.sqrt();
            } else {
                m[i * p + j] = s / m[j * p + j];
            }
        }
    }
    for i in 0..p {
        let mut s = r[i];
        for l in 0..i {
            s -= m[i * p + l] * r[l];
        }
        r[i] = s / m[i * p + i];
    }
    for i in (0..p).rev() {
        let mut s = r[i];
        for l in i + 1..p {
            s -= m[l * p + i] * r[l];
        }
        r[i] = s / m[i * p + i];
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_donors_straddling_the_treated_unit_share_the_weight() {
        // Treated at (1, 1); donors at (0, 0), (3, 3) and (5, −5):
        // the best point is the treated itself, 2/3 on the first, 1/3 on the second.
        let x = [1.0, 1.0, 0.0, 0.0, 3.0, 3.0, 5.0, -5.0];
        let mut w = vec![0.0; 3];
        let mut ws = Workspace::default();
        solve(&x, 2, &[1.0, 1.0], &mut w, &mut ws).unwrap();
        assert!((w[0] - 2.0 / 3.0).abs() < 1e-12, "{w:?}");
        assert!((w[1] - 1.0 / 3.0).abs() < 1e-12, "{w:?}");
        assert_eq!(w[2], 0.0);
        // A warm start from a poor feasible point reaches the same optimum.
        let mut w = vec![0.0, 0.0, 1.0];
        solve(&x, 2, &[1.0, 1.0], &mut w, &mut ws).unwrap();
        assert!((w[0] - 2.0 / 3.0).abs() < 1e-12, "{w:?}");
    }

    #[test]
    fn treated_outside_the_hull_projects_onto_the_nearest_face() {
        // Treated at (2, 0); donors (0, 1), (0, −1), (1, 5): the nearest point
        // of the hull lies on the edge (0, −1)–(1, 5) at t = 8/37. Checked by
        // the KKT conditions (gradient equal on the support, larger off it)
        // and against a grid over the simplex.
        let x = [2.0, 0.0, 0.0, 1.0, 0.0, -1.0, 1.0, 5.0];
        let v = [1.0, 1.0];
        let mut w = vec![0.0; 3];
        let mut ws = Workspace::default();
        solve(&x, 2, &v, &mut w, &mut ws).unwrap();
        let s: f64 = w.iter().sum();
        assert!((s - 1.0).abs() < 1e-12);
        assert!(w.iter().all(|x| *x >= 0.0));
        let fit = [w[2], w[0] - w[1] + 5.0 * w[2]];
        let r = [2.0 - fit[0], 0.0 - fit[1]];
        let g: Vec<f64> = (0..3)
            .map(|j| -(x[(j + 1) * 2] * r[0] + x[(j + 1) * 2 + 1] * r[1]))
            .collect();
        let mu: f64 = (0..3).map(|j| w[j] * g[j]).sum();
        assert!((w[2] - 8.0 / 37.0).abs() < 1e-12, "{w:?}");
        assert!((w[1] - 29.0 / 37.0).abs() < 1e-12, "{w:?}");
        for j in 0..3 {
            if w[j] > 0.0 {
                assert!((g[j] - mu).abs() < 1e-9, "{g:?} {w:?}");
            } else {
                assert!(g[j] >= mu - 1e-9, "{g:?} {w:?}");
            }
        }
        // The loss is below every single donor's and every pair's on the simplex grid.
        let loss = r[0] * r[0] + r[1] * r[1];
        for a in 0..=100 {
            for c in 0..=(100 - a) {
                let (wa, wc) = (a as f64 / 100.0, c as f64 / 100.0);
                let wb = 1.0 - wa - wc;
                let f0 = wc;
                let f1 = wa - wb + 5.0 * wc;
                let l = (2.0 - f0).powi(2) + f1.powi(2);
                assert!(loss <= l + 1e-12);
            }
        }
    }
}
