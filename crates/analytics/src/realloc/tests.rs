use super::*;

fn opt(kind: OptionKind, cost_m: i64, contribution: f64) -> ProgramOption {
    ProgramOption {
        kind,
        cost_yen: cost_m * 1_000_000,
        contribution,
    }
}

fn prog(code: &str, dept: &str, mandatory: bool, options: Vec<ProgramOption>) -> ProgramChoices {
    ProgramChoices {
        program_code: code.into(),
        department_code: dept.into(),
        mandatory,
        options,
    }
}

fn small() -> ReallocProblem {
    use OptionKind::*;
    ReallocProblem {
        programs: vec![
            prog(
                "A",
                "D1",
                false,
                vec![
                    opt(Abolish, 0, 0.0),
                    opt(Reduce, 6, 5.0),
                    opt(Keep, 10, 8.0),
                    opt(Expand, 14, 11.0),
                ],
            ),
            prog(
                "B",
                "D1",
                true,
                vec![
                    opt(Abolish, 0, 0.0),
                    opt(Reduce, 7, 4.0),
                    opt(Keep, 10, 5.0),
                    opt(Expand, 13, 6.0),
                ],
            ),
            prog(
                "C",
                "D2",
                false,
                vec![
                    opt(Abolish, 0, 0.0),
                    opt(Reduce, 5, 1.0),
                    opt(Keep, 10, 2.0),
                    opt(Expand, 15, 2.5),
                ],
            ),
            prog(
                "D",
                "D2",
                false,
                vec![
                    opt(Abolish, 0, 0.0),
                    opt(Keep, 10, 9.0),
                    opt(Expand, 16, 14.0),
                ],
            ),
        ],
        budget_yen: 38_000_000,
        department_ceilings: [
            ("D1".to_string(), 22_000_000),
            ("D2".to_string(), 20_000_000),
        ]
        .into(),
        max_abolitions_per_department: Some(1),
        time_limit_seconds: None,
    }
}

/// Brute force over every combination: the independent check of the MILP.
fn brute_force(p: &ReallocProblem, budget: i64) -> f64 {
    let mut best = f64::NEG_INFINITY;
    let sizes: Vec<usize> = p.programs.iter().map(|q| q.options.len()).collect();
    let mut idx = vec![0usize; sizes.len()];
    loop {
        if violation(p, &idx, budget).is_none() {
            let v: f64 = p
                .programs
                .iter()
                .zip(&idx)
                .map(|(q, &k)| q.options[k].contribution)
                .sum();
            best = best.max(v);
        }
        let mut i = 0;
        loop {
            if i == idx.len() {
                return best;
            }
            idx[i] += 1;
            if idx[i] < sizes[i] {
                break;
            }
            idx[i] = 0;
            i += 1;
        }
    }
}

#[test]
fn small_problem_is_solved_exactly() {
    let p = small();
    let plan = reallocate(&p).unwrap();
    assert!(plan.proven_optimal);
    assert!((plan.optimal.contribution - brute_force(&p, p.budget_yen)).abs() < 1e-9);
    // By hand: D2 can afford D expand (16) + C abolish (0) = 16 ≤ 20 → 14;
    // D1 ≤ 22 with A expand 14 + B reduce 7 = 21 → 15; total 37 ≤ 38 → 29.
    assert!(
        (plan.optimal.contribution - 29.0).abs() < 1e-9,
        "{:?}",
        plan.choices
    );
    let kinds: Vec<OptionKind> = plan.choices.iter().map(|c| c.kind).collect();
    assert_eq!(
        kinds,
        vec![
            OptionKind::Expand,
            OptionKind::Reduce,
            OptionKind::Abolish,
            OptionKind::Expand
        ]
    );
    assert_eq!(
        plan.current,
        Allocation {
            contribution: 24.0,
            cost_yen: 40_000_000
        }
    );
    assert!(!plan.current_feasible, "keeping all costs 40M > 38M");
    assert_eq!(plan.optimal.cost_yen, 37_000_000);
    // One more million (39M): no better plan exists than 29 (checked by brute force).
    let more = brute_force(&p, p.budget_yen + 1_000_000);
    assert!((plan.shadow_price_per_million_yen.unwrap() - (more - 29.0)).abs() < 1e-9);
    let d1 = plan
        .departments
        .iter()
        .find(|d| d.department_code == "D1")
        .unwrap();
    assert_eq!(
        (d1.cost_yen, d1.ceiling_yen, d1.abolitions),
        (21_000_000, Some(22_000_000), 0)
    );
}

