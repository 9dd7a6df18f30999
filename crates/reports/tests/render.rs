//! The reports rendered from hand-made records, read back with calamine (the
//! cells) and zip (the print setup in the worksheet XML).

use std::io::{Cursor, Read};

use calamine::{Data, Range, Reader, Xlsx};
use citykpi_domain::FiscalYear;
use citykpi_domain::cycle::budget::{Compiled, TotalRow};
use citykpi_domain::cycle::sheet::{Scores, SheetIndicator, SheetMoney};
use citykpi_domain::cycle::{EvaluationSheet, ProgramDirection, ReviewState};
use citykpi_domain::money::FundingSources;
use citykpi_domain::program::{DeliveryMethod, IndicatorKind, Program};
use citykpi_reports::{
    BudgetBook, EvaluationBook, PlanPosition, ProgramSheet, RequestLine, budget_xlsx,
    evaluation_sheets_xlsx,
};

fn fy(y: i32) -> FiscalYear {
    FiscalYear::new(y).unwrap()
}

fn program(code: &str) -> Program {
    Program {
        code: code.into(),
        name_ja: format!("保育所整備事業{code}"),
        name_en: String::new(),
        section_code: "S021".into(),
        purpose: "待機児童を解消する".into(),
        target_group: "保育を必要とする児童".into(),
        intent: "希望する保育所に入所できる".into(),
        means: "保育所整備への補助".into(),
        delivery: DeliveryMethod::Subsidy,
        legal_basis: "児童福祉法".into(),
        start_fy: Some(fy(2019)),
        end_fy: None,
        mandatory: true,
        published: true,
    }
}

fn sheet(code: &str) -> EvaluationSheet {
    EvaluationSheet {
        program_code: code.into(),
        fy: fy(2024),
        purpose: "待機児童を解消する".into(),
        target_group: "児童".into(),
        intent: "入所できる".into(),
        means: "補助".into(),
        indicators: vec![SheetIndicator {
            code: "O1".into(),
            kind: IndicatorKind::Outcome,
            name_ja: "入所率".into(),
            unit: "%".into(),
            target: Some(200.0),
            actual: Some(180.0),
        }],
        money: SheetMoney {
            budget: 1_300_000_000,
            settled: Some(1_287_654_321),
            funding: FundingSources {
                national: 600_000_000,
                general: 687_654_321,
                ..FundingSources::default()
            },
            staff_fte: 3.5,
            staff_unit_cost: 8_200_000,
            output_quantity: Some(180.0),
        },
        scores: Scores {
            necessity: Some(5),
            effectiveness: Some(4),
            efficiency: Some(3),
            means: Some(4),
        },
        issues: "整備費が上昇している".into(),
        improvements: "民間提案を活用する".into(),
        direction: Some(ProgramDirection::Improve),
        direction_reason: String::new(),
        reviewer_comment: "費用対効果を検証すること".into(),
        state: ReviewState::Accepted,
    }
}

fn book() -> EvaluationBook {
    let p = |code: &str| ProgramSheet {
        program: program(code),
        department_code: "KODOMO".into(),
        department_name: "こども青少年局".into(),
        section_name: "保育施策課".into(),
        sheet: sheet(code),
        version: 3,
        positions: vec![PlanPosition {
            policy: "子育て".into(),
            measure: "保育の充実".into(),
            kpi_code: "K-001".into(),
            kpi_name: "待機児童数".into(),
            weight: 0.4,
        }],
        last_year: Some(EvaluationSheet {
            fy: fy(2023),
            money: SheetMoney {
                budget: 1_000_000,
                settled: None,
                staff_fte: 1.0,
                staff_unit_cost: 8_000_000,
                ..SheetMoney::default()
            },
            ..sheet(code)
        }),
    };
    EvaluationBook {
        fy: fy(2024),
        city_name: "デモ市".into(),
        department: Some(("KODOMO".into(), "こども青少年局".into())),
        programs: vec![p("P0001"), p("P/2")],
    }
}

fn read(bytes: &[u8], name: &str) -> Range<Data> {
    let mut wb: Xlsx<_> = Xlsx::new(Cursor::new(bytes.to_vec())).unwrap();
    wb.worksheet_range(name).unwrap()
}

fn value(r: &Range<Data>, label: &str) -> Data {
    cell(r, label, 1)
}

fn last(r: &Range<Data>, label: &str) -> Data {
    cell(r, label, 3)
}

fn cell(r: &Range<Data>, label: &str, col: u32) -> Data {
    let (end, _) = r.end().unwrap();
    let row = (0..=end)
        .find(|&i| {
            r.get_value((i, 0))
                .is_some_and(|d| matches!(d, Data::String(s) if s == label))
        })
        .unwrap_or_else(|| panic!("no {label}"));
    r.get_value((row, col)).cloned().unwrap_or(Data::Empty)
}

fn part(bytes: &[u8], name: &str) -> String {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes.to_vec())).unwrap();
    let mut s = String::new();
    zip.by_name(name).unwrap().read_to_string(&mut s).unwrap();
    s
}

