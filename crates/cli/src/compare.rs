//! `citykpi compare estat|sdmx|csv …`: official statistics of comparison
//! municipalities imported as observations of the city's KPIs (one
//! transaction; see `citykpi_app::comparison`).

use std::path::PathBuf;

use citykpi_analytics::estat::EstatRequest;
use citykpi_app::comparison::{
    self, AreaLevel, AreaList, ComparisonError, ComparisonImport, EstatClient, Filter, ImportSpec,
    KpiMapping, MapRule, client::DEFAULT_MAX_PAGES,
};
use clap::{Args, Subcommand};

use crate::output::{Lang, OutputFormat};

#[derive(Debug, Subcommand)]
pub enum CompareCommand {
    /// e-Stat API（getStatsData）から取得、または保存した応答JSONを取り込む / fetch from the e-Stat API (getStatsData) or import saved JSON responses
    Estat(Box<EstatArgs>),
    /// SDMX-CSV 2.0 を取り込む / import an SDMX-CSV 2.0 file
    Sdmx {
        /// SDMX-CSV 2.0 のファイル / the SDMX-CSV 2.0 file
        file: PathBuf,
        /// 地域の次元 / the dimension holding the area code
        #[arg(long, default_value = "REF_AREA")]
        area_dimension: String,
        #[command(flatten)]
        common: Common,
    },
    /// CSV（area_code, period, value [, kpi_code]）を取り込む / import a plain CSV (area_code, period, value [, kpi_code])
    ///
    /// 列 / columns: 団体コード|地域コード|area_code (5 or 6 digits), 年度|期間|period|fiscal_year
    /// (2024, 令和6年度, 2024-04, 2024Q1), 値|実績値|value (X = 秘匿/secret, - = 欠測/missing);
    /// optional KPIコード|kpi_code (else --kpi), 状態|status, 出典|source, 備考|note.
    /// Any other column can be used by --where and --map.
    Csv {
        /// UTF-8 (BOM可) または Shift_JIS のCSV / a UTF-8 (BOM allowed) or Shift_JIS CSV file
        file: PathBuf,
        #[command(flatten)]
        common: Common,
    },
    /// 団体コード・名称で地方公共団体を探す（内蔵の一覧）/ look up local governments by code or name (the embedded list)
    Areas {
        /// コードまたは名称の一部（例 27140、堺市）/ a code or part of a name (e.g. 27140, 堺市)
        query: String,
        #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
        format: OutputFormat,
    },
}

#[derive(Debug, Args)]
pub struct Common {
    /// 取り込み先のKPI（--map に当たらない値すべて）/ the KPI of every value no --map rule catches
    #[arg(long)]
    kpi: Option<String>,
    /// 次元=コード:KPI（繰り返し可）例 cat01=B1101:AREA_TOTAL / DIMENSION=CODE:KPI (repeatable)
    #[arg(long = "map", value_parser = MapRule::parse)]
    maps: Vec<MapRule>,
    /// 次元=コード[,コード]の値だけ（繰り返し可）/ only values whose DIMENSION has one of the CODEs (repeatable)
    #[arg(long = "where", value_parser = parse_filter)]
    filters: Vec<Filter>,
    /// 検査のみで書き込まない / check only, write nothing
    #[arg(long)]
    dry_run: bool,
    /// 自市の団体コード（初回のみ必要、以後は設定に保存）/ the city's own local-government code (needed once, then kept in the settings)
    #[arg(long)]
    city: Option<String>,
    /// 自市の既存の値（別の出典）も上書きする / also replace the city's own values that came from another source
    #[arg(long)]
    overwrite_own_city: bool,
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    format: OutputFormat,
}

