//! Serves the demo city for benchmarks and manual checks, until the CLI's
//! `citykpi serve --demo` is the way:
//!
//! cargo run --release -p citykpi-web --example serve_demo -- [--addr 127.0.0.1:8080] [--scale 1] [--db PATH]
//!
//! Without `--db` the database is a SQLite file in a temporary directory.

use std::net::SocketAddr;

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr: SocketAddr = arg("--addr")
        .unwrap_or_else(|| "127.0.0.1:8080".into())
        .parse()?;
    let scale: u32 = arg("--scale").map(|s| s.parse()).transpose()?.unwrap_or(1);
    let dir = tempfile::tempdir()?;
    let db = arg("--db").unwrap_or_else(|| dir.path().join("citykpi.db").display().to_string());
    let store = citykpi_store::Store::open(&db).await?;
    let demo =
        citykpi_app::demo::build_demo(&store, scale, 42, citykpi_app::clock::today()).await?;
    println!(
        "demo city (scale {scale}) in {db}; password of every demo user: {}",
        demo.password
    );
    citykpi_web::serve(store, addr).await?;
    Ok(())
}
