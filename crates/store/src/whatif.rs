//! Storage of the budget what-if: named scenarios of the re-allocation
//! optimiser (the rules and the result as JSON, read back by the app) and
//! the proposals a scenario sends to finance's assessment. A proposal never
//! changes a request by itself: accepting one writes the assessed amount in
//! the same transaction, rejecting one leaves the request as it is. Every
//! write is one transaction with its audit rows.

use citykpi_domain::FiscalYear;
use citykpi_domain::cycle::stage::Cycle;
use citykpi_domain::cycle::{CycleError, FieldError};
use serde::{Deserialize, Serialize};

use crate::conn::run;
use crate::cycle::{audit_row, ensure_open, request_one, write_request};
use crate::{CycleResult, CycleStoreError, Store, now_rfc3339};

/// A saved scenario without its body (for lists).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WhatIfHead {
    pub id: i64,
    /// The budget year.
    pub fy: i32,
    pub name: String,
    pub saved_by: String,
    pub saved_at: String,
}

/// A saved scenario with its body (JSON written by the app).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredWhatIf {
    #[serde(flatten)]
    pub head: WhatIfHead,
    pub body: serde_json::Value,
}

/// One proposal to send: the assessed amount a scenario suggests for a request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewProposal {
    pub program_code: String,
    pub proposed: i64,
    /// The optimiser's option (`abolish`, `reduce`, `keep`, `expand`).
    pub option_kind: String,
    pub reason: String,
}

/// A proposal as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredProposal {
    pub id: i64,
    pub fy: i32,
    pub program_code: String,
    pub scenario_id: i64,
    pub scenario_name: String,
    pub proposed: i64,
    pub option_kind: String,
    pub reason: String,
    /// `open`, `accepted`, `rejected` or `superseded` (a later send replaced it).
    pub state: String,
    pub sent_by: String,
    pub sent_at: String,
    pub decided_by: String,
    pub decided_at: String,
}

type HeadRow = (i64, i64, String, String, String);
type ProposalRow = (
    i64,
    i64,
    String,
    i64,
    String,
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
);

const PROPOSAL_COLUMNS: &str = "id, fy, program_code, scenario_id, scenario_name, proposed, \
     option_kind, reason, state, sent_by, sent_at, decided_by, decided_at";

fn head_of(r: HeadRow) -> WhatIfHead {
    WhatIfHead {
        id: r.0,
        fy: r.1 as i32,
        name: r.2,
        saved_by: r.3,
        saved_at: r.4,
    }
}

fn proposal_of(r: ProposalRow) -> StoredProposal {
    StoredProposal {
        id: r.0,
        fy: r.1 as i32,
        program_code: r.2,
        scenario_id: r.3,
        scenario_name: r.4,
        proposed: r.5,
        option_kind: r.6,
        reason: r.7,
        state: r.8,
        sent_by: r.9,
        sent_at: r.10,
        decided_by: r.11,
        decided_at: r.12,
    }
}

fn refused(field: &str, ja: String, en: String) -> CycleStoreError {
    CycleError::Invalid(vec![FieldError::new(field, ja, en)]).into()
}

impl Store {
    /// The saved scenarios of a budget year, newest first.
    pub async fn whatif_scenarios(&self, fy: FiscalYear) -> CycleResult<Vec<WhatIfHead>> {
        let mut pooled = self.read_conn().await?;
        let conn = &mut pooled.conn();
        let rows: Vec<HeadRow> = run!(
            conn,
            sqlx::query_as(
                "SELECT id, fy, name, saved_by, saved_at FROM whatif_scenarios \
                 WHERE fy = $1 ORDER BY id DESC"
            )
            .bind(i64::from(fy.year())),
            fetch_all
        )?;
        Ok(rows.into_iter().map(head_of).collect())
    }

