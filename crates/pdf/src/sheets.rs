//! The evaluation sheets (事務事業評価シート) as PDF: one program per A4
//! page with the fields of the XLSX form, from the same records
//! (`citykpi_reports::EvaluationBook`). A sheet with long texts is scaled
//! down to keep to its one page.

use citykpi_domain::cycle::{EvaluationSheet, SheetComputed};
use citykpi_reports::{EvaluationBook, ProgramSheet};
use serde_json::{Value, json};

use crate::format::{group_digits, number, percent, yen};
use crate::{Fonts, PdfResult, compile, preamble};

const TEMPLATE: &str = include_str!("../templates/evaluations.typ");

#[derive(Clone, Copy)]
enum Kind {
    Yen,
    Yen2,
    Number,
    Int,
}

type Row = (
    &'static str,
    fn(&EvaluationSheet, &SheetComputed) -> Option<f64>,
    Kind,
    &'static str,
);

/// The cost rows, as on the XLSX form.
const COST_ROWS: [Row; 14] = [
    (
        "予算現額",
        |s, _| Some(s.money.budget as f64),
        Kind::Yen,
        "補正後の予算額",
    ),
    (
        "決算額",
        |s, _| s.money.settled.map(|v| v as f64),
        Kind::Yen,
        "空欄は決算前",
    ),
    (
        "国庫支出金",
        |s, _| Some(s.money.funding.national as f64),
        Kind::Yen,
        "財源内訳",
    ),
    (
        "府県支出金",
        |s, _| Some(s.money.funding.prefectural as f64),
        Kind::Yen,
        "財源内訳",
    ),
    (
        "地方債",
        |s, _| Some(s.money.funding.bonds as f64),
        Kind::Yen,
        "財源内訳",
    ),
    (
        "その他特定財源",
        |s, _| Some(s.money.funding.other as f64),
        Kind::Yen,
        "財源内訳",
    ),
    (
        "一般財源",
        |s, _| Some(s.money.funding.general as f64),
        Kind::Yen,
        "財源内訳",
    ),
    (
        "直接事業費",
        |_, c| Some(c.direct_cost as f64),
        Kind::Yen,
        "決算額（決算前は予算現額）",
    ),
    (
        "人工",
        |s, _| Some(s.money.staff_fte),
        Kind::Number,
        "従事職員数（年間換算・人）",
    ),
    (
        "人件費単価",
        |s, _| Some(s.money.staff_unit_cost as f64),
        Kind::Yen,
        "職員1人当たり年額",
    ),
    (
        "人件費",
        |_, c| Some(c.staff_cost as f64),
        Kind::Yen,
        "人工 × 人件費単価",
    ),
    (
        "フルコスト",
        |_, c| Some(c.full_cost as f64),
        Kind::Yen,
        "直接事業費 ＋ 人件費",
    ),
    (
        "活動量",
        |s, _| s.money.output_quantity,
        Kind::Number,
        "単位当たりコストの分母",
    ),
    (
        "単位当たりコスト",
        |_, c| c.unit_cost,
        Kind::Yen2,
        "フルコスト ÷ 活動量",
    ),
];

const SCORE_ROWS: [Row; 5] = [
    (
        "必要性",
        |s, _| s.scores.necessity.map(f64::from),
        Kind::Int,
        "",
    ),
    (
        "有効性",
        |s, _| s.scores.effectiveness.map(f64::from),
        Kind::Int,
        "",
    ),
    (
        "効率性",
        |s, _| s.scores.efficiency.map(f64::from),
        Kind::Int,
        "",
    ),
    (
        "手段の妥当性",
        |s, _| s.scores.means.map(f64::from),
        Kind::Int,
        "",
    ),
    (
        "合計",
        |_, c| c.score_total.map(f64::from),
        Kind::Int,
        "20点満点（4項目の合計）",
    ),
];

fn show(v: Option<f64>, kind: Kind) -> String {
    match (v, kind) {
        (None, _) => String::new(),
        (Some(v), Kind::Yen) => yen(v.round() as i64),
        (Some(v), Kind::Yen2) => group_digits(&format!("{v:.2}")),
        (Some(v), Kind::Number) => number(Some(v)),
        (Some(v), Kind::Int) => format!("{v:.0}"),
    }
}

