//! The yearly management cycle's services: the one place where the
//! CLI, the web pages and the API read the cycle's status, save, submit and
//! review evaluation sheets, list restructuring candidates, handle budget
//! requests and assessments, and recompute the whole cycle.
//!
//! Who may do what (a department editor only for its own department) is
//! decided by the caller that knows the user (the web's `can_*` checks);
//! these services enforce the rules of the records themselves.

use std::collections::{BTreeSet, HashMap};
use std::time::Instant;

use citykpi_domain::FiscalYear;
use citykpi_domain::cycle::budget::{
    self, BudgetRequest, Ceiling, CompileInputs, Compiled, RequestContext, check_request,
};
use citykpi_domain::cycle::lineage::{LineageKind, check_step, lineage_group};
use citykpi_domain::cycle::restructure::{RestructureInputs, restructure_list};
use citykpi_domain::cycle::scenario::Scenario;
use citykpi_domain::cycle::sheet::{
    EvaluationSheet, ProgramDirection, ReviewAction, SheetComputed,
};
use citykpi_domain::cycle::stage::{
    CycleInputs, KpiActualState, SheetState, outstanding, owed_counts, program_runs_in,
};
use citykpi_domain::cycle::{
    CalendarDate, Cycle, CycleError, FieldError, Owed, RestructureEntry, RestructureRules, Stage,
    StageRecord, StageState,
};
use citykpi_domain::org::{Department, Section};
use citykpi_domain::program::{IndicatorKind, Program};
use citykpi_domain::{Dataset, cycle::ReviewState};
use citykpi_store::{
    CycleStoreError, LineageRecord, ObservationFilter, Saved, Store, StoreError, StoredRequest,
    StoredScenario, StoredSheetHead,
};
use serde::Serialize;

use crate::AppError;
use crate::status::{StatusReport, city_code, compute_status};

/// What a cycle service fails with.
#[derive(Debug, thiserror::Error)]
pub enum CycleServiceError {
    #[error(transparent)]
    App(#[from] AppError),
    #[error(transparent)]
    Cycle(#[from] CycleStoreError),
}

impl From<StoreError> for CycleServiceError {
    fn from(e: StoreError) -> Self {
        CycleServiceError::App(AppError::Store(e))
    }
}

impl From<CycleError> for CycleServiceError {
    fn from(e: CycleError) -> Self {
        CycleServiceError::Cycle(CycleStoreError::Rule(e))
    }
}

impl CycleServiceError {
    fn invalid(errors: Vec<FieldError>) -> Self {
        CycleError::Invalid(errors).into()
    }
    /// The field problems, for showing them next to the fields of a form.
    pub fn field_errors(&self) -> &[FieldError] {
        match self {
            CycleServiceError::Cycle(CycleStoreError::Rule(CycleError::Invalid(e))) => e,
            _ => &[],
        }
    }
    /// Someone else saved first (HTTP 409).
    pub fn is_conflict(&self) -> bool {
        matches!(
            self,
            CycleServiceError::Cycle(
                CycleStoreError::Conflict { .. } | CycleStoreError::StaleAmount { .. }
            ) | CycleServiceError::App(AppError::Store(StoreError::Conflict { .. }))
        )
    }
    /// The record does not exist (HTTP 404).
    pub fn is_not_found(&self) -> bool {
        matches!(
            self,
            CycleServiceError::Cycle(CycleStoreError::NotFound { .. })
                | CycleServiceError::App(AppError::NotFound(_))
                | CycleServiceError::App(AppError::Store(StoreError::NotFound { .. }))
        )
    }
    /// A rule refused the request (HTTP 422): invalid input, a closed cycle,
    /// a stage with open work, a review step out of order.
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            CycleServiceError::Cycle(
                CycleStoreError::Rule(_)
                    | CycleStoreError::NoCycle { .. }
                    | CycleStoreError::CycleExists { .. }
            ) | CycleServiceError::App(AppError::Invalid { .. })
        )
    }
}

pub type CycleServiceResult<T> = Result<T, CycleServiceError>;

/// Everything the cycle's computations read, loaded once.
struct CycleData {
    ds: Dataset,
    area: String,
}

async fn load(store: &Store, fy: FiscalYear) -> CycleServiceResult<CycleData> {
    let area = city_code(store).await?;
    let filter = ObservationFilter {
        to_fy: Some(fy),
        area_code: area.clone(),
        ..ObservationFilter::default()
    };
    // Only what the cycle reads: the city's observations up to the year, not
    // every area's (load_all would read them all). The reads are issued side
    // by side, each on its own pooled connection: with SQLite each runs on
    // its own driver thread, and a lone read kept one of two cores idle.
    let (
        departments,
        sections,
        plans,
        plan_nodes,
        kpis,
        observations,
        programs,
        links,
        indicators,
        money,
    ) = tokio::try_join!(
        store.departments(),
        store.sections(),
        store.plans(),
        store.plan_nodes(),
        store.kpis(),
        store.observations(&filter),
        store.programs(),
        store.links(),
        // The restructuring list reads outcome indicators only.
        store.indicators_in(Some(IndicatorKind::Outcome), first_outcome_year(fy), fy),
        store.money_in(fy, fy.next()),
    )?;
    let ds = Dataset {
        departments,
        sections,
        plans,
        plan_nodes,
        kpis,
        observations,
        programs,
        links,
        indicators,
        money,
        ..Dataset::default()
    };
    let area = area.unwrap_or_else(|| {
        ds.observations
            .first()
            .map(|o| o.area_code.clone())
            .unwrap_or_default()
    });
    Ok(CycleData { ds, area })
}

