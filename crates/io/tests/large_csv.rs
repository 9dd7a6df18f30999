//! A large observations CSV is read on several threads (cut at record
//! boundaries): the result must be exactly that of reading it in one go —
//! every row, in file order, quoted cells with newlines and commas intact,
//! problems at their true row numbers, the later of two equal keys reported
//! as the duplicate.

mod common;

use citykpi_domain::observation::ObsValue;
use citykpi_io::{ImportError, read_bytes};

const HEAD: &str = "KPIコード,年度,地域コード,実績値,確定区分,備考\n";
const ROWS: usize = 120_000;

/// Row `i` (0-based data row; file row i + 2). Every 997th note is quoted and
/// holds a newline, a comma and a doubled quote, so that some cut candidate
/// falls inside a quoted cell.
fn row(i: usize) -> String {
    let note = if i.is_multiple_of(997) {
        format!("\"note {i}\nline two, with \"\"quotes\"\"\"")
    } else {
        format!("n{i}")
    };
    format!("K-001,2024,{:06},{}.5,確定,{note}\n", i + 100_000, i)
}

fn file(edit: impl Fn(usize, String) -> String) -> String {
    let mut s = String::with_capacity(ROWS * 48);
    s.push_str(HEAD);
    for i in 0..ROWS {
        s.push_str(&edit(i, row(i)));
    }
    s
}

#[test]
fn every_row_in_order_with_quoted_newlines() {
    let text = file(|_, r| r);
    let known = common::known(&common::city());
    let out = read_bytes("big.csv", text.as_bytes(), None, None, &known).unwrap();
    assert_eq!(out.rows_read, ROWS);
    let obs = &out.dataset.observations;
    assert_eq!(obs.len(), ROWS);
    for (i, o) in obs.iter().enumerate() {
        assert_eq!(o.area_code, format!("{:06}", i + 100_000), "row {i}");
        assert_eq!(o.value, ObsValue::Value(i as f64 + 0.5), "row {i}");
    }
    assert_eq!(obs[997].note, "note 997\nline two, with \"quotes\"");
    assert_eq!(obs[ROWS / 2].note, format!("n{}", ROWS / 2));
}

#[test]
fn problems_keep_their_row_numbers() {
    // A quoted cell spans two lines, so rows are records, not lines: record
    // numbers after row 0's two-line note are what the one-go reader reports.
    let bad_a = 5;
    let bad_b = ROWS - 10;
    let dup_of = ROWS / 2 - 3;
    let dup_at = ROWS / 2 + 7;
    let text = file(|i, r| {
        if i == bad_a || i == bad_b {
            r.replacen(&format!("{}.5", i), "多い", 1)
        } else if i == dup_at {
            row(dup_of)
        } else {
            r
        }
    });
    let known = common::known(&common::city());
    let err = read_bytes("big.csv", text.as_bytes(), None, None, &known).unwrap_err();
    let ImportError::Invalid(report) = err else {
        panic!("expected problems, got {err}");
    };
    let rows: Vec<Option<usize>> = report.problems.iter().map(|p| p.row).collect();
    // Data row i is record i + 2 (the header is record 1).
    assert!(rows.contains(&Some(bad_a + 2)), "{:#?}", report.problems);
    assert!(rows.contains(&Some(bad_b + 2)), "{:#?}", report.problems);
    let dup = report
        .problems
        .iter()
        .find(|p| p.reason.contains(&format!("{}", dup_of + 2)))
        .unwrap_or_else(|| panic!("no duplicate reported: {:#?}", report.problems));
    assert_eq!(dup.row, Some(dup_at + 2), "{dup:#?}");
    assert_eq!(report.problems.len(), 3, "{:#?}", report.problems);
}
