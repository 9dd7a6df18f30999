//! Storage of the yearly management cycle: cycles and their stages,
//! every saved version of every evaluation sheet, budget ceilings and
//! requests, and program lineage. Each write is one transaction with an
//! audit row; a closed cycle refuses every write except an explicit reopen.

use citykpi_domain::FiscalYear;
use citykpi_domain::cycle::budget::{BudgetRequest, Ceiling};
use citykpi_domain::cycle::sheet::{EvaluationSheet, ReviewState, SheetHead};
use citykpi_domain::cycle::stage::{Cycle, CycleState, Stage, StageRecord, StageState};
use citykpi_domain::cycle::{CalendarDate, CycleError};
use citykpi_domain::money::FundingSources;
use serde::{Deserialize, Serialize};

use crate::audit::{self, AuditRecord};
use crate::codec::json_text;
use crate::conn::{Conn, run};
use crate::{Change, Store, StoreError, now_rfc3339};

/// What the cycle's storage refuses or fails with.
#[derive(Debug, thiserror::Error)]
pub enum CycleStoreError {
    #[error(transparent)]
    Store(#[from] StoreError),

    /// A rule of the cycle (closed cycle, stage not done, bad transition …).
    #[error(transparent)]
    Rule(#[from] CycleError),

    #[error(
        "{fy}年度のサイクルはまだ開始されていません / the cycle of FY{fy} has not been started"
    )]
    NoCycle { fy: i32 },

    #[error("{fy}年度のサイクルはすでにあります / the cycle of FY{fy} already exists")]
    CycleExists { fy: i32 },

    #[error(
        "{what_ja}「{key}」は他の人が先に更新しました（編集開始時の版 {expected}、現在の版 {found}）。再読み込みしてからやり直してください / {what_en} \"{key}\" was changed by someone else (expected version {expected}, found {found}); reload and retry"
    )]
    Conflict {
        what_ja: &'static str,
        what_en: &'static str,
        key: String,
        expected: i64,
        found: i64,
    },

    #[error(
        "{what_ja}「{key}」は他の人が先に更新しました（表示時 {}、現在 {}）。再読み込みしてからやり直してください / {what_en} \"{key}\" was changed by someone else (shown {}, now {}); reload and retry",
        amount_text(.seen), amount_text(.found), amount_text(.seen), amount_text(.found)
    )]
    StaleAmount {
        what_ja: &'static str,
        what_en: &'static str,
        key: String,
        seen: Option<i64>,
        found: Option<i64>,
    },

    #[error("{what_ja}「{key}」が見つかりません / {what_en} \"{key}\" not found")]
    NotFound {
        what_ja: &'static str,
        what_en: &'static str,
        key: String,
    },

    #[error(
        "{what_ja}「{key}」のデータが壊れています（{message}） / damaged {what_en} \"{key}\": {message}"
    )]
    Damaged {
        what_ja: &'static str,
        what_en: &'static str,
        key: String,
        message: String,
    },
}

fn amount_text(a: &Option<i64>) -> String {
    a.map_or_else(|| "-".to_string(), |a| a.to_string())
}

impl From<sqlx::Error> for CycleStoreError {
    fn from(e: sqlx::Error) -> Self {
        CycleStoreError::Store(StoreError::Database(e))
    }
}

pub type CycleResult<T> = std::result::Result<T, CycleStoreError>;

/// One saved version of a sheet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredSheet {
    pub sheet: EvaluationSheet,
    pub version: i64,
    pub saved_by: String,
    pub saved_at: String,
}

/// The head of the current version of a sheet (see `SheetHead`).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSheetHead {
    pub head: SheetHead,
    pub version: i64,
}

/// A budget request with its version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredRequest {
    pub request: BudgetRequest,
    pub version: i64,
    pub updated_by: String,
    pub updated_at: String,
}

/// One restructuring step: programs `from` became programs `to`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineageRecord {
    pub id: i64,
    pub fy: FiscalYear,
    /// `merge`, `split`, `abolish` or `rename`.
    pub kind: String,
    pub from_codes: Vec<String>,
    pub to_codes: Vec<String>,
    pub note: String,
    pub decided_by: String,
    pub decided_at: String,
}

/// What the ceiling rule sees when a request is saved: computed inside the
/// write transaction so that two sections cannot both squeeze under it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DepartmentBudget {
    pub ceiling: Option<i64>,
    /// Requests of the department's other programs in the same budget year.
    pub other_requests: i64,
}

fn sheet_key(program: &str, fy: FiscalYear) -> String {
    format!("{program}/{fy}")
}

