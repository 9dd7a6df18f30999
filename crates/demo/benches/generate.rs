//! Times `generate` at scale 1 and 10 (`cargo bench -p citykpi-demo`).
//! A plain harness: the numbers to watch are "well under 1 s" and "a few
//! seconds", not nanoseconds.

use std::time::Instant;

use citykpi_demo::{DemoOptions, generate};

fn main() {
    for scale in [1u32, 10] {
        let opts = DemoOptions {
            scale,
            ..DemoOptions::default()
        };
        // One warm-up run so that allocation and page faults of the first run
        // do not count.
        let _ = generate(&opts);
        let runs = if scale == 1 { 5 } else { 2 };
        let mut best = f64::INFINITY;
        let mut ds = None;
        for _ in 0..runs {
            let t = Instant::now();
            let d = generate(&opts);
            best = best.min(t.elapsed().as_secs_f64());
            ds = Some(d);
        }
        let counts = ds.map(|d| d.counts()).unwrap_or_default();
        let summary: Vec<String> = counts.iter().map(|(k, n)| format!("{k}={n}")).collect();
        println!(
            "scale {scale:>2}: best of {runs}: {:.1} ms  [{}]",
            best * 1000.0,
            summary.join(" ")
        );
    }
}
