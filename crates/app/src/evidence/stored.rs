//! Evidence on the data in the database: the outcome is a KPI's yearly
//! observations (the city's and, where imported, other areas'; an imported
//! e-Stat / SDMX statistic is stored the same way, under the KPI code it was
//! mapped to), the treatment year defaults to the program's start, the
//! comparison units are the areas whose values for that KPI are stored (peer
//! municipalities, or the city's own wards), and the predictors are other
//! stored KPIs / statistics of the same areas. The panel is read here and
//! handed to [`super::engine`] on a blocking thread, so a long run never
//! holds up the server's other requests.

use std::collections::{BTreeMap, BTreeSet};

use citykpi_analytics::panel::Panel;
use citykpi_analytics::synth::{PredictorSpec, WeightSolver};
use citykpi_domain::evidence::LinkEvidence;
use citykpi_domain::observation::{ObsValue, Period};
use citykpi_domain::program::EvidenceGrade;
use citykpi_store::{ObservationFilter, Store};
use serde::{Deserialize, Serialize};

use super::engine::{self, DidInput, EvidenceError, EvidenceReport, ItsInput, Method, SynthInput};
use crate::AppError;
use crate::comparison::AreaList;

/// What to run. Omitted fields take their defaults: the treatment year the
/// program's start, the units every stored area of the KPI other than the city.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredRequest {
    /// The outcome: a KPI (or a statistic imported under a KPI code).
    pub kpi: String,
    pub method: Method,
    /// The program whose effect is asked about (its start year is the default
    /// treatment year; its link to the KPI is where the result is saved).
    #[serde(default)]
    pub program: Option<String>,
    /// First fiscal year under treatment.
    #[serde(default)]
    pub treatment_year: Option<i32>,
    /// Comparison units (6-digit area codes); empty = every stored area.
    #[serde(default)]
    pub units: Vec<String>,
    /// Predictors for the synthetic control: KPI codes whose stored values
    /// for the same areas are averaged over the pre-treatment years.
    #[serde(default)]
    pub predictors: Vec<String>,
    /// In-space placebo tests (synthetic control): the p-value and the city's rank.
    #[serde(default)]
    pub placebos: bool,
    /// Drop donors with missing years instead of refusing with their list.
    #[serde(default)]
    pub drop_incomplete_donors: bool,
}

/// An area in the workbench: code, name, how many yearly values it has.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnitInfo {
    pub code: String,
    pub name: String,
    pub years: usize,
}

/// What the form offers for a KPI.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Choices {
    pub kpi: String,
    pub city: UnitInfo,
    /// Areas other than the city with stored values for the KPI.
    pub units: Vec<UnitInfo>,
    /// Years with a stored value for the city.
    pub years: Vec<i32>,
    /// The program's start year, when a program is given and has one.
    pub default_treatment_year: Option<i32>,
    /// Other KPIs with values for the same areas (possible predictors).
    pub predictors: Vec<(String, String)>,
}

/// A finished run: the design as run, the result, and what it means.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredRun {
    pub request: StoredRequest,
    pub kpi_name_ja: String,
    pub kpi_name_en: String,
    pub kpi_unit: String,
    pub city: UnitInfo,
    pub treatment_year: i32,
    pub units: Vec<UnitInfo>,
    pub periods: Vec<i64>,
    /// What the estimate was computed from (kept with saved evidence).
    pub data: String,
    pub report: EvidenceReport,
    /// The result in a sentence for a non-statistician.
    pub summary_ja: String,
    pub summary_en: String,
}

fn area_name(code: &str) -> String {
    AreaList::embedded()
        .get(code)
        .map(|e| e.name.clone())
        .unwrap_or_else(|| code.to_string())
}

