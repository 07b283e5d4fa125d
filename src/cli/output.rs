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
