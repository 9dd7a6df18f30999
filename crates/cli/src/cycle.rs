//! `citykpi cycle …` and `citykpi restructure …`: the yearly management
//! cycle's status and the restructuring list, printed as tables or JSON.

use citykpi_app::Store;
use citykpi_app::cycle::{self, CycleStatus};
use citykpi_app::notify;
use citykpi_domain::FiscalYear;
use citykpi_domain::cycle::RestructureEntry;
use citykpi_domain::cycle::lineage::LineageKind;
use citykpi_domain::money::format_yen;
use citykpi_domain::text::display_width;
use clap::Subcommand;

use crate::output::{Lang, OutputFormat};

#[derive(Debug, Subcommand)]
pub enum CycleCommand {
    /// 各段階の状況と未了の作業 / each stage's state and what is still owed
    Status {
        /// 評価年度（既定: 直近に終了した年度）/ the fiscal year evaluated (default: the last one ended)
        #[arg(long, value_parser = crate::parse_fy)]
        fy: Option<FiscalYear>,
        #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
        format: OutputFormat,
    },
    /// サイクル全体を再計算する（進捗・再編候補・予算集計）/ recompute the whole cycle
    Recompute {
        #[arg(long, value_parser = crate::parse_fy)]
        fy: Option<FiscalYear>,
        #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
        format: OutputFormat,
    },
    /// 期限のある作業をメールで通知する（SMTP設定が有効なとき・各段階1回まで）/ mail the due-work notices (when SMTP is enabled; once per user and stage)
    Notify {
        /// サイクルの評価年度 / the cycle's evaluated fiscal year
        #[arg(long, value_parser = crate::parse_fy)]
        fy: FiscalYear,
        /// 送らずに宛先と内容だけ表示する / show who would get what, send nothing
        #[arg(long)]
        dry_run: bool,
        #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
        format: OutputFormat,
    },
}

#[derive(Debug, Subcommand)]
pub enum RestructureCommand {
    /// 事業再編の候補一覧（理由付き）/ the ranked restructuring list with the reason for each flag
    List {
        #[arg(long, value_parser = crate::parse_fy)]
        fy: Option<FiscalYear>,
        #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
        format: OutputFormat,
    },
    /// 統合・分割・廃止・コード変更を記録する（旧事業は翌年度末で終了）/ record a merge, split, abolition or rename (the old programs end with the running year)
    Record {
        /// サイクルの評価年度 / the cycle's evaluated fiscal year
        #[arg(long, value_parser = crate::parse_fy)]
        fy: FiscalYear,
        /// merge | split | abolish | rename（統合・分割・廃止）
        #[arg(long, value_parser = parse_kind)]
        kind: LineageKind,
        /// 元の事業（繰り返し可）/ program(s) replaced (repeatable)
        #[arg(long = "from", required = true)]
        from: Vec<String>,
        /// 後継事業（先に登録しておく）/ successor program(s), registered first
        #[arg(long = "to")]
        to: Vec<String>,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// 事業の系譜とKPI寄与度 / a program's lineage and the KPI contributions along it
    History {
        code: String,
        #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
        format: OutputFormat,
    },
}

fn parse_kind(s: &str) -> Result<LineageKind, String> {
    LineageKind::parse(s).ok_or_else(|| {
        format!("「{s}」は merge / split / abolish / rename のいずれか / must be merge, split, abolish or rename")
    })
}

fn pad(s: &str, w: usize) -> String {
    let mut out = s.to_string();
    for _ in display_width(s)..w {
        out.push(' ');
    }
    out
}

fn default_fy(fy: Option<FiscalYear>) -> FiscalYear {
    fy.unwrap_or_else(citykpi_app::clock::last_closed_fiscal_year)
}

pub async fn run_cycle(store: &Store, command: CycleCommand, lang: Lang) -> anyhow::Result<()> {
    match command {
        CycleCommand::Status { fy, format } => {
            let status = cycle::cycle_status(store, default_fy(fy)).await?;
            match format {
                OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&status)?),
                OutputFormat::Table => print_status(&status, lang),
            }
        }
        CycleCommand::Recompute { fy, format } => {
            let r = cycle::recompute(store, default_fy(fy)).await?;
            match format {
                OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&r)?),
                OutputFormat::Table => {
                    print_status(&r.status, lang);
                    println!();
                    println!(
                        "{}: {} / {}: {} {} / {} {} ms ({} {} ms)",
                        lang.pick("再編候補", "Restructuring candidates"),
                        r.restructure.len(),
                        lang.pick("予算要求合計", "Requested total"),
                        format_yen(r.compiled.total.requested),
                        lang.pick("円", "yen"),
                        lang.pick("再計算時間", "recomputed in"),
                        r.elapsed_ms,
                        lang.pick("うち読込", "reading"),
                        r.load_ms
                    );
                }
            }
        }
        CycleCommand::Notify {
            fy,
            dry_run,
            format,
        } => {
            let report = notify::notify(store, "cli", fy, dry_run)
                .await
                .map_err(|e| match e {
                    notify::NotifyError::NotRunning { .. } => anyhow::anyhow!("--fy: {e}"),
                    other => anyhow::anyhow!("{other}"),
                })?;
            match format {
                OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&report)?),
                OutputFormat::Table => print_notify(&report, lang),
            }
            if report.failed() > 0 {
                anyhow::bail!(
                    "{} {}",
                    report.failed(),
                    lang.pick(
                        "件の送信に失敗しました（上の一覧を参照）",
                        "mail(s) failed (see the list above)"
                    )
                );
            }
        }
    }
    Ok(())
}

