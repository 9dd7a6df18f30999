//! Evaluation sheets (事務事業評価シート) as XLSX: one worksheet per program,
//! named by the program code, laid out as the form Japanese cities print
//! (A4 portrait, one page wide), after a first worksheet 一覧 listing them.

use citykpi_domain::FiscalYear;
use citykpi_domain::cycle::{EvaluationSheet, SheetComputed};
use citykpi_domain::program::Program;
use rust_xlsxwriter::{Format, Url, Workbook, Worksheet, XlsxError};

use crate::xlsx::{Formats, print_setup, wrapped_height};
use crate::{ReportResult, sheet_name};

/// The evaluation sheets of one file.
#[derive(Debug, Clone)]
pub struct EvaluationBook {
    /// The fiscal year evaluated.
    pub fy: FiscalYear,
    /// The city's name for the titles ("" if not set).
    pub city_name: String,
    /// A one-department file: (code, name).
    pub department: Option<(String, String)>,
    pub programs: Vec<ProgramSheet>,
}

/// One program's sheet with what the form shows around it.
#[derive(Debug, Clone)]
pub struct ProgramSheet {
    pub program: Program,
    pub department_code: String,
    pub department_name: String,
    pub section_name: String,
    /// The stored sheet, or the pre-filled one when none is saved yet.
    pub sheet: EvaluationSheet,
    /// The stored version; 0 = not saved yet (pre-filled).
    pub version: i64,
    /// The program's place in the plan: the KPIs it serves.
    pub positions: Vec<PlanPosition>,
    /// Last year's sheet, shown beside this year's costs and scores.
    pub last_year: Option<EvaluationSheet>,
}

/// A KPI the program serves, with the policy and measure the KPI sits under.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanPosition {
    pub policy: String,
    pub measure: String,
    pub kpi_code: String,
    pub kpi_name: String,
    /// Declared contribution (KPI寄与度).
    pub weight: f64,
}

/// Columns A–G: label, then six value columns (widths in characters).
const WIDTHS: [f64; 7] = [16.0, 9.0, 26.0, 8.0, 13.0, 13.0, 9.0];
/// Width of the merged value area B:G.
const VALUE_WIDTH: f64 = 9.0 + 26.0 + 8.0 + 13.0 + 13.0 + 9.0;
const LAST_COL: u16 = 6;

fn title(book: &EvaluationBook) -> String {
    let city = if book.city_name.is_empty() {
        String::new()
    } else {
        format!("{} ", book.city_name)
    };
    format!("{city}{} 事務事業評価シート", book.fy.label_ja())
}

/// Renders the book. The programs are written in the given order.
pub fn evaluation_sheets_xlsx(book: &EvaluationBook) -> ReportResult<Vec<u8>> {
    let mut wb = Workbook::new();
    let f = Formats::new();
    let header = title(book);
    index_sheet(wb.add_worksheet(), book, &f, &header)?;
    for p in &book.programs {
        let ws = wb.add_worksheet();
        ws.set_name(sheet_name(&p.program.code))?;
        program_sheet(ws, book, p, &f, &header)?;
    }
    Ok(wb.save_to_buffer()?)
}

