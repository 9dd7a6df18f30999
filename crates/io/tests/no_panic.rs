//! No input may panic: random bytes, truncated files and byte flips of real
//! files in every format must come back as Ok or Err.

mod common;

use citykpi_domain::Kind;
use citykpi_io::{Format, HeaderLang, read_bytes, write, write_dataset_json};

/// A small deterministic generator (xorshift), so failures reproduce.
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

fn feed(name: &str, bytes: &[u8], known: &citykpi_domain::KnownKeys) {
    let r = std::panic::catch_unwind(|| {
        let _ = read_bytes(name, bytes, None, None, known);
        let _ = read_bytes(name, bytes, None, Some(Kind::Observations), known);
        let _ = read_bytes(name, bytes, None, Some(Kind::Plans), known);
    });
    assert!(
        r.is_ok(),
        "panic on {name} ({} bytes): {:?}",
        bytes.len(),
        &bytes[..bytes.len().min(64)]
    );
}

#[test]
fn random_bytes_never_panic() {
    let known = common::known(&common::city());
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    // Alphabets that reach deep into the parsers: raw bytes, CSV-ish text, JSON-ish text.
    let csvish = "K-001,2024,R6,令和,△,１,X,-,\"\n\r;:*.%年度値KPIコード年度実績値事業コード計画コード体系コード上位コード階層名称";
    let csv_chars: Vec<char> = csvish.chars().collect();
    let jsonish: Vec<char> = "{}[]\":,0123456789.-eE truefalsnul\\kpi_codeperiodvalue"
        .chars()
        .collect();
    for i in 0..2000 {
        let len = rng.below(400);
        let bytes: Vec<u8> = match i % 3 {
            0 => (0..len).map(|_| rng.next() as u8).collect(),
            1 => (0..len)
                .map(|_| csv_chars[rng.below(csv_chars.len())])
                .collect::<String>()
                .into_bytes(),
            _ => (0..len)
                .map(|_| jsonish[rng.below(jsonish.len())])
                .collect::<String>()
                .into_bytes(),
        };
        for name in ["r.csv", "r.json", "r.xlsx"] {
            feed(name, &bytes, &known);
        }
    }
}

#[test]
fn truncated_and_mutated_real_files_never_panic() {
    let ds = common::city();
    let known = common::known(&ds);
    let mut rng = Rng(42);
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for kind in Kind::ALL {
        for format in [Format::Csv, Format::Xlsx, Format::Json] {
            let name = format!("{}.{}", kind.as_str(), format.extension());
            files.push((name, write(kind, &ds, format, HeaderLang::Ja).unwrap()));
        }
    }
    files.push(("all.json".into(), write_dataset_json(&ds)));
    for dir in [
        "tests/fixtures/observations_cp932.csv",
        "tests/fixtures/kpi_observations.xlsx",
    ] {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        files.push((name, std::fs::read(path).unwrap()));
    }
    for (name, bytes) in &files {
        // A spread of truncation points (every byte near the start, where
        // headers and magic numbers are).
        let step = (bytes.len() / 400).max(1);
        for cut in 0..bytes.len().min(64) {
            feed(name, &bytes[..cut], &known);
        }
        for cut in (0..bytes.len()).step_by(step) {
            feed(name, &bytes[..cut], &known);
        }
        // Random byte flips.
        for _ in 0..60 {
            let mut b = bytes.clone();
            for _ in 0..1 + rng.below(4) {
                let at = rng.below(b.len());
                b[at] = rng.next() as u8;
            }
            feed(name, &b, &known);
        }
    }
}
