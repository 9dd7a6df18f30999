//! Storage of the outreach part of the partnerships area: leads
//! with their history of stage moves, events with the leads met there, and
//! the postings that record an event's count as a KPI actual. Every write is
//! one transaction with its audit row; the contact person and e-mail address
//! of a lead never go into the audit log.

use citykpi_domain::partner::outreach::{
    Counts, EventInput, EventKind, Lead, LeadContact, LeadField, LeadInput, LeadStage, Measure,
    MetAt, OutreachEvent, Posting, StageMove, check_move, missing,
};
use citykpi_domain::partner::{Day, Problem, Problems};
use serde_json::json;

use crate::conn::{Conn, run};
use crate::partners::{
    MAX_EXPORT_ROWS, Page, PartnerError, PartnerResult, audit_in, clamp_page_to, damaged, fold,
    frame, goals_of, goals_text, like_pattern, not_found, query_binds, unframe,
};
use crate::{Store, now_rfc3339};

const LEAD: &str = "outreach_lead";
const EVENT: &str = "outreach_event";

/// Which leads a list shows.
#[derive(Debug, Clone)]
pub struct LeadFilter {
    /// The day "overdue" is judged on.
    pub today: Day,
    pub stage: Option<LeadStage>,
    pub field: Option<LeadField>,
    /// Only open leads whose next action's date has passed.
    pub overdue_only: bool,
    /// Part of the name, the place met or the summary.
    pub q: String,
    pub page: i64,
    pub per_page: i64,
}

impl LeadFilter {
    pub fn new(today: Day) -> LeadFilter {
        LeadFilter {
            today,
            stage: None,
            field: None,
            overdue_only: false,
            q: String::new(),
            page: 1,
            per_page: 50,
        }
    }
}

/// Which events a list shows (by default the first 50 of all).
#[derive(Debug, Clone)]
pub struct EventFilter {
    /// Only events of this fiscal year (April to March).
    pub fiscal_year: Option<i32>,
    pub q: String,
    pub page: i64,
    pub per_page: i64,
}

impl Default for EventFilter {
    fn default() -> EventFilter {
        EventFilter {
            fiscal_year: None,
            q: String::new(),
            page: 1,
            per_page: 50,
        }
    }
}

