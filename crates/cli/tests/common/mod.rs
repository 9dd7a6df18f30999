//! Runs the real `citykpi` binary against a real database: a SQLite file in a
//! temporary folder, or a fresh PostgreSQL database on the server named by
//! `CITYKPI_TEST_PG_URL` (default 127.0.0.1:5432, user postgres).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The server's maintenance database, where test databases are created.
pub fn pg_admin_url() -> String {
    std::env::var("CITYKPI_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

/// The URL of database `name` on the same server as [`pg_admin_url`].
fn pg_url_for(name: &str) -> String {
    let admin = pg_admin_url();
    match admin.rfind('/') {
        Some(i) if i > "postgres://".len() => format!("{}/{name}", &admin[..i]),
        _ => format!("{admin}/{name}"),
    }
}

/// The day the tests' demo city is made as of and the commands take as today:
/// the day whose demo numbers the tests check (fiscal year 2025, evaluating
/// 2024; `citykpi_app::demo::reference_day`). A test of another day passes
/// `--as-of` itself, which wins over the environment.
pub const DEMO_AS_OF: &str = "2025-07-15";

pub enum Backend {
    Sqlite,
    Postgres,
}

/// A database for one test; a PostgreSQL one is dropped when the test ends.
pub struct TestDb {
    pub url: String,
    pub dir: tempfile::TempDir,
    pg_name: Option<String>,
}

impl TestDb {
    pub fn new(backend: Backend) -> TestDb {
        let dir = tempfile::tempdir().expect("tempdir");
        match backend {
            Backend::Sqlite => {
                let url = dir.path().join("citykpi.db").display().to_string();
                TestDb {
                    url,
                    dir,
                    pg_name: None,
                }
            }
            Backend::Postgres => {
                let name = format!("citykpi_cli_{}", rand::random::<u64>());
                psql(&format!("CREATE DATABASE {name}"));
                let url = pg_url_for(&name);
                TestDb {
                    url,
                    dir,
                    pg_name: Some(name),
                }
            }
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Runs `citykpi --db URL ARGS…` with English messages.
    pub fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_citykpi"))
            .arg("--db")
            .arg(&self.url)
            .args(args)
            .env("LANG", "en_US.UTF-8")
            .env("CITYKPI_AS_OF", DEMO_AS_OF)
            .env_remove("CITYKPI_DATABASE_URL")
            .output()
            .expect("run citykpi")
    }

    /// Runs and insists on success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "citykpi {args:?} failed:\nstdout: {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8 stdout")
    }

    pub fn export(&self, kind: &str, format: &str, file: &Path) -> Vec<u8> {
        self.ok(&[
            "export",
            kind,
            "--format",
            format,
            "-o",
            &file.display().to_string(),
        ]);
        std::fs::read(file).expect("read export")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(name) = &self.pg_name {
            psql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

/// Runs one SQL statement as the postgres user. Fails loudly when PostgreSQL
/// does not answer: the PostgreSQL tests never skip.
fn psql(sql: &str) {
    let out = Command::new("psql")
        .arg("-d")
        .arg(pg_admin_url())
        .args(["-v", "ON_ERROR_STOP=1", "-c", sql])
        .output()
        .expect("psql must be installed (PostgreSQL client) for the PostgreSQL tests");
    assert!(
        out.status.success(),
        "PostgreSQL at {} must answer for these tests ({sql}): {}",
        pg_admin_url(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Defines each test once per backend.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[test] fn $name() { super::$name(super::common::Backend::Sqlite) } )*
        }
        mod postgres {
            $( #[test] fn $name() { super::$name(super::common::Backend::Postgres) } )*
        }
    };
}
