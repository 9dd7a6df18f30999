//! Comparison data: official statistics of other municipalities imported as
//! observations of the city's KPIs, so that a KPI can be set beside the same
//! measure elsewhere.
//!
//! Three sources, one path:
//! * the national statistics portal's API (e-Stat `getStatsData` JSON),
//!   fetched page by page through `NEXT_KEY` ([`EstatClient`]) when an
//!   application ID is configured, or read from downloaded responses;
//! * SDMX-CSV 2.0 data messages;
//! * plain CSV (`area_code`, `period`, `value`, optionally `kpi_code`…).
//!
//! Which value goes to which KPI is the user's choice: one KPI for all
//! ([`KpiMapping::default_kpi`]) and/or rules `dimension=code → KPI`
//! ([`MapRule`], e.g. `cat01=B1101:AREA_TOTAL`); values no rule maps and no
//! default catches are skipped and counted. Filters (`cat01` in `B1101,…`)
//! narrow a file the way `cdCat01=…` narrows an API request.
//!
//! Every area code is checked against the embedded list of local
//! governments ([`areas`]): e-Stat's 5-digit codes get their check digit,
//! 6-digit codes must carry the right one, and every code must be a
//! prefecture, municipality or ward in the list. The national total and
//! Tokyo's 23 wards together are aggregates, skipped and counted. Any problem
//! (an unknown code, an unreadable period or value, two different values for
//! one KPI, period and area) is reported with its row (or value number) and
//! column, all together, and then nothing is written.
//!
//! An import is one transaction (`Store::record_measurements`): observations
//! upserted by (KPI, period, area) and one audit row ([`AUDIT_ACTION`]) naming
//! the source, so importing the same data again updates (or leaves unchanged)
//! rather than duplicates. Missing and secret cells stay explicit
//! (`ObsValue::Missing` / `Secret`), never zero.
//!
//! The city's own local-government code (setting `city_code`) must be known
//! before comparison data is written: without it, KPI status takes the area
//! with the most observations as the city, which after such an import would
//! be another municipality. It is given once ([`ImportSpec::city`], `--city`)
//! and kept. Without it, an import is refused when it would change which
//! area is the most observed (always, into a database without observations).
//!
//! The city's own values are protected: a row for the city's own area code
//! (the setting, or while it is unset the most observed area) is skipped
//! when that KPI and period already hold a value from another source
//! (staff's actuals), unless [`ImportSpec::overwrite_own_city`] is set.

pub mod areas;
pub mod client;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use citykpi_analytics::estat::{EstatError, EstatRequest, StatsData, parse_get_stats_data};
use citykpi_analytics::sdmx::{SdmxAction, SdmxError, parse_sdmx_csv};
use citykpi_domain::fiscal::FiscalYear;
use citykpi_domain::observation::{ObsStatus, ObsValue, Observation, Period};
use citykpi_io::{ImportReport, MAX_PROBLEMS, Problem, RowUnit};
use citykpi_store::{Counts, ObservationFilter, Store, StoreError};
use serde::Serialize;

use crate::AppError;
pub use areas::{Aggregate, Area, AreaEntry, AreaLevel, AreaList};
pub use client::{APP_ID_ENV, DEFAULT_BASE_URL, EstatClient};

/// The audit log's action for an import of comparison data.
pub const AUDIT_ACTION: &str = "comparison_import";

#[derive(Debug, thiserror::Error)]
pub enum ComparisonError {
    #[error(
        "e-Stat APIのアプリケーションIDがありません。環境変数 {APP_ID_ENV} か --app-id で指定してください（https://www.e-stat.go.jp/api/ で登録）。ネットワークがない場合は、ダウンロード済みの getStatsData 応答（JSON）を --file で取り込めます / an e-Stat application ID is needed: set {APP_ID_ENV} or pass --app-id (register at https://www.e-stat.go.jp/api/). Without network access, import a downloaded getStatsData JSON response with --file"
    )]
    NoAppId,
    #[error(
        "自市の団体コードが未設定です。初回は --city 271403 のように指定してください（citykpi compare areas 市名 で調べられます）。未設定のままでは、KPIの状況は実績値の最も多い地域を自市とみなすため、比較団体の値を入れると他市で判定されます / the city's own local-government code is not set: give it once, e.g. --city 271403 (find it with citykpi compare areas NAME). Without it KPI status takes the area with the most observations as the city, which after comparison data would be another municipality"
    )]
    NoCityCode,
    #[error(
        "自市の団体コードは {set} に設定済みです（--city {given} とは違います） / the city's own code is already {set}, not {given}"
    )]
    CityMismatch { set: String, given: String },
    #[error(
        "自市の値{blank}件が地域コード空欄で保存されています。団体コード {code} を設定するとKPIの状況に表れなくなるため、先に地域コードを埋めてください（export observations → 地域コード列に {code} → import） / {blank} of the city's own values are kept without an area code; with the code {code} set they would drop out of the KPI status, so fill in their area code first (export observations, put {code} in area_code, import)"
    )]
    BlankAreaValues { blank: usize, code: String },
    #[error("{url}: 通信できません / request failed: {reason}")]
    Http { url: String, reason: String },
    #[error("{url}: HTTP {status} が返りました / the server answered HTTP {status}: {body}")]
    HttpStatus {
        url: String,
        status: u16,
        body: String,
    },
    #[error("{source_name}（{page}ページ目 / page {page}）: {error}")]
    Estat {
        source_name: String,
        page: usize,
        error: EstatError,
    },
    #[error(
        "{max}ページを超えました（全{total}件）。--cd-cat01 などで絞り込むか --max-pages を増やしてください / more than {max} pages ({total} values in all): narrow the request (--cd-cat01 …) or raise --max-pages"
    )]
    TooManyPages { max: usize, total: u64 },
    #[error("{file} を読めません / cannot read {file}: {reason}")]
    Read { file: String, reason: String },
    #[error("{0}")]
    Invalid(ImportReport),
    #[error(
        "KPI「{0}」がありません（先に citykpi import で登録してください） / KPI \"{0}\" does not exist (register it with citykpi import first)"
    )]
    UnknownKpi(String),
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    App(#[from] AppError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// `dimension=code → KPI`: values whose dimension has this code go to the KPI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapRule {
    /// e-Stat: `tab`, `cat01`, `area`…; SDMX: a dimension or attribute id; CSV: a column.
    pub dimension: String,
    pub code: String,
    pub kpi: String,
}

