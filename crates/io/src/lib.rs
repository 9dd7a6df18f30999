//! Import and export of citykpi's tables: CSV, XLSX and JSON. Pure: no
//! database. Import produces a [`Dataset`]; applying it (upsert by key) is the
//! store's job.
//!
//! # Files
//!
//! * **CSV** is read as UTF-8 (with or without BOM), UTF-16 with BOM, or —
//!   when the bytes are not UTF-8 — Shift_JIS/CP932 as Japanese Excel saves
//!   it. A UTF-8 file damaged in one spot is reported (with the line) rather
//!   than read as Shift_JIS mojibake. Comma- or tab-separated. Written as
//!   UTF-8 with BOM and CRLF, which Excel opens correctly.
//! * **XLSX** (also .xlsm/.xls/.ods on input): the sheet named after the kind
//!   (`observations` or `実績値`) if there is one, else the first non-empty
//!   sheet. Written with one sheet named after the kind, a bold frozen header,
//!   numbers as numbers, yen as integers formatted `#,##0`.
//! * **JSON**: export writes a pretty array of the kind's serde records
//!   (org and plans: an object `{"departments": [...], "sections": [...]}` /
//!   `{"plans": [...], "plan_nodes": [...]}`). Import also accepts a whole
//!   [`Dataset`] object with several kinds ([`write_dataset_json`]).
//!
//! The header row may sit under a few title rows (the first 10 rows are
//! searched). Every column accepts its Japanese header, its English header
//! and a few aliases ([`columns::columns`]); headers are compared after NFKC,
//! trimming, lower-casing and dropping spaces/`_`/`-`. A unit in brackets
//! after a header is allowed (`値（人）`); on yen columns `（千円）` and
//! `（百万円）` scale the values. Unknown columns are ignored and listed in
//! [`ImportOutcome::warnings`]. Row numbers in problems are as Excel shows
//! them: header = row 1 in a CSV, first data row = 2.
//!
//! # Cells
//!
//! * Numbers: `1,234`, `１，２３４`, `△12` (minus). Yen must be whole.
//! * Fiscal years: `2024`, `2024年度`, `R6`, `令和6年度`, `FY2024`.
//! * Observation values: a number; `-`, `…` or empty = missing; `X`, `***` = secret.
//! * Periods: `2024` (fiscal year), `2024Q1` (April–June), `2024-04`
//!   (month); a date `2024/4/1` (what Excel makes of `2024-04`) means its month.
//! * Booleans: `true/false`, `1/0`, `はい/いいえ`, `○/×`; empty = the default.
//! * Lists in one cell, separated by `;` (also `,` `、` or line breaks):
//!   KPI `owner_sections` `S01;S02`; KPI `nodes` `M-1-1;M-2-3*2` (`*weight`
//!   optional); KPI `sdgs` `3;11.2`; KPI `targets` `2026:105;2027:110`
//!   (year:value, the year may be `令和8年度`; only `;` separates here, as
//!   values may contain `,`). Plan `level_names` `政策/Policy;施策/Measure`.
//! * KPI direction: `higher`/`lower`/`band` (or 増加/減少/範囲, ↑/↓); a band
//!   takes its bounds from `band_lower` / `band_upper`.
//! * Enumerations accept the English code or the Japanese label (role
//!   `department_editor`/`部局担当者`, delivery `subsidy`/`補助`, evidence grade
//!   `A`–`D` or `causal`…, indicator kind `activity`/`活動指標`, status
//!   `final`/`確定値`/`provisional`/`速報値`); a wrong value is reported with
//!   the list of allowed ones.
//!
//! # Tables with two record types
//!
//! * **org**: one row per section, naming its department by code and name
//!   (the department columns repeat). A row with an empty section code is a
//!   department without sections. A section row whose department name is
//!   empty refers to a department already in the database.
//! * **plans**: a row with an empty node code (`体系コード`) is the plan
//!   itself (name, years, level names, thresholds, roll-up); every other row
//!   is a node of that plan (政策, 施策…) with its parent code and level. An
//!   empty level is 1 without a parent, else the parent's level + 1; a level
//!   may also be written by name (`施策`). Export writes each plan's row
//!   followed by its nodes.
//!
//! Users are exported without password hashes, and a hash in an imported
//! file is dropped (with a warning). Observations with an empty area code
//! (`地域コード`) are the city's own.
//!
//! CSV export puts an apostrophe before text that Excel would run as a
//! formula (`=…`, `+…`, `@…`, `-` followed by non-numbers); CSV import removes it.
//!
//! # Example
//!
//! ```
//! use citykpi_io::{Format, HeaderLang, Kind, KnownKeys, read_bytes, write};
//!
//! let mut known = KnownKeys::default();
//! known.kpis.insert("K-001".into());
//! let csv = "指標コード,年度,実績値,確定区分\nK-001,令和6年度,\"1,234\",速報値\nK-001,R5,X,\n";
//! let out = read_bytes("実績.csv", csv.as_bytes(), None, None, &known).unwrap();
//! assert_eq!(out.kind, Some(Kind::Observations));
//! assert_eq!(out.dataset.observations.len(), 2);
//!
//! let bytes = write(Kind::Observations, &out.dataset, Format::Csv, HeaderLang::Ja).unwrap();
//! assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
//! let again = read_bytes("x.csv", &bytes, None, None, &known).unwrap();
//! assert_eq!(again.dataset, out.dataset);
//! ```

