//! The mayor's view (トップマネジメント): one page for the mayor and the
//! deputy mayors, built from what the other services already compute — the
//! status of the plan by policy area, the KPIs off track with their forecasts
//! and responsible departments, the cycle's decisions waiting (sheets to
//! review, restructuring, budget assessment), the strongest evidence, the
//! demonstrations under way, and what changed in the last month.
//!
//! [`build`] is a pure function of records the caller passes (the web's read
//! model, or the store through [`load`]), so the page, its PDF and the tests
//! see the same numbers.

use std::collections::HashMap;

use citykpi_domain::cycle::stage::Stage;
use citykpi_domain::evidence::EvidenceMethod;
use citykpi_domain::partner::Day;
use citykpi_domain::partner::projects::{DemoStage, Demonstration};
use citykpi_domain::program::EvidenceGrade;
use citykpi_domain::progress::{Status, StatusCounts};
use citykpi_domain::{Dataset, FiscalYear, jst};
use citykpi_store::{Store, StoredEvidence};
use serde::Serialize;

use crate::AppError;
use crate::cycle::CycleYear;
use crate::status::StatusReport;

/// How many lines each list of the view shows (the page is read at a glance).
pub const LIST_LEN: usize = 10;

/// One policy area (政策) of the plan.
#[derive(Debug, Clone, Serialize)]
pub struct Area {
    pub code: String,
    pub name_ja: String,
    pub name_en: String,
    pub status: Status,
    pub rate: Option<f64>,
    pub counts: StatusCounts,
}

/// A KPI off track (behind or at risk).
#[derive(Debug, Clone, Serialize)]
pub struct OffTrack {
    pub code: String,
    pub name_ja: String,
    pub name_en: String,
    pub status: Status,
    pub rate: Option<f64>,
    /// Probability of reaching the final target (the forecast), if any.
    pub probability: Option<f64>,
    /// The responsible departments (Japanese names).
    pub departments: Vec<String>,
}

/// The cycle's decisions waiting for the city's leadership.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Decisions {
    /// The year evaluated and the budget year built.
    pub fy: Option<FiscalYear>,
    pub budget_fy: Option<FiscalYear>,
    pub started: bool,
    /// The stage the cycle is in (None: done or not started) and its deadline.
    pub stage: Option<Stage>,
    pub deadline: Option<String>,
    /// Sheets submitted and not yet reviewed.
    pub sheets_to_review: usize,
    /// Restructuring candidates not decided.
    pub restructuring_undecided: usize,
    /// Programs on the restructuring list.
    pub restructuring_candidates: usize,
    /// Budget requests: how many, not yet assessed, and the sums (yen).
    pub requests: usize,
    pub requests_unassessed: usize,
    pub requested: i64,
    pub assessed: i64,
    pub last_year_budget: i64,
}

/// A piece of evidence on a program–KPI link.
#[derive(Debug, Clone, Serialize)]
pub struct EvidenceLine {
    pub kpi_code: String,
    pub kpi_name: String,
    pub program_code: String,
    pub program_name: String,
    pub method: EvidenceMethod,
    pub grade: EvidenceGrade,
    pub estimate: f64,
    pub unit: String,
    pub recorded_at: String,
}

/// A demonstration (実証) under way.
#[derive(Debug, Clone, Serialize)]
pub struct DemoLine {
    pub code: String,
    pub title: String,
    pub stage: DemoStage,
    pub start: Day,
    pub end: Day,
}

/// What changed in the month before `today`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Changes {
    pub since: Option<Day>,
    /// Actuals entered (KPI code, name, period) in the month, newest first.
    pub actuals: Vec<(String, String, String)>,
    pub actuals_count: usize,
    /// KPIs whose status moved between the year before and the year shown:
    /// (code, name, was, is).
    pub moved: Vec<(String, String, Status, Status)>,
    pub improved: usize,
    pub worsened: usize,
    pub evidence_count: usize,
    pub demonstrations_started: usize,
}

/// The whole view.
#[derive(Debug, Clone, Serialize)]
pub struct MayorView {
    pub fy: FiscalYear,
    pub today: Day,
    pub plan_code: String,
    pub plan_name_ja: String,
    pub counts: StatusCounts,
    pub areas: Vec<Area>,
    /// Behind + at risk, as the status report counts them.
    pub off_track_count: usize,
    pub off_track: Vec<OffTrack>,
    pub decisions: Decisions,
    pub evidence: Vec<EvidenceLine>,
    pub demonstrations: Vec<DemoLine>,
    pub demonstrations_running: usize,
    pub changes: Changes,
}

/// The records the view is built from.
pub struct MayorInputs<'a> {
    pub ds: &'a Dataset,
    /// The status of the year shown, and of the year before (for the moves).
    pub report: &'a StatusReport,
    pub before: Option<&'a StatusReport>,
    /// The cycle evaluating the year shown, when there is one.
    pub cycle: Option<&'a CycleYear>,
    pub evidence: &'a [StoredEvidence],
    pub demonstrations: &'a [Demonstration],
    pub today: Day,
}

