//! The recording rules, stated once. Every event that enters a journal —
//! from a recording command, the library's [`Journal::record`] or an
//! import — is checked here, against a read-only [`View`] of what the
//! journal already holds. The state projection is one view (what a replay
//! gives); the import's incremental `Check` is another (what it keeps to
//! answer in linear time through retractions).
//!
//! A refusal is a typed [`RuleError`] carrying the values involved. The
//! words differ only where the input differs (a flag such as `--due` on
//! the command line, a key of a JSON line in an import): [`RuleError::render`]
//! takes a [`Wording`] saying which.
//!
//! [`Journal::record`]: crate::app::journal::Journal::record

use std::fmt;

use crate::events::{Envelope, Event, Fit, PromiseId, Seq, Timestamp};
use crate::projections::state::{PromiseStatus, State};

/// A client as the rules see it.
#[derive(Debug, Clone, Copy)]
pub struct ClientView<'a> {
    pub name: &'a str,
    pub fit: Fit,
    pub added_at: Timestamp,
    pub added_seq: Seq,
    /// Since when the client is lost, if it is.
    pub lost: Option<Timestamp>,
}

/// A promise as the rules see it.
#[derive(Debug, Clone, Copy)]
pub struct PromiseView<'a> {
    pub client: &'a str,
    pub what: &'a str,
    pub made_at: Timestamp,
    /// Its current due.
    pub due: Timestamp,
    pub status: PromiseStatus,
    /// When it was closed (kept, broken, released), and by which seq when
    /// the view knows it.
    pub closed: Option<Timestamp>,
    pub closed_seq: Option<Seq>,
}

/// What the rules read of a journal. Retracted events must already be left
/// out, as a replay leaves them out.
pub trait View {
    /// A client (not retracted).
    fn client(&self, handle: &str) -> Option<ClientView<'_>>;
    /// A promise, open or closed (not retracted).
    fn promise(&self, id: PromiseId) -> Option<PromiseView<'_>>;
    /// Highest promise id ever handed out, retracted ones included.
    fn max_promise_id(&self) -> PromiseId;
    /// The last event's seq (0 when there is none).
    fn last_seq(&self) -> Seq;
    /// The kind of the event at `seq` (`EVENT_KINDS`), if there is one.
    fn kind_at(&self, seq: Seq) -> Option<&'static str>;
    /// The retraction that retracted `seq`, if any.
    fn retracted_by(&self, seq: Seq) -> Option<Seq>;
    /// The open promises of the client whose `ClientAdded` is at `seq`, in
    /// id order.
    fn open_promises_of_added(&self, seq: Seq) -> Vec<PromiseId>;

    /// The id the next `PromiseMade` gets.
    fn next_promise_id(&self) -> PromiseId {
        self.max_promise_id() + 1
    }
}

impl View for State {
    fn client(&self, handle: &str) -> Option<ClientView<'_>> {
        self.clients.get(handle).map(|c| ClientView {
            name: &c.name,
            fit: c.fit,
            added_at: c.added_at,
            added_seq: c.added_seq,
            lost: c.lost.as_ref().map(|l| l.0),
        })
    }
    fn promise(&self, id: PromiseId) -> Option<PromiseView<'_>> {
        State::promise(self, id).map(|p| PromiseView {
            client: &p.client,
            what: &p.what,
            made_at: p.made_at,
            due: p.due.at,
            status: p.status,
            closed: p.closed.map(|c| c.0),
            closed_seq: p.closed.map(|c| c.1),
        })
    }
    fn max_promise_id(&self) -> PromiseId {
        self.max_promise_id
    }
    fn last_seq(&self) -> Seq {
        self.last_seq
    }
    fn kind_at(&self, seq: Seq) -> Option<&'static str> {
        State::kind_at(self, seq)
    }
    fn retracted_by(&self, seq: Seq) -> Option<Seq> {
        State::retracted_by(self, seq)
    }
    fn open_promises_of_added(&self, seq: Seq) -> Vec<PromiseId> {
        let mut ids: Vec<PromiseId> = self
            .promises
            .values()
            .filter(|p| p.status == PromiseStatus::Open)
            .filter(|p| self.added_seq(&p.client) == Some(seq))
            .map(|p| p.id)
            .collect();
        ids.sort_unstable();
        ids
    }
}

/// A text field that must not be blank.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Name,
    Expectation,
    Mismatch,
    What,
    Reason,
}

