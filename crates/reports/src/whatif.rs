//! A budget what-if (予算の試算) as XLSX: a summary sheet (the budget, the
//! objective, the shadow prices, whether optimality is proven), the totals
//! per department with their ceilings, and every program's option against
//! its request with the reason for each change. Yen are numbers in 円
//! formats, so the file adds up in Excel.

use citykpi_domain::FiscalYear;
use citykpi_io::fields::xlsx_text;
use rust_xlsxwriter::Workbook;

use crate::ReportResult;
use crate::xlsx::{Formats, print_setup};

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Yen(i64),
    Number(f64),
    Text(String),
}

#[derive(Debug, Clone)]
pub struct DepartmentRow {
    pub code: String,
    pub name: String,
    pub requested: i64,
    pub current: i64,
    pub optimal: i64,
    pub ceiling: Option<i64>,
    pub abolitions: u32,
    /// Contribution per one more million yen of the ceiling.
    pub shadow_price: Option<f64>,
}

#[derive(Debug, Clone)]
pub struct ProgramRow {
    pub code: String,
    pub name: String,
    pub department: String,
    pub direction: String,
    pub requested: Option<i64>,
    pub current: i64,
    pub option: String,
    pub optimal: i64,
    pub change: i64,
    pub contribution: f64,
    pub reason: String,
}

#[derive(Debug, Clone)]
pub struct WhatIfBook {
    /// The scenario's name (empty for an unsaved run).
    pub name: String,
    /// The budget year.
    pub fy: FiscalYear,
    pub summary: Vec<(String, Value)>,
    pub departments: Vec<DepartmentRow>,
    pub programs: Vec<ProgramRow>,
}

/// Sheet names: 概要 (summary), 部局別 (departments), 事業別 (programs).
pub fn whatif_xlsx(book: &WhatIfBook) -> ReportResult<Vec<u8>> {
    let mut wb = Workbook::new();
    let f = Formats::new();
    let title = format!(
        "{} 予算の試算{}",
        book.fy.label_ja(),
        if book.name.is_empty() {
            String::new()
        } else {
            format!("「{}」", book.name)
        }
    );

    let ws = wb.add_worksheet();
    ws.set_name("概要")?;
    print_setup(ws, &title, true);
    ws.set_column_width(0, 40)?;
    ws.set_column_width(1, 24)?;
    ws.write_string_with_format(0, 0, xlsx_text(&title), &f.title)?;
    for (i, (label, value)) in book.summary.iter().enumerate() {
        let row = 2 + i as u32;
        ws.write_string_with_format(row, 0, xlsx_text(label), &f.label)?;
        match value {
            Value::Yen(v) => ws.write_number_with_format(row, 1, *v as f64, &f.yen)?,
            Value::Number(v) => ws.write_number_with_format(row, 1, *v, &f.number)?,
            Value::Text(t) => ws.write_string_with_format(row, 1, xlsx_text(t), &f.text)?,
        };
    }

    let ws = wb.add_worksheet();
    ws.set_name("部局別")?;
    print_setup(ws, &title, false);
    let headers = [
        ("部局コード", 10.0),
        ("部局名", 20.0),
        ("要求額", 16.0),
        ("現状（継続）", 16.0),
        ("最適配分", 16.0),
        ("増減", 16.0),
        ("枠", 16.0),
        ("廃止数", 8.0),
        ("枠の潜在価格（100万円あたりの寄与）", 18.0),
    ];
    for (c, (h, w)) in headers.iter().enumerate() {
        ws.set_column_width(c as u16, *w)?;
        ws.write_string_with_format(0, c as u16, *h, &f.header)?;
    }
    for (i, d) in book.departments.iter().enumerate() {
        let row = 1 + i as u32;
        ws.write_string_with_format(row, 0, xlsx_text(&d.code), &f.text)?;
        ws.write_string_with_format(row, 1, xlsx_text(&d.name), &f.text)?;
        ws.write_number_with_format(row, 2, d.requested as f64, &f.yen)?;
        ws.write_number_with_format(row, 3, d.current as f64, &f.yen)?;
        ws.write_number_with_format(row, 4, d.optimal as f64, &f.yen)?;
        ws.write_number_with_format(row, 5, (d.optimal - d.current) as f64, &f.yen)?;
        match d.ceiling {
            Some(c) => ws.write_number_with_format(row, 6, c as f64, &f.yen)?,
            None => ws.write_string_with_format(row, 6, "—", &f.text)?,
        };
        ws.write_number_with_format(row, 7, f64::from(d.abolitions), &f.int)?;
        match d.shadow_price {
            Some(p) => ws.write_number_with_format(row, 8, p, &f.number)?,
            None => ws.write_string_with_format(row, 8, "—", &f.text)?,
        };
    }
    let total_row = 1 + book.departments.len() as u32;
    ws.write_string_with_format(total_row, 0, "合計", &f.total_label)?;
    ws.write_string_with_format(total_row, 1, "", &f.total_label)?;
    for (c, v) in [
        (
            2u16,
            book.departments.iter().map(|d| d.requested).sum::<i64>(),
        ),
        (3, book.departments.iter().map(|d| d.current).sum()),
        (4, book.departments.iter().map(|d| d.optimal).sum()),
        (
            5,
            book.departments.iter().map(|d| d.optimal - d.current).sum(),
        ),
    ] {
        ws.write_number_with_format(total_row, c, v as f64, &f.total_yen)?;
    }

    let ws = wb.add_worksheet();
    ws.set_name("事業別")?;
    print_setup(ws, &title, false);
    let headers = [
        ("事業コード", 10.0),
        ("事業名", 28.0),
        ("部局", 8.0),
        ("評価の方向性", 10.0),
        ("要求額", 16.0),
        ("現状（継続）", 16.0),
        ("選択", 8.0),
        ("最適配分", 16.0),
        ("増減", 16.0),
        ("寄与", 10.0),
        ("理由", 60.0),
    ];
    for (c, (h, w)) in headers.iter().enumerate() {
        ws.set_column_width(c as u16, *w)?;
        ws.write_string_with_format(0, c as u16, *h, &f.header)?;
    }
    ws.set_freeze_panes(1, 2)?;
    for (i, p) in book.programs.iter().enumerate() {
        let row = 1 + i as u32;
        ws.write_string_with_format(row, 0, xlsx_text(&p.code), &f.text)?;
        ws.write_string_with_format(row, 1, xlsx_text(&p.name), &f.text)?;
        ws.write_string_with_format(row, 2, xlsx_text(&p.department), &f.text)?;
        ws.write_string_with_format(row, 3, xlsx_text(&p.direction), &f.text)?;
        match p.requested {
            Some(v) => ws.write_number_with_format(row, 4, v as f64, &f.yen)?,
            None => ws.write_string_with_format(row, 4, "未要求", &f.text)?,
        };
        ws.write_number_with_format(row, 5, p.current as f64, &f.yen)?;
        ws.write_string_with_format(row, 6, xlsx_text(&p.option), &f.text)?;
        ws.write_number_with_format(row, 7, p.optimal as f64, &f.yen)?;
        ws.write_number_with_format(row, 8, p.change as f64, &f.yen)?;
        ws.write_number_with_format(row, 9, p.contribution, &f.number)?;
        ws.write_string_with_format(row, 10, xlsx_text(&p.reason), &f.text)?;
    }
    Ok(wb.save_to_buffer()?)
}