/// The first year whose outcome actuals the restructuring list reads: it
/// looks for outcomes falling `falling_years` years in a row, ending at `fy`
/// or the year before. Indicators and money are read for the years the
/// computations use only — at scale 10 the whole history was most of the
/// time of a recompute. The money read is the evaluated year's (full cost)
/// and the next one's (the running year, the base of the budget it builds).
fn first_outcome_year(fy: FiscalYear) -> FiscalYear {
    let years = RestructureRules::default().falling_years + 1;
    (0..years).fold(fy, |y, _| y.prev())
}

fn department_of<'a>(sections: &'a [Section], section: &str) -> &'a str {
    sections
        .iter()
        .find(|s| s.code == section)
        .map_or("", |s| s.department_code.as_str())
}

/// The department that owns a program ("" if unknown).
pub async fn program_department(store: &Store, program: &Program) -> CycleServiceResult<String> {
    let sections = store.sections().await?;
    Ok(department_of(&sections, &program.section_code).to_string())
}

// ----- status -----

#[derive(Debug, Clone, Serialize)]
pub struct StageStatus {
    #[serde(flatten)]
    pub record: StageRecord,
    pub number: u8,
    pub label_ja: &'static str,
    pub label_en: &'static str,
    /// Items still owed in this stage.
    pub owed: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct CycleStatus {
    /// The fiscal year evaluated.
    pub fy: FiscalYear,
    /// The year whose budget this cycle builds.
    pub budget_fy: FiscalYear,
    pub started: bool,
    pub state: &'static str,
    pub current_stage: Option<Stage>,
    pub stages: Vec<StageStatus>,
    /// Sheets of the year by review state (draft, submitted, returned, accepted).
    pub sheets: Vec<(ReviewState, usize)>,
    pub programs_evaluated: usize,
    pub budget_requests: usize,
    /// Everything still owed, stage by stage.
    pub owed: Vec<Owed>,
}

/// The records of one cycle year, read once: the cycle itself, the sheets
/// of the evaluated year, and the requests and ceilings of the budget year it
/// builds.
#[derive(Debug, Clone)]
pub struct CycleRecords {
    pub fy: FiscalYear,
    pub cycle: Option<Cycle>,
    pub sheets: Vec<StoredSheetHead>,
    pub requests: Vec<StoredRequest>,
    pub ceilings: Vec<Ceiling>,
}

impl CycleRecords {
    pub async fn load(store: &Store, fy: FiscalYear) -> CycleServiceResult<CycleRecords> {
        let budget_fy = Cycle::new(fy).budget_fy();
        Ok(CycleRecords {
            fy,
            cycle: store.cycle(fy).await?,
            sheets: store.sheet_heads(fy).await?,
            requests: store.budget_requests(budget_fy).await?,
            ceilings: store.ceilings(budget_fy).await?,
        })
    }
}

/// Everything computed about one cycle year: where it stands, the
/// restructuring list and the compiled budget, with the records it was
/// computed from. The CLI computes it from one read of the database; the web
/// computes it once per data version from its in-memory read model, so the
/// cycle's pages do not reread or recompute anything per request.
#[derive(Debug, Clone)]
pub struct CycleYear {
    pub records: CycleRecords,
    pub status: CycleStatus,
    pub restructure: Vec<RestructureEntry>,
    pub compiled: Compiled,
}

impl CycleYear {
    /// Reads what the cycle of `fy` needs and computes it.
    pub async fn load(store: &Store, fy: FiscalYear) -> CycleServiceResult<CycleYear> {
        Ok(load_year(store, fy).await?.1)
    }

