//! citykpi's storage layer: one API over an embedded SQLite file (the default,
//! WAL mode) or a PostgreSQL server.
//!
//! The API speaks in natural keys (codes) and domain types only. SQL is
//! written once with `$1` placeholders, which both backends accept, and only
//! the bulk observation path and a few statements differ per backend.
//!
//! Every write runs in a transaction; `apply` writes a whole dataset in one,
//! so that a failed import leaves the database as it was.

mod apply;
mod audit;
mod codec;
mod conn;
mod cycle;
mod error;
mod evidence;
mod intake;
mod load;
mod notify;
mod observations;
mod outreach;
mod partners;
mod read;
mod registry;
mod search;
mod sessions;
mod settings;
mod web;
mod whatif;
mod write;

/// Backups, restores and moves between backends.
pub mod backup;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use citykpi_domain::kpi::Kpi;
use citykpi_domain::money::ProgramMoney;
use citykpi_domain::observation::{Observation, Period};
use citykpi_domain::org::{Department, Section, User};
use citykpi_domain::plan::{Plan, PlanNode};
use citykpi_domain::program::{IndicatorKind, KpiLink, Program, ProgramIndicator};
use citykpi_domain::{Dataset, FiscalYear, KnownKeys};
use sqlx::ConnectOptions;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};

pub use apply::{ApplySummary, Change, Counts};
pub use audit::{AuditEntry, AuditFilter, AuditRecord, now_rfc3339};
pub use cycle::{
    CycleResult, CycleStoreError, DepartmentBudget, LineageRecord, StoredRequest, StoredScenario,
    StoredSheet, StoredSheetHead,
};
pub use error::{Entity, Result, StoreError};
pub use evidence::StoredEvidence;
pub use intake::ThemeWrite;
pub use load::{LoadKey, PendingLoad};
pub use notify::SentNotice;
pub use outreach::{EventFilter, LeadFilter};
pub use partners::{
    ErasedPersonal, InquiryFilter, MemberFilter, Page, PartnerError, PartnerResult,
};
pub use read::ObservationFilter;
pub use registry::SecretChange;
pub use search::{SearchHits, query_terms};
pub use sessions::{PoolStats, Readiness, StoredSession};
pub use web::{ApiTokenInfo, rfc3339_in};
pub use whatif::{NewProposal, StoredProposal, StoredWhatIf, WhatIfHead};

use conn::{Conn, Pooled, Tx, run};

/// Which database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// The result of a versioned save: what happened and the version now stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Saved {
    pub change: Change,
    pub version: i64,
}

enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// The database. Cheap to clone (it holds a connection pool).
#[derive(Clone)]
pub struct Store {
    db: std::sync::Arc<Db>,
    /// What it was opened with: a backup opens its own read connection to
    /// the same database (one snapshot across every table).
    target: std::sync::Arc<str>,
}

/// Tables from children to parents: the order in which rows can be deleted.
const TABLES_CHILDREN_FIRST: [&str; 19] = [
    "audit_log",
    "approvers",
    "search_docs",
    "observations",
    "program_money",
    "program_indicators",
    "link_evidence",
    "kpi_links",
    "programs",
    "kpi_sdgs",
    "kpi_nodes",
    "kpi_owners",
    "kpi_targets",
    "kpis",
    "plan_nodes",
    "plans",
    "users",
    "sections",
    "departments",
];

/// SQLite waits this long for another writer before giving up with "database is locked".
/// A bulk import's statements run for seconds by design: sqlx's warning
/// about slow statements would print on every large import, so slow
/// statements are logged at debug level (`RUST_LOG=sqlx=debug` shows them).
const SLOW_STATEMENT_LEVEL: log::LevelFilter = log::LevelFilter::Debug;
const SLOW_STATEMENT: Duration = Duration::from_secs(1);

const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(30);

