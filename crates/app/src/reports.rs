//! The cycle's reports: reads what each report shows, decides what
//! goes in, and has `citykpi-reports` render it.
//!
//! * [`evaluation_sheets`]: every program running in the evaluated year (or
//!   one department's), each with its stored sheet or, if none is saved yet,
//!   the pre-filled one (as the sheet page shows it).
//! * [`budget_book`]: the compiled budget of a budget year, from the cycle
//!   that builds it.
//! * [`open_data`]: only published KPIs (plan names only of published
//!   plans), only published programs' **accepted** sheets, and only published
//!   programs' money; drafts and unpublished records are left out before
//!   anything is computed, as on the public portal.
//! * [`progress_book`]: the annual KPI progress report's records, the one
//!   model the PDF and the web page (staff and public) render.

use std::collections::{HashMap, HashSet};

use citykpi_domain::FiscalYear;
use citykpi_domain::cycle::stage::program_runs_in;
use citykpi_domain::cycle::{Cycle, EvaluationSheet, ReviewState};
use citykpi_domain::kpi::Kpi;
use citykpi_domain::observation::{ObsStatus, Observation};
use citykpi_domain::org::{Department, Section};
use citykpi_domain::plan::{Plan, PlanNode};
use citykpi_domain::program::Program;
use citykpi_domain::progress::NodeProgress;
/// The open data's files and columns, for listing them without making them.
pub use citykpi_reports::open_data_schema;
use citykpi_reports::{
    BudgetBook, EvaluationBook, KpiLine, OpenData, OpenEvaluation, OpenKpi, OpenMoney,
    PlanPosition, PlanSection, PolicySection, ProgramSheet, ProgressBook, ReportError, RequestLine,
};
use citykpi_store::{ObservationFilter, Store, StoreError};

use crate::AppError;
use crate::cycle::{CycleServiceError, budget_view};
use crate::settings;
use crate::status::{StatusReport, city_code, compute_status};

/// What a report service fails with.
#[derive(Debug, thiserror::Error)]
pub enum ReportServiceError {
    #[error(transparent)]
    App(#[from] AppError),
    #[error(transparent)]
    Cycle(#[from] CycleServiceError),
    #[error(transparent)]
    Render(#[from] ReportError),
    #[error(
        "部局「{code}」はありません（登録されている部局: {known}） / no department \"{code}\" (known: {known})"
    )]
    UnknownDepartment { code: String, known: String },
    #[error(
        "{}に実施中の事務事業がありません / no program runs in {}",
        fy.label_ja(), fy.label_en()
    )]
    NoPrograms { fy: FiscalYear },
    #[error(
        "{}の進行管理サイクルは始まっておらず、評価シートもありません / the cycle of {} has not started and has no evaluation sheet",
        fy.label_ja(), fy.label_en()
    )]
    NoSheets { fy: FiscalYear },
    #[error(
        "{}の予算要求も要求上限もありません（{}の予算は{}のサイクルで編成します） / FY{} has no budget request and no ceiling (its budget is built by the cycle of FY{})",
        budget_fy.label_ja(), budget_fy.label_ja(), Cycle::fy_for_budget(*budget_fy).label_ja(),
        budget_fy.year(), Cycle::fy_for_budget(*budget_fy).year()
    )]
    NoBudget { budget_fy: FiscalYear },
    #[error(
        "{}はまだ始まっていません / {} has not started yet",
        fy.label_ja(), fy.label_en()
    )]
    YearNotStarted { fy: FiscalYear },
    #[error(
        "{}までの実績があるKPIがありません / no KPI has an actual up to {}",
        fy.label_ja(), fy.label_en()
    )]
    NoActuals { fy: FiscalYear },
}

impl From<StoreError> for ReportServiceError {
    fn from(e: StoreError) -> Self {
        ReportServiceError::App(AppError::Store(e))
    }
}

impl From<citykpi_store::CycleStoreError> for ReportServiceError {
    fn from(e: citykpi_store::CycleStoreError) -> Self {
        ReportServiceError::Cycle(e.into())
    }
}

