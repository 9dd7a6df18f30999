//! `citykpi report kpi-progress` and `citykpi report evaluations -o X.pdf`
//! on the demo city in a real SQLite database. Every PDF is read back with
//! poppler's `pdftotext -layout` and `pdfinfo` (programs nobody here wrote)
//! and its numbers are checked against the database: `kpi status` for the
//! KPIs, the stored evaluation sheets for the costs. Bad input is refused
//! naming the flag, and nothing is written.
#![cfg(feature = "pdf")]

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use citykpi_app::Store;
use citykpi_domain::FiscalYear;
use common::{Backend, TestDb};
use serde_json::Value;

fn fy(y: i32) -> FiscalYear {
    FiscalYear::new(y).unwrap()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn store(rt: &tokio::runtime::Runtime, db: &TestDb) -> Store {
    rt.block_on(citykpi_app::open_store(Some(&db.url)))
        .expect("open the test database")
}

/// The PDF's text as poppler lays it out; pages are separated by form feeds.
fn pdftotext(path: &Path) -> String {
    let out = Command::new("pdftotext")
        .arg("-layout")
        .arg(path)
        .arg("-")
        .output()
        .expect("pdftotext (Debian poppler-utils) must be installed for these tests");
    assert!(
        out.status.success(),
        "pdftotext {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 text")
}

fn pages(path: &Path) -> usize {
    let out = Command::new("pdfinfo")
        .arg(path)
        .output()
        .expect("pdfinfo (Debian poppler-utils) must be installed for these tests");
    assert!(out.status.success());
    let info = String::from_utf8(out.stdout).unwrap();
    info.lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no page count in pdfinfo's output: {info}"))
}

/// `1234567` → `1,234,567` (the report's thousands separators).
fn grouped(int: &str) -> String {
    let (sign, digits) = match int.strip_prefix('-') {
        Some(d) => ("-", d),
        None => ("", int),
    };
    let mut out = sign.to_string();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A KPI value as `kpi status` rounds it, with separators.
fn value(v: f64) -> String {
    if v.fract() == 0.0 {
        grouped(&format!("{v:.0}"))
    } else {
        let s = format!("{v:.2}");
        let (int, frac) = s.split_once('.').unwrap();
        format!("{}.{frac}", grouped(int))
    }
}

fn tokens(line: &str) -> Vec<&str> {
    line.split_whitespace().collect()
}

#[test]
fn kpi_progress_pdf_matches_kpi_status() {
    let db = TestDb::new(Backend::Sqlite);
    db.ok(&["demo"]);
    let out = db.path("progress.pdf");
    let printed = db.ok(&[
        "report",
        "kpi-progress",
        "--fy",
        "2024",
        "-o",
        &out.display().to_string(),
    ]);
    assert!(
        printed.contains("annual KPI progress report of FY2024"),
        "{printed}"
    );
    let text = pdftotext(&out);
    let n_pages = pages(&out);
    assert!(n_pages >= 2, "a title page and the plans: {n_pages} pages");
    assert_eq!(text.matches('\u{c}').count(), n_pages, "pdftotext's pages");

    let title = text.split('\u{c}').next().unwrap();
    assert!(title.contains("年次KPI進捗報告書"), "{title}");
    assert!(title.contains("令和6年度"), "{title}");
    assert!(title.contains("2024年度"), "{title}");

    // A published report: the counts per status on the title page are those
    // of `kpi status --confirmed` (confirmed actuals only).
    let status: Value = serde_json::from_str(&db.ok(&[
        "kpi",
        "status",
        "--fy",
        "2024",
        "--format",
        "json",
        "--confirmed",
    ]))
    .unwrap();
    let counts = &status["counts"];
    let mut total = 0;
    for (key, label) in [
        ("achieved", "達成"),
        ("on_track", "順調"),
        ("behind", "遅れ"),
        ("at_risk", "要注意"),
        ("no_data", "データなし"),
    ] {
        let n = counts[key].as_u64().unwrap();
        total += n;
        let want = n.to_string();
        assert!(
            title
                .lines()
                .any(|l| tokens(l).windows(2).any(|w| w == [label, want.as_str()])),
            "title page: {label} {n}\n{title}"
        );
    }
    assert!(title.contains(&format!("全 {total} 指標")), "{title}");

    // Every KPI with an actual: its row shows the actual and the
    // achievement rate `kpi status` reports.
    let kpis = status["kpis"].as_array().unwrap();
    let mut checked = 0;
    for k in kpis {
        let code = k["code"].as_str().unwrap();
        let Some(actual) = k["actual"].as_f64() else {
            continue;
        };
        let mut actual = value(actual);
        if k["actual_status"].as_str() == Some("provisional") {
            actual.push('*');
        }
        let rate = match k["rate"].as_f64() {
            Some(r) => format!("{:.1}%", r * 100.0),
            None => "-".to_string(),
        };
        let row = text
            .lines()
            .find(|l| {
                let t = tokens(l);
                t.first() == Some(&code) && t.contains(&rate.as_str())
            })
            .unwrap_or_else(|| panic!("no row of {code} with rate {rate}:\n{text}"));
        assert!(
            tokens(row).contains(&actual.as_str()),
            "{code}: actual {actual} in {row:?}"
        );
        checked += 1;
    }
    assert!(
        checked >= 5,
        "only {checked} KPIs with an actual were checked"
    );
}

#[test]
fn evaluation_pdf_has_one_page_per_program() {
    let db = TestDb::new(Backend::Sqlite);
    db.ok(&["demo"]);
    let out = db.path("sheets.pdf");
    let printed = db.ok(&[
        "report",
        "evaluations",
        "--fy",
        "2024",
        "-o",
        &out.display().to_string(),
    ]);
    assert!(printed.contains("evaluation sheets of FY2024"), "{printed}");

    let rt = runtime();
    let st = store(&rt, &db);
    let list = rt
        .block_on(citykpi_app::cycle::sheet_list(&st, fy(2024), None))
        .unwrap();
    assert_eq!(pages(&out), list.len(), "one page per program");
    let text = pdftotext(&out);
    let page_texts: Vec<&str> = text
        .split('\u{c}')
        .filter(|p| !p.trim().is_empty())
        .collect();
    assert_eq!(page_texts.len(), list.len());
    // The page of each program, by the code in its 事業コード row.
    let mut page_of: HashMap<String, &str> = HashMap::new();
    for page in &page_texts {
        assert!(page.contains("事務事業評価シート"), "{page}");
        let code = page
            .lines()
            .find_map(|l| {
                let t = tokens(l);
                (t.first() == Some(&"事業コード")).then(|| t.get(1).map(|c| c.to_string()))
            })
            .flatten()
            .unwrap_or_else(|| panic!("no 事業コード on the page:\n{page}"));
        page_of.insert(code, page);
    }
    for row in &list {
        assert!(
            page_of.contains_key(&row.program_code),
            "{}",
            row.program_code
        );
    }

    // Every stored sheet: full cost, staff cost and budget, with separators,
    // recomputed here from its money.
    let stored = rt.block_on(st.sheets(fy(2024))).unwrap();
    assert!(!stored.is_empty());
    for s in &stored {
        let sheet = &s.sheet;
        let page = page_of[&sheet.program_code];
        let m = &sheet.money;
        let direct = m.settled.unwrap_or(m.budget);
        let staff = (m.staff_fte * m.staff_unit_cost as f64).round() as i64;
        for (label, yen) in [
            ("フルコスト", direct + staff),
            ("人件費", staff),
            ("予算現額", m.budget),
        ] {
            let want = grouped(&yen.to_string());
            let line = page
                .lines()
                .find(|l| tokens(l).first() == Some(&label))
                .unwrap_or_else(|| panic!("{}: no {label} row", sheet.program_code));
            assert_eq!(
                tokens(line).get(1).copied(),
                Some(want.as_str()),
                "{} {label}: {line:?}",
                sheet.program_code
            );
        }
    }

    // One department's sheets: its programs only.
    let departments = rt.block_on(st.departments()).unwrap();
    let dept = &departments[0].code;
    let mine = rt
        .block_on(citykpi_app::cycle::sheet_list(&st, fy(2024), Some(dept)))
        .unwrap();
    let one = db.path("dept.pdf");
    db.ok(&[
        "report",
        "evaluations",
        "--fy",
        "2024",
        "--department",
        &dept.to_lowercase(),
        "-o",
        &one.display().to_string(),
    ]);
    assert_eq!(pages(&one), mine.len(), "{dept}'s programs");
    let text = pdftotext(&one);
    assert!(text.contains(&format!("{} {dept}）", departments[0].name_ja)));
}

#[test]
fn bad_pdf_input_is_refused_and_nothing_written() {
    let db = TestDb::new(Backend::Sqlite);
    db.ok(&["demo"]);
    let out = db.path("out.pdf");
    let o = out.display().to_string();
    let fails = |args: &[&str], expect: &[&str]| {
        let r = db.run(args);
        assert!(!r.status.success(), "{args:?} should fail");
        let err = String::from_utf8_lossy(&r.stderr);
        for e in expect {
            assert!(err.contains(e), "{args:?}: {e:?} not in {err}");
        }
    };
    fails(
        &[
            "report",
            "evaluations",
            "--fy",
            "2024",
            "--department",
            "NOPE",
            "-o",
            &o,
        ],
        &["--department", "NOPE"],
    );
    fails(
        &["report", "evaluations", "--fy", "20245", "-o", &o],
        &["--fy"],
    );
    fails(
        &["report", "evaluations", "--fy", "1990", "-o", &o],
        &["--fy"],
    );
    fails(
        &["report", "kpi-progress", "--fy", "R99", "-o", &o],
        &["--fy"],
    );
    fails(
        &["report", "kpi-progress", "--fy", "2099", "-o", &o],
        &["--fy", "has not started"],
    );
    fails(
        &["report", "kpi-progress", "--fy", "1990", "-o", &o],
        &["--fy", "no KPI has an actual"],
    );
    let x = db.path("progress.xlsx");
    fails(
        &[
            "report",
            "kpi-progress",
            "--fy",
            "2024",
            "-o",
            &x.display().to_string(),
        ],
        &["--output", ".pdf"],
    );
    fails(
        &["report", "budget", "--fy", "2026", "-o", &o],
        &["--output", "xlsx"],
    );
    assert!(!out.exists(), "nothing written");
    assert!(!x.exists(), "nothing written");
    let left: Vec<String> = std::fs::read_dir(db.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp") || n.ends_with(".pdf"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}
