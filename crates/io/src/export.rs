//! Writing a kind's table as CSV, XLSX or JSON, with the headers of
//! [`crate::columns`].

use citykpi_domain::kpi::Direction;
use citykpi_domain::observation::{ObsValue, Period};
use citykpi_domain::text::display_width;
use citykpi_domain::{Dataset, Kind};
use rust_xlsxwriter::{Format as XlsxFormat, Workbook};

use crate::columns::{Column, columns, kind_label_ja};
use crate::error::ExportError;
use crate::fields::{
    format_code_list, format_f64, format_frequency, format_grade_style, format_level_names,
    format_node_links, format_obs_value, format_rollup, format_sdgs, format_status_basis,
    format_targets,
};
use crate::{Format, HeaderLang};

/// A typed cell, so that XLSX gets numbers as numbers.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Num(f64),
    /// Whole yen: an integer cell formatted `#,##0`.
    Yen(i64),
    /// Fiscal years, levels, sort orders: plain integers.
    Int(i64),
    Bool(bool),
}

impl Cell {
    /// Text; an empty string is an empty cell.
    pub fn text(s: &str) -> Cell {
        if s.is_empty() {
            Cell::Empty
        } else {
            Cell::Text(s.to_string())
        }
    }
    pub fn opt_num(v: Option<f64>) -> Cell {
        v.map(Cell::Num).unwrap_or(Cell::Empty)
    }
    pub fn opt_yen(v: Option<i64>) -> Cell {
        v.map(Cell::Yen).unwrap_or(Cell::Empty)
    }

    fn as_csv(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(s) => crate::fields::csv_guard(s).into_owned(),
            Cell::Num(v) => format_f64(*v),
            Cell::Yen(v) | Cell::Int(v) => v.to_string(),
            Cell::Bool(b) => b.to_string(),
        }
    }

    /// Display width in Excel's units (East Asian characters count two).
    fn width(&self) -> usize {
        let s = self.as_csv();
        let longest_line = s.lines().map(display_width).max().unwrap_or(0);
        match self {
            // Thousands separators.
            Cell::Yen(_) => longest_line + longest_line / 3,
            _ => longest_line,
        }
    }
}

