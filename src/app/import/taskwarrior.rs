//! The Taskwarrior source: `task export` turned into events, which are
//! then planned like any other source.
//!
//! `task export` → events. The mapping (README has the user's version):
//!
//! | Taskwarrior | trustlog |
//! |---|---|
//! | `project` | the client: its handle is the project slugified (`Big.Co` → `big-co`); a `ClientAdded` (fit target, name = the project) when the journal has no such client, at the earliest time of its tasks |
//! | task with a `due` | `PromiseMade` at `entry` (at `due` when that is earlier: a task entered after its due is migrated, not left out), what = description, due = `due` (an instant, as Taskwarrior stores it) |
//! | `completed` with `end` | `PromiseKept` at `end` |
//! | `deleted` with `end` | `PromiseReleased` at `end`, reason "deleted in Taskwarrior" |
//! | `pending`, `waiting` | the promise stays open |
//! | annotation | `Interacted` (kind other, mood 0, by us, note = its text) at its `entry` |
//!
//! Each event is recorded (`recorded_at`) at the time Taskwarrior wrote it
//! down (`entry`, `end`), and they go in time order. So a re-import of
//! the same export has the same identities and adds nothing, and a later
//! export adds what changed since (a completion, a new task).
//!
//! Not mapped, and listed: tasks without a project (no client), without a
//! due (not a promise — their annotations still count as interactions),
//! completed or deleted without an `end`,
//! recurring templates (their instances are imported), and a task whose due
//! was changed in Taskwarrior after an earlier import (its promise keeps
//! the due it was imported with: a move needs a cause Taskwarrior does not
//! record, so `trustlog promise move` it). After the migration the journal
//! has the last word: a completion or deletion of a task whose promise was
//! since closed or retracted in trustlog is listed, not imported.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{self, BufRead};

use chrono::NaiveDateTime;
use serde_json::Value;

use super::lines::{self, End, Stop, MAX_LINE};
use super::{plural, NotMapped, Rejection, Source, SourceEvent, MAX_REJECTED};
use crate::app::error::{invalid, AppError};
use crate::events::{Envelope, Event, PromiseId, Seq, Timestamp};
use crate::projections::state::{Promise, PromiseStatus, State};

/// Attributes read; every other one is counted as ignored.
const MAPPED: [&str; 11] = [
    "uuid",
    "description",
    "status",
    "project",
    "due",
    "entry",
    "end",
    "annotations",
    // Bookkeeping of Taskwarrior itself, nothing to map:
    "id",
    "urgency",
    "modified",
];

pub(crate) struct Task {
    index: usize,
    uuid: String,
    description: String,
    status: String,
    project: Option<String>,
    due: Option<Timestamp>,
    entry: Timestamp,
    end: Option<Timestamp>,
    annotations: Vec<(Timestamp, String)>,
}

impl Task {
    fn short(&self) -> String {
        self.uuid.chars().take(8).collect()
    }
}

