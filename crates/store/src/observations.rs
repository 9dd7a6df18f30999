//! The bulk path for observations: codes are resolved to KPI ids in Rust, rows
//! are sorted by the primary key (so the B-tree grows by appends) and
//! de-duplicated (last one wins), then written with one prepared upsert
//! stepped per row through SQLite's C API, or with COPY (PostgreSQL).

use std::collections::HashMap;
use std::fmt::Write as _;

use citykpi_domain::observation::{Observation, Period};

use sqlx::PgConnection;

use crate::Counts;
use crate::codec::{observation_key, period_sort_key, value_columns};
use crate::conn::{Conn, run};
use crate::error::{Entity, Result, StoreError};

pub(crate) const COLUMNS: &str = "kpi_id, period, area_code, fiscal_year, value, value_kind, status, source, \
                       note, entered_by, entered_at, confirmed_by, confirmed_at";
const COLUMN_COUNT: usize = 13;
/// Rows per many-row INSERT on PostgreSQL (at most 65535 parameters).
const ROWS_PER_STATEMENT: usize = 32766 / COLUMN_COUNT;
/// Below this many rows PostgreSQL uses the INSERT path too: COPY's fixed
/// cost (temporary table, extra round trips) only pays off for bulk loads.
const PG_COPY_MIN_ROWS: usize = 2_000;
const COPY_BUFFER_BYTES: usize = 1 << 20;

#[derive(Clone, Copy)]
pub(crate) struct Row<'a> {
    pub(crate) kpi_id: i64,
    pub(crate) period_key: u32,
    pub(crate) period: Period,
    pub(crate) obs: &'a Observation,
}

impl Row<'_> {
    pub(crate) fn key(&self) -> (i64, u32, &str) {
        (self.kpi_id, self.period_key, self.obs.area_code.as_str())
    }
}

/// Who confirmed the figure and when: written with it (a changed figure
/// loaded by someone who may not confirm is unconfirmed again), but not
/// compared, so that loading the same figures again changes nothing.
const CONFIRMATION_COLUMNS: [&str; 2] = ["confirmed_by", "confirmed_at"];

fn upsert_tail(conn: &Conn<'_>) -> String {
    upsert_tail_with(conn.is_distinct())
}

/// The columns that are not part of the key and make the figure: a row
/// differs from the stored one when one of these does.
const VALUE_COLUMNS: [&str; 8] = [
    "fiscal_year",
    "value",
    "value_kind",
    "status",
    "source",
    "note",
    "entered_by",
    "entered_at",
];

pub(crate) fn upsert_tail_with(d: &str) -> String {
    let mut changed: Vec<String> = VALUE_COLUMNS
        .iter()
        .map(|c| format!("observations.{c} {d} excluded.{c}"))
        .collect();
    // The same figure, unconfirmed, loaded by someone who confirms it.
    changed.push("(observations.confirmed_by = '' AND excluded.confirmed_by <> '')".into());
    let mut set: Vec<String> = VALUE_COLUMNS
        .iter()
        .chain(&CONFIRMATION_COLUMNS)
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    set.push("version = observations.version + 1".into());
    // The WHERE leaves identical rows alone, so that rows_affected counts real changes.
    format!(
        " ON CONFLICT (kpi_id, period, area_code) DO UPDATE SET {} WHERE {}",
        set.join(", "),
        changed.join(" OR ")
    )
}

/// `INSERT … VALUES ($1, …),(…) …` for `rows` rows (PostgreSQL; SQLite goes
/// through `sqlite_raw`).
fn values_sql(rows: usize, tail: &str) -> String {
    let mut sql = format!("INSERT INTO observations ({COLUMNS}) VALUES ");
    for r in 0..rows {
        if r > 0 {
            sql.push(',');
        }
        sql.push('(');
        for c in 0..COLUMN_COUNT {
            if c > 0 {
                sql.push(',');
            }
            let _ = write!(sql, "${}", r * COLUMN_COUNT + c + 1);
        }
        sql.push(')');
    }
    sql.push_str(tail);
    sql
}

