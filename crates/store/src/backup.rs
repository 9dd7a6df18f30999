//! Backups, restores and moves between backends, in one logical format that
//! both backends write and read.
//!
//! Why one logical format instead of SQLite's file copy (`VACUUM INTO`) and
//! `pg_dump`: a backup of either backend restores into either backend, so
//! moving a city from its SQLite file to PostgreSQL is the same code path as
//! a restore; the per-table checksums are computed in the same pass that
//! writes the rows; and nothing outside the binary is needed (`pg_dump` must
//! match the server's major version, which a city's server may not have).
//!
//! Consistency while the server writes: every table is read inside one read
//! transaction — on SQLite (WAL) a deferred transaction reads one snapshot
//! from its first statement on, on PostgreSQL a REPEATABLE READ READ ONLY
//! transaction does the same — so a backup never holds half of a write.
//!
//! The file: one line per row, `R` + the row's fields in canonical text
//! (columns sorted by name, rows ordered by primary key, see [`push_field`]),
//! framed per table by a `T` line (table and columns with their kinds) and an
//! `E` line (row count and SHA-256 of the table's canonical rows). The last
//! line is the manifest (JSON): citykpi version, schema version (the latest
//! applied migration), backend, time, per-table counts and checksums, and
//! the SHA-256 and length of everything before it. A truncated or damaged
//! file fails that check before anything is written.
//!
//! The canonical text of a row is the same on both backends (integers,
//! shortest round-trip floats, `t`/`f`, escaped text, hex bytes, `\N` for
//! NULL), so a table's checksum on SQLite equals its checksum on PostgreSQL.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use futures::TryStreamExt;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgRow};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteRow};
use sqlx::{ConnectOptions, Connection, PgConnection, Row, SqliteConnection};

use crate::audit::AuditRecord;
use crate::conn::{Conn, run};
use crate::{
    Backend, SLOW_STATEMENT, SLOW_STATEMENT_LEVEL, SQLITE_BUSY_TIMEOUT, Store, StoreError, redact,
};

/// The first field of the manifest: what kind of file this is.
pub const FORMAT: &str = "citykpi-backup";
/// The version of the file layout described in the module documentation.
pub const FORMAT_VERSION: u32 = 1;

/// Rows per INSERT statement on restore, bounded by the parameters a
/// statement may carry (SQLite: 32,766; PostgreSQL: 65,535).
const MAX_PARAMS: usize = 30_000;
/// PostgreSQL gains from long statements; sqlx's SQLite driver binds a
/// statement's parameters in time that grows faster than their number (a
/// demo city restored in 11.8 s with 500 rows per statement, 4.0 s with 32).
const MAX_ROWS_PER_INSERT: usize = 500;
const MAX_ROWS_PER_INSERT_SQLITE: usize = 32;
/// The manifest is the last line; this much of the file's end is read to find it.
const MANIFEST_MAX: u64 = 1 << 20;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(
        "データベースに接続できません（{target}） / cannot open the database ({target}): {source}"
    )]
    Open {
        target: String,
        #[source]
        source: sqlx::Error,
    },

    #[error("データベースエラー / database error: {0}")]
    Database(#[from] sqlx::Error),

    #[error("データベースの構造を更新できません / database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),

    #[error(transparent)]
    Store(#[from] StoreError),

    #[error("ファイル {path} を読み書きできません / cannot read or write {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },

    #[error(
        "バックアップ {file} は使えません（{reason}）。何も書き込んでいません / the backup {file} is refused ({reason}); nothing was written"
    )]
    Corrupt { file: String, reason: String },

    #[error(
        "復元先のデータベース {target} は空ではありません（表 {table} に行があります）。空のデータベースを指定してください。何も書き込んでいません / the target database {target} is not empty (table {table} has rows); restore into an empty database. Nothing was written"
    )]
    NotEmpty { target: String, table: String },

    #[error(
        "復元先のデータベース {target} の構造は版 {found} で、バックアップ（版 {backup}）より新しいため復元できません。新しい空のデータベースを指定してください / the target database {target} is at schema version {found}, newer than the backup's {backup}; restore into a new, empty database"
    )]
    SchemaAhead {
        target: String,
        found: i64,
        backup: i64,
    },

    #[error(
        "バックアップの構造の版 {backup} は、この citykpi が知る版（{known} まで）より新しいものです。新しい citykpi で復元してください / the backup's schema version {backup} is newer than this citykpi knows ({known}); restore it with a newer citykpi"
    )]
    SchemaNewer { backup: i64, known: i64 },

    #[error(
        "表 {table} の検証に失敗しました（バックアップ {expected_rows} 行 {expected_sha}、復元後 {found_rows} 行 {found_sha}）。変更は取り消しました / verifying table {table} failed (backup: {expected_rows} rows {expected_sha}, restored: {found_rows} rows {found_sha}); nothing was kept"
    )]
    Mismatch {
        table: String,
        expected_rows: u64,
        found_rows: u64,
        expected_sha: String,
        found_sha: String,
    },

    #[error(
        "移行元と移行先が同じデータベースです / the source and the target are the same database: {0}"
    )]
    SameDatabase(String),
}

pub type BackupResult<T> = std::result::Result<T, BackupError>;

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> BackupError + '_ {
    move |source| BackupError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// One table's row count and the SHA-256 (hex) of its canonical rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableSum {
    pub table: String,
    pub rows: u64,
    pub sha256: String,
}

/// The last line of a backup file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub format_version: u32,
    pub citykpi_version: String,
    /// The latest migration applied to the database backed up (0: none).
    pub schema_version: i64,
    /// `sqlite` or `postgres`: where the backup was taken (it restores into either).
    pub backend: String,
    /// RFC 3339 UTC.
    pub created_at: String,
    pub tables: Vec<TableSum>,
    /// Length and SHA-256 (hex) of the file before this line.
    pub body_bytes: u64,
    pub body_sha256: String,
}

impl Manifest {
    pub fn total_rows(&self) -> u64 {
        self.tables.iter().map(|t| t.rows).sum()
    }
}

/// What a restore did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreReport {
    pub manifest: Manifest,
    /// The tables as counted and checksummed in the target after loading,
    /// before the schema upgrade (equal to the manifest's, or the restore fails).
    pub verified: Vec<TableSum>,
    /// The target's schema version after the normal migrations ran.
    pub schema_version: i64,
}

/// Which backend a database target (`postgres://…` or a SQLite path) names.
pub fn backend_of(target: &str) -> Backend {
    let t = target.trim();
    if t.starts_with("postgres://") || t.starts_with("postgresql://") {
        Backend::Postgres
    } else {
        Backend::Sqlite
    }
}