/// The tasks of `read`, against the journal (its state and events) as
/// events of a source; `src` holds what reading found.
pub(crate) fn convert(
    tasks: Vec<Task>,
    mut src: Source,
    state: &State,
    journal: &[Envelope],
    author: &str,
) -> Result<Source, AppError> {
    // Promises of the journal that were retracted: a task imported
    // before whose promise was then retracted stays out.
    let retracted = crate::projections::retracted_set(journal);
    let mut retracted_made: Made<'_, PromiseId> = HashMap::new();
    for e in journal.iter().filter(|e| retracted.contains(&e.seq)) {
        if let Event::PromiseMade {
            promise,
            client,
            what,
            ..
        } = &e.event
        {
            // The first in journal order, as a search would find.
            retracted_made
                .entry((client.as_str(), e.occurred_at, what.as_str()))
                .or_insert(*promise);
        }
    }
    // The journal's promises by what a task is recognised by: the
    // first in id order, as a search would find (one lookup per task,
    // not a search through every promise).
    let mut promises: Made<'_, &Promise> = HashMap::new();
    for p in state.promises.values() {
        promises
            .entry((p.client.as_str(), p.made_at, p.what.as_str()))
            .or_insert(p);
    }

    // Events before sorting: (time, rank, task index, n, client, event).
    // Rank orders what happens at one instant: a client before its
    // promises, a promise before what becomes of it.
    let mut out: Vec<(Timestamp, u8, usize, usize, String, Event)> = Vec::new();
    let mut new_clients: BTreeMap<String, (String, Timestamp)> = BTreeMap::new();
    let mut promise_ids: PromiseId = 0;
    // A promise id per task, in the file's space.
    for t in &tasks {
        let not_mapped = |src: &mut Source, reason: String| {
            src.not_mapped.push(NotMapped {
                task: t.short(),
                description: t.description.clone(),
                reason,
            })
        };
        let Some(project) = &t.project else {
            not_mapped(&mut src, "no project, so no client to give it to".into());
            continue;
        };
        let handle = slug(project);
        if handle.is_empty() {
            not_mapped(
                &mut src,
                format!("project {project:?} has no letters or digits to make a client handle"),
            );
            continue;
        }
        let mut times = vec![t.entry];
        for (n, (at, text)) in t.annotations.iter().enumerate() {
            times.push(*at);
            out.push((
                *at,
                2,
                t.index,
                n + 1,
                handle.clone(),
                Event::Interacted {
                    client: handle.clone(),
                    kind: crate::events::InteractionKind::Other,
                    mood: 0,
                    minutes: None,
                    initiated_by: crate::events::Party::Us,
                    note: text.clone(),
                },
            ));
        }
        let promise = promise_for(t, &handle, &promises, &retracted_made);
        match promise {
            Err(reason) => not_mapped(&mut src, reason),
            Ok(PromisePlan {
                made_at,
                due,
                notes,
                migrated,
                close,
            }) => {
                times.push(made_at);
                if let Some(how) = migrated {
                    src.migrated.push(NotMapped {
                        task: t.short(),
                        description: t.description.clone(),
                        reason: how,
                    });
                }
                for n in notes {
                    not_mapped(&mut src, n);
                }
                promise_ids += 1;
                let id = promise_ids;
                out.push((
                    made_at,
                    1,
                    t.index,
                    0,
                    handle.clone(),
                    Event::PromiseMade {
                        promise: id,
                        client: handle.clone(),
                        what: t.description.clone(),
                        due: crate::events::Due {
                            at: due,
                            date_only: false,
                        },
                    },
                ));
                match (t.status.as_str(), t.end) {
                    _ if !close => {}
                    ("completed", Some(end)) => {
                        times.push(end);
                        out.push((
                            end,
                            3,
                            t.index,
                            0,
                            handle.clone(),
                            Event::PromiseKept {
                                promise: id,
                                note: format!("done in Taskwarrior (task {})", t.short()),
                            },
                        ));
                    }
                    ("deleted", Some(end)) => {
                        times.push(end);
                        out.push((
                            end,
                            3,
                            t.index,
                            0,
                            handle.clone(),
                            Event::PromiseReleased {
                                promise: id,
                                reason: format!("deleted in Taskwarrior (task {})", t.short()),
                            },
                        ));
                    }
                    _ => {}
                }
            }
        }
        if !state.clients.contains_key(&handle) {
            let first = times.iter().min().copied().unwrap_or(t.entry);
            let e = new_clients
                .entry(handle.clone())
                .or_insert((project.clone(), first));
            e.1 = e.1.min(first);
        }
    }
    // Only clients something was mapped to.
    let used: HashSet<String> = out.iter().map(|o| o.4.clone()).collect();
    for (handle, (project, first)) in &new_clients {
        if !used.contains(handle) {
            continue;
        }
        out.push((
            *first,
            0,
            0,
            0,
            handle.clone(),
            Event::ClientAdded {
                handle: handle.clone(),
                name: project.clone(),
                fit: crate::events::Fit::Target,
                note: format!("imported from Taskwarrior project {project:?}"),
            },
        ));
    }
    out.sort_by(|a, b| (a.0, a.1, a.2, a.3, &a.4).cmp(&(b.0, b.1, b.2, b.3, &b.4)));
    let by_index: HashMap<usize, &Task> = tasks.iter().map(|t| (t.index, t)).collect();
    for (seq, (at, _, index, _, _, event)) in out.into_iter().enumerate() {
        let origin = match (&event, by_index.get(&index)) {
            (Event::ClientAdded { name, .. }, _) => format!("project {name:?}"),
            (_, Some(t)) => format!("task {} {:?}", t.short(), t.description),
            (_, None) => format!("task #{index}"),
        };
        src.events.push(SourceEvent {
            origin,
            line: index,
            env: Envelope {
                seq: seq as Seq + 1,
                recorded_at: at,
                occurred_at: at,
                author: author.to_string(),
                event,
            },
            client_hint: None,
        });
    }
    Ok(src)
}

