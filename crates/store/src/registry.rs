//! Storage of the registry part of the partnerships area: the
//! demonstrations' forms (create, edit, stage moves, dated results), the PR
//! plans' forms (create, edit, measured reach per channel) and secrets kept
//! in the settings (the LINE channel secret). Every change is one
//! transaction with its audit row; a secret's value never enters the log.

use citykpi_domain::partner::projects::{
    DemoResult, DemoStage, Demonstration, PrChannel, PrPlan, PrReach,
};
use citykpi_domain::partner::{Day, Problem, Problems};
use serde_json::json;

use crate::audit::{self, AuditRecord};
use crate::conn::{Conn, run};
use crate::{PartnerError, PartnerResult, Result, Store, StoreError, now_rfc3339};

/// When a secret setting was last set, replaced or cleared, and by whom.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SecretChange {
    pub at: String,
    pub by: String,
    /// Whether a value is kept after the change (false after a clear).
    pub set: bool,
}

fn damaged(what: &str, key: &str, message: &str) -> PartnerError {
    PartnerError::Store(StoreError::InvalidData {
        entity: crate::Entity::Dataset,
        key: key.to_string(),
        message: format!("{what}: {message}"),
    })
}

fn missing(kind: &'static str, kind_ja: &'static str, key: &str) -> PartnerError {
    PartnerError::NotFound {
        kind,
        kind_ja,
        key: key.to_string(),
    }
}

fn code_taken() -> PartnerError {
    Problems(vec![Problem::new(
        "code",
        "このコードはすでに使われています",
        "this code is already used",
    )])
    .into()
}

async fn audit_row(
    conn: &mut Conn<'_>,
    actor: &str,
    action: &str,
    entity: &str,
    key: &str,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) -> Result<()> {
    audit::record(
        conn,
        &AuditRecord {
            actor,
            action,
            entity,
            key,
            before,
            after,
        },
    )
    .await?;
    Ok(())
}

async fn demonstration_in(conn: &mut Conn<'_>, code: &str) -> PartnerResult<Option<Demonstration>> {
    let body: Option<String> = run!(
        conn,
        sqlx::query_scalar::<_, String>("SELECT body FROM partner_demonstrations WHERE code = $1")
            .bind(code),
        fetch_optional
    )?;
    body.map(|b| {
        serde_json::from_str(&b).map_err(|e| damaged("demonstration", code, &e.to_string()))
    })
    .transpose()
}

async fn write_demonstration(conn: &mut Conn<'_>, d: &Demonstration) -> PartnerResult<()> {
    let body =
        serde_json::to_string(d).map_err(|e| damaged("demonstration", &d.code, &e.to_string()))?;
    run!(
        conn,
        sqlx::query(
            "INSERT INTO partner_demonstrations (code, field, stage, body) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (code) DO UPDATE SET field = excluded.field, stage = excluded.stage, body = excluded.body"
        )
        .bind(&d.code)
        .bind(d.field.code())
        .bind(d.stage.code())
        .bind(&body),
        execute
    )?;
    Ok(())
}

async fn pr_plan_in(conn: &mut Conn<'_>, code: &str) -> PartnerResult<Option<PrPlan>> {
    let body: Option<String> = run!(
        conn,
        sqlx::query_scalar::<_, String>("SELECT body FROM partner_pr_plans WHERE code = $1")
            .bind(code),
        fetch_optional
    )?;
    body.map(|b| serde_json::from_str(&b).map_err(|e| damaged("pr_plan", code, &e.to_string())))
        .transpose()
}

async fn write_pr_plan(conn: &mut Conn<'_>, p: &PrPlan) -> PartnerResult<()> {
    let body = serde_json::to_string(p).map_err(|e| damaged("pr_plan", &p.code, &e.to_string()))?;
    run!(
        conn,
        sqlx::query(
            "INSERT INTO partner_pr_plans (code, start_on, end_on, body) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (code) DO UPDATE SET start_on = excluded.start_on, end_on = excluded.end_on, body = excluded.body"
        )
        .bind(&p.code)
        .bind(p.start.to_string())
        .bind(p.end.to_string())
        .bind(&body),
        execute
    )?;
    Ok(())
}

/// How many reach rows a plan has and their sum.
async fn reach_total_in(conn: &mut Conn<'_>, code: &str) -> PartnerResult<(i64, i64)> {
    Ok(run!(
        conn,
        sqlx::query_as::<_, (i64, i64)>(
            "SELECT COUNT(*), CAST(COALESCE(SUM(reach), 0) AS BIGINT) FROM partner_pr_reach WHERE plan_code = $1"
        )
        .bind(code),
        fetch_one
    )?)
}

