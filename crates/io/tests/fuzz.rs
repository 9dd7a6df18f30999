//! Fuzzing of the file parsers (CSV, XLSX, JSON) with random and mutated
//! inputs: no input panics, and every rejected file is refused with a report
//! that names its file and, for each problem, the row and/or column (a
//! problem of the whole file, such as an unreadable ZIP, names neither).
//!
//! CI runs 2,000 inputs per format; `CITYKPI_FUZZ_CASES=1000000` (see
//! bench/reliability/fuzz.sh) runs as many as asked. The generator is a
//! seeded xorshift, so every failure reproduces from its case number.

mod common;

use std::time::Instant;

use citykpi_domain::Kind;
use citykpi_io::{Format, HeaderLang, ImportError, read_bytes, write, write_dataset_json};

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

/// Pieces that reach deep into the parsers when spliced into a real file.
const TOKENS: &[&str] = &[
    ",",
    "\"",
    "\n",
    "\r\n",
    "\u{feff}",
    "{",
    "}",
    "[",
    "]",
    ":",
    "null",
    "true",
    "-",
    "X",
    "△",
    "１２",
    "R6",
    "令和6年度",
    "2024Q5",
    "2024-13",
    "1e309",
    "NaN",
    "-0",
    "999999999999999999999",
    "\"kpi_code\"",
    "\"value\"",
    "K-001",
    "=1+1",
    "\u{0}",
    "\\u0000",
    "年度",
    "値",
    "KPIコード",
];

/// One mutation of `seed`: byte flips, a cut, a deleted or repeated range,
/// or a token spliced in.
fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut b = seed.to_vec();
    for _ in 0..1 + rng.below(3) {
        let len = b.len();
        match rng.below(6) {
            0 if len > 0 => {
                let at = rng.below(len);
                b[at] = rng.next() as u8;
            }
            1 => b.truncate(rng.below(len + 1)),
            2 if len > 0 => {
                let at = rng.below(len);
                let n = rng.below((len - at).min(64) + 1);
                b.drain(at..at + n);
            }
            3 if len > 0 => {
                let at = rng.below(len);
                let n = rng.below((len - at).min(64) + 1);
                let piece: Vec<u8> = b[at..at + n].to_vec();
                let to = rng.below(b.len() + 1);
                b.splice(to..to, piece);
            }
            _ => {
                let t = TOKENS[rng.below(TOKENS.len())].as_bytes();
                let to = rng.below(len + 1);
                b.splice(to..to, t.iter().copied());
            }
        }
    }
    b
}

#[derive(Default, Debug)]
struct Tally {
    inputs: usize,
    accepted: usize,
    rejected_naming_row_or_column: usize,
    rejected_whole_file: usize,
}

/// Feeds one input; panics (failing the test) on a panic inside the parser
/// or on a refusal that does not say where.
fn feed(name: &str, bytes: &[u8], known: &citykpi_domain::KnownKeys, case: usize, t: &mut Tally) {
    t.inputs += 1;
    let r = std::panic::catch_unwind(|| read_bytes(name, bytes, None, None, known));
    let Ok(r) = r else {
        panic!("case {case}: panic on {name} ({} bytes)", bytes.len());
    };
    match r {
        Ok(_) => t.accepted += 1,
        Err(ImportError::Invalid(report)) => {
            assert!(
                report.total() > 0,
                "case {case}: a refusal without a problem"
            );
            assert_eq!(report.file, name, "case {case}");
            let mut placed = false;
            for p in &report.problems {
                assert!(!p.reason.trim().is_empty(), "case {case}: {p:?}");
                assert!(p.row != Some(0), "case {case}: row 0 in {p:?}");
                assert!(
                    p.column.as_deref().is_none_or(|c| !c.is_empty()),
                    "case {case}: empty column name in {p:?}"
                );
                placed |= p.row.is_some() || p.column.is_some();
            }
            if placed {
                t.rejected_naming_row_or_column += 1;
            } else {
                t.rejected_whole_file += 1;
            }
        }
        Err(e) => {
            let msg = e.to_string();
            assert!(
                msg.contains(name),
                "case {case}: {msg} does not name the file"
            );
            t.rejected_whole_file += 1;
        }
    }
}

fn fuzz(format: Format) {
    let ds = common::city();
    let known = common::known(&ds);
    let name = format!("fuzz.{}", format.extension());
    let mut seeds: Vec<Vec<u8>> = Kind::ALL
        .iter()
        .map(|k| write(*k, &ds, format, HeaderLang::Ja).unwrap())
        .collect();
    if format == Format::Json {
        seeds.push(write_dataset_json(&ds));
    }
    let mut rng = Rng(match format {
        Format::Csv => 0x9E37_79B9_7F4A_7C15,
        Format::Xlsx => 0x2545_F491_4F6C_DD1D,
        Format::Json => 0x1234_5678_9ABC_DEF1,
    });
    let mut tally = Tally::default();
    let start = Instant::now();
    for case in 0..cases() {
        let bytes = if case % 10 == 0 {
            // Random text out of the tokens, now and then raw bytes.
            let mut b = Vec::new();
            for _ in 0..rng.below(60) {
                if rng.below(8) == 0 {
                    b.push(rng.next() as u8);
                } else {
                    b.extend_from_slice(TOKENS[rng.below(TOKENS.len())].as_bytes());
                }
            }
            b
        } else {
            let seed = &seeds[rng.below(seeds.len())];
            mutate(&mut rng, seed)
        };
        feed(&name, &bytes, &known, case, &mut tally);
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "FUZZ {name}: {} inputs in {secs:.1} s ({:.0}/s): 0 panics; accepted {}, refused naming row or column {}, refused as a whole file {}",
        tally.inputs,
        tally.inputs as f64 / secs.max(1e-9),
        tally.accepted,
        tally.rejected_naming_row_or_column,
        tally.rejected_whole_file
    );
}

#[test]
fn fuzz_csv() {
    fuzz(Format::Csv);
}

#[test]
fn fuzz_xlsx() {
    fuzz(Format::Xlsx);
}

#[test]
fn fuzz_json() {
    fuzz(Format::Json);
}
