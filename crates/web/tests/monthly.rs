//! A monthly KPI on its page: every stored month is one point of the chart,
//! each fiscal year is marked where it begins (April), the status is judged
//! on the KPI's declared basis, and the change from a year before is listed.
//! The demo city's overtime KPI (時間外勤務, monthly, seasonal) over a real
//! database and real HTTP.

mod common;

use citykpi_domain::FiscalYear;
use citykpi_domain::kpi::{Frequency, StatusBasis};
use citykpi_domain::observation::Period;
use citykpi_store::{Backend, ObservationFilter};
use reqwest::StatusCode;

/// The chart with `id` (its `<svg>` element).
fn chart_svg<'a>(body: &'a str, id: &str) -> &'a str {
    let title = body
        .find(&format!("id=\"{id}-title\""))
        .unwrap_or_else(|| panic!("chart {id} not found"));
    let from = body[..title].rfind("<svg").expect("<svg");
    let rest = &body[from..];
    &rest[..rest.find("</svg>").expect("</svg>") + 6]
}

/// The part of a page from `start` to the next `end`.
fn section<'a>(body: &'a str, start: &str, end: &str) -> &'a str {
    let from = body
        .find(start)
        .unwrap_or_else(|| panic!("{start} not found"));
    let rest = &body[from..];
    &rest[..rest.find(end).map(|i| i + end.len()).unwrap_or(rest.len())]
}

async fn overtime_page(backend: Backend) {
    let app = common::spawn(backend).await;
    let kpis = app.store.kpis().await.unwrap();
    let ot = kpis
        .iter()
        .find(|k| k.name_ja.contains("時間外勤務"))
        .expect("the overtime KPI");
    assert_eq!(ot.frequency, Frequency::Monthly);
    assert_eq!(ot.status_basis, Some(StatusBasis::Last12Mean));
    let city = citykpi_app::status::city_code(&app.store)
        .await
        .unwrap()
        .expect("city code");
    let fy = FiscalYear::new(2025).unwrap();
    let stored = app
        .store
        .observations(&ObservationFilter {
            to_fy: Some(fy),
            area_code: Some(city.clone()),
            ..ObservationFilter::all().kpis([ot.code.clone()])
        })
        .await
        .unwrap();
    let months: Vec<(Period, f64)> = stored
        .iter()
        .filter_map(|o| o.value.value().map(|v| (o.period, v)))
        .collect();
    assert!(months.len() >= 60, "{} months", months.len());
    assert!(months.iter().all(|(p, _)| matches!(p, Period::Month(..))));

    let viewer = app.login("viewer").await;
    let page = viewer.get(&format!("/kpis/{}?fy=2025", ot.code)).await;
    assert_eq!(page.status, StatusCode::OK);
    let svg = chart_svg(&page.body, "kpi-chart");
    // One marker per stored month, each with its month and value.
    assert_eq!(
        svg.matches("<circle data-series=\"actual\"").count(),
        months.len(),
        "one point per month"
    );
    for (p, v) in &months {
        let Period::Month(y, m) = p else {
            unreachable!()
        };
        assert!(
            svg.contains(&format!("data-period=\"{y}年{m}月\" data-value=\"{v}\"")),
            "{p} = {v}"
        );
    }
    // A boundary at every April after the first month's fiscal year.
    let first_fy = months.iter().map(|(p, _)| p.fiscal_year()).min().unwrap();
    let boundaries: Vec<i32> = (first_fy.year() + 1..=2025).collect();
    assert_eq!(
        svg.matches("data-series=\"fy-boundary\"").count(),
        boundaries.len()
    );
    for y in &boundaries {
        assert!(svg.contains(&format!("data-fy=\"{y}\"")), "April {y}");
    }
    assert!(
        svg.contains(">令和7年度<"),
        "fiscal years by their era name"
    );
    // The demo as of 2025-07-15 has months to June: the rest of FY2025
    // (July – March) is forecast and shaded.
    let last = months.iter().map(|(p, _)| *p).max().unwrap();
    assert_eq!(last, Period::Month(2025, 6));
    assert_eq!(svg.matches("<circle data-series=\"forecast\"").count(), 9);
    assert!(svg.contains("data-series=\"forecast-span\""));
    assert!(svg.contains("data-period=\"2026年3月\""));

    // Status on the declared basis: the mean of July 2024 – June 2025.
    let window: Vec<f64> = months
        .iter()
        .filter(|(p, _)| *p >= Period::Month(2024, 7) && *p <= Period::Month(2025, 6))
        .map(|(_, v)| *v)
        .collect();
    assert_eq!(window.len(), 12);
    let mean = window.iter().sum::<f64>() / 12.0;
    let report = citykpi_app::status::kpi_status(&app.store, fy)
        .await
        .unwrap();
    let row = report.kpis.iter().find(|r| r.code == ot.code).unwrap();
    assert!((row.progress.actual.unwrap() - mean).abs() < 1e-9);
    assert_eq!(row.progress.basis, Some(StatusBasis::Last12Mean));
    assert_eq!(row.progress.periods_used, 12);
    assert!(
        page.body
            .contains("直近12か月平均（2024年7月〜2025年6月・12期分）"),
        "the basis and its months"
    );
    assert!(
        page.body
            .contains(&citykpi_charts::format_number(mean).to_string()),
        "the twelve-month mean {mean} shown"
    );
    assert!(page.body.contains(row.progress.status.label_ja()));

    // Year over year: June 2025 against June 2024.
    let value = |p: Period| months.iter().find(|(q, _)| *q == p).unwrap().1;
    let change = value(Period::Month(2025, 6)) - value(Period::Month(2024, 6));
    let yoy = section(&page.body, "前年同期比", "</table>");
    assert!(yoy.contains("2025年6月"));
    assert!(
        yoy.contains(&citykpi_charts::format_number(change)),
        "change {change}"
    );
    assert!(page.body.contains("年度目標を達成する確率"));
    assert!(page.body.contains("ホルト・ウィンタース"), "seasonal model");

    // English second.
    let en = viewer
        .get(&format!("/kpis/{}?fy=2025&lang=en", ot.code))
        .await;
    assert!(en.body.contains(">FY2025<"));
    assert!(en.body.contains("Latest 12 months, mean"));

    // The public page charts the confirmed months the same way.
    if ot.published {
        let confirmed = stored
            .iter()
            .filter(|o| o.is_confirmed() && o.value.value().is_some())
            .count();
        let public = app
            .client()
            .get(&format!("/public/kpis/{}?fy=2025", ot.code))
            .await;
        assert_eq!(public.status, StatusCode::OK);
        let svg = chart_svg(&public.body, "public-kpi-chart");
        assert_eq!(
            svg.matches("<circle data-series=\"actual\"").count(),
            confirmed
        );
        assert_eq!(
            svg.matches("data-series=\"fy-boundary\"").count(),
            boundaries.len()
        );
    }
}
both!(overtime, overtime_page);