    /// Computes the cycle of `records.fy` from the data and the status of the
    /// KPIs in that year (`report.fy` must be `records.fy`).
    pub fn compute(ds: &Dataset, report: &StatusReport, records: CycleRecords) -> CycleYear {
        let fy = records.fy;
        let started = records.cycle.is_some();
        let cycle = records.cycle.clone().unwrap_or_else(|| Cycle::new(fy));
        let sheets = &records.sheets;
        let requests = &records.requests;
        let owners: HashMap<&str, &Vec<String>> = ds
            .kpis
            .iter()
            .map(|k| (k.code.as_str(), &k.owner_sections))
            .collect();
        let kpis: Vec<KpiActualState> = report
            .kpis
            .iter()
            .map(|row| KpiActualState {
                kpi_code: row.code.clone(),
                owner_sections: owners
                    .get(row.code.as_str())
                    .map(|o| (*o).clone())
                    .unwrap_or_default(),
                has_actual: row.progress.actual.is_some() && !row.progress.stale,
            })
            .collect();
        let restructure = restructure_of(ds, fy);
        let flagged: BTreeSet<String> =
            restructure.iter().map(|e| e.program_code.clone()).collect();
        let sheet_states: HashMap<String, SheetState> = sheets
            .iter()
            .map(|s| {
                (
                    s.head.program_code.clone(),
                    SheetState {
                        state: s.head.state,
                        direction: s.head.direction,
                    },
                )
            })
            .collect();
        let request_map: HashMap<String, Option<i64>> = requests
            .iter()
            .map(|r| (r.request.program_code.clone(), r.request.assessed))
            .collect();
        let owed = outstanding(&CycleInputs {
            cycle: &cycle,
            sections: &ds.sections,
            programs: &ds.programs,
            kpis: &kpis,
            sheets: &sheet_states,
            flagged: &flagged,
            requests: &request_map,
        });
        let counts = owed_counts(&owed);
        let stages = cycle
            .stages
            .iter()
            .map(|r| StageStatus {
                record: r.clone(),
                number: r.stage.number(),
                label_ja: r.stage.label_ja(),
                label_en: r.stage.label_en(),
                owed: counts.get(&r.stage).copied().unwrap_or(0),
            })
            .collect();
        let policy_of = budget::policy_of_programs(&ds.links, &ds.kpis, &ds.plan_nodes);
        let request_list: Vec<BudgetRequest> = requests.iter().map(|r| r.request.clone()).collect();
        let compiled = budget::compile(&CompileInputs {
            fy: cycle.budget_fy(),
            requests: &request_list,
            programs: &ds.programs,
            departments: &ds.departments,
            sections: &ds.sections,
            policy_of: &policy_of,
            last_year: &ds.money,
            ceilings: &records.ceilings,
        });
        let status = CycleStatus {
            fy,
            budget_fy: cycle.budget_fy(),
            started,
            state: cycle.state.as_str(),
            current_stage: if started { cycle.current_stage() } else { None },
            stages,
            sheets: ReviewState::ALL
                .into_iter()
                .map(|st| (st, sheets.iter().filter(|s| s.head.state == st).count()))
                .collect(),
            programs_evaluated: ds
                .programs
                .iter()
                .filter(|p| program_runs_in(p, fy))
                .count(),
            budget_requests: requests.len(),
            owed,
        };
        CycleYear {
            records,
            status,
            restructure,
            compiled,
        }
    }

    /// Every program running in the year with its sheet's state, optionally
    /// only one department's.
    pub fn sheet_list(&self, ds: &Dataset, department: Option<&str>) -> Vec<SheetRow> {
        sheet_rows(ds, &self.records.sheets, self.records.fy, department)
    }

