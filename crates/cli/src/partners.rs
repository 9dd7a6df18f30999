//! `citykpi partners …`: the partnership lists as CSV/XLSX/JSON files (the
//! same writer and audit row as the web's downloads) and the retention rule
//! run as a batch job, e.g. nightly from cron or a task scheduler on LGWAN.
//! Both act as the system administrator "cli".

use citykpi_app::Store;
use citykpi_app::partners::{self as svc, PartnerTable, Viewer};
use citykpi_domain::org::Role;
use clap::Subcommand;

use crate::ExportTo;
use crate::output::{Lang, OutputFormat};

#[derive(Debug, Subcommand)]
pub enum PartnersCommand {
    /// 一覧を書き出す（監査ログに記録）/ export a list (recorded in the audit log)
    Export {
        /// members, inquiries, proposals, menu, teams, demonstrations, pr_plans
        #[arg(value_parser = parse_table)]
        table: PartnerTable,
        #[command(flatten)]
        to: ExportTo,
    },
    /// 保存期間を過ぎた個人情報を消去する（相談・不採択の民間提案）/ erase personal data past the retention period (inquiries, rejected proposals)
    EraseExpired {
        /// 保存期間（日）。省略時は市の設定、なければ365日 / retention period in days (default: the city's setting, else 365)
        #[arg(long, allow_hyphen_values = true)]
        days: Option<i64>,
        #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
        format: OutputFormat,
    },
}

fn parse_table(s: &str) -> Result<PartnerTable, String> {
    PartnerTable::parse(s).ok_or_else(|| {
        let all: Vec<&str> = PartnerTable::ALL.iter().map(|t| t.code()).collect();
        format!(
            "「{s}」は一覧の名前ではありません（{}） / not a list: {}",
            all.join(", "),
            all.join(", ")
        )
    })
}

fn cli_viewer() -> Viewer {
    Viewer {
        login: "cli".into(),
        role: Role::Admin,
        department: String::new(),
    }
}

pub async fn run(store: &Store, command: PartnersCommand, lang: Lang) -> anyhow::Result<()> {
    match command {
        PartnersCommand::Export { table, to } => {
            let export = svc::export(
                store,
                &cli_viewer(),
                table,
                to.format.into(),
                to.header_lang(),
            )
            .await?;
            to.write(&export.bytes, lang)?;
            if to.output.is_some() {
                eprintln!(
                    "{}: {} {}{}",
                    lang.pick(table.label_ja(), table.label_en()),
                    export.rows,
                    lang.pick("行", "rows"),
                    if export.personal {
                        lang.pick("（個人情報を含みます）", " (holds personal data)")
                    } else {
                        ""
                    }
                );
            }
        }
        PartnersCommand::EraseExpired { days, format } => {
            let erased = svc::erase_expired_after(store, days, "cli").await?;
            match format {
                OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&erased)?),
                OutputFormat::Table => println!(
                    "{}: {} {}, {} {}",
                    lang.pick("個人情報を消去しました", "Personal data erased"),
                    lang.pick("相談", "inquiries"),
                    erased.inquiries.len(),
                    lang.pick("民間提案", "proposals"),
                    erased.proposals.len(),
                ),
            }
        }
    }
    Ok(())
}
