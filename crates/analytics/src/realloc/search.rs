//! Depth-first branch and bound over the programs the root bound left open.

use super::*;

/// No option chosen yet (a free program of the search).
pub(super) const FREE: u8 = u8::MAX;

/// One option as the exact search sees it: cost in whole yen, the true
/// contribution `p` and the contribution priced for the abolition limit,
/// `q = p − ν_d·[abolish]`.
#[derive(Clone, Copy)]
pub(super) struct SearchOption {
    /// Index into the program's original options.
    pub(super) k: usize,
    pub(super) cost: i64,
    pub(super) p: f64,
    pub(super) q: f64,
    pub(super) abolish: bool,
}

pub(super) struct SearchProgram {
    /// Index into the problem's programs.
    pub(super) i: usize,
    pub(super) dept: usize,
    /// Options sorted by cost (then by q, best first); `opts[0]` is the base
    /// of the LP relaxation.
    pub(super) opts: Vec<SearchOption>,
    /// Root reduced cost of each option (0 for the Lagrangian's choice).
    pub(super) r: Vec<f64>,
}

/// One step along a program's LP hull, from option `from` to option `to`.
#[derive(Clone, Copy)]
pub(super) struct HullStep {
    pub(super) prog: u32,
    pub(super) to: u8,
    /// Leaves an abolition (the base is abolish): the plan has one fewer.
    pub(super) unabolish: bool,
    pub(super) dcost: i64,
    pub(super) dq: f64,
    pub(super) dp: f64,
    pub(super) slope: f64,
}

/// The LP relaxation at one node of the search.
#[derive(Default)]
pub(super) struct NodeLp {
    pub(super) infeasible: bool,
    pub(super) bound: f64,
    /// True contribution of the LP solution rounded down (fractional
    /// programs at their cheaper hull point): always within the budget and
    /// the ceilings.
    pub(super) rounded: f64,
    /// The rounded plan keeps every abolition limit.
    pub(super) rounded_ok: bool,
    /// Department whose abolition limit the rounded plan breaks.
    pub(super) abol_over: Option<usize>,
    /// The fractional program where the budget ran out: (program, from, to, fraction).
    pub(super) budget_frac: Option<(usize, u8, u8, f64)>,
    /// A fractional program where a ceiling ran out.
    pub(super) dept_frac: Option<(usize, u8, u8, f64)>,
    /// Slope of the step that used up the budget / each department's ceiling.
    pub(super) budget_slope: Option<f64>,
}

/// Depth-first branch and bound over the programs the root bound left open.
/// The node bound is the LP relaxation with the budget and every ceiling
/// kept exactly (a laminar family of knapsack constraints: greedy over the
/// programs' LP-hull steps by slope is optimal) and the abolition limits
/// priced by the root multipliers ν (a Lagrangian relaxation, valid for any
/// ν ≥ 0). Costs are whole yen (i64) throughout, so every plan the search
/// accepts is exactly feasible.
pub(super) struct Search {
    pub(super) progs: Vec<SearchProgram>,
    pub(super) incs: Vec<HullStep>,
    pub(super) budget: i64,
    pub(super) ceiling: Vec<i64>,
    pub(super) abol_limit: Vec<i64>,
    /// Σ ν_d·N_d plus the priced contribution of programs settled at the root.
    pub(super) q_const: f64,
    /// True contribution of the programs settled at the root.
    pub(super) p_const: f64,
    // Node state.
    pub(super) fixed: Vec<u8>,
    pub(super) cost_dept: Vec<i64>,
    pub(super) cost_total: i64,
    pub(super) q_sum: f64,
    pub(super) p_sum: f64,
    pub(super) abol_fixed: Vec<i64>,
    pub(super) abol_base_free: Vec<i64>,
    pub(super) r_fixed: f64,
    pub(super) level: Vec<u8>,
    pub(super) unabol: Vec<i64>,
    pub(super) cap_slope: Vec<Option<f64>>,
    pub(super) rem_d: Vec<i64>,
    /// Per department: gains of abolishing over the best other option.
    pub(super) adv: Vec<Vec<f64>>,
    pub(super) prices: Vec<f64>,
    /// Root multipliers (λ, λ + μ_d), for a second exact-abolition bound.
    pub(super) root_prices: Option<(f64, Vec<f64>)>,
    // Root bound and the incumbent.
    pub(super) root_l: f64,
    pub(super) best: f64,
    pub(super) best_levels: Option<Vec<u8>>,
    pub(super) tol: f64,
    pub(super) nodes: u64,
    pub(super) deadline: Option<Instant>,
    pub(super) timed_out: bool,
    /// Stopped by the time limit or the node budget.
    pub(super) stopped: bool,
    pub(super) node_limit: u64,
}

