//! Turning bytes into rows of text cells: CSV (any of the encodings Excel
//! writes) and spreadsheets (via calamine). Everything after this works on
//! rows of `&str`, whatever the file format.

use std::borrow::Cow;
use std::io::Cursor;

use calamine::{Data, Reader};

use crate::error::{ImportError, Problem};

/// A row of cells; a missing cell reads as empty.
pub(crate) trait Cells {
    fn len(&self) -> usize;
    fn get(&self, i: usize) -> &str;
    fn is_blank(&self) -> bool {
        (0..self.len()).all(|i| self.get(i).trim().is_empty())
    }
}

impl Cells for csv::StringRecord {
    fn len(&self) -> usize {
        csv::StringRecord::len(self)
    }
    fn get(&self, i: usize) -> &str {
        csv::StringRecord::get(self, i).unwrap_or("")
    }
}

impl Cells for Vec<String> {
    fn len(&self) -> usize {
        Vec::len(self)
    }
    fn get(&self, i: usize) -> &str {
        self.as_slice().get(i).map(String::as_str).unwrap_or("")
    }
}

/// Text of a CSV file: UTF-8 (with or without BOM), UTF-16 with BOM (Excel's
/// "Unicode text"), else Shift_JIS as Japanese Excel saves it (encoding_rs's
/// SHIFT_JIS is the WHATWG one, i.e. Microsoft's CP932 with its extensions
/// such as ①, ㈱ and IBM kanji).
pub(crate) fn decode_text<'a>(file: &str, bytes: &'a [u8]) -> Result<Cow<'a, str>, ImportError> {
    let encoding_error = || ImportError::Encoding {
        file: file.to_string(),
    };
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return std::str::from_utf8(rest)
            .map(Cow::Borrowed)
            .map_err(|e| broken_utf8(file, rest, e.valid_up_to()));
    }
    for (bom, enc) in [
        (&b"\xFF\xFE"[..], encoding_rs::UTF_16LE),
        (&b"\xFE\xFF"[..], encoding_rs::UTF_16BE),
    ] {
        if let Some(rest) = bytes.strip_prefix(bom) {
            let (text, had_errors) = enc.decode_without_bom_handling(rest);
            return if had_errors {
                Err(encoding_error())
            } else {
                Ok(text)
            };
        }
    }
    let valid_up_to = match std::str::from_utf8(bytes) {
        Ok(s) => return Ok(Cow::Borrowed(s)),
        Err(e) => e.valid_up_to(),
    };
    // Japanese Shift_JIS text breaks UTF-8 at its first or second non-ASCII
    // character (its lead bytes are UTF-8 continuation bytes or need ones that
    // do not follow). Many valid non-ASCII characters before the first bad
    // byte mean a UTF-8 file with a damaged spot, which decoding as Shift_JIS
    // would turn into silent mojibake.
    let non_ascii_chars = std::str::from_utf8(&bytes[..valid_up_to])
        .map(|s| s.chars().filter(|c| !c.is_ascii()).count())
        .unwrap_or(0);
    if non_ascii_chars >= 8 {
        return Err(broken_utf8(file, bytes, valid_up_to));
    }
    let (text, had_errors) = encoding_rs::SHIFT_JIS.decode_without_bom_handling(bytes);
    if had_errors {
        Err(encoding_error())
    } else {
        Ok(text)
    }
}

/// A UTF-8 file with bytes that are not UTF-8 at `at`.
fn broken_utf8(file: &str, bytes: &[u8], at: usize) -> ImportError {
    let line = bytes[..at].iter().filter(|b| **b == b'\n').count() + 1;
    let mut ps = crate::error::Problems::default();
    ps.push(Problem::file(format!(
        "UTF-8 のファイルの{line}行目付近に UTF-8 として読めないバイトがあります / the UTF-8 file has bytes that are not UTF-8 near line {line}"
    )));
    ImportError::Invalid(ps.into_report(file, crate::error::RowUnit::Line))
}

