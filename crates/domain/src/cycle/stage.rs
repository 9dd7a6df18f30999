//! The six stages of a cycle, their deadlines and states, and who still owes
//! what in each.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use crate::fiscal::FiscalYear;
use crate::org::Section;
use crate::program::Program;

use super::sheet::{ProgramDirection, ReviewState};
use super::{CalendarDate, CycleError};

/// The stages in the order the year runs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// 1. KPI actuals collected by their owners.
    KpiActuals,
    /// 2. Self-evaluation of every program by its section.
    SelfEvaluation,
    /// 3. Review by the strategy office.
    Review,
    /// 4. Restructuring decisions.
    Restructuring,
    /// 5. Budget requests within the department ceilings.
    BudgetRequests,
    /// 6. Finance assessment and the compiled budget.
    FinanceReview,
}

impl Stage {
    pub const ALL: [Stage; 6] = [
        Stage::KpiActuals,
        Stage::SelfEvaluation,
        Stage::Review,
        Stage::Restructuring,
        Stage::BudgetRequests,
        Stage::FinanceReview,
    ];
    pub fn number(self) -> u8 {
        match self {
            Stage::KpiActuals => 1,
            Stage::SelfEvaluation => 2,
            Stage::Review => 3,
            Stage::Restructuring => 4,
            Stage::BudgetRequests => 5,
            Stage::FinanceReview => 6,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::KpiActuals => "kpi_actuals",
            Stage::SelfEvaluation => "self_evaluation",
            Stage::Review => "review",
            Stage::Restructuring => "restructuring",
            Stage::BudgetRequests => "budget_requests",
            Stage::FinanceReview => "finance_review",
        }
    }
    pub fn label_ja(self) -> &'static str {
        match self {
            Stage::KpiActuals => "KPI実績の収集",
            Stage::SelfEvaluation => "事務事業の自己評価",
            Stage::Review => "企画部門による評価確認",
            Stage::Restructuring => "事業再編の決定",
            Stage::BudgetRequests => "予算要求",
            Stage::FinanceReview => "財政査定・予算編成",
        }
    }
    pub fn label_en(self) -> &'static str {
        match self {
            Stage::KpiActuals => "KPI actuals",
            Stage::SelfEvaluation => "self-evaluation",
            Stage::Review => "review",
            Stage::Restructuring => "restructuring",
            Stage::BudgetRequests => "budget requests",
            Stage::FinanceReview => "finance review",
        }
    }
    /// Accepts the code, the number (1–6) or the Japanese label.
    pub fn parse(s: &str) -> Option<Stage> {
        let s = crate::text::normalize(s);
        Stage::ALL.into_iter().find(|st| {
            st.as_str().eq_ignore_ascii_case(&s)
                || st.label_ja() == s
                || st.number().to_string() == s
        })
    }
    /// The usual deadline in a Japanese city (see DOMAIN.md's year) for the
    /// cycle that evaluates `fy`: actuals by June, sheets by early August,
    /// review by mid-September, decisions by September, requests by mid-
    /// November, assessment by the end of January.
    pub fn default_deadline(self, fy: FiscalYear) -> Option<CalendarDate> {
        let y = fy.year() + 1;
        let (year, month, day) = match self {
            Stage::KpiActuals => (y, 6, 30),
            Stage::SelfEvaluation => (y, 8, 10),
            Stage::Review => (y, 9, 15),
            Stage::Restructuring => (y, 9, 30),
            Stage::BudgetRequests => (y, 11, 15),
            Stage::FinanceReview => (y + 1, 1, 31),
        };
        CalendarDate::new(year, month, day).ok()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StageState {
    #[default]
    Open,
    /// The work is done.
    Closed,
    /// Skipped on purpose, with a reason.
    Waived,
}

impl StageState {
    pub fn as_str(self) -> &'static str {
        match self {
            StageState::Open => "open",
            StageState::Closed => "closed",
            StageState::Waived => "waived",
        }
    }
    pub fn label_ja(self) -> &'static str {
        match self {
            StageState::Open => "実施中",
            StageState::Closed => "完了",
            StageState::Waived => "免除",
        }
    }
    pub fn label_en(self) -> &'static str {
        match self {
            StageState::Open => "open",
            StageState::Closed => "closed",
            StageState::Waived => "waived",
        }
    }
    pub fn parse(s: &str) -> Option<StageState> {
        [StageState::Open, StageState::Closed, StageState::Waived]
            .into_iter()
            .find(|st| st.as_str() == s.trim())
    }
    pub fn is_done(self) -> bool {
        !matches!(self, StageState::Open)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageRecord {
    pub stage: Stage,
    pub deadline: Option<CalendarDate>,
    pub state: StageState,
    /// Why it was waived (empty otherwise).
    #[serde(default)]
    pub reason: String,
    /// Who last changed the state, and when (RFC 3339).
    #[serde(default)]
    pub changed_by: String,
    #[serde(default)]
    pub changed_at: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CycleState {
    #[default]
    Open,
    /// Read-only until reopened.
    Closed,
}

impl CycleState {
    pub fn as_str(self) -> &'static str {
        match self {
            CycleState::Open => "open",
            CycleState::Closed => "closed",
        }
    }
    pub fn label_ja(self) -> &'static str {
        match self {
            CycleState::Open => "実施中",
            CycleState::Closed => "締切済",
        }
    }
    pub fn parse(s: &str) -> Option<CycleState> {
        match s.trim() {
            "open" => Some(CycleState::Open),
            "closed" => Some(CycleState::Closed),
            _ => None,
        }
    }
}

