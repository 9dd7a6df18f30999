//! Tables of the web application: per-user API tokens, stored as digests.

use crate::conn::run;
use crate::{Result, Store, now_rfc3339};

impl Store {
    /// Replaces the API token of `login` by one whose SHA-256 digest (hex) is
    /// `digest`; the previous token stops working.
    pub async fn set_api_token(&self, login: &str, digest: &str) -> Result<()> {
        let mut tx = self.begin().await?;
        let conn = &mut tx.conn();
        run!(
            conn,
            sqlx::query("DELETE FROM web_api_tokens WHERE login = $1").bind(login),
            execute
        )?;
        run!(
            conn,
            sqlx::query(
                "INSERT INTO web_api_tokens (digest, login, created_at) VALUES ($1, $2, $3)"
            )
            .bind(digest)
            .bind(login)
            .bind(now_rfc3339()),
            execute
        )?;
        tx.commit().await?;
        Ok(())
    }

    /// The login whose API token has this digest.
    pub async fn api_token_login(&self, digest: &str) -> Result<Option<String>> {
        let mut pooled = self.read_conn().await?;
        let conn = &mut pooled.conn();
        Ok(run!(
            conn,
            sqlx::query_scalar::<_, String>("SELECT login FROM web_api_tokens WHERE digest = $1")
                .bind(digest),
            fetch_optional
        )?)
    }
}
