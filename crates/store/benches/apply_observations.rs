//! Throughput of `Store::apply` for 1,000,000 observations on SQLite (a file
//! in a temporary directory) and PostgreSQL (a fresh database on
//! CITYKPI_BENCH_PG_URL, default postgres://postgres@127.0.0.1:5432/postgres,
//! dropped afterwards). Three passes each: into an empty table, re-applying
//! with every value changed, and re-applying unchanged.
//!
//! Run: `cargo bench -p citykpi-store` (rows: CITYKPI_BENCH_ROWS; one backend:
//! CITYKPI_BENCH_BACKEND=sqlite|postgres).

use std::time::Instant;

use citykpi_domain::Dataset;
use citykpi_domain::kpi::{Direction, Frequency, Kpi};
use citykpi_domain::observation::{ObsStatus, ObsValue, Observation, Period};
use citykpi_domain::org::{Department, Section};
use citykpi_store::Store;
use sqlx::Connection;

const KPIS: usize = 100;
const MONTHS: usize = 120;

fn base() -> Dataset {
    let kpis = (0..KPIS)
        .map(|i| Kpi {
            code: format!("K{i:04}"),
            name_ja: format!("指標{i}"),
            name_en: String::new(),
            unit: "件".into(),
            direction: Direction::HigherIsBetter,
            frequency: Frequency::Monthly,
            baseline: None,
            targets: vec![],
            final_target: None,
            source: String::new(),
            publication_lag_years: 0,
            description: String::new(),
            owner_sections: vec!["S01".into()],
            nodes: vec![],
            sdgs: vec![],
            published: true,
            status_basis: None,
        })
        .collect();
    Dataset {
        departments: vec![Department {
            code: "D01".into(),
            name_ja: "市長公室".into(),
            name_en: String::new(),
            sort_order: 1,
        }],
        sections: vec![Section {
            code: "S01".into(),
            department_code: "D01".into(),
            name_ja: "政策企画課".into(),
            name_en: String::new(),
            sort_order: 1,
        }],
        kpis,
        ..Dataset::default()
    }
}

/// `n` observations: KPI × month × area, in an order unlike the primary key's.
fn observations(n: usize, salt: u64) -> Vec<Observation> {
    let areas = n.div_ceil(KPIS * MONTHS);
    (0..n)
        .map(|i| {
            let area = i % areas;
            let month = (i / areas) % MONTHS;
            let kpi = i / (areas * MONTHS);
            let value = match i % 50 {
                7 => ObsValue::Missing,
                13 => ObsValue::Secret,
                _ => ObsValue::Value(((i as u64 * 7919 + salt) % 100_000) as f64 / 4.0),
            };
            Observation {
                kpi_code: format!("K{kpi:04}"),
                period: Period::Month(2015 + (month / 12) as i32, (month % 12) as u8 + 1),
                area_code: format!("{:06}", 271_000 + area),
                value,
                status: if i % 9 == 0 {
                    ObsStatus::Provisional
                } else {
                    ObsStatus::Final
                },
                source: "e-Stat".into(),
                note: String::new(),
                entered_by: "import".into(),
                entered_at: "2025-07-01T00:00:00.000Z".into(),
                confirmed_by: String::new(),
                confirmed_at: String::new(),
            }
        })
        .collect()
}

async fn measure(
    label: &str,
    store: &Store,
    rows: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    store.apply(&base(), "bench").await?;
    for (pass, salt) in [
        ("empty table", 1),
        ("all values changed", 2),
        ("unchanged", 2),
    ] {
        let ds = Dataset {
            observations: observations(rows, salt),
            ..Dataset::default()
        };
        let start = Instant::now();
        let summary = store.apply(&ds, "bench").await?;
        let secs = start.elapsed().as_secs_f64();
        let c = summary.observations;
        println!(
            "{label:<10} {pass:<20} {rows:>9} rows in {secs:>6.2} s = {:>9.0} rows/s  (inserted {}, updated {}, unchanged {})",
            rows as f64 / secs,
            c.inserted,
            c.updated,
            c.unchanged
        );
    }
    Ok(())
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let rows: usize = std::env::var("CITYKPI_BENCH_ROWS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);

    let only = std::env::var("CITYKPI_BENCH_BACKEND").unwrap_or_default();
    if only != "postgres" {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("bench.db");
        let store = Store::open(path.to_str().ok_or("temporary path is not UTF-8")?).await?;
        measure("sqlite", &store, rows).await?;
        store.close().await;
    }
    if only == "sqlite" {
        return Ok(());
    }

    let admin_url = std::env::var("CITYKPI_BENCH_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string());
    let name = format!("citykpi_bench_{:016x}", rand::random::<u64>());
    let mut admin = sqlx::PgConnection::connect(&admin_url)
        .await
        .map_err(|e| format!("PostgreSQL at {admin_url} did not answer: {e}"))?;
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await?;
    let url = match admin_url.rfind('/') {
        Some(i) => format!("{}/{name}", &admin_url[..i]),
        None => format!("{admin_url}/{name}"),
    };
    let result = async {
        let store = Store::open(&url).await?;
        let r = measure("postgres", &store, rows).await;
        store.close().await;
        r
    }
    .await;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut admin)
        .await?;
    result
}

fn main() {
    // `cargo bench` passes --bench; a filter argument is ignored.
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = rt.block_on(run()) {
        eprintln!("benchmark failed: {e}");
        std::process::exit(1);
    }
}
