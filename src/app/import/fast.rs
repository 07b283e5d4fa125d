//! The fast path of the JSON-lines reader.
//!
//! The typed reading of a line as `export` writes it: no intermediate JSON
//! tree, text borrowed where it is only looked at. It accepts a subset of
//! what the general reading (`envelope_from_json`) accepts and gives the
//! same envelope for it (a test pins that); anything it does not take —
//! a missing, extra, repeated or mistyped key, an escaped word, an unusual
//! time — goes to the general reading, which decides.
//!
//! Also the cutting of a file into chunks of whole lines, which reader
//! threads parse on their own (fast path first) while the planner plans.

use std::borrow::Cow;

use super::jsonl::{ClientKey, IdKey, Parsed};
use super::*;
use crate::events::{Due, Envelope, Event, Fit, InteractionKind, Party, Timestamp};

/// The keys of a line; `None` for a key the line does not have.
#[derive(Default)]
struct Line<'a> {
    kind: Option<&'a str>,
    seq: Option<u64>,
    recorded_at: Option<&'a str>,
    occurred_at: Option<&'a str>,
    author: Option<Cow<'a, str>>,
    id: Option<&'a str>,
    client: Option<Cow<'a, str>>,
    name: Option<Cow<'a, str>>,
    note: Option<Cow<'a, str>>,
    reason: Option<Cow<'a, str>>,
    text: Option<Cow<'a, str>>,
    what: Option<Cow<'a, str>>,
    fit: Option<&'a str>,
    interaction: Option<&'a str>,
    by: Option<&'a str>,
    cause: Option<&'a str>,
    advocacy: Option<&'a str>,
    due: Option<&'a str>,
    mood: Option<i8>,
    /// `null` is a value here (no minutes), unlike a missing key.
    minutes: Option<Option<u32>>,
    promise: Option<u64>,
    retracted: Option<u64>,
    due_date_only: Option<bool>,
    agreed: Option<bool>,
    by_client: Option<bool>,
}

impl Line<'_> {
    /// Optional keys present (all but the five every line has).
    fn present(&self) -> usize {
        [
            self.id.is_some(),
            self.client.is_some(),
            self.name.is_some(),
            self.note.is_some(),
            self.reason.is_some(),
            self.text.is_some(),
            self.what.is_some(),
            self.fit.is_some(),
            self.interaction.is_some(),
            self.by.is_some(),
            self.cause.is_some(),
            self.advocacy.is_some(),
            self.due.is_some(),
            self.mood.is_some(),
            self.minutes.is_some(),
            self.promise.is_some(),
            self.retracted.is_some(),
            self.due_date_only.is_some(),
            self.agreed.is_some(),
            self.by_client.is_some(),
        ]
        .iter()
        .filter(|&&b| b)
        .count()
    }
}

