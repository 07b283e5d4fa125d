//! Instants as stored in the journal: microseconds since the Unix epoch, UTC.
//! A plain integer keeps the encoding small and fast to decode, and keeps
//! replay independent of the replaying machine's time zone.

use chrono::{DateTime, Local, SecondsFormat, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub const MICROS_PER_SECOND: i64 = 1_000_000;

    pub fn from_datetime<Tz: TimeZone>(dt: &DateTime<Tz>) -> Self {
        Timestamp(dt.timestamp_micros())
    }

    /// `None` only for instants outside chrono's range (≈ ±262,000 years),
    /// which a corrupt or hostile file could contain.
    pub fn to_utc(self) -> Option<DateTime<Utc>> {
        DateTime::<Utc>::from_timestamp_micros(self.0)
    }

    pub fn to_local(self) -> Option<DateTime<Local>> {
        self.to_utc().map(|d| d.with_timezone(&Local))
    }

    /// RFC 3339 in UTC, e.g. `2026-11-22T10:00:00Z` (JSON output).
    pub fn to_rfc3339(self) -> String {
        match self.to_utc() {
            Some(d) => d.to_rfc3339_opts(SecondsFormat::AutoSi, true),
            None => format!("@{}us", self.0),
        }
    }

    /// Local time for people, minute precision, e.g. `2026-11-22 10:00`.
    pub fn to_local_string(self) -> String {
        match self.to_local() {
            Some(d) => d.format("%Y-%m-%d %H:%M").to_string(),
            None => format!("@{}us", self.0),
        }
    }

    pub fn plus_seconds(self, s: i64) -> Self {
        Timestamp(
            self.0
                .saturating_add(s.saturating_mul(Self::MICROS_PER_SECOND)),
        )
    }

    /// Whole seconds from `self` to `later` (negative when `later` is earlier).
    pub fn seconds_until(self, later: Timestamp) -> i64 {
        later.0.saturating_sub(self.0) / Self::MICROS_PER_SECOND
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trip() {
        let dt = DateTime::parse_from_rfc3339("2026-11-22T10:00:00+01:00").unwrap();
        let t = Timestamp::from_datetime(&dt);
        assert_eq!(t.to_rfc3339(), "2026-11-22T09:00:00Z");
        assert_eq!(t.plus_seconds(60).to_rfc3339(), "2026-11-22T09:01:00Z");
        assert_eq!(t.seconds_until(t.plus_seconds(-5)), -5);
    }

    #[test]
    fn out_of_range_does_not_panic() {
        let t = Timestamp(i64::MAX);
        assert!(t.to_utc().is_none());
        assert!(t.to_rfc3339().starts_with('@'));
    }
}