/// The table of a kind: its columns and one row of cells per record, in the
/// column order of [`columns`].
pub(crate) fn table(kind: Kind, ds: &Dataset) -> (&'static [Column], Vec<Vec<Cell>>) {
    let cols = columns(kind);
    let rows = match kind {
        Kind::Org => org_rows(ds),
        Kind::Users => ds
            .users
            .iter()
            .map(|u| {
                vec![
                    Cell::text(&u.login),
                    Cell::text(&u.display_name),
                    Cell::text(u.email.as_deref().unwrap_or("")),
                    Cell::text(&u.section_code),
                    Cell::text(u.role.as_str()),
                    Cell::Bool(u.active),
                ]
            })
            .collect(),
        Kind::Plans => plan_rows(ds),
        Kind::Kpis => ds
            .kpis
            .iter()
            .map(|k| {
                let (lower, upper) = match k.direction {
                    Direction::Band { lower, upper } => (Cell::Num(lower), Cell::Num(upper)),
                    _ => (Cell::Empty, Cell::Empty),
                };
                vec![
                    Cell::text(&k.code),
                    Cell::text(&k.name_ja),
                    Cell::text(&k.name_en),
                    Cell::text(&k.unit),
                    Cell::text(k.direction.as_str()),
                    lower,
                    upper,
                    Cell::text(format_frequency(k.frequency)),
                    k.baseline
                        .map(|b| Cell::Int(b.fy.year().into()))
                        .unwrap_or(Cell::Empty),
                    Cell::opt_num(k.baseline.map(|b| b.value)),
                    Cell::text(&format_targets(&k.targets)),
                    k.final_target
                        .map(|b| Cell::Int(b.fy.year().into()))
                        .unwrap_or(Cell::Empty),
                    Cell::opt_num(k.final_target.map(|b| b.value)),
                    Cell::text(&k.source),
                    Cell::Int(k.publication_lag_years.into()),
                    Cell::text(&k.description),
                    Cell::text(&format_code_list(&k.owner_sections)),
                    Cell::text(&format_node_links(&k.nodes)),
                    Cell::text(&format_sdgs(&k.sdgs)),
                    Cell::Bool(k.published),
                    Cell::text(format_status_basis(k.status_basis)),
                ]
            })
            .collect(),
        Kind::Observations => ds
            .observations
            .iter()
            .map(|o| {
                vec![
                    Cell::text(&o.kpi_code),
                    match o.period {
                        Period::Year(fy) => Cell::Int(fy.year().into()),
                        p => Cell::Text(p.to_string()),
                    },
                    Cell::text(&o.area_code),
                    match o.value {
                        ObsValue::Value(v) => Cell::Num(v),
                        v => Cell::Text(format_obs_value(&v)),
                    },
                    Cell::text(o.status.as_str()),
                    Cell::text(&o.source),
                    Cell::text(&o.note),
                    Cell::text(&o.entered_by),
                    Cell::text(&o.entered_at),
                ]
            })
            .collect(),
        Kind::Programs => ds
            .programs
            .iter()
            .map(|p| {
                vec![
                    Cell::text(&p.code),
                    Cell::text(&p.name_ja),
                    Cell::text(&p.name_en),
                    Cell::text(&p.section_code),
                    Cell::text(&p.purpose),
                    Cell::text(&p.target_group),
                    Cell::text(&p.intent),
                    Cell::text(&p.means),
                    Cell::text(p.delivery.as_str()),
                    Cell::text(&p.legal_basis),
                    p.start_fy
                        .map(|f| Cell::Int(f.year().into()))
                        .unwrap_or(Cell::Empty),
                    p.end_fy
                        .map(|f| Cell::Int(f.year().into()))
                        .unwrap_or(Cell::Empty),
                    Cell::Bool(p.mandatory),
                    Cell::Bool(p.published),
                ]
            })
            .collect(),
        Kind::Links => ds
            .links
            .iter()
            .map(|l| {
                vec![
                    Cell::text(&l.program_code),
                    Cell::text(&l.kpi_code),
                    Cell::Num(l.weight),
                    Cell::text(&l.rationale),
                    Cell::Text(l.evidence_grade.letter().to_string()),
                ]
            })
            .collect(),
        Kind::Indicators => ds
            .indicators
            .iter()
            .map(|i| {
                vec![
                    Cell::text(&i.program_code),
                    Cell::text(&i.code),
                    Cell::text(i.kind.as_str()),
                    Cell::text(&i.name_ja),
                    Cell::text(&i.unit),
                    Cell::Int(i.fy.year().into()),
                    Cell::opt_num(i.target),
                    Cell::opt_num(i.actual),
                ]
            })
            .collect(),
        Kind::Money => ds
            .money
            .iter()
            .map(|m| {
                vec![
                    Cell::text(&m.program_code),
                    Cell::Int(m.fy.year().into()),
                    Cell::Yen(m.budget_initial),
                    Cell::opt_yen(m.budget_revised),
                    Cell::opt_yen(m.settled),
                    Cell::Yen(m.funding.national),
                    Cell::Yen(m.funding.prefectural),
                    Cell::Yen(m.funding.bonds),
                    Cell::Yen(m.funding.other),
                    Cell::Yen(m.funding.general),
                    Cell::Num(m.staff_fte),
                    Cell::Yen(m.staff_unit_cost),
                    Cell::opt_num(m.output_quantity),
                ]
            })
            .collect(),
    };
    debug_assert!(
        rows.iter().all(|r| r.len() == cols.len()),
        "{kind:?} rows do not match its columns"
    );
    (cols, rows)
}

/// Each department, followed by its sections; a department without
/// sections gets a row of its own. Sections whose department is not in the
/// dataset name it by code only (it must exist when re-imported).
fn org_rows(ds: &Dataset) -> Vec<Vec<Cell>> {
    let section_row = |d: Option<&citykpi_domain::org::Department>,
                       s: Option<&citykpi_domain::org::Section>,
                       code: &str| {
        vec![
            Cell::text(code),
            Cell::text(d.map(|d| d.name_ja.as_str()).unwrap_or("")),
            Cell::text(d.map(|d| d.name_en.as_str()).unwrap_or("")),
            d.map(|d| Cell::Int(d.sort_order.into()))
                .unwrap_or(Cell::Empty),
            Cell::text(s.map(|s| s.code.as_str()).unwrap_or("")),
            Cell::text(s.map(|s| s.name_ja.as_str()).unwrap_or("")),
            Cell::text(s.map(|s| s.name_en.as_str()).unwrap_or("")),
            s.map(|s| Cell::Int(s.sort_order.into()))
                .unwrap_or(Cell::Empty),
        ]
    };
    let mut rows = Vec::new();
    for d in &ds.departments {
        let mut any = false;
        for s in ds.sections.iter().filter(|s| s.department_code == d.code) {
            rows.push(section_row(Some(d), Some(s), &d.code));
            any = true;
        }
        if !any {
            rows.push(section_row(Some(d), None, &d.code));
        }
    }
    for s in ds
        .sections
        .iter()
        .filter(|s| !ds.departments.iter().any(|d| d.code == s.department_code))
    {
        rows.push(section_row(None, Some(s), &s.department_code));
    }
    rows
}

