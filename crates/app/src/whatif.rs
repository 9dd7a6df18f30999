//! Budget what-if (予算の試算) for the finance division: the re-allocation
//! optimiser (`citykpi_analytics::realloc`) run on the stored programs of a
//! budget year. The web page, the API and `citykpi optimise` all call
//! [`run`]; scenarios are saved, reopened, compared, exported to Excel and
//! sent to the assessment (査定) as proposals that finance accepts or rejects
//! one by one — nothing reaches a request without that decision.
//!
//! How the problem is built from the records (documented here because the
//! tests rebuild it by hand):
//! * programs: those running in the budget year or with a request, except
//!   those whose evaluation ended them (廃止・休止・完了 request nothing);
//! * the current cost (the "keep" option): the request, else the running
//!   year's budget (前年度予算) for a program not requested yet;
//! * the program's contribution C: the sum of its KPI links' declared
//!   weights (KPI寄与度), except that a link whose newest recorded evidence
//!   finds no effect (its interval contains 0, or p > 0.05 without an
//!   interval) counts 0; a program's contribution at cost x is
//!   C·√(x / last year's budget) (diminishing returns; C when there is no
//!   budget to compare with);
//! * the options from the evaluation's direction: keep; reduce by
//!   `reduce_percent` (rounded down to the thousand yen); expand by
//!   `expand_percent` (rounded to the thousand) only for 拡充 (or every
//!   program but 縮小 ones with `expand_all`); abolish (0 yen, 0
//!   contribution) unless the program is mandatory (義務的経費, or named in
//!   the rules);
//! * the total budget and the department ceilings: pre-filled with the sum
//!   of the current costs and the ceilings (枠) set in the cycle.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use citykpi_analytics::realloc::{self, ProgramChoices};
pub use citykpi_analytics::realloc::{OptionKind, ProgramOption, ReallocError, ReallocProblem};
use citykpi_domain::FiscalYear;
use citykpi_domain::cycle::sheet::{MAX_YEN, ProgramDirection};
use citykpi_domain::cycle::stage::{Cycle, program_runs_in};
use citykpi_domain::cycle::{CycleError, FieldError};
use citykpi_domain::money::format_yen;
use citykpi_store::{CycleStoreError, NewProposal, Store, StoreError, StoredProposal, WhatIfHead};
use serde::{Deserialize, Serialize};

use crate::AppError;

/// A ceiling's or the budget's marginal value is measured with this much more.
pub const MARGIN_YEN: i64 = 1_000_000;
/// A request never waits longer than this for the optimiser; the best plan
/// found is then shown as not proven optimal, with its certified gap.
pub const TIME_LIMIT_SECONDS: f64 = 20.0;

/// What a what-if service fails with.
#[derive(Debug, thiserror::Error)]
pub enum WhatIfError {
    #[error(transparent)]
    App(#[from] AppError),
    #[error(transparent)]
    Cycle(#[from] CycleStoreError),
    /// The rules cannot be met (the constraint is named) or the input is bad.
    #[error(transparent)]
    Realloc(#[from] ReallocError),
    #[error("試算の計算が中断しました / the computation was interrupted: {0}")]
    Interrupted(String),
}

impl From<StoreError> for WhatIfError {
    fn from(e: StoreError) -> Self {
        WhatIfError::App(AppError::Store(e))
    }
}

impl From<CycleError> for WhatIfError {
    fn from(e: CycleError) -> Self {
        WhatIfError::Cycle(CycleStoreError::Rule(e))
    }
}

impl WhatIfError {
    fn invalid(errors: Vec<FieldError>) -> Self {
        CycleError::Invalid(errors).into()
    }

    /// The problems by form field (`budget_yen`, `ceiling.D01`, `mandatory`,
    /// `name` …), including the constraint an infeasible rule set breaks.
    pub fn field_errors(&self) -> Vec<FieldError> {
        match self {
            WhatIfError::Cycle(CycleStoreError::Rule(CycleError::Invalid(e))) => e.clone(),
            WhatIfError::Realloc(ReallocError::Infeasible {
                constraint,
                need,
                limit,
                need_plain,
                limit_plain,
            }) => {
                let field = match constraint
                    .strip_prefix("部局「")
                    .and_then(|rest| rest.split_once('」'))
                {
                    Some((dept, _)) => format!("ceiling.{dept}"),
                    None => "budget_yen".to_string(),
                };
                let (c_ja, c_en) = constraint
                    .split_once(" / ")
                    .unwrap_or((constraint.as_str(), constraint.as_str()));
                vec![FieldError::new(
                    field,
                    format!(
                        "実行不可能です: {c_ja} — 最低でも{need}円必要ですが上限は{limit}円です"
                    ),
                    format!(
                        "infeasible: {c_en} needs at least ¥{} but the limit is ¥{}",
                        format_yen(*need_plain),
                        format_yen(*limit_plain)
                    ),
                )]
            }
            _ => Vec::new(),
        }
    }

    /// The rules or the input were refused (HTTP 422).
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            WhatIfError::Realloc(_)
                | WhatIfError::Cycle(
                    CycleStoreError::Rule(_)
                        | CycleStoreError::NoCycle { .. }
                        | CycleStoreError::CycleExists { .. }
                )
                | WhatIfError::App(AppError::Invalid { .. })
        )
    }

    /// The record does not exist (HTTP 404).
    pub fn is_not_found(&self) -> bool {
        matches!(
            self,
            WhatIfError::Cycle(CycleStoreError::NotFound { .. })
                | WhatIfError::App(AppError::NotFound(_))
        )
    }

    /// Someone else changed the record first (HTTP 409).
    pub fn is_conflict(&self) -> bool {
        matches!(
            self,
            WhatIfError::Cycle(
                CycleStoreError::Conflict { .. } | CycleStoreError::StaleAmount { .. }
            )
        )
    }
}

pub type WhatIfResult<T> = Result<T, WhatIfError>;

fn default_percent() -> u32 {
    20
}

/// The rules of a what-if: the total budget, the ceilings, the mandatory
/// programs and the abolition limit, and how the options are derived.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rules {
    /// Total budget (yen).
    pub budget_yen: i64,
    /// Department code → ceiling (yen); departments not listed have none.
    #[serde(default)]
    pub ceilings: BTreeMap<String, i64>,
    /// At most this many abolitions per department (None = no limit).
    #[serde(default)]
    pub max_abolitions: Option<u32>,
    /// Programs treated as mandatory besides those marked so (義務的経費).
    #[serde(default)]
    pub mandatory: Vec<String>,
    /// The reduce option's cut, percent of the current cost.
    #[serde(default = "default_percent")]
    pub reduce_percent: u32,
    /// The expand option's increase, percent of the current cost.
    #[serde(default = "default_percent")]
    pub expand_percent: u32,
    /// Offer 拡充 to every program not evaluated 縮小, not only to those evaluated 拡充.
    #[serde(default)]
    pub expand_all: bool,
}

