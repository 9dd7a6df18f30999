//! A fresh database of either backend for the app's integration tests: a
//! SQLite file in a temporary directory, or a new PostgreSQL database
//! dropped when the test ends (also when it fails).

#![allow(dead_code)]

use citykpi_store::Store;
use sqlx::Connection;

pub fn pg_admin_url() -> String {
    std::env::var("CITYKPI_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

pub struct Db {
    pub store: Store,
    _dir: Option<tempfile::TempDir>,
    pg: Option<String>,
}

/// A name no other test run uses at the same time.
fn unique_suffix() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
    );
    h.write_u32(std::process::id());
    h.finish()
}

impl Db {
    pub async fn open(postgres: bool) -> Db {
        if !postgres {
            let dir = tempfile::tempdir().unwrap();
            let store = Store::open(dir.path().join("app.db").to_str().unwrap())
                .await
                .unwrap();
            return Db {
                store,
                _dir: Some(dir),
                pg: None,
            };
        }
        let name = format!("citykpi_apptest_{:016x}", unique_suffix());
        let mut admin = sqlx::PgConnection::connect(&pg_admin_url())
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "PostgreSQL at {} did not answer ({e}); the PostgreSQL tests never skip",
                    pg_admin_url()
                )
            });
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .unwrap();
        let url = match pg_admin_url().rfind('/') {
            Some(i) => format!("{}/{name}", &pg_admin_url()[..i]),
            None => unreachable!("the admin URL names a database"),
        };
        let store = Store::open(&url).await.unwrap();
        Db {
            store,
            _dir: None,
            pg: Some(name),
        }
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        let Some(name) = self.pg.take() else { return };
        let url = pg_admin_url();
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                let mut admin = sqlx::PgConnection::connect(&url).await.ok()?;
                sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin)
                    .await
                    .ok()
            })
        })
        .join();
    }
}