#[derive(Debug, Args)]
pub struct EstatArgs {
    /// 統計表ID / statistics table ID (statsDataId)
    #[arg(long, required_unless_present = "files")]
    stats_data_id: Option<String>,
    /// 保存した getStatsData 応答（JSON、繰り返し可）を取り込む（通信しない）/ import saved getStatsData responses (JSON, repeatable) instead of fetching
    #[arg(long = "file")]
    files: Vec<PathBuf>,
    /// アプリケーションID / application ID (appId)
    #[arg(long, env = comparison::APP_ID_ENV, hide_env_values = true)]
    app_id: Option<String>,
    /// APIのURL / the API's base URL
    #[arg(long, default_value = comparison::DEFAULT_BASE_URL)]
    base_url: String,
    /// 表章項目 / tab codes (cdTab)
    #[arg(long)]
    cd_tab: Option<String>,
    /// 分類01のコード（カンマ区切り）/ cat01 codes, comma-separated (cdCat01)
    #[arg(long)]
    cd_cat01: Option<String>,
    /// 分類02 / cat02 codes (cdCat02)
    #[arg(long)]
    cd_cat02: Option<String>,
    /// 分類03 / cat03 codes (cdCat03)
    #[arg(long)]
    cd_cat03: Option<String>,
    /// 地域コード（5桁、カンマ区切り）/ area codes (5 digits, comma-separated)
    #[arg(long)]
    cd_area: Option<String>,
    /// 時点コード / time codes (cdTime)
    #[arg(long)]
    cd_time: Option<String>,
    /// その他のAPIパラメータ KEY=VALUE（例 lvArea=2）/ any other API parameter KEY=VALUE
    #[arg(long = "param", value_parser = parse_param)]
    params: Vec<(String, String)>,
    /// 1ページの件数 / values per page (limit)
    #[arg(long)]
    limit: Option<u64>,
    /// 取得するページ数の上限 / most pages fetched
    #[arg(long, default_value_t = DEFAULT_MAX_PAGES)]
    max_pages: usize,
    /// 1ページの待ち時間（秒）/ seconds allowed per page
    #[arg(long, default_value_t = 120)]
    timeout: u64,
    #[command(flatten)]
    common: Common,
}

fn parse_filter(s: &str) -> Result<Filter, String> {
    match s.split_once('=') {
        Some((d, codes)) if !d.trim().is_empty() && !codes.trim().is_empty() => {
            Ok(Filter::new(d, codes))
        }
        _ => Err(format!(
            "「{s}」は 次元=コード[,コード] の形で / \"{s}\" must read DIMENSION=CODE[,CODE]"
        )),
    }
}

/// e-Stat names areas by 5 digits: a 6-digit code (its check digit verified)
/// loses the check digit, so that `--cd-area 271403` works as `27140`.
fn five_digit_areas(list: &str) -> anyhow::Result<String> {
    let codes: Vec<String> = list
        .split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(|c| {
            citykpi_domain::lgcode::normalize(c)
                .map(|six| six[..5].to_string())
                .map_err(|e| anyhow::anyhow!("--cd-area: {e}"))
        })
        .collect::<anyhow::Result<_>>()?;
    Ok(codes.join(","))
}

fn parse_param(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.trim().to_string())),
        _ => Err(format!(
            "「{s}」は KEY=VALUE の形で / \"{s}\" must read KEY=VALUE"
        )),
    }
}

impl Common {
    fn spec(&self, filters: Vec<Filter>) -> anyhow::Result<ImportSpec> {
        let mapping = KpiMapping {
            default_kpi: self.kpi.clone(),
            rules: self.maps.clone(),
        };
        Ok(ImportSpec {
            mapping,
            filters: filters.into_iter().chain(self.filters.clone()).collect(),
            dry_run: self.dry_run,
            overwrite_own_city: self.overwrite_own_city,
            city: self.city.clone(),
            area_dimension: None,
            actor: "cli".into(),
        })
    }
}

