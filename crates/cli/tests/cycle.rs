//! `citykpi cycle status` and `citykpi restructure list` on the demo city, on
//! SQLite and PostgreSQL: the numbers are checked against the data the
//! binary exports, and bad input is refused with a message naming it.

mod common;

use std::collections::{HashMap, HashSet};

use common::{Backend, TestDb};
use serde_json::Value;

fn json(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("not JSON ({e}): {s}"))
}

fn demo_cycle_status(backend: Backend) {
    let db = TestDb::new(backend);
    db.ok(&["demo"]);
    let status = json(&db.ok(&["cycle", "status", "--fy", "2024", "--format", "json"]));
    assert_eq!(status["fy"], 2024);
    assert_eq!(status["budget_fy"], 2026);
    assert_eq!(status["started"], true);
    assert_eq!(status["state"], "open");
    let stages = status["stages"].as_array().unwrap();
    assert_eq!(stages.len(), 6);
    assert_eq!(stages[0]["stage"], "kpi_actuals");
    assert_eq!(stages[0]["state"], "waived");
    assert!(stages[0]["reason"].as_str().unwrap().contains("公表待ち"));
    assert_eq!(stages[1]["deadline"], "2025-08-10");
    assert_eq!(status["current_stage"], "self_evaluation");

    // Sheets by state: every state present, and the owed items of stage 2
    // are exactly the programs without a handed-in sheet.
    let sheets: HashMap<String, u64> = status["sheets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p[0].as_str().unwrap().to_string(), p[1].as_u64().unwrap()))
        .collect();
    for st in ["draft", "submitted", "returned", "accepted"] {
        assert!(sheets[st] > 10, "{st}: {sheets:?}");
    }
    let evaluated = status["programs_evaluated"].as_u64().unwrap();
    let handed_in = sheets["submitted"] + sheets["accepted"];
    assert_eq!(stages[1]["owed"].as_u64().unwrap(), evaluated - handed_in);
    assert_eq!(stages[2]["owed"].as_u64().unwrap(), sheets["submitted"]);
    let owed = status["owed"].as_array().unwrap();
    let owed_total: u64 = stages.iter().map(|s| s["owed"].as_u64().unwrap()).sum();
    assert_eq!(owed.len() as u64, owed_total);
    let returned = owed
        .iter()
        .find(|o| o["item"]["kind"] == "sheet" && o["item"]["state"] == "returned")
        .expect("a returned sheet is owed");
    assert!(returned["section_code"].is_string());
    assert!(status["budget_requests"].as_u64().unwrap() > 100);

    // The table names the stages in the chosen language.
    let ja = db.ok(&["cycle", "status", "--fy", "R6", "--lang", "ja"]);
    assert!(ja.contains("（令和6年度）の進行管理サイクル"), "{ja}");
    assert!(ja.contains("2. 事務事業の自己評価"), "{ja}");
    assert!(ja.contains("免除"), "{ja}");
    let en = db.ok(&["cycle", "status", "--fy", "2024"]);
    assert!(en.contains("Management cycle of FY2024"), "{en}");
    assert!(en.contains("3. review"), "{en}");

    // A year without a cycle is reported as not started, not as an error.
    let other = json(&db.ok(&["cycle", "status", "--fy", "2020", "--format", "json"]));
    assert_eq!(other["started"], false);
    let bad = db.run(&["cycle", "status", "--fy", "20245"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("fiscal year"));

    let r = json(&db.ok(&["cycle", "recompute", "--fy", "2024", "--format", "json"]));
    assert_eq!(r["compiled"]["fy"], 2026);
    let total = &r["compiled"]["total"];
    let by_dept: i64 = r["compiled"]["by_department"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["requested"].as_i64().unwrap())
        .sum();
    assert_eq!(by_dept, total["requested"].as_i64().unwrap());
    let by_source: i64 = r["compiled"]["by_funding_source"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["requested"].as_i64().unwrap())
        .sum();
    assert_eq!(by_source, total["requested"].as_i64().unwrap());
}

fn restructure_list_matches_the_data(backend: Backend) {
    let db = TestDb::new(backend);
    db.ok(&["demo"]);
    let list = json(&db.ok(&["restructure", "list", "--fy", "2024", "--format", "json"]));
    let list = list.as_array().unwrap();
    assert!(
        list.len() > 20,
        "demo should flag some programs: {}",
        list.len()
    );
    let links =
        json(&String::from_utf8(db.export("links", "json", &db.path("links.json"))).unwrap());
    let money =
        json(&String::from_utf8(db.export("money", "json", &db.path("money.json"))).unwrap());
    let linked: HashSet<&str> = links
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["weight"].as_f64().unwrap() > 0.0)
        .map(|l| l["program_code"].as_str().unwrap())
        .collect();
    let mut kinds = HashSet::new();
    for (i, e) in list.iter().enumerate() {
        assert_eq!(e["rank"].as_u64().unwrap() as usize, i + 1);
        let code = e["program_code"].as_str().unwrap();
        let flags = e["flags"].as_array().unwrap();
        assert!(!flags.is_empty());
        for f in flags {
            kinds.insert(f["kind"].as_str().unwrap().to_string());
            assert!(!f["explanation_ja"].as_str().unwrap().is_empty());
            assert!(!f["explanation_en"].as_str().unwrap().is_empty());
            if f["kind"] == "no_kpi" {
                assert!(
                    !linked.contains(code),
                    "{code} is linked but flagged no_kpi"
                );
            }
        }
        // Contribution per ¥100M recomputed from the exported links and money.
        if let Some(per) = e["contribution_per_100m_yen"].as_f64() {
            let w: f64 = links
                .as_array()
                .unwrap()
                .iter()
                .filter(|l| l["program_code"] == code && l["weight"].as_f64().unwrap() > 0.0)
                .map(|l| l["weight"].as_f64().unwrap())
                .sum();
            let m = money
                .as_array()
                .unwrap()
                .iter()
                .find(|m| m["program_code"] == code && m["fy"] == 2024)
                .expect("money of the year");
            let direct = m["settled"]
                .as_i64()
                .or(m["budget_revised"].as_i64())
                .unwrap_or_else(|| m["budget_initial"].as_i64().unwrap());
            let staff =
                (m["staff_fte"].as_f64().unwrap() * m["staff_unit_cost"].as_f64().unwrap()).round();
            let full = direct as f64 + staff;
            assert_eq!(e["full_cost"].as_f64().unwrap(), full, "{code}");
            let want = w / (full / 1e8);
            assert!((per - want).abs() < 1e-9, "{code}: {per} vs {want}");
        }
    }
    assert!(kinds.contains("low_contribution_per_yen"), "{kinds:?}");
    let table = db.ok(&["restructure", "list", "--fy", "2024", "--lang", "ja"]);
    assert!(table.contains("事業再編の候補"), "{table}");
    assert!(table.contains("費用当たり寄与度が低い"), "{table}");
}

fn merge_with_lineage(backend: Backend) {
    let db = TestDb::new(backend);
    db.ok(&["demo"]);
    let programs =
        json(&String::from_utf8(db.export("programs", "json", &db.path("p.json"))).unwrap());
    let running: Vec<&Value> = programs
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["end_fy"].is_null())
        .collect();
    let (a, b, c) = (
        running[0]["code"].as_str().unwrap(),
        running[1]["code"].as_str().unwrap(),
        running[2]["code"].as_str().unwrap(),
    );
    // A merge into one program only: refused with the rule named, nothing written.
    let bad = db.run(&[
        "restructure",
        "record",
        "--fy",
        "2024",
        "--kind",
        "merge",
        "--from",
        a,
        "--to",
        c,
    ]);
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("a merge takes two or more programs into one"),
        "{err}"
    );
    let unknown = db.run(&[
        "restructure",
        "record",
        "--fy",
        "2024",
        "--kind",
        "merge",
        "--from",
        a,
        "--from",
        b,
        "--to",
        "P99999",
    ]);
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("unknown program \"P99999\""));

    let out = db.ok(&[
        "restructure",
        "record",
        "--fy",
        "2024",
        "--kind",
        "統合",
        "--from",
        a,
        "--from",
        b,
        "--to",
        c,
        "--note",
        "窓口の一本化",
    ]);
    assert!(out.contains("Recorded restructuring"), "{out}");
    let h = json(&db.ok(&["restructure", "history", a, "--format", "json"]));
    let group: Vec<&str> = h["group"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let mut want = vec![a, b, c];
    want.sort();
    assert_eq!(group, want);
    assert_eq!(h["steps"][0]["kind"], "merge");
    assert_eq!(h["steps"][0]["note"], "窓口の一本化");
    // The KPI contributions of the old and the new programs are all there.
    let links = json(&String::from_utf8(db.export("links", "json", &db.path("l.json"))).unwrap());
    let n = links
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| want.contains(&l["program_code"].as_str().unwrap()))
        .count();
    assert_eq!(h["links"].as_array().unwrap().len(), n);
    // The merged programs end with the running year (FY2025).
    let after =
        json(&String::from_utf8(db.export("programs", "json", &db.path("p2.json"))).unwrap());
    for code in [a, b] {
        let p = after
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["code"] == code)
            .unwrap();
        assert_eq!(p["end_fy"], 2025, "{code}");
    }
    let p = after
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["code"] == c)
        .unwrap();
    assert!(p["end_fy"].is_null());
}

on_both_backends!(
    demo_cycle_status,
    restructure_list_matches_the_data,
    merge_with_lineage
);