fn print_notify(r: &notify::NotifyReport, lang: Lang) {
    let head = match (lang, r.dry_run) {
        (Lang::Ja, true) => format!(
            "{} のメール通知（試行・送信しません）: {}人",
            r.fy.label_ja(),
            r.deliveries.len()
        ),
        (Lang::Ja, false) => format!(
            "{} のメール通知: 送信 {}人・失敗 {}人",
            r.fy.label_ja(),
            r.sent(),
            r.failed()
        ),
        (Lang::En, true) => format!(
            "{} e-mail notices (dry run, nothing sent): {} recipient(s)",
            r.fy.label_en(),
            r.deliveries.len()
        ),
        (Lang::En, false) => format!(
            "{} e-mail notices: {} sent, {} failed",
            r.fy.label_en(),
            r.sent(),
            r.failed()
        ),
    };
    println!("{head}");
    if r.dry_run && !r.enabled {
        println!(
            "{}",
            lang.pick(
                "（メール通知は無効です。送信するには管理画面で有効にしてください）",
                "(e-mail notices are off: turn them on in the admin page to send)"
            )
        );
    }
    for d in &r.deliveries {
        let stages: Vec<String> = d
            .notices
            .iter()
            .map(|n| format!("{}:{}", n.stage_number, n.count))
            .collect();
        let outcome = match &d.outcome {
            notify::Outcome::Planned => lang.pick("送信予定", "planned").to_string(),
            notify::Outcome::Sent => lang.pick("送信済み", "sent").to_string(),
            notify::Outcome::Failed { error } => {
                format!("{}: {error}", lang.pick("失敗", "FAILED"))
            }
        };
        println!(
            "  {} <{}> [{}] {}",
            pad(&d.login, 24),
            d.email,
            stages.join(" "),
            outcome
        );
    }
    if !r.without_email.is_empty() {
        println!(
            "{}: {}",
            lang.pick(
                "メールアドレスのない利用者",
                "Users without an e-mail address"
            ),
            r.without_email.join(", ")
        );
    }
    if !r.already_sent.is_empty() {
        println!(
            "{}: {}",
            lang.pick(
                "通知済み（同じ段階は再送しません）",
                "Already notified (a stage is mailed once)"
            ),
            r.already_sent.join(", ")
        );
    }
}

pub async fn run_restructure(
    store: &Store,
    command: RestructureCommand,
    lang: Lang,
) -> anyhow::Result<()> {
    match command {
        RestructureCommand::List { fy, format } => {
            let list = cycle::restructure(store, default_fy(fy)).await?;
            match format {
                OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&list)?),
                OutputFormat::Table => print_restructure(&list, default_fy(fy), lang),
            }
        }
        RestructureCommand::Record {
            fy,
            kind,
            from,
            to,
            note,
        } => {
            let id = cycle::restructure_programs(store, "cli", fy, kind, &from, &to, &note)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "{} #{id}: {} → {}",
                lang.pick("事業再編を記録しました", "Recorded restructuring"),
                from.join(", "),
                if to.is_empty() {
                    "-".to_string()
                } else {
                    to.join(", ")
                }
            );
        }
        RestructureCommand::History { code, format } => {
            let h = cycle::program_history(store, &code).await?;
            match format {
                OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&h)?),
                OutputFormat::Table => {
                    println!("{}: {}", lang.pick("系譜", "Lineage"), h.group.join(", "));
                    for s in &h.steps {
                        println!(
                            "  {} {} {} → {} ({})",
                            s.fy,
                            s.kind,
                            s.from_codes.join("+"),
                            s.to_codes.join("+"),
                            s.note
                        );
                    }
                    for l in &h.links {
                        println!("  {} → {} {}", l.program_code, l.kpi_code, l.weight);
                    }
                }
            }
        }
    }
    Ok(())
}