fn sqlite_path(target: &str) -> &str {
    let t = target.trim();
    t.strip_prefix("sqlite://")
        .or_else(|| t.strip_prefix("sqlite:"))
        .unwrap_or(t)
}

fn migrator(backend: Backend) -> Migrator {
    match backend {
        Backend::Sqlite => sqlx::migrate!("./migrations/sqlite"),
        Backend::Postgres => sqlx::migrate!("./migrations/postgres"),
    }
}

/// The migrations up to and including `version`: the schema a backup of
/// that version was taken from.
fn migrator_upto(backend: Backend, version: i64) -> Migrator {
    let all = migrator(backend);
    let subset: Vec<_> = all
        .iter()
        .filter(|m| m.version <= version)
        .cloned()
        .collect();
    Migrator {
        migrations: std::borrow::Cow::Owned(subset),
        ..Migrator::DEFAULT
    }
}

/// The newest schema version this citykpi knows for a backend.
pub fn latest_schema_version(backend: Backend) -> i64 {
    migrator(backend)
        .iter()
        .map(|m| m.version)
        .max()
        .unwrap_or(0)
}

/// The schema versions this citykpi knows for a backend, oldest first.
pub fn schema_versions(backend: Backend) -> Vec<i64> {
    migrator(backend).iter().map(|m| m.version).collect()
}

/// One connection outside the store's pool, which never migrates: a backup
/// leaves the database exactly as it was, and a restore chooses which
/// migrations to run.
enum Raw {
    Sqlite(SqliteConnection),
    Pg(PgConnection),
}

impl Raw {
    fn conn(&mut self) -> Conn<'_> {
        match self {
            Raw::Sqlite(c) => Conn::Sqlite(c),
            Raw::Pg(c) => Conn::Pg(c),
        }
    }

    fn backend(&self) -> Backend {
        match self {
            Raw::Sqlite(_) => Backend::Sqlite,
            Raw::Pg(_) => Backend::Postgres,
        }
    }

    async fn close(self) {
        // A failed goodbye leaves nothing behind: the server ends the session.
        let _ = match self {
            Raw::Sqlite(c) => c.close().await,
            Raw::Pg(c) => c.close().await,
        };
    }

    async fn exec(&mut self, sql: &str) -> BackupResult<()> {
        let conn = &mut self.conn();
        run!(conn, sqlx::query(sql), execute)?;
        Ok(())
    }
}

/// Opens `target`; a SQLite file is created only when `create` is set.
async fn connect(target: &str, create: bool) -> BackupResult<Raw> {
    let target = target.trim();
    let open_err = |source| BackupError::Open {
        target: redact(target),
        source,
    };
    match backend_of(target) {
        Backend::Postgres => {
            // Slow statements at debug level, as the store's own pool: a
            // restore's 500-row INSERTs run for a second by design.
            let options = PgConnectOptions::from_str(target)
                .map_err(open_err)?
                .log_slow_statements(SLOW_STATEMENT_LEVEL, SLOW_STATEMENT);
            Ok(Raw::Pg(
                PgConnection::connect_with(&options)
                    .await
                    .map_err(open_err)?,
            ))
        }
        Backend::Sqlite => {
            let path = sqlite_path(target);
            if create
                && let Some(dir) = Path::new(path)
                    .parent()
                    .filter(|d| !d.as_os_str().is_empty())
            {
                std::fs::create_dir_all(dir).map_err(|e| open_err(sqlx::Error::Io(e)))?;
            }
            let options = SqliteConnectOptions::new()
                .filename(path)
                .create_if_missing(create)
                .journal_mode(SqliteJournalMode::Wal)
                .foreign_keys(true)
                .busy_timeout(SQLITE_BUSY_TIMEOUT)
                .log_slow_statements(SLOW_STATEMENT_LEVEL, SLOW_STATEMENT);
            Ok(Raw::Sqlite(
                SqliteConnection::connect_with(&options)
                    .await
                    .map_err(open_err)?,
            ))
        }
    }
}