/// What the command line can say about an unknown client, from the whole
/// state (the rules themselves only say it is unknown).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hint {
    DidYouMean(String),
    NoClientsYet,
    /// Up to ten known handles, and whether there are more.
    Known(Vec<String>, bool),
}

/// Why an event is refused. Times are kept as timestamps; the rendering
/// decides how to print them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleError {
    EmptyAuthor,
    OccurredAfterRecorded {
        occurred: Timestamp,
        recorded: Timestamp,
    },
    RecordedAfterNow {
        recorded: Timestamp,
        now: Timestamp,
    },
    /// Issue 15.2: a clock pinned back would write a `recorded_at` before
    /// one already in the journal (and so could hide a backdated keep).
    RecordedBeforeLatest {
        recorded: Timestamp,
        latest: Timestamp,
    },
    BadHandle(String),
    Empty(Field),
    MoodOutOfRange(i64),
    MinutesNegative(i64),
    MinutesOverADay(i64),
    HandleTaken {
        handle: String,
        name: String,
        added_at: Timestamp,
        lost: bool,
    },
    UnknownClient {
        handle: String,
        hint: Option<Hint>,
    },
    FitUnchanged {
        client: String,
        fit: Fit,
    },
    AlreadyLost {
        client: String,
        since: Timestamp,
    },
    NotLost {
        client: String,
    },
    PromiseToLostClient {
        client: String,
        since: Timestamp,
    },
    DueBeforeMade {
        due: Timestamp,
        made: Timestamp,
    },
    UnknownPromise {
        id: PromiseId,
        max: PromiseId,
    },
    /// Import only: the line's `client` is not the promise's.
    NotThePromisesClient {
        given: String,
        id: PromiseId,
        client: String,
    },
    PromiseNotOpen {
        id: PromiseId,
        what: String,
        client: String,
        status: PromiseStatus,
        closed: Option<Timestamp>,
        closed_seq: Option<Seq>,
    },
    SameDue {
        id: PromiseId,
        due: Timestamp,
    },
    NewDueBeforeMade {
        id: PromiseId,
        due: Timestamp,
        made: Timestamp,
    },
    /// A move or close whose `occurred_at` is before the promise was made;
    /// `keep`: it is a delivery.
    BeforeMade {
        id: PromiseId,
        at: Timestamp,
        made: Timestamp,
        keep: bool,
    },
    NoSuchEvent {
        seq: Seq,
        last_seq: Seq,
    },
    RetractRetraction {
        seq: Seq,
    },
    AlreadyRetracted {
        seq: Seq,
        kind: &'static str,
        by: Seq,
    },
    ClientHasOpenPromises {
        seq: Seq,
        open: Vec<PromiseId>,
    },
}

/// Where the refused input came from, for the words of the message.
#[derive(Debug, Clone, Copy)]
pub enum Wording<'a> {
    /// A recording command; `at` and `due` are what the user typed.
    Command {
        at: Option<&'a str>,
        due: Option<&'a str>,
    },
    /// A line of an import; `promise` and `seq` are the ids the file
    /// wrote (not yet this journal's).
    Import { promise: PromiseId, seq: Seq },
}

// ---------------------------------------------------------------------------
// The rules

/// Handles are what users type: keep them short and shell-safe.
pub fn handle(h: &str) -> Result<(), RuleError> {
    // Unicode letters and digits (issue 12.5: `에이투지`, `société`), in NFC
    // so that one handle has one spelling: the command line normalises
    // what users type (`normalize_handle`); an imported event is kept
    // byte for byte, so one not in NFC is refused rather than changed.
    let mut chars = h.chars();
    let first_ok = chars.next().is_some_and(handle_letter);
    let ok_chars = h.chars().all(|c| {
        handle_letter(c)
            || c == '-'
            || c == '_'
            || unicode_normalization::char::is_combining_mark(c)
    });
    let len = h.chars().count();
    if len == 0 || len > 32 || !ok_chars || !first_ok || !unicode_normalization::is_nfc(h) {
        return Err(RuleError::BadHandle(h.to_string()));
    }
    Ok(())
}

/// A letter or digit of a handle: alphanumeric in any script, and not an
/// upper-case letter (handles are lower case where the script has case).
fn handle_letter(c: char) -> bool {
    c.is_alphanumeric() && !c.is_uppercase()
}

