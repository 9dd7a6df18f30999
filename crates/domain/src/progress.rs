//! Progress rules: achievement rate, the expected path, status per KPI and year,
//! and the roll-up from KPIs to measures, policies and plans.

use serde::{Deserialize, Serialize};

/// Status of a KPI (or a plan node) for a fiscal year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// A: the year's target is reached.
    Achieved,
    /// B: at least `on_track` of the way to the year's target.
    OnTrack,
    /// C: some progress from the baseline.
    Behind,
    /// D: no progress, or worse than the baseline.
    AtRisk,
    /// No value to judge: shown explicitly, never as zero.
    NoData,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::Achieved,
        Status::OnTrack,
        Status::Behind,
        Status::AtRisk,
        Status::NoData,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Achieved => "achieved",
            Status::OnTrack => "on_track",
            Status::Behind => "behind",
            Status::AtRisk => "at_risk",
            Status::NoData => "no_data",
        }
    }

    pub fn label_ja(self) -> &'static str {
        match self {
            Status::Achieved => "達成",
            Status::OnTrack => "順調",
            Status::Behind => "遅れ",
            Status::AtRisk => "要注意",
            Status::NoData => "データなし",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Status::Achieved => "Achieved",
            Status::OnTrack => "On track",
            Status::Behind => "Behind",
            Status::AtRisk => "At risk",
            Status::NoData => "No data",
        }
    }

    /// The grade in the plan's style: A–D or ◎○△×; "−" for no data.
    pub fn grade(self, style: GradeStyle) -> &'static str {
        match (style, self) {
            (_, Status::NoData) => "−",
            (GradeStyle::Letters, Status::Achieved) => "A",
            (GradeStyle::Letters, Status::OnTrack) => "B",
            (GradeStyle::Letters, Status::Behind) => "C",
            (GradeStyle::Letters, Status::AtRisk) => "D",
            (GradeStyle::Symbols, Status::Achieved) => "◎",
            (GradeStyle::Symbols, Status::OnTrack) => "○",
            (GradeStyle::Symbols, Status::Behind) => "△",
            (GradeStyle::Symbols, Status::AtRisk) => "×",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GradeStyle {
    #[default]
    Letters,
    Symbols,
}

/// Cut-offs on the achievement rate against the year's target. Each city sets
/// its own, so they are data on the plan, not code.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StatusThresholds {
    /// Rate at or above which the year's target counts as reached (usually 1.0).
    pub achieved: f64,
    /// Rate at or above which the KPI is on track (e.g. 0.8).
    pub on_track: f64,
    /// Rate above which there is "some progress" (usually 0.0).
    pub behind: f64,
    #[serde(default)]
    pub style: GradeStyle,
}

impl Default for StatusThresholds {
    fn default() -> Self {
        Self {
            achieved: 1.0,
            on_track: 0.8,
            behind: 0.0,
            style: GradeStyle::Letters,
        }
    }
}

impl StatusThresholds {
    pub fn classify(&self, rate: Option<f64>) -> Status {
        match rate {
            None => Status::NoData,
            Some(r) if r >= self.achieved => Status::Achieved,
            Some(r) if r >= self.on_track => Status::OnTrack,
            Some(r) if r > self.behind => Status::Behind,
            Some(_) => Status::AtRisk,
        }
    }
}

/// How a parent node combines its children.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RollupMethod {
    /// Weighted average; a child without a weight counts with weight 1.
    #[default]
    Weighted,
    /// Plain average; weights are ignored.
    Plain,
}

use std::collections::{BTreeMap, HashMap};

use crate::fiscal::FiscalYear;
use crate::kpi::{Direction, Kpi, StatusBasis};
use crate::observation::{ObsStatus, Observation, Period};
use crate::plan::{Plan, PlanNode};

/// Achievement rate of `actual` on the way from `baseline` to `target`:
/// 0 = still at the baseline, 1 = target reached, negative = moved the wrong way.
///
/// Without a baseline (or when the target equals the baseline) the rate is the
/// ratio actual ÷ target (target ÷ actual when lower is better), the common
/// 達成率 of Japanese evaluation sheets. For a band, inside the band is 1 and
/// the rate falls with the distance outside it, relative to the band's width.
pub fn achievement_rate(
    direction: &Direction,
    baseline: Option<f64>,
    target: f64,
    actual: f64,
) -> Option<f64> {
    match *direction {
        Direction::Band { lower, upper } => {
            if (lower..=upper).contains(&actual) {
                return Some(1.0);
            }
            let distance = if actual < lower {
                lower - actual
            } else {
                actual - upper
            };
            let scale = (upper - lower)
                .abs()
                .max(lower.abs().max(upper.abs()) * 0.1)
                .max(f64::EPSILON);
            Some(1.0 - distance / scale)
        }
        Direction::HigherIsBetter | Direction::LowerIsBetter => {
            let lower_better = matches!(direction, Direction::LowerIsBetter);
            match baseline {
                Some(b) if (target - b).abs() > f64::EPSILON * target.abs().max(1.0) => {
                    Some((actual - b) / (target - b))
                }
                _ => {
                    // No distance to travel: a ratio against the target itself.
                    if lower_better {
                        if actual == 0.0 {
                            Some(if target >= 0.0 { 1.0 } else { 0.0 })
                        } else {
                            Some(target / actual)
                        }
                    } else if target == 0.0 {
                        Some(if actual >= 0.0 { 1.0 } else { 0.0 })
                    } else {
                        Some(actual / target)
                    }
                }
            }
        }
    }
}

