//! Backup, restore and moves between backends, on a real SQLite file and a
//! real PostgreSQL database: every table comes back with the same rows (the
//! same per-table checksums, across backends too), a damaged file or a
//! non-empty target is refused with nothing written, a backup taken while a
//! writer writes holds whole transactions only, and a backup from every
//! older schema version is upgraded on restore with its data kept.

mod common;

use std::collections::BTreeMap;

use citykpi_domain::observation::{ObsStatus, ObsValue, Observation, Period};
use citykpi_domain::{Dataset, FiscalYear};
use citykpi_store::backup::{self, BackupError, TableSum};
use citykpi_store::{AuditRecord, Backend, ObservationFilter, Store};
use common::{EmptyDb, TestDb, city};
use sqlx::Connection;

macro_rules! on_both_backends {
    ($($body:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $body() {
                    super::$body(citykpi_store::Backend::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $body() {
                    super::$body(citykpi_store::Backend::Postgres).await;
                }
            )*
        }
    };
}

on_both_backends!(
    restore_brings_back_every_table_on_either_backend,
    a_damaged_backup_is_refused_and_nothing_is_written,
    a_non_empty_target_is_refused_and_left_as_it_was,
    a_backup_taken_while_a_writer_writes_holds_whole_transactions,
    backups_of_every_older_schema_are_upgraded_on_restore,
);

fn other(backend: Backend) -> Backend {
    match backend {
        Backend::Sqlite => Backend::Postgres,
        Backend::Postgres => Backend::Sqlite,
    }
}

fn by_table(sums: &[TableSum]) -> BTreeMap<String, (u64, String)> {
    sums.iter()
        .map(|t| (t.table.clone(), (t.rows, t.sha256.clone())))
        .collect()
}

/// The city with a little of everything that an export does not carry: the
/// audit log, a setting, password hashes.
async fn filled(backend: Backend) -> TestDb {
    let db = TestDb::new(backend).await;
    db.store.apply(&city(), "import").await.unwrap();
    db.store.set_setting("city_code", "271004").await.unwrap();
    db.store
        .set_password_hash("sato", "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA")
        .await
        .unwrap();
    db.store
        .record_audit(&AuditRecord {
            actor: "admin",
            action: "update",
            entity: "setting",
            key: "city_code",
            before: None,
            after: Some(serde_json::json!({"note": "タブ\tと改行\n"})),
        })
        .await
        .unwrap();
    db
}

async fn restore_brings_back_every_table_on_either_backend(backend: Backend) {
    let db = filled(backend).await;
    let source = EmptyDb::of(&db);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("city.backup");
    let manifest = backup::backup(&source, &file).await.unwrap();
    assert_eq!(manifest.backend, backend.as_str());
    assert_eq!(
        manifest.schema_version,
        backup::latest_schema_version(backend)
    );
    let before = by_table(&backup::checksums(&source).await.unwrap());
    assert_eq!(by_table(&manifest.tables), before);
    assert_eq!(before["observations"].0, 8);
    assert_eq!(before["settings"].0, 1);
    assert!(!dir.path().join("city.backup.partial").exists());

    for to in [backend, other(backend)] {
        let target = EmptyDb::new(to).await;
        let report = backup::restore(&file, &target.url, "admin").await.unwrap();
        assert_eq!(by_table(&report.verified), before, "into {to:?}");
        assert_eq!(report.schema_version, backup::latest_schema_version(to));

        // The same checksums table by table; the audit log has one row more: the restore.
        let after = by_table(&backup::checksums(&target.url).await.unwrap());
        for (table, sum) in &before {
            if table == "audit_log" {
                assert_eq!(after[table].0, sum.0 + 1);
            } else {
                assert_eq!(&after[table], sum, "table {table} restored into {to:?}");
            }
        }
        let restored = Store::open(&target.url).await.unwrap();
        assert_eq!(
            restored.load_all().await.unwrap(),
            db.store.load_all().await.unwrap()
        );
        assert_eq!(
            restored
                .user_password_hash("sato")
                .await
                .unwrap()
                .as_deref(),
            Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA")
        );
        let audit = restored.audit_entries(1, 0).await.unwrap();
        assert_eq!(audit[0].action, "restore");
        assert_eq!(audit[0].entity, "database");
        assert_eq!(
            audit[0].after.as_ref().unwrap()["rows"],
            manifest.total_rows()
        );
        // New rows get fresh ids after the restored ones (sequences moved on).
        let id = restored
            .record_audit(&AuditRecord {
                actor: "admin",
                action: "update",
                entity: "setting",
                key: "x",
                before: None,
                after: None,
            })
            .await
            .unwrap();
        assert_eq!(id as u64, before["audit_log"].0 + 2);
        // The search index is whole again (SQLite's FTS follows its content table).
        assert_eq!(
            restored.search("待機").await.unwrap().kpis,
            db.store.search("待機").await.unwrap().kpis
        );
        restored.close().await;
    }
    db.finish().await;
}

async fn a_damaged_backup_is_refused_and_nothing_is_written(backend: Backend) {
    let db = filled(backend).await;
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.backup");
    backup::backup(&EmptyDb::of(&db), &good).await.unwrap();
    let bytes = std::fs::read(&good).unwrap();

    let truncated = dir.path().join("truncated.backup");
    std::fs::write(&truncated, &bytes[..bytes.len() - 200]).unwrap();
    let flipped = dir.path().join("flipped.backup");
    let mut f = bytes.clone();
    let i = f.len() / 3;
    f[i] ^= 0x01;
    std::fs::write(&flipped, &f).unwrap();
    let cut_in_data = dir.path().join("cut.backup");
    let manifest_line = bytes[..bytes.len() - 1]
        .iter()
        .rposition(|b| *b == b'\n')
        .unwrap()
        + 1;
    let mut c = bytes[..manifest_line / 2].to_vec();
    c.extend_from_slice(&bytes[manifest_line..]);
    std::fs::write(&cut_in_data, &c).unwrap();
    let empty = dir.path().join("empty.backup");
    std::fs::write(&empty, b"").unwrap();

    for (file, reason) in [
        (&truncated, "no manifest at its end"),
        (&flipped, "checksum mismatch"),
        (&cut_in_data, "truncated"),
        (&empty, "empty"),
    ] {
        let target = EmptyDb::new(backend).await;
        let err = backup::restore(file, &target.url, "admin")
            .await
            .unwrap_err();
        assert!(matches!(err, BackupError::Corrupt { .. }), "{err}");
        let msg = err.to_string();
        assert!(msg.contains(&file.display().to_string()), "{msg}");
        assert!(msg.contains(reason), "{msg}");
        assert!(msg.contains("nothing was written"), "{msg}");
        match &target.path {
            Some(p) => assert!(!p.exists(), "{} was created", p.display()),
            None => assert_eq!(backup::checksums(&target.url).await.unwrap(), vec![]),
        }
    }
    db.finish().await;
}

async fn a_non_empty_target_is_refused_and_left_as_it_was(backend: Backend) {
    let db = filled(backend).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("city.backup");
    backup::backup(&EmptyDb::of(&db), &file).await.unwrap();

    let target = TestDb::new(backend).await;
    let ds = Dataset {
        departments: city().departments[..1].to_vec(),
        ..Dataset::default()
    };
    target.store.apply(&ds, "import").await.unwrap();
    let url = EmptyDb::of(&target);
    let before = backup::checksums(&url).await.unwrap();
    let err = backup::restore(&file, &url, "admin").await.unwrap_err();
    assert!(
        matches!(&err, BackupError::NotEmpty { table, .. } if table == "audit_log" || table == "departments"),
        "{err}"
    );
    let msg = err.to_string();
    assert!(msg.contains("is not empty"), "{msg}");
    // The database is named (a PostgreSQL URL without a password).
    let name = url.rsplit('/').next().unwrap();
    assert!(msg.contains(name), "{msg}");
    assert_eq!(backup::checksums(&url).await.unwrap(), before);

    // A move into it is refused the same way.
    let err = backup::copy(&EmptyDb::of(&db), &url, "admin")
        .await
        .unwrap_err();
    assert!(matches!(err, BackupError::NotEmpty { .. }), "{err}");
    assert_eq!(backup::checksums(&url).await.unwrap(), before);
    target.finish().await;
    db.finish().await;
}

fn observation(kpi: &str, month: usize, area: usize) -> Observation {
    Observation {
        kpi_code: kpi.into(),
        period: Period::Month(2000 + (month / 12) as i32, (month % 12) as u8 + 1),
        area_code: format!("{}", 100_000 + area),
        value: ObsValue::Value((month * 1000 + area) as f64 / 4.0),
        status: ObsStatus::Final,
        source: String::new(),
        note: String::new(),
        entered_by: "writer".into(),
        entered_at: "2026-12-07T00:00:00.000Z".into(),
        confirmed_by: String::new(),
        confirmed_at: String::new(),
    }
}

async fn a_backup_taken_while_a_writer_writes_holds_whole_transactions(backend: Backend) {
    const PER_WRITE: usize = 200;
    let db = filled(backend).await;
    let url = EmptyDb::of(&db);
    let base = by_table(&backup::checksums(&url).await.unwrap());
    let (base_obs, base_audit) = (base["observations"].0, base["audit_log"].0);

    // One transaction = PER_WRITE observations + one audit row.
    let writer_store = db.reopen().await;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let stop = stop.clone();
        tokio::spawn(async move {
            let mut month = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let ds = Dataset {
                    observations: (0..PER_WRITE)
                        .map(|a| observation("K002", month, a))
                        .collect(),
                    ..Dataset::default()
                };
                writer_store.apply(&ds, "writer").await.unwrap();
                month += 1;
            }
            writer_store.close().await;
            month
        })
    };
    let dir = tempfile::tempdir().unwrap();
    let mut seen = Vec::new();
    for i in 0..4 {
        let file = dir.path().join(format!("b{i}.backup"));
        let m = backup::backup(&url, &file).await.unwrap();
        assert_eq!(backup::verify_file(&file).unwrap(), m);
        let t = by_table(&m.tables);
        let writes = t["audit_log"].0 - base_audit;
        assert_eq!(
            t["observations"].0 - base_obs,
            writes * PER_WRITE as u64,
            "backup {i}: observations and audit rows of different moments"
        );
        seen.push(writes);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let written = writer.await.unwrap();
    assert!(written > 0);
    assert!(
        seen.last() > seen.first(),
        "the writer wrote while the backups were taken: {seen:?}"
    );

    // The last backup restores whole.
    let target = EmptyDb::new(backend).await;
    let file = dir.path().join("b3.backup");
    let report = backup::restore(&file, &target.url, "admin").await.unwrap();
    assert_eq!(report.verified, report.manifest.tables);
    db.finish().await;
}