/// Yearly values of a KPI by area: `area → year → value` (missing and
/// secret cells are None, kept so they show as gaps, never as zero).
async fn yearly(
    store: &Store,
    kpi: &str,
) -> Result<BTreeMap<String, BTreeMap<i64, Option<f64>>>, EvidenceError> {
    let obs = store
        .observations(&ObservationFilter::all().kpis([kpi]))
        .await?;
    let mut out: BTreeMap<String, BTreeMap<i64, Option<f64>>> = BTreeMap::new();
    for o in obs {
        if let Period::Year(fy) = o.period {
            let v = match o.value {
                ObsValue::Value(v) if v.is_finite() => Some(v),
                _ => None,
            };
            out.entry(o.area_code)
                .or_default()
                .insert(i64::from(fy.year()), v);
        }
    }
    Ok(out)
}

async fn city(store: &Store) -> Result<String, EvidenceError> {
    crate::status::city_code(store).await?.ok_or_else(|| {
        EvidenceError::invalid(
            "city",
            "自市の団体コードが未設定です（citykpi compare … --city で設定）/ the city's own area code is not set (set it with citykpi compare … --city)",
        )
    })
}

fn info(code: &str, values: Option<&BTreeMap<i64, Option<f64>>>) -> UnitInfo {
    UnitInfo {
        code: code.to_string(),
        name: area_name(code),
        years: values.map_or(0, |v| v.values().filter(|x| x.is_some()).count()),
    }
}

/// The choices the workbench offers for `kpi` (and `program`).
pub async fn choices(
    store: &Store,
    kpi: &str,
    program: Option<&str>,
) -> Result<Choices, EvidenceError> {
    if store.kpi(kpi).await?.is_none() {
        return Err(EvidenceError::App(AppError::NotFound(format!("KPI {kpi}"))));
    }
    let city = city(store).await?;
    let data = yearly(store, kpi).await?;
    let default_treatment_year = match program {
        Some(p) => store
            .program(p)
            .await?
            .and_then(|p| p.start_fy)
            .map(|f| f.year()),
        None => None,
    };
    let areas: BTreeSet<&String> = data.keys().filter(|a| **a != city).collect();
    // Predictors: other KPIs stored for at least one of these areas.
    let mut predictors = Vec::new();
    if !areas.is_empty() {
        let all = store.observations(&ObservationFilter::all()).await?;
        let with_peers: BTreeSet<&str> = all
            .iter()
            .filter(|o| o.kpi_code != kpi && areas.contains(&o.area_code))
            .map(|o| o.kpi_code.as_str())
            .collect();
        for k in store.kpis().await? {
            if with_peers.contains(k.code.as_str()) {
                predictors.push((k.code.clone(), k.name_ja.clone()));
            }
        }
    }
    Ok(Choices {
        kpi: kpi.to_string(),
        city: info(&city, data.get(&city)),
        units: areas.iter().map(|a| info(a, data.get(*a))).collect(),
        years: data
            .get(&city)
            .map(|v| {
                v.iter()
                    .filter(|(_, x)| x.is_some())
                    .map(|(y, _)| *y as i32)
                    .collect()
            })
            .unwrap_or_default(),
        default_treatment_year,
        predictors,
    })
}

/// The panel of a stored request: units = the city first, then the
/// comparison units; periods = every year any of them has; the outcome
/// column named by the KPI code; one column per predictor KPI.
struct Loaded {
    panel: Panel,
    city: UnitInfo,
    units: Vec<UnitInfo>,
    treatment_year: i32,
    kpi_name_ja: String,
    kpi_name_en: String,
    kpi_unit: String,
}