/// Rules as a caller gives them (the API's JSON body): what is missing comes
/// from the cycle ([`default_rules`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesInput {
    pub budget_yen: Option<i64>,
    pub ceilings: Option<BTreeMap<String, i64>>,
    pub max_abolitions: Option<u32>,
    pub mandatory: Option<Vec<String>>,
    pub reduce_percent: Option<u32>,
    pub expand_percent: Option<u32>,
    pub expand_all: Option<bool>,
}

impl RulesInput {
    pub fn over(self, defaults: Rules) -> Rules {
        Rules {
            budget_yen: self.budget_yen.unwrap_or(defaults.budget_yen),
            ceilings: self.ceilings.unwrap_or(defaults.ceilings),
            max_abolitions: self.max_abolitions.or(defaults.max_abolitions),
            mandatory: self.mandatory.unwrap_or(defaults.mandatory),
            reduce_percent: self.reduce_percent.unwrap_or(defaults.reduce_percent),
            expand_percent: self.expand_percent.unwrap_or(defaults.expand_percent),
            expand_all: self.expand_all.unwrap_or(defaults.expand_all),
        }
    }
}

/// Where a program's contribution comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContributionSource {
    /// No KPI link.
    None,
    /// The links' declared weights.
    Declared,
    /// Declared weights, at least one link confirmed by recorded evidence.
    Evidence,
    /// Recorded evidence found no effect on at least one link (counted 0).
    EvidenceNoEffect,
}

impl ContributionSource {
    pub fn label_ja(self) -> &'static str {
        match self {
            ContributionSource::None => "KPIとの関連なし",
            ContributionSource::Declared => "宣言された寄与度",
            ContributionSource::Evidence => "エビデンスで確認",
            ContributionSource::EvidenceNoEffect => "エビデンスで効果なし",
        }
    }
    pub fn label_en(self) -> &'static str {
        match self {
            ContributionSource::None => "no KPI link",
            ContributionSource::Declared => "declared",
            ContributionSource::Evidence => "confirmed by evidence",
            ContributionSource::EvidenceNoEffect => "evidence found no effect",
        }
    }
}

/// A program's line in the result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProgramLine {
    pub program_code: String,
    pub name_ja: String,
    pub name_en: String,
    pub department_code: String,
    pub direction: Option<ProgramDirection>,
    pub mandatory: bool,
    /// 前年度予算額.
    pub last_year_budget: i64,
    pub requested: Option<i64>,
    pub assessed: Option<i64>,
    /// The keep option: the request, else last year's budget.
    pub current_cost: i64,
    /// Contribution at the current cost.
    pub current_contribution: f64,
    pub source: ContributionSource,
    /// The options offered.
    pub options: Vec<ProgramOption>,
    /// The optimal option.
    pub kind: OptionKind,
    pub cost_yen: i64,
    pub contribution: f64,
    /// cost − current cost.
    pub change_yen: i64,
    /// Why the program changes (empty when kept).
    pub reason_ja: String,
    pub reason_en: String,
}

