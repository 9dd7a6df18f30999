//! The LP relaxation and the first plans: the problem indexed once, the
//! multipliers of the abolition limits (clarabel), the greedy repair and
//! the first incumbent.

use super::*;
use clarabel::algebra::CscMatrix;
use clarabel::solver::{
    DefaultSettings, DefaultSolver, IPSolver, NonnegativeConeT, SolverStatus as ClarabelStatus,
    ZeroConeT,
};

/// Everything indexed once: departments, costs in millions, allowed options.
pub(super) struct Indexed<'a> {
    pub(super) p: &'a ReallocProblem,
    pub(super) dept_of: Vec<usize>,
    pub(super) ceilings: Vec<Option<f64>>,
    /// Allowed option indices per program (abolish removed for mandatory ones).
    pub(super) allowed: Vec<Vec<usize>>,
}

impl<'a> Indexed<'a> {
    pub(super) fn new(p: &'a ReallocProblem) -> Self {
        let mut names: BTreeMap<&str, usize> = BTreeMap::new();
        for prog in &p.programs {
            let n = names.len();
            names.entry(prog.department_code.as_str()).or_insert(n);
        }
        let mut ceilings = vec![None; names.len()];
        for (name, &d) in &names {
            ceilings[d] = p
                .department_ceilings
                .get(*name)
                .map(|&c| c as f64 / MILLION);
        }
        Indexed {
            dept_of: p
                .programs
                .iter()
                .map(|q| names[q.department_code.as_str()])
                .collect(),
            ceilings,
            allowed: p
                .programs
                .iter()
                .map(|q| {
                    (0..q.options.len())
                        .filter(|&k| !(q.mandatory && q.options[k].kind == OptionKind::Abolish))
                        .collect()
                })
                .collect(),
            p,
        }
    }
    pub(super) fn depts(&self) -> usize {
        self.ceilings.len()
    }
    pub(super) fn opt(&self, i: usize, k: usize) -> &ProgramOption {
        &self.p.programs[i].options[k]
    }
    pub(super) fn cost_m(&self, i: usize, k: usize) -> f64 {
        self.opt(i, k).cost_yen as f64 / MILLION
    }
    pub(super) fn abolish(&self, i: usize, k: usize) -> bool {
        self.opt(i, k).kind == OptionKind::Abolish
    }
}

/// Lagrange multipliers of the budget, the ceilings and the abolition limits.
pub(super) struct Multipliers {
    pub(super) budget: f64,
    pub(super) ceiling: Vec<f64>,
    pub(super) abolitions: Vec<f64>,
}

/// Multipliers from the LP relaxation's duals (clarabel). Any non-negative
/// multipliers give a valid bound, so a failed or inexact LP only weakens the
/// fixing below, never its correctness.
pub(super) fn lp_multipliers(ix: &Indexed, budget_m: f64) -> (Multipliers, Option<Vec<usize>>) {
    let nd = ix.depts();
    let zero = (
        Multipliers {
            budget: 0.0,
            ceiling: vec![0.0; nd],
            abolitions: vec![0.0; nd],
        },
        None,
    );
    let np = ix.p.programs.len();
    let ceil_rows: Vec<Option<usize>> = {
        let mut next = np + 1;
        ix.ceilings
            .iter()
            .map(|c| {
                c.map(|_| {
                    next += 1;
                    next - 1
                })
            })
            .collect()
    };
    let after_ceil = np + 1 + ceil_rows.iter().flatten().count();
    let abol_rows: Vec<Option<usize>> = match ix.p.max_abolitions_per_department {
        Some(_) => (0..nd).map(|d| Some(after_ceil + d)).collect(),
        None => vec![None; nd],
    };
    let first_bound = after_ceil + abol_rows.iter().flatten().count();
    let mut colptr = vec![0usize];
    let mut rows = Vec::new();
    let mut vals = Vec::new();
    let mut q = Vec::new();
    let mut var = 0usize;
    for (i, allowed) in ix.allowed.iter().enumerate() {
        let d = ix.dept_of[i];
        for &k in allowed {
            let c = ix.cost_m(i, k);
            rows.push(i);
            vals.push(1.0);
            rows.push(np);
            vals.push(c);
            if let Some(r) = ceil_rows[d] {
                rows.push(r);
                vals.push(c);
            }
            if ix.abolish(i, k)
                && let Some(r) = abol_rows[d]
            {
                rows.push(r);
                vals.push(1.0);
            }
            rows.push(first_bound + var);
            vals.push(-1.0);
            colptr.push(rows.len());
            q.push(-ix.opt(i, k).contribution);
            var += 1;
        }
    }
    let n = var;
    let m = first_bound + n;
    let a = CscMatrix::new(m, n, colptr, rows, vals);
    let pm = CscMatrix::new(n, n, vec![0; n + 1], vec![], vec![]);
    let mut b = vec![1.0; np];
    b.push(budget_m);
    b.extend(ix.ceilings.iter().flatten());
    if let Some(limit) = ix.p.max_abolitions_per_department {
        b.extend(std::iter::repeat_n(f64::from(limit), nd));
    }
    b.extend(std::iter::repeat_n(0.0, n));
    let cones = [ZeroConeT(np), NonnegativeConeT(m - np)];
    let settings = DefaultSettings::<f64> {
        verbose: false,
        ..DefaultSettings::default()
    };
    let Ok(mut solver) = DefaultSolver::new(&pm, &q, &a, &b, &cones, settings) else {
        return zero;
    };
    solver.solve();
    if !matches!(
        solver.solution.status,
        ClarabelStatus::Solved | ClarabelStatus::AlmostSolved
    ) {
        return zero;
    }
    let z = &solver.solution.z;
    // The LP's choice per program: its largest variable (all but a few are 0/1).
    let xs = &solver.solution.x;
    let mut picks = Vec::with_capacity(np);
    let mut var = 0usize;
    for allowed in &ix.allowed {
        let best = (0..allowed.len())
            .max_by(|&a, &b| xs[var + a].total_cmp(&xs[var + b]))
            .unwrap_or(0);
        picks.push(allowed[best]);
        var += allowed.len();
    }
    let mult = Multipliers {
        budget: z[np].max(0.0),
        ceiling: ceil_rows
            .iter()
            .map(|r| r.map(|r| z[r].max(0.0)).unwrap_or(0.0))
            .collect(),
        abolitions: abol_rows
            .iter()
            .map(|r| r.map(|r| z[r].max(0.0)).unwrap_or(0.0))
            .collect(),
    };
    (mult, Some(picks))
}