/// The cycle that evaluates `fy`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cycle {
    pub fy: FiscalYear,
    pub state: CycleState,
    /// One record per stage, in `Stage::ALL` order.
    pub stages: Vec<StageRecord>,
}

impl Cycle {
    /// A new cycle with every stage open and the usual deadlines.
    pub fn new(fy: FiscalYear) -> Cycle {
        Cycle {
            fy,
            state: CycleState::Open,
            stages: Stage::ALL
                .into_iter()
                .map(|stage| StageRecord {
                    stage,
                    deadline: stage.default_deadline(fy),
                    state: StageState::Open,
                    reason: String::new(),
                    changed_by: String::new(),
                    changed_at: String::new(),
                })
                .collect(),
        }
    }

    /// The year whose budget is running while this cycle runs ("last year"
    /// for the budget requests).
    pub fn base_fy(&self) -> FiscalYear {
        self.fy.next()
    }

    /// The year whose budget this cycle builds.
    pub fn budget_fy(&self) -> FiscalYear {
        self.fy.next().next()
    }

    /// The cycle whose budget year is `budget_fy`.
    pub fn fy_for_budget(budget_fy: FiscalYear) -> FiscalYear {
        budget_fy.prev().prev()
    }

    pub fn stage(&self, stage: Stage) -> Option<&StageRecord> {
        self.stages.iter().find(|s| s.stage == stage)
    }

    fn stage_mut(&mut self, stage: Stage) -> &mut StageRecord {
        // Records missing from damaged data are recreated, so this cannot fail.
        if let Some(i) = self.stages.iter().position(|s| s.stage == stage) {
            return &mut self.stages[i];
        }
        self.stages.push(StageRecord {
            stage,
            deadline: stage.default_deadline(self.fy),
            state: StageState::Open,
            reason: String::new(),
            changed_by: String::new(),
            changed_at: String::new(),
        });
        self.stages.sort_by_key(|s| s.stage);
        let i = self
            .stages
            .iter()
            .position(|s| s.stage == stage)
            .unwrap_or(0);
        &mut self.stages[i]
    }

    /// The first stage still open: where the city is in its year.
    pub fn current_stage(&self) -> Option<Stage> {
        self.stages
            .iter()
            .find(|s| !s.state.is_done())
            .map(|s| s.stage)
    }

