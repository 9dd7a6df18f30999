//! Fuzzing of the NGSI-LD reader (`partner::ngsi::samples`: temporal
//! normalized and temporalValues answers, plain entities normalized and
//! keyValues, a broker's Notification) with random and mutated documents,
//! as the file parsers are fuzzed (crates/io/tests/fuzz.rs): no input
//! panics, the samples it accepts go through `monthly_means` and `aggregate`
//! without panicking, and every refusal says where: the place in the
//! document (`/0/NO2/3/value`), with entity and attribute when the problem
//! is in one, or for text that is not JSON the line and column.
//!
//! CI runs 2,000 documents; `CITYKPI_FUZZ_CASES=1000000` (see
//! bench/reliability/fuzz.sh) runs as many as asked. The generator is a
//! seeded xorshift, so every failure reproduces from its case number.

use std::time::Instant;

use citykpi_domain::partner::ngsi::{
    Aggregate, Granularity, NgsiError, aggregate, monthly_means, samples,
};

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

/// Answers of a broker in each shape the reader takes (ETSI GS CIM 009).
const SEEDS: &[&str] = &[
    r#"[{"id":"urn:ngsi-ld:AirQualityObserved:minato-rinkai-01","type":"AirQualityObserved",
  "NO2":[{"type":"Property","value":22.0,"observedAt":"2026-04-01T09:00:00Z","unitCode":"GQ"},
         {"type":"Property","value":26,"observedAt":"2026-04-02T09:00:00+09:00","unitCode":"GQ"}],
  "airQualityLevel":[{"type":"Property","value":"good","observedAt":"2026-04-01T09:00:00Z"}],
  "location":{"type":"GeoProperty","value":{"type":"Point","coordinates":[135.43,34.64]}},
  "@context":["https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"]}]"#,
    r#"{"id":"urn:ngsi-ld:Vehicle:minato-bus-3","type":"Vehicle",
  "passengers":{"type":"Property","values":[[12,"2026-04-01T08:00:00Z"],[31,"2026-04-01T17:30:00Z"]]},
  "speed":{"type":"Property","values":[[18.5,"2026-04-01T08:00:00Z"]]}}"#,
    r#"[{"id":"urn:ngsi-ld:ParkingSpot:p1","type":"ParkingSpot","dateObserved":{"@type":"DateTime","@value":"2026-05-03T10:00:00Z"},
  "occupancy":{"type":"Property","value":0.75,"unitCode":"P1"},"name":{"type":"Property","value":"東口"}}]"#,
    r#"[{"id":"urn:ngsi-ld:WeatherObserved:w1","type":"WeatherObserved","dateObserved":"2027-03-31T23:59:59+09:00","temperature":12.5,"pressure":1013}]"#,
    r#"{"id":"urn:ngsi-ld:Notification:1","type":"Notification","subscriptionId":"urn:ngsi-ld:Subscription:s1",
  "notifiedAt":"2026-06-01T00:00:00Z","data":[{"id":"urn:ngsi-ld:Counter:c1","type":"Counter",
  "visitors":{"type":"Property","value":431,"observedAt":"2026-05-31T23:00:00Z"}}]}"#,
];

/// Pieces that reach deep into the reader when spliced into a document.
const TOKENS: &[&str] = &[
    ",",
    "\"",
    "{",
    "}",
    "[",
    "]",
    ":",
    "null",
    "true",
    "-",
    "1e309",
    "-0",
    "NaN",
    "999999999999999999999",
    "\"value\"",
    "\"values\"",
    "\"observedAt\"",
    "\"dateObserved\"",
    "\"@value\"",
    "\"id\"",
    "\"type\"",
    "\"Notification\"",
    "\"data\"",
    "\"unitCode\"",
    "\"2026-02-30T00:00:00Z\"",
    "\"2026-04-01\"",
    "\"2026-04-01X\"",
    "\"令和8年\"",
    "\"\\u0000\"",
    "[[1,\"2026-04-01T00:00:00Z\"]]",
    "{\"type\":\"Property\",\"value\":1}",
    "\u{feff}",
    "市",
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
    samples: usize,
    refused_naming_the_place: usize,
    refused_not_json: usize,
}