/// Every named member must be an approved member of the platform.
async fn check_partners(conn: &mut Conn<'_>, ids: &[i64]) -> PartnerResult<()> {
    let mut problems = Vec::new();
    for id in ids {
        let status: Option<String> = run!(
            conn,
            sqlx::query_scalar::<_, String>("SELECT status FROM partner_members WHERE id = $1")
                .bind(id),
            fetch_optional
        )?;
        match status.as_deref() {
            Some("approved") => {}
            Some(_) => problems.push(Problem::new(
                "partner_ids",
                format!("会員 {id} は承認された会員ではありません"),
                format!("member {id} is not an approved member"),
            )),
            None => problems.push(Problem::new(
                "partner_ids",
                format!("会員 {id} は登録されていません"),
                format!("no member {id}"),
            )),
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Problems(problems).into())
    }
}

impl Store {
    /// Approved members as (member number, name), by name: the partners a
    /// demonstration can name.
    pub async fn approved_member_names(&self) -> PartnerResult<Vec<(i64, String)>> {
        let mut pooled = self.read_conn().await?;
        let conn = &mut pooled.conn();
        Ok(run!(
            conn,
            sqlx::query_as::<_, (i64, String)>(
                "SELECT id, name FROM partner_members WHERE status = 'approved' ORDER BY name, id"
            ),
            fetch_all
        )?)
    }

    // ----- demonstrations -----

    pub async fn demonstration(&self, code: &str) -> PartnerResult<Option<Demonstration>> {
        let mut pooled = self.read_conn().await?;
        demonstration_in(&mut pooled.conn(), code).await
    }

    /// Creates (`new`: the code must be free) or edits a demonstration, with
    /// its audit row. An edit keeps the stored stage (stages move by
    /// [`Store::move_demonstration`] only). Every partner must be an
    /// approved member.
    pub async fn save_demonstration(
        &self,
        d: &Demonstration,
        new: bool,
        actor: &str,
    ) -> PartnerResult<Demonstration> {
        let mut tx = self.begin().await?;
        let conn = &mut tx.conn();
        let before = demonstration_in(conn, &d.code).await?;
        let saved = match (&before, new) {
            (Some(_), true) => return Err(code_taken()),
            (None, false) => return Err(missing("demonstration", "実証プロジェクト", &d.code)),
            (None, true) => Demonstration {
                stage: DemoStage::Concept,
                ..d.clone()
            },
            (Some(old), false) => Demonstration {
                stage: old.stage,
                ..d.clone()
            },
        };
        check_partners(conn, &saved.partner_ids).await?;
        write_demonstration(conn, &saved).await?;
        audit_row(
            conn,
            actor,
            if new { "insert" } else { "update" },
            "partner_demonstration",
            &saved.code,
            before.map(|b| json!(b)),
            Some(json!(saved)),
        )
        .await?;
        tx.commit().await?;
        Ok(saved)
    }

    /// Moves a demonstration to `to` when the stage rule allows it.
    pub async fn move_demonstration(
        &self,
        code: &str,
        to: DemoStage,
        actor: &str,
    ) -> PartnerResult<Demonstration> {
        let mut tx = self.begin().await?;
        let conn = &mut tx.conn();
        let Some(old) = demonstration_in(conn, code).await? else {
            return Err(missing("demonstration", "実証プロジェクト", code));
        };
        if !old.stage.can_move_to(to) {
            return Err(Problems(vec![Problem::new(
                "stage",
                format!(
                    "{}から{}には進められません",
                    old.stage.label_ja(),
                    to.label_ja()
                ),
                format!(
                    "cannot move from {} to {}",
                    old.stage.label_en(),
                    to.label_en()
                ),
            )])
            .into());
        }
        let moved = Demonstration {
            stage: to,
            ..old.clone()
        };
        write_demonstration(conn, &moved).await?;
        audit_row(
            conn,
            actor,
            "stage",
            "partner_demonstration",
            code,
            Some(json!({ "stage": old.stage.code() })),
            Some(json!({ "stage": to.code() })),
        )
        .await?;
        tx.commit().await?;
        Ok(moved)
    }