/// Each plan's row (node columns empty), then its nodes; nodes of plans not
/// in the dataset at the end.
fn plan_rows(ds: &Dataset) -> Vec<Vec<Cell>> {
    let plan_row = |p: &citykpi_domain::plan::Plan| {
        vec![
            Cell::text(&p.code),
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
            Cell::text(&p.name_ja),
            Cell::text(&p.name_en),
            Cell::Empty,
            Cell::Empty,
            Cell::Int(p.start_fy.year().into()),
            Cell::Int(p.end_fy.year().into()),
            Cell::text(&format_level_names(&p.level_names)),
            Cell::Num(p.thresholds.achieved),
            Cell::Num(p.thresholds.on_track),
            Cell::Num(p.thresholds.behind),
            Cell::text(format_grade_style(p.thresholds.style)),
            Cell::text(format_rollup(p.rollup)),
            Cell::Bool(p.published),
        ]
    };
    let node_row = |n: &citykpi_domain::plan::PlanNode| {
        vec![
            Cell::text(&n.plan_code),
            Cell::text(&n.code),
            Cell::text(n.parent_code.as_deref().unwrap_or("")),
            Cell::Int(n.level.into()),
            Cell::text(&n.name_ja),
            Cell::text(&n.name_en),
            Cell::Int(n.sort_order.into()),
            Cell::opt_num(n.weight),
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
        ]
    };
    let mut rows = Vec::new();
    for p in &ds.plans {
        rows.push(plan_row(p));
        rows.extend(
            ds.plan_nodes
                .iter()
                .filter(|n| n.plan_code == p.code)
                .map(node_row),
        );
    }
    rows.extend(
        ds.plan_nodes
            .iter()
            .filter(|n| !ds.plans.iter().any(|p| p.code == n.plan_code))
            .map(node_row),
    );
    rows
}

fn header(c: &Column, lang: HeaderLang) -> &'static str {
    match lang {
        HeaderLang::Ja => c.ja,
        HeaderLang::En => c.en,
    }
}

pub(crate) fn write(
    kind: Kind,
    ds: &Dataset,
    format: Format,
    lang: HeaderLang,
) -> Result<Vec<u8>, ExportError> {
    match format {
        Format::Csv => write_csv(kind, ds, lang),
        Format::Xlsx => write_xlsx(kind, ds, lang),
        Format::Json => write_json(kind, ds),
    }
}

fn write_csv(kind: Kind, ds: &Dataset, lang: HeaderLang) -> Result<Vec<u8>, ExportError> {
    let (cols, rows) = table(kind, ds);
    let headers: Vec<&str> = cols.iter().map(|c| header(c, lang)).collect();
    csv_bytes(&headers, &rows)
}

/// CSV as staff open it in Excel: UTF-8 with a BOM, CRLF, formula-guarded text.
fn csv_bytes(headers: &[&str], rows: &[Vec<Cell>]) -> Result<Vec<u8>, ExportError> {
    // The BOM makes Excel read the file as UTF-8 instead of Shift_JIS.
    let mut out = b"\xEF\xBB\xBF".to_vec();
    {
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(&mut out);
        w.write_record(headers)?;
        for r in rows {
            w.write_record(r.iter().map(Cell::as_csv))?;
        }
        w.flush().map_err(csv::Error::from)?;
    }
    Ok(out)
}

/// A table that is not one of the import kinds (the partnership lists, …),
/// written by the same CSV and XLSX code as the kinds.
#[derive(Debug, Clone, PartialEq)]
pub struct Sheet {
    pub name_ja: String,
    pub name_en: String,
    /// (JSON key, Japanese header, English header) per column.
    pub columns: Vec<(&'static str, &'static str, &'static str)>,
    pub rows: Vec<Vec<Cell>>,
}

impl Sheet {
    fn headers(&self, lang: HeaderLang) -> Vec<&'static str> {
        self.columns
            .iter()
            .map(|(_, ja, en)| match lang {
                HeaderLang::Ja => *ja,
                HeaderLang::En => *en,
            })
            .collect()
    }
}

