//! The demo city as of a day: its fiscal year, the actuals that exist by then
//! (last year's collected from April to June, months ended), nothing entered
//! after the day, and the same city for the same day.

use citykpi_demo::{DemoOptions, fiscal_year_of, generate};
use citykpi_domain::kpi::Frequency;
use citykpi_domain::observation::{ObsStatus, Period};
use citykpi_domain::partner::Day;
use citykpi_domain::{Dataset, FiscalYear};

fn on(y: i32, m: u32, d: u32) -> (Day, Dataset) {
    let day = Day::new(y, m, d).unwrap();
    (
        day,
        generate(&DemoOptions {
            as_of: day,
            ..DemoOptions::default()
        }),
    )
}

/// How many KPIs of lag 0 have an actual of `fy` for the city.
fn with_actual(ds: &Dataset, fy: i32) -> (usize, usize) {
    let city = citykpi_demo::DEFAULT_CITY_CODE;
    let lag0: Vec<_> = ds
        .kpis
        .iter()
        .filter(|k| k.publication_lag_years == 0 && k.frequency != Frequency::Monthly)
        .collect();
    let have = lag0
        .iter()
        .filter(|k| {
            ds.observations.iter().any(|o| {
                o.kpi_code == k.code
                    && o.area_code == city
                    && o.period == Period::Year(FiscalYear::new(fy).unwrap())
            })
        })
        .count();
    (have, lag0.len())
}

/// The latest month of the monthly KPIs, and whether the last two are provisional.
fn latest_month(ds: &Dataset) -> (i32, u8) {
    let monthly = ds
        .kpis
        .iter()
        .find(|k| k.frequency == Frequency::Monthly)
        .unwrap();
    let mut months: Vec<_> = ds
        .observations
        .iter()
        .filter(|o| o.kpi_code == monthly.code)
        .filter_map(|o| match o.period {
            Period::Month(y, m) => Some(((y, m), o.status)),
            _ => None,
        })
        .collect();
    months.sort_by_key(|(p, _)| *p);
    let n = months.len();
    assert!(
        months[n - 2..]
            .iter()
            .all(|(_, s)| *s == ObsStatus::Provisional)
    );
    assert!(months[..n - 2].iter().all(|(_, s)| *s == ObsStatus::Final));
    months[n - 1].0
}

#[test]
fn the_city_stands_as_on_its_day() {
    let (day, dec) = on(2026, 12, 7);
    assert_eq!(fiscal_year_of(day).year(), 2026);
    assert_eq!(dec.plans[0].code, "BP2026");
    let (have, all) = with_actual(&dec, 2025);
    assert_eq!(have, all, "after June every actual of last year is in");
    assert_eq!(with_actual(&dec, 2026).0, 0, "this year has not ended");
    assert_eq!(latest_month(&dec), (2026, 11));
    let stamp = "2026-12-07T99";
    assert!(
        dec.observations
            .iter()
            .all(|o| o.entered_at.as_str() < stamp && o.confirmed_at.as_str() < stamp)
    );
    assert!(dec.money.iter().any(|m| m.fy.year() == 2026));

    // On 1 April the last year's actuals are being collected: some are in.
    let (_, april) = on(2026, 4, 1);
    let (have, all) = with_actual(&april, 2025);
    assert!(have > 0 && have < all, "{have} of {all}");
    assert_eq!(latest_month(&april), (2026, 3));
    // By the end of June all are.
    let (_, june) = on(2026, 6, 30);
    let (have_june, _) = with_actual(&june, 2025);
    assert!(have_june > have, "{have_june} > {have}");

    // At the end of March the city is still in the same fiscal year.
    let (_, march) = on(2027, 3, 31);
    assert_eq!(march.plans[0].code, "BP2026");
    assert_eq!(latest_month(&march), (2027, 2));
}

#[test]
fn the_same_day_gives_the_same_city() {
    let (_, a) = on(2026, 12, 7);
    let (_, b) = on(2026, 12, 7);
    assert_eq!(a, b);
    let (_, c) = on(2026, 12, 8);
    // The next day differs only where the day shows (here: not at all in
    // the actuals, which change by month).
    assert_eq!(a.kpis, c.kpis);
    assert_eq!(a.programs, c.programs);
}
