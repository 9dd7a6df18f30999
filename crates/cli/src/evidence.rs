//! `citykpi evidence synth|did|its` and `citykpi forecast`: the evidence
//! (EBPM) analytics on a panel CSV or a typed series, and `citykpi evidence
//! run --kpi CODE` on the data stored in the database. This module reads the
//! file and prints; the computation is `citykpi_app::evidence`'s service,
//! the same the web workbench and the API call.

use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, bail};
use citykpi_analytics::forecast::{
    ForecastRequest, ProvisionalPolicy, Target, YearPoint, forecast_kpi,
};
use citykpi_analytics::panel::{Panel, PanelSpec, Table};
use citykpi_analytics::synth::{PredictorSpec, WeightSolver};
use citykpi_app::evidence::engine::{self, DidInput, ItsInput, SynthInput};
use citykpi_app::evidence::{EvidenceReport, Method, StoredRequest};
use citykpi_domain::evidence::LinkEvidence;
use citykpi_domain::kpi::Direction;
use citykpi_domain::program::EvidenceGrade;
use serde_json::{Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum EvidenceFormat {
    #[default]
    Table,
    Json,
}

#[derive(Debug, clap::Subcommand)]
pub enum EvidenceCommand {
    /// 合成コントロール法 / synthetic control (Abadie)
    Synth(SynthArgs),
    /// 差の差分法 / difference-in-differences (2×2 and two-way fixed effects)
    Did(DidArgs),
    /// 分断時系列分析 / interrupted time series (segmented regression)
    Its(ItsArgs),
    /// 保存データで推定（KPIの実績・比較団体）/ estimate on the stored data of a KPI (city and comparison areas)
    Run(RunArgs),
    /// 事業→KPIの寄与に記録された根拠の一覧 / evidence recorded on program–KPI links
    List(ListArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MethodArg {
    /// 合成コントロール法 / synthetic control
    Synth,
    /// 差の差分法 / difference-in-differences
    Did,
    /// 分断時系列分析 / interrupted time series
    Its,
}

/// `citykpi evidence run --kpi CODE`: the workbench's service on stored data.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// 成果変数のKPI（取り込んだ統計はそのKPIコードで）/ the outcome KPI (an imported statistic by the KPI code it is stored under)
    #[arg(long)]
    pub kpi: String,
    #[arg(long, value_enum, default_value_t = MethodArg::Synth)]
    pub method: MethodArg,
    /// 事業（開始年度が介入年度の既定値、--save の保存先）/ the program (its start year is the default treatment year; --save saves on its link)
    #[arg(long)]
    pub program: Option<String>,
    /// 介入年度 / first treated fiscal year
    #[arg(long = "treatment-year")]
    pub treatment_year: Option<i32>,
    /// 比較団体の団体コード（複数可。省略時は保存されている全団体）/ comparison area codes (default: every stored area)
    #[arg(long = "unit", num_args = 1..)]
    pub units: Vec<String>,
    /// 予測変数とするKPI / KPI codes used as predictors (synthetic control)
    #[arg(long = "predictor", num_args = 1..)]
    pub predictors: Vec<String>,
    /// プラシーボ検定 / placebo tests (synthetic control)
    #[arg(long)]
    pub placebos: bool,
    /// 欠測のある対照を除く / drop donors with missing years instead of refusing
    #[arg(long = "drop-incomplete")]
    pub drop_incomplete: bool,
    /// 結果を事業→KPIの寄与に根拠として保存（--program が必要）/ save the result as evidence on the program–KPI link (needs --program)
    #[arg(long, requires = "program")]
    pub save: bool,
    /// 根拠の等級 A–D / evidence grade A–D
    #[arg(long, requires = "save")]
    pub grade: Option<String>,
    #[arg(long, requires = "save")]
    pub note: Option<String>,
    #[arg(long, value_enum, default_value_t = EvidenceFormat::Table)]
    pub format: EvidenceFormat,
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// このKPIの根拠 / evidence on this KPI's links
    #[arg(long)]
    pub kpi: Option<String>,
    /// この事業の根拠 / evidence on this program's links
    #[arg(long)]
    pub program: Option<String>,
    #[arg(long, value_enum, default_value_t = EvidenceFormat::Table)]
    pub format: EvidenceFormat,
}

/// Recording a result as evidence on a program–KPI link.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct AttachArgs {
    /// 結果を事業→KPIの寄与に根拠として記録する（PROGRAM:KPI）/ record the result as evidence on the program–KPI link
    #[arg(long, value_name = "PROGRAM:KPI")]
    pub attach: Option<String>,
    /// 根拠の等級 A–D（既定: 因果推定はA）/ evidence grade A–D (default: A for causal designs)
    #[arg(long, requires = "attach")]
    pub grade: Option<String>,
    /// 根拠に付ける注記 / a note kept with the evidence
    #[arg(long, requires = "attach")]
    pub note: Option<String>,
}

/// The columns of a long-format panel CSV (`;` or `,` separated).
#[derive(Debug, Clone, clap::Args)]
pub struct PanelArgs {
    /// パネルCSV（縦持ち）/ the panel CSV in long format
    #[arg(long)]
    pub panel: PathBuf,
    /// 単位（自治体など）の列 / the unit column
    #[arg(long)]
    pub unit: String,
    /// 時点（年）の列 / the time column
    #[arg(long)]
    pub time: String,
    /// 成果変数の列 / the outcome column
    #[arg(long)]
    pub outcome: String,
}

#[derive(Debug, clap::Args)]
pub struct SynthArgs {
    #[command(flatten)]
    pub panel: PanelArgs,
    /// 介入を受けた単位 / the treated unit
    #[arg(long)]
    pub treated: String,
    /// 介入開始の時点 / first treated period
    #[arg(long = "treatment-time")]
    pub treatment_time: i64,
    /// 対照から除く単位（複数可）/ units to leave out of the donor pool
    #[arg(long, num_args = 1..)]
    pub exclude: Vec<String>,
    /// 予測変数 COL:FROM-TO[:STEP]（期間平均）。省略時は介入前の成果変数 / predictor: mean of COL over FROM..TO every STEP; default: each pre-period outcome
    #[arg(long)]
    pub predictor: Vec<String>,
    /// V を選ぶ期間 FROM-TO（既定: 介入前の全期間）/ period whose outcome fit chooses V
    #[arg(long = "fit-period")]
    pub fit_period: Option<String>,
    /// プラシーボ検定（各対照を処置群として再推定）/ in-space placebo tests
    #[arg(long)]
    pub placebos: bool,
    /// 成果変数のみの推定の解法: exact（厳密QP）か synthdid（参照実装互換）/ outcome-only solver
    #[arg(long, default_value = "exact", value_parser = parse_solver)]
    pub solver: WeightSolver,
    #[command(flatten)]
    pub attach: AttachArgs,
    #[arg(long, value_enum, default_value_t = EvidenceFormat::Table)]
    pub format: EvidenceFormat,
}

#[derive(Debug, clap::Args)]
pub struct DidArgs {
    #[command(flatten)]
    pub panel: PanelArgs,
    /// 介入を受けた単位（複数可）/ treated units
    #[arg(long, num_args = 1.., required = true)]
    pub treated: Vec<String>,
    #[arg(long = "treatment-time")]
    pub treatment_time: i64,
    /// 分析から除く単位 / units to leave out
    #[arg(long, num_args = 1..)]
    pub exclude: Vec<String>,
    /// 単位でクラスタした頑健標準誤差 / cluster-robust standard errors by unit
    #[arg(long)]
    pub cluster: bool,
    #[command(flatten)]
    pub attach: AttachArgs,
    #[arg(long, value_enum, default_value_t = EvidenceFormat::Table)]
    pub format: EvidenceFormat,
}

#[derive(Debug, clap::Args)]
pub struct ItsArgs {
    /// 時系列CSV（複数単位なら縦持ち）/ the series CSV (long format if several units)
    #[arg(long)]
    pub panel: PathBuf,
    #[arg(long)]
    pub time: String,
    #[arg(long)]
    pub outcome: String,
    /// 分析する単位 / the unit to analyse (needs --unit-column)
    #[arg(long)]
    pub unit: Option<String>,
    /// 単位の列（既定 "unit"）/ the unit column
    #[arg(long = "unit-column", default_value = "unit")]
    pub unit_column: String,
    /// 介入時点 / the interruption (first period after it)
    #[arg(long)]
    pub interruption: i64,
    /// Newey–West 標準誤差のラグ数 / Newey–West lags
    #[arg(long = "newey-west")]
    pub newey_west: Option<usize>,
    #[command(flatten)]
    pub attach: AttachArgs,
    #[arg(long, value_enum, default_value_t = EvidenceFormat::Table)]
    pub format: EvidenceFormat,
}

#[derive(Debug, clap::Args)]
pub struct ForecastArgs {
    /// 実績 '2019:10,2020:12,2021:13p'（p = 速報値）/ yearly values, `p` marks a provisional one
    #[arg(long)]
    pub values: String,
    /// 目標 '2030:20' / target year:value
    #[arg(long)]
    pub target: String,
    /// higher / lower / band / the better direction
    #[arg(long, default_value = "higher")]
    pub direction: String,
    /// band のときの範囲 LO:HI / the band for `--direction band`
    #[arg(long)]
    pub band: Option<String>,
    /// 速報値の扱い: include / downweight / exclude
    #[arg(long, default_value = "downweight")]
    pub provisional: String,
    #[arg(long, value_enum, default_value_t = EvidenceFormat::Table)]
    pub format: EvidenceFormat,
}

fn parse_solver(s: &str) -> Result<WeightSolver, String> {
    WeightSolver::parse(s)
        .ok_or_else(|| format!("「{s}」: exact か synthdid / \"{s}\": exact or synthdid"))
}

fn read(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| {
        format!(
            "ファイル {} を読めません / cannot read {}",
            path.display(),
            path.display()
        )
    })
}

