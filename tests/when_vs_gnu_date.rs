//! `parse_when` checked against GNU `date -d`, the reference most users know,
//! wherever the two understand the same thing.
//!
//! GNU has no way to pin "now" for word forms, so the comparison works two ways:
//! - pinned: our `now` is a fixed base instant, and GNU gets that base
//!   written into the expression (`date -d '2026-11-18 3 days'` for `+3d`);
//! - real clock: for weekday names and `eow`, which GNU only reads relative
//!   to the real clock, both sides use the current time, retried if the date
//!   changes while the checks run.
//!
//! Fixed offsets are checked in this process (`chrono::FixedOffset` against
//! GNU with the same offset as a POSIX `TZ`). Real zones with clock changes
//! are checked with `chrono::Local` in a child run of this test binary whose
//! `TZ` is set before it starts (`local_zone_child`), since a running
//! process cannot safely change its own `TZ`.
//!
//! Known, deliberate differences, asserted explicitly:
//! - `fri` on a Friday: GNU says today, we say a week later (= GNU's `next fri`);
//! - `+1m` / `+1y` from a day the target month lacks (31 January): GNU rolls
//!   over into the next month (3 March), we clamp to its last day;
//! - a skipped local time (spring forward): GNU rejects it, we move it
//!   forward by the gap;
//! - a repeated local time (fall back): GNU takes the later instant, we the earlier.

use chrono::{DateTime, Datelike, FixedOffset, Local, NaiveDateTime, TimeZone, Utc, Weekday};
use std::process::Command;
use trustlog::cli::when::parse_when;

const MICROS: i64 = 1_000_000;
const DAY: i64 = 86_400;

/// Set in the child's environment to the zone it must run in.
const CHILD_ZONE_VAR: &str = "TRUSTLOG_WHEN_TEST_ZONE";

fn require_gnu_date() {
    let version = match Command::new("date").arg("--version").output() {
        Ok(out) => String::from_utf8_lossy(&out.stdout).into_owned(),
        Err(e) => panic!("these tests compare with GNU `date`, which cannot be run: {e}"),
    };
    assert!(
        version.contains("GNU coreutils"),
        "these tests compare with GNU `date` (coreutils), but the `date` on PATH is not it \
         (`date --version` printed {:?}); install coreutils",
        version.lines().next().unwrap_or("")
    );
}

