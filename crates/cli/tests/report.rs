//! `citykpi report evaluations|budget|open-data` on the demo city, on SQLite
//! and PostgreSQL. Every XLSX is opened with calamine (a reader nobody here
//! wrote) and its numbers are checked against the database, read through the
//! store and the cycle's services; the open data is parsed as CSV and JSON,
//! checked against its own schema (datapackage.json) and searched for any
//! unpublished KPI or program. Bad input is refused naming the flag, and
//! nothing is written.

mod common;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::io::Cursor;
use std::path::Path;

use calamine::{Data, Range, Reader, Xlsx};
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

fn workbook(path: &Path) -> Xlsx<Cursor<Vec<u8>>> {
    let bytes = std::fs::read(path).expect("the XLSX was written");
    Xlsx::new(Cursor::new(bytes)).expect("calamine opens the XLSX")
}

fn range(wb: &mut Xlsx<Cursor<Vec<u8>>>, name: &str) -> Range<Data> {
    wb.worksheet_range(name)
        .unwrap_or_else(|e| panic!("worksheet {name}: {e}"))
}

fn text(r: &Range<Data>, row: u32, col: u32) -> String {
    r.get_value((row, col))
        .map(|d| d.to_string())
        .unwrap_or_default()
}

fn number(r: &Range<Data>, row: u32, col: u32) -> Option<f64> {
    match r.get_value((row, col))? {
        Data::Float(v) => Some(*v),
        Data::Int(v) => Some(*v as f64),
        Data::Empty => None,
        other => panic!("({row},{col}) is not a number: {other:?}"),
    }
}

/// The row whose column A reads `label`, searching from `from`.
fn row_of(r: &Range<Data>, label: &str, from: u32) -> u32 {
    let (end, _) = r.end().unwrap();
    (from..=end)
        .find(|&i| text(r, i, 0) == label)
        .unwrap_or_else(|| panic!("no row labelled {label}"))
}

fn json(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("not JSON ({e}): {s}"))
}

