//! The JSON-lines reader: `export`'s lines, one event at a time, with the
//! general reading of a line (any JSON, every reason for refusing it) and the
//! checks across lines (increasing seqs, ids from one journal). Lines as
//! `export` writes them take the typed fast path (`fast`).

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

use serde_json::Value;

use super::fast;
use super::{Rejection, SourceEvent};
use crate::events::json::{envelope_from_json, EXPORT_EXTRA_KEYS};
use crate::events::{Envelope, Event, PromiseId, Seq};

/// Checks `export`'s JSON lines one event at a time, in file order, so
/// that a big file is checked as it is read and never held as events.
/// Blank lines are allowed; every other line must be one event object (see
/// `events::json::envelope_from_json`), with seqs increasing and all ids
/// from one journal. What it rejects, and the promise ids and seqs of the
/// events it rejected, it keeps for the plan.
#[derive(Default)]
pub(crate) struct JsonlReader {
    journal_from: Option<([u8; 16], usize)>,
    last_seq: Option<(Seq, usize)>,
    ids_seen: SeenIds,
    /// Events read so far.
    pub events: usize,
    pub rejected: Vec<Rejection>,
    pub rejected_promises: HashMap<PromiseId, String>,
    pub rejected_seqs: HashMap<Seq, String>,
}

/// The seqs of the ids seen so far, with their lines: mostly increasing,
/// so a sorted vector, and a map for the few that are not.
#[derive(Default)]
struct SeenIds {
    sorted: Vec<(Seq, usize)>,
    others: HashMap<Seq, usize>,
}

impl SeenIds {
    /// Records `seq` on `line`; the line it was seen on before, if any.
    fn insert(&mut self, seq: Seq, line: usize) -> Option<usize> {
        let before = match self.sorted.last() {
            Some(&(last, _)) if seq <= last => self
                .sorted
                .binary_search_by_key(&seq, |e| e.0)
                .ok()
                .map(|i| self.sorted[i].1),
            _ => None,
        };
        let before = before.or_else(|| self.others.get(&seq).copied());
        match before {
            // As a map would: the later line is remembered.
            Some(_) => {
                if let Ok(i) = self.sorted.binary_search_by_key(&seq, |e| e.0) {
                    self.sorted[i].1 = line;
                } else {
                    self.others.insert(seq, line);
                }
            }
            None => match self.sorted.last() {
                Some(&(last, _)) if seq <= last => {
                    self.others.insert(seq, line);
                }
                _ => self.sorted.push((seq, line)),
            },
        }
        before
    }
}

/// The `client` key of a line, for events that name no client.
pub(super) enum ClientKey<'a> {
    Absent,
    Str(Cow<'a, str>),
    Other(Value),
}

/// The `id` key of a line.
pub(super) enum IdKey<'a> {
    Absent,
    Str(&'a str),
    /// An id as `export` writes it (lowercase hex, the seq without leading
    /// zeros), read: what a line keeps of it once its text is gone.
    Export([u8; 16], Seq),
    Other(Value),
}

impl IdKey<'_> {
    fn parse(&self) -> Option<([u8; 16], Seq)> {
        match self {
            IdKey::Absent => None,
            IdKey::Str(s) => parse_event_id_str(s),
            IdKey::Export(j, s) => Some((*j, *s)),
            IdKey::Other(v) => parse_event_id(v),
        }
    }

    /// Without the borrow of the line's text (which another thread read),
    /// and saying the same in messages.
    fn into_owned(self) -> IdKey<'static> {
        match self {
            IdKey::Absent => IdKey::Absent,
            IdKey::Str(s) => {
                let canonical = s.split_once('-').is_some_and(|(j, seq)| {
                    j.bytes()
                        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
                        && (seq == "0" || !seq.starts_with('0'))
                });
                match parse_event_id_str(s) {
                    Some((j, seq)) if canonical => IdKey::Export(j, seq),
                    _ => IdKey::Other(Value::String(s.to_string())),
                }
            }
            IdKey::Export(j, s) => IdKey::Export(j, s),
            IdKey::Other(v) => IdKey::Other(v),
        }
    }
}

