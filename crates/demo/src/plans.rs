//! The Basic Plan and the SDGs Future City Plan: trees, KPIs and their
//! observations.

use std::collections::BTreeMap;

use citykpi_domain::kpi::{Direction, Frequency, Kpi, NodeLink, SdgTag, StatusBasis, YearValue};
use citykpi_domain::observation::{ObsStatus, ObsValue, Observation, Period};
use citykpi_domain::plan::{LevelName, Plan, PlanNode};
use citykpi_domain::progress::{GradeStyle, StatusThresholds};
use citykpi_domain::{Dataset, FiscalYear};

use crate::names::{self, COMPARISON_AREAS};
use crate::org::Org;
use crate::plan_data::{BASIC_PLAN, Dir, KpiDef, MeasureDef, SDGS_PLAN, Source, WARD_MEASURES};
use crate::rng::DemoRng;

/// Calendar fiscal years of the pandemic and how far it pushed visitor-type
/// KPIs below their path (range of the factor).
const PANDEMIC: [(i32, f64, f64); 3] = [(2020, 0.45, 0.65), (2021, 0.6, 0.8), (2022, 0.82, 0.95)];

/// How a KPI is doing, decided up front so that statuses spread across the
/// four grades: the factor on the expected progress.
#[derive(Debug, Clone, Copy)]
enum Fate {
    Ahead,
    OnTrack,
    Behind,
    Worse,
}

impl Fate {
    fn draw(rng: &mut DemoRng) -> Fate {
        match rng.weighted(&[0.27, 0.30, 0.27, 0.16]) {
            0 => Fate::Ahead,
            1 => Fate::OnTrack,
            2 => Fate::Behind,
            _ => Fate::Worse,
        }
    }
    fn progress_factor(self, rng: &mut DemoRng) -> f64 {
        match self {
            Fate::Ahead => rng.between(1.08, 1.45),
            Fate::OnTrack => rng.between(0.84, 0.96),
            Fate::Behind => rng.between(0.2, 0.7),
            Fate::Worse => rng.between(-0.7, -0.12),
        }
    }
}

/// Everything about one KPI the observation builder needs beyond the Kpi itself.
struct KpiPlanInfo {
    def: KpiDef,
    baseline_fy: i32,
    final_fy: i32,
    /// Ward size factor for count KPIs of ward offices (1.0 for the city).
    size: f64,
    decimals: i32,
}

pub struct PlanContext<'a> {
    pub current_fy: FiscalYear,
    pub city_code: &'a str,
}

pub struct PlansResult {
    /// KPI codes by owner section code (first owner first), for program links.
    pub kpis_by_section: BTreeMap<String, Vec<String>>,
}

/// A fiscal year from a computed year; the demo's years are always in range,
/// and clamping keeps the function total.
fn fy(year: i32) -> FiscalYear {
    FiscalYear::containing_clamped(year, 4)
}

fn decimals(def: &KpiDef) -> i32 {
    let fractional = def.baseline.fract() != 0.0 || def.target.fract() != 0.0;
    match def.unit {
        "歳" | "" => 2,
        "%" if def.baseline.abs().max(def.target.abs()) < 10.0 => 2,
        "%" | "分" | "時間" | "㎡" | "点" | "km" => 1,
        _ if fractional => 1,
        _ => 0,
    }
}

fn round_to(v: f64, decimals: i32) -> f64 {
    let p = 10f64.powi(decimals);
    (v * p).round() / p
}

fn direction(dir: Dir) -> Direction {
    match dir {
        Dir::Up => Direction::HigherIsBetter,
        Dir::Down => Direction::LowerIsBetter,
        Dir::Band(lower, upper) => Direction::Band { lower, upper },
    }
}

fn sdg_tags(list: &str) -> Vec<SdgTag> {
    list.split(',').filter_map(SdgTag::parse).collect()
}