fn is_off_track(s: Status) -> bool {
    matches!(s, Status::Behind | Status::AtRisk)
}

/// Builds the view.
pub fn build(inp: &MayorInputs) -> MayorView {
    let ds = inp.ds;
    let report = inp.report;
    let dept_name: HashMap<&str, &str> = ds
        .departments
        .iter()
        .map(|d| (d.code.as_str(), d.name_ja.as_str()))
        .collect();
    let dept_of_section: HashMap<&str, &str> = ds
        .sections
        .iter()
        .map(|s| (s.code.as_str(), s.department_code.as_str()))
        .collect();
    let kpi_by_code: HashMap<&str, &citykpi_domain::kpi::Kpi> =
        ds.kpis.iter().map(|k| (k.code.as_str(), k)).collect();

    // The plan: the first one of the report (the Basic Plan), by policy area.
    let plan = report.plans.first();
    let plan_name_en = |code: &str| {
        ds.plan_nodes
            .iter()
            .find(|n| n.code == code)
            .map(|n| n.name_en.clone())
            .unwrap_or_default()
    };
    let areas = plan
        .map(|p| {
            p.children
                .iter()
                .map(|c| Area {
                    code: c.code.clone(),
                    name_ja: c.name_ja.clone(),
                    name_en: plan_name_en(&c.code),
                    status: c.status,
                    rate: c.rate,
                    counts: c.counts.clone(),
                })
                .collect()
        })
        .unwrap_or_default();

    let mut off: Vec<OffTrack> = report
        .kpis
        .iter()
        .filter(|r| is_off_track(r.progress.status))
        .map(|r| {
            let mut departments: Vec<String> = kpi_by_code
                .get(r.code.as_str())
                .map(|k| {
                    k.owner_sections
                        .iter()
                        .filter_map(|s| dept_of_section.get(s.as_str()))
                        .filter_map(|d| dept_name.get(d).map(|n| n.to_string()))
                        .collect()
                })
                .unwrap_or_default();
            departments.dedup();
            OffTrack {
                code: r.code.clone(),
                name_ja: r.name_ja.clone(),
                name_en: r.name_en.clone(),
                status: r.progress.status,
                rate: r.progress.rate,
                probability: r.outlook.probability(),
                departments,
            }
        })
        .collect();
    let off_track_count = off.len();
    // At risk first, then the least likely to reach the target.
    off.sort_by(|a, b| {
        b.status
            .cmp(&a.status)
            .then(
                a.probability
                    .unwrap_or(1.0)
                    .total_cmp(&b.probability.unwrap_or(1.0)),
            )
            .then_with(|| a.code.cmp(&b.code))
    });
    off.truncate(LIST_LEN);

    let decisions = inp.cycle.map_or_else(Decisions::default, |c| {
        let st = &c.status;
        let owed = |stage: Stage| {
            st.stages
                .iter()
                .find(|s| s.record.stage == stage)
                .map_or(0, |s| s.owed)
        };
        let stage = st.current_stage;
        Decisions {
            fy: Some(st.fy),
            budget_fy: Some(st.budget_fy),
            started: st.started,
            stage,
            deadline: stage.and_then(|s| {
                st.stages
                    .iter()
                    .find(|x| x.record.stage == s)
                    .and_then(|x| x.record.deadline)
                    .map(|d| d.to_string())
            }),
            sheets_to_review: owed(Stage::Review),
            restructuring_undecided: owed(Stage::Restructuring),
            restructuring_candidates: c.restructure.len(),
            requests: st.budget_requests,
            requests_unassessed: c.compiled.total.unassessed,
            requested: c.compiled.total.requested,
            assessed: c.compiled.total.assessed,
            last_year_budget: c.compiled.total.last_year,
        }
    });

    let name_of_program = |code: &str| {
        ds.programs
            .iter()
            .find(|p| p.code == code)
            .map(|p| p.name_ja.clone())
            .unwrap_or_default()
    };
    let mut evidence: Vec<&StoredEvidence> = inp.evidence.iter().collect();
    // The strongest first (grade A before B …), the newest among equals.
    evidence.sort_by(|a, b| {
        a.evidence
            .grade
            .cmp(&b.evidence.grade)
            .then_with(|| b.recorded_at.cmp(&a.recorded_at))
            .then_with(|| a.id.cmp(&b.id))
    });
    let evidence: Vec<EvidenceLine> = evidence
        .into_iter()
        .take(5)
        .map(|e| {
            let k = kpi_by_code.get(e.evidence.kpi_code.as_str());
            EvidenceLine {
                kpi_code: e.evidence.kpi_code.clone(),
                kpi_name: k.map(|k| k.name_ja.clone()).unwrap_or_default(),
                program_code: e.evidence.program_code.clone(),
                program_name: name_of_program(&e.evidence.program_code),
                method: e.evidence.method,
                grade: e.evidence.grade,
                estimate: e.evidence.estimate,
                unit: k.map(|k| k.unit.clone()).unwrap_or_default(),
                recorded_at: jst::day_of(&e.recorded_at)
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
            }
        })
        .collect();

    let today = inp.today;
    let running: Vec<&Demonstration> = inp
        .demonstrations
        .iter()
        .filter(|d| {
            matches!(d.stage, DemoStage::Trial | DemoStage::Concept)
                && d.start <= today
                && today <= d.end
        })
        .collect();
    let mut demonstrations: Vec<DemoLine> = running
        .iter()
        .map(|d| DemoLine {
            code: d.code.clone(),
            title: d.title.clone(),
            stage: d.stage,
            start: d.start,
            end: d.end,
        })
        .collect();
    demonstrations.sort_by(|a, b| a.end.cmp(&b.end).then_with(|| a.code.cmp(&b.code)));
    let demonstrations_running = demonstrations.len();
    demonstrations.truncate(LIST_LEN);

    // The month before today: actuals entered, evidence recorded,
    // demonstrations started; and the KPIs that moved since the year before.
    let since = today.plus_days(-30);
    // Stored times are UTC instants; the month is counted in Japan days.
    let in_month = |at: &str| jst::day_of(at).is_some_and(|d| since <= d && d <= today);
    let mut entered: Vec<&citykpi_domain::observation::Observation> = ds
        .observations
        .iter()
        .filter(|o| o.area_code == report.area_code && in_month(&o.entered_at))
        .collect();
    entered.sort_by(|a, b| {
        b.entered_at
            .cmp(&a.entered_at)
            .then_with(|| a.kpi_code.cmp(&b.kpi_code))
            .then_with(|| b.period.cmp(&a.period))
    });
    let actuals_count = entered.len();
    let actuals = entered
        .iter()
        .take(LIST_LEN)
        .map(|o| {
            (
                o.kpi_code.clone(),
                kpi_by_code
                    .get(o.kpi_code.as_str())
                    .map(|k| k.name_ja.clone())
                    .unwrap_or_default(),
                o.period.to_string(),
            )
        })
        .collect();
    let mut moved = Vec::new();
    let (mut improved, mut worsened) = (0, 0);
    if let Some(before) = inp.before {
        let was: HashMap<&str, Status> = before
            .kpis
            .iter()
            .map(|r| (r.code.as_str(), r.progress.status))
            .collect();
        for r in &report.kpis {
            let w = was.get(r.code.as_str()).copied().unwrap_or(Status::NoData);
            let is = r.progress.status;
            if w == is || w == Status::NoData || is == Status::NoData {
                continue;
            }
            // Status order is best first: a smaller one is better.
            if is < w {
                improved += 1;
            } else {
                worsened += 1;
            }
            moved.push((r.code.clone(), r.name_ja.clone(), w, is));
        }
        // The worsened first.
        moved.sort_by(|a, b| (a.3 < a.2).cmp(&(b.3 < b.2)).then_with(|| a.0.cmp(&b.0)));
        moved.truncate(LIST_LEN);
    }
    let changes = Changes {
        since: Some(since),
        actuals,
        actuals_count,
        moved,
        improved,
        worsened,
        evidence_count: inp
            .evidence
            .iter()
            .filter(|e| jst::day_of(&e.recorded_at).is_some_and(|d| since <= d))
            .count(),
        demonstrations_started: inp
            .demonstrations
            .iter()
            .filter(|d| d.start >= since && d.start <= today)
            .count(),
    };

    MayorView {
        fy: report.fy,
        today,
        plan_code: plan.map(|p| p.code.clone()).unwrap_or_default(),
        plan_name_ja: plan.map(|p| p.name_ja.clone()).unwrap_or_default(),
        counts: report.counts.clone(),
        areas,
        off_track_count,
        off_track: off,
        decisions,
        evidence,
        demonstrations,
        demonstrations_running,
        changes,
    }
}

/// The view of `fy` from the store (for callers without the web's read
/// model): the status of `fy` and the year before, the cycle evaluating `fy`.
pub async fn load(store: &Store, fy: FiscalYear, today: Day) -> Result<MayorView, AppError> {
    let ds = store.load_all().await?;
    let report = crate::status::kpi_status(store, fy).await?;
    let before = crate::status::kpi_status(store, fy.prev()).await?;
    let cycle = CycleYear::load(store, fy)
        .await
        .map_err(|e| AppError::invalid("cycle", e.to_string()))?;
    let evidence = store.link_evidence(None, None).await?;
    let demonstrations = store
        .demonstrations()
        .await
        .map_err(|e| AppError::invalid("partners", e.to_string()))?;
    Ok(build(&MayorInputs {
        ds: &ds,
        report: &report,
        before: Some(&before),
        cycle: Some(&cycle),
        evidence: &evidence,
        demonstrations: &demonstrations,
        today,
    }))
}