/// The value the KPI should have in `fy` on its planned path: the yearly
/// target if one is set, else linear interpolation between the neighbouring
/// anchor points (baseline, yearly targets, final target). Before the baseline
/// there is no expected value; after the last anchor the last value holds.
pub fn expected_value(kpi: &Kpi, fy: FiscalYear) -> Option<f64> {
    let mut anchors: BTreeMap<FiscalYear, f64> = BTreeMap::new();
    if let Some(b) = kpi.baseline {
        anchors.insert(b.fy, b.value);
    }
    if let Some(f) = kpi.final_target {
        anchors.insert(f.fy, f.value);
    }
    for t in &kpi.targets {
        anchors.insert(t.fy, t.value);
    }
    if let Some(v) = anchors.get(&fy) {
        return Some(*v);
    }
    let before = anchors.range(..fy).next_back();
    let after = anchors.range(fy..).next();
    match (before, after) {
        (Some((&y0, &v0)), Some((&y1, &v1))) => {
            // Only interpolate from the baseline or a target, both are anchors here.
            let t = f64::from(fy.year() - y0.year()) / f64::from(y1.year() - y0.year());
            Some(v0 + (v1 - v0) * t)
        }
        (Some((_, &v)), None) if kpi.baseline.is_some_and(|b| b.fy < fy) && anchors.len() > 1 => {
            Some(v)
        }
        _ => None,
    }
}

/// The progress of one KPI as judged in an evaluation year.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KpiProgress {
    pub kpi_code: String,
    /// The year being evaluated.
    pub fy: FiscalYear,
    /// The latest actual available up to `fy` (publication lags mean it may be older).
    pub actual: Option<f64>,
    pub actual_fy: Option<FiscalYear>,
    pub actual_status: Option<ObsStatus>,
    /// The target (expected path value) of `actual_fy`.
    pub target: Option<f64>,
    /// Achievement rate against `target`.
    pub rate: Option<f64>,
    /// Progress from baseline toward the final target, 0..1 (clamped for display).
    pub progress_to_final: Option<f64>,
    pub status: Status,
    /// The latest actual is older than the KPI's publication lag allows.
    pub stale: bool,
    /// The basis monthly or quarterly values were judged on; None when the
    /// actual is a yearly value (judged as it is).
    #[serde(default)]
    pub basis: Option<StatusBasis>,
    /// The latest period behind `actual` (a month or a quarter for sub-yearly values).
    #[serde(default)]
    pub actual_period: Option<Period>,
    /// How many months (quarters) were added up or averaged into `actual`
    /// (1 for a single value).
    #[serde(default)]
    pub periods_used: u8,
}

/// A monthly or quarterly KPI's reading on its basis.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BasisReading {
    /// The figure shown: the year-to-date sum, the twelve-month sum or mean, or the latest value.
    pub value: f64,
    /// The target for the same span: the yearly target pro-rated to the
    /// periods reported (year to date), or weighted over the two fiscal
    /// years a twelve-month window spans.
    pub target: Option<f64>,
    /// The figure on the scale of a yearly target (year to date: the sum
    /// scaled up to a whole year), which the achievement rate compares.
    pub comparable: f64,
    /// The target on the same yearly scale.
    pub comparable_target: Option<f64>,
    pub periods_used: u8,
}

/// Reads a monthly or quarterly series on `basis` at its period `last`.
/// `values` holds the series' values by period (other frequencies, missing
/// and secret values left out); periods without a value in the window are
/// left out of a mean and filled in proportionally in a sum.
pub fn basis_reading(
    kpi: &Kpi,
    values: &BTreeMap<Period, f64>,
    last: Period,
    basis: StatusBasis,
) -> Option<BasisReading> {
    let (per, n_last) = last.ordinal();
    let fy = last.fiscal_year();
    let pos = i32::from(last.fiscal_position());
    let per_i = i32::from(per);
    let per_f = f64::from(per);
    let window = |from: i32| -> Vec<f64> {
        (from..=n_last)
            .filter_map(|n| Period::from_ordinal(per, n))
            .filter_map(|p| values.get(&p).copied())
            .collect()
    };
    match basis {
        StatusBasis::Latest => {
            let v = *values.get(&last)?;
            let t = expected_value(kpi, fy);
            Some(BasisReading {
                value: v,
                target: t,
                comparable: v,
                comparable_target: t,
                periods_used: 1,
            })
        }
        StatusBasis::YtdSum => {
            let got = window(n_last - pos);
            if got.is_empty() {
                return None;
            }
            let sum: f64 = got.iter().sum();
            let share = got.len() as f64 / per_f;
            let t = expected_value(kpi, fy);
            Some(BasisReading {
                value: sum,
                target: t.map(|t| t * share),
                comparable: sum / share,
                comparable_target: t,
                periods_used: got.len() as u8,
            })
        }
        StatusBasis::Last12Sum | StatusBasis::Last12Mean => {
            let got = window(n_last - per_i + 1);
            if got.is_empty() {
                return None;
            }
            let n = got.len() as f64;
            let sum: f64 = got.iter().sum();
            let value = if basis == StatusBasis::Last12Sum {
                sum * per_f / n
            } else {
                sum / n
            };
            // The window holds pos + 1 periods of this fiscal year and the
            // rest of the previous one: their targets weighted alike.
            let this = expected_value(kpi, fy);
            let prev = expected_value(kpi, fy.prev());
            let in_this = f64::from(pos + 1);
            let t = match (prev, this) {
                (Some(p), Some(t)) => Some((p * (per_f - in_this) + t * in_this) / per_f),
                (None, t) => t,
                (p, None) => p,
            };
            Some(BasisReading {
                value,
                target: t,
                comparable: value,
                comparable_target: t,
                periods_used: got.len() as u8,
            })
        }
    }
}

