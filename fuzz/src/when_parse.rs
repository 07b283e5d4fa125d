//! The WHEN parser (`cli::when::parse_when`) on arbitrary text, at an
//! arbitrary "now" in an arbitrary fixed UTC offset. Input: 8 bytes of
//! now (µs since the epoch, little-endian; folded into the years 1900 to
//! 2200 unless bit 0 of the flags byte is set), 2 bytes of offset
//! (minutes, folded into -14:00..=+14:00), 1 flags byte, then the text.
//!
//! Properties, for both meanings of a date-only form (`end_of_day`):
//! - no panic, whatever the text and however extreme `now` is;
//! - an accepted WHEN is an instant in the representable range;
//! - a date-only form means a whole day: its end (`end_of_day`) is one day
//!   less one microsecond after its start; any other form means the same
//!   instant either way;
//! - letter case and surrounding ASCII whitespace do not matter;
//! - round trip: the result, written back as an ISO date-time with its
//!   offset (or, date-only, as an ISO date in `now`'s zone), parses to the
//!   same instant.
//!
//! Shared by the `when_parse` fuzz target and by the main crate's
//! `tests/fuzz_corpus_replay.rs`; it depends on `trustlog`, chrono and std.

use chrono::{DateTime, FixedOffset, TimeZone};
use trustlog::cli::when::{parse_when, When, WhenError};

const DAY_US: i64 = 86_400_000_000;

pub fn check(data: &[u8]) {
    if data.len() < 11 {
        return;
    }
    let mut raw = [0u8; 8];
    raw.copy_from_slice(&data[..8]);
    let mut micros = i64::from_le_bytes(raw);
    let flags = data[10];
    if flags & 1 == 0 {
        // 1900-01-01 .. 2200-01-01.
        let (lo, span) = (-2_208_988_800_000_000i64, 9_467_107_200_000_000i64);
        micros = lo + micros.rem_euclid(span);
    }
    let minutes =
        i32::from(i16::from_le_bytes([data[8], data[9]])).rem_euclid(28 * 60 + 1) - 14 * 60;
    let Some(tz) = FixedOffset::east_opt(minutes * 60) else {
        return;
    };
    let Some(now) = tz.timestamp_micros(micros).single() else {
        return;
    };
    let input = String::from_utf8_lossy(&data[11..]);
    check_at(&input, now);
}

fn check_at(input: &str, now: DateTime<FixedOffset>) {
    let start = parse_when(input, now, false);
    let end = parse_when(input, now, true);
    for (r, end_of_day) in [(&start, false), (&end, true)] {
        let Ok(w) = r else { continue };
        let Some(utc) = w.at.to_utc() else {
            panic!("{input:?} at {now}: {w:?} is out of range");
        };
        // Case and whitespace.
        let shouted = format!(" \t{}\n ", input.to_ascii_uppercase());
        assert_eq!(
            parse_when(&shouted, now, end_of_day).as_ref().ok(),
            Some(w),
            "{shouted:?} at {now} is not {input:?}"
        );
        round_trip(
            input,
            now,
            end_of_day,
            w,
            &utc.with_timezone(&now.timezone()),
        );
    }
    match (&start, &end) {
        (Ok(a), Ok(b)) => {
            assert_eq!(a.date_only, b.date_only, "{input:?} at {now}");
            let want = if a.date_only { DAY_US - 1 } else { 0 };
            assert_eq!(b.at.0 - a.at.0, want, "{input:?} at {now}: {a:?} .. {b:?}");
        }
        (Ok(w), Err(e)) | (Err(e), Ok(w)) => {
            // Only a whole day at the edge of the range can fit one way.
            assert!(
                w.date_only && matches!(e, WhenError::OutOfRange { .. }),
                "{input:?} at {now}: {start:?} vs {end:?}"
            );
        }
        (Err(a), Err(b)) => assert_eq!(
            std::mem::discriminant(a),
            std::mem::discriminant(b),
            "{input:?} at {now}"
        ),
    }
}

fn round_trip(
    input: &str,
    now: DateTime<FixedOffset>,
    end_of_day: bool,
    w: &When,
    local: &DateTime<FixedOffset>,
) {
    use chrono::Datelike;
    if !(0..=9999).contains(&local.year()) {
        return;
    }
    let text = local.format("%Y-%m-%dT%H:%M:%S%.6f%:z").to_string();
    let again = parse_when(&text, now, end_of_day);
    assert_eq!(
        again,
        Ok(When {
            at: w.at,
            date_only: false
        }),
        "{input:?} at {now} gave {w:?}, written {text:?}"
    );
    if w.date_only {
        let day = local.format("%Y-%m-%d").to_string();
        assert_eq!(
            parse_when(&day, now, end_of_day).as_ref(),
            Ok(w),
            "{input:?} at {now} gave {w:?}, written {day:?}"
        );
    }
}
