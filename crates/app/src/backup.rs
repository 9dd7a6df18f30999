//! Backup, restore and moving a city between databases: the service the CLI
//! and the server's schedule call. The format and the database work are the
//! store's (`citykpi_store::backup`); here are the file names, the schedule
//! and its retention.

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use citykpi_store::backup::{
    BackupError, CopyReport, Manifest, RestoreReport, TableSum, backend_of, checksums,
    latest_schema_version, read_manifest, schema_version_of, verify_file,
};
use citykpi_store::{AuditRecord, Store};

use crate::AppError;

/// Scheduled backups are written as `citykpi-<UTC time>.backup`.
pub const FILE_PREFIX: &str = "citykpi-";
pub const FILE_SUFFIX: &str = ".backup";

/// The folder of scheduled backups; unset: no schedule.
pub const DIR_ENV: &str = "CITYKPI_BACKUP_DIR";
/// Hours between scheduled backups (decimals allowed; default 24).
pub const EVERY_ENV: &str = "CITYKPI_BACKUP_EVERY_HOURS";
/// How many scheduled backups are kept, newest first (default 7).
pub const KEEP_ENV: &str = "CITYKPI_BACKUP_KEEP";

const DEFAULT_EVERY_HOURS: f64 = 24.0;
const DEFAULT_KEEP: usize = 7;

/// A file name for a backup taken now, sortable by time:
/// `citykpi-20261207T091502123Z.backup`.
pub fn file_name_now() -> String {
    let stamp: String = citykpi_store::now_rfc3339()
        .chars()
        .filter(|c| !matches!(c, '-' | ':' | '.'))
        .collect();
    format!("{FILE_PREFIX}{stamp}{FILE_SUFFIX}")
}

/// Takes a consistent backup of `db` (the server may keep running) into
/// `output`, or `./citykpi-<time>.backup`. Returns the file and its manifest.
pub async fn backup(db: &str, output: Option<&Path>) -> Result<(PathBuf, Manifest), BackupError> {
    let file = output.map_or_else(|| PathBuf::from(file_name_now()), Path::to_path_buf);
    let manifest = citykpi_store::backup::backup(db, &file).await?;
    Ok((file, manifest))
}

/// Restores `file` into the empty database `target` (checked first, then
/// verified table by table, then upgraded to this version's schema).
pub async fn restore(file: &Path, target: &str, actor: &str) -> Result<RestoreReport, BackupError> {
    citykpi_store::backup::restore(file, target, actor).await
}

/// Moves every row of `source` into the empty database `target` (SQLite ↔
/// PostgreSQL), verified by row counts and checksums per table.
pub async fn migrate(source: &str, target: &str, actor: &str) -> Result<CopyReport, BackupError> {
    citykpi_store::backup::copy(source, target, actor).await
}

/// Backups taken by the server on a schedule.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    pub dir: PathBuf,
    pub every: Duration,
    pub keep: usize,
}

impl Schedule {
    /// From the environment (`CITYKPI_BACKUP_DIR`, `CITYKPI_BACKUP_EVERY_HOURS`,
    /// `CITYKPI_BACKUP_KEEP`); `None` when no folder is set.
    pub fn from_env() -> Result<Option<Schedule>, AppError> {
        Schedule::resolve(|name| std::env::var(name).ok())
    }

    /// The same from any lookup of settings by name.
    pub fn resolve(get: impl Fn(&str) -> Option<String>) -> Result<Option<Schedule>, AppError> {
        let get = |name: &str| get(name).filter(|v| !v.trim().is_empty());
        let Some(dir) = get(DIR_ENV) else {
            return Ok(None);
        };
        let every = match get(EVERY_ENV) {
            None => DEFAULT_EVERY_HOURS,
            Some(v) => v
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|h| h.is_finite() && *h > 0.0 && *h <= 24.0 * 366.0)
                .ok_or_else(|| {
                    AppError::invalid(
                        EVERY_ENV,
                        format!(
                            "0より大きい時間数を指定してください / hours greater than 0 (got {v:?})"
                        ),
                    )
                })?,
        };
        let keep = match get(KEEP_ENV) {
            None => DEFAULT_KEEP,
            Some(v) => v
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| {
                    AppError::invalid(
                        KEEP_ENV,
                        format!("1以上の整数を指定してください / a whole number of 1 or more (got {v:?})"),
                    )
                })?,
        };
        Ok(Some(Schedule {
            dir: PathBuf::from(dir.trim()),
            every: Duration::from_secs_f64(every * 3600.0),
            keep,
        }))
    }
}

/// One backup into the schedule's folder: a new file, then all but the
/// `keep` newest scheduled backups removed. Returns the new file, its
/// manifest and the files removed. The backup reads the store's database
/// through a connection of its own (one snapshot of every table), so the
/// server goes on serving meanwhile.
pub async fn scheduled_once(
    store: &Store,
    schedule: &Schedule,
) -> Result<(PathBuf, Manifest, Vec<PathBuf>), BackupError> {
    let io = |source| BackupError::Io {
        path: schedule.dir.display().to_string(),
        source,
    };
    std::fs::create_dir_all(&schedule.dir).map_err(io)?;
    let file = schedule.dir.join(file_name_now());
    let manifest = citykpi_store::backup::backup(store.target(), &file).await?;
    let removed = prune(&schedule.dir, schedule.keep).map_err(io)?;
    Ok((file, manifest, removed))
}

