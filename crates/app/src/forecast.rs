//! Will each KPI reach its final target? The plan's KPIs forecast from their
//! yearly actuals for the city, as known at the end of a fiscal year: the
//! analytics crate chooses the method by the number of points (ETS from 8,
//! a linear trend from 3, a drift from 2) and says which and why.
//!
//! Only what was known then is used: observations of later years are left
//! out, a KPI's publication lag simply means its last point is older (the
//! path starts after it), and provisional values are down-weighted.

use std::collections::HashMap;

pub use citykpi_analytics::forecast::{ForecastMethod, KpiForecast, PathYear, YearPoint};
use citykpi_analytics::forecast::{ForecastRequest, ProvisionalPolicy, Target, forecast_many};
use citykpi_domain::FiscalYear;
use citykpi_domain::kpi::Kpi;
use citykpi_domain::observation::{ObsStatus, Observation, Period};
use serde::Serialize;

/// A KPI's forecast, or why there is none.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum KpiOutlook {
    Forecast(KpiForecast),
    /// No forecast: no final target, the target year already observed, …
    /// (Japanese / English).
    NotForecast {
        reason: String,
    },
}

impl KpiOutlook {
    pub fn forecast(&self) -> Option<&KpiForecast> {
        match self {
            KpiOutlook::Forecast(f) => Some(f),
            KpiOutlook::NotForecast { .. } => None,
        }
    }
    /// Probability of reaching the final target, when there is one.
    pub fn probability(&self) -> Option<f64> {
        self.forecast().and_then(|f| f.probability_of_reaching)
    }
}

/// The yearly actuals of `kpi` in `area` up to `as_of`, oldest first.
/// Missing and secret values are not points.
pub fn yearly_points<'a>(
    observations: impl IntoIterator<Item = &'a Observation>,
    kpi: &str,
    area: &str,
    as_of: FiscalYear,
) -> Vec<YearPoint> {
    let mut points: Vec<YearPoint> = observations
        .into_iter()
        .filter(|o| o.kpi_code == kpi && o.area_code == area)
        .filter_map(|o| match o.period {
            Period::Year(fy) if fy <= as_of => o.value.value().map(|value| YearPoint {
                year: fy.year(),
                value,
                provisional: o.status == ObsStatus::Provisional,
            }),
            _ => None,
        })
        .collect();
    points.sort_by_key(|p| p.year);
    points.dedup_by_key(|p| p.year);
    points
}

fn request(kpi: &Kpi, points: Vec<YearPoint>) -> Result<ForecastRequest, String> {
    let target = kpi.final_target.ok_or_else(|| {
        "最終目標値が未設定のため予測しません / no final target, so no forecast".to_string()
    })?;
    Ok(ForecastRequest {
        points,
        target: Target {
            year: target.fy.year(),
            value: target.value,
        },
        direction: kpi.direction,
        provisional: ProvisionalPolicy::default(),
    })
}

/// Forecasts every KPI to its final target from the city's yearly actuals
/// known at the end of `as_of`.
pub fn forecast_kpis(
    kpis: &[Kpi],
    observations: &[Observation],
    area: &str,
    as_of: FiscalYear,
) -> HashMap<String, KpiOutlook> {
    let mut by_kpi: HashMap<&str, Vec<&Observation>> = HashMap::new();
    for o in observations {
        by_kpi.entry(o.kpi_code.as_str()).or_default().push(o);
    }
    let mut out = HashMap::with_capacity(kpis.len());
    let mut asked = Vec::new();
    let mut reqs = Vec::new();
    for k in kpis {
        let obs = by_kpi
            .get(k.code.as_str())
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let points = yearly_points(obs.iter().copied(), &k.code, area, as_of);
        match request(k, points) {
            Ok(r) => {
                asked.push(k.code.clone());
                reqs.push(r);
            }
            Err(reason) => {
                out.insert(k.code.clone(), KpiOutlook::NotForecast { reason });
            }
        }
    }
    for (code, result) in asked.into_iter().zip(forecast_many(&reqs)) {
        let outlook = match result {
            Ok(f) => KpiOutlook::Forecast(f),
            Err(e) => KpiOutlook::NotForecast {
                reason: e.to_string(),
            },
        };
        out.insert(code, outlook);
    }
    out
}

/// One KPI's forecast (the KPI page).
pub fn forecast_kpi(
    kpi: &Kpi,
    observations: &[Observation],
    area: &str,
    as_of: FiscalYear,
) -> KpiOutlook {
    forecast_kpis(std::slice::from_ref(kpi), observations, area, as_of)
        .remove(&kpi.code)
        .unwrap_or_else(|| KpiOutlook::NotForecast {
            reason: String::new(),
        })
}