async fn count(conn: &mut Conn<'_>) -> Result<i64> {
    Ok(run!(
        conn,
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM observations"),
        fetch_one
    )?)
}

pub(crate) fn not_finite(obs: &Observation, v: f64) -> StoreError {
    StoreError::invalid(
        Entity::Observation,
        observation_key(&obs.kpi_code, obs.period, &obs.area_code),
        format!("value {v} is not a finite number"),
    )
}

/// Upserts observations by (KPI, period, area). `kpi_ids` maps every known KPI code to its id.
pub(crate) async fn write(
    conn: &mut Conn<'_>,
    observations: &[Observation],
    kpi_ids: &HashMap<String, i64>,
) -> Result<Counts> {
    if observations.is_empty() {
        return Ok(Counts::default());
    }
    let mut rows = Vec::with_capacity(observations.len());
    for obs in observations {
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
    // Stable sort, then keep the last of equal keys: a later row in the input wins.
    rows.sort_by(|a, b| a.key().cmp(&b.key()));
    let mut unique: Vec<Row<'_>> = Vec::with_capacity(rows.len());
    for row in rows {
        match unique.last_mut() {
            Some(last) if last.key() == row.key() => *last = row,
            _ => unique.push(row),
        }
    }
    let total = unique.len() as u64;

    let (inserted, changed) = match conn {
        Conn::Sqlite(_) => {
            // The write lock is ours (BEGIN IMMEDIATE), so counting before and after is exact.
            let before = count(conn).await?;
            let Conn::Sqlite(c) = conn else {
                unreachable!("matched above")
            };
            let changed = sqlite_raw::upsert(c, &unique, before == 0).await?;
            let inserted = if before == 0 {
                changed
            } else {
                u64::try_from(count(conn).await? - before).unwrap_or(0)
            };
            (inserted, changed)
        }
        Conn::Pg(_) if unique.len() >= PG_COPY_MIN_ROWS => copy_pg(conn, &unique).await?,
        Conn::Pg(_) => {
            let mut sum = (0, 0);
            for chunk in unique.chunks(ROWS_PER_STATEMENT) {
                let (i, c) = insert_values_pg(conn, chunk).await?;
                sum = (sum.0 + i, sum.1 + c);
            }
            sum
        }
    };
    let updated = changed.saturating_sub(inserted);
    Ok(Counts {
        inserted,
        updated,
        unchanged: total.saturating_sub(changed),
    })
}

macro_rules! bind_observation {
    ($q:expr, $kpi_id:expr, $period:expr, $o:expr) => {{
        let (value, kind) = value_columns($o.value);
        $q.bind($kpi_id)
            .bind($period)
            .bind($o.area_code.as_str())
            .bind(i64::from($o.period.fiscal_year().year()))
            .bind(value)
            .bind(kind)
            .bind($o.status.as_str())
            .bind($o.source.as_str())
            .bind($o.note.as_str())
            .bind($o.entered_by.as_str())
            .bind($o.entered_at.as_str())
            .bind($o.confirmed_by.as_str())
            .bind($o.confirmed_at.as_str())
    }};
}

/// Writes one observation only if the stored row is still at `version`
/// (`None`: only if no row is stored yet); returns whether it was written.
/// A write bumps the version, so a concurrent save between our read and
/// this write makes this one match no row instead of overwriting it.
pub(crate) async fn write_one_if_version(
    conn: &mut Conn<'_>,
    obs: &Observation,
    kpi_id: i64,
    version: Option<i64>,
) -> Result<bool> {
    if let Some(v) = obs.value.value().filter(|v| !v.is_finite()) {
        return Err(not_finite(obs, v));
    }
    let key = observation_key(&obs.kpi_code, obs.period, &obs.area_code);
    let period = obs.period.to_string();
    let done = match version {
        None => {
            let sql = format!(
                "INSERT INTO observations ({COLUMNS}) VALUES \
                 ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
                 ON CONFLICT (kpi_id, period, area_code) DO NOTHING"
            );
            run!(
                conn,
                bind_observation!(sqlx::query(&sql), kpi_id, period.as_str(), obs),
                execute
            )
        }
        Some(v) => {
            let sql = "UPDATE observations SET fiscal_year = $4, value = $5, value_kind = $6, \
                       status = $7, source = $8, note = $9, entered_by = $10, entered_at = $11, \
                       confirmed_by = $12, confirmed_at = $13, version = version + 1 \
                       WHERE kpi_id = $1 AND period = $2 AND area_code = $3 AND version = $14";
            run!(
                conn,
                bind_observation!(sqlx::query(sql), kpi_id, period.as_str(), obs).bind(v),
                execute
            )
        }
    }
    .map_err(StoreError::write(Entity::Observation, key))?;
    Ok(done == 1)
}

/// Marks one stored, unconfirmed observation at `version` as confirmed by
/// `actor` at `at`; returns whether a row was confirmed.
pub(crate) async fn confirm_if_version(
    conn: &mut Conn<'_>,
    kpi_id: i64,
    period: &str,
    area_code: &str,
    version: i64,
    (actor, at): (&str, &str),
) -> Result<bool> {
    let done = run!(
        conn,
        sqlx::query(
            "UPDATE observations SET confirmed_by = $1, confirmed_at = $2, version = version + 1 \
             WHERE kpi_id = $3 AND period = $4 AND area_code = $5 AND version = $6 \
             AND confirmed_by = ''"
        )
        .bind(actor)
        .bind(at)
        .bind(kpi_id)
        .bind(period)
        .bind(area_code)
        .bind(version),
        execute
    )
    .map_err(StoreError::write(Entity::Observation, period))?;
    Ok(done == 1)
}

/// Wraps an upsert so that it reports (inserted, changed): `xmax = 0` marks
/// a freshly inserted row, and rows left alone by the WHERE are not returned.
pub(crate) fn counted(upsert: &str) -> String {
    format!(
        "WITH up AS ({upsert} RETURNING (xmax = 0) AS inserted) \
         SELECT COUNT(*) FILTER (WHERE inserted) AS inserted, COUNT(*) AS changed FROM up"
    )
}

/// One many-row INSERT … ON CONFLICT statement (PostgreSQL); returns (inserted, changed).
async fn insert_values_pg(conn: &mut Conn<'_>, chunk: &[Row<'_>]) -> Result<(u64, u64)> {
    let sql = counted(&values_sql(chunk.len(), &upsert_tail(conn)));
    let Conn::Pg(pg) = conn else {
        return Err(StoreError::invalid(
            Entity::Observation,
            "",
            "this path needs PostgreSQL",
        ));
    };
    let mut q = sqlx::query_as::<_, (i64, i64)>(&sql);
    for r in chunk {
        let o = r.obs;
        let (value, kind) = value_columns(o.value);
        q = q
            .bind(r.kpi_id)
            .bind(r.period.to_string())
            .bind(o.area_code.as_str())
            .bind(i64::from(r.period.fiscal_year().year()))
            .bind(value)
            .bind(kind)
            .bind(o.status.as_str())
            .bind(o.source.as_str())
            .bind(o.note.as_str())
            .bind(o.entered_by.as_str())
            .bind(o.entered_at.as_str())
            .bind(o.confirmed_by.as_str())
            .bind(o.confirmed_at.as_str());
    }
    let (inserted, changed) = q.fetch_one(&mut **pg).await.map_err(|e| match chunk {
        [r] => StoreError::Write {
            entity: Entity::Observation,
            key: observation_key(&r.obs.kpi_code, r.period, &r.obs.area_code),
            source: e,
        },
        _ => StoreError::Database(e),
    })?;
    Ok((inserted.max(0) as u64, changed.max(0) as u64))
}

