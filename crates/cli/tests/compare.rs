//! `citykpi compare …` end to end on SQLite and PostgreSQL: the real e-Stat
//! response (`testdata/estat/`, NEXT_KEY 11) served by a local HTTP
//! server with a second page at startPosition=11, fetched by the real client
//! and imported; re-import updates instead of duplicating; SDMX-CSV and plain
//! CSV; and bad inputs (unknown area code, wrong check digit, malformed JSON,
//! an API error on page 2, an HTTP error, a bad SDMX row) refused with the
//! place named and nothing written.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use common::{Backend, TestDb};
use serde_json::{Value, json};

fn shared(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata")
        .join(path)
}

fn sample_text() -> String {
    std::fs::read_to_string(shared("estat/getStatsData_0000020202_sample.json"))
        .expect("the e-Stat sample in testdata/estat/")
}

/// The first `n` characters of the sample: cut mid-document, so not JSON.
fn truncated(n: usize) -> String {
    sample_text().chars().take(n).collect()
}

fn sample() -> Value {
    serde_json::from_str(&sample_text()).unwrap()
}

/// The second page: the sample's envelope with values 11–20 and no NEXT_KEY.
/// It holds a missing and a secret cell, a prefecture (13000), a ward of a
/// designated city (01101), a 2024 Hamamatsu ward (22138) and the two
/// aggregates (00000 national, 13100 Tokyo's 23 wards).
fn page_two() -> Value {
    let mut page = sample();
    let sd = &mut page["GET_STATS_DATA"]["STATISTICAL_DATA"];
    sd["RESULT_INF"] = json!({"TOTAL_NUMBER": 20, "FROM_NUMBER": 11, "TO_NUMBER": 20});
    let v = |area: &str, time: &str, value: &str| json!({"@tab": "00001", "@cat01": "B1101", "@area": area, "@time": time, "@unit": "ｈａ", "$": value});
    sd["DATA_INF"]["VALUE"] = json!([
        v("01100", "1991100000", "112118"),
        v("01100", "1992100000", "-"),
        v("01100", "1993100000", "X"),
        v("13000", "1991100000", "219400"),
        v("00000", "1991100000", "3779700"),
        v("13100", "1991100000", "62757"),
        v("01101", "1991100000", "4642"),
        v("27140", "1991100000", "14975"),
        v("22138", "2024100000", "4489"),
        v("01202", "1991100000", "67773"),
    ]);
    page
}

/// A local HTTP server answering each request with `respond(path and query)`
/// → (status, body); every request line is recorded.
struct Server {
    url: String,
    seen: Arc<Mutex<Vec<String>>>,
}

fn serve(respond: impl Fn(&str) -> (u16, String) + Send + 'static) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            loop {
                let mut header = String::new();
                match reader.read_line(&mut header) {
                    Ok(0) | Err(_) => break,
                    Ok(_) if header == "\r\n" => break,
                    Ok(_) => {}
                }
            }
            let target = request_line
                .split_whitespace()
                .nth(1)
                .unwrap_or("")
                .to_string();
            log.lock().unwrap().push(target.clone());
            let (status, body) = respond(&target);
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    Server { url, seen }
}

/// Page 1 is the real response, unchanged; page 2 what `second` gives.
fn estat_server(second: impl Fn() -> (u16, String) + Send + 'static) -> Server {
    let first = sample_text();
    serve(move |target| {
        if !target.starts_with("/getStatsData?") {
            (404, "{}".into())
        } else if target.contains("startPosition=11") {
            second()
        } else {
            (200, first.clone())
        }
    })
}

fn json_of(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("not JSON ({e}): {s}"))
}

fn setup(backend: Backend) -> TestDb {
    let db = TestDb::new(backend);
    let kpis = db.path("kpis.csv");
    std::fs::write(
        &kpis,
        "kpi_code,name_ja,unit,direction\nAREA_TOTAL,総面積,ha,higher\nPOP,人口,人,higher\n",
    )
    .unwrap();
    db.ok(&["import", &kpis.display().to_string()]);
    // The city's own code, given once (千代田区: outside the test data).
    let empty = db.path("empty.csv");
    std::fs::write(&empty, "area_code,period,value\n").unwrap();
    let r = json_of(&db.ok(&[
        "compare",
        "csv",
        &empty.display().to_string(),
        "--kpi",
        "POP",
        "--city",
        "131016",
        "--format",
        "json",
    ]));
    assert_eq!(r["observations"], 0);
    db
}