/// Reads compact JSON as `export` writes it: one object, no
/// whitespace, values that are strings, whole numbers, booleans or
/// null. Anything else — whitespace, a nested value, a fraction, a
/// leading zero, a repeated or unknown key, a control character — is
/// `None` (the general reading then has the words for it).
struct Scan<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Scan<'a> {
    fn next(&mut self) -> Option<u8> {
        let c = *self.text.as_bytes().get(self.at)?;
        self.at += 1;
        Some(c)
    }

    fn expect(&mut self, c: u8) -> Option<()> {
        (self.next()? == c).then_some(())
    }

    fn literal(&mut self, word: &str) -> Option<()> {
        let end = self.at + word.len();
        (self.text.as_bytes().get(self.at..end)? == word.as_bytes()).then(|| self.at = end)
    }

    /// A string: borrowed when it has no escapes; `serde_json` reads
    /// the escapes of one that has.
    fn string(&mut self) -> Option<Cow<'a, str>> {
        let start = self.at;
        self.expect(b'"')?;
        let b = self.text.as_bytes();
        let mut escaped = false;
        loop {
            let rest = b.get(self.at..)?;
            let n = find_string_special(rest)?;
            self.at += n;
            match rest[n] {
                b'"' => break,
                b'\\' => {
                    // The escaped character is skipped; serde_json
                    // reads the escapes below.
                    escaped = true;
                    self.at += 2;
                }
                _ => return None,
            }
        }
        self.at += 1;
        if escaped {
            serde_json::from_str(&self.text[start..self.at])
                .ok()
                .map(Cow::Owned)
        } else {
            // Quotes are ASCII: these are character boundaries.
            Some(Cow::Borrowed(&self.text[start + 1..self.at - 1]))
        }
    }

    /// A string without escapes (keys, words, times, ids).
    fn plain(&mut self) -> Option<&'a str> {
        match self.string()? {
            Cow::Borrowed(s) => Some(s),
            Cow::Owned(_) => None,
        }
    }

    fn digits(&mut self) -> Option<u64> {
        let b = self.text.as_bytes();
        let start = self.at;
        let mut n: u64 = 0;
        while let Some(c) = b.get(self.at).filter(|c| c.is_ascii_digit()) {
            n = n.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
            self.at += 1;
        }
        let len = self.at - start;
        // No digits, or a leading zero (not JSON).
        if len == 0 || (len > 1 && b[start] == b'0') {
            return None;
        }
        Some(n)
    }

    fn int8(&mut self) -> Option<i8> {
        if self.text.as_bytes().get(self.at) == Some(&b'-') {
            self.at += 1;
            let n = self.digits()?;
            // `-0` is left to the general reading.
            (n != 0).then_some(())?;
            i8::try_from(-i64::try_from(n).ok()?).ok()
        } else {
            i8::try_from(self.digits()?).ok()
        }
    }

    fn boolean(&mut self) -> Option<bool> {
        match self.text.as_bytes().get(self.at)? {
            b't' => self.literal("true").map(|_| true),
            b'f' => self.literal("false").map(|_| false),
            _ => None,
        }
    }
}

fn set<T>(slot: &mut Option<T>, v: T) -> Option<()> {
    // A repeated key is left to the general reading.
    slot.is_none().then(|| *slot = Some(v))
}

fn scan(text: &str) -> Option<Line<'_>> {
    let mut s = Scan { text, at: 0 };
    let mut l = Line::default();
    s.expect(b'{')?;
    loop {
        let key = s.plain()?;
        s.expect(b':')?;
        // By length and first letter first: one comparison, not twenty.
        let kb = key.as_bytes();
        let second = kb.get(1).copied();
        let known = match (kb.len(), kb.first().copied().unwrap_or(0)) {
            (4, b'k') => "kind",
            (3, b's') => "seq",
            (11, b'r') => "recorded_at",
            (11, b'o') => "occurred_at",
            (6, b'a') if second == Some(b'u') => "author",
            (2, b'i') => "id",
            (6, b'c') => "client",
            (4, b'n') if second == Some(b'a') => "name",
            (4, b'n') => "note",
            (6, b'r') => "reason",
            (4, b't') => "text",
            (4, b'w') => "what",
            (3, b'f') => "fit",
            (11, b'i') => "interaction",
            (2, b'b') => "by",
            (5, b'c') => "cause",
            (8, b'a') => "advocacy",
            (3, b'd') => "due",
            (4, b'm') => "mood",
            (7, b'm') => "minutes",
            (7, b'p') => "promise",
            (9, b'r') => "retracted",
            (13, b'd') => "due_date_only",
            (6, b'a') => "agreed",
            (9, b'b') => "by_client",
            _ => return None,
        };
        if key != known {
            return None;
        }
        match known {
            "kind" => set(&mut l.kind, s.plain()?),
            "seq" => set(&mut l.seq, s.digits()?),
            "recorded_at" => set(&mut l.recorded_at, s.plain()?),
            "occurred_at" => set(&mut l.occurred_at, s.plain()?),
            "author" => set(&mut l.author, s.string()?),
            "id" => set(&mut l.id, s.plain()?),
            "client" => set(&mut l.client, s.string()?),
            "name" => set(&mut l.name, s.string()?),
            "note" => set(&mut l.note, s.string()?),
            "reason" => set(&mut l.reason, s.string()?),
            "text" => set(&mut l.text, s.string()?),
            "what" => set(&mut l.what, s.string()?),
            "fit" => set(&mut l.fit, s.plain()?),
            "interaction" => set(&mut l.interaction, s.plain()?),
            "by" => set(&mut l.by, s.plain()?),
            "cause" => set(&mut l.cause, s.plain()?),
            "advocacy" => set(&mut l.advocacy, s.plain()?),
            "due" => set(&mut l.due, s.plain()?),
            "mood" => set(&mut l.mood, s.int8()?),
            "minutes" => {
                let m = if s.literal("null").is_some() {
                    None
                } else {
                    Some(u32::try_from(s.digits()?).ok()?)
                };
                set(&mut l.minutes, m)
            }
            "promise" => set(&mut l.promise, s.digits()?),
            "retracted" => set(&mut l.retracted, s.digits()?),
            "due_date_only" => set(&mut l.due_date_only, s.boolean()?),
            "agreed" => set(&mut l.agreed, s.boolean()?),
            "by_client" => set(&mut l.by_client, s.boolean()?),
            _ => None,
        }?;
        match s.next()? {
            b',' => continue,
            b'}' => break,
            _ => return None,
        }
    }
    (s.at == text.len()).then_some(l)
}