#[test]
fn evaluation_sheet_cells_and_print_setup() {
    let bytes = evaluation_sheets_xlsx(&book()).unwrap();
    let wb: Xlsx<_> = Xlsx::new(Cursor::new(bytes.clone())).unwrap();
    // A code with a character Excel refuses in sheet names is replaced.
    assert_eq!(wb.sheet_names(), vec!["一覧", "P0001", "P_2"]);
    let r = read(&bytes, "P0001");
    assert_eq!(
        r.get_value((0, 0)).unwrap().to_string(),
        "デモ市 2024年度（令和6年度） 事務事業評価シート"
    );
    // 1,287,654,321 + round(3.5 × 8,200,000) = 1,316,354,321
    assert_eq!(value(&r, "フルコスト"), Data::Float(1_316_354_321.0));
    assert_eq!(value(&r, "人件費"), Data::Float(28_700_000.0));
    // Last year's beside it (D): 1,000,000 (no settlement) + 8,000,000.
    assert_eq!(last(&r, "フルコスト"), Data::Float(9_000_000.0));
    assert_eq!(last(&r, "決算額"), Data::Empty);
    assert_eq!(last(&r, "合計"), Data::Float(16.0));
    assert_eq!(value(&r, "直接事業費"), Data::Float(1_287_654_321.0));
    assert_eq!(value(&r, "合計"), Data::Float(16.0));
    assert_eq!(value(&r, "方向性").to_string(), "改善");
    assert_eq!(value(&r, "所見").to_string(), "費用対効果を検証すること");
    let Data::Float(unit) = value(&r, "単位当たりコスト") else {
        panic!("unit cost is a number")
    };
    assert!((unit - 1_316_354_321.0 / 180.0).abs() < 1e-6);

    // A4 (9), portrait, one page wide and as tall as needed, a header.
    let xml = part(&bytes, "xl/worksheets/sheet2.xml");
    assert!(xml.contains(r#"<pageSetUpPr fitToPage="1"/>"#), "{xml}");
    assert!(xml.contains(r#"paperSize="9""#), "{xml}");
    assert!(xml.contains(r#"fitToHeight="0""#), "{xml}");
    assert!(xml.contains(r#"orientation="portrait""#), "{xml}");
    assert!(xml.contains("事務事業評価シート</oddHeader>"), "{xml}");
    // Number formats with 円.
    let styles = part(&bytes, "xl/styles.xml");
    assert!(styles.contains("#,##0&quot;円&quot;"), "{styles}");
}

#[test]
fn budget_sheets_hold_the_totals() {
    let row = |key: &str, ly: i64, rq: i64, asd: i64, ceiling: Option<i64>| TotalRow {
        key: key.into(),
        name_ja: format!("名{key}"),
        name_en: String::new(),
        last_year: ly,
        requested: rq,
        assessed: asd,
        unassessed: 1,
        ceiling,
        variance_requested: rq - ly,
        variance_assessed: asd - ly,
        variance_rate: (ly != 0).then(|| (asd - ly) as f64 / ly as f64),
    };
    let book = BudgetBook {
        budget_fy: fy(2026),
        cycle_fy: fy(2024),
        city_name: String::new(),
        compiled: Compiled {
            fy: fy(2026),
            by_department: vec![
                row("A", 100, 120, 110, Some(130)),
                row("B", 50, 40, 0, None),
            ],
            by_policy: vec![row("POL1", 150, 160, 110, None)],
            by_funding_source: vec![row("general", 150, 160, 110, None)],
            total: row("total", 150, 160, 110, None),
        },
        requests: vec![RequestLine {
            program_code: "P1".into(),
            name_ja: "事業".into(),
            department_code: "A".into(),
            department_name: "名A".into(),
            direction: Some(ProgramDirection::Reduce),
            last_year_budget: 100,
            requested: Some(120),
            assessed: Some(110),
            funding: Some(FundingSources {
                general: 120,
                ..FundingSources::default()
            }),
            override_reason: "理由".into(),
            note: String::new(),
        }],
    };
    let bytes = budget_xlsx(&book).unwrap();
    let r = read(&bytes, "部局別");
    let num = |row: u32, col: u32| r.get_value((row, col)).cloned();
    assert_eq!(num(4, 0), Some(Data::String("A".into())));
    assert_eq!(num(4, 3), Some(Data::Float(120.0)));
    assert_eq!(num(4, 6), Some(Data::Float(130.0)));
    assert_eq!(num(4, 7), Some(Data::Float(10.0)), "ceiling − requested");
    assert_eq!(num(5, 6), Some(Data::Empty), "no ceiling");
    assert_eq!(num(6, 0), Some(Data::String("合計".into())));
    assert_eq!(num(6, 3), Some(Data::Float(160.0)));
    let x = read(&bytes, "事業別");
    assert_eq!(x.get_value((3, 4)), Some(&Data::String("縮小".into())));
    assert_eq!(x.get_value((3, 8)), Some(&Data::Float(20.0)));
    let xml = part(&bytes, "xl/worksheets/sheet1.xml");
    assert!(xml.contains(r#"orientation="landscape""#), "{xml}");
    let styles = part(&bytes, "xl/styles.xml");
    assert!(styles.contains("&quot;△&quot;"), "{styles}");
}