/// Every problem says where: a place in the document, or (text that is not
/// JSON, a document that is neither entity nor array) the whole document
/// with the JSON line and column or the reason; a problem inside an entity
/// names the entity when it has an id, and the attribute when in one.
fn check_refusal(case: usize, doc: &str, e: &NgsiError, t: &mut Tally) {
    assert!(!e.0.is_empty(), "case {case}: a refusal without a problem");
    let message = e.to_string();
    for p in &e.0 {
        assert!(
            !p.ja.trim().is_empty() && !p.en.trim().is_empty(),
            "case {case}: {p:?}"
        );
        if p.at.is_empty() {
            let says_where = p.en.starts_with("not JSON") && p.en.contains(" line ");
            let whole = p.en.contains("neither an entity nor an array");
            assert!(
                says_where || whole,
                "case {case}: a problem without a place: {p:?} in {doc:?}"
            );
            assert!(message.contains(&p.en), "case {case}: {message}");
            continue;
        }
        assert!(p.at.starts_with('/'), "case {case}: {p:?}");
        assert!(
            message.contains(p.at.as_str()),
            "case {case}: the message does not name {}: {message}",
            p.at
        );
        let in_entity = p.at.starts_with("/data/")
            || p.at
                .split('/')
                .nth(1)
                .is_some_and(|s| s.parse::<usize>().is_ok())
            || !doc.trim_start().starts_with('[');
        let deeper = !p.at.ends_with("/id") && p.at != "/data";
        if in_entity && deeper && !p.entity.is_empty() {
            assert!(
                !p.attribute.is_empty() || p.at.matches('/').count() <= 2,
                "case {case}: a problem inside an entity without its attribute: {p:?}"
            );
        }
    }
    if e.0.iter().all(|p| p.at.is_empty()) {
        t.refused_not_json += 1;
    } else {
        t.refused_naming_the_place += 1;
    }
}

fn feed(case: usize, bytes: &[u8], rng: &mut Rng, t: &mut Tally) {
    t.inputs += 1;
    let doc = String::from_utf8_lossy(bytes).into_owned();
    let attributes: &[&str] = match rng.below(4) {
        0 => &["NO2"],
        1 => &["passengers", "speed"],
        2 => &["visitors", "occupancy", "temperature"],
        _ => &[],
    };
    let default = match rng.below(3) {
        0 => Some("2026-04-15T12:00:00Z"),
        1 => Some("not a date"),
        _ => None,
    };
    let r = std::panic::catch_unwind(|| {
        let r = samples(&doc, attributes, default);
        if let Ok(s) = &r {
            for a in [
                "NO2",
                "passengers",
                "speed",
                "occupancy",
                "temperature",
                "visitors",
            ] {
                let _ = monthly_means(s, a);
                for how in Aggregate::ALL {
                    let _ = aggregate(s, a, Granularity::Month, how);
                    let _ = aggregate(s, a, Granularity::FiscalYear, how);
                }
            }
        }
        r
    });
    let Ok(r) = r else {
        panic!("case {case}: panic on {doc:?}");
    };
    match r {
        Ok(s) => {
            assert!(
                s.iter().all(|x| x.value.is_finite()),
                "case {case}: a sample that is not a finite number"
            );
            t.accepted += 1;
            t.samples += s.len();
        }
        Err(e) => check_refusal(case, &doc, &e, t),
    }
}

#[test]
fn fuzz_ngsi_ld() {
    let mut rng = Rng(0x5851_F42D_4C95_7F2D);
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
            let seed = SEEDS[rng.below(SEEDS.len())].as_bytes();
            mutate(&mut rng, seed)
        };
        feed(case, &bytes, &mut rng, &mut tally);
    }
    let secs = start.elapsed().as_secs_f64();
    // The seeds themselves are read, so the fuzzing starts from documents
    // that reach the samples (not only from refusals).
    for seed in SEEDS {
        assert!(
            !samples(seed, &[], Some("2026-04-15T12:00:00Z"))
                .unwrap()
                .is_empty()
        );
    }
    assert!(
        tally.accepted > 0 && tally.refused_naming_the_place > 0,
        "{tally:?}"
    );
    println!(
        "FUZZ ngsi-ld: {} inputs in {secs:.1} s ({:.0}/s): 0 panics; accepted {} ({} samples), refused naming the place {}, refused as not JSON (line and column) {}",
        tally.inputs,
        tally.inputs as f64 / secs.max(1e-9),
        tally.accepted,
        tally.samples,
        tally.refused_naming_the_place,
        tally.refused_not_json
    );
}
