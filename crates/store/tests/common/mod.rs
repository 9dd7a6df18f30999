//! Test databases for both backends and a realistic dataset built inline.
//!
//! Every test body runs once on a fresh SQLite file in a temporary directory
//! and once on a fresh PostgreSQL database `citykpi_test_<random>` that is
//! dropped afterwards, also when the test fails. PostgreSQL tests never skip:
//! if the server does not answer they fail and say so.

#![allow(dead_code)]

use citykpi_domain::kpi::{Direction, Frequency, Kpi, NodeLink, SdgTag, StatusBasis, YearValue};
use citykpi_domain::money::{FundingSources, ProgramMoney};
use citykpi_domain::observation::{ObsStatus, ObsValue, Observation, Period};
use citykpi_domain::org::{Department, Role, Section, User};
use citykpi_domain::plan::{LevelName, Plan, PlanNode};
use citykpi_domain::program::{
    DeliveryMethod, EvidenceGrade, IndicatorKind, KpiLink, Program, ProgramIndicator,
};
use citykpi_domain::progress::{GradeStyle, RollupMethod, StatusThresholds};
use citykpi_domain::{Dataset, FiscalYear};
use citykpi_store::{Backend, Store};
use sqlx::Connection;

/// The server the PostgreSQL tests create their databases on.
pub fn pg_admin_url() -> String {
    std::env::var("CITYKPI_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

fn pg_url_for(db: &str) -> String {
    let admin = pg_admin_url();
    match admin.rfind('/') {
        Some(i) if i > "postgres://".len() => format!("{}/{db}", &admin[..i]),
        _ => format!("{admin}/{db}"),
    }
}

pub struct TestDb {
    pub store: Store,
    _dir: Option<tempfile::TempDir>,
    pg_name: Option<String>,
    _pg: Option<PgDbGuard>,
    pub path: Option<std::path::PathBuf>,
}

impl TestDb {
    pub async fn new(backend: Backend) -> TestDb {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temporary directory");
                let path = dir.path().join("citykpi.db");
                let store = Store::open(path.to_str().expect("utf-8 temp path"))
                    .await
                    .expect("open SQLite store");
                TestDb {
                    store,
                    _dir: Some(dir),
                    pg_name: None,
                    _pg: None,
                    path: Some(path),
                }
            }
            Backend::Postgres => {
                let name = format!("citykpi_test_{:016x}", rand::random::<u64>());
                let admin_url = pg_admin_url();
                let mut admin = match tokio::time::timeout(
                    std::time::Duration::from_secs(10),
                    sqlx::PgConnection::connect(&admin_url),
                )
                .await
                {
                    Ok(Ok(c)) => c,
                    Ok(Err(e)) => panic!(
                        "PostgreSQL at {admin_url} did not answer ({e}). The PostgreSQL tests never skip: \
                         start PostgreSQL or set CITYKPI_TEST_PG_URL to a server where they may create databases."
                    ),
                    Err(_) => panic!(
                        "PostgreSQL at {admin_url} did not answer within 10 s. The PostgreSQL tests never skip: \
                         start PostgreSQL or set CITYKPI_TEST_PG_URL."
                    ),
                };
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut admin)
                    .await
                    .expect("CREATE DATABASE for the test");
                let _ = admin.close().await;
                // From here on the guard removes the database, also if opening fails.
                let guard = PgDbGuard(name.clone());
                let store = Store::open(&pg_url_for(&name))
                    .await
                    .expect("open PostgreSQL store");
                TestDb {
                    store,
                    _dir: None,
                    pg_name: Some(name),
                    _pg: Some(guard),
                    path: None,
                }
            }
        }
    }

    pub fn backend(&self) -> Backend {
        self.store.backend()
    }

    /// A second, independent store on the same database (a second web worker).
    pub async fn reopen(&self) -> Store {
        match (&self.path, &self.pg_name) {
            (Some(p), _) => Store::open(p.to_str().unwrap()).await.unwrap(),
            (_, Some(name)) => Store::open(&pg_url_for(name)).await.unwrap(),
            _ => unreachable!("a test database is either a file or a PostgreSQL database"),
        }
    }

    pub async fn finish(self) {
        self.store.close().await;
        drop(self);
    }
}

/// Drops the PostgreSQL test database when it goes out of scope, also while
/// a failing test unwinds.
struct PgDbGuard(String);