/// What a task with a due becomes.
struct PromisePlan {
    /// When its `PromiseMade` happened: the entry, or the due when that is
    /// earlier (a task entered after its due, issue 12.12).
    made_at: Timestamp,
    /// The due of its `PromiseMade`.
    due: Timestamp,
    /// What is listed as not mapped about it.
    notes: Vec<String>,
    /// How it was migrated, when it was entered after its due.
    migrated: Option<String>,
    /// Whether its completion or deletion becomes an event.
    close: bool,
}

/// The promise a task becomes, or why it is none. A task imported
/// before is found in the journal by client, entry time and description:
/// it keeps the due it was imported with, and what the journal has
/// since recorded (kept, broken, released, retracted) stands.
/// Promises by client, time made and what (how a task is recognised).
type Made<'a, T> = HashMap<(&'a str, Timestamp, &'a str), T>;

fn promise_for(
    t: &Task,
    handle: &str,
    promises: &Made<'_, &Promise>,
    retracted_made: &Made<'_, PromiseId>,
) -> Result<PromisePlan, String> {
    let Some(due) = t.due else {
        return Err(match t.annotations.len() {
            0 => "no due date: a task without a due is not a promise".into(),
            n => format!(
                "no due date: a task without a due is not a promise ({} imported as interactions)",
                plural(n, "annotation", "annotations")
            ),
        });
    };
    let closing = match t.status.as_str() {
        "pending" | "waiting" => None,
        "completed" | "deleted" => match t.end {
            Some(end) => Some((t.status.as_str(), end)),
            None => return Err(format!("{} without an end date: when is unknown", t.status)),
        },
        "recurring" => {
            return Err("a recurring template: its instances are imported one by one".into())
        }
        other => return Err(format!("unknown status {other:?}")),
    };
    // A task entered after its due (a backlog typed in late) is exactly
    // what the audit most needs: it is made at its due instead of at its
    // entry (a promise cannot be due before it is made), so it counts
    // (overdue, or kept late) instead of being left out.
    let made_at = t.entry.min(due);
    if let Some((_, end)) = closing {
        if end < t.entry {
            return Err(format!(
                "ended {} before it was entered ({})",
                end.to_local_string(),
                t.entry.to_local_string()
            ));
        }
    }
    let key = (handle, made_at, t.description.as_str());
    let Some(&p) = promises.get(&key) else {
        if let Some(id) = retracted_made.get(&key) {
            return Err(format!(
                "imported before as promise {id}, which was retracted in the journal: left out"
            ));
        }
        let migrated = (made_at < t.entry).then(|| {
            format!(
                "entered {} after its due {}: made at its due, so the audit counts it",
                t.entry.to_local_string(),
                due.to_local_string()
            )
        });
        return Ok(PromisePlan {
            made_at,
            due,
            notes: Vec::new(),
            migrated,
            close: closing.is_some(),
        });
    };
    // Imported before.
    let mut notes = Vec::new();
    if p.original_due.at != due {
        notes.push(format!(
            "due changed in Taskwarrior to {} since it was imported as promise {} (due {}): \
             not moved — record it with `trustlog promise move {} --due … --cause …`",
            due.to_local_string(),
            p.id,
            p.original_due.at.to_local_string(),
            p.id
        ));
    }
    let close = match (p.status, closing) {
        (_, None) => false,
        (PromiseStatus::Open, Some(_)) => true,
        // Closed by the earlier import of this very completion.
        (PromiseStatus::Kept, Some(("completed", end)))
        | (PromiseStatus::Released, Some(("deleted", end)))
            if p.closed.map(|c| c.0) == Some(end) =>
        {
            true
        }
        (status, Some((tw, end))) => {
            notes.push(format!(
                "{tw} in Taskwarrior on {}, but promise {} is already {} in the journal{}: left as the journal has it",
                end.to_local_string(),
                p.id,
                status.as_str(),
                p.closed
                    .map(|c| format!(" (on {})", c.0.to_local_string()))
                    .unwrap_or_default()
            ));
            false
        }
    };
    Ok(PromisePlan {
        made_at,
        due: p.original_due.at,
        notes,
        // Migrated by the import that made it; nothing new to say.
        migrated: None,
        close,
    })
}