    /// The requests of the budget year this cycle builds (all programs that
    /// run in it or have a request), optionally one department's.
    pub fn budget_view(&self, ds: &Dataset, department: Option<&str>) -> BudgetView {
        let cycle_fy = self.records.fy;
        let budget_fy = Cycle::new(cycle_fy).budget_fy();
        let direction_of: HashMap<&str, Option<ProgramDirection>> = self
            .records
            .sheets
            .iter()
            .map(|s| (s.head.program_code.as_str(), s.head.direction))
            .collect();
        let request_of: HashMap<&str, &StoredRequest> = self
            .records
            .requests
            .iter()
            .map(|r| (r.request.program_code.as_str(), r))
            .collect();
        let base_fy = budget_fy.prev();
        let base_budget: HashMap<&str, i64> = ds
            .money
            .iter()
            .filter(|m| m.fy == base_fy)
            .map(|m| (m.program_code.as_str(), m.budget()))
            .collect();
        let dept_of: HashMap<&str, &str> = ds
            .sections
            .iter()
            .map(|s| (s.code.as_str(), s.department_code.as_str()))
            .collect();
        let rows = ds
            .programs
            .iter()
            .filter(|p| program_runs_in(p, budget_fy) || request_of.contains_key(p.code.as_str()))
            .filter_map(|p| {
                let dept = dept_of.get(p.section_code.as_str()).copied().unwrap_or("");
                if department.is_some_and(|d| d != dept) {
                    return None;
                }
                let stored = request_of.get(p.code.as_str());
                Some(RequestRow {
                    program_code: p.code.clone(),
                    name_ja: p.name_ja.clone(),
                    department_code: dept.to_string(),
                    direction: direction_of.get(p.code.as_str()).copied().flatten(),
                    last_year_budget: base_budget.get(p.code.as_str()).copied().unwrap_or(0),
                    request: stored.map(|r| r.request.clone()),
                    version: stored.map_or(0, |r| r.version),
                })
            })
            .collect();
        BudgetView {
            fy: budget_fy,
            cycle_fy,
            ceilings: self.records.ceilings.clone(),
            rows,
            compiled: self.compiled.clone(),
        }
    }
}

/// Whose notices: the work a user's role answers for in a running cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeScope<'a> {
    /// A department's sections (actuals of the KPIs they own, sheets,
    /// budget requests).
    Department(&'a str),
    /// The strategy office: reviews, restructuring decisions, KPIs nobody owns.
    StrategyOffice,
    /// Finance: the assessments.
    Finance,
}

/// One notice: what a scope still owes in one open stage of a running cycle.
#[derive(Debug, Clone, Serialize)]
pub struct Notice {
    /// The evaluated year of the cycle.
    pub fy: FiscalYear,
    pub stage: Stage,
    pub stage_number: u8,
    pub label_ja: &'static str,
    pub label_en: &'static str,
    /// Items owed in the stage.
    pub count: usize,
    pub deadline: Option<CalendarDate>,
    /// The deadline has passed (`today` is after it).
    pub overdue: bool,
}

impl CycleYear {
    /// What `scope` still owes in the open stages of this cycle, stage by
    /// stage, with the stage's deadline. Nothing for a cycle not started or
    /// closed.
    pub fn notices(&self, scope: NoticeScope<'_>, today: Option<CalendarDate>) -> Vec<Notice> {
        let s = &self.status;
        if !s.started || s.state == "closed" {
            return Vec::new();
        }
        let mine = |o: &Owed| match scope {
            NoticeScope::Department(d) => o.department_code.as_deref() == Some(d),
            NoticeScope::StrategyOffice => {
                o.section_code.is_none() && o.stage != Stage::FinanceReview
            }
            NoticeScope::Finance => o.section_code.is_none() && o.stage == Stage::FinanceReview,
        };
        s.stages
            .iter()
            .filter(|st| st.record.state == StageState::Open)
            .filter_map(|st| {
                let count = s
                    .owed
                    .iter()
                    .filter(|o| o.stage == st.record.stage && mine(o))
                    .count();
                (count > 0).then(|| Notice {
                    fy: s.fy,
                    stage: st.record.stage,
                    stage_number: st.number,
                    label_ja: st.label_ja,
                    label_en: st.label_en,
                    count,
                    deadline: st.record.deadline,
                    overdue: matches!((st.record.deadline, today), (Some(d), Some(t)) if d < t),
                })
            })
            .collect()
    }
}

/// Today's date in Japan (None only outside the years a date may have).
pub fn today() -> Option<CalendarDate> {
    let d = crate::clock::today();
    CalendarDate::new(d.year(), d.month(), d.day()).ok()
}

/// The data and the computed cycle of `fy`, from one read of the database.
async fn load_year(store: &Store, fy: FiscalYear) -> CycleServiceResult<(CycleData, CycleYear)> {
    let data = load(store, fy).await?;
    let records = CycleRecords::load(store, fy).await?;
    Ok(compute_year(data, records))
}

/// The cycle of `records.fy` from data read for it.
fn compute_year(data: CycleData, records: CycleRecords) -> (CycleData, CycleYear) {
    let fy = records.fy;
    let report = compute_status(
        fy,
        data.area.clone(),
        &data.ds.plans,
        &data.ds.plan_nodes,
        &data.ds.kpis,
        &data.ds.observations,
    );
    let year = CycleYear::compute(&data.ds, &report, records);
    (data, year)
}

fn sheet_rows(
    ds: &Dataset,
    sheets: &[StoredSheetHead],
    fy: FiscalYear,
    department: Option<&str>,
) -> Vec<SheetRow> {
    let sheets: HashMap<&str, &StoredSheetHead> = sheets
        .iter()
        .map(|s| (s.head.program_code.as_str(), s))
        .collect();
    let dept_of: HashMap<&str, &str> = ds
        .sections
        .iter()
        .map(|s| (s.code.as_str(), s.department_code.as_str()))
        .collect();
    ds.programs
        .iter()
        .filter(|p| program_runs_in(p, fy))
        .filter_map(|p| {
            let dept = dept_of.get(p.section_code.as_str()).copied().unwrap_or("");
            if department.is_some_and(|d| d != dept) {
                return None;
            }
            let s = sheets.get(p.code.as_str());
            Some(SheetRow {
                state: s.map(|s| s.head.state),
                direction: s.and_then(|s| s.head.direction),
                version: s.map_or(0, |s| s.version),
                full_cost: s.map(|s| s.head.full_cost()),
                program_code: p.code.clone(),
                name_ja: p.name_ja.clone(),
                section_code: p.section_code.clone(),
                department_code: dept.to_string(),
            })
        })
        .collect()
}

/// The ranked restructuring list of the evaluated year `fy`.
pub fn restructure_of(ds: &Dataset, fy: FiscalYear) -> Vec<RestructureEntry> {
    restructure_list(&RestructureInputs {
        fy,
        programs: &ds.programs,
        sections: &ds.sections,
        links: &ds.links,
        money: &ds.money,
        indicators: &ds.indicators,
        rules: RestructureRules::default(),
    })
}

/// Where the cycle of `fy` stands: each stage with what is still owed.
pub async fn cycle_status(store: &Store, fy: FiscalYear) -> CycleServiceResult<CycleStatus> {
    Ok(CycleYear::load(store, fy).await?.status)
}

/// The ranked restructuring list for the evaluated year `fy`.
pub async fn restructure(
    store: &Store,
    fy: FiscalYear,
) -> CycleServiceResult<Vec<RestructureEntry>> {
    let data = load(store, fy).await?;
    Ok(restructure_of(&data.ds, fy))
}

#[derive(Debug, Clone, Serialize)]
pub struct Recomputed {
    pub status: CycleStatus,
    pub restructure: Vec<RestructureEntry>,
    pub compiled: Compiled,
    /// Wall time of the recomputation (loading included), milliseconds.
    pub elapsed_ms: u128,
    /// Of which reading the database.
    pub load_ms: u128,
}

/// Recomputes the whole cycle of `fy`: KPI progress, who owes what, the
/// restructuring list and the compiled budget, from one read of the data.
pub async fn recompute(store: &Store, fy: FiscalYear) -> CycleServiceResult<Recomputed> {
    let started = Instant::now();
    let (data, records) = tokio::try_join!(load(store, fy), CycleRecords::load(store, fy))?;
    let load_ms = started.elapsed().as_millis();
    let (_, c) = compute_year(data, records);
    Ok(Recomputed {
        status: c.status,
        restructure: c.restructure,
        compiled: c.compiled,
        elapsed_ms: started.elapsed().as_millis(),
        load_ms,
    })
}

// ----- stages -----

pub async fn start_cycle(store: &Store, actor: &str, fy: FiscalYear) -> CycleServiceResult<Cycle> {
    Ok(store.start_cycle(fy, actor).await?)
}

/// Closes a stage once nothing is owed in it.
pub async fn close_stage(
    store: &Store,
    actor: &str,
    fy: FiscalYear,
    stage: Stage,
) -> CycleServiceResult<Cycle> {
    let status = cycle_status(store, fy).await?;
    let owed = status.owed.iter().filter(|o| o.stage == stage).count();
    let at = citykpi_store::now_rfc3339();
    Ok(store
        .update_cycle(fy, actor, "close_stage", |c| {
            c.close_stage(stage, owed, actor, &at)
        })
        .await?)
}

pub async fn waive_stage(
    store: &Store,
    actor: &str,
    fy: FiscalYear,
    stage: Stage,
    reason: &str,
) -> CycleServiceResult<Cycle> {
    let at = citykpi_store::now_rfc3339();
    Ok(store
        .update_cycle(fy, actor, "waive_stage", |c| {
            c.waive_stage(stage, reason, actor, &at)
        })
        .await?)
}

pub async fn reopen_stage(
    store: &Store,
    actor: &str,
    fy: FiscalYear,
    stage: Stage,
) -> CycleServiceResult<Cycle> {
    let at = citykpi_store::now_rfc3339();
    Ok(store
        .update_cycle(fy, actor, "reopen_stage", |c| {
            c.reopen_stage(stage, actor, &at)
        })
        .await?)
}

pub async fn set_deadline(
    store: &Store,
    actor: &str,
    fy: FiscalYear,
    stage: Stage,
    deadline: &str,
) -> CycleServiceResult<Cycle> {
    let date = if deadline.trim().is_empty() {
        None
    } else {
        Some(CalendarDate::parse(deadline).map_err(|e| {
            CycleServiceError::invalid(vec![FieldError::new(
                "deadline",
                format!("締切日が読めません（{}）", deadline.trim()),
                e.to_string(),
            )])
        })?)
    };
    Ok(store
        .update_cycle(fy, actor, "set_deadline", |c| c.set_deadline(stage, date))
        .await?)
}

/// Closes the whole cycle (read-only from then on).
pub async fn close_cycle(store: &Store, actor: &str, fy: FiscalYear) -> CycleServiceResult<Cycle> {
    Ok(store.update_cycle(fy, actor, "close", Cycle::close).await?)
}

/// Reopens a closed cycle for a correction; logged as `reopen`.
pub async fn reopen_cycle(store: &Store, actor: &str, fy: FiscalYear) -> CycleServiceResult<Cycle> {
    Ok(store
        .update_cycle(fy, actor, "reopen", Cycle::reopen)
        .await?)
}

// ----- evaluation sheets -----

/// A program's place in the plan, shown on its sheet.
#[derive(Debug, Clone, Serialize)]
pub struct PlanPosition {
    pub kpi_code: String,
    pub kpi_name_ja: String,
    pub weight: f64,
    pub node_code: String,
    pub node_name_ja: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SheetView {
    pub program: Program,
    pub department_code: String,
    pub sheet: EvaluationSheet,
    /// The stored version (0 = not saved yet: the sheet is pre-filled).
    pub version: i64,
    pub computed: SheetComputed,
    pub plan_position: Vec<PlanPosition>,
    /// How many versions are stored.
    pub versions: usize,
    pub saved_by: String,
    pub saved_at: String,
}

async fn program_or_404(store: &Store, code: &str) -> CycleServiceResult<Program> {
    store
        .program(code)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("事務事業 / program {code}")).into())
}