/// COPY's binary format: a fixed header, then per row a field count and
/// each field as a length-prefixed big-endian value. The server then parses
/// no numbers and the client escapes no text.
const COPY_BINARY_HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";
const COPY_BINARY_TRAILER: &[u8] = &(-1_i16).to_be_bytes();

fn copy_bytes(buf: &mut Vec<u8>, bytes: &[u8]) {
    // Field lengths are i32; a text longer than 2 GiB cannot reach here from a
    // parsed file, and saturating keeps the arithmetic total.
    let len = i32::try_from(bytes.len()).unwrap_or(i32::MAX);
    buf.extend_from_slice(&len.to_be_bytes());
    buf.extend_from_slice(bytes);
}

fn copy_row(buf: &mut Vec<u8>, r: &Row<'_>, period: &mut String) {
    let o = r.obs;
    let (value, kind) = value_columns(o.value);
    period.clear();
    let _ = write!(period, "{}", r.period);
    buf.extend_from_slice(&(COLUMN_COUNT as i16).to_be_bytes());
    copy_bytes(buf, &r.kpi_id.to_be_bytes());
    copy_bytes(buf, period.as_bytes());
    copy_bytes(buf, o.area_code.as_bytes());
    copy_bytes(buf, &i64::from(r.period.fiscal_year().year()).to_be_bytes());
    match value {
        Some(v) => copy_bytes(buf, &v.to_be_bytes()),
        None => buf.extend_from_slice(&(-1_i32).to_be_bytes()),
    }
    copy_bytes(buf, kind.as_bytes());
    copy_bytes(buf, o.status.as_str().as_bytes());
    copy_bytes(buf, o.source.as_bytes());
    copy_bytes(buf, o.note.as_bytes());
    copy_bytes(buf, o.entered_by.as_bytes());
    copy_bytes(buf, o.entered_at.as_bytes());
    copy_bytes(buf, o.confirmed_by.as_bytes());
    copy_bytes(buf, o.confirmed_at.as_bytes());
}

