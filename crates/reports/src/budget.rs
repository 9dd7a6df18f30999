//! The compiled budget (予算編成) as XLSX: totals by department (with the
//! ceilings), by policy and by funding source, and every program's request,
//! each with last year's budget, the requested and assessed amounts and the
//! variance. Numbers are numbers (yen formatted with 円), so the file adds up
//! in Excel.

use citykpi_domain::FiscalYear;
use citykpi_domain::cycle::{Compiled, ProgramDirection, TotalRow};
use citykpi_domain::money::FundingSources;
use citykpi_io::fields::xlsx_text;
use rust_xlsxwriter::{Workbook, Worksheet, XlsxError};

use crate::ReportResult;
use crate::xlsx::{Formats, print_setup};

#[derive(Debug, Clone)]
pub struct BudgetBook {
    /// The budget year compiled.
    pub budget_fy: FiscalYear,
    /// The cycle (evaluated year) that builds it.
    pub cycle_fy: FiscalYear,
    pub city_name: String,
    pub compiled: Compiled,
    /// One line per program of the budget year (with or without a request).
    pub requests: Vec<RequestLine>,
}

#[derive(Debug, Clone)]
pub struct RequestLine {
    pub program_code: String,
    pub name_ja: String,
    pub department_code: String,
    pub department_name: String,
    /// The direction decided in the cycle's evaluation.
    pub direction: Option<ProgramDirection>,
    /// 前年度予算額: the program's budget of the running year.
    pub last_year_budget: i64,
    /// None = no request saved.
    pub requested: Option<i64>,
    pub assessed: Option<i64>,
    pub funding: Option<FundingSources>,
    pub override_reason: String,
    pub note: String,
}

fn title(book: &BudgetBook, what: &str) -> String {
    let city = if book.city_name.is_empty() {
        String::new()
    } else {
        format!("{} ", book.city_name)
    };
    format!("{city}{} 予算編成 {what}", book.budget_fy.label_ja())
}

pub fn budget_xlsx(book: &BudgetBook) -> ReportResult<Vec<u8>> {
    let mut wb = Workbook::new();
    let f = Formats::new();
    let c = &book.compiled;
    totals_sheet(
        wb.add_worksheet(),
        book,
        &f,
        "部局別",
        "部局コード",
        "部局名",
        &c.by_department,
        true,
    )?;
    totals_sheet(
        wb.add_worksheet(),
        book,
        &f,
        "政策別",
        "政策コード",
        "政策名",
        &c.by_policy,
        false,
    )?;
    totals_sheet(
        wb.add_worksheet(),
        book,
        &f,
        "財源別",
        "財源",
        "財源名",
        &c.by_funding_source,
        false,
    )?;
    requests_sheet(wb.add_worksheet(), book, &f)?;
    Ok(wb.save_to_buffer()?)
}

#[allow(clippy::too_many_arguments)]
fn totals_sheet(
    ws: &mut Worksheet,
    book: &BudgetBook,
    f: &Formats,
    name: &str,
    key_header: &str,
    name_header: &str,
    rows: &[TotalRow],
    with_ceiling: bool,
) -> Result<(), XlsxError> {
    ws.set_name(name)?;
    let heading = title(book, name);
    print_setup(ws, &heading, false);
    ws.write_string_with_format(0, 0, &heading, &f.title)?;
    ws.write_string(
        1,
        0,
        format!(
            "{}のサイクルで編成（前年度＝{}）",
            book.cycle_fy.label_ja(),
            book.budget_fy.prev().label_ja()
        ),
    )?;
    let mut cols: Vec<(&str, f64)> = vec![
        (key_header, 12.0),
        (name_header, 28.0),
        ("前年度予算額", 18.0),
        ("要求額", 18.0),
        ("査定額", 18.0),
        ("未査定件数", 9.0),
    ];
    if with_ceiling {
        cols.push(("要求上限（枠）", 18.0));
        cols.push(("枠の残り（枠−要求額）", 18.0));
    }
    cols.extend([
        ("増減（要求額−前年度）", 18.0),
        ("増減（査定額−前年度）", 18.0),
        ("増減率（査定額）", 10.0),
    ]);
    for (j, (h, w)) in cols.iter().enumerate() {
        ws.write_string_with_format(3, j as u16, *h, &f.header)?;
        ws.set_column_width(j as u16, *w)?;
    }
    ws.set_row_height(3, 30)?;
    ws.set_repeat_rows(3, 3)?;
    ws.set_freeze_panes(4, 2)?;
    let mut r = 4u32;
    for row in rows {
        write_total(ws, f, r, row, with_ceiling, false)?;
        r += 1;
    }
    write_total(ws, f, r, &book.compiled.total, with_ceiling, true)?;
    Ok(())
}

