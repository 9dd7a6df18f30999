//! Streaming load of observations: batches are written into one open
//! transaction as they are read, so memory stays flat however long the file.
//!
//! * SQLite, empty table: a plain INSERT per row straight into
//!   `observations` (its primary key catches a key given twice in the file).
//!   Otherwise the rows go into a temporary table with the same key (on
//!   disk: `temp_store = FILE`), which is merged with one
//!   `INSERT … SELECT … ON CONFLICT` at the end.
//! * PostgreSQL, empty table: one COPY straight into the table with its
//!   primary key dropped, rebuilt at the end (a key given twice fails the
//!   rebuild). Otherwise one COPY into a staging table, keyed at the end,
//!   then the same upsert as the bulk path.
//!
//! A key given twice is not an error of the store: [`PendingLoad::duplicates`]
//! lists such keys (capped) so that the caller can name the file's rows; the
//! load is then never committed. Nothing is written until
//! [`PendingLoad::commit`]; dropping a [`PendingLoad`] closes its connection,
//! which rolls the transaction back.

use std::collections::HashMap;

use citykpi_domain::observation::Observation;
use futures::{Stream, StreamExt};
use sqlx::{Connection, PgConnection, SqliteConnection};

use crate::audit::{self, AuditRecord};
use crate::codec::{observation_key, period_sort_key};
use crate::conn::Conn;
use crate::error::{Entity, Result, StoreError};
use crate::observations::{
    COLUMNS, Row, copy_load, counted, not_finite, sqlite_raw, upsert_tail_with,
};
use crate::{ApplySummary, Counts, Db, Store};

/// Most duplicated keys reported (the io crate keeps at most this many problems).
const MAX_DUPLICATES: usize = 1000;

/// A key given more than once in the load: (KPI code, period, area code).
pub type LoadKey = (String, String, String);

/// A load written into an open transaction, not committed yet.
pub struct PendingLoad {
    conn: LoadConn,
    /// What committing writes.
    pub counts: Counts,
    /// Stored real values the load replaces with 欠測 or 秘匿.
    pub replaced_with_missing: u64,
    /// Keys given more than once (at most [`MAX_DUPLICATES`]); a load with
    /// any cannot be committed.
    pub duplicates: Vec<LoadKey>,
}

enum LoadConn {
    Sqlite(SqliteConnection),
    Pg(PgConnection),
}

impl LoadConn {
    fn conn(&mut self) -> Conn<'_> {
        match self {
            LoadConn::Sqlite(c) => Conn::Sqlite(c),
            LoadConn::Pg(c) => Conn::Pg(c),
        }
    }
}

impl PendingLoad {
    /// Commits the load with one audit row (as `Store::apply` records).
    pub async fn commit(mut self, actor: &str) -> Result<ApplySummary> {
        if let Some((kpi, period, area)) = self.duplicates.first() {
            return Err(StoreError::invalid(
                Entity::Observation,
                format!("{kpi}/{period}/{area}"),
                "the load gives this key more than once",
            ));
        }
        let summary = ApplySummary {
            observations: self.counts,
            ..ApplySummary::default()
        };
        let record = AuditRecord {
            actor,
            action: "apply",
            entity: Entity::Dataset.as_str(),
            key: "",
            before: None,
            after: Some(serde_json::to_value(&summary).unwrap_or_default()),
        };
        audit::record(&mut self.conn.conn(), &record).await?;
        match &mut self.conn {
            LoadConn::Sqlite(c) => {
                sqlx::query("COMMIT").execute(&mut *c).await?;
            }
            LoadConn::Pg(c) => {
                sqlx::query("COMMIT").execute(&mut *c).await?;
            }
        }
        Ok(summary)
    }

    /// Leaves nothing written (the same as dropping it, said explicitly).
    pub async fn rollback(self) {
        let conn = self.conn;
        match conn {
            LoadConn::Sqlite(c) => {
                let _ = c.close().await;
            }
            LoadConn::Pg(c) => {
                let _ = c.close().await;
            }
        }
    }
}

impl Store {
    /// Writes the observations of `batches` into one transaction as they
    /// arrive and returns it uncommitted, with what committing would write.
    /// Every KPI code must exist (the caller checked them against
    /// `known_keys`); a value must be finite. The connection is taken out of
    /// the pool for the load and closed after it (its page cache is set small
    /// and its temporary tables on disk, so memory does not grow with the load).
    pub async fn load_observations<S>(&self, batches: S) -> Result<PendingLoad>
    where
        S: Stream<Item = Vec<Observation>> + Unpin,
    {
        match &*self.db {
            Db::Sqlite(pool) => {
                let mut c = pool.acquire().await?.detach();
                for pragma in [
                    "PRAGMA cache_size = -8192",
                    "PRAGMA temp_store = FILE",
                    "PRAGMA mmap_size = 0",
                ] {
                    sqlx::query(pragma).execute(&mut c).await?;
                }
                sqlx::query("BEGIN IMMEDIATE").execute(&mut c).await?;
                let mut conn = LoadConn::Sqlite(c);
                let (counts, replaced, duplicates) = load_sqlite(&mut conn, batches).await?;
                Ok(PendingLoad {
                    conn,
                    counts,
                    replaced_with_missing: replaced,
                    duplicates,
                })
            }
            Db::Postgres(pool) => {
                let mut c = pool.acquire().await?.detach();
                sqlx::query("BEGIN").execute(&mut c).await?;
                let (counts, replaced, duplicates) = load_pg(&mut c, batches).await?;
                Ok(PendingLoad {
                    conn: LoadConn::Pg(c),
                    counts,
                    replaced_with_missing: replaced,
                    duplicates,
                })
            }
        }
    }
}