fn evaluation_sheets_match_the_database(backend: Backend) {
    let db = TestDb::new(backend);
    db.ok(&["demo"]);
    let out = db.path("sheets.xlsx");
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
    let stored: HashMap<String, citykpi_domain::cycle::EvaluationSheet> = rt
        .block_on(st.sheets(fy(2024)))
        .unwrap()
        .into_iter()
        .map(|s| (s.sheet.program_code.clone(), s.sheet))
        .collect();
    let reference = rt.block_on(st.load_all()).unwrap();

    let mut wb = workbook(&out);
    let names = wb.sheet_names();
    assert_eq!(names[0], "一覧");
    let listed: BTreeSet<String> = list.iter().map(|r| r.program_code.clone()).collect();
    let in_file: BTreeSet<String> = names[1..].iter().cloned().collect();
    assert_eq!(in_file, listed, "one worksheet per program running in 2024");
    assert_eq!(names.len() - 1, list.len());

    // Every stored sheet: the full cost cell is the sheet's full cost,
    // recomputed here from its money (direct + FTE × unit cost).
    let mut checked = 0;
    for (code, sheet) in &stored {
        let r = range(&mut wb, code);
        assert!(text(&r, 0, 0).contains("事務事業評価シート"));
        let m = &sheet.money;
        let direct = m.settled.unwrap_or(m.budget);
        let staff = (m.staff_fte * m.staff_unit_cost as f64).round() as i64;
        let row = row_of(&r, "フルコスト", 0);
        assert_eq!(
            number(&r, row, 1),
            Some((direct + staff) as f64),
            "{code} full cost"
        );
        assert_eq!(
            number(&r, row_of(&r, "人件費", row - 3), 1),
            Some(staff as f64),
            "{code} staff cost"
        );
        assert_eq!(
            number(&r, row_of(&r, "予算現額", 0), 1),
            Some(m.budget as f64)
        );
        assert_eq!(
            number(&r, row_of(&r, "一般財源", 0), 1),
            Some(m.funding.general as f64)
        );
        assert_eq!(number(&r, row_of(&r, "人工", 0), 1), Some(m.staff_fte));
        let total = sheet.scores.necessity.and_then(|n| {
            Some(n + sheet.scores.effectiveness? + sheet.scores.efficiency? + sheet.scores.means?)
        });
        assert_eq!(
            number(&r, row_of(&r, "合計", 0), 1),
            total.map(f64::from),
            "{code} score total"
        );
        assert_eq!(
            text(&r, row_of(&r, "方向性", 0), 1),
            sheet.direction.map_or("（未選択）", |d| d.label_ja())
        );
        assert_eq!(text(&r, row_of(&r, "所見", 0), 1), sheet.reviewer_comment);
        assert_eq!(text(&r, row_of(&r, "目的", 0), 1), sheet.purpose);
        // Indicators: the first one's target, actual and achievement.
        if let Some(ind) = sheet.indicators.first() {
            let h = row_of(&r, "区分", 0);
            assert_eq!(text(&r, h + 1, 1), ind.code);
            assert_eq!(number(&r, h + 1, 4), ind.target);
            assert_eq!(number(&r, h + 1, 5), ind.actual);
            assert_eq!(number(&r, h + 1, 6), ind.achievement());
        }
        checked += 1;
        if checked >= 60 {
            break;
        }
    }
    assert!(checked >= 20, "the demo has stored sheets: {checked}");

    // A program without a saved sheet shows what the sheet page shows.
    let unsaved: Vec<&str> = list
        .iter()
        .filter(|r| r.state.is_none())
        .map(|r| r.program_code.as_str())
        .take(5)
        .collect();
    assert!(!unsaved.is_empty());
    for code in unsaved {
        let view = rt
            .block_on(citykpi_app::cycle::sheet_view(
                &st,
                &reference,
                code,
                fy(2024),
            ))
            .unwrap();
        let r = range(&mut wb, code);
        assert!(text(&r, 1, 0).contains("未作成"), "{code}");
        assert_eq!(
            number(&r, row_of(&r, "フルコスト", 0), 1),
            Some(view.computed.full_cost as f64),
            "{code} pre-filled full cost"
        );
        let positions = row_of(&r, "KPIコード", 0);
        for (i, p) in view.plan_position.iter().enumerate() {
            let kpi = text(&r, positions + 1 + i as u32, 0);
            assert!(
                view.plan_position.iter().any(|q| q.kpi_code == kpi),
                "{code}: {kpi} is not one of its KPIs"
            );
            let _ = p;
        }
    }

    // The index sheet: one row per program, full cost column adds up.
    let index = range(&mut wb, "一覧");
    assert_eq!(text(&index, 2, 8), "フルコスト");
    let mut sum = 0.0;
    for i in 0..list.len() as u32 {
        sum += number(&index, 3 + i, 8).unwrap();
    }
    let total_row = 3 + list.len() as u32;
    assert_eq!(text(&index, total_row, 0), "合計");
    assert_eq!(number(&index, total_row, 8), Some(sum));

    // One department's file holds exactly its programs.
    let dept = list[0].department_code.clone();
    let out_d = db.path("dept.xlsx");
    db.ok(&[
        "report",
        "evaluations",
        "--fy",
        "R6",
        "--department",
        &dept,
        "-o",
        &out_d.display().to_string(),
    ]);
    let mut wb = workbook(&out_d);
    let got: BTreeSet<String> = wb.sheet_names()[1..].iter().cloned().collect();
    let want: BTreeSet<String> = list
        .iter()
        .filter(|r| r.department_code == dept)
        .map(|r| r.program_code.clone())
        .collect();
    assert_eq!(got, want);
    let index = range(&mut wb, "一覧");
    assert!(text(&index, 0, 0).contains(&dept), "{}", text(&index, 0, 0));

    // The department may also be typed in lower case or named in Japanese.
    let name = rt
        .block_on(st.departments())
        .unwrap()
        .into_iter()
        .find(|d| d.code == dept)
        .unwrap()
        .name_ja;
    for alias in [dept.to_lowercase(), name] {
        let out_a = db.path("alias.xlsx");
        db.ok(&[
            "report",
            "evaluations",
            "--fy",
            "2024",
            "--department",
            &alias,
            "-o",
            &out_a.display().to_string(),
        ]);
        let got: BTreeSet<String> = workbook(&out_a).sheet_names()[1..]
            .iter()
            .cloned()
            .collect();
        assert_eq!(got, want, "--department {alias}");
    }
}