/// A department's line in the result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DepartmentLine {
    pub department_code: String,
    pub name_ja: String,
    pub name_en: String,
    /// Sum of the requests.
    pub requested: i64,
    /// Sum of the current costs.
    pub current_cost: i64,
    pub optimal_cost: i64,
    pub ceiling: Option<i64>,
    pub abolitions: u32,
    /// Contribution gained by one more million yen of this ceiling (both
    /// solves proven optimal); Some(0) = not binding.
    pub shadow_price_per_million_yen: Option<f64>,
}

impl DepartmentLine {
    pub fn binding(&self) -> bool {
        self.shadow_price_per_million_yen.is_some_and(|v| v > 0.0)
    }
}

/// The answer of a what-if.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// The budget year.
    pub fy: FiscalYear,
    pub rules: Rules,
    pub programs: Vec<ProgramLine>,
    pub departments: Vec<DepartmentLine>,
    /// Programs left out: their evaluation ended them (code, direction).
    pub excluded: Vec<(String, ProgramDirection)>,
    pub requested_yen: i64,
    pub current_cost_yen: i64,
    pub optimal_cost_yen: i64,
    pub current_contribution: f64,
    /// The objective: total contribution of the optimal plan.
    pub optimal_contribution: f64,
    /// Whether keeping every program fits the budget and the ceilings.
    pub current_feasible: bool,
    /// Contribution gained by one more million yen of total budget.
    pub shadow_price_per_million_yen: Option<f64>,
    /// The same as yen per unit of contribution.
    pub yen_per_contribution: Option<f64>,
    pub proven_optimal: bool,
    pub relative_gap: f64,
    /// Time of the optimiser: the plan, the budget's and every ceiling's
    /// shadow price.
    pub solve_seconds: f64,
}

impl Outcome {
    pub fn changed(&self) -> impl Iterator<Item = &ProgramLine> {
        self.programs.iter().filter(|p| p.kind != OptionKind::Keep)
    }
}

/// Everything a what-if reads, loaded once.
struct Records {
    fy: FiscalYear,
    programs: Vec<citykpi_domain::program::Program>,
    dept_of_section: HashMap<String, String>,
    departments: Vec<citykpi_domain::org::Department>,
    links: Vec<citykpi_domain::program::KpiLink>,
    evidence: Vec<citykpi_store::StoredEvidence>,
    last_year: HashMap<String, i64>,
    direction: HashMap<String, Option<ProgramDirection>>,
    requests: HashMap<String, (i64, Option<i64>)>,
    ceilings: BTreeMap<String, i64>,
}

async fn load(store: &Store, fy: FiscalYear) -> WhatIfResult<Records> {
    let cycle_fy = Cycle::fy_for_budget(fy);
    let base_fy = fy.prev();
    let (programs, sections, departments, links, evidence, money) = tokio::try_join!(
        store.programs(),
        store.sections(),
        store.departments(),
        store.links(),
        store.link_evidence(None, None),
        store.money_in(base_fy, base_fy),
    )?;
    let sheets = store.sheet_heads(cycle_fy).await?;
    let requests = store.budget_requests(fy).await?;
    let ceilings = store.ceilings(fy).await?;
    Ok(Records {
        fy,
        programs,
        dept_of_section: sections
            .into_iter()
            .map(|s| (s.code, s.department_code))
            .collect(),
        departments,
        links,
        evidence,
        last_year: money
            .iter()
            .filter(|m| m.fy == base_fy)
            .map(|m| (m.program_code.clone(), m.budget()))
            .collect(),
        direction: sheets
            .into_iter()
            .map(|s| (s.head.program_code, s.head.direction))
            .collect(),
        requests: requests
            .into_iter()
            .map(|r| {
                (
                    r.request.program_code,
                    (r.request.requested, r.request.assessed),
                )
            })
            .collect(),
        ceilings: ceilings
            .into_iter()
            .map(|c| (c.department_code, c.amount))
            .collect(),
    })
}

/// Does recorded evidence find no effect? Its interval contains zero, or
/// (without an interval) its p-value is above 0.05.
fn no_effect(ev: &citykpi_domain::evidence::LinkEvidence) -> bool {
    match ev.interval {
        Some((lo, hi)) => lo <= 0.0 && hi >= 0.0,
        None => ev.p_value.is_some_and(|p| p > 0.05),
    }
}

/// A program before the optimiser: its current cost and contribution.
struct Basis {
    line: ProgramLine,
}

fn contribution_at(c: f64, reference: i64, cost: i64) -> f64 {
    if reference <= 0 {
        c
    } else {
        c * (cost as f64 / reference as f64).sqrt()
    }
}

fn percent_of(yen: i64, percent: i64) -> i64 {
    ((i128::from(yen) * i128::from(percent)) / 100) as i64
}

