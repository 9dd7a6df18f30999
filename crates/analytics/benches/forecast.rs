//! Forecasts for 1,500 KPIs (target < 500 ms). Lengths 2–12 years, so every
//! method (naive drift, linear trend, ETS) is exercised. Prints figures.

use std::time::Instant;

use citykpi_analytics::forecast::{
    ForecastMethod, ForecastRequest, ProvisionalPolicy, Target, YearPoint, forecast_many,
};
use citykpi_domain::kpi::Direction;

fn main() {
    let mut state: u64 = 42;
    let mut uniform = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let reqs: Vec<ForecastRequest> = (0..1500usize)
        .map(|k| {
            let n = 2 + k % 11;
            let level = 50.0 + 100.0 * uniform();
            let slope = uniform() * 4.0 - 1.0;
            let points = (0..n)
                .map(|i| YearPoint {
                    year: 2024 - n as i32 + 1 + i as i32,
                    value: level + slope * i as f64 + (uniform() - 0.5) * 3.0,
                    provisional: i + 1 == n && k % 3 == 0,
                })
                .collect();
            ForecastRequest {
                points,
                target: Target {
                    year: 2030,
                    value: level + slope * (n as f64 + 6.0) + 2.0,
                },
                direction: if k % 2 == 0 {
                    Direction::HigherIsBetter
                } else {
                    Direction::LowerIsBetter
                },
                provisional: ProvisionalPolicy::default(),
            }
        })
        .collect();
    let start = Instant::now();
    let out = forecast_many(&reqs);
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    let count = |m: ForecastMethod| {
        out.iter()
            .filter(|r| r.as_ref().is_ok_and(|f| f.method == m))
            .count()
    };
    println!(
        "forecast 1,500 KPIs: {ms:.1} ms (target < 500 ms); ETS {}, linear trend {}, naive drift {}, errors {}",
        count(ForecastMethod::Ets),
        count(ForecastMethod::LinearTrend),
        count(ForecastMethod::NaiveDrift),
        out.iter().filter(|r| r.is_err()).count()
    );
}
