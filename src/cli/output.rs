//! How events look to people and to scripts. The JSON form of an event is
//! stable (documented in the README) and is also what `export` writes.

use serde_json::{json, Map, Value};

use super::context::Ctx;
use crate::events::{Due, Envelope, Event};

fn due_json(d: &Due) -> Value {
    json!(d.at.to_rfc3339())
}

/// The event's own fields, with words for enums and RFC 3339 for times.
pub fn event_fields(e: &Event) -> Map<String, Value> {
    let v = match e {
        Event::ClientAdded {
            handle,
            name,
            fit,
            note,
        } => json!({"client": handle, "name": name, "fit": fit.as_str(), "note": note}),
        Event::FitChanged {
            client,
            fit,
            reason,
        } => json!({"client": client, "fit": fit.as_str(), "reason": reason}),
        Event::ExpectationNoted { client, text } | Event::MismatchNoted { client, text } => {
            json!({"client": client, "text": text})
        }
        Event::Interacted {
            client,
            kind,
            mood,
            minutes,
            initiated_by,
            note,
        } => json!({
            "client": client, "interaction": kind.as_str(), "mood": mood, "minutes": minutes,
            "by": initiated_by.as_str(), "note": note
        }),
        Event::PromiseMade {
            promise,
            client,
            what,
            due,
        } => json!({
            "promise": promise, "client": client, "what": what, "due": due_json(due),
            "due_date_only": due.date_only
        }),
        Event::PromiseMoved {
            promise,
            due,
            cause,
            agreed_by_client,
            reason,
        } => json!({
            "promise": promise, "due": due_json(due), "due_date_only": due.date_only,
            "cause": cause.as_str(), "agreed": agreed_by_client, "reason": reason
        }),
        Event::PromiseKept { promise, note } => json!({"promise": promise, "note": note}),
        Event::PromiseBroken { promise, reason } | Event::PromiseReleased { promise, reason } => {
            json!({"promise": promise, "reason": reason})
        }
        Event::Advocated {
            client,
            kind,
            initiated_by_client,
            note,
        } => json!({
            "client": client, "advocacy": kind.as_str(), "by_client": initiated_by_client, "note": note
        }),
        Event::ClientLost { client, reason } => json!({"client": client, "reason": reason}),
        Event::ClientReturned { client, note } => json!({"client": client, "note": note}),
        Event::Retracted { seq, reason } => json!({"retracted": seq, "reason": reason}),
    };
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// `{"seq":…, "kind":…, "recorded_at":…, "occurred_at":…, "author":…, <fields>}`
pub fn envelope_json(env: &Envelope) -> Value {
    let mut m = Map::new();
    m.insert("seq".into(), json!(env.seq));
    m.insert("kind".into(), json!(env.event.kind_name()));
    m.insert("recorded_at".into(), json!(env.recorded_at.to_rfc3339()));
    m.insert("occurred_at".into(), json!(env.occurred_at.to_rfc3339()));
    m.insert("author".into(), json!(env.author));
    m.extend(event_fields(&env.event));
    Value::Object(m)
}

/// One line for people: what happened, in words.
pub fn summary(e: &Event) -> String {
    match e {
        Event::ClientAdded {
            handle, name, fit, ..
        } => format!("client {handle} ({name}) added, {fit}"),
        Event::FitChanged { client, fit, .. } => format!("{client} is now {fit}"),
        Event::ExpectationNoted { client, text } => format!("{client} wants: {text}"),
        Event::MismatchNoted { client, text } => {
            format!("{client}: not what they expected: {text}")
        }
        Event::Interacted {
            client,
            kind,
            mood,
            minutes,
            initiated_by,
            note,
        } => {
            let mins = minutes.map(|m| format!(", {m} min")).unwrap_or_default();
            let note = if note.is_empty() {
                String::new()
            } else {
                format!(": {note}")
            };
            let mood = if *mood == 0 {
                "0".to_string()
            } else {
                format!("{mood:+}")
            };
            format!("{kind} with {client} (mood {mood}{mins}, by {initiated_by}){note}")
        }
        Event::PromiseMade {
            promise,
            client,
            what,
            due,
        } => format!(
            "promise {promise} to {client}: {what}, due {}",
            due_text(due)
        ),
        Event::PromiseMoved {
            promise,
            due,
            cause,
            agreed_by_client,
            ..
        } => format!(
            "promise {promise} moved to {} (cause: {cause}{})",
            due_text(due),
            if *agreed_by_client {
                ", agreed by client"
            } else {
                ", not agreed"
            }
        ),
        Event::PromiseKept { promise, .. } => format!("promise {promise} kept"),
        Event::PromiseBroken { promise, reason } => format!("promise {promise} broken: {reason}"),
        Event::PromiseReleased { promise, reason } => {
            format!("promise {promise} released: {reason}")
        }
        Event::Advocated {
            client,
            kind,
            initiated_by_client,
            ..
        } => format!(
            "{client}: {kind}{}",
            if *initiated_by_client {
                " (their initiative)"
            } else {
                " (we asked)"
            }
        ),
        Event::ClientLost { client, reason } => format!("{client} lost: {reason}"),
        Event::ClientReturned { client, .. } => format!("{client} is back"),
        Event::Retracted { seq, reason } => format!("event #{seq} retracted: {reason}"),
    }
}

/// A due as people say it: the day alone for a date-only due.
pub fn due_text(d: &Due) -> String {
    match d.at.to_local() {
        Some(t) if d.date_only => t.format("%Y-%m-%d").to_string(),
        _ => d.at.to_local_string(),
    }
}

/// What a recording command prints: `promise make` prints the new id
/// alone (for `id=$(trustlog promise make …)`), the others `#seq summary`;
/// with `--json`, the appended event.
/// Tells the user that opening the journal for writing cut a torn tail
/// (a crash mid-append) and where its bytes were saved.
pub fn say_cut(ctx: &Ctx, cut: &Option<crate::log::TornCut>) {
    if let Some(cut) = cut {
        eprintln!(
            "trustlog: cut {} bytes of an incomplete write at offset {} of {} (a crash mid-append); saved them to {}",
            cut.len,
            cut.offset,
            ctx.journal.display(),
            cut.saved_to.display()
        );
    }
}

pub fn print_recorded(ctx: &Ctx, env: &Envelope) {
    if ctx.json {
        println!("{}", envelope_json(env));
        return;
    }
    match &env.event {
        Event::PromiseMade { promise, .. } => println!("{promise}"),
        e => println!("#{} {}", env.seq, summary(e)),
    }
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
    let seq = f.u64("seq")?;
    let recorded_at = f.time("recorded_at")?;
    let occurred_at = f.time("occurred_at")?;
    let author = f.str("author")?;
    let event = match kind.as_str() {
        "ClientAdded" => Event::ClientAdded {
            handle: f.str("client")?,
            name: f.str("name")?,
            fit: f.word("fit")?,
            note: f.str("note")?,
        },
        "FitChanged" => Event::FitChanged {
            client: f.str("client")?,
            fit: f.word("fit")?,
            reason: f.str("reason")?,
        },
        "ExpectationNoted" => Event::ExpectationNoted {
            client: f.str("client")?,
            text: f.str("text")?,
        },
        "MismatchNoted" => Event::MismatchNoted {
            client: f.str("client")?,
            text: f.str("text")?,
        },
        "Interacted" => Event::Interacted {
            client: f.str("client")?,
            kind: f.word("interaction")?,
            mood: f.mood("mood")?,
            minutes: f.opt_u32("minutes")?,
            initiated_by: f.word("by")?,
            note: f.str("note")?,
        },
        "PromiseMade" => Event::PromiseMade {
            promise: f.u64("promise")?,
            client: f.str("client")?,
            what: f.str("what")?,
            due: f.due()?,
        },
        "PromiseMoved" => Event::PromiseMoved {
            promise: f.u64("promise")?,
            due: f.due()?,
            cause: f.word("cause")?,
            agreed_by_client: f.bool("agreed")?,
            reason: f.str("reason")?,
        },
        "PromiseKept" => Event::PromiseKept {
            promise: f.u64("promise")?,
            note: f.str("note")?,
        },
        "PromiseBroken" => Event::PromiseBroken {
            promise: f.u64("promise")?,
            reason: f.str("reason")?,
        },
        "PromiseReleased" => Event::PromiseReleased {
            promise: f.u64("promise")?,
            reason: f.str("reason")?,
        },
        "Advocated" => Event::Advocated {
            client: f.str("client")?,
            kind: f.word("advocacy")?,
            initiated_by_client: f.bool("by_client")?,
            note: f.str("note")?,
        },
        "ClientLost" => Event::ClientLost {
            client: f.str("client")?,
            reason: f.str("reason")?,
        },
        "ClientReturned" => Event::ClientReturned {
            client: f.str("client")?,
            note: f.str("note")?,
        },
        "Retracted" => Event::Retracted {
            seq: f.u64("retracted")?,
            reason: f.str("reason")?,
        },
        other => {
            return Err(format!(
                "unknown kind {other:?}: expected one of {}",
                crate::events::EVENT_KINDS.join(", ")
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
        expected.extend(extra.iter().copied());
        return Err(format!(
            "unknown key {k:?} for a {kind}: expected only {}",
            expected.join(", ")
        ));
    }
    Ok(Envelope {
        seq,
        recorded_at,
        occurred_at,
        author,
        event,
    })
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

    fn mood(&mut self, key: &'static str) -> Result<i8, String> {
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

    fn time(&mut self, key: &'static str) -> Result<crate::events::Timestamp, String> {
        match self.get(key)? {
            Value::String(s) => parse_rfc3339(s).ok_or_else(|| {
                format!("{key:?} is {s:?}: expected an RFC 3339 time, e.g. 2026-11-20T10:00:00Z")
            }),
            v => Err(Self::wrong(key, v, "an RFC 3339 time (a string)")),
        }
    }

    fn due(&mut self) -> Result<Due, String> {
        Ok(Due {
            at: self.time("due")?,
            date_only: self.bool("due_date_only")?,
        })
    }
}

/// RFC 3339 with any offset, to the microsecond; also the `@<n>us` form
/// that [`crate::events::Timestamp::to_rfc3339`] writes for instants
/// outside the calendar's range, so every exported time reads back.
pub fn parse_rfc3339(s: &str) -> Option<crate::events::Timestamp> {
    if let Some(n) = s.strip_prefix('@').and_then(|r| r.strip_suffix("us")) {
        return n.parse().ok().map(crate::events::Timestamp);
    }
    chrono::DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|d| crate::events::Timestamp::from_datetime(&d))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{AdvocacyKind, Cause, Fit, InteractionKind, Party, Timestamp};

    fn every_kind() -> Vec<Event> {
        let due = Due {
            at: Timestamp(1_790_000_000_123_456),
            date_only: true,
        };
        vec![
            Event::ClientAdded {
                handle: "acme".into(),
                name: "Acme, \"Ltd\"".into(),
                fit: Fit::OffTarget,
                note: "line\nbreak".into(),
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