/// The sheet of `program` for `fy`: the stored one, or a new one pre-filled
/// from last year's sheet and the program's indicators and money. The
/// program, its department and the sheet are read from the store; the
/// program's indicators, money, links, KPIs and plan nodes come from
/// `reference` (the web's read model: no per-request read of every link
/// and KPI).
pub async fn sheet_view(
    store: &Store,
    reference: &Dataset,
    program_code: &str,
    fy: FiscalYear,
) -> CycleServiceResult<SheetView> {
    let program = program_or_404(store, program_code).await?;
    let sections = store.sections().await?;
    let department_code = department_of(&sections, &program.section_code).to_string();
    let versions = store.sheet_versions(program_code, fy).await?;
    let (sheet, version, saved_by, saved_at) = match versions.last() {
        Some(s) => (
            s.sheet.clone(),
            s.version,
            s.saved_by.clone(),
            s.saved_at.clone(),
        ),
        None => {
            let last = store.sheet(program_code, fy.prev()).await?;
            let indicators: Vec<_> = reference
                .indicators
                .iter()
                .filter(|i| i.program_code == program_code)
                .cloned()
                .collect();
            let money = reference
                .money
                .iter()
                .find(|m| m.program_code == program_code && m.fy == fy)
                .cloned();
            let sheet = EvaluationSheet::prefilled(
                &program,
                fy,
                last.as_ref().map(|l| &l.sheet),
                &indicators,
                money.as_ref(),
            );
            (sheet, 0, String::new(), String::new())
        }
    };
    let kpis = &reference.kpis;
    let nodes = &reference.plan_nodes;
    let mut plan_position = Vec::new();
    for l in reference
        .links
        .iter()
        .filter(|l| l.program_code == program_code)
    {
        let kpi = kpis.iter().find(|k| k.code == l.kpi_code);
        let node = kpi
            .and_then(|k| k.nodes.first())
            .and_then(|n| nodes.iter().find(|x| x.code == n.node_code));
        plan_position.push(PlanPosition {
            kpi_name_ja: kpi.map(|k| k.name_ja.clone()).unwrap_or_default(),
            kpi_code: l.kpi_code.clone(),
            weight: l.weight,
            node_code: node.map(|n| n.code.clone()).unwrap_or_default(),
            node_name_ja: node.map(|n| n.name_ja.clone()).unwrap_or_default(),
        });
    }
    Ok(SheetView {
        computed: sheet.computed(),
        program,
        department_code,
        sheet,
        version,
        plan_position,
        versions: versions.len(),
        saved_by,
        saved_at,
    })
}

