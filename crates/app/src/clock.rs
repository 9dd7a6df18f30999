//! The date in Japan, for defaults such as "the fiscal year just ended".
//!
//! "Today" can be set for the whole process (`citykpi --as-of DATE`, or a
//! test's server): a demo city made as of a day is then seen as a city would
//! see itself on that day — the fiscal year defaults, deadlines and due
//! dates all count from it. Timestamps (audit rows, sessions) stay real.

use std::sync::RwLock;

use citykpi_domain::FiscalYear;
use citykpi_domain::partner::date::Day;
use time::{OffsetDateTime, UtcOffset};

const JST: UtcOffset = match UtcOffset::from_hms(9, 0, 0) {
    Ok(o) => o,
    Err(_) => UtcOffset::UTC,
};

/// The day taken as today instead of the real one, if set.
static TODAY: RwLock<Option<Day>> = RwLock::new(None);

pub fn now_jst() -> OffsetDateTime {
    OffsetDateTime::now_utc().to_offset(JST)
}

/// Takes `day` as today for the rest of the process (None: the real date
/// again).
pub fn set_today(day: Option<Day>) {
    // A poisoned lock only means a writer panicked; the value is a plain Copy.
    let mut guard = TODAY.write().unwrap_or_else(|e| e.into_inner());
    *guard = day;
}

/// Today in Japan: the day set with [`set_today`], else the real date.
pub fn today() -> Day {
    let set = *TODAY.read().unwrap_or_else(|e| e.into_inner());
    set.unwrap_or_else(|| {
        let now = now_jst();
        Day::new(
            now.year(),
            u32::from(u8::from(now.month())),
            u32::from(now.day()),
        )
        .unwrap_or(Day::EPOCH)
    })
}

/// The fiscal year running today (April → March, Japan time).
pub fn current_fiscal_year() -> FiscalYear {
    let d = today();
    FiscalYear::containing_clamped(d.year(), d.month())
}

/// The fiscal year the yearly cycle evaluates: the last one that has ended.
pub fn last_closed_fiscal_year() -> FiscalYear {
    current_fiscal_year().prev()
}