fn index_sheet(
    ws: &mut Worksheet,
    book: &EvaluationBook,
    f: &Formats,
    header: &str,
) -> Result<(), XlsxError> {
    ws.set_name("一覧")?;
    print_setup(ws, header, false);
    let mut heading = format!("{header} 一覧");
    if let Some((code, name)) = &book.department {
        heading.push_str(&format!("（{name} {code}）"));
    }
    ws.write_string_with_format(0, 0, &heading, &f.title)?;
    let cols: [(&str, f64); 10] = [
        ("事業コード", 12.0),
        ("事業名", 34.0),
        ("部局", 16.0),
        ("課", 18.0),
        ("評価状況", 10.0),
        ("今後の方向性", 10.0),
        ("直接事業費", 16.0),
        ("人件費", 14.0),
        ("フルコスト", 16.0),
        ("評価点（20点満点）", 10.0),
    ];
    for (j, (h, w)) in cols.iter().enumerate() {
        ws.write_string_with_format(2, j as u16, *h, &f.header)?;
        ws.set_column_width(j as u16, *w)?;
    }
    ws.set_repeat_rows(2, 2)?;
    ws.set_freeze_panes(3, 0)?;
    for (i, p) in book.programs.iter().enumerate() {
        let r = 3 + i as u32;
        let c = p.sheet.computed();
        let link = Url::new(format!(
            "internal:'{}'!A1",
            sheet_name(&p.program.code).replace('\'', "''")
        ))
        .set_text(&p.program.code);
        ws.write_url_with_format(r, 0, link, &f.text)?;
        ws.write_string_with_format(r, 1, &p.program.name_ja, &f.text)?;
        ws.write_string_with_format(r, 2, &p.department_name, &f.text)?;
        ws.write_string_with_format(r, 3, &p.section_name, &f.text)?;
        ws.write_string_with_format(r, 4, state_label(p), &f.text)?;
        ws.write_string_with_format(
            r,
            5,
            p.sheet.direction.map_or("", |d| d.label_ja()),
            &f.text,
        )?;
        ws.write_number_with_format(r, 6, c.direct_cost as f64, &f.yen)?;
        ws.write_number_with_format(r, 7, c.staff_cost as f64, &f.yen)?;
        ws.write_number_with_format(r, 8, c.full_cost as f64, &f.yen)?;
        match c.score_total {
            Some(t) => ws.write_number_with_format(r, 9, f64::from(t), &f.int)?,
            None => ws.write_blank(r, 9, &f.text)?,
        };
    }
    let total_row = 3 + book.programs.len() as u32;
    ws.merge_range(total_row, 0, total_row, 5, "合計", &f.total_label)?;
    for (col, get) in [
        (
            6u16,
            (|c: &citykpi_domain::cycle::SheetComputed| c.direct_cost) as fn(&_) -> i64,
        ),
        (7, |c| c.staff_cost),
        (8, |c| c.full_cost),
    ] {
        let sum: i64 = book.programs.iter().map(|p| get(&p.sheet.computed())).sum();
        ws.write_number_with_format(total_row, col, sum as f64, &f.total_yen)?;
    }
    ws.write_blank(total_row, 9, &f.total_label)?;
    Ok(())
}

fn state_label(p: &ProgramSheet) -> &'static str {
    if p.version == 0 {
        "未作成"
    } else {
        p.sheet.state.label_ja()
    }
}

/// Writes the form top to bottom.
struct Form<'a> {
    ws: &'a mut Worksheet,
    f: &'a Formats,
    row: u32,
}

impl Form<'_> {
    fn section(&mut self, text: &str) -> Result<(), XlsxError> {
        self.row += 1;
        self.ws
            .write_string_with_format(self.row, 0, text, &self.f.section)?;
        self.row += 1;
        Ok(())
    }

    /// Label in A, text over B:G (wrapped, row as tall as the text).
    fn text(&mut self, label: &str, value: &str) -> Result<(), XlsxError> {
        let r = self.row;
        self.ws
            .write_string_with_format(r, 0, label, &self.f.label)?;
        // Stored text longer than a cell holds is cut with a marker, never an error.
        let value = citykpi_io::fields::xlsx_text(value);
        self.ws
            .merge_range(r, 1, r, LAST_COL, &value, &self.f.wrap)?;
        self.ws
            .set_row_height(r, wrapped_height(&value, VALUE_WIDTH * 0.95))?;
        self.row += 1;
        Ok(())
    }

    /// Label in A, the year's number in B:C, last year's in D:E, a note
    /// over F:G.
    fn number(
        &mut self,
        label: &str,
        value: Option<f64>,
        last: Option<f64>,
        format: &Format,
        note: &str,
    ) -> Result<(), XlsxError> {
        let r = self.row;
        self.ws
            .write_string_with_format(r, 0, label, &self.f.label)?;
        for (col, v) in [(1u16, value), (3, last)] {
            self.ws.merge_range(r, col, r, col + 1, "", format)?;
            if let Some(v) = v {
                self.ws.write_number_with_format(r, col, v, format)?;
            }
        }
        let note = citykpi_io::fields::xlsx_text(note);
        self.ws
            .merge_range(r, 5, r, LAST_COL, &note, &self.f.wrap)?;
        self.ws
            .set_row_height(r, wrapped_height(&note, WIDTHS[5] + WIDTHS[6]))?;
        self.row += 1;
        Ok(())
    }

    /// The column heads of the year / last year rows.
    fn year_heads(&mut self, fy: FiscalYear) -> Result<(), XlsxError> {
        let r = self.row;
        let h = &self.f.header;
        self.ws.write_blank(r, 0, h)?;
        self.ws
            .merge_range(r, 1, r, 2, &format!("評価年度（{}）", fy.wareki()), h)?;
        self.ws
            .merge_range(r, 3, r, 4, &format!("前年度（{}）", fy.prev().wareki()), h)?;
        self.ws.merge_range(r, 5, r, LAST_COL, "備考", h)?;
        self.row += 1;
        Ok(())
    }
}