/// The actual of a fiscal year: the annual value if there is one, else the
/// latest monthly/quarterly value of that year (the year-to-date reading).
fn actual_of_year<'a>(obs: &[&'a Observation], fy: FiscalYear) -> Option<&'a Observation> {
    let in_year = obs
        .iter()
        .filter(|o| o.period.fiscal_year() == fy && o.value.value().is_some());
    let mut best: Option<&Observation> = None;
    for o in in_year {
        best = match best {
            None => Some(o),
            Some(b) => {
                let rank = |p: &Period| match p {
                    Period::Year(_) => (1, 0),
                    Period::Quarter(_, q) => (0, i32::from(*q) * 3),
                    Period::Month(y, m) => (0, y * 12 + i32::from(*m)),
                };
                if rank(&o.period) > rank(&b.period) {
                    Some(o)
                } else {
                    Some(b)
                }
            }
        };
    }
    best
}

/// Judges a KPI for the evaluation year `fy` from its observations for the
/// city's area. `observations` may contain other KPIs and areas; they are ignored.
pub fn evaluate_kpi(
    kpi: &Kpi,
    observations: &[&Observation],
    area_code: &str,
    fy: FiscalYear,
    thresholds: &StatusThresholds,
) -> KpiProgress {
    let own: Vec<&Observation> = observations
        .iter()
        .copied()
        .filter(|o| {
            o.kpi_code == kpi.code && o.area_code == area_code && o.period.fiscal_year() <= fy
        })
        .collect();
    let mut years: Vec<FiscalYear> = own.iter().map(|o| o.period.fiscal_year()).collect();
    years.sort_unstable();
    years.dedup();
    let latest = years.iter().rev().find_map(|y| actual_of_year(&own, *y));
    let basis = kpi.basis();
    // A month or quarter is judged on the KPI's basis; a yearly value as it is.
    let reading = latest
        .filter(|o| !matches!(o.period, Period::Year(_)))
        .and_then(|o| {
            let per = o.period.ordinal().0;
            let values: BTreeMap<Period, f64> = own
                .iter()
                .filter(|x| x.period.ordinal().0 == per)
                .filter_map(|x| x.value.value().map(|v| (x.period, v)))
                .collect();
            basis_reading(kpi, &values, o.period, basis)
        });
    let actual_fy = latest.map(|o| o.period.fiscal_year());
    let baseline = kpi.baseline.map(|b| b.value);
    let (actual, target, rate, comparable) = match reading {
        Some(r) => (
            Some(r.value),
            r.target,
            r.comparable_target
                .and_then(|t| achievement_rate(&kpi.direction, baseline, t, r.comparable)),
            Some(r.comparable),
        ),
        None => {
            let actual = latest.and_then(|o| o.value.value());
            let target = actual_fy.and_then(|y| expected_value(kpi, y));
            let rate = match (actual, target) {
                (Some(a), Some(t)) => achievement_rate(&kpi.direction, baseline, t, a),
                _ => None,
            };
            (actual, target, rate, actual)
        }
    };
    let progress_to_final = match (comparable, kpi.final_target) {
        (Some(a), Some(f)) => {
            achievement_rate(&kpi.direction, baseline, f.value, a).map(|r| r.clamp(0.0, 1.0))
        }
        _ => None,
    };
    let expected_latest = fy.year() - i32::from(kpi.publication_lag_years);
    let stale = actual_fy.is_none_or(|y| y.year() < expected_latest - 1);
    KpiProgress {
        kpi_code: kpi.code.clone(),
        fy,
        actual,
        actual_fy,
        actual_status: latest.map(|o| o.status),
        target,
        rate,
        progress_to_final,
        status: thresholds.classify(rate),
        stale,
        basis: reading.map(|_| basis),
        actual_period: latest.map(|o| o.period),
        periods_used: reading
            .map(|r| r.periods_used)
            .unwrap_or(u8::from(latest.is_some())),
    }
}

/// Counts of KPIs by status under a node.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusCounts {
    pub achieved: usize,
    pub on_track: usize,
    pub behind: usize,
    pub at_risk: usize,
    pub no_data: usize,
}

impl StatusCounts {
    pub fn add(&mut self, s: Status) {
        match s {
            Status::Achieved => self.achieved += 1,
            Status::OnTrack => self.on_track += 1,
            Status::Behind => self.behind += 1,
            Status::AtRisk => self.at_risk += 1,
            Status::NoData => self.no_data += 1,
        }
    }
    pub fn merge(&mut self, o: &StatusCounts) {
        self.achieved += o.achieved;
        self.on_track += o.on_track;
        self.behind += o.behind;
        self.at_risk += o.at_risk;
        self.no_data += o.no_data;
    }
    pub fn total(&self) -> usize {
        self.achieved + self.on_track + self.behind + self.at_risk + self.no_data
    }
    pub fn get(&self, s: Status) -> usize {
        match s {
            Status::Achieved => self.achieved,
            Status::OnTrack => self.on_track,
            Status::Behind => self.behind,
            Status::AtRisk => self.at_risk,
            Status::NoData => self.no_data,
        }
    }
}

