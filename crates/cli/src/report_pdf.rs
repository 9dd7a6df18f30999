//! The PDF reports (cargo feature `pdf`, on by default): the annual KPI
//! progress report and the evaluation sheets, typeset by `citykpi-pdf` from
//! the records of the KPI status and report services.

use citykpi_app::Store;
use citykpi_app::reports::{self, ReportServiceError};
use citykpi_domain::FiscalYear;
use citykpi_pdf::{Fonts, ProgressBook};
use citykpi_reports::EvaluationBook;

fn fonts() -> anyhow::Result<&'static Fonts> {
    Ok(Fonts::shared()?)
}

/// The annual KPI progress report of `fy`, from the records of
/// `reports::progress_book` (the same model the web page shows). A year that
/// has not started, or one without any actual, is refused naming `--fy`.
pub async fn kpi_progress(
    store: &Store,
    fy: FiscalYear,
    flag_error: fn(ReportServiceError) -> anyhow::Error,
) -> anyhow::Result<(ProgressBook, Vec<u8>)> {
    if fy > citykpi_app::clock::current_fiscal_year() {
        return Err(flag_error(ReportServiceError::YearNotStarted { fy }));
    }
    // Fonts first: a machine without them fails before any work.
    let fonts = fonts()?;
    let book = reports::progress_book(store, fy)
        .await
        .map_err(flag_error)?;
    let bytes = citykpi_pdf::kpi_progress_pdf(fonts, &book)?;
    Ok((book, bytes))
}

/// The evaluation sheets of `fy` (one department's, if named), one program
/// per page.
pub async fn evaluations(
    store: &Store,
    fy: FiscalYear,
    department: Option<&str>,
    flag_error: fn(ReportServiceError) -> anyhow::Error,
) -> anyhow::Result<(EvaluationBook, Vec<u8>)> {
    let fonts = fonts()?;
    let book = reports::evaluation_sheets(store, fy, department)
        .await
        .map_err(flag_error)?;
    let bytes = citykpi_pdf::evaluation_sheets_pdf(fonts, &book)?;
    Ok((book, bytes))
}