/// What a user typed as a handle, in the form handles are kept in (NFC):
/// the same word typed composed or decomposed is the same handle.
pub fn normalize_handle(h: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    if unicode_normalization::is_nfc_quick(h.chars()) == unicode_normalization::IsNormalized::Yes {
        h.to_string()
    } else {
        h.nfc().collect()
    }
}

/// A mood from −2 (very bad) to 2 (very good).
pub fn mood(m: i64) -> Result<i8, RuleError> {
    if !(-2..=2).contains(&m) {
        return Err(RuleError::MoodOutOfRange(m));
    }
    Ok(m as i8)
}

/// The length of one interaction: 0 to a day.
pub fn minutes(m: i64) -> Result<u32, RuleError> {
    if m < 0 {
        return Err(RuleError::MinutesNegative(m));
    }
    if m > 24 * 60 {
        return Err(RuleError::MinutesOverADay(m));
    }
    Ok(m as u32)
}

fn nonempty(field: Field, v: &str) -> Result<(), RuleError> {
    if v.trim().is_empty() {
        return Err(RuleError::Empty(field));
    }
    Ok(())
}

/// The rules an event obeys by itself, whatever the journal holds: handle
/// syntax, blank texts, ranges.
pub fn fields(event: &Event) -> Result<(), RuleError> {
    match event {
        Event::ClientAdded {
            handle: h, name, ..
        } => {
            handle(h)?;
            nonempty(Field::Name, name)
        }
        Event::ExpectationNoted { text, .. } => nonempty(Field::Expectation, text),
        Event::MismatchNoted { text, .. } => nonempty(Field::Mismatch, text),
        Event::Interacted {
            mood: m,
            minutes: n,
            ..
        } => {
            mood(i64::from(*m))?;
            n.map(|n| minutes(i64::from(n))).transpose().map(|_| ())
        }
        Event::PromiseMade { what, .. } => nonempty(Field::What, what),
        Event::PromiseBroken { reason, .. }
        | Event::PromiseReleased { reason, .. }
        | Event::ClientLost { reason, .. }
        | Event::Retracted { reason, .. } => nonempty(Field::Reason, reason),
        _ => Ok(()),
    }
}

/// The envelope's times and author: `now` is the writer's clock; `latest`
/// the latest `recorded_at` already in the journal, when the rule that
/// records follow each other in time applies (a recording does; an import
/// does not: see `app::import`).
pub fn times(env: &Envelope, now: Timestamp, latest: Option<Timestamp>) -> Result<(), RuleError> {
    if env.author.trim().is_empty() {
        return Err(RuleError::EmptyAuthor);
    }
    if env.occurred_at > env.recorded_at {
        return Err(RuleError::OccurredAfterRecorded {
            occurred: env.occurred_at,
            recorded: env.recorded_at,
        });
    }
    if env.recorded_at > now {
        return Err(RuleError::RecordedAfterNow {
            recorded: env.recorded_at,
            now,
        });
    }
    if let Some(latest) = latest.filter(|l| env.recorded_at < *l) {
        return Err(RuleError::RecordedBeforeLatest {
            recorded: env.recorded_at,
            latest,
        });
    }
    Ok(())
}

fn client<'v, V: View + ?Sized>(v: &'v V, h: &str) -> Result<ClientView<'v>, RuleError> {
    // Not checked: `occurred_at` before the client was added. People add a
    // client after the first call and then record that call with `--at`.
    v.client(h).ok_or_else(|| RuleError::UnknownClient {
        handle: h.to_string(),
        hint: None,
    })
}

fn open_promise<'v, V: View + ?Sized>(
    v: &'v V,
    id: PromiseId,
    client_hint: Option<&str>,
) -> Result<PromiseView<'v>, RuleError> {
    let p = v.promise(id).ok_or(RuleError::UnknownPromise {
        id,
        max: v.max_promise_id(),
    })?;
    if let Some(h) = client_hint.filter(|h| *h != p.client) {
        return Err(RuleError::NotThePromisesClient {
            given: h.to_string(),
            id,
            client: p.client.to_string(),
        });
    }
    if p.status != PromiseStatus::Open {
        return Err(RuleError::PromiseNotOpen {
            id,
            what: p.what.to_string(),
            client: p.client.to_string(),
            status: p.status,
            closed: p.closed,
            closed_seq: p.closed_seq,
        });
    }
    Ok(p)
}