/// Streams `rows` to `COPY target` in the binary format; returns the rows copied.
async fn copy_into(pg: &mut PgConnection, target: &str, rows: &[Row<'_>]) -> Result<u64> {
    let mut copy = copy_load::Copy::start(pg, target).await?;
    copy.rows(rows).await?;
    copy.finish().await
}

/// One COPY … FROM STDIN in the binary format, fed with rows in as many
/// calls as the caller likes (the streaming load feeds it batch by batch).
pub(crate) mod copy_load {
    use sqlx::PgConnection;
    use sqlx::postgres::PgCopyIn;

    use super::{
        COLUMNS, COPY_BINARY_HEADER, COPY_BINARY_TRAILER, COPY_BUFFER_BYTES, Row, copy_row,
    };
    use crate::error::Result;

    pub(crate) struct Copy<'c> {
        copy: PgCopyIn<&'c mut PgConnection>,
        buf: Vec<u8>,
        period: String,
    }

    impl<'c> Copy<'c> {
        pub(crate) async fn start(pg: &'c mut PgConnection, target: &str) -> Result<Copy<'c>> {
            let statement = format!("COPY {target} ({COLUMNS}) FROM STDIN WITH (FORMAT binary)");
            let copy = pg.copy_in_raw(&statement).await?;
            let mut buf = Vec::with_capacity(COPY_BUFFER_BYTES + 4096);
            buf.extend_from_slice(COPY_BINARY_HEADER);
            Ok(Copy {
                copy,
                buf,
                period: String::with_capacity(8),
            })
        }

        pub(crate) async fn rows(&mut self, rows: &[Row<'_>]) -> Result<()> {
            for r in rows {
                copy_row(&mut self.buf, r, &mut self.period);
                if self.buf.len() >= COPY_BUFFER_BYTES {
                    self.copy.send(self.buf.as_slice()).await?;
                    self.buf.clear();
                }
            }
            Ok(())
        }

        /// Ends the COPY; returns the rows copied.
        pub(crate) async fn finish(mut self) -> Result<u64> {
            self.buf.extend_from_slice(COPY_BINARY_TRAILER);
            self.copy.send(self.buf.as_slice()).await?;
            Ok(self.copy.finish().await?)
        }
    }
}

type StoredRow = (
    i64,
    String,
    String,
    i64,
    Option<f64>,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
);

/// The rows that are new or differ from the stored ones. Both sides are in
/// key order (the stored side through the primary key, text in byte order
/// by COLLATE "C"), so one merge pass over a stream compares them without
/// holding the stored rows in memory. Re-importing an unchanged export then
/// costs one read instead of a million ON CONFLICT probes.
async fn differing_rows<'a>(pg: &mut PgConnection, rows: &[Row<'a>]) -> Result<Vec<Row<'a>>> {
    let (mut new, changed) = classify_rows(pg, rows).await?;
    new.extend(changed);
    Ok(new)
}