impl MapRule {
    /// `cat01=B1101:AREA_TOTAL`.
    pub fn parse(s: &str) -> Result<MapRule, String> {
        let bad = || {
            format!(
                "「{s}」は 次元=コード:KPI の形で指定してください（例 cat01=B1101:AREA_TOTAL） / \"{s}\" must read DIMENSION=CODE:KPI (e.g. cat01=B1101:AREA_TOTAL)"
            )
        };
        let (dimension, rest) = s.split_once('=').ok_or_else(bad)?;
        let (code, kpi) = rest.rsplit_once(':').ok_or_else(bad)?;
        let (dimension, code, kpi) = (dimension.trim(), code.trim(), kpi.trim());
        if dimension.is_empty() || code.is_empty() || kpi.is_empty() {
            return Err(bad());
        }
        Ok(MapRule {
            dimension: dimension.trim_start_matches('@').to_string(),
            code: code.to_string(),
            kpi: kpi.to_string(),
        })
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KpiMapping {
    /// The KPI of every value that no rule maps.
    pub default_kpi: Option<String>,
    /// Tried in order; the first that matches wins.
    pub rules: Vec<MapRule>,
}

impl KpiMapping {
    pub fn to(kpi: impl Into<String>) -> KpiMapping {
        KpiMapping {
            default_kpi: Some(kpi.into()),
            rules: Vec::new(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.default_kpi.is_none() && self.rules.is_empty()
    }

    fn kpi_for<'a>(&'a self, dim: impl Fn(&str) -> Option<&'a str>) -> Option<&'a str> {
        self.rules
            .iter()
            .find(|r| dim(&r.dimension) == Some(r.code.as_str()))
            .map(|r| r.kpi.as_str())
            .or(self.default_kpi.as_deref())
    }

    /// Every KPI code the mapping names.
    fn kpis(&self) -> BTreeSet<&str> {
        self.rules
            .iter()
            .map(|r| r.kpi.as_str())
            .chain(self.default_kpi.as_deref())
            .collect()
    }
}

/// Only values whose dimension has one of these codes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    pub dimension: String,
    pub codes: Vec<String>,
}

impl Filter {
    /// `cat01`, `B1101,B1103`.
    pub fn new(dimension: &str, codes: &str) -> Filter {
        Filter {
            dimension: dimension.trim().trim_start_matches('@').to_string(),
            codes: codes
                .split(',')
                .map(|c| c.trim().to_string())
                .filter(|c| !c.is_empty())
                .collect(),
        }
    }
}

/// What to import and how.
#[derive(Debug, Clone, Default)]
pub struct ImportSpec {
    pub mapping: KpiMapping,
    pub filters: Vec<Filter>,
    /// Check everything, write nothing.
    pub dry_run: bool,
    /// Write rows of the city's own area even over values from another source.
    pub overwrite_own_city: bool,
    /// The city's own local-government code (setting `city_code`), given
    /// once: required for the first import into a database without it.
    pub city: Option<String>,
    /// SDMX: the dimension holding the area (default `REF_AREA`).
    pub area_dimension: Option<String>,
    /// Recorded as `entered_by` and in the audit row.
    pub actor: String,
}

impl ImportSpec {
    fn passes<'a>(&self, dim: impl Fn(&str) -> Option<&'a str>) -> bool {
        self.filters.iter().all(|f| {
            dim(&f.dimension)
                .map(|code| f.codes.iter().any(|c| c == code))
                .unwrap_or(false)
        })
    }
}

/// Rows not imported, by reason.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// Outside the filters.
    pub filtered: usize,
    /// No rule mapped them and there is no default KPI.
    pub unmapped: usize,
    /// The national total (`00000`).
    pub national: usize,
    /// Tokyo's 23 wards together (`13100`).
    pub tokyo_wards: usize,
    /// The city's own area where staff's value is kept.
    pub own_city: usize,
    /// SDMX rows with ACTION `D` (deletions are not applied).
    pub deletions: usize,
}

impl Skipped {
    pub fn total(&self) -> usize {
        self.filtered
            + self.unmapped
            + self.national
            + self.tokyo_wards
            + self.own_city
            + self.deletions
    }
}

/// What an import read and wrote.
#[derive(Debug, Clone, Serialize)]
pub struct ComparisonImport {
    /// `e-Stat 0000020202`, or the file name.
    pub source: String,
    /// The statistics table's title, when the source has one.
    pub title: String,
    /// API pages fetched or response files read (0 for CSV).
    pub pages: usize,
    /// Values (e-Stat) or data rows (CSV) read.
    pub values_read: usize,
    /// Observations written (or, in a dry run, to be written).
    pub observations: usize,
    pub kpis: Vec<String>,
    /// Distinct areas, and how many of them are prefectures, municipalities, wards.
    pub areas: usize,
    pub prefectures: usize,
    pub municipalities: usize,
    pub wards: usize,
    /// Distinct periods, sorted (`2020`, `2021`, `2024-04`…).
    pub periods: Vec<String>,
    pub missing: usize,
    pub secret: usize,
    /// Stored real values this import replaces with 欠測 or 秘匿 (also named
    /// in `warnings`): an import never turns a figure into "missing" unsaid.
    pub replaced_with_missing: usize,
    pub skipped: Skipped,
    /// None for a dry run.
    pub applied: Option<Counts>,
    pub warnings: Vec<String>,
}

/// One value on its way to becoming an observation.
#[derive(Debug, Clone)]
struct Candidate {
    /// Row (CSV) or value number (e-Stat), for messages.
    at: usize,
    obs: Observation,
    level: AreaLevel,
    /// The classifying dimensions (`cat01=B1101 tab=00001`), for messages.
    class: String,
}

/// Problems collected up to `MAX_PROBLEMS`.
#[derive(Debug, Default)]
struct Problems {
    list: Vec<Problem>,
    omitted: usize,
}

impl Problems {
    fn push(&mut self, p: Problem) {
        if self.list.len() < MAX_PROBLEMS {
            self.list.push(p);
        } else {
            self.omitted += 1;
        }
    }
    fn at(&mut self, row: usize, column: &str, value: &str, reason: impl Into<String>) {
        self.push(Problem {
            row: Some(row),
            column: Some(column.to_string()),
            value: (!value.is_empty()).then(|| value.to_string()),
            reason: reason.into(),
        });
    }
    fn is_empty(&self) -> bool {
        self.list.is_empty() && self.omitted == 0
    }
    fn into_error(self, file: &str, unit: RowUnit) -> ComparisonError {
        ComparisonError::Invalid(ImportReport {
            file: file.to_string(),
            problems: self.list,
            omitted: self.omitted,
            unit,
        })
    }
}

/// A source read and checked, before the database is asked.
#[derive(Debug)]
struct Prepared {
    source: String,
    title: String,
    unit: RowUnit,
    pages: usize,
    values_read: usize,
    candidates: Vec<Candidate>,
    skipped: Skipped,
    problems: Problems,
    warnings: Vec<String>,
    /// KPI → the units the source gives its values in (e-Stat `@unit`).
    units: BTreeMap<String, BTreeSet<String>>,
}

impl Prepared {
    fn new(source: String, unit: RowUnit) -> Prepared {
        Prepared {
            source,
            title: String::new(),
            unit,
            pages: 0,
            values_read: 0,
            candidates: Vec::new(),
            skipped: Skipped::default(),
            problems: Problems::default(),
            warnings: Vec::new(),
            units: BTreeMap::new(),
        }
    }