/// Runs statements on a database outside the store (a database of an older
/// citykpi, which the store would migrate on opening).
async fn exec(url: &str, statements: &[&str]) {
    match backup::backend_of(url) {
        Backend::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{url}"))
                .await
                .unwrap();
            for s in statements {
                sqlx::query(s).execute(&mut c).await.unwrap();
            }
            c.close().await.unwrap();
        }
        Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(url).await.unwrap();
            for s in statements {
                sqlx::query(s).execute(&mut c).await.unwrap();
            }
            c.close().await.unwrap();
        }
    }
}

/// Rows written by the first released schema: what every later version must keep.
const FIRST_SCHEMA_ROWS: [&str; 6] = [
    "INSERT INTO departments (code, name_ja, name_en, sort_order) VALUES ('D01', '市長公室', 'Mayor''s Office', 1)",
    "INSERT INTO sections (code, department_code, name_ja, name_en, sort_order) VALUES ('S011', 'D01', '政策企画課', '', 1)",
    "INSERT INTO users (code_placeholder) VALUES (1)",
    "INSERT INTO kpis (id, code, name_ja, unit, direction, frequency, published) \
     VALUES (7, 'K001', '待機児童数', '人', 'lower', 'annual', TRUE)",
    "INSERT INTO observations (kpi_id, period, area_code, fiscal_year, value, value_kind, status, note) \
     VALUES (7, '2024', '271004', 2024, 118.5, 'value', 'final', 'タブ\tあり')",
    "INSERT INTO audit_log (at, actor, action, entity, entity_key) \
     VALUES ('2026-11-23T00:00:00.000Z', 'import', 'apply', 'dataset', '')",
];