impl ReportServiceError {
    /// The input the error is about (`department`, `fy`), for naming the
    /// field or flag; None for other failures.
    pub fn input(&self) -> Option<&'static str> {
        match self {
            ReportServiceError::UnknownDepartment { .. } => Some("department"),
            ReportServiceError::NoPrograms { .. }
            | ReportServiceError::NoSheets { .. }
            | ReportServiceError::NoBudget { .. }
            | ReportServiceError::YearNotStarted { .. }
            | ReportServiceError::NoActuals { .. } => Some("fy"),
            _ => None,
        }
    }
}

pub type ReportServiceResult<T> = Result<T, ReportServiceError>;

async fn city_name(store: &Store) -> ReportServiceResult<String> {
    Ok(store
        .get_setting(settings::CITY_NAME_JA)
        .await?
        .unwrap_or_default())
}

fn names<'a>(
    departments: &'a [Department],
    sections: &'a [Section],
) -> impl Fn(&str) -> (&'a str, &'a str, &'a str) {
    let dept: HashMap<&str, &Department> =
        departments.iter().map(|d| (d.code.as_str(), d)).collect();
    let sect: HashMap<&str, &Section> = sections.iter().map(|s| (s.code.as_str(), s)).collect();
    // section code → (department code, department name, section name)
    move |section| {
        let s = sect.get(section);
        let d = s.and_then(|s| dept.get(s.department_code.as_str()));
        (
            s.map_or("", |s| s.department_code.as_str()),
            d.map_or("", |d| d.name_ja.as_str()),
            s.map_or("", |s| s.name_ja.as_str()),
        )
    }
}

/// The top node (policy) above `node`, bounded against loops in bad data.
fn top_of<'a>(node: &'a PlanNode, by_code: &HashMap<&str, &'a PlanNode>) -> &'a PlanNode {
    let mut top = node;
    for _ in 0..16 {
        match top.parent_code.as_deref().and_then(|p| by_code.get(p)) {
            Some(parent) => top = parent,
            None => break,
        }
    }
    top
}

/// (policy name, measure name) of a node: a top node is a policy itself.
fn policy_and_measure(node: &PlanNode, by_code: &HashMap<&str, &PlanNode>) -> (String, String) {
    let top = top_of(node, by_code);
    if top.code == node.code {
        (node.name_ja.clone(), String::new())
    } else {
        (top.name_ja.clone(), node.name_ja.clone())
    }
}

// ----- evaluation sheets -----