pub mod columns;
mod error;
mod export;
pub mod fields;
mod import;
mod json;
mod stream;
mod table;
mod validate;

use std::path::Path;

pub use citykpi_domain::{Dataset, Kind, KnownKeys};
pub use columns::{Column, columns as columns_of, columns_markdown, kind_label_ja};
pub use error::{ExportError, ImportError, ImportReport, MAX_PROBLEMS, Problem, RowUnit};
pub use export::{Cell, Sheet, write_sheet};
pub use stream::{ObservationFile, StreamOutcome, StreamRead};

use error::Problems;
use import::{Parsed, Resolved, RowParser};
use table::{Cells, Table};

/// Most cells a header row may have.
pub const MAX_COLUMNS: usize = 1024;

/// A file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Csv,
    Xlsx,
    Json,
}

impl Format {
    /// From a file name's extension (case-insensitive).
    pub fn from_file_name(name: &str) -> Option<Format> {
        let ext = Path::new(name).extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" | "txt" | "tsv" => Some(Format::Csv),
            "xlsx" | "xlsm" | "xls" | "ods" => Some(Format::Xlsx),
            "json" => Some(Format::Json),
            _ => None,
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
            Format::Json => "json",
        }
    }

    pub fn mime_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Format::Json => "application/json",
        }
    }
}

/// Which headers export writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HeaderLang {
    /// Japanese headers: staff open exports in Excel.
    #[default]
    Ja,
    En,
}

/// What an import produced.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportOutcome {
    /// The kind read; None for a JSON dataset holding several kinds.
    pub kind: Option<Kind>,
    pub dataset: Dataset,
    /// Data rows (JSON: records) read, blank rows not counted.
    pub rows_read: usize,
    /// Things worth knowing that did not stop the import (ignored columns…).
    pub warnings: Vec<Problem>,
}

/// Reads a file; the format comes from its extension.
pub fn read_file(
    path: &Path,
    kind: Option<Kind>,
    known: &KnownKeys,
) -> Result<ImportOutcome, ImportError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    let bytes = std::fs::read(path).map_err(|source| ImportError::Io {
        file: name.clone(),
        source,
    })?;
    read_bytes(&name, &bytes, None, kind, known)
}

/// Reads an uploaded file. `format` None = from `file_name`'s extension;
/// `kind` None = detected from the header row (JSON: from the field names).
pub fn read_bytes(
    file_name: &str,
    bytes: &[u8],
    format: Option<Format>,
    kind: Option<Kind>,
    known: &KnownKeys,
) -> Result<ImportOutcome, ImportError> {
    let format = format
        .or_else(|| Format::from_file_name(file_name))
        .ok_or_else(|| ImportError::UnknownFormat {
            file: file_name.to_string(),
        })?;
    if bytes.is_empty() {
        return Err(file_problem(
            file_name,
            "ファイルが空です / the file is empty",
        ));
    }
    match format {
        Format::Json => json::import_json(file_name, bytes, kind, known),
        Format::Csv => {
            let text = table::decode_text(file_name, bytes)?;
            let t = Table::csv(&text).map_err(|p| invalid(file_name, p))?;
            import_table(file_name, t, kind, known, true)
        }
        Format::Xlsx => {
            let names: Vec<&str> = match kind {
                Some(k) => vec![k.as_str(), kind_label_ja(k)],
                None => Kind::ALL
                    .iter()
                    .flat_map(|k| [k.as_str(), kind_label_ja(*k)])
                    .collect(),
            };
            let (_sheet, t) =
                table::open_sheet(bytes, &names).map_err(|p| invalid(file_name, p))?;
            import_table(file_name, t, kind, known, false)
        }
    }
}

fn invalid(file: &str, p: Problem) -> ImportError {
    let mut ps = Problems::default();
    ps.push(p);
    ImportError::Invalid(ps.into_report(file, RowUnit::Line))
}

fn file_problem(file: &str, reason: &str) -> ImportError {
    invalid(file, Problem::file(reason))
}

/// A table's header row resolved: the kind, where the header is, its columns.
pub(crate) struct Header {
    pub map: Resolved,
    pub header_row: usize,
    pub warnings: Vec<Problem>,
}