    /// Refuses any change while the cycle is closed.
    pub fn ensure_open(&self) -> Result<(), CycleError> {
        match self.state {
            CycleState::Open => Ok(()),
            CycleState::Closed => Err(CycleError::CycleClosed { fy: self.fy.year() }),
        }
    }

    pub fn set_deadline(
        &mut self,
        stage: Stage,
        deadline: Option<CalendarDate>,
    ) -> Result<(), CycleError> {
        self.ensure_open()?;
        self.stage_mut(stage).deadline = deadline;
        Ok(())
    }

    /// Closes a stage whose work is done: `outstanding` is the number of
    /// items still owed in it (see `outstanding`).
    pub fn close_stage(
        &mut self,
        stage: Stage,
        outstanding: usize,
        by: &str,
        at: &str,
    ) -> Result<(), CycleError> {
        self.ensure_open()?;
        let rec = self.stage_mut(stage);
        if rec.state.is_done() {
            return Err(CycleError::StageAlreadyDone {
                stage,
                state: rec.state,
            });
        }
        if outstanding > 0 {
            return Err(CycleError::StageNotDone { stage, outstanding });
        }
        rec.state = StageState::Closed;
        rec.reason.clear();
        rec.changed_by = by.to_string();
        rec.changed_at = at.to_string();
        Ok(())
    }

    /// Closes a stage whose work is not done, on purpose and with a reason
    /// (e.g. "no restructuring this year by the mayor's decision").
    pub fn waive_stage(
        &mut self,
        stage: Stage,
        reason: &str,
        by: &str,
        at: &str,
    ) -> Result<(), CycleError> {
        self.ensure_open()?;
        if reason.trim().is_empty() {
            return Err(CycleError::WaiveWithoutReason { stage });
        }
        let rec = self.stage_mut(stage);
        if rec.state.is_done() {
            return Err(CycleError::StageAlreadyDone {
                stage,
                state: rec.state,
            });
        }
        rec.state = StageState::Waived;
        rec.reason = reason.trim().to_string();
        rec.changed_by = by.to_string();
        rec.changed_at = at.to_string();
        Ok(())
    }

    /// Opens a closed or waived stage again (a correction).
    pub fn reopen_stage(&mut self, stage: Stage, by: &str, at: &str) -> Result<(), CycleError> {
        self.ensure_open()?;
        let rec = self.stage_mut(stage);
        if !rec.state.is_done() {
            return Err(CycleError::StageNotClosed { stage });
        }
        rec.state = StageState::Open;
        rec.reason.clear();
        rec.changed_by = by.to_string();
        rec.changed_at = at.to_string();
        Ok(())
    }

    /// Closes the whole cycle once every stage is closed or waived; it is then
    /// read-only.
    pub fn close(&mut self) -> Result<(), CycleError> {
        self.ensure_open()?;
        if let Some(open) = self.stages.iter().find(|s| !s.state.is_done()) {
            return Err(CycleError::CycleNotFinished { stage: open.stage });
        }
        self.state = CycleState::Closed;
        Ok(())
    }

    /// Reopens a closed cycle for a correction (the caller logs it).
    pub fn reopen(&mut self) -> Result<(), CycleError> {
        if self.state != CycleState::Closed {
            return Err(CycleError::CycleNotClosed);
        }
        self.state = CycleState::Open;
        Ok(())
    }
}

/// One thing someone still owes in a stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owed {
    pub stage: Stage,
    /// Who owes it: a section (and its department); None = the strategy
    /// office (reviews, decisions, ownerless KPIs) or finance (assessments).
    pub department_code: Option<String>,
    pub section_code: Option<String>,
    pub item: OwedItem,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OwedItem {
    /// The KPI's actual for the year is missing or older than its lag allows.
    KpiActual { kpi_code: String, ownerless: bool },
    /// The program's sheet is not handed in (missing, draft or returned).
    Sheet {
        program_code: String,
        state: Option<ReviewState>,
    },
    /// A submitted sheet waits for the strategy office.
    Review { program_code: String },
    /// A program on the restructuring list whose sheet is not accepted yet.
    Decision { program_code: String },
    /// No budget request yet for a program that continues.
    Request { program_code: String },
    /// A request without finance's assessed amount.
    Assessment { program_code: String },
}