fn bases(r: &Records, rules: &Rules) -> (Vec<Basis>, Vec<(String, ProgramDirection)>) {
    // The newest evidence per link (the store lists newest first).
    let mut newest: HashMap<(&str, &str), &citykpi_domain::evidence::LinkEvidence> = HashMap::new();
    for e in &r.evidence {
        newest
            .entry((
                e.evidence.program_code.as_str(),
                e.evidence.kpi_code.as_str(),
            ))
            .or_insert(&e.evidence);
    }
    let mut contribution: HashMap<&str, (f64, ContributionSource)> = HashMap::new();
    for l in &r.links {
        let entry = contribution
            .entry(l.program_code.as_str())
            .or_insert((0.0, ContributionSource::Declared));
        match newest.get(&(l.program_code.as_str(), l.kpi_code.as_str())) {
            Some(ev) if no_effect(ev) => entry.1 = ContributionSource::EvidenceNoEffect,
            Some(_) => {
                entry.0 += l.weight;
                if entry.1 == ContributionSource::Declared {
                    entry.1 = ContributionSource::Evidence;
                }
            }
            None => entry.0 += l.weight,
        }
    }
    let extra_mandatory: BTreeSet<&str> = rules.mandatory.iter().map(String::as_str).collect();
    let mut out = Vec::new();
    let mut excluded = Vec::new();
    let mut programs: Vec<_> = r
        .programs
        .iter()
        .filter(|p| program_runs_in(p, r.fy) || r.requests.contains_key(&p.code))
        .collect();
    programs.sort_by(|a, b| a.code.cmp(&b.code));
    for p in programs {
        let direction = r.direction.get(&p.code).copied().flatten();
        if let Some(d) = direction
            && d.requests_nothing()
        {
            excluded.push((p.code.clone(), d));
            continue;
        }
        let last = r.last_year.get(&p.code).copied().unwrap_or(0);
        let (requested, assessed) = match r.requests.get(&p.code) {
            Some(&(req, asm)) => (Some(req), asm),
            None => (None, None),
        };
        let current = requested.unwrap_or(last);
        let (c, source) = contribution
            .get(p.code.as_str())
            .copied()
            .unwrap_or((0.0, ContributionSource::None));
        let reference = if last > 0 { last } else { current };
        let mandatory = p.mandatory || extra_mandatory.contains(p.code.as_str());
        let mut options = vec![ProgramOption {
            kind: OptionKind::Keep,
            cost_yen: current,
            contribution: contribution_at(c, reference, current),
        }];
        if current > 0 {
            let reduced = percent_of(current, 100 - i64::from(rules.reduce_percent)) / 1000 * 1000;
            if reduced < current {
                options.push(ProgramOption {
                    kind: OptionKind::Reduce,
                    cost_yen: reduced,
                    contribution: contribution_at(c, reference, reduced),
                });
            }
            let may_expand = direction == Some(ProgramDirection::Expand)
                || (rules.expand_all && direction != Some(ProgramDirection::Reduce));
            let expanded =
                (percent_of(current, 100 + i64::from(rules.expand_percent)) + 500) / 1000 * 1000;
            if may_expand && expanded > current {
                options.push(ProgramOption {
                    kind: OptionKind::Expand,
                    cost_yen: expanded,
                    contribution: contribution_at(c, reference, expanded),
                });
            }
            if !mandatory {
                options.push(ProgramOption {
                    kind: OptionKind::Abolish,
                    cost_yen: 0,
                    contribution: 0.0,
                });
            }
        }
        let keep = options[0];
        out.push(Basis {
            line: ProgramLine {
                program_code: p.code.clone(),
                name_ja: p.name_ja.clone(),
                name_en: p.name_en.clone(),
                department_code: r
                    .dept_of_section
                    .get(&p.section_code)
                    .cloned()
                    .unwrap_or_default(),
                direction,
                mandatory,
                last_year_budget: last,
                requested,
                assessed,
                current_cost: current,
                current_contribution: keep.contribution,
                source,
                options,
                kind: OptionKind::Keep,
                cost_yen: current,
                contribution: keep.contribution,
                change_yen: 0,
                reason_ja: String::new(),
                reason_en: String::new(),
            },
        });
    }
    (out, excluded)
}

/// The rules pre-filled from the cycle of the budget year `fy`: the total of
/// the current costs (requests, else last year's budget), the ceilings set
/// in the cycle, no abolition limit, ±20 %.
pub async fn default_rules(store: &Store, fy: FiscalYear) -> WhatIfResult<Rules> {
    let r = load(store, fy).await?;
    Ok(defaults_of(&r))
}

fn defaults_of(r: &Records) -> Rules {
    let mut rules = Rules {
        budget_yen: 0,
        ceilings: r.ceilings.clone(),
        max_abolitions: None,
        mandatory: Vec::new(),
        reduce_percent: default_percent(),
        expand_percent: default_percent(),
        expand_all: false,
    };
    let (b, _) = bases(r, &rules);
    rules.budget_yen = b.iter().map(|b| b.line.current_cost).sum();
    rules
}

