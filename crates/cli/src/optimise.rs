//! `citykpi optimise`: the budget what-if (予算の試算) of a budget year,
//! the same service as the web page and the API (`citykpi_app::whatif`):
//! the optimal allocation against the requests, the totals per department,
//! the programs that change and why, and the shadow prices.

use citykpi_app::Store;
use citykpi_app::whatif::{self, Outcome, RulesInput};
use citykpi_domain::FiscalYear;
use citykpi_domain::money::format_yen;

use crate::output::{Lang, OutputFormat};

#[derive(Debug, clap::Args)]
pub struct OptimiseArgs {
    /// 予算年度（例: 2026, 令和8年度, R8）/ the budget year (2026, 令和8年度, R8 …)
    #[arg(long, value_parser = crate::parse_fy)]
    pub fy: FiscalYear,
    /// 予算総額（円。省略時は要求額〔未要求は前年度予算〕の合計）/ total budget in yen (default: the requests, else last year's budget, summed)
    #[arg(long, value_parser = parse_yen)]
    pub budget: Option<i64>,
    /// 部局ごとの廃止の上限 / at most this many abolitions per department
    #[arg(long)]
    pub max_abolitions: Option<u32>,
    /// 評価が「拡充」以外の事業にも拡充を認める（「縮小」を除く）/ offer expansion to every program not evaluated "reduce"
    #[arg(long)]
    pub expand_all: bool,
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
    /// この名前で試算を保存する / save the result as a scenario with this name
    #[arg(long)]
    pub save: Option<String>,
}

fn parse_yen(s: &str) -> Result<i64, String> {
    citykpi_domain::text::parse_yen(s).map_err(|e| e.to_string())
}

pub async fn run(store: &Store, args: OptimiseArgs, lang: Lang) -> anyhow::Result<()> {
    let defaults = whatif::default_rules(store, args.fy)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let rules = RulesInput {
        budget_yen: args.budget,
        max_abolitions: args.max_abolitions,
        expand_all: args.expand_all.then_some(true),
        ..RulesInput::default()
    }
    .over(defaults);
    let outcome = whatif::run(store, args.fy, &rules).await.map_err(|e| {
        // An infeasible rule set names its constraint (field and message).
        let fields = e.field_errors();
        if fields.is_empty() {
            anyhow::anyhow!("{e}")
        } else {
            anyhow::anyhow!(
                "{}",
                fields
                    .iter()
                    .map(|f| format!("{}: {}", f.field, lang.pick(&f.ja, &f.en)))
                    .collect::<Vec<_>>()
                    .join("\n")
            )
        }
    })?;
    let saved = match &args.save {
        Some(name) => Some(
            whatif::save_scenario(store, "cli", name, &outcome)
                .await
                .map_err(|e| {
                    let fields = e.field_errors();
                    match fields.first() {
                        Some(f) => anyhow::anyhow!("{}: {}", f.field, lang.pick(&f.ja, &f.en)),
                        None => anyhow::anyhow!("{e}"),
                    }
                })?,
        ),
        None => None,
    };
    match args.format {
        OutputFormat::Json => {
            let mut v = serde_json::to_value(&outcome)?;
            if let (Some(id), Some(obj)) = (saved, v.as_object_mut()) {
                obj.insert("scenario_id".into(), id.into());
            }
            println!("{}", serde_json::to_string_pretty(&v)?);
        }
        OutputFormat::Table => {
            print_table(&outcome, lang);
            if let Some(id) = saved {
                println!(
                    "{} #{id}",
                    lang.pick("試算を保存しました", "Saved the scenario")
                );
            }
        }
    }
    Ok(())
}

/// Thousands of yen with separators (千円), as budget tables are printed.
fn sen(yen: i64) -> String {
    format_yen(yen / 1000)
}

fn print_table(o: &Outcome, lang: Lang) {
    let ja = matches!(lang, Lang::Ja);
    println!(
        "{} {}",
        if ja { o.fy.label_ja() } else { o.fy.label_en() },
        lang.pick("予算の試算（単位: 千円）", "budget what-if (thousand yen)")
    );
    println!(
        "  {}: {}  {}: {}  {}: {}",
        lang.pick("予算総額", "budget"),
        sen(o.rules.budget_yen),
        lang.pick("要求額計", "requested"),
        sen(o.requested_yen),
        lang.pick("最適配分", "optimal"),
        sen(o.optimal_cost_yen)
    );
    println!(
        "  {}: {:.6}  ({}: {:.6})",
        lang.pick("寄与（目的関数）", "contribution (objective)"),
        o.optimal_contribution,
        lang.pick("現状", "current"),
        o.current_contribution
    );
    match (o.shadow_price_per_million_yen, o.yen_per_contribution) {
        (Some(p), Some(y)) => println!(
            "  {}: {p:.6} / {}  ({} {})",
            lang.pick("予算の潜在価格", "budget shadow price"),
            lang.pick("100万円", "¥1M"),
            format_yen(y.round() as i64),
            lang.pick("円／寄与1", "yen per unit of contribution")
        ),
        (Some(p), None) => println!(
            "  {}: {p:.6}",
            lang.pick("予算の潜在価格", "budget shadow price")
        ),
        _ => println!(
            "  {}: —",
            lang.pick("予算の潜在価格", "budget shadow price")
        ),
    }
    println!(
        "  {}: {}  ({:.3} s)",
        lang.pick("最適性", "optimality"),
        if o.proven_optimal {
            lang.pick("証明済み", "proven").to_string()
        } else {
            format!(
                "{} {:.2e}",
                lang.pick("未証明 ギャップ", "not proven, gap"),
                o.relative_gap
            )
        },
        o.solve_seconds
    );
    println!();
    println!(
        "{:<8} {:>14} {:>14} {:>14} {:>14} {:>4} {:>10}",
        lang.pick("部局", "dept"),
        lang.pick("要求", "requested"),
        lang.pick("現状", "current"),
        lang.pick("最適", "optimal"),
        lang.pick("枠", "ceiling"),
        lang.pick("廃止", "abol"),
        lang.pick("枠の価格", "ceil.price")
    );
    for d in &o.departments {
        println!(
            "{:<8} {:>14} {:>14} {:>14} {:>14} {:>4} {:>10}",
            d.department_code,
            sen(d.requested),
            sen(d.current_cost),
            sen(d.optimal_cost),
            d.ceiling.map(sen).unwrap_or_else(|| "—".into()),
            d.abolitions,
            d.shadow_price_per_million_yen
                .map(|p| format!("{p:.4}"))
                .unwrap_or_else(|| "—".into())
        );
    }
    println!();
    println!(
        "{} ({})",
        lang.pick("変更する事業", "Programs that change"),
        o.changed().count()
    );
    for p in o.changed() {
        println!(
            "  {} {} [{}] {} → {}  {}",
            p.program_code,
            p.department_code,
            if ja {
                p.kind.label_ja()
            } else {
                whatif::option_str(p.kind)
            },
            sen(p.current_cost),
            sen(p.cost_yen),
            lang.pick(&p.reason_ja, &p.reason_en)
        );
    }
}
