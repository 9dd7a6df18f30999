//! Synthetic control benchmarks (harness = false; prints figures):
//! - 1,741 donors × 40 periods, outcome-only (target < 200 ms)
//! - Proposition 99, outcome-only (target < 5 ms)
//! - Basque with predictors and the nested V search (reported, no target)
//!
//! The reference data are read from testdata/ in the repository (../../testdata
//! from this crate); the large panel is generated deterministically.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use citykpi_analytics::panel::{Panel, PanelSpec};
use citykpi_analytics::synth::{PredictorSpec, SynthSpec, WeightSolver, synthetic_control};

fn shared(rel: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata")
        .join(rel);
    std::fs::read_to_string(&p)
        .unwrap_or_else(|e| panic!("reference data {} missing: {e}", p.display()))
}

/// Units follow two common factors with unit loadings plus noise (a linear
/// congruential generator keeps it reproducible without dependencies).
fn generated_panel(donors: usize, periods: usize) -> Panel {
    let mut state: u64 = 0x2545F4914F6CDD1D;
    let mut uniform = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let f1: Vec<f64> = (0..periods).map(|t| 100.0 + 1.5 * t as f64).collect();
    let f2: Vec<f64> = (0..periods)
        .map(|t| 10.0 * (t as f64 / 6.0).sin())
        .collect();
    let units: Vec<String> = (0..=donors).map(|u| format!("U{u:04}")).collect();
    let outcome = (0..=donors)
        .map(|_| {
            let (a, b) = (0.5 + uniform(), uniform() * 2.0 - 1.0);
            (0..periods)
                .map(|t| Some(a * f1[t] + b * f2[t] + (uniform() - 0.5) * 4.0))
                .collect()
        })
        .collect();
    Panel {
        units,
        periods: (2000..2000 + periods as i64).collect(),
        outcome_name: "y".into(),
        outcome,
        columns: BTreeMap::new(),
    }
}

fn time<T>(reps: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut last = None;
    let start = Instant::now();
    for _ in 0..reps {
        last = Some(f());
    }
    (
        start.elapsed().as_secs_f64() * 1000.0 / reps as f64,
        last.expect("reps > 0"),
    )
}

fn main() {
    let big = generated_panel(1741, 40);
    let spec = SynthSpec {
        treated: "U0000".into(),
        treatment_time: 2030,
        ..Default::default()
    };
    let (ms, r) = time(5, || synthetic_control(&big, &spec).expect("big synth"));
    let nonzero = r.weights.iter().filter(|w| w.weight > 1e-4).count();
    println!(
        "synth 1,741 donors x 40 periods (outcome-only, exact QP): {ms:.1} ms per fit (target < 200 ms); {nonzero} donors > 1e-4, pre RMSPE {:.3}",
        r.pre_rmspe
    );

    let prop99 = Panel::from_csv_str(
        &shared("prop99/california_prop99.csv"),
        &PanelSpec {
            unit: "State".into(),
            time: "Year".into(),
            outcome: "PacksPerCapita".into(),
            columns: None,
        },
    )
    .expect("prop99");
    for solver in [WeightSolver::ExactQp, WeightSolver::SynthdidFrankWolfe] {
        let spec = SynthSpec {
            treated: "California".into(),
            treatment_time: 1989,
            solver,
            ..Default::default()
        };
        let (ms, r) = time(50, || {
            synthetic_control(&prop99, &spec).expect("prop99 synth")
        });
        println!(
            "synth Prop 99 outcome-only ({solver:?}): {ms:.2} ms per fit (target < 5 ms); effect {:.4}",
            r.average_effect
        );
    }
    let spec = SynthSpec {
        treated: "California".into(),
        treatment_time: 1989,
        placebos: true,
        ..Default::default()
    };
    let (ms, r) = time(3, || {
        synthetic_control(&prop99, &spec).expect("prop99 placebos")
    });
    let p = r.placebos.as_ref().expect("placebos");
    println!(
        "synth Prop 99 with 38 placebos: {ms:.1} ms; ratio rank {} of 39, p = {:.4}",
        p.rank, p.p_value
    );

    let basque = Panel::from_csv_str(
        &shared("basque/basque.csv"),
        &PanelSpec {
            unit: "regionno".into(),
            time: "year".into(),
            outcome: "gdpcap".into(),
            columns: None,
        },
    )
    .expect("basque");
    let mut predictors: Vec<PredictorSpec> = [
        "school.illit",
        "school.prim",
        "school.med",
        "school.high",
        "school.post.high",
        "invest",
    ]
    .iter()
    .map(|c| PredictorSpec {
        column: c.to_string(),
        from: 1964,
        to: 1969,
        step: 1,
    })
    .collect();
    predictors.push(PredictorSpec {
        column: "gdpcap".into(),
        from: 1960,
        to: 1969,
        step: 1,
    });
    for c in [
        "sec.agriculture",
        "sec.energy",
        "sec.industry",
        "sec.construction",
        "sec.services.venta",
        "sec.services.nonventa",
    ] {
        predictors.push(PredictorSpec {
            column: c.into(),
            from: 1961,
            to: 1969,
            step: 2,
        });
    }
    predictors.push(PredictorSpec {
        column: "popdens".into(),
        from: 1969,
        to: 1969,
        step: 1,
    });
    let spec = SynthSpec {
        treated: "17".into(),
        treatment_time: 1970,
        exclude: vec!["1".into()],
        predictors,
        fit_period: Some((1960, 1969)),
        ..Default::default()
    };
    let (ms, r) = time(1, || synthetic_control(&basque, &spec).expect("basque"));
    println!(
        "synth Basque (14 predictors, nested V search): {ms:.0} ms; Cataluna {:.4}, Madrid {:.4}, fit MSPE {:.6}",
        r.weight_of("10"),
        r.weight_of("14"),
        r.fit_mspe
    );
}