/// Every problem with the rules, by field.
fn check_rules(r: &Records, rules: &Rules) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if !(0..=MAX_YEN * 100).contains(&rules.budget_yen) {
        errors.push(FieldError::new(
            "budget_yen",
            "予算総額は0〜100兆円の範囲にしてください",
            "the total budget must be between 0 and 100 trillion yen",
        ));
    }
    let known: BTreeSet<&str> = r.departments.iter().map(|d| d.code.as_str()).collect();
    for (d, &amount) in &rules.ceilings {
        let field = format!("ceiling.{d}");
        if !known.contains(d.as_str()) {
            errors.push(FieldError::new(
                field,
                format!("部局「{d}」はありません"),
                format!("no department \"{d}\""),
            ));
        } else if !(0..=MAX_YEN).contains(&amount) {
            errors.push(FieldError::new(
                field,
                format!("部局「{d}」の枠は0〜1兆円の範囲にしてください"),
                format!("the ceiling of \"{d}\" must be between 0 and 1 trillion yen"),
            ));
        }
    }
    let programs: BTreeSet<&str> = r.programs.iter().map(|p| p.code.as_str()).collect();
    let unknown: Vec<&str> = rules
        .mandatory
        .iter()
        .map(String::as_str)
        .filter(|c| !programs.contains(c))
        .collect();
    if !unknown.is_empty() {
        errors.push(FieldError::new(
            "mandatory",
            format!("事業コードが見つかりません: {}", unknown.join("、")),
            format!("unknown program codes: {}", unknown.join(", ")),
        ));
    }
    if !(1..=90).contains(&rules.reduce_percent) {
        errors.push(FieldError::new(
            "reduce_percent",
            "縮小率は1〜90%にしてください",
            "the reduction must be 1–90 %",
        ));
    }
    if !(1..=200).contains(&rules.expand_percent) {
        errors.push(FieldError::new(
            "expand_percent",
            "拡充率は1〜200%にしてください",
            "the expansion must be 1–200 %",
        ));
    }
    errors
}

/// The optimiser's problem for these records and rules, with the programs'
/// lines before the choice.
fn problem_of(
    r: &Records,
    rules: &Rules,
) -> (ReallocProblem, Vec<Basis>, Vec<(String, ProgramDirection)>) {
    let (b, excluded) = bases(r, rules);
    let problem = ReallocProblem {
        programs: b
            .iter()
            .map(|b| ProgramChoices {
                program_code: b.line.program_code.clone(),
                department_code: b.line.department_code.clone(),
                mandatory: b.line.mandatory,
                options: b.line.options.clone(),
            })
            .collect(),
        budget_yen: rules.budget_yen,
        department_ceilings: rules.ceilings.clone(),
        max_abolitions_per_department: rules.max_abolitions,
        time_limit_seconds: Some(TIME_LIMIT_SECONDS),
    };
    (problem, b, excluded)
}

/// The optimiser's problem for the budget year `fy` under `rules`, as
/// [`run`] builds it (for checking the service against the engine).
pub async fn problem(store: &Store, fy: FiscalYear, rules: &Rules) -> WhatIfResult<ReallocProblem> {
    let r = load(store, fy).await?;
    let errors = check_rules(&r, rules);
    if !errors.is_empty() {
        return Err(WhatIfError::invalid(errors));
    }
    Ok(problem_of(&r, rules).0)
}

/// The plan and the marginal value of each ceiling, computed off the async
/// workers.
struct Solved {
    plan: realloc::ReallocPlan,
    ceiling_prices: BTreeMap<String, Option<f64>>,
    seconds: f64,
}

