//! The proof of optimality: each department's plans that lose less than a
//! gap, listed by dynamic programming (Pareto fronts of cost and
//! contribution) and merged under the budget; and the cheapest plan.

use super::*;

pub(super) fn pi_order(s: &Search, pi: usize) -> (usize, Vec<u8>) {
    (pi, s.order(pi, &[s.level[pi]]))
}

/// A partial plan of one department in the enumeration.
#[derive(Clone, Copy)]
pub(super) struct DepartmentState {
    pub(super) cost: i64,
    pub(super) value: f64,
    pub(super) abol: i64,
    /// Σ root reduced costs so far (a lower bound on the plan's loss).
    pub(super) loss: f64,
    /// Last choice in the department's arena.
    pub(super) node: u32,
    /// The option just chosen (before it goes to the arena).
    pub(super) o: u8,
}

pub(super) const NO_NODE: u32 = u32::MAX;

/// A department's choices: (parent, program, option) per kept state.
pub(super) type Arena = Vec<(u32, u32, u8)>;

/// Keeps the states no other state dominates (no more cost, no more
/// abolitions, at least the value); `by_abol` compares abolitions too.
pub(super) fn pareto(states: &mut Vec<DepartmentState>, by_abol: bool, max_abol: usize) {
    states.sort_by(|a, b| a.cost.cmp(&b.cost).then(b.value.total_cmp(&a.value)));
    if !by_abol {
        let mut top = f64::NEG_INFINITY;
        states.retain(|s| {
            let keep = s.value > top;
            top = top.max(s.value);
            keep
        });
        return;
    }
    // best[a] = the largest value seen with at most a abolitions.
    let mut best = vec![f64::NEG_INFINITY; max_abol + 1];
    states.retain(|s| {
        let a = (s.abol.max(0) as usize).min(max_abol);
        if best[a] >= s.value {
            return false;
        }
        for b in &mut best[a..] {
            if *b < s.value {
                *b = s.value;
            }
        }
        true
    });
}

