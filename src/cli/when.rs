//! WHEN: the dates and times people type after `--due`, `--at`, `--now`,
//! `--from`, `--to` and `--as-of`, turned into one instant.
//!
//! "Now" comes in as a value (the caller pins it with `--now` /
//! `$TRUSTLOG_NOW`), so parsing is deterministic and testable; the time zone
//! is whatever zone that value carries (`chrono::Local` in the CLI).
//!
//! Decisions, each checked against GNU `date -d` in `tests/when_vs_gnu_date.rs`:
//! - A weekday name (`fri`, `friday`) is the next such day *strictly after*
//!   today: `fri` said on a Friday means the Friday a week later. This is what
//!   Taskwarrior does and what GNU calls `next fri`; a bare `date -d fri`
//!   would answer today.
//! - Date-only forms are a whole day. With `end_of_day` they resolve to the
//!   last microsecond of that day (23:59:59.999999 local), so a plain
//!   `kept_at <= due` on `Timestamp`s counts anything up to midnight as on
//!   time, without any caller truncating to seconds.
//! - Weeks are ISO weeks, Monday first: `eow` is the Sunday of the current
//!   week (today, on a Sunday), `sow` its Monday (today, on a Monday; as
//!   Taskwarrior's `sow` and GNU's `last mon`, or `mon` on a Monday).
//! - The period words are date-only forms naming a day of the current
//!   period: `sod`/`eod` today, `sow`/`eow` the week's Monday/Sunday,
//!   `som`/`eom` the month's first/last day, `soy`/`eoy` 1 January /
//!   31 December. Like any date-only form, a due date or `--to` means the
//!   end of that day (so `--to eoy` is 31 December 23:59:59.999999) and
//!   `--at` / `--from` its start.
//! - `+3d` / `-1d` / `+2w` move today's *date* (calendar days, a date-only
//!   form); `+4h` / `+30min` move the instant `now` by elapsed time.
//! - `+1m` / `+1y` move today's date by calendar months / years, clamped to
//!   the end of a shorter month (31 January `+1m` is 28 or 29 February).
//!   GNU rolls over instead (3 March); `min` stays minutes.
//! - A time of day `HH:MM[:SS]` (hour may be one digit) after a date-only
//!   form is that time on that day: `fri 17:00`, `tomorrow 15:00`,
//!   `+3d 09:30`. Alone, `15:00` is today at 15:00, even when that has
//!   passed, as GNU `date -d 15:00` (Taskwarrior has no bare time).
//! - A local time that a clock change skips (e.g. 02:30 on the spring-forward
//!   night) is read with the offset in force before the change, i.e. moved
//!   forward by the length of the gap (03:30); a local time that happens
//!   twice takes the earlier instant. GNU rejects the first and takes the
//!   later one for the second.

use crate::events::Timestamp;
use chrono::{
    DateTime, Datelike, Days, FixedOffset, MappedLocalTime, Months, NaiveDate, NaiveDateTime,
    NaiveTime, Offset, TimeDelta, TimeZone, Weekday,
};
use std::fmt;

/// What the user meant: an instant, or a whole day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct When {
    /// The instant; for a date-only form, the start or the end of that day.
    pub at: Timestamp,
    /// True when the user named a day, not a time of day.
    pub date_only: bool,
}

/// The forms `parse_when` accepts, for error messages and help texts.
pub const ACCEPTED_FORMS: &str = "an ISO date (2026-11-22), \
an ISO date-time (2026-11-22T14:30, optionally with Z or +01:00), \
now, today, tomorrow, yesterday, \
a weekday (fri, friday: the next one), \
+3d / +2w / +1m / +1y / -1d / +4h / +30min, \
sod / eod (today), sow / eow (Monday / Sunday of this week), \
som / eom (first / last day of this month), soy / eoy (1 Jan / 31 Dec), \
a time of day (15:00: today), or one of these days then a time (fri 17:00)";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WhenError {
    /// Not one of the accepted forms.
    Unknown { input: String },
    /// One of the accepted shapes, naming something that does not exist
    /// (`2026-02-30`, `25:00`, offset `+24:00`).
    Invalid { input: String, reason: String },
    /// Well formed, but the result falls outside the representable range.
    OutOfRange { input: String },
}

impl fmt::Display for WhenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `{:?}` quotes the input and escapes control characters, so odd
        // input stays visible in the message.
        match self {
            WhenError::Unknown { input } => {
                write!(
                    f,
                    "unknown date/time {input:?}: expected one of: {ACCEPTED_FORMS}"
                )
            }
            WhenError::Invalid { input, reason } => {
                write!(f, "invalid date/time {input:?}: {reason}")
            }
            WhenError::OutOfRange { input } => {
                write!(f, "date/time {input:?} is out of the supported range")
            }
        }
    }
}

impl std::error::Error for WhenError {}

/// Parses a WHEN relative to `now`, in the time zone `now` carries.
///
/// `end_of_day` chooses what a date-only form means: `true` (due dates,
/// `--to`) the last microsecond of that day, `false` (`--at`, `--now`,
/// `--from`) its first instant. Forms with a time of day ignore it.
/// Leading and trailing whitespace and letter case do not matter.
pub fn parse_when<Tz: TimeZone>(
    input: &str,
    now: DateTime<Tz>,
    end_of_day: bool,
) -> Result<When, WhenError> {
    let trimmed = input.trim();
    let text = trimmed.to_ascii_lowercase();
    let unknown = || WhenError::Unknown {
        input: trimmed.to_string(),
    };
    let out_of_range = || WhenError::OutOfRange {
        input: trimmed.to_string(),
    };

    let tz = now.timezone();
    let now_utc = now.naive_utc();
    // Not `now.date_naive()`: that panics when the local reading of an
    // extreme instant falls outside chrono's range.
    let today = now_utc
        .checked_add_offset(now.offset().fix())
        .ok_or_else(out_of_range)?
        .date();

    let meaning = match read_form(&text, today, now_utc) {
        Ok(m) => m,
        Err(FormError::Unknown) => return Err(unknown()),
        Err(FormError::OutOfRange) => return Err(out_of_range()),
        Err(FormError::Invalid(reason)) => {
            return Err(WhenError::Invalid {
                input: trimmed.to_string(),
                reason,
            })
        }
    };

    let (at, date_only) = match meaning {
        Meaning::Day(day) if end_of_day => {
            // The last microsecond before the next day starts, whatever a
            // clock change does to that evening.
            let next = day.succ_opt().ok_or_else(out_of_range)?;
            let start = start_of_day(&tz, next).ok_or_else(out_of_range)?;
            (
                Timestamp(start.0.checked_sub(1).ok_or_else(out_of_range)?),
                true,
            )
        }
        Meaning::Day(day) => (start_of_day(&tz, day).ok_or_else(out_of_range)?, true),
        Meaning::LocalTime(local) => {
            let dt = resolve_local(&tz, local).ok_or_else(out_of_range)?;
            (Timestamp::from_datetime(&dt), false)
        }
        Meaning::UtcTime(utc) => (Timestamp(utc.and_utc().timestamp_micros()), false),
    };
    Ok(When { at, date_only })
}

