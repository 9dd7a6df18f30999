//! Time of `Store::apply` for the demo city (all kinds; scale from
//! CITYKPI_BENCH_SCALE, default 1) on SQLite and PostgreSQL, fresh and re-applied.
//!
//! Run: `cargo bench -p citykpi-store --bench apply_demo`.

use std::time::Instant;

use citykpi_demo::{DemoOptions, generate};
use citykpi_store::Store;
use sqlx::Connection;

async fn measure(label: &str, store: &Store, scale: u32) -> Result<(), Box<dyn std::error::Error>> {
    let ds = generate(&DemoOptions {
        scale,
        ..DemoOptions::default()
    });
    let counts: Vec<String> = ds
        .counts()
        .iter()
        .map(|(k, n)| format!("{k} {n}"))
        .collect();
    println!("{label}: demo scale {scale}: {}", counts.join(", "));
    for pass in ["fresh", "re-apply"] {
        let start = Instant::now();
        let summary = store.apply(&ds, "bench").await?;
        println!(
            "{label:<10} {pass:<9} {:>6.2} s  (inserted {}, updated {}, unchanged {})",
            start.elapsed().as_secs_f64(),
            summary.inserted(),
            summary.updated(),
            summary.unchanged()
        );
    }
    Ok(())
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let scale: u32 = std::env::var("CITYKPI_BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("bench.db");
    let store = Store::open(path.to_str().ok_or("temporary path is not UTF-8")?).await?;
    measure("sqlite", &store, scale).await?;
    store.close().await;

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
        let r = measure("postgres", &store, scale).await;
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
