//! Time as a dependency, so tests can move it (session expiry) without sleeping.

use std::sync::atomic::{AtomicI64, Ordering};

use time::{Date, Duration, Month, OffsetDateTime, Weekday};

/// Unix seconds.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> i64;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> i64 {
        OffsetDateTime::now_utc().unix_timestamp()
    }
}

/// A clock that only moves when told to.
pub struct ManualClock(AtomicI64);

impl ManualClock {
    pub fn new(now: i64) -> Self {
        ManualClock(AtomicI64::new(now))
    }

    pub fn set(&self, now: i64) {
        self.0.store(now, Ordering::SeqCst);
    }

    pub fn advance(&self, secs: i64) {
        self.0.fetch_add(secs, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// UTC offset of Swedish civil time at `utc` (CET, CEST from the last Sunday of March to the last
/// Sunday of October, switching at 01:00 UTC). Centres are in Sweden; a tz database can replace
/// this when centres elsewhere need it.
pub fn sweden_utc_offset_secs(utc: i64) -> i64 {
    let Ok(t) = OffsetDateTime::from_unix_timestamp(utc) else {
        return 3600;
    };
    let switch = |month| {
        let mut d = Date::from_calendar_date(t.year(), month, 31).unwrap_or(t.date());
        while d.weekday() != Weekday::Sunday {
            d = d.previous_day().unwrap_or(d);
        }
        (d.midnight().assume_utc() + Duration::hours(1)).unix_timestamp()
    };
    if utc >= switch(Month::March) && utc < switch(Month::October) {
        7200
    } else {
        3600
    }
}

/// The Swedish calendar day containing `now`, as `[start, end)` unix seconds.
pub fn local_day_bounds(now: i64) -> (i64, i64) {
    let local = now + sweden_utc_offset_secs(now);
    let midnight_as_utc = local - local.rem_euclid(86_400);
    // Switches happen at 02:00/03:00 local time, so the offset in force an hour before local
    // midnight is the one at midnight.
    let start = midnight_as_utc - sweden_utc_offset_secs(midnight_as_utc - 3600);
    let next = midnight_as_utc + 86_400;
    let end = next - sweden_utc_offset_secs(next - 3600);
    (start, end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn day_bounds_follow_swedish_summer_and_winter_time() {
        let summer = datetime!(2026-06-15 10:00 UTC).unix_timestamp();
        let (s, e) = local_day_bounds(summer);
        assert_eq!(s, datetime!(2026-06-14 22:00 UTC).unix_timestamp());
        assert_eq!(e, datetime!(2026-06-15 22:00 UTC).unix_timestamp());
        let winter = datetime!(2026-01-15 23:30 UTC).unix_timestamp();
        let (s, _) = local_day_bounds(winter);
        assert_eq!(s, datetime!(2026-01-15 23:00 UTC).unix_timestamp());
        // 2026-03-29 is the spring switch: a 23-hour day.
        let (s, e) = local_day_bounds(datetime!(2026-03-29 12:00 UTC).unix_timestamp());
        assert_eq!(e - s, 23 * 3600);
    }
}