fn rows(rows: &[Row], p: &ProgramSheet) -> Value {
    let c = p.sheet.computed();
    let last = p.last_year.as_ref().map(|l| (l, l.computed()));
    Value::Array(
        rows.iter()
            .map(|(label, get, kind, note)| {
                let before = last.as_ref().and_then(|(l, lc)| get(l, lc));
                json!([
                    label,
                    show(get(&p.sheet, &c), *kind),
                    show(before, *kind),
                    note
                ])
            })
            .collect(),
    )
}

fn title(book: &EvaluationBook) -> String {
    let city = if book.city_name.is_empty() {
        String::new()
    } else {
        format!("{} ", book.city_name)
    };
    format!("{city}{} 事務事業評価シート", book.fy.label_ja())
}

fn program(p: &ProgramSheet) -> Value {
    let s = &p.sheet;
    let prog = &p.program;
    let c = s.computed();
    let saved = if p.version == 0 {
        "未作成（前年度のシートと事業の記録から作成）".to_string()
    } else {
        format!("{}（第{}版）", s.state.label_ja(), p.version)
    };
    let period = match (prog.start_fy, prog.end_fy) {
        (Some(a), Some(b)) => format!("{}〜{}", a.wareki(), b.wareki()),
        (Some(a), None) => format!("{}〜", a.wareki()),
        (None, Some(b)) => format!("〜{}", b.wareki()),
        (None, None) => String::new(),
    };
    let positions: Vec<Value> = p
        .positions
        .iter()
        .map(|pos| {
            let node = match (pos.policy.is_empty(), pos.measure.is_empty()) {
                (false, false) => format!("{} ／ {}", pos.policy, pos.measure),
                (false, true) => pos.policy.clone(),
                _ => pos.measure.clone(),
            };
            json!([pos.kpi_code, pos.kpi_name, node, number(Some(pos.weight))])
        })
        .collect();
    let indicators: Vec<Value> = s
        .indicators
        .iter()
        .zip(&c.achievements)
        .map(|(ind, a)| {
            json!([
                ind.kind.label_ja(),
                ind.code,
                ind.name_ja,
                ind.unit,
                ind.target.map(|v| number(Some(v))).unwrap_or_default(),
                ind.actual.map(|v| number(Some(v))).unwrap_or_default(),
                a.map(|a| percent(Some(a))).unwrap_or_default(),
            ])
        })
        .collect();
    json!({
        "saved": saved,
        "basic": [
            ["事業コード", prog.code],
            ["事業名", prog.name_ja],
            ["所管", format!("{} ／ {}", p.department_name, p.section_name)],
            ["根拠法令等", prog.legal_basis],
            ["実施方法", prog.delivery.label_ja()],
            ["事業期間", period],
            ["義務的経費", if prog.mandatory { "該当（法令等で義務付け）" } else { "非該当" }],
        ],
        "positions": positions,
        "outline": [
            ["目的", s.purpose],
            ["対象", s.target_group],
            ["意図", s.intent],
            ["手段", s.means],
        ],
        "indicators": indicators,
        "year": format!("評価年度（{}）", s.fy.wareki()),
        "last": format!("前年度（{}）", s.fy.prev().wareki()),
        "costs": rows(&COST_ROWS, p),
        "scores": rows(&SCORE_ROWS, p),
        "issues": [["課題", s.issues], ["改善策", s.improvements]],
        "direction": [
            ["方向性", s.direction.map_or("（未選択）", |d| d.label_ja())],
            ["理由", s.direction_reason],
        ],
        "review": [["所見", s.reviewer_comment]],
    })
}

/// The book as PDF bytes: one A4 page per program, in the book's order.
pub fn evaluation_sheets_pdf(fonts: &Fonts, book: &EvaluationBook) -> PdfResult<Vec<u8>> {
    let mut heading = title(book);
    if let Some((code, name)) = &book.department {
        heading.push_str(&format!("（{name} {code}）"));
    }
    let data = json!({
        "title": heading,
        "programs": book.programs.iter().map(program).collect::<Vec<_>>(),
    });
    compile(
        fonts,
        &format!("{}{TEMPLATE}", preamble(fonts)),
        &data,
        Vec::new(),
    )
}
