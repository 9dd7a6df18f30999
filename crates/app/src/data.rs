//! Import and export: the importer reads and checks a file against what the
//! database already holds, then the store applies it in one transaction.

use std::path::Path;

use citykpi_domain::{Dataset, Kind, KnownKeys};
use citykpi_io::{Format, HeaderLang, ImportError, ImportOutcome};
use citykpi_store::{ApplySummary, ObservationFilter, Store};
use serde::Serialize;

use crate::AppError;

#[derive(Debug, Serialize)]
pub struct ImportResult {
    pub file: String,
    /// None for a JSON dataset holding several kinds.
    pub kind: Option<Kind>,
    pub rows_read: usize,
    pub warnings: Vec<String>,
    /// What would be / was written, per entity.
    pub counts: Vec<(&'static str, usize)>,
    /// None for a dry run: nothing was written.
    pub applied: Option<ApplySummary>,
}

/// Reads `path`, checks every row (all problems reported together) and, unless
/// `dry_run`, writes it in one transaction. On any problem nothing is written.
pub async fn import_file(
    store: &Store,
    path: &Path,
    kind: Option<Kind>,
    dry_run: bool,
    actor: &str,
) -> Result<ImportResult, AppError> {
    let path_buf = path.to_path_buf();
    let outcome = parse_off_thread(store, move |known| {
        citykpi_io::read_file(&path_buf, kind, known)
    })
    .await?;
    finish_import(store, path.display().to_string(), outcome, dry_run, actor).await
}

/// The same for bytes uploaded through the web.
pub async fn import_bytes(
    store: &Store,
    file_name: &str,
    bytes: Vec<u8>,
    kind: Option<Kind>,
    dry_run: bool,
    actor: &str,
) -> Result<ImportResult, AppError> {
    let name = file_name.to_string();
    let outcome = parse_off_thread(store, move |known| {
        citykpi_io::read_bytes(&name, &bytes, None, kind, known)
    })
    .await?;
    finish_import(store, file_name.to_string(), outcome, dry_run, actor).await
}

/// Runs a parser against the keys the database already holds. Parsing a
/// million rows is CPU work, so it runs off the async workers.
async fn parse_off_thread(
    store: &Store,
    parse: impl FnOnce(&KnownKeys) -> Result<ImportOutcome, ImportError> + Send + 'static,
) -> Result<ImportOutcome, AppError> {
    let known = store.known_keys().await?;
    tokio::task::spawn_blocking(move || parse(&known))
        .await
        .map_err(|e| AppError::invalid("import", e.to_string()))?
        .map_err(AppError::from)
}

async fn finish_import(
    store: &Store,
    file: String,
    outcome: ImportOutcome,
    dry_run: bool,
    actor: &str,
) -> Result<ImportResult, AppError> {
    let counts = outcome
        .dataset
        .counts()
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .collect();
    let mut outcome = outcome;
    confirm_imported(&mut outcome.dataset.observations, actor);
    let applied = if dry_run {
        None
    } else {
        Some(store.apply(&outcome.dataset, actor).await?)
    };
    Ok(ImportResult {
        file,
        kind: outcome.kind,
        rows_read: outcome.rows_read,
        warnings: outcome.warnings.iter().map(ToString::to_string).collect(),
        counts,
        applied,
    })
}

/// Only roles that may confirm actuals import them (the CLI's operator, the
/// administrator and the strategy office: `web::access::can_import`), so an
/// imported actual is recorded as confirmed by its importer.
fn confirm_imported(observations: &mut [citykpi_domain::observation::Observation], actor: &str) {
    let at = citykpi_store::now_rfc3339();
    for o in observations.iter_mut().filter(|o| !o.is_confirmed()) {
        o.confirmed_by = actor.to_string();
        o.confirmed_at = at.clone();
    }
}

/// Loads the records of one kind from the store.
pub async fn load_kind(store: &Store, kind: Kind) -> Result<Dataset, AppError> {
    let mut ds = Dataset::default();
    match kind {
        Kind::Org => {
            ds.departments = store.departments().await?;
            ds.sections = store.sections().await?;
        }
        Kind::Users => ds.users = store.users().await?,
        Kind::Plans => {
            ds.plans = store.plans().await?;
            ds.plan_nodes = store.plan_nodes().await?;
        }
        Kind::Kpis => ds.kpis = store.kpis().await?,
        Kind::Observations => {
            ds.observations = store.observations(&ObservationFilter::default()).await?
        }
        Kind::Programs => ds.programs = store.programs().await?,
        Kind::Links => ds.links = store.links().await?,
        Kind::Indicators => ds.indicators = store.indicators().await?,
        Kind::Money => ds.money = store.money().await?,
    }
    Ok(ds)
}

/// Exports one kind in a format; CSV and XLSX carry Japanese headers by default.
pub async fn export_kind(
    store: &Store,
    kind: Kind,
    format: Format,
    lang: HeaderLang,
) -> Result<Vec<u8>, AppError> {
    let ds = load_kind(store, kind).await?;
    Ok(citykpi_io::write(kind, &ds, format, lang)?)
}