pub async fn run(command: CompareCommand, db: Option<&str>, lang: Lang) -> anyhow::Result<()> {
    let (result, common) = match &command {
        CompareCommand::Areas { query, format } => return print_areas(query, *format, lang),
        CompareCommand::Estat(args) => {
            let cd_area = args.cd_area.as_deref().map(five_digit_areas).transpose()?;
            let cds = [
                ("cdTab", "tab", &args.cd_tab),
                ("cdCat01", "cat01", &args.cd_cat01),
                ("cdCat02", "cat02", &args.cd_cat02),
                ("cdCat03", "cat03", &args.cd_cat03),
                ("cdArea", "area", &cd_area),
                ("cdTime", "time", &args.cd_time),
            ];
            let filters = cds
                .iter()
                .filter_map(|(_, dim, v)| v.as_deref().map(|v| Filter::new(dim, v)))
                .collect();
            let spec = args.common.spec(filters)?;
            require_mapping(&spec, lang)?;
            // Without an application ID nothing is opened, let alone fetched.
            let client = if args.files.is_empty() {
                let mut client = EstatClient::from_env(args.app_id.as_deref())?
                    .with_base_url(args.base_url.clone());
                client.max_pages = args.max_pages;
                client.timeout = std::time::Duration::from_secs(args.timeout.max(1));
                Some(client)
            } else {
                None
            };
            let store = crate::open_store(db).await?;
            let result = match client {
                None => comparison::import_estat_files(&store, &args.files, &spec).await,
                Some(client) => {
                    let extra = cds
                        .iter()
                        .filter_map(|(param, _, v)| {
                            v.as_ref().map(|v| (param.to_string(), v.clone()))
                        })
                        .chain(args.params.iter().cloned())
                        .collect();
                    let request = EstatRequest {
                        app_id: String::new(),
                        stats_data_id: args.stats_data_id.clone().unwrap_or_default(),
                        limit: args.limit,
                        extra,
                    };
                    comparison::import_estat_api(&store, client, request, &spec).await
                }
            };
            (result, &args.common)
        }
        CompareCommand::Sdmx {
            file,
            area_dimension,
            common,
        } => {
            let mut spec = common.spec(Vec::new())?;
            spec.area_dimension = Some(area_dimension.clone());
            require_mapping(&spec, lang)?;
            let store = crate::open_store(db).await?;
            (
                comparison::import_sdmx_file(&store, file, &spec).await,
                common,
            )
        }
        CompareCommand::Csv { file, common } => {
            let spec = common.spec(Vec::new())?;
            let store = crate::open_store(db).await?;
            (
                comparison::import_csv_file(&store, file, &spec).await,
                common,
            )
        }
    };
    match result {
        Ok(r) => match common.format {
            OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&r)?),
            OutputFormat::Table => print(&r, common.dry_run, lang),
        },
        Err(e @ ComparisonError::Invalid(_)) => anyhow::bail!(
            "{e}\n{}",
            lang.pick("何も書き込んでいません。", "Nothing was written.")
        ),
        Err(e) => return Err(e.into()),
    }
    Ok(())
}

fn require_mapping(spec: &ImportSpec, lang: Lang) -> anyhow::Result<()> {
    if spec.mapping.is_empty() {
        anyhow::bail!(
            "{}",
            lang.pick(
                "取り込み先のKPIを --kpi コード か --map 次元=コード:KPI で指定してください",
                "say which KPI the values go to: --kpi CODE or --map DIMENSION=CODE:KPI"
            )
        );
    }
    Ok(())
}

/// The embedded list needs no database.
fn print_areas(query: &str, format: OutputFormat, lang: Lang) -> anyhow::Result<()> {
    let list = AreaList::embedded();
    let hits = list.search(query);
    match format {
        OutputFormat::Json => {
            let rows: Vec<_> = hits
                .iter()
                .map(|e| {
                    serde_json::json!({
                        "code": e.code,
                        "level": e.level,
                        "name": e.full_name(list),
                    })
                })
                .collect();
            println!("{}", serde_json::to_string_pretty(&rows)?);
        }
        OutputFormat::Table => {
            for e in &hits {
                let level = match e.level {
                    AreaLevel::Prefecture => lang.pick("都道府県", "prefecture"),
                    AreaLevel::Municipality => lang.pick("市区町村", "municipality"),
                    AreaLevel::Ward => lang.pick("区", "ward"),
                };
                println!("{}  {}  {}", e.code, pad(level, 12), e.full_name(list));
            }
            if hits.is_empty() {
                anyhow::bail!(
                    "{}",
                    lang.pick(
                        "該当する地方公共団体はありません",
                        "no local government matches"
                    )
                );
            }
        }
    }
    Ok(())
}