impl fmt::Display for IdKey<'_> {
    /// As JSON, the way `Value` displays it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IdKey::Absent => Ok(()),
            IdKey::Str(s) => write!(f, "{}", Value::String(s.to_string())),
            IdKey::Export(j, s) => write!(f, "\"{}-{s}\"", hex(j)),
            IdKey::Other(v) => write!(f, "{v}"),
        }
    }
}

impl JsonlReader {
    /// The journal the file's events come from: the journal id of the
    /// first line whose id was taken (usually line 1).
    pub(crate) fn journal_from(&self) -> Option<[u8; 16]> {
        self.journal_from.map(|(j, _)| j)
    }

    fn reject(&mut self, line: usize, reason: String) {
        self.rejected.push(Rejection {
            origin: format!("line {line}"),
            line,
            reason,
        })
    }

    /// The checks that need the lines before (ids, order), for a line read
    /// on its own (by [`parse_line`], maybe on another thread).
    pub(super) fn accept(&mut self, line: usize, parsed: Parsed<'_>) -> Option<SourceEvent> {
        let (env, client, id) = match parsed {
            Parsed::Blank => return None,
            Parsed::Rejected {
                reason,
                seq,
                promise,
            } => {
                let origin = format!("line {line}");
                if let Some(seq) = seq {
                    self.rejected_seqs.insert(seq, origin.clone());
                }
                if let Some(p) = promise {
                    self.rejected_promises.insert(p, origin);
                }
                self.reject(line, reason);
                return None;
            }
            Parsed::Event(env, client, id) => (env, client, id),
        };
        let se = self.accept_event(line, env, client, id)?;
        self.events += 1;
        Some(se)
    }

    fn accept_event(
        &mut self,
        line: usize,
        env: Envelope,
        client: ClientKey<'_>,
        id: IdKey<'_>,
    ) -> Option<SourceEvent> {
        // From here on the line is an event: remember what it would have
        // been referred to by, if it is rejected.
        let reject = |r: &mut Self, reason: String| {
            let origin = format!("line {line}");
            if let Event::PromiseMade { promise, .. } = env.event {
                r.rejected_promises.insert(promise, origin.clone());
            }
            r.rejected_seqs.insert(env.seq, origin.clone());
            r.rejected.push(Rejection {
                origin,
                line,
                reason,
            });
            None
        };
        // `client` is only an extra on promise events that carry no client.
        let client_hint = if env.event.client().is_none() {
            match client {
                ClientKey::Absent => None,
                ClientKey::Str(c) if env.event.promise().is_some() => Some(c.into_owned()),
                ClientKey::Str(_) => {
                    return reject(
                        self,
                        format!(
                            "unknown key \"client\" for a {}: it names no client",
                            env.event.kind_name()
                        ),
                    );
                }
                ClientKey::Other(other) => {
                    return reject(
                        self,
                        format!("\"client\" is {other}: expected a client handle (a string)"),
                    );
                }
            }
        } else {
            None
        };
        if !matches!(id, IdKey::Absent) {
            match id.parse() {
                Some((j, s)) if s == env.seq => {
                    match self.journal_from {
                        Some((first, at)) if first != j => {
                            return reject(
                                self,
                                format!(
                                    "id {id} is from journal {} but line {at}'s is from journal {}: \
                                     expected one export per file (import each one separately)",
                                    hex(&j),
                                    hex(&first)
                                ),
                            );
                        }
                        Some(_) => {}
                        None => self.journal_from = Some((j, line)),
                    }
                    if let Some(prev) = self.ids_seen.insert(s, line) {
                        return reject(
                            self,
                            format!(
                                "id {id} is also on line {prev}: an event may be in a file once"
                            ),
                        );
                    }
                }
                Some((_, s)) => {
                    return reject(
                        self,
                        format!(
                            "id {id} ends in seq {s} but \"seq\" is {}: expected the same seq",
                            env.seq
                        ),
                    );
                }
                None => {
                    return reject(
                        self,
                        format!(
                            "\"id\" is {id}: expected \"<32 hex digits>-<seq>\" as written by export"
                        ),
                    );
                }
            }
        }
        if let Some((prev, at)) = self.last_seq {
            if env.seq <= prev {
                return reject(
                    self,
                    format!(
                        "seq {} is not after line {at}'s seq {prev}: expected the lines in journal order",
                        env.seq
                    ),
                );
            }
        }
        self.last_seq = Some((env.seq, line));
        Some(SourceEvent {
            origin: String::new(),
            line,
            env,
            client_hint,
        })
    }
}

