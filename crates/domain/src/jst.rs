//! Japan time for people. The database keeps instants as RFC 3339 UTC
//! (`2026-12-07T17:09:42.123Z`), which sorts and compares as text; staff
//! read and filter them as Japan Standard Time (UTC+9, no daylight saving).

use crate::partner::date::Day;

/// Japan is nine hours ahead of UTC all year.
const OFFSET_HOURS: u32 = 9;

/// An RFC 3339 UTC instant (`…Z`) as Japan time to the minute,
/// `2026-12-08 02:09`. A text that is not such an instant is returned as it is,
/// so a damaged row still shows something.
pub fn display(rfc3339: &str) -> String {
    match to_jst(rfc3339) {
        Some((day, h, m)) => format!("{day} {h:02}:{m:02}"),
        None => rfc3339.to_string(),
    }
}

/// The Japan day of a stored time: a UTC instant (`2026-11-26T16:30:00.000Z`
/// is 27 November in Japan); a time with another offset, or a bare day, is
/// taken as local.
pub fn day_of(rfc3339: &str) -> Option<Day> {
    to_jst(rfc3339)
        .map(|(day, _, _)| day)
        .or_else(|| (!rfc3339.ends_with('Z')).then(|| Day::parse(rfc3339.get(..10)?))?)
}

/// The first instant of a Japan day in the database's UTC form: the day
/// before at 15:00Z. `at >= start_of(d)` keeps the instants from that day on.
pub fn start_of(day: Day) -> String {
    format!("{}T{:02}:00:00.000Z", day.plus_days(-1), 24 - OFFSET_HOURS)
}

fn to_jst(rfc3339: &str) -> Option<(Day, u32, u32)> {
    if !rfc3339.ends_with('Z') || rfc3339.get(10..11) != Some("T") {
        return None;
    }
    let day = Day::parse(rfc3339.get(..10)?)?;
    let hour: u32 = rfc3339.get(11..13)?.parse().ok()?;
    let minute: u32 = rfc3339.get(14..16)?.parse().ok()?;
    if hour > 23 || minute > 59 {
        return None;
    }
    let shifted = hour + OFFSET_HOURS;
    Some(if shifted >= 24 {
        (day.plus_days(1), shifted - 24, minute)
    } else {
        (day, shifted, minute)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_instants_read_as_japan_time() {
        assert_eq!(display("2026-12-07T17:09:42.123Z"), "2026-12-08 02:09");
        assert_eq!(display("2026-12-07T14:59:59.999Z"), "2026-12-07 23:59");
        assert_eq!(display("2026-12-31T15:00:00.000Z"), "2027-01-01 00:00");
        assert_eq!(display("2028-02-28T20:00:00Z"), "2028-02-29 05:00");
        // Not an instant of ours: shown untouched.
        assert_eq!(display("2026-12-07"), "2026-12-07");
        assert_eq!(display("2026-12-07T25:00:00Z"), "2026-12-07T25:00:00Z");
        assert_eq!(display(""), "");
    }

    #[test]
    fn day_bounds_in_utc() {
        let d = Day::new(2026, 12, 8).unwrap();
        assert_eq!(start_of(d), "2026-12-07T15:00:00.000Z");
        assert_eq!(
            start_of(Day::new(2027, 1, 1).unwrap()),
            "2026-12-31T15:00:00.000Z"
        );
        // The instant shown as 00:00 of a day belongs to that day.
        assert_eq!(day_of(&start_of(d)), Some(d));
        assert_eq!(day_of("2026-12-07T14:59:59.999Z"), Day::new(2026, 12, 7));
        assert_eq!(day_of("2026-12-07T23:00:00+09:00"), Day::new(2026, 12, 7));
        assert_eq!(day_of("2026-12-07"), Day::new(2026, 12, 7));
        assert_eq!(day_of("garbage"), None);
    }
}