impl Search {
    /// Exact enumeration of the residual problem, department by department.
    /// With the root multipliers, any plan's contribution is
    /// U − Σ r − Σ μ_d·(ceiling slack) − Σ ν_d·(abolition slack) − λ·(budget
    /// slack), every term non-negative, so a plan better than the incumbent
    /// has every department's share of that loss below G = U − best. Each
    /// department's plans within that loss (ceiling and abolition limit
    /// checked exactly) are listed as a Pareto front of (cost, contribution),
    /// and the fronts are merged under the budget. Unlike the search's LP
    /// bound this sees that a ceiling cannot be filled to the yen.
    /// Returns None when the lists grow past `cap` or the time runs out;
    /// otherwise the better plan found (levels), if any.
    pub(super) fn enumerate(
        &self,
        lambda: f64,
        mu: &[f64],
        nu: &[f64],
        cap: usize,
        g_cap: f64,
    ) -> Option<Option<(Vec<u8>, f64)>> {
        let nd = self.ceiling.len();
        let g = (self.root_l - self.best + 10.0 * self.tol).min(g_cap);
        if g <= 0.0 {
            return Some(None);
        }
        let limited = self.abol_limit.iter().any(|&a| a < i64::MAX / 2);
        let mut fronts: Vec<(Vec<DepartmentState>, Arena)> = Vec::with_capacity(nd);
        for d in 0..nd {
            let max_abol = if limited {
                self.abol_limit[d].clamp(0, 64) as usize
            } else {
                0
            };
            let mut arena: Arena = Vec::new();
            let mut states = vec![DepartmentState {
                cost: 0,
                value: 0.0,
                abol: 0,
                loss: 0.0,
                node: NO_NODE,
                o: 0,
            }];
            for (pi, pr) in self.progs.iter().enumerate().filter(|(_, pr)| pr.dept == d) {
                let mut next = Vec::with_capacity(states.len() * 2);
                for s in &states {
                    for (o, opt) in pr.opts.iter().enumerate() {
                        let loss = s.loss + pr.r[o];
                        if loss > g {
                            continue;
                        }
                        let cost = s.cost + opt.cost;
                        let abol = s.abol + i64::from(opt.abolish);
                        if cost > self.ceiling[d] || abol > self.abol_limit[d] {
                            continue;
                        }
                        // Parent and choice go to the arena once kept.
                        next.push(DepartmentState {
                            cost,
                            value: s.value + opt.p,
                            abol,
                            loss,
                            node: s.node,
                            o: o as u8,
                        });
                    }
                }
                let mut kept = next;
                pareto(&mut kept, limited, max_abol);
                for s in &mut kept {
                    arena.push((s.node, pi as u32, s.o));
                    s.node = (arena.len() - 1) as u32;
                }
                if kept.len() > cap || arena.len() > 8 * cap {
                    return None;
                }
                if self.deadline.is_some_and(|t| Instant::now() >= t) {
                    return None;
                }
                states = kept;
            }
            // The department's whole share of the loss.
            for s in &mut states {
                if self.ceiling[d] != i64::MAX {
                    s.loss += mu[d] * (self.ceiling[d] - s.cost) as f64;
                }
                if limited && self.abol_limit[d] < i64::MAX / 2 {
                    s.loss += nu[d] * (self.abol_limit[d] - s.abol) as f64;
                }
            }
            states.retain(|s| s.loss <= g);
            pareto(&mut states, false, 0);
            states.sort_by(|a, b| a.loss.total_cmp(&b.loss));
            fronts.push((states, arena));
        }
        // Merge the fronts in two halves (meet in the middle): each half's
        // departments one by one, keeping the Pareto front of (cost,
        // contribution) and only states whose loss, plus the budget slack
        // the other departments leave at best, stays below G; then pair the
        // halves by binary search on cost.
        // Each department's loss is at least its front's smallest; with the
        // others at theirs, what is left of G bounds it.
        let min_loss: Vec<f64> = fronts
            .iter()
            .map(|(f, _)| f.first().map_or(f64::INFINITY, |s| s.loss))
            .collect();
        let total_min: f64 = min_loss.iter().sum();
        if total_min > g {
            return Some(None);
        }
        for (d, (front, _)) in fronts.iter_mut().enumerate() {
            let room = g - (total_min - min_loss[d]);
            front.retain(|s| s.loss <= room);
        }
        let range = |ds: &[usize]| -> (i64, i64) {
            ds.iter().fold((0i64, 0i64), |(lo, hi), &d| {
                let f = &fronts[d].0;
                (
                    lo + f.iter().map(|s| s.cost).min().unwrap_or(0),
                    hi + f.iter().map(|s| s.cost).max().unwrap_or(0),
                )
            })
        };
        // Small fronts first, alternating between the halves to balance them.
        let mut order: Vec<usize> = (0..nd).collect();
        order.sort_by_key(|&d| fronts[d].0.len());
        let h1: Vec<usize> = order.iter().copied().step_by(2).collect();
        let h2: Vec<usize> = order.iter().copied().skip(1).step_by(2).collect();
        let (h1, h2) = (h1.as_slice(), h2.as_slice());
        let half = |mine: &[usize], other: &[usize]| -> Option<Vec<Vec<MergeState>>> {
            let mut levels = vec![vec![MergeState {
                cost: 0,
                value: 0.0,
                loss: 0.0,
                prev: NO_NODE,
                pick: NO_NODE,
            }]];
            for (j, &d) in mine.iter().enumerate() {
                let mut rest: Vec<usize> = mine[j + 1..].to_vec();
                rest.extend_from_slice(other);
                let (lo, hi) = range(&rest);
                let rest_min: f64 = rest.iter().map(|&r| min_loss[r]).sum();
                let front = &fronts[d].0;
                let acc = levels.last().map(Vec::as_slice).unwrap_or_default();
                let mut next = Vec::new();
                for (ai, a) in acc.iter().enumerate() {
                    for (fi, f) in front.iter().enumerate() {
                        let loss = a.loss + f.loss;
                        if loss + rest_min > g {
                            break;
                        }
                        let cost = a.cost + f.cost;
                        if cost + lo > self.budget
                            || lambda * (self.budget - cost - hi).max(0) as f64 + loss + rest_min
                                > g
                        {
                            continue;
                        }
                        next.push(MergeState {
                            cost,
                            value: a.value + f.value,
                            loss,
                            prev: ai as u32,
                            pick: fi as u32,
                        });
                    }
                    if next.len() > 4 * cap {
                        return None;
                    }
                }
                next.sort_by(|a, b| a.cost.cmp(&b.cost).then(b.value.total_cmp(&a.value)));
                let mut top = f64::NEG_INFINITY;
                next.retain(|s| {
                    let keep = s.value > top;
                    top = top.max(s.value);
                    keep
                });
                next.sort_by(|a, b| a.loss.total_cmp(&b.loss));

                levels.push(next);
                if self.deadline.is_some_and(|t| Instant::now() >= t) {
                    return None;
                }
            }
            Some(levels)
        };
        let l1 = half(h1, h2)?;
        let mut l2 = half(h2, h1)?;
        let last2 = l2.last_mut()?;
        // Second half by cost, contribution rising (a Pareto front).
        let mut by_cost: Vec<usize> = (0..last2.len()).collect();
        by_cost.sort_by_key(|&i| last2[i].cost);
        let mut top = f64::NEG_INFINITY;
        by_cost.retain(|&i| {
            let keep = last2[i].value > top;
            top = top.max(last2[i].value);
            keep
        });
        let mut best: Option<(f64, usize, usize)> = None;
        for (i1, s1) in l1.last()?.iter().enumerate() {
            let room = self.budget - s1.cost;
            let n = by_cost.partition_point(|&i| last2[i].cost <= room);
            if n == 0 {
                continue;
            }
            let i2 = by_cost[n - 1];
            let v = s1.value + last2[i2].value;
            if best.is_none_or(|b| v > b.0) {
                best = Some((v, i1, i2));
            }
        }
        let Some((value, i1, i2)) = best else {
            return Some(None);
        };
        if value + self.p_const <= self.best + self.tol {
            return Some(None);
        }
        // Walk back: merge levels, then each department's arena.
        let mut out = vec![FREE; self.progs.len()];
        for (levels, ds, mut idx) in [(&l1, h1, i1), (&l2, h2, i2)] {
            for (j, &d) in ds.iter().enumerate().rev() {
                let s = levels[j + 1][idx];
                let (front, arena) = &fronts[d];
                let mut node = front[s.pick as usize].node;
                while node != NO_NODE {
                    let (parent, pi, o) = arena[node as usize];
                    out[pi as usize] = o;
                    node = parent;
                }
                idx = s.prev as usize;
            }
        }
        Some(Some((out, value + self.p_const)))
    }
}

