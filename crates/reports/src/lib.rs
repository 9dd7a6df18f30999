//! citykpi's reports: what the city prints and publishes from the
//! yearly management cycle.
//!
//! * [`evaluation_sheets_xlsx`]: the evaluation sheets (事務事業評価シート),
//!   one worksheet per program named by its code, laid out as a form and set
//!   up to print on A4 portrait, one page wide; a first worksheet 一覧 lists
//!   the programs of the file.
//! * [`budget_xlsx`]: the compiled budget (予算編成) by department, policy
//!   and funding source, plus every program's request, with numbers as
//!   numbers in 円 formats.
//! * [`open_data`]: the published KPIs with their progress, the published
//!   programs' accepted evaluations and their money as CSV and JSON, with
//!   `schema.json` describing every column ([`open_data_schema`]; the same
//!   table is documented in `docs/open-data.md`).
//! * [`progress`]: the annual KPI progress report's records, one model that
//!   the PDF (citykpi-pdf) and the web page both render.
//!
//! This crate only renders: the app's `reports` service reads the records,
//! decides what goes in (which programs, what is published) and calls it.

mod budget;
mod open;
pub mod progress;
mod sheets;
pub mod whatif;
mod xlsx;

pub use xlsx::notice_xlsx;

pub use budget::{BudgetBook, RequestLine, budget_xlsx};
pub use open::{
    ColumnType, DatasetSchema, OpenColumn, OpenData, OpenEvaluation, OpenKpi, OpenMoney,
    OpenSchema, open_data, open_data_markdown, open_data_schema,
};
pub use progress::{KpiLine, PlanSection, PolicySection, ProgressBook};
pub use sheets::{
    COST_ROWS, EvaluationBook, Kind as NumberKind, NumberRow, PlanPosition, ProgramSheet,
    SCORE_ROWS, evaluation_sheets_xlsx,
};

/// What rendering a report fails with.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("XLSXを作成できません / cannot write the XLSX: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    #[error(transparent)]
    Export(#[from] citykpi_io::ExportError),
    #[error("JSONを作成できません / cannot write JSON: {0}")]
    Json(#[from] serde_json::Error),
}

pub type ReportResult<T> = Result<T, ReportError>;

/// A worksheet name from a program code: Excel allows 31 characters and no
/// `[]:*?/\`.
pub(crate) fn sheet_name(code: &str) -> String {
    code.chars()
        .map(|c| if "[]:*?/\\".contains(c) { '_' } else { c })
        .take(31)
        .collect()
}
