//! Storage of the intake part of the partnerships area: the themes
//! the city publishes for proposals, a proposal taken in with its files in
//! one transaction, the intake details only the desk sees, and the decisions
//! published with the proposer's consent. Personal data (contact person,
//! e-mail, phone) never goes into the audit log.

use citykpi_domain::partner::attachment;
use citykpi_domain::partner::proposal::{
    IntakeDetails, NewIntake, ProposalStage, PublishedDecision, Theme, decision_of, jst_day,
    receipt_number,
};
use citykpi_domain::partner::{Day, Problem, Problems};
use serde_json::json;

use crate::conn::{Conn, run};
use crate::partners::{
    Page, PartnerError, PartnerResult, audit_in, clamp_page, damaged, frame, goals_of, goals_text,
    not_found, unframe,
};
use crate::{Store, now_rfc3339};

const THEME_COLUMNS: &str =
    "code, title, description, kpi_codes, sdg_goals, open_from, open_until, closed";

#[derive(sqlx::FromRow)]
struct ThemeRow {
    code: String,
    title: String,
    description: String,
    kpi_codes: String,
    sdg_goals: String,
    open_from: Option<String>,
    open_until: Option<String>,
    closed: bool,
}

impl ThemeRow {
    fn into_theme(self) -> PartnerResult<Theme> {
        let day = |v: &Option<String>| -> PartnerResult<Option<Day>> {
            v.as_deref()
                .map(|s| Day::parse(s).ok_or_else(|| damaged("theme date", &self.code, s)))
                .transpose()
        };
        Ok(Theme {
            open_from: day(&self.open_from)?,
            open_until: day(&self.open_until)?,
            kpi_codes: unframe(&self.kpi_codes),
            sdg_goals: goals_of(&self.sdg_goals),
            code: self.code,
            title: self.title,
            description: self.description,
            closed: self.closed,
        })
    }
}

fn theme_audit(t: &Theme) -> serde_json::Value {
    json!(t)
}

async fn theme_in(conn: &mut Conn<'_>, code: &str) -> PartnerResult<Option<Theme>> {
    let sql = format!("SELECT {THEME_COLUMNS} FROM partner_proposal_themes WHERE code = $1");
    let row: Option<ThemeRow> = run!(
        conn,
        sqlx::query_as::<_, ThemeRow>(&sql).bind(code),
        fetch_optional
    )?;
    row.map(ThemeRow::into_theme).transpose()
}

#[derive(sqlx::FromRow)]
struct DecisionRow {
    id: i64,
    title: String,
    theme_code: Option<String>,
    theme_title: Option<String>,
    kpi_codes: String,
    sdg_goals: String,
    stage: String,
    decision_reason: String,
    decided_at: Option<String>,
}

/// How a theme is written: a new one, a change of a stored one, or either
/// (the demo city).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThemeWrite {
    Create,
    Update,
    Upsert,
}

impl Store {
    // ----- themes -----

    /// Every theme, open and closed, by code.
    pub async fn themes(&self) -> PartnerResult<Vec<Theme>> {
        let mut pooled = self.read_conn().await?;
        let conn = &mut pooled.conn();
        let sql = format!("SELECT {THEME_COLUMNS} FROM partner_proposal_themes ORDER BY code");
        let rows: Vec<ThemeRow> = run!(conn, sqlx::query_as::<_, ThemeRow>(&sql), fetch_all)?;
        rows.into_iter().map(ThemeRow::into_theme).collect()
    }

    pub async fn theme(&self, code: &str) -> PartnerResult<Option<Theme>> {
        theme_in(&mut self.read_conn().await?.conn(), code).await
    }