/// Comma, unless the first line has tabs and no commas (Excel's "Unicode text").
pub(crate) fn sniff_delimiter(text: &str) -> u8 {
    let first = text.lines().next().unwrap_or("");
    if first.contains('\t') && !first.contains(',') {
        b'\t'
    } else {
        b','
    }
}

/// Rows of the first lines, kept to look for the header row, which may sit
/// under a title row or two.
pub(crate) const HEADER_SCAN_ROWS: usize = 10;

/// A CSV file cut for reading on several threads: see [`Table::csv_parts`].
pub(crate) struct CsvParts<'t, 'a> {
    /// The data rows of the header scan, with their row numbers.
    pub head: Vec<(usize, &'t csv::StringRecord)>,
    /// Records of the header scan (the rows before the first range).
    pub head_records: usize,
    pub delimiter: u8,
    pub ranges: Vec<&'a [u8]>,
}

/// A table being read: its first rows (to find the header in), then the rest.
pub(crate) enum Table<'a> {
    Csv {
        first: Vec<csv::StringRecord>,
        reader: csv::Reader<&'a [u8]>,
        consumed: usize,
        delimiter: u8,
        /// The whole text (the reader's own slice is what it has not
        /// buffered yet).
        bytes: &'a [u8],
    },
    Sheet {
        rows: Vec<Vec<String>>,
        first_row: usize,
    },
}

