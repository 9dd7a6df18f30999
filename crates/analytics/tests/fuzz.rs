//! Fuzzing of the statistics parsers (e-Stat getStatsData JSON, SDMX-CSV 2.0)
//! with random and mutated inputs: no input panics, and every refusal says
//! where: the value number (e-Stat), the missing field, the JSON line and
//! column, or the CSV line and missing column (SDMX).
//!
//! CI runs 2,000 inputs per parser; `CITYKPI_FUZZ_CASES=1000000` (see
//! bench/reliability/fuzz.sh) runs as many as asked. The generator is a
//! seeded xorshift, so every failure reproduces from its case number.

use std::time::Instant;

use citykpi_analytics::estat::{EstatError, parse_get_stats_data};
use citykpi_analytics::sdmx::{SdmxError, parse_sdmx_csv};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn cases() -> usize {
    std::env::var("CITYKPI_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000)
}

const TOKENS: &[&str] = &[
    ",",
    "\"",
    "\n",
    "{",
    "}",
    "[",
    "]",
    ":",
    "null",
    "true",
    "-",
    "***",
    "…",
    "X",
    "1e309",
    "\"$\"",
    "\"@time\"",
    "\"VALUE\"",
    "\"NEXT_KEY\"",
    "\"CLASS_OBJ\"",
    "\"@id\"",
    "[]",
    "{}",
    "-1",
    "18446744073709551616",
    "I",
    "D",
    "R",
    "dataflow",
    "OBS_VALUE",
    "TIME_PERIOD",
    "REF_AREA",
    "2020",
    "271403: Sakai-shi",
    "\\u0000",
    "\u{feff}",
];

fn mutate(rng: &mut Rng, seed: &[u8]) -> String {
    let mut b = seed.to_vec();
    for _ in 0..1 + rng.below(3) {
        let len = b.len();
        match rng.below(5) {
            0 if len > 0 => {
                let at = rng.below(len);
                b[at] = rng.next() as u8;
            }
            1 if len > 0 => {
                let at = rng.below(len);
                let n = rng.below((len - at).min(64) + 1);
                b.drain(at..at + n);
            }
            2 if len > 0 => {
                let at = rng.below(len);
                let n = rng.below((len - at).min(64) + 1);
                let piece: Vec<u8> = b[at..at + n].to_vec();
                let to = rng.below(b.len() + 1);
                b.splice(to..to, piece);
            }
            3 => b.truncate(rng.below(len + 1)),
            _ => {
                let t = TOKENS[rng.below(TOKENS.len())].as_bytes();
                let to = rng.below(len + 1);
                b.splice(to..to, t.iter().copied());
            }
        }
    }
    String::from_utf8_lossy(&b).into_owned()
}

fn random_text(rng: &mut Rng) -> String {
    (0..rng.below(80))
        .map(|_| TOKENS[rng.below(TOKENS.len())])
        .collect()
}

fn seed(path: &str) -> Vec<u8> {
    std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap()
}

fn report(name: &str, inputs: usize, accepted: usize, secs: f64) {
    println!(
        "FUZZ {name}: {inputs} inputs in {secs:.1} s ({:.0}/s): 0 panics; accepted {accepted}, refused with the place named {}",
        inputs as f64 / secs.max(1e-9),
        inputs - accepted
    );
}

#[test]
fn fuzz_estat() {
    let seed = seed("../../testdata/estat/getStatsData_0000020202_sample.json");
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let (n, start) = (cases(), Instant::now());
    let mut accepted = 0;
    for case in 0..n {
        let text = if case % 10 == 0 {
            random_text(&mut rng)
        } else {
            mutate(&mut rng, &seed)
        };
        let r = std::panic::catch_unwind(|| parse_get_stats_data(&text));
        let Ok(r) = r else {
            panic!("case {case}: panic on {} bytes", text.len())
        };
        match r {
            Ok(_) => accepted += 1,
            Err(e) => {
                match &e {
                    EstatError::Value { position, .. } | EstatError::NoCell { position } => {
                        assert!(*position >= 1, "case {case}: {e}")
                    }
                    EstatError::Shape(field) => assert!(!field.is_empty(), "case {case}: {e}"),
                    EstatError::Json(msg) => {
                        assert!(
                            msg.contains("line") && msg.contains("column"),
                            "case {case}: {e}"
                        )
                    }
                    EstatError::Api { .. } | EstatError::PagingStuck { .. } => {}
                }
                assert!(!e.to_string().trim().is_empty());
            }
        }
    }
    report(
        "e-Stat getStatsData JSON",
        n,
        accepted,
        start.elapsed().as_secs_f64(),
    );
}

#[test]
fn fuzz_sdmx() {
    let seed = seed("tests/fixtures/sdmx_csv_2_0_sample.csv");
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let (n, start) = (cases(), Instant::now());
    let mut accepted = 0;
    for case in 0..n {
        let text = if case % 10 == 0 {
            random_text(&mut rng)
        } else {
            mutate(&mut rng, &seed)
        };
        let r = std::panic::catch_unwind(|| parse_sdmx_csv(&text));
        let Ok(r) = r else {
            panic!("case {case}: panic on {} bytes", text.len())
        };
        match r {
            Ok(_) => accepted += 1,
            Err(e) => match &e {
                SdmxError::Csv { line, reason } | SdmxError::Row { line, reason } => {
                    assert!(*line >= 1 && !reason.is_empty(), "case {case}: {e}")
                }
                SdmxError::MissingColumn(col) => assert!(!col.is_empty(), "case {case}: {e}"),
            },
        }
    }
    report("SDMX-CSV 2.0", n, accepted, start.elapsed().as_secs_f64());
}