// ----- the schema as the database reports it -----

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Int,
    Float,
    Bool,
    Text,
    Bytes,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Int => "int",
            Kind::Float => "float",
            Kind::Bool => "bool",
            Kind::Text => "text",
            Kind::Bytes => "bytes",
        }
    }

    fn parse(s: &str) -> Option<Kind> {
        Some(match s {
            "int" => Kind::Int,
            "float" => Kind::Float,
            "bool" => Kind::Bool,
            "text" => Kind::Text,
            "bytes" => Kind::Bytes,
            _ => return None,
        })
    }

    /// SQLite's declared type, read by its affinity rules, with BOOLEAN apart.
    fn of_sqlite(declared: &str) -> Kind {
        let d = declared.to_ascii_lowercase();
        if d.contains("bool") {
            Kind::Bool
        } else if d.contains("int") {
            Kind::Int
        } else if d.contains("real") || d.contains("floa") || d.contains("doub") {
            Kind::Float
        } else if d.contains("blob") {
            Kind::Bytes
        } else {
            Kind::Text
        }
    }

    fn of_postgres(data_type: &str) -> Kind {
        match data_type {
            "bigint" | "integer" | "smallint" => Kind::Int,
            "double precision" | "real" => Kind::Float,
            "boolean" => Kind::Bool,
            "bytea" => Kind::Bytes,
            _ => Kind::Text,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Column {
    name: String,
    kind: Kind,
}

#[derive(Debug, Clone)]
struct Table {
    name: String,
    /// Stored (not generated) columns, sorted by name: the canonical order.
    columns: Vec<Column>,
    /// Primary-key columns in key order (all columns when there is no key).
    key: Vec<String>,
    /// Tables this one refers to.
    parents: BTreeSet<String>,
    /// A single-column reference to the table itself (child column, parent column).
    self_ref: Option<(String, String)>,
}

fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

async fn has_table(conn: &mut Conn<'_>, name: &str) -> BackupResult<bool> {
    let n: i64 = match conn {
        Conn::Sqlite(_) => run!(
            conn,
            sqlx::query_scalar::<_, i64>(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = $1"
            )
            .bind(name),
            fetch_one
        )?,
        Conn::Pg(_) => run!(
            conn,
            sqlx::query_scalar::<_, i64>(
                "SELECT COUNT(*) FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_name = $1"
            )
            .bind(name),
            fetch_one
        )?,
    };
    Ok(n > 0)
}

/// The latest applied migration; `None` for a database without migrations.
async fn applied_version(conn: &mut Conn<'_>) -> BackupResult<Option<i64>> {
    if !has_table(conn, "_sqlx_migrations").await? {
        return Ok(None);
    }
    let v: Option<i64> = run!(
        conn,
        sqlx::query_scalar::<_, Option<i64>>(
            "SELECT MAX(version) FROM _sqlx_migrations WHERE success"
        ),
        fetch_one
    )?;
    Ok(v)
}

/// The data tables: everything but the migrations' bookkeeping, SQLite's
/// own tables and full-text indexes (rebuilt from their content tables).
async fn table_names(conn: &mut Conn<'_>) -> BackupResult<Vec<String>> {
    let mut names: Vec<String> = match conn {
        Conn::Sqlite(_) => {
            let rows: Vec<(String, Option<String>)> = run!(
                conn,
                sqlx::query_as::<_, (String, Option<String>)>(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'table'"
                ),
                fetch_all
            )?;
            let virtual_tables: Vec<String> = rows
                .iter()
                .filter(|(_, sql)| {
                    sql.as_deref().is_some_and(|s| {
                        s.trim_start()
                            .to_ascii_uppercase()
                            .starts_with("CREATE VIRTUAL")
                    })
                })
                .map(|(n, _)| n.clone())
                .collect();
            rows.into_iter()
                .map(|(n, _)| n)
                .filter(|n| {
                    !n.starts_with("sqlite_")
                        && n != "_sqlx_migrations"
                        && !virtual_tables
                            .iter()
                            .any(|v| n == v || n.starts_with(&format!("{v}_")))
                })
                .collect()
        }
        Conn::Pg(_) => run!(
            conn,
            sqlx::query_scalar::<_, String>(
                "SELECT table_name::text FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' \
                 AND table_name <> '_sqlx_migrations'"
            ),
            fetch_all
        )?,
    };
    names.sort();
    Ok(names)
}

/// A reference to another table: (that table, the first referring column,
/// the column it refers to; SQLite leaves the last empty for the key).
type ForeignKey = (String, String, Option<String>);

async fn describe(conn: &mut Conn<'_>, name: &str) -> BackupResult<Table> {
    let (mut columns, key, fks): (Vec<Column>, Vec<String>, Vec<ForeignKey>) = match conn {
        Conn::Sqlite(_) => {
            let cols: Vec<(String, String, i64)> = run!(
                conn,
                sqlx::query_as::<_, (String, String, i64)>(
                    "SELECT name, type, hidden FROM pragma_table_xinfo($1)"
                )
                .bind(name),
                fetch_all
            )?;
            let key: Vec<String> = run!(
                conn,
                sqlx::query_scalar::<_, String>(
                    "SELECT name FROM pragma_table_info($1) WHERE pk > 0 ORDER BY pk"
                )
                .bind(name),
                fetch_all
            )?;
            let fks: Vec<ForeignKey> = run!(
                    conn,
                    sqlx::query_as::<_, ForeignKey>(
                        "SELECT \"table\", \"from\", \"to\" FROM pragma_foreign_key_list($1) WHERE seq = 0"
                    )
                    .bind(name),
                    fetch_all
                )?;
            let columns = cols
                .into_iter()
                .filter(|(_, _, hidden)| *hidden == 0)
                .map(|(name, ty, _)| Column {
                    name,
                    kind: Kind::of_sqlite(&ty),
                })
                .collect();
            (columns, key, fks)
        }
        Conn::Pg(_) => {
            let cols: Vec<(String, String)> = run!(
                conn,
                sqlx::query_as::<_, (String, String)>(
                    "SELECT column_name::text, data_type::text FROM information_schema.columns \
                         WHERE table_schema = current_schema() AND table_name = $1 \
                         AND is_generated = 'NEVER'"
                )
                .bind(name),
                fetch_all
            )?;
            let key: Vec<String> = run!(
                    conn,
                    sqlx::query_scalar::<_, String>(
                        "SELECT a.attname::text FROM pg_index i \
                         JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) \
                         WHERE i.indrelid = ($1::text)::regclass AND i.indisprimary \
                         ORDER BY array_position(i.indkey::int2[], a.attnum)"
                    )
                    .bind(quote(name)),
                    fetch_all
                )?;
            let fks: Vec<ForeignKey> = run!(
                    conn,
                    sqlx::query_as::<_, ForeignKey>(
                        "SELECT cf.relname::text, a.attname::text, af.attname::text \
                         FROM pg_constraint c \
                         JOIN pg_class cf ON cf.oid = c.confrelid \
                         JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] \
                         JOIN pg_attribute af ON af.attrelid = c.confrelid AND af.attnum = c.confkey[1] \
                         WHERE c.contype = 'f' AND c.conrelid = ($1::text)::regclass \
                         AND array_length(c.conkey, 1) = 1 \
                         UNION ALL \
                         SELECT cf.relname::text, '', NULL FROM pg_constraint c \
                         JOIN pg_class cf ON cf.oid = c.confrelid \
                         WHERE c.contype = 'f' AND c.conrelid = ($1::text)::regclass \
                         AND array_length(c.conkey, 1) > 1"
                    )
                    .bind(quote(name)),
                    fetch_all
                )?;
            let columns = cols
                .into_iter()
                .map(|(name, ty)| Column {
                    name,
                    kind: Kind::of_postgres(&ty),
                })
                .collect();
            (columns, key, fks)
        }
    };
    columns.sort_by(|a, b| a.name.cmp(&b.name));
    let key = if key.is_empty() {
        columns.iter().map(|c| c.name.clone()).collect()
    } else {
        key
    };
    let mut parents = BTreeSet::new();
    let mut self_ref = None;
    for (parent, from, to) in fks {
        if parent == name {
            // SQLite leaves `to` empty for a reference to the primary key.
            let to = to.unwrap_or_else(|| key.first().cloned().unwrap_or_default());
            if !from.is_empty() {
                self_ref = Some((from, to));
            }
        } else {
            parents.insert(parent);
        }
    }
    Ok(Table {
        name: name.to_string(),
        columns,
        key,
        parents,
        self_ref,
    })
}

/// Every data table, parents before the tables that refer to them (ties by
/// name), so that a restore can insert them in this order.
async fn schema(conn: &mut Conn<'_>) -> BackupResult<Vec<Table>> {
    let mut tables = BTreeMap::new();
    for name in table_names(conn).await? {
        let t = describe(conn, &name).await?;
        tables.insert(name, t);
    }
    let mut ordered = Vec::with_capacity(tables.len());
    let mut done: HashSet<String> = HashSet::new();
    while done.len() < tables.len() {
        let ready: Vec<String> = tables
            .values()
            .filter(|t| !done.contains(&t.name))
            .filter(|t| {
                t.parents
                    .iter()
                    .all(|p| done.contains(p) || !tables.contains_key(p))
            })
            .map(|t| t.name.clone())
            .collect();
        // A cycle between tables: take the rest by name (SQLite defers the
        // checks to the commit; PostgreSQL would name the row it refuses).
        let next = if ready.is_empty() {
            tables
                .keys()
                .filter(|n| !done.contains(*n))
                .cloned()
                .collect()
        } else {
            ready
        };
        for n in next {
            done.insert(n.clone());
            ordered.push(tables[&n].clone());
        }
    }
    Ok(ordered)
}

// ----- canonical rows -----

#[derive(Debug, Clone, PartialEq)]
enum Val {
    Null,
    Int(i64),
    Float(f64),
    Bool(bool),
    Text(String),
    Bytes(Vec<u8>),
}

/// Appends a value's canonical text: the same on both backends for the same value.
fn push_field(out: &mut String, v: &Val) {
    match v {
        Val::Null => out.push_str("\\N"),
        Val::Int(i) => {
            let _ = write!(out, "{i}");
        }
        // Debug prints the shortest text that reads back as the same f64.
        Val::Float(f) => {
            let _ = write!(out, "{f:?}");
        }
        Val::Bool(b) => out.push(if *b { 't' } else { 'f' }),
        Val::Text(s) => {
            for c in s.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '\t' => out.push_str("\\t"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    c => out.push(c),
                }
            }
        }
        Val::Bytes(b) => {
            for byte in b {
                let _ = write!(out, "{byte:02x}");
            }
        }
    }
}

fn parse_field(s: &str, kind: Kind) -> Result<Val, String> {
    if s == "\\N" {
        return Ok(Val::Null);
    }
    let bad = |what: &str| format!("{what} {s:?}");
    Ok(match kind {
        Kind::Int => Val::Int(s.parse().map_err(|_| bad("not an integer:"))?),
        Kind::Float => Val::Float(s.parse().map_err(|_| bad("not a number:"))?),
        Kind::Bool => match s {
            "t" => Val::Bool(true),
            "f" => Val::Bool(false),
            _ => return Err(bad("not t/f:")),
        },
        Kind::Text => {
            let mut out = String::with_capacity(s.len());
            let mut chars = s.chars();
            while let Some(c) = chars.next() {
                if c != '\\' {
                    out.push(c);
                    continue;
                }
                match chars.next() {
                    Some('\\') => out.push('\\'),
                    Some('t') => out.push('\t'),
                    Some('n') => out.push('\n'),
                    Some('r') => out.push('\r'),
                    _ => return Err(bad("bad escape in")),
                }
            }
            Val::Text(out)
        }
        Kind::Bytes => {
            if !s.len().is_multiple_of(2) {
                return Err(bad("odd hex length:"));
            }
            let mut out = Vec::with_capacity(s.len() / 2);
            for i in (0..s.len()).step_by(2) {
                let byte = s
                    .get(i..i + 2)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| bad("not hex:"))?;
                out.push(byte);
            }
            Val::Bytes(out)
        }
    })
}