/// A plan node (or the plan itself) with its rolled-up rate and status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeProgress {
    pub code: String,
    pub name_ja: String,
    pub level: u8,
    /// The node's weight in its parent's roll-up (None = 1).
    pub weight: Option<f64>,
    /// Rolled-up achievement rate (each child capped to 0..=1 first); None = no data.
    pub rate: Option<f64>,
    pub status: Status,
    /// All KPIs at or below this node, by status (a KPI counted once per node).
    pub counts: StatusCounts,
    pub children: Vec<NodeProgress>,
    /// KPI codes linked directly to this node.
    pub kpis: Vec<String>,
}

/// Rolls KPI progress up a plan's tree. A parent's rate is the (weighted or
/// plain) average of its children's and its own KPIs' rates, each capped to
/// 0..=1 so that one over-achieving KPI cannot hide a failing one. Children
/// without data are left out of the average and counted as "no data"; a node
/// whose children all lack data is itself `NoData` — never zero.
pub fn rollup_plan(
    plan: &Plan,
    nodes: &[PlanNode],
    kpis: &[Kpi],
    progress: &HashMap<String, KpiProgress>,
) -> NodeProgress {
    let plan_nodes: Vec<&PlanNode> = nodes.iter().filter(|n| n.plan_code == plan.code).collect();
    let mut children_of: HashMap<Option<&str>, Vec<&PlanNode>> = HashMap::new();
    for n in &plan_nodes {
        children_of
            .entry(n.parent_code.as_deref())
            .or_default()
            .push(n);
    }
    for v in children_of.values_mut() {
        v.sort_by(|a, b| {
            a.sort_order
                .cmp(&b.sort_order)
                .then_with(|| a.code.cmp(&b.code))
        });
    }
    // KPI links per node code, with the KPI's weight in that node.
    let mut kpis_of: HashMap<&str, Vec<(&Kpi, Option<f64>)>> = HashMap::new();
    for k in kpis {
        for l in &k.nodes {
            kpis_of
                .entry(l.node_code.as_str())
                .or_default()
                .push((k, l.weight));
        }
    }
    let ctx = Rollup {
        plan,
        children_of: &children_of,
        kpis_of: &kpis_of,
        progress,
    };
    let top = ctx.children(None, 0);
    let (rate, counts) = ctx.combine(&top, &[]);
    NodeProgress {
        code: plan.code.clone(),
        name_ja: plan.name_ja.clone(),
        level: 0,
        weight: None,
        rate,
        status: plan.thresholds.classify(rate),
        counts,
        children: top,
        kpis: Vec::new(),
    }
}

struct Rollup<'a> {
    plan: &'a Plan,
    children_of: &'a HashMap<Option<&'a str>, Vec<&'a PlanNode>>,
    kpis_of: &'a HashMap<&'a str, Vec<(&'a Kpi, Option<f64>)>>,
    progress: &'a HashMap<String, KpiProgress>,
}

