//! `citykpi partners …` end to end on SQLite and PostgreSQL: a list written
//! as CSV, JSON and XLSX (same columns as the web's downloads, the download
//! in the audit log), unknown lists and XLSX on a terminal refused, and the
//! retention rule as a batch job: an inquiry closed years ago loses its
//! personal fields, one audit row, a second run finds nothing.

mod common;

use calamine::{Reader, Xlsx};
use citykpi_domain::partner::Day;
use citykpi_domain::partner::desk::{self, InquiryForm, InquiryStatus};
use citykpi_store::{InquiryFilter, Store};
use common::{Backend, TestDb};
use serde_json::Value;

fn store_of(db: &TestDb, rt: &tokio::runtime::Runtime) -> Store {
    rt.block_on(Store::open(&db.url))
        .expect("open the test database")
}

/// An inquiry received and closed in January 2020, with a person's name and e-mail.
fn old_closed_inquiry(store: &Store, rt: &tokio::runtime::Runtime) -> i64 {
    let long_ago = Day::parse("2020-01-06").unwrap();
    let form = InquiryForm {
        category: "other".into(),
        channel: "mail".into(),
        subject: "古い相談".into(),
        content: "内容".into(),
        person_name: "古川 一".into(),
        email: "old@example.jp".into(),
        ..InquiryForm::default()
    };
    rt.block_on(async {
        let i = store
            .insert_inquiry(&desk::validate(&form, long_ago, false).unwrap(), "desk")
            .await
            .unwrap();
        for (status, body) in [
            (InquiryStatus::InProgress, ""),
            (InquiryStatus::Answered, "回答しました"),
            (InquiryStatus::Closed, ""),
        ] {
            store
                .reply_inquiry(i.id, Some(status), body, "desk", long_ago)
                .await
                .unwrap();
        }
        i.id
    })
}

fn exports_and_erases(backend: Backend) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let db = TestDb::new(backend);
    db.ok(&["demo", "--seed", "5"]);
    let store = store_of(&db, &rt);
    let old = old_closed_inquiry(&store, &rt);
    let total = rt
        .block_on(store.inquiries(&InquiryFilter::new(Day::parse("2026-12-01").unwrap())))
        .unwrap()
        .total;

    // CSV with Japanese headers, JSON with the same rows.
    let csv_text = db.ok(&["partners", "export", "inquiries"]);
    let mut reader = csv::Reader::from_reader(csv_text.trim_start_matches('\u{feff}').as_bytes());
    let headers = reader.headers().unwrap().clone();
    assert_eq!(&headers[0], "相談番号");
    assert!(headers.iter().any(|h| h == "個人情報の消去日"));
    assert_eq!(reader.records().count() as i64, total);
    let rows: Vec<Value> =
        serde_json::from_str(&db.ok(&["partners", "export", "inquiries", "--format", "json"]))
            .unwrap();
    assert_eq!(rows.len() as i64, total);
    let row = rows
        .iter()
        .find(|r| r["id"] == old)
        .expect("the old inquiry");
    assert_eq!(row["email"], "old@example.jp");

    // XLSX to a file, English headers; the proposal sheet carries the intake fields.
    let file = db.path("proposals.xlsx");
    let out = db.run(&[
        "partners",
        "export",
        "proposals",
        "--format",
        "xlsx",
        "--headers",
        "en",
        "-o",
        &file.display().to_string(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("rows"));
    let mut book: Xlsx<_> = calamine::open_workbook(&file).unwrap();
    let sheet = book.worksheet_range_at(0).unwrap().unwrap();
    let header: Vec<String> = sheet
        .rows()
        .next()
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    for col in [
        "id",
        "stage",
        "channel",
        "decided at",
        "contact person",
        "phone",
        "contact e-mail",
    ] {
        assert!(header.iter().any(|h| h == col), "{col} in {header:?}");
    }
    assert!(sheet.height() > 1, "the demo's proposals are listed");

    // Refused: an unknown list (named, with the valid ones), XLSX on stdout.
    let bad = db.run(&["partners", "export", "contacts"]);
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("contacts") && err.contains("pr_plans"),
        "{err}"
    );
    let bad = db.run(&["partners", "export", "members", "--format", "xlsx"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("-o FILE"));
    let bad = db.run(&["partners", "erase-expired", "--days", "-3"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("days"));

    // The retention rule: the 2020 inquiry is erased, the rest stays.
    let erased: Value =
        serde_json::from_str(&db.ok(&["partners", "erase-expired", "--format", "json"])).unwrap();
    let ids: Vec<i64> = erased["inquiries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    assert!(ids.contains(&old), "{erased}");
    let (after, _) = rt.block_on(store.inquiry(old)).unwrap().unwrap();
    assert!(after.personal.is_empty());
    assert_eq!(after.subject, "古い相談");
    let audit = rt.block_on(store.audit_entries(500, 0)).unwrap();
    assert_eq!(
        audit
            .iter()
            .filter(|e| e.action == "erase_personal" && e.key == old.to_string())
            .count(),
        1
    );
    assert!(
        audit
            .iter()
            .any(|e| e.actor == "cli" && e.action == "export"),
        "the download is audited"
    );
    let again = db.ok(&["partners", "erase-expired"]);
    assert!(again.contains("inquiries 0, proposals 0"), "{again}");
    rt.block_on(store.close());
}

#[test]
fn sqlite_exports_and_erases() {
    exports_and_erases(Backend::Sqlite);
}

#[test]
fn postgres_exports_and_erases() {
    exports_and_erases(Backend::Postgres);
}