    /// Checks an area cell; Some((code, level)) for a local government, None
    /// for an aggregate (counted) or a problem (recorded).
    fn area(&mut self, at: usize, column: &str, raw: &str) -> Option<(String, AreaLevel)> {
        match AreaList::embedded().resolve(raw) {
            Ok(Area::Local(e)) => Some((e.code.clone(), e.level)),
            Ok(Area::Aggregate(Aggregate::National)) => {
                self.skipped.national += 1;
                None
            }
            Ok(Area::Aggregate(Aggregate::TokyoWards)) => {
                self.skipped.tokyo_wards += 1;
                None
            }
            Err(reason) => {
                self.problems.at(at, column, raw, reason);
                None
            }
        }
    }
}

// ----- e-Stat -----

/// An e-Stat time code: `YYYY100000` is a fiscal year (年度), `YYYY000000`
/// a calendar year (stored as that year, noted 暦年), `YYYY00MMMM` with the
/// same month twice a month. Anything else (quarters, ranges) is refused.
pub fn estat_period(code: &str) -> Result<(Period, &'static str), String> {
    let c = code.trim();
    let bad = || {
        format!(
            "時点コード「{c}」を年度・年・月として読めません / time code \"{c}\" is not a fiscal year, a year or a month"
        )
    };
    if c.len() != 10 || !c.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let year: i32 = c[..4].parse().map_err(|_| bad())?;
    let fy = |y| FiscalYear::new(y).map_err(|e| e.to_string());
    match (&c[4..6], &c[6..8], &c[8..10]) {
        ("10", "00", "00") => Ok((Period::Year(fy(year)?), "")),
        ("00", "00", "00") => Ok((Period::Year(fy(year)?), "暦年 / calendar year")),
        ("00", a, b) if a == b => {
            let m: u8 = a.parse().map_err(|_| bad())?;
            if !(1..=12).contains(&m) {
                return Err(bad());
            }
            fy(year)?;
            Ok((Period::Month(year, m), ""))
        }
        _ => Err(bad()),
    }
}

fn estat_source(data: &StatsData) -> String {
    format!("e-Stat {}", data.stats_data_id)
}

fn prepare_estat(data: &StatsData, source: String, pages: usize, spec: &ImportSpec) -> Prepared {
    let mut p = Prepared::new(source, RowUnit::Record);
    p.title = data.title.clone();
    p.pages = pages;
    p.values_read = data.values.len();
    for (i, v) in data.values.iter().enumerate() {
        let at = i + 1;
        let dim = |d: &str| v.dims.get(d).map(String::as_str);
        if !spec.passes(dim) {
            p.skipped.filtered += 1;
            continue;
        }
        let Some(kpi) = spec.mapping.kpi_for(dim) else {
            p.skipped.unmapped += 1;
            continue;
        };
        let Some(area_raw) = dim("area") else {
            p.problems.at(
                at,
                "@area",
                "",
                "地域（@area）がありません / the value has no area (@area)",
            );
            continue;
        };
        let area = p.area(at, "@area", area_raw);
        let period = match dim("time").map(estat_period) {
            Some(Ok(x)) => Some(x),
            Some(Err(reason)) => {
                p.problems
                    .at(at, "@time", dim("time").unwrap_or(""), reason);
                None
            }
            None => {
                p.problems.at(
                    at,
                    "@time",
                    "",
                    "時点（@time）がありません / the value has no time (@time)",
                );
                None
            }
        };
        let (Some((area_code, level)), Some((period, note))) = (area, period) else {
            continue;
        };
        if let Some(unit) = v.unit.as_deref().filter(|u| !u.trim().is_empty()) {
            p.units
                .entry(kpi.to_string())
                .or_default()
                .insert(unit.to_string());
        }
        // The table and every classifying dimension: where the number came from.
        let class = v
            .dims
            .iter()
            .filter(|(k, _)| *k != "area" && *k != "time")
            .map(|(k, code)| format!("{k}={code}"))
            .collect::<Vec<_>>()
            .join(" ");
        let source = format!("{} {class}", estat_source(data))
            .trim_end()
            .to_string();
        p.candidates.push(Candidate {
            at,
            level,
            class,
            obs: Observation {
                kpi_code: kpi.to_string(),
                period,
                area_code,
                value: v.value,
                status: ObsStatus::Final,
                source,
                note: note.to_string(),
                entered_by: spec.actor.clone(),
                entered_at: String::new(),
                // Official statistics fetched by an operator: confirmed by that run.
                confirmed_by: spec.actor.clone(),
                confirmed_at: citykpi_store::now_rfc3339(),
            },
        });
    }
    // STATUS 1: no data matched; 2: some parameters were ignored (a misspelt
    // cd… narrows nothing) — both worth saying.
    if data.status != 0 {
        p.warnings
            .push(format!("e-Stat STATUS {}: {}", data.status, data.message));
    }
    if data.next_key.is_some() {
        p.warnings.push(format!(
            "応答は全{total}件のうち{from}〜{to}件目だけです（NEXT_KEY {next}）。残りは取り込まれていません / the response holds values {from}–{to} of {total} (NEXT_KEY {next}); the rest is not imported",
            total = data.total_number,
            from = data.from_number,
            to = data.to_number,
            next = data.next_key.unwrap_or(0),
        ));
    }
    p
}

/// Fetches every page of `request` (blocking HTTP, off the async workers)
/// and imports it. The KPIs are checked before anything is fetched.
pub async fn import_estat_api(
    store: &Store,
    client: EstatClient,
    request: EstatRequest,
    spec: &ImportSpec,
) -> Result<ComparisonImport, ComparisonError> {
    preflight(store, spec).await?;
    let (data, pages) = tokio::task::spawn_blocking(move || client.fetch_pages(&request))
        .await
        .map_err(|e| ComparisonError::Usage(e.to_string()))??;
    let prepared = prepare_estat(&data, estat_source(&data), pages, spec);
    finish(store, prepared, spec).await
}

/// Imports downloaded `getStatsData` responses (pages of one request, in any order).
pub async fn import_estat_files(
    store: &Store,
    files: &[PathBuf],
    spec: &ImportSpec,
) -> Result<ComparisonImport, ComparisonError> {
    preflight(store, spec).await?;
    let files = files.to_vec();
    let merged = tokio::task::spawn_blocking(move || read_estat_files(&files))
        .await
        .map_err(|e| ComparisonError::Usage(e.to_string()))??;
    let (data, source, pages) = merged;
    let prepared = prepare_estat(&data, source, pages, spec);
    finish(store, prepared, spec).await
}

fn read_estat_files(files: &[PathBuf]) -> Result<(StatsData, String, usize), ComparisonError> {
    let mut pages = Vec::new();
    for (i, f) in files.iter().enumerate() {
        let text = read_text(f)?;
        let page = parse_get_stats_data(&text).map_err(|error| ComparisonError::Estat {
            source_name: f.display().to_string(),
            page: i + 1,
            error,
        })?;
        pages.push(page);
    }
    pages.sort_by_key(|p| p.from_number);
    let n = pages.len();
    let mut it = pages.into_iter();
    let Some(mut all) = it.next() else {
        return Err(ComparisonError::Usage(
            "取り込むファイルがありません / no file given".into(),
        ));
    };
    for page in it {
        if page.stats_data_id != all.stats_data_id {
            return Err(ComparisonError::Usage(format!(
                "統計表ID {} と {} の応答は一緒に取り込めません / responses of tables {} and {} cannot be imported together",
                all.stats_data_id, page.stats_data_id, all.stats_data_id, page.stats_data_id
            )));
        }
        if page.from_number != all.to_number + 1 {
            return Err(ComparisonError::Usage(format!(
                "応答が続いていません: {}件目までの次が{}件目からです / the responses do not follow on: values up to {} are followed by values from {}",
                all.to_number, page.from_number, all.to_number, page.from_number
            )));
        }
        all.to_number = page.to_number;
        all.next_key = page.next_key;
        all.values.extend(page.values);
    }
    let source = if n == 1 {
        files[0].display().to_string()
    } else {
        format!("{} (+{})", files[0].display(), n - 1)
    };
    Ok((all, source, n))
}

/// Imports a `StatsData` already in hand (e.g. fetched by the caller).
pub async fn import_estat_data(
    store: &Store,
    data: &StatsData,
    spec: &ImportSpec,
) -> Result<ComparisonImport, ComparisonError> {
    preflight(store, spec).await?;
    let prepared = prepare_estat(data, estat_source(data), 1, spec);
    finish(store, prepared, spec).await
}

// ----- SDMX-CSV -----

fn sdmx_period(raw: &str) -> Result<Period, String> {
    let c = raw.trim();
    let ok = (c.len() == 4 && c.bytes().all(|b| b.is_ascii_digit()))
        || (c.len() == 7
            && c.as_bytes()[4] == b'-'
            && c[..4]
                .bytes()
                .chain(c[5..].bytes())
                .all(|b| b.is_ascii_digit()));
    if !ok {
        return Err(format!(
            "時点「{c}」は年（2024）か月（2024-04）で書いてください（暦の四半期・期間は取り込めません） / time period \"{c}\" must be a year (2024) or a month (2024-04); calendar quarters and ranges are not taken"
        ));
    }
    Period::parse(c).map_err(|e| e.to_string())
}

fn prepare_sdmx(text: &str, file: &str, spec: &ImportSpec) -> Prepared {
    let mut p = Prepared::new(file.to_string(), RowUnit::Line);
    let rows = match parse_sdmx_csv(text) {
        Ok(rows) => rows,
        Err(e) => {
            // The line goes in the row; the reason without it.
            let (row, reason) = match e {
                SdmxError::Csv { line, reason } | SdmxError::Row { line, reason } => {
                    (Some(line as usize), reason)
                }
                e @ SdmxError::MissingColumn(_) => (None, e.to_string()),
            };
            p.problems.push(Problem {
                row,
                column: None,
                value: None,
                reason,
            });
            return p;
        }
    };
    // Line numbers: the header is line 1 (cells holding line breaks would
    // shift them; SDMX-CSV data has none in practice).
    let area_dim = spec.area_dimension.as_deref().unwrap_or("REF_AREA");
    p.values_read = rows.len();
    for (i, o) in rows.iter().enumerate() {
        let at = i + 2;
        let dim = |d: &str| {
            o.dimensions
                .get(d)
                .or_else(|| o.attributes.get(d))
                .map(String::as_str)
        };
        if o.action == SdmxAction::Delete {
            p.skipped.deletions += 1;
            continue;
        }
        if !spec.passes(dim) {
            p.skipped.filtered += 1;
            continue;
        }
        let Some(kpi) = spec.mapping.kpi_for(dim) else {
            p.skipped.unmapped += 1;
            continue;
        };
        let Some(area_raw) = o.dimensions.get(area_dim) else {
            p.problems.at(
                at,
                area_dim,
                "",
                format!("地域の次元「{area_dim}」がありません / there is no area dimension \"{area_dim}\" (choose it with --area-dimension)"),
            );
            continue;
        };
        let area = p.area(at, area_dim, area_raw);
        let period = match o.time_period().map(sdmx_period) {
            Some(Ok(x)) => Some(x),
            Some(Err(reason)) => {
                p.problems
                    .at(at, "TIME_PERIOD", o.time_period().unwrap_or(""), reason);
                None
            }
            None => {
                p.problems.at(
                    at,
                    "TIME_PERIOD",
                    "",
                    "TIME_PERIOD がありません / there is no TIME_PERIOD",
                );
                None
            }
        };
        let (Some((area_code, level)), Some(period)) = (area, period) else {
            continue;
        };
        let status = match o.attributes.get("OBS_STATUS").map(String::as_str) {
            Some("P") | Some("E") => ObsStatus::Provisional,
            _ => ObsStatus::Final,
        };
        let class = o
            .dimensions
            .iter()
            .filter(|(k, _)| *k != area_dim && *k != "TIME_PERIOD")
            .map(|(k, code)| format!("{k}={code}"))
            .collect::<Vec<_>>()
            .join(" ");
        p.candidates.push(Candidate {
            at,
            level,
            class,
            obs: Observation {
                kpi_code: kpi.to_string(),
                period,
                area_code,
                value: o.value,
                status,
                source: format!("SDMX {}", o.structure_id),
                note: String::new(),
                entered_by: spec.actor.clone(),
                entered_at: String::new(),
                // Official statistics fetched by an operator: confirmed by that run.
                confirmed_by: spec.actor.clone(),
                confirmed_at: citykpi_store::now_rfc3339(),
            },
        });
    }
    p
}

/// Imports an SDMX-CSV 2.0 file.
pub async fn import_sdmx_file(
    store: &Store,
    path: &Path,
    spec: &ImportSpec,
) -> Result<ComparisonImport, ComparisonError> {
    let text = read_text(path)?;
    import_sdmx_text(store, &path.display().to_string(), &text, spec).await
}

pub async fn import_sdmx_text(
    store: &Store,
    file: &str,
    text: &str,
    spec: &ImportSpec,
) -> Result<ComparisonImport, ComparisonError> {
    preflight(store, spec).await?;
    let prepared = prepare_sdmx(text, file, spec);
    finish(store, prepared, spec).await
}

// ----- plain CSV -----

const AREA_HEADERS: &[&str] = &[
    "area_code",
    "area",
    "団体コード",
    "地域コード",
    "市区町村コード",
    "自治体コード",
];
const PERIOD_HEADERS: &[&str] = &[
    "period",
    "fiscal_year",
    "fy",
    "year",
    "年度",
    "期間",
    "時点",
    "年",
];
const VALUE_HEADERS: &[&str] = &["value", "値", "実績値", "数値", "obs_value"];
const KPI_HEADERS: &[&str] = &["kpi_code", "kpi", "kpiコード", "指標コード"];
const STATUS_HEADERS: &[&str] = &["status", "状態", "確定区分"];
const NOTE_HEADERS: &[&str] = &["note", "備考"];
const SOURCE_HEADERS: &[&str] = &["source", "出典"];

fn prepare_csv(text: &str, file: &str, spec: &ImportSpec) -> Prepared {
    use citykpi_analytics::panel::{PanelError, Table};
    let mut p = Prepared::new(file.to_string(), RowUnit::Line);
    let table = match Table::parse(text) {
        Ok(t) => t,
        Err(e) => {
            let row = match &e {
                PanelError::Csv { line, .. } => Some(*line as usize),
                _ => None,
            };
            p.problems.push(Problem {
                row,
                column: None,
                value: None,
                reason: e.to_string(),
            });
            return p;
        }
    };
    let keys: Vec<String> = table
        .headers
        .iter()
        .map(|h| citykpi_domain::text::normalize(h).to_lowercase())
        .collect();
    let find = |names: &[&str]| keys.iter().position(|k| names.contains(&k.as_str()));
    let (area_c, period_c, value_c) = (
        find(AREA_HEADERS),
        find(PERIOD_HEADERS),
        find(VALUE_HEADERS),
    );
    let (kpi_c, status_c, note_c, source_c) = (
        find(KPI_HEADERS),
        find(STATUS_HEADERS),
        find(NOTE_HEADERS),
        find(SOURCE_HEADERS),
    );
    for (c, names) in [
        (area_c, AREA_HEADERS),
        (period_c, PERIOD_HEADERS),
        (value_c, VALUE_HEADERS),
    ] {
        if c.is_none() {
            p.problems.push(Problem {
                row: Some(1),
                column: None,
                value: None,
                reason: format!(
                    "列がありません（{} のいずれか） / a column is missing (one of {})",
                    names.join(", "),
                    names.join(", ")
                ),
            });
        }
    }
    let (Some(area_c), Some(period_c), Some(value_c)) = (area_c, period_c, value_c) else {
        return p;
    };
    if kpi_c.is_none() && spec.mapping.is_empty() {
        p.problems.push(Problem::file(
            "KPIが分かりません: --kpi で指定するか kpi_code 列を設けてください / no KPI: give --kpi or a kpi_code column",
        ));
        return p;
    }
    p.values_read = table.rows.len();
    let head = |c: usize| table.headers[c].as_str();
    for (row, line) in table.rows.iter().zip(&table.lines) {
        let at = *line as usize;
        let cell = |c: usize| row.get(c).map(String::as_str).unwrap_or("");
        let dim = |d: &str| {
            keys.iter()
                .position(|k| *k == citykpi_domain::text::normalize(d).to_lowercase())
                .map(cell)
        };
        if row.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        if !spec.passes(dim) {
            p.skipped.filtered += 1;
            continue;
        }
        let kpi = match kpi_c.map(cell).filter(|k| !k.trim().is_empty()) {
            Some(k) => k.trim().to_string(),
            None => match spec.mapping.kpi_for(dim) {
                Some(k) => k.to_string(),
                None => {
                    p.skipped.unmapped += 1;
                    continue;
                }
            },
        };
        let area = p.area(at, head(area_c), cell(area_c));
        let period = match Period::parse(cell(period_c)) {
            Ok(x) => Some(x),
            Err(e) => {
                p.problems
                    .at(at, head(period_c), cell(period_c), e.to_string());
                None
            }
        };
        let value = match ObsValue::parse(cell(value_c)) {
            Ok(v) => Some(v),
            Err(e) => {
                p.problems
                    .at(at, head(value_c), cell(value_c), e.to_string());
                None
            }
        };
        let status = match status_c.map(cell) {
            None => Some(ObsStatus::Final),
            Some(s) => {
                let st = ObsStatus::parse(s);
                if st.is_none() {
                    p.problems.at(
                        at,
                        head(status_c.unwrap_or(0)),
                        s,
                        "final（確定値）か provisional（速報値）を指定してください / must be final or provisional",
                    );
                }
                st
            }
        };
        let (Some((area_code, level)), Some(period), Some(value), Some(status)) =
            (area, period, value, status)
        else {
            continue;
        };
        let source = source_c
            .map(cell)
            .filter(|s| !s.trim().is_empty())
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|| file_name(file));
        p.candidates.push(Candidate {
            at,
            level,
            class: String::new(),
            obs: Observation {
                kpi_code: kpi,
                period,
                area_code,
                value,
                status,
                source,
                note: note_c.map(cell).unwrap_or("").trim().to_string(),
                entered_by: spec.actor.clone(),
                entered_at: String::new(),
                // Official statistics fetched by an operator: confirmed by that run.
                confirmed_by: spec.actor.clone(),
                confirmed_at: citykpi_store::now_rfc3339(),
            },
        });
    }
    p
}

