//! The bulk path for observations: codes are resolved to KPI ids in Rust, rows
//! are sorted by the primary key (so the B-tree grows by appends) and
//! de-duplicated (last one wins), then written with many-row INSERT … ON
//! CONFLICT statements (SQLite) or COPY into a staging table (PostgreSQL).

use std::collections::HashMap;
use std::fmt::Write as _;

use citykpi_domain::observation::{Observation, Period};

use crate::Counts;
use crate::codec::{observation_key, period_sort_key, value_columns};
use crate::conn::{Conn, run};
use crate::error::{Entity, Result, StoreError};

const COLUMNS: &str = "kpi_id, period, area_code, fiscal_year, value, value_kind, status, source, \
                       note, entered_by, entered_at";
const COLUMN_COUNT: usize = 11;
/// SQLite accepts at most 32766 bound parameters per statement.
const ROWS_PER_STATEMENT: usize = 32766 / COLUMN_COUNT;
/// Below this many rows PostgreSQL uses the INSERT path too: COPY's fixed
/// cost (temporary table, extra round trips) only pays off for bulk loads.
const PG_COPY_MIN_ROWS: usize = 2_000;
const COPY_BUFFER_BYTES: usize = 1 << 20;

struct Row<'a> {
    kpi_id: i64,
    period_key: u32,
    period: Period,
    obs: &'a Observation,
}

impl Row<'_> {
    fn key(&self) -> (i64, u32, &str) {
        (self.kpi_id, self.period_key, self.obs.area_code.as_str())
    }
}

fn upsert_tail(conn: &Conn<'_>) -> String {
    let d = conn.is_distinct();
    let changed: Vec<String> = [
        "fiscal_year",
        "value",
        "value_kind",
        "status",
        "source",
        "note",
        "entered_by",
        "entered_at",
    ]
    .iter()
    .map(|c| format!("observations.{c} {d} excluded.{c}"))
    .collect();
    let set: Vec<String> = [
        "fiscal_year",
        "value",
        "value_kind",
        "status",
        "source",
        "note",
        "entered_by",
        "entered_at",
    ]
    .iter()
    .map(|c| format!("{c} = excluded.{c}"))
    .collect();
    // The WHERE leaves identical rows alone, so that rows_affected counts real changes.
    format!(
        " ON CONFLICT (kpi_id, period, area_code) DO UPDATE SET {} WHERE {}",
        set.join(", "),
        changed.join(" OR ")
    )
}

/// `INSERT … VALUES (…),(…) …` for `rows` rows. SQLite gets anonymous `?`
/// placeholders: looking up a numbered `$n` walks SQLite's list of parameter
/// names, which made binding 30,000 parameters quadratic (seconds per statement).
fn values_sql(rows: usize, tail: &str, numbered: bool) -> String {
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
            if numbered {
                let _ = write!(sql, "${}", r * COLUMN_COUNT + c + 1);
            } else {
                sql.push('?');
            }
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
        if let Some(v) = obs.value.value()
            && !v.is_finite()
        {
            return Err(StoreError::invalid(
                Entity::Observation,
                observation_key(&obs.kpi_code, obs.period, &obs.area_code),
                format!("value {v} is not a finite number"),
            ));
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

    let before = count(conn).await?;
    let changed = match conn {
        Conn::Pg(_) if unique.len() >= PG_COPY_MIN_ROWS => {
            copy_pg(conn, &unique, before == 0).await?
        }
        _ => insert_values(conn, &unique).await?,
    };
    let after = count(conn).await?;
    let inserted = u64::try_from(after - before).unwrap_or(0);
    let updated = changed.saturating_sub(inserted);
    Ok(Counts {
        inserted,
        updated,
        unchanged: (unique.len() as u64).saturating_sub(changed),
    })
}

/// Upserts one observation whose KPI id is known; returns whether a row was inserted or changed.
pub(crate) async fn write_one(conn: &mut Conn<'_>, obs: &Observation, kpi_id: i64) -> Result<bool> {
    if let Some(v) = obs.value.value()
        && !v.is_finite()
    {
        return Err(StoreError::invalid(
            Entity::Observation,
            observation_key(&obs.kpi_code, obs.period, &obs.area_code),
            format!("value {v} is not a finite number"),
        ));
    }
    let row = Row {
        kpi_id,
        period_key: period_sort_key(obs.period),
        period: obs.period,
        obs,
    };
    Ok(insert_values(conn, &[row]).await? == 1)
}

/// Many-row INSERT … ON CONFLICT statements; returns the rows inserted or changed.
async fn insert_values(conn: &mut Conn<'_>, rows: &[Row<'_>]) -> Result<u64> {
    let tail = upsert_tail(conn);
    let numbered = matches!(conn, Conn::Pg(_));
    let full_sql = values_sql(ROWS_PER_STATEMENT.min(rows.len()), &tail, numbered);
    let mut changed = 0;
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let partial_sql;
        let sql = if chunk.len() == ROWS_PER_STATEMENT.min(rows.len()) {
            &full_sql
        } else {
            partial_sql = values_sql(chunk.len(), &tail, numbered);
            &partial_sql
        };
        macro_rules! bound {
            ($q:expr) => {{
                let mut q = $q;
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
                        .bind(o.entered_at.as_str());
                }
                q
            }};
        }
        let done =
            run!(conn, bound!(sqlx::query(sql)), execute).map_err(|e| match chunk.first() {
                Some(r) if chunk.len() == 1 => StoreError::Write {
                    entity: Entity::Observation,
                    key: observation_key(&r.obs.kpi_code, r.period, &r.obs.area_code),
                    source: e,
                },
                _ => StoreError::Database(e),
            })?;
        changed += done;
    }
    Ok(changed)
}