/// Resolves a batch to rows (KPI id, period key), sorted by key so that
/// neighbouring rows land in neighbouring pages.
fn resolve<'a>(batch: &'a [Observation], kpi_ids: &HashMap<String, i64>) -> Result<Vec<Row<'a>>> {
    let mut rows = Vec::with_capacity(batch.len());
    for obs in batch {
        let Some(&kpi_id) = kpi_ids.get(&obs.kpi_code) else {
            return Err(StoreError::MissingReference {
                entity: Entity::Observation,
                key: observation_key(&obs.kpi_code, obs.period, &obs.area_code),
                target: Entity::Kpi,
                target_key: obs.kpi_code.clone(),
            });
        };
        if let Some(v) = obs.value.value().filter(|v| !v.is_finite()) {
            return Err(not_finite(obs, v));
        }
        rows.push(Row {
            kpi_id,
            period_key: period_sort_key(obs.period),
            period: obs.period,
            obs,
        });
    }
    rows.sort_by(|a, b| a.key().cmp(&b.key()));
    Ok(rows)
}

fn code_of(kpi_ids: &HashMap<String, i64>, id: i64) -> String {
    kpi_ids
        .iter()
        .find(|(_, v)| **v == id)
        .map(|(k, _)| k.clone())
        .unwrap_or_else(|| id.to_string())
}

/// Counts of a merge: (rows in the load, inserted, changed).
fn counts(total: u64, inserted: u64, changed: u64) -> Counts {
    Counts {
        inserted,
        updated: changed.saturating_sub(inserted),
        unchanged: total.saturating_sub(changed),
    }
}

/// Stored real values that rows of `load` (a table with the observation
/// columns) replace with 欠測 or 秘匿.
const REPLACED_SQL: &str = "SELECT COUNT(*) FROM {load} s JOIN observations o \
     ON o.kpi_id = s.kpi_id AND o.period = s.period AND o.area_code = s.area_code \
     WHERE s.value_kind <> 'value' AND o.value_kind = 'value'";

async fn load_sqlite<S>(conn: &mut LoadConn, mut batches: S) -> Result<(Counts, u64, Vec<LoadKey>)>
where
    S: Stream<Item = Vec<Observation>> + Unpin,
{
    let LoadConn::Sqlite(c) = conn else {
        return Err(StoreError::invalid(Entity::Observation, "", "needs SQLite"));
    };
    let mut cx = Conn::Sqlite(c);
    let kpi_ids = crate::read::kpi_ids(&mut cx).await?;
    let empty: bool = sqlx::query_scalar("SELECT NOT EXISTS (SELECT 1 FROM observations)")
        .fetch_one(&mut *c)
        .await?;
    let target = if empty {
        "observations"
    } else {
        "temp.observations_load"
    };
    if !empty {
        sqlx::query(
            "CREATE TEMP TABLE observations_load (kpi_id INTEGER NOT NULL, period TEXT NOT NULL, \
             area_code TEXT NOT NULL, fiscal_year INTEGER NOT NULL, value REAL, value_kind TEXT NOT NULL, \
             status TEXT NOT NULL, source TEXT NOT NULL, note TEXT NOT NULL, entered_by TEXT NOT NULL, \
             entered_at TEXT NOT NULL, confirmed_by TEXT NOT NULL, confirmed_at TEXT NOT NULL, \
             PRIMARY KEY (kpi_id, period, area_code)) WITHOUT ROWID",
        )
        .execute(&mut *c)
        .await?;
    }
    let sql = format!(
        "INSERT INTO {target} ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
    );
    let mut written = 0_u64;
    let mut duplicates: Vec<LoadKey> = Vec::new();
    while let Some(batch) = batches.next().await {
        let rows = resolve(&batch, &kpi_ids)?;
        let (n, dups) = sqlite_raw::insert_each(c, &sql, &rows).await?;
        written += n;
        for r in dups {
            if duplicates.len() < MAX_DUPLICATES {
                duplicates.push((
                    r.obs.kpi_code.clone(),
                    r.period.to_string(),
                    r.obs.area_code.clone(),
                ));
            }
        }
    }
    if empty || !duplicates.is_empty() {
        return Ok((counts(written, written, written), 0, duplicates));
    }
    let replaced: i64 =
        sqlx::query_scalar(&REPLACED_SQL.replace("{load}", "temp.observations_load"))
            .fetch_one(&mut *c)
            .await?;
    let before: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM observations")
        .fetch_one(&mut *c)
        .await?;
    // `WHERE true` tells SQLite's parser that ON CONFLICT belongs to the INSERT.
    let changed = sqlx::query(&format!(
        "INSERT INTO observations ({COLUMNS}) SELECT {COLUMNS} FROM temp.observations_load WHERE true{}",
        upsert_tail_with("IS NOT")
    ))
    .execute(&mut *c)
    .await?
    .rows_affected();
    let after: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM observations")
        .fetch_one(&mut *c)
        .await?;
    sqlx::query("DROP TABLE temp.observations_load")
        .execute(&mut *c)
        .await?;
    let inserted = u64::try_from(after - before).unwrap_or(0);
    Ok((
        counts(written, inserted, changed),
        u64::try_from(replaced).unwrap_or(0),
        duplicates,
    ))
}

