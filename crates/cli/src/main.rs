//! `citykpi`: the command line. Thin: it parses arguments, calls the services
//! in `citykpi-app`, and prints. No rule lives here.

mod backup;
mod compare;
mod cycle;
mod evidence;
mod ngsi;
mod optimise;
mod output;
mod partners;
mod report;
#[cfg(feature = "pdf")]
mod report_pdf;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use citykpi_app::{AppError, Store, data, demo, resolve_database, status};
use citykpi_domain::{FiscalYear, Kind};
use citykpi_io::{Format, HeaderLang};
use clap::{Parser, Subcommand, ValueEnum};

use output::{Lang, OutputFormat};

/// citykpi — KPIで市政を進める / steering a city by KPIs.
#[derive(Debug, Parser)]
#[command(name = "citykpi", version, about, long_about = None)]
struct Cli {
    /// データベース: SQLiteファイルのパス または postgres:// URL / database: a SQLite file path or a postgres:// URL
    #[arg(long, global = true, env = "CITYKPI_DATABASE_URL")]
    db: Option<String>,

    /// 表示言語 (既定: LANG から) / message language (default: from LANG)
    #[arg(long, global = true, value_enum)]
    lang: Option<Lang>,

    /// 基準日: この日を今日として扱う（既定の年度・期限。デモ都市はこの日の状態で作成）/ the day taken as today (default fiscal years, deadlines; the demo city is made as it stands then), YYYY-MM-DD
    #[arg(long, global = true, env = "CITYKPI_AS_OF", value_parser = parse_day)]
    as_of: Option<citykpi_domain::partner::Day>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// デモ都市を作成する（既存データは置き換え）/ build the demo city (replaces existing data)
    Demo {
        /// 規模（10 で10倍）/ scale (10 = ten times larger)
        #[arg(long, default_value_t = 1)]
        scale: u32,
        /// 乱数の種 / random seed
        #[arg(long, default_value_t = demo::DEFAULT_SEED)]
        seed: u64,
        /// 公民連携の会員数（省略時は規模×1,300）/ partner members (default: scale × 1,300)
        #[arg(long)]
        partner_members: Option<usize>,
        /// 窓口の相談件数（省略時は規模×2,000）/ desk inquiries (default: scale × 2,000)
        #[arg(long)]
        partner_inquiries: Option<usize>,
    },
    /// CSV・XLSX・JSON を取り込む（1トランザクション）/ import a CSV, XLSX or JSON file (one transaction)
    Import {
        /// 取り込むファイル / the file to import
        file: PathBuf,
        /// 種類（省略時は見出しから判定）/ kind (detected from the header when omitted)
        #[arg(long, value_parser = parse_kind)]
        kind: Option<Kind>,
        /// 検査のみで書き込まない / check only, write nothing
        #[arg(long)]
        dry_run: bool,
    },
    /// 表を書き出す / export a table
    Export {
        /// org, users, plans, kpis, observations, programs, links, indicators, money
        #[arg(value_parser = parse_kind)]
        kind: Kind,
        #[command(flatten)]
        to: ExportTo,
    },
    /// Webアプリを起動する / serve the web application
    Serve {
        /// データベースが空ならデモ都市を作成する / build the demo city first when the database is empty
        #[arg(long)]
        demo: bool,
        /// 待ち受けるアドレス / address to listen on
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: std::net::SocketAddr,
    },
    /// KPI
    Kpi {
        #[command(subcommand)]
        command: KpiCommand,
    },
    /// エビデンス（因果推論）/ evidence: causal estimates on a panel CSV
    Evidence {
        #[command(subcommand)]
        command: evidence::EvidenceCommand,
    },
    /// 目標達成見込み（予測）/ forecast a series toward its target
    Forecast(evidence::ForecastArgs),
    /// 進行管理サイクル（KPI進捗→事務事業評価→再編→予算）/ the yearly management cycle
    Cycle {
        #[command(subcommand)]
        command: cycle::CycleCommand,
    },
    /// 比較団体の公的統計を取り込む（e-Stat API・SDMX-CSV・CSV）/ import official statistics of comparison municipalities
    Compare {
        #[command(subcommand)]
        command: compare::CompareCommand,
    },
    /// 都市OS（NGSI-LD）の測定値をKPIの実績値として取り込む / NGSI-LD measurements of the city data platform as KPI actuals
    Ngsi {
        #[command(subcommand)]
        command: ngsi::NgsiCommand,
    },
    /// 公民連携（一覧の書き出し、保存期間を過ぎた個人情報の消去）/ partnerships: list exports, erasing personal data past the retention period
    Partners {
        #[command(subcommand)]
        command: partners::PartnersCommand,
    },
    /// 事業再編 / program restructuring
    Restructure {
        #[command(subcommand)]
        command: cycle::RestructureCommand,
    },
    /// 帳票とオープンデータ（評価シート・予算編成のXLSX、公開データのCSV/JSON）/ reports: evaluation sheets and budget as XLSX, open data as CSV/JSON
    Report {
        #[command(subcommand)]
        command: report::ReportCommand,
    },
    /// バックアップを作成する（稼働中でも一貫した内容、チェックサム付き）/ take a consistent backup (while the server runs), with checksums
    Backup {
        /// 出力先（省略時は ./citykpi-<日時>.backup）/ output file (default ./citykpi-<time>.backup)
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// バックアップを空のデータベース（--db）に復元する / restore a backup into an empty database (--db)
    Restore {
        /// バックアップファイル / the backup file
        file: PathBuf,
    },
    /// 全データを別のデータベースへ移す（SQLite ⇄ PostgreSQL、移行先は空）/ move all data to another, empty database (SQLite ⇄ PostgreSQL)
    Migrate {
        /// 移行先: postgres:// URL または SQLiteファイル / target: a postgres:// URL or a SQLite file
        #[arg(long)]
        to: String,
    },
    /// 予算の試算（最適な再配分・潜在価格）/ budget what-if: the optimal re-allocation and its shadow prices
    Optimise(optimise::OptimiseArgs),
}

#[derive(Debug, Subcommand)]
enum KpiCommand {
    /// 全KPIの実績・目標・達成率・状況と施策・政策・計画への集計 / every KPI's status and the roll-up
    Status {
        /// 評価年度（既定: 直近に終了した年度）/ fiscal year (default: the last one ended). 2024, 令和6年度, R6 …
        #[arg(long, value_parser = parse_fy)]
        fy: Option<FiscalYear>,
        #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
        format: OutputFormat,
        /// 確認済の実績値だけで判定（公開資料・オープンデータと同じ）/ from confirmed actuals only, as the published reports and open data
        #[arg(long)]
        confirmed: bool,
    },
    /// 実績値を確認する（確認済の値だけが公開されます）/ confirm actuals for publication
    Confirm {
        /// 確認する人のログイン名（その人の権限で確認。自分の入力は不可）/ who confirms (their rules apply; not their own entries)
        #[arg(long = "as")]
        login: String,
        /// KPIコード / KPI code
        kpi: String,
        /// 期間（複数可）/ periods, one or more: 2024, 2024Q1, 2024-04
        #[arg(required = true)]
        periods: Vec<String>,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum FileFormat {
    Csv,
    Json,
    Xlsx,
}

impl From<FileFormat> for Format {
    fn from(f: FileFormat) -> Format {
        match f {
            FileFormat::Csv => Format::Csv,
            FileFormat::Json => Format::Json,
            FileFormat::Xlsx => Format::Xlsx,
        }
    }
}

fn parse_kind(s: &str) -> Result<Kind, String> {
    Kind::parse(s).ok_or_else(|| {
        let all: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
        format!(
            "種類は {} のいずれか / kind must be one of {}",
            all.join(", "),
            all.join(", ")
        )
    })
}

pub(crate) fn parse_fy(s: &str) -> Result<FiscalYear, String> {
    FiscalYear::parse(s).map_err(|e| e.to_string())
}

/// Where and how an export is written: `--format`, `-o`, `--headers`.
#[derive(Debug, clap::Args)]
pub(crate) struct ExportTo {
    #[arg(long, value_enum, default_value_t = FileFormat::Csv)]
    pub format: FileFormat,
    /// 出力先（省略時は標準出力）/ output file (standard output when omitted)
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// 見出しの言語 / header language
    #[arg(long, value_enum, default_value_t = Lang::Ja)]
    pub headers: Lang,
}

impl ExportTo {
    pub fn header_lang(&self) -> HeaderLang {
        match self.headers {
            Lang::Ja => HeaderLang::Ja,
            Lang::En => HeaderLang::En,
        }
    }

    /// Writes the file, or to standard output (not XLSX: a spreadsheet's
    /// bytes on a terminal help no one).
    pub fn write(&self, bytes: &[u8], lang: Lang) -> anyhow::Result<()> {
        match &self.output {
            Some(path) => std::fs::write(path, bytes).with_context(|| {
                format!(
                    "{} {}",
                    lang.pick("書き込めません:", "cannot write"),
                    path.display()
                )
            })?,
            None => {
                if matches!(self.format, FileFormat::Xlsx) {
                    anyhow::bail!(
                        "{}",
                        lang.pick(
                            "XLSX は -o でファイルを指定してください",
                            "XLSX needs an output file: -o FILE"
                        )
                    );
                }
                use std::io::Write;
                std::io::stdout().write_all(bytes)?;
            }
        }
        Ok(())
    }
}

/// `citykpi kpi status | head` must end quietly when the reader goes away,
/// as other command-line tools do, instead of panicking in `println!` on a
/// broken pipe: Rust ignores SIGPIPE by default, so put back the default.
fn restore_sigpipe() {
    #[cfg(unix)]
    // SAFETY: called first thing in main, before any thread exists; setting a
    // signal's disposition to SIG_DFL has no other precondition.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

// mimalloc instead of glibc's allocator: sqlx's SQLite driver allocates every
// value of every row it reads, and with glibc's malloc the allocations and
// frees of 10^5-row reads were about a third of a cycle recompute (perf).
// The `override` feature makes SQLite's own malloc/free (its copies of the
// values, on the driver's worker thread, freed on ours) go to mimalloc too:
// with glibc those cross-thread frees contended on its arena lock and
// glibc's trimming re-faulted the memory (18,000 page faults per recompute
// at scale 10 against 1,100 now).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    restore_sigpipe();
    let cli = Cli::parse();
    let lang = cli.lang.unwrap_or_else(Lang::from_env);
    if cli.as_of.is_some() {
        citykpi_app::clock::set_today(cli.as_of);
    }
    let filter = tracing_subscriber::EnvFilter::try_from_env("CITYKPI_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    // One JSON object per line for a log collector (several servers'
    // logs in one place); readable lines otherwise.
    if std::env::var("CITYKPI_LOG_FORMAT").is_ok_and(|f| f.trim().eq_ignore_ascii_case("json")) {
        tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init();
    } else {
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init();
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli, lang)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{}: {e:#}", lang.pick("エラー", "error"));
            ExitCode::FAILURE
        }
    }
}

/// `--as-of`: a day as `YYYY-MM-DD`.
fn parse_day(s: &str) -> Result<citykpi_domain::partner::Day, String> {
    citykpi_domain::partner::Day::parse(s.trim()).ok_or_else(|| {
        format!("「{s}」は日付（YYYY-MM-DD）として読めません / cannot read \"{s}\" as a date (YYYY-MM-DD)")
    })
}

/// The day the demo city stands on, its fiscal year and the cycle's year.
fn print_as_of(r: &demo::DemoResult, lang: Lang) {
    println!(
        "{} {} ({} {}, {} {})",
        lang.pick("基準日", "As of"),
        r.as_of,
        lang.pick("年度", "fiscal year"),
        r.current_fy.year(),
        lang.pick("評価対象", "evaluating"),
        r.cycle_fy.year()
    );
}

async fn open_store(db: Option<&str>) -> anyhow::Result<Store> {
    let target = resolve_database(db);
    citykpi_app::open_store(Some(&target))
        .await
        .with_context(|| format!("データベースを開けません / cannot open database {target}"))
}

async fn run(cli: Cli, lang: Lang) -> anyhow::Result<()> {
    match cli.command {
        Command::Demo {
            scale,
            seed,
            partner_members,
            partner_inquiries,
        } => {
            let store = open_store(cli.db.as_deref()).await?;
            let started = std::time::Instant::now();
            let as_of = citykpi_app::clock::today();
            let r = demo::build_demo(&store, scale, seed, as_of).await?;
            if partner_members.is_some() || partner_inquiries.is_some() {
                let s = scale as usize;
                let members = partner_members.unwrap_or(1_300 * s);
                let inquiries = partner_inquiries.unwrap_or(2_000 * s);
                demo::build_partners_sized(&store, seed, members, inquiries, as_of).await?;
                println!(
                    "  {:<14} {members:>9}\n  {:<14} {inquiries:>9}",
                    "partner_members", "partner_inquiries"
                );
            }
            println!(
                "{} ({:.1}s)",
                lang.pick("デモ都市を作成しました", "Built the demo city"),
                started.elapsed().as_secs_f64()
            );
            print_as_of(&r, lang);
            for (what, n) in &r.counts {
                println!("  {what:<14} {n:>9}");
            }
            println!(
                "{}: admin / {}",
                lang.pick("ログイン（デモ用）", "Login (demo only)"),
                r.password
            );
        }
        Command::Import {
            file,
            kind,
            dry_run,
        } => {
            let store = open_store(cli.db.as_deref()).await?;
            let started = std::time::Instant::now();
            match data::import_file(&store, &file, kind, dry_run, "cli").await {
                Ok(r) => output::print_import(&r, dry_run, started.elapsed(), lang),
                Err(AppError::Import(e)) => {
                    // The report lists every problem with its row and column.
                    anyhow::bail!(
                        "{e}\n{}",
                        lang.pick("何も書き込んでいません。", "Nothing was written.")
                    )
                }
                Err(e) => return Err(e.into()),
            }
        }
        Command::Export { kind, to } => {
            let store = open_store(cli.db.as_deref()).await?;
            let bytes = data::export_kind(&store, kind, to.format.into(), to.header_lang()).await?;
            to.write(&bytes, lang)?;
        }
        Command::Kpi {
            command:
                KpiCommand::Status {
                    fy,
                    format,
                    confirmed,
                },
        } => {
            let store = open_store(cli.db.as_deref()).await?;
            let fy = fy.unwrap_or_else(citykpi_app::clock::last_closed_fiscal_year);
            let report = if confirmed {
                status::kpi_status_confirmed(&store, fy).await?
            } else {
                status::kpi_status(&store, fy).await?
            };
            match format {
                OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&report)?),
                OutputFormat::Table => output::print_status(&report, lang),
            }
        }
        Command::Kpi {
            command:
                KpiCommand::Confirm {
                    login,
                    kpi,
                    periods,
                },
        } => {
            let store = open_store(cli.db.as_deref()).await?;
            let who = citykpi_app::confirm::Confirmer::load(&store, &login).await?;
            let periods = periods
                .iter()
                .map(|p| citykpi_domain::observation::Period::parse(p))
                .collect::<Result<Vec<_>, _>>()?;
            let changes = citykpi_app::confirm::confirm_current(&store, &who, &kpi, &periods)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let done = changes
                .iter()
                .filter(|c| **c != citykpi_app::confirm::Change::Unchanged)
                .count();
            println!(
                "{} {done} / {}",
                lang.pick("確認しました", "Confirmed"),
                changes.len()
            );
        }
        Command::Serve { demo, addr } => {
            let store = open_store(cli.db.as_deref()).await?;
            if demo {
                // Never wipe real data: the demo is built only into an empty database.
                if store.is_empty().await? {
                    let as_of = citykpi_app::clock::today();
                    let r = demo::build_demo(&store, 1, demo::DEFAULT_SEED, as_of).await?;
                    println!(
                        "{}: {} ({})",
                        lang.pick("デモ都市を作成しました", "Built the demo city"),
                        resolve_database(cli.db.as_deref()),
                        r.counts
                            .iter()
                            .map(|(k, n)| format!("{k} {n}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                    print_as_of(&r, lang);
                } else {
                    println!(
                        "{}",
                        lang.pick(
                            "データベースにデータがあるため、デモ都市は作成せずそのまま使います",
                            "The database already holds data: serving it as it is (no demo built)"
                        )
                    );
                }
                println!(
                    "{}: admin, strategy-kikaku, finance-zaisei, editor-kenko, viewer / {}",
                    lang.pick("ログイン（デモ用）", "Demo logins"),
                    demo::password()
                );
            }
            if let Some(schedule) = citykpi_app::backup::Schedule::from_env()? {
                println!(
                    "{}: {} ({:.1}h, {} {})",
                    lang.pick("定期バックアップ", "Scheduled backups"),
                    schedule.dir.display(),
                    schedule.every.as_secs_f64() / 3600.0,
                    lang.pick("保存数", "keep"),
                    schedule.keep
                );
                // The server takes them (citykpi_web::jobs), one server per turn.
            }
            citykpi_web::serve(store, addr).await?;
        }
        Command::Evidence { command } => evidence::run(command, cli.db.as_deref()).await?,
        Command::Forecast(args) => evidence::run_forecast(args)?,
        Command::Cycle { command } => {
            let store = open_store(cli.db.as_deref()).await?;
            cycle::run_cycle(&store, command, lang).await?;
        }
        Command::Compare { command } => compare::run(command, cli.db.as_deref(), lang).await?,
        Command::Partners { command } => {
            let store = open_store(cli.db.as_deref()).await?;
            partners::run(&store, command, lang).await?;
        }
        Command::Ngsi { command } => {
            let store = open_store(cli.db.as_deref()).await?;
            ngsi::run(&store, command, lang).await?;
        }
        Command::Restructure { command } => {
            let store = open_store(cli.db.as_deref()).await?;
            cycle::run_restructure(&store, command, lang).await?;
        }
        Command::Report { command } => {
            let store = open_store(cli.db.as_deref()).await?;
            report::run(&store, command, lang).await?;
        }
        Command::Backup { output } => {
            backup::run_backup(
                &resolve_database(cli.db.as_deref()),
                output.as_deref(),
                lang,
            )
            .await?
        }
        Command::Restore { file } => {
            backup::run_restore(&file, &resolve_database(cli.db.as_deref()), lang).await?
        }
        Command::Migrate { to } => {
            backup::run_migrate(&resolve_database(cli.db.as_deref()), &to, lang).await?
        }
        Command::Optimise(args) => {
            let store = open_store(cli.db.as_deref()).await?;
            optimise::run(&store, args, lang).await?;
        }
    }
    Ok(())
}
