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
    let rows: Vec<AuditRow> = run!(
        conn,
        sqlx::query_as(
            "SELECT id, at, actor, action, entity, entity_key, before_json, after_json FROM audit_log \
             ORDER BY id DESC LIMIT $1 OFFSET $2"
        )
        .bind(limit.max(0))
        .bind(offset.max(0)),
        fetch_all
    )?;
    Ok(rows
        .into_iter()
        .map(|r| AuditEntry {
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
        })
        .collect())
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