#[derive(Clone, Copy)]
pub(super) struct MergeState {
    pub(super) cost: i64,
    pub(super) value: f64,
    pub(super) loss: f64,
    pub(super) prev: u32,
    pub(super) pick: u32,
}

/// The cheapest plan: cheapest non-abolish option, then the largest savings
/// from abolitions within each department's limit (feasible after the precheck).
pub(super) fn cheapest(ix: &Indexed) -> Vec<usize> {
    let p = ix.p;
    let mut picks: Vec<usize> = (0..p.programs.len())
        .map(|i| {
            ix.allowed[i]
                .iter()
                .copied()
                .filter(|&k| !ix.abolish(i, k))
                .min_by_key(|&k| ix.opt(i, k).cost_yen)
                .unwrap_or(ix.allowed[i][0])
        })
        .collect();
    let mut savings: Vec<(i64, usize, usize)> = Vec::new();
    for (i, allowed) in ix.allowed.iter().enumerate() {
        if let Some(&k) = allowed.iter().find(|&&k| ix.abolish(i, k)) {
            let s = ix.opt(i, picks[i]).cost_yen - ix.opt(i, k).cost_yen;
            if s > 0 {
                savings.push((s, i, k));
            }
        }
    }
    savings.sort_by_key(|s| std::cmp::Reverse(s.0));
    let mut used = vec![0u32; ix.depts()];
    for (_, i, k) in savings {
        let d = ix.dept_of[i];
        if p.max_abolitions_per_department.is_none_or(|n| used[d] < n) {
            used[d] += 1;
            picks[i] = k;
        }
    }
    picks
}