impl<'a> Table<'a> {
    pub fn csv(text: &'a str) -> Result<Table<'a>, Problem> {
        let delimiter = sniff_delimiter(text);
        let mut reader = csv_reader(delimiter, text.as_bytes());
        let mut first = Vec::new();
        let mut rec = csv::StringRecord::new();
        while first.len() < HEADER_SCAN_ROWS {
            match reader.read_record(&mut rec) {
                Ok(true) => first.push(rec.clone()),
                Ok(false) => break,
                Err(e) => return Err(csv_problem(first.len() + 1, &e)),
            }
        }
        Ok(Table::Csv {
            first,
            reader,
            consumed: 0,
            delimiter,
            bytes: text.as_bytes(),
        })
    }

    /// Roughly how many rows the table has, to size vectors once instead of
    /// growing them through twenty doublings on a million-row file.
    pub fn estimated_rows(&self) -> usize {
        match self {
            Table::Csv {
                first,
                reader,
                bytes,
                ..
            } => {
                let read = reader.position().byte() as usize;
                let total = bytes.len();
                if first.is_empty() || read == 0 {
                    return 0;
                }
                // Capped so that a head of short rows cannot reserve absurdly;
                // beyond the cap vectors simply grow.
                (total / (read / first.len()).max(16)).min(1_500_000)
            }
            Table::Sheet { rows, .. } => rows.len(),
        }
    }

    /// For a CSV table: the rows of the header scan after `header_row`
    /// (with their row numbers) and the rest of the file cut into at most
    /// `parts` byte ranges, each starting at the beginning of a record, so
    /// that they can be read on several threads. A newline ends a record
    /// exactly when an even number of quote characters precede it (inside
    /// quotes a quote is written twice), so the cuts never split a quoted
    /// cell. None for a spreadsheet or a table already being read.
    pub fn csv_parts(&self, header_row: usize, parts: usize) -> Option<CsvParts<'_, 'a>> {
        let Table::Csv {
            first,
            reader,
            consumed,
            delimiter,
            bytes,
        } = self
        else {
            return None;
        };
        if *consumed != 0 {
            return None;
        }
        let all: &'a [u8] = bytes;
        let start = usize::try_from(reader.position().byte())
            .ok()?
            .min(all.len());
        let rest = &all[start..];
        let mut cuts = vec![0usize];
        let mut quotes_before = 0usize; // quote characters in rest[..last cut]
        for k in 1..parts.max(1) {
            let last = *cuts.last().unwrap_or(&0);
            let mut at = (rest.len() * k / parts).max(last);
            let mut counted = last;
            let cut = loop {
                let Some(nl) = rest[at..].iter().position(|b| *b == b'\n') else {
                    break None;
                };
                let end = at + nl + 1;
                quotes_before += rest[counted..end].iter().filter(|b| **b == b'"').count();
                counted = end;
                if quotes_before.is_multiple_of(2) {
                    break Some(end);
                }
                at = end;
            };
            match cut {
                Some(c) if c < rest.len() => cuts.push(c),
                _ => break,
            }
        }
        cuts.push(rest.len());
        let ranges = cuts.windows(2).map(|w| &rest[w[0]..w[1]]).collect();
        let head = first
            .iter()
            .enumerate()
            .skip(header_row)
            .map(|(i, r)| (i + 1, r))
            .collect();
        Some(CsvParts {
            head,
            head_records: first.len(),
            delimiter: *delimiter,
            ranges,
        })
    }

    /// The first rows as text, with their 1-based row numbers.
    pub fn head(&self) -> Vec<(usize, Vec<String>)> {
        match self {
            Table::Csv { first, .. } => first
                .iter()
                .enumerate()
                .map(|(i, r)| (i + 1, r.iter().map(str::to_string).collect()))
                .collect(),
            Table::Sheet { rows, first_row } => rows
                .iter()
                .take(HEADER_SCAN_ROWS)
                .enumerate()
                .map(|(i, r)| (first_row + i, r.clone()))
                .collect(),
        }
    }

    /// Calls `f(row_number, cells)` for every row after the header row
    /// `header_row` (a number from [`Table::head`]). A CSV syntax error ends
    /// the table and is returned as a problem.
    pub fn for_each_after(
        &mut self,
        header_row: usize,
        f: &mut dyn FnMut(usize, &dyn Cells),
    ) -> Result<(), Problem> {
        match self {
            Table::Csv {
                first,
                reader,
                consumed,
                ..
            } => {
                for (i, rec) in first.iter().enumerate().skip(header_row) {
                    f(i + 1, rec);
                }
                *consumed = first.len();
                let mut rec = csv::StringRecord::new();
                loop {
                    match reader.read_record(&mut rec) {
                        Ok(true) => {
                            *consumed += 1;
                            f(*consumed, &rec);
                        }
                        Ok(false) => return Ok(()),
                        Err(e) => return Err(csv_problem(*consumed + 1, &e)),
                    }
                }
            }
            Table::Sheet { rows, first_row } => {
                let skip = header_row + 1 - *first_row;
                for (i, r) in rows.iter().enumerate().skip(skip) {
                    f(*first_row + i, r);
                }
                Ok(())
            }
        }
    }
}

/// The reader of citykpi's CSV files: no header handling (the header row
/// is found by its content), rows of any length (checked against the header).
pub(crate) fn csv_reader<R: std::io::Read>(delimiter: u8, source: R) -> csv::Reader<R> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(source)
}

/// Reads every record of `bytes` (a range from [`Table::csv_parts`]),
/// calling `f(record_number, cells)` with numbers counted from 1 within the
/// range; returns the number of records, or the problem that ended the range.
pub(crate) fn for_each_record(
    delimiter: u8,
    bytes: &[u8],
    f: &mut dyn FnMut(usize, &dyn Cells),
) -> (usize, Option<Problem>) {
    let mut reader = csv_reader(delimiter, bytes);
    let mut rec = csv::StringRecord::new();
    let mut n = 0;
    loop {
        match reader.read_record(&mut rec) {
            Ok(true) => {
                n += 1;
                f(n, &rec);
            }
            Ok(false) => return (n, None),
            Err(e) => return (n, Some(csv_problem(n + 1, &e))),
        }
    }
}

pub(crate) fn csv_problem(row: usize, e: &csv::Error) -> Problem {
    Problem {
        row: Some(row),
        column: None,
        value: None,
        reason: format!("CSVとして読めません / not valid CSV: {e}"),
    }
}

