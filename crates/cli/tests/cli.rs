//! End-to-end tests of the `citykpi` binary on SQLite and PostgreSQL: the demo
//! city, KPI status and its roll-up, export → import round trips for every
//! kind, re-import after an edit, refusal of bad files with nothing written,
//! and causal estimates recorded as evidence on a program–KPI link.

mod common;

use common::{Backend, TestDb};
use serde_json::Value;

/// Kinds in the order an empty database can take them (references first).
const KINDS: [&str; 9] = [
    "org",
    "users",
    "plans",
    "kpis",
    "programs",
    "links",
    "indicators",
    "money",
    "observations",
];

fn json(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("not JSON ({e}): {s}"))
}

fn demo_then_status_rolls_up(backend: Backend) {
    let db = TestDb::new(backend);
    let out = db.ok(&["demo", "--seed", "7"]);
    assert!(out.contains("Built the demo city"), "{out}");

    let report = json(&db.ok(&["kpi", "status", "--fy", "2024", "--format", "json"]));
    let kpis = report["kpis"].as_array().expect("kpis");
    assert!(
        kpis.len() >= 100,
        "demo city should have ~150 KPIs, got {}",
        kpis.len()
    );
    assert_eq!(report["fy"], 2024);
    // Counts add up to the KPIs and every status is represented.
    let counts = &report["counts"];
    let total: u64 = ["achieved", "on_track", "behind", "at_risk", "no_data"]
        .iter()
        .map(|k| counts[k].as_u64().expect("count"))
        .sum();
    assert_eq!(total as usize, kpis.len());
    for k in ["achieved", "on_track", "behind", "at_risk"] {
        assert!(
            counts[k].as_u64().unwrap() > 0,
            "demo should have some {k} KPIs: {counts}"
        );
    }

    // Each KPI's rate is what its exported baseline, path and actual say.
    let exported =
        json(&String::from_utf8(db.export("kpis", "json", &db.path("kpis.json"))).unwrap());
    let defs: std::collections::HashMap<String, Value> = exported
        .as_array()
        .expect("array")
        .iter()
        .map(|k| (k["code"].as_str().unwrap().to_string(), k.clone()))
        .collect();
    let mut checked = 0;
    for row in kpis {
        let (Some(actual), Some(target), Some(rate)) = (
            row["actual"].as_f64(),
            row["target"].as_f64(),
            row["rate"].as_f64(),
        ) else {
            assert_eq!(
                row["status"], "no_data",
                "a KPI without a rate must be no_data: {row}"
            );
            continue;
        };
        let def = &defs[row["code"].as_str().unwrap()];
        let Some(base) = def["baseline"]["value"].as_f64() else {
            continue;
        };
        if def["direction"]["kind"] == "band" || (target - base).abs() < 1e-9 {
            continue;
        }
        let want = (actual - base) / (target - base);
        assert!(
            (rate - want).abs() < 1e-9,
            "{}: rate {rate} != {want}",
            row["code"]
        );
        checked += 1;
    }
    assert!(checked > 50, "checked only {checked} KPI rates");

    // Two plans, each with a value or an explicit no-data at every node.
    let plans = report["plans"].as_array().expect("plans");
    assert_eq!(plans.len(), 2);
    fn walk(n: &Value) {
        assert!(
            n["rate"].is_number() || n["status"] == "no_data",
            "node without value: {}",
            n["code"]
        );
        if let Some(r) = n["rate"].as_f64() {
            assert!((0.0..=1.0).contains(&r), "roll-up rate out of 0..1: {n}");
        }
        for c in n["children"].as_array().unwrap() {
            walk(c);
        }
    }
    for p in plans {
        walk(p);
        assert!(!p["children"].as_array().unwrap().is_empty());
    }

    // The table form names the statuses and the plans.
    let table = db.ok(&["kpi", "status", "--fy", "R6", "--lang", "ja"]);
    assert!(table.contains("令和6年度"), "{table}");
    assert!(table.contains("基本計画"), "{table}");
}

