//! The audit log: who changed what, when, with the record before and after.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::conn::{Conn, run};
use crate::error::Result;

/// One row of the audit log. `before`/`after` are the records as JSON
/// (password hashes are never serialised, so they never reach the log).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: i64,
    /// RFC 3339 UTC, e.g. `2025-06-30T09:15:02.123Z`.
    pub at: String,
    pub actor: String,
    /// `insert`, `update`, `apply`, …
    pub action: String,
    /// `program`, `observation`, `dataset`, … (see `Entity::as_str`).
    pub entity: String,
    pub key: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

/// What to write into the audit log.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRecord<'a> {
    pub actor: &'a str,
    pub action: &'a str,
    pub entity: &'a str,
    pub key: &'a str,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

/// The current time as RFC 3339 UTC with milliseconds. Written here rather
/// than with a date crate because this is the only place that needs a clock.
pub fn now_rfc3339() -> String {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    format_rfc3339(since.as_secs() as i64, since.subsec_millis())
}

/// Seconds since 1970 → `YYYY-MM-DDTHH:MM:SS.mmmZ` (proleptic Gregorian, civil-from-days).
pub(crate) fn format_rfc3339(secs: i64, millis: u32) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (h, m, s) = (rem / 3600, rem % 3600 / 60, rem % 60);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{millis:03}Z")
}

pub(crate) async fn record(conn: &mut Conn<'_>, r: &AuditRecord<'_>) -> Result<i64> {
    let before = r.before.as_ref().map(|v| v.to_string());
    let after = r.after.as_ref().map(|v| v.to_string());
    let id: i64 = run!(
        conn,
        sqlx::query_scalar::<_, i64>(
            "INSERT INTO audit_log (at, actor, action, entity, entity_key, before_json, after_json) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id"
        )
        .bind(now_rfc3339())
        .bind(r.actor)
        .bind(r.action)
        .bind(r.entity)
        .bind(r.key)
        .bind(before)
        .bind(after),
        fetch_one
    )?;
    Ok(id)
}

#[derive(sqlx::FromRow)]
struct AuditRow {
    id: i64,
    at: String,
    actor: String,
    action: String,
    entity: String,
    entity_key: String,
    before_json: Option<String>,
    after_json: Option<String>,
}

/// Newest first.
pub(crate) async fn entries(
    conn: &mut Conn<'_>,
    limit: i64,
    offset: i64,
) -> Result<Vec<AuditEntry>> {
    search(conn, &AuditFilter::default(), limit, offset).await
}

/// Which audit rows to show. Every condition is optional; all given ones must hold.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditFilter {
    /// The login that made the change, exactly.
    pub actor: Option<String>,
    /// The kind of record (`kpi`, `observation`, `user`, …), exactly.
    pub entity: Option<String>,
    /// Part of the record's key (`KPI-001`, a login, …).
    pub key_contains: Option<String>,
    /// RFC 3339 UTC bounds: `since <= at < until`.
    pub since: Option<String>,
    pub until: Option<String>,
    /// Kinds of record this reader may not see (users and settings for
    /// everyone but administrators).
    pub hidden_entities: Vec<String>,
}

/// `%`, `_` and the escape itself are literal in a key search.
fn like_escaped(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('%');
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// The WHERE clause of a filter and its values, bound as `$1…` in order.
fn filter_sql(f: &AuditFilter) -> (String, Vec<String>) {
    let mut conds: Vec<String> = Vec::new();
    let mut binds: Vec<String> = Vec::new();
    let mut push = |cond: &str, value: String, binds: &mut Vec<String>| {
        binds.push(value);
        conds.push(cond.replace('?', &format!("${}", binds.len())));
    };
    if let Some(a) = &f.actor {
        push("actor = ?", a.clone(), &mut binds);
    }
    if let Some(e) = &f.entity {
        push("entity = ?", e.clone(), &mut binds);
    }
    if let Some(k) = &f.key_contains {
        push("entity_key LIKE ? ESCAPE '\\'", like_escaped(k), &mut binds);
    }
    if let Some(s) = &f.since {
        push("at >= ?", s.clone(), &mut binds);
    }
    if let Some(u) = &f.until {
        push("at < ?", u.clone(), &mut binds);
    }
    for hidden in &f.hidden_entities {
        push("entity <> ?", hidden.clone(), &mut binds);
    }
    let sql = if conds.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conds.join(" AND "))
    };
    (sql, binds)
}

/// Audit rows matching a filter, newest first.
pub(crate) async fn search(
    conn: &mut Conn<'_>,
    filter: &AuditFilter,
    limit: i64,
    offset: i64,
) -> Result<Vec<AuditEntry>> {
    let (cond, binds) = filter_sql(filter);
    // Limit and offset are integers formatted by us, never user text.
    let sql = format!(
        "SELECT id, at, actor, action, entity, entity_key, before_json, after_json FROM audit_log{cond} \
         ORDER BY id DESC LIMIT {} OFFSET {}",
        limit.max(0),
        offset.max(0)
    );
    let rows: Vec<AuditRow> = run!(
        conn,
        {
            let mut q = sqlx::query_as(&sql);
            for b in &binds {
                q = q.bind(b);
            }
            q
        },
        fetch_all
    )?;
    Ok(rows.into_iter().map(entry_of).collect())
}

/// The logins and kinds of record present in the log (for the filter's choices),
/// each sorted, without the hidden kinds.
pub(crate) async fn facets(
    conn: &mut Conn<'_>,
    hidden_entities: &[String],
) -> Result<(Vec<String>, Vec<String>)> {
    let filter = AuditFilter {
        hidden_entities: hidden_entities.to_vec(),
        ..AuditFilter::default()
    };
    let (cond, binds) = filter_sql(&filter);
    let mut out = Vec::with_capacity(2);
    for column in ["actor", "entity"] {
        let sql = format!("SELECT DISTINCT {column} FROM audit_log{cond} ORDER BY {column}");
        let values: Vec<String> = run!(
            conn,
            {
                let mut q = sqlx::query_scalar::<_, String>(&sql);
                for b in &binds {
                    q = q.bind(b);
                }
                q
            },
            fetch_all
        )?;
        out.push(values);
    }
    let entities = out.pop().unwrap_or_default();
    let actors = out.pop().unwrap_or_default();
    Ok((actors, entities))
}

fn entry_of(r: AuditRow) -> AuditEntry {
    AuditEntry {
        id: r.id,
        at: r.at,
        actor: r.actor,
        action: r.action,
        entity: r.entity,
        key: r.entity_key,
        // Written by us from serde_json values, so they parse; a damaged row shows as a string.
        before: r
            .before_json
            .map(|s| serde_json::from_str(&s).unwrap_or(serde_json::Value::String(s))),
        after: r
            .after_json
            .map(|s| serde_json::from_str(&s).unwrap_or(serde_json::Value::String(s))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_known_instants() {
        assert_eq!(format_rfc3339(0, 0), "1970-01-01T00:00:00.000Z");
        assert_eq!(format_rfc3339(951_782_400, 5), "2000-02-29T00:00:00.005Z");
        assert_eq!(
            format_rfc3339(1_767_225_599, 999),
            "2025-12-31T23:59:59.999Z"
        );
        assert_eq!(format_rfc3339(1_735_689_600, 0), "2025-01-01T00:00:00.000Z");
        assert_eq!(now_rfc3339().len(), 24);
    }
}