impl Drop for PgDbGuard {
    fn drop(&mut self) {
        let name = self.0.clone();
        // Drop runs inside the test's runtime, possibly while unwinding: use a
        // fresh runtime on another thread. FORCE ends connections still open.
        let url = pg_admin_url();
        let handle = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            rt.block_on(async {
                let mut admin = sqlx::PgConnection::connect(&url)
                    .await
                    .map_err(std::io::Error::other)?;
                sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin)
                    .await
                    .map_err(std::io::Error::other)?;
                Ok::<(), std::io::Error>(())
            })
        });
        if let Ok(Err(e)) = handle.join() {
            eprintln!("could not drop the test database: {e}");
        }
    }
}

pub fn fy(y: i32) -> FiscalYear {
    FiscalYear::new(y).unwrap()
}

/// A small city: two departments, three sections, three users, one plan
/// with two policies and three measures, four KPIs, two programs with
/// links, indicators and money, and observations including missing,
/// secret and provisional values.
pub fn city() -> Dataset {
    let departments = vec![
        Department {
            code: "D01".into(),
            name_ja: "市長公室".into(),
            name_en: "Mayor's Office".into(),
            sort_order: 1,
        },
        Department {
            code: "D02".into(),
            name_ja: "こども青少年局".into(),
            name_en: "Children and Youth Bureau".into(),
            sort_order: 2,
        },
    ];
    let sections = vec![
        Section {
            code: "S011".into(),
            department_code: "D01".into(),
            name_ja: "政策企画課".into(),
            name_en: "Policy Planning".into(),
            sort_order: 1,
        },
        Section {
            code: "S012".into(),
            department_code: "D01".into(),
            name_ja: "広報課".into(),
            name_en: "Public Relations".into(),
            sort_order: 2,
        },
        Section {
            code: "S021".into(),
            department_code: "D02".into(),
            name_ja: "保育企画課".into(),
            name_en: String::new(),
            sort_order: 1,
        },
    ];
    let users = vec![
        User {
            login: "admin".into(),
            display_name: "管理者".into(),
            email: Some("admin@city.example.jp".into()),
            section_code: "S011".into(),
            role: Role::Admin,
            password_hash: Some(
                "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo".into(),
            ),
            active: true,
        },
        User {
            login: "sato".into(),
            display_name: "佐藤 花子".into(),
            email: None,
            section_code: "S021".into(),
            role: Role::DepartmentEditor,
            password_hash: None,
            active: true,
        },
        User {
            login: "tanaka".into(),
            display_name: "田中 一郎".into(),
            email: Some("tanaka@city.example.jp".into()),
            section_code: "S012".into(),
            role: Role::Viewer,
            password_hash: None,
            active: false,
        },
    ];
    let plans = vec![Plan {
        code: "BP2025".into(),
        name_ja: "基本計画2025".into(),
        name_en: "Basic Plan 2025".into(),
        start_fy: fy(2025),
        end_fy: fy(2034),
        level_names: vec![
            LevelName {
                ja: "政策".into(),
                en: "Policy".into(),
            },
            LevelName {
                ja: "施策".into(),
                en: "Measure".into(),
            },
        ],
        thresholds: StatusThresholds {
            achieved: 1.0,
            on_track: 0.75,
            behind: 0.1,
            style: GradeStyle::Symbols,
        },
        rollup: RollupMethod::Plain,
        published: true,
    }];
    let node = |code: &str,
                parent: Option<&str>,
                level: u8,
                name: &str,
                order: i32,
                weight: Option<f64>| PlanNode {
        code: code.into(),
        plan_code: "BP2025".into(),
        parent_code: parent.map(Into::into),
        level,
        name_ja: name.into(),
        name_en: String::new(),
        sort_order: order,
        weight,
    };
    // Children listed before their parents on purpose: apply must order them.
    let plan_nodes = vec![
        node("M1-1", Some("P1"), 2, "待機児童の解消", 1, Some(2.0)),
        node("M1-2", Some("P1"), 2, "子育て相談の充実", 2, None),
        node("M2-1", Some("P2"), 2, "戦略的広報", 1, Some(0.5)),
        node("P1", None, 1, "子育てしやすいまち", 1, None),
        node("P2", None, 1, "開かれた市政", 2, Some(1.5)),
    ];
    let kpis = vec![
        Kpi {
            code: "K001".into(),
            name_ja: "待機児童数".into(),
            name_en: "Children on waiting lists".into(),
            unit: "人".into(),
            direction: Direction::LowerIsBetter,
            frequency: Frequency::Annual,
            baseline: Some(YearValue {
                fy: fy(2024),
                value: 120.0,
            }),
            targets: vec![
                YearValue {
                    fy: fy(2025),
                    value: 90.0,
                },
                YearValue {
                    fy: fy(2026),
                    value: 60.0,
                },
            ],
            final_target: Some(YearValue {
                fy: fy(2034),
                value: 0.0,
            }),
            source: "こども青少年局調べ".into(),
            publication_lag_years: 0,
            description: "4月1日時点".into(),
            owner_sections: vec!["S021".into()],
            nodes: vec![NodeLink {
                node_code: "M1-1".into(),
                weight: Some(1.0),
            }],
            sdgs: vec![
                SdgTag {
                    goal: 4,
                    target: Some("4.2".into()),
                },
                SdgTag {
                    goal: 1,
                    target: None,
                },
            ],
            published: true,
            status_basis: None,
        },
        Kpi {
            code: "K002".into(),
            name_ja: "子育て相談件数".into(),
            name_en: String::new(),
            unit: "件".into(),
            direction: Direction::HigherIsBetter,
            frequency: Frequency::Monthly,
            baseline: None,
            targets: vec![],
            final_target: None,
            source: String::new(),
            publication_lag_years: 1,
            description: String::new(),
            owner_sections: vec!["S021".into(), "S011".into()],
            nodes: vec![
                NodeLink {
                    node_code: "M1-2".into(),
                    weight: None,
                },
                NodeLink {
                    node_code: "M1-1".into(),
                    weight: Some(0.25),
                },
            ],
            sdgs: vec![],
            published: false,
            status_basis: Some(StatusBasis::YtdSum),
        },
        Kpi {
            code: "K003".into(),
            name_ja: "財政調整基金残高比率".into(),
            name_en: "Reserve ratio".into(),
            unit: "%".into(),
            direction: Direction::Band {
                lower: 5.0,
                upper: 10.5,
            },
            frequency: Frequency::Quarterly,
            baseline: Some(YearValue {
                fy: fy(2023),
                value: 7.25,
            }),
            targets: vec![YearValue {
                fy: fy(2027),
                value: 8.0,
            }],
            final_target: Some(YearValue {
                fy: fy(2030),
                value: 8.5,
            }),
            source: "決算カード".into(),
            publication_lag_years: 2,
            description: "標準財政規模に対する割合".into(),
            owner_sections: vec!["S011".into()],
            nodes: vec![],
            sdgs: vec![SdgTag {
                goal: 16,
                target: Some("16.6".into()),
            }],
            published: true,
            status_basis: Some(StatusBasis::Last12Mean),
        },
        Kpi {
            code: "K004".into(),
            name_ja: "市公式LINE友だち数".into(),
            name_en: "LINE followers".into(),
            unit: "人".into(),
            direction: Direction::HigherIsBetter,
            frequency: Frequency::Annual,
            baseline: Some(YearValue {
                fy: fy(2024),
                value: 150_000.0,
            }),
            targets: vec![],
            final_target: Some(YearValue {
                fy: fy(2029),
                value: 300_000.0,
            }),
            source: String::new(),
            publication_lag_years: 0,
            description: String::new(),
            owner_sections: vec!["S012".into()],
            nodes: vec![NodeLink {
                node_code: "M2-1".into(),
                weight: None,
            }],
            sdgs: vec![SdgTag {
                goal: 17,
                target: None,
            }],
            published: true,
            status_basis: None,
        },
    ];
    let obs =
        |kpi: &str, period: Period, area: &str, value: ObsValue, status: ObsStatus, note: &str| {
            Observation {
                kpi_code: kpi.into(),
                period,
                area_code: area.into(),
                value,
                status,
                source: "原課報告".into(),
                note: note.into(),
                entered_by: "import".into(),
                entered_at: "2025-06-30T09:15:02.123Z".into(),
                confirmed_by: String::new(),
                confirmed_at: String::new(),
            }
        };
    use ObsStatus::{Final, Provisional};
    let observations = vec![
        obs(
            "K001",
            Period::Year(fy(2024)),
            "271004",
            ObsValue::Value(118.0),
            Final,
            "",
        ),
        obs(
            "K001",
            Period::Year(fy(2025)),
            "271004",
            ObsValue::Value(97.0),
            Provisional,
            "速報値",
        ),
        obs(
            "K001",
            Period::Year(fy(2025)),
            "271021",
            ObsValue::Secret,
            Final,
            "秘匿（少数）",
        ),
        obs(
            "K002",
            Period::Month(2025, 4),
            "271004",
            ObsValue::Value(1234.5),
            Final,
            "タブ\tと改行\nと\\を含む",
        ),
        obs(
            "K002",
            Period::Month(2026, 3),
            "271004",
            ObsValue::Missing,
            Final,
            "未集計",
        ),
        obs(
            "K003",
            Period::Quarter(fy(2024), 1),
            "271004",
            ObsValue::Value(-0.125),
            Final,
            "",
        ),
        obs(
            "K003",
            Period::Quarter(fy(2024), 4),
            "271004",
            ObsValue::Value(7.333333333333333),
            Provisional,
            "",
        ),
        obs(
            "K004",
            Period::Year(fy(2024)),
            "271004",
            ObsValue::Value(151_234.0),
            Final,
            "",
        ),
    ];
    let program = |code: &str, name: &str, section: &str, delivery: DeliveryMethod| Program {
        code: code.into(),
        name_ja: name.into(),
        name_en: String::new(),
        section_code: section.into(),
        purpose: "目的".into(),
        target_group: "市民".into(),
        intent: "意図".into(),
        means: "手段".into(),
        delivery,
        legal_basis: String::new(),
        start_fy: Some(fy(2019)),
        end_fy: None,
        mandatory: false,
        published: true,
    };
    let mut nursery = program("P0001", "保育所整備事業", "S021", DeliveryMethod::Subsidy);
    nursery.legal_basis = "児童福祉法".into();
    nursery.mandatory = true;
    let mut line = program("P0002", "LINE広報事業", "S012", DeliveryMethod::Outsourced);
    line.start_fy = None;
    line.end_fy = Some(fy(2027));
    line.published = false;
    let programs = vec![nursery, line];
    let links = vec![
        KpiLink {
            program_code: "P0001".into(),
            kpi_code: "K001".into(),
            weight: 0.6,
            rationale: "定員増".into(),
            evidence_grade: EvidenceGrade::Correlational,
        },
        KpiLink {
            program_code: "P0001".into(),
            kpi_code: "K002".into(),
            weight: 0.1,
            rationale: String::new(),
            evidence_grade: EvidenceGrade::Claimed,
        },
        KpiLink {
            program_code: "P0002".into(),
            kpi_code: "K004".into(),
            weight: 0.9,
            rationale: "友だち登録キャンペーン".into(),
            evidence_grade: EvidenceGrade::Causal,
        },
    ];
    let indicators = vec![
        ProgramIndicator {
            program_code: "P0001".into(),
            code: "A1".into(),
            kind: IndicatorKind::Activity,
            name_ja: "整備箇所数".into(),
            unit: "か所".into(),
            fy: fy(2024),
            target: Some(5.0),
            actual: Some(4.0),
        },
        ProgramIndicator {
            program_code: "P0001".into(),
            code: "A1".into(),
            kind: IndicatorKind::Activity,
            name_ja: "整備箇所数".into(),
            unit: "か所".into(),
            fy: fy(2025),
            target: Some(6.0),
            actual: None,
        },
        ProgramIndicator {
            program_code: "P0001".into(),
            code: "O1".into(),
            kind: IndicatorKind::Outcome,
            name_ja: "定員増".into(),
            unit: "人".into(),
            fy: fy(2024),
            target: None,
            actual: Some(180.0),
        },
    ];
    let money = vec![
        ProgramMoney {
            program_code: "P0001".into(),
            fy: fy(2024),
            budget_initial: 1_250_000_000,
            budget_revised: Some(1_300_000_000),
            settled: Some(1_287_654_321),
            funding: FundingSources {
                national: 600_000_000,
                prefectural: 100_000_000,
                bonds: 0,
                other: 7_654_321,
                general: 580_000_000,
            },
            staff_fte: 3.5,
            staff_unit_cost: 8_200_000,
            output_quantity: Some(180.0),
        },
        ProgramMoney {
            program_code: "P0002".into(),
            fy: fy(2025),
            budget_initial: 12_000_000,
            budget_revised: None,
            settled: None,
            funding: FundingSources::default(),
            staff_fte: 0.0,
            staff_unit_cost: 0,
            output_quantity: None,
        },
    ];
    Dataset {
        departments,
        sections,
        users,
        plans,
        plan_nodes,
        kpis,
        observations,
        programs,
        links,
        indicators,
        money,
    }
}