fn observations(db: &TestDb) -> Vec<Value> {
    let out = db.ok(&["export", "observations", "--format", "json"]);
    json_of(&out).as_array().unwrap().clone()
}

fn find<'a>(obs: &'a [Value], kpi: &str, period: &str, area: &str) -> &'a Value {
    obs.iter()
        .find(|o| o["kpi_code"] == kpi && o["period"] == period && o["area_code"] == area)
        .unwrap_or_else(|| panic!("no observation {kpi} {period} {area}"))
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

fn estat_args<'a>(url: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "compare",
        "estat",
        "--stats-data-id",
        "0000020202",
        "--kpi",
        "AREA_TOTAL",
        "--cd-cat01",
        "B1101",
        "--app-id",
        "TESTKEY",
        "--base-url",
        url,
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    args
}

fn estat_api_follows_next_key_and_reimport_updates(backend: Backend) {
    let db = setup(backend);
    let server = estat_server(|| (200, page_two().to_string()));
    let r = json_of(&db.ok(&estat_args(&server.url, &[])));

    // Two requests: the first without startPosition, the second at NEXT_KEY.
    let seen = server.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(
        seen[0],
        "/getStatsData?appId=TESTKEY&statsDataId=0000020202&cdCat01=B1101"
    );
    assert_eq!(
        seen[1],
        "/getStatsData?appId=TESTKEY&statsDataId=0000020202&startPosition=11&cdCat01=B1101"
    );

    assert_eq!(r["source"], "e-Stat 0000020202");
    assert_eq!(r["title"], "Ｂ　自然環境");
    assert_eq!(r["pages"], 2);
    assert_eq!(r["values_read"], 20);
    // 20 values less the national total and Tokyo's 23 wards together.
    assert_eq!(r["observations"], 18);
    assert_eq!(r["skipped"]["national"], 1);
    assert_eq!(r["skipped"]["tokyo_wards"], 1);
    assert_eq!(r["areas"], 6);
    assert_eq!(
        (&r["prefectures"], &r["municipalities"], &r["wards"]),
        (&json!(1), &json!(3), &json!(2))
    );
    assert_eq!((&r["missing"], &r["secret"]), (&json!(1), &json!(1)));
    assert_eq!(r["applied"]["inserted"], 18);
    assert_eq!(r["warnings"], json!([]));

    // Every cell of the real page 1, against the stored observations.
    let obs = observations(&db);
    assert_eq!(obs.len(), 18);
    let page1 = sample();
    let values = page1["GET_STATS_DATA"]["STATISTICAL_DATA"]["DATA_INF"]["VALUE"]
        .as_array()
        .unwrap();
    assert_eq!(values.len(), 10);
    for v in values {
        let year = &v["@time"].as_str().unwrap()[..4];
        assert_eq!(v["@area"], "01100");
        let o = find(&obs, "AREA_TOTAL", year, "011002");
        let expected: f64 = v["$"].as_str().unwrap().parse().unwrap();
        assert_eq!(o["value"]["value"].as_f64(), Some(expected), "{year}");
        assert_eq!(o["source"], "e-Stat 0000020202 cat01=B1101 tab=00001");
    }
    assert_eq!(
        find(&obs, "AREA_TOTAL", "1981", "011002")["value"]["value"],
        111801.0
    );
    assert_eq!(
        find(&obs, "AREA_TOTAL", "1990", "011002")["value"]["value"],
        112118.0
    );
    // Page 2: markers stay explicit; codes get their check digit.
    assert_eq!(
        find(&obs, "AREA_TOTAL", "1992", "011002")["value"],
        json!({"kind": "missing"})
    );
    assert_eq!(
        find(&obs, "AREA_TOTAL", "1993", "011002")["value"],
        json!({"kind": "secret"})
    );
    assert_eq!(
        find(&obs, "AREA_TOTAL", "1991", "130001")["value"]["value"],
        219400.0
    );
    assert_eq!(
        find(&obs, "AREA_TOTAL", "1991", "011011")["value"]["value"],
        4642.0
    );
    assert_eq!(
        find(&obs, "AREA_TOTAL", "1991", "271403")["value"]["value"],
        14975.0
    );
    assert_eq!(
        find(&obs, "AREA_TOTAL", "2024", "221384")["value"]["value"],
        4489.0
    );
    assert!(
        !obs.iter()
            .any(|o| o["area_code"] == "000001" || o["area_code"] == "131008")
    );

    // The same data again: no duplicates, nothing changed.
    let again = json_of(&db.ok(&estat_args(&server.url, &[])));
    assert_eq!(again["applied"]["inserted"], 0);
    assert_eq!(again["applied"]["unchanged"], 18);
    assert_eq!(observations(&db).len(), 18);

    // --cd-area with a 6-digit code asks e-Stat for its 5 digits; what the
    // server sends beyond it is filtered out here too. A dry run writes nothing.
    let narrowed = estat_server(|| (200, page_two().to_string()));
    let r = json_of(&db.ok(&estat_args(
        &narrowed.url,
        &["--cd-area", "011002", "--dry-run"],
    )));
    let seen = narrowed.seen.lock().unwrap().clone();
    assert!(seen[0].ends_with("&cdCat01=B1101&cdArea=01100"), "{seen:?}");
    assert_eq!((&r["observations"], &r["areas"]), (&json!(13), &json!(1)));
    assert_eq!(r["skipped"]["filtered"], 7);
    assert_eq!(r["applied"], Value::Null);

    // A revised page 2: updated in place.
    let revised = estat_server(|| {
        let mut p = page_two();
        p["GET_STATS_DATA"]["STATISTICAL_DATA"]["DATA_INF"]["VALUE"][9]["$"] = json!("67800");
        (200, p.to_string())
    });
    let r = json_of(&db.ok(&estat_args(&revised.url, &[])));
    assert_eq!(
        (&r["applied"]["inserted"], &r["applied"]["updated"]),
        (&json!(0), &json!(1))
    );
    let obs = observations(&db);
    assert_eq!(obs.len(), 18);
    assert_eq!(
        find(&obs, "AREA_TOTAL", "1991", "012025")["value"]["value"],
        67800.0
    );
}