fn write_total(
    ws: &mut Worksheet,
    f: &Formats,
    r: u32,
    row: &TotalRow,
    with_ceiling: bool,
    is_total: bool,
) -> Result<(), XlsxError> {
    let (text, yen, int, percent) = if is_total {
        (&f.total_label, &f.total_yen, &f.total_int, &f.total_percent)
    } else {
        (&f.text, &f.yen, &f.int, &f.percent)
    };
    if is_total {
        ws.write_string_with_format(r, 0, "合計", text)?;
        ws.write_blank(r, 1, text)?;
    } else {
        ws.write_string_with_format(r, 0, &row.key, text)?;
        ws.write_string_with_format(r, 1, &row.name_ja, text)?;
    }
    ws.write_number_with_format(r, 2, row.last_year as f64, yen)?;
    ws.write_number_with_format(r, 3, row.requested as f64, yen)?;
    ws.write_number_with_format(r, 4, row.assessed as f64, yen)?;
    ws.write_number_with_format(r, 5, row.unassessed as f64, int)?;
    let mut col = 6u16;
    if with_ceiling {
        // The total's ceiling is the sum of the departments' (all of them set) or none.
        match row.ceiling {
            Some(c) => {
                ws.write_number_with_format(r, col, c as f64, yen)?;
                ws.write_number_with_format(r, col + 1, (c - row.requested) as f64, yen)?;
            }
            None => {
                ws.write_blank(r, col, text)?;
                ws.write_blank(r, col + 1, text)?;
            }
        }
        col += 2;
    }
    ws.write_number_with_format(r, col, row.variance_requested as f64, yen)?;
    ws.write_number_with_format(r, col + 1, row.variance_assessed as f64, yen)?;
    match row.variance_rate {
        Some(v) => ws.write_number_with_format(r, col + 2, v, percent)?,
        None => ws.write_blank(r, col + 2, text)?,
    };
    Ok(())
}

fn requests_sheet(ws: &mut Worksheet, book: &BudgetBook, f: &Formats) -> Result<(), XlsxError> {
    ws.set_name("事業別")?;
    let heading = title(book, "事業別");
    print_setup(ws, &heading, false);
    ws.write_string_with_format(0, 0, &heading, &f.title)?;
    let cols: [(&str, f64); 16] = [
        ("事業コード", 12.0),
        ("事業名", 30.0),
        ("部局コード", 10.0),
        ("部局名", 16.0),
        ("今後の方向性", 9.0),
        ("前年度予算額", 16.0),
        ("要求額", 16.0),
        ("査定額", 16.0),
        ("増減（要求額−前年度）", 16.0),
        ("国庫支出金", 15.0),
        ("府県支出金", 15.0),
        ("地方債", 15.0),
        ("その他特定財源", 15.0),
        ("一般財源", 15.0),
        ("超過の理由", 24.0),
        ("備考", 24.0),
    ];
    for (j, (h, w)) in cols.iter().enumerate() {
        ws.write_string_with_format(2, j as u16, *h, &f.header)?;
        ws.set_column_width(j as u16, *w)?;
    }
    ws.set_row_height(2, 30)?;
    ws.set_repeat_rows(2, 2)?;
    ws.set_freeze_panes(3, 2)?;
    let opt = |ws: &mut Worksheet, r: u32, c: u16, v: Option<i64>| -> Result<(), XlsxError> {
        match v {
            Some(v) => ws.write_number_with_format(r, c, v as f64, &f.yen)?,
            None => ws.write_blank(r, c, &f.text)?,
        };
        Ok(())
    };
    for (i, l) in book.requests.iter().enumerate() {
        let r = 3 + i as u32;
        ws.write_string_with_format(r, 0, &l.program_code, &f.text)?;
        ws.write_string_with_format(r, 1, &l.name_ja, &f.text)?;
        ws.write_string_with_format(r, 2, &l.department_code, &f.text)?;
        ws.write_string_with_format(r, 3, &l.department_name, &f.text)?;
        ws.write_string_with_format(r, 4, l.direction.map_or("", |d| d.label_ja()), &f.text)?;
        ws.write_number_with_format(r, 5, l.last_year_budget as f64, &f.yen)?;
        opt(ws, r, 6, l.requested)?;
        opt(ws, r, 7, l.assessed)?;
        opt(ws, r, 8, l.requested.map(|q| q - l.last_year_budget))?;
        let fs = l.funding;
        opt(ws, r, 9, fs.map(|x| x.national))?;
        opt(ws, r, 10, fs.map(|x| x.prefectural))?;
        opt(ws, r, 11, fs.map(|x| x.bonds))?;
        opt(ws, r, 12, fs.map(|x| x.other))?;
        opt(ws, r, 13, fs.map(|x| x.general))?;
        // Stored text longer than a cell holds is cut with a marker, never an error.
        ws.write_string_with_format(r, 14, xlsx_text(&l.override_reason), &f.text)?;
        ws.write_string_with_format(r, 15, xlsx_text(&l.note), &f.text)?;
    }
    let total_row = 3 + book.requests.len() as u32;
    ws.merge_range(total_row, 0, total_row, 4, "合計", &f.total_label)?;
    let sum = |get: fn(&RequestLine) -> Option<i64>| -> f64 {
        book.requests.iter().filter_map(get).sum::<i64>() as f64
    };
    ws.write_number_with_format(
        total_row,
        5,
        sum(|l| Some(l.last_year_budget)),
        &f.total_yen,
    )?;
    ws.write_number_with_format(total_row, 6, sum(|l| l.requested), &f.total_yen)?;
    ws.write_number_with_format(total_row, 7, sum(|l| l.assessed), &f.total_yen)?;
    for c in 8..16 {
        ws.write_blank(total_row, c, &f.total_label)?;
    }
    Ok(())
}
