//! `citykpi report …`: the cycle's reports written to files — the annual
//! KPI progress report as PDF, the evaluation sheets as XLSX or PDF, the
//! compiled budget as XLSX, the open data as CSV, JSON and their schema in a
//! folder (PDF needs the cargo feature `pdf`, on by default). Nothing is written when an input is
//! wrong; a file is written whole or not at all.

use std::path::{Path, PathBuf};

use anyhow::Context;
use citykpi_app::Store;
use citykpi_app::reports::{self, ReportServiceError};
use citykpi_domain::FiscalYear;
use citykpi_domain::cycle::Cycle;
use clap::Subcommand;

use crate::output::Lang;

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// 年次KPI進捗報告書（PDF・A4）/ the annual KPI progress report as PDF (A4)
    KpiProgress {
        /// 年度（既定: 直近に終了した年度）/ the fiscal year (default: the last one ended)
        #[arg(long, value_parser = crate::parse_fy)]
        fy: Option<FiscalYear>,
        /// 出力するPDFファイル / the PDF file to write
        #[arg(short, long)]
        output: PathBuf,
    },
    /// 事務事業評価シート（XLSXは1事業1シート、PDFは1事業1ページ・A4縦）/ evaluation sheets as XLSX (one sheet per program) or PDF (one page per program), A4 portrait
    Evaluations {
        /// 評価年度（既定: 直近に終了した年度）/ the fiscal year evaluated (default: the last one ended)
        #[arg(long, value_parser = crate::parse_fy)]
        fy: Option<FiscalYear>,
        /// 部局コードまたは部局名（その部局の評価シートだけを1ファイルに）/ department code or name: only its programs' sheets
        #[arg(long)]
        department: Option<String>,
        /// 出力するXLSXまたはPDFファイル / the XLSX or PDF file to write
        #[arg(short, long)]
        output: PathBuf,
    },
    /// 予算編成の集計（XLSX・部局別・政策別・財源別・事業別）/ the compiled budget as XLSX (by department, policy, funding source, program)
    Budget {
        /// 予算年度（既定: 直近に終了した年度のサイクルで編成する年度＝その2年後）/ the budget year (default: the one the last ended year's cycle builds, two years on)
        #[arg(long, value_parser = crate::parse_fy)]
        fy: Option<FiscalYear>,
        /// 出力するXLSXファイル / the XLSX file to write
        #[arg(short, long)]
        output: PathBuf,
    },
    /// オープンデータ（公開KPI・評価・予算のCSV/JSONとスキーマ）/ open data: published KPIs, evaluations and budget as CSV and JSON with their schema
    OpenData {
        /// 年度（既定: 直近に終了した年度）/ the fiscal year (default: the last one ended)
        #[arg(long, value_parser = crate::parse_fy)]
        fy: Option<FiscalYear>,
        /// 出力先フォルダ（なければ作成）/ the folder to write into (created if missing)
        #[arg(short, long)]
        output: PathBuf,
    },
}

fn default_fy(fy: Option<FiscalYear>) -> FiscalYear {
    fy.unwrap_or_else(citykpi_app::clock::last_closed_fiscal_year)
}

/// The kind of file a report is written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FileKind {
    Xlsx,
    Pdf,
}

/// The output must be an .xlsx file, or a .pdf one where `pdf` allows it
/// (and the build has the `pdf` feature).
fn check_output(path: &Path, lang: Lang, pdf: bool) -> anyhow::Result<FileKind> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let kind = match ext.as_deref() {
        Some("xlsx") => FileKind::Xlsx,
        Some("pdf") if pdf && cfg!(feature = "pdf") => FileKind::Pdf,
        Some("pdf") if pdf => anyhow::bail!(
            "-o/--output {}: {}",
            path.display(),
            lang.pick(
                "このcitykpiはPDF機能（cargoのfeature `pdf`）なしでビルドされています。拡張子 .xlsx のファイルを指定するか、`pdf` 付きでビルドしてください",
                "this citykpi was built without PDF support (cargo feature `pdf`): name an .xlsx file, or build with the `pdf` feature"
            )
        ),
        Some("pdf") => anyhow::bail!(
            "-o/--output {}: {}",
            path.display(),
            lang.pick(
                "この帳票はPDFでは出力できません。拡張子 .xlsx のファイルを指定してください",
                "this report is not made as PDF: name an .xlsx file"
            )
        ),
        _ => anyhow::bail!(
            "-o/--output {}: {}",
            path.display(),
            lang.pick(
                "拡張子 .xlsx のファイルを指定してください",
                "the output must be an .xlsx file"
            )
        ),
    };
    check_not_dir(path, lang)?;
    Ok(kind)
}

