//! The words of the audit's flags, and their JSON written as it is made
//! (no string per message, no escaping pass over text that needs none).
//!
//! Times in the words: local for people ([`Flag::message`]), RFC 3339 UTC
//! in JSON (`message` of `audit --json`, and [`Flag::json_message`]), so
//! that JSON never depends on `TZ`. What the audit keeps (and a checkpoint
//! stores) are the timestamps and events; the words are made when written.

use std::fmt;
use std::io::Write;

use chrono::{Datelike, Timelike};

use super::{Backdated, Flag, LateMove, OutOfOrder, Retraction, Skipped};
use crate::events::{Due, PromiseId, Seq, Timestamp, EVENT_KINDS};
use crate::projections::words::{self, Detail, Zone};

/// A [`Flag`] borrowing from the audit, its message made as it is written.
pub(super) struct FlagOut<'a> {
    pub(super) kind: &'static str,
    pub(super) client: Option<&'a str>,
    pub(super) promise: Option<PromiseId>,
    pub(super) seq: Option<Seq>,
    pub(super) retracted_by: Option<Seq>,
    pub(super) reason: Option<&'a str>,
    pub(super) message: Message<'a>,
}

impl FlagOut<'_> {
    /// What serde_json writes for this flag's [`Flag`].
    pub(super) fn write_json(&self, b: &mut Vec<u8>) -> std::io::Result<()> {
        let opt = |b: &mut Vec<u8>, v: Option<u64>| match v {
            Some(n) => write!(b, "{n}"),
            None => b.write_all(b"null"),
        };
        b.extend_from_slice(b"{\"kind\":");
        serde_json::to_writer(&mut *b, self.kind)?;
        b.extend_from_slice(b",\"client\":");
        serde_json::to_writer(&mut *b, &self.client)?;
        b.extend_from_slice(b",\"promise\":");
        opt(b, self.promise)?;
        b.extend_from_slice(b",\"seq\":");
        opt(b, self.seq)?;
        b.extend_from_slice(b",\"retracted_by\":");
        opt(b, self.retracted_by)?;
        b.extend_from_slice(b",\"reason\":");
        serde_json::to_writer(&mut *b, &self.reason)?;
        b.extend_from_slice(b",\"message\":\"");
        fmt::write(
            &mut JsonText(b),
            format_args!("{}", self.message.words(Zone::Utc)),
        )
        .map_err(|_| std::io::Error::other("formatting a flag"))?;
        b.extend_from_slice(b"\"}");
        Ok(())
    }

    pub(super) fn to_flag(&self) -> Flag {
        Flag {
            kind: self.kind,
            client: self.client.map(str::to_string),
            promise: self.promise,
            seq: self.seq,
            retracted_by: self.retracted_by,
            reason: self.reason.map(str::to_string),
            message: self.message.words(Zone::Local).to_string(),
            json_message: self.message.words(Zone::Utc).to_string(),
        }
    }
}

/// The inside of a JSON string, escaped as serde_json escapes: text that
/// needs no escape (nearly all) is copied as is.
struct JsonText<'a>(&'a mut Vec<u8>);

impl fmt::Write for JsonText<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if s.bytes().all(|c| c >= 0x20 && c != b'"' && c != b'\\') {
            self.0.extend_from_slice(s.as_bytes());
            return Ok(());
        }
        let start = self.0.len();
        serde_json::to_writer(&mut *self.0, s).map_err(|_| fmt::Error)?;
        // Without the quotes serde_json put around it.
        self.0.pop();
        self.0.remove(start);
        Ok(())
    }
}

/// The words of a flag.
pub(super) enum Message<'a> {
    MoveAfterDue {
        id: PromiseId,
        what: &'a str,
        client: &'a str,
        seq: Seq,
        m: &'a LateMove,
    },
    Backdated {
        id: PromiseId,
        what: &'a str,
        client: &'a str,
        occurred_at: Timestamp,
        b: &'a Backdated,
    },
    Blame {
        client: &'a str,
        by_client: u64,
        all: u64,
    },
    Retracted {
        r: &'a Retraction,
        what: Option<&'a Skipped>,
    },
    OutOfOrder {
        o: &'a OutOfOrder,
    },
}

impl<'a> Message<'a> {
    /// The words, with times in `zone`.
    pub(super) fn words(&'a self, zone: Zone) -> Words<'a> {
        Words { m: self, zone }
    }
}

/// A [`Message`] in words, its times in one zone.
pub(super) struct Words<'a> {
    m: &'a Message<'a>,
    zone: Zone,
}