/// Appends `s` in COPY text format: backslash, tab, newline and CR escaped.
fn copy_text(buf: &mut String, s: &str) {
    if !s.contains(['\\', '\t', '\n', '\r']) {
        buf.push_str(s);
        return;
    }
    for ch in s.chars() {
        match ch {
            '\\' => buf.push_str("\\\\"),
            '\t' => buf.push_str("\\t"),
            '\n' => buf.push_str("\\n"),
            '\r' => buf.push_str("\\r"),
            c => buf.push(c),
        }
    }
}

fn copy_line(buf: &mut String, r: &Row<'_>) {
    let o = r.obs;
    let (value, kind) = value_columns(o.value);
    let _ = write!(buf, "{}\t{}\t", r.kpi_id, r.period);
    copy_text(buf, &o.area_code);
    let _ = write!(buf, "\t{}\t", r.period.fiscal_year().year());
    match value {
        // Rust prints the shortest text that reads back to the same f64.
        Some(v) => {
            let _ = write!(buf, "{v:?}");
        }
        None => buf.push_str("\\N"),
    }
    buf.push('\t');
    buf.push_str(kind);
    buf.push('\t');
    buf.push_str(o.status.as_str());
    for text in [&o.source, &o.note, &o.entered_by, &o.entered_at] {
        buf.push('\t');
        copy_text(buf, text);
    }
    buf.push('\n');
}

/// COPY into a staging table and one INSERT … SELECT … ON CONFLICT; straight
/// into the table when it is empty. Returns the rows inserted or changed.
async fn copy_pg(conn: &mut Conn<'_>, rows: &[Row<'_>], table_empty: bool) -> Result<u64> {
    let Conn::Pg(pg) = conn else {
        return Err(StoreError::invalid(
            Entity::Observation,
            "",
            "COPY needs PostgreSQL",
        ));
    };
    let target = if table_empty {
        "observations"
    } else {
        sqlx::query(
            "CREATE TEMP TABLE observations_stage (LIKE observations INCLUDING DEFAULTS) ON COMMIT DROP",
        )
        .execute(&mut **pg)
        .await?;
        "observations_stage"
    };
    let mut copy = pg
        .copy_in_raw(&format!("COPY {target} ({COLUMNS}) FROM STDIN"))
        .await?;
    let mut buf = String::with_capacity(COPY_BUFFER_BYTES + 4096);
    for r in rows {
        copy_line(&mut buf, r);
        if buf.len() >= COPY_BUFFER_BYTES {
            copy.send(buf.as_bytes()).await?;
            buf.clear();
        }
    }
    if !buf.is_empty() {
        copy.send(buf.as_bytes()).await?;
    }
    let copied = copy.finish().await?;
    if table_empty {
        return Ok(copied);
    }
    let sql = format!(
        "INSERT INTO observations ({COLUMNS}) SELECT {COLUMNS} FROM observations_stage{}",
        upsert_tail(conn)
    );
    let Conn::Pg(pg) = conn else {
        return Err(StoreError::invalid(
            Entity::Observation,
            "",
            "COPY needs PostgreSQL",
        ));
    };
    let done = sqlx::query(&sql).execute(&mut **pg).await?;
    sqlx::query("DROP TABLE observations_stage")
        .execute(&mut **pg)
        .await?;
    Ok(done.rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_text_escapes_control_characters() {
        let mut buf = String::new();
        copy_text(&mut buf, "a\tb\\c\nd\re");
        assert_eq!(buf, "a\\tb\\\\c\\nd\\re");
        let mut buf = String::new();
        copy_text(&mut buf, "区役所");
        assert_eq!(buf, "区役所");
    }

    #[test]
    fn values_sql_numbers_parameters_in_order() {
        let sql = values_sql(2, "", true);
        assert!(
            sql.ends_with("($12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22)"),
            "{sql}"
        );
        let sql = values_sql(2, "", false);
        assert!(
            sql.ends_with("VALUES (?,?,?,?,?,?,?,?,?,?,?),(?,?,?,?,?,?,?,?,?,?,?)"),
            "{sql}"
        );
        const { assert!(ROWS_PER_STATEMENT * COLUMN_COUNT <= 32766) };
    }
}
