//! Small formatting helpers shared by the projections' messages (flags,
//! warnings, trust reasons, timeline lines). Messages are for people: times
//! in them are local; the structured fields next to them are the stable part.

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

/// A due as people say it: the day alone for a date-only due.
pub fn due(d: &Due) -> String {
    match d.at.to_local() {
        Some(t) if d.date_only => t.format("%Y-%m-%d").to_string(),
        _ => d.at.to_local_string(),
    }
}

pub fn when(t: Timestamp) -> String {
    t.to_local_string()
}

/// `1 day`, `3 days`.
pub fn days(n: i64) -> String {
    if n == 1 {
        "1 day".to_string()
    } else {
        format!("{n} days")
    }
}

/// One line saying what an event records, for timelines and retraction
/// flags. The CLI's `log` has its own renderer; this one lives here because
/// projections may not depend on the CLI.
pub fn describe(e: &EventRef<'_>) -> String {
    match *e {
        EventRef::ClientAdded {
            handle, name, fit, ..
        } => format!("client {handle} ({name}) added, {fit}"),
        EventRef::FitChanged { fit, reason, .. } => {
            with_text(format!("fit changed to {fit}"), reason)
        }
        EventRef::ExpectationNoted { text, .. } => format!("expectation: {text}"),
        EventRef::MismatchNoted { text, .. } => {
            format!("mismatch (not what they expected): {text}")
        }
        EventRef::Interacted {
            kind,
            mood,
            minutes,
            initiated_by,
            note,
            ..
        } => {
            let mins = minutes.map(|m| format!(", {m} min")).unwrap_or_default();
            with_text(
                format!(
                    "{kind}, mood {}{mins}, by {initiated_by}",
                    signed(i64::from(mood))
                ),
                note,
            )
        }
        EventRef::PromiseMade {
            promise,
            what,
            due: d,
            ..
        } => format!("promise #{promise} made: {what}, due {}", due(&d)),
        EventRef::PromiseMoved {
            promise,
            due: d,
            cause,
            agreed_by_client,
            reason,
        } => with_text(
            format!(
                "promise #{promise} moved to {} (cause: {cause}, {})",
                due(&d),
                if agreed_by_client {
                    "agreed by the client"
                } else {
                    "not agreed"
                }
            ),
            reason,
        ),
        EventRef::PromiseKept { promise, note } => {
            with_text(format!("promise #{promise} kept"), note)
        }
        EventRef::PromiseBroken { promise, reason } => {
            with_text(format!("promise #{promise} broken"), reason)
        }
        EventRef::PromiseReleased { promise, reason } => {
            with_text(format!("promise #{promise} released"), reason)
        }
        EventRef::Advocated {
            kind,
            initiated_by_client,
            note,
            ..
        } => with_text(
            format!(
                "advocacy: {kind} ({})",
                if initiated_by_client {
                    "their initiative"
                } else {
                    "we asked"
                }
            ),
            note,
        ),
        EventRef::ClientLost { reason, .. } => with_text("client lost".to_string(), reason),
        EventRef::ClientReturned { note, .. } => with_text("client returned".to_string(), note),
        EventRef::Retracted { seq, reason } => with_text(format!("event #{seq} retracted"), reason),
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
    }
}
