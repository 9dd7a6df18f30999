//! The date in Japan, for defaults such as "the fiscal year just ended".

use citykpi_domain::FiscalYear;
use time::{OffsetDateTime, UtcOffset};

const JST: UtcOffset = match UtcOffset::from_hms(9, 0, 0) {
    Ok(o) => o,
    Err(_) => UtcOffset::UTC,
};

pub fn now_jst() -> OffsetDateTime {
    OffsetDateTime::now_utc().to_offset(JST)
}

/// The fiscal year running today (April → March, Japan time).
pub fn current_fiscal_year() -> FiscalYear {
    let now = now_jst();
    FiscalYear::containing_clamped(now.year(), u32::from(u8::from(now.month())))
}

/// The fiscal year the yearly cycle evaluates: the last one that has ended.
pub fn last_closed_fiscal_year() -> FiscalYear {
    current_fiscal_year().prev()
}
