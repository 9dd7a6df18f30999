//! The evaluation sheets (事務事業評価シート) as PDF: one program per A4
//! page with the fields of the XLSX form, from the same records
//! (`citykpi_reports::EvaluationBook`). A sheet with long texts is scaled
//! down to keep to its one page.

use citykpi_reports::{
    COST_ROWS, EvaluationBook, NumberKind as Kind, NumberRow, ProgramSheet, SCORE_ROWS,
};
use serde_json::{Value, json};

use crate::format::{group_digits, number, percent, yen};
use crate::{Fonts, PdfResult, compile, preamble};

const TEMPLATE: &str = include_str!("../templates/evaluations.typ");

fn show(v: Option<f64>, kind: Kind) -> String {
    match (v, kind) {
        (None, _) => String::new(),
        (Some(v), Kind::Yen) => yen(v.round() as i64),
        (Some(v), Kind::Yen2) => group_digits(&format!("{v:.2}")),
        (Some(v), Kind::Number) => number(Some(v)),
        (Some(v), Kind::Int) => format!("{v:.0}"),
    }
}

fn rows(rows: &[NumberRow], p: &ProgramSheet) -> Value {
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
