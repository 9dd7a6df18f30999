//! Tests of the generated demo city: every reference resolves, counts, the
//! determinism promise, value sanity and the spread of KPI statuses.

use std::collections::{BTreeMap, BTreeSet};

use citykpi_demo::{DEFAULT_CITY_CODE, DemoOptions, demo_password, generate, names};
use citykpi_domain::kpi::{Direction, Frequency, Kpi};
use citykpi_domain::observation::{ObsStatus, ObsValue, Period};
use citykpi_domain::org::Role;
use citykpi_domain::partner::Day;
use citykpi_domain::progress::{Status, StatusThresholds};
use citykpi_domain::{Dataset, FiscalYear};

fn fy(y: i32) -> FiscalYear {
    FiscalYear::new(y).unwrap()
}

fn scale(n: u32) -> Dataset {
    generate(&DemoOptions {
        scale: n,
        ..DemoOptions::default()
    })
}

/// Every problem with keys and references, as readable lines.
fn reference_problems(ds: &Dataset) -> Vec<String> {
    let mut problems = Vec::new();
    let mut unique = |what: &str, keys: Vec<String>| -> BTreeSet<String> {
        let mut set = BTreeSet::new();
        for k in keys {
            if !set.insert(k.clone()) {
                problems.push(format!("duplicate {what} {k}"));
            }
        }
        set
    };
    let depts = unique(
        "department",
        ds.departments.iter().map(|d| d.code.clone()).collect(),
    );
    let sections = unique(
        "section",
        ds.sections.iter().map(|s| s.code.clone()).collect(),
    );
    unique("user", ds.users.iter().map(|u| u.login.clone()).collect());
    let plans = unique("plan", ds.plans.iter().map(|p| p.code.clone()).collect());
    unique(
        "node",
        ds.plan_nodes.iter().map(|n| n.code.clone()).collect(),
    );
    let kpis = unique("kpi", ds.kpis.iter().map(|k| k.code.clone()).collect());
    let programs = unique(
        "program",
        ds.programs.iter().map(|p| p.code.clone()).collect(),
    );
    unique(
        "program name",
        ds.programs.iter().map(|p| p.name_ja.clone()).collect(),
    );
    unique(
        "kpi name",
        ds.kpis.iter().map(|k| k.name_ja.clone()).collect(),
    );
    unique(
        "link",
        ds.links
            .iter()
            .map(|l| format!("{}→{}", l.program_code, l.kpi_code))
            .collect(),
    );
    unique(
        "indicator",
        ds.indicators
            .iter()
            .map(|i| format!("{}/{}/{}", i.program_code, i.code, i.fy))
            .collect(),
    );
    unique(
        "money",
        ds.money
            .iter()
            .map(|m| format!("{}/{}", m.program_code, m.fy))
            .collect(),
    );
    unique(
        "observation",
        ds.observations
            .iter()
            .map(|o| format!("{}/{}/{}", o.kpi_code, o.period, o.area_code))
            .collect(),
    );

    for s in &ds.sections {
        if !depts.contains(&s.department_code) {
            problems.push(format!(
                "section {} → unknown department {}",
                s.code, s.department_code
            ));
        }
    }
    for u in &ds.users {
        if !sections.contains(&u.section_code) {
            problems.push(format!(
                "user {} → unknown section {}",
                u.login, u.section_code
            ));
        }
    }
    let node_by_code: BTreeMap<&str, _> =
        ds.plan_nodes.iter().map(|n| (n.code.as_str(), n)).collect();
    for n in &ds.plan_nodes {
        if !plans.contains(&n.plan_code) {
            problems.push(format!("node {} → unknown plan {}", n.code, n.plan_code));
        }
        match &n.parent_code {
            None if n.level != 1 => problems.push(format!(
                "node {} at level {} has no parent",
                n.code, n.level
            )),
            Some(p) => match node_by_code.get(p.as_str()) {
                None => problems.push(format!("node {} → unknown parent {p}", n.code)),
                Some(parent) if parent.plan_code != n.plan_code || parent.level + 1 != n.level => {
                    problems.push(format!(
                        "node {} and its parent {p} disagree on plan or level",
                        n.code
                    ))
                }
                _ => {}
            },
            _ => {}
        }
    }
    let mut kpis_per_node: BTreeMap<&str, usize> = BTreeMap::new();
    for k in &ds.kpis {
        if k.owner_sections.is_empty() {
            problems.push(format!("kpi {} has no owner", k.code));
        }
        for o in &k.owner_sections {
            if !sections.contains(o) {
                problems.push(format!("kpi {} → unknown owner section {o}", k.code));
            }
        }
        if k.nodes.is_empty() {
            problems.push(format!("kpi {} serves no measure", k.code));
        }
        for l in &k.nodes {
            match node_by_code.get(l.node_code.as_str()) {
                None => problems.push(format!("kpi {} → unknown node {}", k.code, l.node_code)),
                Some(n) if n.level != 2 => {
                    problems.push(format!("kpi {} hangs on non-measure {}", k.code, n.code))
                }
                Some(_) => *kpis_per_node.entry(l.node_code.as_str()).or_default() += 1,
            }
        }
    }
    for n in ds.plan_nodes.iter().filter(|n| n.level == 2) {
        if !kpis_per_node.contains_key(n.code.as_str()) {
            problems.push(format!("measure {} has no KPI", n.code));
        }
    }
    for o in &ds.observations {
        if !kpis.contains(&o.kpi_code) {
            problems.push(format!("observation → unknown kpi {}", o.kpi_code));
        }
    }
    for p in &ds.programs {
        if !sections.contains(&p.section_code) {
            problems.push(format!(
                "program {} → unknown section {}",
                p.code, p.section_code
            ));
        }
        if let (Some(s), Some(e)) = (p.start_fy, p.end_fy)
            && e < s
        {
            problems.push(format!("program {} ends before it starts", p.code));
        }
    }
    for l in &ds.links {
        if !programs.contains(&l.program_code) || !kpis.contains(&l.kpi_code) {
            problems.push(format!(
                "link {}→{} does not resolve",
                l.program_code, l.kpi_code
            ));
        }
    }
    let program_by_code: BTreeMap<&str, _> =
        ds.programs.iter().map(|p| (p.code.as_str(), p)).collect();
    for i in &ds.indicators {
        if !programs.contains(&i.program_code) {
            problems.push(format!("indicator → unknown program {}", i.program_code));
        }
    }
    for m in &ds.money {
        match program_by_code.get(m.program_code.as_str()) {
            None => problems.push(format!("money → unknown program {}", m.program_code)),
            Some(p) => {
                if p.start_fy.is_some_and(|s| m.fy < s) || p.end_fy.is_some_and(|e| m.fy > e) {
                    problems.push(format!(
                        "money {} {} outside the program's years",
                        m.program_code, m.fy
                    ));
                }
            }
        }
    }
    problems
}

