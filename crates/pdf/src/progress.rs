//! The annual KPI progress report (年次KPI進捗報告書): a title page with the
//! city, the fiscal year (和暦 and 西暦) and the KPIs by status, then per
//! plan and policy a table of its KPIs, the status chart and a commentary
//! field. The records are `citykpi_reports::progress` (the web page shows the
//! same model), built by the app's `reports::progress_book`.

use citykpi_charts::{StatusSlice, palette, progress_bar, status_bar, status_donut};
use citykpi_domain::progress::{Status, StatusCounts};
use serde_json::{Value, json};

use crate::format::{number, percent};
use crate::{Fonts, PdfResult, chart_svg, compile, preamble};

const TEMPLATE: &str = include_str!("../templates/kpi_progress.typ");

pub use citykpi_reports::progress::{KpiLine, PlanSection, PolicySection, ProgressBook};

fn slices(counts: &StatusCounts) -> Vec<StatusSlice<'static>> {
    Status::ALL
        .iter()
        .map(|s| StatusSlice {
            code: s.as_str(),
            label: s.label_ja(),
            count: counts.get(*s),
            color: palette::status_color(s.as_str()),
        })
        .collect()
}

fn status_json(s: Status) -> Value {
    json!({ "label": s.label_ja(), "color": palette::status_color(s.as_str()) })
}

fn counts_json(counts: &StatusCounts) -> Value {
    Value::Array(
        Status::ALL
            .iter()
            .map(|s| {
                json!({
                    "label": s.label_ja(),
                    "count": counts.get(*s).to_string(),
                    "color": palette::status_color(s.as_str()),
                })
            })
            .collect(),
    )
}

/// The report as PDF bytes (A4 portrait, Japanese).
pub fn kpi_progress_pdf(fonts: &Fonts, book: &ProgressBook) -> PdfResult<Vec<u8>> {
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let total = book.counts.total();
    files.push((
        "/charts/all.svg".into(),
        chart_svg(
            fonts,
            &status_donut(
                "status-all",
                "KPIの達成状況",
                &format!("全{total}指標の達成状況の内訳"),
                &slices(&book.counts),
                220,
                "指標",
            ),
        ),
    ));
    let mut plans = Vec::with_capacity(book.plans.len());
    for (pi, plan) in book.plans.iter().enumerate() {
        let mut policies = Vec::with_capacity(plan.policies.len());
        for (qi, policy) in plan.policies.iter().enumerate() {
            let chart = format!("/charts/p{pi}-{qi}.svg");
            files.push((
                chart.clone(),
                chart_svg(
                    fonts,
                    &status_bar(
                        &format!("status-{pi}-{qi}"),
                        &format!("{} のKPI達成状況", policy.name),
                        &format!("{}指標の達成状況の内訳", policy.counts.total()),
                        &slices(&policy.counts),
                        640,
                    ),
                ),
            ));
            let mut kpis = Vec::with_capacity(policy.kpis.len());
            for (ki, k) in policy.kpis.iter().enumerate() {
                let bar = format!("/charts/b{pi}-{qi}-{ki}.svg");
                let label = match k.progress_to_final {
                    Some(f) => format!("最終目標までの進捗 {}%", (f * 100.0).round() as i64),
                    None => "最終目標までの進捗 データなし".to_string(),
                };
                files.push((
                    bar.clone(),
                    chart_svg(
                        fonts,
                        &progress_bar(&citykpi_charts::ProgressBar {
                            label: &label,
                            fraction: k.progress_to_final,
                            color: palette::status_color(k.status.as_str()),
                            width: 120,
                        }),
                    ),
                ));
                let actual = k.actual_text();
                kpis.push(json!({
                    "code": k.code,
                    "name": k.name,
                    "unit": k.unit,
                    "baseline": number(k.baseline),
                    "target": number(k.target),
                    "final_target": number(k.final_target),
                    "final_fy": k.final_target_fy.map(|y| y.wareki()).unwrap_or_default(),
                    "actual": actual,
                    "actual_fy": k.actual_fy.map(|y| y.to_string()).unwrap_or_default(),
                    "rate": percent(k.rate),
                    "status": status_json(k.status),
                    "stale": k.stale,
                    "bar": bar,
                    "commentary": k.commentary,
                }));
            }
            policies.push(json!({
                "code": policy.code,
                "name": policy.name,
                "rate": percent(policy.rate),
                "status": status_json(policy.status),
                "total": policy.counts.total().to_string(),
                "chart": chart,
                "kpis": kpis,
            }));
        }
        plans.push(json!({
            "code": plan.code,
            "name": plan.name,
            "rate": percent(plan.rate),
            "status": status_json(plan.status),
            "counts": counts_json(&plan.counts),
            "total": plan.counts.total().to_string(),
            "policies": policies,
        }));
    }
    let data = json!({
        "city": book.city_name,
        "title": format!("{}{} 年次KPI進捗報告書", book.city_name, book.fy.wareki()),
        "wareki": book.fy.wareki(),
        "seireki": format!("{}年度", book.fy.year()),
        "area": book.area_code,
        "counts": counts_json(&book.counts),
        "total": total.to_string(),
        "plans": plans,
    });
    compile(
        fonts,
        &format!("{}{TEMPLATE}", preamble(fonts)),
        &data,
        files,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use citykpi_domain::FiscalYear;

    fn line(code: &str, actual: Option<f64>, status: Status) -> KpiLine {
        KpiLine {
            code: code.into(),
            name: "市民満足度（テスト用の長い指標名で折り返しを確かめる）".into(),
            name_en: String::new(),
            unit: "%".into(),
            baseline: Some(50.0),
            target: Some(60.0),
            final_target: Some(70.0),
            final_target_fy: FiscalYear::new(2030).ok(),
            actual,
            actual_fy: actual.and(FiscalYear::new(2024).ok()),
            provisional: false,
            rate: actual.map(|a| a / 60.0),
            progress_to_final: actual.map(|a| (a - 50.0) / 20.0),
            status,
            stale: false,
            commentary: if actual.is_some() {
                "説明文".into()
            } else {
                String::new()
            },
        }
    }

    #[test]
    fn renders_a_small_report() {
        let fonts = Fonts::shared().expect("Japanese fonts (fonts-noto-cjk)");
        let mut counts = StatusCounts::default();
        counts.add(Status::Achieved);
        counts.add(Status::NoData);
        let policy = PolicySection {
            code: "P1".into(),
            name: "子育て".into(),
            name_en: String::new(),
            rate: Some(1.0),
            status: Status::Achieved,
            counts: counts.clone(),
            kpis: vec![
                line("K1", Some(61234.5), Status::Achieved),
                line("K2", None, Status::NoData),
            ],
        };
        let book = ProgressBook {
            city_name: "テスト市".into(),
            city_name_en: String::new(),
            fy: FiscalYear::new(2024).unwrap(),
            area_code: "000000".into(),
            counts: counts.clone(),
            plans: vec![PlanSection {
                code: "PLAN".into(),
                name: "総合計画".into(),
                name_en: String::new(),
                rate: Some(1.0),
                status: Status::Achieved,
                counts,
                policies: vec![policy],
            }],
        };
        let pdf = kpi_progress_pdf(fonts, &book).unwrap();
        assert!(pdf.starts_with(b"%PDF"));
    }
}
