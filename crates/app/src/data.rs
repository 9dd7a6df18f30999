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
    let opened =
        tokio::task::spawn_blocking(move || citykpi_io::ObservationFile::open(&path_buf, kind))
            .await
            .map_err(|e| AppError::invalid("import", e.to_string()))??;
    if let Some(file) = opened {
        return import_streaming(store, path.display().to_string(), file, dry_run, actor).await;
    }
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

/// Rows per batch from the reading thread to the writer, and batches in
/// flight between them: enough to keep both busy, little enough that memory
/// stays flat (a batch of observations is about 2 MB).
const STREAM_BATCH_ROWS: usize = 8192;
const STREAM_BATCHES_IN_FLIGHT: usize = 2;

/// An observations CSV file read and written as a stream: one thread parses
/// and checks rows and hands batches through a bounded channel to the store,
/// which writes them into one open transaction. A problem anywhere (a bad
/// row, an unknown KPI, a key given twice) leaves nothing written, and all
/// problems are reported together as by [`import_file`]'s other path.
async fn import_streaming(
    store: &Store,
    file_label: String,
    file: citykpi_io::ObservationFile,
    dry_run: bool,
    actor: &str,
) -> Result<ImportResult, AppError> {
    use futures::SinkExt;
    let known = store.known_keys().await?;
    let file = std::sync::Arc::new(file);
    let (tx, rx) = futures::channel::mpsc::channel(STREAM_BATCHES_IN_FLIGHT);
    let reader_file = file.clone();
    let who = actor.to_string();
    let reader = tokio::task::spawn_blocking(move || {
        let mut tx = tx;
        let at = citykpi_store::now_rfc3339();
        reader_file.read(&known, STREAM_BATCH_ROWS, &mut |mut batch| {
            confirm_imported_at(&mut batch, &who, &at);
            futures::executor::block_on(tx.send(batch)).is_ok()
        })
    });
    let loaded = store.load_observations(rx).await;
    let read = reader
        .await
        .map_err(|e| AppError::invalid("import", e.to_string()))?;
    let pending = loaded?;
    let duplicates = pending.duplicates.clone();
    let finish_file = file.clone();
    let outcome = match tokio::task::spawn_blocking(move || finish_file.finish(read, &duplicates))
        .await
        .map_err(|e| AppError::invalid("import", e.to_string()))?
    {
        Ok(o) => o,
        Err(e) => {
            pending.rollback().await;
            return Err(AppError::from(e));
        }
    };
    let replaced_with_missing =
        usize::try_from(pending.replaced_with_missing).unwrap_or(usize::MAX);
    let mut warnings: Vec<String> = outcome.warnings.iter().map(ToString::to_string).collect();
    if replaced_with_missing > 0 {
        warnings.push(replaced_warning(replaced_with_missing));
    }
    let total = usize::try_from(pending.counts.total()).unwrap_or(usize::MAX);
    let counts = if total > 0 {
        vec![("observations", total)]
    } else {
        Vec::new()
    };
    let applied = if dry_run {
        pending.rollback().await;
        None
    } else {
        Some(pending.commit(actor).await?)
    };
    Ok(ImportResult {
        file: file_label,
        kind: Some(Kind::Observations),
        rows_read: outcome.rows_read,
        warnings,
        replaced_with_missing,
        counts,
        applied,
    })
}

fn replaced_warning(n: usize) -> String {
    format!(
        "保存済みの実数値{n}件を欠測・秘匿で置き換えます / {n} stored value(s) are replaced with missing or secret"
    )
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
        warnings.push(replaced_warning(replaced_with_missing));
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
    confirm_imported_at(observations, actor, &citykpi_store::now_rfc3339());
}

fn confirm_imported_at(
    observations: &mut [citykpi_domain::observation::Observation],
    actor: &str,
    at: &str,
) {
    for o in observations.iter_mut().filter(|o| !o.is_confirmed()) {
        o.confirmed_by = actor.to_string();
        o.confirmed_at = at.to_string();
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