fn check_not_dir(path: &Path, lang: Lang) -> anyhow::Result<()> {
    if path.is_dir() {
        anyhow::bail!(
            "-o/--output {}: {}",
            path.display(),
            lang.pick(
                "フォルダです。ファイル名を指定してください",
                "is a folder: name a file"
            )
        );
    }
    Ok(())
}

/// Names the flag an input error is about.
fn flag_error(e: ReportServiceError) -> anyhow::Error {
    match e.input() {
        Some("department") => anyhow::anyhow!("--department: {e}"),
        Some("fy") => anyhow::anyhow!("--fy: {e}"),
        _ => e.into(),
    }
}

/// Writes through a temporary file in the same folder, then renames, so a
/// failed write leaves no half file behind.
fn write_whole(path: &Path, bytes: &[u8], lang: Lang) -> anyhow::Result<()> {
    let cannot = || {
        format!(
            "{} {}",
            lang.pick("書き込めません:", "cannot write"),
            path.display()
        )
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    std::fs::write(&tmp, bytes).with_context(cannot)?;
    if let Err(e) = std::fs::rename(&tmp, path) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e).with_context(cannot);
    }
    Ok(())
}

pub async fn run(store: &Store, command: ReportCommand, lang: Lang) -> anyhow::Result<()> {
    match command {
        ReportCommand::KpiProgress { fy, output } => {
            kpi_progress(store, default_fy(fy), &output, lang).await?;
        }
        ReportCommand::Evaluations {
            fy,
            department,
            output,
        } => {
            let kind = check_output(&output, lang, true)?;
            let fy = default_fy(fy);
            let (book, bytes) = match kind {
                FileKind::Xlsx => reports::evaluation_sheets_xlsx(store, fy, department.as_deref())
                    .await
                    .map_err(flag_error)?,
                #[cfg(feature = "pdf")]
                FileKind::Pdf => {
                    crate::report_pdf::evaluations(store, fy, department.as_deref(), flag_error)
                        .await?
                }
                #[cfg(not(feature = "pdf"))]
                FileKind::Pdf => unreachable!("refused by check_output"),
            };
            write_whole(&output, &bytes, lang)?;
            let saved = book.programs.iter().filter(|p| p.version > 0).count();
            let whose = book
                .department
                .as_ref()
                .map(|(code, name)| format!(" {name}（{code}）"))
                .unwrap_or_default();
            match lang {
                Lang::Ja => println!(
                    "{}{whose}の事務事業評価シート {}件（うち未作成 {}件）を書き出しました: {}",
                    fy.label_ja(),
                    book.programs.len(),
                    book.programs.len() - saved,
                    output.display()
                ),
                Lang::En => println!(
                    "Wrote {} evaluation sheets of {}{whose} ({} not saved yet, pre-filled) to {}",
                    book.programs.len(),
                    fy.label_en(),
                    book.programs.len() - saved,
                    output.display()
                ),
            }
        }
        ReportCommand::Budget { fy, output } => {
            check_output(&output, lang, false)?;
            let budget_fy = fy.unwrap_or_else(|| Cycle::new(default_fy(None)).budget_fy());
            let (book, bytes) = reports::budget_xlsx(store, budget_fy)
                .await
                .map_err(flag_error)?;
            write_whole(&output, &bytes, lang)?;
            let t = &book.compiled.total;
            match lang {
                Lang::Ja => println!(
                    "{}の予算編成（要求額 {}円・査定額 {}円・部局 {}）を書き出しました: {}",
                    budget_fy.label_ja(),
                    citykpi_domain::money::format_yen(t.requested),
                    citykpi_domain::money::format_yen(t.assessed),
                    book.compiled.by_department.len(),
                    output.display()
                ),
                Lang::En => println!(
                    "Wrote the compiled budget of {} (requested ¥{}, assessed ¥{}, {} departments) to {}",
                    budget_fy.label_en(),
                    citykpi_domain::money::format_yen(t.requested),
                    citykpi_domain::money::format_yen(t.assessed),
                    book.compiled.by_department.len(),
                    output.display()
                ),
            }
        }
        ReportCommand::OpenData { fy, output } => {
            if output.exists() && !output.is_dir() {
                anyhow::bail!(
                    "-o/--output {}: {}",
                    output.display(),
                    lang.pick(
                        "ファイルです。出力先のフォルダを指定してください",
                        "is a file: name a folder"
                    )
                );
            }
            let fy = default_fy(fy);
            let (data, files) = reports::open_data(store, fy).await.map_err(flag_error)?;
            std::fs::create_dir_all(&output).with_context(|| {
                format!(
                    "{} {}",
                    lang.pick("フォルダを作れません:", "cannot create folder"),
                    output.display()
                )
            })?;
            for (name, bytes) in &files {
                write_whole(&output.join(name), bytes, lang)?;
            }
            match lang {
                Lang::Ja => println!(
                    "{}のオープンデータ（KPI {}件・事務事業評価 {}件・予算 {}件、ファイル {}個）を書き出しました: {}",
                    fy.label_ja(),
                    data.kpis.len(),
                    data.evaluations.len(),
                    data.money.len(),
                    files.len(),
                    output.display()
                ),
                Lang::En => println!(
                    "Wrote the open data of {} ({} KPIs, {} evaluations, {} budget lines; {} files) to {}",
                    fy.label_en(),
                    data.kpis.len(),
                    data.evaluations.len(),
                    data.money.len(),
                    files.len(),
                    output.display()
                ),
            }
        }
    }
    Ok(())
}