impl Search {
    /// `progs` with their options; `budget`, `ceiling` (i64::MAX = none) and
    /// `abol_limit` are what is left after the settled programs, whose
    /// contributions are `p_const` / `q_const`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn new(
        progs: Vec<SearchProgram>,
        budget: i64,
        ceiling: Vec<i64>,
        abol_limit: Vec<i64>,
        q_const: f64,
        p_const: f64,
        best: f64,
        tol: f64,
        deadline: Option<Instant>,
    ) -> Search {
        let nd = ceiling.len();
        let mut incs = Vec::new();
        let mut cost_dept = vec![0i64; nd];
        let mut cost_total = 0i64;
        let mut q_sum = 0.0;
        let mut p_sum = 0.0;
        let mut abol_base_free = vec![0i64; nd];
        for (pi, pr) in progs.iter().enumerate() {
            let base = pr.opts[0];
            cost_dept[pr.dept] = cost_dept[pr.dept].saturating_add(base.cost);
            cost_total = cost_total.saturating_add(base.cost);
            q_sum += base.q;
            p_sum += base.p;
            abol_base_free[pr.dept] += i64::from(base.abolish);
            // Upper concave hull of (cost, q) from the base.
            let mut hull: Vec<usize> = vec![0];
            for j in 1..pr.opts.len() {
                let o = pr.opts[j];
                let last = pr.opts[*hull.last().unwrap_or(&0)];
                if o.q <= last.q || o.cost == last.cost {
                    continue;
                }
                while hull.len() >= 2 {
                    let a = pr.opts[hull[hull.len() - 2]];
                    let b = pr.opts[hull[hull.len() - 1]];
                    let s_ab = (b.q - a.q) / (b.cost - a.cost) as f64;
                    let s_bo = (o.q - b.q) / (o.cost - b.cost) as f64;
                    if s_ab <= s_bo {
                        hull.pop();
                    } else {
                        break;
                    }
                }
                hull.push(j);
            }
            for w in hull.windows(2) {
                let (a, b) = (pr.opts[w[0]], pr.opts[w[1]]);
                let dcost = b.cost - a.cost;
                incs.push(HullStep {
                    prog: pi as u32,
                    to: w[1] as u8,
                    unabolish: a.abolish && !b.abolish,
                    dcost,
                    dq: b.q - a.q,
                    dp: b.p - a.p,
                    slope: (b.q - a.q) / dcost as f64,
                });
            }
        }
        // By slope, best first; a program's steps stay in hull order.
        incs.sort_by(|a, b| {
            b.slope
                .total_cmp(&a.slope)
                .then(a.prog.cmp(&b.prog))
                .then(a.to.cmp(&b.to))
        });
        let n = progs.len();
        Search {
            progs,
            incs,
            budget,
            ceiling,
            abol_limit,
            q_const,
            p_const,
            fixed: vec![FREE; n],
            cost_dept,
            cost_total,
            q_sum,
            p_sum,
            abol_fixed: vec![0; nd],
            abol_base_free,
            r_fixed: 0.0,
            level: vec![0; n],
            unabol: vec![0; nd],
            cap_slope: vec![None; nd],
            rem_d: vec![0; nd],
            adv: vec![Vec::new(); nd],
            prices: Vec::new(),
            root_prices: None,
            root_l: f64::INFINITY,
            best,
            best_levels: None,
            tol,
            nodes: 0,
            deadline,
            timed_out: false,
            stopped: false,
            node_limit: u64::MAX,
        }
    }

    pub(super) fn fix(&mut self, pi: usize, o: u8) {
        let pr = &self.progs[pi];
        let (base, opt) = (pr.opts[0], pr.opts[o as usize]);
        let d = pr.dept;
        self.cost_dept[d] += opt.cost - base.cost;
        self.cost_total += opt.cost - base.cost;
        self.q_sum += opt.q - base.q;
        self.p_sum += opt.p - base.p;
        self.abol_base_free[d] -= i64::from(base.abolish);
        self.abol_fixed[d] += i64::from(opt.abolish);
        self.r_fixed += pr.r[o as usize];
        self.fixed[pi] = o;
    }

    pub(super) fn unfix(&mut self, pi: usize, o: u8) {
        let pr = &self.progs[pi];
        let (base, opt) = (pr.opts[0], pr.opts[o as usize]);
        let d = pr.dept;
        self.cost_dept[d] -= opt.cost - base.cost;
        self.cost_total -= opt.cost - base.cost;
        self.q_sum -= opt.q - base.q;
        self.p_sum -= opt.p - base.p;
        self.abol_base_free[d] += i64::from(base.abolish);
        self.abol_fixed[d] -= i64::from(opt.abolish);
        self.r_fixed -= pr.r[o as usize];
        self.fixed[pi] = FREE;
    }

    /// The node's LP relaxation by the greedy over hull steps.
    pub(super) fn lp(&mut self) -> NodeLp {
        let Search {
            progs,
            incs,
            budget,
            ceiling,
            abol_limit,
            q_const,
            p_const,
            fixed,
            cost_dept,
            cost_total,
            q_sum,
            p_sum,
            abol_fixed,
            abol_base_free,
            level,
            unabol,
            cap_slope,
            rem_d,
            ..
        } = self;
        let nd = ceiling.len();
        let mut out = NodeLp::default();
        let mut rem_b = *budget - *cost_total;
        if rem_b < 0 {
            out.infeasible = true;
            return out;
        }
        for d in 0..nd {
            rem_d[d] = ceiling[d].saturating_sub(cost_dept[d]);
            if rem_d[d] < 0 || abol_fixed[d] > abol_limit[d] {
                out.infeasible = true;
                return out;
            }
            unabol[d] = 0;
            cap_slope[d] = None;
        }
        for (l, &f) in level.iter_mut().zip(fixed.iter()) {
            *l = if f == FREE { 0 } else { f };
        }
        let mut q = *q_sum;
        let mut p = *p_sum;
        for inc in incs.iter() {
            let pi = inc.prog as usize;
            if fixed[pi] != FREE {
                continue;
            }
            let d = progs[pi].dept;
            let room = rem_b.min(rem_d[d]);
            if room <= 0 {
                continue;
            }
            if inc.dcost <= room {
                q += inc.dq;
                p += inc.dp;
                rem_b -= inc.dcost;
                rem_d[d] -= inc.dcost;
                level[pi] = inc.to;
                if inc.unabolish {
                    unabol[d] += 1;
                }
            } else {
                q += inc.slope * room as f64;
                rem_b -= room;
                rem_d[d] -= room;
                let frac = Some((pi, level[pi], inc.to, room as f64 / inc.dcost as f64));
                if rem_b == 0 {
                    out.budget_frac = frac;
                } else if out.dept_frac.is_none() {
                    out.dept_frac = frac;
                }
            }
            if rem_d[d] == 0 && cap_slope[d].is_none() {
                cap_slope[d] = Some(inc.slope);
            }
            if rem_b == 0 {
                out.budget_slope = Some(inc.slope);
                break;
            }
        }
        out.bound = q + *q_const;
        out.rounded = p + *p_const;
        out.rounded_ok = true;
        for d in 0..nd {
            if abol_fixed[d] + abol_base_free[d] - unabol[d] > abol_limit[d] {
                out.rounded_ok = false;
                out.abol_over.get_or_insert(d);
            }
        }
        out
    }
}