/// Saves the section's work on a sheet. The review state and the reviewer's
/// comment are not the section's to set: they are kept as stored. A sheet
/// handed in (submitted or accepted) can no longer be changed by the section.
pub async fn save_sheet(
    store: &Store,
    actor: &str,
    mut sheet: EvaluationSheet,
    expected_version: i64,
) -> CycleServiceResult<Saved> {
    program_or_404(store, &sheet.program_code).await?;
    let stored = store.sheet(&sheet.program_code, sheet.fy).await?;
    let state = stored.as_ref().map(|s| s.sheet.state).unwrap_or_default();
    if !state.editable_by_section() {
        return Err(CycleServiceError::invalid(vec![FieldError::new(
            "state",
            format!("「{}」の評価シートは編集できません", state.label_ja()),
            format!("a sheet that is {} cannot be edited", state.label_en()),
        )]));
    }
    sheet.state = state;
    sheet.reviewer_comment = stored
        .as_ref()
        .map(|s| s.sheet.reviewer_comment.clone())
        .unwrap_or_default();
    let errors = sheet.validate_draft();
    if !errors.is_empty() {
        return Err(CycleServiceError::invalid(errors));
    }
    Ok(store
        .save_sheet(&sheet, Some(expected_version), actor, "save")
        .await?)
}

/// Hands a sheet in for review after checking it is complete.
pub async fn submit_sheet(
    store: &Store,
    actor: &str,
    program_code: &str,
    fy: FiscalYear,
    expected_version: i64,
) -> CycleServiceResult<Saved> {
    let program = program_or_404(store, program_code).await?;
    let stored = store.sheet(program_code, fy).await?.ok_or_else(|| {
        CycleServiceError::invalid(vec![FieldError::new(
            "version",
            "評価シートを先に保存してください",
            "save the sheet before submitting it",
        )])
    })?;
    let mut sheet = stored.sheet;
    sheet.state = sheet.state.after(ReviewAction::Submit)?;
    let errors = sheet.validate_for_submit(&program);
    if !errors.is_empty() {
        return Err(CycleServiceError::invalid(errors));
    }
    Ok(store
        .save_sheet(&sheet, Some(expected_version), actor, "submit")
        .await?)
}

/// The strategy office's decision on a submitted sheet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    pub action: ReviewAction,
    /// 所見; required to return a sheet.
    pub comment: String,
    /// The direction as decided (the restructuring decision); None keeps the section's.
    pub direction: Option<ProgramDirection>,
    pub expected_version: i64,
}

/// The strategy office's review: return with a comment (required) or accept,
/// optionally settling the direction (the restructuring decision).
pub async fn review_sheet(
    store: &Store,
    actor: &str,
    program_code: &str,
    fy: FiscalYear,
    review: &Review,
) -> CycleServiceResult<Saved> {
    let Review {
        action,
        ref comment,
        direction,
        expected_version,
    } = *review;
    let program = program_or_404(store, program_code).await?;
    let stored = store.sheet(program_code, fy).await?.ok_or_else(|| {
        AppError::NotFound(format!("評価シート / evaluation sheet {program_code}/{fy}"))
    })?;
    let mut sheet = stored.sheet;
    if action == ReviewAction::Submit {
        return Err(CycleError::Transition {
            from: sheet.state,
            action,
        }
        .into());
    }
    sheet.state = sheet.state.after(action)?;
    if action == ReviewAction::Return && comment.trim().is_empty() {
        return Err(CycleServiceError::invalid(vec![FieldError::new(
            "reviewer_comment",
            "差戻しには所見（理由）が必要です",
            "returning a sheet needs a comment",
        )]));
    }
    sheet.reviewer_comment = comment.trim().to_string();
    if let Some(d) = direction {
        sheet.direction = Some(d);
    }
    let errors = if action == ReviewAction::Accept {
        sheet.validate_for_submit(&program)
    } else {
        sheet.validate_draft()
    };
    if !errors.is_empty() {
        return Err(CycleServiceError::invalid(errors));
    }
    Ok(store
        .save_sheet(&sheet, Some(expected_version), actor, action.as_str())
        .await?)
}