fn not_before_made(
    id: PromiseId,
    at: Timestamp,
    p: &PromiseView<'_>,
    keep: bool,
) -> Result<(), RuleError> {
    if at < p.made_at {
        return Err(RuleError::BeforeMade {
            id,
            at,
            made: p.made_at,
            keep,
        });
    }
    Ok(())
}

/// The rules an event obeys given what the journal holds: known clients
/// and open promises, changes that change something, retractions of
/// events that can be retracted. `client_hint`: a `client` an import line
/// gives beside a promise id, which must be the promise's.
pub fn against<V: View + ?Sized>(
    v: &V,
    event: &Event,
    occurred_at: Timestamp,
    client_hint: Option<&str>,
) -> Result<(), RuleError> {
    match event {
        Event::ClientAdded { handle, .. } => {
            if let Some(c) = v.client(handle) {
                return Err(RuleError::HandleTaken {
                    handle: handle.clone(),
                    name: c.name.to_string(),
                    added_at: c.added_at,
                    lost: c.lost.is_some(),
                });
            }
        }
        Event::FitChanged { client: h, fit, .. } => {
            if client(v, h)?.fit == *fit {
                return Err(RuleError::FitUnchanged {
                    client: h.clone(),
                    fit: *fit,
                });
            }
        }
        Event::ExpectationNoted { client: h, .. }
        | Event::MismatchNoted { client: h, .. }
        | Event::Interacted { client: h, .. }
        | Event::Advocated { client: h, .. } => {
            client(v, h)?;
        }
        Event::ClientLost { client: h, .. } => {
            if let Some(since) = client(v, h)?.lost {
                return Err(RuleError::AlreadyLost {
                    client: h.clone(),
                    since,
                });
            }
        }
        Event::ClientReturned { client: h, .. } => {
            if client(v, h)?.lost.is_none() {
                return Err(RuleError::NotLost { client: h.clone() });
            }
        }
        Event::PromiseMade { client: h, due, .. } => {
            if let Some(since) = client(v, h)?.lost {
                return Err(RuleError::PromiseToLostClient {
                    client: h.clone(),
                    since,
                });
            }
            if due.at < occurred_at {
                return Err(RuleError::DueBeforeMade {
                    due: due.at,
                    made: occurred_at,
                });
            }
        }
        Event::PromiseMoved { promise, due, .. } => {
            let p = open_promise(v, *promise, client_hint)?;
            if p.due == due.at {
                return Err(RuleError::SameDue {
                    id: *promise,
                    due: p.due,
                });
            }
            if due.at < p.made_at {
                return Err(RuleError::NewDueBeforeMade {
                    id: *promise,
                    due: due.at,
                    made: p.made_at,
                });
            }
            not_before_made(*promise, occurred_at, &p, false)?;
        }
        Event::PromiseKept { promise, .. } => {
            let p = open_promise(v, *promise, client_hint)?;
            not_before_made(*promise, occurred_at, &p, true)?;
        }
        Event::PromiseBroken { promise, .. } | Event::PromiseReleased { promise, .. } => {
            let p = open_promise(v, *promise, client_hint)?;
            not_before_made(*promise, occurred_at, &p, false)?;
        }
        Event::Retracted { seq, .. } => {
            let kind = v.kind_at(*seq).ok_or(RuleError::NoSuchEvent {
                seq: *seq,
                last_seq: v.last_seq(),
            })?;
            if kind == "Retracted" {
                return Err(RuleError::RetractRetraction { seq: *seq });
            }
            if kind == "ClientAdded" {
                let open = v.open_promises_of_added(*seq);
                if !open.is_empty() {
                    return Err(RuleError::ClientHasOpenPromises { seq: *seq, open });
                }
            }
            if let Some(by) = v.retracted_by(*seq) {
                return Err(RuleError::AlreadyRetracted {
                    seq: *seq,
                    kind,
                    by,
                });
            }
        }
        Event::PromiseDelivered { promise, .. } => {
            let p = open_promise(v, *promise, client_hint)?;
            not_before_made(*promise, occurred_at, &p, false)?;
        }
        Event::CadenceSet { client: h, .. } => {
            client(v, h)?;
        }
        Event::ClientRenamed {
            client: h, handle, ..
        } => {
            client(v, h)?;
            if handle != h {
                if let Some(c) = v.client(handle) {
                    return Err(RuleError::HandleTaken {
                        handle: handle.clone(),
                        name: c.name.to_string(),
                        added_at: c.added_at,
                        lost: c.lost.is_some(),
                    });
                }
            }
        }
        Event::Amended { seq, .. } => {
            v.kind_at(*seq).ok_or(RuleError::NoSuchEvent {
                seq: *seq,
                last_seq: v.last_seq(),
            })?;
        }
    }
    Ok(())
}