fn load_panel(a: &PanelArgs) -> anyhow::Result<Panel> {
    let spec = PanelSpec {
        unit: a.unit.clone(),
        time: a.time.clone(),
        outcome: a.outcome.clone(),
        columns: None,
    };
    Ok(Panel::from_csv_str(&read(&a.panel)?, &spec)?)
}

fn parse_range(s: &str) -> anyhow::Result<(i64, i64)> {
    let (a, b) = s
        .split_once('-')
        .ok_or_else(|| anyhow!("期間「{s}」は FROM-TO の形で / period \"{s}\" must be FROM-TO"))?;
    let a: i64 = a
        .trim()
        .parse()
        .map_err(|_| anyhow!("期間「{s}」を読めません / cannot read period \"{s}\""))?;
    let b: i64 = b
        .trim()
        .parse()
        .map_err(|_| anyhow!("期間「{s}」を読めません / cannot read period \"{s}\""))?;
    if a > b {
        bail!("期間「{s}」の開始が終了より後です / period \"{s}\" starts after it ends");
    }
    Ok((a, b))
}

pub fn synth_report(args: &SynthArgs) -> anyhow::Result<EvidenceReport> {
    let panel = load_panel(&args.panel)?;
    let predictors = args
        .predictor
        .iter()
        .map(|p| PredictorSpec::parse(p))
        .collect::<Result<Vec<_>, _>>()?;
    let input = SynthInput {
        treated: args.treated.clone(),
        treatment_time: args.treatment_time,
        exclude: args.exclude.clone(),
        predictors,
        fit_period: args.fit_period.as_deref().map(parse_range).transpose()?,
        placebos: args.placebos,
        solver: args.solver,
        // A CSV panel keeps its behaviour: incomplete donors are dropped and listed.
        drop_incomplete_donors: true,
    };
    Ok(EvidenceReport::Synth(engine::synth(&panel, &input)?))
}

