//! `citykpi ngsi import …` end to end on SQLite and PostgreSQL: NGSI-LD
//! documents written to the specification (temporal normalized and
//! temporalValues, entities normalized and keyValues) stored as a KPI's
//! actuals in one transaction with an audit row; a local HTTP server playing
//! the context broker (`GET /ngsi-ld/v1/entities?type=…`, two pages, tenant
//! header); bad documents, unknown KPIs, wrong units and broker errors
//! refused with the entity and attribute named and nothing written.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use common::{Backend, TestDb};
use serde_json::{Value, json};

const AREA: &str = "271004";

fn json_of(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("not JSON ({e}): {s}"))
}

fn setup(backend: Backend) -> TestDb {
    let db = TestDb::new(backend);
    let kpis = db.path("kpis.csv");
    std::fs::write(
        &kpis,
        "kpi_code,name_ja,unit,direction\nNO2,二酸化窒素濃度,µg/m3,lower\nPARKING,駐車場の利用率,%,higher\nRIDERS,バス乗車人数,人,higher\n",
    )
    .unwrap();
    db.ok(&["import", &kpis.display().to_string()]);
    db
}

fn write(db: &TestDb, name: &str, doc: &Value) -> String {
    let p = db.path(name);
    std::fs::write(&p, doc.to_string()).unwrap();
    p.display().to_string()
}

fn observations(db: &TestDb) -> Vec<Value> {
    json_of(&db.ok(&["export", "observations", "--format", "json"]))
        .as_array()
        .unwrap()
        .clone()
}

fn value_of(obs: &[Value], kpi: &str, period: &str) -> f64 {
    obs.iter()
        .find(|o| o["kpi_code"] == kpi && o["period"] == period && o["area_code"] == AREA)
        .unwrap_or_else(|| panic!("no actual {kpi} {period}: {obs:?}"))["value"]["value"]
        .as_f64()
        .unwrap()
}

