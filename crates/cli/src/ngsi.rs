//! `citykpi ngsi import …`: measurements of a city data platform (NGSI-LD
//! context broker, or answers saved as files) stored as a KPI's actuals in
//! one transaction (see `citykpi_app::ngsi`).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use citykpi_app::Store;
use citykpi_app::ngsi::{self, BrokerQuery, MeasurementSpec};
use citykpi_domain::partner::ngsi::{Aggregate, Granularity};
use clap::{Args, Subcommand};

use crate::output::{Lang, OutputFormat};

#[derive(Debug, Subcommand)]
pub enum NgsiCommand {
    /// NGSI-LDのエンティティ（ファイルまたはブローカー）からKPIの実績値を取り込む / store NGSI-LD measurements (files or a broker) as a KPI's actuals
    Import(Box<ImportArgs>),
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// ブローカーの応答を保存したJSON（複数可）。省略時はブローカーから取得 / saved broker answers (JSON); fetched from the broker when none is given
    files: Vec<PathBuf>,
    /// 取り込み先のKPIコード / the KPI the actuals belong to
    #[arg(long)]
    kpi: String,
    /// 測定値の属性（例 NO2, occupancy）/ the measured attribute (e.g. NO2, occupancy)
    #[arg(long = "attr")]
    attribute: String,
    /// ブローカーのURL（省略時は設定 ngsi_ld_broker_url）/ broker base URL (default: the setting ngsi_ld_broker_url)
    #[arg(long)]
    broker: Option<String>,
    /// エンティティの型（ブローカーから取得するとき必須）/ entity type (needed to fetch from a broker)
    #[arg(long = "type")]
    entity_type: Option<String>,
    /// 時系列APIで取得する期間の始め（RFC 3339）/ temporal API: from (RFC 3339)
    #[arg(long, requires = "to")]
    from: Option<String>,
    /// 時系列APIで取得する期間の終わり / temporal API: to
    #[arg(long, requires = "from")]
    to: Option<String>,
    /// NGSILD-Tenant
    #[arg(long)]
    tenant: Option<String>,
    /// JSON-LD @context のURL（Linkヘッダーで送る）/ JSON-LD @context URL, sent as a Link header
    #[arg(long)]
    context: Option<String>,
    /// 集計の単位: month（月）, fy（年度）/ period of the actuals: month or fy
    #[arg(long, default_value = "month", value_parser = parse_granularity)]
    period: Granularity,
    /// 集計方法: mean, sum, last, min, max（平均・合計・期末値・最小・最大）/ how samples become an actual
    #[arg(long, default_value = "mean", value_parser = parse_aggregate)]
    aggregate: Aggregate,
    /// 地域コード（省略時は市の団体コード）/ area code (default: the city's)
    #[arg(long)]
    area: Option<String>,
    /// 単位コード（UN/CEFACT、例 GQ）。指定時はすべての値がこの単位であること / UN/CEFACT unit code every sample must carry
    #[arg(long)]
    unit: Option<String>,
    /// 観測日時を持たない値（keyValues）の日時 / the instant of values without one (keyValues)
    #[arg(long)]
    observed_at: Option<String>,
    /// 検査のみで書き込まない / check only, write nothing
    #[arg(long)]
    dry_run: bool,
    /// 取得のタイムアウト（秒）/ fetch timeout in seconds
    #[arg(long, default_value_t = 30)]
    timeout: u64,
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    format: OutputFormat,
}

fn parse_granularity(s: &str) -> Result<Granularity, String> {
    Granularity::parse(s).ok_or_else(|| {
        format!("「{s}」は集計の単位ではありません（month, fy） / not a period: month or fy")
    })
}

fn parse_aggregate(s: &str) -> Result<Aggregate, String> {
    Aggregate::parse(s).ok_or_else(|| {
        format!(
            "「{s}」は集計方法ではありません（mean, sum, last, min, max） / not an aggregate: mean, sum, last, min, max"
        )
    })
}

pub async fn run(store: &Store, command: NgsiCommand, lang: Lang) -> anyhow::Result<()> {
    let NgsiCommand::Import(a) = command;
    let mut spec = MeasurementSpec {
        kpi_code: a.kpi.trim().to_string(),
        attribute: a.attribute.trim().to_string(),
        area_code: a.area.clone(),
        granularity: a.period,
        aggregate: a.aggregate,
        unit_code: a.unit.clone(),
        observed_at: a.observed_at.clone(),
        source: String::new(),
    };
    let outcome = if a.files.is_empty() {
        let base = ngsi::broker_url(store, a.broker.as_deref()).await?;
        let Some(entity_type) = a.entity_type.as_deref().filter(|t| !t.trim().is_empty()) else {
            anyhow::bail!(
                "{}",
                lang.pick(
                    "ブローカーから取得するには --type でエンティティの型を指定してください",
                    "give the entity type with --type to fetch from the broker"
                )
            );
        };
        let mut q = BrokerQuery::new(&base, entity_type);
        q.attrs = vec![spec.attribute.clone()];
        q.between = a.from.clone().zip(a.to.clone());
        q.tenant = a.tenant.clone();
        q.context = a.context.clone();
        q.timeout = Duration::from_secs(a.timeout.max(1));
        spec.source = format!("{} type={entity_type}", q.base_url);
        ngsi::import_from_broker(store, &q, &spec, "cli", a.dry_run).await?
    } else {
        let mut docs = Vec::with_capacity(a.files.len());
        for f in &a.files {
            docs.push(std::fs::read_to_string(f).with_context(|| {
                format!(
                    "{} {}",
                    lang.pick("読めません:", "cannot read"),
                    f.display()
                )
            })?);
        }
        spec.source = a
            .files
            .iter()
            .filter_map(|f| f.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(", ");
        ngsi::import_documents(store, &docs, &spec, "cli", a.dry_run).await?
    };
    match a.format {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&outcome)?),
        OutputFormat::Table => {
            println!(
                "{} {}: {} {}, {} {}",
                spec.kpi_code,
                spec.attribute,
                outcome.samples,
                lang.pick("件の値", "samples"),
                outcome.entities.len(),
                lang.pick("エンティティ", "entities"),
            );
            for v in &outcome.values {
                println!(
                    "  {:<8} {:>14} ({})",
                    v.period.to_string(),
                    v.value,
                    v.count
                );
            }
            match outcome.counts {
                Some(c) => println!(
                    "{}: {} {}, {} {}, {} {}",
                    lang.pick("保存しました", "Stored"),
                    lang.pick("追加", "inserted"),
                    c.inserted,
                    lang.pick("更新", "updated"),
                    c.updated,
                    lang.pick("変更なし", "unchanged"),
                    c.unchanged
                ),
                None => println!(
                    "{}",
                    lang.pick(
                        "検査のみ（何も書き込んでいません）",
                        "Checked only (nothing written)"
                    )
                ),
            }
        }
    }
    Ok(())
}
