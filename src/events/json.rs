//! The JSON form of events: one object per event, `{"seq", "kind",
//! "recorded_at", "occurred_at", "author", <its fields>}`, with words for
//! the small enums and RFC 3339 for times. It is stable (documented in the
//! README) and shared: `--json` prints it, `export` writes it, `import`
//! reads it back. The fields and their keys come from the list of event
//! kinds (`model.rs`); this module says once per field type how it is
//! written and read.

use std::str::FromStr;

use serde_json::{json, Map, Value};

use super::model::{Due, Envelope, Event, EVENT_KINDS};
use super::time::Timestamp;

pub type JsonMap = Map<String, Value>;

/// Something the fields of an event are read from, key by key: a parsed
/// JSON object ([`envelope_from_json`]) or the fast reader of `import`.
/// `Error` is the reader's: words for a person, or only "not this way".
pub trait Source {
    type Error;
    fn str(&mut self, key: &'static str) -> Result<String, Self::Error>;
    fn bool(&mut self, key: &'static str) -> Result<bool, Self::Error>;
    fn u64(&mut self, key: &'static str) -> Result<u64, Self::Error>;
    fn i8(&mut self, key: &'static str) -> Result<i8, Self::Error>;
    fn opt_u32(&mut self, key: &'static str) -> Result<Option<u32>, Self::Error>;
    fn word<T: FromStr<Err = String>>(&mut self, key: &'static str) -> Result<T, Self::Error>;
    fn time(&mut self, key: &'static str) -> Result<Timestamp, Self::Error>;
}

/// How one field type is written into, and read from, the JSON object.
pub trait JsonField: super::model::Field + Sized {
    fn write(v: Self::Ref<'_>, key: &'static str, out: &mut JsonMap);
    fn read<S: Source>(src: &mut S, key: &'static str) -> Result<Self, S::Error>;
}

impl JsonField for String {
    fn write(v: &str, key: &'static str, out: &mut JsonMap) {
        out.insert(key.into(), v.into());
    }
    fn read<S: Source>(src: &mut S, key: &'static str) -> Result<Self, S::Error> {
        src.str(key)
    }
}

impl JsonField for u64 {
    fn write(v: u64, key: &'static str, out: &mut JsonMap) {
        out.insert(key.into(), v.into());
    }
    fn read<S: Source>(src: &mut S, key: &'static str) -> Result<Self, S::Error> {
        src.u64(key)
    }
}

impl JsonField for i8 {
    fn write(v: i8, key: &'static str, out: &mut JsonMap) {
        out.insert(key.into(), v.into());
    }
    fn read<S: Source>(src: &mut S, key: &'static str) -> Result<Self, S::Error> {
        src.i8(key)
    }
}

impl JsonField for bool {
    fn write(v: bool, key: &'static str, out: &mut JsonMap) {
        out.insert(key.into(), v.into());
    }
    fn read<S: Source>(src: &mut S, key: &'static str) -> Result<Self, S::Error> {
        src.bool(key)
    }
}

impl JsonField for Option<u32> {
    fn write(v: Option<u32>, key: &'static str, out: &mut JsonMap) {
        out.insert(key.into(), json!(v));
    }
    fn read<S: Source>(src: &mut S, key: &'static str) -> Result<Self, S::Error> {
        src.opt_u32(key)
    }
}

/// The key of whether a due was said as a day. A due is two keys: the
/// instant under its own key and this one; events have one due at most,
/// always keyed `due`.
const DUE_DATE_ONLY: &str = "due_date_only";

impl JsonField for Due {
    fn write(v: Due, key: &'static str, out: &mut JsonMap) {
        out.insert(key.into(), v.at.to_rfc3339().into());
        out.insert(DUE_DATE_ONLY.into(), v.date_only.into());
    }
    fn read<S: Source>(src: &mut S, key: &'static str) -> Result<Self, S::Error> {
        Ok(Due {
            at: src.time(key)?,
            date_only: src.bool(DUE_DATE_ONLY)?,
        })
    }
}

/// The event's own fields, with words for enums and RFC 3339 for times.
pub fn event_fields(e: &Event) -> JsonMap {
    let mut m = Map::new();
    e.as_ref().write_json(&mut m);
    m
}

/// `{"seq":…, "kind":…, "recorded_at":…, "occurred_at":…, "author":…, <fields>}`
pub fn envelope_json(env: &Envelope) -> Value {
    let mut m = Map::new();
    m.insert("seq".into(), json!(env.seq));
    m.insert("kind".into(), json!(env.event.kind_name()));
    m.insert("recorded_at".into(), json!(env.recorded_at.to_rfc3339()));
    m.insert("occurred_at".into(), json!(env.occurred_at.to_rfc3339()));
    m.insert("author".into(), json!(env.author));
    env.event.as_ref().write_json(&mut m);
    Value::Object(m)
}

/// The envelope of an event of kind `kind` (already read), from `src`:
/// its seq, times and author, then its fields, in that order (a reader
/// that tells which keys it was asked for lists them in it). `None` for a
/// kind there is not.
pub fn read_envelope<S: Source>(kind: &str, src: &mut S) -> Option<Result<Envelope, S::Error>> {
    let mut head = || -> Result<_, S::Error> {
        Ok((
            src.u64("seq")?,
            src.time("recorded_at")?,
            src.time("occurred_at")?,
            src.str("author")?,
        ))
    };
    let (seq, recorded_at, occurred_at, author) = match head() {
        Ok(h) => h,
        Err(e) => return Some(Err(e)),
    };
    Some(Event::read_json(kind, src)?.map(|event| Envelope {
        seq,
        recorded_at,
        occurred_at,
        author,
        event,
    }))
}

/// Keys `export` adds to [`envelope_json`]: `id` (`<journal id hex>-<seq>`,
/// stable for the life of the journal) on every line, and `client` on the
/// promise events that only name a promise (derived, for readers and
/// filters; `import` checks it against the promise it names).
pub const EXPORT_EXTRA_KEYS: [&str; 2] = ["id", "client"];

/// Reads one JSON object in the shape [`envelope_json`] writes back into an
/// envelope: the inverse of `envelope_json`, key for key. Every key it
/// writes is required (a line written by hand must carry them all, so a
/// typo can never silently become a default), and any key other than
/// those and `extra` is refused. References (`promise`, `retracted`) are
/// returned as written: mapping them onto a journal is the importer's job.
///
/// Errors name the key, the value found and what was expected.
pub fn envelope_from_json(m: &Map<String, Value>, extra: &[&str]) -> Result<Envelope, String> {
    let mut f = Fields {
        m,
        used: Vec::new(),
        kind: String::new(),
    };
    let kind = f.str("kind")?;
    f.kind = kind.clone();
    let env = match read_envelope(&kind, &mut f) {
        Some(e) => e?,
        None => {
            return Err(format!(
                "unknown kind {kind:?}: expected one of {}",
                EVENT_KINDS.join(", ")
            ))
        }
    };
    let mut unknown: Vec<&str> = m
        .keys()
        .map(String::as_str)
        .filter(|k| !f.used.contains(k) && !extra.contains(k))
        .collect();
    unknown.sort_unstable();
    if let Some(k) = unknown.first() {
        let mut expected = f.used.clone();
        // `client` may be both a key of the event and an extra one.
        for k in extra {
            if !expected.contains(k) {
                expected.push(k);
            }
        }
        return Err(format!(
            "unknown key {k:?} for a {kind}: expected only {}",
            expected.join(", ")
        ));
    }
    Ok(env)
}

/// The keys of one JSON object, read one by one; remembers which were read
/// so that the rest can be refused as unknown.
struct Fields<'a> {
    m: &'a Map<String, Value>,
    used: Vec<&'static str>,
    /// The event's kind once read, for messages.
    kind: String,
}

impl Fields<'_> {
    fn get(&mut self, key: &'static str) -> Result<&Value, String> {
        self.used.push(key);
        match self.m.get(key) {
            Some(v) => Ok(v),
            None if self.kind.is_empty() => Err(format!("missing key {key:?}")),
            None => Err(format!("missing key {key:?} for a {}", self.kind)),
        }
    }

    fn wrong(key: &str, v: &Value, expected: &str) -> String {
        let mut shown = v.to_string();
        if shown.len() > 60 {
            let cut = (0..=60)
                .rev()
                .find(|i| shown.is_char_boundary(*i))
                .unwrap_or(0);
            shown.truncate(cut);
            shown.push('…');
        }
        format!("{key:?} is {shown}: expected {expected}")
    }
}

impl Source for Fields<'_> {
    type Error = String;

    fn str(&mut self, key: &'static str) -> Result<String, String> {
        match self.get(key)? {
            Value::String(s) => Ok(s.clone()),
            v => Err(Self::wrong(key, v, "a string")),
        }
    }

    fn bool(&mut self, key: &'static str) -> Result<bool, String> {
        match self.get(key)? {
            Value::Bool(b) => Ok(*b),
            v => Err(Self::wrong(key, v, "true or false")),
        }
    }

    fn u64(&mut self, key: &'static str) -> Result<u64, String> {
        let v = self.get(key)?;
        v.as_u64()
            .ok_or_else(|| Self::wrong(key, v, "a whole number, 0 or more"))
    }

    fn i8(&mut self, key: &'static str) -> Result<i8, String> {
        let v = self.get(key)?;
        v.as_i64()
            .and_then(|n| i8::try_from(n).ok())
            .ok_or_else(|| Self::wrong(key, v, "a whole number from -2 to 2"))
    }

    fn opt_u32(&mut self, key: &'static str) -> Result<Option<u32>, String> {
        let v = self.get(key)?;
        if v.is_null() {
            return Ok(None);
        }
        v.as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .map(Some)
            .ok_or_else(|| Self::wrong(key, v, "null or a whole number of minutes"))
    }

    fn word<T: std::str::FromStr<Err = String>>(&mut self, key: &'static str) -> Result<T, String> {
        match self.get(key)? {
            Value::String(s) => s.parse().map_err(|e: String| format!("{key:?}: {e}")),
            v => Err(Self::wrong(key, v, "a word (a string)")),
        }
    }

    fn time(&mut self, key: &'static str) -> Result<Timestamp, String> {
        match self.get(key)? {
            Value::String(s) => parse_rfc3339(s).ok_or_else(|| {
                format!("{key:?} is {s:?}: expected an RFC 3339 time, e.g. 2026-11-20T10:00:00Z")
            }),
            v => Err(Self::wrong(key, v, "an RFC 3339 time (a string)")),
        }
    }
}

/// RFC 3339 with any offset, to the microsecond; also the `@<n>us` form
/// that [`Timestamp::to_rfc3339`] writes for instants
/// outside the calendar's range, so every exported time reads back.
pub fn parse_rfc3339(s: &str) -> Option<Timestamp> {
    if let Some(n) = s.strip_prefix('@').and_then(|r| r.strip_suffix("us")) {
        return n.parse().ok().map(Timestamp);
    }
    chrono::DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|d| Timestamp::from_datetime(&d))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::events::{AdvocacyKind, Cause, Fit, InteractionKind, Party};

    /// One event of each kind (two `Interacted`: with and without
    /// minutes), with text that needs escaping; `import`'s tests (its
    /// pinned identity digests among them) use it too.
    pub(crate) fn every_kind() -> Vec<Event> {
        let due = Due {
            at: Timestamp(1_790_000_000_123_456),
            date_only: true,
        };
        vec![
            Event::ClientAdded {
                handle: "acme".into(),
                name: "Acme, \"Ltd\" — ünï \u{1}".into(),
                fit: Fit::OffTarget,
                note: "line\nbreak\ttab\\".into(),
            },
            Event::FitChanged {
                client: "acme".into(),
                fit: Fit::Target,
                reason: "".into(),
            },
            Event::ExpectationNoted {
                client: "acme".into(),
                text: "a logo".into(),
            },
            Event::MismatchNoted {
                client: "acme".into(),
                text: "not that".into(),
            },
            Event::Interacted {
                client: "acme".into(),
                kind: InteractionKind::Visit,
                mood: -2,
                minutes: None,
                initiated_by: Party::Client,
                note: "".into(),
            },
            Event::Interacted {
                client: "acme".into(),
                kind: InteractionKind::Call,
                mood: 1,
                minutes: Some(30),
                initiated_by: Party::Us,
                note: "ok".into(),
            },
            Event::PromiseMade {
                promise: 7,
                client: "acme".into(),
                what: "logo".into(),
                due,
            },
            Event::PromiseMoved {
                promise: 7,
                due: Due {
                    date_only: false,
                    ..due
                },
                cause: Cause::External,
                agreed_by_client: true,
                reason: "strike".into(),
            },
            Event::PromiseKept {
                promise: 7,
                note: "".into(),
            },
            Event::PromiseBroken {
                promise: 7,
                reason: "x".into(),
            },
            Event::PromiseReleased {
                promise: 7,
                reason: "y".into(),
            },
            Event::Advocated {
                client: "acme".into(),
                kind: AdvocacyKind::CrossSell,
                initiated_by_client: false,
                note: "".into(),
            },
            Event::ClientLost {
                client: "acme".into(),
                reason: "gone".into(),
            },
            Event::ClientReturned {
                client: "acme".into(),
                note: "back".into(),
            },
            Event::Retracted {
                seq: 3,
                reason: "typo".into(),
            },
            Event::ClientRenamed {
                client: "acme".into(),
                handle: "acme-ag".into(),
                name: "Acme AG".into(),
            },
            Event::Amended {
                seq: 4,
                text: "kick-off, \"tense\"".into(),
                reason: "typo".into(),
            },
            Event::PromiseDelivered {
                promise: 7,
                note: "first sketches".into(),
            },
            Event::CadenceSet {
                client: "acme".into(),
                every: 1_209_600,
            },
        ]
    }

    #[test]
    fn envelope_json_reads_back_exactly_for_every_kind() {
        for (i, event) in every_kind().into_iter().enumerate() {
            let env = Envelope {
                seq: i as u64 + 1,
                recorded_at: Timestamp(1_789_000_000_000_001),
                occurred_at: Timestamp(-5),
                author: "ålice".into(),
                event,
            };
            let Value::Object(m) = envelope_json(&env) else {
                panic!("not an object")
            };
            assert_eq!(envelope_from_json(&m, &[]), Ok(env.clone()), "{m:?}");
        }
        // Instants outside the calendar read back too.
        let t = crate::events::Timestamp(i64::MAX);
        assert_eq!(parse_rfc3339(&t.to_rfc3339()), Some(t));
    }

    #[test]
    fn refusals_name_the_key_and_what_was_expected() {
        let env = Envelope {
            seq: 1,
            recorded_at: Timestamp(0),
            occurred_at: Timestamp(0),
            author: "a".into(),
            event: Event::ClientLost {
                client: "acme".into(),
                reason: "gone".into(),
            },
        };
        let Value::Object(good) = envelope_json(&env) else {
            panic!("not an object")
        };
        let bad = |f: &dyn Fn(&mut Map<String, Value>)| {
            let mut m = good.clone();
            f(&mut m);
            envelope_from_json(&m, &["id"]).unwrap_err()
        };
        assert_eq!(
            bad(&|m| {
                m.remove("reason");
            }),
            "missing key \"reason\" for a ClientLost"
        );
        assert_eq!(
            bad(&|m| {
                m.insert("extra".into(), json!(1));
            }),
            "unknown key \"extra\" for a ClientLost: expected only kind, seq, recorded_at, occurred_at, author, client, reason, id"
        );
        assert_eq!(
            bad(&|m| {
                m.insert("seq".into(), json!(-1));
            }),
            "\"seq\" is -1: expected a whole number, 0 or more"
        );
        assert!(bad(&|m| {
            m.insert("recorded_at".into(), json!("2026-13-01T00:00:00Z"));
        })
        .contains("expected an RFC 3339 time"));
        assert!(envelope_from_json(&good, &["id"]).is_ok());
    }
}
