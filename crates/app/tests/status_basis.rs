//! A KPI's status basis (判定方法) through the file import, the store and the
//! export, on a real SQLite file and a real PostgreSQL database: Japanese and
//! English headers, the default left empty, an unknown basis refused with
//! its column named.

mod common;

use citykpi_domain::Kind;
use citykpi_domain::kpi::{Frequency, StatusBasis};
use citykpi_io::{Format, HeaderLang};
use common::Db;

const KPIS_JA: &str = "指標コード,指標名,単位,方向,測定頻度,判定方法\n\
M-1,子育て相談件数,件,増加,月次,年度累計\n\
M-2,職員1人当たり月平均時間外勤務時間,時間,減少,月次,\n\
Q-1,財政調整基金残高比率,%,増加,四半期,直近12か月平均\n\
Y-1,健康寿命,歳,増加,年次,最新値\n";

async fn status_basis_round_trip(postgres: bool) {
    let db = Db::open(postgres).await;
    let s = &db.store;
    citykpi_app::data::import_bytes(
        s,
        "kpis.csv",
        KPIS_JA.as_bytes().to_vec(),
        Some(Kind::Kpis),
        false,
        "tester",
    )
    .await
    .unwrap();
    let kpis = s.kpis().await.unwrap();
    let basis = |code: &str| {
        let k = kpis.iter().find(|k| k.code == code).unwrap();
        (k.status_basis, k.basis())
    };
    assert_eq!(
        basis("M-1"),
        (Some(StatusBasis::YtdSum), StatusBasis::YtdSum)
    );
    // Left empty: the monthly default, the twelve-month mean.
    assert_eq!(basis("M-2"), (None, StatusBasis::Last12Mean));
    assert_eq!(
        basis("Q-1"),
        (Some(StatusBasis::Last12Mean), StatusBasis::Last12Mean)
    );
    assert_eq!(
        kpis.iter().find(|k| k.code == "Q-1").unwrap().frequency,
        Frequency::Quarterly
    );
    assert_eq!(
        basis("Y-1"),
        (Some(StatusBasis::Latest), StatusBasis::Latest)
    );

    // Export with Japanese and English headers; the empty one stays empty.
    let ja = citykpi_app::data::export_kind(s, Kind::Kpis, Format::Csv, HeaderLang::Ja)
        .await
        .unwrap();
    let ja = String::from_utf8(ja).unwrap();
    let header = ja.lines().next().unwrap();
    assert!(header.ends_with(",判定方法"), "{header}");
    let row = |code: &str| {
        ja.lines()
            .find(|l| l.starts_with(&format!("{code},")))
            .unwrap()
            .to_string()
    };
    assert!(row("M-1").ends_with(",ytd_sum"), "{}", row("M-1"));
    assert!(row("M-2").ends_with(','), "{}", row("M-2"));
    assert!(row("Q-1").ends_with(",last12_mean"));
    let en = citykpi_app::data::export_kind(s, Kind::Kpis, Format::Json, HeaderLang::En)
        .await
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&en).unwrap();
    assert!(json.to_string().contains("\"status_basis\""), "{json}");
    let en_csv = citykpi_app::data::export_kind(s, Kind::Kpis, Format::Csv, HeaderLang::En)
        .await
        .unwrap();
    assert!(
        String::from_utf8(en_csv)
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .ends_with(",status_basis")
    );

    // The export imports back unchanged (XLSX too).
    for format in [Format::Csv, Format::Xlsx] {
        let bytes = citykpi_app::data::export_kind(s, Kind::Kpis, format, HeaderLang::Ja)
            .await
            .unwrap();
        let name = match format {
            Format::Xlsx => "kpis.xlsx",
            _ => "kpis.csv",
        };
        let again =
            citykpi_app::data::import_bytes(s, name, bytes, Some(Kind::Kpis), false, "tester")
                .await
                .unwrap();
        let applied = again.applied.unwrap();
        assert_eq!(applied.kpis.unchanged, 4, "{format:?}");
        assert_eq!(applied.kpis.updated, 0, "{format:?}");
    }
    assert_eq!(s.kpis().await.unwrap(), kpis);

    // An edited basis is stored; an unknown one is refused, naming the column.
    let edited = KPIS_JA.replace("減少,月次,", "減少,月次,直近12か月合計");
    citykpi_app::data::import_bytes(
        s,
        "kpis.csv",
        edited.into_bytes(),
        Some(Kind::Kpis),
        false,
        "tester",
    )
    .await
    .unwrap();
    let m2 = s.kpi("M-2").await.unwrap().unwrap();
    assert_eq!(m2.status_basis, Some(StatusBasis::Last12Sum));
    let bad = KPIS_JA.replace("年度累計", "中央値");
    let err = citykpi_app::data::import_bytes(
        s,
        "kpis.csv",
        bad.into_bytes(),
        Some(Kind::Kpis),
        false,
        "tester",
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(err.contains("判定方法") && err.contains("中央値"), "{err}");
    assert_eq!(
        s.kpi("M-1").await.unwrap().unwrap().status_basis,
        Some(StatusBasis::YtdSum),
        "nothing written"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_basis_round_trip_sqlite() {
    status_basis_round_trip(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_basis_round_trip_postgres() {
    status_basis_round_trip(true).await;
}