#[test]
fn every_reference_resolves_at_scale_1_and_3_and_in_another_year() {
    for opts in [
        DemoOptions::default(),
        DemoOptions {
            scale: 3,
            seed: 99,
            ..DemoOptions::default()
        },
        DemoOptions {
            as_of: Day::new(2031, 10, 1).unwrap(),
            city_code: "131016".into(),
            ..DemoOptions::default()
        },
        // Extreme years are pulled inside the range rather than producing
        // clamped, colliding periods.
        DemoOptions {
            as_of: Day::new(1950, 10, 1).unwrap(),
            ..DemoOptions::default()
        },
        DemoOptions {
            as_of: Day::new(2100, 10, 1).unwrap(),
            ..DemoOptions::default()
        },
    ] {
        let ds = generate(&opts);
        let problems = reference_problems(&ds);
        assert!(
            problems.is_empty(),
            "{:?}: {} problems, first: {:?}",
            opts,
            problems.len(),
            &problems[..problems.len().min(10)]
        );
    }
}

#[test]
fn counts_at_scale_1() {
    let ds = scale(1);
    let c: BTreeMap<_, _> = ds.counts().into_iter().collect();
    eprintln!("scale 1: {c:?}");
    assert_eq!(c["departments"], 13);
    assert_eq!(c["sections"], 61);
    assert_eq!(c["plans"], 2);
    assert!((140..=165).contains(&c["kpis"]), "{}", c["kpis"]);
    assert!((950..=1050).contains(&c["programs"]), "{}", c["programs"]);
    assert!(c["observations"] >= c["kpis"] * 5, "{}", c["observations"]);
    assert!(c["money"] >= c["programs"] * 4, "{}", c["money"]);
    let bp: Vec<_> = ds
        .plan_nodes
        .iter()
        .filter(|n| n.plan_code == "BP2025")
        .collect();
    assert_eq!(bp.iter().filter(|n| n.level == 1).count(), 8);
    assert!((38..=45).contains(&bp.iter().filter(|n| n.level == 2).count()));
    let plan = ds.plans.iter().find(|p| p.code == "BP2025").unwrap();
    assert_eq!((plan.start_fy, plan.end_fy), (fy(2021), fy(2030)));
    assert!(ds.plans.iter().any(|p| p.code == "SDGS"));
    // Several Basic Plan KPIs also serve the SDGs plan.
    let in_both = ds
        .kpis
        .iter()
        .filter(|k| {
            k.nodes.iter().any(|n| n.node_code.starts_with("BP-"))
                && k.nodes.iter().any(|n| n.node_code.starts_with("SDGS-"))
        })
        .count();
    assert!(in_both >= 15, "{in_both}");
}

