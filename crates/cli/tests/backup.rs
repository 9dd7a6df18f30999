//! `citykpi backup`, `restore` and `migrate` end to end, on SQLite and
//! PostgreSQL: the demo city backed up and restored (into either backend)
//! exports byte for byte the same; SQLite → PostgreSQL → SQLite keeps every
//! table's checksum; a damaged file and a non-empty target are refused with
//! nothing written; `serve` takes scheduled backups and keeps the newest.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use citykpi_store::backup::{self, TableSum};
use common::{Backend, TestDb};

crate::on_both_backends!(
    a_restored_backup_exports_the_same_bytes,
    a_damaged_backup_is_refused_with_nothing_written,
    restore_refuses_a_database_that_holds_data,
);

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

const PARTNER_TABLES: [&str; 7] = [
    "members",
    "inquiries",
    "proposals",
    "menu",
    "teams",
    "demonstrations",
    "pr_plans",
];

fn other(backend: &Backend) -> Backend {
    match backend {
        Backend::Sqlite => Backend::Postgres,
        Backend::Postgres => Backend::Sqlite,
    }
}

fn same(backend: &Backend) -> Backend {
    match backend {
        Backend::Sqlite => Backend::Sqlite,
        Backend::Postgres => Backend::Postgres,
    }
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

fn sums(url: &str) -> BTreeMap<String, TableSum> {
    block_on(backup::checksums(url))
        .unwrap()
        .into_iter()
        .map(|t| (t.table.clone(), t))
        .collect()
}

/// Everything the command line exports, keyed by what it is.
fn exports(db: &TestDb, tag: &str) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for kind in KINDS {
        for format in ["csv", "json"] {
            let file = db.path(&format!("{tag}-{kind}.{format}"));
            out.insert(format!("{kind}.{format}"), db.export(kind, format, &file));
        }
    }
    for table in PARTNER_TABLES {
        let file = db.path(&format!("{tag}-partners-{table}.json"));
        db.ok(&[
            "partners",
            "export",
            table,
            "--format",
            "json",
            "-o",
            &file.display().to_string(),
        ]);
        out.insert(
            format!("partners-{table}.json"),
            std::fs::read(&file).unwrap(),
        );
    }
    out.insert(
        "kpi-status-2024.json".into(),
        db.ok(&["kpi", "status", "--fy", "2024", "--format", "json"])
            .into_bytes(),
    );
    out
}

fn assert_same_exports(a: &BTreeMap<String, Vec<u8>>, b: &BTreeMap<String, Vec<u8>>, what: &str) {
    assert_eq!(a.len(), b.len());
    for (name, bytes) in a {
        assert!(bytes.len() > 2, "{name} is empty");
        assert!(
            bytes == &b[name],
            "{what}: {name} differs ({} bytes against {})",
            bytes.len(),
            b[name].len()
        );
    }
}

fn a_restored_backup_exports_the_same_bytes(backend: Backend) {
    let targets = [same(&backend), other(&backend)];
    let src = TestDb::new(backend);
    src.ok(&["demo", "--seed", "11"]);
    let file = src.path("city.backup");
    let out = src.ok(&["backup", "-o", &file.display().to_string()]);
    assert!(out.contains("Backup written"), "{out}");
    let manifest = backup::verify_file(&file).unwrap();
    assert!(manifest.total_rows() > 10_000, "{}", manifest.total_rows());
    assert!(out.contains(&manifest.body_sha256), "{out}");
    let original = exports(&src, "src");

    for to in targets {
        let target = TestDb::new(to);
        let out = target.ok(&["restore", &file.display().to_string()]);
        assert!(out.contains("Restored"), "{out}");
        assert!(
            out.contains(&format!(
                "Row counts and checksums verified (tables): {} / {}",
                manifest.tables.len(),
                manifest.tables.len()
            )),
            "{out}"
        );
        let restored = exports(&target, "restored");
        assert_same_exports(
            &original,
            &restored,
            &format!("restored into {}", target.url),
        );
        // The restore is in the restored database's audit log.
        let after = sums(&target.url);
        let before = &manifest.tables;
        for t in before {
            if t.table == "audit_log" {
                // The source wrote export rows for the partner lists since the backup.
                assert!(after[&t.table].rows > t.rows);
            } else {
                assert_eq!(&after[&t.table], t, "{}", t.table);
            }
        }
    }
}