/// Finds the header row among a table's first rows (`head`, with their row
/// numbers) and resolves it against `kind_hint` or the kind it names.
pub(crate) fn resolve_header(
    file: &str,
    head: &[(usize, Vec<String>)],
    kind_hint: Option<Kind>,
    is_csv: bool,
) -> Result<Header, ImportError> {
    let non_blank: Vec<&(usize, Vec<String>)> = head
        .iter()
        .filter(|(_, r)| r.iter().any(|c| !c.trim().is_empty()))
        .collect();
    if non_blank.is_empty() {
        return Err(file_problem(file, "ファイルが空です / the file is empty"));
    }
    // Every header cell is matched against every table; a line of millions of
    // cells is not a table of citykpi's (they have about 20 columns).
    if let Some((row, r)) = non_blank.iter().find(|(_, r)| r.len() > MAX_COLUMNS) {
        let mut ps = Problems::default();
        ps.push(Problem {
            row: Some(*row),
            column: None,
            value: None,
            reason: format!(
                "列が多すぎます（{}列、{MAX_COLUMNS}列まで） / too many columns ({}, at most {MAX_COLUMNS})",
                r.len(),
                r.len()
            ),
        });
        return Err(ImportError::Invalid(ps.into_report(file, RowUnit::Line)));
    }
    let (kind, header_row, header) = match kind_hint {
        Some(k) => {
            let best = non_blank
                .iter()
                .map(|(n, r)| (import::score(k, r).1, *n, r))
                .fold(None::<(usize, usize, &Vec<String>)>, |acc, x| match acc {
                    Some(a) if a.0 >= x.0 => Some(a),
                    _ => Some(x),
                });
            let (_, n, r) = best.unwrap_or((0, non_blank[0].0, &non_blank[0].1));
            (k, n, r.clone())
        }
        None => {
            let found = non_blank
                .iter()
                .find_map(|(n, r)| import::detect_kind(r).map(|k| (k, *n, r.clone())));
            found.ok_or_else(|| ImportError::UnknownKind {
                file: file.to_string(),
            })?
        }
    };
    let mut problems = Problems::default();
    let mut warnings = Vec::new();
    let mut map = Resolved::new(kind, &header, header_row, &mut problems, &mut warnings);
    map.csv = is_csv;
    if !problems.is_empty() {
        // A file of another kind given to the wrong importer: say so.
        if let Some(other) = import::detect_kind(&header).filter(|k| *k != kind) {
            problems.push(Problem {
                row: Some(header_row),
                column: None,
                value: None,
                reason: format!(
                    "見出しは「{}」の表のものです（{}として取り込もうとしています） / the headers are those of the {} table, not {}",
                    kind_label_ja(other),
                    kind_label_ja(kind),
                    other.as_str(),
                    kind.as_str()
                ),
            });
        }
        return Err(ImportError::Invalid(
            problems.into_report(file, RowUnit::Line),
        ));
    }
    Ok(Header {
        map,
        header_row,
        warnings,
    })
}

fn import_table(
    file: &str,
    mut table: Table,
    kind_hint: Option<Kind>,
    known: &KnownKeys,
    is_csv: bool,
) -> Result<ImportOutcome, ImportError> {
    let Header {
        map,
        header_row,
        mut warnings,
    } = resolve_header(file, &table.head(), kind_hint, is_csv)?;
    let kind = map.kind;
    let mut problems = Problems::default();
    let mut parser = RowParser::new(&map);
    let mut parsed = Parsed::default();
    let estimated = table.estimated_rows();
    if kind == Kind::Observations {
        parsed.ds.observations.reserve(estimated);
        parsed.rows.observations.reserve(estimated);
    }
    let mut rows_read = 0usize;
    let parts = (is_csv && kind == Kind::Observations && estimated >= PARALLEL_MIN_ROWS)
        .then(|| table.csv_parts(header_row, PARSE_THREADS))
        .flatten();
    if let Some(table::CsvParts {
        head,
        head_records,
        delimiter,
        ranges,
    }) = parts
    {
        // A large observations file: its ranges are read on threads of their
        // own and joined in file order, so that the result (and the rule that
        // a later row wins) is exactly that of reading it in one go.
        let mut first = RowSink::new(&map, &mut parser, &mut parsed, &mut problems);
        for (n, rec) in head {
            first.row(n, rec);
        }
        rows_read += first.rows_read;
        let mut rest = ranges.into_iter();
        let own = rest.next();
        let others: Vec<ChunkResult> = std::thread::scope(|scope| {
            let handles: Vec<_> = rest
                .map(|range| scope.spawn(|| read_chunk(&map, delimiter, range)))
                .collect();
            let own = own.map(|range| read_chunk(&map, delimiter, range));
            own.into_iter()
                .chain(handles.into_iter().filter_map(|h| h.join().ok()))
                .collect()
        });
        let mut offset = head_records;
        for chunk in others {
            rows_read += chunk.rows_read;
            parsed
                .rows
                .observations
                .extend(chunk.parsed.rows.observations.iter().map(|r| r + offset));
            parsed.ds.observations.extend(chunk.parsed.ds.observations);
            for mut p in chunk.problems.list {
                p.row = p.row.map(|r| r + offset);
                problems.push(p);
            }
            problems.omitted += chunk.problems.omitted;
            offset += chunk.records;
        }
    } else {
        let mut sink = RowSink::new(&map, &mut parser, &mut parsed, &mut problems);
        let result =
            table.for_each_after(header_row, &mut |n, cells: &dyn Cells| sink.row(n, cells));
        rows_read = sink.rows_read;
        if let Err(p) = result {
            problems.push(p);
        }
    }
    parser.finish(&map, &mut parsed, &mut problems);
    validate::validate(
        &parsed.ds,
        &parsed.rows,
        known,
        &validate::Naming::Table(&map),
        &mut problems,
    );
    if !problems.is_empty() {
        return Err(ImportError::Invalid(
            problems.into_report(file, RowUnit::Line),
        ));
    }
    if rows_read == 0 {
        warnings.push(Problem::file("データ行がありません / no data rows"));
    }
    Ok(ImportOutcome {
        kind: Some(kind),
        dataset: parsed.ds,
        rows_read,
        warnings,
    })
}