#[test]
fn counts_at_scale_10() {
    let ds = scale(10);
    let c: BTreeMap<_, _> = ds.counts().into_iter().collect();
    eprintln!("scale 10: {c:?}");
    assert_eq!(c["plans"], 2);
    assert_eq!(c["departments"], 13 + 99);
    assert_eq!(c["sections"], 61 + 99 * 6);
    assert!((1350..=1700).contains(&c["kpis"]), "{}", c["kpis"]);
    assert!((9500..=10500).contains(&c["programs"]), "{}", c["programs"]);
    // Measures stay realistic: ~3–4 KPIs each.
    let measures = ds.plan_nodes.iter().filter(|n| n.level == 2).count();
    let per_measure = c["kpis"] as f64 / measures as f64;
    assert!((2.5..=5.0).contains(&per_measure), "{per_measure}");
    assert!(reference_problems(&ds).is_empty());
}

#[test]
fn same_seed_same_bytes_other_seed_other_city() {
    let a = serde_json::to_string(&scale(2)).unwrap();
    let b = serde_json::to_string(&scale(2)).unwrap();
    assert!(a == b, "same options must give byte-identical datasets");
    let c = serde_json::to_string(&generate(&DemoOptions {
        scale: 2,
        seed: 1,
        ..DemoOptions::default()
    }))
    .unwrap();
    assert!(a != c);
    // Zero is treated as one, not a panic or an empty city.
    let zero = generate(&DemoOptions {
        scale: 0,
        ..DemoOptions::default()
    });
    assert_eq!(
        serde_json::to_string(&zero).unwrap(),
        serde_json::to_string(&scale(1)).unwrap()
    );
}

#[test]
fn money_is_sane() {
    let ds = scale(1);
    let cur = 2025;
    let mut budgets: Vec<i64> = Vec::new();
    for m in &ds.money {
        assert!((cur - 4..=cur).contains(&m.fy.year()), "{m:?}");
        assert!(
            m.budget_initial >= 1_000_000 && m.budget_initial <= 3_000_000_000,
            "{m:?}"
        );
        assert!(m.budget_revised.is_none_or(|r| r > 0), "{m:?}");
        assert_eq!(
            m.settled.is_some(),
            m.fy.year() < cur,
            "settled only for closed years: {m:?}"
        );
        assert!(m.settled.is_none_or(|s| s >= 0 && s <= m.budget()), "{m:?}");
        let f = &m.funding;
        assert!(
            [f.national, f.prefectural, f.bonds, f.other, f.general]
                .iter()
                .all(|x| *x >= 0),
            "{m:?}"
        );
        assert_eq!(
            f.total(),
            m.direct_cost(),
            "funding must sum to the settled (or budget) amount: {m:?}"
        );
        assert!((0.1..=5.0).contains(&m.staff_fte), "{m:?}");
        assert!(
            (7_500_000..=8_500_000).contains(&m.staff_unit_cost),
            "{m:?}"
        );
        assert!(m.output_quantity.is_none_or(|q| q.is_finite() && q >= 0.0));
        if m.fy.year() == cur {
            budgets.push(m.budget_initial);
        }
    }
    budgets.sort_unstable();
    let median = budgets[budgets.len() / 2];
    assert!(
        (5_000_000..=50_000_000).contains(&median),
        "median budget {median}"
    );
    assert!(
        *budgets.last().unwrap() >= 500_000_000,
        "a long tail of big programs"
    );
    // Some programs use each kind of funding.
    assert!(ds.money.iter().any(|m| m.funding.national > 0));
    assert!(ds.money.iter().any(|m| m.funding.bonds > 0));
    assert!(ds.money.iter().any(|m| m.budget_revised.is_some()));
}