fn budget_matches_the_compiled_totals(backend: Backend) {
    let db = TestDb::new(backend);
    db.ok(&["demo"]);
    let out = db.path("budget.xlsx");
    let printed = db.ok(&[
        "report",
        "budget",
        "--fy",
        "2026",
        "-o",
        &out.display().to_string(),
    ]);
    assert!(printed.contains("compiled budget of FY2026"), "{printed}");
    let r = json(&db.ok(&["cycle", "recompute", "--fy", "2024", "--format", "json"]));
    let compiled = &r["compiled"];
    assert_eq!(compiled["fy"], 2026);

    let mut wb = workbook(&out);
    assert_eq!(
        wb.sheet_names(),
        vec!["部局別", "政策別", "財源別", "事業別"]
    );
    for (sheet, key, with_ceiling) in [
        ("部局別", "by_department", true),
        ("政策別", "by_policy", false),
        ("財源別", "by_funding_source", false),
    ] {
        let x = range(&mut wb, sheet);
        assert_eq!(text(&x, 3, 2), "前年度予算額");
        let rows = compiled[key].as_array().unwrap();
        assert!(!rows.is_empty(), "{key}");
        for (i, want) in rows.iter().enumerate() {
            let row = 4 + i as u32;
            assert_eq!(text(&x, row, 0), want["key"].as_str().unwrap(), "{sheet}");
            assert_eq!(text(&x, row, 1), want["name_ja"].as_str().unwrap());
            for (col, field) in [(2, "last_year"), (3, "requested"), (4, "assessed")] {
                assert_eq!(
                    number(&x, row, col),
                    Some(want[field].as_i64().unwrap() as f64),
                    "{sheet} {} {field}",
                    want["key"]
                );
            }
            assert_eq!(
                number(&x, row, 5),
                Some(want["unassessed"].as_u64().unwrap() as f64)
            );
            if with_ceiling {
                assert_eq!(
                    number(&x, row, 6),
                    want["ceiling"].as_i64().map(|c| c as f64),
                    "{sheet} ceiling"
                );
            }
            let var_col = if with_ceiling { 8 } else { 6 };
            assert_eq!(
                number(&x, row, var_col),
                Some(want["variance_requested"].as_i64().unwrap() as f64)
            );
            assert_eq!(number(&x, row, var_col + 2), want["variance_rate"].as_f64());
        }
        let total_row = 4 + rows.len() as u32;
        assert_eq!(text(&x, total_row, 0), "合計");
        let sum: i64 = rows.iter().map(|d| d["requested"].as_i64().unwrap()).sum();
        assert_eq!(sum, compiled["total"]["requested"].as_i64().unwrap());
        assert_eq!(number(&x, total_row, 3), Some(sum as f64), "{sheet} total");
        assert_eq!(
            number(&x, total_row, 4),
            Some(compiled["total"]["assessed"].as_i64().unwrap() as f64)
        );
    }
    // Every program's request: the requested column adds up to the total.
    let x = range(&mut wb, "事業別");
    let (end, _) = x.end().unwrap();
    assert_eq!(text(&x, end, 0), "合計");
    let requested: f64 = (3..end).filter_map(|i| number(&x, i, 6)).sum();
    assert_eq!(
        requested,
        compiled["total"]["requested"].as_i64().unwrap() as f64
    );
    assert_eq!(number(&x, end, 6), Some(requested));
}

/// Every string in a JSON value.
fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        Value::Object(o) => o.values().for_each(|x| strings(x, out)),
        _ => {}
    }
}