fn sqlite_val(row: &SqliteRow, i: usize, kind: Kind) -> Result<Val, sqlx::Error> {
    // Unchecked: the value's storage class follows the column's affinity,
    // and SQLite converts where it does not (as it would for any reader).
    Ok(match kind {
        Kind::Int => row
            .try_get_unchecked::<Option<i64>, _>(i)?
            .map_or(Val::Null, Val::Int),
        Kind::Float => row
            .try_get_unchecked::<Option<f64>, _>(i)?
            .map_or(Val::Null, Val::Float),
        Kind::Bool => row
            .try_get_unchecked::<Option<i64>, _>(i)?
            .map_or(Val::Null, |v| Val::Bool(v != 0)),
        Kind::Text => row
            .try_get_unchecked::<Option<String>, _>(i)?
            .map_or(Val::Null, Val::Text),
        Kind::Bytes => row
            .try_get_unchecked::<Option<Vec<u8>>, _>(i)?
            .map_or(Val::Null, Val::Bytes),
    })
}

fn pg_val(row: &PgRow, i: usize, kind: Kind) -> Result<Val, sqlx::Error> {
    Ok(match kind {
        Kind::Int => row
            .try_get::<Option<i64>, _>(i)?
            .map_or(Val::Null, Val::Int),
        Kind::Float => row
            .try_get::<Option<f64>, _>(i)?
            .map_or(Val::Null, Val::Float),
        Kind::Bool => row
            .try_get::<Option<bool>, _>(i)?
            .map_or(Val::Null, Val::Bool),
        Kind::Text => row
            .try_get::<Option<String>, _>(i)?
            .map_or(Val::Null, Val::Text),
        Kind::Bytes => row
            .try_get::<Option<Vec<u8>>, _>(i)?
            .map_or(Val::Null, Val::Bytes),
    })
}

