//! The time zone human output is in, by name (issue 12.9), and how times
//! are written for people and spreadsheets in it.
//!
//! Tables say their zone in the header of each time column (`due
//! (Asia/Seoul)`): a time without a zone is ambiguous for a consultancy
//! working from Seoul and Paris. The name is `TZ` when set (an IANA name
//! such as `Europe/Paris`; a path under `zoneinfo/` is shortened to the
//! name), else the target of the `/etc/localtime` link, else the current
//! offset (`+09:00`).
//!
//! A date-only due is stored as an instant — the end of that day in the
//! zone it was recorded in — with `date_only` set. Read in that zone it is
//! shown as the day alone. Read in another zone its end falls at another
//! local time (a Seoul `2026-12-10` ends at 15:59 in Paris, a Paris one at
//! 07:59 the next day in Seoul): shown then as the local day of that end
//! and its local time, `2026-12-10 (ends 15:59)`, so nobody reads a Seoul
//! deadline as the end of a Paris day. The CSV writes the day alone under
//! the same rule, and the exact local time with its offset otherwise.

use std::sync::OnceLock;

use chrono::{DateTime, Local, SecondsFormat, Timelike};

use crate::events::{Due, Timestamp};

/// The local zone's name (see the module docs), worked out once.
pub fn name() -> &'static str {
    static NAME: OnceLock<String> = OnceLock::new();
    NAME.get_or_init(|| {
        let tz = std::env::var("TZ").ok();
        let link = || {
            std::fs::read_link("/etc/localtime")
                .ok()
                .map(|p| p.to_string_lossy().into_owned())
        };
        tz.filter(|s| !s.trim().is_empty())
            .or_else(link)
            .and_then(|s| iana_name(&s))
            .unwrap_or_else(|| Local::now().format("%:z").to_string())
    })
}

/// `Asia/Seoul` from `Asia/Seoul`, `:Asia/Seoul` or
/// `/usr/share/zoneinfo/Asia/Seoul`; `None` for another path.
fn iana_name(s: &str) -> Option<String> {
    let s = s.trim().trim_start_matches(':');
    let s = match s.rfind("zoneinfo/") {
        Some(i) => &s[i + "zoneinfo/".len()..],
        None => s,
    };
    (!s.is_empty() && !s.starts_with('/')).then(|| s.to_string())
}

/// A time column's header with the zone: `due (Asia/Seoul)`.
pub fn header(col: &str) -> String {
    format!("{col} ({})", name())
}

/// Whether a date-only due ends the local day here (its end is 23:59:59
/// local time): then the day alone says it.
fn ends_local_day(t: &DateTime<Local>) -> bool {
    (t.hour(), t.minute(), t.second()) == (23, 59, 59)
}

/// A due for a table: the day alone for a date-only due that ends the
/// local day, the day and its local end time for one recorded in another
/// zone, the local time to the minute otherwise.
pub fn due_cell(d: &Due) -> String {
    match d.at.to_local() {
        Some(t) if d.date_only && ends_local_day(&t) => t.format("%Y-%m-%d").to_string(),
        Some(t) if d.date_only => t.format("%Y-%m-%d (ends %H:%M)").to_string(),
        _ => d.at.to_local_string(),
    }
}

/// A time for the CSV: RFC 3339 in the local zone with its offset,
/// `2026-12-10T18:00:00+09:00` (what a spreadsheet in that zone reads as
/// the wall-clock time it shows).
pub fn csv_time(t: Timestamp) -> String {
    match t.to_local() {
        Some(d) => d.to_rfc3339_opts(SecondsFormat::AutoSi, false),
        None => t.to_rfc3339(),
    }
}

/// A due for the CSV: `YYYY-MM-DD` for a date-only due that ends the
/// local day, [`csv_time`] otherwise.
pub fn csv_due(at: Timestamp, date_only: bool) -> String {
    match at.to_local() {
        Some(t) if date_only && ends_local_day(&t) => t.format("%Y-%m-%d").to_string(),
        _ => csv_time(at),
    }
}

/// What `--excel` writes before the CSV: the UTF-8 byte order mark, by
/// which Excel knows the file is UTF-8 (without it, Korean comes out as
/// mojibake).
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_from_tz_forms() {
        assert_eq!(iana_name("Asia/Seoul").as_deref(), Some("Asia/Seoul"));
        assert_eq!(iana_name(":Europe/Paris").as_deref(), Some("Europe/Paris"));
        assert_eq!(
            iana_name("/usr/share/zoneinfo/Asia/Seoul").as_deref(),
            Some("Asia/Seoul")
        );
        assert_eq!(iana_name("/etc/some-file"), None);
        assert_eq!(iana_name(""), None);
        assert_eq!(BOM, "\u{feff}".as_bytes());
    }
}
