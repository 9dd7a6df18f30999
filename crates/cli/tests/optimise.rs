//! `citykpi optimise` on the demo city, on SQLite and PostgreSQL: the JSON
//! answer is the service's (the web page and the API call the same one,
//! checked in the web's tests), within the budget and the ceilings; `--save`
//! stores a scenario that reopens with the same objective; an impossible
//! budget is refused naming the total.

mod common;

use citykpi_domain::FiscalYear;
use common::{Backend, TestDb};
use serde_json::Value;

fn json(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("not JSON ({e}): {s}"))
}

fn optimise_matches_the_service(backend: Backend) {
    let db = TestDb::new(backend);
    db.ok(&["demo"]);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let store = rt.block_on(citykpi_app::open_store(Some(&db.url))).unwrap();
    let fy = FiscalYear::new(2026).unwrap();
    let defaults = rt
        .block_on(citykpi_app::whatif::default_rules(&store, fy))
        .unwrap();
    let budget = defaults.budget_yen / 100 * 97;
    let out = json(&db.ok(&[
        "optimise",
        "--fy",
        "2026",
        "--budget",
        &budget.to_string(),
        "--max-abolitions",
        "2",
        "--format",
        "json",
        "--save",
        "CLI案",
    ]));
    let rules = citykpi_app::whatif::Rules {
        budget_yen: budget,
        max_abolitions: Some(2),
        ..defaults
    };
    let service = rt
        .block_on(citykpi_app::whatif::run(&store, fy, &rules))
        .unwrap();
    let objective = out["optimal_contribution"].as_f64().unwrap();
    assert!((objective - service.optimal_contribution).abs() <= 1e-9);
    assert_eq!(out["proven_optimal"], true);
    let cost = out["optimal_cost_yen"].as_i64().unwrap();
    assert!(cost <= budget);
    for d in out["departments"].as_array().unwrap() {
        if let Some(c) = d["ceiling"].as_i64() {
            assert!(d["optimal_cost"].as_i64().unwrap() <= c);
        }
        assert!(d["abolitions"].as_u64().unwrap() <= 2);
    }
    // The saved scenario reopens with the same numbers.
    let id = out["scenario_id"].as_i64().unwrap();
    let saved = rt
        .block_on(citykpi_app::whatif::open_scenario(&store, id))
        .unwrap();
    assert_eq!(saved.head.name, "CLI案");
    assert_eq!(saved.outcome.optimal_contribution, objective);

    // The table in Japanese, in 千円.
    let table = db.ok(&["optimise", "--fy", "R8", "--lang", "ja"]);
    assert!(table.contains("予算の試算（単位: 千円）"), "{table}");
    assert!(table.contains("証明済み"), "{table}");

    // A budget below what the mandatory programs need names the total.
    let refused = db.run(&["optimise", "--fy", "2026", "--budget", "1000"]);
    assert!(!refused.status.success());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        err.contains("budget_yen") && err.contains("total budget"),
        "{err}"
    );
}

on_both_backends!(optimise_matches_the_service);