/// What a form denotes before the time zone is applied.
enum Meaning {
    Day(NaiveDate),
    /// Wall-clock time in the zone of `now`.
    LocalTime(NaiveDateTime),
    UtcTime(NaiveDateTime),
}

enum FormError {
    Unknown,
    Invalid(String),
    OutOfRange,
}

/// `text` is trimmed and lower-case.
fn read_form(text: &str, today: NaiveDate, now_utc: NaiveDateTime) -> Result<Meaning, FormError> {
    let day = |d: Option<NaiveDate>| d.map(Meaning::Day).ok_or(FormError::OutOfRange);
    match text {
        "now" => return Ok(Meaning::UtcTime(now_utc)),
        "today" | "sod" | "eod" => return Ok(Meaning::Day(today)),
        "tomorrow" => return day(today.succ_opt()),
        "yesterday" => return day(today.pred_opt()),
        "eow" => {
            let to_sunday = 6 - u64::from(today.weekday().num_days_from_monday());
            return day(today.checked_add_days(Days::new(to_sunday)));
        }
        "eom" => {
            let last = today
                .with_day(1)
                .and_then(|first| first.checked_add_months(Months::new(1)))
                .and_then(|next_first| next_first.pred_opt());
            return day(last);
        }
        "sow" => {
            let from_monday = u64::from(today.weekday().num_days_from_monday());
            return day(today.checked_sub_days(Days::new(from_monday)));
        }
        "som" => return day(today.with_day(1)),
        "soy" => return day(today.with_ordinal(1)),
        "eoy" => return day(NaiveDate::from_ymd_opt(today.year(), 12, 31)),
        _ => {}
    }
    if let Some(time) = time_of_day(text)? {
        return Ok(Meaning::LocalTime(today.and_time(time)));
    }
    if let Some((prefix, suffix)) = text.rsplit_once(' ') {
        let time = time_of_day(suffix);
        if !matches!(time, Ok(None)) {
            // Any date-only form, then a time: that time on that day. The
            // day is read first, so that a bad date is reported before a
            // bad time, as `iso` does.
            let Meaning::Day(d) = read_form(prefix.trim_end(), today, now_utc)? else {
                return Err(FormError::Unknown);
            };
            return match time? {
                Some(time) => Ok(Meaning::LocalTime(d.and_time(time))),
                None => Err(FormError::Unknown),
            };
        }
    }
    if let Some(weekday) = weekday_named(text) {
        // Strictly after today: the same weekday means a week later.
        let ahead = match weekday.days_since(today.weekday()) {
            0 => 7,
            n => n,
        };
        return day(today.checked_add_days(Days::new(u64::from(ahead))));
    }
    if let Some(rest) = text.strip_prefix('+') {
        return relative(rest, true, today, now_utc);
    }
    if let Some(rest) = text.strip_prefix('-') {
        return relative(rest, false, today, now_utc);
    }
    iso(text)
}

/// A full weekday name or any prefix of it of three letters or more
/// (`fri`, `frid`, `tues`, `thurs`).
fn weekday_named(text: &str) -> Option<Weekday> {
    const NAMES: [(&str, Weekday); 7] = [
        ("monday", Weekday::Mon),
        ("tuesday", Weekday::Tue),
        ("wednesday", Weekday::Wed),
        ("thursday", Weekday::Thu),
        ("friday", Weekday::Fri),
        ("saturday", Weekday::Sat),
        ("sunday", Weekday::Sun),
    ];
    if text.len() < 3 {
        return None;
    }
    NAMES
        .iter()
        .find(|(name, _)| name.starts_with(text))
        .map(|&(_, day)| day)
}

/// `rest` is what follows the sign of `+3d`, `-2w`, `+4h`, `+30min`.
fn relative(
    rest: &str,
    forward: bool,
    today: NaiveDate,
    now_utc: NaiveDateTime,
) -> Result<Meaning, FormError> {
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let (number, unit) = rest.split_at(digits);
    if number.is_empty() || !matches!(unit, "d" | "w" | "m" | "y" | "h" | "min") {
        return Err(FormError::Unknown);
    }
    // Digits only, so a parse failure can only be an overflow.
    let n: u64 = number.parse().map_err(|_| FormError::OutOfRange)?;
    match unit {
        "m" | "y" => {
            let months = if unit == "y" {
                n.checked_mul(12)
            } else {
                Some(n)
            };
            let months = months
                .and_then(|m| u32::try_from(m).ok())
                .ok_or(FormError::OutOfRange)?;
            // chrono clamps to the last day of a shorter month.
            let date = if forward {
                today.checked_add_months(Months::new(months))
            } else {
                today.checked_sub_months(Months::new(months))
            };
            date.map(Meaning::Day).ok_or(FormError::OutOfRange)
        }
        "d" | "w" => {
            let days = if unit == "w" {
                n.checked_mul(7)
            } else {
                Some(n)
            };
            let days = Days::new(days.ok_or(FormError::OutOfRange)?);
            let date = if forward {
                today.checked_add_days(days)
            } else {
                today.checked_sub_days(days)
            };
            date.map(Meaning::Day).ok_or(FormError::OutOfRange)
        }
        _ => {
            let n = i64::try_from(n).map_err(|_| FormError::OutOfRange)?;
            let delta = if unit == "h" {
                TimeDelta::try_hours(n)
            } else {
                TimeDelta::try_minutes(n)
            };
            let delta = delta.ok_or(FormError::OutOfRange)?;
            let at = if forward {
                now_utc.checked_add_signed(delta)
            } else {
                now_utc.checked_sub_signed(delta)
            };
            at.map(Meaning::UtcTime).ok_or(FormError::OutOfRange)
        }
    }
}