/// Every rule, in the order an import applies them: the envelope, the
/// event by itself, the event against the journal.
pub fn check<V: View + ?Sized>(
    v: &V,
    env: &Envelope,
    now: Timestamp,
    latest: Option<Timestamp>,
    client_hint: Option<&str>,
) -> Result<(), RuleError> {
    times(env, now, latest)?;
    fields(&env.event)?;
    against(v, &env.event, env.occurred_at, client_hint)
}

/// The hint for an unknown `handle`: the nearest known handle, or what
/// the known ones are.
pub fn hint(state: &State, handle: &str) -> Hint {
    if let Some(best) = closest(handle, state.clients.keys()) {
        return Hint::DidYouMean(best.to_string());
    }
    if state.clients.is_empty() {
        return Hint::NoClientsYet;
    }
    let known: Vec<String> = state.clients.keys().take(10).map(str::to_string).collect();
    let more = state.clients.len() > known.len();
    Hint::Known(known, more)
}

/// The known handle nearest to `h` (edit distance ≤ 2, or a prefix).
fn closest<'a>(h: &str, known: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    known
        .map(|k| {
            let d = if k.starts_with(h) || h.starts_with(k) {
                1
            } else {
                edit_distance(h, k)
            };
            (d, k)
        })
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

// ---------------------------------------------------------------------------
// The words

fn local(t: Timestamp) -> String {
    t.to_local_string()
}

