//! The budget what-if through the service (`citykpi_app::whatif::run`, what
//! the web page, the API and `citykpi optimise` call) on a demo city in a
//! SQLite file, large enough for about 2,000 programs in the budget year,
//! each offered up to four options (`expand_all`: abolish, reduce, keep,
//! expand; mandatory programs cannot be abolished). The budget is 3 % below
//! the requests and at most two abolitions per department are allowed, so
//! the budget and the ceilings bind. Prints the size of the problem, the
//! service's wall time (reading the records included) and the optimiser's
//! (the plan, the budget's and every ceiling's shadow price).
//!
//!   cargo bench -p citykpi-app --bench whatif

use std::time::Instant;

use citykpi_app::whatif::{self, Rules};
use citykpi_domain::FiscalYear;
use citykpi_store::Store;

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let dir = tempfile::tempdir().expect("temporary directory");
        let store = Store::open(dir.path().join("whatif.db").to_str().expect("path"))
            .await
            .expect("open SQLite");
        // The demo's running cycle builds the budget of 2026.
        let fy = FiscalYear::new(2026).expect("year");
        let target = 2_000usize;
        citykpi_app::demo::build_demo(&store, 1, 42, citykpi_app::demo::reference_day()).await.expect("demo");
        let per_scale = whatif::problem(&store, fy, &rules(&store, fy).await)
            .await
            .expect("problem")
            .programs
            .len();
        let scale = target.div_ceil(per_scale.max(1)).max(1) as u32;
        if scale > 1 {
            citykpi_app::demo::build_demo(&store, scale, 42, citykpi_app::demo::reference_day())
                .await
                .expect("demo");
        }
        let rules = rules(&store, fy).await;
        let p = whatif::problem(&store, fy, &rules).await.expect("problem");
        let options: usize = p.programs.iter().map(|c| c.options.len()).sum();
        let four = p.programs.iter().filter(|c| c.options.len() == 4).count();
        println!(
            "demo scale {scale}: {} programs ({four} with 4 options, {:.2} options each), {} ceilings",
            p.programs.len(),
            options as f64 / p.programs.len() as f64,
            p.department_ceilings.len()
        );
        for run in 0..5 {
            let start = Instant::now();
            let out = whatif::run(&store, fy, &rules).await.expect("what-if");
            println!(
                "run {run}: service {:.3} s, optimiser {:.3} s, proven {}, gap {:.1e}, changed {}, objective {:.6}",
                start.elapsed().as_secs_f64(),
                out.solve_seconds,
                out.proven_optimal,
                out.relative_gap,
                out.changed().count(),
                out.optimal_contribution
            );
        }
    });
}

async fn rules(store: &Store, fy: FiscalYear) -> Rules {
    let defaults = whatif::default_rules(store, fy).await.expect("defaults");
    Rules {
        budget_yen: defaults.budget_yen / 100 * 97,
        max_abolitions: Some(2),
        expand_all: true,
        ..defaults
    }
}