/// `H:MM`, `HH:MM` or `HH:MM:SS`: `Ok(None)` for anything else, an error
/// for the right shape naming no time (`25:00`).
fn time_of_day(text: &str) -> Result<Option<NaiveTime>, FormError> {
    let mut cur = Cursor {
        bytes: text.as_bytes(),
        pos: 0,
    };
    let Some(hour) = cur.digits(2).or_else(|| cur.digits(1)) else {
        return Ok(None);
    };
    let Some(minute) = cur.expect(b':').and_then(|()| cur.digits(2)) else {
        return Ok(None);
    };
    let mut second = 0;
    if cur.expect(b':').is_some() {
        match cur.digits(2) {
            Some(s) => second = s,
            None => return Ok(None),
        }
    }
    if !cur.at_end() {
        return Ok(None);
    }
    NaiveTime::from_hms_opt(hour, minute, second)
        .map(Some)
        .ok_or_else(|| FormError::Invalid(format!("{text} is not a time of day")))
}

/// `YYYY-MM-DD`, optionally followed by `T` or spaces, `HH:MM[:SS[.fraction]]`
/// and an optional offset (`Z`, `+01:00`, `+0100`, `+01`), in lower case.
fn iso(text: &str) -> Result<Meaning, FormError> {
    let mut cur = Cursor {
        bytes: text.as_bytes(),
        pos: 0,
    };
    let year = cur.digits(4).ok_or(FormError::Unknown)?;
    cur.expect(b'-').ok_or(FormError::Unknown)?;
    let month = cur.digits(2).ok_or(FormError::Unknown)?;
    cur.expect(b'-').ok_or(FormError::Unknown)?;
    let day = cur.digits(2).ok_or(FormError::Unknown)?;
    let date_text = &text[..cur.pos];
    let date = NaiveDate::from_ymd_opt(year as i32, month, day)
        .ok_or_else(|| FormError::Invalid(format!("{date_text} is not a date")));
    if cur.at_end() {
        return date.map(Meaning::Day);
    }

    if cur.expect(b't').is_none() && cur.skip_spaces() == 0 {
        return Err(FormError::Unknown);
    }
    let time_start = cur.pos;
    let hour = cur.digits(2).ok_or(FormError::Unknown)?;
    cur.expect(b':').ok_or(FormError::Unknown)?;
    let minute = cur.digits(2).ok_or(FormError::Unknown)?;
    let mut second = 0;
    let mut micro = 0;
    if cur.expect(b':').is_some() {
        second = cur.digits(2).ok_or(FormError::Unknown)?;
        if cur.expect(b'.').is_some() {
            let frac_start = cur.pos;
            let frac_len = cur.bytes[frac_start..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count();
            if !(1..=9).contains(&frac_len) {
                return Err(FormError::Unknown);
            }
            // Timestamps hold microseconds: keep six digits, drop the rest.
            let frac = cur.digits(frac_len).ok_or(FormError::Unknown)?;
            micro = if frac_len <= 6 {
                frac * 10u32.pow(6 - frac_len as u32)
            } else {
                frac / 10u32.pow(frac_len as u32 - 6)
            };
        }
    }
    let time_text = &text[time_start..cur.pos];
    cur.skip_spaces();
    let offset = read_offset(&mut cur)?;
    if !cur.at_end() {
        return Err(FormError::Unknown);
    }

    // Checked after the whole shape matched, so that garbage is reported as
    // unknown rather than as a bad date.
    let date = date?;
    let time = NaiveTime::from_hms_micro_opt(hour, minute, second, micro)
        .ok_or_else(|| FormError::Invalid(format!("{time_text} is not a time of day")))?;
    let local = date.and_time(time);
    match offset {
        OffsetRead::Absent => Ok(Meaning::LocalTime(local)),
        OffsetRead::Impossible(text) => {
            Err(FormError::Invalid(format!("{text} is not a UTC offset")))
        }
        OffsetRead::Valid(offset) => local
            .checked_sub_offset(offset)
            .map(Meaning::UtcTime)
            .ok_or(FormError::OutOfRange),
    }
}

enum OffsetRead {
    Absent,
    Valid(FixedOffset),
    /// Well formed but not an offset, such as `+24:00`; the text as typed.
    Impossible(String),
}

/// `Z`, `+01:00`, `+0100` or `+01` (or with `-`), if there is one.
fn read_offset(cur: &mut Cursor<'_>) -> Result<OffsetRead, FormError> {
    if cur.expect(b'z').is_some() {
        return Ok(OffsetRead::Valid(
            FixedOffset::east_opt(0).ok_or(FormError::OutOfRange)?,
        ));
    }
    let start = cur.pos;
    let east = if cur.expect(b'+').is_some() {
        true
    } else if cur.expect(b'-').is_some() {
        false
    } else {
        return Ok(OffsetRead::Absent);
    };
    let hours = cur.digits(2).ok_or(FormError::Unknown)?;
    let minutes = if cur.expect(b':').is_some() {
        cur.digits(2).ok_or(FormError::Unknown)?
    } else {
        cur.digits(2).unwrap_or(0)
    };
    // Both are at most 99, so this cannot overflow.
    let seconds = (hours * 3600 + minutes * 60) as i32;
    let offset = if minutes >= 60 {
        None
    } else if east {
        FixedOffset::east_opt(seconds)
    } else {
        FixedOffset::west_opt(seconds)
    };
    Ok(match offset {
        Some(offset) => OffsetRead::Valid(offset),
        None => OffsetRead::Impossible(
            String::from_utf8_lossy(cur.bytes.get(start..cur.pos).unwrap_or_default()).into_owned(),
        ),
    })
}

/// A byte cursor over ASCII-lower-cased input; it only ever slices at ASCII
/// bytes it matched, so multi-byte characters cannot cause a panic.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn at_end(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    fn expect(&mut self, byte: u8) -> Option<()> {
        if self.bytes.get(self.pos) == Some(&byte) {
            self.pos += 1;
            Some(())
        } else {
            None
        }
    }

    fn skip_spaces(&mut self) -> usize {
        let n = self.bytes[self.pos.min(self.bytes.len())..]
            .iter()
            .take_while(|&&b| b == b' ')
            .count();
        self.pos += n;
        n
    }

    /// Exactly `n` ASCII digits (n ≤ 9, so the value fits a `u32`).
    fn digits(&mut self, n: usize) -> Option<u32> {
        let end = self.pos.checked_add(n)?;
        let run = self.bytes.get(self.pos..end)?;
        if !run.iter().all(u8::is_ascii_digit) {
            return None;
        }
        self.pos = end;
        Some(run.iter().fold(0, |acc, &b| acc * 10 + u32::from(b - b'0')))
    }
}