async fn load(store: &Store, req: &StoredRequest) -> Result<Loaded, EvidenceError> {
    let kpi = store
        .kpi(&req.kpi)
        .await?
        .ok_or_else(|| EvidenceError::App(AppError::NotFound(format!("KPI {}", req.kpi))))?;
    let city = city(store).await?;
    let program_start = match &req.program {
        Some(code) => Some(
            store
                .program(code)
                .await?
                .ok_or_else(|| EvidenceError::App(AppError::NotFound(format!("program {code}"))))?
                .start_fy
                .map(|f| f.year()),
        ),
        None => None,
    };
    let treatment_year = req
        .treatment_year
        .or(program_start.flatten())
        .ok_or_else(|| {
            EvidenceError::invalid(
                "treatment_year",
                "介入年度を指定してください（事業に開始年度がありません）/ give the treatment year (the program has no start year)",
            )
        })?;
    let data = yearly(store, &req.kpi).await?;
    if !data.contains_key(&city) {
        return Err(EvidenceError::invalid(
            "outcome",
            format!(
                "{} に自市（{city}）の年度の値がありません / KPI {} has no yearly values for the city ({city})",
                req.kpi, req.kpi
            ),
        ));
    }
    let units: Vec<String> = if req.units.is_empty() {
        if req.method == Method::Its {
            Vec::new()
        } else {
            data.keys().filter(|a| **a != city).cloned().collect()
        }
    } else {
        let mut seen = BTreeSet::new();
        let mut list = Vec::new();
        for u in &req.units {
            let u = u.trim().to_string();
            if u == city || !seen.insert(u.clone()) {
                continue;
            }
            if !data.contains_key(&u) {
                return Err(EvidenceError::invalid(
                    "units",
                    format!(
                        "{u}（{}）には {} の値が保存されていません / no values of {} are stored for {u}",
                        area_name(&u),
                        req.kpi,
                        req.kpi
                    ),
                ));
            }
            list.push(u);
        }
        list
    };
    if req.method != Method::Its && units.is_empty() {
        return Err(EvidenceError::TooFewComparisonUnits {
            need: if req.method == Method::Synth { 2 } else { 1 },
        });
    }
    let mut all_units = vec![city.clone()];
    all_units.extend(units.iter().cloned());
    let periods: Vec<i64> = all_units
        .iter()
        .filter_map(|u| data.get(u))
        .flat_map(|v| v.keys().copied())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let grid = |values: &BTreeMap<String, BTreeMap<i64, Option<f64>>>| -> Vec<Vec<Option<f64>>> {
        all_units
            .iter()
            .map(|u| {
                periods
                    .iter()
                    .map(|t| values.get(u).and_then(|v| v.get(t)).copied().flatten())
                    .collect()
            })
            .collect()
    };
    let outcome = grid(&data);
    let mut columns = BTreeMap::new();
    for p in &req.predictors {
        if p == &req.kpi {
            continue;
        }
        if store.kpi(p).await?.is_none() {
            return Err(EvidenceError::invalid(
                "predictors",
                format!("KPI「{p}」がありません / there is no KPI \"{p}\""),
            ));
        }
        columns.insert(p.clone(), grid(&yearly(store, p).await?));
    }
    let panel = Panel {
        units: all_units,
        periods,
        outcome_name: req.kpi.clone(),
        outcome,
        columns,
    };
    Ok(Loaded {
        city: info(&city, data.get(&city)),
        units: units.iter().map(|u| info(u, data.get(u))).collect(),
        panel,
        treatment_year,
        kpi_name_ja: kpi.name_ja,
        kpi_name_en: kpi.name_en,
        kpi_unit: kpi.unit,
    })
}

