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
pub use citykpi_analytics::seasonal::{SeasonalMethod, StepForecast, YearEndForecast};
use citykpi_analytics::seasonal::{YearEndRequest, YearFigure, forecast_year_end};
use citykpi_domain::FiscalYear;
use citykpi_domain::kpi::{Frequency, Kpi, StatusBasis};
use citykpi_domain::observation::{ObsStatus, Observation, Period};
use citykpi_domain::progress::{basis_reading, expected_value};
use serde::Serialize;
use std::collections::BTreeMap;

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
        let mut points = yearly_points(obs.iter().copied(), &k.code, area, as_of);
        if points.is_empty() && k.frequency != Frequency::Annual {
            points = basis_year_points(k, obs.iter().copied(), area, as_of);
        }
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

/// The city's monthly (or quarterly) values of `kpi` up to the end of
/// `as_of`, by period, with whether each is provisional: the frequency of the
/// KPI, else that of its latest sub-yearly value.
fn sub_year_values<'a>(
    kpi: &Kpi,
    observations: impl IntoIterator<Item = &'a Observation>,
    area: &str,
    as_of: FiscalYear,
) -> (u8, BTreeMap<Period, (f64, bool)>) {
    let all: Vec<(Period, f64, bool)> = observations
        .into_iter()
        .filter(|o| o.kpi_code == kpi.code && o.area_code == area)
        .filter(|o| !matches!(o.period, Period::Year(_)) && o.period.fiscal_year() <= as_of)
        .filter_map(|o| {
            o.value
                .value()
                .map(|v| (o.period, v, o.status == ObsStatus::Provisional))
        })
        .collect();
    let per = match kpi.frequency.per_year() {
        1 => all
            .iter()
            .map(|(p, _, _)| *p)
            .max()
            .map(|p| p.ordinal().0)
            .unwrap_or(12),
        per => per,
    };
    let values = all
        .into_iter()
        .filter(|(p, _, _)| p.ordinal().0 == per)
        .map(|(p, v, prov)| (p, (v, prov)))
        .collect();
    (per, values)
}

/// Yearly points of a monthly or quarterly KPI for the final-target
/// forecast: each complete fiscal year (its last month or quarter observed)
/// read on the KPI's basis at the year's end, on the scale of a yearly target.
pub fn basis_year_points<'a>(
    kpi: &Kpi,
    observations: impl IntoIterator<Item = &'a Observation>,
    area: &str,
    as_of: FiscalYear,
) -> Vec<YearPoint> {
    let (per, values) = sub_year_values(kpi, observations, area, as_of);
    let plain: BTreeMap<Period, f64> = values.iter().map(|(p, (v, _))| (*p, *v)).collect();
    let basis = kpi.basis();
    values
        .iter()
        .filter(|(p, _)| p.fiscal_position() + 1 == per)
        .filter_map(|(p, (_, prov))| {
            basis_reading(kpi, &plain, *p, basis).map(|r| YearPoint {
                year: p.fiscal_year().year(),
                value: r.comparable,
                provisional: *prov,
            })
        })
        .collect()
}

/// A value with its change from the same period a year before.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct YoyPoint {
    pub period: Period,
    pub value: f64,
    pub provisional: bool,
    pub year_before: Option<f64>,
    pub change: Option<f64>,
    /// Change relative to the year before's value (None when that is 0).
    pub change_rate: Option<f64>,
}

/// A monthly or quarterly KPI's outlook for the fiscal year in progress.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SubYearOutlook {
    pub basis: StatusBasis,
    /// The fiscal year whose end is forecast: the one of the latest value,
    /// or the next when the latest value closes its year.
    pub fy: FiscalYear,
    /// The target of that year for the basis figure.
    pub target: Option<f64>,
    pub forecast: YearEndForecast,
    /// The period of each forecast step (`forecast.path`, same order).
    pub periods: Vec<Period>,
    /// Every value, oldest first, with its year-over-year change.
    pub yoy: Vec<YoyPoint>,
}

