//! State that several server processes on one database share: login
//! sessions (by the SHA-256 digest of the cookie's id), failed logins (by
//! the digest of the client address and login name), and the runs of
//! scheduled jobs (one row per job and time slot, so one server runs each).
//! Also what a load balancer and a metrics scraper ask of the database:
//! whether it answers with every migration applied, and the pool's size.
//!
//! Times are Unix seconds passed in by the caller, so the rules can be
//! tested at any moment without waiting.

use crate::audit::{self, AuditRecord};
use crate::conn::run;
use crate::{Db, Result, Store};

/// A stored login session (never the cookie's id, only its digest's row).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSession {
    pub login: String,
    pub csrf: String,
    /// Unix seconds of the login.
    pub created_at: i64,
    /// Unix seconds of the last request noted (noted at most once a minute).
    pub last_seen_at: i64,
}

/// The connection pool as a metrics scraper sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    /// Connections open now (idle and in use).
    pub size: u32,
    pub idle: u32,
    pub max: u32,
}

/// Whether the database can serve requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Readiness {
    /// Migrations this program carries that the database has not applied
    /// (a server started against a database another version migrated).
    pub missing_migrations: Vec<i64>,
}

impl Readiness {
    pub fn ready(&self) -> bool {
        self.missing_migrations.is_empty()
    }
}

/// Deletes every session of `login` (inside the caller's transaction): a
/// password change and a deactivation end them on every server.
pub(crate) async fn delete_user_sessions(
    conn: &mut crate::conn::Conn<'_>,
    login: &str,
) -> Result<u64> {
    Ok(run!(
        conn,
        sqlx::query("DELETE FROM web_sessions WHERE login = $1").bind(login),
        execute
    )?)
}

impl Store {
    /// Stores a new session under the digest of its id.
    pub async fn create_session(
        &self,
        digest: &str,
        login: &str,
        csrf: &str,
        now: i64,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let conn = &mut tx.conn();
        run!(
            conn,
            sqlx::query(
                "INSERT INTO web_sessions (digest, login, csrf, created_at, last_seen_at) \
                 VALUES ($1, $2, $3, $4, $4)"
            )
            .bind(digest)
            .bind(login)
            .bind(csrf)
            .bind(now),
            execute
        )?;
        tx.commit().await?;
        Ok(())
    }

    /// The session stored under `digest`, if any (expired or not: the
    /// caller judges expiry).
    pub async fn session(&self, digest: &str) -> Result<Option<StoredSession>> {
        let mut pooled = self.read_conn().await?;
        let conn = &mut pooled.conn();
        let row: Option<(String, String, i64, i64)> = run!(
            conn,
            sqlx::query_as(
                "SELECT login, csrf, created_at, last_seen_at FROM web_sessions WHERE digest = $1"
            )
            .bind(digest),
            fetch_optional
        )?;
        Ok(
            row.map(|(login, csrf, created_at, last_seen_at)| StoredSession {
                login,
                csrf,
                created_at,
                last_seen_at,
            }),
        )
    }

    /// Notes a request of the session at `now` (never moves it back).
    pub async fn touch_session(&self, digest: &str, now: i64) -> Result<()> {
        let mut tx = self.begin().await?;
        let conn = &mut tx.conn();
        run!(
            conn,
            sqlx::query(
                "UPDATE web_sessions SET last_seen_at = $1 WHERE digest = $2 AND last_seen_at < $1"
            )
            .bind(now)
            .bind(digest),
            execute
        )?;
        tx.commit().await?;
        Ok(())
    }

    /// Ends one session (logout). False when it was not stored.
    pub async fn delete_session(&self, digest: &str) -> Result<bool> {
        let mut tx = self.begin().await?;
        let conn = &mut tx.conn();
        let n = run!(
            conn,
            sqlx::query("DELETE FROM web_sessions WHERE digest = $1").bind(digest),
            execute
        )?;
        tx.commit().await?;
        Ok(n > 0)
    }