/// Runs the engine on a loaded panel (CPU-bound: called on a blocking thread).
fn compute(
    panel: &Panel,
    req: &StoredRequest,
    treatment_year: i32,
) -> Result<EvidenceReport, EvidenceError> {
    let city = panel.units.first().cloned().unwrap_or_default();
    let t0 = i64::from(treatment_year);
    Ok(match req.method {
        Method::Synth => {
            let pre_end = t0 - 1;
            let pre_start = panel.periods.first().copied().unwrap_or(pre_end);
            let mut predictors: Vec<PredictorSpec> = Vec::new();
            if !panel.columns.is_empty() {
                // With other predictors, the outcome's own pre-treatment mean is one too.
                for column in std::iter::once(&panel.outcome_name).chain(panel.columns.keys()) {
                    predictors.push(PredictorSpec {
                        column: column.clone(),
                        from: pre_start,
                        to: pre_end,
                        step: 1,
                    });
                }
            }
            EvidenceReport::Synth(engine::synth(
                panel,
                &SynthInput {
                    treated: city,
                    treatment_time: t0,
                    exclude: Vec::new(),
                    predictors,
                    fit_period: None,
                    placebos: req.placebos,
                    solver: WeightSolver::default(),
                    drop_incomplete_donors: req.drop_incomplete_donors,
                },
            )?)
        }
        Method::Did => EvidenceReport::Did(engine::did(
            panel,
            &DidInput {
                treated: vec![city],
                treatment_time: t0,
                exclude: Vec::new(),
                cluster: panel.units.len() > 2,
            },
        )?),
        Method::Its => {
            let points: Vec<(i64, f64)> = panel
                .periods
                .iter()
                .zip(panel.outcome.first().map(Vec::as_slice).unwrap_or(&[]))
                .filter_map(|(t, v)| v.map(|v| (*t, v)))
                .collect();
            EvidenceReport::Its(engine::its(
                &points,
                &ItsInput {
                    interruption: t0,
                    newey_west: None,
                },
            )?)
        }
    })
}

/// Runs `req` on the stored data. The estimation runs on a blocking thread.
pub async fn run(store: &Store, req: &StoredRequest) -> Result<StoredRun, EvidenceError> {
    let loaded = load(store, req).await?;
    let req2 = req.clone();
    let treatment_year = loaded.treatment_year;
    let (panel, report) = tokio::task::spawn_blocking(move || {
        let r = compute(&loaded.panel, &req2, treatment_year);
        (loaded, r)
    })
    .await
    .map_err(|e| EvidenceError::invalid("run", e.to_string()))?;
    let loaded = panel;
    let report = report?;
    let names: Vec<String> = loaded
        .units
        .iter()
        .map(|u| format!("{} {}", u.code, u.name))
        .collect();
    let data = format!(
        "保存データ / stored data: KPI {} {}; 自市 / city {} {}; 比較 / comparison: {}; 介入 / treatment {}",
        req.kpi,
        loaded.kpi_name_ja,
        loaded.city.code,
        loaded.city.name,
        if names.is_empty() {
            "−".to_string()
        } else {
            names.join(", ")
        },
        treatment_year
    );
    let mut run = StoredRun {
        request: req.clone(),
        kpi_name_ja: loaded.kpi_name_ja,
        kpi_name_en: loaded.kpi_name_en,
        kpi_unit: loaded.kpi_unit,
        city: loaded.city,
        treatment_year,
        units: loaded.units,
        periods: loaded.panel.periods.clone(),
        data,
        report,
        summary_ja: String::new(),
        summary_en: String::new(),
    };
    let (ja, en) = summary(&run);
    run.summary_ja = ja;
    run.summary_en = en;
    Ok(run)
}

/// Runs `req` and saves the result as evidence on the link
/// `req.program` → `req.kpi` (one transaction with its audit row).
pub async fn run_and_save(
    store: &Store,
    req: &StoredRequest,
    grade: Option<EvidenceGrade>,
    note: &str,
    actor: &str,
) -> Result<(i64, StoredRun, LinkEvidence), EvidenceError> {
    let program = req.program.clone().ok_or_else(|| {
        EvidenceError::invalid(
            "program",
            "保存先の事業を指定してください / give the program whose link the evidence is saved on",
        )
    })?;
    let run = run(store, req).await?;
    let ev = run
        .report
        .to_evidence(&program, &req.kpi, grade, note, run.data.clone());
    let id = super::record(store, &ev, actor).await?;
    Ok((id, run, ev))
}

