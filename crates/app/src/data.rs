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
    /// Stored real values the file replaces with 欠測 or 秘匿 (also a
    /// warning): an import never turns a figure into "missing" unsaid.
    pub replaced_with_missing: usize,
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
    let replaced_with_missing = replaced_with_missing(store, &outcome.dataset.observations).await?;
    let mut warnings: Vec<String> = outcome.warnings.iter().map(ToString::to_string).collect();
    if replaced_with_missing > 0 {
        warnings.push(format!(
            "保存済みの実数値{n}件を欠測・秘匿で置き換えます / {n} stored value(s) are replaced with missing or secret",
            n = replaced_with_missing
        ));
    }
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
        warnings,
        replaced_with_missing,
        counts,
        applied,
    })
}

/// How many of `incoming`'s 欠測/秘匿 values fall on a stored real value
/// (only the KPIs with such values are read). Every import of observations
/// (files, statistics) says this count in its summary.
pub async fn replaced_with_missing(
    store: &Store,
    incoming: &[citykpi_domain::observation::Observation],
) -> Result<usize, citykpi_store::StoreError> {
    use citykpi_domain::observation::ObsValue;
    let blanks: Vec<_> = incoming
        .iter()
        .filter(|o| !matches!(o.value, ObsValue::Value(_)))
        .collect();
    if blanks.is_empty() {
        return Ok(0);
    }
    let kpis: std::collections::BTreeSet<&str> =
        blanks.iter().map(|o| o.kpi_code.as_str()).collect();
    let stored: std::collections::HashMap<_, _> = store
        .observations(&ObservationFilter::default().kpis(kpis))
        .await?
        .into_iter()
        .map(|o| ((o.kpi_code, o.period, o.area_code), o.value))
        .collect();
    Ok(blanks
        .iter()
        .filter(|o| {
            matches!(
                stored.get(&(o.kpi_code.clone(), o.period, o.area_code.clone())),
                Some(ObsValue::Value(_))
            )
        })
        .count())
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