fn open_data_holds_only_published_records(backend: Backend) {
    let db = TestDb::new(backend);
    db.ok(&["demo"]);
    let dir = db.path("open");
    let printed = db.ok(&[
        "report",
        "open-data",
        "--fy",
        "2024",
        "-o",
        &dir.display().to_string(),
    ]);
    assert!(printed.contains("open data of FY2024"), "{printed}");

    let rt = runtime();
    let st = store(&rt, &db);
    let kpis = rt.block_on(st.kpis()).unwrap();
    let programs = rt.block_on(st.programs()).unwrap();
    let unpublished: HashSet<String> = kpis
        .iter()
        .filter(|k| !k.published)
        .map(|k| k.code.clone())
        .chain(
            programs
                .iter()
                .filter(|p| !p.published)
                .map(|p| p.code.clone()),
        )
        .collect();
    assert!(
        kpis.iter().any(|k| !k.published) && programs.iter().any(|p| !p.published),
        "the demo has unpublished KPIs and programs"
    );

    let package = json(&std::fs::read_to_string(dir.join("datapackage.json")).unwrap());
    let resources = package["resources"].as_array().unwrap();
    assert_eq!(resources.len(), 4);
    let mut tables: HashMap<String, Vec<serde_json::Map<String, Value>>> = HashMap::new();
    for res in resources {
        let csv_name = res["path"].as_str().unwrap();
        let json_name = res["json_path"].as_str().unwrap();
        let fields: Vec<(&str, &str)> = res["schema"]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| (f["name"].as_str().unwrap(), f["type"].as_str().unwrap()))
            .collect();
        let names: Vec<&str> = fields.iter().map(|f| f.0).collect();

        // CSV: UTF-8 with BOM, header = the schema's field names, every
        // row as long as the header, typed cells parse as their type.
        let bytes = std::fs::read(dir.join(csv_name)).unwrap();
        let body = bytes
            .strip_prefix("\u{feff}".as_bytes())
            .expect("CSV starts with a BOM");
        let mut reader = csv::Reader::from_reader(body);
        let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
        assert_eq!(header, names, "{csv_name} header");
        let mut csv_rows = 0;
        for rec in reader.records() {
            let rec = rec.unwrap_or_else(|e| panic!("{csv_name}: {e}"));
            assert_eq!(rec.len(), names.len());
            for ((name, kind), cell) in fields.iter().zip(rec.iter()) {
                assert!(
                    !unpublished.contains(cell),
                    "{csv_name} {name}: unpublished {cell}"
                );
                if cell.is_empty() {
                    continue;
                }
                let ok = match *kind {
                    "integer" => cell.parse::<i64>().is_ok(),
                    "number" => cell.parse::<f64>().is_ok(),
                    "boolean" => cell == "true" || cell == "false",
                    _ => true,
                };
                assert!(ok, "{csv_name} {name}: {cell} is not {kind}");
            }
            csv_rows += 1;
        }

        // JSON: an array of objects with exactly the schema's keys, typed.
        let v = json(&std::fs::read_to_string(dir.join(json_name)).unwrap());
        let rows = v.as_array().unwrap();
        assert_eq!(rows.len(), csv_rows, "{json_name} and {csv_name} rows");
        for row in rows {
            let o = row.as_object().unwrap();
            let keys: Vec<&str> = o.keys().map(String::as_str).collect();
            let mut want = names.clone();
            want.sort_unstable();
            let mut got = keys.clone();
            got.sort_unstable();
            assert_eq!(got, want, "{json_name} keys");
            for (name, kind) in &fields {
                let x = &o[*name];
                let ok = x.is_null()
                    || match *kind {
                        "integer" => x.is_i64(),
                        "number" => x.is_number(),
                        "boolean" => x.is_boolean(),
                        _ => x.is_string(),
                    };
                assert!(ok, "{json_name} {name}: {x} is not {kind}");
            }
        }
        let mut all = Vec::new();
        strings(&v, &mut all);
        for s in &all {
            assert!(!unpublished.contains(s), "{json_name}: unpublished {s}");
        }
        tables.insert(
            csv_name.trim_end_matches(".csv").to_string(),
            rows.iter()
                .map(|r| r.as_object().unwrap().clone())
                .collect(),
        );
    }

    // KPIs: exactly the published ones, with the actuals of `kpi status`.
    let published: BTreeSet<&str> = kpis
        .iter()
        .filter(|k| k.published)
        .map(|k| k.code.as_str())
        .collect();
    let got: BTreeSet<&str> = tables["kpis"]
        .iter()
        .map(|r| r["kpi_code"].as_str().unwrap())
        .collect();
    assert_eq!(got, published);
    // Open data is what the city confirmed: the status from confirmed actuals.
    let status = json(&db.ok(&[
        "kpi",
        "status",
        "--fy",
        "2024",
        "--format",
        "json",
        "--confirmed",
    ]));
    let actual: HashMap<&str, &Value> = status["kpis"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| (k["code"].as_str().unwrap(), &k["actual"]))
        .collect();
    for r in &tables["kpis"] {
        let code = r["kpi_code"].as_str().unwrap();
        assert_eq!(r["actual_value"].as_f64(), actual[code].as_f64(), "{code}");
        assert_eq!(r["fy"], 2024);
    }

    // Evaluations: the accepted sheets of published programs, no other;
    // the full cost is the sheet's.
    let sheets = rt.block_on(st.sheets(fy(2024))).unwrap();
    let published_programs: HashSet<&str> = programs
        .iter()
        .filter(|p| p.published)
        .map(|p| p.code.as_str())
        .collect();
    let accepted: HashMap<&str, &citykpi_domain::cycle::EvaluationSheet> = sheets
        .iter()
        .filter(|s| s.sheet.state == citykpi_domain::cycle::ReviewState::Accepted)
        .filter(|s| published_programs.contains(s.sheet.program_code.as_str()))
        .map(|s| (s.sheet.program_code.as_str(), &s.sheet))
        .collect();
    assert!(accepted.len() > 10);
    assert!(
        sheets.iter().any(
            |s| s.sheet.state == citykpi_domain::cycle::ReviewState::Accepted
                && !published_programs.contains(s.sheet.program_code.as_str())
        ),
        "the demo has an accepted sheet of an unpublished program, left out"
    );
    assert_eq!(tables["evaluations"].len(), accepted.len());
    for r in &tables["evaluations"] {
        let code = r["program_code"].as_str().unwrap();
        let sheet = accepted
            .get(code)
            .unwrap_or_else(|| panic!("{code} is not an accepted sheet of a published program"));
        assert_eq!(
            r["full_cost"].as_i64(),
            Some(sheet.computed().full_cost),
            "{code}"
        );
        assert_eq!(r["direction"].as_str(), sheet.direction.map(|d| d.as_str()));
    }
    let indicator_programs: HashSet<&str> = tables["evaluation_indicators"]
        .iter()
        .map(|r| r["program_code"].as_str().unwrap())
        .collect();
    assert!(indicator_programs.iter().all(|c| accepted.contains_key(c)));

    // Budget: the money of 2024 of published programs.
    let money = rt.block_on(st.money()).unwrap();
    let want: HashMap<&str, &citykpi_domain::money::ProgramMoney> = money
        .iter()
        .filter(|m| m.fy == fy(2024) && published_programs.contains(m.program_code.as_str()))
        .map(|m| (m.program_code.as_str(), m))
        .collect();
    assert_eq!(tables["budget"].len(), want.len());
    for r in &tables["budget"] {
        let m = want[r["program_code"].as_str().unwrap()];
        assert_eq!(r["budget_initial"].as_i64(), Some(m.budget_initial));
        assert_eq!(r["full_cost"].as_i64(), Some(m.full_cost()));
    }

    // The documented schema names every column.
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/open-data.md"
    ))
    .unwrap();
    for res in resources {
        for f in res["schema"]["fields"].as_array().unwrap() {
            assert!(doc.contains(&format!("`{}`", f["name"].as_str().unwrap())));
        }
    }
}