/// One line of the sheet list of a year.
#[derive(Debug, Clone, Serialize)]
pub struct SheetRow {
    pub program_code: String,
    pub name_ja: String,
    pub section_code: String,
    pub department_code: String,
    /// None = no sheet saved yet.
    pub state: Option<ReviewState>,
    pub direction: Option<ProgramDirection>,
    pub version: i64,
    pub full_cost: Option<i64>,
}

/// Every program running in `fy` with its sheet's state, optionally only
/// one department's.
pub async fn sheet_list(
    store: &Store,
    fy: FiscalYear,
    department: Option<&str>,
) -> CycleServiceResult<Vec<SheetRow>> {
    let ds = Dataset {
        programs: store.programs().await?,
        sections: store.sections().await?,
        ..Dataset::default()
    };
    let sheets = store.sheet_heads(fy).await?;
    Ok(sheet_rows(&ds, &sheets, fy, department))
}

// ----- budget -----

/// One program's line in the budget stage.
#[derive(Debug, Clone, Serialize)]
pub struct RequestRow {
    pub program_code: String,
    pub name_ja: String,
    pub department_code: String,
    /// Direction of the evaluation sheet of the cycle's year.
    pub direction: Option<ProgramDirection>,
    /// The budget of the running year.
    pub last_year_budget: i64,
    pub request: Option<BudgetRequest>,
    pub version: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct BudgetView {
    /// The budget year.
    pub fy: FiscalYear,
    /// The cycle (evaluated year) building it.
    pub cycle_fy: FiscalYear,
    pub ceilings: Vec<Ceiling>,
    pub rows: Vec<RequestRow>,
    pub compiled: Compiled,
}

/// The requests of the budget year `budget_fy` (all programs that run in it
/// or have a request), optionally one department's.
pub async fn budget_view(
    store: &Store,
    budget_fy: FiscalYear,
    department: Option<&str>,
) -> CycleServiceResult<BudgetView> {
    let cycle_fy = Cycle::fy_for_budget(budget_fy);
    let (data, year) = load_year(store, cycle_fy).await?;
    Ok(year.budget_view(&data.ds, department))
}

/// Saves a section's request for `req.fy` (the budget year): the general
/// funds are computed, the direction of the program's evaluation and the
/// department's ceiling are checked inside the write.
pub async fn save_request(
    store: &Store,
    actor: &str,
    req: BudgetRequest,
    expected_version: i64,
) -> CycleServiceResult<Saved> {
    program_or_404(store, &req.program_code).await?;
    let req = req.with_general_funds();
    let cycle_fy = Cycle::fy_for_budget(req.fy);
    let direction = store
        .sheet(&req.program_code, cycle_fy)
        .await?
        .and_then(|s| s.sheet.direction);
    let base_fy = req.fy.prev();
    let last_year_budget = store
        .money()
        .await?
        .into_iter()
        .find(|m| m.program_code == req.program_code && m.fy == base_fy)
        .map_or(0, |m| m.budget());
    let check = |dept: citykpi_store::DepartmentBudget| {
        let errors = check_request(
            &req,
            &RequestContext {
                direction,
                last_year_budget,
                ceiling: dept.ceiling,
                department_other_requests: dept.other_requests,
            },
        );
        if errors.is_empty() {
            Ok(())
        } else {
            Err(CycleError::Invalid(errors))
        }
    };
    Ok(store
        .save_budget_request(&req, Some(expected_version), actor, check)
        .await?)
}

/// Finance's assessed amount (査定額); None clears it.
pub async fn assess_request(
    store: &Store,
    actor: &str,
    program_code: &str,
    budget_fy: FiscalYear,
    assessed: Option<i64>,
    expected_version: i64,
) -> CycleServiceResult<Saved> {
    if let Some(a) = assessed {
        let errors = budget::check_assessment(a);
        if !errors.is_empty() {
            return Err(CycleServiceError::invalid(errors));
        }
    }
    Ok(store
        .assess_budget_request(
            program_code,
            budget_fy,
            assessed,
            Some(expected_version),
            actor,
        )
        .await?)
}

/// Sets a department's ceiling (枠) for the budget year if it is still the
/// amount the writer saw (`seen`: `Some(None)` = none set; None = no check).
pub async fn set_ceiling(
    store: &Store,
    actor: &str,
    ceiling: &Ceiling,
    seen: Option<Option<i64>>,
) -> CycleServiceResult<citykpi_store::Change> {
    let errors = budget::check_ceiling(ceiling.amount);
    if !errors.is_empty() {
        return Err(CycleServiceError::invalid(errors));
    }
    Ok(store.set_ceiling_if(ceiling, seen, actor).await?)
}

/// The compiled budget of `budget_fy`.
pub async fn compiled_budget(store: &Store, budget_fy: FiscalYear) -> CycleServiceResult<Compiled> {
    Ok(budget_view(store, budget_fy, None).await?.compiled)
}

/// Departments by sort order, for pickers.
pub async fn departments(store: &Store) -> CycleServiceResult<Vec<Department>> {
    Ok(store.departments().await?)
}

// ----- restructuring with lineage -----

/// Records a merge, split, rename or abolition decided in the cycle of `fy`.
/// Successor programs are registered first as ordinary programs; the
/// replaced ones end with the running year (fy + 1), in the same transaction.
pub async fn restructure_programs(
    store: &Store,
    actor: &str,
    fy: FiscalYear,
    kind: LineageKind,
    from: &[String],
    to: &[String],
    note: &str,
) -> CycleServiceResult<i64> {
    let known = store.known_keys().await?.programs;
    let errors = check_step(kind, from, to, &known);
    if !errors.is_empty() {
        return Err(CycleServiceError::invalid(errors));
    }
    let record = LineageRecord {
        id: 0,
        fy,
        kind: kind.as_str().to_string(),
        from_codes: from.to_vec(),
        to_codes: to.to_vec(),
        note: note.trim().to_string(),
        decided_by: String::new(),
        decided_at: String::new(),
    };
    let end = Cycle::new(fy).base_fy();
    Ok(store.record_lineage(&record, Some(end), actor).await?)
}

/// A program's history across restructurings: every program connected to it,
/// the steps between them and their KPI contributions, so that a KPI's
/// contribution can be followed from the old programs to the new.
#[derive(Debug, Clone, Serialize)]
pub struct ProgramHistory {
    pub group: Vec<String>,
    pub steps: Vec<LineageRecord>,
    pub links: Vec<citykpi_domain::program::KpiLink>,
}

pub async fn program_history(store: &Store, code: &str) -> CycleServiceResult<ProgramHistory> {
    let all = store.lineage().await?;
    let links = store.links().await?;
    Ok(history_of(code, &all, &links))
}

/// The history of `code` from every recorded step and link: the programs
/// it came from or became (transitively), the steps among them, and their
/// links to KPIs.
pub fn history_of(
    code: &str,
    all: &[LineageRecord],
    links: &[citykpi_domain::program::KpiLink],
) -> ProgramHistory {
    let pairs: Vec<(Vec<String>, Vec<String>)> = all
        .iter()
        .map(|r| (r.from_codes.clone(), r.to_codes.clone()))
        .collect();
    let group = lineage_group(code, &pairs);
    let steps = all
        .iter()
        .filter(|r| {
            r.from_codes
                .iter()
                .chain(&r.to_codes)
                .any(|c| group.contains(c))
        })
        .cloned()
        .collect();
    let links = links
        .iter()
        .filter(|l| group.contains(&l.program_code))
        .cloned()
        .collect();
    ProgramHistory {
        group,
        steps,
        links,
    }
}

// ----- scenarios (シナリオの仮説) -----

/// A KPI's scenario: the current version and the earlier ones.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioView {
    pub kpi_code: String,
    /// The owner sections of the KPI (whose department editors may revise it).
    pub owner_sections: Vec<String>,
    pub current: Option<StoredScenario>,
    /// Earlier versions, newest first.
    pub history: Vec<StoredScenario>,
}

