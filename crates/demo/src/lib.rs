//! The demo city of citykpi: 「みなと市」, a fictional Japanese designated city
//! whose Mayor's Office steers a Basic Plan and an SDGs Future City Plan by
//! KPIs, with ~1,000 administrative programs and five years of money.
//!
//! [`generate`] is a pure function of [`DemoOptions`]: the same options give a
//! byte-identical [`Dataset`] on every run (ChaCha8 from the seed, no hash-map
//! iteration, no clock). The random stream is the same on every platform; the
//! few `ln`/`exp`/`cos` calls come from the platform's math library, so another
//! OS could in rare cases round a last digit differently. It does no I/O; the
//! CLI writes the result to a database.
//!
//! Logins (all with [`demo_password`]): `admin`; `strategy-kikaku`,
//! `strategy-sdgs`, `strategy-smartcity`, `strategy-koumin` (市長公室);
//! `finance-zaisei`, `finance-yosan`, `finance-keiyaku` (財政局);
//! `editor-<department>` for every department (`editor-kenko`, `editor-kodomo`,
//! … and `editor-<ward>` for ward offices); `approver-<department>` for
//! every department (confirms the actuals its editor enters); `viewer`, `viewer-koho`,
//! `viewer-kyoiku`; and the inactive `viewer-retired`.
//!
//! At scale N the city grows by (N−1)×11 ward offices (区役所), each with its
//! own sections, ward-level measures under the Basic Plan's policies, KPIs and
//! programs, so that programs, sections, departments, KPIs and observations
//! grow about N-fold while there is still one Basic Plan and one SDGs plan.

pub mod cycle;
pub mod names;
mod org;
pub mod outreach;
pub mod partners;
pub mod plan_data;
mod plans;
mod programs;
mod rng;

use std::collections::HashMap;

use citykpi_domain::fiscal::{MAX_FY, MIN_FY};
use citykpi_domain::observation::{ObsStatus, Period};
use citykpi_domain::partner::Day;
use citykpi_domain::{Dataset, FiscalYear};

pub use names::{CITY_NAME_EN, CITY_NAME_JA};

/// The default city code: 271403 (a real designated city's 6-digit local
/// government code, check digit included), so that comparisons with
/// official statistics of neighbouring cities line up. The demo's name and
/// numbers are fictional.
pub const DEFAULT_CITY_CODE: &str = "271403";

/// The largest scale generated: ~100,000 programs and a million indicator rows
/// already take a few hundred MB; a typo like 10000 should not eat the machine.
pub const MAX_SCALE: u32 = 100;

/// The demo's default seed.
pub const DEFAULT_SEED: u64 = 20_250_401;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoOptions {
    /// Size multiplier, 1 to [`MAX_SCALE`] (0 is treated as 1, more as
    /// `MAX_SCALE`).
    pub scale: u32,
    pub seed: u64,
    /// The day the city is made as of: its fiscal year is the one running
    /// then (money to it, yearly actuals to the one before once they are
    /// collected, monthly ones to the month before), its yearly cycle (see
    /// [`cycle`]) and the partnerships' dates stand as a city would have them
    /// on that day. Kept at least ten years inside the accepted fiscal-year
    /// range so that history and targets fit (see [`clamped_as_of`]).
    pub as_of: Day,
    /// 6-digit local-government code of the city (area of its observations).
    pub city_code: String,
}

impl Default for DemoOptions {
    fn default() -> Self {
        Self {
            scale: 1,
            seed: DEFAULT_SEED,
            as_of: reference_day(),
            city_code: DEFAULT_CITY_CODE.to_string(),
        }
    }
}

/// The day the documented numbers are made as of, and the default of
/// [`DemoOptions`]: 15 July 2025, in fiscal year 2025 (令和7年度), while the
/// sections evaluate fiscal year 2024. `citykpi demo` takes today instead.
pub fn reference_day() -> Day {
    Day::new(2025, 7, 15).unwrap_or(Day::EPOCH)
}

