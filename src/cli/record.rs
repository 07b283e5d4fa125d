//! The recording commands: each validates its input against the current
//! state (a replay of the journal), builds one event and appends it. On any
//! error nothing is written: validation happens before the append, and the
//! append is acknowledged only after it is durable.

use clap::Args;

use super::context::Ctx;
use super::error::{invalid, CliError};
use super::output;
use crate::app::checkpoint::{self, Folded, Needs, Subset};
use crate::events::{
    codec, AdvocacyKind, Cause, Due, Envelope, Event, Fit, InteractionKind, Party, PromiseId, Seq,
    Timestamp,
};
use crate::log::{JournalWriter, DEFAULT_LOCK_WAIT};
use crate::projections::state::{PromiseStatus, State};

/// `--at WHEN`, taken by every recording command.
#[derive(Args, Debug, Clone, Default)]
pub struct AtArg {
    /// When it happened (default: now). Same forms as --due.
    #[arg(long, value_name = "WHEN", global = true, allow_hyphen_values = true)]
    pub at: Option<String>,
}

#[derive(Args, Debug)]
pub struct ClientAddArgs {
    /// Short slug: lowercase letters, digits, '-' and '_' (e.g. acme)
    pub handle: String,
    /// Display name (default: the handle)
    #[arg(long)]
    pub name: Option<String>,
    /// target or off-target
    #[arg(long, default_value = "target")]
    pub fit: Fit,
    #[arg(long, default_value = "")]
    pub note: String,
}

#[derive(Args, Debug)]
pub struct ClientFitArgs {
    pub handle: String,
    /// target or off-target
    pub fit: Fit,
    #[arg(long, default_value = "")]
    pub reason: String,
}

#[derive(Args, Debug)]
pub struct ClientTextArgs {
    pub handle: String,
    /// In the client's words
    #[arg(required = true, num_args = 1..)]
    pub text: Vec<String>,
}

#[derive(Args, Debug)]
pub struct ClientLostArgs {
    pub handle: String,
    #[arg(long)]
    pub reason: String,
}

#[derive(Args, Debug)]
pub struct ClientBackArgs {
    pub handle: String,
    #[arg(long, default_value = "")]
    pub note: String,
}

#[derive(Args, Debug)]
pub struct ClientPraiseArgs {
    pub handle: String,
    /// referral, testimonial, upsell or cross-sell
    #[arg(long)]
    pub kind: AdvocacyKind,
    /// We asked for it (default: the client offered it on their own)
    #[arg(long)]
    pub by_us: bool,
    pub text: Vec<String>,
}

#[derive(Args, Debug)]
pub struct TalkArgs {
    pub handle: String,
    /// meeting, call, email, message, visit, delivery or other
    #[arg(long, default_value = "other")]
    pub kind: InteractionKind,
    /// How it went: -2 (very bad) to 2 (very good)
    #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
    pub mood: i64,
    /// How long it lasted
    #[arg(long, allow_negative_numbers = true)]
    pub minutes: Option<i64>,
    /// Who took the initiative: us or client
    #[arg(long = "by", default_value = "us")]
    pub by: Party,
    pub text: Vec<String>,
}

#[derive(Args, Debug)]
pub struct PromiseMakeArgs {
    pub handle: String,
    /// What was promised
    pub what: String,
    /// When it is due (a date means the end of that day)
    #[arg(long, value_name = "WHEN", allow_hyphen_values = true)]
    pub due: String,
}

#[derive(Args, Debug)]
pub struct PromiseMoveArgs {
    pub id: PromiseId,
    /// The new due (a date means the end of that day)
    #[arg(long, value_name = "WHEN", allow_hyphen_values = true)]
    pub due: String,
    /// Who caused the move: us, client or external
    #[arg(long)]
    pub cause: Cause,
    /// The client agreed to the new date
    #[arg(long)]
    pub agreed: bool,
    #[arg(long, default_value = "")]
    pub reason: String,
}

#[derive(Args, Debug)]
pub struct PromiseKeepArgs {
    pub id: PromiseId,
    #[arg(long, default_value = "")]
    pub note: String,
}

#[derive(Args, Debug)]
pub struct PromiseCloseArgs {
    pub id: PromiseId,
    #[arg(long)]
    pub reason: String,
}

#[derive(Args, Debug)]
pub struct RetractArgs {
    /// Sequence number of the event to retract (see `trustlog log`)
    pub seq: Seq,
    #[arg(long)]
    pub reason: String,
}

