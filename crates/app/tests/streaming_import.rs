//! A large observations CSV read from disk is imported as a stream (rows
//! written into the open transaction as they are read): it must still be one
//! transaction. A bad row anywhere — here the last of 200,000 — leaves nothing
//! written, on an empty table and on one holding rows, on both backends, and
//! the error names file, row, column and reason. A key given twice names both
//! rows; a re-import reports what it changes and the real values it replaces
//! with 欠測.

mod common;

use std::fmt::Write as _;
use std::path::Path;

use citykpi_app::AppError;
use citykpi_app::data::{import_bytes, import_file};
use citykpi_domain::Kind;
use citykpi_store::ObservationFilter;
use common::Db;

const ROWS: usize = 200_000;

/// Row `i` (0-based; file row i + 2): two KPIs, 240 months, areas.
fn row(i: usize) -> (String, String, String) {
    let kpi = if i.is_multiple_of(2) { "K-A" } else { "K-B" };
    let month = (i / 2) % 240;
    let period = format!("{}-{:02}", 2005 + month / 12, month % 12 + 1);
    let area = format!("{:06}", 100_000 + i / 480);
    (kpi.to_string(), period, area)
}

/// The file with `edit(i, value)` deciding each row's value cell.
fn write_file(path: &Path, rows: usize, edit: impl Fn(usize) -> String) {
    let mut s = String::with_capacity(rows * 48);
    s.push_str("KPIコード,年度,地域コード,値,状態,出典\n");
    for i in 0..rows {
        let (k, p, a) = row(i);
        let _ = writeln!(s, "{k},{p},{a},{},確定,test", edit(i));
    }
    std::fs::write(path, s).unwrap();
}

async fn with_kpis(pg: bool) -> Db {
    let db = Db::open(pg).await;
    let kpis = "KPIコード,指標名,単位,方向\nK-A,人口,人,higher\nK-B,出生数,人,higher\n";
    import_bytes(
        &db.store,
        "kpis.csv",
        kpis.as_bytes().to_vec(),
        Some(Kind::Kpis),
        false,
        "test",
    )
    .await
    .unwrap();
    db
}

async fn stored(db: &Db) -> usize {
    db.store
        .observations(&ObservationFilter::default())
        .await
        .unwrap()
        .len()
}

fn problems(e: AppError) -> citykpi_io::ImportReport {
    match e {
        AppError::Import(citykpi_io::ImportError::Invalid(r)) => r,
        other => panic!("expected a report of problems, got {other:?}"),
    }
}

async fn one_transaction(pg: bool) {
    let db = with_kpis(pg).await;
    let dir = tempfile::tempdir().unwrap();

    // Empty table, bad last row: nothing written.
    let bad = dir.path().join("bad_last.csv");
    write_file(&bad, ROWS, |i| {
        if i == ROWS - 1 {
            "12x".into()
        } else {
            format!("{i}.5")
        }
    });
    let e = import_file(&db.store, &bad, None, false, "test")
        .await
        .unwrap_err();
    let r = problems(e);
    assert_eq!(r.file, "bad_last.csv");
    assert_eq!(r.problems.len(), 1, "{r}");
    let p = &r.problems[0];
    assert_eq!(p.row, Some(ROWS + 1));
    assert_eq!(p.column.as_deref(), Some("値"));
    assert_eq!(p.value.as_deref(), Some("12x"));
    assert_eq!(stored(&db).await, 0);

    // The good file: every row written once, confirmed by the importer.
    let good = dir.path().join("good.csv");
    write_file(&good, ROWS, |i| format!("{i}.5"));
    let ok = import_file(&db.store, &good, None, false, "importer")
        .await
        .unwrap();
    assert_eq!(ok.rows_read, ROWS);
    assert_eq!(ok.counts, vec![("observations", ROWS)]);
    let applied = ok.applied.unwrap();
    assert_eq!(applied.observations.inserted, ROWS as u64);
    let all = db
        .store
        .observations(&ObservationFilter::default())
        .await
        .unwrap();
    assert_eq!(all.len(), ROWS);
    let (k, p, a) = row(ROWS - 1);
    let last = all
        .iter()
        .find(|o| o.kpi_code == k && o.period.to_string() == p && o.area_code == a)
        .unwrap();
    assert_eq!(last.value.value(), Some((ROWS - 1) as f64 + 0.5));
    assert_eq!(last.confirmed_by, "importer");

    // A table holding rows: a changed file with a bad last row changes nothing.
    let changed_bad = dir.path().join("changed_bad.csv");
    write_file(&changed_bad, ROWS, |i| {
        if i == ROWS - 1 {
            "?".into()
        } else {
            format!("{i}.25")
        }
    });
    let r = problems(
        import_file(&db.store, &changed_bad, None, false, "test")
            .await
            .unwrap_err(),
    );
    assert_eq!(r.problems[0].row, Some(ROWS + 1));
    let again = db
        .store
        .observations(&ObservationFilter::default())
        .await
        .unwrap();
    assert_eq!(
        again, all,
        "a failed import must leave the stored rows as they were"
    );

    // A key given twice (row 3 repeats row 2's key, the last row repeats row
    // 4's): both named, nothing written.
    let dup = dir.path().join("dup.csv");
    {
        let mut s = std::fs::read_to_string(&good).unwrap();
        let lines: Vec<&str> = s.lines().collect();
        let (row2, row4) = (lines[1].to_string(), lines[3].to_string());
        let mut out: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        out[2] = row2.replace(",test", ",again");
        out.push(row4);
        s = out.join("\n");
        std::fs::write(&dup, s).unwrap();
    }
    let r = problems(
        import_file(&db.store, &dup, None, false, "test")
            .await
            .unwrap_err(),
    );
    let mut dups: Vec<(Option<usize>, String)> = r
        .problems
        .iter()
        .map(|p| (p.row, p.reason.clone()))
        .collect();
    dups.sort();
    assert_eq!(dups.len(), 2, "{r}");
    assert_eq!(dups[0].0, Some(3));
    assert!(dups[0].1.contains("rows 2 and 3"), "{}", dups[0].1);
    assert_eq!(dups[1].0, Some(ROWS + 2));
    assert!(
        dups[1].1.contains(&format!("rows 4 and {}", ROWS + 2)),
        "{}",
        dups[1].1
    );
    assert_eq!(stored(&db).await, ROWS);

    // A re-import: one value changed, one replaced with 欠測, the rest equal.
    let re = dir.path().join("re.csv");
    write_file(&re, ROWS, |i| match i {
        10 => "99".into(),
        11 => "-".into(),
        _ => format!("{i}.5"),
    });
    let dry = import_file(&db.store, &re, None, true, "importer")
        .await
        .unwrap();
    assert_eq!(dry.replaced_with_missing, 1);
    assert!(dry.applied.is_none());
    let ok = import_file(&db.store, &re, None, false, "importer")
        .await
        .unwrap();
    assert_eq!(ok.replaced_with_missing, 1);
    let c = ok.applied.unwrap().observations;
    assert_eq!(
        (c.inserted, c.updated, c.unchanged),
        (0, 2, ROWS as u64 - 2)
    );
    assert!(
        ok.warnings.iter().any(|w| w.contains("1 stored value")),
        "{:?}",
        ok.warnings
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streamed_import_is_one_transaction_sqlite() {
    one_transaction(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streamed_import_is_one_transaction_postgres() {
    one_transaction(true).await;
}