/// Makes a plan feasible by the cheapest downgrades (least contribution lost
/// per million yen saved) and by undoing abolitions over the limit. False if
/// no move helps.
pub(super) fn repair(ix: &Indexed, picks: &mut [usize], budget_m: f64) -> bool {
    let eps = 1e-9;
    for _ in 0..(4 * picks.len() + 10) {
        let t = Totals::of(ix, picks);
        let over_abol =
            ix.p.max_abolitions_per_department
                .and_then(|n| (0..ix.depts()).find(|&d| t.abol[d] > n));
        if let Some(d) = over_abol {
            // Undo the abolition whose cheapest replacement costs least.
            let best = (0..picks.len())
                .filter(|&i| ix.dept_of[i] == d && ix.abolish(i, picks[i]))
                .filter_map(|i| {
                    ix.allowed[i]
                        .iter()
                        .copied()
                        .filter(|&k| !ix.abolish(i, k))
                        .min_by(|&a, &b| ix.cost_m(i, a).total_cmp(&ix.cost_m(i, b)))
                        .map(|k| (ix.cost_m(i, k), i, k))
                })
                .min_by(|a, b| a.0.total_cmp(&b.0));
            match best {
                Some((_, i, k)) => picks[i] = k,
                None => return false,
            }
            continue;
        }
        let scope: Option<Option<usize>> = (0..ix.depts())
            .find(|&d| ix.ceilings[d].is_some_and(|c| t.dept[d] > c + eps))
            .map(Some)
            .or_else(|| (t.total > budget_m + eps).then_some(None));
        let Some(scope) = scope else {
            return true;
        };
        let mut best: Option<(f64, usize, usize)> = None;
        for (i, &cur) in picks.iter().enumerate() {
            let d = ix.dept_of[i];
            if scope.is_some_and(|sd| sd != d) {
                continue;
            }
            for &k in &ix.allowed[i] {
                let saved = ix.cost_m(i, cur) - ix.cost_m(i, k);
                if saved <= 0.0 {
                    continue;
                }
                if ix.abolish(i, k)
                    && ix
                        .p
                        .max_abolitions_per_department
                        .is_some_and(|n| t.abol[d] >= n)
                {
                    continue;
                }
                let loss = ix.opt(i, cur).contribution - ix.opt(i, k).contribution;
                let rate = loss / saved;
                if best.is_none_or(|b| rate < b.0) {
                    best = Some((rate, i, k));
                }
            }
        }
        match best {
            Some((_, i, k)) => picks[i] = k,
            None => return false,
        }
    }
    false
}

/// Running totals of a plan, for the greedy heuristic.
pub(super) struct Totals {
    pub(super) total: f64,
    pub(super) dept: Vec<f64>,
    pub(super) abol: Vec<u32>,
}

