//! KPI status for a fiscal year: every KPI judged and forecast to its final
//! target, then rolled up per plan.

use std::collections::HashMap;

use citykpi_domain::FiscalYear;
use citykpi_domain::kpi::Kpi;
use citykpi_domain::observation::Observation;
use citykpi_domain::progress::{
    KpiProgress, NodeProgress, StatusCounts, StatusThresholds, evaluate_kpi, rollup_plan,
};
use citykpi_store::{ObservationFilter, Store};
use serde::Serialize;

use crate::forecast::{KpiOutlook, forecast_kpis};
use crate::{AppError, settings};

#[derive(Debug, Clone, Serialize)]
pub struct KpiStatusRow {
    pub code: String,
    pub name_ja: String,
    pub name_en: String,
    pub unit: String,
    pub direction: &'static str,
    pub final_target: Option<f64>,
    pub final_target_fy: Option<FiscalYear>,
    /// The plan whose thresholds judged this KPI.
    pub plan_code: Option<String>,
    #[serde(flatten)]
    pub progress: KpiProgress,
    /// Will it reach its final target (forecast from the actuals known at
    /// the end of the fiscal year)? Filled in by `add_forecasts`.
    pub outlook: KpiOutlook,
}

#[derive(Debug, Clone, Serialize)]
pub struct StatusReport {
    pub fy: FiscalYear,
    pub area_code: String,
    pub counts: StatusCounts,
    pub kpis: Vec<KpiStatusRow>,
    /// One tree per plan, plan → policies → measures.
    pub plans: Vec<NodeProgress>,
}

/// The city's own area code, from the settings.
pub async fn city_code(store: &Store) -> Result<Option<String>, AppError> {
    Ok(store
        .get_setting(settings::CITY_CODE)
        .await?
        .filter(|c| !c.is_empty()))
}

/// The area with the most observations: the city itself, in a database whose
/// city code was never set (e.g. one filled only by imports).
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

/// Judges every KPI for `fy` and rolls the results up each plan. A KPI that
/// serves several plans is judged with the thresholds of the first plan it
/// belongs to (plans usually share them); each plan's nodes use its own.
pub async fn kpi_status(store: &Store, fy: FiscalYear) -> Result<StatusReport, AppError> {
    kpi_status_of(store, fy, None).await
}

/// `kpi_status` from confirmed actuals only: what a published report shows.
pub async fn kpi_status_confirmed(store: &Store, fy: FiscalYear) -> Result<StatusReport, AppError> {
    kpi_status_of(store, fy, Some(true)).await
}

async fn kpi_status_of(
    store: &Store,
    fy: FiscalYear,
    confirmed: Option<bool>,
) -> Result<StatusReport, AppError> {
    let area = city_code(store).await?;
    let plans = store.plans().await?;
    let nodes = store.plan_nodes().await?;
    let kpis = store.kpis().await?;
    let filter = ObservationFilter {
        to_fy: Some(fy),
        area_code: area.clone(),
        confirmed,
        ..ObservationFilter::default()
    };
    let observations = store.observations(&filter).await?;
    let area = area.unwrap_or_else(|| most_observed_area(&observations));
    let mut report = compute_status(fy, area, &plans, &nodes, &kpis, &observations);
    add_forecasts(&mut report, &kpis, &observations);
    Ok(report)
}

/// Fills in every row's forecast (the KPIs and observations the report was
/// computed from). Kept apart from `compute_status` because the forecasts
/// cost more than the judging itself: the dashboard and the cycle do without,
/// a KPI page forecasts its one KPI.
pub fn add_forecasts(report: &mut StatusReport, kpis: &[Kpi], observations: &[Observation]) {
    let mut outlooks = forecast_kpis(kpis, observations, &report.area_code, report.fy);
    for row in &mut report.kpis {
        if let Some(o) = outlooks.remove(&row.code) {
            row.outlook = o;
        }
    }
}

/// The outlook of a row whose forecast was not asked for.
pub const NOT_COMPUTED: &str = "予測は計算していません / forecast not computed";

/// The pure part of `kpi_status` (without the forecasts), also used by
/// the web pages, the cycle and benchmarks.
pub fn compute_status(
    fy: FiscalYear,
    area: String,
    plans: &[citykpi_domain::plan::Plan],
    nodes: &[citykpi_domain::plan::PlanNode],
    kpis: &[Kpi],
    observations: &[Observation],
) -> StatusReport {
    let node_plan: HashMap<&str, &str> = nodes
        .iter()
        .map(|n| (n.code.as_str(), n.plan_code.as_str()))
        .collect();
    let plan_thresholds: HashMap<&str, &StatusThresholds> = plans
        .iter()
        .map(|p| (p.code.as_str(), &p.thresholds))
        .collect();
    let mut by_kpi: HashMap<&str, Vec<&Observation>> = HashMap::new();
    for o in observations {
        by_kpi.entry(o.kpi_code.as_str()).or_default().push(o);
    }
    let default_thresholds = StatusThresholds::default();
    let mut counts = StatusCounts::default();
    let mut rows = Vec::with_capacity(kpis.len());
    let mut progress = HashMap::with_capacity(kpis.len());
    for k in kpis {
        let plan_code = k
            .nodes
            .iter()
            .find_map(|l| node_plan.get(l.node_code.as_str()).copied());
        let thresholds = plan_code
            .and_then(|p| plan_thresholds.get(p).copied())
            .unwrap_or(&default_thresholds);
        let obs = by_kpi
            .get(k.code.as_str())
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let p = evaluate_kpi(k, obs, &area, fy, thresholds);
        counts.add(p.status);
        progress.insert(k.code.clone(), p.clone());
        rows.push(KpiStatusRow {
            code: k.code.clone(),
            name_ja: k.name_ja.clone(),
            name_en: k.name_en.clone(),
            unit: k.unit.clone(),
            direction: k.direction.as_str(),
            final_target: k.final_target.map(|t| t.value),
            final_target_fy: k.final_target.map(|t| t.fy),
            plan_code: plan_code.map(str::to_string),
            progress: p,
            outlook: KpiOutlook::NotForecast {
                reason: NOT_COMPUTED.to_string(),
            },
        });
    }
    let plan_trees = plans
        .iter()
        .map(|p| rollup_plan(p, nodes, kpis, &progress))
        .collect();
    StatusReport {
        fy,
        area_code: area,
        counts,
        kpis: rows,
        plans: plan_trees,
    }
}