/// How strong a result is, in words.
fn strength(p: Option<f64>) -> (&'static str, &'static str) {
    match p {
        Some(p) if p < 0.05 => (
            "偶然では説明しにくい、はっきりした差です",
            "a clear difference, hard to explain by chance",
        ),
        Some(p) if p < 0.10 => (
            "差はありそうですが、根拠は弱めです",
            "probably a difference, but the evidence is weak",
        ),
        Some(_) => (
            "偶然のばらつきと区別できません",
            "it cannot be told apart from chance variation",
        ),
        None => (
            "強さは判定していません（プラシーボ検定を行うと判定できます）",
            "its strength was not tested (run the placebo tests to test it)",
        ),
    }
}

fn fmt(v: f64) -> String {
    let r = (v * 100.0).round() / 100.0;
    if r == r.trunc() {
        format!("{}", r as i64)
    } else {
        format!("{r}")
    }
}

/// The result in one or two sentences a planner reads, Japanese and English.
pub fn summary(run: &StoredRun) -> (String, String) {
    let est = run.report.estimate();
    let unit = &run.kpi_unit;
    let (dir_ja, dir_en) = if est >= 0.0 {
        ("高く", "higher")
    } else {
        ("低く", "lower")
    };
    let amount = fmt(est.abs());
    let (s_ja, s_en) = strength(run.report.p_value());
    let from = run.treatment_year;
    match &run.report {
        EvidenceReport::Synth(r) => {
            let rank = r
                .placebos
                .as_ref()
                .map(|p| (p.rank, p.runs.len() + 1, p.p_value));
            let (rank_ja, rank_en) = match rank {
                Some((rank, n, p)) => (
                    format!(
                        "比較した{n}団体の中で自市の変化の大きさは{rank}位（p = {}）で、",
                        fmt(p)
                    ),
                    format!(
                        "Among {n} areas the city's change ranks {rank} (p = {}): ",
                        fmt(p)
                    ),
                ),
                None => (String::new(), String::new()),
            };
            (
                format!(
                    "{from}年度以降の「{}」は、事業がなかった場合の推計（比較団体の組み合わせ）より平均 {amount}{unit} {dir_ja}なっています。{rank_ja}{s_ja}。",
                    run.kpi_name_ja
                ),
                format!(
                    "From FY{from}, \"{}\" was on average {amount} {unit} {dir_en} than the estimate of what it would have been without the program (a weighted mix of comparison areas). {rank_en}{s_en}.",
                    run.kpi_name_en
                ),
            )
        }
        EvidenceReport::Did(r) => {
            let ci = r
                .interval
                .map(|i| (fmt(i.lower), fmt(i.upper)))
                .unwrap_or_default();
            (
                format!(
                    "{from}年度以降、自市の「{}」は比較団体と比べて平均 {amount}{unit} {dir_ja}変化しました（95%区間 {}〜{}）。{s_ja}。",
                    run.kpi_name_ja, ci.0, ci.1
                ),
                format!(
                    "From FY{from}, the city's \"{}\" moved on average {amount} {unit} {dir_en} than the comparison areas' (95% interval {} to {}): {s_en}.",
                    run.kpi_name_en, ci.0, ci.1
                ),
            )
        }
        EvidenceReport::Its(r) => {
            let ci = r
                .interval
                .map(|i| (fmt(i.lower), fmt(i.upper)))
                .unwrap_or_default();
            (
                format!(
                    "{from}年度に「{}」は、それまでの傾向から見込まれる値より {amount}{unit} {dir_ja}なりました（95%区間 {}〜{}）。{s_ja}。比較団体を使わないため、同じ時期の他の変化と区別できない点に注意してください。",
                    run.kpi_name_ja, ci.0, ci.1
                ),
                format!(
                    "In FY{from}, \"{}\" came out {amount} {unit} {dir_en} than its earlier trend predicted (95% interval {} to {}): {s_en}. With no comparison areas, other changes at the same time cannot be ruled out.",
                    run.kpi_name_en, ci.0, ci.1
                ),
            )
        }
    }
}