    /// Ends every session of `login` ("log out everywhere"), with its audit
    /// row by `actor`, in one transaction. Returns how many ended.
    pub async fn revoke_sessions(&self, login: &str, actor: &str) -> Result<u64> {
        let mut tx = self.begin().await?;
        let conn = &mut tx.conn();
        let n = delete_user_sessions(conn, login).await?;
        audit::record(
            conn,
            &AuditRecord {
                actor,
                action: "revoke_sessions",
                entity: "user",
                key: login,
                before: None,
                after: Some(serde_json::json!({ "sessions": n })),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(n)
    }

    /// How many sessions `login` holds (expired ones included until cleaned up).
    pub async fn session_count(&self, login: &str) -> Result<i64> {
        let mut pooled = self.read_conn().await?;
        let conn = &mut pooled.conn();
        let (n,): (i64,) = run!(
            conn,
            sqlx::query_as("SELECT COUNT(*) FROM web_sessions WHERE login = $1").bind(login),
            fetch_one
        )?;
        Ok(n)
    }

    /// Deletes the sessions idle since before `idle_before` or created before
    /// `created_before`. Returns how many.
    pub async fn delete_expired_sessions(
        &self,
        idle_before: i64,
        created_before: i64,
    ) -> Result<u64> {
        let mut tx = self.begin().await?;
        let conn = &mut tx.conn();
        let n = run!(
            conn,
            sqlx::query("DELETE FROM web_sessions WHERE last_seen_at < $1 OR created_at < $2")
                .bind(idle_before)
                .bind(created_before),
            execute
        )?;
        tx.commit().await?;
        Ok(n)
    }

    // ----- failed logins -----

    /// The failures counted under each key since `window_start` (0 for a
    /// key without failures in the window), in the order of `keys`.
    pub async fn login_failures(&self, keys: &[&str], window_start: i64) -> Result<Vec<i64>> {
        let mut pooled = self.read_conn().await?;
        let conn = &mut pooled.conn();
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            let row: Option<(i64,)> = run!(
                conn,
                sqlx::query_as(
                    "SELECT failures FROM web_login_failures WHERE key_digest = $1 AND since >= $2"
                )
                .bind(*key)
                .bind(window_start),
                fetch_optional
            )?;
            out.push(row.map_or(0, |r| r.0));
        }
        Ok(out)
    }

    /// Counts one failure under each key, in one transaction; a count older
    /// than `window_start` starts again at one.
    pub async fn record_login_failure(
        &self,
        keys: &[&str],
        now: i64,
        window_start: i64,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let conn = &mut tx.conn();
        for key in keys {
            run!(
                conn,
                sqlx::query(
                    "INSERT INTO web_login_failures (key_digest, failures, since) VALUES ($1, 1, $2) \
                     ON CONFLICT (key_digest) DO UPDATE SET \
                     failures = CASE WHEN web_login_failures.since < $3 THEN 1 \
                                ELSE web_login_failures.failures + 1 END, \
                     since = CASE WHEN web_login_failures.since < $3 THEN excluded.since \
                             ELSE web_login_failures.since END"
                )
                .bind(*key)
                .bind(now)
                .bind(window_start),
                execute
            )?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Forgets the failures under `key` (a successful login).
    pub async fn clear_login_failures(&self, key: &str) -> Result<()> {
        let mut tx = self.begin().await?;
        let conn = &mut tx.conn();
        run!(
            conn,
            sqlx::query("DELETE FROM web_login_failures WHERE key_digest = $1").bind(key),
            execute
        )?;
        tx.commit().await?;
        Ok(())
    }

    /// Deletes failure counts that started before `before`.
    pub async fn delete_old_login_failures(&self, before: i64) -> Result<u64> {
        let mut tx = self.begin().await?;
        let conn = &mut tx.conn();
        let n = run!(
            conn,
            sqlx::query("DELETE FROM web_login_failures WHERE since < $1").bind(before),
            execute
        )?;
        tx.commit().await?;
        Ok(n)
    }

    // ----- scheduled jobs -----

    /// Claims the run of `job` in time slot `slot` for `holder`. True for
    /// exactly one caller per job and slot, whichever server it runs on:
    /// the primary key decides, on both backends, without a lock held
    /// while the job runs.
    pub async fn claim_job_run(
        &self,
        job: &str,
        slot: i64,
        holder: &str,
        now: i64,
    ) -> Result<bool> {
        let mut tx = self.begin().await?;
        let conn = &mut tx.conn();
        let n = run!(
            conn,
            sqlx::query(
                "INSERT INTO job_runs (job, slot, holder, started_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (job, slot) DO NOTHING"
            )
            .bind(job)
            .bind(slot)
            .bind(holder)
            .bind(now),
            execute
        )?;
        tx.commit().await?;
        Ok(n == 1)
    }

    /// The runs of `job` as (slot, holder), oldest first.
    pub async fn job_runs(&self, job: &str) -> Result<Vec<(i64, String)>> {
        let mut pooled = self.read_conn().await?;
        let conn = &mut pooled.conn();
        Ok(run!(
            conn,
            sqlx::query_as("SELECT slot, holder FROM job_runs WHERE job = $1 ORDER BY slot")
                .bind(job),
            fetch_all
        )?)
    }

    /// Deletes the records of job runs started before `before`.
    pub async fn delete_old_job_runs(&self, before: i64) -> Result<u64> {
        let mut tx = self.begin().await?;
        let conn = &mut tx.conn();
        let n = run!(
            conn,
            sqlx::query("DELETE FROM job_runs WHERE started_at < $1").bind(before),
            execute
        )?;
        tx.commit().await?;
        Ok(n)
    }

    // ----- health -----

    /// Asks the database a question and compares its applied migrations with
    /// the ones this program carries. An error: the database does not answer.
    pub async fn readiness(&self) -> Result<Readiness> {
        let (applied, carried): (Vec<(i64,)>, Vec<i64>) = match &*self.db {
            Db::Sqlite(p) => (
                sqlx::query_as("SELECT version FROM _sqlx_migrations WHERE success")
                    .fetch_all(p)
                    .await?,
                sqlx::migrate!("./migrations/sqlite")
                    .iter()
                    .map(|m| m.version)
                    .collect(),
            ),
            Db::Postgres(p) => (
                sqlx::query_as("SELECT version FROM _sqlx_migrations WHERE success")
                    .fetch_all(p)
                    .await?,
                sqlx::migrate!("./migrations/postgres")
                    .iter()
                    .map(|m| m.version)
                    .collect(),
            ),
        };
        let applied: std::collections::HashSet<i64> = applied.into_iter().map(|r| r.0).collect();
        Ok(Readiness {
            missing_migrations: carried
                .into_iter()
                .filter(|v| !applied.contains(v))
                .collect(),
        })
    }

    /// The connection pool now.
    pub fn pool_stats(&self) -> PoolStats {
        match &*self.db {
            Db::Sqlite(p) => PoolStats {
                size: p.size(),
                idle: u32::try_from(p.num_idle()).unwrap_or(u32::MAX),
                max: p.options().get_max_connections(),
            },
            Db::Postgres(p) => PoolStats {
                size: p.size(),
                idle: u32::try_from(p.num_idle()).unwrap_or(u32::MAX),
                max: p.options().get_max_connections(),
            },
        }
    }
}