/// Text of a spreadsheet cell as a person would type it: whole numbers
/// without ".0", dates as `2024-04-01`.
pub(crate) fn cell_text(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => {
            if f.fract() == 0.0 && f.abs() < 1e15 {
                format!("{}", *f as i64)
            } else {
                crate::fields::format_f64(*f)
            }
        }
        Data::Bool(b) => b.to_string(),
        Data::DateTime(dt) => {
            let (y, mo, d, h, mi, s, _) = dt.to_ymd_hms_milli();
            if dt.is_datetime() && (h, mi, s) != (0, 0, 0) {
                format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}")
            } else if dt.is_datetime() {
                format!("{y:04}-{mo:02}-{d:02}")
            } else {
                crate::fields::format_f64(dt.as_f64())
            }
        }
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(e) => format!("#{e:?}"),
    }
}

/// A workbook's sheet as a [`Table`]. Picks the sheet named by the kind
/// (English or Japanese) when there is one, else the first non-empty sheet.
pub(crate) fn open_sheet(
    bytes: &[u8],
    preferred_names: &[&str],
) -> Result<(String, Table<'static>), Problem> {
    // calamine is a third-party parser of a complex format; a corrupt upload
    // must come back as a problem, never bring down the server.
    let result = std::panic::catch_unwind(|| read_sheet(bytes, preferred_names));
    match result {
        Ok(r) => r,
        Err(_) => Err(Problem::file(
            "Excelファイルが壊れているため読めません / the workbook is corrupt and cannot be read",
        )),
    }
}

/// Cells right of this column are ignored: citykpi's tables have about 20
/// columns, and a stray far-right cell must not make every row 16,384 wide.
const MAX_SHEET_COLS: u32 = 256;
/// Excel's row limit; a crafted file could claim row four billion.
const MAX_SHEET_ROWS: u32 = 1_048_576;

fn sheet_order(names: &[String], preferred_names: &[&str]) -> Vec<String> {
    let wanted = |n: &str| {
        let k = crate::columns::header_key(n);
        preferred_names
            .iter()
            .any(|p| crate::columns::header_key(p) == k)
    };
    let mut order: Vec<String> = names.iter().filter(|n| wanted(n)).cloned().collect();
    order.extend(names.iter().filter(|n| !wanted(n)).cloned());
    order
}

fn sheet_error(name: &str, e: impl std::fmt::Display) -> Problem {
    Problem::file(format!(
        "シート「{name}」を読めません / cannot read sheet \"{name}\": {e}"
    ))
}

fn read_sheet(bytes: &[u8], preferred_names: &[&str]) -> Result<(String, Table<'static>), Problem> {
    // .xlsx: stream the cells. calamine's `worksheet_range` builds a dense
    // grid from the top-left to the bottom-right used cell, so one stray cell
    // at XFD1048576 would ask for billions of cells and abort the process.
    if let Ok(mut wb) = calamine::open_workbook_from_rs::<calamine::Xlsx<_>, _>(Cursor::new(bytes))
    {
        let names = wb.sheet_names();
        if names.is_empty() {
            return Err(Problem::file(
                "ブックにシートがありません / the workbook has no sheets",
            ));
        }
        for name in sheet_order(&names, preferred_names) {
            let mut cells = Vec::new();
            let mut reader = wb
                .worksheet_cells_reader(&name)
                .map_err(|e| sheet_error(&name, e))?;
            while let Some(cell) = reader.next_cell().map_err(|e| sheet_error(&name, e))? {
                let (r, c) = cell.get_position();
                if r < MAX_SHEET_ROWS && c < MAX_SHEET_COLS {
                    let text = cell_text(&Data::from(cell.get_value().clone()));
                    if !text.is_empty() {
                        cells.push((r, c, text));
                    }
                }
            }
            if let Some(table) = sparse_table(cells) {
                return Ok((name, table));
            }
        }
        return Err(Problem::file(
            "すべてのシートが空です / every sheet is empty",
        ));
    }
    // .xls / .xlsb / .ods: calamine's range (an .xls sheet is at most 65,536 × 256).
    let mut wb = calamine::open_workbook_auto_from_rs(Cursor::new(bytes)).map_err(|e| {
        Problem::file(format!(
            "Excelファイルとして読めません / not a readable workbook: {e}"
        ))
    })?;
    let names = wb.sheet_names();
    if names.is_empty() {
        return Err(Problem::file(
            "ブックにシートがありません / the workbook has no sheets",
        ));
    }
    for name in sheet_order(&names, preferred_names) {
        let range = wb
            .worksheet_range(&name)
            .map_err(|e| sheet_error(&name, e))?;
        let Some((r0, c0)) = range.start() else {
            continue;
        };
        let cells = range
            .used_cells()
            .map(|(r, c, d)| {
                (
                    r0.saturating_add(r as u32),
                    c0.saturating_add(c as u32),
                    cell_text(d),
                )
            })
            .filter(|(r, c, t)| *r < MAX_SHEET_ROWS && *c < MAX_SHEET_COLS && !t.is_empty())
            .collect();
        if let Some(table) = sparse_table(cells) {
            return Ok((name, table));
        }
    }
    Err(Problem::file(
        "すべてのシートが空です / every sheet is empty",
    ))
}