/// `citykpi report kpi-progress`: the annual KPI progress report as PDF.
async fn kpi_progress(
    store: &Store,
    fy: FiscalYear,
    output: &Path,
    lang: Lang,
) -> anyhow::Result<()> {
    let is_pdf = output
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("pdf"));
    if !is_pdf {
        anyhow::bail!(
            "-o/--output {}: {}",
            output.display(),
            lang.pick(
                "拡張子 .pdf のファイルを指定してください",
                "the output must be a .pdf file"
            )
        );
    }
    check_not_dir(output, lang)?;
    #[cfg(feature = "pdf")]
    {
        let (book, bytes) = crate::report_pdf::kpi_progress(store, fy, flag_error).await?;
        write_whole(output, &bytes, lang)?;
        let c = &book.counts;
        match lang {
            Lang::Ja => println!(
                "{}の年次KPI進捗報告書（KPI {}件: 達成 {}・順調 {}・遅れ {}・要注意 {}・データなし {}）を書き出しました: {}",
                fy.label_ja(),
                c.total(),
                c.achieved,
                c.on_track,
                c.behind,
                c.at_risk,
                c.no_data,
                output.display()
            ),
            Lang::En => println!(
                "Wrote the annual KPI progress report of {} ({} KPIs: {} achieved, {} on track, {} behind, {} at risk, {} no data) to {}",
                fy.label_en(),
                c.total(),
                c.achieved,
                c.on_track,
                c.behind,
                c.at_risk,
                c.no_data,
                output.display()
            ),
        }
        Ok(())
    }
    #[cfg(not(feature = "pdf"))]
    {
        let _ = (store, fy);
        anyhow::bail!(
            "-o/--output {}: {}",
            output.display(),
            lang.pick(
                "このcitykpiはPDF機能（cargoのfeature `pdf`）なしでビルドされています。`pdf` 付きでビルドしてください",
                "this citykpi was built without PDF support (cargo feature `pdf`): build it with the `pdf` feature"
            )
        )
    }
}