impl RuleError {
    /// The message, in the words of where the input came from.
    pub fn render(&self, w: Wording<'_>) -> String {
        use RuleError as E;
        let cmd = matches!(w, Wording::Command { .. });
        let (src_promise, src_seq) = match w {
            Wording::Import { promise, seq } => (promise, seq),
            Wording::Command { .. } => (0, 0),
        };
        match self {
            E::EmptyAuthor => "\"author\" is empty: expected who recorded the event".into(),
            E::OccurredAfterRecorded { occurred, recorded } => match w {
                Wording::Command { at, .. } => format!(
                    "--at {:?} is {}, after now ({}): events record what already happened",
                    at.unwrap_or_default(),
                    local(*occurred),
                    local(*recorded)
                ),
                Wording::Import { .. } => format!(
                    "occurred_at {occurred} is after recorded_at {recorded}: an event is recorded when or after it happens"
                ),
            },
            E::RecordedAfterNow { recorded, now } => format!(
                "recorded_at {recorded} is after now ({now}): expected events already recorded"
            ),
            E::RecordedBeforeLatest { recorded, latest } => format!(
                "now ({}) is before {}, when the journal's latest record was written: \
                 a record would go back in time (a clock pinned back with --now / $TRUSTLOG_NOW \
                 would hide a backdated keep); expected a time at or after it",
                local(*recorded),
                local(*latest)
            ),
            E::BadHandle(h) if !unicode_normalization::is_nfc(h) && !h.is_empty() => format!(
                "invalid handle {h:?}: not in Unicode NFC (composed) form; expected it composed, \
                 as {:?}",
                normalize_handle(h)
            ),
            E::BadHandle(h) => {
                let base = format!(
                    "invalid handle {h:?}: expected 1 to 32 lowercase letters (of any script), digits, '-' or '_', \
                     starting with a letter or digit"
                );
                if cmd {
                    format!("{base} (e.g. acme, big-co)")
                } else {
                    base
                }
            }
            E::Empty(f) => {
                let name = match (f, cmd) {
                    (Field::Name, true) => "--name",
                    (Field::Expectation, true) => "the expectation",
                    (Field::Mismatch, true) => "the mismatch",
                    (Field::What, true) => "what was promised",
                    (Field::Reason, true) => "--reason",
                    (Field::Name, false) => "\"name\"",
                    (Field::Expectation | Field::Mismatch, false) => "\"text\"",
                    (Field::What, false) => "\"what\"",
                    (Field::Reason, false) => "\"reason\"",
                };
                format!("{name} is empty: expected some text")
            }
            E::MoodOutOfRange(m) => format!(
                "{}mood {m} is out of range: expected -2 (very bad) to 2 (very good)",
                if cmd { "--" } else { "" }
            ),
            E::MinutesNegative(m) => format!(
                "{}minutes {m} is negative: expected 0 or more",
                if cmd { "--" } else { "" }
            ),
            E::MinutesOverADay(m) => format!(
                "{}minutes {m} is more than a day: expected at most 1440 for one interaction",
                if cmd { "--" } else { "" }
            ),
            E::HandleTaken {
                handle,
                name,
                added_at,
                lost,
            } => {
                if cmd {
                    let lost = if *lost {
                        " (lost: record its return with `trustlog client back`)"
                    } else {
                        ""
                    };
                    format!(
                        "handle {handle:?} is already taken by {name:?}{lost}; choose another handle"
                    )
                } else {
                    format!(
                        "client {handle:?} already exists in the journal (as {name:?}, added {}); a handle names one client",
                        local(*added_at)
                    )
                }
            }
            E::UnknownClient { handle, hint } => {
                // `talk "" hi`: a suggestion for "" would be any handle.
                if handle.is_empty() {
                    return "the handle is empty: expected the handle of a client \
                            (as given to `client add`)"
                        .to_string();
                }
                if !cmd {
                    return format!(
                        "unknown client {handle:?}: neither the journal nor an earlier line adds it"
                    );
                }
                let mut msg = format!("unknown client {handle:?}");
                match hint {
                    Some(Hint::DidYouMean(best)) => {
                        msg.push_str(&format!(": did you mean {best:?}?"))
                    }
                    Some(Hint::NoClientsYet) => msg.push_str(
                        ": the journal has no clients yet; add one with `trustlog client add`",
                    ),
                    Some(Hint::Known(known, more)) => msg.push_str(&format!(
                        ": known clients are {}{}",
                        known.join(", "),
                        if *more { ", …" } else { "" }
                    )),
                    None => {}
                }
                msg
            }
            E::FitUnchanged { client, fit } => {
                if cmd {
                    format!("{client} is already {fit}")
                } else {
                    format!("{client} is already {fit}: expected a change of fit")
                }
            }
            E::AlreadyLost { client, since } => {
                format!("{client} is already lost (since {})", local(*since))
            }
            E::NotLost { client } => {
                if cmd {
                    format!("{client} is not lost: `client back` records the return of a lost client")
                } else {
                    format!("{client} is not lost: ClientReturned records the return of a lost client")
                }
            }
            E::PromiseToLostClient { client, since } => {
                if cmd {
                    format!(
                        "{client} was lost on {}: record `trustlog client back {client}` before promising anything",
                        local(*since)
                    )
                } else {
                    format!(
                        "{client} was lost on {}: a promise to a lost client needs a ClientReturned first",
                        local(*since)
                    )
                }
            }
            E::DueBeforeMade { due, made } => match w {
                Wording::Command { due: input, .. } => format!(
                    "--due {:?} ({}) is before the promise is made ({})",
                    input.unwrap_or_default(),
                    local(*due),
                    local(*made)
                ),
                Wording::Import { .. } => {
                    format!("due {due} is before the promise was made ({made})")
                }
            },
            E::UnknownPromise { id, max } => {
                if !cmd {
                    format!("promise {src_promise} does not exist (or was retracted)")
                } else if (1..=*max).contains(id) {
                    format!("promise {id} was retracted: it no longer counts")
                } else if *max == 0 {
                    format!(
                        "unknown promise {id}: no promises have been made yet (`trustlog promise make`)"
                    )
                } else {
                    format!("unknown promise {id}: promise ids go from 1 to {max}")
                }
            }
            E::NotThePromisesClient { given, client, .. } => format!(
                "\"client\" is {given:?} but promise {src_promise} is {client:?}'s: expected the promise's client"
            ),
            E::PromiseNotOpen {
                id,
                what,
                client,
                status,
                closed,
                closed_seq,
            } => {
                let (id, when) = if cmd {
                    let when = closed
                        .map(|t| {
                            let seq = closed_seq.map(|s| format!(" (#{s})")).unwrap_or_default();
                            format!(" on {}{seq}", local(t))
                        })
                        .unwrap_or_default();
                    (*id, when)
                } else {
                    let when = closed
                        .map(|t| format!(" on {}", local(t)))
                        .unwrap_or_default();
                    (src_promise, when)
                };
                format!(
                    "promise {id} ({what:?} for {client}) is not open: it was {}{when}",
                    status.as_str()
                )
            }
            E::SameDue { id, due } => {
                let (id, due) = if cmd {
                    (*id, local(*due))
                } else {
                    (src_promise, due.to_string())
                };
                format!("promise {id} is already due {due}: a move needs a different due")
            }
            E::NewDueBeforeMade { id, due, made } => {
                if cmd {
                    format!(
                        "the new due ({}) is before promise {id} was made ({})",
                        local(*due),
                        local(*made)
                    )
                } else {
                    format!(
                        "the new due {due} is before promise {src_promise} was made ({made})"
                    )
                }
            }
            E::BeforeMade { id, at, made, keep } => {
                if cmd {
                    let what = if *keep { "the delivery (--at)" } else { "--at" };
                    format!(
                        "{what} ({}) is before promise {id} was made ({})",
                        local(*at),
                        local(*made)
                    )
                } else {
                    format!("occurred_at {at} is before promise {src_promise} was made ({made})")
                }
            }
            E::NoSuchEvent { seq, last_seq } => {
                if !cmd {
                    format!("retracts seq {src_seq}, which is not in the journal")
                } else if *last_seq == 0 {
                    format!("no event #{seq} to retract: the journal has no events yet")
                } else {
                    format!(
                        "no event #{seq} to retract: the journal's events go from #1 to #{last_seq}"
                    )
                }
            }
            E::RetractRetraction { seq } => {
                if cmd {
                    format!(
                        "event #{seq} is itself a retraction and cannot be retracted; record the event again instead"
                    )
                } else {
                    format!(
                        "retracts seq {src_seq}, itself a retraction: a retraction cannot be retracted"
                    )
                }
            }
            E::AlreadyRetracted { seq, kind, by } => {
                if cmd {
                    format!("event #{seq} ({kind}) is already retracted, by #{by}")
                } else {
                    format!(
                        "retracts seq {src_seq} ({kind}), which is already retracted (by #{by} in the journal)"
                    )
                }
            }
            E::ClientHasOpenPromises { seq, open } => {
                let open: Vec<String> = open.iter().map(PromiseId::to_string).collect();
                if cmd {
                    format!(
                        "event #{seq} added a client who still has open promises ({}): \
                         break, release or retract them first",
                        open.join(", ")
                    )
                } else {
                    format!(
                        "retracts seq {src_seq}, which added a client who still has open promises (journal ids {})",
                        open.join(", ")
                    )
                }
            }
        }
    }
}