/// The SELECT that reads a table's canonical rows in key order. Text keys
/// compare by bytes on both backends (SQLite's BINARY, PostgreSQL's "C").
fn select_sql(t: &Table, columns: &[Column], backend: Backend) -> String {
    let list: Vec<String> = columns
        .iter()
        .map(|c| match (backend, c.kind) {
            (Backend::Postgres, Kind::Int) => format!("{}::bigint", quote(&c.name)),
            (Backend::Postgres, Kind::Float) => format!("{}::float8", quote(&c.name)),
            (Backend::Postgres, Kind::Text) => format!("{}::text", quote(&c.name)),
            _ => quote(&c.name),
        })
        .collect();
    let order: Vec<String> = t
        .key
        .iter()
        .map(|k| {
            let kind = t
                .columns
                .iter()
                .find(|c| &c.name == k)
                .map_or(Kind::Text, |c| c.kind);
            match (backend, kind) {
                (Backend::Postgres, Kind::Text) => format!("{} COLLATE \"C\"", quote(k)),
                (Backend::Sqlite, Kind::Text) => format!("{} COLLATE BINARY", quote(k)),
                _ => quote(k),
            }
        })
        .collect();
    format!(
        "SELECT {} FROM {} ORDER BY {}",
        list.join(", "),
        quote(&t.name),
        order.join(", ")
    )
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Reads a table's rows in canonical form; `each` gets every row's text
/// (without its line end). Returns the count and checksum.
async fn dump_table(
    conn: &mut Conn<'_>,
    t: &Table,
    columns: &[Column],
    mut each: impl FnMut(&str) -> std::io::Result<()>,
) -> BackupResult<(TableSum, Option<std::io::Error>)> {
    let backend = match conn {
        Conn::Sqlite(_) => Backend::Sqlite,
        Conn::Pg(_) => Backend::Postgres,
    };
    let sql = select_sql(t, columns, backend);
    let mut sha = Sha256::new();
    let mut rows = 0u64;
    let mut line = String::new();
    let mut failed = None;
    let mut take = |vals: &mut dyn Iterator<Item = Result<Val, sqlx::Error>>| -> BackupResult<()> {
        line.clear();
        for (i, v) in vals.enumerate() {
            if i > 0 {
                line.push('\t');
            }
            push_field(&mut line, &v?);
        }
        sha.update(line.as_bytes());
        sha.update(b"\n");
        rows += 1;
        if failed.is_none()
            && let Err(e) = each(&line)
        {
            failed = Some(e);
        }
        Ok(())
    };
    match conn {
        Conn::Sqlite(c) => {
            let mut stream = sqlx::query(&sql).fetch(&mut **c);
            while let Some(row) = stream.try_next().await? {
                take(
                    &mut columns
                        .iter()
                        .enumerate()
                        .map(|(i, col)| sqlite_val(&row, i, col.kind)),
                )?;
            }
        }
        Conn::Pg(c) => {
            let mut stream = sqlx::query(&sql).fetch(&mut **c);
            while let Some(row) = stream.try_next().await? {
                take(
                    &mut columns
                        .iter()
                        .enumerate()
                        .map(|(i, col)| pg_val(&row, i, col.kind)),
                )?;
            }
        }
    }
    Ok((
        TableSum {
            table: t.name.clone(),
            rows,
            sha256: hex(&sha.finalize()),
        },
        failed,
    ))
}

/// Begins the read transaction that every table of a backup is read in.
async fn begin_snapshot(raw: &mut Raw) -> BackupResult<()> {
    match raw {
        // Deferred: the snapshot is fixed by the first read and kept to the end.
        Raw::Sqlite(_) => raw.exec("BEGIN").await,
        Raw::Pg(_) => {
            raw.exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                .await
        }
    }
}

/// Per-table counts and checksums of a database as it is now (one snapshot).
pub async fn checksums(target: &str) -> BackupResult<Vec<TableSum>> {
    let mut raw = connect(target, false).await?;
    let result = async {
        begin_snapshot(&mut raw).await?;
        let conn = &mut raw.conn();
        let mut sums = Vec::new();
        for t in schema(conn).await? {
            let (sum, _) = dump_table(conn, &t, &t.columns, |_| Ok(())).await?;
            sums.push(sum);
        }
        sums.sort_by(|a, b| a.table.cmp(&b.table));
        raw.exec("ROLLBACK").await?;
        Ok(sums)
    }
    .await;
    raw.close().await;
    result
}

/// Counts bytes and hashes them on their way to the file.
struct Hashing<W: Write> {
    inner: W,
    sha: Sha256,
    bytes: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.sha.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

fn partial_path(file: &Path) -> PathBuf {
    let mut name = file.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    file.with_file_name(name)
}

/// Writes a consistent backup of `source` to `file` (through `file.partial`,
/// renamed when complete, so a crash never leaves a file that looks whole).
/// The source is not changed, not even migrated.
pub async fn backup(source: &str, file: &Path) -> BackupResult<Manifest> {
    let mut raw = connect(source, false).await?;
    let partial = partial_path(file);
    let result = write_backup(&mut raw, &partial).await;
    raw.close().await;
    match result {
        Ok(manifest) => {
            std::fs::rename(&partial, file).map_err(io_err(file))?;
            Ok(manifest)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            Err(e)
        }
    }
}

async fn write_backup(raw: &mut Raw, path: &Path) -> BackupResult<Manifest> {
    let backend = raw.backend();
    begin_snapshot(raw).await?;
    let conn = &mut raw.conn();
    let schema_version = applied_version(conn).await?.unwrap_or(0);
    let created_at = crate::now_rfc3339();
    let tables = schema(conn).await?;
    let file = File::create(path).map_err(io_err(path))?;
    let mut w = Hashing {
        inner: BufWriter::with_capacity(1 << 20, file),
        sha: Sha256::new(),
        bytes: 0,
    };
    let mut sums = Vec::with_capacity(tables.len());
    for t in &tables {
        let mut head = format!("T\t{}", t.name);
        for c in &t.columns {
            let _ = write!(head, "\t{}:{}", c.name, c.kind.as_str());
        }
        head.push('\n');
        w.write_all(head.as_bytes()).map_err(io_err(path))?;
        let (sum, failed) = dump_table(conn, t, &t.columns, |line| {
            w.write_all(b"R\t")?;
            w.write_all(line.as_bytes())?;
            w.write_all(b"\n")
        })
        .await?;
        if let Some(e) = failed {
            return Err(io_err(path)(e));
        }
        writeln!(w, "E\t{}\t{}\t{}", sum.table, sum.rows, sum.sha256).map_err(io_err(path))?;
        sums.push(sum);
    }
    // Read-only: nothing to commit; ending it releases the snapshot.
    raw.exec("ROLLBACK").await?;
    sums.sort_by(|a, b| a.table.cmp(&b.table));
    let Hashing { inner, sha, bytes } = w;
    let manifest = Manifest {
        format: FORMAT.to_string(),
        format_version: FORMAT_VERSION,
        citykpi_version: env!("CARGO_PKG_VERSION").to_string(),
        schema_version,
        backend: backend.as_str().to_string(),
        created_at,
        tables: sums,
        body_bytes: bytes,
        body_sha256: hex(&sha.finalize()),
    };
    let json = serde_json::to_string(&manifest).map_err(|e| BackupError::Io {
        path: path.display().to_string(),
        source: std::io::Error::other(e),
    })?;
    let mut inner = inner;
    inner.write_all(json.as_bytes()).map_err(io_err(path))?;
    inner.write_all(b"\n").map_err(io_err(path))?;
    let file = inner
        .into_inner()
        .map_err(|e| io_err(path)(e.into_error()))?;
    file.sync_all().map_err(io_err(path))?;
    Ok(manifest)
}

/// Checks a backup file: its manifest is there and whole, and the data
/// before it has the length and SHA-256 the manifest names. Reads the
/// whole file; writes nothing.
/// The manifest at the end of a backup file, with the length checked but
/// not the checksum (that reads the whole file: `verify_file`). For listing
/// backups.
pub fn read_manifest(file: &Path) -> BackupResult<Manifest> {
    Ok(manifest_and_body(file)?.0)
}

/// The manifest, the open file and the length of the data before it.
fn manifest_and_body(file: &Path) -> BackupResult<(Manifest, File, u64)> {
    let corrupt = |reason: String| BackupError::Corrupt {
        file: file.display().to_string(),
        reason,
    };
    let mut f = File::open(file).map_err(io_err(file))?;
    let len = f.metadata().map_err(io_err(file))?.len();
    if len == 0 {
        return Err(corrupt("空のファイル / the file is empty".into()));
    }
    let tail_len = len.min(MANIFEST_MAX);
    f.seek(SeekFrom::Start(len - tail_len))
        .map_err(io_err(file))?;
    let mut tail = Vec::with_capacity(tail_len as usize);
    (&mut f)
        .take(tail_len)
        .read_to_end(&mut tail)
        .map_err(io_err(file))?;
    let no_manifest = || {
        corrupt(
            "末尾に目録がありません（途中で切れているか、citykpi のバックアップではありません） / no manifest at its end: truncated, or not a citykpi backup"
                .into(),
        )
    };
    let Some(body) = tail.strip_suffix(b"\n") else {
        return Err(no_manifest());
    };
    let start = match body.iter().rposition(|b| *b == b'\n') {
        Some(p) => p + 1,
        None if tail_len == len => 0,
        None => return Err(no_manifest()),
    };
    let manifest: Manifest = serde_json::from_slice(&body[start..]).map_err(|_| no_manifest())?;
    if manifest.format != FORMAT || manifest.format_version != FORMAT_VERSION {
        return Err(corrupt(format!(
            "形式 {} 版 {} は読めません / unknown format {} version {}",
            manifest.format, manifest.format_version, manifest.format, manifest.format_version
        )));
    }
    let body_len = len - tail_len + start as u64;
    if body_len != manifest.body_bytes {
        return Err(corrupt(format!(
            "データが {body_len} バイトで、目録の {} バイトと違います（途中で切れています） / {body_len} bytes of data where the manifest says {} (truncated)",
            manifest.body_bytes, manifest.body_bytes
        )));
    }
    Ok((manifest, f, body_len))
}

/// Reads the manifest and checks the whole file against it: length and
/// SHA-256 of the data.
pub fn verify_file(file: &Path) -> BackupResult<Manifest> {
    let corrupt = |reason: String| BackupError::Corrupt {
        file: file.display().to_string(),
        reason,
    };
    let (manifest, mut f, body_len) = manifest_and_body(file)?;
    f.seek(SeekFrom::Start(0)).map_err(io_err(file))?;
    let mut sha = Sha256::new();
    let mut reader = BufReader::with_capacity(1 << 20, (&mut f).take(body_len));
    loop {
        let buf = reader.fill_buf().map_err(io_err(file))?;
        if buf.is_empty() {
            break;
        }
        sha.update(buf);
        let n = buf.len();
        reader.consume(n);
    }
    let found = hex(&sha.finalize());
    if found != manifest.body_sha256 {
        return Err(corrupt(format!(
            "チェックサムが一致しません（SHA-256 {found}、目録では {}） / checksum mismatch: the data's SHA-256 is {found}, the manifest says {}",
            manifest.body_sha256, manifest.body_sha256
        )));
    }
    Ok(manifest)
}

/// Restores a backup into an empty database: the file is verified first
/// (nothing is written for a damaged one), the schema of the backup's
/// version is created, every row is loaded in one transaction and each
/// table's count and checksum compared with the manifest before the commit;
/// then the normal migrations bring the schema up to date. One audit row.
pub async fn restore(file: &Path, target: &str, actor: &str) -> BackupResult<RestoreReport> {
    let manifest = verify_file(file)?;
    let key = file.display().to_string();
    restore_verified(file, manifest, target, actor, "restore", &key).await
}

async fn restore_verified(
    file: &Path,
    manifest: Manifest,
    target: &str,
    actor: &str,
    action: &str,
    key: &str,
) -> BackupResult<RestoreReport> {
    let backend = backend_of(target);
    let known = latest_schema_version(backend);
    if manifest.schema_version > known {
        return Err(BackupError::SchemaNewer {
            backup: manifest.schema_version,
            known,
        });
    }
    // Refuse before creating anything: a SQLite target that does not exist
    // is created only once the checks above have passed.
    let mut raw = connect(target, true).await?;
    let loaded = load(&mut raw, file, &manifest, target).await;
    raw.close().await;
    let verified = loaded?;

    let store = Store::open(target).await?;
    let schema_version = {
        let mut raw = connect(target, false).await?;
        let v = applied_version(&mut raw.conn()).await;
        raw.close().await;
        v?.unwrap_or(0)
    };
    let after = serde_json::json!({
        "from": key,
        "backup_created_at": manifest.created_at,
        "backup_backend": manifest.backend,
        "backup_schema_version": manifest.schema_version,
        "schema_version": schema_version,
        "rows": manifest.total_rows(),
        "tables": manifest.tables.len(),
    });
    let recorded = store
        .record_audit(&AuditRecord {
            actor,
            action,
            entity: "database",
            key,
            before: None,
            after: Some(after),
        })
        .await;
    store.close().await;
    recorded?;
    Ok(RestoreReport {
        manifest,
        verified,
        schema_version,
    })
}

/// Inserts `rows` of one table, a statement per batch.
async fn insert_rows(
    conn: &mut Conn<'_>,
    table: &str,
    columns: &[Column],
    rows: Vec<Vec<Val>>,
) -> BackupResult<()> {
    if rows.is_empty() || columns.is_empty() {
        return Ok(());
    }
    let names: Vec<String> = columns.iter().map(|c| quote(&c.name)).collect();
    let most = match conn {
        Conn::Sqlite(_) => MAX_ROWS_PER_INSERT_SQLITE,
        Conn::Pg(_) => MAX_ROWS_PER_INSERT,
    };
    let per = (MAX_PARAMS / columns.len()).clamp(1, most);
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let batch: Vec<Vec<Val>> = rows.by_ref().take(per).collect();
        let mut sql = format!(
            "INSERT INTO {} ({}) VALUES ",
            quote(table),
            names.join(", ")
        );
        let mut n = 0;
        for (r, _) in batch.iter().enumerate() {
            if r > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            for c in 0..columns.len() {
                if c > 0 {
                    sql.push_str(", ");
                }
                n += 1;
                let _ = write!(sql, "${n}");
            }
            sql.push(')');
        }
        macro_rules! bind_all {
            ($q:expr) => {{
                let mut q = $q;
                for row in batch {
                    for (v, col) in row.into_iter().zip(columns) {
                        q = match (v, col.kind) {
                            (Val::Null, Kind::Int) => q.bind(None::<i64>),
                            (Val::Null, Kind::Float) => q.bind(None::<f64>),
                            (Val::Null, Kind::Bool) => q.bind(None::<bool>),
                            (Val::Null, Kind::Text) => q.bind(None::<String>),
                            (Val::Null, Kind::Bytes) => q.bind(None::<Vec<u8>>),
                            (Val::Int(i), _) => q.bind(i),
                            (Val::Float(f), _) => q.bind(f),
                            (Val::Bool(b), _) => q.bind(b),
                            (Val::Text(s), _) => q.bind(s),
                            (Val::Bytes(b), _) => q.bind(b),
                        };
                    }
                }
                q
            }};
        }
        match conn {
            Conn::Sqlite(c) => {
                bind_all!(sqlx::query(&sql)).execute(&mut **c).await?;
            }
            Conn::Pg(c) => {
                bind_all!(sqlx::query(&sql)).execute(&mut **c).await?;
            }
        }
    }
    Ok(())
}

/// A table that refers to itself (a plan node to its parent): rows whose
/// parent is already placed come first, so that every reference is checked
/// against a row that exists.
fn parents_first(rows: Vec<Vec<Val>>, child: usize, parent: usize) -> Vec<Vec<Val>> {
    let key = |v: &Val| {
        let mut s = String::new();
        push_field(&mut s, v);
        s
    };
    let mut placed: HashSet<String> = HashSet::new();
    let mut out = Vec::with_capacity(rows.len());
    let mut pending = rows;
    loop {
        let before = pending.len();
        let mut rest = Vec::new();
        for row in pending {
            if row[child] == Val::Null || placed.contains(&key(&row[child])) {
                placed.insert(key(&row[parent]));
                out.push(row);
            } else {
                rest.push(row);
            }
        }
        if rest.is_empty() {
            break;
        }
        if rest.len() == before {
            // A reference to a row that is not there: the database names it.
            out.extend(rest);
            break;
        }
        pending = rest;
    }
    out
}

struct Loading {
    table: Table,
    columns: Vec<Column>,
    rows: Vec<Vec<Val>>,
}

async fn load(
    raw: &mut Raw,
    file: &Path,
    manifest: &Manifest,
    target: &str,
) -> BackupResult<Vec<TableSum>> {
    let backend = raw.backend();
    {
        let conn = &mut raw.conn();
        if let Some(found) = applied_version(conn).await?
            && found > manifest.schema_version
        {
            return Err(BackupError::SchemaAhead {
                target: redact(target),
                found,
                backup: manifest.schema_version,
            });
        }
        for table in table_names(conn).await? {
            let sql = format!(
                "SELECT COUNT(*) FROM (SELECT 1 FROM {} LIMIT 1) AS any_row",
                quote(&table)
            );
            let n: i64 = run!(conn, sqlx::query_scalar::<_, i64>(&sql), fetch_one)?;
            if n > 0 {
                return Err(BackupError::NotEmpty {
                    target: redact(target),
                    table,
                });
            }
        }
    }
    let upto = migrator_upto(backend, manifest.schema_version);
    match raw {
        Raw::Sqlite(c) => upto.run(&mut *c).await?,
        Raw::Pg(c) => upto.run(&mut *c).await?,
    }

    match backend {
        Backend::Sqlite => {
            raw.exec("BEGIN IMMEDIATE").await?;
            // Checked at the commit: rows come parents first anyway, but a
            // cycle between tables must not stop the load half-way.
            raw.exec("PRAGMA defer_foreign_keys = ON").await?;
        }
        Backend::Postgres => raw.exec("BEGIN").await?,
    }
    let result = load_rows(raw, file, manifest).await;
    match result {
        Ok(sums) => {
            raw.exec("COMMIT").await?;
            Ok(sums)
        }
        Err(e) => {
            let _ = raw.exec("ROLLBACK").await;
            Err(e)
        }
    }
}

async fn load_rows(raw: &mut Raw, file: &Path, manifest: &Manifest) -> BackupResult<Vec<TableSum>> {
    let backend = raw.backend();
    let conn = &mut raw.conn();
    let target_tables: BTreeMap<String, Table> = schema(conn)
        .await?
        .into_iter()
        .map(|t| (t.name.clone(), t))
        .collect();
    let corrupt = |line: usize, reason: String| BackupError::Corrupt {
        file: file.display().to_string(),
        reason: format!("{line} 行目 / line {line}: {reason}"),
    };
    let f = File::open(file).map_err(io_err(file))?;
    let mut reader = BufReader::with_capacity(1 << 20, f.take(manifest.body_bytes));
    let mut buf = String::new();
    let mut line_no = 0usize;
    let mut current: Option<Loading> = None;
    let mut loaded: Vec<(Table, Vec<Column>)> = Vec::new();
    loop {
        buf.clear();
        let n = reader.read_line(&mut buf).map_err(io_err(file))?;
        if n == 0 {
            break;
        }
        line_no += 1;
        let line = buf.strip_suffix('\n').unwrap_or(&buf);
        let (tag, rest) = line.split_once('\t').unwrap_or((line, ""));
        match tag {
            "T" => {
                if current.is_some() {
                    return Err(corrupt(
                        line_no,
                        "表の終わりがありません / table not ended".into(),
                    ));
                }
                let mut parts = rest.split('\t');
                let name = parts.next().unwrap_or_default().to_string();
                let Some(table) = target_tables.get(&name) else {
                    return Err(corrupt(
                        line_no,
                        format!(
                            "表 {name} が復元先にありません / table {name} is not in the target's schema"
                        ),
                    ));
                };
                let mut columns = Vec::new();
                for p in parts {
                    let (col, kind) = p
                        .rsplit_once(':')
                        .and_then(|(c, k)| Some((c, Kind::parse(k)?)))
                        .ok_or_else(|| corrupt(line_no, format!("列 {p:?} / column {p:?}")))?;
                    if !table.columns.iter().any(|c| c.name == col) {
                        return Err(corrupt(
                            line_no,
                            format!(
                                "列 {name}.{col} が復元先にありません / column {name}.{col} is not in the target's schema"
                            ),
                        ));
                    }
                    columns.push(Column {
                        name: col.to_string(),
                        kind,
                    });
                }
                current = Some(Loading {
                    table: table.clone(),
                    columns,
                    rows: Vec::new(),
                });
            }
            "R" => {
                let Some(cur) = current.as_mut() else {
                    return Err(corrupt(line_no, "表の外の行 / row outside a table".into()));
                };
                let fields: Vec<&str> = rest.split('\t').collect();
                if fields.len() != cur.columns.len() {
                    return Err(corrupt(
                        line_no,
                        format!(
                            "{} 列のはずが {} 列 / {} fields where {} columns",
                            cur.columns.len(),
                            fields.len(),
                            fields.len(),
                            cur.columns.len()
                        ),
                    ));
                }
                let row = fields
                    .iter()
                    .zip(&cur.columns)
                    .map(|(s, c)| parse_field(s, c.kind))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| corrupt(line_no, e))?;
                cur.rows.push(row);
                if cur.table.self_ref.is_none() && cur.rows.len() >= MAX_ROWS_PER_INSERT * 8 {
                    let rows = std::mem::take(&mut cur.rows);
                    insert_rows(conn, &cur.table.name, &cur.columns, rows).await?;
                }
            }
            "E" => {
                let Some(mut cur) = current.take() else {
                    return Err(corrupt(
                        line_no,
                        "表の外の終わり / table end outside a table".into(),
                    ));
                };
                let mut rows = std::mem::take(&mut cur.rows);
                if let Some((child, parent)) = &cur.table.self_ref {
                    let pos = |n: &str| cur.columns.iter().position(|c| c.name == n);
                    if let (Some(c), Some(p)) = (pos(child.as_str()), pos(parent.as_str())) {
                        rows = parents_first(rows, c, p);
                    }
                }
                insert_rows(conn, &cur.table.name, &cur.columns, rows).await?;
                loaded.push((cur.table, cur.columns));
            }
            _ => {
                return Err(corrupt(
                    line_no,
                    format!("不明な行 / unknown line tag {tag:?}"),
                ));
            }
        }
    }
    if current.is_some() {
        return Err(corrupt(
            line_no,
            "表の終わりがありません / table not ended".into(),
        ));
    }

    if backend == Backend::Postgres {
        // Explicit ids leave the identity sequences behind: move each past the largest id.
        for (t, columns) in &loaded {
            for c in columns.iter().filter(|c| c.kind == Kind::Int) {
                let seq: Option<String> = run!(
                    conn,
                    sqlx::query_scalar::<_, Option<String>>(
                        "SELECT pg_get_serial_sequence($1, $2)"
                    )
                    .bind(quote(&t.name))
                    .bind(&c.name),
                    fetch_one
                )?;
                if let Some(seq) = seq {
                    let sql = format!(
                        "SELECT setval($1::regclass, COALESCE((SELECT MAX({}) FROM {}), 0) + 1, false)",
                        quote(&c.name),
                        quote(&t.name)
                    );
                    run!(conn, sqlx::query(&sql).bind(seq), execute)?;
                }
            }
        }
    }

    // Every table as the target now holds it, against the manifest.
    let mut verified = Vec::new();
    let expected: BTreeMap<&str, &TableSum> = manifest
        .tables
        .iter()
        .map(|t| (t.table.as_str(), t))
        .collect();
    for (t, columns) in &loaded {
        let (sum, _) = dump_table(conn, t, columns, |_| Ok(())).await?;
        let Some(want) = expected.get(t.name.as_str()) else {
            return Err(BackupError::Corrupt {
                file: file.display().to_string(),
                reason: format!(
                    "表 {} が目録にありません / table {} is not in the manifest",
                    t.name, t.name
                ),
            });
        };
        if sum.rows != want.rows || sum.sha256 != want.sha256 {
            return Err(BackupError::Mismatch {
                table: t.name.clone(),
                expected_rows: want.rows,
                found_rows: sum.rows,
                expected_sha: want.sha256.clone(),
                found_sha: sum.sha256,
            });
        }
        verified.push(sum);
    }
    if verified.len() != manifest.tables.len() {
        return Err(BackupError::Corrupt {
            file: file.display().to_string(),
            reason: format!(
                "目録の {} 表のうち {} 表しかありません / {} of the manifest's {} tables present",
                manifest.tables.len(),
                verified.len(),
                verified.len(),
                manifest.tables.len()
            ),
        });
    }
    verified.sort_by(|a, b| a.table.cmp(&b.table));
    Ok(verified)
}