impl Rollup<'_> {
    fn children(&self, parent: Option<&str>, depth: usize) -> Vec<NodeProgress> {
        // Depth guard: a cycle in parent codes (bad data) must not recurse forever.
        if depth > 16 {
            return Vec::new();
        }
        let Some(nodes) = self.children_of.get(&parent) else {
            return Vec::new();
        };
        nodes
            .iter()
            .map(|n| {
                let children = self.children(Some(n.code.as_str()), depth + 1);
                let own: Vec<(&Kpi, Option<f64>)> = self
                    .kpis_of
                    .get(n.code.as_str())
                    .cloned()
                    .unwrap_or_default();
                let (rate, counts) = self.combine(&children, &own);
                NodeProgress {
                    code: n.code.clone(),
                    name_ja: n.name_ja.clone(),
                    level: n.level,
                    weight: n.weight,
                    rate,
                    status: self.plan.thresholds.classify(rate),
                    counts,
                    children,
                    kpis: own.iter().map(|(k, _)| k.code.clone()).collect(),
                }
            })
            .collect()
    }

    fn combine(
        &self,
        children: &[NodeProgress],
        own: &[(&Kpi, Option<f64>)],
    ) -> (Option<f64>, StatusCounts) {
        let mut counts = StatusCounts::default();
        let mut parts: Vec<(f64, f64)> = Vec::new();
        let weight_of = |w: Option<f64>| match self.plan.rollup {
            RollupMethod::Plain => 1.0,
            RollupMethod::Weighted => w.filter(|w| w.is_finite() && *w >= 0.0).unwrap_or(1.0),
        };
        for c in children {
            counts.merge(&c.counts);
            if let Some(r) = c.rate {
                parts.push((r, weight_of(c.weight)));
            }
        }
        for (k, w) in own {
            let p = self.progress.get(&k.code);
            let status = p.map(|p| p.status).unwrap_or(Status::NoData);
            counts.add(status);
            if let Some(r) = p.and_then(|p| p.rate) {
                parts.push((r.clamp(0.0, 1.0), weight_of(*w)));
            }
        }
        let total_w: f64 = parts.iter().map(|(_, w)| w).sum();
        let rate = if parts.is_empty() || total_w <= 0.0 {
            None
        } else {
            Some(parts.iter().map(|(r, w)| r * w).sum::<f64>() / total_w)
        };
        (rate, counts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kpi::{Frequency, NodeLink, YearValue};
    use crate::observation::ObsValue;
    use crate::plan::LevelName;

    fn fy(y: i32) -> FiscalYear {
        FiscalYear::new(y).unwrap()
    }

    fn kpi(
        code: &str,
        direction: Direction,
        base: (i32, f64),
        fin: (i32, f64),
        nodes: &[(&str, Option<f64>)],
    ) -> Kpi {
        Kpi {
            code: code.into(),
            name_ja: code.into(),
            name_en: String::new(),
            unit: "%".into(),
            direction,
            frequency: Frequency::Annual,
            baseline: Some(YearValue {
                fy: fy(base.0),
                value: base.1,
            }),
            targets: vec![],
            final_target: Some(YearValue {
                fy: fy(fin.0),
                value: fin.1,
            }),
            source: String::new(),
            publication_lag_years: 0,
            description: String::new(),
            owner_sections: vec![],
            nodes: nodes
                .iter()
                .map(|(c, w)| NodeLink {
                    node_code: (*c).into(),
                    weight: *w,
                })
                .collect(),
            sdgs: vec![],
            published: true,
            status_basis: None,
        }
    }

    fn obs(code: &str, period: Period, v: ObsValue, status: ObsStatus) -> Observation {
        Observation {
            kpi_code: code.into(),
            period,
            area_code: "271403".into(),
            value: v,
            status,
            source: String::new(),
            note: String::new(),
            entered_by: String::new(),
            entered_at: String::new(),
            confirmed_by: String::new(),
            confirmed_at: String::new(),
        }
    }

    #[test]
    fn achievement_rate_by_direction() {
        let h = Direction::HigherIsBetter;
        let l = Direction::LowerIsBetter;
        assert_eq!(achievement_rate(&h, Some(50.0), 70.0, 60.0), Some(0.5));
        assert_eq!(achievement_rate(&h, Some(50.0), 70.0, 75.0), Some(1.25));
        assert_eq!(achievement_rate(&h, Some(50.0), 70.0, 45.0), Some(-0.25));
        // Lower is better: 120 → 80, now 100 = half way.
        assert_eq!(achievement_rate(&l, Some(120.0), 80.0, 100.0), Some(0.5));
        assert_eq!(achievement_rate(&l, Some(120.0), 80.0, 130.0), Some(-0.25));
        // No baseline: plain ratio.
        assert_eq!(achievement_rate(&h, None, 200.0, 150.0), Some(0.75));
        assert_eq!(achievement_rate(&l, None, 50.0, 100.0), Some(0.5));
        // Target equal to baseline ("keep the level").
        assert_eq!(achievement_rate(&h, Some(10.0), 10.0, 10.0), Some(1.0));
        let band = Direction::Band {
            lower: 10.0,
            upper: 20.0,
        };
        assert_eq!(achievement_rate(&band, None, 15.0, 12.0), Some(1.0));
        assert_eq!(achievement_rate(&band, None, 15.0, 25.0), Some(0.5));
        assert_eq!(achievement_rate(&band, None, 15.0, 5.0), Some(0.5));
    }

    #[test]
    fn expected_path_is_linear_between_anchors() {
        let mut k = kpi(
            "K",
            Direction::HigherIsBetter,
            (2020, 100.0),
            (2030, 200.0),
            &[],
        );
        assert_eq!(expected_value(&k, fy(2020)), Some(100.0));
        assert_eq!(expected_value(&k, fy(2025)), Some(150.0));
        assert_eq!(expected_value(&k, fy(2030)), Some(200.0));
        assert_eq!(expected_value(&k, fy(2031)), Some(200.0));
        assert_eq!(expected_value(&k, fy(2019)), None);
        // A yearly target bends the path.
        k.targets.push(YearValue {
            fy: fy(2022),
            value: 180.0,
        });
        assert_eq!(expected_value(&k, fy(2021)), Some(140.0));
        assert_eq!(expected_value(&k, fy(2026)), Some(190.0));
    }

    #[test]
    fn status_uses_latest_actual_and_lag() {
        let t = StatusThresholds::default();
        let mut k = kpi(
            "K",
            Direction::HigherIsBetter,
            (2020, 100.0),
            (2030, 200.0),
            &[],
        );
        let data = [
            obs(
                "K",
                Period::Year(fy(2022)),
                ObsValue::Value(118.0),
                ObsStatus::Final,
            ),
            obs(
                "K",
                Period::Year(fy(2023)),
                ObsValue::Value(128.0),
                ObsStatus::Provisional,
            ),
            obs(
                "K",
                Period::Year(fy(2024)),
                ObsValue::Missing,
                ObsStatus::Final,
            ),
            obs(
                "OTHER",
                Period::Year(fy(2024)),
                ObsValue::Value(1.0),
                ObsStatus::Final,
            ),
        ];
        let refs: Vec<&Observation> = data.iter().collect();
        let p = evaluate_kpi(&k, &refs, "271403", fy(2024), &t);
        // Missing 2024 is skipped: the 2023 provisional value is judged against 2023's path (130).
        assert_eq!(p.actual, Some(128.0));
        assert_eq!(p.actual_fy, Some(fy(2023)));
        assert_eq!(p.actual_status, Some(ObsStatus::Provisional));
        assert_eq!(p.target, Some(130.0));
        assert!((p.rate.unwrap() - 28.0 / 30.0).abs() < 1e-12);
        assert_eq!(p.status, Status::OnTrack);
        assert!((p.progress_to_final.unwrap() - 0.28).abs() < 1e-12);
        assert!(!p.stale);
        // Seen from 2027 with no newer data and no lag, it is stale.
        assert!(evaluate_kpi(&k, &refs, "271403", fy(2027), &t).stale);
        k.publication_lag_years = 2;
        assert!(!evaluate_kpi(&k, &refs, "271403", fy(2026), &t).stale);
        // Another area has no data.
        let none = evaluate_kpi(&k, &refs, "131016", fy(2024), &t);
        assert_eq!(none.status, Status::NoData);
        assert_eq!(none.actual, None);
    }

    #[test]
    fn monthly_values_use_the_latest_month_of_the_year() {
        let t = StatusThresholds::default();
        let k = kpi(
            "OT",
            Direction::LowerIsBetter,
            (2020, 20.0),
            (2030, 10.0),
            &[],
        );
        let data = [
            obs(
                "OT",
                Period::Month(2024, 4),
                ObsValue::Value(30.0),
                ObsStatus::Final,
            ),
            obs(
                "OT",
                Period::Month(2025, 3),
                ObsValue::Value(15.0),
                ObsStatus::Final,
            ),
            obs(
                "OT",
                Period::Month(2024, 12),
                ObsValue::Value(40.0),
                ObsStatus::Final,
            ),
        ];
        let refs: Vec<&Observation> = data.iter().collect();
        let p = evaluate_kpi(&k, &refs, "271403", fy(2024), &t);
        assert_eq!(p.actual, Some(15.0));
        // Path for 2024: 20 → 10 over 10 years = 16; actual 15 beats it.
        assert_eq!(p.target, Some(16.0));
        assert_eq!(p.status, Status::Achieved);
    }

    /// Monthly observations from `from` (year, month) on, `None` = missing.
    fn months(code: &str, from: (i32, u8), values: &[Option<f64>]) -> Vec<Observation> {
        let (per, start) = Period::Month(from.0, from.1).ordinal();
        values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                obs(
                    code,
                    Period::from_ordinal(per, start + i as i32).unwrap(),
                    v.map(ObsValue::Value).unwrap_or(ObsValue::Missing),
                    ObsStatus::Final,
                )
            })
            .collect()
    }

    fn some(v: &[f64]) -> Vec<Option<f64>> {
        v.iter().copied().map(Some).collect()
    }

    /// Overtime hours per employee a month (a level): lower is better, 20 h
    /// in FY2020 to 10 h in FY2030, so the path is 17 h in FY2023, 16 h in FY2024.
    fn overtime(basis: Option<StatusBasis>) -> Kpi {
        let mut k = kpi(
            "OT",
            Direction::LowerIsBetter,
            (2020, 20.0),
            (2030, 10.0),
            &[],
        );
        k.frequency = Frequency::Monthly;
        k.status_basis = basis;
        k
    }

    /// April 2023 – September 2024: FY2023 averages 17.5 h, and the twelve
    /// months to September 2024 average 200 / 12 h.
    fn overtime_months() -> Vec<Observation> {
        let mut v = some(&[
            20.0, 18.0, 17.0, 16.0, 14.0, 15.0, 16.0, 17.0, 18.0, 18.0, 19.0, 22.0,
        ]);
        v.extend(some(&[18.0, 17.0, 15.0, 14.0, 12.0, 14.0]));
        months("OT", (2023, 4), &v)
    }

    #[test]
    fn twelve_month_mean_is_the_default_for_monthly_kpis() {
        let t = StatusThresholds::default();
        let k = overtime(None);
        assert_eq!(k.basis(), StatusBasis::Last12Mean);
        let data = overtime_months();
        let refs: Vec<&Observation> = data.iter().collect();
        let p = evaluate_kpi(&k, &refs, "271403", fy(2024), &t);
        // Mean of October 2023 – September 2024.
        assert!((p.actual.unwrap() - 200.0 / 12.0).abs() < 1e-12);
        // Six months of FY2023 (17 h) and six of FY2024 (16 h).
        assert!((p.target.unwrap() - 16.5).abs() < 1e-12);
        // (16.667 − 20) / (16.5 − 20) = 0.952: on track, not achieved.
        assert!((p.rate.unwrap() - (200.0 / 12.0 - 20.0) / -3.5).abs() < 1e-12);
        assert_eq!(p.status, Status::OnTrack);
        assert_eq!(p.basis, Some(StatusBasis::Last12Mean));
        assert_eq!(p.periods_used, 12);
        assert_eq!(p.actual_period, Some(Period::Month(2024, 9)));
        assert_eq!(p.actual_fy, Some(fy(2024)));
        // Progress to the final 10 h from the mean: (20 − 16.667) / 10.
        assert!((p.progress_to_final.unwrap() - (20.0 - 200.0 / 12.0) / 10.0).abs() < 1e-12);
    }

    #[test]
    fn latest_value_basis_judges_the_month_alone() {
        let t = StatusThresholds::default();
        let k = overtime(Some(StatusBasis::Latest));
        let data = overtime_months();
        let refs: Vec<&Observation> = data.iter().collect();
        let p = evaluate_kpi(&k, &refs, "271403", fy(2024), &t);
        // September's 14 h against FY2024's 16 h: (14 − 20) / (16 − 20) = 1.5.
        assert_eq!(p.actual, Some(14.0));
        assert_eq!(p.target, Some(16.0));
        assert_eq!(p.rate, Some(1.5));
        assert_eq!(p.status, Status::Achieved);
        assert_eq!(p.periods_used, 1);
        // Judged at the end of FY2023: March 2024's 22 h against 17 h is worse than the baseline.
        let p = evaluate_kpi(&k, &refs, "271403", fy(2023), &t);
        assert_eq!(p.actual, Some(22.0));
        assert_eq!(p.status, Status::AtRisk);
        // The twelve-month mean of FY2023 (17.5 h against 17 h) is on track instead.
        let p = evaluate_kpi(&overtime(None), &refs, "271403", fy(2023), &t);
        assert_eq!(p.actual, Some(17.5));
        assert_eq!(p.target, Some(17.0));
        assert!((p.rate.unwrap() - 2.5 / 3.0).abs() < 1e-12);
        assert_eq!(p.status, Status::OnTrack);
    }

    /// Consultations a year (a count): 1,000 in FY2020 to 2,000 in FY2030,
    /// so the path is 1,300 in FY2023 and 1,400 in FY2024.
    fn consultations(basis: StatusBasis) -> Kpi {
        let mut k = kpi(
            "SODAN",
            Direction::HigherIsBetter,
            (2020, 1000.0),
            (2030, 2000.0),
            &[],
        );
        k.frequency = Frequency::Monthly;
        k.status_basis = Some(basis);
        k
    }

    /// October 2023 – September 2024; December 2023 missing when `gap`.
    fn consultation_months(gap: bool) -> Vec<Observation> {
        let mut v = some(&[105.0, 115.0, 125.0, 95.0, 90.0, 130.0]);
        if gap {
            v[2] = None;
        }
        v.extend(some(&[100.0, 110.0, 120.0, 130.0, 100.0, 120.0]));
        months("SODAN", (2023, 10), &v)
    }

    #[test]
    fn year_to_date_sum_against_the_share_of_the_yearly_target() {
        let t = StatusThresholds::default();
        let k = consultations(StatusBasis::YtdSum);
        let data = consultation_months(false);
        let refs: Vec<&Observation> = data.iter().collect();
        let p = evaluate_kpi(&k, &refs, "271403", fy(2024), &t);
        // April – September 2024: 680 against half of 1,400.
        assert_eq!(p.actual, Some(680.0));
        assert_eq!(p.target, Some(700.0));
        // On a yearly scale 1,360 against 1,400 from 1,000: 0.9.
        assert!((p.rate.unwrap() - 0.9).abs() < 1e-12);
        assert_eq!(p.status, Status::OnTrack);
        assert_eq!(p.periods_used, 6);
        assert_eq!(p.basis, Some(StatusBasis::YtdSum));
        // Quarters add up the same way: 300 + 380 in the first half.
        let mut kq = k.clone();
        kq.frequency = Frequency::Quarterly;
        let q = [
            obs(
                "SODAN",
                Period::Quarter(fy(2024), 1),
                ObsValue::Value(300.0),
                ObsStatus::Final,
            ),
            obs(
                "SODAN",
                Period::Quarter(fy(2024), 2),
                ObsValue::Value(380.0),
                ObsStatus::Final,
            ),
            obs(
                "SODAN",
                Period::Quarter(fy(2023), 4),
                ObsValue::Value(999.0),
                ObsStatus::Final,
            ),
        ];
        let refs: Vec<&Observation> = q.iter().collect();
        let p = evaluate_kpi(&kq, &refs, "271403", fy(2024), &t);
        assert_eq!(p.actual, Some(680.0));
        assert_eq!(p.target, Some(700.0));
        assert_eq!(p.periods_used, 2);
        assert_eq!(p.status, Status::OnTrack);
    }

    #[test]
    fn twelve_month_sum_fills_a_missing_month_proportionally() {
        let t = StatusThresholds::default();
        let k = consultations(StatusBasis::Last12Sum);
        let data = consultation_months(false);
        let refs: Vec<&Observation> = data.iter().collect();
        let p = evaluate_kpi(&k, &refs, "271403", fy(2024), &t);
        // 660 + 680 = 1,340 against (1,300 + 1,400) / 2 = 1,350: 340 / 350.
        assert_eq!(p.actual, Some(1340.0));
        assert_eq!(p.target, Some(1350.0));
        assert!((p.rate.unwrap() - 340.0 / 350.0).abs() < 1e-12);
        assert_eq!(p.status, Status::OnTrack);
        // December missing: 1,215 over 11 months, scaled to 12.
        let data = consultation_months(true);
        let refs: Vec<&Observation> = data.iter().collect();
        let p = evaluate_kpi(&k, &refs, "271403", fy(2024), &t);
        assert!((p.actual.unwrap() - 1215.0 * 12.0 / 11.0).abs() < 1e-9);
        assert_eq!(p.periods_used, 11);
        // Year to date is untouched by a gap in the previous fiscal year.
        let p = evaluate_kpi(
            &consultations(StatusBasis::YtdSum),
            &refs,
            "271403",
            fy(2024),
            &t,
        );
        assert_eq!(p.actual, Some(680.0));
    }

    #[test]
    fn thresholds_are_settings() {
        let t = StatusThresholds {
            achieved: 1.0,
            on_track: 0.9,
            behind: 0.2,
            style: GradeStyle::Symbols,
        };
        assert_eq!(t.classify(Some(0.85)), Status::Behind);
        assert_eq!(t.classify(Some(0.2)), Status::AtRisk);
        assert_eq!(t.classify(Some(0.95)), Status::OnTrack);
        assert_eq!(t.classify(None), Status::NoData);
        assert_eq!(Status::OnTrack.grade(t.style), "○");
        assert_eq!(Status::AtRisk.grade(GradeStyle::Letters), "D");
    }

    fn plan(rollup: RollupMethod) -> Plan {
        Plan {
            code: "BP".into(),
            name_ja: "基本計画".into(),
            name_en: String::new(),
            start_fy: fy(2021),
            end_fy: fy(2030),
            level_names: LevelName::defaults(),
            thresholds: StatusThresholds::default(),
            rollup,
            published: true,
        }
    }

    fn node(code: &str, parent: Option<&str>, level: u8, weight: Option<f64>) -> PlanNode {
        PlanNode {
            code: code.into(),
            plan_code: "BP".into(),
            parent_code: parent.map(Into::into),
            level,
            name_ja: code.into(),
            name_en: String::new(),
            sort_order: 0,
            weight,
        }
    }

    fn prog(code: &str, rate: Option<f64>) -> (String, KpiProgress) {
        let t = StatusThresholds::default();
        (
            code.to_string(),
            KpiProgress {
                kpi_code: code.into(),
                fy: fy(2024),
                actual: rate,
                actual_fy: rate.map(|_| fy(2024)),
                actual_status: None,
                target: Some(1.0),
                rate,
                progress_to_final: None,
                status: t.classify(rate),
                stale: false,
                basis: None,
                actual_period: None,
                periods_used: 0,
            },
        )
    }

    #[test]
    fn rollup_weighted_with_nil_weights_and_empty_nodes() {
        let nodes = vec![
            node("P1", None, 1, Some(3.0)),
            node("P2", None, 1, None),
            node("P3", None, 1, None), // no measures at all
            node("M1", Some("P1"), 2, None),
            node("M2", Some("P1"), 2, None),
            node("M3", Some("P2"), 2, None), // only a KPI without data
        ];
        let h = Direction::HigherIsBetter;
        let kpis = vec![
            kpi("K1", h, (2020, 0.0), (2030, 1.0), &[("M1", Some(1.0))]),
            kpi("K2", h, (2020, 0.0), (2030, 1.0), &[("M1", Some(3.0))]),
            kpi("K3", h, (2020, 0.0), (2030, 1.0), &[("M2", None)]),
            kpi("K4", h, (2020, 0.0), (2030, 1.0), &[("M3", None)]),
            // K5 serves both M2 and a node of another plan: only M2 counts here.
            kpi(
                "K5",
                h,
                (2020, 0.0),
                (2030, 1.0),
                &[("M2", None), ("OTHER", None)],
            ),
        ];
        let progress: HashMap<String, KpiProgress> = [
            prog("K1", Some(1.5)), // capped at 1.0 in the roll-up
            prog("K2", Some(0.5)),
            prog("K3", Some(0.9)),
            prog("K4", None),
            prog("K5", Some(-0.3)), // capped at 0
        ]
        .into_iter()
        .collect();
        let r = rollup_plan(&plan(RollupMethod::Weighted), &nodes, &kpis, &progress);
        let p1 = &r.children[0];
        let m1 = &p1.children[0];
        let m2 = &p1.children[1];
        // M1: (1.0*1 + 0.5*3) / 4 = 0.625
        assert!((m1.rate.unwrap() - 0.625).abs() < 1e-12);
        assert_eq!(m1.status, Status::Behind);
        // M2: (0.9 + 0.0) / 2 = 0.45
        assert!((m2.rate.unwrap() - 0.45).abs() < 1e-12);
        // P1: (0.625 + 0.45) / 2
        assert!((p1.rate.unwrap() - 0.5375).abs() < 1e-12);
        assert_eq!(p1.counts.total(), 4);
        assert_eq!(p1.counts.achieved, 1);
        assert_eq!(p1.counts.at_risk, 1);
        // P2 has only a KPI without data: explicit no data, not zero.
        assert_eq!(r.children[1].rate, None);
        assert_eq!(r.children[1].status, Status::NoData);
        assert_eq!(r.children[1].counts.no_data, 1);
        // P3 is empty.
        assert_eq!(r.children[2].rate, None);
        assert_eq!(r.children[2].counts.total(), 0);
        // Plan: only P1 has data, weight 3 → its rate.
        assert!((r.rate.unwrap() - 0.5375).abs() < 1e-12);
        assert_eq!(r.counts.total(), 5);

        let plain = rollup_plan(&plan(RollupMethod::Plain), &nodes, &kpis, &progress);
        // M1 plain: (1.0 + 0.5) / 2
        assert!((plain.children[0].children[0].rate.unwrap() - 0.75).abs() < 1e-12);

        // Nothing at all: the plan still shows an explicit no-data.
        let empty = rollup_plan(&plan(RollupMethod::Weighted), &[], &[], &HashMap::new());
        assert_eq!(empty.rate, None);
        assert_eq!(empty.status, Status::NoData);
    }

    #[test]
    fn rollup_survives_a_parent_cycle() {
        let nodes = vec![node("A", Some("B"), 1, None), node("B", Some("A"), 2, None)];
        let r = rollup_plan(&plan(RollupMethod::Weighted), &nodes, &[], &HashMap::new());
        assert_eq!(r.children.len(), 0);
        assert_eq!(r.status, Status::NoData);
    }
}