impl SubYearOutlook {
    /// The forecast steps with their periods.
    pub fn steps(&self) -> impl Iterator<Item = (Period, &StepForecast)> {
        self.periods.iter().copied().zip(self.forecast.path.iter())
    }
}

/// The outlook of a monthly or quarterly KPI from the city's values known at
/// the end of `as_of`: the rest of the fiscal year forecast (seasonal from
/// two whole seasons of consecutive values, else level only), the year's
/// figure on the KPI's basis and the probability that it meets the year's
/// target, and every value's change from a year before. None for a yearly
/// KPI or one without monthly or quarterly values. Provisional values are
/// used as they are.
pub fn sub_year_outlook<'a>(
    kpi: &Kpi,
    observations: impl IntoIterator<Item = &'a Observation>,
    area: &str,
    as_of: FiscalYear,
) -> Option<SubYearOutlook> {
    let (per, values) = sub_year_values(kpi, observations, area, as_of);
    let (&last, _) = values.iter().next_back()?;
    if per == 1 {
        return None;
    }
    let (_, n_last) = last.ordinal();
    // The latest run of consecutive periods: smoothing needs no gaps.
    let mut series = Vec::new();
    let mut n = n_last;
    while let Some((v, _)) = Period::from_ordinal(per, n).and_then(|p| values.get(&p)) {
        series.push(*v);
        n -= 1;
    }
    series.reverse();
    let pos = usize::from(last.fiscal_position());
    let per_us = usize::from(per);
    let (fy, horizon) = if pos + 1 == per_us {
        (last.fiscal_year().next(), per_us)
    } else {
        (last.fiscal_year(), per_us - 1 - pos)
    };
    let observed_in_year: Vec<f64> = values
        .iter()
        .filter(|(p, _)| p.fiscal_year() == fy)
        .map(|(_, (v, _))| *v)
        .collect();
    let basis = kpi.basis();
    let figure = match basis {
        StatusBasis::YtdSum | StatusBasis::Last12Sum => YearFigure::Sum,
        StatusBasis::Last12Mean => YearFigure::Mean,
        StatusBasis::Latest => YearFigure::Last,
    };
    let target = expected_value(kpi, fy);
    let forecast = forecast_year_end(&YearEndRequest {
        period: per_us,
        series,
        observed_in_year,
        horizon,
        figure,
        target,
        direction: kpi.direction,
    });
    let periods = (1..=horizon as i32)
        .filter_map(|h| Period::from_ordinal(per, n_last + h))
        .collect();
    let yoy = values
        .iter()
        .map(|(p, (v, prov))| {
            let before = p
                .year_before()
                .and_then(|b| values.get(&b))
                .map(|(b, _)| *b);
            YoyPoint {
                period: *p,
                value: *v,
                provisional: *prov,
                year_before: before,
                change: before.map(|b| v - b),
                change_rate: before.filter(|b| *b != 0.0).map(|b| (v - b) / b.abs()),
            }
        })
        .collect();
    Some(SubYearOutlook {
        basis,
        fy,
        target,
        forecast,
        periods,
        yoy,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use citykpi_domain::kpi::{Direction, YearValue};
    use citykpi_domain::observation::ObsValue;

    fn fy(y: i32) -> FiscalYear {
        FiscalYear::new(y).unwrap()
    }

    fn kpi(basis: Option<StatusBasis>) -> Kpi {
        Kpi {
            code: "OT".into(),
            name_ja: "時間外勤務".into(),
            name_en: String::new(),
            unit: "時間".into(),
            direction: Direction::LowerIsBetter,
            frequency: Frequency::Monthly,
            baseline: Some(YearValue {
                fy: fy(2020),
                value: 20.0,
            }),
            targets: vec![],
            final_target: Some(YearValue {
                fy: fy(2030),
                value: 10.0,
            }),
            source: String::new(),
            publication_lag_years: 0,
            description: String::new(),
            owner_sections: vec![],
            nodes: vec![],
            sdgs: vec![],
            published: true,
            status_basis: basis,
        }
    }

    /// Months from April 2023 on: 10 + the fiscal month (0 = April) + one
    /// hour less each fiscal year.
    fn months(n: i32) -> Vec<Observation> {
        let (_, start) = Period::Month(2023, 4).ordinal();
        (0..n)
            .map(|i| {
                let period = Period::from_ordinal(12, start + i).unwrap();
                let value = 10.0 + f64::from(period.fiscal_position())
                    - f64::from(period.fiscal_year().year() - 2023);
                Observation {
                    kpi_code: "OT".into(),
                    period,
                    area_code: "271403".into(),
                    value: ObsValue::Value(value),
                    status: ObsStatus::Final,
                    source: String::new(),
                    note: String::new(),
                    entered_by: String::new(),
                    entered_at: String::new(),
                    confirmed_by: String::new(),
                    confirmed_at: String::new(),
                }
            })
            .collect()
    }

    #[test]
    fn rest_of_the_year_and_year_over_year() {
        let k = kpi(None);
        let obs = months(30); // April 2023 – September 2025
        let o = sub_year_outlook(&k, &obs, "271403", fy(2025)).unwrap();
        assert_eq!(o.fy, fy(2025));
        assert_eq!(o.basis, StatusBasis::Last12Mean);
        assert_eq!(o.periods.first(), Some(&Period::Month(2025, 10)));
        assert_eq!(o.periods.last(), Some(&Period::Month(2026, 3)));
        assert_eq!(o.forecast.method, SeasonalMethod::HoltWinters);
        assert_eq!(o.forecast.points_used, 30);
        // FY2025's target on the path from 20 (FY2020) to 10 (FY2030).
        assert_eq!(o.target, Some(15.0));
        let sep = o.yoy.last().unwrap();
        assert_eq!(sep.period, Period::Month(2025, 9));
        assert_eq!(sep.value, 13.0);
        assert_eq!(sep.year_before, Some(14.0));
        assert_eq!(sep.change, Some(-1.0));
        assert!((sep.change_rate.unwrap() + 1.0 / 14.0).abs() < 1e-12);
        assert_eq!(o.yoy[0].year_before, None);
        // A season with no noise is forecast as it was: March 2026 at 10 + 11 − 2.
        assert!(
            (o.forecast.path[5].mean - 19.0).abs() < 0.05,
            "{:?}",
            o.forecast.path[5]
        );
        // Seen from FY2024, the data stop at March 2025: the whole next year is forecast.
        let o = sub_year_outlook(&k, &obs, "271403", fy(2024)).unwrap();
        assert_eq!(o.fy, fy(2025));
        assert_eq!(o.periods.len(), 12);
        // Yearly points for the final-target forecast: each whole fiscal year's mean.
        let points = basis_year_points(&k, &obs, "271403", fy(2025));
        let got: Vec<(i32, f64)> = points.iter().map(|p| (p.year, p.value)).collect();
        assert_eq!(got, vec![(2023, 15.5), (2024, 14.5)]);
        // Another area, or a yearly KPI's yearly values: no monthly outlook.
        assert!(sub_year_outlook(&k, &obs, "131016", fy(2025)).is_none());
    }

    #[test]
    fn short_series_fall_back_to_the_level() {
        let o = sub_year_outlook(&kpi(None), &months(8), "271403", fy(2023)).unwrap();
        assert_eq!(o.forecast.method, SeasonalMethod::LevelOnly);
        assert_eq!(o.periods.len(), 4);
        // The year's mean: 8 observed months and 4 forecast at the level.
        let observed: f64 = (0..8).map(|i| 10.0 + f64::from(i)).sum();
        let level = o.forecast.path[0].mean;
        assert!((o.forecast.year_mean.unwrap() - (observed + 4.0 * level) / 12.0).abs() < 1e-9);
        assert!(o.forecast.probability.is_some());
    }
}