fn solve(problem: &ReallocProblem) -> Result<Solved, ReallocError> {
    let start = std::time::Instant::now();
    let plan = realloc::reallocate(problem)?;
    // Each ceiling priced like the budget: one more million yen of it,
    // re-solved; only the difference of two proven optima counts. The
    // re-solves are independent: two at a time (the machine's cores).
    let depts: Vec<&String> = problem.department_ceilings.keys().collect();
    let mut ceiling_prices = BTreeMap::new();
    for pair in depts.chunks(2) {
        let prices: Vec<(String, Option<f64>)> = std::thread::scope(|scope| {
            let handles: Vec<_> = pair
                .iter()
                .map(|d| {
                    let plan = &plan;
                    scope.spawn(move || {
                        let mut relaxed = problem.clone();
                        if let Some(c) = relaxed.department_ceilings.get_mut(*d) {
                            *c = c.saturating_add(MARGIN_YEN);
                        }
                        let price =
                            realloc::optimal_value(&relaxed)
                                .ok()
                                .and_then(|(v, proven)| {
                                    (proven && plan.proven_optimal)
                                        .then(|| (v - plan.optimal.contribution).max(0.0))
                                });
                        ((*d).clone(), price)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect()
        });
        ceiling_prices.extend(prices);
    }
    Ok(Solved {
        plan,
        ceiling_prices,
        seconds: start.elapsed().as_secs_f64(),
    })
}

fn per_100m(contribution: f64, yen: i64) -> f64 {
    if yen == 0 {
        0.0
    } else {
        contribution / (yen.unsigned_abs() as f64) * 1e8
    }
}

/// Why a program changes, in Japanese and English, with its numbers.
fn reason(
    line: &ProgramLine,
    budget_price: Option<f64>,
    ceiling_binding: bool,
) -> (String, String) {
    let d_cost = line.change_yen;
    let d_c = line.contribution - line.current_contribution;
    let rate = per_100m(d_c.abs(), d_cost);
    let market = budget_price.map(|p| p * 100.0);
    let market_ja = market
        .map(|m| format!("（予算全体の限界値は1億円あたり{m:.3}）"))
        .unwrap_or_default();
    let market_en = market
        .map(|m| format!(" (the budget's marginal value is {m:.3} per ¥100M)"))
        .unwrap_or_default();
    let ceiling_ja = if ceiling_binding {
        "部局の枠が上限に達しています。"
    } else {
        ""
    };
    let ceiling_en = if ceiling_binding {
        " The department's ceiling binds."
    } else {
        ""
    };
    match line.kind {
        OptionKind::Keep => (String::new(), String::new()),
        OptionKind::Abolish if line.current_contribution == 0.0 => (
            format!(
                "廃止: KPIへの寄与がありません（{}）。{}円を他の事業に回します。{ceiling_ja}",
                line.source.label_ja(),
                format_yen(line.current_cost)
            ),
            format!(
                "abolish: no contribution to any KPI ({}); ¥{} goes to other programs.{ceiling_en}",
                line.source.label_en(),
                format_yen(line.current_cost)
            ),
        ),
        OptionKind::Abolish | OptionKind::Reduce => (
            format!(
                "{}: {}円の節減で寄与が{:.3}減ります（1億円あたり{rate:.3}）{market_ja}。節減分を他の事業に回すほうが寄与が大きくなります。{ceiling_ja}",
                line.kind.label_ja(),
                format_yen(-d_cost),
                -d_c
            ),
            format!(
                "{}: saving ¥{} loses {:.3} of contribution ({rate:.3} per ¥100M){market_en}; the money does more in other programs.{ceiling_en}",
                if line.kind == OptionKind::Abolish {
                    "abolish"
                } else {
                    "reduce"
                },
                format_yen(-d_cost),
                -d_c
            ),
        ),
        OptionKind::Expand => (
            format!(
                "拡充: {}円の追加で寄与が{:.3}増えます（1億円あたり{rate:.3}）{market_ja}。",
                format_yen(d_cost),
                d_c
            ),
            format!(
                "expand: ¥{} more adds {:.3} of contribution ({rate:.3} per ¥100M){market_en}.",
                format_yen(d_cost),
                d_c
            ),
        ),
    }
}

/// Runs the what-if for the budget year `fy` under `rules`: the optimal
/// allocation against the requests, totals per department, the programs
/// that change and why, the shadow prices of the budget and of each
/// ceiling. The optimiser runs on a blocking thread, never on the async
/// workers that answer other requests.
pub async fn run(store: &Store, fy: FiscalYear, rules: &Rules) -> WhatIfResult<Outcome> {
    let r = load(store, fy).await?;
    let errors = check_rules(&r, rules);
    if !errors.is_empty() {
        return Err(WhatIfError::invalid(errors));
    }
    let (problem, bases, excluded) = problem_of(&r, rules);
    let solved = tokio::task::spawn_blocking(move || solve(&problem))
        .await
        .map_err(|e| WhatIfError::Interrupted(e.to_string()))??;
    let plan = &solved.plan;
    let names: HashMap<&str, (&str, &str)> = r
        .departments
        .iter()
        .map(|d| (d.code.as_str(), (d.name_ja.as_str(), d.name_en.as_str())))
        .collect();
    let departments: Vec<DepartmentLine> = plan
        .departments
        .iter()
        .map(|d| {
            let (ja, en) = names
                .get(d.department_code.as_str())
                .copied()
                .unwrap_or(("", ""));
            DepartmentLine {
                department_code: d.department_code.clone(),
                name_ja: ja.to_string(),
                name_en: en.to_string(),
                requested: bases
                    .iter()
                    .filter(|b| b.line.department_code == d.department_code)
                    .filter_map(|b| b.line.requested)
                    .sum(),
                current_cost: d.current_cost_yen,
                optimal_cost: d.cost_yen,
                ceiling: d.ceiling_yen,
                abolitions: d.abolitions,
                shadow_price_per_million_yen: solved
                    .ceiling_prices
                    .get(&d.department_code)
                    .copied()
                    .flatten(),
            }
        })
        .collect();
    let binding: BTreeSet<&str> = departments
        .iter()
        .filter(|d| d.binding())
        .map(|d| d.department_code.as_str())
        .collect();
    let shadow = plan.shadow_price_per_million_yen;
    let programs: Vec<ProgramLine> = bases
        .into_iter()
        .zip(&plan.choices)
        .map(|(b, chosen)| {
            let mut line = b.line;
            debug_assert_eq!(line.program_code, chosen.program_code);
            line.kind = chosen.kind;
            line.cost_yen = chosen.cost_yen;
            line.contribution = chosen.contribution;
            line.change_yen = chosen.cost_yen - line.current_cost;
            let (ja, en) = reason(
                &line,
                shadow,
                binding.contains(line.department_code.as_str()),
            );
            line.reason_ja = ja;
            line.reason_en = en;
            line
        })
        .collect();
    Ok(Outcome {
        fy,
        rules: rules.clone(),
        requested_yen: programs.iter().filter_map(|p| p.requested).sum(),
        current_cost_yen: plan.current.cost_yen,
        optimal_cost_yen: plan.optimal.cost_yen,
        current_contribution: plan.current.contribution,
        optimal_contribution: plan.optimal.contribution,
        current_feasible: plan.current_feasible,
        shadow_price_per_million_yen: shadow,
        yen_per_contribution: shadow.filter(|s| *s > 0.0).map(|s| MARGIN_YEN as f64 / s),
        proven_optimal: plan.proven_optimal,
        relative_gap: plan.relative_gap,
        solve_seconds: solved.seconds,
        programs,
        departments,
        excluded,
    })
}

// ----- scenarios -----

/// A saved scenario: its name and the outcome as computed when saved.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scenario {
    #[serde(flatten)]
    pub head: WhatIfHead,
    pub outcome: Outcome,
}

/// Saves an outcome under a name (unique within its budget year). Returns the id.
pub async fn save_scenario(
    store: &Store,
    actor: &str,
    name: &str,
    outcome: &Outcome,
) -> WhatIfResult<i64> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > citykpi_domain::limits::NAME_MAX {
        return Err(WhatIfError::invalid(vec![FieldError::new(
            "name",
            "試算の名前を1〜200文字で入力してください",
            "give the scenario a name of 1–200 characters",
        )]));
    }
    let body =
        serde_json::to_value(outcome).map_err(|e| AppError::invalid("outcome", e.to_string()))?;
    let summary = serde_json::json!({
        "budget_yen": outcome.rules.budget_yen,
        "optimal_contribution": outcome.optimal_contribution,
        "optimal_cost_yen": outcome.optimal_cost_yen,
        "proven_optimal": outcome.proven_optimal,
        "programs_changed": outcome.changed().count(),
    });
    Ok(store
        .save_whatif_scenario(outcome.fy, name, &body, &summary, actor)
        .await?)
}

/// The saved scenarios of a budget year, newest first.
pub async fn scenarios(store: &Store, fy: FiscalYear) -> WhatIfResult<Vec<WhatIfHead>> {
    Ok(store.whatif_scenarios(fy).await?)
}

/// One saved scenario, exactly as saved.
pub async fn open_scenario(store: &Store, id: i64) -> WhatIfResult<Scenario> {
    let stored = store
        .whatif_scenario(id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("試算 / scenario {id}")))?;
    let outcome: Outcome =
        serde_json::from_value(stored.body).map_err(|e| CycleStoreError::Damaged {
            what_ja: "試算シナリオ",
            what_en: "what-if scenario",
            key: id.to_string(),
            message: e.to_string(),
        })?;
    Ok(Scenario {
        head: stored.head,
        outcome,
    })
}

/// One program in a side-by-side comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ComparedProgram {
    pub program_code: String,
    pub name_ja: String,
    pub department_code: String,
    pub a: Option<(OptionKind, i64)>,
    pub b: Option<(OptionKind, i64)>,
}