async fn load_pg<S>(pg: &mut PgConnection, mut batches: S) -> Result<(Counts, u64, Vec<LoadKey>)>
where
    S: Stream<Item = Vec<Observation>> + Unpin,
{
    let kpi_ids = crate::read::kpi_ids(&mut Conn::Pg(pg)).await?;
    let empty: bool = sqlx::query_scalar("SELECT NOT EXISTS (SELECT 1 FROM observations)")
        .fetch_one(&mut *pg)
        .await?;
    let target = if empty {
        sqlx::query("ALTER TABLE observations DROP CONSTRAINT observations_pkey")
            .execute(&mut *pg)
            .await?;
        "observations"
    } else {
        sqlx::query(
            "CREATE TEMP TABLE observations_stage (LIKE observations INCLUDING DEFAULTS) ON COMMIT DROP",
        )
        .execute(&mut *pg)
        .await?;
        "observations_stage"
    };
    let mut copy = copy_load::Copy::start(pg, target).await?;
    while let Some(batch) = batches.next().await {
        let rows = resolve(&batch, &kpi_ids)?;
        copy.rows(&rows).await?;
    }
    let written = copy.finish().await?;
    // The key, built once; a key given twice fails it, and the duplicated
    // keys are then listed instead.
    let key_sql = if empty {
        "ALTER TABLE observations ADD CONSTRAINT observations_pkey PRIMARY KEY (kpi_id, period, area_code)"
    } else {
        "ALTER TABLE observations_stage ADD PRIMARY KEY (kpi_id, period, area_code)"
    };
    sqlx::query("SAVEPOINT load_key").execute(&mut *pg).await?;
    if let Err(e) = sqlx::query(key_sql).execute(&mut *pg).await {
        let unique = e
            .as_database_error()
            .and_then(|d| d.code())
            .is_some_and(|c| c == "23505");
        if !unique {
            return Err(e.into());
        }
        sqlx::query("ROLLBACK TO SAVEPOINT load_key")
            .execute(&mut *pg)
            .await?;
        let dups: Vec<(i64, String, String)> = sqlx::query_as(&format!(
            "SELECT kpi_id, period, area_code FROM {target} GROUP BY kpi_id, period, area_code \
             HAVING COUNT(*) > 1 ORDER BY 1, 2, 3 LIMIT {MAX_DUPLICATES}"
        ))
        .fetch_all(&mut *pg)
        .await?;
        let duplicates = dups
            .into_iter()
            .map(|(id, p, a)| (code_of(&kpi_ids, id), p, a))
            .collect();
        return Ok((counts(written, written, written), 0, duplicates));
    }
    if empty {
        return Ok((counts(written, written, written), 0, Vec::new()));
    }
    sqlx::query("ANALYZE observations_stage")
        .execute(&mut *pg)
        .await?;
    let replaced: i64 = sqlx::query_scalar(&REPLACED_SQL.replace("{load}", "observations_stage"))
        .fetch_one(&mut *pg)
        .await?;
    let sql = counted(&format!(
        "INSERT INTO observations ({COLUMNS}) SELECT {COLUMNS} FROM observations_stage{}",
        upsert_tail_with("IS DISTINCT FROM")
    ));
    let (inserted, changed): (i64, i64) = sqlx::query_as(&sql).fetch_one(&mut *pg).await?;
    sqlx::query("DROP TABLE observations_stage")
        .execute(&mut *pg)
        .await?;
    Ok((
        counts(
            written,
            u64::try_from(inserted).unwrap_or(0),
            u64::try_from(changed).unwrap_or(0),
        ),
        u64::try_from(replaced).unwrap_or(0),
        Vec::new(),
    ))
}