fn estat_failures_write_nothing(backend: Backend) {
    let db = setup(backend);
    // An API error on page 2, after page 1 was fetched: nothing of page 1 is written.
    let server = estat_server(|| {
        (
            200,
            r#"{"GET_STATS_DATA":{"RESULT":{"STATUS":100,"ERROR_MSG":"認証に失敗しました。"}}}"#
                .into(),
        )
    });
    let err = fails(&db, &estat_args(&server.url, &[]));
    assert!(
        err.contains("STATUS 100")
            && err.contains("認証に失敗しました。")
            && err.contains("page 2"),
        "{err}"
    );
    assert!(
        !err.contains("TESTKEY"),
        "the application ID is not shown: {err}"
    );
    assert!(observations(&db).is_empty());

    // An HTTP error.
    let server = estat_server(|| (503, "Service Unavailable".into()));
    let err = fails(&db, &estat_args(&server.url, &[]));
    assert!(err.contains("HTTP 503"), "{err}");
    assert!(observations(&db).is_empty());

    // Malformed JSON on page 2.
    let server = estat_server(|| (200, truncated(5000)));
    let err = fails(&db, &estat_args(&server.url, &[]));
    assert!(
        err.contains("not valid JSON") && err.contains("page 2"),
        "{err}"
    );
    assert!(observations(&db).is_empty());

    // The page cap.
    let server = estat_server(|| (200, page_two().to_string()));
    let err = fails(&db, &estat_args(&server.url, &["--max-pages", "1"]));
    assert!(err.contains("more than 1 pages"), "{err}");
    assert!(observations(&db).is_empty());

    // No application ID: said so, with the --file way out.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_citykpi"))
        .args([
            "--db",
            &db.url,
            "compare",
            "estat",
            "--stats-data-id",
            "0000020202",
        ])
        .args(["--kpi", "AREA_TOTAL"])
        .env("LANG", "en_US.UTF-8")
        .env_remove("CITYKPI_ESTAT_APP_ID")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("application ID is needed") && err.contains("--file"),
        "{err}"
    );

    // The application ID from the environment.
    let server = estat_server(|| (200, page_two().to_string()));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_citykpi"))
        .args([
            "--db",
            &db.url,
            "compare",
            "estat",
            "--stats-data-id",
            "0000020202",
        ])
        .args([
            "--kpi",
            "AREA_TOTAL",
            "--base-url",
            &server.url,
            "--dry-run",
        ])
        .env("LANG", "en_US.UTF-8")
        .env("CITYKPI_ESTAT_APP_ID", "ENVKEY")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen = server.seen.lock().unwrap().clone();
    assert!(seen.iter().all(|s| s.contains("appId=ENVKEY&")), "{seen:?}");
    assert_eq!(seen.len(), 2);
    assert!(observations(&db).is_empty());

    // Without the city's own code nothing is fetched.
    let fresh = TestDb::new(match db.url.starts_with("postgres") {
        true => Backend::Postgres,
        false => Backend::Sqlite,
    });
    let kpis = fresh.path("kpis.csv");
    std::fs::write(
        &kpis,
        "kpi_code,name_ja,unit,direction\nAREA_TOTAL,総面積,ha,higher\n",
    )
    .unwrap();
    fresh.ok(&["import", &kpis.display().to_string()]);
    let server = estat_server(|| (200, page_two().to_string()));
    let err = fails(&fresh, &estat_args(&server.url, &[]));
    assert!(
        err.contains("own local-government code is not set") && err.contains("--city"),
        "{err}"
    );
    assert!(server.seen.lock().unwrap().is_empty());
    let err = fails(&db, &estat_args(&server.url, &["--city", "271403"]));
    assert!(err.contains("already 131016"), "{err}");

    // An unknown KPI is refused before anything is fetched.
    let server = estat_server(|| (200, page_two().to_string()));
    let mut args = estat_args(&server.url, &[]);
    args[5] = "NO_SUCH_KPI";
    let err = fails(&db, &args);
    assert!(err.contains("\"NO_SUCH_KPI\" does not exist"), "{err}");
    assert!(server.seen.lock().unwrap().is_empty());
}