impl Search {
    /// The Lagrangian bound with the budget and the ceilings priced by the
    /// node's LP multipliers (λ, μ) and the abolition limits kept exactly:
    /// per department, every program takes its best option at those prices
    /// among the non-abolish ones, and the (at most N) programs that gain
    /// most by abolition are abolished. Valid for any λ, μ ≥ 0, and never
    /// weaker than the node's greedy bound with the root's ν.
    pub(super) fn card_bound(&mut self, lp: &NodeLp) -> f64 {
        let lambda = lp.budget_slope.unwrap_or(0.0).max(0.0);
        let mut prices = std::mem::take(&mut self.prices);
        prices.clear();
        prices.extend(
            self.cap_slope
                .iter()
                .map(|c| lambda + c.map_or(0.0, |s| (s - lambda).max(0.0))),
        );
        let b = self.card_bound_at(lambda, &prices);
        self.prices = prices;
        b
    }

    /// The same bound at given prices: λ for the budget, `price[d]` = λ + μ_d
    /// for a department's money.
    pub(super) fn card_bound_at(&mut self, lambda: f64, price: &[f64]) -> f64 {
        let nd = self.ceiling.len();
        let mut total = lambda * self.budget as f64 + self.p_const;
        for ((&c, &pd), adv) in self.ceiling.iter().zip(price).zip(&mut self.adv) {
            if c != i64::MAX {
                total += (pd - lambda) * c as f64;
            }
            adv.clear();
        }
        let mut forced = vec![0i64; nd];
        for (pi, pr) in self.progs.iter().enumerate() {
            let d = pr.dept;
            let pd = price[d];
            let f = self.fixed[pi];
            if f != FREE {
                let o = pr.opts[f as usize];
                total += o.p - pd * o.cost as f64;
                continue;
            }
            let mut keep = f64::NEG_INFINITY;
            let mut ab = f64::NEG_INFINITY;
            for o in &pr.opts {
                let g = o.p - pd * o.cost as f64;
                if o.abolish {
                    ab = ab.max(g);
                } else {
                    keep = keep.max(g);
                }
            }
            if keep == f64::NEG_INFINITY {
                forced[d] += 1;
                total += ab;
            } else {
                total += keep;
                if ab > keep {
                    self.adv[d].push(ab - keep);
                }
            }
        }
        for (d, forced) in forced.into_iter().enumerate() {
            let room = self.abol_limit[d]
                .saturating_sub(self.abol_fixed[d])
                .saturating_sub(forced);
            if room < 0 {
                return f64::NEG_INFINITY;
            }
            let adv = &mut self.adv[d];
            let room = usize::try_from(room).unwrap_or(usize::MAX);
            if adv.len() > room {
                adv.select_nth_unstable_by(room, |a, b| b.total_cmp(a));
                adv.truncate(room);
            }
            total += adv.iter().sum::<f64>();
        }
        total
    }

