//! `citykpi backup`, `citykpi restore`, `citykpi migrate`: arguments and
//! printing only; the work is `citykpi_app::backup`'s.

use std::path::Path;
use std::time::Instant;

use citykpi_app::backup::{self as svc, Manifest, TableSum};

use crate::output::Lang;

/// The actor recorded in the audit log for these commands.
const ACTOR: &str = "cli";

pub async fn run_backup(db: &str, output: Option<&Path>, lang: Lang) -> anyhow::Result<()> {
    let started = Instant::now();
    let (file, manifest) = svc::backup(db, output).await?;
    println!(
        "{}: {} ({:.1}s)",
        lang.pick("バックアップを作成しました", "Backup written"),
        file.display(),
        started.elapsed().as_secs_f64()
    );
    print_manifest(&manifest, lang);
    Ok(())
}

pub async fn run_restore(file: &Path, target: &str, lang: Lang) -> anyhow::Result<()> {
    let started = Instant::now();
    let report = svc::restore(file, target, ACTOR).await?;
    println!(
        "{}: {} → {} ({:.1}s)",
        lang.pick("復元しました", "Restored"),
        file.display(),
        redacted(target),
        started.elapsed().as_secs_f64()
    );
    print_manifest(&report.manifest, lang);
    println!(
        "{}: {} / {} {}",
        lang.pick(
            "行数とチェックサムを確認しました（表）",
            "Row counts and checksums verified (tables)"
        ),
        report.verified.len(),
        report.manifest.tables.len(),
        lang.pick("表", "tables")
    );
    println!(
        "{}: {} → {}",
        lang.pick("データベースの構造の版", "Schema version"),
        report.manifest.schema_version,
        report.schema_version
    );
    Ok(())
}

pub async fn run_migrate(source: &str, target: &str, lang: Lang) -> anyhow::Result<()> {
    let started = Instant::now();
    let report = svc::migrate(source, target, ACTOR).await?;
    println!(
        "{}: {} → {} ({:.1}s)",
        lang.pick("移行しました", "Moved"),
        redacted(source),
        redacted(target),
        started.elapsed().as_secs_f64()
    );
    println!(
        "  {:<32} {:>10} {:>10}  sha256",
        lang.pick("表", "table"),
        lang.pick("移行元", "source"),
        lang.pick("移行先", "target")
    );
    for (s, t) in report.source.tables.iter().zip(&report.target) {
        println!(
            "  {:<32} {:>10} {:>10}  {}",
            s.table,
            s.rows,
            t.rows,
            short(&t.sha256)
        );
    }
    println!(
        "{}: {} {}, {} {}; {}: {}",
        lang.pick("一致", "Equal"),
        report.target.len(),
        lang.pick("表", "tables"),
        report.source.total_rows(),
        lang.pick("行", "rows"),
        lang.pick("構造の版", "schema version"),
        report.schema_version
    );
    Ok(())
}

fn print_manifest(m: &Manifest, lang: Lang) {
    println!(
        "  citykpi {} · {} · {} {} · {}",
        m.citykpi_version,
        m.backend,
        lang.pick("構造の版", "schema"),
        m.schema_version,
        m.created_at
    );
    let nonempty: Vec<&TableSum> = m.tables.iter().filter(|t| t.rows > 0).collect();
    for t in &nonempty {
        println!("  {:<32} {:>10}  {}", t.table, t.rows, short(&t.sha256));
    }
    println!(
        "  {} {}, {} {} ({} {}), SHA-256 {}",
        m.tables.len(),
        lang.pick("表", "tables"),
        m.total_rows(),
        lang.pick("行", "rows"),
        m.tables.len() - nonempty.len(),
        lang.pick("表は空", "empty"),
        m.body_sha256
    );
}

fn short(sha: &str) -> &str {
    sha.get(..16).unwrap_or(sha)
}

/// A postgres:// URL without its password, for printing.
fn redacted(target: &str) -> String {
    match (target.find("://"), target.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &target[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &target[..s + 3], &target[at..]),
                None => target.to_string(),
            }
        }
        _ => target.to_string(),
    }
}