fn bad_input_is_refused_and_nothing_written(backend: Backend) {
    let db = TestDb::new(backend);
    db.ok(&["demo"]);
    let out = db.path("x.xlsx");
    let o = out.display().to_string();
    let fails = |args: &[&str], needles: &[&str]| {
        let r = db.run(args);
        let err = String::from_utf8_lossy(&r.stderr);
        assert!(!r.status.success(), "{args:?} succeeded");
        for n in needles {
            assert!(err.contains(n), "{args:?}: {n} not in {err}");
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
        &["--department", "NOPE", "known:"],
    );
    fails(
        &["report", "evaluations", "--fy", "20245", "-o", &o],
        &["--fy"],
    );
    fails(
        &["report", "evaluations", "--fy", "1990", "-o", &o],
        &["--fy", "has not started"],
    );
    fails(
        &["report", "budget", "--fy", "2024", "-o", &o],
        &["--fy", "FY2022"],
    );
    for bad in ["x.csv", "x.pdf", "x"] {
        let p = db.path(bad).display().to_string();
        // With the `pdf` feature a .pdf is a valid output (tests/report_pdf.rs).
        if bad != "x.pdf" || cfg!(not(feature = "pdf")) {
            fails(
                &["report", "evaluations", "--fy", "2024", "-o", &p],
                &["--output", bad],
            );
        }
        fails(
            &["report", "budget", "--fy", "2026", "-o", &p],
            &["--output"],
        );
        assert!(!db.path(bad).exists());
    }
    assert!(!out.exists(), "nothing written");
    // open-data into a path that is a file.
    std::fs::write(db.path("file"), "x").unwrap();
    let f = db.path("file").display().to_string();
    fails(
        &["report", "open-data", "--fy", "2024", "-o", &f],
        &["--output"],
    );
    assert_eq!(std::fs::read_to_string(db.path("file")).unwrap(), "x");
    // No stray temporary file was left in the folder.
    let left: Vec<String> = std::fs::read_dir(db.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

on_both_backends!(
    evaluation_sheets_match_the_database,
    budget_matches_the_compiled_totals,
    open_data_holds_only_published_records,
    bad_input_is_refused_and_nothing_written,
);