/// The sheets of every program running in `fy`, or of one department's
/// programs (named by its code in any case, or by its Japanese name),
/// ordered by department, section and program code.
pub async fn evaluation_sheets(
    store: &Store,
    fy: FiscalYear,
    department: Option<&str>,
) -> ReportServiceResult<EvaluationBook> {
    let departments = store.departments().await?;
    let department = match department {
        None => None,
        Some(code) => {
            let code = code.trim();
            // The code as staff type it (any case), or the department's name.
            let d = departments
                .iter()
                .find(|d| d.code == code)
                .or_else(|| {
                    departments
                        .iter()
                        .find(|d| d.code.eq_ignore_ascii_case(code) || d.name_ja == code)
                })
                .ok_or_else(|| ReportServiceError::UnknownDepartment {
                    code: code.to_string(),
                    known: departments
                        .iter()
                        .map(|d| d.code.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                })?;
            Some((d.code.clone(), d.name_ja.clone()))
        }
    };
    let sections = store.sections().await?;
    let programs = store.programs().await?;
    let section_of = names(&departments, &sections);
    let dept_order: HashMap<&str, i32> = departments
        .iter()
        .map(|d| (d.code.as_str(), d.sort_order))
        .collect();
    let section_order: HashMap<&str, i32> = sections
        .iter()
        .map(|s| (s.code.as_str(), s.sort_order))
        .collect();
    let mut chosen: Vec<&Program> = programs
        .iter()
        .filter(|p| program_runs_in(p, fy))
        .filter(|p| {
            department
                .as_ref()
                .is_none_or(|(code, _)| section_of(&p.section_code).0 == code)
        })
        .collect();
    if chosen.is_empty() {
        return Err(ReportServiceError::NoPrograms { fy });
    }
    chosen.sort_by_key(|p| {
        let dept = section_of(&p.section_code).0;
        (
            dept_order.get(dept).copied().unwrap_or(i32::MAX),
            dept.to_string(),
            section_order
                .get(p.section_code.as_str())
                .copied()
                .unwrap_or(i32::MAX),
            p.section_code.clone(),
            p.code.clone(),
        )
    });

    let links = store.links().await?;
    let kpis = store.kpis().await?;
    let nodes = store.plan_nodes().await?;
    let indicators = store.indicators().await?;
    let money = store.money().await?;
    let stored: HashMap<String, (EvaluationSheet, i64)> = store
        .sheets(fy)
        .await?
        .into_iter()
        .map(|s| (s.sheet.program_code.clone(), (s.sheet, s.version)))
        .collect();
    if stored.is_empty() && store.cycle(fy).await?.is_none() {
        return Err(ReportServiceError::NoSheets { fy });
    }
    let last_year: HashMap<String, EvaluationSheet> = store
        .sheets(fy.prev())
        .await?
        .into_iter()
        .map(|s| (s.sheet.program_code.clone(), s.sheet))
        .collect();
    let kpi_by_code: HashMap<&str, &citykpi_domain::kpi::Kpi> =
        kpis.iter().map(|k| (k.code.as_str(), k)).collect();
    let node_by_code: HashMap<&str, &PlanNode> =
        nodes.iter().map(|n| (n.code.as_str(), n)).collect();
    let mut links_of: HashMap<&str, Vec<&citykpi_domain::program::KpiLink>> = HashMap::new();
    for l in &links {
        links_of.entry(l.program_code.as_str()).or_default().push(l);
    }
    let mut indicators_of: HashMap<&str, Vec<citykpi_domain::program::ProgramIndicator>> =
        HashMap::new();
    for i in indicators.iter().filter(|i| i.fy == fy) {
        indicators_of
            .entry(i.program_code.as_str())
            .or_default()
            .push(i.clone());
    }
    let money_of: HashMap<&str, &citykpi_domain::money::ProgramMoney> = money
        .iter()
        .filter(|m| m.fy == fy)
        .map(|m| (m.program_code.as_str(), m))
        .collect();

    let mut out = Vec::with_capacity(chosen.len());
    for p in chosen {
        let (sheet, version) = match stored.get(&p.code) {
            Some((s, v)) => (s.clone(), *v),
            None => (
                EvaluationSheet::prefilled(
                    p,
                    fy,
                    last_year.get(&p.code),
                    indicators_of
                        .get(p.code.as_str())
                        .map_or(&[][..], Vec::as_slice),
                    money_of.get(p.code.as_str()).copied(),
                ),
                0,
            ),
        };
        let mut own = links_of.get(p.code.as_str()).cloned().unwrap_or_default();
        own.sort_by(|a, b| {
            b.weight
                .total_cmp(&a.weight)
                .then_with(|| a.kpi_code.cmp(&b.kpi_code))
        });
        let positions = own
            .into_iter()
            .map(|l| {
                let kpi = kpi_by_code.get(l.kpi_code.as_str());
                let (policy, measure) = kpi
                    .and_then(|k| k.nodes.first())
                    .and_then(|n| node_by_code.get(n.node_code.as_str()))
                    .map(|n| policy_and_measure(n, &node_by_code))
                    .unwrap_or_default();
                PlanPosition {
                    policy,
                    measure,
                    kpi_code: l.kpi_code.clone(),
                    kpi_name: kpi.map(|k| k.name_ja.clone()).unwrap_or_default(),
                    weight: l.weight,
                }
            })
            .collect();
        let (department_code, department_name, section_name) = section_of(&p.section_code);
        out.push(ProgramSheet {
            program: p.clone(),
            department_code: department_code.to_string(),
            department_name: department_name.to_string(),
            section_name: section_name.to_string(),
            sheet,
            version,
            positions,
            last_year: last_year.get(&p.code).cloned(),
        });
    }
    Ok(EvaluationBook {
        fy,
        city_name: city_name(store).await?,
        department,
        programs: out,
    })
}

/// The evaluation sheets as an XLSX file.
pub async fn evaluation_sheets_xlsx(
    store: &Store,
    fy: FiscalYear,
    department: Option<&str>,
) -> ReportServiceResult<(EvaluationBook, Vec<u8>)> {
    let book = evaluation_sheets(store, fy, department).await?;
    let bytes = citykpi_reports::evaluation_sheets_xlsx(&book)?;
    Ok((book, bytes))
}

// ----- budget -----

/// The compiled budget of `budget_fy` with every program's line.
pub async fn budget_book(store: &Store, budget_fy: FiscalYear) -> ReportServiceResult<BudgetBook> {
    let view = budget_view(store, budget_fy, None).await?;
    if view.ceilings.is_empty() && view.rows.iter().all(|r| r.request.is_none()) {
        return Err(ReportServiceError::NoBudget { budget_fy });
    }
    let departments = store.departments().await?;
    let dept_name: HashMap<&str, &str> = departments
        .iter()
        .map(|d| (d.code.as_str(), d.name_ja.as_str()))
        .collect();
    let dept_order: HashMap<&str, i32> = departments
        .iter()
        .map(|d| (d.code.as_str(), d.sort_order))
        .collect();
    let mut rows = view.rows;
    rows.sort_by(|a, b| {
        let key = |r: &crate::cycle::RequestRow| {
            (
                dept_order
                    .get(r.department_code.as_str())
                    .copied()
                    .unwrap_or(i32::MAX),
                r.department_code.clone(),
                r.program_code.clone(),
            )
        };
        key(a).cmp(&key(b))
    });
    let requests = rows
        .into_iter()
        .map(|r| RequestLine {
            department_name: dept_name
                .get(r.department_code.as_str())
                .copied()
                .unwrap_or("")
                .to_string(),
            program_code: r.program_code,
            name_ja: r.name_ja,
            department_code: r.department_code,
            direction: r.direction,
            last_year_budget: r.last_year_budget,
            requested: r.request.as_ref().map(|q| q.requested),
            assessed: r.request.as_ref().and_then(|q| q.assessed),
            funding: r.request.as_ref().map(|q| q.funding),
            override_reason: r
                .request
                .as_ref()
                .map(|q| q.override_reason.clone())
                .unwrap_or_default(),
            note: r.request.map(|q| q.note).unwrap_or_default(),
        })
        .collect();
    Ok(BudgetBook {
        budget_fy,
        cycle_fy: view.cycle_fy,
        city_name: city_name(store).await?,
        compiled: view.compiled,
        requests,
    })
}

/// The compiled budget as an XLSX file.
pub async fn budget_xlsx(
    store: &Store,
    budget_fy: FiscalYear,
) -> ReportServiceResult<(BudgetBook, Vec<u8>)> {
    let book = budget_book(store, budget_fy).await?;
    let bytes = citykpi_reports::budget_xlsx(&book)?;
    Ok((book, bytes))
}

// ----- open data -----

/// The area with the most observations (the city, when no code is set).
fn most_observed_area(observations: &[Observation]) -> String {
    let mut n: HashMap<&str, usize> = HashMap::new();
    for o in observations {
        *n.entry(o.area_code.as_str()).or_default() += 1;
    }
    n.into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(a.0)))
        .map(|(a, _)| a.to_string())
        .unwrap_or_default()
}

