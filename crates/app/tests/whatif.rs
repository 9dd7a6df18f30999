//! The budget what-if service on the demo city, in a real SQLite file and a
//! real PostgreSQL database: the problem it builds from the stored records
//! equals one built here by hand from the documented rules, its objective is
//! the engine's, the plan respects the budget and the ceilings, an infeasible
//! rule set names its constraint, a saved scenario reopens with the same
//! numbers, and a scenario sent to the assessment changes nothing until a
//! proposal is accepted.

mod common;

use common::Db;
use std::collections::{BTreeMap, HashMap};

use citykpi_analytics::realloc::{self, OptionKind, ProgramChoices, ProgramOption, ReallocProblem};
use citykpi_app::whatif::{self, Rules};
use citykpi_domain::FiscalYear;
use citykpi_domain::cycle::sheet::ProgramDirection;
use citykpi_domain::cycle::stage::{Cycle, program_runs_in};
use citykpi_store::Store;

fn budget_fy() -> FiscalYear {
    // The demo city's running cycle evaluates 2024 and builds 2026.
    FiscalYear::new(2026).unwrap()
}

/// The problem built by hand from the records, following the rules in the
/// service's documentation (no evidence is recorded in the demo, so every
/// contribution is the declared link weights).
async fn by_hand(store: &Store, fy: FiscalYear, rules: &Rules) -> ReallocProblem {
    let programs = store.programs().await.unwrap();
    let sections = store.sections().await.unwrap();
    let links = store.links().await.unwrap();
    let money = store.money().await.unwrap();
    let requests = store.budget_requests(fy).await.unwrap();
    let sheets = store.sheet_heads(Cycle::fy_for_budget(fy)).await.unwrap();
    let dept: HashMap<&str, &str> = sections
        .iter()
        .map(|s| (s.code.as_str(), s.department_code.as_str()))
        .collect();
    let mut out = Vec::new();
    let mut sorted = programs.clone();
    sorted.sort_by(|a, b| a.code.cmp(&b.code));
    for p in &sorted {
        let request = requests.iter().find(|r| r.request.program_code == p.code);
        if !program_runs_in(p, fy) && request.is_none() {
            continue;
        }
        let direction = sheets
            .iter()
            .find(|s| s.head.program_code == p.code)
            .and_then(|s| s.head.direction);
        if direction.is_some_and(|d| d.requests_nothing()) {
            continue;
        }
        let last = money
            .iter()
            .find(|m| m.program_code == p.code && m.fy == fy.prev())
            .map_or(0, |m| m.budget());
        let keep = request.map_or(last, |r| r.request.requested);
        let c: f64 = links
            .iter()
            .filter(|l| l.program_code == p.code)
            .map(|l| l.weight)
            .sum();
        let reference = if last > 0 { last } else { keep };
        let at = |cost: i64| {
            if reference <= 0 {
                c
            } else {
                c * (cost as f64 / reference as f64).sqrt()
            }
        };
        let mandatory = p.mandatory || rules.mandatory.contains(&p.code);
        let mut options = vec![ProgramOption {
            kind: OptionKind::Keep,
            cost_yen: keep,
            contribution: at(keep),
        }];
        if keep > 0 {
            let reduced = keep * (100 - i64::from(rules.reduce_percent)) / 100 / 1000 * 1000;
            if reduced < keep {
                options.push(ProgramOption {
                    kind: OptionKind::Reduce,
                    cost_yen: reduced,
                    contribution: at(reduced),
                });
            }
            let expanded =
                (keep * (100 + i64::from(rules.expand_percent)) / 100 + 500) / 1000 * 1000;
            let may = direction == Some(ProgramDirection::Expand)
                || (rules.expand_all && direction != Some(ProgramDirection::Reduce));
            if may && expanded > keep {
                options.push(ProgramOption {
                    kind: OptionKind::Expand,
                    cost_yen: expanded,
                    contribution: at(expanded),
                });
            }
            if !mandatory {
                options.push(ProgramOption {
                    kind: OptionKind::Abolish,
                    cost_yen: 0,
                    contribution: 0.0,
                });
            }
        }
        out.push(ProgramChoices {
            program_code: p.code.clone(),
            department_code: dept
                .get(p.section_code.as_str())
                .copied()
                .unwrap_or("")
                .to_string(),
            mandatory,
            options,
        });
    }
    ReallocProblem {
        programs: out,
        budget_yen: rules.budget_yen,
        department_ceilings: rules.ceilings.clone(),
        max_abolitions_per_department: rules.max_abolitions,
        time_limit_seconds: Some(whatif::TIME_LIMIT_SECONDS),
    }
}