/// `day` moved by whole years into the fiscal years the demo can be made in
/// (ten years inside the accepted range on each side), 29 February becoming
/// the 28th.
pub fn clamped_as_of(day: Day) -> Day {
    let fy = FiscalYear::containing_clamped(day.year(), day.month()).year();
    let wanted = fy.clamp(MIN_FY + 10, MAX_FY - 10);
    if wanted == fy {
        return day;
    }
    let year = day.year() + (wanted - fy);
    Day::new(year, day.month(), day.day())
        .or_else(|| Day::new(year, day.month(), 28))
        .unwrap_or(day)
}

/// The fiscal year running on `day` (after [`clamped_as_of`]).
pub fn fiscal_year_of(day: Day) -> FiscalYear {
    let day = clamped_as_of(day);
    FiscalYear::containing_clamped(day.year(), day.month())
}

/// Builds the demo city.
///
/// ```
/// use citykpi_demo::{DemoOptions, generate};
/// let city = generate(&DemoOptions::default());
/// assert_eq!(city.plans.len(), 2); // the Basic Plan and the SDGs plan
/// assert!(city.programs.len() > 900);
/// assert_eq!(city, generate(&DemoOptions::default()));
/// ```
pub fn generate(opts: &DemoOptions) -> Dataset {
    let scale = opts.scale.clamp(1, MAX_SCALE);
    let as_of = clamped_as_of(opts.as_of);
    let current_fy = fiscal_year_of(as_of);
    let mut ds = Dataset::default();
    let mut org_rng = rng::DemoRng::new(opts.seed, rng::Stream::Org);
    let org = org::build(scale, &mut org_rng, &mut ds);

    let plan_ctx = plans::PlanContext {
        current_fy,
        city_code: &opts.city_code,
    };
    let mut kpi_rng = rng::DemoRng::new(opts.seed, rng::Stream::Kpis);
    let mut obs_rng = rng::DemoRng::new(opts.seed, rng::Stream::Observations);
    let planned = plans::build(&plan_ctx, &org, &mut kpi_rng, &mut obs_rng, &mut ds);

    let program_ctx = programs::ProgramContext {
        current_fy,
        kpis_by_section: &planned.kpis_by_section,
    };
    let mut program_rng = rng::DemoRng::new(opts.seed, rng::Stream::Programs);
    let mut money_rng = rng::DemoRng::new(opts.seed, rng::Stream::Money);
    programs::build(
        &program_ctx,
        &org,
        &mut program_rng,
        &mut money_rng,
        &mut ds,
    );
    trim_to_as_of(as_of, current_fy, &mut ds);
    leave_recent_unconfirmed(&org, &opts.city_code, &mut ds);
    ds
}

/// The share (of 100) of the KPIs with last year's actual in by `as_of` while
/// they are being collected (April to June): 40 on 1 April, all by 30 June.
fn collected_share(as_of: Day, current_fy: FiscalYear) -> u64 {
    let start = Day::new(current_fy.year(), 4, 1).unwrap_or(as_of);
    let end = Day::new(current_fy.year(), 7, 1).unwrap_or(as_of);
    let total = start.days_until(end).max(1);
    let done = start.days_until(as_of).clamp(0, total);
    (40 + 60 * done / total) as u64
}