/// Writes a [`Sheet`] as CSV, XLSX (one sheet, bold frozen header, filter)
/// or JSON (an array of objects by the columns' keys).
pub fn write_sheet(
    sheet: &Sheet,
    format: Format,
    lang: HeaderLang,
) -> Result<Vec<u8>, ExportError> {
    let headers = sheet.headers(lang);
    match format {
        Format::Csv => csv_bytes(&headers, &sheet.rows),
        Format::Xlsx => {
            let name = match lang {
                HeaderLang::Ja => sheet.name_ja.as_str(),
                HeaderLang::En => sheet.name_en.as_str(),
            };
            xlsx_bytes(name, &headers, &sheet.rows)
        }
        Format::Json => {
            let rows: Vec<serde_json::Map<String, serde_json::Value>> = sheet
                .rows
                .iter()
                .map(|r| {
                    sheet
                        .columns
                        .iter()
                        .zip(r)
                        .map(|((key, ..), c)| {
                            let v = match c {
                                Cell::Empty => serde_json::Value::Null,
                                Cell::Text(s) => serde_json::Value::from(s.as_str()),
                                Cell::Num(v) => serde_json::Value::from(*v),
                                Cell::Yen(v) | Cell::Int(v) => serde_json::Value::from(*v),
                                Cell::Bool(b) => serde_json::Value::from(*b),
                            };
                            (key.to_string(), v)
                        })
                        .collect()
                })
                .collect();
            Ok(serde_json::to_vec_pretty(&rows)?)
        }
    }
}

/// Sheet name for a kind in the header language.
pub(crate) fn sheet_name(kind: Kind, lang: HeaderLang) -> &'static str {
    match lang {
        HeaderLang::Ja => kind_label_ja(kind),
        HeaderLang::En => kind.as_str(),
    }
}

fn write_xlsx(kind: Kind, ds: &Dataset, lang: HeaderLang) -> Result<Vec<u8>, ExportError> {
    let (cols, rows) = table(kind, ds);
    let headers: Vec<&str> = cols.iter().map(|c| header(c, lang)).collect();
    xlsx_bytes(sheet_name(kind, lang), &headers, &rows)
}

fn xlsx_bytes(name: &str, headers: &[&str], rows: &[Vec<Cell>]) -> Result<Vec<u8>, ExportError> {
    let mut wb = Workbook::new();
    let bold = XlsxFormat::new().set_bold();
    let yen = XlsxFormat::new().set_num_format("#,##0");
    let wrap = XlsxFormat::new().set_text_wrap();
    let ws = wb.add_worksheet();
    ws.set_name(name)?;
    let mut widths: Vec<usize> = headers.iter().map(|h| display_width(h)).collect();
    for (j, h) in headers.iter().enumerate() {
        ws.write_string_with_format(0, j as u16, *h, &bold)?;
    }
    for (i, r) in rows.iter().enumerate() {
        let row = (i + 1) as u32;
        for (j, cell) in r.iter().enumerate() {
            let col = j as u16;
            match cell {
                Cell::Empty => {}
                Cell::Text(s) if s.contains('\n') => {
                    ws.write_string_with_format(row, col, crate::fields::xlsx_text(s), &wrap)?;
                }
                Cell::Text(s) => {
                    ws.write_string(row, col, crate::fields::xlsx_text(s))?;
                }
                Cell::Num(v) => {
                    ws.write_number(row, col, *v)?;
                }
                Cell::Yen(v) => {
                    ws.write_number_with_format(row, col, *v as f64, &yen)?;
                }
                Cell::Int(v) => {
                    ws.write_number(row, col, *v as f64)?;
                }
                Cell::Bool(b) => {
                    ws.write_boolean(row, col, *b)?;
                }
            }
            widths[j] = widths[j].max(cell.width());
        }
    }
    for (j, w) in widths.iter().enumerate() {
        ws.set_column_width(j as u16, (*w as f64 + 2.0).clamp(6.0, 60.0))?;
    }
    ws.set_freeze_panes(1, 0)?;
    if !headers.is_empty() {
        ws.autofilter(0, 0, rows.len() as u32, (headers.len() - 1) as u16)?;
    }
    Ok(wb.save_to_buffer()?)
}

fn write_json(kind: Kind, ds: &Dataset) -> Result<Vec<u8>, ExportError> {
    use serde_json::to_vec_pretty as j;
    Ok(match kind {
        // Two record types: an object with both arrays, which reads back as a Dataset.
        Kind::Org => {
            j(&serde_json::json!({ "departments": ds.departments, "sections": ds.sections }))?
        }
        Kind::Plans => j(&serde_json::json!({ "plans": ds.plans, "plan_nodes": ds.plan_nodes }))?,
        Kind::Users => j(&ds.users)?,
        Kind::Kpis => j(&ds.kpis)?,
        Kind::Observations => j(&ds.observations)?,
        Kind::Programs => j(&ds.programs)?,
        Kind::Links => j(&ds.links)?,
        Kind::Indicators => j(&ds.indicators)?,
        Kind::Money => j(&ds.money)?,
    })
}