/// The first instant of `day` in `tz` (not always 00:00: some zones skip
/// midnight when they change clocks).
fn start_of_day<Tz: TimeZone>(tz: &Tz, day: NaiveDate) -> Option<Timestamp> {
    let dt = resolve_local(tz, day.and_time(NaiveTime::MIN))?;
    Some(Timestamp::from_datetime(&dt))
}

/// Maps a wall-clock time to an instant without ever failing on clock
/// changes: a repeated time takes its earlier instant; a skipped time is read
/// with the offset in force before the change, which moves it forward by
/// the length of the gap (the "compatible" rule of RFC 5545, java.time and
/// Temporal). `None` only outside chrono's range.
fn resolve_local<Tz: TimeZone>(tz: &Tz, local: NaiveDateTime) -> Option<DateTime<Tz>> {
    // chrono's `Local` may list an ambiguous pair latest first
    // (chrono#1625) and, at the exact instant of a change, offer a mapping
    // whose instant does not show that wall time (Europe/Paris 2026-10-25
    // 03:00 as +02:00). Keep only mappings that read back as `local`, and
    // take the earliest.
    let reads_back =
        |dt: &DateTime<Tz>| tz.offset_from_utc_datetime(&dt.naive_utc()).fix() == dt.offset().fix();
    let (first, second) = match tz.from_local_datetime(&local) {
        MappedLocalTime::Single(a) => (Some(a), None),
        MappedLocalTime::Ambiguous(a, b) => (Some(a), Some(b)),
        MappedLocalTime::None => (None, None),
    };
    if let Some(dt) = first.into_iter().chain(second).filter(reads_back).min() {
        return Some(dt);
    }
    // A gap. A day earlier is safely before the change (zones do not change
    // twice within a day); reading `local` as UTC there only serves to find
    // that offset.
    let before = local.checked_sub_days(Days::new(1))?;
    let offset = tz.offset_from_utc_datetime(&before).fix();
    let utc = local.checked_sub_offset(offset)?;
    Some(tz.from_utc_datetime(&utc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn zone(hours: i32) -> FixedOffset {
        FixedOffset::east_opt(hours * 3600).unwrap()
    }

    /// `now` in UTC+01:00 at the given local wall time.
    fn at(local: &str) -> DateTime<FixedOffset> {
        let naive = NaiveDateTime::parse_from_str(local, "%Y-%m-%d %H:%M:%S").unwrap();
        zone(1).from_local_datetime(&naive).single().unwrap()
    }

    fn ts(rfc3339: &str) -> Timestamp {
        Timestamp::from_datetime(&DateTime::parse_from_rfc3339(rfc3339).unwrap())
    }

    /// (input, end_of_day, expected instant, expected date_only), with
    /// `now` = Wednesday 2026-11-18 10:15:30.25 +01:00.
    #[rustfmt::skip]
    const TABLE: &[(&str, bool, &str, bool)] = &[
        // ISO dates: start or last microsecond of the local day.
        ("2026-11-22", false, "2026-11-22T00:00:00+01:00", true),
        ("2026-11-22", true, "2026-11-22T23:59:59.999999+01:00", true),
        ("  2026-11-22\t", false, "2026-11-22T00:00:00+01:00", true),
        // ISO date-times: local without an offset, ignoring end_of_day.
        ("2026-11-22T10:30", false, "2026-11-22T10:30:00+01:00", false),
        ("2026-11-22T10:30", true, "2026-11-22T10:30:00+01:00", false),
        ("2026-11-22t10:30", false, "2026-11-22T10:30:00+01:00", false),
        ("2026-11-22T10:30:15", false, "2026-11-22T10:30:15+01:00", false),
        ("2026-11-22 10:30", false, "2026-11-22T10:30:00+01:00", false),
        ("2026-11-22  10:30:15", false, "2026-11-22T10:30:15+01:00", false),
        ("2026-11-22T10:30:15.5", false, "2026-11-22T10:30:15.5+01:00", false),
        ("2026-11-22T10:30:15.1234567", false, "2026-11-22T10:30:15.123456+01:00", false),
        ("2026-11-22T10:30Z", false, "2026-11-22T10:30:00Z", false),
        ("2026-11-22t10:30z", false, "2026-11-22T10:30:00Z", false),
        ("2026-11-22T10:30+01:00", false, "2026-11-22T09:30:00Z", false),
        ("2026-11-22T10:30:15+0100", false, "2026-11-22T09:30:15Z", false),
        ("2026-11-22T10:30-05:30", false, "2026-11-22T16:00:00Z", false),
        ("2026-11-22T10:30+03", false, "2026-11-22T07:30:00Z", false),
        ("2026-11-22 10:30 +02:00", false, "2026-11-22T08:30:00Z", false),
        ("2026-11-22T00:00", false, "2026-11-22T00:00:00+01:00", false),
        ("2026-11-22T23:59:59", false, "2026-11-22T23:59:59+01:00", false),
        // now: the instant itself, whatever end_of_day says.
        ("now", false, "2026-11-18T10:15:30.25+01:00", false),
        ("NOW", true, "2026-11-18T10:15:30.25+01:00", false),
        // Named days.
        ("today", false, "2026-11-18T00:00:00+01:00", true),
        ("today", true, "2026-11-18T23:59:59.999999+01:00", true),
        ("Tomorrow", false, "2026-11-19T00:00:00+01:00", true),
        ("tomorrow", true, "2026-11-19T23:59:59.999999+01:00", true),
        ("yesterday", false, "2026-11-17T00:00:00+01:00", true),
        // Weekdays: the next one strictly after Wednesday 2026-11-18.
        ("thu", false, "2026-11-19T00:00:00+01:00", true),
        ("fri", true, "2026-11-20T23:59:59.999999+01:00", true),
        ("friday", false, "2026-11-20T00:00:00+01:00", true),
        ("FRI", false, "2026-11-20T00:00:00+01:00", true),
        ("sat", false, "2026-11-21T00:00:00+01:00", true),
        ("sunday", false, "2026-11-22T00:00:00+01:00", true),
        ("mon", false, "2026-11-23T00:00:00+01:00", true),
        ("tues", false, "2026-11-24T00:00:00+01:00", true),
        ("wed", false, "2026-11-25T00:00:00+01:00", true),
        ("wednesday", true, "2026-11-25T23:59:59.999999+01:00", true),
        ("thurs", false, "2026-11-19T00:00:00+01:00", true),
        // Relative days and weeks move the date; hours and minutes the instant.
        ("+3d", false, "2026-11-21T00:00:00+01:00", true),
        ("+3d", true, "2026-11-21T23:59:59.999999+01:00", true),
        ("+0d", false, "2026-11-18T00:00:00+01:00", true),
        ("-1d", false, "2026-11-17T00:00:00+01:00", true),
        ("+2w", false, "2026-12-02T00:00:00+01:00", true),
        ("-2w", true, "2026-11-04T23:59:59.999999+01:00", true),
        ("+13d", false, "2026-12-01T00:00:00+01:00", true),
        ("+4h", false, "2026-11-18T14:15:30.25+01:00", false),
        ("+4h", true, "2026-11-18T14:15:30.25+01:00", false),
        ("-4h", false, "2026-11-18T06:15:30.25+01:00", false),
        ("+30min", false, "2026-11-18T10:45:30.25+01:00", false),
        ("+15h", false, "2026-11-19T01:15:30.25+01:00", false),
        // End of the ISO week (Sunday) and of the month.
        ("eow", false, "2026-11-22T00:00:00+01:00", true),
        ("eow", true, "2026-11-22T23:59:59.999999+01:00", true),
        ("eom", true, "2026-11-30T23:59:59.999999+01:00", true),
        ("EOM", false, "2026-11-30T00:00:00+01:00", true),
        // The other period words: days of the current day, week, month, year.
        ("eod", true, "2026-11-18T23:59:59.999999+01:00", true),
        ("eod", false, "2026-11-18T00:00:00+01:00", true),
        ("sod", false, "2026-11-18T00:00:00+01:00", true),
        ("sow", false, "2026-11-16T00:00:00+01:00", true),
        ("sow", true, "2026-11-16T23:59:59.999999+01:00", true),
        ("som", false, "2026-11-01T00:00:00+01:00", true),
        ("soy", false, "2026-01-01T00:00:00+01:00", true),
        ("eoy", true, "2026-12-31T23:59:59.999999+01:00", true),
        ("EOY", false, "2026-12-31T00:00:00+01:00", true),
        // Calendar months and years move the date.
        ("+1m", false, "2026-12-18T00:00:00+01:00", true),
        ("+1m", true, "2026-12-18T23:59:59.999999+01:00", true),
        ("-2m", false, "2026-09-18T00:00:00+01:00", true),
        ("+14m", false, "2028-01-18T00:00:00+01:00", true),
        ("+1y", false, "2027-11-18T00:00:00+01:00", true),
        ("-1y", true, "2025-11-18T23:59:59.999999+01:00", true),
        // A time of day: today, or on the day a date-only form names.
        ("15:00", false, "2026-11-18T15:00:00+01:00", false),
        ("15:00", true, "2026-11-18T15:00:00+01:00", false),
        ("08:05:09", false, "2026-11-18T08:05:09+01:00", false),
        ("9:00", false, "2026-11-18T09:00:00+01:00", false),
        ("00:00", true, "2026-11-18T00:00:00+01:00", false),
        ("fri 17:00", true, "2026-11-20T17:00:00+01:00", false),
        ("Friday  17:00", false, "2026-11-20T17:00:00+01:00", false),
        ("tomorrow 15:00", false, "2026-11-19T15:00:00+01:00", false),
        ("today 23:59:59", true, "2026-11-18T23:59:59+01:00", false),
        ("+3d 09:30", false, "2026-11-21T09:30:00+01:00", false),
        ("+1m 10:00", false, "2026-12-18T10:00:00+01:00", false),
        ("eom 18:00", false, "2026-11-30T18:00:00+01:00", false),
        ("sow 9:00", false, "2026-11-16T09:00:00+01:00", false),
        ("2026-11-22 9:00", false, "2026-11-22T09:00:00+01:00", false),
    ];

    #[test]
    fn every_form_gives_the_exact_instant() {
        let now = at("2026-11-18 10:15:30") + TimeDelta::milliseconds(250);
        for &(input, end_of_day, expected, date_only) in TABLE {
            let got = parse_when(input, now, end_of_day)
                .unwrap_or_else(|e| panic!("{input:?} (end_of_day={end_of_day}): {e}"));
            assert_eq!(
                got,
                When {
                    at: ts(expected),
                    date_only
                },
                "{input:?} (end_of_day={end_of_day}): got {}, expected {expected}",
                got.at
            );
        }
    }

    /// (now as local wall time in +01:00, input, end_of_day, expected)
    #[rustfmt::skip]
    const BOUNDARIES: &[(&str, &str, bool, &str)] = &[
        // eom in February, leap and common years, and in December.
        ("2028-02-10 12:00:00", "eom", true, "2028-02-29T23:59:59.999999+01:00"),
        ("2026-02-10 12:00:00", "eom", true, "2026-02-28T23:59:59.999999+01:00"),
        ("2100-02-01 00:00:00", "eom", false, "2100-02-28T00:00:00+01:00"),
        ("2026-12-31 23:59:59", "eom", false, "2026-12-31T00:00:00+01:00"),
        ("2026-04-30 08:00:00", "eom", false, "2026-04-30T00:00:00+01:00"),
        // Day steps across month and year ends, and across February 29.
        ("2026-01-31 09:00:00", "+1d", false, "2026-02-01T00:00:00+01:00"),
        ("2028-02-28 09:00:00", "+1d", false, "2028-02-29T00:00:00+01:00"),
        ("2026-03-01 09:00:00", "-1d", false, "2026-02-28T00:00:00+01:00"),
        ("2026-12-31 23:00:00", "tomorrow", false, "2027-01-01T00:00:00+01:00"),
        ("2027-01-01 00:00:00", "yesterday", true, "2026-12-31T23:59:59.999999+01:00"),
        ("2026-12-20 09:00:00", "+2w", false, "2027-01-03T00:00:00+01:00"),
        ("2026-12-31 23:00:00", "+2h", false, "2027-01-01T01:00:00+01:00"),
        // eow: on a Sunday it is that Sunday; on a Monday the coming one;
        // across a year end.
        ("2026-11-22 18:00:00", "eow", true, "2026-11-22T23:59:59.999999+01:00"),
        ("2026-11-23 00:00:00", "eow", true, "2026-11-29T23:59:59.999999+01:00"),
        ("2026-12-29 10:00:00", "eow", false, "2027-01-03T00:00:00+01:00"),
        // A weekday named on that weekday is a week later (Friday 2026-11-20).
        ("2026-11-20 10:00:00", "fri", false, "2026-11-27T00:00:00+01:00"),
        ("2026-11-20 10:00:00", "friday", true, "2026-11-27T23:59:59.999999+01:00"),
        ("2026-11-20 10:00:00", "sat", false, "2026-11-21T00:00:00+01:00"),
        ("2026-12-31 10:00:00", "fri", false, "2027-01-01T00:00:00+01:00"),
        // sow: on a Monday it is today; on a Sunday the Monday before;
        // across a year start.
        ("2026-11-16 08:00:00", "sow", false, "2026-11-16T00:00:00+01:00"),
        ("2026-11-22 23:00:00", "sow", false, "2026-11-16T00:00:00+01:00"),
        ("2027-01-02 10:00:00", "sow", false, "2026-12-28T00:00:00+01:00"),
        // Months and years clamp to the end of a shorter month.
        ("2026-01-31 09:00:00", "+1m", false, "2026-02-28T00:00:00+01:00"),
        ("2028-01-31 09:00:00", "+1m", false, "2028-02-29T00:00:00+01:00"),
        ("2026-03-31 09:00:00", "-1m", false, "2026-02-28T00:00:00+01:00"),
        ("2026-05-31 09:00:00", "+1m", true, "2026-06-30T23:59:59.999999+01:00"),
        ("2026-12-15 09:00:00", "+1m", false, "2027-01-15T00:00:00+01:00"),
        ("2028-02-29 09:00:00", "+1y", false, "2029-02-28T00:00:00+01:00"),
        ("2028-02-29 09:00:00", "+4y", false, "2032-02-29T00:00:00+01:00"),
        // Year ends.
        ("2026-12-31 23:59:59", "eoy", false, "2026-12-31T00:00:00+01:00"),
        ("2027-01-01 00:00:00", "soy", true, "2027-01-01T23:59:59.999999+01:00"),
        ("2026-12-31 23:00:00", "tomorrow 15:00", false, "2027-01-01T15:00:00+01:00"),
        ("2026-11-20 10:00:00", "fri 17:00", false, "2026-11-27T17:00:00+01:00"),
    ];

    #[test]
    fn month_year_and_week_boundaries() {
        for &(now, input, end_of_day, expected) in BOUNDARIES {
            let got = parse_when(input, at(now), end_of_day)
                .unwrap_or_else(|e| panic!("{input:?} at {now}: {e}"));
            assert_eq!(
                got.at,
                ts(expected),
                "{input:?} at {now} (end_of_day={end_of_day}): got {}, expected {expected}",
                got.at
            );
        }
    }

    #[test]
    fn today_is_the_date_in_the_zone_of_now() {
        // 23:30 UTC on the 18th is already the 19th in UTC+03:00.
        let now = zone(3).with_ymd_and_hms(2026, 11, 19, 2, 30, 0).unwrap();
        let got = parse_when("today", now, false).unwrap();
        assert_eq!(got.at, ts("2026-11-19T00:00:00+03:00"));
        let west = zone(-5).with_ymd_and_hms(2026, 11, 18, 18, 30, 0).unwrap();
        assert_eq!(
            parse_when("today", west, true).unwrap().at,
            ts("2026-11-18T23:59:59.999999-05:00")
        );
    }

    #[test]
    fn end_of_day_is_the_microsecond_before_the_next_day() {
        let now = at("2026-11-18 10:00:00");
        let end = parse_when("2026-11-22", now, true).unwrap().at;
        let next_start = parse_when("2026-11-23", now, false).unwrap().at;
        assert_eq!(end.0 + 1, next_start.0);
        // A keep at 23:59:59.999 is on time with a plain comparison.
        assert!(ts("2026-11-22T23:59:59.999+01:00") <= end);
        assert!(next_start > end);
    }

    #[test]
    fn unknown_input_names_it_and_lists_the_forms() {
        let now = at("2026-11-18 10:00:00");
        for input in [
            "flurb",
            "",
            "   ",
            "fr",
            "fridays",
            "+3",
            "+d",
            "3d",
            "+3mo",
            "+3mi",
            "+3 d",
            "+-3d",
            "2026-11",
            "2026-1-02",
            "26-11-22",
            "2026-11-22T",
            "2026-11-22T10",
            "2026-11-22T10:3",
            "2026-11-22T10:30:",
            "2026-11-22T10:30:15.",
            "2026-11-22T10:30:15.1234567890",
            "2026-11-22T10:30+1",
            "2026-11-22T10:30+01:0",
            "2026-11-22T10:30 garbage",
            "2026-11-22x",
            "2026-13-45T10:30 garbage",
            "next friday",
            "tomorrow!",
            "now 15:00",
            "15:00 16:00",
            "+4h 10:00",
            "fri 17",
            "fri 17:0",
            "fri 17:00:0",
            "17:00 fri",
            "1500",
            "eod 15:00 x",
            "wow 15:00",
        ] {
            let err = parse_when(input, now, false).unwrap_err();
            assert_eq!(
                err,
                WhenError::Unknown {
                    input: input.trim().to_string()
                },
                "{input:?}"
            );
            let msg = err.to_string();
            assert!(msg.contains(&format!("{:?}", input.trim())), "{msg}");
            assert!(msg.contains(ACCEPTED_FORMS), "{msg}");
        }
        assert_eq!(
            parse_when("flurb", now, true).unwrap_err().to_string(),
            "unknown date/time \"flurb\": expected one of: an ISO date (2026-11-22), \
             an ISO date-time (2026-11-22T14:30, optionally with Z or +01:00), now, today, \
             tomorrow, yesterday, a weekday (fri, friday: the next one), +3d / +2w / +1m / +1y / \
             -1d / +4h / +30min, sod / eod (today), sow / eow (Monday / Sunday of this week), \
             som / eom (first / last day of this month), soy / eoy (1 Jan / 31 Dec), a time of \
             day (15:00: today), or one of these days then a time (fri 17:00)"
        );
    }

    #[test]
    fn well_formed_but_impossible_dates_say_why() {
        let now = at("2026-11-18 10:00:00");
        for (input, reason) in [
            ("2026-02-30", "2026-02-30 is not a date"),
            ("2026-02-29", "2026-02-29 is not a date"),
            ("2026-13-01", "2026-13-01 is not a date"),
            ("2026-00-10", "2026-00-10 is not a date"),
            ("2026-04-31T10:00", "2026-04-31 is not a date"),
            ("2026-11-22T25:00", "25:00 is not a time of day"),
            ("2026-11-22T24:00", "24:00 is not a time of day"),
            ("2026-11-22T10:60", "10:60 is not a time of day"),
            ("2026-11-22 10:30:60", "10:30:60 is not a time of day"),
            ("2026-11-22T10:30+24:00", "+24:00 is not a UTC offset"),
            ("2026-11-22T10:30-01:75", "-01:75 is not a UTC offset"),
            ("25:00", "25:00 is not a time of day"),
            ("fri 24:00", "24:00 is not a time of day"),
            ("tomorrow 10:60:00", "10:60:00 is not a time of day"),
            ("2026-02-30 25:00", "2026-02-30 is not a date"),
        ] {
            let err = parse_when(input, now, true).unwrap_err();
            assert_eq!(
                err,
                WhenError::Invalid {
                    input: input.to_string(),
                    reason: reason.to_string()
                }
            );
            assert_eq!(
                err.to_string(),
                format!("invalid date/time {input:?}: {reason}")
            );
        }
        assert!(parse_when("2028-02-29", now, true).is_ok());
    }

    #[test]
    fn out_of_range_is_an_error_not_a_panic() {
        let now = at("2026-11-18 10:00:00");
        for input in [
            "+99999999999999999999999d",
            "+18446744073709551615w",
            "+999999999d",
            "-999999999d",
            "+9999999999999999h",
            "+9223372036854775807min",
            "+4294967296m",
            "+999999999y",
            "-999999999m",
        ] {
            let err = parse_when(input, now, false).unwrap_err();
            assert_eq!(
                err,
                WhenError::OutOfRange {
                    input: input.to_string()
                }
            );
            assert!(err.to_string().contains(input));
        }
        let last = DateTime::<chrono::Utc>::MAX_UTC.with_timezone(&zone(0));
        assert!(matches!(
            parse_when("tomorrow", last, false),
            Err(WhenError::OutOfRange { .. })
        ));
        // The local reading of this instant is past chrono's last date.
        let beyond = DateTime::<chrono::Utc>::MAX_UTC.with_timezone(&zone(5));
        assert!(matches!(
            parse_when("now", beyond, false),
            Err(WhenError::OutOfRange { .. })
        ));
    }

    /// A zone with Paris-like clock changes at configurable instants:
    /// UTC+01:00, and UTC+02:00 from `dst_from` (UTC seconds) until `dst_until`.
    /// `quirky` makes it answer local times the way chrono's `Local` was seen
    /// to: ambiguous pairs latest first, and the instant summer time ends
    /// also offered as a summer-time mapping.
    #[derive(Debug, Clone, Copy, PartialEq)]
    struct ToyZone {
        dst_from: i64,
        dst_until: i64,
        quirky: bool,
    }

    #[derive(Debug, Clone, Copy)]
    struct ToyOffset {
        zone: ToyZone,
        fixed: FixedOffset,
    }

    impl Offset for ToyOffset {
        fn fix(&self) -> FixedOffset {
            self.fixed
        }
    }

    impl ToyZone {
        fn offset_at(&self, utc_secs: i64) -> ToyOffset {
            let dst = (self.dst_from..self.dst_until).contains(&utc_secs);
            ToyOffset {
                zone: *self,
                fixed: zone(if dst { 2 } else { 1 }),
            }
        }
    }

    impl TimeZone for ToyZone {
        type Offset = ToyOffset;

        fn from_offset(offset: &ToyOffset) -> Self {
            offset.zone
        }

        fn offset_from_local_date(&self, local: &NaiveDate) -> MappedLocalTime<ToyOffset> {
            self.offset_from_local_datetime(&local.and_time(NaiveTime::MIN))
        }

        fn offset_from_local_datetime(&self, local: &NaiveDateTime) -> MappedLocalTime<ToyOffset> {
            // Each candidate offset in force at the instant it implies is a
            // valid mapping; summer time first, as it is the earlier instant.
            let local_secs = local.and_utc().timestamp();
            let order = if self.quirky { [1i64, 2] } else { [2, 1] };
            let fits: Vec<ToyOffset> = order
                .into_iter()
                .filter_map(|h| {
                    let utc = local_secs - h * 3600;
                    let valid = i64::from(self.offset_at(utc).fixed.local_minus_utc()) == h * 3600;
                    let boundary = self.quirky && h == 2 && utc == self.dst_until;
                    (valid || boundary).then_some(ToyOffset {
                        zone: *self,
                        fixed: zone(h as i32),
                    })
                })
                .collect();
            match fits.as_slice() {
                [] => MappedLocalTime::None,
                [one] => MappedLocalTime::Single(*one),
                [a, b, ..] => MappedLocalTime::Ambiguous(*a, *b),
            }
        }

        fn offset_from_utc_date(&self, utc: &NaiveDate) -> ToyOffset {
            self.offset_from_utc_datetime(&utc.and_time(NaiveTime::MIN))
        }

        fn offset_from_utc_datetime(&self, utc: &NaiveDateTime) -> ToyOffset {
            self.offset_at(utc.and_utc().timestamp())
        }
    }

    fn utc_secs(rfc3339: &str) -> i64 {
        DateTime::parse_from_rfc3339(rfc3339).unwrap().timestamp()
    }

    /// Europe/Paris in 2026: summer time from 29 March 01:00 UTC (02:00
    /// local becomes 03:00) to 25 October 01:00 UTC (03:00 becomes 02:00).
    fn paris_2026() -> ToyZone {
        ToyZone {
            dst_from: utc_secs("2026-03-29T01:00:00Z"),
            dst_until: utc_secs("2026-10-25T01:00:00Z"),
            quirky: false,
        }
    }

    fn toy_now(tz: ToyZone, utc: &str) -> DateTime<ToyZone> {
        tz.from_utc_datetime(&DateTime::parse_from_rfc3339(utc).unwrap().naive_utc())
    }

    #[test]
    fn clock_changes_never_fail_and_follow_the_documented_rule() {
        let tz = paris_2026();
        let now = toy_now(tz, "2026-03-28T09:00:00Z");
        let cases: &[(&str, bool, &str)] = &[
            // Skipped 02:30 is read with the winter offset: 03:30 summer time.
            ("2026-03-29T02:30", false, "2026-03-29T03:30:00+02:00"),
            ("2026-03-29T03:30", false, "2026-03-29T03:30:00+02:00"),
            // Repeated 02:30 takes the earlier instant (summer time).
            ("2026-10-25T02:30", false, "2026-10-25T02:30:00+02:00"),
            ("2026-10-25T03:30", false, "2026-10-25T03:30:00+01:00"),
            // The days around the changes have their usual bounds.
            ("2026-03-29", false, "2026-03-29T00:00:00+01:00"),
            ("2026-03-29", true, "2026-03-29T23:59:59.999999+02:00"),
            ("2026-10-25", true, "2026-10-25T23:59:59.999999+01:00"),
            ("+1d", true, "2026-03-29T23:59:59.999999+02:00"),
            // Elapsed hours, not wall-clock hours: 10:00 +01:00 + 24h.
            ("+24h", false, "2026-03-29T11:00:00+02:00"),
        ];
        for &(input, end_of_day, expected) in cases {
            let got =
                parse_when(input, now, end_of_day).unwrap_or_else(|e| panic!("{input:?}: {e}"));
            assert_eq!(got.at, ts(expected), "{input:?}: got {}", got.at);
        }
    }

    #[test]
    fn mappings_that_do_not_read_back_are_ignored() {
        let tz = ToyZone {
            quirky: true,
            ..paris_2026()
        };
        let now = toy_now(tz, "2026-10-24T09:00:00Z");
        // Offered as ambiguous, but 03:00 +02:00 is 01:00 UTC, when the
        // clock already shows 02:00 +01:00: only 03:00 +01:00 is real.
        assert_eq!(
            parse_when("2026-10-25T03:00", now, false).unwrap().at,
            ts("2026-10-25T03:00:00+01:00")
        );
        // Latest listed first: still the earliest is taken.
        assert_eq!(
            parse_when("2026-10-25T02:30", now, false).unwrap().at,
            ts("2026-10-25T02:30:00+02:00")
        );
        assert_eq!(
            parse_when("2026-10-25", now, true).unwrap().at,
            ts("2026-10-25T23:59:59.999999+01:00")
        );
    }

    #[test]
    fn a_day_whose_midnight_is_skipped_starts_when_the_clock_resumes() {
        // Clocks jump from 00:00 to 01:00 local (23:00 UTC the day before),
        // and back from 01:00 to 00:00 on another night, as in some zones.
        let tz = ToyZone {
            dst_from: utc_secs("2026-03-07T23:00:00Z"),
            dst_until: utc_secs("2026-11-01T00:00:00Z"),
            quirky: false,
        };
        let now = toy_now(tz, "2026-03-05T12:00:00Z");
        let start = parse_when("2026-03-08", now, false).unwrap().at;
        assert_eq!(start, ts("2026-03-08T01:00:00+02:00"));
        let end_before = parse_when("2026-03-07", now, true).unwrap().at;
        assert_eq!(end_before.0 + 1, start.0);
        // Midnight happens twice on 1 November: the day starts at the first.
        assert_eq!(
            parse_when("2026-11-01", now, false).unwrap().at,
            ts("2026-11-01T00:00:00+02:00")
        );
        assert_eq!(
            parse_when("2026-10-31", now, true).unwrap().at,
            ts("2026-10-31T23:59:59.999999+02:00")
        );
    }

    const FORMS: &[&str] = &[
        "now",
        "today",
        "tomorrow",
        "yesterday",
        "fri",
        "sunday",
        "+3d",
        "-1d",
        "+2w",
        "+4h",
        "-30min",
        "eow",
        "eom",
        "sow",
        "soy",
        "eoy",
        "+1m",
        "-1y",
        "15:00",
        "fri 17:00",
        "2026-11-22",
        "2026-11-22T10:30",
        "2026-11-22T10:30:15+01:00",
    ];

    proptest! {
        #[test]
        fn any_string_never_panics(input in ".*", end_of_day: bool) {
            let _ = parse_when(&input, at("2026-11-18 10:15:30"), end_of_day);
        }

        #[test]
        fn near_miss_strings_never_panic(
            input in "[-+ 0-9tTzZ:.a-z\u{e9}\u{1F600}]{0,32}",
            end_of_day: bool,
        ) {
            let _ = parse_when(&input, at("2026-11-18 10:15:30"), end_of_day);
            let _ = parse_when(&input, toy_now(paris_2026(), "2026-03-29T00:30:00Z"), end_of_day);
        }

        #[test]
        fn any_now_and_any_offset_never_panic(
            form in prop::sample::select(FORMS),
            secs in any::<i64>(),
            offset_secs in -86_399i32..=86_399,
            end_of_day: bool,
        ) {
            let secs = secs.clamp(
                DateTime::<chrono::Utc>::MIN_UTC.timestamp(),
                DateTime::<chrono::Utc>::MAX_UTC.timestamp(),
            );
            let utc = DateTime::from_timestamp(secs, 0).unwrap();
            let now = utc.with_timezone(&FixedOffset::east_opt(offset_secs).unwrap());
            let _ = parse_when(form, now, end_of_day);
        }

        #[test]
        fn every_valid_iso_date_is_that_day(
            day in (0i32..=9999, 1u32..=366)
                .prop_filter_map("a real day", |(y, o)| NaiveDate::from_yo_opt(y, o)),
            end_of_day: bool,
        ) {
            let text = day.format("%Y-%m-%d").to_string();
            let got = parse_when(&text, at("2026-11-18 10:15:30"), end_of_day).unwrap();
            let start = zone(1).from_local_datetime(&day.and_time(NaiveTime::MIN)).unwrap();
            let expected = if end_of_day {
                Timestamp::from_datetime(&start).0 + 86_400_000_000 - 1
            } else {
                Timestamp::from_datetime(&start).0
            };
            prop_assert_eq!(got, When { at: Timestamp(expected), date_only: true });
        }

        #[test]
        fn relative_days_agree_with_calendar_arithmetic(n in 0u64..100_000, forward: bool) {
            let now = at("2026-11-18 10:15:30");
            let input = format!("{}{n}d", if forward { '+' } else { '-' });
            let today = now.date_naive();
            let day = if forward {
                today.checked_add_days(Days::new(n))
            } else {
                today.checked_sub_days(Days::new(n))
            }
            .unwrap();
            let expected = zone(1).from_local_datetime(&day.and_time(NaiveTime::MIN)).unwrap();
            prop_assert_eq!(
                parse_when(&input, now, false).unwrap().at,
                Timestamp::from_datetime(&expected)
            );
        }
    }
}