impl Totals {
    pub(super) fn of(ix: &Indexed, picks: &[usize]) -> Totals {
        let mut t = Totals {
            total: 0.0,
            dept: vec![0.0; ix.depts()],
            abol: vec![0; ix.depts()],
        };
        for (i, &k) in picks.iter().enumerate() {
            t.apply(ix, i, k, 1.0);
        }
        t
    }
    pub(super) fn apply(&mut self, ix: &Indexed, i: usize, k: usize, sign: f64) {
        let d = ix.dept_of[i];
        let c = ix.cost_m(i, k);
        self.total += sign * c;
        self.dept[d] += sign * c;
        if ix.abolish(i, k) {
            if sign > 0.0 {
                self.abol[d] += 1;
            } else {
                self.abol[d] -= 1;
            }
        }
    }
    /// Would switching program i from option `from` to `to` keep the plan feasible?
    pub(super) fn fits(
        &self,
        ix: &Indexed,
        i: usize,
        from: usize,
        to: usize,
        budget_m: f64,
    ) -> bool {
        let d = ix.dept_of[i];
        let delta = ix.cost_m(i, to) - ix.cost_m(i, from);
        let eps = 1e-9;
        let abol = self.abol[d] + u32::from(ix.abolish(i, to)) - u32::from(ix.abolish(i, from));
        self.total + delta <= budget_m + eps
            && ix.ceilings[d].is_none_or(|c| self.dept[d] + delta <= c + eps)
            && ix.p.max_abolitions_per_department.is_none_or(|n| abol <= n)
    }
}

/// A good feasible plan: the cheapest plan (feasible by the precheck), then
/// greedy upgrades by Lagrangian-adjusted gain per yen, repeated while any applies.
pub(super) fn incumbent(
    ix: &Indexed,
    budget_m: f64,
    mult: &Multipliers,
    lp_picks: Option<Vec<usize>>,
) -> Vec<usize> {
    let p = ix.p;
    let from_lp = lp_picks.and_then(|mut picks| repair(ix, &mut picks, budget_m).then_some(picks));
    // Cheapest plan: cheapest non-abolish option, then the largest savings from abolitions.
    let mut picks: Vec<usize> = (0..p.programs.len())
        .map(|i| {
            ix.allowed[i]
                .iter()
                .copied()
                .filter(|&k| !ix.abolish(i, k))
                .min_by(|&a, &b| ix.cost_m(i, a).total_cmp(&ix.cost_m(i, b)))
                .unwrap_or(ix.allowed[i][0])
        })
        .collect();
    let mut savings: Vec<(f64, usize, usize)> = Vec::new();
    for (i, allowed) in ix.allowed.iter().enumerate() {
        if let Some(&k) = allowed.iter().find(|&&k| ix.abolish(i, k)) {
            let s = ix.cost_m(i, picks[i]) - ix.cost_m(i, k);
            if s > 0.0 {
                savings.push((s, i, k));
            }
        }
    }
    savings.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut used = vec![0u32; ix.depts()];
    for (_, i, k) in savings {
        let d = ix.dept_of[i];
        if p.max_abolitions_per_department.is_none_or(|n| used[d] < n) {
            used[d] += 1;
            picks[i] = k;
        }
    }
    if let Some(lp) = from_lp {
        picks = lp;
    }
    let mut totals = Totals::of(ix, &picks);
    for _ in 0..4 {
        // Candidate moves ranked by adjusted gain: contribution minus the
        // multiplier-priced cost, so scarce departments are spent last.
        let mut moves: Vec<(f64, usize, usize)> = Vec::new();
        for (i, allowed) in ix.allowed.iter().enumerate() {
            let d = ix.dept_of[i];
            let price = mult.budget + mult.ceiling[d];
            let cur = picks[i];
            for &k in allowed {
                let dc = ix.opt(i, k).contribution - ix.opt(i, cur).contribution;
                if k == cur || dc <= 0.0 {
                    continue;
                }
                let dcost = ix.cost_m(i, k) - ix.cost_m(i, cur);
                let adjusted = dc - price * dcost;
                let ratio = if dcost <= 0.0 {
                    f64::INFINITY
                } else {
                    dc / dcost
                };
                moves.push((if price > 0.0 { adjusted } else { ratio }, i, k));
            }
        }
        moves.sort_by(|a, b| b.0.total_cmp(&a.0));
        let mut changed = false;
        for (_, i, k) in moves {
            let cur = picks[i];
            if ix.opt(i, k).contribution > ix.opt(i, cur).contribution
                && totals.fits(ix, i, cur, k, budget_m)
            {
                totals.apply(ix, i, cur, -1.0);
                totals.apply(ix, i, k, 1.0);
                picks[i] = k;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    picks
}