impl OwedItem {
    /// The KPI or program code the item is about.
    pub fn code(&self) -> &str {
        match self {
            OwedItem::KpiActual { kpi_code, .. } => kpi_code,
            OwedItem::Sheet { program_code, .. }
            | OwedItem::Review { program_code }
            | OwedItem::Decision { program_code }
            | OwedItem::Request { program_code }
            | OwedItem::Assessment { program_code } => program_code,
        }
    }
    pub fn describe_ja(&self) -> String {
        match self {
            OwedItem::KpiActual {
                kpi_code,
                ownerless: true,
            } => format!("KPI {kpi_code}: 実績値が未入力（所管課なし）"),
            OwedItem::KpiActual { kpi_code, .. } => format!("KPI {kpi_code}: 実績値が未入力"),
            OwedItem::Sheet {
                program_code,
                state: None,
            } => format!("{program_code}: 評価シート未作成"),
            OwedItem::Sheet {
                program_code,
                state: Some(s),
            } => format!("{program_code}: 評価シート未提出（{}）", s.label_ja()),
            OwedItem::Review { program_code } => format!("{program_code}: 評価確認待ち"),
            OwedItem::Decision { program_code } => {
                format!("{program_code}: 再編候補の方向性が未確定")
            }
            OwedItem::Request { program_code } => format!("{program_code}: 予算要求未入力"),
            OwedItem::Assessment { program_code } => format!("{program_code}: 査定額未入力"),
        }
    }
    pub fn describe_en(&self) -> String {
        match self {
            OwedItem::KpiActual {
                kpi_code,
                ownerless: true,
            } => format!("KPI {kpi_code}: actual missing (no owner section)"),
            OwedItem::KpiActual { kpi_code, .. } => format!("KPI {kpi_code}: actual missing"),
            OwedItem::Sheet {
                program_code,
                state: None,
            } => format!("{program_code}: no evaluation sheet"),
            OwedItem::Sheet {
                program_code,
                state: Some(s),
            } => format!("{program_code}: sheet not submitted ({})", s.label_en()),
            OwedItem::Review { program_code } => format!("{program_code}: waiting for review"),
            OwedItem::Decision { program_code } => {
                format!("{program_code}: restructuring candidate not decided")
            }
            OwedItem::Request { program_code } => format!("{program_code}: no budget request"),
            OwedItem::Assessment { program_code } => {
                format!("{program_code}: no assessed amount")
            }
        }
    }
}

/// Whether a KPI has the actual the cycle needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KpiActualState {
    pub kpi_code: String,
    pub owner_sections: Vec<String>,
    /// An actual recent enough for the KPI's publication lag exists.
    pub has_actual: bool,
}

/// A sheet's state and direction, as far as the cycle needs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SheetState {
    pub state: ReviewState,
    pub direction: Option<ProgramDirection>,
}

/// What the cycle knows about the year's work, for `outstanding`.
pub struct CycleInputs<'a> {
    pub cycle: &'a Cycle,
    pub sections: &'a [Section],
    pub programs: &'a [Program],
    pub kpis: &'a [KpiActualState],
    /// Latest sheet state per program code.
    pub sheets: &'a HashMap<String, SheetState>,
    /// Programs on the restructuring list.
    pub flagged: &'a BTreeSet<String>,
    /// Budget requests of the budget year: program code → assessed amount.
    pub requests: &'a HashMap<String, Option<i64>>,
}

/// A program runs in `fy` if it started by then and has not ended before.
pub fn program_runs_in(p: &Program, fy: FiscalYear) -> bool {
    p.start_fy.is_none_or(|s| s <= fy) && p.end_fy.is_none_or(|e| e >= fy)
}