#[test]
fn numbers_are_finite_and_years_in_range() {
    let ds = scale(2);
    for k in &ds.kpis {
        let years = k
            .baseline
            .iter()
            .chain(k.targets.iter())
            .chain(k.final_target.iter());
        for yv in years {
            assert!(yv.value.is_finite(), "{}", k.code);
            assert!(
                (2015..=2031).contains(&yv.fy.year()),
                "{} {}",
                k.code,
                yv.fy
            );
        }
        assert!(k.publication_lag_years <= 2);
        assert!(
            !k.unit.is_empty() || k.name_ja.contains("出生率"),
            "{}",
            k.name_ja
        );
    }
    for o in &ds.observations {
        if let ObsValue::Value(v) = o.value {
            assert!(v.is_finite(), "{o:?}");
        }
        assert!(
            (2017..=2025).contains(&o.period.fiscal_year().year()),
            "{o:?}"
        );
    }
    for l in &ds.links {
        assert!((0.05..=0.6).contains(&l.weight), "{l:?}");
        assert!(!l.rationale.is_empty());
    }
    for i in &ds.indicators {
        assert!(
            i.target.is_none_or(f64::is_finite) && i.actual.is_none_or(f64::is_finite),
            "{i:?}"
        );
        if i.unit == "%" {
            assert!(i.actual.is_none_or(|a| (0.0..=100.0).contains(&a)), "{i:?}");
        }
        assert_eq!(
            i.actual.is_some(),
            i.fy.year() < 2025,
            "actuals only for closed years: {i:?}"
        );
    }
}

/// Achievement rate against the year's target (or the straight path from the
/// baseline to the final target), as the progress rules define it.
fn status_of(k: &Kpi, y: FiscalYear, v: f64) -> Option<Status> {
    let base = k.baseline?;
    let fin = k.final_target?;
    let target = k.target_for(y).unwrap_or_else(|| {
        let t = (y.year() - base.fy.year()) as f64 / (fin.fy.year() - base.fy.year()) as f64;
        base.value + (fin.value - base.value) * t
    });
    if matches!(k.direction, Direction::Band { .. }) || (target - base.value).abs() < 1e-9 {
        return None;
    }
    Some(StatusThresholds::default().classify(Some((v - base.value) / (target - base.value))))
}

#[test]
fn statuses_spread_over_all_grades() {
    for seed in [citykpi_demo::DEFAULT_SEED, 1, 42] {
        statuses_spread(&generate(&DemoOptions {
            seed,
            ..DemoOptions::default()
        }));
    }
}

fn statuses_spread(ds: &Dataset) {
    let mut latest: BTreeMap<&str, (FiscalYear, f64)> = BTreeMap::new();
    for o in &ds.observations {
        if let (Period::Year(y), ObsValue::Value(v), true) =
            (o.period, o.value, o.area_code == DEFAULT_CITY_CODE)
        {
            let e = latest.entry(o.kpi_code.as_str()).or_insert((y, v));
            if y > e.0 {
                *e = (y, v);
            }
        }
    }
    let mut counts: BTreeMap<Status, usize> = BTreeMap::new();
    for k in &ds.kpis {
        if let Some(&(y, v)) = latest.get(k.code.as_str())
            && let Some(s) = status_of(k, y, v)
        {
            *counts.entry(s).or_default() += 1;
        }
    }
    eprintln!("statuses: {counts:?}");
    let total: usize = counts.values().sum();
    for s in [
        Status::Achieved,
        Status::OnTrack,
        Status::Behind,
        Status::AtRisk,
    ] {
        let n = counts.get(&s).copied().unwrap_or(0);
        assert!(n * 100 >= total * 8, "{s:?}: {n} of {total}");
    }
}