fn file_name(path: &str) -> String {
    Path::new(path)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.to_string())
}

/// Imports a plain CSV (UTF-8 with or without BOM, or Shift_JIS/CP932).
pub async fn import_csv_file(
    store: &Store,
    path: &Path,
    spec: &ImportSpec,
) -> Result<ComparisonImport, ComparisonError> {
    let text = read_text(path)?;
    import_csv_text(store, &path.display().to_string(), &text, spec).await
}

pub async fn import_csv_text(
    store: &Store,
    file: &str,
    text: &str,
    spec: &ImportSpec,
) -> Result<ComparisonImport, ComparisonError> {
    preflight(store, spec).await?;
    let prepared = prepare_csv(text, file, spec);
    finish(store, prepared, spec).await
}

// ----- shared -----

/// UTF-8 (a BOM is dropped), else Shift_JIS (CP932) as Excel writes it.
fn read_text(path: &Path) -> Result<String, ComparisonError> {
    let file = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| ComparisonError::Read {
        file: file.clone(),
        reason: e.to_string(),
    })?;
    let bytes = bytes
        .strip_prefix(b"\xEF\xBB\xBF".as_slice())
        .unwrap_or(&bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(s.to_string()),
        Err(_) => {
            let (text, _, had_errors) = encoding_rs::SHIFT_JIS.decode(bytes);
            if had_errors {
                Err(ComparisonError::Read {
                    file,
                    reason: "文字コードが UTF-8 でも Shift_JIS でもありません / neither UTF-8 nor Shift_JIS (CP932)".into(),
                })
            } else {
                Ok(text.into_owned())
            }
        }
    }
}