pub fn did_report(args: &DidArgs) -> anyhow::Result<EvidenceReport> {
    let panel = load_panel(&args.panel)?;
    let input = DidInput {
        treated: args.treated.clone(),
        treatment_time: args.treatment_time,
        exclude: args.exclude.clone(),
        cluster: args.cluster,
    };
    Ok(EvidenceReport::Did(engine::did(&panel, &input)?))
}

pub fn its_report(args: &ItsArgs) -> anyhow::Result<EvidenceReport> {
    let table = Table::parse(&read(&args.panel)?)?;
    let times = table.numeric_column(&args.time)?;
    let values = table.numeric_column(&args.outcome)?;
    let units: Option<Vec<String>> = match &args.unit {
        Some(_) => {
            let c = table.column_index(&args.unit_column)?;
            Some(
                table
                    .rows
                    .iter()
                    .map(|r| {
                        citykpi_analytics::panel::unit_label(
                            r.get(c).map(String::as_str).unwrap_or(""),
                        )
                    })
                    .collect(),
            )
        }
        None => None,
    };
    let wanted = args
        .unit
        .as_deref()
        .map(citykpi_analytics::panel::unit_label);
    let mut points = Vec::new();
    for (i, (t, v)) in times.iter().zip(&values).enumerate() {
        if let (Some(units), Some(w)) = (&units, &wanted)
            && units[i] != *w
        {
            continue;
        }
        if let (Some(t), Some(v)) = (t, v) {
            points.push((t.round() as i64, *v));
        }
    }
    if points.is_empty() {
        bail!("該当する行がありません / no rows match");
    }
    let input = ItsInput {
        interruption: args.interruption,
        newey_west: args.newey_west,
    };
    Ok(EvidenceReport::Its(engine::its(&points, &input)?))
}