#[test]
fn observations_have_gaps_secrets_lags_and_months() {
    let ds = scale(1);
    let city = DEFAULT_CITY_CODE;
    let count = |f: &dyn Fn(&citykpi_domain::observation::Observation) -> bool| {
        ds.observations.iter().filter(|o| f(o)).count()
    };
    assert!(count(&|o| o.value == ObsValue::Missing) >= 5);
    let secrets = count(&|o| o.value == ObsValue::Secret);
    assert!((1..=40).contains(&secrets), "{secrets}");
    assert!(count(&|o| o.status == ObsStatus::Provisional) >= 40);
    assert!(
        ds.observations
            .iter()
            .all(|o| o.is_confirmed() == (o.entered_by == "demo") && !o.entered_at.is_empty())
    );
    // A few of the latest actuals await confirmation, as their department's
    // editor entered them; everything else is confirmed.
    let waiting: Vec<_> = ds
        .observations
        .iter()
        .filter(|o| !o.is_confirmed())
        .collect();
    assert!((1..=8).contains(&waiting.len()), "{}", waiting.len());
    assert!(waiting.iter().all(|o| o.entered_by.starts_with("editor-")));
    for k in &ds.kpis {
        let years: Vec<i32> = ds
            .observations
            .iter()
            .filter(|o| o.kpi_code == k.code && o.area_code == city)
            .filter_map(|o| match o.period {
                Period::Year(y) => Some(y.year()),
                _ => None,
            })
            .collect();
        let months = ds
            .observations
            .iter()
            .filter(|o| o.kpi_code == k.code && matches!(o.period, Period::Month(..)))
            .count();
        if k.frequency == Frequency::Monthly {
            assert!(
                years.is_empty() && months >= 60,
                "{}: {months} months",
                k.name_ja
            );
            continue;
        }
        assert!(years.len() >= 5, "{} has {} years", k.name_ja, years.len());
        let last = years.iter().max().copied().unwrap_or(0);
        assert_eq!(
            last,
            2024 - i32::from(k.publication_lag_years),
            "{} (lag {})",
            k.name_ja,
            k.publication_lag_years
        );
        // The baseline is itself an observation.
        let base = k.baseline.unwrap();
        let at_base = ds.observations.iter().find(|o| {
            o.kpi_code == k.code && o.area_code == city && o.period == Period::Year(base.fy)
        });
        if let Some(o) = at_base {
            assert_eq!(o.value, ObsValue::Value(base.value), "{}", k.name_ja);
        }
    }
    let overtime = ds
        .kpis
        .iter()
        .find(|k| k.name_ja.contains("時間外勤務"))
        .unwrap();
    assert_eq!(overtime.frequency, Frequency::Monthly);
    assert_eq!(overtime.direction, Direction::LowerIsBetter);
    // Hours per month are a level: judged on the mean of the latest twelve months.
    assert_eq!(
        overtime.status_basis,
        Some(citykpi_domain::kpi::StatusBasis::Last12Mean)
    );
    assert!(
        ds.kpis
            .iter()
            .any(|k| matches!(k.direction, Direction::Band { .. }))
    );
    assert!(ds.kpis.iter().any(|k| k.publication_lag_years == 2));
    // Comparison areas for a few KPIs, with real codes.
    let areas: BTreeSet<&str> = ds
        .observations
        .iter()
        .map(|o| o.area_code.as_str())
        .collect();
    assert!(areas.len() >= 5, "{areas:?}");
}

