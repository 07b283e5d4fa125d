//! Small formatting helpers shared by the projections' messages (flags,
//! warnings, trust reasons, timeline lines), and [`describe`], the one
//! renderer of an event in words. Messages are for people: times in them
//! are local, except in the words JSON carries ([`Zone::Utc`]); the
//! structured fields next to them are the stable part.

use crate::events::{Due, EventRef, Timestamp};

/// A mood as people read it: `+2`, `0`, `−1` (with a real minus sign, as in
/// SPEC.md's "mood −2").
pub fn signed(n: i64) -> String {
    match n {
        n if n > 0 => format!("+{n}"),
        n if n < 0 => format!("\u{2212}{}", n.unsigned_abs()),
        _ => "0".to_string(),
    }
}

/// A number of points or a factor without trailing zeros: `3`, `0.5`, `1.25`.
pub fn num(x: f64) -> String {
    let s = format!("{x:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_string()
    } else {
        s.to_string()
    }
}

/// Minutes as hours: `40 h`, `38.5 h`, `0.25 h`.
pub fn hours(minutes: u64) -> String {
    format!("{} h", num(minutes as f64 / 60.0))
}

/// The zone the times in words are written in. People read local time;
/// the words inside JSON (`audit --json` flag messages) are in UTC, RFC
/// 3339 as every other JSON time, so that the same journal prints the same
/// bytes whatever `TZ` the reader has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zone {
    Local,
    Utc,
}

/// A due as people say it: the day alone for a date-only due.
pub fn due(d: &Due) -> String {
    due_in(d, Zone::Local)
}

/// [`due`] in `zone`; in UTC the instant itself (a date-only due is the
/// end of a day in the zone it was recorded in, which UTC does not know).
pub fn due_in(d: &Due, zone: Zone) -> String {
    match zone {
        Zone::Utc => d.at.to_rfc3339(),
        Zone::Local => match d.at.to_local() {
            Some(t) if d.date_only => t.format("%Y-%m-%d").to_string(),
            _ => d.at.to_local_string(),
        },
    }
}

pub fn when(t: Timestamp) -> String {
    when_in(t, Zone::Local)
}

/// [`when`] in `zone`: local to the minute, or RFC 3339 UTC.
pub fn when_in(t: Timestamp, zone: Zone) -> String {
    match zone {
        Zone::Local => t.to_local_string(),
        Zone::Utc => t.to_rfc3339(),
    }
}

/// `1 day`, `3 days`.
pub fn days(n: i64) -> String {
    if n == 1 {
        "1 day".to_string()
    } else {
        format!("{n} days")
    }
}

/// `1 mismatch`, `2 mismatches`: a count and the word that agrees with it.
pub fn count(n: u64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// A trust score as people read it beside the others: whole points
/// (`12.75` → `13`); JSON keeps the exact number.
pub fn score(points: f64) -> String {
    format!("{:.0}", points.round())
}

/// How much of an event [`describe`] says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    /// One line, what `log` and the recording commands print: without the
    /// side notes (a new client's note, the reason of a fit change or of a
    /// move, the note of a keep, of an advocacy, of a return). The texts
    /// that are the event itself (a talk's note, an expectation, a
    /// mismatch, why a promise was broken or released, why a client was
    /// lost, why an event was retracted) are always said.
    Line,
    /// With the side notes: timelines and retraction flags, where the
    /// event is read on its own.
    Full,
}