/// A backup taken at someone's request (the administrators' page): the
/// same as a scheduled one, with an audit row naming who asked.
pub async fn take_now(
    store: &Store,
    schedule: &Schedule,
    actor: &str,
) -> Result<(PathBuf, Manifest, Vec<PathBuf>), AppError> {
    let (file, manifest, removed) = scheduled_once(store, schedule)
        .await
        .map_err(|e| AppError::invalid(schedule.dir.display().to_string(), e.to_string()))?;
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    store
        .record_audit(&AuditRecord {
            actor,
            action: "backup",
            entity: "backup",
            key: &name,
            before: None,
            after: Some(serde_json::json!({
                "rows": manifest.total_rows(),
                "bytes": manifest.body_bytes,
                "schema_version": manifest.schema_version,
                "removed": removed
                    .iter()
                    .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                    .collect::<Vec<_>>(),
            })),
        })
        .await?;
    Ok((file, manifest, removed))
}

/// A file in the backup folder as the administrators' page lists it.
#[derive(Debug, Clone)]
pub struct BackupFile {
    pub name: String,
    pub bytes: u64,
    /// Its manifest (length checked, not the checksum), or why it cannot
    /// be read.
    pub manifest: Result<Manifest, String>,
}

/// The scheduled backups in `dir`, newest first; a folder not made yet
/// holds none.
pub fn list(dir: &Path) -> Result<Vec<BackupFile>, BackupError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(BackupError::Io {
                path: dir.display().to_string(),
                source,
            });
        }
    };
    let mut files: Vec<BackupFile> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_str()?.to_string();
            if !is_backup_name(&name) {
                return None;
            }
            let bytes = e.metadata().map(|m| m.len()).unwrap_or(0);
            let manifest = read_manifest(&e.path()).map_err(|e| e.to_string());
            Some(BackupFile {
                name,
                bytes,
                manifest,
            })
        })
        .collect();
    files.sort_by(|a, b| b.name.cmp(&a.name));
    Ok(files)
}

/// Checks the whole of the backup `name` in the schedule's folder against
/// its manifest. Only a plain file name of the folder is taken: a path
/// (`../x`, `/etc/passwd`) is refused naming the field.
pub fn verify_named(schedule: &Schedule, name: &str) -> Result<Manifest, AppError> {
    if !is_backup_name(name) || name.contains(['/', '\\']) || name.contains("..") {
        return Err(AppError::invalid(
            "name",
            format!("バックアップのファイル名ではありません / not a backup file name: {name:?}"),
        ));
    }
    let file = schedule.dir.join(name);
    if !file.is_file() {
        return Err(AppError::NotFound(name.to_string()));
    }
    verify_file(&file).map_err(|e| AppError::invalid(name, e.to_string()))
}

/// Whether `name` is the name of a scheduled backup file (`citykpi-….backup`).
pub fn is_backup_name(name: &str) -> bool {
    name.starts_with(FILE_PREFIX) && name.ends_with(FILE_SUFFIX)
}

/// Removes all but the `keep` newest scheduled backups in `dir` (by the
/// time in their names); other files are left alone.
pub fn prune(dir: &Path, keep: usize) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(is_backup_name)
        })
        .collect();
    files.sort();
    let excess = files.len().saturating_sub(keep);
    let removed: Vec<PathBuf> = files.into_iter().take(excess).collect();
    for f in &removed {
        std::fs::remove_file(f)?;
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_from_settings() {
        let none = Schedule::resolve(|_| None).unwrap();
        assert_eq!(none, None);
        let s = Schedule::resolve(|n| match n {
            DIR_ENV => Some("/var/backups/citykpi".into()),
            EVERY_ENV => Some("0.5".into()),
            KEEP_ENV => Some("3".into()),
            _ => None,
        })
        .unwrap()
        .unwrap();
        assert_eq!(s.dir, PathBuf::from("/var/backups/citykpi"));
        assert_eq!(s.every, Duration::from_secs(1800));
        assert_eq!(s.keep, 3);
        let d = Schedule::resolve(|n| (n == DIR_ENV).then(|| "b".into()))
            .unwrap()
            .unwrap();
        assert_eq!((d.every, d.keep), (Duration::from_secs(86_400), 7));
        for (name, bad) in [(EVERY_ENV, "0"), (EVERY_ENV, "daily"), (KEEP_ENV, "0")] {
            let err = Schedule::resolve(|n| match n {
                DIR_ENV => Some("b".into()),
                n if n == name => Some(bad.into()),
                _ => None,
            })
            .unwrap_err();
            assert!(err.to_string().contains(name), "{err}");
        }
    }

    #[test]
    fn prune_keeps_the_newest_scheduled_files_only() {
        let dir = tempfile::tempdir().unwrap();
        let names = [
            "citykpi-20261201T000000000Z.backup",
            "citykpi-20261203T000000000Z.backup",
            "citykpi-20261202T000000000Z.backup",
            "citykpi-20261204T000000000Z.backup",
            "notes.txt",
            "citykpi-manual.db",
        ];
        for n in names {
            std::fs::write(dir.path().join(n), n).unwrap();
        }
        let removed = prune(dir.path(), 2).unwrap();
        let removed: Vec<String> = removed
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            removed,
            [
                "citykpi-20261201T000000000Z.backup",
                "citykpi-20261202T000000000Z.backup"
            ]
        );
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [
                "citykpi-20261203T000000000Z.backup",
                "citykpi-20261204T000000000Z.backup",
                "citykpi-manual.db",
                "notes.txt"
            ]
        );
        assert!(file_name_now().starts_with("citykpi-20"));
        assert!(file_name_now().ends_with("Z.backup"));
    }
}