fn fails(db: &TestDb, args: &[&str]) -> String {
    let out = db.run(args);
    assert!(
        !out.status.success(),
        "citykpi {args:?} should fail: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Temporal API answer, normalized (two stations, NO2 in µg/m³ = GQ).
fn temporal_normalized() -> Value {
    let inst = |v: f64, t: &str| json!({ "type": "Property", "value": v, "observedAt": t, "unitCode": "GQ" });
    json!([
        { "id": "urn:ngsi-ld:AirQualityObserved:minato-01", "type": "AirQualityObserved",
          "@context": ["https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"],
          "NO2": [ inst(20.0, "2025-04-01T09:00:00Z"), inst(24.0, "2025-04-15T09:00:00Z"), inst(30.0, "2025-05-01T09:00:00+09:00") ],
          "airQualityLevel": [ { "type": "Property", "value": "good", "observedAt": "2025-04-01T09:00:00Z" } ] },
        { "id": "urn:ngsi-ld:AirQualityObserved:minato-02", "type": "AirQualityObserved",
          "NO2": [ inst(28.0, "2025-04-20T09:00:00Z") ] }
    ])
}

/// Temporal API answer, simplified (?options=temporalValues): bus riders.
fn temporal_values() -> Value {
    json!({ "id": "urn:ngsi-ld:Vehicle:bus-3", "type": "Vehicle",
            "riders": { "type": "Property", "values": [[120, "2025-04-01T08:00:00Z"], [310, "2025-06-01T17:30:00Z"], [40, "2026-02-01T08:00:00Z"]] } })
}

async fn audit_actions(db: &TestDb) -> Vec<(String, String, String)> {
    let store = citykpi_app::Store::open(&db.url).await.unwrap();
    let rows = store.audit_entries(100, 0).await.unwrap();
    store.close().await;
    rows.into_iter()
        .map(|e| {
            (
                e.action,
                e.key,
                e.after.map(|a| a.to_string()).unwrap_or_default(),
            )
        })
        .collect()
}

fn files_of_every_form_are_stored(backend: Backend) {
    let db = setup(backend);
    let normalized = write(&db, "no2.json", &temporal_normalized());
    let r = json_of(&db.ok(&[
        "ngsi",
        "import",
        &normalized,
        "--kpi",
        "NO2",
        "--attr",
        "NO2",
        "--area",
        AREA,
        "--unit",
        "GQ",
        "--format",
        "json",
    ]));
    assert_eq!(r["samples"], 4);
    assert_eq!(r["entities"].as_array().unwrap().len(), 2);
    assert_eq!(r["counts"]["inserted"], 2);
    let obs = observations(&db);
    assert_eq!(value_of(&obs, "NO2", "2025-04"), 24.0, "mean of 20, 24, 28");
    assert_eq!(value_of(&obs, "NO2", "2025-05"), 30.0);
    let april = obs.iter().find(|o| o["period"] == "2025-04").unwrap();
    assert_eq!(april["status"], "final");
    assert!(
        april["source"]
            .as_str()
            .unwrap()
            .contains("NGSI-LD no2.json")
    );

    // Fiscal-year sums of the simplified temporal form: FY2025 is April 2025 – March 2026.
    let riders = write(&db, "riders.json", &temporal_values());
    db.ok(&[
        "ngsi",
        "import",
        &riders,
        "--kpi",
        "RIDERS",
        "--attr",
        "riders",
        "--area",
        AREA,
        "--period",
        "fy",
        "--aggregate",
        "sum",
    ]);
    assert_eq!(value_of(&observations(&db), "RIDERS", "2025"), 470.0);

    // Current values: normalized (dateObserved of the entity) and keyValues
    // (the instant given on the command line), pooled per month.
    let normalized_now = write(
        &db,
        "parking-normalized.json",
        &json!([
            { "id": "urn:ngsi-ld:ParkingSpot:eki-01", "type": "ParkingSpot",
              "occupancy": { "type": "Property", "value": 0.8, "observedAt": "2025-07-10T10:00:00Z" } },
            { "id": "urn:ngsi-ld:ParkingSpot:eki-02", "type": "ParkingSpot",
              "dateObserved": { "type": "Property", "value": { "@type": "DateTime", "@value": "2025-07-11T10:00:00Z" } },
              "occupancy": { "type": "Property", "value": 0.4 } }
        ]),
    );
    let key_values = write(
        &db,
        "parking-kv.json",
        &json!([{ "id": "urn:ngsi-ld:ParkingSpot:eki-03", "type": "ParkingSpot", "occupancy": 0.6, "status": "free" }]),
    );
    db.ok(&[
        "ngsi",
        "import",
        &normalized_now,
        &key_values,
        "--kpi",
        "PARKING",
        "--attr",
        "occupancy",
        "--area",
        AREA,
        "--observed-at",
        "2025-07-31T23:00:00Z",
    ]);
    let v = value_of(&observations(&db), "PARKING", "2025-07");
    assert!((v - 0.6).abs() < 1e-9, "{v}");

    // Importing the same again changes nothing.
    let r = json_of(&db.ok(&[
        "ngsi",
        "import",
        &normalized,
        "--kpi",
        "NO2",
        "--attr",
        "NO2",
        "--area",
        AREA,
        "--format",
        "json",
    ]));
    assert_eq!(r["counts"]["unchanged"], 2);

    // One audit row per import, naming the source and the KPI.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let audit = rt.block_on(audit_actions(&db));
    let ngsi: Vec<_> = audit.iter().filter(|a| a.0 == "ngsi_ld_import").collect();
    assert_eq!(ngsi.len(), 4, "{audit:?}");
    assert!(
        ngsi.iter()
            .any(|a| a.1 == "NO2" && a.2.contains("no2.json"))
    );
}

fn bad_input_names_entity_and_attribute(backend: Backend) {
    let db = setup(backend);
    let mut doc = temporal_normalized();
    doc[1]["NO2"][0]["value"] = json!("n/a");
    let bad = write(&db, "bad.json", &doc);
    let err = fails(
        &db,
        &[
            "ngsi", "import", &bad, "--kpi", "NO2", "--attr", "NO2", "--area", AREA,
        ],
    );
    assert!(
        err.contains("urn:ngsi-ld:AirQualityObserved:minato-02"),
        "{err}"
    );
    assert!(err.contains("attribute NO2"), "{err}");
    assert!(err.contains("/1/NO2/0/value"), "{err}");

    // keyValues without any instant: the entity is named.
    let kv = write(
        &db,
        "kv.json",
        &json!([{ "id": "urn:ngsi-ld:ParkingSpot:x", "type": "ParkingSpot", "occupancy": 0.5 }]),
    );
    let err = fails(
        &db,
        &[
            "ngsi",
            "import",
            &kv,
            "--kpi",
            "PARKING",
            "--attr",
            "occupancy",
            "--area",
            AREA,
        ],
    );
    assert!(
        err.contains("urn:ngsi-ld:ParkingSpot:x") && err.contains("observedAt"),
        "{err}"
    );

    let good = write(&db, "no2.json", &temporal_normalized());
    let err = fails(
        &db,
        &[
            "ngsi", "import", &good, "--kpi", "NOPE", "--attr", "NO2", "--area", AREA,
        ],
    );
    assert!(err.contains("NOPE"), "{err}");
    let err = fails(
        &db,
        &[
            "ngsi", "import", &good, "--kpi", "NO2", "--attr", "NO2", "--area", AREA, "--unit",
            "CEL",
        ],
    );
    assert!(
        err.contains("urn:ngsi-ld:AirQualityObserved:minato-01") && err.contains("CEL"),
        "{err}"
    );
    let err = fails(
        &db,
        &[
            "ngsi", "import", &good, "--kpi", "NO2", "--attr", "PM25", "--area", AREA,
        ],
    );
    assert!(err.contains("PM25"), "{err}");
    let junk = db.path("junk.json");
    std::fs::write(&junk, "{ not json").unwrap();
    let err = fails(
        &db,
        &[
            "ngsi",
            "import",
            &junk.display().to_string(),
            "--kpi",
            "NO2",
            "--attr",
            "NO2",
            "--area",
            AREA,
        ],
    );
    assert!(err.contains("not JSON"), "{err}");
    // A dry run reads and writes nothing.
    db.ok(&[
        "ngsi",
        "import",
        &good,
        "--kpi",
        "NO2",
        "--attr",
        "NO2",
        "--area",
        AREA,
        "--dry-run",
    ]);
    assert!(
        observations(&db).is_empty(),
        "nothing written by refused or dry runs"
    );
}

/// A local context broker: answers by path and query, records the request
/// line and the NGSILD-Tenant header of every request.
struct Broker {
    url: String,
    seen: Arc<Mutex<Vec<(String, String)>>>,
}

fn broker(respond: impl Fn(&str) -> (u16, String) + Send + 'static) -> Broker {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            let mut tenant = String::new();
            loop {
                let mut header = String::new();
                match reader.read_line(&mut header) {
                    Ok(0) | Err(_) => break,
                    Ok(_) if header == "\r\n" => break,
                    Ok(_) => {
                        if let Some((k, v)) = header.split_once(':')
                            && k.eq_ignore_ascii_case("ngsild-tenant")
                        {
                            tenant = v.trim().to_string();
                        }
                    }
                }
            }
            let target = line.split_whitespace().nth(1).unwrap_or("").to_string();
            log.lock().unwrap().push((target.clone(), tenant));
            let (status, body) = respond(&target);
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    Broker { url, seen }
}

fn spot(n: usize, occupancy: f64) -> Value {
    json!({ "id": format!("urn:ngsi-ld:ParkingSpot:p{n:03}"), "type": "ParkingSpot",
            "occupancy": { "type": "Property", "value": occupancy, "observedAt": "2025-08-05T12:00:00Z" } })
}

fn broker_is_read_page_by_page(backend: Backend) {
    let db = setup(backend);
    // 100 spots at 0.5 on the first page, 5 at 1.0 on the second.
    let b = broker(|target| {
        if !target.starts_with("/ngsi-ld/v1/entities?type=ParkingSpot&") {
            return (
                404,
                r#"{"type":"https://uri.etsi.org/ngsi-ld/errors/ResourceNotFound"}"#.into(),
            );
        }
        let page: Vec<Value> = if target.contains("offset=0") {
            (0..100).map(|n| spot(n, 0.5)).collect()
        } else if target.contains("offset=100") {
            (100..105).map(|n| spot(n, 1.0)).collect()
        } else {
            Vec::new()
        };
        (200, Value::Array(page).to_string())
    });
    let r = json_of(&db.ok(&[
        "ngsi",
        "import",
        "--broker",
        &b.url,
        "--type",
        "ParkingSpot",
        "--tenant",
        "minato",
        "--kpi",
        "PARKING",
        "--attr",
        "occupancy",
        "--area",
        AREA,
        "--format",
        "json",
    ]));
    assert_eq!(r["samples"], 105);
    let seen = b.seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        vec![
            (
                "/ngsi-ld/v1/entities?type=ParkingSpot&limit=100&offset=0&attrs=occupancy"
                    .to_string(),
                "minato".to_string()
            ),
            (
                "/ngsi-ld/v1/entities?type=ParkingSpot&limit=100&offset=100&attrs=occupancy"
                    .to_string(),
                "minato".to_string()
            ),
        ]
    );
    let v = value_of(&observations(&db), "PARKING", "2025-08");
    assert!((v - (50.0 + 5.0) / 105.0).abs() < 1e-9, "{v}");

    // The temporal API is asked with timerel=between.
    let t = broker(|target| {
        if target.starts_with("/ngsi-ld/v1/temporal/entities?type=AirQualityObserved&")
            && target.contains(
                "timerel=between&timeAt=2025-04-01T00:00:00Z&endTimeAt=2025-06-01T00:00:00Z",
            )
        {
            (200, temporal_normalized().to_string())
        } else {
            (400, r#"{"title":"bad request"}"#.into())
        }
    });
    db.ok(&[
        "ngsi",
        "import",
        "--broker",
        &t.url,
        "--type",
        "AirQualityObserved",
        "--from",
        "2025-04-01T00:00:00Z",
        "--to",
        "2025-06-01T00:00:00Z",
        "--kpi",
        "NO2",
        "--attr",
        "NO2",
        "--area",
        AREA,
    ]);
    assert_eq!(value_of(&observations(&db), "NO2", "2025-05"), 30.0);

    // A broker error is reported with its status; nothing more is written.
    let before = observations(&db).len();
    let e = broker(|_| (500, r#"{"title":"Internal error"}"#.into()));
    let err = fails(
        &db,
        &[
            "ngsi",
            "import",
            "--broker",
            &e.url,
            "--type",
            "ParkingSpot",
            "--kpi",
            "PARKING",
            "--attr",
            "occupancy",
            "--area",
            AREA,
        ],
    );
    assert!(
        err.contains("500") && err.contains("Internal error"),
        "{err}"
    );
    // A page of broken JSON from the broker: refused with the document's problem.
    let j = broker(|_| (200, "[{\"id\": ".into()));
    let err = fails(
        &db,
        &[
            "ngsi",
            "import",
            "--broker",
            &j.url,
            "--type",
            "ParkingSpot",
            "--kpi",
            "PARKING",
            "--attr",
            "occupancy",
            "--area",
            AREA,
        ],
    );
    assert!(err.contains("not JSON"), "{err}");
    let err = fails(
        &db,
        &[
            "ngsi",
            "import",
            "--kpi",
            "PARKING",
            "--attr",
            "occupancy",
            "--type",
            "ParkingSpot",
        ],
    );
    assert!(err.contains("--broker"), "{err}");
    assert_eq!(observations(&db).len(), before);
}

macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod sqlite { $( #[test] fn $name() { super::$name(super::Backend::Sqlite) } )* }
        mod postgres { $( #[test] fn $name() { super::$name(super::Backend::Postgres) } )* }
    };
}

both!(
    files_of_every_form_are_stored,
    bad_input_names_entity_and_attribute,
    broker_is_read_page_by_page,
);
