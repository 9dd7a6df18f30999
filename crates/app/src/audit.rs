//! Reading the audit log: who changed what and when, filtered, in Japan
//! time, with the changed fields side by side. The page and the API call
//! this one service.
//!
//! Administrators read the whole log. The strategy office reads it for the
//! records it steers (plans, KPIs, programs, the cycle, partnerships); the
//! accounts and the server's settings stay with the administrators, because
//! their rows name people's e-mail addresses and the mail server.

use citykpi_domain::jst;
use citykpi_domain::org::Role;
use citykpi_domain::partner::date::Day;
use citykpi_store::{AuditEntry, AuditFilter, Store};
use serde::Serialize;

use crate::AppError;

/// Rows per page.
pub const PAGE: i64 = 50;

/// Kinds of record only administrators read in the log.
pub const ADMIN_ONLY_ENTITIES: &[&str] =
    &["user", "smtp_settings", "api_token", "session", "backup"];

/// Who may read the log, and how much of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditScope {
    Everything,
    /// Everything but accounts and settings.
    Records,
}

impl AuditScope {
    /// `None`: the role may not read the log.
    pub fn of(role: Role) -> Option<AuditScope> {
        match role {
            Role::Admin => Some(AuditScope::Everything),
            Role::StrategyOffice => Some(AuditScope::Records),
            _ => None,
        }
    }

    fn hidden(self) -> Vec<String> {
        match self {
            AuditScope::Everything => Vec::new(),
            AuditScope::Records => ADMIN_ONLY_ENTITIES.iter().map(|s| s.to_string()).collect(),
        }
    }
}

/// The filter as the reader gives it: every field may be empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AuditQuery {
    pub actor: String,
    pub entity: String,
    pub key: String,
    /// Japan days, `YYYY-MM-DD`, both included.
    pub since: String,
    pub until: String,
    pub page: i64,
}

/// One changed field of a record: its value before and after, as text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    pub field: String,
    pub before: String,
    pub after: String,
}

/// One row of the log as people read it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditLine {
    #[serde(flatten)]
    pub entry: AuditEntry,
    /// `2026-12-08 02:09`, Japan time.
    pub at_jst: String,
    /// The fields that differ between before and after (all fields of an
    /// inserted or deleted record).
    pub changes: Vec<FieldChange>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditView {
    pub query: AuditQuery,
    pub lines: Vec<AuditLine>,
    pub page: i64,
    pub has_more: bool,
    /// The choices of the filter: logins and kinds of record in the log.
    pub actors: Vec<String>,
    pub entities: Vec<String>,
}

fn day_field(field: &str, text: &str) -> Result<Option<Day>, AppError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    Day::parse(text).map(Some).ok_or_else(|| {
        AppError::invalid(
            field,
            format!(
                "日付は 2026-12-07 の形で入力してください（入力: {text}）/ a date is written as 2026-12-07 (got: {text})"
            ),
        )
    })
}

fn non_empty(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

/// The store's filter of a query, checked.
fn filter_of(q: &AuditQuery, scope: AuditScope) -> Result<AuditFilter, AppError> {
    let since = day_field("since", &q.since)?;
    let until = day_field("until", &q.until)?;
    if let (Some(s), Some(u)) = (since, until)
        && u < s
    {
        return Err(AppError::invalid(
            "until",
            "終了日が開始日より前です / the end date is before the start date",
        ));
    }
    let hidden = scope.hidden();
    let entity = non_empty(&q.entity);
    if let Some(e) = &entity
        && hidden.contains(e)
    {
        return Err(AppError::invalid(
            "entity",
            format!(
                "「{e}」の記録は管理者だけが読めます / only administrators read the log of {e}"
            ),
        ));
    }
    Ok(AuditFilter {
        actor: non_empty(&q.actor),
        entity,
        key_contains: non_empty(&q.key),
        since: since.map(jst::start_of),
        // The end day is included: the bound is the start of the next day.
        until: until.map(|d| jst::start_of(d.plus_days(1))),
        hidden_entities: hidden,
    })
}

/// A JSON value as a table cell shows it: strings without quotes, whole
/// numbers without `.0`.
fn cell(v: Option<&serde_json::Value>) -> String {
    use serde_json::Value;
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", f as i64),
            _ => n.to_string(),
        },
        Some(other) => other.to_string(),
    }
}

/// A record's fields with nested objects spelled out (`value.kind`,
/// `value.value`), so a change inside one shows as that field alone.
fn flatten(
    prefix: &str,
    v: &serde_json::Map<String, serde_json::Value>,
    out: &mut std::collections::BTreeMap<String, serde_json::Value>,
) {
    for (k, value) in v {
        let name = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match value {
            serde_json::Value::Object(inner) if !inner.is_empty() => flatten(&name, inner, out),
            other => {
                out.insert(name, other.clone());
            }
        }
    }
}

