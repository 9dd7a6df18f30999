//! The evidence service on stored data, on a real SQLite file and a real
//! PostgreSQL database holding the demo city (its comparable KPIs carry six
//! peer municipalities' values): the result on the stored data equals the
//! engine's result on the same numbers handed over as a CSV panel, a bad
//! design is refused with its reason, and a saved result is evidence on the
//! program–KPI link.

mod common;

use citykpi_analytics::panel::{Panel, PanelSpec};
use citykpi_app::evidence::engine::{self, DidInput, SynthInput};
use citykpi_app::evidence::{EvidenceError, EvidenceReport, Method, StoredRequest, stored};
use citykpi_domain::observation::{ObsValue, Period};
use citykpi_store::ObservationFilter;
use common::Db;

/// The demo's total fertility rate: a comparable KPI with peer values.
const KPI_NAME: &str = "合計特殊出生率";

async fn evidence_on_stored_data(postgres: bool) {
    let db = Db::open(postgres).await;
    let s = &db.store;
    let as_of = citykpi_app::demo::reference_day();
    citykpi_app::demo::build_demo(s, 1, citykpi_app::demo::DEFAULT_SEED, as_of)
        .await
        .unwrap();
    let kpi = s
        .kpis()
        .await
        .unwrap()
        .into_iter()
        .find(|k| k.name_ja == KPI_NAME)
        .expect("the demo has the fertility KPI");
    let program = s
        .links()
        .await
        .unwrap()
        .into_iter()
        .find(|l| l.kpi_code == kpi.code)
        .expect("a program serves it")
        .program_code;

    // The choices: the city and six peers, all with values.
    let choices = stored::choices(s, &kpi.code, Some(&program)).await.unwrap();
    assert_eq!(choices.city.code, "271403");
    assert_eq!(choices.units.len(), 6, "{:?}", choices.units);
    assert!(choices.units.iter().any(|u| u.name == "大阪市"));
    let first = *choices.years.first().unwrap();
    let treatment = first + 5;

    let req = StoredRequest {
        kpi: kpi.code.clone(),
        method: Method::Synth,
        program: Some(program.clone()),
        treatment_year: Some(treatment),
        units: Vec::new(),
        predictors: Vec::new(),
        placebos: true,
        drop_incomplete_donors: false,
    };
    let run = stored::run(s, &req).await.unwrap();
    assert_eq!(run.units.len(), 6);
    assert_eq!(run.treatment_year, treatment);

    // The same numbers as a CSV panel straight into the engine.
    let obs = s
        .observations(&ObservationFilter::all().kpis([kpi.code.as_str()]))
        .await
        .unwrap();
    let mut csv = String::from("area,year,y\n");
    for o in &obs {
        if let (Period::Year(fy), ObsValue::Value(v)) = (o.period, &o.value) {
            csv.push_str(&format!("{},{},{v}\n", o.area_code, fy.year()));
        }
    }
    let panel = Panel::from_csv_str(
        &csv,
        &PanelSpec {
            unit: "area".into(),
            time: "year".into(),
            outcome: "y".into(),
            columns: None,
        },
    )
    .unwrap();
    let direct = engine::synth(
        &panel,
        &SynthInput {
            treated: "271403".into(),
            treatment_time: i64::from(treatment),
            placebos: true,
            ..Default::default()
        },
    );
    let (EvidenceReport::Synth(a), Ok(b)) = (&run.report, &direct) else {
        panic!("synth on both: {:?} / {direct:?}", run.report)
    };
    assert_eq!(a.estimate, b.estimate);
    assert_eq!(a.weights, b.weights);
    assert_eq!(a.path, b.path);
    assert_eq!(
        a.placebos.as_ref().unwrap().rank,
        b.placebos.as_ref().unwrap().rank
    );
    assert!((a.weights.values().sum::<f64>() - 1.0).abs() < 1e-6);
    assert!(run.summary_ja.contains(KPI_NAME), "{}", run.summary_ja);
    assert!(run.summary_ja.contains("位"), "{}", run.summary_ja);

    // DiD on the same stored data = the engine's on the CSV panel.
    let did_req = StoredRequest {
        method: Method::Did,
        ..req.clone()
    };
    let did_run = stored::run(s, &did_req).await.unwrap();
    let did_direct = engine::did(
        &panel,
        &DidInput {
            treated: vec!["271403".into()],
            treatment_time: i64::from(treatment),
            exclude: Vec::new(),
            cluster: true,
        },
    )
    .unwrap();
    assert!((did_run.report.estimate() - did_direct.estimate).abs() < 1e-9);
    assert_eq!(did_run.report.interval().unwrap().level, 0.95);

    // A bad design: one year before the treatment is refused with the reason.
    let bad = StoredRequest {
        treatment_year: Some(first + 1),
        ..req.clone()
    };
    match stored::run(s, &bad).await {
        Err(e @ EvidenceError::TooFewPrePeriods { have: 1, need: 3 }) => {
            assert_eq!(e.field(), "treatment_year");
            assert!(e.to_string().contains("介入前"), "{e}");
        }
        other => panic!("expected too few pre-periods, got {other:?}"),
    }
    // A comparison area with no values for the KPI is named.
    let unknown = StoredRequest {
        units: vec!["011002".into(), "271004".into()],
        ..req.clone()
    };
    let e = stored::run(s, &unknown).await.unwrap_err();
    assert_eq!(e.field(), "units");
    assert!(e.to_string().contains("011002"), "{e}");

    // Saved: evidence on the link, with the method's grade and the data named.
    let (id, saved_run, ev) = stored::run_and_save(s, &req, None, "workbench test", "tester")
        .await
        .unwrap();
    assert_eq!(ev.estimate, saved_run.report.estimate());
    let on_kpi = citykpi_app::evidence::for_kpi(s, &kpi.code).await.unwrap();
    let row = on_kpi.iter().find(|r| r.id == id).expect("saved");
    assert_eq!(row.evidence.program_code, program);
    assert_eq!(row.evidence.grade.letter(), 'A');
    assert_eq!(row.recorded_by, "tester");
    assert!(
        row.evidence.data.contains("大阪市"),
        "{}",
        row.evidence.data
    );
    assert_eq!(row.evidence.p_value, a.p_value);
    // Without a program there is no link to save on.
    let no_program = StoredRequest {
        program: None,
        ..req.clone()
    };
    let e = stored::run_and_save(s, &no_program, None, "", "tester")
        .await
        .unwrap_err();
    assert_eq!(e.field(), "program");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evidence_on_stored_data_sqlite() {
    evidence_on_stored_data(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evidence_on_stored_data_postgres() {
    evidence_on_stored_data(true).await;
}