/// In the words of a recording made through the library (those of the
/// command line, without the text the user typed).
impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(Wording::Command {
            at: None,
            due: None,
        }))
    }
}

impl std::error::Error for RuleError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_handle_suggestion() {
        let known = ["acme", "globex", "initech"];
        assert_eq!(closest("acne", known.iter().copied()), Some("acme"));
        assert_eq!(closest("glob", known.iter().copied()), Some("globex"));
        assert_eq!(closest("zzzzzz", known.iter().copied()), None);
    }

    #[test]
    fn handle_syntax() {
        for ok in ["acme", "big-co", "a1_b", "9lives"] {
            assert!(handle(ok).is_ok(), "{ok}");
        }
        for bad in ["", "Acme", "-x", "a b", "a/b", &"x".repeat(33)] {
            assert!(handle(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_record_before_the_latest_is_refused_naming_both_times() {
        let env = Envelope {
            seq: 2,
            recorded_at: Timestamp(1_000),
            occurred_at: Timestamp(1_000),
            author: "ana".into(),
            event: Event::PromiseKept {
                promise: 1,
                note: String::new(),
            },
        };
        assert_eq!(
            times(&env, Timestamp(1_000), Some(Timestamp(1_000))),
            Ok(())
        );
        let e = times(&env, Timestamp(1_000), Some(Timestamp(2_000)));
        assert_eq!(
            e,
            Err(RuleError::RecordedBeforeLatest {
                recorded: Timestamp(1_000),
                latest: Timestamp(2_000)
            })
        );
        // No latest (an import): accepted.
        assert_eq!(times(&env, Timestamp(1_000), None), Ok(()));
    }
}
