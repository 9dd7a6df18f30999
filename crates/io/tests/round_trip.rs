//! Every kind in every format and header language: write, read back, compare.

mod common;

use citykpi_domain::{Dataset, Kind};
use citykpi_io::{Format, HeaderLang, read_bytes, write, write_dataset_json};

/// The part of a dataset that a kind's table holds.
fn only(kind: Kind, ds: &Dataset) -> Dataset {
    let mut out = Dataset::default();
    match kind {
        Kind::Org => {
            out.departments = ds.departments.clone();
            out.sections = ds.sections.clone();
        }
        Kind::Users => out.users = ds.users.clone(),
        Kind::Plans => {
            out.plans = ds.plans.clone();
            out.plan_nodes = ds.plan_nodes.clone();
        }
        Kind::Kpis => out.kpis = ds.kpis.clone(),
        Kind::Observations => out.observations = ds.observations.clone(),
        Kind::Programs => out.programs = ds.programs.clone(),
        Kind::Links => out.links = ds.links.clone(),
        Kind::Indicators => out.indicators = ds.indicators.clone(),
        Kind::Money => out.money = ds.money.clone(),
    }
    out
}

#[test]
fn every_kind_every_format_round_trips() {
    let ds = common::city();
    let known = common::known(&ds);
    for kind in Kind::ALL {
        for format in [Format::Csv, Format::Xlsx, Format::Json] {
            for lang in [HeaderLang::Ja, HeaderLang::En] {
                let bytes = write(kind, &ds, format, lang).unwrap();
                let name = format!("{}.{}", kind.as_str(), format.extension());
                // Kind not given: it must be recognised from the headers / fields.
                let out = read_bytes(&name, &bytes, None, None, &known)
                    .unwrap_or_else(|e| panic!("{kind:?} {format:?} {lang:?}: {e}"));
                assert_eq!(out.kind, Some(kind), "{kind:?} {format:?} {lang:?}");
                assert_eq!(out.dataset, only(kind, &ds), "{kind:?} {format:?} {lang:?}");
                assert!(
                    out.warnings.is_empty(),
                    "{kind:?} {format:?} {lang:?}: {:?}",
                    out.warnings
                );
                // Kind given explicitly gives the same.
                let again = read_bytes(&name, &bytes, Some(format), Some(kind), &known).unwrap();
                assert_eq!(again.dataset, out.dataset);
            }
        }
    }
}

#[test]
fn round_trip_against_an_empty_database_for_self_contained_kinds() {
    // Org and plans define everything they refer to, so they import into an
    // empty database.
    let ds = common::city();
    let empty = citykpi_domain::KnownKeys::default();
    for kind in [Kind::Org, Kind::Plans] {
        let bytes = write(kind, &ds, Format::Csv, HeaderLang::Ja).unwrap();
        let out = read_bytes("x.csv", &bytes, None, None, &empty).unwrap();
        assert_eq!(out.dataset, only(kind, &ds));
    }
}

#[test]
fn whole_dataset_json_round_trips() {
    let ds = common::city();
    let bytes = write_dataset_json(&ds);
    let out = read_bytes("all.json", &bytes, None, None, &Default::default()).unwrap();
    assert_eq!(out.kind, None);
    assert_eq!(out.dataset, ds);
    assert_eq!(out.rows_read, 3 + 3 + 2 + 2 + 4 + 3 + 7 + 2 + 2 + 2 + 2);
    // Asking for one kind keeps that kind only.
    let out = read_bytes(
        "all.json",
        &bytes,
        None,
        Some(Kind::Kpis),
        &common::known(&ds),
    )
    .unwrap();
    assert_eq!(out.kind, Some(Kind::Kpis));
    assert_eq!(out.dataset, only(Kind::Kpis, &ds));
}

#[test]
fn csv_export_is_excel_friendly() {
    let ds = common::city();
    let bytes = write(Kind::Observations, &ds, Format::Csv, HeaderLang::Ja).unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "BOM");
    let text = std::str::from_utf8(&bytes[3..]).unwrap();
    let mut lines = text.split("\r\n");
    assert_eq!(
        lines.next(),
        Some("KPIコード,年度,地域コード,値,状態,出典,備考,入力者,入力日時")
    );
    assert_eq!(
        lines.next(),
        Some("K-001,2023,271004,72.5,final,市民意識調査,,import,2025-06-30T09:00:00+09:00")
    );
    // Commas and quotes inside a cell are quoted, line breaks kept inside quotes.
    assert!(text.contains("\"速報値, 確定は翌年\""));
    assert!(text.contains("\"秘匿（\"\"X\"\"）\""));
    assert!(text.contains("\"行1\n行2\""));
    assert!(text.contains("K-001,2024,271012,-,final"));
    assert!(text.contains("K-001,2024,271021,X,final"));
    assert!(text.contains("K-002,2025-04,,21.25"));
    assert!(text.contains("K-003,2024Q2,,1234567.125"));

    // Formula-like text is guarded with an apostrophe (and read back without it).
    let programs = write(Kind::Programs, &ds, Format::Csv, HeaderLang::Ja).unwrap();
    let programs = std::str::from_utf8(&programs[3..]).unwrap();
    assert!(programs.contains(",\"'=HYPERLINK(\"\"http://example.com\"\",\"\"詳細\"\")\",'-全世帯,''@引用,'+81 電話,direct,"), "{programs}");

    let en = write(Kind::Money, &ds, Format::Csv, HeaderLang::En).unwrap();
    let en = std::str::from_utf8(&en[3..]).unwrap();
    assert!(en.starts_with("program_code,fy,budget_initial,budget_revised,settled,"));
    assert!(en.contains("J-0002,2025,30000000,,,0,0,0,-2500000,32500000,0,0,\r\n"));
}

#[test]
fn xlsx_export_has_typed_cells_and_a_named_sheet() {
    use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
    let ds = common::city();
    let bytes = write(Kind::Money, &ds, Format::Xlsx, HeaderLang::Ja).unwrap();
    let mut wb: Xlsx<_> = open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
    assert_eq!(wb.sheet_names(), vec!["事業費".to_string()]);
    let range = wb.worksheet_range("事業費").unwrap();
    assert_eq!(range.get((0, 0)), Some(&Data::String("事業コード".into())));
    assert_eq!(range.get((0, 2)), Some(&Data::String("当初予算額".into())));
    // Fiscal year and yen are numbers, not text.
    assert_eq!(range.get((1, 1)), Some(&Data::Float(2024.0)));
    assert_eq!(range.get((1, 2)), Some(&Data::Float(120_000_000.0)));
    assert_eq!(range.get((2, 8)), Some(&Data::Float(-2_500_000.0)));

    let bytes = write(Kind::Users, &ds, Format::Xlsx, HeaderLang::En).unwrap();
    let mut wb: Xlsx<_> = open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
    assert_eq!(wb.sheet_names(), vec!["users".to_string()]);
    let range = wb.worksheet_range("users").unwrap();
    assert_eq!(range.get((2, 5)), Some(&Data::Bool(false)));
}

#[test]
fn users_are_exported_without_password_hashes() {
    let mut ds = common::city();
    ds.users[0].password_hash = Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into());
    for format in [Format::Csv, Format::Xlsx, Format::Json] {
        let bytes = write(Kind::Users, &ds, format, HeaderLang::Ja).unwrap();
        let hay = String::from_utf8_lossy(&bytes);
        assert!(!hay.contains("argon2"), "{format:?}");
    }
    assert!(!String::from_utf8_lossy(&write_dataset_json(&ds)).contains("argon2"));
}
