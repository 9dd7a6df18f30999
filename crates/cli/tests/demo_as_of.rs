//! The demo city is current on the day it is made: `citykpi --as-of DAY demo`
//! at four days across a fiscal year, then every default of the CLI (no
//! `--fy`) on the same day — `cycle status`, `kpi status`, `report
//! evaluations`, `report budget`, `report kpi-progress`, `report open-data` —
//! works, and the cycle is in the stage a city is in then. On SQLite and
//! PostgreSQL, through the real binary.

mod common;

use std::collections::HashMap;

use common::{Backend, TestDb};
use serde_json::Value;

fn json(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("not JSON ({e}): {s}"))
}

/// One day of the year: the fiscal year running, the stage the cycle of the
/// year before is in (None: its work is done).
struct Day {
    date: &'static str,
    fy: i64,
    stage: Option<&'static str>,
}

const DAYS: [Day; 4] = [
    Day {
        date: "2026-04-01",
        fy: 2026,
        stage: Some("kpi_actuals"),
    },
    Day {
        date: "2026-07-15",
        fy: 2026,
        stage: Some("self_evaluation"),
    },
    Day {
        date: "2026-12-07",
        fy: 2026,
        stage: Some("finance_review"),
    },
    Day {
        date: "2027-03-31",
        fy: 2026,
        stage: None,
    },
];

/// Runs `citykpi --as-of DAY ARGS…`, insisting on success.
fn on(db: &TestDb, day: &str, args: &[&str]) -> String {
    let mut all = vec!["--as-of", day];
    all.extend_from_slice(args);
    db.ok(&all)
}

fn demo_on(db: &TestDb, day: &Day) {
    let printed = on(db, day.date, &["demo"]);
    assert!(
        printed.contains(&format!("As of {}", day.date))
            && printed.contains(&format!("fiscal year {}", day.fy)),
        "{printed}"
    );
    let evaluated = day.fy - 1;

    // The cycle of the year just ended, in the stage of the day.
    let status = json(&on(db, day.date, &["cycle", "status", "--format", "json"]));
    assert_eq!(status["fy"], evaluated, "{}", day.date);
    assert_eq!(status["budget_fy"], evaluated + 2);
    assert_eq!(status["started"], true);
    match day.stage {
        Some(stage) => assert_eq!(status["current_stage"], stage, "{}", day.date),
        None => assert!(status["current_stage"].is_null(), "{}", day.date),
    }
    let stages = status["stages"].as_array().unwrap();
    for s in stages {
        let number = s["number"].as_u64().unwrap();
        let current = day.stage.map_or(7, |c| {
            stages
                .iter()
                .find(|x| x["stage"] == c)
                .map(|x| x["number"].as_u64().unwrap())
                .unwrap()
        });
        if number < current {
            assert_ne!(s["state"], "open", "{}: {s}", day.date);
            // A stage the city has closed owes nothing (the actuals stage is
            // waived: national statistics come later).
            if s["state"] == "closed" {
                assert_eq!(s["owed"], 0, "{}: {s}", day.date);
            }
        } else {
            assert_eq!(s["state"], "open", "{}: {s}", day.date);
        }
    }
    let sheets: HashMap<String, u64> = status["sheets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p[0].as_str().unwrap().to_string(), p[1].as_u64().unwrap()))
        .collect();
    let count = |st: &str| sheets.get(st).copied().unwrap_or(0);
    let requests = status["budget_requests"].as_u64().unwrap();
    match day.stage {
        Some("kpi_actuals") => {
            // A few sections have started from the prefilled sheet.
            assert!(count("draft") > 10, "{sheets:?}");
            assert_eq!(count("accepted") + count("submitted"), 0, "{sheets:?}");
            assert_eq!(requests, 0);
        }
        Some("self_evaluation") => {
            for st in ["draft", "submitted", "returned", "accepted"] {
                assert!(count(st) > 10, "{st}: {sheets:?}");
            }
        }
        _ => {
            // Every sheet accepted; the budget requests are in.
            assert_eq!(
                count("accepted"),
                status["programs_evaluated"].as_u64().unwrap(),
                "{sheets:?}"
            );
            assert!(requests > 100, "{requests}");
        }
    }

    // The KPI status of the year just ended: actuals are in.
    let kpi = json(&on(db, day.date, &["kpi", "status", "--format", "json"]));
    assert_eq!(kpi["fy"], evaluated);
    let rows = kpi["kpis"].as_array().unwrap();
    let with_data = rows.iter().filter(|r| r["status"] != "no_data").count();
    assert!(with_data * 2 > rows.len(), "{with_data} of {}", rows.len());

    // Every report with its default year.
    let sheets_file = db.path(&format!("sheets-{}.xlsx", day.date));
    let printed = on(
        db,
        day.date,
        &[
            "report",
            "evaluations",
            "-o",
            &sheets_file.display().to_string(),
        ],
    );
    assert!(
        printed.contains(&format!("FY{evaluated}")),
        "{}: {printed}",
        day.date
    );
    assert!(std::fs::metadata(&sheets_file).unwrap().len() > 1000);
    let budget_file = db.path(&format!("budget-{}.xlsx", day.date));
    on(
        db,
        day.date,
        &["report", "budget", "-o", &budget_file.display().to_string()],
    );
    assert!(std::fs::metadata(&budget_file).unwrap().len() > 1000);
    let open = db.path(&format!("open-{}", day.date));
    on(
        db,
        day.date,
        &["report", "open-data", "-o", &open.display().to_string()],
    );
    assert!(open.join("datapackage.json").exists());
    let pdf = db.path(&format!("progress-{}.pdf", day.date));
    on(
        db,
        day.date,
        &["report", "kpi-progress", "-o", &pdf.display().to_string()],
    );
    assert!(std::fs::read(&pdf).unwrap().starts_with(b"%PDF"));
}

fn every_default_works_across_the_year(backend: Backend) {
    for day in &DAYS {
        let db = TestDb::new(match backend {
            Backend::Sqlite => Backend::Sqlite,
            Backend::Postgres => Backend::Postgres,
        });
        demo_on(&db, day);
    }
}

#[test]
fn sqlite_every_default_works_across_the_year() {
    every_default_works_across_the_year(Backend::Sqlite);
}

#[test]
fn postgres_every_default_works_across_the_year() {
    every_default_works_across_the_year(Backend::Postgres);
}

/// The same day gives the same city; another day another one.
#[test]
fn the_demo_is_deterministic_for_a_day() {
    let export = |day: &str| {
        let db = TestDb::new(Backend::Sqlite);
        on(&db, day, &["demo", "--seed", "3"]);
        let file = db.path("obs.csv");
        on(
            &db,
            day,
            &[
                "export",
                "observations",
                "--format",
                "csv",
                "-o",
                &file.display().to_string(),
            ],
        );
        std::fs::read(file).unwrap()
    };
    let a = export("2026-12-07");
    assert_eq!(a, export("2026-12-07"));
    assert_ne!(a, export("2026-04-01"));
}

/// A day that is not a date is refused, naming it.
#[test]
fn a_bad_day_is_refused() {
    let db = TestDb::new(Backend::Sqlite);
    let out = db.run(&["--as-of", "2026-13-01", "demo"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("2026-13-01"));
}
