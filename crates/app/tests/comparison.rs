//! The comparison-data service on a real SQLite file: the city's own values
//! are kept, two different values for one key are refused (and a --map
//! separates them), a unit that does not match the KPI is said, and the
//! e-Stat client gives up on a silent server within its timeout.

use std::time::{Duration, Instant};

use citykpi_analytics::estat::{EstatRequest, StatsData, parse_get_stats_data};
use citykpi_app::comparison::{
    ComparisonError, EstatClient, ImportSpec, KpiMapping, MapRule, import_estat_data,
};
use citykpi_domain::observation::{ObsValue, Observation, Period};
use citykpi_domain::{Dataset, Kind};

use citykpi_store::{ObservationFilter, Store};

fn sample() -> StatsData {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/estat/getStatsData_0000020202_sample.json"
    ))
    .expect("the e-Stat sample in testdata/estat/");
    parse_get_stats_data(&text).unwrap()
}

async fn store_with_kpis(dir: &tempfile::TempDir, kpis_csv: &str) -> Store {
    let store = Store::open(dir.path().join("c.db").to_str().unwrap())
        .await
        .unwrap();
    let known = store.known_keys().await.unwrap();
    let outcome = citykpi_io::read_bytes(
        "kpis.csv",
        kpis_csv.as_bytes(),
        None,
        Some(Kind::Kpis),
        &known,
    )
    .unwrap();
    store.apply(&outcome.dataset, "test").await.unwrap();
    store
}

const KPIS: &str = "kpi_code,name_ja,unit,direction\nAREA,総面積,ha,higher\nAREA2,総面積（北方領土等含む）,ha,higher\n";

fn spec(kpi: &str) -> ImportSpec {
    ImportSpec {
        mapping: KpiMapping::to(kpi),
        actor: "test".into(),
        // 千代田区: a city outside the sample.
        city: Some("131016".into()),
        ..ImportSpec::default()
    }
}

async fn all(store: &Store) -> Vec<Observation> {
    store
        .observations(&ObservationFilter::default())
        .await
        .unwrap()
}

#[tokio::test]
async fn the_citys_own_values_are_kept_unless_asked() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_kpis(&dir, KPIS).await;
    // The city is Sapporo, and staff entered 1981 themselves.
    store
        .set_setting(citykpi_app::settings::CITY_CODE, "011002")
        .await
        .unwrap();
    let own = Observation {
        kpi_code: "AREA".into(),
        period: Period::parse("1981").unwrap(),
        area_code: "011002".into(),
        value: ObsValue::Value(111_800.0),
        status: Default::default(),
        source: "市独自調査".into(),
        note: String::new(),
        entered_by: "staff".into(),
        entered_at: String::new(),
        confirmed_by: String::new(),
        confirmed_at: String::new(),
    };
    store
        .apply(
            &Dataset {
                observations: vec![own],
                ..Dataset::default()
            },
            "staff",
        )
        .await
        .unwrap();

    let data = sample();
    // The code is set: no --city needed, and a different one is refused.
    let err = import_estat_data(&store, &data, &spec("AREA"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ComparisonError::CityMismatch { set, given } if set == "011002" && given == "131016"),
        "{err}"
    );
    let spec = |kpi| ImportSpec {
        city: None,
        ..spec(kpi)
    };
    let r = import_estat_data(&store, &data, &spec("AREA"))
        .await
        .unwrap();
    assert_eq!(r.observations, 9);
    assert_eq!(r.skipped.own_city, 1);
    assert!(
        r.warnings
            .iter()
            .any(|w| w.contains("--overwrite-own-city"))
    );
    let obs = all(&store).await;
    assert_eq!(obs.len(), 10);
    let y1981 = obs.iter().find(|o| o.period.to_string() == "1981").unwrap();
    assert_eq!(
        (y1981.value, y1981.source.as_str()),
        (ObsValue::Value(111_800.0), "市独自調査")
    );
    // One audit row says where the values came from.
    let audit = store.audit_entries(10, 0).await.unwrap();
    let row = audit
        .iter()
        .find(|a| a.action == citykpi_app::comparison::AUDIT_ACTION)
        .expect("an audit row of the import");
    let after = row.after.as_ref().unwrap();
    assert_eq!(row.actor, "test");
    assert_eq!(after["source"], "e-Stat 0000020202");
    assert_eq!(after["observations"]["inserted"], 9);
    assert_eq!(after["skipped"]["own_city"], 1);

    // Importing again keeps it; asking to overwrite replaces it.
    let r = import_estat_data(
        &store,
        &data,
        &ImportSpec {
            overwrite_own_city: true,
            ..spec("AREA")
        },
    )
    .await
    .unwrap();
    assert_eq!(r.skipped.own_city, 0);
    let applied = r.applied.unwrap();
    assert_eq!((applied.updated, applied.unchanged), (1, 9));
    let obs = all(&store).await;
    let y1981 = obs.iter().find(|o| o.period.to_string() == "1981").unwrap();
    assert_eq!(y1981.value, ObsValue::Value(111_801.0));
}