/// One line read on its own.
pub(super) enum Parsed<'b> {
    Blank,
    /// Not an event; with what lines referring to it would have named
    /// (best effort: its seq, and its promise if it makes one).
    Rejected {
        reason: String,
        seq: Option<Seq>,
        promise: Option<PromiseId>,
    },
    Event(Envelope, ClientKey<'static>, IdKey<'b>),
}

impl Parsed<'_> {
    /// Without the borrow of the line's text: what the reader threads hand
    /// over (the text is read into a buffer of theirs).
    pub(super) fn into_owned(self) -> Parsed<'static> {
        match self {
            Parsed::Blank => Parsed::Blank,
            Parsed::Rejected {
                reason,
                seq,
                promise,
            } => Parsed::Rejected {
                reason,
                seq,
                promise,
            },
            Parsed::Event(env, client, id) => Parsed::Event(env, client, id.into_owned()),
        }
    }
}

/// Every event of `text`, line by line (what the import does, on one
/// thread and without the cap on a line's length).
#[cfg(test)]
pub(super) fn read_all(text: &[u8]) -> (JsonlReader, Vec<SourceEvent>) {
    let mut r = JsonlReader::default();
    let mut out = Vec::new();
    for (i, raw) in text.split(|&b| b == b'\n').enumerate() {
        if let Some(se) = r.accept(i + 1, parse_line(raw, i + 1)) {
            out.push(se);
        }
    }
    (r, out)
}

/// Reads line number `line` on its own: everything that does not depend on
/// the other lines.
pub(super) fn parse_line(raw: &[u8], line: usize) -> Parsed<'_> {
    let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
    let raw = if line == 1 {
        raw.strip_prefix(b"\xef\xbb\xbf").unwrap_or(raw)
    } else {
        raw
    };
    let Ok(text) = std::str::from_utf8(raw) else {
        return Parsed::Rejected {
            reason: "is not UTF-8 text".into(),
            seq: None,
            promise: None,
        };
    };
    // (An event line starts with `{`: only others can be blank.)
    if !text.starts_with('{') && text.trim().is_empty() {
        return Parsed::Blank;
    }
    // `task export` writes one JSON array, one task a line: the first
    // line is `[` (or `[{"id":1,…,"uuid":…},`), the others tasks with a
    // trailing comma (which `slow_line` recognises).
    let t = text.trim();
    if line == 1
        && (t == "["
            || (t.starts_with("[{") && t.contains("\"uuid\"") && t.contains("\"description\"")))
    {
        return Parsed::Rejected {
            reason: format!(
                "starts a JSON array, as `task export` writes: {LOOKS_LIKE_TASKWARRIOR}"
            ),
            seq: None,
            promise: None,
        };
    }
    // Lines as `export` writes them take the typed path; anything else
    // (and every mistake) the general one, which has the words for it.
    match fast::line(text) {
        Some((env, client, id)) => Parsed::Event(env, client, id),
        None => slow_line(text),
    }
}