/// Takes out what would not exist yet on `as_of`: last fiscal year's actuals
/// not yet collected (some KPIs only, while the first stage of the cycle
/// runs), months not ended; the last two months kept are the provisional ones;
/// no record is entered after `as_of`.
fn trim_to_as_of(as_of: Day, current_fy: FiscalYear, ds: &mut Dataset) {
    let last_fy = current_fy.prev();
    let share = collected_share(as_of, current_fy);
    let collected: std::collections::HashSet<String> = ds
        .kpis
        .iter()
        .enumerate()
        .filter(|(i, _)| (*i as u64 * 37) % 100 < share)
        .map(|(_, k)| k.code.clone())
        .collect();
    let month_ended = |y: i32, m: u8| (y, u32::from(m)) < (as_of.year(), as_of.month());
    ds.observations.retain(|o| match o.period {
        Period::Year(y) if y == last_fy => collected.contains(&o.kpi_code),
        Period::Year(y) => y < last_fy,
        Period::Month(y, m) => month_ended(y, m),
        _ => true,
    });
    // The last two months of each monthly series are provisional.
    let mut months: HashMap<(&str, &str), Vec<(i32, u8)>> = HashMap::new();
    for o in &ds.observations {
        if let Period::Month(y, m) = o.period {
            months
                .entry((o.kpi_code.as_str(), o.area_code.as_str()))
                .or_default()
                .push((y, m));
        }
    }
    let provisional: std::collections::HashSet<(String, String, i32, u8)> = months
        .into_iter()
        .flat_map(|((k, a), mut list)| {
            list.sort_unstable();
            let from = list.len().saturating_sub(2);
            list[from..]
                .iter()
                .map(|&(y, m)| (k.to_string(), a.to_string(), y, m))
                .collect::<Vec<_>>()
        })
        .collect();
    let stamp = format!("{as_of}T09:00:00+09:00");
    for o in &mut ds.observations {
        if let Period::Month(y, m) = o.period {
            if provisional.contains(&(o.kpi_code.clone(), o.area_code.clone(), y, m)) {
                o.status = ObsStatus::Provisional;
                o.note = "速報値".to_string();
            } else if o.status == ObsStatus::Provisional {
                o.status = ObsStatus::Final;
                o.note.clear();
            }
        }
        if o.entered_at.as_str() > stamp.as_str() {
            o.entered_at = stamp.clone();
        }
        if o.confirmed_at.as_str() > stamp.as_str() {
            o.confirmed_at = stamp.clone();
        }
    }
}

/// The demo's approvers log in as this prefix and their department's slug
/// (`approver-kenko`); each confirms the actuals of their department's KPIs.
pub const APPROVER_PREFIX: &str = "approver-";

/// How many of the latest actuals the demo leaves unconfirmed.
const UNCONFIRMED: usize = 8;

/// Leaves the latest actual of a few published KPIs (each of another
/// department) as its department's editor entered it, not yet confirmed, so
/// that the demo shows 未確認 values and what approvers have to confirm.
fn leave_recent_unconfirmed(org: &org::Org, city: &str, ds: &mut Dataset) {
    let mut unit_of_section: HashMap<&str, &org::Unit> = HashMap::new();
    for u in &org.units {
        for s in &u.sections {
            unit_of_section.insert(s.code.as_str(), u);
        }
    }
    let mut departments = std::collections::HashSet::new();
    let mut picked: Vec<(String, String)> = Vec::new();
    for k in ds.kpis.iter().filter(|k| k.published) {
        if picked.len() == UNCONFIRMED {
            break;
        }
        let Some(unit) = k
            .owner_sections
            .first()
            .and_then(|s| unit_of_section.get(s.as_str()))
        else {
            continue;
        };
        if departments.insert(unit.code.as_str()) {
            picked.push((k.code.clone(), format!("editor-{}", unit.slug)));
        }
    }
    for (kpi, editor) in picked {
        let latest = ds
            .observations
            .iter_mut()
            .filter(|o| o.kpi_code == kpi && o.area_code == city)
            .max_by_key(|o| o.period);
        if let Some(o) = latest {
            o.entered_by = editor;
            o.confirmed_by.clear();
            o.confirmed_at.clear();
        }
    }
}

/// The password of every demo user: `citykpi-demo`.
///
/// **For the demo only.** It is public (it is in this documentation), so a
/// database built by `citykpi demo` must never hold real data or be reachable
/// from outside. The login is taken so that the rule could change per user
/// without changing callers; today it is the same for everyone.
pub fn demo_password(_login: &str) -> String {
    "citykpi-demo".to_string()
}