#[tokio::test]
async fn the_city_code_is_needed_once_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_kpis(&dir, KPIS).await;
    let without = ImportSpec {
        city: None,
        ..spec("AREA")
    };
    let err = import_estat_data(&store, &sample(), &without)
        .await
        .unwrap_err();
    assert!(matches!(err, ComparisonError::NoCityCode), "{err}");
    assert!(err.to_string().contains("--city"));
    assert!(all(&store).await.is_empty());
    // A dry run only warns.
    let r = import_estat_data(
        &store,
        &sample(),
        &ImportSpec {
            dry_run: true,
            ..without.clone()
        },
    )
    .await
    .unwrap();
    assert!(
        r.warnings.iter().any(|w| w.contains("--city")),
        "{:?}",
        r.warnings
    );
    // Not a local government, or a wrong check digit.
    for bad in ["00000", "131017"] {
        let err = import_estat_data(
            &store,
            &sample(),
            &ImportSpec {
                city: Some(bad.into()),
                ..spec("AREA")
            },
        )
        .await
        .unwrap_err();
        assert!(matches!(err, ComparisonError::Usage(_)), "{bad}: {err}");
    }
    // Given once (5 digits are fine), kept.
    import_estat_data(
        &store,
        &sample(),
        &ImportSpec {
            city: Some("13101".into()),
            ..spec("AREA")
        },
    )
    .await
    .unwrap();
    assert_eq!(
        store
            .get_setting(citykpi_app::settings::CITY_CODE)
            .await
            .unwrap()
            .as_deref(),
        Some("131016")
    );
    let r = import_estat_data(&store, &sample(), &without)
        .await
        .unwrap();
    assert_eq!(r.applied.unwrap().unchanged, 10);
}