/// Two scenarios side by side: the totals, the departments and the programs
/// whose option or cost differs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    pub a: Scenario,
    pub b: Scenario,
    /// Department → (cost in a, cost in b).
    pub departments: Vec<(String, Option<i64>, Option<i64>)>,
    pub programs: Vec<ComparedProgram>,
}

pub async fn compare(store: &Store, a: i64, b: i64) -> WhatIfResult<Comparison> {
    let a = open_scenario(store, a).await?;
    let b = open_scenario(store, b).await?;
    Ok(comparison(a, b))
}

pub fn comparison(a: Scenario, b: Scenario) -> Comparison {
    let mut depts: BTreeMap<String, (Option<i64>, Option<i64>)> = BTreeMap::new();
    for d in &a.outcome.departments {
        depts.entry(d.department_code.clone()).or_default().0 = Some(d.optimal_cost);
    }
    for d in &b.outcome.departments {
        depts.entry(d.department_code.clone()).or_default().1 = Some(d.optimal_cost);
    }
    let mut progs: BTreeMap<String, ComparedProgram> = BTreeMap::new();
    for (side, s) in [(0, &a), (1, &b)] {
        for p in &s.outcome.programs {
            let e = progs
                .entry(p.program_code.clone())
                .or_insert_with(|| ComparedProgram {
                    program_code: p.program_code.clone(),
                    name_ja: p.name_ja.clone(),
                    department_code: p.department_code.clone(),
                    a: None,
                    b: None,
                });
            let v = Some((p.kind, p.cost_yen));
            if side == 0 {
                e.a = v;
            } else {
                e.b = v;
            }
        }
    }
    Comparison {
        departments: depts.into_iter().map(|(k, (x, y))| (k, x, y)).collect(),
        programs: progs.into_values().filter(|p| p.a != p.b).collect(),
        a,
        b,
    }
}

// ----- to the assessment -----