    /// One saved scenario with its body.
    pub async fn whatif_scenario(&self, id: i64) -> CycleResult<Option<StoredWhatIf>> {
        let mut pooled = self.read_conn().await?;
        let conn = &mut pooled.conn();
        let row: Option<(i64, i64, String, String, String, String)> = run!(
            conn,
            sqlx::query_as(
                "SELECT id, fy, name, saved_by, saved_at, body FROM whatif_scenarios WHERE id = $1"
            )
            .bind(id),
            fetch_optional
        )?;
        let Some((id, fy, name, saved_by, saved_at, body)) = row else {
            return Ok(None);
        };
        let body = serde_json::from_str(&body).map_err(|e| CycleStoreError::Damaged {
            what_ja: "試算シナリオ",
            what_en: "what-if scenario",
            key: id.to_string(),
            message: e.to_string(),
        })?;
        Ok(Some(StoredWhatIf {
            head: head_of((id, fy, name, saved_by, saved_at)),
            body,
        }))
    }

    /// Saves a named scenario of the budget year `fy`; a name already used
    /// in that year is refused (field `name`). `summary` goes to the audit
    /// row (the body of a large scenario would swell the log). Returns the id.
    pub async fn save_whatif_scenario(
        &self,
        fy: FiscalYear,
        name: &str,
        body: &serde_json::Value,
        summary: &serde_json::Value,
        actor: &str,
    ) -> CycleResult<i64> {
        let mut tx = self.begin().await?;
        let conn = &mut tx.conn();
        let taken: Option<i64> = run!(
            conn,
            sqlx::query_scalar::<_, i64>(
                "SELECT id FROM whatif_scenarios WHERE fy = $1 AND name = $2"
            )
            .bind(i64::from(fy.year()))
            .bind(name),
            fetch_optional
        )?;
        if taken.is_some() {
            return Err(refused(
                "name",
                format!("「{name}」という名前の試算はすでにあります。別の名前にしてください"),
                format!("a scenario named \"{name}\" already exists; choose another name"),
            ));
        }
        let id: i64 = run!(
            conn,
            sqlx::query_scalar::<_, i64>(
                "INSERT INTO whatif_scenarios (fy, name, body, saved_by, saved_at) \
                 VALUES ($1, $2, $3, $4, $5) RETURNING id"
            )
            .bind(i64::from(fy.year()))
            .bind(name)
            .bind(body.to_string())
            .bind(actor)
            .bind(now_rfc3339()),
            fetch_one
        )?;
        let after =
            serde_json::json!({ "id": id, "fy": fy.year(), "name": name, "summary": summary });
        audit_row(
            conn,
            actor,
            "save",
            "whatif_scenario",
            &id.to_string(),
            None,
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Proposals of the budget year `fy` (every state), by program then newest first.
    pub async fn budget_proposals(&self, fy: FiscalYear) -> CycleResult<Vec<StoredProposal>> {
        let mut pooled = self.read_conn().await?;
        let conn = &mut pooled.conn();
        let sql = format!(
            "SELECT {PROPOSAL_COLUMNS} FROM budget_proposals WHERE fy = $1 \
             ORDER BY program_code, id DESC"
        );
        let rows: Vec<ProposalRow> = run!(
            conn,
            sqlx::query_as(&sql).bind(i64::from(fy.year())),
            fetch_all
        )?;
        Ok(rows.into_iter().map(proposal_of).collect())
    }

    /// Sends a scenario's proposals to the assessment of `fy`: the open
    /// proposals of the year are superseded, the new ones are open. The
    /// requests themselves are not touched. The cycle building `fy` must be
    /// open. One audit row per proposal. Returns how many were sent.
    pub async fn send_budget_proposals(
        &self,
        fy: FiscalYear,
        scenario_id: i64,
        scenario_name: &str,
        proposals: &[NewProposal],
        actor: &str,
    ) -> CycleResult<usize> {
        let mut tx = self.begin().await?;
        let conn = &mut tx.conn();
        ensure_open(conn, Cycle::fy_for_budget(fy)).await?;
        let now = now_rfc3339();
        let superseded = run!(
            conn,
            sqlx::query(
                "UPDATE budget_proposals SET state = 'superseded', decided_by = $2, decided_at = $3 \
                 WHERE fy = $1 AND state = 'open'"
            )
            .bind(i64::from(fy.year()))
            .bind(actor)
            .bind(&now),
            execute
        )?;
        if superseded > 0 {
            let after = serde_json::json!({ "fy": fy.year(), "superseded": superseded });
            audit_row(
                conn,
                actor,
                "supersede",
                "budget_proposal",
                &fy.year().to_string(),
                None,
                Some(&after),
            )
            .await?;
        }
        for p in proposals {
            if request_one(conn, &p.program_code, fy).await?.is_none() {
                return Err(CycleStoreError::NotFound {
                    what_ja: "予算要求",
                    what_en: "budget request",
                    key: format!("{}/{}", p.program_code, fy.year()),
                });
            }
            let id: i64 = run!(
                conn,
                sqlx::query_scalar::<_, i64>(
                    "INSERT INTO budget_proposals (fy, program_code, scenario_id, scenario_name, proposed, \
                     option_kind, reason, state, sent_by, sent_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, 'open', $8, $9) RETURNING id"
                )
                .bind(i64::from(fy.year()))
                .bind(&p.program_code)
                .bind(scenario_id)
                .bind(scenario_name)
                .bind(p.proposed)
                .bind(&p.option_kind)
                .bind(&p.reason)
                .bind(actor)
                .bind(&now),
                fetch_one
            )?;
            audit_row(
                conn,
                actor,
                "send",
                "budget_proposal",
                &id.to_string(),
                None,
                Some(p),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(proposals.len())
    }

    /// Finance's decision on one open proposal. Accepting writes the
    /// proposed amount as the request's assessed amount (the request's
    /// version moves on, as with a typed assessment); rejecting leaves the
    /// request as it is. A proposal no longer open is refused (field
    /// `proposal`). Returns the proposal as decided.
    pub async fn decide_budget_proposal(
        &self,
        id: i64,
        accept: bool,
        actor: &str,
    ) -> CycleResult<StoredProposal> {
        let mut tx = self.begin().await?;
        let conn = &mut tx.conn();
        let sql = format!("SELECT {PROPOSAL_COLUMNS} FROM budget_proposals WHERE id = $1");
        let row: Option<ProposalRow> = run!(conn, sqlx::query_as(&sql).bind(id), fetch_optional)?;
        let before = row
            .map(proposal_of)
            .ok_or_else(|| CycleStoreError::NotFound {
                what_ja: "査定案",
                what_en: "proposal",
                key: id.to_string(),
            })?;
        if before.state != "open" {
            return Err(refused(
                "proposal",
                format!("この査定案はすでに処理済みです（{}）", before.state),
                format!("this proposal is no longer open ({})", before.state),
            ));
        }
        let fy = FiscalYear::new(before.fy).map_err(|e| CycleStoreError::Damaged {
            what_ja: "査定案",
            what_en: "proposal",
            key: id.to_string(),
            message: e.to_string(),
        })?;
        ensure_open(conn, Cycle::fy_for_budget(fy)).await?;
        if accept {
            let key = format!("{}/{}", before.program_code, fy.year());
            let stored = request_one(conn, &before.program_code, fy)
                .await?
                .ok_or_else(|| CycleStoreError::NotFound {
                    what_ja: "予算要求",
                    what_en: "budget request",
                    key: key.clone(),
                })?;
            let mut after = stored.request.clone();
            after.assessed = Some(before.proposed);
            if after != stored.request {
                write_request(conn, &after, Some(stored.version), actor).await?;
                audit_row(
                    conn,
                    actor,
                    "assess",
                    "budget_request",
                    &key,
                    Some(&stored.request),
                    Some(&after),
                )
                .await?;
            }
        }
        let state = if accept { "accepted" } else { "rejected" };
        let now = now_rfc3339();
        let changed = run!(
            conn,
            sqlx::query(
                "UPDATE budget_proposals SET state = $2, decided_by = $3, decided_at = $4 \
                 WHERE id = $1 AND state = 'open'"
            )
            .bind(id)
            .bind(state)
            .bind(actor)
            .bind(&now),
            execute
        )?;
        if changed != 1 {
            return Err(refused(
                "proposal",
                "この査定案は他の人が先に処理しました".into(),
                "someone else decided this proposal first".into(),
            ));
        }
        let after = StoredProposal {
            state: state.to_string(),
            decided_by: actor.to_string(),
            decided_at: now,
            ..before.clone()
        };
        audit_row(
            conn,
            actor,
            if accept { "accept" } else { "reject" },
            "budget_proposal",
            &id.to_string(),
            Some(&before),
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }
}