fn plan_node(
    code: &str,
    plan: &str,
    parent: Option<&str>,
    level: u8,
    ja: &str,
    en: &str,
    sort: usize,
) -> PlanNode {
    PlanNode {
        code: code.to_string(),
        plan_code: plan.to_string(),
        parent_code: parent.map(str::to_string),
        level,
        name_ja: ja.to_string(),
        name_en: en.to_string(),
        sort_order: sort as i32 + 1,
        weight: None,
    }
}

pub fn build(
    ctx: &PlanContext,
    org: &Org,
    kpi_rng: &mut DemoRng,
    obs_rng: &mut DemoRng,
    ds: &mut Dataset,
) -> PlansResult {
    let cur = ctx.current_fy.year();
    let bp_code = format!("BP{cur}");
    let (bp_start, bp_end) = (cur - 4, cur + 5);
    let (sdgs_start, sdgs_end) = (cur - 1, cur + 1);
    ds.plans.push(Plan {
        code: bp_code.clone(),
        name_ja: format!("{}基本計画{cur}", names::CITY_NAME_JA),
        name_en: format!("{} Basic Plan {cur}", names::CITY_NAME_EN),
        start_fy: fy(bp_start),
        end_fy: fy(bp_end),
        level_names: LevelName::defaults(),
        thresholds: StatusThresholds::default(),
        rollup: Default::default(),
        published: true,
    });
    ds.plans.push(Plan {
        code: "SDGS".to_string(),
        name_ja: format!("{}SDGs未来都市計画", names::CITY_NAME_JA),
        name_en: format!("{} SDGs Future City Plan", names::CITY_NAME_EN),
        start_fy: fy(sdgs_start),
        end_fy: fy(sdgs_end),
        level_names: vec![
            LevelName {
                ja: "分野".into(),
                en: "Area".into(),
            },
            LevelName {
                ja: "取組".into(),
                en: "Initiative".into(),
            },
        ],
        thresholds: StatusThresholds {
            style: GradeStyle::Symbols,
            ..StatusThresholds::default()
        },
        rollup: Default::default(),
        published: true,
    });

    let mut infos: Vec<KpiPlanInfo> = Vec::new();
    let mut builder = KpiBuilder {
        org,
        rng: kpi_rng,
        ds,
        infos: &mut infos,
        seq: 0,
    };

    // Basic Plan: policies, the city hall's measures, then ward measures.
    for (pi, policy) in BASIC_PLAN.iter().enumerate() {
        let policy_code = format!("BP-{:02}", pi + 1);
        builder.ds.plan_nodes.push(plan_node(
            &policy_code,
            &bp_code,
            None,
            1,
            policy.ja,
            policy.en,
            pi,
        ));
        for (mi, measure) in policy.measures.iter().enumerate() {
            let code = format!("{policy_code}-{:02}", mi + 1);
            builder.ds.plan_nodes.push(plan_node(
                &code,
                &bp_code,
                Some(&policy_code),
                2,
                measure.ja,
                measure.en,
                mi,
            ));
            builder.measure_kpis(measure, &code, None, bp_start, bp_end);
        }
    }
    let wards: Vec<(String, String)> = org
        .wards()
        .map(|u| (u.code.clone(), u.ward.clone().unwrap_or_default()))
        .collect();
    for (wi, (ward_code, ward)) in wards.iter().enumerate() {
        let size = builder.rng.between(0.6, 1.5);
        for (policy_index, measure) in WARD_MEASURES {
            let policy_code = format!("BP-{:02}", policy_index + 1);
            let code = format!("{policy_code}-W{:03}", wi + 1);
            let ja = measure.ja.replace("{}", ward);
            let en = measure.en.replace("{}", ward);
            let sort = 100 + wi;
            builder.ds.plan_nodes.push(plan_node(
                &code,
                &bp_code,
                Some(&policy_code),
                2,
                &ja,
                &en,
                sort,
            ));
            builder.measure_kpis(
                measure,
                &code,
                Some((ward_code, ward, size)),
                bp_start,
                bp_end,
            );
        }
    }

    // SDGs Future City Plan: own KPIs, and Basic Plan KPIs that serve it too.
    for (pi, policy) in SDGS_PLAN.iter().enumerate() {
        let policy_code = format!("SDGS-{}", pi + 1);
        builder.ds.plan_nodes.push(plan_node(
            &policy_code,
            "SDGS",
            None,
            1,
            policy.ja,
            policy.en,
            pi,
        ));
        for (mi, measure) in policy.measures.iter().enumerate() {
            let code = format!("{policy_code}-{}", mi + 1);
            builder.ds.plan_nodes.push(plan_node(
                &code,
                "SDGS",
                Some(&policy_code),
                2,
                measure.ja,
                measure.en,
                mi,
            ));
            builder.measure_kpis(measure, &code, None, sdgs_start, sdgs_end);
            for shared in measure.shared {
                if let Some(kpi) = builder.ds.kpis.iter_mut().find(|k| k.name_ja == *shared) {
                    kpi.nodes.push(NodeLink {
                        node_code: code.clone(),
                        weight: None,
                    });
                }
            }
        }
    }

    for (kpi, info) in ds.kpis.iter().zip(infos.iter()) {
        observations(ctx, kpi, info, obs_rng, &mut ds.observations);
    }

    let mut kpis_by_section: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for kpi in &ds.kpis {
        for owner in &kpi.owner_sections {
            kpis_by_section
                .entry(owner.clone())
                .or_default()
                .push(kpi.code.clone());
        }
    }
    PlansResult { kpis_by_section }
}