#[test]
fn shadow_price_when_the_budget_binds() {
    let mut p = small();
    p.budget_yen = 30_000_000;
    let plan = reallocate(&p).unwrap();
    let base = brute_force(&p, 30_000_000);
    assert!((plan.optimal.contribution - base).abs() < 1e-9);
    let more = brute_force(&p, 31_000_000);
    assert!((plan.shadow_price_per_million_yen.unwrap() - (more - base)).abs() < 1e-9);
    assert!(
        plan.choices
            .iter()
            .all(|c| !(c.program_code == "B" && c.kind == OptionKind::Abolish))
    );
}

#[test]
fn infeasible_inputs_name_the_constraint() {
    let mut p = small();
    p.department_ceilings.insert("D1".into(), 5_000_000);
    let e = reallocate(&p).unwrap_err();
    match &e {
        // D1: B is mandatory (min 7M), A can be abolished (0) → needs 7M > 5M.
        ReallocError::Infeasible {
            need_plain,
            limit_plain,
            constraint,
            ..
        } => {
            assert_eq!((*need_plain, *limit_plain), (7_000_000, 5_000_000));
            assert!(constraint.contains("D1"), "{constraint}");
        }
        other => panic!("{other:?}"),
    }
    assert!(e.to_string().contains("7,000,000"), "{e}");
    let mut p = small();
    p.budget_yen = 10_000_000;
    // Cheapest: D1 = 7 (A abolished, B reduced), D2 = 5 (C reduced, D abolished: one abolition each).
    match reallocate(&p).unwrap_err() {
        ReallocError::Infeasible { need_plain, .. } => assert_eq!(need_plain, 12_000_000),
        other => panic!("{other:?}"),
    }
    let mut p = small();
    p.programs[0].options.retain(|o| o.kind != OptionKind::Keep);
    assert_eq!(
        reallocate(&p).unwrap_err(),
        ReallocError::NoKeep("A".into())
    );
    let mut p = small();
    p.programs[1].program_code = "A".into();
    assert_eq!(
        reallocate(&p).unwrap_err(),
        ReallocError::DuplicateProgram("A".into())
    );
}