/// The rows whose key is not stored yet, and the stored ones whose values
/// differ (rows equal to the stored ones are left out), in one merge pass
/// like [`differing_rows`].
async fn classify_rows<'a>(
    pg: &mut PgConnection,
    rows: &[Row<'a>],
) -> Result<(Vec<Row<'a>>, Vec<Row<'a>>)> {
    use futures::TryStreamExt;
    let mut kpi_ids: Vec<i64> = rows.iter().map(|r| r.kpi_id).collect();
    kpi_ids.dedup();
    let mut stored = sqlx::query_as::<_, StoredRow>(
        "SELECT kpi_id, period, area_code, fiscal_year, value, value_kind, status, source, note, \
         entered_by, entered_at, confirmed_by FROM observations WHERE kpi_id = ANY($1) \
         ORDER BY kpi_id, period, area_code",
    )
    .bind(&kpi_ids)
    .fetch(&mut *pg);
    let mut current = stored.try_next().await?;
    let mut new = Vec::new();
    let mut changed = Vec::new();
    let mut period = String::with_capacity(8);
    for r in rows {
        period.clear();
        let _ = write!(period, "{}", r.period);
        let key = (r.kpi_id, period.as_str(), r.obs.area_code.as_str());
        while let Some(s) = &current {
            if (s.0, s.1.as_str(), s.2.as_str()) < key {
                current = stored.try_next().await?;
            } else {
                break;
            }
        }
        match &current {
            Some(s) if (s.0, s.1.as_str(), s.2.as_str()) == key => {
                let o = r.obs;
                let (value, kind) = value_columns(o.value);
                let same = s.3 == i64::from(r.period.fiscal_year().year())
                    && s.4 == value
                    && s.5 == kind
                    && s.6 == o.status.as_str()
                    && s.7 == o.source
                    && s.8 == o.note
                    && s.9 == o.entered_by
                    && s.10 == o.entered_at
                    && !(s.11.is_empty() && o.is_confirmed());
                if !same {
                    changed.push(*r);
                }
            }
            _ => new.push(*r),
        }
    }
    Ok((new, changed))
}