pub(crate) async fn audit_row<T: Serialize>(
    conn: &mut Conn<'_>,
    actor: &str,
    action: &str,
    entity: &str,
    key: &str,
    before: Option<&T>,
    after: Option<&T>,
) -> CycleResult<()> {
    audit::record(
        conn,
        &AuditRecord {
            actor,
            action,
            entity,
            key,
            before: before.and_then(|b| serde_json::to_value(b).ok()),
            after: after.and_then(|a| serde_json::to_value(a).ok()),
        },
    )
    .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct CycleRow {
    fy: i64,
    state: String,
}

#[derive(sqlx::FromRow)]
struct StageRow {
    stage: String,
    deadline: Option<String>,
    state: String,
    reason: String,
    changed_by: String,
    changed_at: String,
}

fn damaged(
    what_ja: &'static str,
    what_en: &'static str,
    key: &str,
    message: String,
) -> CycleStoreError {
    CycleStoreError::Damaged {
        what_ja,
        what_en,
        key: key.to_string(),
        message,
    }
}

fn fiscal(
    year: i64,
    what_ja: &'static str,
    what_en: &'static str,
    key: &str,
) -> CycleResult<FiscalYear> {
    i32::try_from(year)
        .ok()
        .and_then(|y| FiscalYear::new(y).ok())
        .ok_or_else(|| damaged(what_ja, what_en, key, format!("fiscal year {year}")))
}

async fn load_cycle(conn: &mut Conn<'_>, fy: FiscalYear) -> CycleResult<Option<Cycle>> {
    let row: Option<CycleRow> = run!(
        conn,
        sqlx::query_as("SELECT fy, state FROM cycles WHERE fy = $1").bind(i64::from(fy.year())),
        fetch_optional
    )?;
    let Some(row) = row else {
        return Ok(None);
    };
    let key = row.fy.to_string();
    let state = CycleState::parse(&row.state)
        .ok_or_else(|| damaged("サイクル", "cycle", &key, format!("state = {}", row.state)))?;
    let stages: Vec<StageRow> = run!(
        conn,
        sqlx::query_as(
            "SELECT stage, deadline, state, reason, changed_by, changed_at FROM cycle_stages \
             WHERE fy = $1 ORDER BY position"
        )
        .bind(row.fy),
        fetch_all
    )?;
    let mut cycle = Cycle::new(fy);
    cycle.state = state;
    for s in stages {
        let stage = Stage::parse(&s.stage)
            .ok_or_else(|| damaged("サイクル", "cycle", &key, format!("stage = {}", s.stage)))?;
        let st = StageState::parse(&s.state).ok_or_else(|| {
            damaged(
                "サイクル",
                "cycle",
                &key,
                format!("stage state = {}", s.state),
            )
        })?;
        let deadline = s
            .deadline
            .map(|d| {
                CalendarDate::parse(&d)
                    .map_err(|e| damaged("サイクル", "cycle", &key, e.to_string()))
            })
            .transpose()?;
        if let Some(rec) = cycle.stages.iter_mut().find(|r| r.stage == stage) {
            *rec = StageRecord {
                stage,
                deadline,
                state: st,
                reason: s.reason,
                changed_by: s.changed_by,
                changed_at: s.changed_at,
            };
        }
    }
    Ok(Some(cycle))
}

async fn write_cycle(
    conn: &mut Conn<'_>,
    cycle: &Cycle,
    actor: &str,
    insert: bool,
) -> CycleResult<()> {
    let fy = i64::from(cycle.fy.year());
    let now = now_rfc3339();
    if insert {
        run!(
            conn,
            sqlx::query(
                "INSERT INTO cycles (fy, state, updated_by, updated_at) VALUES ($1, $2, $3, $4)"
            )
            .bind(fy)
            .bind(cycle.state.as_str())
            .bind(actor)
            .bind(&now),
            execute
        )?;
    } else {
        run!(
            conn,
            sqlx::query(
                "UPDATE cycles SET state = $2, updated_by = $3, updated_at = $4 WHERE fy = $1"
            )
            .bind(fy)
            .bind(cycle.state.as_str())
            .bind(actor)
            .bind(&now),
            execute
        )?;
    }
    for rec in &cycle.stages {
        run!(
            conn,
            sqlx::query(
                "INSERT INTO cycle_stages (fy, stage, position, deadline, state, reason, changed_by, changed_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 ON CONFLICT (fy, stage) DO UPDATE SET deadline = excluded.deadline, state = excluded.state, \
                 reason = excluded.reason, changed_by = excluded.changed_by, changed_at = excluded.changed_at"
            )
            .bind(fy)
            .bind(rec.stage.as_str())
            .bind(i64::from(rec.stage.number()))
            .bind(rec.deadline.map(|d| d.to_string()))
            .bind(rec.state.as_str())
            .bind(&rec.reason)
            .bind(&rec.changed_by)
            .bind(&rec.changed_at),
            execute
        )?;
    }
    Ok(())
}

/// Refuses a write into the cycle of `fy` unless it exists and is open.
pub(crate) async fn ensure_open(conn: &mut Conn<'_>, fy: FiscalYear) -> CycleResult<()> {
    let state: Option<String> = run!(
        conn,
        sqlx::query_scalar::<_, String>("SELECT state FROM cycles WHERE fy = $1")
            .bind(i64::from(fy.year())),
        fetch_optional
    )?;
    match state.as_deref() {
        None => Err(CycleStoreError::NoCycle { fy: fy.year() }),
        Some("open") => Ok(()),
        Some(_) => Err(CycleError::CycleClosed { fy: fy.year() }.into()),
    }
}

async fn program_section(conn: &mut Conn<'_>, code: &str) -> CycleResult<String> {
    let section: Option<String> = run!(
        conn,
        sqlx::query_scalar::<_, String>("SELECT section_code FROM programs WHERE code = $1")
            .bind(code),
        fetch_optional
    )?;
    section.ok_or_else(|| CycleStoreError::NotFound {
        what_ja: "事務事業",
        what_en: "program",
        key: code.to_string(),
    })
}

#[derive(sqlx::FromRow)]
struct SheetRow {
    program_code: String,
    fy: i64,
    version: i64,
    body: String,
    saved_by: String,
    saved_at: String,
}

fn sheet_from_row(r: SheetRow) -> CycleResult<StoredSheet> {
    let key = format!("{}/{}", r.program_code, r.fy);
    let sheet: EvaluationSheet = serde_json::from_str(&r.body)
        .map_err(|e| damaged("評価シート", "evaluation sheet", &key, e.to_string()))?;
    Ok(StoredSheet {
        sheet,
        version: r.version,
        saved_by: r.saved_by,
        saved_at: r.saved_at,
    })
}

/// `columns` of the current (highest) version of each sheet of the year
/// bound to `$1`, by program.
fn latest_sheets_sql(columns: &str) -> String {
    format!(
        "SELECT {columns} FROM evaluation_sheets s \
         JOIN (SELECT program_code, MAX(version) AS version FROM evaluation_sheets \
               WHERE fy = $1 GROUP BY program_code) latest \
           ON latest.program_code = s.program_code AND latest.version = s.version \
         WHERE s.fy = $1 ORDER BY s.program_code"
    )
}

const SHEET_COLUMNS: &str = "program_code, fy, version, body, saved_by, saved_at";

async fn latest_sheet(
    conn: &mut Conn<'_>,
    program: &str,
    fy: FiscalYear,
) -> CycleResult<Option<StoredSheet>> {
    let sql = format!(
        "SELECT {SHEET_COLUMNS} FROM evaluation_sheets WHERE program_code = $1 AND fy = $2 \
         ORDER BY version DESC LIMIT 1"
    );
    let row: Option<SheetRow> = run!(
        conn,
        sqlx::query_as(&sql)
            .bind(program)
            .bind(i64::from(fy.year())),
        fetch_optional
    )?;
    row.map(sheet_from_row).transpose()
}

#[derive(sqlx::FromRow)]
struct RequestRow {
    program_code: String,
    fy: i64,
    requested: i64,
    national: i64,
    prefectural: i64,
    bonds: i64,
    other: i64,
    general: i64,
    override_reason: String,
    assessed: Option<i64>,
    note: String,
    version: i64,
    updated_by: String,
    updated_at: String,
}

const REQUEST_COLUMNS: &str = "program_code, fy, requested, national, prefectural, bonds, other, general, \
     override_reason, assessed, note, version, updated_by, updated_at";

fn request_from_row(r: RequestRow) -> CycleResult<StoredRequest> {
    let key = format!("{}/{}", r.program_code, r.fy);
    Ok(StoredRequest {
        request: BudgetRequest {
            fy: fiscal(r.fy, "予算要求", "budget request", &key)?,
            program_code: r.program_code,
            requested: r.requested,
            funding: FundingSources {
                national: r.national,
                prefectural: r.prefectural,
                bonds: r.bonds,
                other: r.other,
                general: r.general,
            },
            override_reason: r.override_reason,
            assessed: r.assessed,
            note: r.note,
        },
        version: r.version,
        updated_by: r.updated_by,
        updated_at: r.updated_at,
    })
}

pub(crate) async fn request_one(
    conn: &mut Conn<'_>,
    program: &str,
    fy: FiscalYear,
) -> CycleResult<Option<StoredRequest>> {
    let sql = format!(
        "SELECT {REQUEST_COLUMNS} FROM budget_requests WHERE program_code = $1 AND fy = $2"
    );
    let row: Option<RequestRow> = run!(
        conn,
        sqlx::query_as(&sql)
            .bind(program)
            .bind(i64::from(fy.year())),
        fetch_optional
    )?;
    row.map(request_from_row).transpose()
}

/// Writes a request as version `prev + 1` only if the stored row is still at
/// `prev` (None = no row yet). The condition is part of the write, so two
/// transactions that both read `prev` cannot both succeed: on PostgreSQL the
/// second waits for the first and then finds nothing to update (or the row
/// already inserted), and answers a conflict instead of overwriting.
pub(crate) async fn write_request(
    conn: &mut Conn<'_>,
    req: &BudgetRequest,
    prev: Option<i64>,
    actor: &str,
) -> CycleResult<()> {
    let f = &req.funding;
    let version = prev.unwrap_or(0) + 1;
    let written = match prev {
        None => run!(
            conn,
            sqlx::query(
                "INSERT INTO budget_requests (program_code, fy, requested, national, prefectural, bonds, other, general, \
                 override_reason, assessed, note, version, updated_by, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
                 ON CONFLICT (program_code, fy) DO NOTHING"
            )
            .bind(&req.program_code)
            .bind(i64::from(req.fy.year()))
            .bind(req.requested)
            .bind(f.national)
            .bind(f.prefectural)
            .bind(f.bonds)
            .bind(f.other)
            .bind(f.general)
            .bind(&req.override_reason)
            .bind(req.assessed)
            .bind(&req.note)
            .bind(version)
            .bind(actor)
            .bind(now_rfc3339()),
            execute
        )?,
        Some(prev) => run!(
            conn,
            sqlx::query(
                "UPDATE budget_requests SET requested = $3, national = $4, prefectural = $5, bonds = $6, \
                 other = $7, general = $8, override_reason = $9, assessed = $10, note = $11, version = $12, \
                 updated_by = $13, updated_at = $14 \
                 WHERE program_code = $1 AND fy = $2 AND version = $15"
            )
            .bind(&req.program_code)
            .bind(i64::from(req.fy.year()))
            .bind(req.requested)
            .bind(f.national)
            .bind(f.prefectural)
            .bind(f.bonds)
            .bind(f.other)
            .bind(f.general)
            .bind(&req.override_reason)
            .bind(req.assessed)
            .bind(&req.note)
            .bind(version)
            .bind(actor)
            .bind(now_rfc3339())
            .bind(prev),
            execute
        )?,
    };
    if written != 1 {
        return Err(CycleStoreError::Conflict {
            what_ja: "予算要求",
            what_en: "budget request",
            key: sheet_key(&req.program_code, req.fy),
            expected: prev.unwrap_or(0),
            found: prev.unwrap_or(0) + 1,
        });
    }
    Ok(())
}

fn check_version(
    what_ja: &'static str,
    what_en: &'static str,
    key: &str,
    expected: Option<i64>,
    found: i64,
) -> CycleResult<()> {
    match expected {
        Some(e) if e != found => Err(CycleStoreError::Conflict {
            what_ja,
            what_en,
            key: key.to_string(),
            expected: e,
            found,
        }),
        _ => Ok(()),
    }
}

impl Store {
    // ----- cycles -----

    /// The cycle that evaluates `fy`, if started.
    pub async fn cycle(&self, fy: FiscalYear) -> CycleResult<Option<Cycle>> {
        let mut pooled = self.read_conn().await?;
        load_cycle(&mut pooled.conn(), fy).await
    }

    /// All cycles, oldest first.
    pub async fn cycles(&self) -> CycleResult<Vec<Cycle>> {
        let mut pooled = self.read_conn().await?;
        let conn = &mut pooled.conn();
        let years: Vec<i64> = run!(
            conn,
            sqlx::query_scalar::<_, i64>("SELECT fy FROM cycles ORDER BY fy"),
            fetch_all
        )?;
        let mut out = Vec::new();
        for y in years {
            let fy = fiscal(y, "サイクル", "cycle", &y.to_string())?;
            if let Some(c) = load_cycle(conn, fy).await? {
                out.push(c);
            }
        }
        Ok(out)
    }

    /// Starts the cycle of `fy` with the usual deadlines.
    pub async fn start_cycle(&self, fy: FiscalYear, actor: &str) -> CycleResult<Cycle> {
        let mut tx = self.begin().await?;
        let conn = &mut tx.conn();
        if load_cycle(conn, fy).await?.is_some() {
            return Err(CycleStoreError::CycleExists { fy: fy.year() });
        }
        let cycle = Cycle::new(fy);
        write_cycle(conn, &cycle, actor, true).await?;
        audit_row(
            conn,
            actor,
            "start",
            "cycle",
            &fy.to_string(),
            None,
            Some(&cycle),
        )
        .await?;
        tx.commit().await?;
        Ok(cycle)
    }

    /// Changes the cycle of `fy` by `change` (a rule of `Cycle`: close or
    /// waive a stage, set a deadline, close or reopen the cycle) in one
    /// transaction, logged as `action`. The rules refuse changes to a closed
    /// cycle, so only `Cycle::reopen` gets through one.
    pub async fn update_cycle<F>(
        &self,
        fy: FiscalYear,
        actor: &str,
        action: &str,
        change: F,
    ) -> CycleResult<Cycle>
    where
        F: FnOnce(&mut Cycle) -> Result<(), CycleError>,
    {
        let mut tx = self.begin().await?;
        let conn = &mut tx.conn();
        // Takes the row lock first (PostgreSQL), so two changes queue.
        run!(
            conn,
            sqlx::query("UPDATE cycles SET state = state WHERE fy = $1").bind(i64::from(fy.year())),
            execute
        )?;
        let before = load_cycle(conn, fy)
            .await?
            .ok_or(CycleStoreError::NoCycle { fy: fy.year() })?;
        let mut after = before.clone();
        change(&mut after)?;
        if after == before {
            return Ok(after);
        }
        write_cycle(conn, &after, actor, false).await?;
        audit_row(
            conn,
            actor,
            action,
            "cycle",
            &fy.to_string(),
            Some(&before),
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    // ----- evaluation sheets -----

    /// The current (latest) version of a sheet.
    pub async fn sheet(&self, program: &str, fy: FiscalYear) -> CycleResult<Option<StoredSheet>> {
        let mut pooled = self.read_conn().await?;
        latest_sheet(&mut pooled.conn(), program, fy).await
    }

    /// Every saved version of a sheet, oldest first.
    pub async fn sheet_versions(
        &self,
        program: &str,
        fy: FiscalYear,
    ) -> CycleResult<Vec<StoredSheet>> {
        let mut pooled = self.read_conn().await?;
        let conn = &mut pooled.conn();
        let sql = format!(
            "SELECT {SHEET_COLUMNS} FROM evaluation_sheets WHERE program_code = $1 AND fy = $2 ORDER BY version"
        );
        let rows: Vec<SheetRow> = run!(
            conn,
            sqlx::query_as(&sql)
                .bind(program)
                .bind(i64::from(fy.year())),
            fetch_all
        )?;
        rows.into_iter().map(sheet_from_row).collect()
    }

    /// The current version of every sheet of `fy`, by program code.
    pub async fn sheets(&self, fy: FiscalYear) -> CycleResult<Vec<StoredSheet>> {
        let mut pooled = self.read_conn().await?;
        let conn = &mut pooled.conn();
        let sql =
            latest_sheets_sql("s.program_code, s.fy, s.version, s.body, s.saved_by, s.saved_at");
        let rows: Vec<SheetRow> = run!(
            conn,
            sqlx::query_as(&sql).bind(i64::from(fy.year())),
            fetch_all
        )?;
        rows.into_iter().map(sheet_from_row).collect()
    }

    /// The state, direction and money of the current version of every sheet
    /// of `fy`, by program: what the cycle's status, lists and budget read.
    pub async fn sheet_heads(&self, fy: FiscalYear) -> CycleResult<Vec<StoredSheetHead>> {
        let mut pooled = self.read_conn().await?;
        let conn = &mut pooled.conn();
        let sql = latest_sheets_sql("s.program_code, s.fy, s.version, s.body");
        let rows: Vec<(String, i64, i64, String)> = run!(
            conn,
            sqlx::query_as(&sql).bind(i64::from(fy.year())),
            fetch_all
        )?;
        rows.into_iter()
            .map(|(program_code, fy, version, body)| {
                let head: SheetHead = serde_json::from_str(&body).map_err(|e| {
                    damaged(
                        "評価シート",
                        "evaluation sheet",
                        &format!("{program_code}/{fy}"),
                        e.to_string(),
                    )
                })?;
                Ok(StoredSheetHead { head, version })
            })
            .collect()
    }

    /// Saves a new version of a sheet if the stored version is still
    /// `expected_version` (0 = none yet; None skips the check). The cycle of
    /// the sheet's year must be open and the program must exist. Content
    /// rules are the caller's (see `EvaluationSheet::validate_*`). An
    /// unchanged sheet writes nothing.
    pub async fn save_sheet(
        &self,
        sheet: &EvaluationSheet,
        expected_version: Option<i64>,
        actor: &str,
        action: &str,
    ) -> CycleResult<crate::Saved> {
        let key = sheet_key(&sheet.program_code, sheet.fy);
        let mut tx = self.begin().await?;
        let conn = &mut tx.conn();
        ensure_open(conn, sheet.fy).await?;
        program_section(conn, &sheet.program_code).await?;
        let stored = latest_sheet(conn, &sheet.program_code, sheet.fy).await?;
        let found = stored.as_ref().map_or(0, |s| s.version);
        check_version(
            "評価シート",
            "evaluation sheet",
            &key,
            expected_version,
            found,
        )?;
        if let Some(s) = &stored
            && &s.sheet == sheet
        {
            return Ok(crate::Saved {
                change: Change::Unchanged,
                version: s.version,
            });
        }
        let version = found + 1;
        // The primary key (program, fy, version) refuses a second writer of
        // the same version, so a race ends in a conflict, not a lost update.
        let inserted = run!(
            conn,
            sqlx::query(
                "INSERT INTO evaluation_sheets (program_code, fy, version, state, direction, body, saved_by, saved_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING"
            )
            .bind(&sheet.program_code)
            .bind(i64::from(sheet.fy.year()))
            .bind(version)
            .bind(sheet.state.as_str())
            .bind(sheet.direction.map(|d| d.as_str()))
            .bind(json_text(sheet))
            .bind(actor)
            .bind(now_rfc3339()),
            execute
        )?;
        if inserted != 1 {
            return Err(CycleStoreError::Conflict {
                what_ja: "評価シート",
                what_en: "evaluation sheet",
                key,
                expected: found,
                found: version,
            });
        }
        audit_row(
            conn,
            actor,
            action,
            "evaluation_sheet",
            &key,
            stored.as_ref().map(|s| &s.sheet),
            Some(sheet),
        )
        .await?;
        tx.commit().await?;
        Ok(crate::Saved {
            change: if stored.is_some() {
                Change::Updated
            } else {
                Change::Inserted
            },
            version,
        })
    }

    /// Sheets of `fy` per review state (current versions).
    pub async fn sheet_state_counts(
        &self,
        fy: FiscalYear,
    ) -> CycleResult<Vec<(ReviewState, usize)>> {
        let sheets = self.sheets(fy).await?;
        Ok(ReviewState::ALL
            .into_iter()
            .map(|st| (st, sheets.iter().filter(|s| s.sheet.state == st).count()))
            .collect())
    }

    // ----- budget -----

    /// Ceilings of the budget year `fy`, by department code.
    pub async fn ceilings(&self, fy: FiscalYear) -> CycleResult<Vec<Ceiling>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            department_code: String,
            amount: i64,
        }
        let mut pooled = self.read_conn().await?;
        let conn = &mut pooled.conn();
        let rows: Vec<Row> = run!(
            conn,
            sqlx::query_as(
                "SELECT department_code, amount FROM budget_ceilings WHERE fy = $1 ORDER BY department_code"
            )
            .bind(i64::from(fy.year())),
            fetch_all
        )?;
        Ok(rows
            .into_iter()
            .map(|r| Ceiling {
                fy,
                department_code: r.department_code,
                amount: r.amount,
            })
            .collect())
    }

    /// Sets a department's ceiling for a budget year (the cycle building that
    /// budget must be open; the department must exist).
    pub async fn set_ceiling(&self, ceiling: &Ceiling, actor: &str) -> CycleResult<Change> {
        self.set_ceiling_if(ceiling, None, actor).await
    }

    /// Sets a ceiling if the stored amount is still `seen` (the amount the
    /// writer's form showed; `Some(None)` = none was set; `None` skips the
    /// check). A ceiling is one number, so the amount itself is its version:
    /// a stale save is a conflict instead of silently replacing the other.
    pub async fn set_ceiling_if(
        &self,
        ceiling: &Ceiling,
        seen: Option<Option<i64>>,
        actor: &str,
    ) -> CycleResult<Change> {
        let key = format!("{}/{}", ceiling.department_code, ceiling.fy);
        let mut tx = self.begin().await?;
        let conn = &mut tx.conn();
        ensure_open(conn, Cycle::fy_for_budget(ceiling.fy)).await?;
        let dept: i64 = run!(
            conn,
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM departments WHERE code = $1")
                .bind(&ceiling.department_code),
            fetch_one
        )?;
        if dept == 0 {
            return Err(CycleStoreError::NotFound {
                what_ja: "部局",
                what_en: "department",
                key: ceiling.department_code.clone(),
            });
        }
        let before: Option<i64> = run!(
            conn,
            sqlx::query_scalar::<_, i64>(
                "SELECT amount FROM budget_ceilings WHERE fy = $1 AND department_code = $2"
            )
            .bind(i64::from(ceiling.fy.year()))
            .bind(&ceiling.department_code),
            fetch_optional
        )?;
        let conflict = |found: Option<i64>| CycleStoreError::StaleAmount {
            what_ja: "要求上限（枠）",
            what_en: "budget ceiling",
            key: key.clone(),
            seen: seen.flatten(),
            found,
        };
        if let Some(seen) = seen
            && seen != before
        {
            return Err(conflict(before));
        }
        if before == Some(ceiling.amount) {
            return Ok(Change::Unchanged);
        }
        // The condition is in the write: a writer that read the same amount
        // concurrently (PostgreSQL) finds it changed and writes nothing.
        let written = match before {
            None => run!(
                conn,
                sqlx::query(
                    "INSERT INTO budget_ceilings (fy, department_code, amount) VALUES ($1, $2, $3) \
                     ON CONFLICT (fy, department_code) DO NOTHING"
                )
                .bind(i64::from(ceiling.fy.year()))
                .bind(&ceiling.department_code)
                .bind(ceiling.amount),
                execute
            )?,
            Some(old) => run!(
                conn,
                sqlx::query(
                    "UPDATE budget_ceilings SET amount = $3 WHERE fy = $1 AND department_code = $2 AND amount = $4"
                )
                .bind(i64::from(ceiling.fy.year()))
                .bind(&ceiling.department_code)
                .bind(ceiling.amount)
                .bind(old),
                execute
            )?,
        };
        if written != 1 {
            return Err(conflict(None));
        }
        let before_ceiling = before.map(|amount| Ceiling {
            amount,
            ..ceiling.clone()
        });
        audit_row(
            conn,
            actor,
            "set",
            "budget_ceiling",
            &key,
            before_ceiling.as_ref(),
            Some(ceiling),
        )
        .await?;
        tx.commit().await?;
        Ok(if before.is_some() {
            Change::Updated
        } else {
            Change::Inserted
        })
    }

    /// Requests of the budget year `fy`, by program code.
    pub async fn budget_requests(&self, fy: FiscalYear) -> CycleResult<Vec<StoredRequest>> {
        let mut pooled = self.read_conn().await?;
        let conn = &mut pooled.conn();
        let sql = format!(
            "SELECT {REQUEST_COLUMNS} FROM budget_requests WHERE fy = $1 ORDER BY program_code"
        );
        let rows: Vec<RequestRow> = run!(
            conn,
            sqlx::query_as(&sql).bind(i64::from(fy.year())),
            fetch_all
        )?;
        rows.into_iter().map(request_from_row).collect()
    }

    pub async fn budget_request(
        &self,
        program: &str,
        fy: FiscalYear,
    ) -> CycleResult<Option<StoredRequest>> {
        let mut pooled = self.read_conn().await?;
        request_one(&mut pooled.conn(), program, fy).await
    }

    /// Saves a section's request (the assessed amount stays as stored) if the
    /// stored version is still `expected_version` (0 = none yet). `check`
    /// gets the department's ceiling and other requests as they are inside
    /// this transaction and refuses with the rule's error.
    pub async fn save_budget_request<F>(
        &self,
        req: &BudgetRequest,
        expected_version: Option<i64>,
        actor: &str,
        check: F,
    ) -> CycleResult<crate::Saved>
    where
        F: FnOnce(DepartmentBudget) -> Result<(), CycleError>,
    {
        let key = sheet_key(&req.program_code, req.fy);
        let mut tx = self.begin().await?;
        let conn = &mut tx.conn();
        ensure_open(conn, Cycle::fy_for_budget(req.fy)).await?;
        let section = program_section(conn, &req.program_code).await?;
        let stored = request_one(conn, &req.program_code, req.fy).await?;
        let found = stored.as_ref().map_or(0, |s| s.version);
        check_version("予算要求", "budget request", &key, expected_version, found)?;
        let dept: Option<String> = run!(
            conn,
            sqlx::query_scalar::<_, String>("SELECT department_code FROM sections WHERE code = $1")
                .bind(&section),
            fetch_optional
        )?;
        let dept = dept.unwrap_or_default();
        let ceiling: Option<i64> = run!(
            conn,
            sqlx::query_scalar::<_, i64>(
                "SELECT amount FROM budget_ceilings WHERE fy = $1 AND department_code = $2"
            )
            .bind(i64::from(req.fy.year()))
            .bind(&dept),
            fetch_optional
        )?;
        let other_requests: i64 = run!(
            conn,
            sqlx::query_scalar::<_, i64>(
                "SELECT CAST(COALESCE(SUM(r.requested), 0) AS BIGINT) FROM budget_requests r \
                 JOIN programs p ON p.code = r.program_code \
                 JOIN sections s ON s.code = p.section_code \
                 WHERE r.fy = $1 AND s.department_code = $2 AND r.program_code <> $3"
            )
            .bind(i64::from(req.fy.year()))
            .bind(&dept)
            .bind(&req.program_code),
            fetch_one
        )?;
        check(DepartmentBudget {
            ceiling,
            other_requests,
        })?;
        let mut to_store = req.clone();
        to_store.assessed = stored.as_ref().and_then(|s| s.request.assessed);
        if let Some(s) = &stored
            && s.request == to_store
        {
            return Ok(crate::Saved {
                change: Change::Unchanged,
                version: s.version,
            });
        }
        write_request(conn, &to_store, stored.as_ref().map(|s| s.version), actor).await?;
        audit_row(
            conn,
            actor,
            if stored.is_some() { "update" } else { "insert" },
            "budget_request",
            &key,
            stored.as_ref().map(|s| &s.request),
            Some(&to_store),
        )
        .await?;
        tx.commit().await?;
        Ok(crate::Saved {
            change: if stored.is_some() {
                Change::Updated
            } else {
                Change::Inserted
            },
            version: found + 1,
        })
    }

    /// Records finance's assessed amount (査定額) on an existing request.
    pub async fn assess_budget_request(
        &self,
        program: &str,
        fy: FiscalYear,
        assessed: Option<i64>,
        expected_version: Option<i64>,
        actor: &str,
    ) -> CycleResult<crate::Saved> {
        let key = sheet_key(program, fy);
        let mut tx = self.begin().await?;
        let conn = &mut tx.conn();
        ensure_open(conn, Cycle::fy_for_budget(fy)).await?;
        let stored =
            request_one(conn, program, fy)
                .await?
                .ok_or_else(|| CycleStoreError::NotFound {
                    what_ja: "予算要求",
                    what_en: "budget request",
                    key: key.clone(),
                })?;
        check_version(
            "予算要求",
            "budget request",
            &key,
            expected_version,
            stored.version,
        )?;
        if stored.request.assessed == assessed {
            return Ok(crate::Saved {
                change: Change::Unchanged,
                version: stored.version,
            });
        }
        let mut after = stored.request.clone();
        after.assessed = assessed;
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
        tx.commit().await?;
        Ok(crate::Saved {
            change: Change::Updated,
            version: stored.version + 1,
        })
    }

    // ----- lineage -----

    /// Records a restructuring step and, in the same transaction, ends the
    /// programs it replaces with `end_fy` (each end an audited program
    /// update; a program already ending earlier keeps its end).
    pub async fn record_lineage(
        &self,
        record: &LineageRecord,
        end_fy: Option<FiscalYear>,
        actor: &str,
    ) -> CycleResult<i64> {
        let mut tx = self.begin().await?;
        let conn = &mut tx.conn();
        ensure_open(conn, record.fy).await?;
        for code in &record.from_codes {
            program_section(conn, code).await?;
        }
        if let Some(end) = end_fy {
            for code in &record.from_codes {
                let before: Option<Option<i64>> = run!(
                    conn,
                    sqlx::query_scalar::<_, Option<i64>>(
                        "SELECT end_fy FROM programs WHERE code = $1"
                    )
                    .bind(code),
                    fetch_optional
                )?;
                let ended = run!(
                    conn,
                    sqlx::query(
                        "UPDATE programs SET end_fy = $1, version = version + 1 \
                         WHERE code = $2 AND (end_fy IS NULL OR end_fy > $1)"
                    )
                    .bind(i64::from(end.year()))
                    .bind(code),
                    execute
                )?;
                if ended == 1 {
                    let b = serde_json::json!({ "end_fy": before.flatten() });
                    let a = serde_json::json!({ "end_fy": end.year() });
                    audit_row(conn, actor, "end", "program", code, Some(&b), Some(&a)).await?;
                }
            }
        }
        let now = now_rfc3339();
        let id: i64 = run!(
            conn,
            sqlx::query_scalar::<_, i64>(
                "INSERT INTO program_lineage (fy, kind, from_codes, to_codes, note, decided_by, decided_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id"
            )
            .bind(i64::from(record.fy.year()))
            .bind(&record.kind)
            .bind(json_text(&record.from_codes))
            .bind(json_text(&record.to_codes))
            .bind(&record.note)
            .bind(actor)
            .bind(&now),
            fetch_one
        )?;
        let stored = LineageRecord {
            id,
            decided_by: actor.to_string(),
            decided_at: now,
            ..record.clone()
        };
        audit_row(
            conn,
            actor,
            &record.kind,
            "program_lineage",
            &id.to_string(),
            None,
            Some(&stored),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Every restructuring step, oldest first.
    pub async fn lineage(&self) -> CycleResult<Vec<LineageRecord>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            id: i64,
            fy: i64,
            kind: String,
            from_codes: String,
            to_codes: String,
            note: String,
            decided_by: String,
            decided_at: String,
        }
        let mut pooled = self.read_conn().await?;
        let conn = &mut pooled.conn();
        let rows: Vec<Row> = run!(
            conn,
            sqlx::query_as(
                "SELECT id, fy, kind, from_codes, to_codes, note, decided_by, decided_at FROM program_lineage ORDER BY id"
            ),
            fetch_all
        )?;
        rows.into_iter()
            .map(|r| {
                let key = r.id.to_string();
                let codes = |t: &str| -> CycleResult<Vec<String>> {
                    serde_json::from_str(t)
                        .map_err(|e| damaged("事業の系譜", "program lineage", &key, e.to_string()))
                };
                Ok(LineageRecord {
                    id: r.id,
                    fy: fiscal(r.fy, "事業の系譜", "program lineage", &key)?,
                    kind: r.kind,
                    from_codes: codes(&r.from_codes)?,
                    to_codes: codes(&r.to_codes)?,
                    note: r.note,
                    decided_by: r.decided_by,
                    decided_at: r.decided_at,
                })
            })
            .collect()
    }

    /// Writes a whole cycle in one transaction with one audit row: the cycle
    /// with `waived` and `closed` stages (the caller vouches that nothing is
    /// owed in those), every version of every sheet in order, the
    /// ceilings and the requests. For `citykpi demo` and bulk loads into an
    /// empty cycle; the cycle of `fy` must not exist yet. Program and
    /// department codes are checked; on any error nothing is written.
    pub async fn load_cycle_records(
        &self,
        fy: FiscalYear,
        (waived, closed): (&[(Stage, String)], &[Stage]),
        sheet_versions: &[(EvaluationSheet, String)],
        ceilings: &[Ceiling],
        requests: &[BudgetRequest],
        actor: &str,
    ) -> CycleResult<()> {
        let mut tx = self.begin().await?;
        let conn = &mut tx.conn();
        if load_cycle(conn, fy).await?.is_some() {
            return Err(CycleStoreError::CycleExists { fy: fy.year() });
        }
        let now = now_rfc3339();
        let mut cycle = Cycle::new(fy);
        for (stage, reason) in waived {
            cycle.waive_stage(*stage, reason, actor, &now)?;
        }
        for stage in closed {
            cycle.close_stage(*stage, 0, actor, &now)?;
        }
        write_cycle(conn, &cycle, actor, true).await?;
        let programs: std::collections::HashSet<String> = run!(
            conn,
            sqlx::query_scalar::<_, String>("SELECT code FROM programs"),
            fetch_all
        )?
        .into_iter()
        .collect();
        let known = |code: &str| -> CycleResult<()> {
            if programs.contains(code) {
                Ok(())
            } else {
                Err(CycleStoreError::NotFound {
                    what_ja: "事務事業",
                    what_en: "program",
                    key: code.to_string(),
                })
            }
        };
        let mut versions: std::collections::HashMap<(String, FiscalYear), i64> =
            std::collections::HashMap::new();
        for (sheet, saved_by) in sheet_versions {
            known(&sheet.program_code)?;
            let v = versions
                .entry((sheet.program_code.clone(), sheet.fy))
                .or_insert(0);
            *v += 1;
            run!(
                conn,
                sqlx::query(
                    "INSERT INTO evaluation_sheets (program_code, fy, version, state, direction, body, saved_by, saved_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
                )
                .bind(&sheet.program_code)
                .bind(i64::from(sheet.fy.year()))
                .bind(*v)
                .bind(sheet.state.as_str())
                .bind(sheet.direction.map(|d| d.as_str()))
                .bind(json_text(sheet))
                .bind(saved_by)
                .bind(&now),
                execute
            )?;
        }
        for c in ceilings {
            run!(
                conn,
                sqlx::query(
                    "INSERT INTO budget_ceilings (fy, department_code, amount) VALUES ($1, $2, $3)"
                )
                .bind(i64::from(c.fy.year()))
                .bind(&c.department_code)
                .bind(c.amount),
                execute
            )?;
        }
        for r in requests {
            known(&r.program_code)?;
            write_request(conn, r, None, actor).await?;
        }
        let summary = serde_json::json!({
            "sheet_versions": sheet_versions.len(),
            "sheets": versions.len(),
            "ceilings": ceilings.len(),
            "requests": requests.len(),
        });
        audit_row(
            conn,
            actor,
            "load",
            "cycle",
            &fy.to_string(),
            None,
            Some(&summary),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Deletes every cycle record (for `citykpi demo`, which rebuilds from
    /// scratch; `clear_all` leaves these tables to their own module).
    pub async fn clear_cycle_data(&self) -> CycleResult<()> {
        let mut tx = self.begin().await?;
        let conn = &mut tx.conn();
        for table in [
            "budget_proposals",
            "whatif_scenarios",
            "notice_mails",
            "program_lineage",
            "budget_requests",
            "budget_ceilings",
            "evaluation_sheets",
            "cycle_stages",
            "cycles",
        ] {
            let sql = format!("DELETE FROM {table}");
            run!(conn, sqlx::query(&sql), execute)?;
        }
        tx.commit().await?;
        Ok(())
    }
}

// ----- scenarios (シナリオの仮説) -----

/// A saved version of a KPI's scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredScenario {
    pub scenario: citykpi_domain::cycle::scenario::Scenario,
    pub version: i64,
    pub saved_by: String,
    pub saved_at: String,
}

#[derive(sqlx::FromRow)]
struct ScenarioRow {
    kpi_code: String,
    version: i64,
    body: String,
    saved_by: String,
    saved_at: String,
}

fn scenario_from_row(r: ScenarioRow) -> CycleResult<StoredScenario> {
    let key = format!("{}/v{}", r.kpi_code, r.version);
    let scenario = serde_json::from_str(&r.body)
        .map_err(|e| damaged("シナリオ", "scenario", &key, e.to_string()))?;
    Ok(StoredScenario {
        scenario,
        version: r.version,
        saved_by: r.saved_by,
        saved_at: r.saved_at,
    })
}

async fn scenario_rows(conn: &mut Conn<'_>, kpi: &str) -> CycleResult<Vec<StoredScenario>> {
    let rows: Vec<ScenarioRow> = run!(
        conn,
        sqlx::query_as(
            "SELECT kpi_code, version, body, saved_by, saved_at FROM kpi_scenarios \
             WHERE kpi_code = $1 ORDER BY version"
        )
        .bind(kpi),
        fetch_all
    )?;
    rows.into_iter().map(scenario_from_row).collect()
}

impl Store {
    /// Every saved version of `kpi`'s scenario, oldest first (the last is current).
    pub async fn scenario_versions(&self, kpi: &str) -> CycleResult<Vec<StoredScenario>> {
        let mut pooled = self.read_conn().await?;
        scenario_rows(&mut pooled.conn(), kpi).await
    }

    /// Saves a new version of a KPI's scenario if `expected_version` is the
    /// current one (0 for the first); an unchanged scenario writes nothing.
    /// The KPI must exist. One audit row with the previous and the new
    /// version.
    pub async fn save_scenario(
        &self,
        scenario: &citykpi_domain::cycle::scenario::Scenario,
        expected_version: i64,
        actor: &str,
    ) -> CycleResult<crate::Saved> {
        let key = scenario.kpi_code.clone();
        let mut tx = self.begin().await?;
        let conn = &mut tx.conn();
        let exists: Option<i64> = run!(
            conn,
            sqlx::query_scalar::<_, i64>("SELECT id FROM kpis WHERE code = $1").bind(&key),
            fetch_optional
        )?;
        if exists.is_none() {
            return Err(CycleStoreError::NotFound {
                what_ja: "KPI",
                what_en: "KPI",
                key,
            });
        }
        let stored = scenario_rows(conn, &key).await?.pop();
        let found = stored.as_ref().map_or(0, |s| s.version);
        check_version("シナリオ", "scenario", &key, Some(expected_version), found)?;
        if let Some(s) = &stored
            && &s.scenario == scenario
        {
            return Ok(crate::Saved {
                change: Change::Unchanged,
                version: s.version,
            });
        }
        let version = found + 1;
        // The primary key refuses a second writer of the same version.
        let inserted = run!(
            conn,
            sqlx::query(
                "INSERT INTO kpi_scenarios (kpi_code, version, body, saved_by, saved_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING"
            )
            .bind(&key)
            .bind(version)
            .bind(json_text(scenario))
            .bind(actor)
            .bind(now_rfc3339()),
            execute
        )?;
        if inserted != 1 {
            return Err(CycleStoreError::Conflict {
                what_ja: "シナリオ",
                what_en: "scenario",
                key,
                expected: found,
                found: version,
            });
        }
        audit_row(
            conn,
            actor,
            "save",
            "kpi_scenario",
            &key,
            stored.as_ref().map(|s| &s.scenario),
            Some(scenario),
        )
        .await?;
        tx.commit().await?;
        Ok(crate::Saved {
            change: if stored.is_some() {
                Change::Updated
            } else {
                Change::Inserted
            },
            version,
        })
    }
}
