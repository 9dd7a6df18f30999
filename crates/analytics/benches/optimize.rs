//! Re-allocation MILP benchmark: 2,000 programs × 4 options, 10 department
//! ceilings (target: optimal under 2 s). Prints figures; harness = false.

use std::time::Instant;

use citykpi_analytics::realloc::{generated_problem, reallocate};

fn main() {
    for &(n, d) in &[(200usize, 5usize), (1000, 10), (2000, 10)] {
        let p = generated_problem(n, d, 42);
        let t = Instant::now();
        let plan = reallocate(&p);
        let secs = t.elapsed().as_secs_f64();
        match plan {
            Ok(plan) => println!(
                "realloc {n} programs x 4 options, {d} ceilings: {secs:.3} s (both solves), proven optimal {} (relative gap {:.1e}), {} programs branched, objective {:.3} (bound {:.3}) vs current {:.3}, shadow price {:?} per 1M yen",
                plan.proven_optimal,
                plan.relative_gap,
                plan.programs_branched,
                plan.optimal.contribution,
                plan.upper_bound,
                plan.current.contribution,
                plan.shadow_price_per_million_yen
            ),
            Err(e) => println!("realloc {n} x 4: error {e} after {secs:.3} s"),
        }
    }
}