/// The PostgreSQL bulk path; returns (inserted, changed). Into an empty
/// table: COPY straight in with the primary key dropped and rebuilt
/// afterwards (one sorted index build instead of a million inserts into it).
/// Otherwise only the new or changed rows are written: COPY into a staging
/// table and one INSERT … SELECT … ON CONFLICT (a many-row INSERT for few).
async fn copy_pg(conn: &mut Conn<'_>, rows: &[Row<'_>]) -> Result<(u64, u64)> {
    let tail = upsert_tail(conn);
    let Conn::Pg(pg) = conn else {
        return Err(StoreError::invalid(
            Entity::Observation,
            "",
            "COPY needs PostgreSQL",
        ));
    };
    let empty: bool = sqlx::query_scalar("SELECT NOT EXISTS (SELECT 1 FROM observations)")
        .fetch_one(&mut **pg)
        .await?;
    if empty {
        sqlx::query("ALTER TABLE observations DROP CONSTRAINT observations_pkey")
            .execute(&mut **pg)
            .await?;
        let copied = copy_into(pg, "observations", rows).await?;
        // Rows were de-duplicated by key above, so rebuilding the key cannot fail.
        sqlx::query(
            "ALTER TABLE observations ADD CONSTRAINT observations_pkey PRIMARY KEY (kpi_id, period, area_code)",
        )
        .execute(&mut **pg)
        .await?;
        return Ok((copied, copied));
    }
    // A load at least as large as what is stored: merging with two joins and
    // building the key once beats a million probes of the key (measured:
    // ~3× on a table holding the demo city's actuals).
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM observations")
        .fetch_one(&mut **pg)
        .await?;
    if rows.len() as i64 >= stored {
        return merge_rebuilding_key(pg, rows).await;
    }
    let rows = differing_rows(pg, rows).await?;
    if rows.len() < PG_COPY_MIN_ROWS {
        let mut sum = (0, 0);
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            let (i, c) = insert_values_pg(&mut Conn::Pg(pg), chunk).await?;
            sum = (sum.0 + i, sum.1 + c);
        }
        return Ok(sum);
    }
    sqlx::query("CREATE TEMP TABLE observations_stage (LIKE observations INCLUDING DEFAULTS) ON COMMIT DROP")
        .execute(&mut **pg)
        .await?;
    copy_into(pg, "observations_stage", &rows).await?;
    // Measured against UPDATE … FROM + INSERT … WHERE NOT EXISTS with a big
    // work_mem: the joins were no faster than per-row ON CONFLICT here, and
    // this needs no table lock.
    let sql = counted(&format!(
        "INSERT INTO observations ({COLUMNS}) SELECT {COLUMNS} FROM observations_stage{tail}"
    ));
    let (inserted, changed): (i64, i64) = sqlx::query_as(&sql).fetch_one(&mut **pg).await?;
    sqlx::query("DROP TABLE observations_stage")
        .execute(&mut **pg)
        .await?;
    Ok((inserted.max(0) as u64, changed.max(0) as u64))
}

