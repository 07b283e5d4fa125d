//! The fast path of the JSON-lines reader.
//!
//! The typed reading of a line as `export` writes it: no intermediate JSON
//! tree, text borrowed where it is only looked at. It accepts a subset of
//! what the general reading (`envelope_from_json`) accepts and gives the
//! same envelope for it (a test pins that); anything it does not take —
//! a missing, extra, repeated or mistyped key, an escaped word, an unusual
//! time — goes to the general reading, which decides.
//!
//! Also the reading of a chunk of whole lines (`lines::Chunker`), which
//! reader threads do on their own (fast path first) while the planner
//! plans.

use std::borrow::Cow;
use std::str::FromStr;

use super::jsonl::{parse_line, ClientKey, IdKey, Parsed};
use super::lines::Chunk;
use super::scan::{find_newline, find_string_special};
use crate::events::json::{parse_rfc3339, read_envelope, Source};
use crate::events::{Envelope, Timestamp};

/// A value as the line has it: a string (borrowed unless it had escapes,
/// `plain` says which), a whole number with its sign, a boolean, null.
enum Token<'a> {
    Str(Cow<'a, str>),
    Num { negative: bool, n: u64 },
    Bool(bool),
    Null,
}

/// The most keys a line may have on this path (an event has at most 11
/// with `id`); a longer line goes to the general reading.
const MAX_KEYS: usize = 16;

/// The keys of a line and their values, in the line's order; a value is
/// taken (`None`) once the event's reading asked for it, so that what is
/// left are the keys the kind does not have.
struct Line<'a> {
    keys: [&'a str; MAX_KEYS],
    values: [Option<Token<'a>>; MAX_KEYS],
    len: usize,
}

impl<'a> Line<'a> {
    fn take(&mut self, key: &str) -> Option<Token<'a>> {
        let i = self.keys[..self.len].iter().position(|k| *k == key)?;
        self.values[i].take()
    }

    /// A string without escapes (words, times, ids).
    fn plain(&mut self, key: &str) -> Option<&'a str> {
        match self.take(key)? {
            Token::Str(Cow::Borrowed(s)) => Some(s),
            _ => None,
        }
    }

    fn whole(&mut self, key: &str) -> Option<u64> {
        match self.take(key)? {
            Token::Num { negative: false, n } => Some(n),
            _ => None,
        }
    }
}

/// Reads the event's fields off the line; any surprise is `Err(())`, which
/// leaves the line to the general reading (it has the words for it).
impl Source for Line<'_> {
    type Error = ();

    fn str(&mut self, key: &'static str) -> Result<String, ()> {
        match self.take(key) {
            Some(Token::Str(s)) => Ok(s.into_owned()),
            _ => Err(()),
        }
    }

    fn bool(&mut self, key: &'static str) -> Result<bool, ()> {
        match self.take(key) {
            Some(Token::Bool(b)) => Ok(b),
            _ => Err(()),
        }
    }

    fn u64(&mut self, key: &'static str) -> Result<u64, ()> {
        self.whole(key).ok_or(())
    }

    fn i8(&mut self, key: &'static str) -> Result<i8, ()> {
        match self.take(key) {
            Some(Token::Num { negative, n }) => {
                let n = i64::try_from(n).map_err(|_| ())?;
                i8::try_from(if negative { -n } else { n }).map_err(|_| ())
            }
            _ => Err(()),
        }
    }

    fn opt_u32(&mut self, key: &'static str) -> Result<Option<u32>, ()> {
        match self.take(key) {
            Some(Token::Null) => Ok(None),
            Some(Token::Num { negative: false, n }) => u32::try_from(n).map(Some).map_err(|_| ()),
            _ => Err(()),
        }
    }

    fn word<T: FromStr<Err = String>>(&mut self, key: &'static str) -> Result<T, ()> {
        self.plain(key).ok_or(())?.parse().map_err(|_| ())
    }

    fn time(&mut self, key: &'static str) -> Result<Timestamp, ()> {
        self.plain(key).and_then(time).ok_or(())
    }
}