    /// Writes a checked theme with its audit row. Creating a code that
    /// exists, or changing one that does not, is refused by field.
    pub async fn save_theme(
        &self,
        t: &Theme,
        mode: ThemeWrite,
        actor: &str,
    ) -> PartnerResult<Theme> {
        let mut tx = self.begin().await?;
        let conn = &mut tx.conn();
        let before = theme_in(conn, &t.code).await?;
        match (&before, mode) {
            (Some(_), ThemeWrite::Create) => {
                return Err(Problems(vec![Problem::new(
                    "code",
                    format!("テーマ「{}」はすでにあります", t.code),
                    format!("theme \"{}\" exists already", t.code),
                )])
                .into());
            }
            (None, ThemeWrite::Update) => {
                return Err(not_found("theme", "テーマ", &t.code));
            }
            _ => {}
        }
        let from = t.open_from.map(|d| d.to_string());
        let until = t.open_until.map(|d| d.to_string());
        if before.is_some() {
            run!(
                conn,
                sqlx::query(
                    "UPDATE partner_proposal_themes SET title = $1, description = $2, kpi_codes = $3, \
                     sdg_goals = $4, open_from = $5, open_until = $6, closed = $7, updated_at = $8 WHERE code = $9"
                )
                .bind(&t.title)
                .bind(&t.description)
                .bind(frame(&t.kpi_codes))
                .bind(goals_text(&t.sdg_goals))
                .bind(&from)
                .bind(&until)
                .bind(t.closed)
                .bind(now_rfc3339())
                .bind(&t.code),
                execute
            )?;
        } else {
            run!(
                conn,
                sqlx::query(
                    "INSERT INTO partner_proposal_themes (code, title, description, kpi_codes, sdg_goals, \
                     open_from, open_until, closed, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
                )
                .bind(&t.code)
                .bind(&t.title)
                .bind(&t.description)
                .bind(frame(&t.kpi_codes))
                .bind(goals_text(&t.sdg_goals))
                .bind(&from)
                .bind(&until)
                .bind(t.closed)
                .bind(now_rfc3339()),
                execute
            )?;
        }
        let after = theme_in(conn, &t.code)
            .await?
            .ok_or_else(|| not_found("theme", "テーマ", &t.code))?;
        audit_in(
            conn,
            actor,
            if before.is_some() { "update" } else { "insert" },
            "partner_theme",
            &t.code,
            before.as_ref().map(theme_audit),
            Some(theme_audit(&after)),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Closes a theme: it takes no more proposals, whatever its dates say.
    pub async fn close_theme(&self, code: &str, actor: &str) -> PartnerResult<Theme> {
        let mut tx = self.begin().await?;
        let conn = &mut tx.conn();
        let before = theme_in(conn, code)
            .await?
            .ok_or_else(|| not_found("theme", "テーマ", code))?;
        run!(
            conn,
            sqlx::query(
                "UPDATE partner_proposal_themes SET closed = $1, updated_at = $2 WHERE code = $3"
            )
            .bind(true)
            .bind(now_rfc3339())
            .bind(code),
            execute
        )?;
        let after = theme_in(conn, code)
            .await?
            .ok_or_else(|| not_found("theme", "テーマ", code))?;
        audit_in(
            conn,
            actor,
            "close",
            "partner_theme",
            code,
            Some(theme_audit(&before)),
            Some(theme_audit(&after)),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    // ----- intake -----

    /// Takes in a checked proposal with its files (name, bytes) in one
    /// transaction with its audit row: every file is checked again here
    /// (kind by content, size, count), and if any is refused nothing is
    /// written. Returns the proposal's id and receipt number.
    pub async fn insert_intake(
        &self,
        n: &NewIntake,
        files: &[(String, Vec<u8>)],
        actor: &str,
    ) -> PartnerResult<(i64, String)> {
        let mut checked = Vec::with_capacity(files.len());
        let mut problems = Vec::new();
        for (i, (name, bytes)) in files.iter().enumerate() {
            match attachment::check(name, bytes, i) {
                Ok(c) => checked.push((c, bytes)),
                Err(p) => problems.extend(p.0.into_iter().map(|mut p| {
                    p.field = "files".into();
                    p
                })),
            }
        }
        if !problems.is_empty() {
            return Err(Problems(problems).into());
        }
        let p = &n.proposal;
        let received_at = now_rfc3339();
        let mut tx = self.begin().await?;
        let conn = &mut tx.conn();
        if let Some(code) = &p.theme_code
            && theme_in(conn, code).await?.is_none()
        {
            return Err(Problems(vec![Problem::new(
                "theme_code",
                format!("テーマ「{code}」はありません"),
                format!("there is no theme \"{code}\""),
            )])
            .into());
        }
        let id: i64 = run!(
            conn,
            sqlx::query_scalar::<_, i64>(
                "INSERT INTO partner_proposals (title, proposer_name, member_id, theme_code, summary, kpi_codes, \
                 sdg_goals, contact_email, publish_consent, stage, rubric, decision_reason, received_at, \
                 contact_person, contact_phone, channel) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL, '', $11, $12, $13, $14) RETURNING id"
            )
            .bind(&p.title)
            .bind(&p.proposer_name)
            .bind(p.member_id)
            .bind(&p.theme_code)
            .bind(&p.summary)
            .bind(frame(&p.kpi_codes))
            .bind(goals_text(&p.sdg_goals))
            .bind(&p.contact_email)
            .bind(p.publish_consent)
            .bind(ProposalStage::Received.code())
            .bind(&received_at)
            .bind(&n.contact_person)
            .bind(&n.contact_phone)
            .bind(n.channel.code()),
            fetch_one
        )
        .map_err(|e| match &e {
            sqlx::Error::Database(d) if d.message().to_lowercase().contains("foreign key") => {
                PartnerError::Invalid(Problems(vec![Problem::new(
                    "member_id",
                    "その会員は登録されていません",
                    "no such member",
                )]))
            }
            _ => PartnerError::from(e),
        })?;
        let mut names = Vec::with_capacity(checked.len());
        for (c, bytes) in &checked {
            let size = i64::try_from(bytes.len()).unwrap_or(i64::MAX);
            run!(
                conn,
                sqlx::query(
                    "INSERT INTO partner_attachments (proposal_id, file_name, media_type, size, content, uploaded_at, uploaded_by) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)"
                )
                .bind(id)
                .bind(&c.file_name)
                .bind(c.kind.media_type())
                .bind(size)
                .bind(bytes.as_slice())
                .bind(&received_at)
                .bind(actor),
                execute
            )?;
            names.push(json!({ "file_name": c.file_name, "size": size }));
        }
        let receipt = receipt_number(id, &received_at);
        audit_in(
            conn,
            actor,
            "insert",
            "partner_proposal",
            &id.to_string(),
            None,
            Some(json!({
                "receipt": receipt,
                "title": p.title,
                "proposer_name": p.proposer_name,
                "theme_code": p.theme_code,
                "kpi_codes": p.kpi_codes,
                "channel": n.channel.code(),
                "publish_consent": p.publish_consent,
                "stage": ProposalStage::Received.code(),
                "files": names,
            })),
        )
        .await?;
        tx.commit().await?;
        Ok((id, receipt))
    }

    /// The desk's intake details of a proposal (contact person, phone, how
    /// it arrived, the receipt number, when it was decided).
    pub async fn intake_details(&self, id: i64) -> PartnerResult<Option<IntakeDetails>> {
        Ok(self.proposal(id).await?.as_ref().map(IntakeDetails::of))
    }

    /// Decided proposals whose proposer agreed to publication, the latest
    /// decision first: what was proposed and decided, never who or how to
    /// reach them.
    pub async fn published_decisions(
        &self,
        page: i64,
        per_page: i64,
    ) -> PartnerResult<Page<PublishedDecision>> {
        let (page, per, offset) = clamp_page(page, per_page);
        let decided: Vec<&str> = ProposalStage::ALL
            .iter()
            .filter(|s| decision_of(**s).is_some())
            .map(|s| s.code())
            .collect();
        let list = decided
            .iter()
            .map(|c| format!("'{c}'"))
            .collect::<Vec<_>>()
            .join(", ");
        let where_sql = format!("WHERE p.publish_consent = $1 AND p.stage IN ({list})");
        let mut pooled = self.read_conn().await?;
        let conn = &mut pooled.conn();
        let total: i64 = run!(
            conn,
            sqlx::query_scalar::<_, i64>(&format!(
                "SELECT COUNT(*) FROM partner_proposals p {where_sql}"
            ))
            .bind(true),
            fetch_one
        )?;
        let sql = format!(
            "SELECT p.id, p.title, p.theme_code, t.title AS theme_title, p.kpi_codes, p.sdg_goals, p.stage, \
             p.decision_reason, p.decided_at FROM partner_proposals p \
             LEFT JOIN partner_proposal_themes t ON t.code = p.theme_code {where_sql} \
             ORDER BY COALESCE(p.decided_at, p.received_at) DESC, p.id DESC LIMIT {per} OFFSET {offset}"
        );
        let rows: Vec<DecisionRow> = run!(
            conn,
            sqlx::query_as::<_, DecisionRow>(&sql).bind(true),
            fetch_all
        )?;
        let items = rows
            .into_iter()
            .map(|r| {
                let stage = ProposalStage::parse(&r.stage)
                    .ok_or_else(|| damaged("stage", r.id, &r.stage))?;
                Ok(PublishedDecision {
                    id: r.id,
                    title: r.title,
                    theme_code: r.theme_code,
                    theme_title: r.theme_title,
                    kpi_codes: unframe(&r.kpi_codes),
                    sdg_goals: goals_of(&r.sdg_goals),
                    adopted: decision_of(stage).unwrap_or(false),
                    reason: r.decision_reason,
                    decided_on: r.decided_at.as_deref().and_then(jst_day),
                })
            })
            .collect::<PartnerResult<Vec<_>>>()?;
        Ok(Page {
            items,
            total,
            page,
            per_page: per,
        })
    }
}
