//! Building the demo city into a database.

use citykpi_demo::{DemoOptions, demo_password};
use citykpi_domain::FiscalYear;
use citykpi_domain::partner::Day;
use citykpi_store::{ApplySummary, Store};

use crate::{AppError, auth, settings};

/// The seed the demo city is built with unless another is asked for.
pub const DEFAULT_SEED: u64 = citykpi_demo::DEFAULT_SEED;

/// The documented password of every demo user (the demo is for trying out only).
pub fn password() -> String {
    demo_password("admin")
}

/// The day the documented demo numbers (and the tests that check them) are
/// made as of: fiscal year 2025, evaluating 2024 (see `citykpi_demo`).
pub fn reference_day() -> Day {
    citykpi_demo::reference_day()
}

#[derive(Debug, serde::Serialize)]
pub struct DemoResult {
    pub summary: ApplySummary,
    pub counts: Vec<(&'static str, usize)>,
    pub city_code: String,
    pub password: String,
    /// The day the city is made as of.
    pub as_of: String,
    /// The fiscal year running then, and the one its cycle evaluates.
    pub current_fy: FiscalYear,
    pub cycle_fy: FiscalYear,
}

/// Replaces whatever the database holds with the demo city of `scale` and
/// `seed` as a city would stand on `as_of` (its fiscal years, actuals, cycle
/// and partnership dates; `crate::clock::today()` for "now"), and gives every
/// demo user the documented demo password.
pub async fn build_demo(
    store: &Store,
    scale: u32,
    seed: u64,
    as_of: Day,
) -> Result<DemoResult, AppError> {
    if scale == 0 || scale > citykpi_demo::MAX_SCALE {
        return Err(AppError::invalid(
            "scale",
            format!(
                "1〜{max}を指定してください / must be between 1 and {max}",
                max = citykpi_demo::MAX_SCALE
            ),
        ));
    }
    let as_of = citykpi_demo::clamped_as_of(as_of);
    let opts = DemoOptions {
        scale,
        seed,
        as_of,
        ..DemoOptions::default()
    };
    let city_code = opts.city_code.clone();
    let current_fy = citykpi_demo::fiscal_year_of(as_of);
    let cycle_fy = current_fy.prev();
    let ds = tokio::task::spawn_blocking(move || citykpi_demo::generate(&opts))
        .await
        .map_err(|e| AppError::invalid("demo", e.to_string()))?;
    // The cycle's tables are kept apart from clear_all's list: empty them first.
    store
        .clear_cycle_data()
        .await
        .map_err(|e| AppError::invalid("cycle", e.to_string()))?;
    store.clear_all().await?;
    let summary = store.apply(&ds, "demo").await?;
    store.set_setting(settings::CITY_CODE, &city_code).await?;
    crate::cycle::build_demo(store, &ds, cycle_fy, as_of)
        .await
        .map_err(|e| AppError::invalid("cycle", e.to_string()))?;
    let kpi_codes: Vec<String> = ds.kpis.iter().map(|k| k.code.clone()).collect();
    let kpi_names: Vec<(String, String)> = ds
        .kpis
        .iter()
        .map(|k| (k.code.clone(), k.name_ja.clone()))
        .collect();
    crate::partners::build_demo(store, seed, scale, &kpi_names, as_of)
        .await
        .map_err(|e| AppError::invalid("partners", e.to_string()))?;
    crate::partners::intake::build_demo(store, &kpi_codes, as_of)
        .await
        .map_err(|e| AppError::invalid("partners", e.to_string()))?;
    crate::partners::outreach::build_demo(store, &ds, as_of)
        .await
        .map_err(|e| AppError::invalid("partners", e.to_string()))?;
    for u in ds
        .users
        .iter()
        .filter(|u| u.login.starts_with(citykpi_demo::APPROVER_PREFIX))
    {
        store.set_approver(&u.login, true, "demo").await?;
    }
    // One hash for all demo users: argon2 is slow by design and the password is shared.
    let password = password();
    let hash = auth::hash_password(&password)?;
    for u in &ds.users {
        store.set_password_hash(&u.login, &hash).await?;
    }
    Ok(DemoResult {
        counts: ds.counts(),
        summary,
        city_code,
        password,
        as_of: as_of.to_string(),
        current_fy,
        cycle_fy,
    })
}

/// Writes the demo city's partnerships again with `members` members and
/// `inquiries` desk inquiries (each 1 to `citykpi_demo::partners::MAX_SIZED`),
/// keeping the rest of the city: the partnerships benchmark's 10,000 and
/// 50,000, dated as of `as_of`. Returns how many members and inquiries were
/// written.
pub async fn build_partners_sized(
    store: &Store,
    seed: u64,
    members: usize,
    inquiries: usize,
    as_of: Day,
) -> Result<usize, AppError> {
    let max = citykpi_demo::partners::MAX_SIZED;
    for (field, n) in [
        ("partner-members", members),
        ("partner-inquiries", inquiries),
    ] {
        if n == 0 || n > max {
            return Err(AppError::invalid(
                field,
                format!("1〜{max}を指定してください / must be between 1 and {max}"),
            ));
        }
    }
    let kpis = store.kpis().await?;
    let kpi_names: Vec<(String, String)> = kpis
        .iter()
        .map(|k| (k.code.clone(), k.name_ja.clone()))
        .collect();
    let written =
        crate::partners::build_demo_sized(store, seed, members, inquiries, &kpi_names, as_of)
            .await
            .map_err(|e| AppError::invalid("partners", e.to_string()))?;
    // The outreach leads name member numbers of the register just replaced:
    // they are written again against the new one.
    let city = citykpi_domain::Dataset {
        kpis,
        sections: store.sections().await?,
        ..citykpi_domain::Dataset::default()
    };
    crate::partners::outreach::build_demo(store, &city, as_of)
        .await
        .map_err(|e| AppError::invalid("partners", e.to_string()))?;
    Ok(written)
}