/// Rows from (row, column, text) cells, 0-based absolute positions, so that
/// row numbers and column positions are what Excel shows.
fn sparse_table(mut cells: Vec<(u32, u32, String)>) -> Option<Table<'static>> {
    // Cells arrive in row order from a well-formed file; sorting makes any order work.
    cells.sort_by_key(|(r, c, _)| (*r, *c));
    let first = cells.first()?.0;
    let last = cells.last()?.0;
    let mut rows: Vec<Vec<String>> = vec![Vec::new(); (last - first) as usize + 1];
    for (r, c, text) in cells {
        let row = &mut rows[(r - first) as usize];
        let c = c as usize;
        if row.len() <= c {
            row.resize(c + 1, String::new());
        }
        row[c] = text;
    }
    Some(Table::Sheet {
        rows,
        first_row: first as usize + 1,
    })
}

#[cfg(test)]
mod parts_tests {
    use super::*;

    /// Cuts never fall inside a quoted cell, even one spanning many lines
    /// around the middle of the file, and the ranges rebuild the file.
    #[test]
    fn cuts_at_record_boundaries_only() {
        let mut text = String::from("a,b\n");
        for i in 0..20 {
            text.push_str(&format!("{i},x\n"));
        }
        // A quoted cell of many lines (with a doubled quote) where the
        // middle of the file falls.
        text.push_str("20,\"");
        for i in 0..40 {
            text.push_str(&format!("line {i} \"\" ,\n"));
        }
        text.push_str("end\"\n");
        for i in 21..40 {
            text.push_str(&format!("{i},y\n"));
        }
        let table = Table::csv(&text).unwrap();
        let parts = table.csv_parts(1, 2).unwrap();
        assert_eq!(parts.head_records, HEADER_SCAN_ROWS);
        assert_eq!(parts.head.len(), HEADER_SCAN_ROWS - 1);
        assert_eq!(parts.ranges.len(), 2);
        let whole: Vec<u8> = parts.ranges.concat();
        assert!(text.as_bytes().ends_with(&whole));
        // The second range starts after the long quoted cell.
        assert!(
            parts.ranges[1].starts_with(b"21,y\n"),
            "{}",
            String::from_utf8_lossy(parts.ranges[1])
        );
        let mut cells = Vec::new();
        let (n, err) = for_each_record(parts.delimiter, parts.ranges[0], &mut |_, c| {
            cells.push(c.get(0).to_string())
        });
        assert!(err.is_none());
        assert_eq!(n, 12); // rows 9..=20
        assert_eq!(cells.last().map(String::as_str), Some("20"));
    }

    #[test]
    fn a_small_file_is_one_range() {
        let table = Table::csv("a,b\n1,2\n").unwrap();
        let parts = table.csv_parts(1, 2).unwrap();
        assert_eq!(parts.ranges.iter().map(|r| r.len()).sum::<usize>(), 0);
    }
}