/// Everything still owed, per stage, in stage order then by code.
pub fn outstanding(inputs: &CycleInputs<'_>) -> Vec<Owed> {
    let dept_of: HashMap<&str, &str> = inputs
        .sections
        .iter()
        .map(|s| (s.code.as_str(), s.department_code.as_str()))
        .collect();
    let section_owed = |stage: Stage, section: &str, item: OwedItem| Owed {
        stage,
        department_code: dept_of.get(section).map(|d| d.to_string()),
        section_code: Some(section.to_string()),
        item,
    };
    let office_owed = |stage: Stage, item: OwedItem| Owed {
        stage,
        department_code: None,
        section_code: None,
        item,
    };
    let fy = inputs.cycle.fy;
    let budget_fy = inputs.cycle.budget_fy();
    let mut out = Vec::new();

    let mut kpis: Vec<&KpiActualState> = inputs.kpis.iter().filter(|k| !k.has_actual).collect();
    kpis.sort_by(|a, b| a.kpi_code.cmp(&b.kpi_code));
    for k in kpis {
        if k.owner_sections.is_empty() {
            out.push(office_owed(
                Stage::KpiActuals,
                OwedItem::KpiActual {
                    kpi_code: k.kpi_code.clone(),
                    ownerless: true,
                },
            ));
        }
        for s in &k.owner_sections {
            out.push(section_owed(
                Stage::KpiActuals,
                s,
                OwedItem::KpiActual {
                    kpi_code: k.kpi_code.clone(),
                    ownerless: false,
                },
            ));
        }
    }

    let mut programs: Vec<&Program> = inputs
        .programs
        .iter()
        .filter(|p| program_runs_in(p, fy))
        .collect();
    programs.sort_by(|a, b| a.code.cmp(&b.code));
    let mut per_stage: BTreeMap<Stage, Vec<Owed>> = BTreeMap::new();
    for p in &programs {
        let sheet = inputs.sheets.get(&p.code);
        let code = p.code.clone();
        match sheet.map(|s| s.state) {
            None | Some(ReviewState::Draft) | Some(ReviewState::Returned) => per_stage
                .entry(Stage::SelfEvaluation)
                .or_default()
                .push(section_owed(
                    Stage::SelfEvaluation,
                    &p.section_code,
                    OwedItem::Sheet {
                        program_code: code.clone(),
                        state: sheet.map(|s| s.state),
                    },
                )),
            Some(ReviewState::Submitted) => {
                per_stage
                    .entry(Stage::Review)
                    .or_default()
                    .push(office_owed(
                        Stage::Review,
                        OwedItem::Review {
                            program_code: code.clone(),
                        },
                    ))
            }
            Some(ReviewState::Accepted) => {}
        }
        if inputs.flagged.contains(&p.code)
            && sheet.is_none_or(|s| s.state != ReviewState::Accepted)
        {
            per_stage
                .entry(Stage::Restructuring)
                .or_default()
                .push(office_owed(
                    Stage::Restructuring,
                    OwedItem::Decision {
                        program_code: code.clone(),
                    },
                ));
        }
        let ends = sheet
            .and_then(|s| s.direction)
            .is_some_and(ProgramDirection::requests_nothing);
        if program_runs_in(p, budget_fy) && !ends {
            match inputs.requests.get(&p.code) {
                None => per_stage
                    .entry(Stage::BudgetRequests)
                    .or_default()
                    .push(section_owed(
                        Stage::BudgetRequests,
                        &p.section_code,
                        OwedItem::Request {
                            program_code: code.clone(),
                        },
                    )),
                Some(None) => per_stage
                    .entry(Stage::FinanceReview)
                    .or_default()
                    .push(office_owed(
                        Stage::FinanceReview,
                        OwedItem::Assessment {
                            program_code: code.clone(),
                        },
                    )),
                Some(Some(_)) => {}
            }
        }
    }
    // Requests of programs that end still need an assessment (normally 0).
    let running_next: BTreeSet<&str> = programs
        .iter()
        .filter(|p| program_runs_in(p, budget_fy))
        .map(|p| p.code.as_str())
        .collect();
    let mut ended: Vec<&String> = inputs
        .requests
        .iter()
        .filter(|(code, assessed)| assessed.is_none() && !running_next.contains(code.as_str()))
        .map(|(code, _)| code)
        .collect();
    ended.sort();
    for code in ended {
        per_stage
            .entry(Stage::FinanceReview)
            .or_default()
            .push(office_owed(
                Stage::FinanceReview,
                OwedItem::Assessment {
                    program_code: code.clone(),
                },
            ));
    }
    for (_, items) in per_stage {
        out.extend(items);
    }
    out
}