fn estat_files_and_bad_codes(backend: Backend) {
    let db = setup(backend);
    let page1 = db.path("page1.json");
    let page2 = db.path("page2.json");
    std::fs::write(&page1, sample_text()).unwrap();
    std::fs::write(&page2, page_two().to_string()).unwrap();
    let (p1, p2) = (page1.display().to_string(), page2.display().to_string());

    // Malformed JSON: refused, nothing written.
    let bad = db.path("bad.json");
    std::fs::write(&bad, truncated(1000)).unwrap();
    let err = fails(
        &db,
        &[
            "compare",
            "estat",
            "--file",
            &bad.display().to_string(),
            "--kpi",
            "AREA_TOTAL",
        ],
    );
    assert!(
        err.contains("bad.json") && err.contains("not valid JSON"),
        "{err}"
    );

    // A code that is not a local government (value #3 of page 2 → 13th overall).
    let mut unknown = page_two();
    unknown["GET_STATS_DATA"]["STATISTICAL_DATA"]["DATA_INF"]["VALUE"][2]["@area"] = json!("99999");
    let unknown_file = db.path("unknown.json");
    std::fs::write(&unknown_file, unknown.to_string()).unwrap();
    let err = fails(
        &db,
        &[
            "compare",
            "estat",
            "--file",
            &p1,
            "--file",
            &unknown_file.display().to_string(),
            "--kpi",
            "AREA_TOTAL",
        ],
    );
    assert!(
        err.contains("13件目") && err.contains("@area") && err.contains("\"99999\""),
        "{err}"
    );
    assert!(err.contains("Nothing was written."), "{err}");
    assert!(observations(&db).is_empty());

    // The same page twice does not follow on.
    let err = fails(
        &db,
        &[
            "compare",
            "estat",
            "--file",
            &p1,
            "--file",
            &p1,
            "--kpi",
            "AREA_TOTAL",
        ],
    );
    assert!(err.contains("do not follow on"), "{err}");

    // Both pages from files, in either order.
    let r = json_of(&db.ok(&[
        "compare",
        "estat",
        "--file",
        &p2,
        "--file",
        &p1,
        "--kpi",
        "AREA_TOTAL",
        "--format",
        "json",
    ]));
    assert_eq!((&r["pages"], &r["observations"]), (&json!(2), &json!(18)));
    assert_eq!(r["warnings"], json!([]));
    assert_eq!(observations(&db).len(), 18);

    // A filter on the area and a --map to another KPI by cat01, checked only.
    let r = json_of(&db.ok(&[
        "compare",
        "estat",
        "--file",
        &p1,
        "--map",
        "cat01=B1101:POP",
        "--where",
        "area=01100",
        "--format",
        "json",
        "--dry-run",
    ]));
    assert_eq!(r["observations"], 10);
    assert_eq!(r["kpis"], json!(["POP"]));
    assert_eq!(r["applied"], Value::Null);
    assert_eq!(observations(&db).len(), 18, "a dry run writes nothing");
}