/// A label padded to 16 columns as the terminal shows them (kanji take two).
fn label(s: &str) -> String {
    pad(s, 16)
}

fn pad(s: &str, width: usize) -> String {
    let mut out = s.to_string();
    for _ in citykpi_domain::text::display_width(s)..width {
        out.push(' ');
    }
    out
}

fn print(r: &ComparisonImport, dry_run: bool, lang: Lang) {
    let title = if r.title.is_empty() {
        String::new()
    } else {
        format!("  {}", r.title)
    };
    println!("{}{title}", r.source);
    if r.pages > 0 {
        println!("  {} {}", label(lang.pick("ページ", "pages")), r.pages);
    }
    println!(
        "  {} {}",
        label(lang.pick("読んだ値", "values read")),
        r.values_read
    );
    println!(
        "  {} {}  (KPI: {})",
        label(lang.pick("実績値", "observations")),
        r.observations,
        r.kpis.join(", ")
    );
    println!(
        "  {} {}  ({} {}, {} {}, {} {})",
        label(lang.pick("地域", "areas")),
        r.areas,
        lang.pick("都道府県", "prefectures"),
        r.prefectures,
        lang.pick("市区町村", "municipalities"),
        r.municipalities,
        lang.pick("区", "wards"),
        r.wards
    );
    let periods = match r.periods.as_slice() {
        [] => "-".to_string(),
        [one] => one.clone(),
        [first, .., last] => format!("{first} … {last} ({})", r.periods.len()),
    };
    println!("  {} {periods}", label(lang.pick("期間", "periods")));
    if r.missing + r.secret > 0 {
        println!(
            "  {} {} {}, {} {}",
            label(lang.pick("値なし", "no value")),
            lang.pick("欠測", "missing"),
            r.missing,
            lang.pick("秘匿", "secret"),
            r.secret
        );
    }
    if r.replaced_with_missing > 0 {
        println!(
            "  {} {}",
            label(lang.pick("実数値→欠測・秘匿", "values → missing/secret")),
            r.replaced_with_missing
        );
    }
    let s = &r.skipped;
    if s.total() > 0 {
        let parts: Vec<String> = [
            (s.filtered, lang.pick("絞り込み外", "filtered out")),
            (s.unmapped, lang.pick("KPIなし", "no KPI mapped")),
            (s.national, lang.pick("全国", "national total")),
            (
                s.tokyo_wards,
                lang.pick("東京都特別区部", "Tokyo 23 wards total"),
            ),
            (
                s.own_city,
                lang.pick("自市の既存値", "city's own values kept"),
            ),
            (
                s.deletions,
                lang.pick("削除行（未適用）", "deletions not applied"),
            ),
        ]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{what} {n}"))
        .collect();
        println!(
            "  {} {}",
            label(lang.pick("対象外", "skipped")),
            parts.join(", ")
        );
    }
    match (&r.applied, dry_run) {
        (Some(c), _) => println!(
            "  {} {}, {} {}, {} {}",
            lang.pick("追加", "inserted"),
            c.inserted,
            lang.pick("更新", "updated"),
            c.updated,
            lang.pick("変更なし", "unchanged"),
            c.unchanged
        ),
        (None, _) => println!(
            "  {}",
            lang.pick(
                "検査のみ（何も書き込んでいません）",
                "dry run: nothing was written"
            )
        ),
    }
    for w in &r.warnings {
        println!("  ! {w}");
    }
}