/// Number of owed items per stage (every stage present, zero included).
pub fn owed_counts(owed: &[Owed]) -> BTreeMap<Stage, usize> {
    let mut counts: BTreeMap<Stage, usize> = Stage::ALL.into_iter().map(|s| (s, 0)).collect();
    for o in owed {
        *counts.entry(o.stage).or_default() += 1;
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::program::DeliveryMethod;

    fn fy(y: i32) -> FiscalYear {
        FiscalYear::new(y).unwrap()
    }

    fn program(code: &str, section: &str, end: Option<i32>) -> Program {
        Program {
            code: code.into(),
            name_ja: code.into(),
            name_en: String::new(),
            section_code: section.into(),
            purpose: String::new(),
            target_group: String::new(),
            intent: String::new(),
            means: String::new(),
            delivery: DeliveryMethod::Direct,
            legal_basis: String::new(),
            start_fy: Some(fy(2020)),
            end_fy: end.map(fy),
            mandatory: false,
            published: true,
        }
    }

    #[test]
    fn deadlines_follow_the_japanese_year() {
        let c = Cycle::new(fy(2024));
        assert_eq!(c.budget_fy(), fy(2026));
        assert_eq!(c.base_fy(), fy(2025));
        assert_eq!(Cycle::fy_for_budget(fy(2026)), fy(2024));
        let d = |s| c.stage(s).and_then(|r| r.deadline).map(|d| d.to_string());
        assert_eq!(d(Stage::KpiActuals).as_deref(), Some("2025-06-30"));
        assert_eq!(d(Stage::BudgetRequests).as_deref(), Some("2025-11-15"));
        assert_eq!(d(Stage::FinanceReview).as_deref(), Some("2026-01-31"));
        assert_eq!(c.current_stage(), Some(Stage::KpiActuals));
        assert_eq!(Stage::parse("3"), Some(Stage::Review));
        assert_eq!(Stage::parse("予算要求"), Some(Stage::BudgetRequests));
    }

    #[test]
    fn a_stage_closes_only_when_done_or_waived_with_reason() {
        let mut c = Cycle::new(fy(2024));
        assert_eq!(
            c.close_stage(Stage::KpiActuals, 3, "kikaku", "t"),
            Err(CycleError::StageNotDone {
                stage: Stage::KpiActuals,
                outstanding: 3
            })
        );
        assert_eq!(
            c.waive_stage(Stage::KpiActuals, "  ", "kikaku", "t"),
            Err(CycleError::WaiveWithoutReason {
                stage: Stage::KpiActuals
            })
        );
        c.waive_stage(Stage::KpiActuals, "国勢調査待ち", "kikaku", "t1")
            .unwrap();
        let rec = c.stage(Stage::KpiActuals).unwrap();
        assert_eq!(rec.state, StageState::Waived);
        assert_eq!(rec.reason, "国勢調査待ち");
        assert_eq!(c.current_stage(), Some(Stage::SelfEvaluation));
        assert!(matches!(
            c.close_stage(Stage::KpiActuals, 0, "x", "t"),
            Err(CycleError::StageAlreadyDone { .. })
        ));
        assert_eq!(
            c.close(),
            Err(CycleError::CycleNotFinished {
                stage: Stage::SelfEvaluation
            })
        );
        for s in &Stage::ALL[1..] {
            c.close_stage(*s, 0, "kikaku", "t2").unwrap();
        }
        c.close().unwrap();
        assert_eq!(c.current_stage(), None);
        assert_eq!(
            c.reopen_stage(Stage::Review, "x", "t"),
            Err(CycleError::CycleClosed { fy: 2024 })
        );
        assert_eq!(
            c.set_deadline(Stage::Review, None),
            Err(CycleError::CycleClosed { fy: 2024 })
        );
        c.reopen().unwrap();
        assert_eq!(c.reopen(), Err(CycleError::CycleNotClosed));
        c.reopen_stage(Stage::Review, "kikaku", "t3").unwrap();
        assert_eq!(c.current_stage(), Some(Stage::Review));
    }

    #[test]
    fn who_owes_what() {
        let cycle = Cycle::new(fy(2024));
        let sections = vec![
            Section {
                code: "S021".into(),
                department_code: "D02".into(),
                name_ja: "保育企画課".into(),
                name_en: String::new(),
                sort_order: 1,
            },
            Section {
                code: "S012".into(),
                department_code: "D01".into(),
                name_ja: "広報課".into(),
                name_en: String::new(),
                sort_order: 1,
            },
        ];
        let programs = vec![
            program("P1", "S021", None),
            program("P2", "S021", None),
            program("P3", "S012", Some(2025)),
            program("P4", "S012", None),
            program("P5", "S012", None),
            // Ended before the evaluated year: owes nothing.
            program("P9", "S012", Some(2022)),
        ];
        let kpis = vec![
            KpiActualState {
                kpi_code: "K1".into(),
                owner_sections: vec!["S021".into()],
                has_actual: false,
            },
            KpiActualState {
                kpi_code: "K2".into(),
                owner_sections: vec![],
                has_actual: false,
            },
            KpiActualState {
                kpi_code: "K3".into(),
                owner_sections: vec!["S012".into()],
                has_actual: true,
            },
        ];
        let st = |state, direction| SheetState { state, direction };
        let sheets: HashMap<String, SheetState> = [
            (
                "P1",
                st(ReviewState::Accepted, Some(ProgramDirection::Continue)),
            ),
            ("P2", st(ReviewState::Submitted, None)),
            ("P3", st(ReviewState::Returned, None)),
            (
                "P4",
                st(ReviewState::Accepted, Some(ProgramDirection::Abolish)),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let flagged: BTreeSet<String> = ["P2".to_string(), "P1".to_string()].into();
        let requests: HashMap<String, Option<i64>> =
            [("P1".to_string(), None), ("P4".to_string(), Some(0))].into();
        let owed = outstanding(&CycleInputs {
            cycle: &cycle,
            sections: &sections,
            programs: &programs,
            kpis: &kpis,
            sheets: &sheets,
            flagged: &flagged,
            requests: &requests,
        });
        let got: Vec<(u8, &str, Option<&str>)> = owed
            .iter()
            .map(|o| (o.stage.number(), o.item.code(), o.section_code.as_deref()))
            .collect();
        assert_eq!(
            got,
            vec![
                (1, "K1", Some("S021")),
                (1, "K2", None),
                (2, "P3", Some("S012")),
                (2, "P5", Some("S012")),
                (3, "P2", None),
                (4, "P2", None),
                (5, "P2", Some("S021")),
                (5, "P5", Some("S012")),
                (6, "P1", None),
            ]
        );
        assert_eq!(owed[0].department_code.as_deref(), Some("D02"));
        assert_eq!(
            owed[1].item.describe_ja(),
            "KPI K2: 実績値が未入力（所管課なし）"
        );
        assert_eq!(
            owed[2].item.describe_en(),
            "P3: sheet not submitted (returned)"
        );
        let counts = owed_counts(&owed);
        assert_eq!(counts[&Stage::KpiActuals], 2);
        assert_eq!(counts[&Stage::FinanceReview], 1);
    }
}