fn sdmx_and_csv(backend: Backend) {
    let db = setup(backend);
    let fixture = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../analytics/tests/fixtures/sdmx_csv_2_0_sample.csv");
    let r = json_of(&db.ok(&[
        "compare",
        "sdmx",
        &fixture.display().to_string(),
        "--map",
        "INDICATOR=POP:POP",
        "--format",
        "json",
    ]));
    assert_eq!(r["observations"], 3);
    assert_eq!(r["skipped"]["deletions"], 1);
    let obs = observations(&db);
    assert_eq!(
        find(&obs, "POP", "2020", "271403")["value"]["value"],
        826161.0
    );
    let provisional = find(&obs, "POP", "2021", "271403");
    assert_eq!(provisional["value"]["value"], 823523.0);
    assert_eq!(provisional["status"], "provisional");
    assert_eq!(
        find(&obs, "POP", "2021", "012131")["value"],
        json!({"kind": "missing"})
    );
    assert_eq!(
        find(&obs, "POP", "2020", "271403")["source"],
        "SDMX CITYKPI:POP_AREA(1.0.0)"
    );

    // A bad SDMX row: refused with its line, nothing written.
    let bad = db.path("bad_sdmx.csv");
    std::fs::write(
        &bad,
        "STRUCTURE,STRUCTURE_ID,REF_AREA,TIME_PERIOD,OBS_VALUE\n\
         dataflow,X:Y(1.0),271403,2022,1200\n\
         dataflow,X:Y(1.0),271403,2023,lots\n",
    )
    .unwrap();
    let err = fails(
        &db,
        &[
            "compare",
            "sdmx",
            &bad.display().to_string(),
            "--kpi",
            "POP",
        ],
    );
    assert!(err.contains("bad_sdmx.csv 3行目"), "{err}");
    // A wrong check digit in SDMX.
    std::fs::write(
        &bad,
        "STRUCTURE,STRUCTURE_ID,REF_AREA,TIME_PERIOD,OBS_VALUE\n\
         dataflow,X:Y(1.0),271403,2022,1200\n\
         dataflow,X:Y(1.0),271404,2022,1300\n",
    )
    .unwrap();
    let err = fails(
        &db,
        &[
            "compare",
            "sdmx",
            &bad.display().to_string(),
            "--kpi",
            "POP",
        ],
    );
    assert!(
        err.contains("3行目")
            && err.contains("REF_AREA")
            && err.contains("271404")
            && err.contains("expected 3"),
        "{err}"
    );
    assert_eq!(observations(&db).len(), 3);

    // Plain CSV with Japanese headers; the KPI from the command line.
    let csv = db.path("pop.csv");
    std::fs::write(
        &csv,
        "団体コード,年度,値\n271403,2022,820000\n01100,令和4年度,1970000\n13000,2022,14040000\n",
    )
    .unwrap();
    let r = json_of(&db.ok(&[
        "compare",
        "csv",
        &csv.display().to_string(),
        "--kpi",
        "POP",
        "--format",
        "json",
    ]));
    assert_eq!(r["observations"], 3);
    assert_eq!(r["prefectures"], 1);
    let obs = observations(&db);
    assert_eq!(obs.len(), 6);
    assert_eq!(
        find(&obs, "POP", "2022", "011002")["value"]["value"],
        1970000.0
    );
    assert_eq!(find(&obs, "POP", "2022", "011002")["source"], "pop.csv");

    // Shift_JIS as Excel saves it (団体コード,年度,値 / 271403,令和2年度,826161).
    let sjis = db.path("sjis.csv");
    std::fs::write(
        &sjis,
        b"\x92c\x91\xcc\x83R\x81[\x83h,\x94N\x93x,\x92l\r\n271403,\x97\xdf\x98a2\x94N\x93x,826161\r\n",
    )
    .unwrap();
    let r = json_of(&db.ok(&[
        "compare",
        "csv",
        &sjis.display().to_string(),
        "--kpi",
        "POP",
        "--format",
        "json",
    ]));
    assert_eq!(
        (&r["periods"], &r["applied"]["unchanged"]),
        (&json!(["2020"]), &json!(0))
    );
    assert_eq!(
        r["applied"]["updated"], 1,
        "the SDMX value of 2020, now from sjis.csv"
    );
    assert_eq!(
        find(&observations(&db), "POP", "2020", "271403")["source"],
        "sjis.csv"
    );

    // Unknown code and wrong check digit in a CSV: each named by row and column.
    std::fs::write(
        &csv,
        "area_code,period,value,kpi_code\n271403,2023,1,POP\n99999,2023,2,POP\n271404,2023,3,POP\n",
    )
    .unwrap();
    let err = fails(&db, &["compare", "csv", &csv.display().to_string()]);
    assert!(
        err.contains("3行目 「area_code」列") && err.contains("\"99999\""),
        "{err}"
    );
    assert!(
        err.contains("4行目 「area_code」列") && err.contains("271404"),
        "{err}"
    );
    assert!(err.contains("2 problem(s)"), "{err}");
    assert_eq!(observations(&db).len(), 6);
}