fn print_status(s: &CycleStatus, lang: Lang) {
    let title = match lang {
        Lang::Ja => format!(
            "{}の進行管理サイクル（{}予算の編成）",
            s.fy.label_ja(),
            s.budget_fy.label_ja()
        ),
        Lang::En => format!(
            "Management cycle of {} (building the {} budget)",
            s.fy.label_en(),
            s.budget_fy.label_en()
        ),
    };
    println!("{title}");
    if !s.started {
        println!(
            "{}",
            lang.pick(
                "このサイクルはまだ開始されていません（下は開始した場合の未了作業）",
                "This cycle has not been started (below: what would be owed)"
            )
        );
    } else if s.state == "closed" {
        println!(
            "{}",
            lang.pick("このサイクルは締め切られています", "This cycle is closed")
        );
    }
    println!(
        "{}  {}  {}  {}",
        pad(lang.pick("段階", "Stage"), 32),
        pad(lang.pick("締切", "Deadline"), 10),
        pad(lang.pick("状態", "State"), 8),
        lang.pick("未了", "Owed")
    );
    for st in &s.stages {
        let label = format!("{}. {}", st.number, lang.pick(st.label_ja, st.label_en));
        let state = lang.pick(st.record.state.label_ja(), st.record.state.label_en());
        let deadline = st
            .record
            .deadline
            .map(|d| d.to_string())
            .unwrap_or_else(|| "-".into());
        let mut line = format!(
            "{}  {}  {}  {:>5}",
            pad(&label, 32),
            pad(&deadline, 10),
            pad(state, 8),
            st.owed
        );
        if !st.record.reason.is_empty() {
            line.push_str(&format!("  ({})", st.record.reason));
        }
        println!("{line}");
    }
    let sheets: Vec<String> = s
        .sheets
        .iter()
        .map(|(st, n)| format!("{} {n}", lang.pick(st.label_ja(), st.label_en())))
        .collect();
    println!(
        "{}: {} / {} {} / {}: {}",
        lang.pick("評価シート", "Evaluation sheets"),
        sheets.join(", "),
        lang.pick("対象事業", "programs evaluated"),
        s.programs_evaluated,
        lang.pick("予算要求", "budget requests"),
        s.budget_requests
    );
    // The first few owed items per stage, so the table stays readable.
    for st in &s.stages {
        let items: Vec<_> = s
            .owed
            .iter()
            .filter(|o| o.stage == st.record.stage)
            .collect();
        if items.is_empty() {
            continue;
        }
        println!("[{}. {}]", st.number, lang.pick(st.label_ja, st.label_en));
        for o in items.iter().take(5) {
            let who = o
                .section_code
                .clone()
                .unwrap_or_else(|| lang.pick("企画・財政", "strategy/finance").to_string());
            let what = match lang {
                Lang::Ja => o.item.describe_ja(),
                Lang::En => o.item.describe_en(),
            };
            println!("  {}  {what}", pad(&who, 10));
        }
        if items.len() > 5 {
            println!("  … {} {}", items.len() - 5, lang.pick("件ほか", "more"));
        }
    }
}

fn print_restructure(list: &[RestructureEntry], fy: FiscalYear, lang: Lang) {
    match lang {
        Lang::Ja => println!("{} 事業再編の候補: {}件", fy.label_ja(), list.len()),
        Lang::En => println!("{} restructuring candidates: {}", fy.label_en(), list.len()),
    }
    for e in list {
        let cost = e.full_cost.map(format_yen).unwrap_or_else(|| "-".into());
        let per = e
            .contribution_per_100m_yen
            .map(|v| format!("{v:.2}"))
            .unwrap_or_else(|| "-".into());
        println!(
            "{:>4}. {} {}  {} {}  {} {}",
            e.rank,
            e.program_code,
            e.name_ja,
            lang.pick("フルコスト", "full cost"),
            cost,
            lang.pick("1億円あたり寄与度", "contribution per ¥100M"),
            per
        );
        for f in &e.flags {
            let (label, text) = match lang {
                Lang::Ja => (f.kind.label_ja(), &f.explanation_ja),
                Lang::En => (f.kind.label_en(), &f.explanation_en),
            };
            println!("      - {label}: {text}");
        }
    }
}