fn round_trip_every_kind(backend: Backend) {
    let src = TestDb::new(backend);
    src.ok(&["demo", "--seed", "11"]);
    for format in ["json", "csv", "xlsx"] {
        let dst = TestDb::new(match format {
            // One format into the other backend too, to cross backends.
            "csv" => Backend::Postgres,
            _ => Backend::Sqlite,
        });
        for kind in KINDS {
            let file = src.path(&format!("{kind}.{format}"));
            src.export(kind, format, &file);
            let out = dst.ok(&["import", &file.display().to_string(), "--kind", kind]);
            assert!(out.contains("Imported"), "{out}");
        }
        for kind in KINDS {
            // Compare as JSON: the canonical form of every record.
            let a = src.export(kind, "json", &src.path(&format!("a-{kind}.json")));
            let b = dst.export(kind, "json", &dst.path(&format!("b-{kind}.json")));
            assert!(!a.is_empty());
            let (mut a, mut b) = (
                json(std::str::from_utf8(&a).unwrap()),
                json(std::str::from_utf8(&b).unwrap()),
            );
            if kind == "observations" {
                confirmed_by_the_importer(&mut a, &mut b);
            }
            assert_eq!(a, b, "{kind} differs after a {format} round trip");
        }
    }
}

/// An import is done by a role that may confirm, so every imported value
/// arrives confirmed (by the importer, or as the JSON file says). Checks
/// that, then sets the confirmation aside so the rest of each record can be
/// compared as it is.
fn confirmed_by_the_importer(src: &mut Value, dst: &mut Value) {
    let (src, dst) = (
        src.as_array_mut().expect("observations"),
        dst.as_array_mut().expect("observations"),
    );
    assert_eq!(src.len(), dst.len(), "observations");
    let mut unconfirmed = 0;
    for (a, b) in src.iter_mut().zip(dst.iter_mut()) {
        let (by_a, by_b) = (a["confirmed_by"].clone(), b["confirmed_by"].clone());
        assert_ne!(by_b, "", "imported values are confirmed: {b}");
        if by_a == "" {
            unconfirmed += 1;
        }
        for o in [a, b] {
            let o = o.as_object_mut().expect("an observation");
            o.remove("confirmed_by");
            o.remove("confirmed_at");
        }
    }
    assert!(unconfirmed > 0, "the demo has values awaiting confirmation");
}

fn reimport_after_edit_updates_only_changed_rows(backend: Backend) {
    let db = TestDb::new(backend);
    db.ok(&["demo", "--seed", "3"]);
    let file = db.path("programs.csv");
    let csv = String::from_utf8(db.export("programs", "csv", &file)).unwrap();
    let before =
        json(&String::from_utf8(db.export("programs", "json", &db.path("p0.json"))).unwrap());
    // Edit the name of the first program, as a person would in Excel.
    let first = before[0]["code"].as_str().unwrap().to_string();
    let old_name = before[0]["name_ja"].as_str().unwrap().to_string();
    let edited = csv.replacen(&old_name, "市民協働テスト事業（改訂）", 1);
    assert_ne!(edited, csv);
    std::fs::write(&file, edited).unwrap();
    db.ok(&["import", &file.display().to_string()]);
    let after =
        json(&String::from_utf8(db.export("programs", "json", &db.path("p1.json"))).unwrap());
    assert_eq!(
        before.as_array().unwrap().len(),
        after.as_array().unwrap().len()
    );
    for (b, a) in before
        .as_array()
        .unwrap()
        .iter()
        .zip(after.as_array().unwrap())
    {
        if a["code"] == first.as_str() {
            assert_eq!(a["name_ja"], "市民協働テスト事業（改訂）");
            assert_eq!(a["purpose"], b["purpose"]);
        } else {
            assert_eq!(a, b);
        }
    }
}