/// Small random instances where the budget, the ceilings, the abolition
/// limits and mandatory programs all bite: the search must reach exactly
/// the brute-force optimum (and the shadow price its difference).
#[test]
fn random_instances_match_brute_force() {
    use OptionKind::*;
    let mut state = 0x5EEDu64;
    let mut next = move |n: u64| {
        state = state.wrapping_add(0x9E3779B97F4A7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58476D1CE4E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D049BB133111EB);
        (z ^ (z >> 31)) % n
    };
    let mut solved = 0;
    for case in 0..400 {
        let n = 2 + next(6) as usize;
        let nd = 1 + next(3) as usize;
        let mut programs = Vec::new();
        for i in 0..n {
            let keep = 1 + next(20) as i64;
            let value = next(1000) as f64 / 10.0;
            let mut options = vec![opt(Keep, keep, value)];
            if next(4) > 0 {
                options.push(opt(Abolish, next(2) as i64, next(3) as f64));
            }
            if next(3) > 0 {
                options.push(opt(
                    Reduce,
                    keep * 6 / 10,
                    value * (0.5 + next(5) as f64 / 10.0),
                ));
            }
            if next(3) > 0 {
                options.push(opt(
                    Expand,
                    keep * 14 / 10 + 1,
                    value + next(300) as f64 / 10.0,
                ));
            }
            // Any order of the options.
            let r = next(options.len() as u64) as usize;
            options.rotate_left(r);
            programs.push(prog(
                &format!("P{i}"),
                &format!("D{}", i % nd),
                next(4) == 0,
                options,
            ));
        }
        let current: i64 = programs
            .iter()
            .map(|q| q.options.iter().find(|o| o.kind == Keep).unwrap().cost_yen)
            .sum();
        let mut ceilings = BTreeMap::new();
        for d in 0..nd {
            if next(3) > 0 {
                let dept = format!("D{d}");
                let cur: i64 = programs
                    .iter()
                    .filter(|q| q.department_code == dept)
                    .map(|q| q.options.iter().find(|o| o.kind == Keep).unwrap().cost_yen)
                    .sum();
                ceilings.insert(dept, cur * (60 + next(50) as i64) / 100);
            }
        }
        let p = ReallocProblem {
            programs,
            budget_yen: current * (50 + next(60) as i64) / 100,
            department_ceilings: ceilings,
            max_abolitions_per_department: if next(4) == 0 {
                None
            } else {
                Some(next(3) as u32)
            },
            time_limit_seconds: None,
        };
        let best = brute_force(&p, p.budget_yen);
        match reallocate(&p) {
            Ok(plan) => {
                assert!(plan.proven_optimal, "case {case}");
                let scale = best.abs().max(1.0);
                assert!(
                    (plan.optimal.contribution - best).abs() <= 1e-9 * scale,
                    "case {case}: {} vs brute force {best}\n{p:?}",
                    plan.optimal.contribution
                );
                let picks: Vec<usize> = p
                    .programs
                    .iter()
                    .zip(&plan.choices)
                    .map(|(q, c)| q.options.iter().position(|o| o.kind == c.kind).unwrap())
                    .collect();
                assert_eq!(violation(&p, &picks, p.budget_yen), None, "case {case}");
                // The department-by-department enumeration alone (the
                // search stopped after its first node) reaches the same optimum.
                let enumerated = solve_with(&p, p.budget_yen, 1).unwrap();
                assert!(enumerated.proven, "case {case}");
                assert!(
                    (enumerated.objective - best).abs() <= 1e-9 * scale,
                    "case {case}: enumeration {} vs brute force {best}\n{p:?}",
                    enumerated.objective
                );
                assert_eq!(violation(&p, &enumerated.picks, p.budget_yen), None);
                let more = brute_force(&p, p.budget_yen + 1_000_000);
                let shadow = plan.shadow_price_per_million_yen.unwrap();
                assert!(
                    (shadow - (more - best)).abs() <= 1e-9 * scale,
                    "case {case}: shadow {shadow} vs {}",
                    more - best
                );
                solved += 1;
            }
            Err(ReallocError::Infeasible { .. }) => {
                assert_eq!(
                    best,
                    f64::NEG_INFINITY,
                    "case {case}: brute force found a plan\n{p:?}"
                );
            }
            Err(e) => panic!("case {case}: {e}"),
        }
    }
    assert!(solved > 200, "{solved} feasible cases");
}

#[test]
fn generated_problem_respects_every_constraint() {
    let mut p = generated_problem(200, 5, 7);
    // Unoptimised test builds are slow: let it prove optimality.
    p.time_limit_seconds = None;
    let plan = reallocate(&p).unwrap();
    assert!(plan.proven_optimal);
    let picks: Vec<usize> = p
        .programs
        .iter()
        .zip(&plan.choices)
        .map(|(q, c)| q.options.iter().position(|o| o.kind == c.kind).unwrap())
        .collect();
    assert_eq!(violation(&p, &picks, p.budget_yen), None);
    assert!(plan.optimal.cost_yen <= p.budget_yen);
    assert!(plan.optimal.contribution > 0.0);
    assert!(plan.shadow_price_per_million_yen.unwrap() >= 0.0);
    assert!(
        plan.choices
            .iter()
            .zip(&p.programs)
            .all(|(c, q)| !(q.mandatory && c.kind == OptionKind::Abolish))
    );
}