#[test]
fn areas_are_found_by_code_or_name() {
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_citykpi"))
            .args(["--lang", "en", "compare", "areas"])
            .args(args)
            .output()
            .unwrap()
    };
    let out = run(&["27140", "--format", "json"]);
    assert!(out.status.success());
    assert_eq!(
        json_of(&String::from_utf8_lossy(&out.stdout)),
        json!([{"code": "271403", "level": "municipality", "name": "大阪府 堺市"}])
    );
    let out = run(&["浜松市"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("221384  ward          静岡県 浜松市 中央区"),
        "{text}"
    );
    assert_eq!(text.lines().count(), 11);
    let out = run(&["no such place"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no local government matches"));
}

fn args_of(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// Values without their cell (`"$"`) are a damaged file: refused whole with
/// the value named, the stored figures untouched. A well-formed file that
/// turns stored figures into 欠測 is taken, and its summary says how many.
fn estat_without_cells_is_refused_and_missing_over_values_is_said(backend: Backend) {
    let db = setup(backend);
    let good = db.path("good.json");
    std::fs::write(&good, sample_text()).unwrap();
    let good = good.display().to_string();
    let file_args = |f: &str| {
        vec![
            "compare".to_string(),
            "estat".into(),
            "--file".into(),
            f.to_string(),
            "--kpi".into(),
            "AREA_TOTAL".into(),
            "--format".into(),
            "json".into(),
        ]
    };
    let first = json_of(&db.ok(&args_of(&file_args(&good))));
    assert_eq!(first["replaced_with_missing"], 0);
    let before = observations(&db);
    let real = before
        .iter()
        .filter(|o| o["value"]["kind"] == "value")
        .count();
    assert_eq!(real, 10, "{before:?}");

    // Every "$" taken away: refused, naming the value; nothing changes.
    let mut stripped = sample();
    for v in stripped["GET_STATS_DATA"]["STATISTICAL_DATA"]["DATA_INF"]["VALUE"]
        .as_array_mut()
        .unwrap()
    {
        v.as_object_mut().unwrap().remove("$");
    }
    let stripped_file = db.path("stripped.json");
    std::fs::write(&stripped_file, stripped.to_string()).unwrap();
    let err = fails(
        &db,
        &args_of(&file_args(&stripped_file.display().to_string())),
    );
    assert!(
        err.contains("stripped.json") && err.contains("value #1 has no \"$\""),
        "{err}"
    );
    assert_eq!(observations(&db), before);

    // Every cell "-" (well-formed 欠測): taken, and the summary counts the
    // ten real values it replaces, in JSON and in the printed summary.
    let mut dashes = sample();
    for v in dashes["GET_STATS_DATA"]["STATISTICAL_DATA"]["DATA_INF"]["VALUE"]
        .as_array_mut()
        .unwrap()
    {
        v["$"] = json!("-");
    }
    let dashes_file = db.path("dashes.json");
    std::fs::write(&dashes_file, dashes.to_string()).unwrap();
    let dashes_path = dashes_file.display().to_string();
    let mut dry = file_args(&dashes_path);
    dry.truncate(6);
    dry.push("--dry-run".into());
    let out = db.run(&args_of(&dry));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("10"), "{text}");
    assert!(
        text.contains("replaced with missing or secret")
            || text.contains("欠測・秘匿で置き換えます"),
        "{text}"
    );
    assert_eq!(observations(&db), before);
    let r = json_of(&db.ok(&args_of(&file_args(&dashes_path))));
    assert_eq!(r["replaced_with_missing"], 10);
    assert!(
        r["warnings"].as_array().unwrap().iter().any(|w| w
            .as_str()
            .unwrap()
            .contains("10 stored value(s) will be replaced")),
        "{r}"
    );
}

on_both_backends!(
    estat_without_cells_is_refused_and_missing_over_values_is_said,
    estat_api_follows_next_key_and_reimport_updates,
    estat_failures_write_nothing,
    estat_files_and_bad_codes,
    sdmx_and_csv,
);