#[test]
fn kpis_look_like_a_real_plan() {
    let ds = scale(1);
    let drafts = ds.kpis.iter().filter(|k| !k.published).count();
    assert!(drafts >= 1 && drafts * 10 < ds.kpis.len(), "{drafts}");
    let co_owned = ds.kpis.iter().filter(|k| {
        let depts: BTreeSet<&str> = k
            .owner_sections
            .iter()
            .filter_map(|s| {
                ds.sections
                    .iter()
                    .find(|x| &x.code == s)
                    .map(|x| x.department_code.as_str())
            })
            .collect();
        depts.len() >= 2
    });
    assert!(co_owned.count() >= 5);
    assert!(ds.kpis.iter().filter(|k| !k.sdgs.is_empty()).count() * 10 >= ds.kpis.len() * 8);
    assert!(
        ds.kpis
            .iter()
            .any(|k| k.sdgs.iter().any(|t| t.target.is_some()))
    );
    let lower = ds
        .kpis
        .iter()
        .filter(|k| k.direction == Direction::LowerIsBetter)
        .count();
    assert!(lower >= 10 && lower * 3 < ds.kpis.len(), "{lower}");
    for name in [
        "保育所等待機児童数",
        "健康寿命（男性）",
        "市域の温室効果ガス排出量",
        "SDGs推進プラットフォーム会員数",
    ] {
        assert!(ds.kpis.iter().any(|k| k.name_ja == name), "{name}");
    }
}

#[test]
fn users_cover_every_role_and_department() {
    let ds = scale(2);
    for role in Role::ALL {
        assert!(ds.users.iter().any(|u| u.role == role), "{role:?}");
    }
    assert!(
        ds.users
            .iter()
            .any(|u| u.login == "admin" && u.role == Role::Admin && u.active)
    );
    assert!(ds.users.iter().all(|u| u.password_hash.is_none()));
    let section_dept: BTreeMap<&str, &str> = ds
        .sections
        .iter()
        .map(|s| (s.code.as_str(), s.department_code.as_str()))
        .collect();
    for d in &ds.departments {
        let editor = ds.users.iter().find(|u| {
            u.role == Role::DepartmentEditor
                && section_dept.get(u.section_code.as_str()) == Some(&d.code.as_str())
        });
        let editor = editor.unwrap_or_else(|| panic!("no editor for {}", d.name_ja));
        assert!(editor.login.starts_with("editor-"));
    }
    assert!(ds.users.iter().any(|u| u.login == "editor-kenko"));
}

#[test]
fn programs_link_to_their_departments_kpis() {
    let ds = scale(1);
    let section_dept: BTreeMap<&str, &str> = ds
        .sections
        .iter()
        .map(|s| (s.code.as_str(), s.department_code.as_str()))
        .collect();
    let program_dept: BTreeMap<&str, &str> = ds
        .programs
        .iter()
        .map(|p| (p.code.as_str(), section_dept[p.section_code.as_str()]))
        .collect();
    let mut per_program: BTreeMap<&str, usize> = BTreeMap::new();
    for l in &ds.links {
        *per_program.entry(l.program_code.as_str()).or_default() += 1;
        let kpi = ds.kpis.iter().find(|k| k.code == l.kpi_code).unwrap();
        let dept = program_dept[l.program_code.as_str()];
        assert!(
            kpi.owner_sections
                .iter()
                .any(|s| section_dept[s.as_str()] == dept),
            "{} links to {} of another department",
            l.program_code,
            kpi.name_ja
        );
    }
    assert!(per_program.values().all(|n| (1..=3).contains(n)));
    // Claimed shares add up past 100 % for some KPIs, as owners over-claim,
    // but not absurdly.
    let mut claimed: BTreeMap<&str, f64> = BTreeMap::new();
    for l in &ds.links {
        *claimed.entry(l.kpi_code.as_str()).or_default() += l.weight;
    }
    let mut sums: Vec<f64> = claimed.values().copied().collect();
    sums.sort_by(f64::total_cmp);
    assert!(
        sums[sums.len() / 2] <= 1.6,
        "median claimed {}",
        sums[sums.len() / 2]
    );
    assert!(
        *sums.last().unwrap() <= 3.0,
        "max claimed {}",
        sums.last().unwrap()
    );
    assert_eq!(
        claimed.len(),
        ds.kpis.len(),
        "every KPI is served by some program"
    );
    // A program about cancer screening serves the cancer-screening KPI.
    let screening = ds
        .programs
        .iter()
        .find(|p| p.name_ja == "がん検診事業")
        .unwrap();
    let kpi = ds
        .kpis
        .iter()
        .find(|k| k.name_ja.starts_with("がん検診受診率"))
        .unwrap();
    let linked = ds
        .links
        .iter()
        .any(|l| l.program_code == screening.code && l.kpi_code == kpi.code);
    assert!(linked || !ds.links.iter().any(|l| l.program_code == screening.code));
    let unlinked = ds.programs.len() - per_program.len();
    assert!(
        (ds.programs.len() * 2 / 100..=ds.programs.len() * 9 / 100).contains(&unlinked),
        "{unlinked}"
    );
    let grades: BTreeSet<_> = ds.links.iter().map(|l| l.evidence_grade).collect();
    assert_eq!(grades.len(), 4);
    // Every program has indicators and money for its active years.
    let with_money: BTreeSet<&str> = ds.money.iter().map(|m| m.program_code.as_str()).collect();
    let with_indicators: BTreeSet<&str> = ds
        .indicators
        .iter()
        .map(|i| i.program_code.as_str())
        .collect();
    assert_eq!(with_money, with_indicators);
    assert!(with_money.len() == ds.programs.len());
    assert!(
        ds.programs.iter().any(|p| p.mandatory)
            && ds.programs.iter().any(|p| !p.legal_basis.is_empty())
    );
    assert!(
        ds.programs
            .iter()
            .all(|p| !p.purpose.is_empty() && !p.intent.is_empty() && !p.means.is_empty())
    );
}