/// From this many (estimated) rows on, an observations CSV is read on
/// several threads: below it the threads cost more than they save.
const PARALLEL_MIN_ROWS: usize = 50_000;
/// Threads reading one file (the machine this is built for has two cores;
/// the writer runs after the reading).
const PARSE_THREADS: usize = 2;

/// Reads data rows into a parser's output: blank rows skipped, the cell
/// count checked against the header (CSV), then the kind's row parser.
struct RowSink<'s> {
    map: &'s Resolved,
    parser: &'s mut RowParser,
    parsed: &'s mut Parsed,
    problems: &'s mut Problems,
    rows_read: usize,
}

impl<'s> RowSink<'s> {
    fn new(
        map: &'s Resolved,
        parser: &'s mut RowParser,
        parsed: &'s mut Parsed,
        problems: &'s mut Problems,
    ) -> Self {
        RowSink {
            map,
            parser,
            parsed,
            problems,
            rows_read: 0,
        }
    }

    fn row(&mut self, n: usize, cells: &dyn Cells) {
        if cells.is_blank() {
            return;
        }
        self.rows_read += 1;
        let width = self.map.width;
        let len = cells.len();
        if self.map.csv && len != width {
            let extra_blank = len > width && (width..len).all(|i| cells.get(i).trim().is_empty());
            if !extra_blank {
                self.problems.push(Problem {
                    row: Some(n),
                    column: None,
                    value: None,
                    reason: format!(
                        "列の数（{len}）が見出し行（{width}）と違います / {len} cells but the header has {width}"
                    ),
                });
                return;
            }
        }
        self.parser
            .row(n, cells, self.map, self.parsed, self.problems);
    }
}

/// One byte range of a CSV file read on its own, rows numbered from 1
/// within the range (the caller adds the rows before it).
struct ChunkResult {
    parsed: Parsed,
    problems: Problems,
    rows_read: usize,
    /// Records in the range, blank ones included.
    records: usize,
}

fn read_chunk(map: &Resolved, delimiter: u8, range: &[u8]) -> ChunkResult {
    let mut parser = RowParser::new(map);
    let mut parsed = Parsed::default();
    // About 40 bytes per observation row; a guess, vectors grow beyond it.
    let guess = range.len() / 40;
    parsed.ds.observations.reserve(guess);
    parsed.rows.observations.reserve(guess);
    let mut problems = Problems::default();
    let mut sink = RowSink::new(map, &mut parser, &mut parsed, &mut problems);
    let (records, error) = table::for_each_record(delimiter, range, &mut |n, cells: &dyn Cells| {
        sink.row(n, cells)
    });
    let rows_read = sink.rows_read;
    if let Some(p) = error {
        problems.push(p);
    }
    ChunkResult {
        parsed,
        problems,
        rows_read,
        records,
    }
}

/// Writes one kind's table.
pub fn write(
    kind: Kind,
    ds: &Dataset,
    format: Format,
    lang: HeaderLang,
) -> Result<Vec<u8>, ExportError> {
    export::write(kind, ds, format, lang)
}

/// The whole dataset as pretty JSON (users without password hashes); reads
/// back with [`read_bytes`].
pub fn write_dataset_json(ds: &Dataset) -> Vec<u8> {
    // Serializing plain data structures with string keys cannot fail.
    serde_json::to_vec_pretty(ds).unwrap_or_default()
}