// Words as `export` writes them, matched without the allocation of
// `FromStr` (which lowercases first); any other spelling goes to it.

fn fit(s: Option<&str>) -> Option<Fit> {
    match s? {
        "target" => Some(Fit::Target),
        "off-target" => Some(Fit::OffTarget),
        s => s.parse().ok(),
    }
}

fn interaction(s: Option<&str>) -> Option<InteractionKind> {
    match s? {
        "meeting" => Some(InteractionKind::Meeting),
        "call" => Some(InteractionKind::Call),
        "email" => Some(InteractionKind::Email),
        "message" => Some(InteractionKind::Message),
        s => s.parse().ok(),
    }
}

fn party(s: Option<&str>) -> Option<Party> {
    match s? {
        "us" => Some(Party::Us),
        "client" => Some(Party::Client),
        s => s.parse().ok(),
    }
}

fn word<T: std::str::FromStr>(s: Option<&str>) -> Option<T> {
    s?.parse().ok()
}

fn time(s: &str) -> Option<Timestamp> {
    rfc3339_utc(s).or_else(|| crate::cli::output::parse_rfc3339(s))
}

/// The line's envelope, its `client` and its `id`; `None` to leave
/// the line to the general reading.
pub(super) fn line(text: &str) -> Option<(Envelope, ClientKey<'static>, IdKey<'_>)> {
    let mut l = scan(text)?;
    let present = l.present();
    // The optional keys the kind reads: each must be there.
    let (event, read) = match l.kind? {
        "ClientAdded" => (
            Event::ClientAdded {
                handle: l.client.take()?.into_owned(),
                name: l.name.take()?.into_owned(),
                fit: fit(l.fit)?,
                note: l.note.take()?.into_owned(),
            },
            4,
        ),
        "FitChanged" => (
            Event::FitChanged {
                client: l.client.take()?.into_owned(),
                fit: fit(l.fit)?,
                reason: l.reason.take()?.into_owned(),
            },
            3,
        ),
        "ExpectationNoted" => (
            Event::ExpectationNoted {
                client: l.client.take()?.into_owned(),
                text: l.text.take()?.into_owned(),
            },
            2,
        ),
        "MismatchNoted" => (
            Event::MismatchNoted {
                client: l.client.take()?.into_owned(),
                text: l.text.take()?.into_owned(),
            },
            2,
        ),
        "Interacted" => (
            Event::Interacted {
                client: l.client.take()?.into_owned(),
                kind: interaction(l.interaction)?,
                mood: l.mood?,
                minutes: l.minutes?,
                initiated_by: party(l.by)?,
                note: l.note.take()?.into_owned(),
            },
            6,
        ),
        "PromiseMade" => (
            Event::PromiseMade {
                promise: l.promise?,
                client: l.client.take()?.into_owned(),
                what: l.what.take()?.into_owned(),
                due: Due {
                    at: time(l.due?)?,
                    date_only: l.due_date_only?,
                },
            },
            5,
        ),
        "PromiseMoved" => (
            Event::PromiseMoved {
                promise: l.promise?,
                due: Due {
                    at: time(l.due?)?,
                    date_only: l.due_date_only?,
                },
                cause: word(l.cause)?,
                agreed_by_client: l.agreed?,
                reason: l.reason.take()?.into_owned(),
            },
            6,
        ),
        "PromiseKept" => (
            Event::PromiseKept {
                promise: l.promise?,
                note: l.note.take()?.into_owned(),
            },
            2,
        ),
        "PromiseBroken" => (
            Event::PromiseBroken {
                promise: l.promise?,
                reason: l.reason.take()?.into_owned(),
            },
            2,
        ),
        "PromiseReleased" => (
            Event::PromiseReleased {
                promise: l.promise?,
                reason: l.reason.take()?.into_owned(),
            },
            2,
        ),
        "Advocated" => (
            Event::Advocated {
                client: l.client.take()?.into_owned(),
                kind: word(l.advocacy)?,
                initiated_by_client: l.by_client?,
                note: l.note.take()?.into_owned(),
            },
            4,
        ),
        "ClientLost" => (
            Event::ClientLost {
                client: l.client.take()?.into_owned(),
                reason: l.reason.take()?.into_owned(),
            },
            2,
        ),
        "ClientReturned" => (
            Event::ClientReturned {
                client: l.client.take()?.into_owned(),
                note: l.note.take()?.into_owned(),
            },
            2,
        ),
        "Retracted" => (
            Event::Retracted {
                seq: l.retracted?,
                reason: l.reason.take()?.into_owned(),
            },
            2,
        ),
        _ => return None,
    };
    // Extras: `client` on an event that names none (it was not taken
    // above), and `id`.
    let client = match l.client.take() {
        Some(c) => ClientKey::Str(Cow::Owned(c.into_owned())),
        None => ClientKey::Absent,
    };
    let id = match l.id {
        Some(s) => IdKey::Str(s),
        None => IdKey::Absent,
    };
    let extras = usize::from(!matches!(client, ClientKey::Absent))
        + usize::from(!matches!(id, IdKey::Absent));
    // Any other key present is one this kind does not have.
    if present != read + extras {
        return None;
    }
    Some((
        Envelope {
            seq: l.seq?,
            recorded_at: time(l.recorded_at?)?,
            occurred_at: time(l.occurred_at?)?,
            author: l.author?.into_owned(),
            event,
        },
        client,
        id,
    ))
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction]Z` from 1970 on, as `export` writes
/// times; `None` for anything else (chrono then reads it). Gives what
/// chrono gives for what it accepts (a test compares them).
pub(super) fn rfc3339_utc(s: &str) -> Option<Timestamp> {
    let b = s.as_bytes();
    if b.len() < 20 || b[b.len() - 1] != b'Z' {
        return None;
    }
    for (i, sep) in [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')] {
        if b[i] != sep {
            return None;
        }
    }
    let num = |from: usize, to: usize| -> Option<i64> {
        b[from..to].iter().try_fold(0i64, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + i64::from(c - b'0'))
        })
    };
    let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (hour, min, sec) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let month_days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if year < 1970 || day < 1 || day > month_days || hour > 23 || min > 59 || sec > 59 {
        return None;
    }
    let frac = &b[19..b.len() - 1];
    let micros = match frac.split_first() {
        None => 0,
        Some((&b'.', digits)) if (1..=9).contains(&digits.len()) => {
            let mut n = 0i64;
            for (i, &c) in digits.iter().enumerate() {
                if !c.is_ascii_digit() {
                    return None;
                }
                if i < 6 {
                    n = n * 10 + i64::from(c - b'0');
                }
            }
            n * 10i64.pow(6u32.saturating_sub(digits.len() as u32))
        }
        Some(_) => return None,
    };
    // Days since 1970-01-01 (Howard Hinnant's days_from_civil).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + hour * 3_600 + min * 60 + sec;
    Some(Timestamp(secs * 1_000_000 + micros))
}

/// About how many bytes of JSON lines are read as one piece of work.
pub(super) const CHUNK: usize = 256 * 1024;

/// A run of whole lines: bytes `start..end`, the first being line `line`.
pub(super) struct Chunk {
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) line: usize,
}

/// The file cut into chunks at line breaks, with their line numbers, and
/// the number of lines (as `split` on `\n` counts them).
pub(super) fn chunks(bytes: &[u8], size: usize) -> (Vec<Chunk>, usize) {
    let mut out = Vec::new();
    let (mut start, mut line) = (0, 1);
    loop {
        let end = match bytes.get(start + size..).and_then(find_newline) {
            Some(n) => start + size + n + 1,
            None => bytes.len(),
        };
        out.push(Chunk { start, end, line });
        if end == bytes.len() {
            let lines = line + count_newlines(&bytes[start..end]);
            return (out, lines);
        }
        line += count_newlines(&bytes[start..end]);
        start = end;
    }
}

/// Reads the lines of a chunk on their own.
pub(super) fn parse_chunk<'b>(bytes: &'b [u8], c: &Chunk, last: bool) -> Vec<(usize, Parsed<'b>)> {
    let mut out = Vec::with_capacity(CHUNK / 200);
    let (mut at, mut line) = (c.start, c.line);
    loop {
        let rest = &bytes[at..c.end];
        match find_newline(rest) {
            Some(n) => {
                out.push((line, parse_line(&rest[..n], line)));
                at += n + 1;
                line += 1;
                // A chunk ends after a line break; only the file's last
                // line has none (and may be empty).
                if at == c.end && !last {
                    return out;
                }
            }
            None => {
                out.push((line, parse_line(rest, line)));
                return out;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::identity::tests::{env, every_kind};
    use super::*;
    use serde_json::Map;

    /// The general reading of a line, as `JsonlReader` falls back to.
    fn slow(text: &str) -> Option<Envelope> {
        match slow_line(text) {
            Parsed::Event(e, ..) => Some(e),
            _ => None,
        }
    }

    #[test]
    fn the_typed_reading_gives_what_the_general_one_gives() {
        let id = format!("{}-", "ab".repeat(16));
        for (i, ev) in every_kind().into_iter().enumerate() {
            let mut e = env(i as Seq + 1, ev);
            // Microseconds, whole seconds, another fraction.
            e.recorded_at =
                Timestamp(e.recorded_at.0 - e.recorded_at.0 % 1_000_000 * (i as i64 % 2));
            let mut m = match crate::cli::output::envelope_json(&e) {
                Value::Object(m) => m,
                _ => unreachable!(),
            };
            m.insert("id".into(), json!(format!("{id}{}", e.seq)));
            if e.event.promise().is_some() && e.event.client().is_none() {
                m.insert("client".into(), json!("acme"));
            }
            let line = Value::Object(m.clone()).to_string();
            let (fast, client, idk) =
                fast::line(&line).expect("an export line takes the typed path");
            assert_eq!(fast, e);
            assert_eq!(Some(fast), slow(&line));
            assert!(matches!(idk, IdKey::Str(_)));
            assert_eq!(
                matches!(client, ClientKey::Str(_)),
                e.event.promise().is_some() && e.event.client().is_none()
            );
            // What the typed path leaves to the general one.
            let mut variants: Vec<Map<String, Value>> = Vec::new();
            for k in m.keys() {
                let mut v = m.clone();
                v.remove(k);
                variants.push(v);
                let mut v = m.clone();
                v.insert(k.clone(), Value::Null);
                variants.push(v);
            }
            let mut extra = m.clone();
            extra.insert("unheard".into(), json!(1));
            variants.push(extra);
            for other in ["what", "retracted", "mood", "fit", "due_date_only"] {
                if !m.contains_key(other) {
                    let mut v = m.clone();
                    v.insert(other.into(), json!(0));
                    variants.push(v);
                }
            }
            for v in variants {
                let line = Value::Object(v).to_string();
                if let Some((env, ..)) = fast::line(&line) {
                    assert_eq!(Some(env), slow(&line), "{line}");
                }
            }
            // Raw tokens in place of each value, and whitespace.
            let raw = |k: &str, token: &str| -> String {
                let parts: Vec<String> = m
                    .iter()
                    .map(|(kk, v)| {
                        if kk == k {
                            format!("{}:{token}", Value::String(kk.clone()))
                        } else {
                            format!("{}:{v}", Value::String(kk.clone()))
                        }
                    })
                    .collect();
                format!("{{{}}}", parts.join(","))
            };
            let tokens = [
                "01",
                "-0",
                "-1",
                "1.0",
                "1e2",
                "300",
                "-300",
                "[]",
                "{}",
                "true",
                "false",
                "null",
                "\"\\u0041\"",
                "\"a\\\"b\"",
                "\"\\ud83d\\ude00\"",
                "\"\\x\"",
                "\"\u{1}\"",
                " 1",
                "18446744073709551616",
                "4294967296",
                "\"target\"",
                "\"OFF-TARGET\"",
                "\"2026-11-20T10:00:00Z\"",
                "\"2026-11-20T10:00:00+01:00\"",
            ];
            for k in m.keys() {
                for token in tokens {
                    let line = raw(k, token);
                    if let Some((env, ..)) = fast::line(&line) {
                        assert_eq!(Some(env), slow(&line), "{line}");
                    }
                }
            }
            let spaced = line.replace(",\"", ", \"");
            assert!(fast::line(&spaced).is_none());
            assert_eq!(slow(&spaced), Some(e.clone()));
            // An escaped word, a repeated key.
            let escaped = line.replace(
                &format!("\"{}\"", e.event.kind_name()),
                &format!(
                    "\"\\u{:04x}{}\"",
                    e.event.kind_name().as_bytes()[0],
                    &e.event.kind_name()[1..]
                ),
            );
            assert!(fast::line(&escaped).is_none(), "{escaped}");
            assert_eq!(slow(&escaped), Some(e.clone()));
            let repeated = line.replacen('{', "{\"author\":\"x\",", 1);
            assert!(fast::line(&repeated).is_none());
        }
    }

    #[test]
    fn times_read_as_chrono_reads_them() {
        let mut cases: Vec<String> = vec![
            "1970-01-01T00:00:00Z".into(),
            "2000-02-29T23:59:59.999999Z".into(),
            "2001-02-29T00:00:00Z".into(),
            "2100-02-29T00:00:00Z".into(),
            "2024-12-31T23:59:60Z".into(),
            "2024-13-01T00:00:00Z".into(),
            "2024-00-10T00:00:00Z".into(),
            "2024-04-31T00:00:00Z".into(),
            "2024-01-01T24:00:00Z".into(),
            "2024-01-01T00:00:00.Z".into(),
            "2024-01-01T00:00:00.1234567891Z".into(),
            "2024-01-01T00:00:00.123456789Z".into(),
            "2024-01-01T00:00:00.5Z".into(),
            "2024-01-01t00:00:00Z".into(),
            "2024-01-01T00:00:00z".into(),
            "2024-01-01T00:00:00+00:00".into(),
            "1969-12-31T23:59:59.5Z".into(),
            "9999-12-31T23:59:59Z".into(),
            "+2024-01-01T00:00:00Z".into(),
            "2024-1-01T00:00:00Z".into(),
        ];
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let t = Timestamp((x % 8_000_000_000_000_000) as i64);
            let s = t.to_rfc3339();
            cases.push(s.clone());
            // Other fraction lengths.
            cases.push(s.replace('Z', "1Z"));
            if let Some((head, _)) = s.split_once('.') {
                cases.push(format!("{head}.{}Z", x % 1000));
            }
        }
        for c in cases {
            if let Some(t) = fast::rfc3339_utc(&c) {
                assert_eq!(Some(t), crate::cli::output::parse_rfc3339(&c), "{c}");
            }
        }
        assert_eq!(
            fast::rfc3339_utc("2026-11-20T10:00:00Z"),
            crate::cli::output::parse_rfc3339("2026-11-20T10:00:00Z")
        );
    }
}