/// What must hold before anything is fetched or read: the city's own code is
/// known, and the KPIs named by flags exist.
async fn preflight(store: &Store, spec: &ImportSpec) -> Result<(), ComparisonError> {
    // Into a database with no observations and no city code, comparison data
    // would become "the city" at once.
    if city_code(store, spec).await?.is_none()
        && !spec.dry_run
        && store
            .observations(&ObservationFilter::default())
            .await?
            .is_empty()
    {
        return Err(ComparisonError::NoCityCode);
    }
    if spec.mapping.is_empty() {
        return Ok(());
    }
    let known = store.known_keys().await?;
    if let Some(k) = spec
        .mapping
        .kpis()
        .into_iter()
        .find(|k| !known.kpis.contains(*k))
    {
        return Err(ComparisonError::UnknownKpi(k.to_string()));
    }
    Ok(())
}

/// The city's own code as far as it is known: the setting, else `spec.city`
/// (checked against the list of local governments; not yet stored).
async fn city_code(store: &Store, spec: &ImportSpec) -> Result<Option<String>, ComparisonError> {
    let current = crate::status::city_code(store).await?;
    let Some(given) = spec.city.as_deref() else {
        return Ok(current);
    };
    let code = match AreaList::embedded().resolve(given) {
        Ok(Area::Local(e)) => e.code.clone(),
        Ok(Area::Aggregate(a)) => {
            return Err(ComparisonError::Usage(format!(
                "--city: {} は地方公共団体ではありません / is not a local government",
                a.label()
            )));
        }
        Err(reason) => return Err(ComparisonError::Usage(format!("--city: {reason}"))),
    };
    match current {
        Some(c) if c != code => Err(ComparisonError::CityMismatch {
            set: c,
            given: code,
        }),
        Some(c) => Ok(Some(c)),
        None => {
            // Values kept without an area code are the city's own today;
            // once the code is set, the status would no longer see them.
            let blank = store
                .observations(&ObservationFilter::default().area(""))
                .await?
                .len();
            if blank > 0 {
                return Err(ComparisonError::BlankAreaValues { blank, code });
            }
            Ok(Some(code))
        }
    }
}