/// The dataset in the store's loader order (sorted by natural key).
pub fn sorted(mut ds: Dataset) -> Dataset {
    ds.departments.sort_by(|a, b| a.code.cmp(&b.code));
    ds.sections.sort_by(|a, b| a.code.cmp(&b.code));
    ds.users.sort_by(|a, b| a.login.cmp(&b.login));
    ds.plans.sort_by(|a, b| a.code.cmp(&b.code));
    ds.plan_nodes.sort_by(|a, b| a.code.cmp(&b.code));
    ds.kpis.sort_by(|a, b| a.code.cmp(&b.code));
    ds.observations.sort_by(|a, b| {
        (
            &a.kpi_code,
            a.period.fiscal_year(),
            a.period.to_string(),
            &a.area_code,
        )
            .cmp(&(
                &b.kpi_code,
                b.period.fiscal_year(),
                b.period.to_string(),
                &b.area_code,
            ))
    });
    ds.programs.sort_by(|a, b| a.code.cmp(&b.code));
    ds.links
        .sort_by(|a, b| (&a.program_code, &a.kpi_code).cmp(&(&b.program_code, &b.kpi_code)));
    ds.indicators
        .sort_by(|a, b| (&a.program_code, &a.code, a.fy).cmp(&(&b.program_code, &b.code, b.fy)));
    ds.money
        .sort_by(|a, b| (&a.program_code, a.fy).cmp(&(&b.program_code, b.fy)));
    ds
}