fn conflict(field: &str) -> PartnerError {
    Problems(vec![Problem::new(
        field,
        "他の職員が先に更新しました。開き直してからもう一度保存してください",
        "someone else saved it first; reopen it and save again",
    )])
    .into()
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

// ----- leads -----

const LEAD_COLUMNS: &str = "id, name, member_id, met_at, met_where, first_met_on, field, summary, \
     contact_person, email, stage, kpi_codes, sdg_goals, next_action, next_action_on, version";

#[derive(sqlx::FromRow)]
struct LeadRow {
    id: i64,
    name: String,
    member_id: Option<i64>,
    met_at: String,
    met_where: String,
    first_met_on: String,
    field: String,
    summary: String,
    contact_person: String,
    email: String,
    stage: String,
    kpi_codes: String,
    sdg_goals: String,
    next_action: String,
    next_action_on: Option<String>,
    version: i64,
}

impl LeadRow {
    fn into_lead(self) -> PartnerResult<Lead> {
        let id = self.id;
        let day = |s: &str| Day::parse(s).ok_or_else(|| damaged("date", id, s));
        Ok(Lead {
            id,
            stage: LeadStage::parse(&self.stage)
                .ok_or_else(|| damaged("stage", id, &self.stage))?,
            input: LeadInput {
                name: self.name,
                member_id: self.member_id,
                met_at: MetAt::parse(&self.met_at)
                    .ok_or_else(|| damaged("met_at", id, &self.met_at))?,
                met_where: self.met_where,
                first_met_on: day(&self.first_met_on)?,
                field: LeadField::parse(&self.field)
                    .ok_or_else(|| damaged("field", id, &self.field))?,
                summary: self.summary,
                contact: LeadContact {
                    person: self.contact_person,
                    email: self.email,
                },
                kpi_codes: unframe(&self.kpi_codes),
                sdg_goals: goals_of(&self.sdg_goals),
                next_action: self.next_action,
                next_action_on: self.next_action_on.as_deref().map(day).transpose()?,
            },
            version: self.version,
        })
    }
}

/// The lead as the audit log keeps it: without the contact person's data.
fn lead_audit(l: &Lead) -> serde_json::Value {
    json!({
        "name": l.input.name,
        "member_id": l.input.member_id,
        "met_at": l.input.met_at.code(),
        "met_where": l.input.met_where,
        "field": l.input.field.code(),
        "stage": l.stage.code(),
        "kpi_codes": l.input.kpi_codes,
        "next_action": l.input.next_action,
        "next_action_on": l.input.next_action_on.map(|d| d.to_string()),
    })
}

fn lead_search(l: &LeadInput) -> String {
    fold(&format!("{} {} {}", l.name, l.met_where, l.summary))
}

async fn lead_in(conn: &mut Conn<'_>, id: i64) -> PartnerResult<Option<Lead>> {
    let sql = format!("SELECT {LEAD_COLUMNS} FROM outreach_leads WHERE id = $1");
    let row: Option<LeadRow> = run!(
        conn,
        sqlx::query_as::<_, LeadRow>(&sql).bind(id),
        fetch_optional
    )?;
    row.map(LeadRow::into_lead).transpose()
}

/// A member number must name a registered member.
async fn check_member(conn: &mut Conn<'_>, member_id: Option<i64>) -> PartnerResult<()> {
    let Some(id) = member_id else {
        return Ok(());
    };
    let n: i64 = run!(
        conn,
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM partner_members WHERE id = $1").bind(id),
        fetch_one
    )?;
    if n == 0 {
        return Err(Problems(vec![missing("member_id", "会員番号", "member", id)]).into());
    }
    Ok(())
}

async fn insert_move(conn: &mut Conn<'_>, lead_id: i64, m: &StageMove) -> PartnerResult<()> {
    run!(
        conn,
        sqlx::query(
            "INSERT INTO outreach_lead_moves (lead_id, from_stage, to_stage, on_day, note, moved_by, moved_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)"
        )
        .bind(lead_id)
        .bind(m.from.map(|s| s.code()))
        .bind(m.to.code())
        .bind(m.on.to_string())
        .bind(&m.note)
        .bind(&m.by)
        .bind(now_rfc3339()),
        execute
    )?;
    Ok(())
}

async fn insert_lead_in(
    conn: &mut Conn<'_>,
    l: &LeadInput,
    stage: LeadStage,
    actor: &str,
) -> PartnerResult<i64> {
    let now = now_rfc3339();
    let id: i64 = run!(
        conn,
        sqlx::query_scalar::<_, i64>(
            "INSERT INTO outreach_leads (name, search_fold, member_id, met_at, met_where, first_met_on, field, \
             summary, contact_person, email, stage, kpi_codes, sdg_goals, next_action, next_action_on, \
             created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17) RETURNING id"
        )
        .bind(&l.name)
        .bind(lead_search(l))
        .bind(l.member_id)
        .bind(l.met_at.code())
        .bind(&l.met_where)
        .bind(l.first_met_on.to_string())
        .bind(l.field.code())
        .bind(&l.summary)
        .bind(&l.contact.person)
        .bind(&l.contact.email)
        .bind(stage.code())
        .bind(frame(&l.kpi_codes))
        .bind(goals_text(&l.sdg_goals))
        .bind(&l.next_action)
        .bind(l.next_action_on.map(|d| d.to_string()))
        .bind(actor)
        .bind(&now),
        fetch_one
    )?;
    insert_move(
        conn,
        id,
        &StageMove {
            from: None,
            to: stage,
            on: l.first_met_on,
            note: String::new(),
            by: actor.to_string(),
        },
    )
    .await?;
    Ok(id)
}

impl Store {
    /// Records a new lead at 接触 (its history starts with that day).
    pub async fn insert_lead(&self, l: &LeadInput, actor: &str) -> PartnerResult<Lead> {
        let mut tx = self.begin().await?;
        let conn = &mut tx.conn();
        check_member(conn, l.member_id).await?;
        let id = insert_lead_in(conn, l, LeadStage::Contact, actor).await?;
        let lead = lead_in(conn, id)
            .await?
            .ok_or_else(|| not_found("lead", "リード", id))?;
        audit_in(
            conn,
            actor,
            "insert",
            LEAD,
            &id.to_string(),
            None,
            Some(lead_audit(&lead)),
        )
        .await?;
        tx.commit().await?;
        Ok(lead)
    }

    /// Saves a lead's fields if it is still at `expected_version` (the
    /// version the editor loaded); its stage moves only by [`Store::move_lead`].
    pub async fn update_lead(
        &self,
        id: i64,
        l: &LeadInput,
        expected_version: i64,
        actor: &str,
    ) -> PartnerResult<Lead> {
        let mut tx = self.begin().await?;
        let conn = &mut tx.conn();
        let before = lead_in(conn, id)
            .await?
            .ok_or_else(|| not_found("lead", "リード", id))?;
        if before.version != expected_version {
            return Err(conflict("name"));
        }
        if &before.input == l {
            return Ok(before);
        }
        check_member(conn, l.member_id).await?;
        let n = run!(
            conn,
            sqlx::query(
                "UPDATE outreach_leads SET name = $1, search_fold = $2, member_id = $3, met_at = $4, \
                 met_where = $5, first_met_on = $6, field = $7, summary = $8, contact_person = $9, \
                 email = $10, kpi_codes = $11, sdg_goals = $12, next_action = $13, next_action_on = $14, \
                 updated_at = $15, version = version + 1 WHERE id = $16 AND version = $17"
            )
            .bind(&l.name)
            .bind(lead_search(l))
            .bind(l.member_id)
            .bind(l.met_at.code())
            .bind(&l.met_where)
            .bind(l.first_met_on.to_string())
            .bind(l.field.code())
            .bind(&l.summary)
            .bind(&l.contact.person)
            .bind(&l.contact.email)
            .bind(frame(&l.kpi_codes))
            .bind(goals_text(&l.sdg_goals))
            .bind(&l.next_action)
            .bind(l.next_action_on.map(|d| d.to_string()))
            .bind(now_rfc3339())
            .bind(id)
            .bind(expected_version),
            execute
        )?;
        if n != 1 {
            return Err(conflict("name"));
        }
        let after = lead_in(conn, id)
            .await?
            .ok_or_else(|| not_found("lead", "リード", id))?;
        audit_in(
            conn,
            actor,
            "update",
            LEAD,
            &id.to_string(),
            Some(lead_audit(&before)),
            Some(lead_audit(&after)),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Moves a lead's stage by the domain's rules ([`check_move`]), adding the
    /// move to its history, in one transaction with its audit row.
    pub async fn move_lead(
        &self,
        id: i64,
        to: &str,
        on: &str,
        note: &str,
        today: Day,
        actor: &str,
    ) -> PartnerResult<Lead> {
        let mut tx = self.begin().await?;
        let conn = &mut tx.conn();
        let before = lead_in(conn, id)
            .await?
            .ok_or_else(|| not_found("lead", "リード", id))?;
        let m = check_move(
            before.stage,
            to,
            on,
            note,
            before.input.first_met_on,
            today,
            actor,
        )?;
        // Guarded by the stage read above: of two staff moving at once, one wins.
        let n = run!(
            conn,
            sqlx::query(
                "UPDATE outreach_leads SET stage = $1, updated_at = $2, version = version + 1 \
                 WHERE id = $3 AND stage = $4"
            )
            .bind(m.to.code())
            .bind(now_rfc3339())
            .bind(id)
            .bind(before.stage.code()),
            execute
        )?;
        if n != 1 {
            return Err(conflict("to"));
        }
        insert_move(conn, id, &m).await?;
        let after = lead_in(conn, id)
            .await?
            .ok_or_else(|| not_found("lead", "リード", id))?;
        audit_in(
            conn,
            actor,
            "move",
            LEAD,
            &id.to_string(),
            Some(json!({ "stage": before.stage.code() })),
            Some(json!({ "stage": m.to.code(), "on": m.on.to_string(), "note": m.note })),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    pub async fn lead(&self, id: i64) -> PartnerResult<Option<Lead>> {
        lead_in(&mut self.read_conn().await?.conn(), id).await
    }

    /// A lead's history of stage moves, oldest first.
    pub async fn lead_moves(&self, id: i64) -> PartnerResult<Vec<StageMove>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            from_stage: Option<String>,
            to_stage: String,
            on_day: String,
            note: String,
            moved_by: String,
        }
        let mut pooled = self.read_conn().await?;
        let conn = &mut pooled.conn();
        let rows: Vec<Row> = run!(
            conn,
            sqlx::query_as::<_, Row>(
                "SELECT from_stage, to_stage, on_day, note, moved_by FROM outreach_lead_moves \
                 WHERE lead_id = $1 ORDER BY id"
            )
            .bind(id),
            fetch_all
        )?;
        rows.into_iter()
            .map(|r| {
                Ok(StageMove {
                    from: match r.from_stage.as_deref() {
                        None => None,
                        Some(s) => {
                            Some(LeadStage::parse(s).ok_or_else(|| damaged("from_stage", id, s))?)
                        }
                    },
                    to: LeadStage::parse(&r.to_stage)
                        .ok_or_else(|| damaged("to_stage", id, &r.to_stage))?,
                    on: Day::parse(&r.on_day).ok_or_else(|| damaged("on_day", id, &r.on_day))?,
                    note: r.note,
                    by: r.moved_by,
                })
            })
            .collect()
    }

    /// Leads for staff: those with the earliest next action first (none last), then newest.
    pub async fn leads(&self, f: &LeadFilter) -> PartnerResult<Page<Lead>> {
        self.leads_upto(f, crate::partners::MAX_PER_PAGE).await
    }

    /// Every lead the filter finds (its page ignored), for exports.
    pub async fn leads_for_export(&self, f: &LeadFilter) -> PartnerResult<Vec<Lead>> {
        let all = LeadFilter {
            page: 1,
            per_page: MAX_EXPORT_ROWS,
            ..f.clone()
        };
        Ok(self.leads_upto(&all, MAX_EXPORT_ROWS).await?.items)
    }

    async fn leads_upto(&self, f: &LeadFilter, max: i64) -> PartnerResult<Page<Lead>> {
        let (page, per, offset) = clamp_page_to(f.page, f.per_page, max);
        let mut wheres = Vec::new();
        let mut binds: Vec<String> = Vec::new();
        if let Some(s) = f.stage {
            binds.push(s.code().to_string());
            wheres.push(format!("stage = ${}", binds.len()));
        }
        if let Some(fd) = f.field {
            binds.push(fd.code().to_string());
            wheres.push(format!("field = ${}", binds.len()));
        }
        if f.overdue_only {
            binds.push(f.today.to_string());
            wheres.push(format!(
                "stage NOT IN ('implemented', 'declined') AND next_action_on IS NOT NULL AND next_action_on < ${}",
                binds.len()
            ));
        }
        if !f.q.trim().is_empty() {
            binds.push(like_pattern(&f.q));
            wheres.push(format!("search_fold LIKE ${} ESCAPE '\\'", binds.len()));
        }
        let where_sql = if wheres.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", wheres.join(" AND "))
        };
        let mut pooled = self.read_conn().await?;
        let conn = &mut pooled.conn();
        let count_sql = format!("SELECT COUNT(*) AS n FROM outreach_leads {where_sql}");
        let total: (i64,) = query_binds!(conn, (i64,), &count_sql, &binds, fetch_one)?;
        let sql = format!(
            "SELECT {LEAD_COLUMNS} FROM outreach_leads {where_sql} \
             ORDER BY CASE WHEN next_action_on IS NULL THEN 1 ELSE 0 END, next_action_on, id DESC \
             LIMIT {per} OFFSET {offset}"
        );
        let rows: Vec<LeadRow> = query_binds!(conn, LeadRow, &sql, &binds, fetch_all)?;
        Ok(Page {
            items: rows
                .into_iter()
                .map(LeadRow::into_lead)
                .collect::<PartnerResult<_>>()?,
            total: total.0,
            page,
            per_page: per,
        })
    }

    /// How many leads stand at each stage (stages without leads left out).
    pub async fn lead_stage_counts(&self) -> PartnerResult<Vec<(LeadStage, i64)>> {
        let mut pooled = self.read_conn().await?;
        let conn = &mut pooled.conn();
        let rows: Vec<(String, i64)> = run!(
            conn,
            sqlx::query_as::<_, (String, i64)>(
                "SELECT stage, COUNT(*) FROM outreach_leads GROUP BY stage"
            ),
            fetch_all
        )?;
        rows.into_iter()
            .map(|(s, n)| {
                LeadStage::parse(&s)
                    .map(|st| (st, n))
                    .ok_or_else(|| damaged("stage", "", &s))
            })
            .collect()
    }

    // ----- events -----

    /// Records an event with the leads met there.
    pub async fn insert_event(&self, e: &EventInput, actor: &str) -> PartnerResult<OutreachEvent> {
        let mut tx = self.begin().await?;
        let conn = &mut tx.conn();
        check_leads(conn, &e.lead_ids).await?;
        let id: i64 = run!(
            conn,
            sqlx::query_scalar::<_, i64>(
                "INSERT INTO outreach_events (title, search_fold, kind, held_on, place, section_code, attendees, \
                 visitors, relationship_population, firms_attracted, kpi_codes, sdg_goals, note, created_by, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id"
            )
            .bind(&e.title)
            .bind(event_search(e))
            .bind(e.kind.code())
            .bind(e.held_on.to_string())
            .bind(&e.place)
            .bind(&e.section_code)
            .bind(to_i64(e.counts.attendees))
            .bind(to_i64(e.counts.visitors))
            .bind(to_i64(e.counts.relationship_population))
            .bind(to_i64(e.counts.firms_attracted))
            .bind(frame(&e.kpi_codes))
            .bind(goals_text(&e.sdg_goals))
            .bind(&e.note)
            .bind(actor)
            .bind(now_rfc3339()),
            fetch_one
        )?;
        write_event_leads(conn, id, &e.lead_ids).await?;
        let after = event_in(conn, id)
            .await?
            .ok_or_else(|| not_found("event", "催し", id))?;
        audit_in(
            conn,
            actor,
            "insert",
            EVENT,
            &id.to_string(),
            None,
            Some(json!(after)),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Saves an event if it is still at `expected_version`.
    pub async fn update_event(
        &self,
        id: i64,
        e: &EventInput,
        expected_version: i64,
        actor: &str,
    ) -> PartnerResult<OutreachEvent> {
        let mut tx = self.begin().await?;
        let conn = &mut tx.conn();
        let before = event_in(conn, id)
            .await?
            .ok_or_else(|| not_found("event", "催し", id))?;
        if before.version != expected_version {
            return Err(conflict("title"));
        }
        if &before.input == e {
            return Ok(before);
        }
        check_leads(conn, &e.lead_ids).await?;
        let n = run!(
            conn,
            sqlx::query(
                "UPDATE outreach_events SET title = $1, search_fold = $2, kind = $3, held_on = $4, place = $5, \
                 section_code = $6, attendees = $7, visitors = $8, relationship_population = $9, \
                 firms_attracted = $10, kpi_codes = $11, sdg_goals = $12, note = $13, updated_at = $14, \
                 version = version + 1 WHERE id = $15 AND version = $16"
            )
            .bind(&e.title)
            .bind(event_search(e))
            .bind(e.kind.code())
            .bind(e.held_on.to_string())
            .bind(&e.place)
            .bind(&e.section_code)
            .bind(to_i64(e.counts.attendees))
            .bind(to_i64(e.counts.visitors))
            .bind(to_i64(e.counts.relationship_population))
            .bind(to_i64(e.counts.firms_attracted))
            .bind(frame(&e.kpi_codes))
            .bind(goals_text(&e.sdg_goals))
            .bind(&e.note)
            .bind(now_rfc3339())
            .bind(id)
            .bind(expected_version),
            execute
        )?;
        if n != 1 {
            return Err(conflict("title"));
        }
        run!(
            conn,
            sqlx::query("DELETE FROM outreach_event_leads WHERE event_id = $1").bind(id),
            execute
        )?;
        write_event_leads(conn, id, &e.lead_ids).await?;
        let after = event_in(conn, id)
            .await?
            .ok_or_else(|| not_found("event", "催し", id))?;
        audit_in(
            conn,
            actor,
            "update",
            EVENT,
            &id.to_string(),
            Some(json!(before)),
            Some(json!(after)),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    pub async fn event(&self, id: i64) -> PartnerResult<Option<OutreachEvent>> {
        event_in(&mut self.read_conn().await?.conn(), id).await
    }

    /// Events, newest first.
    pub async fn events(&self, f: &EventFilter) -> PartnerResult<Page<OutreachEvent>> {
        self.events_upto(f, crate::partners::MAX_PER_PAGE).await
    }

    /// Every event the filter finds (its page ignored): exports and the sums by KPI.
    pub async fn events_all(&self, f: &EventFilter) -> PartnerResult<Vec<OutreachEvent>> {
        let all = EventFilter {
            page: 1,
            per_page: MAX_EXPORT_ROWS,
            ..f.clone()
        };
        Ok(self.events_upto(&all, MAX_EXPORT_ROWS).await?.items)
    }

    async fn events_upto(&self, f: &EventFilter, max: i64) -> PartnerResult<Page<OutreachEvent>> {
        let (page, per, offset) = clamp_page_to(f.page, f.per_page, max);
        let mut wheres = Vec::new();
        let mut binds: Vec<String> = Vec::new();
        if let Some(fy) = f.fiscal_year {
            binds.push(format!("{fy:04}-04-01"));
            binds.push(format!("{:04}-04-01", fy + 1));
            wheres.push(format!(
                "held_on >= ${} AND held_on < ${}",
                binds.len() - 1,
                binds.len()
            ));
        }
        if !f.q.trim().is_empty() {
            binds.push(like_pattern(&f.q));
            wheres.push(format!("search_fold LIKE ${} ESCAPE '\\'", binds.len()));
        }
        let where_sql = if wheres.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", wheres.join(" AND "))
        };
        let mut pooled = self.read_conn().await?;
        let conn = &mut pooled.conn();
        let count_sql = format!("SELECT COUNT(*) AS n FROM outreach_events {where_sql}");
        let total: (i64,) = query_binds!(conn, (i64,), &count_sql, &binds, fetch_one)?;
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM outreach_events {where_sql} ORDER BY held_on DESC, id DESC \
             LIMIT {per} OFFSET {offset}"
        );
        let rows: Vec<EventRow> = query_binds!(conn, EventRow, &sql, &binds, fetch_all)?;
        let items = with_leads(conn, rows).await?;
        Ok(Page {
            items,
            total: total.0,
            page,
            per_page: per,
        })
    }

    /// The events a lead was met at, newest first.
    pub async fn events_of_lead(&self, lead_id: i64) -> PartnerResult<Vec<OutreachEvent>> {
        let mut pooled = self.read_conn().await?;
        let conn = &mut pooled.conn();
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM outreach_events WHERE id IN \
             (SELECT event_id FROM outreach_event_leads WHERE lead_id = $1) ORDER BY held_on DESC, id DESC"
        );
        let rows: Vec<EventRow> = run!(
            conn,
            sqlx::query_as::<_, EventRow>(&sql).bind(lead_id),
            fetch_all
        )?;
        with_leads(conn, rows).await
    }

    // ----- counts recorded as KPI actuals -----

    /// Postings to a KPI (or to all KPIs with `None`), by KPI, period and event.
    pub async fn postings(&self, kpi_code: Option<&str>) -> PartnerResult<Vec<Posting>> {
        match kpi_code {
            Some(k) => postings_where(self, "kpi_code = $1", PostingKey::Kpi(k)).await,
            None => postings_where(self, "TRUE", PostingKey::None).await,
        }
    }

    /// One event's postings.
    pub async fn postings_of_event(&self, event_id: i64) -> PartnerResult<Vec<Posting>> {
        postings_where(self, "event_id = $1", PostingKey::Event(event_id)).await
    }

    /// Records (or replaces) an event's posting to a KPI, in one transaction
    /// with its audit row. The KPI's observation is written by the caller
    /// through the service that records every actual.
    pub async fn record_posting(&self, p: &Posting, actor: &str) -> PartnerResult<()> {
        let mut tx = self.begin().await?;
        let conn = &mut tx.conn();
        if event_in(conn, p.event_id).await?.is_none() {
            return Err(not_found("event", "催し", p.event_id));
        }
        let before: Option<(String, String, i64)> = run!(
            conn,
            sqlx::query_as::<_, (String, String, i64)>(
                "SELECT measure, period, value FROM outreach_postings WHERE event_id = $1 AND kpi_code = $2"
            )
            .bind(p.event_id)
            .bind(&p.kpi_code),
            fetch_optional
        )?;
        run!(
            conn,
            sqlx::query("DELETE FROM outreach_postings WHERE event_id = $1 AND kpi_code = $2")
                .bind(p.event_id)
                .bind(&p.kpi_code),
            execute
        )?;
        run!(
            conn,
            sqlx::query(
                "INSERT INTO outreach_postings (event_id, kpi_code, measure, period, value, posted_by, posted_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)"
            )
            .bind(p.event_id)
            .bind(&p.kpi_code)
            .bind(p.measure.code())
            .bind(&p.period)
            .bind(to_i64(p.value))
            .bind(&p.posted_by)
            .bind(&p.posted_at),
            execute
        )?;
        audit_in(
            conn,
            actor,
            if before.is_some() { "repost" } else { "post" },
            EVENT,
            &p.event_id.to_string(),
            before.map(|(m, per, v)| json!({ "measure": m, "period": per, "value": v })),
            Some(json!({
                "kpi_code": p.kpi_code,
                "measure": p.measure.code(),
                "period": p.period,
                "value": p.value,
            })),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Removes every lead, event and posting (the demo rebuilds them).
    pub async fn clear_outreach(&self) -> PartnerResult<()> {
        let mut tx = self.begin().await?;
        let conn = &mut tx.conn();
        for table in [
            "outreach_postings",
            "outreach_event_leads",
            "outreach_lead_moves",
            "outreach_events",
            "outreach_leads",
        ] {
            run!(conn, sqlx::query(&format!("DELETE FROM {table}")), execute)?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// What `postings_where`'s `$1` is.
enum PostingKey<'a> {
    None,
    Kpi(&'a str),
    Event(i64),
}

async fn postings_where(
    store: &Store,
    where_sql: &str,
    key: PostingKey<'_>,
) -> PartnerResult<Vec<Posting>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        event_id: i64,
        kpi_code: String,
        measure: String,
        period: String,
        value: i64,
        posted_by: String,
        posted_at: String,
    }
    let mut pooled = store.read_conn().await?;
    let conn = &mut pooled.conn();
    let sql = format!(
        "SELECT event_id, kpi_code, measure, period, value, posted_by, posted_at FROM outreach_postings \
         WHERE {where_sql} ORDER BY kpi_code, period, event_id"
    );
    let rows: Vec<Row> = match key {
        PostingKey::None => run!(conn, sqlx::query_as::<_, Row>(&sql), fetch_all)?,
        PostingKey::Kpi(k) => run!(conn, sqlx::query_as::<_, Row>(&sql).bind(k), fetch_all)?,
        PostingKey::Event(e) => run!(conn, sqlx::query_as::<_, Row>(&sql).bind(e), fetch_all)?,
    };
    rows.into_iter()
        .map(|r| {
            Ok(Posting {
                measure: Measure::parse(&r.measure)
                    .ok_or_else(|| damaged("measure", r.event_id, &r.measure))?,
                event_id: r.event_id,
                kpi_code: r.kpi_code,
                period: r.period,
                value: to_u64(r.value),
                posted_by: r.posted_by,
                posted_at: r.posted_at,
            })
        })
        .collect()
}

// ----- event helpers -----

const EVENT_COLUMNS: &str = "id, title, kind, held_on, place, section_code, attendees, visitors, \
     relationship_population, firms_attracted, kpi_codes, sdg_goals, note, version";

#[derive(sqlx::FromRow)]
struct EventRow {
    id: i64,
    title: String,
    kind: String,
    held_on: String,
    place: String,
    section_code: String,
    attendees: i64,
    visitors: i64,
    relationship_population: i64,
    firms_attracted: i64,
    kpi_codes: String,
    sdg_goals: String,
    note: String,
    version: i64,
}

impl EventRow {
    fn into_event(self, lead_ids: Vec<i64>) -> PartnerResult<OutreachEvent> {
        let id = self.id;
        Ok(OutreachEvent {
            id,
            input: EventInput {
                title: self.title,
                kind: EventKind::parse(&self.kind)
                    .ok_or_else(|| damaged("kind", id, &self.kind))?,
                held_on: Day::parse(&self.held_on)
                    .ok_or_else(|| damaged("held_on", id, &self.held_on))?,
                place: self.place,
                section_code: self.section_code,
                counts: Counts {
                    attendees: to_u64(self.attendees),
                    visitors: to_u64(self.visitors),
                    relationship_population: to_u64(self.relationship_population),
                    firms_attracted: to_u64(self.firms_attracted),
                },
                kpi_codes: unframe(&self.kpi_codes),
                sdg_goals: goals_of(&self.sdg_goals),
                lead_ids,
                note: self.note,
            },
            version: self.version,
        })
    }
}

fn event_search(e: &EventInput) -> String {
    fold(&format!("{} {} {}", e.title, e.place, e.note))
}

async fn event_in(conn: &mut Conn<'_>, id: i64) -> PartnerResult<Option<OutreachEvent>> {
    let sql = format!("SELECT {EVENT_COLUMNS} FROM outreach_events WHERE id = $1");
    let row: Option<EventRow> = run!(
        conn,
        sqlx::query_as::<_, EventRow>(&sql).bind(id),
        fetch_optional
    )?;
    match row {
        Some(r) => Ok(Some(with_leads(conn, vec![r]).await?.remove(0))),
        None => Ok(None),
    }
}

/// The events of `rows` with the leads met at each, in one query.
async fn with_leads(conn: &mut Conn<'_>, rows: Vec<EventRow>) -> PartnerResult<Vec<OutreachEvent>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    // Ids come from the database as integers: safe to write into the SQL.
    let ids: Vec<String> = rows.iter().map(|r| r.id.to_string()).collect();
    let sql = format!(
        "SELECT event_id, lead_id FROM outreach_event_leads WHERE event_id IN ({}) ORDER BY event_id, lead_id",
        ids.join(",")
    );
    let pairs: Vec<(i64, i64)> = run!(conn, sqlx::query_as::<_, (i64, i64)>(&sql), fetch_all)?;
    rows.into_iter()
        .map(|r| {
            let leads = pairs
                .iter()
                .filter(|(e, _)| *e == r.id)
                .map(|(_, l)| *l)
                .collect();
            r.into_event(leads)
        })
        .collect()
}

/// Every lead number of an event must name a recorded lead.
async fn check_leads(conn: &mut Conn<'_>, ids: &[i64]) -> PartnerResult<()> {
    let mut problems = Vec::new();
    for id in ids {
        let n: i64 = run!(
            conn,
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM outreach_leads WHERE id = $1")
                .bind(id),
            fetch_one
        )?;
        if n == 0 {
            problems.push(missing("lead_ids", "リード番号", "lead", id));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Problems(problems).into())
    }
}

async fn write_event_leads(conn: &mut Conn<'_>, event_id: i64, ids: &[i64]) -> PartnerResult<()> {
    for lead in ids {
        run!(
            conn,
            sqlx::query("INSERT INTO outreach_event_leads (event_id, lead_id) VALUES ($1, $2)")
                .bind(event_id)
                .bind(lead),
            execute
        )?;
    }
    Ok(())
}