    /// Appends a dated result to a demonstration, with its audit row.
    pub async fn add_demo_result(&self, r: &DemoResult, actor: &str) -> PartnerResult<()> {
        let mut tx = self.begin().await?;
        let conn = &mut tx.conn();
        if demonstration_in(conn, &r.demo_code).await?.is_none() {
            return Err(missing("demonstration", "実証プロジェクト", &r.demo_code));
        }
        run!(
            conn,
            sqlx::query(
                "INSERT INTO partner_demo_results (demo_code, on_day, body, author, at) \
                 VALUES ($1, $2, $3, $4, $5)"
            )
            .bind(&r.demo_code)
            .bind(r.on.to_string())
            .bind(&r.body)
            .bind(&r.author)
            .bind(now_rfc3339()),
            execute
        )?;
        audit_row(
            conn,
            actor,
            "result",
            "partner_demonstration",
            &r.demo_code,
            None,
            Some(json!(r)),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The dated results of one demonstration (or of all, `None`), oldest first.
    pub async fn demo_results(&self, code: Option<&str>) -> PartnerResult<Vec<DemoResult>> {
        let mut pooled = self.read_conn().await?;
        let conn = &mut pooled.conn();
        let rows: Vec<(String, String, String, String)> = run!(
            conn,
            sqlx::query_as::<_, (String, String, String, String)>(
                "SELECT demo_code, on_day, body, author FROM partner_demo_results \
                 WHERE $1 IS NULL OR demo_code = $1 ORDER BY demo_code, on_day, id"
            )
            .bind(code),
            fetch_all
        )?;
        rows.into_iter()
            .map(|(demo_code, on, body, author)| {
                Ok(DemoResult {
                    on: Day::parse(&on)
                        .ok_or_else(|| damaged("demonstration result", &demo_code, &on))?,
                    demo_code,
                    body,
                    author,
                })
            })
            .collect()
    }

    // ----- PR plans -----

    pub async fn pr_plan(&self, code: &str) -> PartnerResult<Option<PrPlan>> {
        let mut pooled = self.read_conn().await?;
        pr_plan_in(&mut pooled.conn(), code).await
    }

    /// Every PR plan, by start and code (the export).
    pub async fn pr_plans_all(&self) -> PartnerResult<Vec<PrPlan>> {
        let mut pooled = self.read_conn().await?;
        let conn = &mut pooled.conn();
        let bodies: Vec<(String, String)> = run!(
            conn,
            sqlx::query_as::<_, (String, String)>(
                "SELECT code, body FROM partner_pr_plans ORDER BY start_on, code"
            ),
            fetch_all
        )?;
        bodies
            .into_iter()
            .map(|(code, b)| {
                serde_json::from_str(&b).map_err(|e| damaged("pr_plan", &code, &e.to_string()))
            })
            .collect()
    }

    /// Creates (`new`: the code must be free) or edits a PR plan, with its
    /// audit row. The measured reach is the sum of the recorded reach (the
    /// stored figure when none is recorded yet).
    pub async fn save_pr_plan(&self, p: &PrPlan, new: bool, actor: &str) -> PartnerResult<PrPlan> {
        let mut tx = self.begin().await?;
        let conn = &mut tx.conn();
        let before = pr_plan_in(conn, &p.code).await?;
        let reach_actual = match (&before, new) {
            (Some(_), true) => return Err(code_taken()),
            (None, false) => return Err(missing("PR plan", "広報計画", &p.code)),
            (None, true) => None,
            (Some(old), false) => match reach_total_in(conn, &p.code).await? {
                (0, _) => old.reach_actual,
                (_, sum) => u64::try_from(sum).ok(),
            },
        };
        let saved = PrPlan {
            reach_actual,
            ..p.clone()
        };
        write_pr_plan(conn, &saved).await?;
        audit_row(
            conn,
            actor,
            if new { "insert" } else { "update" },
            "partner_pr_plan",
            &saved.code,
            before.map(|b| json!(b)),
            Some(json!(saved)),
        )
        .await?;
        tx.commit().await?;
        Ok(saved)
    }

    /// Records a measured reach and sets the plan's reach to the sum of
    /// every recorded reach, in one transaction with its audit row.
    pub async fn add_pr_reach(&self, r: &PrReach, actor: &str) -> PartnerResult<PrPlan> {
        let reach = i64::try_from(r.reach).map_err(|_| {
            Problems(vec![Problem::new(
                "reach",
                "到達数が大きすぎます",
                "the reach is too large",
            )])
        })?;
        let mut tx = self.begin().await?;
        let conn = &mut tx.conn();
        let Some(plan) = pr_plan_in(conn, &r.plan_code).await? else {
            return Err(missing("PR plan", "広報計画", &r.plan_code));
        };
        run!(
            conn,
            sqlx::query(
                "INSERT INTO partner_pr_reach (plan_code, channel, on_day, reach, note, author, at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)"
            )
            .bind(&r.plan_code)
            .bind(r.channel.code())
            .bind(r.on.to_string())
            .bind(reach)
            .bind(&r.note)
            .bind(&r.author)
            .bind(now_rfc3339()),
            execute
        )?;
        let (_, sum) = reach_total_in(conn, &r.plan_code).await?;
        let updated = PrPlan {
            reach_actual: u64::try_from(sum).ok(),
            ..plan.clone()
        };
        write_pr_plan(conn, &updated).await?;
        audit_row(
            conn,
            actor,
            "reach",
            "partner_pr_plan",
            &r.plan_code,
            Some(json!({ "reach_actual": plan.reach_actual })),
            Some(json!({ "entry": r, "reach_actual": updated.reach_actual })),
        )
        .await?;
        tx.commit().await?;
        Ok(updated)
    }

    /// The recorded reach of one plan (or of all, `None`), by date.
    pub async fn pr_reach(&self, code: Option<&str>) -> PartnerResult<Vec<PrReach>> {
        let mut pooled = self.read_conn().await?;
        let conn = &mut pooled.conn();
        type Row = (String, String, String, i64, String, String);
        let rows: Vec<Row> = run!(
            conn,
            sqlx::query_as::<_, Row>(
                "SELECT plan_code, channel, on_day, reach, note, author FROM partner_pr_reach \
                 WHERE $1 IS NULL OR plan_code = $1 ORDER BY plan_code, on_day, id"
            )
            .bind(code),
            fetch_all
        )?;
        rows.into_iter()
            .map(|(plan_code, channel, on, reach, note, author)| {
                let bad = |v: &str| damaged("PR reach", &plan_code, v);
                Ok(PrReach {
                    channel: PrChannel::parse(&channel).ok_or_else(|| bad(&channel))?,
                    on: Day::parse(&on).ok_or_else(|| bad(&on))?,
                    reach: u64::try_from(reach).map_err(|_| bad(&reach.to_string()))?,
                    plan_code,
                    note,
                    author,
                })
            })
            .collect()
    }

    // ----- secrets kept in the settings -----

    /// Sets, replaces (`Some`) or clears (`None`) a secret setting, records
    /// when and by whom (`{key}_changed`) and writes an audit row that says
    /// only whether a value is kept — never the value.
    pub async fn set_secret_setting(
        &self,
        key: &str,
        value: Option<&str>,
        actor: &str,
    ) -> Result<SecretChange> {
        let mut tx = self.begin().await?;
        let conn = &mut tx.conn();
        let had: Option<String> = run!(
            conn,
            sqlx::query_scalar::<_, String>("SELECT value FROM settings WHERE key = $1").bind(key),
            fetch_optional
        )?;
        let had = had.is_some_and(|v| !v.is_empty());
        match value {
            Some(v) => {
                run!(
                    conn,
                    sqlx::query(
                        "INSERT INTO settings (key, value) VALUES ($1, $2) \
                         ON CONFLICT (key) DO UPDATE SET value = excluded.value"
                    )
                    .bind(key)
                    .bind(v),
                    execute
                )?;
            }
            None => {
                run!(
                    conn,
                    sqlx::query("DELETE FROM settings WHERE key = $1").bind(key),
                    execute
                )?;
            }
        }
        let change = SecretChange {
            at: now_rfc3339(),
            by: actor.to_string(),
            set: value.is_some(),
        };
        let meta = serde_json::to_string(&change).map_err(|e| StoreError::InvalidData {
            entity: crate::Entity::Dataset,
            key: key.to_string(),
            message: e.to_string(),
        })?;
        run!(
            conn,
            sqlx::query(
                "INSERT INTO settings (key, value) VALUES ($1, $2) \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value"
            )
            .bind(format!("{key}_changed"))
            .bind(meta),
            execute
        )?;
        let action = match (had, value.is_some()) {
            (false, true) => "set",
            (true, true) => "replace",
            (_, false) => "clear",
        };
        audit_row(
            conn,
            actor,
            action,
            "setting",
            key,
            Some(json!({ "set": had })),
            Some(json!({ "set": value.is_some() })),
        )
        .await?;
        tx.commit().await?;
        Ok(change)
    }

    /// When the secret setting `key` was last changed, if ever through
    /// [`Store::set_secret_setting`].
    pub async fn secret_setting_changed(&self, key: &str) -> Result<Option<SecretChange>> {
        Ok(self
            .get_setting(&format!("{key}_changed"))
            .await?
            .and_then(|v| serde_json::from_str(&v).ok()))
    }
}