impl fmt::Display for Words<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let z = self.zone;
        let at = |t: Timestamp| Time(t, z);
        let due = |d: Due| DueText(d, z);
        match self.m {
            Message::MoveAfterDue {
                id,
                what,
                client,
                seq,
                m,
            } => {
                write!(
                    f,
                    "promise #{id} ({what}) for {client}: move #{seq} to {} was recorded {}",
                    due(m.to),
                    at(m.recorded_at)
                )?;
                if m.occurred_at <= m.from.at {
                    write!(f, " (dated {}, before the due)", at(m.occurred_at))?;
                }
                write!(
                    f,
                    ", after the due it moved ({}) had passed — a miss moved out of sight",
                    due(m.from)
                )
            }
            Message::Backdated {
                id,
                what,
                client,
                occurred_at,
                b,
            } => write!(
                f,
                "promise #{id} ({what}) for {client}: kept on {} by its date, but recorded only \
                 on {}, after its due {} had passed (backdated)",
                at(*occurred_at),
                at(b.recorded_at),
                due(b.due)
            ),
            Message::Blame {
                client,
                by_client,
                all,
            } => write!(
                f,
                "{client}: {by_client} of {all} moves attributed to the client. A slip blamed \
                 on the client is still a slip, and blaming the client is a known failure mode \
                 of the one who promised"
            ),
            Message::Retracted { r, what } => {
                match what {
                    Some(s) => {
                        let e = s.event.as_ref();
                        write!(f, "event #{} ({}", r.seq, e.kind_name())?;
                        if let Some(c) = &s.client {
                            write!(f, ", {c}")?;
                        }
                        write!(f, ": {})", words::describe(&e, z, Detail::Full))?;
                    }
                    None => write!(f, "event #{} (not in the journal)", r.seq)?,
                }
                let reason = if r.reason.trim().is_empty() {
                    "no reason given"
                } else {
                    &r.reason
                };
                write!(f, " retracted by #{}: {reason}", r.by)
            }
            Message::OutOfOrder { o } => {
                let kind = EVENT_KINDS.get(usize::from(o.kind)).copied().unwrap_or("?");
                write!(f, "event #{} ({kind}", o.seq)?;
                if let Some(c) = &o.client {
                    write!(f, ", {c}")?;
                }
                write!(
                    f,
                    ") was recorded {}, earlier than #{} before it in the journal (recorded {}): \
                     out of order — imported, synced, or written with the clock set back",
                    at(o.recorded_at),
                    o.latest_seq,
                    at(o.latest_at)
                )
            }
        }
    }
}

/// [`words::when_in`] written straight into the output (it is called
/// three times per flag; chrono's `format` parses its pattern every time).
struct Time(Timestamp, Zone);

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.1 {
            Zone::Local => local(f, self.0, true),
            Zone::Utc => utc(f, self.0),
        }
    }
}

/// [`words::due_in`], likewise.
struct DueText(Due, Zone);

impl fmt::Display for DueText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.1 {
            Zone::Local => local(f, self.0.at, !self.0.date_only),
            Zone::Utc => utc(f, self.0.at),
        }
    }
}

/// Writes `digits` of `v`, zero-padded, into `b`.
fn digits(b: &mut [u8], mut v: u32) {
    for c in b.iter_mut().rev() {
        *c = b'0' + (v % 10) as u8;
        v /= 10;
    }
}

/// `Timestamp::to_rfc3339` (seconds always, then 3 or 6 fraction digits
/// when they are not zero, `Z`), without a string per time; chrono's own
/// for years it would write otherwise.
fn utc(f: &mut fmt::Formatter<'_>, t: Timestamp) -> fmt::Result {
    let Some(d) = t.to_utc() else {
        return f.write_str(&t.to_rfc3339());
    };
    if !(0..=9999).contains(&d.year()) {
        return f.write_str(&t.to_rfc3339());
    }
    let mut b = *b"0000-00-00T00:00:00.000000Z";
    digits(&mut b[0..4], d.year() as u32);
    digits(&mut b[5..7], d.month());
    digits(&mut b[8..10], d.day());
    digits(&mut b[11..13], d.hour());
    digits(&mut b[14..16], d.minute());
    digits(&mut b[17..19], d.second());
    let micros = t.0.rem_euclid(Timestamp::MICROS_PER_SECOND) as u32;
    digits(&mut b[20..26], micros);
    let end = match micros {
        0 => 19,
        m if m % 1000 == 0 => 23,
        _ => 26,
    };
    // Only ASCII digits and separators were written.
    f.write_str(std::str::from_utf8(&b[..end]).unwrap_or(""))?;
    f.write_str("Z")
}

/// `%Y-%m-%d %H:%M` (or `%Y-%m-%d`) in local time, as
/// `Timestamp::to_local_string`; chrono's own formatting for years it
/// would write with a sign.
fn local(f: &mut fmt::Formatter<'_>, t: Timestamp, with_time: bool) -> fmt::Result {
    let Some(d) = t.to_local() else {
        return f.write_str(&words::when(t));
    };
    if !(0..=9999).contains(&d.year()) {
        let pattern = if with_time {
            "%Y-%m-%d %H:%M"
        } else {
            "%Y-%m-%d"
        };
        return write!(f, "{}", d.format(pattern));
    }
    let mut b = *b"0000-00-00 00:00";
    digits(&mut b[0..4], d.year() as u32);
    digits(&mut b[5..7], d.month());
    digits(&mut b[8..10], d.day());
    digits(&mut b[11..13], d.hour());
    digits(&mut b[14..16], d.minute());
    let n = if with_time { 16 } else { 10 };
    // Only ASCII digits and separators were written.
    f.write_str(std::str::from_utf8(&b[..n]).unwrap_or(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Utc(Timestamp);
    impl fmt::Display for Utc {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            utc(f, self.0)
        }
    }

    /// The fast UTC writer writes what the JSON of events writes.
    #[test]
    fn utc_times_are_to_rfc3339() {
        let s = Timestamp::MICROS_PER_SECOND;
        for us in [
            0,
            1,
            999,
            1_000,
            123_456,
            s - 1,
            1_790_000_000 * s,
            1_790_000_000 * s + 500_000,
            1_790_000_000 * s + 7,
            -1,
            -s - 250_000,
            253_402_300_799 * s + 999_999,
            253_402_300_800 * s,
            i64::MAX,
            i64::MIN,
        ] {
            let t = Timestamp(us);
            assert_eq!(Utc(t).to_string(), t.to_rfc3339(), "{us}");
        }
    }
}