/// An event in words: the ONE renderer of events for people (`log`, what
/// a recording command prints, post-mortem timelines, retraction flags),
/// so they never drift apart. Moods are signed with a real minus sign
/// (`mood −2`), as the trust reasons and SPEC.md write them (and as the
/// `−2..2` people read in the README); `log --json` keeps the number for
/// scripts and grep.
pub fn describe(e: &EventRef<'_>, zone: Zone, detail: Detail) -> String {
    let side = |head: String, note: &str| match detail {
        Detail::Line => head,
        Detail::Full => with_text(head, note),
    };
    match *e {
        EventRef::ClientAdded {
            handle,
            name,
            fit,
            note,
        } => side(format!("client {handle} ({name}) added, {fit}"), note),
        EventRef::FitChanged {
            client,
            fit,
            reason,
        } => side(format!("{client} is now {fit}"), reason),
        EventRef::ExpectationNoted { client, text } => format!("{client} wants: {text}"),
        EventRef::MismatchNoted { client, text } => {
            format!("{client}: not what they expected: {text}")
        }
        EventRef::Interacted {
            client,
            kind,
            mood,
            minutes,
            initiated_by,
            note,
        } => {
            let mins = minutes.map(|m| format!(", {m} min")).unwrap_or_default();
            with_text(
                format!(
                    "{kind} with {client} (mood {}{mins}, by {initiated_by})",
                    signed(i64::from(mood))
                ),
                note,
            )
        }
        EventRef::PromiseMade {
            promise,
            client,
            what,
            due: d,
        } => format!(
            "promise {promise} to {client}: {what}, due {}",
            due_in(&d, zone)
        ),
        EventRef::PromiseMoved {
            promise,
            due: d,
            cause,
            agreed_by_client,
            reason,
        } => side(
            format!(
                "promise {promise} moved to {} (cause: {cause}, {})",
                due_in(&d, zone),
                if agreed_by_client {
                    "agreed by client"
                } else {
                    "not agreed"
                }
            ),
            reason,
        ),
        EventRef::PromiseKept { promise, note } => side(format!("promise {promise} kept"), note),
        EventRef::PromiseBroken { promise, reason } => {
            with_text(format!("promise {promise} broken"), reason)
        }
        EventRef::PromiseReleased { promise, reason } => {
            with_text(format!("promise {promise} released"), reason)
        }
        EventRef::Advocated {
            client,
            kind,
            initiated_by_client,
            note,
        } => side(
            format!(
                "{client}: {kind} ({})",
                if initiated_by_client {
                    "their initiative"
                } else {
                    "we asked"
                }
            ),
            note,
        ),
        EventRef::ClientLost { client, reason } => with_text(format!("{client} lost"), reason),
        EventRef::ClientReturned { client, note } => side(format!("{client} is back"), note),
        EventRef::Retracted { seq, reason } => with_text(format!("event #{seq} retracted"), reason),
        EventRef::ClientRenamed {
            client,
            handle,
            name,
        } => format!("client {client} renamed to {handle} ({name})"),
        EventRef::Amended { seq, text, reason } => {
            side(format!("event #{seq} amended: {text}"), reason)
        }
        EventRef::PromiseDelivered { promise, note } => {
            with_text(format!("promise {promise}: delivered something"), note)
        }
        EventRef::CadenceSet { client, every } => match every {
            0 => format!("{client}: no stay-in-touch cadence"),
            s if s % 86_400 == 0 => format!("{client}: stay in touch every {} days", s / 86_400),
            s => format!("{client}: stay in touch every {} hours", s / 3600),
        },
    }
}

fn with_text(head: String, text: &str) -> String {
    if text.trim().is_empty() {
        head
    } else {
        format!("{head}: {text}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_like_prose() {
        assert_eq!(signed(-2), "\u{2212}2");
        assert_eq!(signed(2), "+2");
        assert_eq!(signed(0), "0");
        assert_eq!(num(3.0), "3");
        assert_eq!(num(0.5), "0.5");
        assert_eq!(num(1.25), "1.25");
        assert_eq!(num(-0.001), "0");
        assert_eq!(hours(2400), "40 h");
        assert_eq!(hours(2310), "38.5 h");
        assert_eq!(days(1), "1 day");
        assert_eq!(days(3), "3 days");
        assert_eq!(count(1, "mismatch", "mismatches"), "1 mismatch");
        assert_eq!(count(0, "mismatch", "mismatches"), "0 mismatches");
        assert_eq!(count(2, "record", "records"), "2 records");
        assert_eq!(score(12.75), "13");
        assert_eq!(score(6.25), "6");
        assert_eq!(score(100.0), "100");
    }

    #[test]
    fn one_wording_a_line_leaves_out_side_notes_only() {
        use crate::events::{Cause, InteractionKind, Party};
        let talk = EventRef::Interacted {
            client: "acme",
            kind: InteractionKind::Call,
            mood: -2,
            minutes: Some(20),
            initiated_by: Party::Client,
            note: "went badly",
        };
        let want = "call with acme (mood \u{2212}2, 20 min, by client): went badly";
        for d in [Detail::Line, Detail::Full] {
            assert_eq!(describe(&talk, Zone::Utc, d), want);
        }
        let moved = EventRef::PromiseMoved {
            promise: 3,
            due: Due {
                at: Timestamp(86_400 * Timestamp::MICROS_PER_SECOND),
                date_only: false,
            },
            cause: Cause::Client,
            agreed_by_client: true,
            reason: "brief late",
        };
        assert_eq!(
            describe(&moved, Zone::Utc, Detail::Line),
            "promise 3 moved to 1970-01-02T00:00:00Z (cause: client, agreed by client)"
        );
        assert_eq!(
            describe(&moved, Zone::Utc, Detail::Full),
            "promise 3 moved to 1970-01-02T00:00:00Z (cause: client, agreed by client): brief late"
        );
    }
}
