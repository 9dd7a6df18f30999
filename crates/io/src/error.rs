//! Errors of import and export, and the problem report shown to staff.

use std::fmt;

use citykpi_domain::Kind;

/// At most this many problems are kept per file; the rest are only counted.
/// A file with a shifted column produces one problem per row, and a list of a
/// million lines helps nobody.
pub const MAX_PROBLEMS: usize = 1000;

/// One thing wrong (or, as a warning, worth knowing) about an input file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    /// Row as Excel shows it: the header is row 1 in a CSV, the first data row
    /// row 2. In an XLSX the real sheet row. In a JSON file the record number
    /// (1-based). None when the problem concerns the whole file.
    pub row: Option<usize>,
    /// The column header as written in the file (JSON: the field name).
    pub column: Option<String>,
    /// The cell as written, when there is one.
    pub value: Option<String>,
    /// Japanese first, then English.
    pub reason: String,
}

impl Problem {
    pub fn file(reason: impl Into<String>) -> Self {
        Problem {
            row: None,
            column: None,
            value: None,
            reason: reason.into(),
        }
    }
}

/// How the `row` of a problem is counted, which depends on the file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RowUnit {
    /// Spreadsheet rows (CSV, XLSX): shown as 「5行目」.
    #[default]
    Line,
    /// JSON records: shown as 「5件目」.
    Record,
}

impl Problem {
    /// One line for people: `5行目 「年度」列: 「R99」は年度として読めません / …`.
    pub fn describe(&self, unit: RowUnit) -> String {
        let mut out = String::new();
        if let Some(row) = self.row {
            match unit {
                RowUnit::Line => out.push_str(&format!("{row}行目 ")),
                RowUnit::Record => out.push_str(&format!("{row}件目 ")),
            }
        }
        if let Some(col) = &self.column {
            out.push_str(&format!("「{col}」列: "));
        }
        out.push_str(&self.reason);
        out
    }
}

/// Spreadsheet form (`5行目 「年度」列: …`); JSON problems are best shown
/// through [`ImportReport`], which knows they count records.
impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe(RowUnit::Line))
    }
}

/// Every problem found in one file.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct ImportReport {
    pub file: String,
    pub problems: Vec<Problem>,
    /// Problems found beyond [`MAX_PROBLEMS`], counted but not kept.
    pub omitted: usize,
    pub unit: RowUnit,
}

impl ImportReport {
    /// Total number of problems, including the omitted ones.
    pub fn total(&self) -> usize {
        self.problems.len() + self.omitted
    }
}

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}件の問題があり取り込めません / {} problem(s), nothing imported",
            self.file,
            self.total(),
            self.total()
        )?;
        for p in &self.problems {
            write!(f, "\n{} {}", self.file, p.describe(self.unit))?;
        }
        if self.omitted > 0 {
            write!(f, "\n…ほか{}件 / …and {} more", self.omitted, self.omitted)?;
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{file} を読めません / cannot read {file}: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{file}: ファイル形式が分かりません（.csv / .xlsx / .json） / unknown file format (use .csv, .xlsx or .json)"
    )]
    UnknownFormat { file: String },
    #[error(
        "{file}: どの表か判別できません。見出し行を確認するか種類を指定してください（{kinds}） / cannot tell which table this is; check the header row or give the kind ({kinds})",
        kinds = kind_list()
    )]
    UnknownKind { file: String },
    #[error(
        "{file}: 文字コードが読めません（UTF-8 でも Shift_JIS でもありません） / cannot decode the file: neither UTF-8 nor Shift_JIS (CP932)"
    )]
    Encoding { file: String },
    #[error("{0}")]
    Invalid(ImportReport),
}

/// `org（組織）, users（利用者）, …` for messages.
pub fn kind_list() -> String {
    Kind::ALL
        .iter()
        .map(|k| format!("{}（{}）", k.as_str(), crate::columns::kind_label_ja(*k)))
        .collect::<Vec<_>>()
        .join(", ")
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("Excelファイルを作れません / cannot write the XLSX file: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    #[error("CSVを書けません / cannot write the CSV file: {0}")]
    Csv(#[from] csv::Error),
    #[error("JSONを書けません / cannot write JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// Collects problems up to [`MAX_PROBLEMS`], counting the rest.
#[derive(Debug, Default)]
pub(crate) struct Problems {
    pub list: Vec<Problem>,
    pub omitted: usize,
}

impl Problems {
    pub fn push(&mut self, p: Problem) {
        if self.list.len() < MAX_PROBLEMS {
            self.list.push(p);
        } else {
            self.omitted += 1;
        }
    }

    pub fn at(&mut self, row: usize, column: &str, value: &str, reason: impl Into<String>) {
        self.push(Problem {
            row: Some(row),
            column: Some(column.to_string()),
            value: if value.is_empty() {
                None
            } else {
                Some(value.to_string())
            },
            reason: reason.into(),
        });
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty() && self.omitted == 0
    }

    pub fn into_report(self, file: &str, unit: RowUnit) -> ImportReport {
        ImportReport {
            file: file.to_string(),
            problems: self.list,
            omitted: self.omitted,
            unit,
        }
    }
}