/// The area KPI status takes as the city when the code is not set (the most
/// observed; ties to the smaller code, as `status` does).
fn most_observed<'a>(counts: &HashMap<&'a str, usize>) -> Option<&'a str> {
    counts
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
        .map(|(a, _)| *a)
}

/// Checks what only the whole set and the database can tell (KPIs named in
/// the file, duplicate keys, the city's own values), then writes it all in
/// one transaction — or nothing.
async fn finish(
    store: &Store,
    mut p: Prepared,
    spec: &ImportSpec,
) -> Result<ComparisonImport, ComparisonError> {
    let kpi_col = match p.unit {
        RowUnit::Record => "kpi",
        RowUnit::Line => "kpi_code",
    };
    let known = store.known_keys().await?;
    let mut reported = BTreeSet::new();
    for c in &p.candidates {
        if !known.kpis.contains(&c.obs.kpi_code) && reported.insert(c.obs.kpi_code.clone()) {
            p.problems.at(
                c.at,
                kpi_col,
                &c.obs.kpi_code,
                format!(
                    "KPI「{k}」がありません / KPI \"{k}\" does not exist",
                    k = c.obs.kpi_code
                ),
            );
        }
    }
    // One value per KPI, period and area: the same value twice is harmless
    // (dropped), two different values are a problem.
    // A whole table under one KPI collides on every key: the first few
    // collisions are listed, the rest counted.
    const SHOWN_COLLISIONS: usize = 20;
    let mut collisions = 0usize;
    let mut seen: HashMap<(String, Period, String), usize> = HashMap::new();
    let mut unique: Vec<Candidate> = Vec::with_capacity(p.candidates.len());
    for c in std::mem::take(&mut p.candidates) {
        let key = (
            c.obs.kpi_code.clone(),
            c.obs.period,
            c.obs.area_code.clone(),
        );
        match seen.get(&key) {
            Some(&i) if unique[i].obs.value == c.obs.value => {}
            Some(_) if collisions >= SHOWN_COLLISIONS => collisions += 1,
            Some(&i) => {
                collisions += 1;
                let first = &unique[i];
                let classes = if first.class != c.class {
                    format!(" [{} / {}]", first.class, c.class)
                } else {
                    String::new()
                };
                p.problems.at(
                    c.at,
                    kpi_col,
                    &c.obs.kpi_code,
                    format!(
                        "KPI「{k}」・{per}・地域{a}の値が{f}と重複し、値が違います（{v1} と {v2}）{classes}。--cd-cat01 などで絞り込むか --map で別のKPIに振り分けてください / KPI \"{k}\", period {per}, area {a} already has a different value at {f} ({v1} vs {v2}){classes}: narrow with a filter or --map the values to different KPIs",
                        k = c.obs.kpi_code,
                        per = c.obs.period,
                        a = c.obs.area_code,
                        f = match p.unit {
                            RowUnit::Record => format!("{}件目", first.at),
                            RowUnit::Line => format!("{}行目", first.at),
                        },
                        v1 = first.obs.value,
                        v2 = c.obs.value,
                    ),
                );
            }
            None => {
                seen.insert(key, unique.len());
                unique.push(c);
            }
        }
    }
    if collisions > SHOWN_COLLISIONS {
        let more = collisions - SHOWN_COLLISIONS;
        p.problems.push(Problem::file(format!(
            "ほかに{more}件、同じKPI・期間・地域に違う値があります / {more} more values collide on the same KPI, period and area"
        )));
    }
    if !p.problems.is_empty() {
        return Err(p.problems.into_error(&p.source, p.unit));
    }
    // A KPI kept in another unit than the statistics is most likely a wrong mapping.
    if !p.units.is_empty() {
        let fold = |u: &str| citykpi_domain::text::normalize(u).to_lowercase();
        for kpi in store.kpis().await? {
            let Some(units) = p.units.get(&kpi.code) else {
                continue;
            };
            let other: Vec<&str> = units
                .iter()
                .filter(|u| fold(u) != fold(&kpi.unit))
                .map(String::as_str)
                .collect();
            if !other.is_empty() {
                p.warnings.push(format!(
                    "KPI「{k}」の単位は「{ku}」ですが、統計の単位は「{su}」です / KPI \"{k}\" is kept in \"{ku}\" but the statistics are in \"{su}\"",
                    k = kpi.code,
                    ku = kpi.unit,
                    su = other.join("、"),
                ));
            }
        }
    }
    let mut city = city_code(store, spec).await?;
    let city_known = city.is_some();
    if !city_known {
        // Status takes the most observed area as the city: the import may not
        // change which one that is.
        let existing = store.observations(&ObservationFilter::default()).await?;
        let mut counts: HashMap<&str, usize> = HashMap::new();
        let mut keys: std::collections::HashSet<(&str, Period, &str)> =
            std::collections::HashSet::new();
        for o in &existing {
            *counts.entry(o.area_code.as_str()).or_default() += 1;
            keys.insert((o.kpi_code.as_str(), o.period, o.area_code.as_str()));
        }
        let before = most_observed(&counts).map(str::to_string);
        for c in &unique {
            let key = (
                c.obs.kpi_code.as_str(),
                c.obs.period,
                c.obs.area_code.as_str(),
            );
            if !keys.contains(&key) {
                *counts.entry(c.obs.area_code.as_str()).or_default() += 1;
            }
        }
        let after = most_observed(&counts).map(str::to_string);
        if before != after {
            if !spec.dry_run {
                return Err(ComparisonError::NoCityCode);
            }
            p.warnings.push(
                "自市の団体コードが未設定です（取り込むときは --city で指定） / the city's own code is not set (give --city when importing)".into(),
            );
        }
        city = before.filter(|c| !c.is_empty());
    }
    // The city's own values from another source are kept.
    if !spec.overwrite_own_city
        && let Some(city) = city.clone()
        && unique.iter().any(|c| c.obs.area_code == city)
    {
        let kpis: BTreeSet<&str> = unique.iter().map(|c| c.obs.kpi_code.as_str()).collect();
        let own: HashMap<(String, Period), String> = store
            .observations(&ObservationFilter::default().kpis(kpis).area(city.clone()))
            .await?
            .into_iter()
            .map(|o| ((o.kpi_code, o.period), o.source))
            .collect();
        let before = unique.len();
        unique.retain(|c| {
            c.obs.area_code != city
                || own
                    .get(&(c.obs.kpi_code.clone(), c.obs.period))
                    .is_none_or(|s| *s == c.obs.source)
        });
        p.skipped.own_city = before - unique.len();
        if p.skipped.own_city > 0 {
            p.warnings.push(format!(
                "自市（{city}）の既存の値{n}件は残しました（上書きは --overwrite-own-city） / kept {n} existing value(s) of the city itself ({city}); --overwrite-own-city replaces them",
                n = p.skipped.own_city
            ));
        }
    }
    let observations: Vec<Observation> = unique.iter().map(|c| c.obs.clone()).collect();
    let replaced_with_missing = crate::data::replaced_with_missing(store, &observations).await?;
    if replaced_with_missing > 0 {
        p.warnings.push(format!(
            "保存済みの実数値{n}件を欠測・秘匿で置き換えます / {n} stored value(s) will be replaced with missing or secret",
            n = replaced_with_missing
        ));
    }
    let mut areas: BTreeMap<&str, AreaLevel> = BTreeMap::new();
    for c in &unique {
        areas.insert(&c.obs.area_code, c.level);
    }
    let level_count = |l| areas.values().filter(|x| **x == l).count();
    let periods: BTreeSet<Period> = unique.iter().map(|c| c.obs.period).collect();
    let kpis: BTreeSet<&str> = unique.iter().map(|c| c.obs.kpi_code.as_str()).collect();
    let mut result = ComparisonImport {
        source: p.source.clone(),
        title: p.title.clone(),
        pages: p.pages,
        values_read: p.values_read,
        observations: observations.len(),
        kpis: kpis.iter().map(|k| k.to_string()).collect(),
        areas: areas.len(),
        prefectures: level_count(AreaLevel::Prefecture),
        municipalities: level_count(AreaLevel::Municipality),
        wards: level_count(AreaLevel::Ward),
        periods: periods.iter().map(|x| x.to_string()).collect(),
        missing: count_kind(&observations, ObsValue::Missing),
        secret: count_kind(&observations, ObsValue::Secret),
        replaced_with_missing,
        skipped: p.skipped.clone(),
        applied: None,
        warnings: p.warnings.clone(),
    };
    // A city code given for the first time is kept (before the data, so
    // that status never sees comparison data without it).
    if !spec.dry_run
        && city_known
        && let Some(city) = &city
        && crate::status::city_code(store).await?.is_none()
    {
        store.set_setting(crate::settings::CITY_CODE, city).await?;
    }
    if !spec.dry_run && !observations.is_empty() {
        let actor = if spec.actor.is_empty() {
            "comparison"
        } else {
            spec.actor.as_str()
        };
        // One transaction with one audit row saying where the values came from.
        let detail = serde_json::json!({
            "source": result.source,
            "title": result.title,
            "pages": result.pages,
            "values_read": result.values_read,
            "areas": result.areas,
            "periods": [result.periods.first(), result.periods.last()],
            "skipped": result.skipped,
        });
        let counts = store
            .record_measurements(&observations, actor, AUDIT_ACTION, detail)
            .await?;
        result.applied = Some(counts);
    } else if !spec.dry_run {
        result.applied = Some(Counts::default());
    }
    Ok(result)
}