/// What goes into the open data of `fy`: published records only.
pub async fn open_data_records(store: &Store, fy: FiscalYear) -> ReportServiceResult<OpenData> {
    let code = city_code(store).await?;
    let plans: Vec<_> = store
        .plans()
        .await?
        .into_iter()
        .filter(|p| p.published)
        .collect();
    let nodes: Vec<PlanNode> = store
        .plan_nodes()
        .await?
        .into_iter()
        .filter(|n| plans.iter().any(|p| p.code == n.plan_code))
        .collect();
    let kpis: Vec<_> = store
        .kpis()
        .await?
        .into_iter()
        .filter(|k| k.published)
        .collect();
    // Open data carries only the values the city has confirmed.
    let filter = ObservationFilter {
        to_fy: Some(fy),
        area_code: code.clone(),
        confirmed: Some(true),
        ..ObservationFilter::default()
    };
    let observations: Vec<Observation> = store
        .observations(&filter)
        .await?
        .into_iter()
        .filter(|o| kpis.iter().any(|k| k.code == o.kpi_code))
        .collect();
    let area = code
        .clone()
        .unwrap_or_else(|| most_observed_area(&observations));
    let report = compute_status(fy, area, &plans, &nodes, &kpis, &observations);
    let node_by_code: HashMap<&str, &PlanNode> =
        nodes.iter().map(|n| (n.code.as_str(), n)).collect();
    let plan_name: HashMap<&str, &str> = plans
        .iter()
        .map(|p| (p.code.as_str(), p.name_ja.as_str()))
        .collect();
    let progress: HashMap<&str, &citykpi_domain::progress::KpiProgress> = report
        .kpis
        .iter()
        .map(|r| (r.code.as_str(), &r.progress))
        .collect();
    let mut open_kpis = Vec::new();
    for k in &kpis {
        let Some(p) = progress.get(k.code.as_str()) else {
            continue;
        };
        // The first node of a published plan: names of unpublished plans stay out.
        let node = k
            .nodes
            .iter()
            .find_map(|n| node_by_code.get(n.node_code.as_str()).copied());
        let (policy_name, measure_name) = node
            .map(|n| policy_and_measure(n, &node_by_code))
            .unwrap_or_default();
        open_kpis.push(OpenKpi {
            kpi: k.clone(),
            plan_name: node
                .and_then(|n| plan_name.get(n.plan_code.as_str()))
                .map(|s| s.to_string())
                .unwrap_or_default(),
            policy_name,
            measure_name,
            progress: (*p).clone(),
        });
    }
    open_kpis.sort_by(|a, b| a.kpi.code.cmp(&b.kpi.code));

    let departments = store.departments().await?;
    let sections = store.sections().await?;
    let section_of = names(&departments, &sections);
    let mut programs: Vec<Program> = store
        .programs()
        .await?
        .into_iter()
        .filter(|p| p.published)
        .collect();
    programs.sort_by(|a, b| a.code.cmp(&b.code));
    let published: HashMap<&str, &Program> =
        programs.iter().map(|p| (p.code.as_str(), p)).collect();
    let mut evaluations: Vec<OpenEvaluation> = store
        .sheets(fy)
        .await?
        .into_iter()
        .filter(|s| s.sheet.state == ReviewState::Accepted)
        .filter_map(|s| {
            let p = published.get(s.sheet.program_code.as_str())?;
            let (_, d, sec) = section_of(&p.section_code);
            Some(OpenEvaluation {
                program: (*p).clone(),
                department_name: d.to_string(),
                section_name: sec.to_string(),
                sheet: s.sheet,
            })
        })
        .collect();
    evaluations.sort_by(|a, b| a.program.code.cmp(&b.program.code));
    let mut money: Vec<OpenMoney> = store
        .money()
        .await?
        .into_iter()
        .filter(|m| m.fy == fy)
        .filter_map(|m| {
            let p = published.get(m.program_code.as_str())?;
            let (_, d, sec) = section_of(&p.section_code);
            Some(OpenMoney {
                program: (*p).clone(),
                department_name: d.to_string(),
                section_name: sec.to_string(),
                money: m,
            })
        })
        .collect();
    money.sort_by(|a, b| a.program.code.cmp(&b.program.code));
    Ok(OpenData {
        fy,
        city_code: code.unwrap_or_default(),
        city_name: city_name(store).await?,
        kpis: open_kpis,
        evaluations,
        money,
    })
}