struct KpiBuilder<'a, 'b> {
    org: &'a Org,
    rng: &'b mut DemoRng,
    ds: &'b mut Dataset,
    infos: &'b mut Vec<KpiPlanInfo>,
    seq: usize,
}

impl KpiBuilder<'_, '_> {
    /// Adds the KPIs defined under a measure. `ward` = (ward office code,
    /// ward name, size factor) for ward measures.
    fn measure_kpis(
        &mut self,
        measure: &MeasureDef,
        node_code: &str,
        ward: Option<(&String, &String, f64)>,
        plan_start: i32,
        final_fy: i32,
    ) {
        let owner = match ward {
            Some((ward_code, _, _)) => self.org.section_code(ward_code, measure.sec),
            None => self.org.section_code(measure.dept, measure.sec),
        };
        let Some(owner) = owner.map(str::to_string) else {
            return;
        };
        let co_owner = measure
            .co
            .split_once(':')
            .and_then(|(d, s)| self.org.section_code(d, s))
            .map(str::to_string);
        for (i, def) in measure.kpis.iter().enumerate() {
            self.seq += 1;
            let code = format!("K{:04}", self.seq);
            let (name_ja, name_en, size) = match ward {
                Some((_, name, size)) => {
                    (def.ja.replace("{}", name), def.en.replace("{}", name), size)
                }
                None => (def.ja.to_string(), def.en.to_string(), 1.0),
            };
            // Counts scale with the ward; rates do not, but wards differ a little.
            let is_count = matches!(def.unit, "人" | "件");
            let (mut baseline, mut target) = (def.baseline, def.target);
            if ward.is_some() {
                if is_count {
                    baseline *= size;
                    target *= size;
                } else if def.unit == "%" {
                    let shift = self.rng.between(-3.0, 3.0);
                    baseline = (baseline + shift).clamp(0.0, 100.0);
                    target = (target + shift * 0.5).clamp(0.0, 100.0);
                }
            }
            let decimals = decimals(def);
            let (baseline, target) = (round_to(baseline, decimals), round_to(target, decimals));
            // Pandemic-hit KPIs take the pre-pandemic year as their baseline,
            // as cities did; others the year before the plan or the one before.
            let baseline_fy = if def.pandemic || self.rng.chance(0.35) {
                plan_start - 2
            } else {
                plan_start - 1
            };
            let baseline_fy = if def.pandemic {
                baseline_fy.min(2019)
            } else {
                baseline_fy
            };
            let span = (final_fy - baseline_fy).max(1) as f64;
            let final_only = self.rng.chance(0.1);
            let targets: Vec<YearValue> = if final_only {
                Vec::new()
            } else {
                (baseline_fy + 1..final_fy)
                    .map(|y| YearValue {
                        fy: fy(y),
                        value: round_to(
                            baseline + (target - baseline) * (y - baseline_fy) as f64 / span,
                            decimals,
                        ),
                    })
                    .collect()
            };
            let mut owner_sections = vec![owner.clone()];
            if let Some(co) = &co_owner
                && co != &owner
                && (i == 0 || self.rng.chance(0.4))
            {
                owner_sections.push(co.clone());
            }
            let direction = direction(def.dir);
            let when = match def.source.lag_years() {
                0 => "年度終了後すぐに把握",
                1 => "翌年度に公表",
                _ => "2年後に公表",
            };
            let description = format!(
                "施策「{}」の成果を測る指標（{}）。出典：{}（{}）。",
                measure
                    .ja
                    .replace("{}", ward.map(|w| w.1.as_str()).unwrap_or("")),
                direction.label_ja(),
                def.source.name_ja(),
                when
            );
            // Monthly KPIs say how their months are judged: overtime hours
            // are a level per month (the twelve-month mean evens out the
            // season), registered friends a stock (the latest count).
            let status_basis = def.monthly.then(|| {
                if name_ja.contains("登録者数") {
                    StatusBasis::Latest
                } else {
                    StatusBasis::Last12Mean
                }
            });
            self.ds.kpis.push(Kpi {
                code,
                name_ja,
                name_en,
                unit: def.unit.to_string(),
                direction,
                frequency: if def.monthly {
                    Frequency::Monthly
                } else {
                    Frequency::Annual
                },
                baseline: Some(YearValue {
                    fy: fy(baseline_fy),
                    value: baseline,
                }),
                targets,
                final_target: Some(YearValue {
                    fy: fy(final_fy),
                    value: target,
                }),
                source: def.source.name_ja().to_string(),
                publication_lag_years: def.source.lag_years(),
                description,
                owner_sections,
                nodes: vec![NodeLink {
                    node_code: node_code.to_string(),
                    weight: None,
                }],
                sdgs: sdg_tags(def.sdgs),
                // A few drafts, never the measure's headline KPI.
                published: i == 0 || !self.rng.chance(0.05),
                status_basis,
            });
            self.infos.push(KpiPlanInfo {
                def: *def,
                baseline_fy,
                final_fy,
                size,
                decimals,
            });
        }
    }
}

