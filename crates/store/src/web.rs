//! Tables of the web application: per-user API tokens, stored as digests,
//! each with its expiry and the date it was last used.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::audit::{self, AuditRecord, format_rfc3339};
use crate::conn::{Conn, run};
use crate::{Result, Store, now_rfc3339};

/// What the owner of an API token may see of it (never the token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiTokenInfo {
    /// RFC 3339 UTC.
    pub created_at: String,
    /// RFC 3339 UTC; the token is refused from then on.
    pub expires_at: Option<String>,
    /// RFC 3339 UTC of the first use on the last day it was used.
    pub last_used_at: Option<String>,
}

/// The time `after` from now, RFC 3339 UTC like `now_rfc3339`.
pub fn rfc3339_in(after: Duration) -> String {
    let at = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .saturating_add(after);
    format_rfc3339(at.as_secs() as i64, at.subsec_millis())
}

/// Deletes every API token of `login` (inside the caller's transaction).
pub(crate) async fn delete_tokens(conn: &mut Conn<'_>, login: &str) -> Result<u64> {
    Ok(run!(
        conn,
        sqlx::query("DELETE FROM web_api_tokens WHERE login = $1").bind(login),
        execute
    )?)
}

impl Store {
    /// Replaces the API token of `login` by one whose SHA-256 digest (hex) is
    /// `digest`, valid until `expires_at` (RFC 3339 UTC); the previous token
    /// stops working. The audit row is written in the same transaction.
    pub async fn set_api_token(&self, login: &str, digest: &str, expires_at: &str) -> Result<()> {
        let mut tx = self.begin().await?;
        let conn = &mut tx.conn();
        delete_tokens(conn, login).await?;
        run!(
            conn,
            sqlx::query(
                "INSERT INTO web_api_tokens (digest, login, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4)"
            )
            .bind(digest)
            .bind(login)
            .bind(now_rfc3339())
            .bind(expires_at),
            execute
        )?;
        // Who holds API access is worth a trace; the token itself is never logged.
        audit::record(
            conn,
            &AuditRecord {
                actor: login,
                action: "issue_api_token",
                entity: "user",
                key: login,
                before: None,
                after: Some(serde_json::json!({ "expires_at": expires_at })),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The login whose API token has this digest, if the token has not
    /// expired. Notes the day of use (one write per token and day, not per
    /// request).
    pub async fn api_token_login(&self, digest: &str) -> Result<Option<String>> {
        let now = now_rfc3339();
        let row: Option<(String, Option<String>, Option<String>)> = {
            let mut pooled = self.read_conn().await?;
            let conn = &mut pooled.conn();
            run!(
                conn,
                sqlx::query_as(
                    "SELECT login, expires_at, last_used_at FROM web_api_tokens WHERE digest = $1"
                )
                .bind(digest),
                fetch_optional
            )?
        };
        let Some((login, expires_at, last_used)) = row else {
            return Ok(None);
        };
        // RFC 3339 UTC strings of one format order like the times they name;
        // a token without an expiry (none is written so) is refused.
        if expires_at.is_none_or(|e| e.as_str() <= now.as_str()) {
            return Ok(None);
        }
        if last_used.is_none_or(|l| l.get(..10) != now.get(..10)) {
            let mut tx = self.begin().await?;
            let conn = &mut tx.conn();
            run!(
                conn,
                sqlx::query("UPDATE web_api_tokens SET last_used_at = $1 WHERE digest = $2")
                    .bind(&now)
                    .bind(digest),
                execute
            )?;
            tx.commit().await?;
        }
        Ok(Some(login))
    }

    /// The API token of `login`, if one is held (expired ones included).
    pub async fn api_token(&self, login: &str) -> Result<Option<ApiTokenInfo>> {
        let mut pooled = self.read_conn().await?;
        let conn = &mut pooled.conn();
        let row: Option<(String, Option<String>, Option<String>)> = run!(
            conn,
            sqlx::query_as(
                "SELECT created_at, expires_at, last_used_at FROM web_api_tokens WHERE login = $1"
            )
            .bind(login),
            fetch_optional
        )?;
        Ok(
            row.map(|(created_at, expires_at, last_used_at)| ApiTokenInfo {
                created_at,
                expires_at,
                last_used_at,
            }),
        )
    }

    /// Revokes the API token of `login`, with its audit row by `actor`, in
    /// one transaction. False when there was none.
    pub async fn revoke_api_token(&self, login: &str, actor: &str) -> Result<bool> {
        let mut tx = self.begin().await?;
        let conn = &mut tx.conn();
        let n = delete_tokens(conn, login).await?;
        if n > 0 {
            audit::record(
                conn,
                &AuditRecord {
                    actor,
                    action: "revoke_api_token",
                    entity: "user",
                    key: login,
                    before: None,
                    after: None,
                },
            )
            .await?;
        }
        tx.commit().await?;
        Ok(n > 0)
    }
}