/// The open data of `fy` as files: (name, bytes), with the record counts.
pub async fn open_data(
    store: &Store,
    fy: FiscalYear,
) -> ReportServiceResult<(OpenData, Vec<(String, Vec<u8>)>)> {
    let data = open_data_records(store, fy).await?;
    let files = citykpi_reports::open_data(&data)?;
    Ok((data, files))
}

// ----- the annual KPI progress report -----

/// The KPI codes at or below `node`, each once, in tree order.
fn kpis_below<'a>(node: &'a NodeProgress, seen: &mut HashSet<&'a str>, out: &mut Vec<&'a str>) {
    for k in &node.kpis {
        if seen.insert(k.as_str()) {
            out.push(k.as_str());
        }
    }
    for c in &node.children {
        kpis_below(c, seen, out);
    }
}

/// The city's names as the report's title shows them.
#[derive(Debug, Clone, Default)]
pub struct CityNames {
    pub ja: String,
    pub en: String,
}

/// The city's names from the settings.
pub async fn city_names(store: &Store) -> ReportServiceResult<CityNames> {
    Ok(CityNames {
        ja: city_name(store).await?,
        en: store
            .get_setting(settings::CITY_NAME_EN)
            .await?
            .unwrap_or_default(),
    })
}

/// Whether the annual report of `fy` can be made from `report`: the year
/// has started and some KPI has an actual up to it.
pub fn check_progress_year(fy: FiscalYear, report: &StatusReport) -> ReportServiceResult<()> {
    if fy > crate::clock::current_fiscal_year() {
        return Err(ReportServiceError::YearNotStarted { fy });
    }
    if report.kpis.is_empty() || report.counts.no_data == report.counts.total() {
        return Err(ReportServiceError::NoActuals { fy });
    }
    Ok(())
}