/// What a move between databases did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyReport {
    /// The source as read (one snapshot).
    pub source: Manifest,
    /// The target after loading: equal counts and checksums, table by table.
    pub target: Vec<TableSum>,
    pub schema_version: i64,
}

/// Moves every row of `source` into the empty database `target` (either
/// backend to either), in one snapshot of the source and one transaction on
/// the target, verified table by table. The rows travel through a temporary
/// backup file, so the move is exactly a backup and a restore.
pub async fn copy(source: &str, target: &str, actor: &str) -> BackupResult<CopyReport> {
    if source.trim() == target.trim() {
        return Err(BackupError::SameDatabase(redact(target)));
    }
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let tmp = std::env::temp_dir().join(format!(
        "citykpi-migrate-{}-{nanos}.backup",
        std::process::id()
    ));
    let result = async {
        let manifest = backup(source, &tmp).await?;
        let key = redact(source);
        restore_verified(&tmp, manifest, target, actor, "migrate", &key).await
    }
    .await;
    let _ = std::fs::remove_file(&tmp);
    let report = result?;
    Ok(CopyReport {
        source: report.manifest,
        target: report.verified,
        schema_version: report.schema_version,
    })
}

/// Creates an empty database at an older schema version: only the
/// migrations up to `version`. For tests of upgrades from every released
/// schema, and for tools that must write an older layout.
pub async fn create_at_version(target: &str, version: i64) -> BackupResult<()> {
    let mut raw = connect(target, true).await?;
    let upto = migrator_upto(raw.backend(), version);
    let result = match &mut raw {
        Raw::Sqlite(c) => upto.run(&mut *c).await,
        Raw::Pg(c) => upto.run(&mut *c).await,
    };
    raw.close().await;
    Ok(result?)
}