/// Reads compact JSON as `export` writes it: one object, no
/// whitespace, values that are strings, whole numbers, booleans or
/// null. Anything else — whitespace, a nested value, a fraction, a
/// leading zero, a repeated key, a control character — is `None` (the
/// general reading then has the words for it).
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

    fn value(&mut self) -> Option<Token<'a>> {
        Some(match self.text.as_bytes().get(self.at)? {
            b'"' => Token::Str(self.string()?),
            b't' => self.literal("true").map(|_| Token::Bool(true))?,
            b'f' => self.literal("false").map(|_| Token::Bool(false))?,
            b'n' => self.literal("null").map(|_| Token::Null)?,
            b'-' => {
                self.at += 1;
                let n = self.digits()?;
                // `-0` is left to the general reading.
                (n != 0).then_some(())?;
                Token::Num { negative: true, n }
            }
            _ => Token::Num {
                negative: false,
                n: self.digits()?,
            },
        })
    }
}

fn scan(text: &str) -> Option<Line<'_>> {
    let mut s = Scan { text, at: 0 };
    let mut l = Line {
        keys: [""; MAX_KEYS],
        values: Default::default(),
        len: 0,
    };
    s.expect(b'{')?;
    loop {
        let key = match s.string()? {
            Cow::Borrowed(k) => k,
            Cow::Owned(_) => return None,
        };
        s.expect(b':')?;
        // A repeated key is left to the general reading.
        if l.len == MAX_KEYS || l.keys[..l.len].contains(&key) {
            return None;
        }
        l.keys[l.len] = key;
        l.values[l.len] = Some(s.value()?);
        l.len += 1;
        match s.next()? {
            b',' => continue,
            b'}' => break,
            _ => return None,
        }
    }
    (s.at == text.len()).then_some(l)
}

fn time(s: &str) -> Option<Timestamp> {
    rfc3339_utc(s).or_else(|| parse_rfc3339(s))
}

/// The line's envelope, its `client` and its `id`; `None` to leave
/// the line to the general reading.
pub(super) fn line(text: &str) -> Option<(Envelope, ClientKey<'static>, IdKey<'_>)> {
    let mut l = scan(text)?;
    let kind = l.plain("kind")?;
    let env = read_envelope(kind, &mut l)?.ok()?;
    // Extras: `client` on an event that names none (it was not taken
    // above), and `id`; any other key left is one this kind does not have.
    let (mut client, mut id) = (ClientKey::Absent, IdKey::Absent);
    for (key, value) in l.keys[..l.len].iter().zip(&mut l.values) {
        match (*key, value.take()) {
            (_, None) => {}
            ("client", Some(Token::Str(c))) => client = ClientKey::Str(Cow::Owned(c.into_owned())),
            ("id", Some(Token::Str(Cow::Borrowed(s)))) => id = IdKey::Str(s),
            _ => return None,
        }
    }
    Some((env, client, id))
}

/// Fuzzing entry (`fuzz/src/import_fast.rs`): this reading of a line and
/// the general one, each `None` when it gives no event.
#[doc(hidden)]
pub fn fuzz_line(text: &str) -> (Option<Envelope>, Option<Envelope>) {
    let general = match super::jsonl::slow_line(text) {
        Parsed::Event(e, ..) => Some(e),
        _ => None,
    };
    (line(text).map(|(e, ..)| e), general)
}

/// Fuzzing entry: [`rfc3339_utc`] and chrono's reading of `s`.
#[doc(hidden)]
pub fn fuzz_rfc3339(s: &str) -> (Option<Timestamp>, Option<Timestamp>) {
    (rfc3339_utc(s), parse_rfc3339(s))
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

/// Reads the lines of a chunk on their own.
pub(super) fn parse_chunk(c: &Chunk) -> Vec<(usize, Parsed<'_>)> {
    let bytes = &c.bytes[..];
    let mut out = Vec::with_capacity(CHUNK / 200);
    let (mut at, mut line) = (0, c.line);
    loop {
        let rest = &bytes[at..];
        match find_newline(rest) {
            Some(n) => {
                out.push((line, parse_line(&rest[..n], line)));
                at += n + 1;
                line += 1;
                // A chunk ends after a line break; only the input's last
                // line has none (and may be empty).
                if at == bytes.len() && !c.last {
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
    use super::super::jsonl::slow_line;
    use super::*;
    use crate::app::import::fast;
    use crate::events::Seq;
    use serde_json::{json, Map, Value};

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
            let mut m = match crate::events::json::envelope_json(&e) {
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
                assert_eq!(Some(t), crate::events::json::parse_rfc3339(&c), "{c}");
            }
        }
        assert_eq!(
            fast::rfc3339_utc("2026-11-20T10:00:00Z"),
            crate::events::json::parse_rfc3339("2026-11-20T10:00:00Z")
        );
    }
}