/// The fields that differ between two records. Records that are not JSON
/// objects (a summary of an import) are one change named `value`.
pub fn changes(
    before: Option<&serde_json::Value>,
    after: Option<&serde_json::Value>,
) -> Vec<FieldChange> {
    use serde_json::Value;
    let as_fields = |v: Option<&Value>| -> Option<std::collections::BTreeMap<String, Value>> {
        let mut out = std::collections::BTreeMap::new();
        match v {
            None | Some(Value::Null) => Some(out),
            Some(Value::Object(m)) => {
                flatten("", m, &mut out);
                Some(out)
            }
            Some(_) => None,
        }
    };
    match (as_fields(before), as_fields(after)) {
        (Some(b), Some(a)) => {
            let mut fields: Vec<&String> = b.keys().chain(a.keys()).collect();
            fields.sort();
            fields.dedup();
            fields
                .into_iter()
                .filter(|f| b.get(*f) != a.get(*f))
                .map(|f| FieldChange {
                    field: f.clone(),
                    before: cell(b.get(f)),
                    after: cell(a.get(f)),
                })
                .collect()
        }
        _ => vec![FieldChange {
            field: "value".to_string(),
            before: cell(before),
            after: cell(after),
        }],
    }
}

/// One page of the log for a reader.
pub async fn search(
    store: &Store,
    scope: AuditScope,
    query: AuditQuery,
) -> Result<AuditView, AppError> {
    let filter = filter_of(&query, scope)?;
    let page = query.page.max(1);
    let mut entries = store
        .audit_search(&filter, PAGE + 1, (page - 1).saturating_mul(PAGE))
        .await?;
    let has_more = entries.len() as i64 > PAGE;
    entries.truncate(PAGE as usize);
    let (actors, entities) = store.audit_facets(&filter.hidden_entities).await?;
    let lines = entries.into_iter().map(line_of).collect();
    Ok(AuditView {
        query: AuditQuery { page, ..query },
        lines,
        page,
        has_more,
        actors,
        entities,
    })
}

/// Rows for the API: `limit` rows from `offset`, with the same filter and scope.
pub async fn entries(
    store: &Store,
    scope: AuditScope,
    query: &AuditQuery,
    limit: i64,
    offset: i64,
) -> Result<Vec<AuditLine>, AppError> {
    let filter = filter_of(query, scope)?;
    Ok(store
        .audit_search(&filter, limit, offset)
        .await?
        .into_iter()
        .map(line_of)
        .collect())
}

fn line_of(entry: AuditEntry) -> AuditLine {
    AuditLine {
        at_jst: jst::display(&entry.at),
        changes: changes(entry.before.as_ref(), entry.after.as_ref()),
        entry,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn changed_fields_only() {
        let c = changes(
            Some(&json!({"value": 767, "note": "a", "unit": "人"})),
            Some(&json!({"value": 800, "note": "a", "unit": "人", "v": 2})),
        );
        assert_eq!(
            c,
            vec![
                FieldChange {
                    field: "v".into(),
                    before: "".into(),
                    after: "2".into()
                },
                FieldChange {
                    field: "value".into(),
                    before: "767".into(),
                    after: "800".into()
                },
            ]
        );
        let inserted = changes(None, Some(&json!({"name": "市民"})));
        assert_eq!(inserted[0].after, "市民");
        let nested = changes(
            Some(&json!({"value": {"kind": "value", "value": 767.0}})),
            Some(&json!({"value": {"kind": "value", "value": 800.0}})),
        );
        assert_eq!(
            nested,
            vec![FieldChange {
                field: "value.value".into(),
                before: "767".into(),
                after: "800".into()
            }]
        );
        assert_eq!(cell(Some(&json!(0.25))), "0.25");
        let summary = changes(None, Some(&json!([1, 2])));
        assert_eq!(summary[0].field, "value");
    }

    #[test]
    fn filter_bounds_and_refusals() {
        let q = AuditQuery {
            since: "2026-12-01".into(),
            until: "2026-12-07".into(),
            key: " KPI-1 ".into(),
            ..AuditQuery::default()
        };
        let f = filter_of(&q, AuditScope::Records).unwrap();
        assert_eq!(f.since.as_deref(), Some("2026-11-30T15:00:00.000Z"));
        assert_eq!(f.until.as_deref(), Some("2026-12-07T15:00:00.000Z"));
        assert_eq!(f.key_contains.as_deref(), Some("KPI-1"));
        assert!(f.hidden_entities.contains(&"user".to_string()));
        assert!(
            filter_of(&q, AuditScope::Everything)
                .unwrap()
                .hidden_entities
                .is_empty()
        );
        let bad = AuditQuery {
            since: "12/40".into(),
            ..AuditQuery::default()
        };
        assert!(
            matches!(filter_of(&bad, AuditScope::Everything), Err(AppError::Invalid { field, .. }) if field == "since")
        );
        let reversed = AuditQuery {
            since: "2026-12-07".into(),
            until: "2026-12-01".into(),
            ..AuditQuery::default()
        };
        assert!(
            matches!(filter_of(&reversed, AuditScope::Everything), Err(AppError::Invalid { field, .. }) if field == "until")
        );
        let users = AuditQuery {
            entity: "user".into(),
            ..AuditQuery::default()
        };
        assert!(filter_of(&users, AuditScope::Records).is_err());
        assert!(filter_of(&users, AuditScope::Everything).is_ok());
    }
}