/// Fiscal year of the first observation: a few years of history before the
/// baseline, as cities have when a plan starts.
fn first_observed_fy(current: i32) -> i32 {
    current - 8
}

fn clamp_value(v: f64, def: &KpiDef, baseline: f64, target: f64) -> f64 {
    let v = if def.unit == "%" {
        v.clamp(0.0, 100.0)
    } else {
        v
    };
    if baseline >= 0.0 && target >= 0.0 {
        v.max(0.0)
    } else {
        v
    }
}

/// One observation of `kpi`, recorded as published in `published` (calendar
/// year): provisional values in June, final ones in October.
fn obs(
    kpi: &Kpi,
    period: Period,
    area: &str,
    value: ObsValue,
    (status, note): (ObsStatus, &str),
    published: i32,
) -> Observation {
    let when = match status {
        ObsStatus::Provisional => format!("{published}-06-30T09:00:00+09:00"),
        ObsStatus::Final => format!("{published}-10-01T09:00:00+09:00"),
    };
    Observation {
        kpi_code: kpi.code.clone(),
        period,
        area_code: area.to_string(),
        value,
        status,
        source: kpi.source.clone(),
        note: note.to_string(),
        entered_by: "demo".to_string(),
        confirmed_at: when.clone(),
        confirmed_by: "demo".to_string(),
        entered_at: when,
    }
}