impl Store {
    /// Opens (and migrates) a database. `target` is a `postgres://` or
    /// `postgresql://` URL, or the path of a SQLite file (optionally prefixed
    /// `sqlite:`), which is created if missing.
    pub async fn open(target: &str) -> Result<Store> {
        let target = target.trim();
        let open_err = |source| StoreError::Open {
            target: redact(target),
            source,
        };
        let db = if target.starts_with("postgres://") || target.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(target)
                .map_err(open_err)?
                .log_slow_statements(SLOW_STATEMENT_LEVEL, SLOW_STATEMENT);
            let pool = PgPoolOptions::new()
                .max_connections(8)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await
                .map_err(open_err)?;
            sqlx::migrate!("./migrations/postgres").run(&pool).await?;
            Db::Postgres(pool)
        } else {
            let path = target
                .strip_prefix("sqlite://")
                .or_else(|| target.strip_prefix("sqlite:"))
                .unwrap_or(target);
            if let Some(dir) = Path::new(path)
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
            {
                std::fs::create_dir_all(dir).map_err(|e| open_err(sqlx::Error::Io(e)))?;
            }
            let options = SqliteConnectOptions::new()
                .filename(path)
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(SQLITE_BUSY_TIMEOUT)
                // 64 MiB page cache: bulk loads of a million observations stay in memory.
                .pragma("cache_size", "-65536")
                .pragma("temp_store", "memory")
                // Reads map the file instead of copying its pages into the
                // page cache: a recompute at scale 10 spent a third of its
                // time copying pages and faulting in fresh cache memory.
                .pragma("mmap_size", "1073741824")
                .log_slow_statements(SLOW_STATEMENT_LEVEL, SLOW_STATEMENT)
                // sqlx hands rows from its SQLite thread to ours through a
                // channel of this many rows (default 50); with a short one
                // the two threads woke each other every few rows.
                .row_buffer_size(4096);
            let pool = SqlitePoolOptions::new()
                .max_connections(4)
                .connect_with(options)
                .await
                .map_err(open_err)?;
            sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
            Db::Sqlite(pool)
        };
        let store = Store {
            db: std::sync::Arc::new(db),
            target: std::sync::Arc::from(target),
        };
        // A database from before the search index (or one whose records were
        // written by hand) gets its searched text built once.
        if store.search_index_incomplete().await? {
            store.rebuild_search_index().await?;
        }
        Ok(store)
    }

    /// The database this store was opened on (file path or URL, with its
    /// password if the URL has one: never show it; `redacted_target` is for
    /// people).
    pub fn target(&self) -> &str {
        &self.target
    }

    /// The same with the password of a URL replaced by `***`.
    pub fn redacted_target(&self) -> String {
        redact(&self.target)
    }

    pub fn backend(&self) -> Backend {
        match *self.db {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// Brings the planner's statistics (and, on PostgreSQL, the visibility
    /// map that index-only scans need) up to date after a bulk load, instead
    /// of waiting for autovacuum: until then a list of 50,000 fresh rows is
    /// planned as if the table held a hundred. Not in a transaction (VACUUM
    /// cannot be); `tables` are our own table names.
    pub(crate) async fn refresh_statistics(&self, tables: &[&str]) -> Result<()> {
        let list = tables.join(", ");
        match &*self.db {
            Db::Sqlite(p) => {
                for t in tables {
                    sqlx::query(&format!("ANALYZE {t}")).execute(p).await?;
                }
            }
            Db::Postgres(p) => {
                sqlx::query(&format!("VACUUM (ANALYZE) {list}"))
                    .execute(p)
                    .await?;
            }
        }
        Ok(())
    }

    /// Closes the pool; waits for connections in use to be returned.
    pub async fn close(&self) {
        match &*self.db {
            Db::Sqlite(p) => p.close().await,
            Db::Postgres(p) => p.close().await,
        }
    }

    async fn read_conn(&self) -> Result<Pooled> {
        Ok(match &*self.db {
            Db::Sqlite(p) => Pooled::Sqlite(p.acquire().await?),
            Db::Postgres(p) => Pooled::Pg(p.acquire().await?),
        })
    }

    /// A write transaction. SQLite takes the write lock at BEGIN (IMMEDIATE),
    /// so two writers queue on busy_timeout instead of one failing mid-way
    /// when it upgrades from a read lock.
    async fn begin(&self) -> Result<Tx> {
        Ok(match &*self.db {
            Db::Sqlite(p) => Tx::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?),
            Db::Postgres(p) => Tx::Pg(p.begin().await?),
        })
    }

    // ----- bulk write -----

    /// Writes everything in `ds` in one transaction, upserting by natural
    /// key, and records one audit row. Child rows of a KPI (targets, owners,
    /// nodes, SDGs) given in the dataset replace the stored ones. A user
    /// without a password hash keeps the stored hash. On any error nothing
    /// is written.
    pub async fn apply(&self, ds: &Dataset, actor: &str) -> Result<ApplySummary> {
        let mut tx = self.begin().await?;
        let summary = apply::apply(&mut tx.conn(), ds).await?;
        let record = AuditRecord {
            actor,
            action: "apply",
            entity: Entity::Dataset.as_str(),
            key: "",
            before: None,
            after: Some(serde_json::to_value(&summary).unwrap_or_default()),
        };
        audit::record(&mut tx.conn(), &record).await?;
        tx.commit().await?;
        Ok(summary)
    }

    // ----- loaders -----

    pub async fn departments(&self) -> Result<Vec<Department>> {
        read::departments(&mut self.read_conn().await?.conn()).await
    }
    pub async fn sections(&self) -> Result<Vec<Section>> {
        read::sections(&mut self.read_conn().await?.conn()).await
    }
    /// Users by login, with their password hashes (which `User` never serialises).
    pub async fn users(&self) -> Result<Vec<User>> {
        read::users(&mut self.read_conn().await?.conn()).await
    }
    pub async fn user(&self, login: &str) -> Result<Option<User>> {
        read::user(&mut self.read_conn().await?.conn(), login).await
    }
    pub async fn plans(&self) -> Result<Vec<Plan>> {
        read::plans(&mut self.read_conn().await?.conn()).await
    }
    pub async fn plan_nodes(&self) -> Result<Vec<PlanNode>> {
        read::plan_nodes(&mut self.read_conn().await?.conn()).await
    }
    /// KPIs by code with targets, owners, nodes and SDG tags in their given order.
    pub async fn kpis(&self) -> Result<Vec<Kpi>> {
        let stored = read::kpis(&mut self.read_conn().await?.conn(), None).await?;
        Ok(stored.into_iter().map(|s| s.kpi).collect())
    }
    pub async fn kpi(&self, code: &str) -> Result<Option<Kpi>> {
        let stored = read::kpis(&mut self.read_conn().await?.conn(), Some(code)).await?;
        Ok(stored.into_iter().next().map(|s| s.kpi))
    }
    /// The KPI with its version, for an edit form (see `upsert_kpi_versioned`).
    pub async fn kpi_with_version(&self, code: &str) -> Result<Option<(Kpi, i64)>> {
        let stored = read::kpis(&mut self.read_conn().await?.conn(), Some(code)).await?;
        Ok(stored.into_iter().next().map(|s| (s.kpi, s.version)))
    }
    /// Observations ordered by KPI code, fiscal year, period and area.
    pub async fn observations(&self, filter: &ObservationFilter) -> Result<Vec<Observation>> {
        read::observations(&mut self.read_conn().await?.conn(), filter).await
    }
    pub async fn programs(&self) -> Result<Vec<Program>> {
        let rows = read::programs(&mut self.read_conn().await?.conn(), None).await?;
        Ok(rows.into_iter().map(|(p, _)| p).collect())
    }
    pub async fn program(&self, code: &str) -> Result<Option<Program>> {
        Ok(self.program_with_version(code).await?.map(|(p, _)| p))
    }
    /// The program with its version, for an edit form (see `upsert_program_versioned`).
    pub async fn program_with_version(&self, code: &str) -> Result<Option<(Program, i64)>> {
        let rows = read::programs(&mut self.read_conn().await?.conn(), Some(code)).await?;
        Ok(rows.into_iter().next())
    }
    /// Program → KPI links ordered by (program, KPI).
    pub async fn links(&self) -> Result<Vec<KpiLink>> {
        read::links(&mut self.read_conn().await?.conn()).await
    }
    /// Program indicators ordered by (program, indicator code, fiscal year).
    pub async fn indicators(&self) -> Result<Vec<ProgramIndicator>> {
        read::indicators(&mut self.read_conn().await?.conn(), None, None).await
    }
    /// The program indicators of the fiscal years `from..=to`, all or of one
    /// kind, in the order of `indicators`: a year's computations need a few
    /// years of one kind, not the history.
    pub async fn indicators_in(
        &self,
        kind: Option<IndicatorKind>,
        from: FiscalYear,
        to: FiscalYear,
    ) -> Result<Vec<ProgramIndicator>> {
        read::indicators(&mut self.read_conn().await?.conn(), Some((from, to)), kind).await
    }
    /// Program money ordered by (program, fiscal year).
    pub async fn money(&self) -> Result<Vec<ProgramMoney>> {
        read::money(&mut self.read_conn().await?.conn(), None).await
    }
    /// One program's money of one fiscal year, if stored.
    pub async fn money_of(
        &self,
        program_code: &str,
        fy: FiscalYear,
    ) -> Result<Option<ProgramMoney>> {
        read::money_one(&mut self.read_conn().await?.conn(), program_code, fy).await
    }
    /// The program money of the fiscal years `from..=to`, in the order of `money`.
    pub async fn money_in(&self, from: FiscalYear, to: FiscalYear) -> Result<Vec<ProgramMoney>> {
        read::money(&mut self.read_conn().await?.conn(), Some((from, to))).await
    }

    /// Everything, each kind in its loader's order.
    pub async fn load_all(&self) -> Result<Dataset> {
        let mut pooled = self.read_conn().await?;
        let conn = &mut pooled.conn();
        Ok(Dataset {
            departments: read::departments(conn).await?,
            sections: read::sections(conn).await?,
            users: read::users(conn).await?,
            plans: read::plans(conn).await?,
            plan_nodes: read::plan_nodes(conn).await?,
            kpis: read::kpis(conn, None)
                .await?
                .into_iter()
                .map(|s| s.kpi)
                .collect(),
            observations: read::observations(conn, &ObservationFilter::all()).await?,
            programs: read::programs(conn, None)
                .await?
                .into_iter()
                .map(|(p, _)| p)
                .collect(),
            links: read::links(conn).await?,
            indicators: read::indicators(conn, None, None).await?,
            money: read::money(conn, None).await?,
        })
    }

    pub async fn known_keys(&self) -> Result<KnownKeys> {
        read::known_keys(&mut self.read_conn().await?.conn()).await
    }

    /// True when no data table holds a row (the audit log and the settings aside).
    pub async fn is_empty(&self) -> Result<bool> {
        let mut pooled = self.read_conn().await?;
        let conn = &mut pooled.conn();
        for table in TABLES_CHILDREN_FIRST.iter().filter(|t| **t != "audit_log") {
            let sql = format!("SELECT COUNT(*) FROM (SELECT 1 FROM {table} LIMIT 1) AS any_row");
            let n: i64 = run!(conn, sqlx::query_scalar::<_, i64>(&sql), fetch_one)?;
            if n > 0 {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Deletes every row of every data table, the audit log included (used
    /// by `citykpi demo` to rebuild from scratch). The city's settings stay.
    pub async fn clear_all(&self) -> Result<()> {
        let mut tx = self.begin().await?;
        let conn = &mut tx.conn();
        match conn {
            Conn::Pg(_) => {
                let sql = format!("TRUNCATE {}", TABLES_CHILDREN_FIRST.join(", "));
                run!(conn, sqlx::query(&sql), execute)?;
            }
            Conn::Sqlite(_) => {
                for table in TABLES_CHILDREN_FIRST {
                    let sql = format!("DELETE FROM {table}");
                    run!(conn, sqlx::query(&sql), execute)?;
                }
            }
        }
        tx.commit().await?;
        Ok(())
    }

    // ----- single-record writes (web UI); each in its own transaction with an audit row -----

    /// Inserts or updates one observation by (KPI, period, area), without a
    /// version check (see `upsert_observation_versioned`).
    pub async fn upsert_observation(&self, obs: &Observation, actor: &str) -> Result<Change> {
        Ok(self
            .upsert_observation_versioned(obs, None, actor)
            .await?
            .change)
    }

    /// Saves one observation if its stored version is still
    /// `expected_version` (the version the editor loaded; 0 = "must not exist
    /// yet"); otherwise `StoreError::Conflict` naming it, and nothing is
    /// written. `None` skips the check. The same figure again (value,
    /// status, source, note) is `Unchanged` and keeps its confirmation; a
    /// changed figure is stored with the confirmation `obs` carries, so a
    /// value typed in by an editor is unconfirmed again.
    pub async fn upsert_observation_versioned(
        &self,
        obs: &Observation,
        expected_version: Option<i64>,
        actor: &str,
    ) -> Result<Saved> {
        let saved = self
            .save_observations(&[(obs, expected_version)], actor)
            .await?;
        Ok(saved[0])
    }

    /// Saves several observations as `upsert_observation_versioned` does,
    /// all in one transaction (an audit row each): one stale version refuses
    /// them all, and nothing is written.
    pub async fn save_observations(
        &self,
        items: &[(&Observation, Option<i64>)],
        actor: &str,
    ) -> Result<Vec<Saved>> {
        let mut tx = self.begin().await?;
        let conn = &mut tx.conn();
        let mut out = Vec::with_capacity(items.len());
        for (obs, expected) in items {
            out.push(save_observation(conn, obs, *expected, actor).await?);
        }
        tx.commit().await?;
        Ok(out)
    }

    /// One observation with its version, for the edit check and confirmation.
    pub async fn observation_with_version(
        &self,
        kpi_code: &str,
        period: Period,
        area_code: &str,
    ) -> Result<Option<(Observation, i64)>> {
        let mut pooled = self.read_conn().await?;
        let conn = &mut pooled.conn();
        let id: Option<i64> = run!(
            conn,
            sqlx::query_scalar::<_, i64>("SELECT id FROM kpis WHERE code = $1").bind(kpi_code),
            fetch_optional
        )?;
        match id {
            Some(id) => read::observation_versioned(conn, id, &period.to_string(), area_code).await,
            None => Ok(None),
        }
    }

    /// The version of each stored actual of a KPI in one area, by period:
    /// what an entry form carries so that a stale save is refused.
    pub async fn observation_versions(
        &self,
        kpi_code: &str,
        area_code: &str,
    ) -> Result<Vec<(Period, i64)>> {
        let rows =
            read::observation_versions(&mut self.read_conn().await?.conn(), kpi_code, area_code)
                .await?;
        rows.into_iter()
            .map(|(p, v)| Ok((codec::period_from_text(kpi_code, &p)?, v)))
            .collect()
    }

    /// Confirms (確認済) actuals for publication, all in one transaction with
    /// one audit row each (action `confirm`). Each must still be at the
    /// version the confirmer saw: a value changed (or confirmed) since is
    /// refused with `StoreError::Conflict` naming it, and nothing is
    /// confirmed. One already confirmed at that version is `Unchanged`.
    /// Who may confirm what is the caller's rule (`citykpi_app::confirm`).
    pub async fn confirm_observations(
        &self,
        items: &[ConfirmItem],
        actor: &str,
    ) -> Result<Vec<Change>> {
        let at = now_rfc3339();
        let mut tx = self.begin().await?;
        let conn = &mut tx.conn();
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            let key = codec::observation_key(&item.kpi_code, item.period, &item.area_code);
            let period = item.period.to_string();
            let kpi_id = kpi_id_of(conn, &item.kpi_code, &key).await?;
            let stored =
                read::observation_versioned(conn, kpi_id, &period, &item.area_code).await?;
            let conflict = |found: i64| StoreError::Conflict {
                entity: Entity::Observation,
                key: key.clone(),
                expected: item.version,
                found,
            };
            let Some((before, version)) = stored else {
                return Err(conflict(0));
            };
            if version != item.version {
                return Err(conflict(version));
            }
            if before.is_confirmed() {
                out.push(Change::Unchanged);
                continue;
            }
            let done = observations::confirm_if_version(
                conn,
                kpi_id,
                &period,
                &item.area_code,
                version,
                (actor, &at),
            )
            .await?;
            if !done {
                return Err(conflict(version + 1));
            }
            let after = Observation {
                confirmed_by: actor.to_string(),
                confirmed_at: at.clone(),
                ..before.clone()
            };
            let record = AuditRecord {
                actor,
                action: "confirm",
                entity: Entity::Observation.as_str(),
                key: &key,
                before: serde_json::to_value(&before).ok(),
                after: serde_json::to_value(&after).ok(),
            };
            audit::record(conn, &record).await?;
            out.push(Change::Updated);
        }
        tx.commit().await?;
        Ok(out)
    }

    /// The logins that may confirm the actuals of their department's KPIs.
    pub async fn approvers(&self) -> Result<Vec<String>> {
        Ok(run!(
            &mut self.read_conn().await?.conn(),
            sqlx::query_scalar::<_, String>("SELECT login FROM approvers ORDER BY login"),
            fetch_all
        )?)
    }

    pub async fn is_approver(&self, login: &str) -> Result<bool> {
        let n: i64 = run!(
            &mut self.read_conn().await?.conn(),
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM approvers WHERE login = $1")
                .bind(login),
            fetch_one
        )?;
        Ok(n > 0)
    }

    /// Grants (or withdraws) the approver mark of a user, with an audit row.
    pub async fn set_approver(&self, login: &str, approver: bool, actor: &str) -> Result<Change> {
        let mut tx = self.begin().await?;
        let conn = &mut tx.conn();
        let exists: i64 = run!(
            conn,
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM users WHERE login = $1").bind(login),
            fetch_one
        )?;
        if exists == 0 {
            return Err(StoreError::MissingReference {
                entity: Entity::User,
                key: login.to_string(),
                target: Entity::User,
                target_key: login.to_string(),
            });
        }
        let done = if approver {
            run!(
                conn,
                sqlx::query(
                    "INSERT INTO approvers (login, granted_by, granted_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (login) DO NOTHING"
                )
                .bind(login)
                .bind(actor)
                .bind(now_rfc3339()),
                execute
            )
        } else {
            run!(
                conn,
                sqlx::query("DELETE FROM approvers WHERE login = $1").bind(login),
                execute
            )
        }
        .map_err(StoreError::write(Entity::User, login))?;
        if done == 0 {
            return Ok(Change::Unchanged);
        }
        let record = AuditRecord {
            actor,
            action: if approver {
                "grant_approver"
            } else {
                "revoke_approver"
            },
            entity: Entity::User.as_str(),
            key: login,
            before: Some(serde_json::json!({ "approver": !approver })),
            after: Some(serde_json::json!({ "approver": approver })),
        };
        audit::record(conn, &record).await?;
        tx.commit().await?;
        Ok(Change::Updated)
    }

    /// Inserts or updates a program without a version check.
    pub async fn upsert_program(&self, program: &Program, actor: &str) -> Result<Saved> {
        self.upsert_program_versioned(program, None, actor).await
    }

    /// Saves a program if its stored version is still `expected_version`
    /// (the version the editor loaded; 0 = "must not exist yet"); otherwise
    /// `StoreError::Conflict`, so that of two people editing the same program
    /// the second save is refused. `None` skips the check.
    pub async fn upsert_program_versioned(
        &self,
        program: &Program,
        expected_version: Option<i64>,
        actor: &str,
    ) -> Result<Saved> {
        let key = program.code.as_str();
        let mut tx = self.begin().await?;
        let conn = &mut tx.conn();
        let stored = read::programs(conn, Some(key)).await?.into_iter().next();
        let found = stored.as_ref().map_or(0, |(_, v)| *v);
        check_version(Entity::Program, key, expected_version, found)?;
        check_section(conn, Entity::Program, key, &program.section_code).await?;
        let saved = match &stored {
            Some((old, version)) if old == program => {
                return Ok(Saved {
                    change: Change::Unchanged,
                    version: *version,
                });
            }
            Some((_, version)) => {
                if !write::program_update_if_version(conn, program, *version).await? {
                    return Err(conflict_now(conn, Entity::Program, key, *version).await);
                }
                search::index_programs(conn, &[program]).await?;
                Saved {
                    change: Change::Updated,
                    version: version + 1,
                }
            }
            None => {
                if !write::program_insert_new(conn, program).await? {
                    return Err(conflict_now(conn, Entity::Program, key, 0).await);
                }
                search::index_programs(conn, &[program]).await?;
                Saved {
                    change: Change::Inserted,
                    version: 1,
                }
            }
        };
        let before = stored.as_ref().map(|(p, _)| p);
        audit_change(
            conn,
            actor,
            saved.change,
            Entity::Program,
            key,
            before,
            Some(program),
        )
        .await?;
        tx.commit().await?;
        Ok(saved)
    }

    /// Saves a KPI (children included, replacing the stored ones) with the
    /// same version rule as `upsert_program_versioned`.
    pub async fn upsert_kpi_versioned(
        &self,
        kpi: &Kpi,
        expected_version: Option<i64>,
        actor: &str,
    ) -> Result<Saved> {
        apply::check_kpi_finite(kpi)?;
        let key = kpi.code.as_str();
        let mut tx = self.begin().await?;
        let conn = &mut tx.conn();
        let stored = read::kpis(conn, Some(key)).await?.into_iter().next();
        let found = stored.as_ref().map_or(0, |s| s.version);
        check_version(Entity::Kpi, key, expected_version, found)?;
        let known = read::known_keys(conn).await?;
        if let Some(s) = kpi
            .owner_sections
            .iter()
            .find(|s| !known.sections.contains(*s))
        {
            return Err(StoreError::MissingReference {
                entity: Entity::Kpi,
                key: key.to_string(),
                target: Entity::Section,
                target_key: s.clone(),
            });
        }
        if let Some(n) = kpi
            .nodes
            .iter()
            .find(|n| !known.plan_nodes.contains(&n.node_code))
        {
            return Err(StoreError::MissingReference {
                entity: Entity::Kpi,
                key: key.to_string(),
                target: Entity::PlanNode,
                target_key: n.node_code.clone(),
            });
        }
        let saved = match &stored {
            Some(s) if &s.kpi == kpi => {
                return Ok(Saved {
                    change: Change::Unchanged,
                    version: s.version,
                });
            }
            Some(s) => {
                // Locks the row (PostgreSQL) and re-checks the version under the lock.
                let guard = run!(
                    conn,
                    sqlx::query(
                        "UPDATE kpis SET version = version WHERE code = $1 AND version = $2"
                    )
                    .bind(key)
                    .bind(s.version),
                    execute
                )?;
                if guard != 1 {
                    return Err(conflict_now(conn, Entity::Kpi, key, s.version).await);
                }
                write::kpi(conn, kpi, false).await?;
                Saved {
                    change: Change::Updated,
                    version: s.version + 1,
                }
            }
            None => {
                write::kpi(conn, kpi, false).await?;
                let version: i64 = run!(
                    conn,
                    sqlx::query_scalar::<_, i64>("SELECT version FROM kpis WHERE code = $1")
                        .bind(key),
                    fetch_one
                )?;
                if version != 1 {
                    return Err(StoreError::Conflict {
                        entity: Entity::Kpi,
                        key: key.to_string(),
                        expected: 0,
                        found: version - 1,
                    });
                }
                Saved {
                    change: Change::Inserted,
                    version,
                }
            }
        };
        let before = stored.as_ref().map(|s| &s.kpi);
        audit_change(
            conn,
            actor,
            saved.change,
            Entity::Kpi,
            key,
            before,
            Some(kpi),
        )
        .await?;
        tx.commit().await?;
        Ok(saved)
    }

    /// Inserts or updates one program's money for one fiscal year.
    pub async fn upsert_money(&self, money: &ProgramMoney, actor: &str) -> Result<Change> {
        self.upsert_money_checked(money, None, actor).await
    }

    /// Saves a year's money if the stored figures are still at revision
    /// `expected` (`ProgramMoney::revision`, 0 = none stored; None skips the
    /// check), else refuses with a conflict and writes nothing.
    pub async fn upsert_money_checked(
        &self,
        money: &ProgramMoney,
        expected: Option<i64>,
        actor: &str,
    ) -> Result<Change> {
        apply::check_money_finite(money)?;
        let key = format!("{}/{}", money.program_code, money.fy);
        let mut tx = self.begin().await?;
        let conn = &mut tx.conn();
        // The program's row is locked (PostgreSQL; SQLite's write transaction
        // is already exclusive), so a concurrent writer of the same program's
        // money waits and then reads what this one wrote.
        let lock = match conn {
            Conn::Pg(_) => "SELECT version FROM programs WHERE code = $1 FOR UPDATE",
            Conn::Sqlite(_) => "SELECT version FROM programs WHERE code = $1",
        };
        let program: Option<i64> = run!(
            conn,
            sqlx::query_scalar::<_, i64>(lock).bind(&money.program_code),
            fetch_optional
        )?;
        if program.is_none() {
            return Err(StoreError::MissingReference {
                entity: Entity::Money,
                key,
                target: Entity::Program,
                target_key: money.program_code.clone(),
            });
        }
        let before = read::money_one(conn, &money.program_code, money.fy).await?;
        let found = before.as_ref().map_or(0, ProgramMoney::revision);
        if let Some(expected) = expected
            && expected != found
        {
            return Err(StoreError::Conflict {
                entity: Entity::Money,
                key,
                expected,
                found,
            });
        }
        if before.as_ref() == Some(money) {
            return Ok(Change::Unchanged);
        }
        write::money(conn, money).await?;
        let change = if before.is_some() {
            Change::Updated
        } else {
            Change::Inserted
        };
        audit_change(
            conn,
            actor,
            change,
            Entity::Money,
            &key,
            before.as_ref(),
            Some(money),
        )
        .await?;
        tx.commit().await?;
        Ok(change)
    }

    // ----- users -----

    /// Stores a PHC password hash (argon2id) for an existing user. The
    /// user's API token is revoked with it: a password reset is what an
    /// administrator does when an account may be in the wrong hands.
    pub async fn set_password_hash(&self, login: &str, phc: &str) -> Result<()> {
        self.change_password(login, phc, None).await
    }

    /// Sets a new password hash, revokes the user's API token and, when
    /// `actor` is given, writes the audit row (`set_password`), all in one
    /// transaction.
    pub async fn change_password(&self, login: &str, phc: &str, actor: Option<&str>) -> Result<()> {
        let mut tx = self.begin().await?;
        let conn = &mut tx.conn();
        let done = run!(
            conn,
            sqlx::query("UPDATE users SET password_hash = $1 WHERE login = $2")
                .bind(phc)
                .bind(login),
            execute
        )?;
        if done == 0 {
            return Err(StoreError::NotFound {
                entity: Entity::User,
                key: login.to_string(),
            });
        }
        web::delete_tokens(conn, login).await?;
        // Whoever holds a session with the old password is logged out, on every server.
        sessions::delete_user_sessions(conn, login).await?;
        if let Some(actor) = actor {
            audit::record(
                conn,
                &AuditRecord {
                    actor,
                    action: "set_password",
                    entity: "user",
                    key: login,
                    before: None,
                    after: None,
                },
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Creates (`create`) or updates one user account with its audit row
    /// (`insert_user` / `update_user`, before and after without the hash) in
    /// one transaction. A new account must not exist yet; an update keeps
    /// the stored password unless `u.password_hash` is given. Deactivation
    /// revokes the user's API token in the same transaction.
    pub async fn save_user(&self, u: &User, create: bool, actor: &str) -> Result<()> {
        let mut tx = self.begin().await?;
        let conn = &mut tx.conn();
        let before = read::user(conn, &u.login).await?;
        match (&before, create) {
            (Some(_), true) => {
                return Err(StoreError::InvalidData {
                    entity: Entity::User,
                    key: u.login.clone(),
                    message: "このログインIDは既に使われています / this login name is taken".into(),
                });
            }
            (None, false) => {
                return Err(StoreError::NotFound {
                    entity: Entity::User,
                    key: u.login.clone(),
                });
            }
            _ => {}
        }
        write::user(conn, u).await?;
        audit::record(
            conn,
            &AuditRecord {
                actor,
                action: if create { "insert_user" } else { "update_user" },
                entity: "user",
                key: &u.login,
                before: before.as_ref().and_then(|b| serde_json::to_value(b).ok()),
                after: serde_json::to_value(u).ok(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The stored PHC hash; `Ok(None)` for a user without a password,
    /// `NotFound` for an unknown login.
    pub async fn user_password_hash(&self, login: &str) -> Result<Option<String>> {
        let mut pooled = self.read_conn().await?;
        let conn = &mut pooled.conn();
        let row: Option<Option<String>> = run!(
            conn,
            sqlx::query_scalar::<_, Option<String>>(
                "SELECT password_hash FROM users WHERE login = $1"
            )
            .bind(login),
            fetch_optional
        )?;
        row.ok_or_else(|| StoreError::NotFound {
            entity: Entity::User,
            key: login.to_string(),
        })
    }

    // ----- audit -----

    /// Writes one audit row in its own transaction; returns its id.
    pub async fn record_audit(&self, record: &AuditRecord<'_>) -> Result<i64> {
        let mut tx = self.begin().await?;
        let id = audit::record(&mut tx.conn(), record).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Audit rows, newest first.
    pub async fn audit_entries(&self, limit: i64, offset: i64) -> Result<Vec<AuditEntry>> {
        audit::entries(&mut self.read_conn().await?.conn(), limit, offset).await
    }

    /// Audit rows matching a filter, newest first.
    pub async fn audit_search(
        &self,
        filter: &AuditFilter,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<AuditEntry>> {
        audit::search(&mut self.read_conn().await?.conn(), filter, limit, offset).await
    }

    /// The logins and kinds of record in the audit log, without the hidden kinds.
    pub async fn audit_facets(
        &self,
        hidden_entities: &[String],
    ) -> Result<(Vec<String>, Vec<String>)> {
        audit::facets(&mut self.read_conn().await?.conn(), hidden_entities).await
    }
}

/// One versioned observation save inside the caller's transaction.
async fn save_observation(
    conn: &mut Conn<'_>,
    obs: &Observation,
    expected_version: Option<i64>,
    actor: &str,
) -> Result<Saved> {
    let key = codec::observation_key(&obs.kpi_code, obs.period, &obs.area_code);
    let period = obs.period.to_string();
    let kpi_id = kpi_id_of(conn, &obs.kpi_code, &key).await?;
    let stored = read::observation_versioned(conn, kpi_id, &period, &obs.area_code).await?;
    let found = stored.as_ref().map_or(0, |(_, v)| *v);
    check_version(Entity::Observation, &key, expected_version, found)?;
    if let Some((old, version)) = &stored
        && old.same_figure(obs)
        && (old.is_confirmed() || !obs.is_confirmed())
    {
        return Ok(Saved {
            change: Change::Unchanged,
            version: *version,
        });
    }
    let guard = stored.as_ref().map(|(_, v)| *v);
    if !observations::write_one_if_version(conn, obs, kpi_id, guard).await? {
        let now = read::observation_versioned(conn, kpi_id, &period, &obs.area_code)
            .await?
            .map_or(0, |(_, v)| v);
        return Err(StoreError::Conflict {
            entity: Entity::Observation,
            key,
            expected: found,
            found: now,
        });
    }
    let saved = match guard {
        Some(v) => Saved {
            change: Change::Updated,
            version: v + 1,
        },
        None => Saved {
            change: Change::Inserted,
            version: 1,
        },
    };
    audit_change(
        conn,
        actor,
        saved.change,
        Entity::Observation,
        &key,
        stored.as_ref().map(|(o, _)| o),
        Some(obs),
    )
    .await?;
    Ok(saved)
}

/// The id of the KPI `code`, or the missing-reference error of the observation `key`.
async fn kpi_id_of(conn: &mut Conn<'_>, code: &str, key: &str) -> Result<i64> {
    let id: Option<i64> = run!(
        conn,
        sqlx::query_scalar::<_, i64>("SELECT id FROM kpis WHERE code = $1").bind(code),
        fetch_optional
    )?;
    id.ok_or_else(|| StoreError::MissingReference {
        entity: Entity::Observation,
        key: key.to_string(),
        target: Entity::Kpi,
        target_key: code.to_string(),
    })
}

/// One actual to confirm: its key and the version the confirmer saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfirmItem {
    pub kpi_code: String,
    pub period: Period,
    pub area_code: String,
    pub version: i64,
}

fn check_version(entity: Entity, key: &str, expected: Option<i64>, found: i64) -> Result<()> {
    match expected {
        Some(expected) if expected != found => Err(StoreError::Conflict {
            entity,
            key: key.to_string(),
            expected,
            found,
        }),
        _ => Ok(()),
    }
}

/// The Conflict error for a guarded write that matched no row: someone saved
/// between our read and our write.
async fn conflict_now(conn: &mut Conn<'_>, entity: Entity, key: &str, expected: i64) -> StoreError {
    let sql = match entity {
        Entity::Kpi => "SELECT version FROM kpis WHERE code = $1",
        _ => "SELECT version FROM programs WHERE code = $1",
    };
    let found: Option<i64> = run!(
        conn,
        sqlx::query_scalar::<_, i64>(sql).bind(key),
        fetch_optional
    )
    .unwrap_or(None);
    StoreError::Conflict {
        entity,
        key: key.to_string(),
        expected,
        found: found.unwrap_or(0),
    }
}

async fn check_section(
    conn: &mut Conn<'_>,
    entity: Entity,
    key: &str,
    section: &str,
) -> Result<()> {
    let n: i64 = run!(
        conn,
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM sections WHERE code = $1").bind(section),
        fetch_one
    )?;
    if n == 0 {
        return Err(StoreError::MissingReference {
            entity,
            key: key.to_string(),
            target: Entity::Section,
            target_key: section.to_string(),
        });
    }
    Ok(())
}

async fn audit_change<T: serde::Serialize>(
    conn: &mut Conn<'_>,
    actor: &str,
    change: Change,
    entity: Entity,
    key: &str,
    before: Option<&T>,
    after: Option<&T>,
) -> Result<i64> {
    let action = match change {
        Change::Inserted => "insert",
        Change::Updated => "update",
        Change::Unchanged => "unchanged",
    };
    let record = AuditRecord {
        actor,
        action,
        entity: entity.as_str(),
        key,
        before: before.and_then(|b| serde_json::to_value(b).ok()),
        after: after.and_then(|a| serde_json::to_value(a).ok()),
    };
    audit::record(conn, &record).await
}

/// The target without its password, for error messages.
fn redact(target: &str) -> String {
    match (target.find("://"), target.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &target[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => {
                    format!("{}{user}:***{}", &target[..scheme_end + 3], &target[at..])
                }
                None => target.to_string(),
            }
        }
        _ => target.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_hides_passwords_only() {
        assert_eq!(
            redact("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("/var/lib/citykpi.db"), "/var/lib/citykpi.db");
    }
}
