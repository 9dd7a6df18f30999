//! The PDF reports (cargo feature `pdf`, on by default): the annual KPI
//! progress report and the evaluation sheets, typeset by `citykpi-pdf` from
//! the records of the KPI status and report services.

use std::collections::{HashMap, HashSet};

use citykpi_app::Store;
use citykpi_app::reports::{self, ReportServiceError};
use citykpi_app::status::{StatusReport, kpi_status};
use citykpi_domain::FiscalYear;
use citykpi_domain::kpi::Kpi;
use citykpi_domain::observation::ObsStatus;
use citykpi_domain::progress::NodeProgress;
use citykpi_pdf::{Fonts, KpiLine, PlanSection, PolicySection, ProgressBook};
use citykpi_reports::EvaluationBook;

use crate::output::Lang;

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

/// The report's records from the status of `fy` and the KPIs' definitions.
pub fn progress_book(city_name: String, report: &StatusReport, kpis: &[Kpi]) -> ProgressBook {
    let rows: HashMap<&str, _> = report.kpis.iter().map(|r| (r.code.as_str(), r)).collect();
    let defs: HashMap<&str, &Kpi> = kpis.iter().map(|k| (k.code.as_str(), k)).collect();
    let line = |code: &str| -> Option<KpiLine> {
        let r = rows.get(code)?;
        let def = defs.get(code);
        let p = &r.progress;
        Some(KpiLine {
            code: r.code.clone(),
            name: r.name_ja.clone(),
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
        city_name,
        fy: report.fy,
        area_code: report.area_code.clone(),
        counts: report.counts.clone(),
        plans,
    }
}

fn fonts() -> anyhow::Result<&'static Fonts> {
    Ok(Fonts::shared()?)
}

/// The annual KPI progress report of `fy`. A year that has not started, or
/// one without any actual, is refused naming `--fy`.
pub async fn kpi_progress(
    store: &Store,
    fy: FiscalYear,
    lang: Lang,
) -> anyhow::Result<(ProgressBook, Vec<u8>)> {
    let current = citykpi_app::clock::current_fiscal_year();
    if fy > current {
        anyhow::bail!(
            "--fy: {}",
            match lang {
                Lang::Ja => format!("{}はまだ始まっていません", fy.label_ja()),
                Lang::En => format!("{} has not started yet", fy.label_en()),
            }
        );
    }
    // Fonts first: a machine without them fails before any work.
    let fonts = fonts()?;
    let report = kpi_status(store, fy).await?;
    if report.kpis.is_empty() || report.counts.no_data == report.counts.total() {
        anyhow::bail!(
            "--fy: {}",
            match lang {
                Lang::Ja => format!("{}までの実績があるKPIがありません", fy.label_ja()),
                Lang::En => format!("no KPI has an actual up to {}", fy.label_en()),
            }
        );
    }
    let kpis = store.kpis().await?;
    let city = store
        .get_setting(citykpi_app::settings::CITY_NAME_JA)
        .await?
        .unwrap_or_default();
    let book = progress_book(city, &report, &kpis);
    let bytes = citykpi_pdf::kpi_progress_pdf(fonts, &book)?;
    Ok((book, bytes))
}

/// The evaluation sheets of `fy` (one department's, if named), one program
/// per page.
pub async fn evaluations(
    store: &Store,
    fy: FiscalYear,
    department: Option<&str>,
    flag_error: fn(ReportServiceError) -> anyhow::Error,
) -> anyhow::Result<(EvaluationBook, Vec<u8>)> {
    let fonts = fonts()?;
    let book = reports::evaluation_sheets(store, fy, department)
        .await
        .map_err(flag_error)?;
    let bytes = citykpi_pdf::evaluation_sheets_pdf(fonts, &book)?;
    Ok((book, bytes))
}