/// The bulk merge for a load as large as the table: one ordered read of the
/// stored rows sorts the load into new keys and changed values (client side,
/// as [`differing_rows`]); the changed rows go through a staging table and
/// one UPDATE … FROM (a hash join), the new ones are COPYed straight into the
/// table with its primary key dropped meanwhile and rebuilt once at the end —
/// no staging copy and no anti-join for the new rows, which are most of a
/// bulk load. Holds the table's exclusive lock until the import's
/// transaction commits, like the empty-table path.
async fn merge_rebuilding_key(pg: &mut PgConnection, rows: &[Row<'_>]) -> Result<(u64, u64)> {
    let (new, changed) = classify_rows(pg, rows).await?;
    let mut updated = 0;
    if !changed.is_empty() {
        sqlx::query(
            "CREATE TEMP TABLE observations_stage (LIKE observations INCLUDING DEFAULTS) ON COMMIT DROP",
        )
        .execute(&mut *pg)
        .await?;
        copy_into(pg, "observations_stage", &changed).await?;
        sqlx::query("ANALYZE observations_stage")
            .execute(&mut *pg)
            .await?;
        let key = "o.kpi_id = s.kpi_id AND o.period = s.period AND o.area_code = s.area_code";
        let mut set: Vec<String> = VALUE_COLUMNS
            .iter()
            .chain(&CONFIRMATION_COLUMNS)
            .map(|c| format!("{c} = s.{c}"))
            .collect();
        set.push("version = o.version + 1".into());
        updated = sqlx::query(&format!(
            "UPDATE observations o SET {} FROM observations_stage s WHERE {key}",
            set.join(", ")
        ))
        .execute(&mut *pg)
        .await?
        .rows_affected();
        sqlx::query("DROP TABLE observations_stage")
            .execute(&mut *pg)
            .await?;
    }
    let mut inserted = 0;
    if !new.is_empty() {
        sqlx::query("ALTER TABLE observations DROP CONSTRAINT observations_pkey")
            .execute(&mut *pg)
            .await?;
        inserted = copy_into(pg, "observations", &new).await?;
        // The load was de-duplicated by key and these keys are not stored,
        // so rebuilding the key cannot fail.
        sqlx::query(
            "ALTER TABLE observations ADD CONSTRAINT observations_pkey PRIMARY KEY (kpi_id, period, area_code)",
        )
        .execute(&mut *pg)
        .await?;
    }
    Ok((inserted, inserted + updated))
}

/// The SQLite path: one prepared single-row upsert stepped once per row
/// through the C API, with text bound in place (no copies). Going through
/// sqlx cost a boxed argument value and a copy per bound field, about three
/// times the work SQLite itself does per row.
pub(crate) mod sqlite_raw {
    use std::ffi::{CStr, c_char, c_int};
    use std::ptr;

    use libsqlite3_sys as ffi;
    use sqlx::SqliteConnection;

    use super::{COLUMNS, Row, upsert_tail_with};
    use crate::codec::{observation_key, value_columns};
    use crate::error::{Entity, Result, StoreError};

    struct Statement(*mut ffi::sqlite3_stmt);

    impl Drop for Statement {
        fn drop(&mut self) {
            // SAFETY: the pointer came from sqlite3_prepare_v2 and is finalised once, here.
            unsafe {
                ffi::sqlite3_finalize(self.0);
            }
        }
    }

    fn error(db: *mut ffi::sqlite3, code: c_int, key: String) -> StoreError {
        // SAFETY: db is a live connection handle; errmsg returns a NUL-terminated string owned by SQLite.
        let message = unsafe {
            let m = ffi::sqlite3_errmsg(db);
            if m.is_null() {
                String::new()
            } else {
                CStr::from_ptr(m).to_string_lossy().into_owned()
            }
        };
        StoreError::SqliteWrite {
            entity: Entity::Observation,
            key,
            code,
            message,
        }
    }

    /// `table_empty`: the rows are unique by key and the table holds none, so
    /// a plain INSERT does (it skips the conflict probe of an upsert).
    pub(super) async fn upsert(
        conn: &mut SqliteConnection,
        rows: &[Row<'_>],
        table_empty: bool,
    ) -> Result<u64> {
        let tail = if table_empty {
            String::new()
        } else {
            upsert_tail_with("IS NOT")
        };
        let sql = format!(
            "INSERT INTO observations ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13){tail}"
        );
        let mut handle = conn.lock_handle().await?;
        let db = handle.as_raw_handle().as_ptr();
        // The loop is synchronous CPU work of a second or more for a million
        // rows: keep it off the runtime's other tasks when the runtime allows.
        let work = || upsert_blocking(db, &sql, rows);
        match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
            Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(work),
            _ => work(),
        }
    }

    fn upsert_blocking(db: *mut ffi::sqlite3, sql: &str, rows: &[Row<'_>]) -> Result<u64> {
        step_each(db, sql, rows, false).map(|(changed, _)| changed)
    }

    /// Inserts each row with `sql` (a plain INSERT of the observation
    /// columns); a row whose key is already in the target is not an error
    /// but returned (the streaming load names such rows as duplicates).
    /// Returns (rows written, rows refused for their key).
    pub(crate) async fn insert_each<'a>(
        conn: &mut SqliteConnection,
        sql: &str,
        rows: &[Row<'a>],
    ) -> Result<(u64, Vec<Row<'a>>)> {
        let mut handle = conn.lock_handle().await?;
        let db = handle.as_raw_handle().as_ptr();
        let work = || step_each(db, sql, rows, true);
        match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
            Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(work),
            _ => work(),
        }
    }

    /// Steps one prepared statement per row; with `key_conflicts_returned`,
    /// primary-key conflicts are collected instead of ending the work.
    fn step_each<'a>(
        db: *mut ffi::sqlite3,
        sql: &str,
        rows: &[Row<'a>],
        key_conflicts_returned: bool,
    ) -> Result<(u64, Vec<Row<'a>>)> {
        let key = |r: &Row<'_>| observation_key(&r.obs.kpi_code, r.period, &r.obs.area_code);
        let mut raw: *mut ffi::sqlite3_stmt = ptr::null_mut();
        // SAFETY: db is the connection's handle, locked for us by LockedSqliteHandle;
        // sql is valid for its length.
        let rc = unsafe {
            ffi::sqlite3_prepare_v2(
                db,
                sql.as_ptr().cast::<c_char>(),
                sql.len() as c_int,
                &mut raw,
                ptr::null_mut(),
            )
        };
        if rc != ffi::SQLITE_OK || raw.is_null() {
            return Err(error(db, rc, String::new()));
        }
        let stmt = Statement(raw);
        let mut changed = 0_u64;
        let mut conflicts = Vec::new();
        let mut period = String::with_capacity(8);
        for r in rows {
            let o = r.obs;
            let (value, kind) = value_columns(o.value);
            period.clear();
            {
                use std::fmt::Write as _;
                let _ = write!(period, "{}", r.period);
            }
            let texts: [(c_int, &str); 10] = [
                (2, &period),
                (3, &o.area_code),
                (6, kind),
                (7, o.status.as_str()),
                (8, &o.source),
                (9, &o.note),
                (10, &o.entered_by),
                (11, &o.entered_at),
                (12, &o.confirmed_by),
                (13, &o.confirmed_at),
            ];
            // SAFETY: stmt is a live prepared statement. Texts are bound with
            // SQLITE_STATIC: every &str outlives the step below, after which the
            // statement is reset and rebound before any of them is touched again.
            let rc = unsafe {
                let s = stmt.0;
                let mut rc = ffi::sqlite3_bind_int64(s, 1, r.kpi_id);
                rc |= ffi::sqlite3_bind_int64(s, 4, i64::from(r.period.fiscal_year().year()));
                rc |= match value {
                    Some(v) => ffi::sqlite3_bind_double(s, 5, v),
                    None => ffi::sqlite3_bind_null(s, 5),
                };
                for (i, t) in texts {
                    rc |= ffi::sqlite3_bind_text64(
                        s,
                        i,
                        t.as_ptr().cast::<c_char>(),
                        t.len() as u64,
                        ffi::SQLITE_STATIC(),
                        ffi::SQLITE_UTF8 as u8,
                    );
                }
                if rc != ffi::SQLITE_OK {
                    rc
                } else {
                    let step = ffi::sqlite3_step(s);
                    ffi::sqlite3_reset(s);
                    if step == ffi::SQLITE_DONE {
                        ffi::SQLITE_OK
                    } else {
                        step
                    }
                }
            };
            if rc != ffi::SQLITE_OK {
                // SAFETY: db is live; the extended code is that of the step just failed.
                let extended = unsafe { ffi::sqlite3_extended_errcode(db) };
                if key_conflicts_returned && extended == ffi::SQLITE_CONSTRAINT_PRIMARYKEY {
                    conflicts.push(*r);
                    continue;
                }
                return Err(error(db, rc, key(r)));
            }
            // SAFETY: db is live; changes() reports the row count of the statement just stepped
            // (0 when the upsert's WHERE left an identical row alone).
            changed += unsafe { ffi::sqlite3_changes64(db) }.max(0) as u64;
        }
        drop(stmt);
        Ok((changed, conflicts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_binary_header_is_the_documented_signature() {
        // "PGCOPY\n\377\r\n\0", then flags (int32 0) and extension length (int32 0).
        assert_eq!(COPY_BINARY_HEADER.len(), 11 + 4 + 4);
        assert_eq!(&COPY_BINARY_HEADER[..11], b"PGCOPY\n\xff\r\n\0");
        let mut buf = Vec::new();
        copy_bytes(&mut buf, b"abc");
        assert_eq!(buf, [0, 0, 0, 3, b'a', b'b', b'c']);
    }

    #[test]
    fn values_sql_numbers_parameters_in_order() {
        let sql = values_sql(2, "");
        assert!(
            sql.ends_with("($14,$15,$16,$17,$18,$19,$20,$21,$22,$23,$24,$25,$26)"),
            "{sql}"
        );
        const { assert!(ROWS_PER_STATEMENT * COLUMN_COUNT <= 65535) };
    }
}