fn count_kind(obs: &[Observation], kind: ObsValue) -> usize {
    obs.iter().filter(|o| o.value == kind).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_codes() {
        let fy = |y| Period::Year(FiscalYear::new(y).unwrap());
        assert_eq!(estat_period("1981100000"), Ok((fy(1981), "")));
        assert_eq!(
            estat_period("2020000000"),
            Ok((fy(2020), "暦年 / calendar year"))
        );
        assert_eq!(estat_period("2020000404"), Ok((Period::Month(2020, 4), "")));
        assert!(estat_period("2020000103").is_err());
        assert!(estat_period("2020001313").is_err());
        assert!(estat_period("1981").unwrap_err().contains("\"1981\""));
    }

    #[test]
    fn map_rules_and_filters() {
        let r = MapRule::parse("cat01=B1101:AREA_TOTAL").unwrap();
        assert_eq!(
            (r.dimension.as_str(), r.code.as_str(), r.kpi.as_str()),
            ("cat01", "B1101", "AREA_TOTAL")
        );
        assert!(MapRule::parse("cat01:B1101").is_err());
        assert!(MapRule::parse("=B1101:K").is_err());
        let m = KpiMapping {
            default_kpi: Some("DEF".into()),
            rules: vec![r],
        };
        assert_eq!(
            m.kpi_for(|d| (d == "cat01").then_some("B1101")),
            Some("AREA_TOTAL")
        );
        assert_eq!(
            m.kpi_for(|d| (d == "cat01").then_some("B1103")),
            Some("DEF")
        );
        let spec = ImportSpec {
            filters: vec![Filter::new("@cat01", "B1101, B1103")],
            ..ImportSpec::default()
        };
        assert!(spec.passes(|_| Some("B1103")));
        assert!(!spec.passes(|_| Some("B1104")));
        assert!(!spec.passes(|_| None));
    }

    #[test]
    fn the_real_sample_prepared() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../testdata/estat/getStatsData_0000020202_sample.json"
        ))
        .unwrap();
        let data = parse_get_stats_data(&text).unwrap();
        let spec = ImportSpec {
            mapping: KpiMapping::to("AREA"),
            ..ImportSpec::default()
        };
        let p = prepare_estat(&data, "s".into(), 1, &spec);
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        assert_eq!(p.candidates.len(), 10);
        let first = &p.candidates[0].obs;
        assert_eq!(first.area_code, "011002");
        assert_eq!(first.period.to_string(), "1981");
        assert_eq!(first.value, ObsValue::Value(111801.0));
        assert_eq!(first.source, "e-Stat 0000020202 cat01=B1101 tab=00001");
        assert_eq!(p.warnings.len(), 1, "a partial response is said so");
    }
}