/// The check digit of a 6-digit local-government code (JIS X 0402 rule).
fn check_digit_ok(code: &str) -> bool {
    let d: Vec<u32> = code.chars().filter_map(|c| c.to_digit(10)).collect();
    if d.len() != 6 {
        return false;
    }
    let sum: u32 = d[..5].iter().zip([6, 5, 4, 3, 2]).map(|(a, b)| a * b).sum();
    let r = sum % 11;
    let check = if r == 0 { 0 } else { (11 - r) % 10 };
    check == d[5]
}

#[test]
fn area_codes_are_valid() {
    assert!(check_digit_ok(DEFAULT_CITY_CODE));
    for (code, name) in names::COMPARISON_AREAS {
        assert!(check_digit_ok(code), "{name} {code}");
    }
    assert!(!check_digit_ok("271400"));
}

#[test]
fn demo_password_is_documented_and_shared() {
    assert_eq!(demo_password("admin"), "citykpi-demo");
    assert_eq!(demo_password("editor-kenko"), demo_password("admin"));
}

#[test]
fn plan_tables_name_only_existing_sections_and_kpis() {
    use citykpi_demo::plan_data::{BASIC_PLAN, SDGS_PLAN, WARD_MEASURES};
    let ds = scale(2);
    let dept_of: BTreeMap<&str, &str> = ds
        .sections
        .iter()
        .map(|s| (s.code.as_str(), s.department_code.as_str()))
        .collect();
    let has_section = |dept: &str, name: &str| {
        ds.sections
            .iter()
            .any(|s| s.department_code == dept && s.name_ja == name)
    };
    let bp_names: BTreeSet<&str> = BASIC_PLAN
        .iter()
        .flat_map(|p| p.measures)
        .flat_map(|m| m.kpis)
        .map(|k| k.ja)
        .collect();
    for m in BASIC_PLAN.iter().chain(SDGS_PLAN).flat_map(|p| p.measures) {
        assert!(
            has_section(m.dept, m.sec),
            "{} owner {}:{}",
            m.ja,
            m.dept,
            m.sec
        );
        if let Some((d, s)) = m.co.split_once(':') {
            assert!(has_section(d, s), "{} co-owner {}", m.ja, m.co);
        }
        for shared in m.shared {
            assert!(
                bp_names.contains(shared),
                "{} shares unknown KPI {shared}",
                m.ja
            );
        }
    }
    for (policy, m) in WARD_MEASURES {
        assert!(*policy < BASIC_PLAN.len());
        assert!(has_section("WARD001", m.sec), "{}", m.sec);
    }
    // Every fixed login was created (none silently skipped).
    for login in [
        "admin",
        "strategy-kikaku",
        "strategy-sdgs",
        "strategy-smartcity",
        "strategy-koumin",
        "finance-zaisei",
        "finance-yosan",
        "finance-keiyaku",
        "viewer",
        "viewer-koho",
        "viewer-kyoiku",
        "viewer-retired",
        "editor-kohoku",
    ] {
        let u = ds
            .users
            .iter()
            .find(|u| u.login == login)
            .unwrap_or_else(|| panic!("{login}"));
        assert!(dept_of.contains_key(u.section_code.as_str()));
    }
}