/// What of the state a recording's validation reads when it accepts.
enum Reads<'a> {
    /// One client (by handle), and the counters.
    Client(&'a str),
    /// One open promise, and the counters.
    Promise(PromiseId),
    /// The whole state: `retract` asks for the kind of any event, and
    /// whether it added a client with open promises.
    All,
}

/// Runs a recording: `build` validates against the state and returns the
/// event and its `occurred_at`. When the journal exists, the lock is taken
/// before the replay, so the validation holds for the append. A journal
/// that does not exist yet is validated against the empty state first and
/// only created when the event is valid.
fn record<F>(ctx: &Ctx, at: &AtArg, reads: Reads<'_>, build: F) -> Result<(), CliError>
where
    F: Fn(&State, Timestamp) -> Result<Event, CliError>,
{
    let now = ctx.now_ts();
    let occurred_at = match &at.at {
        None => now,
        Some(s) => {
            let w = ctx.when("--at", s, false)?;
            if w.at > now {
                return Err(invalid(format!(
                    "--at {s:?} is {}, after now ({}): events record what already happened",
                    w.at.to_local_string(),
                    now.to_local_string()
                )));
            }
            w.at
        }
    };
    // Validate before anything touches the file (not even a header or the
    // cut of a torn tail): under the lock when the journal exists, so the
    // answer still holds at the append. The state comes from the checkpoint
    // plus the events after it (a full replay only without a usable one).
    // From a checkpoint, only the client or promise the command names is
    // read (with the counters: the next promise id), which is all that
    // accepting it needs, at a cost that does not grow with the journal or
    // its clients; what it refuses is checked again against the full state
    // (every client for a suggestion, closed promises, the kind of every
    // event), so that the answer and its message are those of a full
    // replay.
    let params = ctx.trust_params().ok();
    let first = match reads {
        Reads::Client(h) => Needs {
            only: Some(Subset {
                clients: vec![h.to_string()],
                promises: Vec::new(),
            }),
            ..Needs::default()
        },
        Reads::Promise(id) => Needs {
            only: Some(Subset {
                clients: Vec::new(),
                promises: vec![id],
            }),
            ..Needs::default()
        },
        Reads::All => Needs {
            full_state: true,
            ..Needs::default()
        },
    };
    let validated = |path: &std::path::Path| -> Result<(Folded, Event), CliError> {
        let folded = checkpoint::fold(path, None, &first, params.as_ref(), false)?;
        match build(&folded.core.state, occurred_at) {
            Ok(event) => Ok((folded, event)),
            Err(_) if folded.core.state.is_partial() => {
                let needs = Needs {
                    full_state: true,
                    ..Needs::default()
                };
                let folded = checkpoint::fold(path, None, &needs, params.as_ref(), false)?;
                let event = build(&folded.core.state, occurred_at)?;
                Ok((folded, event))
            }
            Err(e) => Err(e),
        }
    };
    let (mut writer, event, mut folded) = if ctx.journal.exists() {
        let locked = JournalWriter::lock(&ctx.journal, DEFAULT_LOCK_WAIT, false)?;
        let (folded, event) = validated(&ctx.journal)?;
        (locked.into_writer(now.0)?, event, folded)
    } else {
        build(&State::new(), occurred_at)?;
        let writer = JournalWriter::open(&ctx.journal, now.0, DEFAULT_LOCK_WAIT)?;
        // Another process may have created it meanwhile: check again.
        let (folded, event) = validated(&ctx.journal)?;
        (writer, event, folded)
    };
    output::say_cut(ctx, &writer.cut);
    let mut env = Envelope {
        seq: writer.last_seq() + 1,
        recorded_at: now,
        occurred_at,
        author: ctx.author.clone(),
        event,
    };
    let payload = codec::encode(&env)?;
    let appended = writer.append(&payload)?;
    env.seq = appended.first_seq;
    output::print_recorded(ctx, &env);
    if folded.worth_saving {
        // The fold read enough of the journal to be worth keeping: save it
        // with the new event, still under the lock (after the answer: the
        // append is acknowledged either way, and a checkpoint is a cache, so
        // failing to write one is not the command's failure).
        let frame = (crate::log::format::FRAME_LEN + payload.len()) as u64;
        folded.push_appended(
            &env.as_ref(),
            appended.end - frame,
            appended.end,
            appended.head,
        );
        if folded.worth_saving {
            let _ = folded.save(&ctx.journal);
        }
    }
    Ok(())
}

fn text(what: &str, parts: &[String]) -> Result<String, CliError> {
    let t = parts.join(" ").trim().to_string();
    if t.is_empty() {
        return Err(invalid(format!("{what} is empty: expected some text")));
    }
    Ok(t)
}

fn required(what: &str, s: &str) -> Result<String, CliError> {
    text(what, &[s.to_string()])
}

/// Handles are what users type: keep them short and shell-safe.
fn check_handle_syntax(h: &str) -> Result<(), CliError> {
    handle_rule(h).map_err(|e| invalid(format!("{e} (e.g. acme, big-co)")))
}

/// The rule for a handle, shared with `import`: what is wrong with `h`.
pub(crate) fn handle_rule(h: &str) -> Result<(), String> {
    let ok_chars = h
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    let first_ok = h
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if h.is_empty() || h.len() > 32 || !ok_chars || !first_ok {
        return Err(format!(
            "invalid handle {h:?}: expected 1 to 32 lowercase letters, digits, '-' or '_', \
             starting with a letter or digit"
        ));
    }
    Ok(())
}

/// The client, which must exist (and not be retracted).
fn client<'s>(
    state: &'s State,
    handle: &str,
) -> Result<&'s crate::projections::state::Client, CliError> {
    let c = state.clients.get(handle).ok_or_else(|| {
        let mut msg = format!("unknown client {handle:?}");
        match closest(handle, state.clients.keys()) {
            Some(best) => msg.push_str(&format!(": did you mean {best:?}?")),
            None if state.clients.is_empty() => {
                msg.push_str(": the journal has no clients yet; add one with `trustlog client add`")
            }
            None => {
                let known: Vec<&str> = state.clients.keys().take(10).collect();
                let more = if state.clients.len() > known.len() {
                    ", …"
                } else {
                    ""
                };
                msg.push_str(&format!(": known clients are {}{more}", known.join(", ")));
            }
        }
        invalid(msg)
    })?;
    // Not checked: `--at` before the client was added. People add a client
    // after the first call and then record that call with `--at`.
    Ok(c)
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