/// Seconds since the epoch of `expr` read by GNU `date -d` in zone `tz`
/// (`None` for the inherited zone), or GNU's complaint.
fn gnu(tz: Option<&str>, expr: &str) -> Result<i64, String> {
    let mut cmd = Command::new("date");
    if let Some(tz) = tz {
        cmd.env("TZ", tz);
    }
    let out = cmd
        .args(["-d", expr, "+%s"])
        .output()
        .map_err(|e| format!("cannot run date: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
    }
    stdout
        .trim()
        .parse()
        .map_err(|e| format!("date printed {stdout:?}: {e}"))
}

/// Our answer in whole seconds (GNU's `%s` granularity; floor, as `%s` does).
fn ours<Tz: TimeZone>(input: &str, now: &DateTime<Tz>, end_of_day: bool) -> Result<i64, String> {
    parse_when(input, now.clone(), end_of_day)
        .map(|w| w.at.0.div_euclid(MICROS))
        .map_err(|e| e.to_string())
}

/// Compares, and records a readable line on mismatch.
fn check(
    failures: &mut Vec<String>,
    label: &str,
    ours: Result<i64, String>,
    gnu: Result<i64, String>,
) {
    if ours.is_err() || ours != gnu {
        failures.push(format!("{label}: ours {ours:?}, GNU {gnu:?}"));
    }
}

/// Base instants ("now") as local wall time: an ordinary Wednesday, a
/// Sunday, month and year ends, a leap February.
const BASES: &[&str] = &[
    "2026-11-18 10:15:30",
    "2026-11-22 18:00:00",
    "2026-12-31 23:59:59",
    "2026-01-31 00:00:00",
    "2028-02-28 12:00:00",
    "2027-02-28 06:00:00",
];

/// (our input, end_of_day, GNU expression). In the GNU expression `{D}` is
/// the base date, `{B}` the base date and time, `{M}` the base year-month,
/// `{Y}` the base year.
#[rustfmt::skip]
const PINNED: &[(&str, bool, &str)] = &[
    // ISO dates and date-times, in local time unless an offset is given.
    ("2026-11-22", false, "2026-11-22"),
    ("2026-11-22", true, "2026-11-22 23:59:59"),
    ("2028-02-29", true, "2028-02-29 23:59:59"),
    ("2026-11-22T10:30", false, "2026-11-22T10:30"),
    ("2026-11-22 10:30", true, "2026-11-22 10:30"),
    ("2026-11-22T10:30:15", false, "2026-11-22T10:30:15"),
    ("2026-11-22t00:00", false, "2026-11-22T00:00"),
    ("2026-11-22T10:30Z", false, "2026-11-22T10:30Z"),
    ("2026-11-22T10:30:15+01:00", false, "2026-11-22T10:30:15+01:00"),
    ("2026-11-22T10:30+0100", false, "2026-11-22T10:30+0100"),
    ("2026-11-22 10:30:15-05:30", false, "2026-11-22 10:30:15-05:30"),
    ("2026-12-31T23:30-05:00", false, "2026-12-31T23:30-05:00"),
    // The base itself.
    ("now", false, "{B}"),
    ("now", true, "{B}"),
    // Named days, with GNU's own words.
    ("today", false, "{D} today"),
    ("today", true, "{D} 23:59:59 today"),
    ("tomorrow", false, "{D} tomorrow"),
    ("tomorrow", true, "{D} 23:59:59 tomorrow"),
    ("yesterday", false, "{D} yesterday"),
    ("yesterday", true, "{D} 23:59:59 yesterday"),
    // Relative days and weeks: calendar days from the base date.
    ("+3d", false, "{D} 3 days"),
    ("+3d", true, "{D} 23:59:59 3 days"),
    ("+1d", false, "{D} 1 day"),
    ("-1d", false, "{D} 1 day ago"),
    ("-1d", true, "{D} 23:59:59 1 day ago"),
    ("+2w", false, "{D} 2 weeks"),
    ("-2w", true, "{D} 23:59:59 2 weeks ago"),
    ("+60d", false, "{D} 60 days"),
    // Hours and minutes: elapsed time from the base instant.
    ("+4h", false, "{B} 4 hours"),
    ("-4h", true, "{B} 4 hours ago"),
    ("+48h", false, "{B} 48 hours"),
    ("+30min", false, "{B} 30 minutes"),
    ("-90min", false, "{B} 90 minutes ago"),
    // End of month: GNU's "first of the month, plus a month, minus a day".
    ("eom", false, "{M}-01 1 month 1 day ago"),
    ("eom", true, "{M}-01 23:59:59 1 month 1 day ago"),
    // The other period words.
    ("eod", false, "{D}"),
    ("eod", true, "{D} 23:59:59"),
    ("sod", true, "{D} 23:59:59"),
    ("som", false, "{M}-01"),
    ("som", true, "{M}-01 23:59:59"),
    ("soy", false, "{Y}-01-01"),
    ("eoy", false, "{Y}-12-31"),
    ("eoy", true, "{Y}-12-31 23:59:59"),
    // A time of day: today (GNU's bare `15:00`), or on a named day.
    ("15:00", false, "{D} 15:00"),
    ("15:00", true, "{D} 15:00"),
    ("9:05:30", false, "{D} 09:05:30"),
    ("tomorrow 15:00", true, "{D} 15:00 tomorrow"),
    ("yesterday 08:00", false, "{D} 08:00 yesterday"),
    ("+3d 09:30", false, "{D} 09:30 3 days"),
    ("-2w 18:00", true, "{D} 18:00 2 weeks ago"),
    ("eom 17:00", false, "{M}-01 17:00 1 month 1 day ago"),
];

/// Calendar months and years: (base date, input, end_of_day, GNU
/// expression). Where the target month has the base's day, GNU's `1 month`
/// is ours; where it lacks it, GNU rolls over and we clamp, so GNU is asked
/// for the target month's last day instead.
#[rustfmt::skip]
const MONTHS: &[(&str, &str, bool, &str)] = &[
    ("2026-11-18", "+1m", false, "2026-11-18 1 month"),
    ("2026-11-18", "+1m", true, "2026-11-18 23:59:59 1 month"),
    ("2026-11-18", "-1m", false, "2026-11-18 1 month ago"),
    ("2026-12-31", "+1m", false, "2026-12-31 1 month"),
    ("2026-11-18", "+14m", false, "2026-11-18 14 months"),
    ("2026-11-18", "+1y", false, "2026-11-18 1 year"),
    ("2026-11-18", "-3y", true, "2026-11-18 23:59:59 3 years ago"),
    ("2028-02-28", "+1y", false, "2028-02-28 1 year"),
    ("2026-11-18", "+1m 10:00", false, "2026-11-18 10:00 1 month"),
    // Clamped: GNU would say 3 March, 1 March, 1 May, 3 March.
    ("2026-01-31", "+1m", false, "2026-03-01 1 day ago"),
    ("2028-02-29", "+1y", false, "2029-03-01 1 day ago"),
    ("2026-03-31", "+1m", true, "2026-05-01 23:59:59 1 day ago"),
    ("2026-03-31", "-1m", false, "2026-03-01 1 day ago"),
];

#[test]
fn calendar_months_and_years_agree_with_gnu_up_to_clamping() {
    require_gnu_date();
    let mut failures = Vec::new();
    for (gnu_tz, zone) in fixed_zones() {
        for &(base, input, end_of_day, expr) in MONTHS {
            let naive =
                NaiveDateTime::parse_from_str(&format!("{base} 10:15:30"), "%Y-%m-%d %H:%M:%S")
                    .unwrap();
            let now = zone.from_local_datetime(&naive).single().unwrap();
            check(
                &mut failures,
                &format!("TZ={gnu_tz:?} now={base} {input:?} end_of_day={end_of_day} vs `date -d {expr:?}`"),
                ours(input, &now, end_of_day),
                gnu(Some(gnu_tz), expr),
            );
        }
    }
    // The rollover we deliberately do not follow, still GNU's behaviour.
    check(
        &mut failures,
        "GNU rolls 2026-01-31 + 1 month over into March",
        gnu(Some("UTC"), "2026-03-03"),
        gnu(Some("UTC"), "2026-01-31 1 month"),
    );
    assert_none(failures);
}

fn pinned_failures<Tz: TimeZone>(gnu_tz: Option<&str>, zone: &Tz) -> Vec<String> {
    let mut failures = Vec::new();
    for base_text in BASES {
        let base = NaiveDateTime::parse_from_str(base_text, "%Y-%m-%d %H:%M:%S").unwrap();
        let now = zone.from_local_datetime(&base).single().unwrap();
        let date = base.format("%Y-%m-%d").to_string();
        let month = base.format("%Y-%m").to_string();
        let year = base.format("%Y").to_string();
        for &(input, end_of_day, gnu_template) in PINNED {
            let expr = gnu_template
                .replace("{B}", base_text)
                .replace("{D}", &date)
                .replace("{M}", &month)
                .replace("{Y}", &year);
            check(
                &mut failures,
                &format!("TZ={gnu_tz:?} now={base_text} {input:?} end_of_day={end_of_day} vs `date -d {expr:?}`"),
                ours(input, &now, end_of_day),
                gnu(gnu_tz, &expr),
            );
        }
    }
    failures
}

const WEEKDAYS: &[(&str, &str, Weekday)] = &[
    ("mon", "monday", Weekday::Mon),
    ("tue", "tuesday", Weekday::Tue),
    ("wed", "wednesday", Weekday::Wed),
    ("thu", "thursday", Weekday::Thu),
    ("fri", "friday", Weekday::Fri),
    ("sat", "saturday", Weekday::Sat),
    ("sun", "sunday", Weekday::Sun),
];

/// Weekday names and `eow`, which GNU reads only against the real clock.
fn real_clock_failures<Tz: TimeZone>(gnu_tz: Option<&str>, zone: &Tz) -> Vec<String> {
    for _attempt in 0..5 {
        let before = Utc::now().with_timezone(zone);
        let mut failures = Vec::new();
        let today = before.date_naive().weekday();
        for &(short, long, weekday) in WEEKDAYS {
            for name in [short, long] {
                let label = format!("TZ={gnu_tz:?} today={today} {name:?}");
                let mine = ours(name, &before, false);
                // GNU's `next fri` is always the same as our `fri`.
                check(
                    &mut failures,
                    &format!("{label} vs `date -d 'next {name}'`"),
                    mine.clone(),
                    gnu(gnu_tz, &format!("next {name}")),
                );
                if weekday == today {
                    // The one deliberate difference: GNU's bare name is today.
                    check(
                        &mut failures,
                        &format!("{label}: GNU's bare name should be today"),
                        ours("today", &before, false),
                        gnu(gnu_tz, name),
                    );
                    check(
                        &mut failures,
                        &format!("{label} vs `date -d '{name} 1 week'`"),
                        mine,
                        gnu(gnu_tz, &format!("{name} 1 week")),
                    );
                } else {
                    check(
                        &mut failures,
                        &format!("{label} vs `date -d {name}`"),
                        mine,
                        gnu(gnu_tz, name),
                    );
                }
                check(
                    &mut failures,
                    &format!("{label} end_of_day vs `date -d 'next {name} 23:59:59'`"),
                    ours(name, &before, true),
                    gnu(gnu_tz, &format!("next {name} 23:59:59")),
                );
            }
        }
        // `sow` is this week's Monday: GNU's `last mon`, or today on a Monday
        // (GNU's bare `mon`). A time after a weekday is on our weekday.
        let sow = if today == Weekday::Mon {
            "mon"
        } else {
            "last mon"
        };
        for (expr, end_of_day) in [(sow.to_string(), false), (format!("{sow} 23:59:59"), true)] {
            check(
                &mut failures,
                &format!(
                    "TZ={gnu_tz:?} today={today} sow end_of_day={end_of_day} vs `date -d {expr:?}`"
                ),
                ours("sow", &before, end_of_day),
                gnu(gnu_tz, &expr),
            );
        }
        for (input, expr) in [
            ("fri 17:00", "next fri 17:00"),
            ("mon 9:30", "next mon 09:30"),
        ] {
            check(
                &mut failures,
                &format!("TZ={gnu_tz:?} today={today} {input:?} vs `date -d {expr:?}`"),
                ours(input, &before, false),
                gnu(gnu_tz, expr),
            );
        }
        // ISO week, Monday first: GNU's bare `sun` is this week's Sunday,
        // today included.
        let eow = [("sun", false), ("sun 23:59:59", true)];
        for (expr, end_of_day) in eow {
            check(
                &mut failures,
                &format!(
                    "TZ={gnu_tz:?} today={today} eow end_of_day={end_of_day} vs `date -d {expr:?}`"
                ),
                ours("eow", &before, end_of_day),
                gnu(gnu_tz, expr),
            );
        }
        let after = Utc::now().with_timezone(zone);
        if before.date_naive() == after.date_naive() {
            return failures;
        }
        // Midnight passed while GNU was asked: its answers may be for
        // another day. Ask again.
    }
    vec!["the local date kept changing during the checks".to_string()]
}

/// GNU's POSIX `TZ` for each fixed offset compared in this process.
fn fixed_zones() -> Vec<(&'static str, FixedOffset)> {
    vec![
        ("UTC", FixedOffset::east_opt(0).unwrap()),
        ("<+03>-3", FixedOffset::east_opt(3 * 3600).unwrap()),
        (
            "<-0530>+5:30",
            FixedOffset::west_opt(5 * 3600 + 1800).unwrap(),
        ),
    ]
}

fn assert_none(failures: Vec<String>) {
    assert!(
        failures.is_empty(),
        "{} disagreement(s) with GNU date:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn fixed_offsets_agree_with_gnu_on_pinned_dates() {
    require_gnu_date();
    let mut failures = Vec::new();
    for (gnu_tz, zone) in fixed_zones() {
        failures.extend(pinned_failures(Some(gnu_tz), &zone));
    }
    assert_none(failures);
}

#[test]
fn fixed_offsets_agree_with_gnu_on_weekdays_and_eow() {
    require_gnu_date();
    let mut failures = Vec::new();
    for (gnu_tz, zone) in fixed_zones() {
        failures.extend(real_clock_failures(Some(gnu_tz), &zone));
    }
    assert_none(failures);
}

#[test]
fn local_time_zones_agree_with_gnu() {
    require_gnu_date();
    let exe = std::env::current_exe().unwrap();
    for zone in ["Europe/Paris", "UTC"] {
        let out = Command::new(&exe)
            .args([
                "local_zone_child",
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("TZ", zone)
            .env(CHILD_ZONE_VAR, zone)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        // "1 passed" guards against a filter that silently ran nothing.
        assert!(
            out.status.success() && stdout.contains("1 passed"),
            "child run with TZ={zone} failed:\n{stdout}\n{stderr}"
        );
    }
}

/// Runs in a child process started by `local_time_zones_agree_with_gnu`
/// with `TZ` set; on its own it checks whatever zone the environment has.
#[test]
#[ignore = "started by local_time_zones_agree_with_gnu in a process with TZ set"]
fn local_zone_child() {
    require_gnu_date();
    let zone = std::env::var(CHILD_ZONE_VAR).ok();
    let offset_on = |date: &str| {
        let noon = NaiveDateTime::parse_from_str(&format!("{date} 12:00:00"), "%Y-%m-%d %H:%M:%S")
            .unwrap();
        Local
            .from_local_datetime(&noon)
            .single()
            .unwrap()
            .offset()
            .local_minus_utc()
    };
    let mut failures = Vec::new();
    if zone.as_deref() == Some("Europe/Paris") {
        // Otherwise chrono fell back to another zone and nothing below
        // would be about clock changes.
        assert_eq!(
            (offset_on("2026-01-15"), offset_on("2026-07-15")),
            (3600, 7200),
            "chrono::Local does not see TZ=Europe/Paris"
        );
        failures.extend(paris_clock_change_failures());
    }
    if zone.as_deref() == Some("UTC") {
        assert_eq!(
            (offset_on("2026-01-15"), offset_on("2026-07-15")),
            (0, 0),
            "chrono::Local does not see TZ=UTC"
        );
    }
    // GNU inherits the TZ that chrono::Local reads.
    failures.extend(pinned_failures(None, &Local));
    failures.extend(real_clock_failures(None, &Local));
    assert_none(failures);
}

/// Europe/Paris 2026: 02:00 becomes 03:00 on 29 March, 03:00 becomes 02:00
/// on 25 October.
fn paris_clock_change_failures() -> Vec<String> {
    let mut failures = Vec::new();
    let base = |s: &str| {
        let naive = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap();
        Local.from_local_datetime(&naive).single().unwrap()
    };
    let spring = base("2026-03-28 10:00:00");
    let autumn = base("2026-10-24 10:00:00");
    let night = base("2026-03-29 00:30:00");
    #[rustfmt::skip]
    let same: &[(&DateTime<Local>, &str, bool, &str)] = &[
        // Days that are 23 and 25 hours long keep their calendar bounds.
        (&spring, "+1d", false, "2026-03-29"),
        (&spring, "+1d", true, "2026-03-29 23:59:59"),
        (&spring, "tomorrow", true, "2026-03-28 23:59:59 tomorrow"),
        (&spring, "+2d", false, "2026-03-28 2 days"),
        (&autumn, "+1d", true, "2026-10-25 23:59:59"),
        (&autumn, "tomorrow", false, "2026-10-24 tomorrow"),
        (&autumn, "+1w", false, "2026-10-24 1 week"),
        // Elapsed hours across the gap and the overlap.
        (&night, "+4h", false, "2026-03-29 00:30:00 4 hours"),
        (&spring, "+24h", false, "2026-03-28 10:00:00 24 hours"),
        (&autumn, "+24h", false, "2026-10-24 10:00:00 24 hours"),
        // Unambiguous times on the change days.
        (&spring, "2026-03-29T03:30", false, "2026-03-29T03:30"),
        (&spring, "2026-03-29T01:59:59", false, "2026-03-29T01:59:59"),
        (&autumn, "2026-10-25T03:00", false, "2026-10-25T03:00"),
        (&autumn, "2026-10-25T01:59", false, "2026-10-25T01:59"),
        // Wall times exactly at the changes, where chrono's `Local` answers
        // oddly (see `resolve_local`).
        (&spring, "2026-03-29T02:00", false, "2026-03-29T03:00"),
        (&autumn, "2026-10-25T02:00", false, "2026-10-25T02:00+02:00"),
    ];
    for &(now, input, end_of_day, expr) in same {
        check(
            &mut failures,
            &format!(
                "Europe/Paris now={now} {input:?} end_of_day={end_of_day} vs `date -d {expr:?}`"
            ),
            ours(input, now, end_of_day),
            gnu(None, expr),
        );
    }

    // Skipped 02:30: GNU refuses it; we read it as 03:30 summer time.
    match gnu(None, "2026-03-29T02:30") {
        Err(_) => {}
        Ok(s) => failures.push(format!(
            "GNU now accepts the skipped 2026-03-29T02:30 as {s}"
        )),
    }
    check(
        &mut failures,
        "Europe/Paris skipped 2026-03-29T02:30 vs `date -d 2026-03-29T03:30`",
        ours("2026-03-29T02:30", &spring, false),
        gnu(None, "2026-03-29T03:30"),
    );

    // Repeated 02:30: we take the first (summer time, +02:00); GNU the
    // second, an hour later.
    check(
        &mut failures,
        "Europe/Paris repeated 2026-10-25T02:30 vs `date -d 2026-10-25T02:30+02:00`",
        ours("2026-10-25T02:30", &autumn, false),
        gnu(None, "2026-10-25T02:30+02:00"),
    );
    check(
        &mut failures,
        "Europe/Paris repeated 2026-10-25T02:30 plus one hour vs GNU's reading",
        ours("2026-10-25T02:30", &autumn, false).map(|s| s + 3600),
        gnu(None, "2026-10-25T02:30"),
    );

    // The day lengths the above imply, stated plainly.
    let len = |day: &str, next: &str| -> Result<i64, String> {
        Ok(ours(next, &spring, false)? - ours(day, &spring, false)?)
    };
    check(
        &mut failures,
        "length of 2026-03-29",
        len("2026-03-29", "2026-03-30"),
        Ok(DAY - 3600),
    );
    check(
        &mut failures,
        "length of 2026-10-25",
        len("2026-10-25", "2026-10-26"),
        Ok(DAY + 3600),
    );
    failures
}