pub async fn scenario_view(store: &Store, kpi_code: &str) -> CycleServiceResult<ScenarioView> {
    let kpi = store
        .kpi(kpi_code)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("KPI {kpi_code}")))?;
    let mut versions = store.scenario_versions(kpi_code).await?;
    let current = versions.pop();
    versions.reverse();
    Ok(ScenarioView {
        kpi_code: kpi.code,
        owner_sections: kpi.owner_sections,
        current,
        history: versions,
    })
}

/// Saves a revision of a KPI's scenario (texts trimmed; every problem listed
/// by field); `expected_version` is the version the writer started from.
pub async fn save_scenario(
    store: &Store,
    actor: &str,
    mut scenario: Scenario,
    expected_version: i64,
) -> CycleServiceResult<Saved> {
    scenario.strategy = scenario.strategy.trim().to_string();
    for l in &mut scenario.chain {
        l.text = l.text.trim().to_string();
        l.program_code = l
            .program_code
            .take()
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty());
    }
    for a in &mut scenario.assumptions {
        a.text = a.text.trim().to_string();
        a.evidence = a.evidence.trim().to_string();
    }
    let known = store.known_keys().await?;
    if !known.kpis.contains(&scenario.kpi_code) {
        return Err(AppError::NotFound(format!("KPI {}", scenario.kpi_code)).into());
    }
    let errors = scenario.check(&known.programs);
    if !errors.is_empty() {
        return Err(CycleServiceError::invalid(errors));
    }
    Ok(store
        .save_scenario(&scenario, expected_version, actor)
        .await?)
}

// ----- demo -----

/// Gives the demo city its cycle in progress (see `citykpi_demo::cycle`).
pub async fn build_demo(
    store: &Store,
    ds: &Dataset,
    fy: FiscalYear,
    as_of: citykpi_domain::partner::Day,
) -> CycleServiceResult<()> {
    let demo = citykpi_demo::cycle::generate(ds, fy, as_of);
    store
        .load_cycle_records(
            demo.fy,
            (&demo.waived, &demo.closed),
            &demo.sheet_versions,
            &demo.ceilings,
            &demo.requests,
            "demo",
        )
        .await?;
    Ok(())
}
