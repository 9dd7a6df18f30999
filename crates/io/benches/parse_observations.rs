//! Parse speed of a large observations CSV: generates 1,000,000 rows into a
//! temporary file, then times `read_file` (decode + parse + key and reference
//! checks; no database). Run: `cargo bench -p citykpi-io --bench parse_observations`.

use std::io::Write;
use std::time::Instant;

use citykpi_io::{Kind, KnownKeys, read_file};

const ROWS: usize = 1_000_000;
const KPIS: usize = 500;

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("observations.csv");
    let mut known = KnownKeys::default();
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path).expect("create"));
        f.write_all("\u{feff}KPIコード,年度,地域コード,値,状態,出典,備考\r\n".as_bytes())
            .expect("write");
        // 500 KPIs × 50 years × 40 areas = 1,000,000 distinct keys.
        let mut n = 0;
        'outer: for k in 0..KPIS {
            let code = format!("K-{k:04}");
            known.kpis.insert(code.clone());
            for area in 0..40 {
                for y in 0..50 {
                    let value = match n % 97 {
                        0 => "-".to_string(),
                        1 => "X".to_string(),
                        _ => format!("{}.{}", (n * 7919) % 100_000, n % 10),
                    };
                    let status = if y == 49 { "provisional" } else { "final" };
                    writeln!(
                        f,
                        "{code},{},{:06},{value},{status},統計調査,\r",
                        1980 + y,
                        11_000 + area
                    )
                    .expect("write");
                    n += 1;
                    if n == ROWS {
                        break 'outer;
                    }
                }
            }
        }
        f.flush().expect("flush");
    }
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let mut best = f64::MAX;
    for round in 0..3 {
        let start = Instant::now();
        let outcome = read_file(&path, None, &known).expect("import");
        let secs = start.elapsed().as_secs_f64();
        assert_eq!(outcome.kind, Some(Kind::Observations));
        assert_eq!(outcome.dataset.observations.len(), ROWS);
        println!(
            "round {}: {} rows ({:.1} MB) in {:.3} s = {:.0} rows/s",
            round + 1,
            ROWS,
            size as f64 / 1e6,
            secs,
            ROWS as f64 / secs
        );
        best = best.min(secs);
    }
    println!("best: {:.0} rows/s", ROWS as f64 / best);
}