/// A number row of the cost and score sections: label, how to read it from
/// a sheet, how it is shown, and the note. The XLSX and the PDF form both
/// print these rows.
pub type NumberRow = (
    &'static str,
    fn(&EvaluationSheet, &SheetComputed) -> Option<f64>,
    Kind,
    &'static str,
);

/// How a number row is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Whole yen.
    Yen,
    /// Yen with two decimals (unit costs).
    Yen2,
    Number,
    Int,
}

/// The cost rows of the evaluation sheet form.
pub const COST_ROWS: [NumberRow; 14] = [
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

/// The score rows of the evaluation sheet form.
pub const SCORE_ROWS: [NumberRow; 5] = [
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

fn number_rows(form: &mut Form<'_>, rows: &[NumberRow], p: &ProgramSheet) -> Result<(), XlsxError> {
    let f = form.f;
    let c = p.sheet.computed();
    let last = p.last_year.as_ref().map(|l| (l, l.computed()));
    for (label, get, kind, note) in rows {
        let format = match kind {
            Kind::Yen => &f.yen,
            Kind::Yen2 => &f.yen_2,
            Kind::Number => &f.number,
            Kind::Int => &f.int,
        };
        let value = get(&p.sheet, &c);
        let before = last.as_ref().and_then(|(l, lc)| get(l, lc));
        form.number(label, value, before, format, note)?;
    }
    Ok(())
}

fn program_sheet(
    ws: &mut Worksheet,
    book: &EvaluationBook,
    p: &ProgramSheet,
    f: &Formats,
    header: &str,
) -> Result<(), XlsxError> {
    print_setup(ws, header, true);
    for (j, w) in WIDTHS.iter().enumerate() {
        ws.set_column_width(j as u16, *w)?;
    }
    let s = &p.sheet;
    let c = s.computed();
    let prog = &p.program;
    ws.merge_range(0, 0, 0, LAST_COL, &title(book), &f.title)?;
    let saved = if p.version == 0 {
        "未作成（前年度のシートと事業の記録から作成）".to_string()
    } else {
        format!("{}（第{}版）", s.state.label_ja(), p.version)
    };
    ws.merge_range(
        1,
        0,
        1,
        LAST_COL,
        &format!("評価状況: {saved}"),
        &Format::new(),
    )?;
    let mut form = Form { ws, f, row: 2 };

    form.section("基本情報")?;
    form.text("事業コード", &prog.code)?;
    form.text("事業名", &prog.name_ja)?;
    form.text(
        "所管",
        &format!("{} ／ {}", p.department_name, p.section_name),
    )?;
    form.text("根拠法令等", &prog.legal_basis)?;
    form.text("実施方法", prog.delivery.label_ja())?;
    let period = match (prog.start_fy, prog.end_fy) {
        (Some(a), Some(b)) => format!("{}〜{}", a.wareki(), b.wareki()),
        (Some(a), None) => format!("{}〜", a.wareki()),
        (None, Some(b)) => format!("〜{}", b.wareki()),
        (None, None) => String::new(),
    };
    form.text("事業期間", &period)?;
    form.text(
        "義務的経費",
        if prog.mandatory {
            "該当（法令等で義務付け）"
        } else {
            "非該当"
        },
    )?;

    form.section("1. 計画上の位置付け")?;
    let r = form.row;
    form.ws
        .write_string_with_format(r, 0, "KPIコード", &f.header)?;
    form.ws.merge_range(r, 1, r, 2, "KPI", &f.header)?;
    form.ws.merge_range(r, 3, r, 5, "政策 ／ 施策", &f.header)?;
    form.ws
        .write_string_with_format(r, 6, "寄与度", &f.header)?;
    form.row += 1;
    if p.positions.is_empty() {
        let r = form.row;
        form.ws
            .merge_range(r, 0, r, LAST_COL, "KPIに紐付いていません", &f.text)?;
        form.row += 1;
    }
    for pos in &p.positions {
        let r = form.row;
        form.ws
            .write_string_with_format(r, 0, &pos.kpi_code, &f.text)?;
        form.ws.merge_range(r, 1, r, 2, &pos.kpi_name, &f.wrap)?;
        let node = match (pos.policy.is_empty(), pos.measure.is_empty()) {
            (false, false) => format!("{} ／ {}", pos.policy, pos.measure),
            (false, true) => pos.policy.clone(),
            _ => pos.measure.clone(),
        };
        form.ws.merge_range(r, 3, r, 5, &node, &f.wrap)?;
        form.ws
            .write_number_with_format(r, 6, pos.weight, &f.number)?;
        let tall = wrapped_height(&pos.kpi_name, 33.0).max(wrapped_height(&node, 32.0));
        form.ws.set_row_height(r, tall)?;
        form.row += 1;
    }

    form.section("2. 事業の概要")?;
    form.text("目的", &s.purpose)?;
    form.text("対象", &s.target_group)?;
    form.text("意図", &s.intent)?;
    form.text("手段", &s.means)?;

    form.section("3. 活動指標・成果指標")?;
    let r = form.row;
    for (j, h) in [
        "区分",
        "コード",
        "指標名",
        "単位",
        "目標値",
        "実績値",
        "達成率",
    ]
    .iter()
    .enumerate()
    {
        form.ws
            .write_string_with_format(r, j as u16, *h, &f.header)?;
    }
    form.row += 1;
    if s.indicators.is_empty() {
        let r = form.row;
        form.ws
            .merge_range(r, 0, r, LAST_COL, "指標がありません", &f.text)?;
        form.row += 1;
    }
    for (ind, achievement) in s.indicators.iter().zip(&c.achievements) {
        let r = form.row;
        form.ws
            .write_string_with_format(r, 0, ind.kind.label_ja(), &f.text)?;
        form.ws.write_string_with_format(r, 1, &ind.code, &f.text)?;
        form.ws
            .write_string_with_format(r, 2, &ind.name_ja, &f.wrap)?;
        form.ws.write_string_with_format(r, 3, &ind.unit, &f.text)?;
        for (col, v) in [(4u16, ind.target), (5, ind.actual)] {
            match v {
                Some(v) => form.ws.write_number_with_format(r, col, v, &f.number)?,
                None => form.ws.write_blank(r, col, &f.text)?,
            };
        }
        match achievement {
            Some(a) => form.ws.write_number_with_format(r, 6, *a, &f.percent)?,
            None => form.ws.write_blank(r, 6, &f.text)?,
        };
        form.ws
            .set_row_height(r, wrapped_height(&ind.name_ja, WIDTHS[2]))?;
        form.row += 1;
    }

    form.section("4. コスト")?;
    form.year_heads(s.fy)?;
    number_rows(&mut form, &COST_ROWS, p)?;

    form.section("5. 評価（各1〜5点）")?;
    form.year_heads(s.fy)?;
    number_rows(&mut form, &SCORE_ROWS, p)?;

    form.section("6. 課題と改善策")?;
    form.text("課題", &s.issues)?;
    form.text("改善策", &s.improvements)?;

    form.section("7. 今後の方向性")?;
    form.text("方向性", s.direction.map_or("（未選択）", |d| d.label_ja()))?;
    form.text("理由", &s.direction_reason)?;

    form.section("8. 所見（戦略担当）")?;
    form.text("所見", &s.reviewer_comment)?;
    let last = form.row;
    form.ws.set_print_area(0, 0, last, LAST_COL)?;
    Ok(())
}