fn bad_file_is_refused_and_nothing_is_written(backend: Backend) {
    let db = TestDb::new(backend);
    db.ok(&["demo", "--seed", "5"]);
    let before = db.export("observations", "json", &db.path("o0.json"));
    let kpis = json(&String::from_utf8(db.export("kpis", "json", &db.path("k.json"))).unwrap());
    let code = kpis[0]["code"].as_str().unwrap();
    let bad = db.path("bad.csv");
    std::fs::write(
        &bad,
        format!(
            "kpi_code,period,area_code,value,status\n\
             {code},2024,271403,12.5,final\n\
             NO-SUCH-KPI,2024,271403,3,final\n\
             {code},令和99年度,271403,4,final\n\
             {code},2023,271403,many,final\n"
        ),
    )
    .unwrap();
    let out = db.run(&[
        "import",
        &bad.display().to_string(),
        "--kind",
        "observations",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.csv"), "{err}");
    assert!(err.contains("NO-SUCH-KPI"), "{err}");
    assert!(err.contains("many"), "{err}");
    // Every problem is listed, by row: rows 3, 4 and 5 (the header is row 1).
    for row in ["3", "4", "5"] {
        assert!(err.contains(row), "row {row} missing in: {err}");
    }
    assert!(err.contains("Nothing was written"), "{err}");
    let after = db.export("observations", "json", &db.path("o1.json"));
    assert_eq!(before, after, "a refused import must write nothing");

    // A dry run of a good file writes nothing either.
    let good = db.path("good.csv");
    std::fs::write(
        &good,
        format!("kpi_code,period,area_code,value\n{code},2019,271403,1\n"),
    )
    .unwrap();
    let out = db.ok(&["import", &good.display().to_string(), "--dry-run"]);
    assert!(out.contains("Dry run"), "{out}");
    assert_eq!(
        before,
        db.export("observations", "json", &db.path("o2.json"))
    );
}

on_both_backends!(
    demo_then_status_rolls_up,
    round_trip_every_kind,
    reimport_after_edit_updates_only_changed_rows,
    bad_file_is_refused_and_nothing_is_written,
    evidence_is_recorded_on_a_link,
);

/// A difference-in-differences estimate on the Proposition 99 panel, recorded
/// on one of the demo city's program–KPI links and listed back; a link that
/// does not exist is refused and nothing is stored.
fn evidence_is_recorded_on_a_link(backend: Backend) {
    let db = TestDb::new(backend);
    db.ok(&["demo", "--seed", "7"]);
    let links =
        json(&String::from_utf8(db.export("links", "json", &db.path("links.json"))).unwrap());
    let link = &links.as_array().expect("links")[0];
    let (program, kpi) = (
        link["program_code"].as_str().expect("program"),
        link["kpi_code"].as_str().expect("kpi"),
    );
    let panel = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/prop99/california_prop99.csv"
    );
    let did = |attach: &str| {
        db.run(&[
            "evidence",
            "did",
            "--panel",
            panel,
            "--unit",
            "State",
            "--time",
            "Year",
            "--outcome",
            "PacksPerCapita",
            "--treated",
            "California",
            "--treatment-time",
            "1989",
            "--format",
            "json",
            "--attach",
            attach,
            "--note",
            "州の政策",
        ])
    };
    let out = did(&format!("{program}:{kpi}"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = json(&String::from_utf8_lossy(&out.stdout));
    assert!(
        (printed["estimate"].as_f64().unwrap() + 27.349).abs() < 1e-3,
        "{printed}"
    );

    let listed = json(&db.ok(&["evidence", "list", "--kpi", kpi, "--format", "json"]));
    let rows = listed.as_array().expect("rows");
    assert_eq!(rows.len(), 1, "{listed}");
    let r = &rows[0];
    assert_eq!(r["program_code"], program);
    assert_eq!(r["method"], "difference_in_differences");
    assert_eq!(r["grade"], "causal");
    assert_eq!(r["note"], "州の政策");
    assert_eq!(r["recorded_by"], "cli");
    assert!((r["estimate"].as_f64().unwrap() + 27.349).abs() < 1e-3);
    let (lo, hi) = (
        r["interval"][0].as_f64().unwrap(),
        r["interval"][1].as_f64().unwrap(),
    );
    assert!(lo < -27.349 && -27.349 < hi, "{r}");
    assert_eq!(r["level"], 0.95);
    assert!(
        r["data"]
            .as_str()
            .unwrap()
            .contains("california_prop99.csv")
    );

    // No such link: refused, naming it; nothing more stored.
    let out = did(&format!("{program}:NO-SUCH-KPI"));
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("NO-SUCH-KPI"), "{err}");
    let out = did("no-colon");
    assert!(String::from_utf8_lossy(&out.stderr).contains("PROGRAM:KPI"));
    let all = json(&db.ok(&["evidence", "list", "--format", "json"]));
    assert_eq!(all.as_array().unwrap().len(), 1);
}

/// `citykpi kpi status | head -1`: when the reader stops early the command
/// ends quietly (SIGPIPE, as other tools do) instead of panicking.
#[test]
fn a_closed_pipe_is_not_a_panic() {
    use std::io::Read;
    use std::process::{Command, Stdio};
    let db = TestDb::new(Backend::Sqlite);
    // Scale 3: the table (~80 KB) is more than a pipe holds (64 KB), so the
    // command is still writing when the reader goes away.
    db.ok(&["demo", "--seed", "7", "--scale", "3"]);
    let mut child = Command::new(env!("CARGO_BIN_EXE_citykpi"))
        .args(["--db", &db.url, "kpi", "status"])
        .env("LANG", "en_US.UTF-8")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run citykpi");
    let mut first = [0u8; 16];
    child
        .stdout
        .take()
        .expect("stdout")
        .read_exact(&mut first)
        .expect("some output");
    // The pipe is closed here, with most of the table still to print.
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!out.status.success(), "ended by the closed pipe");
}