/// `n` observations over the city's four KPIs, monthly periods and many areas,
/// with every tenth missing, every 17th secret and every 7th provisional.
pub fn many_observations(n: usize, seed: u64) -> Vec<Observation> {
    let kpis = ["K001", "K002", "K003", "K004"];
    let areas_per_period = 250;
    (0..n)
        .map(|i| {
            let kpi = kpis[i % kpis.len()];
            let j = i / kpis.len();
            let area = 100_000 + (j % areas_per_period);
            let month_index = j / areas_per_period;
            let (year, month) = (
                2000 + (month_index / 12) as i32,
                (month_index % 12) as u8 + 1,
            );
            let value = if i % 10 == 3 {
                ObsValue::Missing
            } else if i % 17 == 5 {
                ObsValue::Secret
            } else {
                ObsValue::Value(
                    ((i as u64).wrapping_mul(2_654_435_761).wrapping_add(seed) % 1_000_000) as f64
                        / 8.0,
                )
            };
            Observation {
                kpi_code: kpi.into(),
                period: Period::Month(year, month),
                area_code: area.to_string(),
                value,
                status: if i % 7 == 0 {
                    ObsStatus::Provisional
                } else {
                    ObsStatus::Final
                },
                source: "e-Stat".into(),
                note: String::new(),
                entered_by: "import".into(),
                entered_at: "2025-07-01T00:00:00.000Z".into(),
                confirmed_by: String::new(),
                confirmed_at: String::new(),
            }
        })
        .collect()
}

