//! Synthetic control benchmarks (harness = false; prints figures):
//! - 1,741 donors × 40 periods, outcome-only (target < 200 ms)
//! - Proposition 99, outcome-only (target < 5 ms)
//! - Basque with predictors and the nested V search (issue 22: the CLI whole
//!   process under 100 ms), and one inner solve by each solver
//! - 1,741 donors with 5 predictors and the nested V search (target < 1 s)
//!
//! The reference data are read from testdata/ in the repository (../../testdata
//! from this crate); the large panel is generated deterministically.

use std::path::Path;
use std::time::Instant;

use citykpi_analytics::panel::{Panel, PanelSpec};
use citykpi_analytics::simplex_ls;
use citykpi_analytics::synth::{
    PredictorSpec, SynthSpec, VSearch, WeightSolver, generated_panel, simplex_weights,
    synthetic_control,
};
use nalgebra::DMatrix;

fn shared(rel: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata")
        .join(rel);
    std::fs::read_to_string(&p)
        .unwrap_or_else(|e| panic!("reference data {} missing: {e}", p.display()))
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

/// The Basque panel (read from testdata/) and Abadie & Gardeazabal's predictors.
fn basque_case() -> (Panel, SynthSpec) {
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
    (basque, spec)
}

fn main() {
    // `synth-… basque-once`: one process that reads the CSV, fits the Basque
    // case once and prints the weights, as `citykpi evidence synth` does, for
    // timing the whole process (`/usr/bin/time`).
    if std::env::args().any(|a| a == "basque-once") {
        let (basque, spec) = basque_case();
        let r = synthetic_control(&basque, &spec).expect("basque");
        println!(
            "Cataluna {:.4} Madrid {:.4} fit MSPE {:.6}",
            r.weight_of("10"),
            r.weight_of("14"),
            r.fit_mspe
        );
        return;
    }
    let big = generated_panel(1741, 40, 0);
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

    let (basque, spec) = basque_case();
    let (ms, r) = time(10, || synthetic_control(&basque, &spec).expect("basque"));
    println!(
        "synth Basque (14 predictors, nested V search): {ms:.1} ms per fit; Cataluna {:.4}, Madrid {:.4}, fit MSPE {:.6}; {}",
        r.weight_of("10"),
        r.weight_of("14"),
        r.fit_mspe,
        r.v_method
    );
    // One inner problem (W for a given V) by each solver, on the Basque
    // predictors (13 x 17, random V): what each outer evaluation costs.
    let xs = DMatrix::from_fn(13, 17, |i, j| {
        ((i * 31 + j * 17) % 23) as f64 / 7.0 + (i == j) as u8 as f64
    });
    let v: Vec<f64> = (0..13).map(|i| 1.0 + (i % 4) as f64).collect();
    let (qp_us, w_qp) = time(200, || simplex_weights(&xs, &v).expect("qp"));
    let (as_ms, w_as) = time(20000, || {
        let mut w = vec![0.0; 16];
        simplex_ls::solve(
            xs.as_slice(),
            13,
            &v,
            &mut w,
            &mut simplex_ls::Workspace::default(),
        )
        .expect("active set");
        w
    });
    let diff = w_qp
        .iter()
        .zip(&w_as)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    println!(
        "inner W solve 16 donors x 13 predictors: interior-point QP {:.1} us, active set (cold) {:.2} us; max |w difference| {diff:.1e}",
        qp_us * 1000.0,
        as_ms * 1000.0
    );

    let large = generated_panel(1741, 40, 3);
    let mut predictors: Vec<PredictorSpec> = ["x1", "x2", "x3"]
        .iter()
        .map(|c| PredictorSpec::parse(&format!("{c}:2000-2029")).expect("spec"))
        .collect();
    predictors.push(PredictorSpec::parse("y:2000-2014").expect("spec"));
    predictors.push(PredictorSpec::parse("y:2015-2029").expect("spec"));
    let spec = SynthSpec {
        treated: "U0000".into(),
        treatment_time: 2030,
        predictors,
        v_search: VSearch::default(),
        ..Default::default()
    };
    let (ms, r) = time(3, || synthetic_control(&large, &spec).expect("large synth"));
    let nonzero = r.weights.iter().filter(|w| w.weight > 1e-4).count();
    println!(
        "synth 1,741 donors x 5 predictors (nested V search): {ms:.0} ms per fit (target < 1000 ms); {nonzero} donors > 1e-4, fit MSPE {:.4}; {}",
        r.fit_mspe, r.v_method
    );
}