/// Lowercase letters and digits; anything else becomes one `-`; at most
/// 32 characters (a handle's limit). `Big.Co` → `big-co`.
pub(crate) fn slug(project: &str) -> String {
    let mut s = String::new();
    // Letters and digits of any script (issue 12.5: a Korean project is a
    // client too), lower-cased, in NFC as every handle is.
    let project = crate::app::rules::normalize_handle(project);
    for c in project.chars().flat_map(char::to_lowercase) {
        let letter = c.is_alphanumeric() && !c.is_uppercase();
        if letter
            || c == '_'
            || (!s.is_empty() && unicode_normalization::char::is_combining_mark(c))
        {
            s.push(c);
        } else if !s.is_empty() && !s.ends_with('-') {
            s.push('-');
        }
    }
    let mut s: String = s.trim_end_matches('-').chars().take(32).collect();
    while s.ends_with('-') {
        s.pop();
    }
    if s.starts_with('_') {
        s.remove(0);
    }
    crate::app::rules::normalize_handle(&s)
}

/// Reads `task export` as a stream: a JSON array (read element by
/// element), or one object per line (each optionally followed by a comma,
/// as `rc.json.array=off` writes). No task longer than `MAX_LINE` is held:
/// one that is longer is rejected and the input not read past it; nor
/// after `MAX_REJECTED` rejected tasks. What is kept are the tasks, and in
/// the source what was rejected or ignored.
pub(crate) fn read(r: &mut dyn BufRead) -> Result<(Vec<Task>, Source), AppError> {
    let mut src = Source::default();
    let mut tasks = Vec::new();
    let io = |e: io::Error| AppError::Io(e.to_string());
    // A byte-order mark, then blank space (counted: line numbers are the
    // file's).
    let mut offset = 0u64;
    if r.fill_buf().map_err(io)?.starts_with(b"\xef\xbb\xbf") {
        r.consume(3);
        offset = 3;
    }
    let mut line = 1usize;
    let first = loop {
        let b = r.fill_buf().map_err(io)?;
        let Some(&c) = b.first() else { break None };
        if !c.is_ascii_whitespace() {
            break Some(c);
        }
        line += usize::from(c == b'\n');
        offset += 1;
        r.consume(1);
    };
    let utf8 = |bytes: &[u8], at: u64| -> Result<(), AppError> {
        std::str::from_utf8(bytes).map(|_| ()).map_err(|e| {
            invalid(format!(
                "the Taskwarrior export is not UTF-8 text (at byte {}): expected the output of `task export`",
                at + e.valid_up_to() as u64
            ))
        })
    };
    let mut add = |n: usize, v: Value, src: &mut Source| match task(n, &v, src) {
        Ok(t) => tasks.push(t),
        Err(reason) => src.rejected.push(Rejection {
            origin: format!("task #{n}"),
            line: n,
            reason,
        }),
    };
    let stopped = |src: &mut Source, origin: String, n: usize, reason: String| {
        src.rejected.push(Rejection {
            origin,
            line: n,
            reason,
        })
    };
    let not_array = |why: String| {
        invalid(format!(
            "the Taskwarrior export is not a JSON array ({why}): expected the output of `task export`"
        ))
    };
    let mut buf = Vec::new();
    if first == Some(b'[') {
        r.consume(1);
        offset += 1;
        for n in 1.. {
            buf.clear();
            let at = offset;
            let end = match element(r, &mut buf, MAX_LINE) {
                Ok(end) => end,
                Err(None) => {
                    stopped(
                        &mut src,
                        format!("task #{n}"),
                        n,
                        Stop::too_long_reason("a task"),
                    );
                    break;
                }
                Err(Some(e)) => return Err(io(e)),
            };
            offset += buf.len() as u64 + u64::from(end.is_some());
            let text = buf.trim_ascii();
            let Some(end) = end else {
                return Err(not_array(format!(
                    "it ends inside task #{n}, before the closing `]`"
                )));
            };
            if text.is_empty() && end == b']' && n == 1 {
                break;
            }
            utf8(&buf, at)?;
            let v: Value =
                serde_json::from_slice(text).map_err(|e| not_array(format!("task #{n}: {e}")))?;
            add(n, v, &mut src);
            if src.rejected.len() >= MAX_REJECTED {
                stopped(
                    &mut src,
                    format!("task #{}", n + 1),
                    n + 1,
                    format!("not read: {MAX_REJECTED} tasks were rejected before it, so the input was not read further"),
                );
                break;
            }
            if end == b']' {
                // Only blank space may follow.
                loop {
                    let b = r.fill_buf().map_err(io)?;
                    if b.is_empty() {
                        break;
                    }
                    if let Some(c) = b.iter().find(|c| !c.is_ascii_whitespace()) {
                        return Err(not_array(format!(
                            "{:?} after its closing `]`",
                            char::from(*c)
                        )));
                    }
                    let k = b.len();
                    r.consume(k);
                }
                break;
            }
        }
    } else if first.is_some() {
        loop {
            buf.clear();
            let at = offset;
            match lines::read_line(r, &mut buf, MAX_LINE) {
                Ok(End::Eof) if buf.is_empty() => break,
                Ok(_) => {}
                Err(None) => {
                    stopped(
                        &mut src,
                        format!("line {line}"),
                        line,
                        Stop::too_long_reason("a task"),
                    );
                    break;
                }
                Err(Some(e)) => return Err(io(e)),
            }
            offset += buf.len() as u64;
            utf8(&buf, at)?;
            let l = buf.trim_ascii();
            let l = l.strip_suffix(b",").unwrap_or(l).trim_ascii_end();
            if !l.is_empty() {
                match serde_json::from_slice::<Value>(l) {
                    Ok(v) => add(line, v, &mut src),
                    Err(e) => src.rejected.push(Rejection {
                        origin: format!("line {line}"),
                        line,
                        reason: format!("is not JSON ({e}): expected one task object per line"),
                    }),
                }
            }
            line += 1;
            if src.rejected.len() >= MAX_REJECTED {
                stopped(
                    &mut src,
                    format!("line {line}"),
                    line,
                    format!("not read: {MAX_REJECTED} lines were rejected before it, so the input was not read further"),
                );
                break;
            }
        }
    }
    Ok((tasks, src))
}

