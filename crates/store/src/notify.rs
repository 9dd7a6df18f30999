//! Notice mails: which due-work notices were mailed to whom, so
//! that a user gets at most one mail per cycle year and stage; and the SMTP
//! settings written together with their audit row.

use citykpi_domain::FiscalYear;
use serde::Serialize;

use crate::audit::{self, AuditRecord, now_rfc3339};
use crate::conn::run;
use crate::{Result, Store};

/// One stage's notice recorded as mailed to a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SentNotice {
    pub fy: i64,
    /// The stage's code (`Stage::as_str`).
    pub stage: String,
    pub login: String,
    pub email: String,
    pub sent_at: String,
    pub sent_by: String,
}

#[derive(sqlx::FromRow)]
struct SentRow {
    fy: i64,
    stage: String,
    login: String,
    email: String,
    sent_at: String,
    sent_by: String,
}

impl Store {
    /// The notices mailed for the cycle of `fy`, by login and stage.
    pub async fn notice_mails(&self, fy: FiscalYear) -> Result<Vec<SentNotice>> {
        let mut c = self.read_conn().await?;
        let mut conn = c.conn();
        let rows: Vec<SentRow> = run!(
            &mut conn,
            sqlx::query_as(
                "SELECT fy, stage, login, email, sent_at, sent_by FROM notice_mails \
                 WHERE fy = $1 ORDER BY login, stage"
            )
            .bind(i64::from(fy.year())),
            fetch_all
        )?;
        Ok(rows
            .into_iter()
            .map(|r| SentNotice {
                fy: r.fy,
                stage: r.stage,
                login: r.login,
                email: r.email,
                sent_at: r.sent_at,
                sent_by: r.sent_by,
            })
            .collect())
    }

    /// Records one mail sent to `login` covering `stages` of the cycle of
    /// `fy`, with its audit row, in one transaction. A stage already
    /// recorded for the user stays as it was (the first send counts).
    pub async fn record_notice_mail(
        &self,
        actor: &str,
        fy: FiscalYear,
        stages: &[&str],
        login: &str,
        email: &str,
        details: serde_json::Value,
    ) -> Result<()> {
        let at = now_rfc3339();
        let mut tx = self.begin().await?;
        for stage in stages {
            run!(
                &mut tx.conn(),
                sqlx::query(
                    "INSERT INTO notice_mails (fy, stage, login, email, sent_at, sent_by) \
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (fy, stage, login) DO NOTHING"
                )
                .bind(i64::from(fy.year()))
                .bind(*stage)
                .bind(login)
                .bind(email)
                .bind(&at)
                .bind(actor),
                execute
            )?;
        }
        audit::record(
            &mut tx.conn(),
            &AuditRecord {
                actor,
                action: "notice_mail",
                entity: "user",
                key: login,
                before: None,
                after: Some(details),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Writes several settings (None removes the key) and one audit row in
    /// one transaction.
    pub async fn set_settings(
        &self,
        values: &[(&str, Option<&str>)],
        record: &AuditRecord<'_>,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        for (key, value) in values {
            match value {
                Some(v) => run!(
                    &mut tx.conn(),
                    sqlx::query(
                        "INSERT INTO settings (key, value) VALUES ($1, $2) \
                         ON CONFLICT (key) DO UPDATE SET value = excluded.value"
                    )
                    .bind(*key)
                    .bind(*v),
                    execute
                )?,
                None => run!(
                    &mut tx.conn(),
                    sqlx::query("DELETE FROM settings WHERE key = $1").bind(*key),
                    execute
                )?,
            };
        }
        audit::record(&mut tx.conn(), record).await?;
        tx.commit().await?;
        Ok(())
    }
}
