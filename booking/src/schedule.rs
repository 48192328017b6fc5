//! Time as the booking domain speaks of it: weekly hours in Swedish local time (opening hours of a
//! centre, working hours of an officer) and absolute periods (absences, closures, bookings).
//!
//! On the wire, weekly hours are `{"weekday": 1, "from": "08:00", "until": "17:00"}` (ISO weekday,
//! 1 = Monday) and instants are RFC 3339; inside, minutes since local midnight and unix seconds.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::clock::sweden_utc_offset_secs;

/// One span of a weekday, `[from, until)` in minutes since local midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeeklyHours {
    /// ISO weekday: 1 = Monday … 7 = Sunday.
    pub weekday: i64,
    #[serde(rename = "from", with = "hh_mm")]
    pub starts_minute: i64,
    #[serde(rename = "until", with = "hh_mm")]
    pub ends_minute: i64,
}

impl WeeklyHours {
    pub fn new(weekday: i64, starts_minute: i64, ends_minute: i64) -> Self {
        WeeklyHours {
            weekday,
            starts_minute,
            ends_minute,
        }
    }

    /// Monday to Friday, `from`–`until` (minutes since midnight).
    pub fn weekdays(starts_minute: i64, ends_minute: i64) -> Vec<WeeklyHours> {
        (1..=5)
            .map(|d| WeeklyHours::new(d, starts_minute, ends_minute))
            .collect()
    }

    pub fn is_valid(&self) -> bool {
        (1..=7).contains(&self.weekday)
            && (0..1440).contains(&self.starts_minute)
            && self.ends_minute > self.starts_minute
            && self.ends_minute <= 1440
    }
}

/// `[starts_at, ends_at)` in unix seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Period {
    #[serde(with = "rfc3339")]
    pub starts_at: i64,
    #[serde(with = "rfc3339")]
    pub ends_at: i64,
}

impl Period {
    pub fn new(starts_at: i64, ends_at: i64) -> Self {
        Period { starts_at, ends_at }
    }

    pub fn overlaps(&self, starts_at: i64, ends_at: i64) -> bool {
        self.starts_at < ends_at && self.ends_at > starts_at
    }

    pub fn is_valid(&self) -> bool {
        self.ends_at > self.starts_at
    }
}

/// Whether `[starts_at, ends_at)` lies within one of `hours` on its local day.
pub fn within_hours(hours: &[WeeklyHours], starts_at: i64, ends_at: i64) -> bool {
    let local = LocalTime::of(starts_at);
    let end_minute = local.minute + (ends_at - starts_at + 59) / 60;
    hours.iter().any(|h| {
        h.weekday == local.weekday && h.starts_minute <= local.minute && end_minute <= h.ends_minute
    })
}

/// A moment in Swedish civil time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalTime {
    /// Days since 1970-01-01 in local time.
    pub day: i64,
    pub weekday: i64,
    pub minute: i64,
}

impl LocalTime {
    pub fn of(utc: i64) -> LocalTime {
        let local = utc + sweden_utc_offset_secs(utc);
        let day = local.div_euclid(86_400);
        LocalTime {
            day,
            weekday: iso_weekday(day),
            minute: local.rem_euclid(86_400) / 60,
        }
    }
}

/// ISO weekday of a day counted from 1970-01-01 (a Thursday).
pub fn iso_weekday(day: i64) -> i64 {
    (day + 3).rem_euclid(7) + 1
}

/// The unix time of `minute` past local midnight on local `day`. Centres are closed during the
/// night-time switch between summer and winter time, so the hour that does not exist (or exists
/// twice) needs no special answer.
pub fn local_to_utc(day: i64, minute: i64) -> i64 {
    let local = day * 86_400 + minute * 60;
    let guess = local - sweden_utc_offset_secs(local - 3600);
    local - sweden_utc_offset_secs(guess)
}

pub fn format_rfc3339(unix: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// Parses RFC 3339 within years 2000–2199: an instant outside is a typing error, not a booking.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let t = OffsetDateTime::parse(s, &Rfc3339).ok()?;
    (2000..2200).contains(&t.year()).then(|| t.unix_timestamp())
}

pub mod rfc3339 {
    use super::*;

    pub fn serialize<S: Serializer>(v: &i64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_rfc3339(*v))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        let s = String::deserialize(d)?;
        parse_rfc3339(&s)
            .ok_or_else(|| serde::de::Error::custom("expected an RFC 3339 time in 2000–2199"))
    }
}

mod hh_mm {
    use super::*;

    pub fn serialize<S: Serializer>(v: &i64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{:02}:{:02}", v / 60, v % 60))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        let s = String::deserialize(d)?;
        parse_hh_mm(&s).ok_or_else(|| serde::de::Error::custom("expected HH:MM, 00:00 to 24:00"))
    }
}

/// `HH:MM` from 00:00 to 24:00 as minutes.
fn parse_hh_mm(s: &str) -> Option<i64> {
    let (h, m) = s.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
    let minutes = h * 60 + m;
    (h >= 0 && (0..60).contains(&m) && minutes <= 1440).then_some(minutes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn hours_are_read_as_local_time() {
        // Monday 2026-06-15, 08:00 UTC is 10:00 in Sweden.
        let t = datetime!(2026-06-15 08:00 UTC).unix_timestamp();
        let hours = [WeeklyHours::new(1, 10 * 60, 11 * 60)];
        assert!(within_hours(&hours, t, t + 3600));
        assert!(!within_hours(&hours, t, t + 3601));
        assert!(!within_hours(&hours, t - 60, t + 600));
        assert!(!within_hours(&[WeeklyHours::new(2, 0, 1440)], t, t + 60));
        let local = LocalTime::of(t);
        assert_eq!((local.weekday, local.minute), (1, 600));
        assert_eq!(local_to_utc(local.day, 600), t);
        // Winter: 10:00 local is 09:00 UTC.
        let w = datetime!(2026-01-12 09:00 UTC).unix_timestamp();
        let lw = LocalTime::of(w);
        assert_eq!((lw.weekday, lw.minute), (1, 600));
        assert_eq!(local_to_utc(lw.day, 600), w);
    }

    #[test]
    fn clock_times_and_instants_are_checked() {
        assert_eq!(parse_hh_mm("08:30"), Some(510));
        assert_eq!(parse_hh_mm("24:00"), Some(1440));
        for bad in ["24:01", "8:30", "08:60", "-1:00", "ab:cd", "0830"] {
            assert_eq!(parse_hh_mm(bad), None, "{bad}");
        }
        assert!(parse_rfc3339("2026-02-30T10:00:00Z").is_none());
        assert!(parse_rfc3339("9999-01-01T10:00:00Z").is_none());
        assert!(parse_rfc3339("2026-06-15T10:00:00+02:00").is_some());
    }
}