/// Appends the next element of a JSON array to `buf` (without the `,` or
/// `]` after it) and says which of the two ended it; `None` at the end of
/// the input. Strings and nesting are followed, nothing else is checked
/// (serde_json reads the element). More than `max` bytes: `Err(None)`,
/// the rest not read.
fn element(
    r: &mut dyn BufRead,
    buf: &mut Vec<u8>,
    max: usize,
) -> Result<Option<u8>, Option<io::Error>> {
    let (mut in_str, mut esc, mut depth) = (false, false, 0usize);
    loop {
        let avail = match r.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Some(e)),
        };
        if avail.is_empty() {
            return Ok(None);
        }
        let mut end = None;
        for (i, &b) in avail.iter().enumerate() {
            if in_str {
                if esc {
                    esc = false;
                } else if b == b'\\' {
                    esc = true;
                } else if b == b'"' {
                    in_str = false;
                }
                continue;
            }
            match b {
                b'"' => in_str = true,
                b'{' | b'[' => depth += 1,
                b'}' | b']' if depth > 0 => depth -= 1,
                b']' | b',' if depth == 0 => {
                    end = Some((i, b));
                    break;
                }
                _ => {}
            }
        }
        let take = end.map_or(avail.len(), |(i, _)| i);
        if buf.len() + take > max {
            return Err(None);
        }
        buf.extend_from_slice(&avail[..take]);
        match end {
            Some((i, b)) => {
                r.consume(i + 1);
                return Ok(Some(b));
            }
            None => {
                let k = avail.len();
                r.consume(k);
            }
        }
    }
}

