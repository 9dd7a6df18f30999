//! Re-allocation MILP benchmark: 2,000 programs × 4 options, 10 department
//! ceilings (target: optimal under 2 s). Prints figures; harness = false.
//! `REALLOC_CASES="1000x10:7,2000x10:42"` runs only the given
//! programs×departments:seed cases.

use std::time::Instant;

use citykpi_analytics::realloc::{generated_problem, reallocate};

fn main() {
    let cases: Vec<(usize, usize, u64)> = match std::env::var("REALLOC_CASES") {
        Ok(s) => s
            .split(',')
            .filter_map(|c| {
                let (nd, seed) = c.split_once(':')?;
                let (n, d) = nd.split_once('x')?;
                Some((n.parse().ok()?, d.parse().ok()?, seed.parse().ok()?))
            })
            .collect(),
        Err(_) => [42u64, 7, 2024]
            .iter()
            .flat_map(|&s| [(200usize, 5usize, s), (1000, 10, s), (2000, 10, s)])
            .collect(),
    };
    for (n, d, seed) in cases {
        let p = generated_problem(n, d, seed);
        let t = Instant::now();
        let plan = reallocate(&p);
        let secs = t.elapsed().as_secs_f64();
        match plan {
            Ok(plan) => println!(
                "realloc {n} programs x 4 options, {d} ceilings, seed {seed}: {secs:.3} s (both solves), proven optimal {} (relative gap {:.1e}), {} programs branched, objective {:.3} (bound {:.3}) vs current {:.3}, shadow price {:?} per 1M yen",
                plan.proven_optimal,
                plan.relative_gap,
                plan.programs_branched,
                plan.optimal.contribution,
                plan.upper_bound,
                plan.current.contribution,
                plan.shadow_price_per_million_yen
            ),
            Err(e) => println!("realloc {n} x 4, seed {seed}: error {e} after {secs:.3} s"),
        }
    }
}