/// The promise, which must still be open.
fn open_promise(
    state: &State,
    id: PromiseId,
) -> Result<&crate::projections::state::Promise, CliError> {
    let p = state.promise(id).ok_or_else(|| {
        if (1..=state.max_promise_id).contains(&id) {
            invalid(format!("promise {id} was retracted: it no longer counts"))
        } else if state.max_promise_id == 0 {
            invalid(format!(
                "unknown promise {id}: no promises have been made yet (`trustlog promise make`)"
            ))
        } else {
            invalid(format!(
                "unknown promise {id}: promise ids go from 1 to {}",
                state.max_promise_id
            ))
        }
    })?;
    if p.status != PromiseStatus::Open {
        let when = p
            .closed
            .map(|(t, seq)| format!(" on {} (#{seq})", t.to_local_string()))
            .unwrap_or_default();
        return Err(invalid(format!(
            "promise {id} ({:?} for {}) is not open: it was {}{when}",
            p.what,
            p.client,
            p.status.as_str()
        )));
    }
    Ok(p)
}

fn not_before(at: Timestamp, made: Timestamp, what: &str, id: PromiseId) -> Result<(), CliError> {
    if at < made {
        return Err(invalid(format!(
            "{what} ({}) is before promise {id} was made ({})",
            at.to_local_string(),
            made.to_local_string()
        )));
    }
    Ok(())
}

pub fn client_add(ctx: &Ctx, at: &AtArg, a: &ClientAddArgs) -> Result<(), CliError> {
    check_handle_syntax(&a.handle)?;
    let name = match &a.name {
        Some(n) => required("--name", n)?,
        None => a.handle.clone(),
    };
    record(ctx, at, Reads::Client(&a.handle), |s, _| {
        if let Some(c) = s.clients.get(&a.handle) {
            let lost = if c.lost.is_some() {
                " (lost: record its return with `trustlog client back`)"
            } else {
                ""
            };
            return Err(invalid(format!(
                "handle {:?} is already taken by {:?}{lost}; choose another handle",
                a.handle, c.name
            )));
        }
        Ok(Event::ClientAdded {
            handle: a.handle.clone(),
            name: name.clone(),
            fit: a.fit,
            note: a.note.trim().to_string(),
        })
    })
}

pub fn client_fit(ctx: &Ctx, at: &AtArg, a: &ClientFitArgs) -> Result<(), CliError> {
    record(ctx, at, Reads::Client(&a.handle), |s, _| {
        let c = client(s, &a.handle)?;
        if c.fit == a.fit {
            return Err(invalid(format!("{} is already {}", a.handle, a.fit)));
        }
        Ok(Event::FitChanged {
            client: a.handle.clone(),
            fit: a.fit,
            reason: a.reason.trim().to_string(),
        })
    })
}