/// The schema version a database is at (0: no migrations applied), without migrating it.
pub async fn schema_version_of(target: &str) -> BackupResult<i64> {
    let mut raw = connect(target, false).await?;
    let v = applied_version(&mut raw.conn()).await;
    raw.close().await;
    Ok(v?.unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_read_back_as_written() {
        let cases = [
            (Val::Null, Kind::Text),
            (Val::Int(-42), Kind::Int),
            (Val::Float(7.333333333333333), Kind::Float),
            (Val::Float(-0.125), Kind::Float),
            (Val::Float(1e-7), Kind::Float),
            (Val::Bool(true), Kind::Bool),
            (Val::Text("タブ\tと改行\nと\\を含む \\N".into()), Kind::Text),
            (Val::Text(String::new()), Kind::Text),
            (Val::Bytes(vec![0, 1, 0xfe, 0xff]), Kind::Bytes),
        ];
        for (v, k) in cases {
            let mut s = String::new();
            push_field(&mut s, &v);
            assert!(!s.contains('\t') && !s.contains('\n'), "{s:?}");
            assert_eq!(parse_field(&s, k).unwrap(), v, "{s:?}");
        }
        assert!(parse_field("1.5", Kind::Int).is_err());
        assert!(parse_field("a\\x", Kind::Text).is_err());
    }

    #[test]
    fn self_referencing_rows_come_parents_first() {
        let row = |code: &str, parent: Option<&str>| {
            vec![
                Val::Text(code.into()),
                parent.map_or(Val::Null, |p| Val::Text(p.into())),
            ]
        };
        let rows = vec![
            row("A1a", Some("A1")),
            row("A1", Some("A")),
            row("A", None),
            row("B", None),
        ];
        let order: Vec<Val> = parents_first(rows, 1, 0)
            .into_iter()
            .map(|r| r[0].clone())
            .collect();
        assert_eq!(
            order,
            ["A", "B", "A1", "A1a"]
                .map(|s| Val::Text(s.into()))
                .to_vec()
        );
    }
}