/// The annual KPI progress report's records from the status of a year and
/// the definitions it was computed from (plans and nodes for the English
/// names, KPIs for baselines and commentary). The PDF and the web pages all
/// call this: staff with the full status, the public portal with the status
/// of published plans and KPIs only (`report` decides what is in).
pub fn progress_book_of(
    city: CityNames,
    report: &StatusReport,
    plans: &[Plan],
    nodes: &[PlanNode],
    kpis: &[Kpi],
) -> ProgressBook {
    let rows: HashMap<&str, _> = report.kpis.iter().map(|r| (r.code.as_str(), r)).collect();
    let defs: HashMap<&str, &Kpi> = kpis.iter().map(|k| (k.code.as_str(), k)).collect();
    let plan_en: HashMap<&str, &str> = plans
        .iter()
        .map(|p| (p.code.as_str(), p.name_en.as_str()))
        .collect();
    let node_en: HashMap<&str, &str> = nodes
        .iter()
        .map(|n| (n.code.as_str(), n.name_en.as_str()))
        .collect();
    let line = |code: &str| -> Option<KpiLine> {
        let r = rows.get(code)?;
        let def = defs.get(code);
        let p = &r.progress;
        Some(KpiLine {
            code: r.code.clone(),
            name: r.name_ja.clone(),
            name_en: r.name_en.clone(),
            unit: r.unit.clone(),
            baseline: def.and_then(|k| k.baseline.as_ref()).map(|b| b.value),
            target: p.target,
            final_target: r.final_target,
            final_target_fy: r.final_target_fy,
            actual: p.actual,
            actual_fy: p.actual_fy,
            provisional: p.actual_status == Some(ObsStatus::Provisional),
            rate: p.rate,
            progress_to_final: p.progress_to_final,
            status: p.status,
            stale: p.stale,
            commentary: def
                .map(|k| k.description.trim().to_string())
                .unwrap_or_default(),
        })
    };
    let plans = report
        .plans
        .iter()
        .map(|plan| PlanSection {
            code: plan.code.clone(),
            name: plan.name_ja.clone(),
            name_en: plan_en
                .get(plan.code.as_str())
                .map_or_else(String::new, |s| s.to_string()),
            rate: plan.rate,
            status: plan.status,
            counts: plan.counts.clone(),
            policies: plan
                .children
                .iter()
                .map(|policy| {
                    let mut seen = HashSet::new();
                    let mut codes = Vec::new();
                    kpis_below(policy, &mut seen, &mut codes);
                    PolicySection {
                        code: policy.code.clone(),
                        name: policy.name_ja.clone(),
                        name_en: node_en
                            .get(policy.code.as_str())
                            .map_or_else(String::new, |s| s.to_string()),
                        rate: policy.rate,
                        status: policy.status,
                        counts: policy.counts.clone(),
                        kpis: codes.into_iter().filter_map(line).collect(),
                    }
                })
                .collect(),
        })
        .collect();
    ProgressBook {
        city_name: city.ja,
        city_name_en: city.en,
        fy: report.fy,
        area_code: report.area_code.clone(),
        counts: report.counts.clone(),
        plans,
    }
}

/// The annual KPI progress report of `fy` from the database (what `citykpi
/// report kpi-progress` typesets), from confirmed actuals. A year that has not started, or one
/// without any actual, is refused naming `fy`.
pub async fn progress_book(store: &Store, fy: FiscalYear) -> ReportServiceResult<ProgressBook> {
    if fy > crate::clock::current_fiscal_year() {
        return Err(ReportServiceError::YearNotStarted { fy });
    }
    // A published report: confirmed actuals only.
    let report = crate::status::kpi_status_confirmed(store, fy).await?;
    check_progress_year(fy, &report)?;
    let plans = store.plans().await?;
    let nodes = store.plan_nodes().await?;
    let kpis = store.kpis().await?;
    Ok(progress_book_of(
        city_names(store).await?,
        &report,
        &plans,
        &nodes,
        &kpis,
    ))
}