/// The yearly path of a KPI: the baseline at the baseline year, a drift
/// before it, and after it `factor` times the planned progress plus noise.
fn path_value(
    info: &KpiPlanInfo,
    baseline: f64,
    target: f64,
    factor: f64,
    pre_slope: f64,
    t: f64,
) -> f64 {
    let b = info.baseline_fy as f64;
    let span = (info.final_fy as f64 - b).max(1.0);
    if t >= b {
        baseline + (target - baseline) * factor * (t - b) / span
    } else {
        baseline - (target - baseline) * pre_slope * (b - t)
    }
}

fn observations(
    ctx: &PlanContext,
    kpi: &Kpi,
    info: &KpiPlanInfo,
    rng: &mut DemoRng,
    out: &mut Vec<Observation>,
) {
    let cur = ctx.current_fy.year();
    let def = &info.def;
    let lag = i32::from(def.source.lag_years());
    let (Some(base), Some(fin)) = (kpi.baseline, kpi.final_target) else {
        return;
    };
    let (baseline, target) = (base.value, fin.value);
    let factor = Fate::draw(rng).progress_factor(rng);
    let pre_slope = rng.between(0.0, 0.04);
    let noise = rng.between(0.01, 0.035);
    let cumulative = kpi.name_ja.contains("累計") || kpi.name_ja.contains("登録者数");
    let first = first_observed_fy(cur);
    let last = cur - 1 - lag;

    if def.monthly {
        monthly_observations(ctx, kpi, info, rng, factor, out);
        return;
    }

    let mut previous: Option<f64> = None;
    let mut values: Vec<(i32, f64)> = Vec::new();
    for y in first..=last {
        let mut v = if y == info.baseline_fy {
            baseline
        } else {
            let e = rng.normal() * noise * (target - baseline);
            let mut v = path_value(info, baseline, target, factor, pre_slope, y as f64) + e;
            if def.pandemic
                && let Some((_, lo, hi)) = PANDEMIC.iter().find(|p| p.0 == y)
            {
                v *= rng.between(*lo, *hi);
            }
            v
        };
        v = clamp_value(v, def, baseline, target);
        if cumulative && y != info.baseline_fy {
            // A running total never falls, and it reaches the baseline only at
            // the baseline year.
            if y < info.baseline_fy {
                v = v.min(baseline);
            }
            if let Some(p) = previous {
                v = v.max(p);
            }
        }
        v = round_to(v, info.decimals);
        previous = Some(v);
        values.push((y, v));

        let published = y + 1 + lag;
        let (value, note) = if y != info.baseline_fy
            && y == 2020
            && def.source == Source::CitizenSurvey
            && rng.chance(0.5)
        {
            (
                ObsValue::Missing,
                "新型コロナウイルス感染症の影響により調査を中止",
            )
        } else if y != info.baseline_fy && rng.chance(0.015) {
            (ObsValue::Missing, "未集計")
        } else if y != info.baseline_fy
            && (matches!(def.source, Source::EconomicCensus | Source::Manufacturing)
                && rng.chance(0.12)
                || kpi.name_ja.contains("新規投資額") && y == cur - 3)
        {
            (
                ObsValue::Secret,
                "個別事業者が特定されるおそれがあるため秘匿",
            )
        } else {
            (ObsValue::Value(v), "")
        };
        let provisional = y == last && lag <= 1 && rng.chance(0.7);
        let (status, note) = if provisional && matches!(value, ObsValue::Value(_)) {
            (ObsStatus::Provisional, "速報値")
        } else {
            (ObsStatus::Final, note)
        };
        out.push(obs(
            kpi,
            Period::Year(fy(y)),
            ctx.city_code,
            value,
            (status, note),
            published,
        ));
    }

    if def.comparable && info.size == 1.0 {
        for (area, _) in COMPARISON_AREAS {
            let offset = 1.0 + rng.normal() * 0.06;
            let area_factor = rng.between(-0.3, 1.3);
            for &(y, _) in &values {
                let e = rng.normal() * noise * (target - baseline);
                let v = path_value(
                    info,
                    baseline * offset,
                    target * offset,
                    area_factor,
                    pre_slope,
                    y as f64,
                ) + e;
                let v = round_to(clamp_value(v, def, baseline, target), info.decimals);
                let meta = (ObsStatus::Final, "比較都市");
                out.push(obs(
                    kpi,
                    Period::Year(fy(y)),
                    area,
                    ObsValue::Value(v),
                    meta,
                    y + 1 + lag,
                ));
            }
        }
    }
}