async fn backups_of_every_older_schema_are_upgraded_on_restore(backend: Backend) {
    let versions = backup::schema_versions(backend);
    assert!(versions.len() >= 20, "{versions:?}");
    let users = "INSERT INTO users (login, display_name, email, section_code, role, password_hash, active) \
                 VALUES ('old-admin', '旧管理者', NULL, 'S011', 'admin', '$argon2id$v=19$old', TRUE)";
    let rows: Vec<&str> = FIRST_SCHEMA_ROWS
        .iter()
        .map(|s| {
            if s.contains("code_placeholder") {
                users
            } else {
                s
            }
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    // Every version on SQLite; on PostgreSQL (whose DDL is slow to run
    // twenty times over) the first, two between and the last.
    let n = versions.len();
    let tried: Vec<usize> = match backend {
        Backend::Sqlite => (0..n).collect(),
        Backend::Postgres => vec![0, n / 3, 2 * n / 3, n - 1],
    };
    for (i, version) in versions.iter().enumerate() {
        if !tried.contains(&i) {
            continue;
        }
        // A database of that version, with rows written at the first one.
        let old = EmptyDb::new(backend).await;
        backup::create_at_version(&old.url, versions[0])
            .await
            .unwrap();
        exec(&old.url, &rows).await;
        backup::create_at_version(&old.url, *version).await.unwrap();
        assert_eq!(backup::schema_version_of(&old.url).await.unwrap(), *version);

        let file = dir.path().join(format!("v{i}.backup"));
        let m = backup::backup(&old.url, &file).await.unwrap();
        assert_eq!(m.schema_version, *version);
        // The backup did not change the database it read.
        assert_eq!(backup::schema_version_of(&old.url).await.unwrap(), *version);

        // Restored, it is upgraded and keeps its rows; into the other
        // backend too for the first, the middle and the last version.
        let cross = i == 0 || i == n / 2 || i + 1 == n;
        let to = if cross { other(backend) } else { backend };
        let target = EmptyDb::new(to).await;
        let report = backup::restore(&file, &target.url, "admin").await.unwrap();
        assert_eq!(report.schema_version, backup::latest_schema_version(to));
        check_first_schema_rows(&target.url, &format!("v{version} into {to:?}")).await;

        // Opening the old database itself upgrades it the same way.
        if i == n / 3 || i == n / 2 {
            check_first_schema_rows(&old.url, &format!("v{version} opened")).await;
        }
    }
}

async fn check_first_schema_rows(url: &str, what: &str) {
    let store = Store::open(url).await.unwrap();
    let ds = store.load_all().await.unwrap();
    assert_eq!(ds.departments.len(), 1, "{what}");
    assert_eq!(ds.departments[0].name_en, "Mayor's Office", "{what}");
    assert_eq!(ds.users[0].login, "old-admin", "{what}");
    assert_eq!(
        store
            .user_password_hash("old-admin")
            .await
            .unwrap()
            .as_deref(),
        Some("$argon2id$v=19$old"),
        "{what}"
    );
    assert_eq!(ds.kpis[0].code, "K001", "{what}");
    let obs = store
        .observations(&ObservationFilter::default())
        .await
        .unwrap();
    assert_eq!(obs.len(), 1, "{what}");
    assert_eq!(obs[0].period, Period::Year(FiscalYear::new(2024).unwrap()));
    assert_eq!(obs[0].value, ObsValue::Value(118.5), "{what}");
    assert_eq!(obs[0].note, "タブ\tあり", "{what}");
    assert_eq!(
        backup::schema_version_of(url).await.unwrap(),
        backup::latest_schema_version(backup::backend_of(url)),
        "{what}"
    );
    // The KPI is found by the search index built on opening.
    assert_eq!(store.search("待機").await.unwrap().kpis.len(), 1, "{what}");
    store.close().await;
}