    /// Keeps the rounded plan of the last `lp()` when it beats the incumbent.
    pub(super) fn take_rounded(&mut self, lp: &NodeLp) {
        if lp.rounded_ok && lp.rounded > self.best {
            self.best = lp.rounded;
            self.best_levels = Some(self.level.clone());
        }
    }

    /// The options of program `pi` in the order to explore: `first` ones
    /// first, then the rest by root reduced cost.
    pub(super) fn order(&self, pi: usize, first: &[u8]) -> Vec<u8> {
        let r = &self.progs[pi].r;
        let mut rest: Vec<u8> = (0..r.len() as u8).filter(|o| !first.contains(o)).collect();
        rest.sort_by(|&a, &b| r[a as usize].total_cmp(&r[b as usize]));
        first.iter().copied().chain(rest).collect()
    }

    /// Which program to branch on, and its options in the order to try.
    pub(super) fn branching(&self, lp: &NodeLp) -> Option<(usize, Vec<u8>)> {
        if let Some((pi, from, to, f)) = lp.budget_frac.or(lp.dept_frac) {
            let first = if f >= 0.5 { [to, from] } else { [from, to] };
            return Some((pi, self.order(pi, &first)));
        }
        let free = |pi: &usize| self.fixed[*pi] == FREE;
        if let Some(d) = lp.abol_over {
            // Too many abolitions: un-abolish the program that costs least to keep.
            let pick = (0..self.progs.len())
                .filter(free)
                .filter(|&pi| {
                    let pr = &self.progs[pi];
                    pr.dept == d && pr.opts[self.level[pi] as usize].abolish
                })
                .map(|pi| {
                    let pr = &self.progs[pi];
                    let keep = (0..pr.opts.len())
                        .filter(|&o| !pr.opts[o].abolish)
                        .map(|o| pr.r[o])
                        .fold(f64::INFINITY, f64::min);
                    (keep, pi)
                })
                .min_by(|a, b| a.0.total_cmp(&b.0));
            if let Some((_, pi)) = pick {
                let pr = &self.progs[pi];
                let mut order = self.order(pi, &[]);
                order.sort_by_key(|&o| pr.opts[o as usize].abolish);
                return Some((pi, order));
            }
        }
        // Integral and within every limit, but the bound is above it: the
        // priced abolition limits are slack. Branch on the program closest
        // to being abolished in such a department.
        let slack = |d: usize| {
            self.abol_fixed[d] + self.abol_base_free[d] - self.unabol[d] < self.abol_limit[d]
        };
        let pick = (0..self.progs.len())
            .filter(free)
            .filter(|&pi| slack(self.progs[pi].dept))
            .filter_map(|pi| {
                let pr = &self.progs[pi];
                (0..pr.opts.len())
                    .filter(|&o| pr.opts[o].abolish && o != self.level[pi] as usize)
                    .map(|o| (pr.r[o], pi))
                    .min_by(|a, b| a.0.total_cmp(&b.0))
            })
            .min_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, pi)| pi)
            .or_else(|| (0..self.progs.len()).find(free))?;
        Some(pi_order(self, pick))
    }

    /// Depth-first search below the current node. Returns the largest bound
    /// of what the time limit left unexplored (−∞ when all was explored).
    pub(super) fn dfs(&mut self) -> f64 {
        self.nodes += 1;
        if self.nodes.is_multiple_of(256) && self.deadline.is_some_and(|t| Instant::now() >= t) {
            self.timed_out = true;
            self.stopped = true;
        }
        if self.nodes >= self.node_limit {
            self.stopped = true;
        }
        let lp = self.lp();
        if lp.infeasible {
            return f64::NEG_INFINITY;
        }
        self.take_rounded(&lp);
        let mut bound = lp.bound.min(self.root_l - self.r_fixed);
        if bound > self.best + self.tol {
            bound = bound.min(self.card_bound(&lp));
        }
        if bound > self.best + self.tol
            && let Some((lambda, prices)) = self.root_prices.take()
        {
            bound = bound.min(self.card_bound_at(lambda, &prices));
            self.root_prices = Some((lambda, prices));
        }
        if bound <= self.best + self.tol {
            return f64::NEG_INFINITY;
        }
        if self.stopped {
            return bound;
        }
        let Some((pi, order)) = self.branching(&lp) else {
            // Every program is fixed: the node is its own plan, taken above.
            return f64::NEG_INFINITY;
        };
        let mut unresolved = f64::NEG_INFINITY;
        for o in order {
            if self.stopped {
                unresolved = unresolved.max(bound);
                break;
            }
            if self.root_l - self.r_fixed - self.progs[pi].r[o as usize] <= self.best + self.tol {
                continue;
            }
            self.fix(pi, o);
            let u = self.dfs();
            self.unfix(pi, o);
            unresolved = unresolved.max(u);
            if bound <= self.best + self.tol {
                break;
            }
        }
        unresolved
    }
}