/// A fixed noise in about −1.5..1.5 for month `i` of KPI `code`, for the months
/// drawn after the shared random stream's (FNV-1a of the code and month).
fn later_noise(code: &str, i: i32) -> f64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in code.bytes().chain(i.to_le_bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    ((h % 3001) as f64 - 1500.0) / 1000.0
}

/// Monthly KPIs (overtime, LINE friends): months from the baseline year's April
/// to March of the current fiscal year, with a seasonal pattern for flows
/// (the city keeps those ended by its as-of day, see `crate::trim_to_as_of`).
fn monthly_observations(
    ctx: &PlanContext,
    kpi: &Kpi,
    info: &KpiPlanInfo,
    rng: &mut DemoRng,
    factor: f64,
    out: &mut Vec<Observation>,
) {
    // Overtime by fiscal month (April first): busy at the start and end of the
    // fiscal year and in budget season, quiet in August.
    const SEASON: [f64; 12] = [
        1.18, 1.08, 0.95, 0.92, 0.78, 0.88, 0.92, 0.96, 1.02, 1.04, 1.06, 1.21,
    ];
    let cur = ctx.current_fy.year();
    let (Some(base), Some(fin)) = (kpi.baseline, kpi.final_target) else {
        return;
    };
    let (baseline, target) = (base.value, fin.value);
    let def = &info.def;
    let is_stock = kpi.name_ja.contains("登録者数");
    let months_total = ((cur - info.baseline_fy) * 12 + 6).max(0);
    // The rest of the current fiscal year is drawn without the shared stream
    // (so that every other value stays as it was); the city keeps only the
    // months that have ended by its as-of day.
    let months_all = months_total + 6;
    let mut previous: Option<f64> = None;
    for i in 0..months_all {
        let fy_year = info.baseline_fy + i / 12;
        let fiscal_month = (i % 12) as usize;
        let t = info.baseline_fy as f64 + (i as f64 + 0.5) / 12.0;
        let mut v = path_value(info, baseline, target, factor, 0.0, t);
        let n = if i < months_total {
            rng.normal()
        } else {
            later_noise(&kpi.code, i)
        };
        if is_stock {
            v += n * 0.002 * v.abs();
            if let Some(p) = previous {
                v = v.max(p);
            }
        } else {
            v = v * SEASON[fiscal_month] + n * 0.6;
            if fy_year == 2020 {
                // Pandemic response work.
                v *= 1.15;
            }
        }
        let v = round_to(clamp_value(v, def, baseline, target), info.decimals);
        previous = Some(v);
        let calendar_month = (fiscal_month as i32 + 3) % 12 + 1;
        let calendar_year = if calendar_month >= 4 {
            fy_year
        } else {
            fy_year + 1
        };
        let provisional = i >= months_total - 2;
        let (status, note) = if provisional {
            (ObsStatus::Provisional, "速報値")
        } else {
            (ObsStatus::Final, "")
        };
        let period = Period::Month(calendar_year, calendar_month as u8);
        out.push(obs(
            kpi,
            period,
            ctx.city_code,
            ObsValue::Value(v),
            (status, note),
            calendar_year,
        ));
    }
}