/// The end of the reason of a line that looks like `task export` output;
/// `import` turns such a first rejection into one hint for the whole input.
pub(super) const LOOKS_LIKE_TASKWARRIOR: &str =
    "this looks like a Taskwarrior export; import it with --format taskwarrior";

/// A Taskwarrior task rather than an event: `uuid` and `description`, and
/// no `kind`.
fn is_task(m: &serde_json::Map<String, Value>) -> bool {
    m.contains_key("uuid") && m.contains_key("description") && !m.contains_key("kind")
}

/// The general reading of a line (any JSON, every reason for refusing it).
pub(super) fn slow_line(text: &str) -> Parsed<'static> {
    let rejected = |reason: String| Parsed::Rejected {
        reason,
        seq: None,
        promise: None,
    };
    let v: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            let task = serde_json::from_str::<Value>(text.trim_end().trim_end_matches(','));
            if let Ok(Value::Object(m)) = task {
                if is_task(&m) {
                    return rejected(format!(
                        "is a Taskwarrior task (uuid, description, no kind): {LOOKS_LIKE_TASKWARRIOR}"
                    ));
                }
            }
            return rejected(format!(
                "is not JSON ({e}): expected one event object per line"
            ));
        }
    };
    if let Value::Object(m) = &v {
        if is_task(m) {
            return rejected(format!(
                "is a Taskwarrior task (uuid, description, no kind): {LOOKS_LIKE_TASKWARRIOR}"
            ));
        }
    }
    let Value::Object(m) = v else {
        return rejected(format!(
            "is a JSON {}, not an object: expected one event object per line",
            json_type(&v)
        ));
    };
    let env = match envelope_from_json(&m, &EXPORT_EXTRA_KEYS) {
        Ok(e) => e,
        Err(reason) => {
            let kind = m.get("kind").and_then(Value::as_str).unwrap_or("");
            let makes = kind == "PromiseMade" || !crate::events::EVENT_KINDS.contains(&kind);
            return Parsed::Rejected {
                reason,
                seq: m.get("seq").and_then(Value::as_u64),
                promise: m.get("promise").and_then(Value::as_u64).filter(|_| makes),
            };
        }
    };
    let client = match m.get("client") {
        None => ClientKey::Absent,
        Some(Value::String(c)) => ClientKey::Str(Cow::Owned(c.clone())),
        Some(other) => ClientKey::Other(other.clone()),
    };
    let id = match m.get("id") {
        None => IdKey::Absent,
        Some(v) => IdKey::Other(v.clone()),
    };
    Parsed::Event(env, client, id)
}

pub(super) fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// `"<32 hex>-<seq>"` → (journal id, seq).
fn parse_event_id(v: &Value) -> Option<([u8; 16], Seq)> {
    parse_event_id_str(v.as_str()?)
}

fn parse_event_id_str(s: &str) -> Option<([u8; 16], Seq)> {
    let (j, seq) = s.split_once('-')?;
    if j.len() != 32 || !j.is_ascii() {
        return None;
    }
    let mut id = [0u8; 16];
    for (i, b) in id.iter_mut().enumerate() {
        *b = u8::from_str_radix(&j[2 * i..2 * i + 2], 16).ok()?;
    }
    if seq.is_empty() || !seq.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((id, seq.parse().ok()?))
}

pub(super) fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn event_ids_parse_only_in_export_form() {
        let id = format!("{}-7", "ab".repeat(16));
        assert_eq!(parse_event_id(&json!(id)), Some(([0xab; 16], 7)));
        for bad in [
            json!("ab-7"),
            json!(format!("{}-", "ab".repeat(16))),
            json!(format!("{}-x", "ab".repeat(16))),
            json!(format!("{}-7", "zz".repeat(16))),
            json!(7),
        ] {
            assert_eq!(parse_event_id(&bad), None, "{bad}");
        }
    }
}