#[test]
fn migrate_sqlite_to_postgres_and_back_keeps_every_checksum() {
    let a = TestDb::new(Backend::Sqlite);
    a.ok(&["demo", "--seed", "5"]);
    let b = TestDb::new(Backend::Postgres);
    let c = TestDb::new(Backend::Sqlite);
    let out = a.ok(&["migrate", "--to", &b.url]);
    assert!(out.contains("Moved"), "{out}");
    assert!(out.contains("Equal"), "{out}");
    let out = b.ok(&["migrate", "--to", &c.url]);
    assert!(out.contains("Equal"), "{out}");

    let (sa, sb, sc) = (sums(&a.url), sums(&b.url), sums(&c.url));
    assert_eq!(sa.keys().collect::<Vec<_>>(), sc.keys().collect::<Vec<_>>());
    assert!(sa.len() >= 45, "{}", sa.len());
    let mut compared = 0;
    for (table, sum) in &sa {
        if table == "audit_log" {
            // One "migrate" row in each target.
            assert_eq!(sb[table].rows, sum.rows + 1);
            assert_eq!(sc[table].rows, sum.rows + 2);
            continue;
        }
        assert_eq!(&sb[table], sum, "SQLite → PostgreSQL: {table}");
        assert_eq!(&sc[table], sum, "→ SQLite again: {table}");
        compared += sum.rows;
    }
    assert!(compared > 10_000, "{compared}");
    assert_same_exports(
        &exports(&a, "a"),
        &exports(&c, "c"),
        "SQLite → PostgreSQL → SQLite",
    );

    // A target that holds data is refused.
    let out = a.run(&["migrate", "--to", &b.url]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("is not empty"), "{err}");
}

fn a_damaged_backup_is_refused_with_nothing_written(backend: Backend) {
    let src = TestDb::new(Backend::Sqlite);
    src.ok(&["demo", "--seed", "3"]);
    let file = src.path("city.backup");
    src.ok(&["backup", "-o", &file.display().to_string()]);
    let bytes = std::fs::read(&file).unwrap();
    let damaged = src.path("damaged.backup");
    let mut d = bytes.clone();
    d[bytes.len() / 2] ^= 0x20;
    std::fs::write(&damaged, &d).unwrap();
    let truncated = src.path("truncated.backup");
    std::fs::write(&truncated, &bytes[..bytes.len() * 2 / 3]).unwrap();

    for (f, reason) in [(&damaged, "checksum mismatch"), (&truncated, "truncated")] {
        let target = TestDb::new(same(&backend));
        let out = target.run(&["restore", &f.display().to_string()]);
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(&f.display().to_string()), "{err}");
        assert!(err.contains(reason), "{err}");
        assert!(err.contains("nothing was written"), "{err}");
        if target.url.starts_with("postgres") {
            assert!(sums(&target.url).is_empty(), "tables were created");
        } else {
            assert!(
                !Path::new(&target.url).exists(),
                "{} was created",
                target.url
            );
        }
    }
}

fn restore_refuses_a_database_that_holds_data(backend: Backend) {
    let src = TestDb::new(Backend::Sqlite);
    src.ok(&["demo", "--seed", "3"]);
    let file = src.path("city.backup");
    src.ok(&["backup", "-o", &file.display().to_string()]);

    let target = TestDb::new(backend);
    target.ok(&["demo", "--seed", "4"]);
    let before = sums(&target.url);
    let out = target.run(&["restore", &file.display().to_string()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("is not empty"), "{err}");
    let name = target.url.rsplit('/').next().unwrap();
    assert!(err.contains(name), "the database is named: {err}");
    assert_eq!(sums(&target.url), before);
}

#[test]
fn serve_takes_scheduled_backups_and_keeps_the_newest() {
    let db = TestDb::new(Backend::Sqlite);
    db.ok(&["demo", "--seed", "2"]);
    let dir = db.path("backups");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_citykpi"))
        .args([
            "--db",
            &db.url,
            "serve",
            "--addr",
            &format!("127.0.0.1:{port}"),
        ])
        .env("LANG", "en_US.UTF-8")
        .env_remove("CITYKPI_DATABASE_URL")
        .env("CITYKPI_BACKUP_DIR", &dir)
        // 1.8 seconds
        .env("CITYKPI_BACKUP_EVERY_HOURS", "0.0005")
        .env("CITYKPI_BACKUP_KEEP", "2")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let mut seen = std::collections::BTreeSet::new();
    let mut most = 0;
    let listing = |dir: &Path| -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .map(|r| {
                r.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| n.ends_with(".backup"))
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    };
    while seen.len() < 4 && started.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(200));
        let now = listing(&dir);
        most = most.max(now.len());
        seen.extend(now);
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(seen.len() >= 4, "scheduled backups seen: {seen:?}");
    assert!(most <= 2, "more than CITYKPI_BACKUP_KEEP files at once");
    let left = listing(&dir);
    assert!(!left.is_empty() && left.len() <= 2, "{left:?}");
    // The newest are kept (the listing may trail the last write a little),
    // and each is a whole backup of the city.
    for name in &left {
        let m = backup::verify_file(&dir.join(name)).unwrap();
        assert!(m.total_rows() > 10_000);
        assert!(
            name.starts_with("citykpi-") && name.ends_with("Z.backup"),
            "{name}"
        );
    }
    assert!(
        left.iter()
            .all(|n| seen.iter().rev().take(3).any(|s| s == n)),
        "{left:?} are not the newest of {seen:?}"
    );
}
