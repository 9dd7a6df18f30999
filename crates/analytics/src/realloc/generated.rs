//! Generated problems for tests and benchmarks.

use super::*;

/// A deterministic test/benchmark instance: `n` programs × 4 options over
/// `departments` departments, with ceilings at 95% of each department's
/// current cost and a total budget at 93% of the current total.
pub fn generated_problem(n: usize, departments: usize, seed: u64) -> ReallocProblem {
    let departments = departments.max(1);
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut next = move || {
        // SplitMix64: reproducible without a dependency.
        state = state.wrapping_add(0x9E3779B97F4A7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58476D1CE4E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D049BB133111EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut programs = Vec::with_capacity(n);
    let mut dept_cost = vec![0i64; departments];
    for i in 0..n {
        let d = i % departments;
        let keep_cost = (5_000_000.0 + next() * 195_000_000.0).round() as i64 / 1000 * 1000;
        let value = keep_cost as f64 / MILLION * (0.2 + 1.6 * next());
        let mandatory = next() < 0.15;
        dept_cost[d] += keep_cost;
        programs.push(ProgramChoices {
            program_code: format!("P{i:05}"),
            department_code: format!("D{d:02}"),
            mandatory,
            options: vec![
                ProgramOption {
                    kind: OptionKind::Abolish,
                    cost_yen: 0,
                    contribution: 0.0,
                },
                ProgramOption {
                    kind: OptionKind::Reduce,
                    cost_yen: keep_cost * 7 / 10,
                    contribution: value * (0.75 + 0.15 * next()),
                },
                ProgramOption {
                    kind: OptionKind::Keep,
                    cost_yen: keep_cost,
                    contribution: value,
                },
                ProgramOption {
                    kind: OptionKind::Expand,
                    cost_yen: keep_cost * 13 / 10,
                    contribution: value * (1.05 + 0.25 * next()),
                },
            ],
        });
    }
    let total: i64 = dept_cost.iter().sum();
    ReallocProblem {
        programs,
        budget_yen: total / 100 * 93,
        department_ceilings: dept_cost
            .iter()
            .enumerate()
            .map(|(d, c)| (format!("D{d:02}"), c / 100 * 95))
            .collect(),
        max_abolitions_per_department: Some((n / departments / 20).max(1) as u32),
        time_limit_seconds: Some(1.5),
    }
}