fn task(index: usize, v: &Value, src: &mut Source) -> Result<Task, String> {
    let Value::Object(m) = v else {
        return Err(format!(
            "is a JSON {}, not a task object",
            super::jsonl::json_type(v)
        ));
    };
    for k in m.keys() {
        if !MAPPED.contains(&k.as_str()) {
            *src.ignored_attributes.entry(k.clone()).or_insert(0) += 1;
        }
    }
    let s = |k: &str| -> Result<Option<String>, String> {
        match m.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(format!("{k:?} is {other}: expected a string")),
        }
    };
    let required = |k: &str| -> Result<String, String> {
        s(k)?.ok_or_else(|| format!("has no {k:?}: expected every task to have one"))
    };
    let time = |k: &str| -> Result<Option<Timestamp>, String> {
        match s(k)? {
            None => Ok(None),
            Some(t) => tw_time(&t).map(Some).ok_or_else(|| {
                format!("{k:?} is {t:?}: expected a Taskwarrior date like 20261120T100000Z")
            }),
        }
    };
    let uuid = required("uuid")?;
    let description = required("description")?;
    let status = required("status")?;
    let entry = time("entry")?
        .ok_or_else(|| "has no \"entry\": expected every task to have one".to_string())?;
    let mut annotations = Vec::new();
    match m.get("annotations") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for a in items {
                let at = a.get("entry").and_then(Value::as_str).and_then(tw_time);
                let text = a.get("description").and_then(Value::as_str);
                match (at, text) {
                    (Some(at), Some(text)) if !text.trim().is_empty() => {
                        annotations.push((at, text.trim().to_string()))
                    }
                    _ => {
                        return Err(format!(
                            "annotation {a} is not {{\"entry\": <date>, \"description\": <text>}}"
                        ))
                    }
                }
            }
        }
        Some(other) => {
            return Err(format!(
                "\"annotations\" is {other}: expected a list of annotations"
            ))
        }
    }
    Ok(Task {
        index,
        uuid,
        description: description.trim().to_string(),
        status,
        project: s("project")?.filter(|p| !p.trim().is_empty()),
        due: time("due")?,
        entry,
        end: time("end")?,
        annotations,
    })
}

/// Taskwarrior's `20261120T100000Z` (UTC), or RFC 3339.
pub(crate) fn tw_time(s: &str) -> Option<Timestamp> {
    if let Some(t) = crate::events::json::parse_rfc3339(s) {
        return Some(t);
    }
    let body = s.strip_suffix('Z')?;
    NaiveDateTime::parse_from_str(body, "%Y%m%dT%H%M%S")
        .ok()
        .map(|n| Timestamp(n.and_utc().timestamp_micros()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert_eq!(slug("Big.Co"), "big-co");
        assert_eq!(slug("acme"), "acme");
        assert_eq!(slug("  Home / Garden  "), "home-garden");
        assert_eq!(slug("!!!"), "");
        assert_eq!(slug("_x"), "x");
        assert_eq!(slug(&"ab".repeat(40)).len(), 32);
        assert_eq!(slug("Ünïcode"), "ünïcode");
        assert_eq!(slug("주식회사 에이투지"), "주식회사-에이투지");
        // decomposed (NFD) input gives the composed handle
        assert_eq!(slug("Cafe\u{301}"), "café");
    }

    #[test]
    fn taskwarrior_times() {
        assert_eq!(
            tw_time("20200105T000000Z").map(|t| t.to_rfc3339()),
            Some("2020-01-05T00:00:00Z".into())
        );
        assert!(tw_time("2020-01-05").is_none());
        assert!(tw_time("20200105T000000").is_none());
    }
}