pub fn client_want(ctx: &Ctx, at: &AtArg, a: &ClientTextArgs) -> Result<(), CliError> {
    let t = text("the expectation", &a.text)?;
    record(ctx, at, Reads::Client(&a.handle), |s, _| {
        client(s, &a.handle)?;
        Ok(Event::ExpectationNoted {
            client: a.handle.clone(),
            text: t.clone(),
        })
    })
}

pub fn client_mismatch(ctx: &Ctx, at: &AtArg, a: &ClientTextArgs) -> Result<(), CliError> {
    let t = text("the mismatch", &a.text)?;
    record(ctx, at, Reads::Client(&a.handle), |s, _| {
        client(s, &a.handle)?;
        Ok(Event::MismatchNoted {
            client: a.handle.clone(),
            text: t.clone(),
        })
    })
}

pub fn client_lost(ctx: &Ctx, at: &AtArg, a: &ClientLostArgs) -> Result<(), CliError> {
    let reason = required("--reason", &a.reason)?;
    record(ctx, at, Reads::Client(&a.handle), |s, _| {
        let c = client(s, &a.handle)?;
        if let Some((when, _)) = &c.lost {
            return Err(invalid(format!(
                "{} is already lost (since {})",
                a.handle,
                when.to_local_string()
            )));
        }
        Ok(Event::ClientLost {
            client: a.handle.clone(),
            reason: reason.clone(),
        })
    })
}

pub fn client_back(ctx: &Ctx, at: &AtArg, a: &ClientBackArgs) -> Result<(), CliError> {
    record(ctx, at, Reads::Client(&a.handle), |s, _| {
        let c = client(s, &a.handle)?;
        if c.lost.is_none() {
            return Err(invalid(format!(
                "{} is not lost: `client back` records the return of a lost client",
                a.handle
            )));
        }
        Ok(Event::ClientReturned {
            client: a.handle.clone(),
            note: a.note.trim().to_string(),
        })
    })
}

pub fn client_praise(ctx: &Ctx, at: &AtArg, a: &ClientPraiseArgs) -> Result<(), CliError> {
    let note = a.text.join(" ").trim().to_string();
    record(ctx, at, Reads::Client(&a.handle), |s, _| {
        client(s, &a.handle)?;
        Ok(Event::Advocated {
            client: a.handle.clone(),
            kind: a.kind,
            initiated_by_client: !a.by_us,
            note: note.clone(),
        })
    })
}

pub fn talk(ctx: &Ctx, at: &AtArg, a: &TalkArgs) -> Result<(), CliError> {
    if !(-2..=2).contains(&a.mood) {
        return Err(invalid(format!(
            "--mood {} is out of range: expected -2 (very bad) to 2 (very good)",
            a.mood
        )));
    }
    let minutes = match a.minutes {
        None => None,
        Some(m) if m < 0 => {
            return Err(invalid(format!(
                "--minutes {m} is negative: expected 0 or more"
            )))
        }
        Some(m) if m > 24 * 60 => {
            return Err(invalid(format!(
                "--minutes {m} is more than a day: expected at most 1440 for one interaction"
            )))
        }
        Some(m) => Some(m as u32),
    };
    let note = a.text.join(" ").trim().to_string();
    record(ctx, at, Reads::Client(&a.handle), |s, _| {
        client(s, &a.handle)?;
        Ok(Event::Interacted {
            client: a.handle.clone(),
            kind: a.kind,
            mood: a.mood as i8,
            minutes,
            initiated_by: a.by,
            note: note.clone(),
        })
    })
}

pub fn promise_make(ctx: &Ctx, at: &AtArg, a: &PromiseMakeArgs) -> Result<(), CliError> {
    let what = required("what was promised", &a.what)?;
    let due = ctx.when("--due", &a.due, true)?;
    let due = Due {
        at: due.at,
        date_only: due.date_only,
    };
    record(ctx, at, Reads::Client(&a.handle), |s, made| {
        let c = client(s, &a.handle)?;
        if let Some((when, _)) = &c.lost {
            return Err(invalid(format!(
                "{} was lost on {}: record `trustlog client back {}` before promising anything",
                a.handle,
                when.to_local_string(),
                a.handle
            )));
        }
        if due.at < made {
            return Err(invalid(format!(
                "--due {:?} ({}) is before the promise is made ({})",
                a.due,
                due.at.to_local_string(),
                made.to_local_string()
            )));
        }
        Ok(Event::PromiseMade {
            promise: s.next_promise_id(),
            client: a.handle.clone(),
            what: what.clone(),
            due,
        })
    })
}