fn parse_year_value(s: &str) -> anyhow::Result<(i32, f64, bool)> {
    let s = s.trim();
    let (y, v) = s
        .split_once(':')
        .ok_or_else(|| anyhow!("「{s}」は 年:値 の形で / \"{s}\" must be YEAR:VALUE"))?;
    let year: i32 = y
        .trim()
        .parse()
        .map_err(|_| anyhow!("年「{y}」を読めません / cannot read year \"{y}\""))?;
    let v = v.trim();
    let (v, provisional) = match v.strip_suffix(['p', 'P']) {
        Some(rest) => (rest, true),
        None => (v, false),
    };
    let value = citykpi_domain::text::parse_number(v)?;
    Ok((year, value, provisional))
}

pub fn forecast_report(args: &ForecastArgs) -> anyhow::Result<Value> {
    let points = args
        .values
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| {
            parse_year_value(s).map(|(year, value, provisional)| YearPoint {
                year,
                value,
                provisional,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let (ty, tv, _) = parse_year_value(&args.target)?;
    let band = match &args.band {
        Some(b) => {
            let (lo, hi) = b
                .split_once(':')
                .ok_or_else(|| anyhow!("--band は LO:HI / --band must be LO:HI"))?;
            Some((
                citykpi_domain::text::parse_number(lo)?,
                citykpi_domain::text::parse_number(hi)?,
            ))
        }
        None => None,
    };
    let direction = Direction::parse(&args.direction, band)
        .ok_or_else(|| anyhow!("方向「{}」: higher / lower / band（--band LO:HI）/ direction: higher, lower or band with --band", args.direction))?;
    let provisional = match args.provisional.as_str() {
        "include" => ProvisionalPolicy::Include,
        "exclude" => ProvisionalPolicy::Exclude,
        "downweight" => ProvisionalPolicy::default(),
        other => bail!("速報値の扱い「{other}」: include / downweight / exclude"),
    };
    let r = forecast_kpi(&ForecastRequest {
        points,
        target: Target {
            year: ty,
            value: tv,
        },
        direction,
        provisional,
    })?;
    let at = r.at_target();
    Ok(json!({
        "method": r.method,
        "reason": r.reason,
        "model": r.model,
        "target": {"year": ty, "value": tv, "direction": direction.as_str()},
        "estimate": at.map(|a| a.mean),
        "interval": at.map(|a| json!({
            "80": {"lower": a.lower80, "upper": a.upper80},
            "95": {"lower": a.lower95, "upper": a.upper95},
        })),
        "probability_of_reaching": r.probability_of_reaching,
        "path": r.path,
    }))
}

fn fmt(v: &Value) -> String {
    match v.as_f64() {
        Some(x) => format!("{x:.4}"),
        None => "-".into(),
    }
}

fn print(report: &Value, format: EvidenceFormat) -> anyhow::Result<()> {
    if format == EvidenceFormat::Json {
        println!("{}", serde_json::to_string_pretty(report)?);
        return Ok(());
    }
    let method = report["method"].as_str().unwrap_or("");
    println!("推定値 / estimate ({method}): {}", fmt(&report["estimate"]));
    if let Some(m) = report["estimate_meaning"].as_str() {
        println!("  = {m}");
    }
    if report["interval"]["lower"].is_number() {
        println!(
            "95%信頼区間 / 95% CI: [{}, {}]",
            fmt(&report["interval"]["lower"]),
            fmt(&report["interval"]["upper"])
        );
    }
    if report["interval"]["95"].is_object() {
        let i = &report["interval"];
        println!(
            "80%予測区間 / 80% PI: [{}, {}]",
            fmt(&i["80"]["lower"]),
            fmt(&i["80"]["upper"])
        );
        println!(
            "95%予測区間 / 95% PI: [{}, {}]",
            fmt(&i["95"]["lower"]),
            fmt(&i["95"]["upper"])
        );
    }
    if report["p_value"].is_number() {
        println!("p値 / p-value: {}", fmt(&report["p_value"]));
    }
    if let Some(r) = report["reason"].as_str() {
        println!("手法の理由 / why this method: {r}");
    }
    if report["probability_of_reaching"].is_number() {
        println!(
            "目標達成確率 / probability of reaching the target: {:.1}%",
            report["probability_of_reaching"].as_f64().unwrap_or(0.0) * 100.0
        );
    }
    if let Some(w) = report["weights"].as_object() {
        println!("対照の重み / donor weights (≥ 0.001):");
        let mut ws: Vec<(&String, f64)> = w
            .iter()
            .map(|(k, v)| (k, v.as_f64().unwrap_or(0.0)))
            .collect();
        ws.sort_by(|a, b| b.1.total_cmp(&a.1));
        for (name, weight) in ws.into_iter().filter(|(_, x)| *x >= 0.001) {
            println!("  {name:<24} {weight:.4}");
        }
        println!(
            "介入前RMSPE / pre-period RMSPE: {}",
            fmt(&report["pre_rmspe"])
        );
    }
    if report["slope_change"].is_object() {
        println!(
            "傾きの変化 / slope change: {} (SE {})",
            fmt(&report["slope_change"]["estimate"]),
            fmt(&report["slope_change"]["std_error"])
        );
    }
    Ok(())
}

pub async fn run(cmd: EvidenceCommand, db: Option<&str>) -> anyhow::Result<()> {
    let (report, format, attach, data) = match &cmd {
        EvidenceCommand::List(a) => return list(a, db).await,
        EvidenceCommand::Run(a) => return run_stored(a, db).await,
        EvidenceCommand::Synth(a) => (
            synth_report(a)?,
            a.format,
            &a.attach,
            panel_description(
                &a.panel,
                &format!("treated={} from {}", a.treated, a.treatment_time),
            ),
        ),
        EvidenceCommand::Did(a) => (
            did_report(a)?,
            a.format,
            &a.attach,
            panel_description(
                &a.panel,
                &format!("treated={} from {}", a.treated.join(","), a.treatment_time),
            ),
        ),
        EvidenceCommand::Its(a) => (
            its_report(a)?,
            a.format,
            &a.attach,
            format!(
                "{} (time={}, outcome={}, interruption={})",
                a.panel.display(),
                a.time,
                a.outcome,
                a.interruption
            ),
        ),
    };
    print(&serde_json::to_value(&report)?, format)?;
    if let Some(link) = &attach.attach {
        let ev = evidence_record(&report, link, attach, data)?;
        let store = crate::open_store(db).await?;
        let id = citykpi_app::evidence::record(&store, &ev, "cli").await?;
        eprintln!(
            "根拠として記録しました（{} → {}、#{id}）/ recorded as evidence #{id} on {} → {}",
            ev.program_code, ev.kpi_code, ev.program_code, ev.kpi_code
        );
    }
    Ok(())
}

async fn list(a: &ListArgs, db: Option<&str>) -> anyhow::Result<()> {
    let store = crate::open_store(db).await?;
    let rows = store
        .link_evidence(a.kpi.as_deref(), a.program.as_deref())
        .await?;
    if a.format == EvidenceFormat::Json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    println!(
        "#  事業→KPI / link  方法 / method  推定値 / estimate  区間 / interval  p  等級 / grade  記録 / recorded"
    );
    for r in &rows {
        let e = &r.evidence;
        let interval = e
            .interval
            .map(|(lo, hi)| format!("[{lo:.4}, {hi:.4}]"))
            .unwrap_or_else(|| "-".into());
        println!(
            "{}  {} → {}  {}  {:.4}  {}  {}  {}  {} {}",
            r.id,
            e.program_code,
            e.kpi_code,
            e.method.label_ja(),
            e.estimate,
            interval,
            e.p_value
                .map(|p| format!("{p:.3}"))
                .unwrap_or_else(|| "-".into()),
            e.grade.letter(),
            r.recorded_by,
            r.recorded_at
        );
    }
    Ok(())
}

fn panel_description(p: &PanelArgs, treatment: &str) -> String {
    format!(
        "{} (unit={}, time={}, outcome={}, {treatment})",
        p.panel.display(),
        p.unit,
        p.time,
        p.outcome
    )
}

/// The evidence record of a report on the link `PROGRAM:KPI`.
pub fn evidence_record(
    report: &EvidenceReport,
    link: &str,
    attach: &AttachArgs,
    data: String,
) -> anyhow::Result<LinkEvidence> {
    let (program, kpi) = link
        .split_once(':')
        .map(|(p, k)| (p.trim(), k.trim()))
        .filter(|(p, k)| !p.is_empty() && !k.is_empty())
        .ok_or_else(|| anyhow!("--attach は PROGRAM:KPI の形です（「{link}」）/ --attach must be PROGRAM:KPI, got \"{link}\""))?;
    let grade = parse_grade(attach.grade.as_deref())?;
    Ok(report.to_evidence(
        program,
        kpi,
        grade,
        attach.note.as_deref().unwrap_or_default(),
        data,
    ))
}

fn parse_grade(g: Option<&str>) -> anyhow::Result<Option<EvidenceGrade>> {
    g.map(|g| {
        EvidenceGrade::parse(g).ok_or_else(|| {
            anyhow!("--grade は A / B / C / D です（「{g}」）/ --grade must be A, B, C or D, got \"{g}\"")
        })
    })
    .transpose()
}

/// `citykpi evidence run --kpi CODE`: the stored-data service; with
/// `--save`, the result is saved on the program–KPI link.
async fn run_stored(a: &RunArgs, db: Option<&str>) -> anyhow::Result<()> {
    let store = crate::open_store(db).await?;
    let req = StoredRequest {
        kpi: a.kpi.clone(),
        method: match a.method {
            MethodArg::Synth => Method::Synth,
            MethodArg::Did => Method::Did,
            MethodArg::Its => Method::Its,
        },
        program: a.program.clone(),
        treatment_year: a.treatment_year,
        units: a.units.clone(),
        predictors: a.predictors.clone(),
        placebos: a.placebos,
        drop_incomplete_donors: a.drop_incomplete,
    };
    let run = if a.save {
        let grade = parse_grade(a.grade.as_deref())?;
        let note = a.note.as_deref().unwrap_or_default();
        let (id, run, ev) =
            citykpi_app::evidence::stored::run_and_save(&store, &req, grade, note, "cli").await?;
        eprintln!(
            "根拠として記録しました（{} → {}、#{id}）/ recorded as evidence #{id} on {} → {}",
            ev.program_code, ev.kpi_code, ev.program_code, ev.kpi_code
        );
        run
    } else {
        citykpi_app::evidence::stored::run(&store, &req).await?
    };
    if a.format == EvidenceFormat::Json {
        println!("{}", serde_json::to_string_pretty(&run)?);
        return Ok(());
    }
    println!("{}", run.summary_ja);
    println!("{}", run.summary_en);
    print(&serde_json::to_value(&run.report)?, a.format)
}

pub fn run_forecast(args: ForecastArgs) -> anyhow::Result<()> {
    print(&forecast_report(&args)?, args.format)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(f)
    }
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct TestCli {
        #[command(subcommand)]
        cmd: TestCmd,
    }
    #[derive(Debug, clap::Subcommand)]
    enum TestCmd {
        Evidence {
            #[command(subcommand)]
            command: EvidenceCommand,
        },
        Forecast(ForecastArgs),
    }

    fn data(rel: &str) -> String {
        let p = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../testdata")
            .join(rel);
        assert!(
            p.exists(),
            "reference data file {} is missing; these tests need testdata/ in the repository",
            p.display()
        );
        p.display().to_string()
    }

    fn evidence(args: &[&str]) -> EvidenceCommand {
        let mut argv = vec!["citykpi", "evidence"];
        argv.extend_from_slice(args);
        match TestCli::parse_from(argv).cmd {
            TestCmd::Evidence { command } => command,
            TestCmd::Forecast(_) => unreachable!("parsed an evidence command"),
        }
    }

    #[test]
    fn synth_on_prop99_and_basque() {
        let prop99 = data("prop99/california_prop99.csv");
        let cmd = evidence(&[
            "synth",
            "--panel",
            &prop99,
            "--unit",
            "State",
            "--time",
            "Year",
            "--outcome",
            "PacksPerCapita",
            "--treated",
            "California",
            "--treatment-time",
            "1989",
            "--solver",
            "synthdid",
            "--format",
            "json",
        ]);
        let EvidenceCommand::Synth(a) = cmd else {
            panic!("not synth")
        };
        let r = serde_json::to_value(synth_report(&a).unwrap()).unwrap();
        assert!(
            (r["estimate"].as_f64().unwrap() - -19.62).abs() < 0.02,
            "{}",
            r["estimate"]
        );
        assert_eq!(r["weights"].as_object().unwrap().len(), 38);
        assert!(r["weights"]["Utah"].as_f64().unwrap() > 0.3);

        let basque = data("basque/basque.csv");
        let mut argv = vec![
            "synth",
            "--panel",
            &basque,
            "--unit",
            "regionno",
            "--time",
            "year",
            "--outcome",
            "gdpcap",
            "--treated",
            "17",
            "--treatment-time",
            "1970",
            "--exclude",
            "1",
            "--fit-period",
            "1960-1969",
            "--format",
            "json",
        ];
        let preds: Vec<String> = [
            "school.illit",
            "school.prim",
            "school.med",
            "school.high",
            "school.post.high",
            "invest",
        ]
        .iter()
        .map(|c| format!("{c}:1964-1969"))
        .chain(std::iter::once("gdpcap:1960-1969".to_string()))
        .chain(
            [
                "sec.agriculture",
                "sec.energy",
                "sec.industry",
                "sec.construction",
                "sec.services.venta",
                "sec.services.nonventa",
            ]
            .iter()
            .map(|c| format!("{c}:1961-1969:2")),
        )
        .chain(std::iter::once("popdens:1969".to_string()))
        .collect();
        for p in &preds {
            argv.push("--predictor");
            argv.push(p);
        }
        let EvidenceCommand::Synth(a) = evidence(&argv) else {
            panic!("not synth")
        };
        let r = serde_json::to_value(synth_report(&a).unwrap()).unwrap();
        // Abadie & Gardeazabal (2003): Cataluña (10) 0.8508, Madrid (14) 0.1492.
        assert!(
            (r["weights"]["10"].as_f64().unwrap() - 0.8508).abs() < 0.01,
            "{}",
            r["weights"]
        );
        assert!((r["weights"]["14"].as_f64().unwrap() - 0.1492).abs() < 0.01);
        block_on(run(evidence(&argv), None)).unwrap();
    }

    #[test]
    fn did_its_and_errors() {
        let prop99 = data("prop99/california_prop99.csv");
        let base = [
            "--panel",
            prop99.as_str(),
            "--unit",
            "State",
            "--time",
            "Year",
            "--outcome",
            "PacksPerCapita",
        ];
        let mut argv = vec!["did"];
        argv.extend_from_slice(&base);
        argv.extend_from_slice(&[
            "--treated",
            "California",
            "--treatment-time",
            "1989",
            "--cluster",
            "--format",
            "json",
        ]);
        let EvidenceCommand::Did(a) = evidence(&argv) else {
            panic!("not did")
        };
        let r = serde_json::to_value(did_report(&a).unwrap()).unwrap();
        assert!((r["estimate"].as_f64().unwrap() - -27.349).abs() < 1e-3);
        assert!(r["interval"]["lower"].as_f64().unwrap() < -27.349);
        block_on(run(evidence(&argv), None)).unwrap();

        let argv = [
            "its",
            "--panel",
            prop99.as_str(),
            "--time",
            "Year",
            "--outcome",
            "PacksPerCapita",
            "--unit",
            "California",
            "--unit-column",
            "State",
            "--interruption",
            "1989",
        ];
        let EvidenceCommand::Its(a) = evidence(&argv) else {
            panic!("not its")
        };
        let r = serde_json::to_value(its_report(&a).unwrap()).unwrap();
        // statsmodels OLS on the same design: level change −20.0581.
        assert!((r["estimate"].as_f64().unwrap() - -20.05809662955463).abs() < 1e-6);
        block_on(run(evidence(&argv), None)).unwrap();

        let mut argv = vec!["did"];
        argv.extend_from_slice(&base);
        argv.extend_from_slice(&["--treated", "Tokyo", "--treatment-time", "1989"]);
        let EvidenceCommand::Did(a) = evidence(&argv) else {
            panic!("not did")
        };
        let e = did_report(&a).unwrap_err().to_string();
        assert!(e.contains("Tokyo"), "{e}");
        let argv = [
            "did",
            "--panel",
            "/nonexistent.csv",
            "--unit",
            "u",
            "--time",
            "t",
            "--outcome",
            "y",
            "--treated",
            "A",
            "--treatment-time",
            "1",
        ];
        let EvidenceCommand::Did(a) = evidence(&argv) else {
            panic!("not did")
        };
        assert!(
            did_report(&a)
                .unwrap_err()
                .to_string()
                .contains("/nonexistent.csv")
        );
    }

    #[test]
    fn run_on_stored_data() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("ev.db").display().to_string();
        let (kpi, program) = block_on(async {
            let store = citykpi_app::open_store(Some(&db)).await.unwrap();
            let as_of = citykpi_app::demo::reference_day();
            citykpi_app::demo::build_demo(&store, 1, citykpi_app::demo::DEFAULT_SEED, as_of)
                .await
                .unwrap();
            let kpi = store
                .kpis()
                .await
                .unwrap()
                .into_iter()
                .find(|k| k.name_ja == "合計特殊出生率")
                .unwrap()
                .code;
            let program = store
                .links()
                .await
                .unwrap()
                .into_iter()
                .find(|l| l.kpi_code == kpi)
                .unwrap()
                .program_code;
            (kpi, program)
        });
        let argv = [
            "run",
            "--kpi",
            kpi.as_str(),
            "--method",
            "did",
            "--program",
            program.as_str(),
            "--treatment-year",
            "2020",
            "--save",
            "--note",
            "cli stored",
        ];
        block_on(run(evidence(&argv), Some(&db))).unwrap();
        let rows = block_on(async {
            let store = citykpi_app::open_store(Some(&db)).await.unwrap();
            citykpi_app::evidence::for_kpi(&store, &kpi).await.unwrap()
        });
        let row = rows
            .iter()
            .find(|r| r.evidence.note == "cli stored")
            .unwrap();
        assert_eq!(row.recorded_by, "cli");
        assert_eq!(row.evidence.program_code, program);
        // A bad design is refused with its reason.
        let argv = [
            "run",
            "--kpi",
            kpi.as_str(),
            "--method",
            "synth",
            "--treatment-year",
            "1900",
        ];
        let e = block_on(run(evidence(&argv), Some(&db)))
            .unwrap_err()
            .to_string();
        assert!(e.contains("介入前"), "{e}");
    }

    #[test]
    fn forecast_command() {
        let cli = TestCli::parse_from([
            "citykpi",
            "forecast",
            "--values",
            "2019:10,2020:12,2021:13,2022:15",
            "--target",
            "2025:20",
            "--direction",
            "higher",
            "--format",
            "json",
        ]);
        let TestCmd::Forecast(a) = cli.cmd else {
            panic!("not forecast")
        };
        let r = forecast_report(&a).unwrap();
        assert_eq!(r["method"], "linear_trend");
        assert!((r["estimate"].as_f64().unwrap() - 19.7).abs() < 1e-9);
        let p = r["probability_of_reaching"].as_f64().unwrap();
        assert!(p > 0.3 && p < 0.5, "{p}");
        assert!(
            r["interval"]["95"]["upper"].as_f64().unwrap()
                > r["interval"]["80"]["upper"].as_f64().unwrap()
        );
        run_forecast(a).unwrap();
        let cli = TestCli::parse_from([
            "citykpi",
            "forecast",
            "--values",
            "2019:10,2020:x",
            "--target",
            "2025:20",
        ]);
        let TestCmd::Forecast(a) = cli.cmd else {
            panic!("not forecast")
        };
        assert!(forecast_report(&a).unwrap_err().to_string().contains("x"));
        let cli = TestCli::parse_from([
            "citykpi",
            "forecast",
            "--values",
            "2021:10,2022:12p",
            "--target",
            "2025:20",
            "--provisional",
            "exclude",
        ]);
        let TestCmd::Forecast(a) = cli.cmd else {
            panic!("not forecast")
        };
        assert_eq!(forecast_report(&a).unwrap()["method"], "none");
    }
}
