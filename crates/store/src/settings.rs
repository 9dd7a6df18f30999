//! Key/value settings of the city (its local-government code, its name…).

use crate::conn::run;
use crate::{Result, Store};

impl Store {
    pub async fn get_setting(&self, key: &str) -> Result<Option<String>> {
        let mut c = self.read_conn().await?;
        let mut conn = c.conn();
        Ok(run!(
            &mut conn,
            sqlx::query_scalar::<_, String>("SELECT value FROM settings WHERE key = $1").bind(key),
            fetch_optional
        )?)
    }

    pub async fn set_setting(&self, key: &str, value: &str) -> Result<()> {
        let mut tx = self.begin().await?;
        run!(
            &mut tx.conn(),
            sqlx::query(
                "INSERT INTO settings (key, value) VALUES ($1, $2) \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value"
            )
            .bind(key)
            .bind(value),
            execute
        )?;
        tx.commit().await?;
        Ok(())
    }
}