/// What sending a scenario did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sent {
    pub proposals: usize,
    /// Programs of the scenario without a request to propose on.
    pub without_request: Vec<String>,
}

/// Sends a saved scenario to the assessment of its budget year: a proposal
/// (the scenario's amount) on every request whose assessed amount differs
/// from it. The open proposals of the year are superseded; no request
/// changes until finance accepts a proposal.
pub async fn send_to_assessment(store: &Store, actor: &str, id: i64) -> WhatIfResult<Sent> {
    let s = open_scenario(store, id).await?;
    let current: HashMap<String, Option<i64>> = store
        .budget_requests(s.outcome.fy)
        .await?
        .into_iter()
        .map(|r| (r.request.program_code, r.request.assessed))
        .collect();
    let mut proposals = Vec::new();
    let mut without_request = Vec::new();
    for p in &s.outcome.programs {
        match current.get(&p.program_code) {
            None => without_request.push(p.program_code.clone()),
            Some(assessed) if *assessed == Some(p.cost_yen) => {}
            Some(_) => proposals.push(NewProposal {
                program_code: p.program_code.clone(),
                proposed: p.cost_yen,
                option_kind: option_str(p.kind).to_string(),
                reason: if p.reason_ja.is_empty() {
                    "試算どおり継続（要求額）".to_string()
                } else {
                    p.reason_ja.clone()
                },
            }),
        }
    }
    let n = store
        .send_budget_proposals(s.outcome.fy, id, &s.head.name, &proposals, actor)
        .await?;
    Ok(Sent {
        proposals: n,
        without_request,
    })
}

pub fn option_str(k: OptionKind) -> &'static str {
    match k {
        OptionKind::Abolish => "abolish",
        OptionKind::Reduce => "reduce",
        OptionKind::Keep => "keep",
        OptionKind::Expand => "expand",
    }
}

/// The proposals of a budget year (every state).
pub async fn proposals(store: &Store, fy: FiscalYear) -> WhatIfResult<Vec<StoredProposal>> {
    Ok(store.budget_proposals(fy).await?)
}

/// Finance's decision on one proposal: accepting sets the request's assessed
/// amount to the proposal, rejecting leaves the request as it is.
pub async fn decide(
    store: &Store,
    actor: &str,
    id: i64,
    accept: bool,
) -> WhatIfResult<StoredProposal> {
    Ok(store.decide_budget_proposal(id, accept, actor).await?)
}

/// The Excel workbook of an outcome (`citykpi_reports::whatif`).
pub fn workbook(name: &str, outcome: &Outcome) -> WhatIfResult<Vec<u8>> {
    use citykpi_reports::whatif as x;
    let book = x::WhatIfBook {
        name: name.to_string(),
        fy: outcome.fy,
        summary: vec![
            ("予算総額".into(), x::Value::Yen(outcome.rules.budget_yen)),
            ("要求額計".into(), x::Value::Yen(outcome.requested_yen)),
            (
                "現状（継続）の費用".into(),
                x::Value::Yen(outcome.current_cost_yen),
            ),
            (
                "最適配分の費用".into(),
                x::Value::Yen(outcome.optimal_cost_yen),
            ),
            (
                "現状の寄与".into(),
                x::Value::Number(outcome.current_contribution),
            ),
            (
                "最適配分の寄与".into(),
                x::Value::Number(outcome.optimal_contribution),
            ),
            (
                "予算の潜在価格（100万円あたりの寄与）".into(),
                outcome
                    .shadow_price_per_million_yen
                    .map_or(x::Value::Text("—".into()), x::Value::Number),
            ),
            (
                "寄与1あたりの円".into(),
                outcome
                    .yen_per_contribution
                    .map_or(x::Value::Text("—".into()), x::Value::Number),
            ),
            (
                "最適性".into(),
                x::Value::Text(if outcome.proven_optimal {
                    "証明済み".into()
                } else {
                    format!("未証明（ギャップ {:.2e}）", outcome.relative_gap)
                }),
            ),
        ],
        departments: outcome
            .departments
            .iter()
            .map(|d| x::DepartmentRow {
                code: d.department_code.clone(),
                name: d.name_ja.clone(),
                requested: d.requested,
                current: d.current_cost,
                optimal: d.optimal_cost,
                ceiling: d.ceiling,
                abolitions: d.abolitions,
                shadow_price: d.shadow_price_per_million_yen,
            })
            .collect(),
        programs: outcome
            .programs
            .iter()
            .map(|p| x::ProgramRow {
                code: p.program_code.clone(),
                name: p.name_ja.clone(),
                department: p.department_code.clone(),
                direction: p
                    .direction
                    .map(|d| d.label_ja().to_string())
                    .unwrap_or_default(),
                requested: p.requested,
                current: p.current_cost,
                option: p.kind.label_ja().to_string(),
                optimal: p.cost_yen,
                change: p.change_yen,
                contribution: p.contribution,
                reason: p.reason_ja.clone(),
            })
            .collect(),
    };
    x::whatif_xlsx(&book).map_err(|e| AppError::invalid("xlsx", e.to_string()).into())
}