async fn service_equals_engine(postgres: bool) {
    let db = Db::open(postgres).await;
    let store = &db.store;
    citykpi_app::demo::build_demo(store, 1, 42, citykpi_app::demo::reference_day())
        .await
        .unwrap();
    let fy = budget_fy();
    let defaults = whatif::default_rules(store, fy).await.unwrap();
    assert!(
        !defaults.ceilings.is_empty(),
        "the demo cycle sets ceilings"
    );
    // A tighter budget than the requests, at most one abolition per
    // department, and expansion offered widely: every rule in play.
    let rules = Rules {
        budget_yen: defaults.budget_yen / 100 * 97,
        max_abolitions: Some(1),
        expand_all: true,
        ..defaults.clone()
    };
    let hand = by_hand(store, fy, &rules).await;
    assert_eq!(whatif::problem(store, fy, &rules).await.unwrap(), hand);
    let engine = realloc::reallocate(&hand).unwrap();
    let out = whatif::run(store, fy, &rules).await.unwrap();
    assert!(out.proven_optimal && engine.proven_optimal);
    assert!(
        (out.optimal_contribution - engine.optimal.contribution).abs() <= 1e-9,
        "service {} engine {}",
        out.optimal_contribution,
        engine.optimal.contribution
    );
    assert_eq!(out.optimal_cost_yen, engine.optimal.cost_yen);
    // The plan respects the budget and every ceiling, to the yen.
    assert!(out.optimal_cost_yen <= rules.budget_yen);
    assert_eq!(
        out.programs.iter().map(|p| p.cost_yen).sum::<i64>(),
        out.optimal_cost_yen
    );
    for d in &out.departments {
        if let Some(c) = d.ceiling {
            assert!(
                d.optimal_cost <= c,
                "{}: {} > {c}",
                d.department_code,
                d.optimal_cost
            );
        }
        assert!(d.abolitions <= 1);
    }
    // A budget below the requests forces changes, each with its reason.
    assert!(out.changed().count() > 0);
    assert!(
        out.changed()
            .all(|p| !p.reason_ja.is_empty() && !p.reason_en.is_empty())
    );
    // The budget's shadow price: what one more million yen buys.
    let price = out
        .shadow_price_per_million_yen
        .expect("both solves proven");
    let mut more = hand.clone();
    more.budget_yen += 1_000_000;
    let more = realloc::reallocate(&more).unwrap();
    // Each optimum is exact to 1e-10 of the objective: their difference to about 1e-8.
    if more.proven_optimal {
        let want = more.optimal.contribution - engine.optimal.contribution;
        assert!((price - want).abs() <= 1e-6, "{price} vs {want}");
    }

    // Saved, it reopens with the same numbers.
    let id = whatif::save_scenario(store, "finance-zaisei", "3%削減案", &out)
        .await
        .unwrap();
    let again = whatif::open_scenario(store, id).await.unwrap();
    assert_eq!(again.outcome, out);
    assert_eq!(again.head.name, "3%削減案");
    // The same name twice in a year is refused, naming the field.
    let dup = whatif::save_scenario(store, "finance-zaisei", "3%削減案", &out)
        .await
        .unwrap_err();
    assert_eq!(dup.field_errors()[0].field, "name");
    let audit = store.audit_entries(50, 0).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|a| a.entity == "whatif_scenario" && a.action == "save")
    );

    // The Excel workbook has a row per program.
    let bytes = whatif::workbook("3%削減案", &out).unwrap();
    assert!(bytes.starts_with(b"PK"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_equals_engine_sqlite() {
    service_equals_engine(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_equals_engine_postgres() {
    service_equals_engine(true).await;
}

async fn infeasible_rules_name_the_constraint(postgres: bool) {
    let db = Db::open(postgres).await;
    let store = &db.store;
    citykpi_app::demo::build_demo(store, 1, 42, citykpi_app::demo::reference_day())
        .await
        .unwrap();
    let fy = budget_fy();
    let defaults = whatif::default_rules(store, fy).await.unwrap();
    let out = whatif::run(store, fy, &defaults).await.unwrap();
    // A department with mandatory programs gets a ceiling below them.
    let d = out
        .departments
        .iter()
        .find(|d| {
            out.programs.iter().any(|p| {
                p.department_code == d.department_code && p.mandatory && p.current_cost > 0
            })
        })
        .expect("a department with a mandatory program");
    let mut ceilings: BTreeMap<String, i64> = defaults.ceilings.clone();
    ceilings.insert(d.department_code.clone(), 1_000);
    let rules = Rules {
        ceilings,
        ..defaults.clone()
    };
    let e = whatif::run(store, fy, &rules).await.unwrap_err();
    assert!(e.is_refusal());
    let fields = e.field_errors();
    assert_eq!(fields[0].field, format!("ceiling.{}", d.department_code));
    assert!(fields[0].ja.contains("義務的経費"), "{}", fields[0].ja);
    assert!(fields[0].en.contains("mandatory"), "{}", fields[0].en);
    // A total budget below the mandatory programs names the total.
    let rules = Rules {
        budget_yen: 1_000,
        ceilings: BTreeMap::new(),
        ..defaults.clone()
    };
    let e = whatif::run(store, fy, &rules).await.unwrap_err();
    assert_eq!(e.field_errors()[0].field, "budget_yen");
    // An unknown program among the mandatory ones is named.
    let rules = Rules {
        mandatory: vec!["NO-SUCH".into()],
        ..defaults
    };
    let e = whatif::run(store, fy, &rules).await.unwrap_err();
    assert_eq!(e.field_errors()[0].field, "mandatory");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn infeasible_rules_name_the_constraint_sqlite() {
    infeasible_rules_name_the_constraint(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn infeasible_rules_name_the_constraint_postgres() {
    infeasible_rules_name_the_constraint(true).await;
}

async fn proposals_wait_for_a_decision(postgres: bool) {
    let db = Db::open(postgres).await;
    let store = &db.store;
    citykpi_app::demo::build_demo(store, 1, 42, citykpi_app::demo::reference_day())
        .await
        .unwrap();
    let fy = budget_fy();
    let defaults = whatif::default_rules(store, fy).await.unwrap();
    let rules = Rules {
        budget_yen: defaults.budget_yen / 100 * 95,
        ..defaults
    };
    let out = whatif::run(store, fy, &rules).await.unwrap();
    let id = whatif::save_scenario(store, "finance-zaisei", "5%削減", &out)
        .await
        .unwrap();
    let before = store.budget_requests(fy).await.unwrap();
    let sent = whatif::send_to_assessment(store, "finance-zaisei", id)
        .await
        .unwrap();
    assert!(sent.proposals > 0);
    // Nothing is applied by sending.
    assert_eq!(store.budget_requests(fy).await.unwrap(), before);
    let open = whatif::proposals(store, fy).await.unwrap();
    assert_eq!(open.len(), sent.proposals);
    assert!(open.iter().all(|p| p.state == "open"));
    // Accepting one sets that request's assessed amount to the proposal.
    let a = open
        .iter()
        .find(|p| p.option_kind != "keep")
        .unwrap_or(&open[0]);
    let decided = whatif::decide(store, "finance-yosan", a.id, true)
        .await
        .unwrap();
    assert_eq!(decided.state, "accepted");
    let req = store
        .budget_request(&a.program_code, fy)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(req.request.assessed, Some(a.proposed));
    // Rejecting another leaves its request as it was.
    let b = open.iter().find(|p| p.id != a.id).expect("two proposals");
    let was = store
        .budget_request(&b.program_code, fy)
        .await
        .unwrap()
        .unwrap();
    whatif::decide(store, "finance-yosan", b.id, false)
        .await
        .unwrap();
    let now = store
        .budget_request(&b.program_code, fy)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(now, was);
    // A decided proposal cannot be decided again.
    let again = whatif::decide(store, "finance-yosan", a.id, false)
        .await
        .unwrap_err();
    assert_eq!(again.field_errors()[0].field, "proposal");
    let audit = store.audit_entries(5000, 0).await.unwrap();
    for action in ["send", "accept", "reject"] {
        assert!(
            audit
                .iter()
                .any(|e| e.entity == "budget_proposal" && e.action == action),
            "audited: {action}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proposals_wait_for_a_decision_sqlite() {
    proposals_wait_for_a_decision(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proposals_wait_for_a_decision_postgres() {
    proposals_wait_for_a_decision(true).await;
}