/// The city's own values of AREA for `years`, kept without an area code.
async fn own_values_without_area(store: &Store, years: std::ops::Range<i32>) {
    let observations = years
        .map(|y| Observation {
            kpi_code: "AREA".into(),
            period: Period::parse(&y.to_string()).unwrap(),
            area_code: String::new(),
            value: ObsValue::Value(f64::from(y)),
            status: Default::default(),
            source: "市".into(),
            note: String::new(),
            entered_by: "staff".into(),
            entered_at: String::new(),
            confirmed_by: String::new(),
            confirmed_at: String::new(),
        })
        .collect();
    store
        .apply(
            &Dataset {
                observations,
                ..Dataset::default()
            },
            "staff",
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn without_a_code_the_most_observed_area_must_stay_the_city() {
    let without = ImportSpec {
        city: None,
        ..spec("AREA")
    };
    // 30 own values (no area code) outnumber Sapporo's 10: status keeps the city.
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_kpis(&dir, KPIS).await;
    own_values_without_area(&store, 1991..2021).await;
    let r = import_estat_data(&store, &sample(), &without)
        .await
        .unwrap();
    assert_eq!(r.applied.unwrap().inserted, 10);
    assert_eq!(all(&store).await.len(), 40);
    let fy = citykpi_domain::FiscalYear::new(2020).unwrap();
    let status = citykpi_app::status::kpi_status(&store, fy).await.unwrap();
    assert_eq!(
        status.area_code, "",
        "the status still reads the city's own values"
    );
    // Setting a code now would hide those 30 from the status: refused.
    let err = import_estat_data(&store, &sample(), &spec("AREA"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, ComparisonError::BlankAreaValues { blank: 30, .. }),
        "{err}"
    );
    assert!(
        store
            .get_setting(citykpi_app::settings::CITY_CODE)
            .await
            .unwrap()
            .is_none()
    );

    // 5 own values against Sapporo's 10: Sapporo would become "the city".
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_kpis(&dir, KPIS).await;
    own_values_without_area(&store, 2016..2021).await;
    let err = import_estat_data(&store, &sample(), &without)
        .await
        .unwrap_err();
    assert!(matches!(err, ComparisonError::NoCityCode), "{err}");
    assert_eq!(all(&store).await.len(), 5);
}

#[tokio::test]
async fn two_values_for_one_key_are_refused_and_a_map_separates_them() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_kpis(&dir, KPIS).await;
    // Value 2 becomes B1102 (the area with the Northern Territories) of 1981.
    let mut data = sample();
    data.values[1].dims.insert("cat01".into(), "B1102".into());
    data.values[1]
        .dims
        .insert("time".into(), "1981100000".into());
    data.values[1].value = ObsValue::Value(111_900.0);

    let err = import_estat_data(&store, &data, &spec("AREA"))
        .await
        .unwrap_err();
    let ComparisonError::Invalid(report) = &err else {
        panic!("{err}")
    };
    assert_eq!(report.problems.len(), 1);
    assert_eq!(report.problems[0].row, Some(2));
    let text = err.to_string();
    assert!(
        text.contains("1件目") && text.contains("111801") && text.contains("111900"),
        "{text}"
    );
    assert!(
        text.contains("[cat01=B1101 tab=00001 / cat01=B1102 tab=00001]"),
        "the message names the dimensions that differ: {text}"
    );
    assert!(all(&store).await.is_empty(), "nothing written");

    // A whole table under one KPI: 30 collisions, 20 listed and the rest counted.
    let mut whole = sample();
    for (n, cat) in ["B1102", "B1103", "B1104"].into_iter().enumerate() {
        for v in sample().values {
            let mut v = v;
            v.dims.insert("cat01".into(), cat.into());
            v.value = ObsValue::Value(n as f64);
            whole.values.push(v);
        }
    }
    let err = import_estat_data(&store, &whole, &spec("AREA"))
        .await
        .unwrap_err();
    let ComparisonError::Invalid(report) = &err else {
        panic!("{err}")
    };
    assert_eq!(report.problems.len(), 21);
    assert_eq!(report.problems[0].row, Some(11));
    assert!(
        report.problems[20]
            .reason
            .contains("10 more values collide"),
        "{err}"
    );
    assert!(all(&store).await.is_empty(), "nothing written");

    let mapped = ImportSpec {
        mapping: KpiMapping {
            default_kpi: Some("AREA".into()),
            rules: vec![MapRule::parse("cat01=B1102:AREA2").unwrap()],
        },
        ..spec("AREA")
    };
    let r = import_estat_data(&store, &data, &mapped).await.unwrap();
    assert_eq!(r.kpis, vec!["AREA", "AREA2"]);
    let obs = all(&store).await;
    assert_eq!(obs.len(), 10);
    let area2 = obs.iter().find(|o| o.kpi_code == "AREA2").unwrap();
    assert_eq!(
        (area2.period.to_string(), area2.value),
        ("1981".to_string(), ObsValue::Value(111_900.0))
    );
}

#[tokio::test]
async fn a_unit_other_than_the_kpis_is_said() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_kpis(
        &dir,
        "kpi_code,name_ja,unit,direction\nPOP,人口,人,higher\n",
    )
    .await;
    let r = import_estat_data(&store, &sample(), &spec("POP"))
        .await
        .unwrap();
    assert!(
        r.warnings
            .iter()
            .any(|w| w.contains("\"POP\" is kept in \"人\"") && w.contains("ｈａ")),
        "{:?}",
        r.warnings
    );
}

#[test]
fn a_silent_server_times_out() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    // Accepts and never answers.
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming() {
            held.push(s);
        }
    });
    let mut client = EstatClient::new("K").with_base_url(url);
    client.timeout = Duration::from_secs(1);
    let started = Instant::now();
    let err = client
        .fetch_all(&EstatRequest {
            stats_data_id: "0000020202".into(),
            ..EstatRequest::default()
        })
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(10));
    let ComparisonError::Http { url, reason } = &err else {
        panic!("{err}")
    };
    assert!(url.contains("appId=***"), "{url}");
    assert!(reason.to_lowercase().contains("timeout"), "{reason}");
}
