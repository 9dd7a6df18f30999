//! The cycle reads only the years it computes from (indicators and money of
//! a few years, not the whole history). On the demo city in a real SQLite
//! file, everything it computes from that read equals the computation over
//! the full data, for every evaluated year of the demo's history.

use citykpi_app::cycle::{CycleYear, recompute, restructure_of};
use citykpi_app::status::compute_status;
use citykpi_domain::FiscalYear;
use citykpi_store::Store;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recompute_from_its_years_equals_the_full_computation() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("cycle.db").to_str().unwrap())
        .await
        .unwrap();
    citykpi_app::demo::build_demo(
        &store,
        1,
        citykpi_app::demo::DEFAULT_SEED,
        citykpi_app::demo::reference_day(),
    )
    .await
    .unwrap();
    let full = store.load_all().await.unwrap();
    let years: Vec<FiscalYear> = {
        let mut y: Vec<_> = full.money.iter().map(|m| m.fy).collect();
        y.sort();
        y.dedup();
        y
    };
    assert!(years.len() >= 4, "the demo has a history: {years:?}");
    let mut flagged = 0;
    for fy in years {
        let r = recompute(&store, fy).await.unwrap();
        let want = restructure_of(&full, fy);
        assert_eq!(r.restructure, want, "restructuring list of {fy:?}");
        flagged += want.len();

        // The compiled budget and the status, from the full data.
        let area = citykpi_app::status::city_code(&store)
            .await
            .unwrap()
            .unwrap();
        let report = compute_status(
            fy,
            area,
            &full.plans,
            &full.plan_nodes,
            &full.kpis,
            &full.observations,
        );
        let records = citykpi_app::cycle::CycleRecords::load(&store, fy)
            .await
            .unwrap();
        let year = CycleYear::compute(&full, &report, records);
        assert_eq!(r.compiled, year.compiled, "compiled budget of {fy:?}");
        assert_eq!(
            serde_json::to_value(&r.status).unwrap(),
            serde_json::to_value(&year.status).unwrap(),
            "status of {fy:?}"
        );
    }
    assert!(flagged > 0, "some programs are flagged in the demo");
}
