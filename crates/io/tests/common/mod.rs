//! A realistic small dataset of a Japanese city, used by the io tests.
#![allow(dead_code)]

use citykpi_domain::fiscal::FiscalYear;
use citykpi_domain::kpi::{Direction, Frequency, Kpi, NodeLink, SdgTag, StatusBasis, YearValue};
use citykpi_domain::money::{FundingSources, ProgramMoney};
use citykpi_domain::observation::{ObsStatus, ObsValue, Observation, Period};
use citykpi_domain::org::{Department, Role, Section, User};
use citykpi_domain::plan::{LevelName, Plan, PlanNode};
use citykpi_domain::program::{
    DeliveryMethod, EvidenceGrade, IndicatorKind, KpiLink, Program, ProgramIndicator,
};
use citykpi_domain::progress::{GradeStyle, RollupMethod, StatusThresholds};
use citykpi_domain::{Dataset, KnownKeys};

pub fn fy(y: i32) -> FiscalYear {
    FiscalYear::new(y).unwrap()
}

fn s(x: &str) -> String {
    x.to_string()
}

pub fn city() -> Dataset {
    let departments = vec![
        Department {
            code: s("D01"),
            name_ja: s("市長公室"),
            name_en: s("Mayor's Office"),
            sort_order: 1,
        },
        Department {
            code: s("D02"),
            name_ja: s("健康福祉局"),
            name_en: s("Health and Welfare Bureau"),
            sort_order: 2,
        },
        Department {
            code: s("D03"),
            name_ja: s("会計室"),
            name_en: String::new(),
            sort_order: 3,
        },
    ];
    let sections = vec![
        Section {
            code: s("S01"),
            department_code: s("D01"),
            name_ja: s("政策企画課"),
            name_en: s("Policy Planning"),
            sort_order: 1,
        },
        Section {
            code: s("S02"),
            department_code: s("D01"),
            name_ja: s("広報課"),
            name_en: String::new(),
            sort_order: 2,
        },
        Section {
            code: s("S10"),
            department_code: s("D02"),
            name_ja: s("健康づくり推進課"),
            name_en: s("Health Promotion"),
            sort_order: 1,
        },
    ];
    let users = vec![
        User {
            login: s("tanaka"),
            display_name: s("田中 一郎"),
            email: Some(s("tanaka@city.example.jp")),
            section_code: s("S01"),
            role: Role::StrategyOffice,
            password_hash: None,
            active: true,
        },
        User {
            login: s("suzuki"),
            display_name: s("鈴木 花子"),
            email: None,
            section_code: s("S10"),
            role: Role::DepartmentEditor,
            password_hash: None,
            active: false,
        },
    ];
    let plans = vec![
        Plan {
            code: s("BP2025"),
            name_ja: s("基本計画2025"),
            name_en: s("Basic Plan 2025"),
            start_fy: fy(2025),
            end_fy: fy(2034),
            level_names: LevelName::defaults(),
            thresholds: StatusThresholds::default(),
            rollup: RollupMethod::Weighted,
            published: true,
        },
        Plan {
            code: s("SDGS"),
            name_ja: s("SDGs未来都市計画"),
            name_en: String::new(),
            start_fy: fy(2024),
            end_fy: fy(2026),
            level_names: vec![
                LevelName {
                    ja: s("ゴール"),
                    en: s("Goal"),
                },
                LevelName {
                    ja: s("取組"),
                    en: String::new(),
                },
            ],
            thresholds: StatusThresholds {
                achieved: 1.0,
                on_track: 0.7,
                behind: 0.1,
                style: GradeStyle::Symbols,
            },
            rollup: RollupMethod::Plain,
            published: false,
        },
    ];
    let plan_nodes = vec![
        PlanNode {
            code: s("P-1"),
            plan_code: s("BP2025"),
            parent_code: None,
            level: 1,
            name_ja: s("健康で安心して暮らせるまち"),
            name_en: s("A healthy, safe city"),
            sort_order: 1,
            weight: None,
        },
        PlanNode {
            code: s("M-1-1"),
            plan_code: s("BP2025"),
            parent_code: Some(s("P-1")),
            level: 2,
            name_ja: s("健康寿命の延伸"),
            name_en: String::new(),
            sort_order: 1,
            weight: Some(2.0),
        },
        PlanNode {
            code: s("M-1-2"),
            plan_code: s("BP2025"),
            parent_code: Some(s("P-1")),
            level: 2,
            name_ja: s("地域医療の充実"),
            name_en: String::new(),
            sort_order: 2,
            weight: Some(0.5),
        },
        PlanNode {
            code: s("G-3"),
            plan_code: s("SDGS"),
            parent_code: None,
            level: 1,
            name_ja: s("すべての人に健康と福祉を"),
            name_en: String::new(),
            sort_order: 1,
            weight: None,
        },
    ];
    let kpis = vec![
        Kpi {
            code: s("K-001"),
            name_ja: s("健康寿命（男性）"),
            name_en: s("Healthy life expectancy (men)"),
            unit: s("歳"),
            direction: Direction::HigherIsBetter,
            frequency: Frequency::Annual,
            baseline: Some(YearValue {
                fy: fy(2023),
                value: 72.5,
            }),
            targets: vec![
                YearValue {
                    fy: fy(2026),
                    value: 73.0,
                },
                YearValue {
                    fy: fy(2028),
                    value: 73.6,
                },
            ],
            final_target: Some(YearValue {
                fy: fy(2034),
                value: 75.0,
            }),
            source: s("厚生労働省「健康寿命の算定」"),
            publication_lag_years: 2,
            description: s("日常生活に制限のない期間の平均。\n「国民生活基礎調査」より, 3年ごと"),
            owner_sections: vec![s("S10"), s("S01")],
            nodes: vec![
                NodeLink {
                    node_code: s("M-1-1"),
                    weight: None,
                },
                NodeLink {
                    node_code: s("G-3"),
                    weight: Some(2.0),
                },
            ],
            sdgs: vec![
                SdgTag {
                    goal: 3,
                    target: None,
                },
                SdgTag {
                    goal: 11,
                    target: Some(s("11.2")),
                },
            ],
            published: true,
            status_basis: None,
        },
        Kpi {
            code: s("K-002"),
            name_ja: s("時間外勤務時間（月平均）"),
            name_en: String::new(),
            unit: s("時間"),
            direction: Direction::LowerIsBetter,
            frequency: Frequency::Monthly,
            baseline: None,
            targets: vec![],
            final_target: Some(YearValue {
                fy: fy(2030),
                value: 10.0,
            }),
            source: String::new(),
            publication_lag_years: 0,
            description: String::new(),
            owner_sections: vec![s("S01")],
            nodes: vec![],
            sdgs: vec![],
            published: false,
            status_basis: Some(StatusBasis::Last12Mean),
        },
        Kpi {
            code: s("K-003"),
            name_ja: s("財政調整基金残高比率"),
            name_en: String::new(),
            unit: s("%"),
            direction: Direction::Band {
                lower: 5.0,
                upper: 10.5,
            },
            frequency: Frequency::Quarterly,
            baseline: Some(YearValue {
                fy: fy(2024),
                value: -1.25,
            }),
            targets: vec![],
            final_target: None,
            source: s("財政局"),
            publication_lag_years: 1,
            description: s("\"目標\"は範囲で示す"),
            owner_sections: vec![],
            nodes: vec![NodeLink {
                node_code: s("M-1-2"),
                weight: Some(0.25),
            }],
            sdgs: vec![SdgTag {
                goal: 17,
                target: None,
            }],
            published: true,
            status_basis: Some(StatusBasis::YtdSum),
        },
    ];
    let obs =
        |kpi: &str, period: Period, area: &str, value: ObsValue, status: ObsStatus, note: &str| {
            Observation {
                kpi_code: s(kpi),
                period,
                area_code: s(area),
                value,
                status,
                source: s("市民意識調査"),
                note: s(note),
                entered_by: s("import"),
                entered_at: s("2025-06-30T09:00:00+09:00"),
                confirmed_by: String::new(),
                confirmed_at: String::new(),
            }
        };
    let observations = vec![
        obs(
            "K-001",
            Period::Year(fy(2023)),
            "271004",
            ObsValue::Value(72.5),
            ObsStatus::Final,
            "",
        ),
        obs(
            "K-001",
            Period::Year(fy(2024)),
            "271004",
            ObsValue::Value(72.81),
            ObsStatus::Provisional,
            "速報値, 確定は翌年",
        ),
        obs(
            "K-001",
            Period::Year(fy(2024)),
            "271012",
            ObsValue::Missing,
            ObsStatus::Final,
            "集計なし",
        ),
        obs(
            "K-001",
            Period::Year(fy(2024)),
            "271021",
            ObsValue::Secret,
            ObsStatus::Final,
            "秘匿（\"X\"）",
        ),
        obs(
            "K-002",
            Period::Month(2025, 4),
            "",
            ObsValue::Value(21.25),
            ObsStatus::Final,
            "行1\n行2",
        ),
        obs(
            "K-002",
            Period::Month(2026, 3),
            "",
            ObsValue::Value(-0.5),
            ObsStatus::Final,
            "",
        ),
        obs(
            "K-003",
            Period::Quarter(fy(2024), 2),
            "",
            ObsValue::Value(1234567.125),
            ObsStatus::Final,
            "",
        ),
    ];
    let programs = vec![
        Program {
            code: s("J-0001"),
            name_ja: s("特定健診受診勧奨事業"),
            name_en: s("Health check-up outreach"),
            section_code: s("S10"),
            purpose: s("生活習慣病の早期発見"),
            target_group: s("40〜74歳の国民健康保険加入者"),
            intent: s("健診を受診する"),
            means: s("はがき・SMSによる勧奨, 休日健診の実施"),
            delivery: DeliveryMethod::Outsourced,
            legal_basis: s("高齢者の医療の確保に関する法律"),
            start_fy: Some(fy(2008)),
            end_fy: None,
            mandatory: true,
            published: true,
        },
        Program {
            code: s("J-0002"),
            name_ja: s("市政だより発行事業"),
            name_en: String::new(),
            section_code: s("S02"),
            // Text Excel would run as a formula if it were written bare to a CSV.
            purpose: s("=HYPERLINK(\"http://example.com\",\"詳細\")"),
            target_group: s("-全世帯"),
            intent: s("'@引用"),
            means: s("+81 電話"),
            delivery: DeliveryMethod::Direct,
            legal_basis: String::new(),
            start_fy: None,
            end_fy: Some(fy(2027)),
            mandatory: false,
            published: false,
        },
    ];
    let links = vec![
        KpiLink {
            program_code: s("J-0001"),
            kpi_code: s("K-001"),
            weight: 0.3,
            rationale: s("受診率向上→早期治療→健康寿命"),
            evidence_grade: EvidenceGrade::LogicModel,
        },
        KpiLink {
            program_code: s("J-0002"),
            kpi_code: s("K-002"),
            weight: 0.05,
            rationale: String::new(),
            evidence_grade: EvidenceGrade::Claimed,
        },
    ];
    let indicators = vec![
        ProgramIndicator {
            program_code: s("J-0001"),
            code: s("A1"),
            kind: IndicatorKind::Activity,
            name_ja: s("勧奨通知数"),
            unit: s("通"),
            fy: fy(2024),
            target: Some(50000.0),
            actual: Some(48210.0),
        },
        ProgramIndicator {
            program_code: s("J-0001"),
            code: s("O1"),
            kind: IndicatorKind::Outcome,
            name_ja: s("特定健診受診率"),
            unit: s("%"),
            fy: fy(2024),
            target: Some(45.5),
            actual: None,
        },
    ];
    let money = vec![
        ProgramMoney {
            program_code: s("J-0001"),
            fy: fy(2024),
            budget_initial: 120_000_000,
            budget_revised: Some(118_500_000),
            settled: Some(117_234_567),
            funding: FundingSources {
                national: 40_000_000,
                prefectural: 20_000_000,
                bonds: 0,
                other: 1_234_567,
                general: 56_000_000,
            },
            staff_fte: 2.5,
            staff_unit_cost: 8_200_000,
            output_quantity: Some(48210.0),
        },
        ProgramMoney {
            program_code: s("J-0002"),
            fy: fy(2025),
            budget_initial: 30_000_000,
            budget_revised: None,
            settled: None,
            funding: FundingSources {
                national: 0,
                prefectural: 0,
                bonds: 0,
                other: -2_500_000,
                general: 32_500_000,
            },
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

/// The keys of the whole dataset, as if it were already in the database.
pub fn known(ds: &Dataset) -> KnownKeys {
    let mut k = KnownKeys::default();
    k.extend_from(ds);
    k
}