pub fn promise_move(ctx: &Ctx, at: &AtArg, a: &PromiseMoveArgs) -> Result<(), CliError> {
    let due = ctx.when("--due", &a.due, true)?;
    let due = Due {
        at: due.at,
        date_only: due.date_only,
    };
    record(ctx, at, Reads::Promise(a.id), |s, moved_at| {
        let p = open_promise(s, a.id)?;
        if p.due.at == due.at {
            return Err(invalid(format!(
                "promise {} is already due {}: a move needs a different due",
                a.id,
                p.due.at.to_local_string()
            )));
        }
        not_before(due.at, p.made_at, "the new due", a.id)?;
        not_before(moved_at, p.made_at, "--at", a.id)?;
        Ok(Event::PromiseMoved {
            promise: a.id,
            due,
            cause: a.cause,
            agreed_by_client: a.agreed,
            reason: a.reason.trim().to_string(),
        })
    })
}

pub fn promise_keep(ctx: &Ctx, at: &AtArg, a: &PromiseKeepArgs) -> Result<(), CliError> {
    record(ctx, at, Reads::Promise(a.id), |s, kept_at| {
        let p = open_promise(s, a.id)?;
        not_before(kept_at, p.made_at, "the delivery (--at)", a.id)?;
        Ok(Event::PromiseKept {
            promise: a.id,
            note: a.note.trim().to_string(),
        })
    })
}

pub fn promise_break(ctx: &Ctx, at: &AtArg, a: &PromiseCloseArgs) -> Result<(), CliError> {
    let reason = required("--reason", &a.reason)?;
    record(ctx, at, Reads::Promise(a.id), |s, when| {
        let p = open_promise(s, a.id)?;
        not_before(when, p.made_at, "--at", a.id)?;
        Ok(Event::PromiseBroken {
            promise: a.id,
            reason: reason.clone(),
        })
    })
}

pub fn promise_release(ctx: &Ctx, at: &AtArg, a: &PromiseCloseArgs) -> Result<(), CliError> {
    let reason = required("--reason", &a.reason)?;
    record(ctx, at, Reads::Promise(a.id), |s, when| {
        let p = open_promise(s, a.id)?;
        not_before(when, p.made_at, "--at", a.id)?;
        Ok(Event::PromiseReleased {
            promise: a.id,
            reason: reason.clone(),
        })
    })
}

pub fn retract(ctx: &Ctx, at: &AtArg, a: &RetractArgs) -> Result<(), CliError> {
    let reason = required("--reason", &a.reason)?;
    record(ctx, at, Reads::All, |s, _| {
        let kind = s.kind_at(a.seq).ok_or_else(|| {
            if s.last_seq == 0 {
                invalid(format!(
                    "no event #{} to retract: the journal has no events yet",
                    a.seq
                ))
            } else {
                invalid(format!(
                    "no event #{} to retract: the journal's events go from #1 to #{}",
                    a.seq, s.last_seq
                ))
            }
        })?;
        if kind == "Retracted" {
            return Err(invalid(format!(
                "event #{} is itself a retraction and cannot be retracted; record the event again instead",
                a.seq
            )));
        }
        if kind == "ClientAdded" {
            let open: Vec<String> = s
                .promises
                .values()
                .filter(|p| p.status == PromiseStatus::Open)
                .filter(|p| s.added_seq(&p.client) == Some(a.seq))
                .map(|p| p.id.to_string())
                .collect();
            if !open.is_empty() {
                return Err(invalid(format!(
                    "event #{} added a client who still has open promises ({}): \
                     break, release or retract them first",
                    a.seq,
                    open.join(", ")
                )));
            }
        }
        if let Some(by) = s.retracted_by(a.seq) {
            return Err(invalid(format!(
                "event #{} ({kind}) is already retracted, by #{by}",
                a.seq
            )));
        }
        Ok(Event::Retracted {
            seq: a.seq,
            reason: reason.clone(),
        })
    })
}

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
            assert!(check_handle_syntax(ok).is_ok(), "{ok}");
        }
        for bad in ["", "Acme", "-x", "a b", "a/b", &"x".repeat(33)] {
            assert!(check_handle_syntax(bad).is_err(), "{bad}");
        }
    }
}