/// The partnership demo's PR plans name a section of the demo city.
#[test]
fn pr_plans_belong_to_the_pr_section() {
    let ds = scale(1);
    let section = ds
        .sections
        .iter()
        .find(|s| s.code == citykpi_demo::partners::PR_SECTION)
        .expect("the PR section exists");
    assert_eq!(section.name_ja, "広報戦略推進課");
    let today = citykpi_domain::partner::Day::parse("2026-12-01").unwrap();
    let demo =
        citykpi_demo::partners::generate(7, 1, today, &[("K-01".to_string(), "指標".to_string())]);
    assert!(!demo.pr_plans.is_empty());
    for plan in &demo.pr_plans {
        assert_eq!(plan.section_code, section.code, "{}", plan.code);
    }
}

/// A word said twice in a row (助成助成, 更新更新, 事業事業) is what a
/// generator writes and no city does.
fn doubled_word(name: &str) -> Option<String> {
    let chars: Vec<char> = name.chars().collect();
    for len in 2..=4 {
        for start in 0..chars.len().saturating_sub(2 * len - 1) {
            let a = &chars[start..start + len];
            let b = &chars[start + len..start + 2 * len];
            if a == b && a.iter().all(|c| !c.is_ascii()) {
                return Some(a.iter().collect());
            }
        }
    }
    None
}

#[test]
fn no_program_or_kpi_name_says_a_word_twice() {
    assert_eq!(
        doubled_word("子ども医療費助成助成事業").as_deref(),
        Some("助成")
    );
    assert_eq!(doubled_word("子ども医療費助成事業"), None);
    let ds = scale(3);
    let doubled: Vec<String> = ds
        .programs
        .iter()
        .map(|p| p.name_ja.clone())
        .chain(ds.kpis.iter().map(|k| k.name_ja.clone()))
        .filter(|n| doubled_word(n).is_some())
        .collect();
    assert!(doubled.is_empty(), "names with a doubled word: {doubled:?}");
    assert!(
        ds.programs
            .iter()
            .any(|p| p.name_ja == "子ども医療費助成事業"),
        "the subsidy program is named once"
    );
}

/// Partnership records point to KPIs that fit them: the food-bank proposal
/// to the children's cafeterias or food loss, the autonomous bus to public
/// transport, not to whatever KPI came next in the list.
#[test]
fn partnership_records_point_to_kpis_that_fit_them() {
    let ds = scale(1);
    let kpis: Vec<(String, String)> = ds
        .kpis
        .iter()
        .map(|k| (k.code.clone(), k.name_ja.clone()))
        .collect();
    let name = |code: &String| {
        kpis.iter()
            .find(|(c, _)| c == code)
            .map(|(_, n)| n.clone())
            .unwrap_or_default()
    };
    let today = citykpi_domain::partner::Day::parse("2026-12-01").unwrap();
    let demo = citykpi_demo::partners::generate(7, 1, today, &kpis);
    let fits = |codes: &[String], words: &[&str]| {
        !codes.is_empty()
            && codes
                .iter()
                .all(|c| words.iter().any(|w| name(c).contains(w)))
    };
    let food = demo
        .proposals
        .iter()
        .find(|p| p.title.contains("子ども食堂"))
        .expect("the food-bank proposal");
    assert!(
        fits(&food.kpi_codes, &["子ども食堂", "食品ロス"]),
        "food bank → {:?}",
        food.kpi_codes.iter().map(name).collect::<Vec<_>>()
    );
    let bus = demo
        .demonstrations
        .iter()
        .find(|d| d.code == "DX-MOBI")
        .expect("the autonomous bus");
    assert!(
        fits(&bus.kpi_codes, &["交通"]),
        "autonomous bus → {:?}",
        bus.kpi_codes.iter().map(name).collect::<Vec<_>>()
    );
    let cleaning = demo
        .menu
        .iter()
        .find(|m| m.code == "M-VOLUNTEER")
        .expect("park cleaning");
    assert!(fits(&cleaning.kpi_codes, &["公園"]));
}