/// A database that does not exist yet, or exists with nothing in it: no
/// tables, no migrations (what a restore or a move writes into). A SQLite
/// file in a temporary folder (not created), or a PostgreSQL database
/// created empty and dropped afterwards.
pub struct EmptyDb {
    pub url: String,
    pub path: Option<std::path::PathBuf>,
    _dir: Option<tempfile::TempDir>,
    _pg: Option<PgDbGuard>,
}

impl EmptyDb {
    pub async fn new(backend: Backend) -> EmptyDb {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temporary directory");
                let path = dir.path().join("restored.db");
                EmptyDb {
                    url: path.display().to_string(),
                    path: Some(path),
                    _dir: Some(dir),
                    _pg: None,
                }
            }
            Backend::Postgres => {
                let name = format!("citykpi_test_{:016x}", rand::random::<u64>());
                let mut admin = sqlx::PgConnection::connect(&pg_admin_url())
                    .await
                    .expect("PostgreSQL must answer for the PostgreSQL tests");
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut admin)
                    .await
                    .expect("CREATE DATABASE for the test");
                let _ = admin.close().await;
                EmptyDb {
                    url: pg_url_for(&name),
                    path: None,
                    _dir: None,
                    _pg: Some(PgDbGuard(name)),
                }
            }
        }
    }

    /// The URL of a SQLite test database or of a PostgreSQL one.
    pub fn of(db: &TestDb) -> String {
        match (&db.path, &db.pg_name) {
            (Some(p), _) => p.display().to_string(),
            (_, Some(name)) => pg_url_for(name),
            _ => unreachable!("a test database is either a file or a PostgreSQL database"),
        }
    }
}
