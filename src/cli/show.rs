//! Views of one thing (issue 12.1): `status <handle>` (one client in
//! full), `promise show <id>` (one promise's whole history), `promise list`,
//! and the filters `log --promise/--from/--to/--limit` and `due --client`
//! use. Each streams the journal (as known at `--as-of`) through the replay
//! driver, retractions honoured, keeping only what the view shows.

use std::collections::VecDeque;
use std::io::Write;

use clap::Args;
use serde::Serialize;

use super::context::Ctx;
use super::error::{invalid, CliError};
use super::out::{failed, Out};
use super::output::{due_text, kept_words};
use super::query::{as_of_and_now, trust_table, AsOfArg};
use super::table::{paint, terminal_width, Table};
use super::text::visible;
use super::zone;
use crate::app::checkpoint::{self, Needs};
use crate::app::replay;
use crate::app::rules::{self, RuleError, Wording};
use crate::events::{Due, EnvelopeRef, EventRef, Fit, PromiseId, Timestamp};
use crate::projections::audit::{Closed, Outcome};
use crate::projections::ser;
use crate::projections::state::{Promise, PromiseStatus, State};
use crate::projections::status::ClientStatus;
use crate::projections::trust::{Trust, TrustEntry};
use crate::projections::views::{ClientFold, Contact, FitChange, PromiseFold, Step, RECENT};

/// The words of a query (no `--at`/`--due` to quote).
const QUERY: Wording<'static> = Wording::Command {
    at: None,
    due: None,
};

/// "unknown client \"acne\": did you mean \"acme\"?", as recording says it.
pub fn unknown_client(state: &State, handle: &str) -> CliError {
    invalid(
        RuleError::UnknownClient {
            handle: handle.to_string(),
            hint: Some(rules::hint(state, handle)),
        }
        .render(QUERY),
    )
}

/// Exit 1 with the recording commands' words unless `state` knows `handle`.
pub fn known_client(state: &State, handle: &str) -> Result<(), CliError> {
    if state.clients.contains_key(handle) {
        Ok(())
    } else {
        Err(unknown_client(state, handle))
    }
}

/// "unknown promise 9: promise ids go from 1 to 4" / "promise 3 was
/// retracted: it no longer counts", as recording says it.
pub fn unknown_promise(id: PromiseId, max: PromiseId) -> CliError {
    invalid(RuleError::UnknownPromise { id, max }.render(QUERY))
}

// ---------------------------------------------------------------------------
// Outcome of one promise, as the audit judges it

/// How `p` was closed, in the terms of the audit's one rule.
fn closed(p: &Promise) -> Option<(Closed, Timestamp)> {
    let how = match p.status {
        PromiseStatus::Open => return None,
        PromiseStatus::Kept => Closed::Kept,
        PromiseStatus::Broken => Closed::Broken,
        PromiseStatus::Released => Closed::Released,
    };
    p.closed.map(|(at, _)| (how, at))
}

/// The audit's outcome of `p` at `now` ([`Outcome::judge`], the one rule).
pub fn outcome(p: &Promise, now: Timestamp) -> Outcome {
    Outcome::judge(p.original_due.at, p.due.at, closed(p), now)
}

/// Days late as the audit counts them ([`Outcome::days_late`]).
pub fn days_late(p: &Promise, now: Timestamp) -> Option<i64> {
    Outcome::days_late(p.original_due.at, p.due.at, closed(p), now)
}

fn status_word(s: PromiseStatus) -> &'static str {
    match s {
        PromiseStatus::Open => "open",
        PromiseStatus::Kept => "kept",
        PromiseStatus::Broken => "broken",
        PromiseStatus::Released => "released",
    }
}

/// One promise as `promise list` and `status <handle>` give it.
#[derive(Debug, Clone, Serialize)]
pub struct PromiseRow {
    pub promise: PromiseId,
    pub client: String,
    pub what: String,
    /// `open`, `kept`, `broken` or `released`.
    pub status: &'static str,
    /// The audit's word: `kept_on_time`, `kept_after_move`, `kept_late`,
    /// `broken`, `released`, `open_overdue`, `open`.
    pub outcome: &'static str,
    #[serde(serialize_with = "ser::ts")]
    pub made_at: Timestamp,
    #[serde(serialize_with = "ser::ts")]
    pub original_due: Timestamp,
    pub original_due_date_only: bool,
    /// The due in force (after any moves).
    #[serde(serialize_with = "ser::ts")]
    pub due: Timestamp,
    pub date_only: bool,
    pub moves: u32,
    /// When it was kept, broken or released.
    #[serde(serialize_with = "ser::opt_ts")]
    pub closed_at: Option<Timestamp>,
    /// See [`days_late`].
    pub days_late: Option<i64>,
}

impl PromiseRow {
    pub fn of(p: &Promise, now: Timestamp) -> Self {
        PromiseRow {
            promise: p.id,
            client: p.client.clone(),
            what: p.what.clone(),
            status: status_word(p.status),
            outcome: outcome(p, now).as_str(),
            made_at: p.made_at,
            original_due: p.original_due.at,
            original_due_date_only: p.original_due.date_only,
            due: p.due.at,
            date_only: p.due.date_only,
            moves: p.moves,
            closed_at: p.closed.map(|c| c.0),
            days_late: days_late(p, now),
        }
    }

    fn due(&self) -> Due {
        Due {
            at: self.due,
            date_only: self.date_only,
        }
    }

    fn original(&self) -> Due {
        Due {
            at: self.original_due,
            date_only: self.original_due_date_only,
        }
    }
}

// ---------------------------------------------------------------------------
// status <handle>

/// `status <handle> --json`: the summary row `status` gives (`now`,
/// `clients`, as before), and the client in full.
#[derive(Debug, Serialize)]
pub struct ClientView {
    #[serde(serialize_with = "ser::ts")]
    pub now: Timestamp,
    /// The one row of `status` without a handle (kept for scripts).
    pub clients: Vec<ClientStatus>,
    pub client: ClientDetail,
}

#[derive(Debug, Serialize)]
pub struct ClientDetail {
    pub handle: String,
    pub name: String,
    #[serde(serialize_with = "ser::fit")]
    pub fit: Fit,
    pub note: String,
    #[serde(serialize_with = "ser::ts")]
    pub added_at: Timestamp,
    pub fit_changes: Vec<FitChange>,
    // Cadence (how often this client expects to hear from us) goes here
    // once it is recorded (issue 12, another item): no key until then.
    /// Open promises, soonest due first.
    pub open_promises: Vec<PromiseRow>,
    /// The last few interactions, latest first, and how many there are.
    pub recent_contacts: Vec<Contact>,
    pub contacts_total: u64,
    /// 0–100.
    pub trust: Option<f64>,
    /// The last few changes of the score, latest first, with why.
    pub trust_changes: Vec<TrustEntry>,
}

/// `status <handle>`: the client in full.
pub fn client_view(
    ctx: &Ctx,
    out: &mut Out,
    handle: &str,
    as_of: &AsOfArg,
) -> Result<(), CliError> {
    let params = ctx.trust_params()?;
    let (t, now) = as_of_and_now(ctx, as_of)?;
    let fresh = || {
        (
            State::hot_only(),
            Trust::for_client(handle, params.clone()),
            ClientFold {
                handle: handle.to_string(),
                note: String::new(),
                fit_changes: Vec::new(),
                contacts: VecDeque::new(),
                contacts_total: 0,
            },
        )
    };
    let (state, trust, mut fold) =
        replay::replay(&ctx.journal, t, &mut |_| fresh(), &mut || None)?.projections;
    known_client(&state, handle)?;
    fold.keep_latest_contacts();
    let row = crate::projections::status::report(&state, &trust, now, Some(handle));
    let Some(c) = state.clients.get(handle) else {
        return Err(unknown_client(&state, handle));
    };
    let mut open: Vec<PromiseRow> = state
        .promises
        .values()
        .filter(|p| p.client == handle && p.status == PromiseStatus::Open)
        .map(|p| PromiseRow::of(p, now))
        .collect();
    open.sort_by_key(|p| (p.due, p.promise));
    let report = trust.report(handle);
    // The first entry is the neutral start, not a change.
    let changes: Vec<TrustEntry> = report
        .as_ref()
        .map(|r| {
            r.history
                .iter()
                .skip(1)
                .rev()
                .take(RECENT)
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    let view = ClientView {
        now,
        clients: row.clients,
        client: ClientDetail {
            handle: c.handle.clone(),
            name: c.name.clone(),
            fit: c.fit,
            note: fold.note,
            added_at: c.added_at,
            fit_changes: fold.fit_changes,
            open_promises: open,
            recent_contacts: fold.contacts.into_iter().rev().collect(),
            contacts_total: fold.contacts_total,
            trust: trust.score(handle),
            trust_changes: changes,
        },
    };
    if ctx.json {
        return json_line(out, &view);
    }
    let width = terminal_width(out);
    write_client(out, &view, width).map_err(failed)
}

fn write_client(w: &mut impl Write, v: &ClientView, width: Option<usize>) -> std::io::Result<()> {
    let c = &v.client;
    writeln!(w, "{} ({})", visible(&c.handle), visible(&c.name))?;
    let status = v.clients.first();
    match status.and_then(|s| s.lost_at.map(|at| (at, s.lost_reason.clone()))) {
        Some((at, reason)) => writeln!(
            w,
            "status: lost on {}: {}",
            at.to_local_string(),
            visible(reason.as_deref().unwrap_or(""))
        )?,
        None => writeln!(w, "status: active")?,
    }
    writeln!(w, "client since: {}", c.added_at.to_local_string())?;
    if !c.note.is_empty() {
        writeln!(w, "note: {}", visible(&c.note))?;
    }
    match c.fit_changes.last() {
        Some(f) => writeln!(
            w,
            "fit: {} (since {}{})",
            c.fit,
            f.at.to_local_string(),
            if f.reason.is_empty() {
                String::new()
            } else {
                format!(": {}", visible(&f.reason))
            }
        )?,
        None => writeln!(w, "fit: {}", c.fit)?,
    }
    // Cadence goes here once it is recorded (issue 12, another item).
    match c.trust {
        Some(s) => writeln!(w, "trust: {:.0} / 100", s.round())?,
        None => writeln!(w, "trust: -")?,
    }
    writeln!(w)?;
    if c.open_promises.is_empty() {
        writeln!(w, "open promises: none")?;
    } else {
        writeln!(w, "open promises:")?;
        write_promise_table(w, &c.open_promises, false)?;
    }
    writeln!(w)?;
    if c.recent_contacts.is_empty() {
        writeln!(w, "contacts: none recorded")?;
    } else {
        writeln!(
            w,
            "recent contacts ({} of {}):",
            c.recent_contacts.len(),
            c.contacts_total
        )?;
        let mut t = Table::new(&[
            &zone::header("when"),
            "#",
            "kind",
            "mood",
            "min",
            "by",
            "note",
        ]);
        for col in [1, 3, 4] {
            t.right_align(col);
        }
        for x in &c.recent_contacts {
            t.row(vec![
                x.at.to_local_string(),
                x.seq.to_string(),
                x.kind.to_string(),
                crate::projections::words::signed(i64::from(x.mood)),
                x.minutes.map_or("-".into(), |m| m.to_string()),
                x.by.to_string(),
                x.note.clone(),
            ]);
        }
        write!(w, "{t}")?;
    }
    if !c.trust_changes.is_empty() {
        writeln!(w)?;
        writeln!(w, "last trust changes:")?;
        write!(w, "{}", trust_table(&c.trust_changes, width))?;
    }
    Ok(())
}

/// Promises as a table; `with_client` adds the client column.
fn write_promise_table(
    w: &mut impl Write,
    rows: &[PromiseRow],
    with_client: bool,
) -> std::io::Result<()> {
    let mut head = vec!["#"];
    if with_client {
        head.push("client");
    }
    let due_h = zone::header("due");
    head.extend([
        "what",
        "original due",
        &due_h,
        "moves",
        "outcome",
        "days late",
    ]);
    let mut t = Table::new(&head);
    let shift = usize::from(with_client);
    t.paint(5 + shift, paint::outcome);
    t.right_align(0);
    t.right_align(4 + shift);
    t.right_align(6 + shift);
    for r in rows {
        let mut cells = vec![r.promise.to_string()];
        if with_client {
            cells.push(r.client.clone());
        }
        cells.extend([
            r.what.clone(),
            zone::due_cell(&r.original()),
            zone::due_cell(&r.due()),
            r.moves.to_string(),
            r.outcome.to_string(),
            r.days_late.map_or("-".into(), |d| d.to_string()),
        ]);
        t.row(cells);
    }
    write!(w, "{t}")
}

fn json_line<T: Serialize>(out: &mut Out, v: &T) -> Result<(), CliError> {
    serde_json::to_writer(&mut *out, v)
        .map_err(std::io::Error::from)
        .and_then(|()| out.write_all(b"\n"))
        .map_err(failed)
}

// ---------------------------------------------------------------------------
// promise list

#[derive(Args, Debug)]
pub struct PromiseListArgs {
    /// Only this client's promises
    #[arg(long, value_name = "HANDLE", value_parser = crate::cli::context::handle_arg)]
    pub client: Option<String>,
    /// Only open promises
    #[arg(long, conflicts_with = "closed")]
    pub open: bool,
    /// Only kept, broken or released promises
    #[arg(long)]
    pub closed: bool,
    #[command(flatten)]
    pub as_of: AsOfArg,
}

/// `promise list --json`.
#[derive(Debug, Serialize)]
pub struct PromiseList {
    #[serde(serialize_with = "ser::ts")]
    pub now: Timestamp,
    pub client: Option<String>,
    /// `all`, `open` or `closed`.
    pub filter: &'static str,
    /// By id.
    pub promises: Vec<PromiseRow>,
}

pub fn promise_list(ctx: &Ctx, out: &mut Out, a: &PromiseListArgs) -> Result<(), CliError> {
    let (t, now) = as_of_and_now(ctx, &a.as_of)?;
    let params = ctx.trust_params().ok();
    // Closed promises too: the full state.
    let needs = Needs {
        full_state: true,
        ..Needs::default()
    };
    let state = checkpoint::fold(&ctx.journal, t, &needs, params.as_ref(), true)?
        .core
        .state;
    if let Some(h) = &a.client {
        known_client(&state, h)?;
    }
    let filter = match (a.open, a.closed) {
        (true, _) => "open",
        (_, true) => "closed",
        _ => "all",
    };
    let mut promises: Vec<PromiseRow> = state
        .promises
        .values()
        .filter(|p| a.client.as_deref().is_none_or(|h| h == p.client))
        .filter(|p| match filter {
            "open" => p.status == PromiseStatus::Open,
            "closed" => p.status != PromiseStatus::Open,
            _ => true,
        })
        .map(|p| PromiseRow::of(p, now))
        .collect();
    promises.sort_by_key(|p| p.promise);
    let list = PromiseList {
        now,
        client: a.client.clone(),
        filter,
        promises,
    };
    if ctx.json {
        return json_line(out, &list);
    }
    if list.promises.is_empty() {
        return writeln!(out, "no promises").map_err(failed);
    }
    write_promise_table(out, &list.promises, true).map_err(failed)
}

// ---------------------------------------------------------------------------
// promise show

#[derive(Args, Debug)]
pub struct PromiseShowArgs {
    pub id: PromiseId,
    #[command(flatten)]
    pub as_of: AsOfArg,
}

/// `promise show <id> --json`.
#[derive(Debug, Serialize)]
pub struct PromiseView {
    #[serde(serialize_with = "ser::ts")]
    pub now: Timestamp,
    /// Where it stands: what `promise list` gives for it.
    pub promise: PromiseRow,
    /// Every step, in journal order, retracted ones marked.
    pub history: Vec<Step>,
    // Interim deliveries (a part delivered before the whole) go here once
    // they are recorded (issue 12, another item): no key until then.
}

pub fn promise_show(ctx: &Ctx, out: &mut Out, a: &PromiseShowArgs) -> Result<(), CliError> {
    let (t, now) = as_of_and_now(ctx, &a.as_of)?;
    let fresh = || {
        (
            // For the highest id, to say why an id is unknown.
            State::hot_only(),
            PromiseFold {
                id: a.id,
                steps: Vec::new(),
                promise: None,
            },
        )
    };
    let (state, fold) =
        replay::replay(&ctx.journal, t, &mut |_| fresh(), &mut || None)?.projections;
    let p = fold
        .promise
        .ok_or_else(|| unknown_promise(a.id, state.max_promise_id))?;
    let view = PromiseView {
        now,
        promise: PromiseRow::of(&p, now),
        history: fold.steps,
    };
    if ctx.json {
        return json_line(out, &view);
    }
    write_promise(out, &view, &p).map_err(failed)
}

fn write_promise(w: &mut impl Write, v: &PromiseView, p: &Promise) -> std::io::Result<()> {
    let r = &v.promise;
    writeln!(
        w,
        "promise {}: {} for {}",
        r.promise,
        visible(&r.what),
        visible(&r.client)
    )?;
    let verdict = match (p.status, p.closed) {
        (PromiseStatus::Kept, Some((at, _))) => kept_words(p, at),
        (PromiseStatus::Open, _) => match r.days_late {
            Some(d) if d > 0 => format!(
                "open, {} past the original {}",
                crate::projections::words::days(d),
                due_text(&r.original())
            ),
            _ => format!("open, due {}", due_text(&r.due())),
        },
        (s, _) => status_word(s).to_string(),
    };
    writeln!(w, "outcome: {verdict} [{}]", r.outcome)?;
    writeln!(
        w,
        "original due {}, due {}, {}",
        zone::due_cell(&r.original()),
        zone::due_cell(&r.due()),
        crate::projections::words::count(u64::from(r.moves), "move", "moves")
    )?;
    writeln!(w)?;
    let mut t = Table::new(&[&zone::header("when"), "#", "step", "what"]);
    t.right_align(1);
    for s in &v.history {
        let due = |at: Option<Timestamp>| {
            at.map(|at| {
                due_text(&Due {
                    at,
                    date_only: s.date_only.unwrap_or(false),
                })
            })
            .unwrap_or_default()
        };
        let mut what = match s.step {
            "made" => format!("{}, due {}", s.text, due(s.due)),
            "moved" => {
                let mut m = format!(
                    "due {} -> {}, caused by {}{}",
                    s.from_due.map_or("-".into(), |at| due_text(&Due {
                        at,
                        date_only: s.date_only.unwrap_or(false)
                    })),
                    due(s.due),
                    s.cause.unwrap_or("-"),
                    if s.agreed_by_client == Some(true) {
                        ", agreed by the client"
                    } else {
                        ", not agreed by the client"
                    }
                );
                if s.after_due == Some(true) {
                    m.push_str(", recorded after the due had passed");
                }
                if !s.text.is_empty() {
                    m.push_str(&format!(": {}", s.text));
                }
                m
            }
            _ => s.text.clone(),
        };
        if let Some(by) = s.retracted_by {
            what = format!("[retracted by #{by}] {what}");
        }
        t.row(vec![
            s.occurred_at.to_local_string(),
            s.seq.to_string(),
            s.step.to_string(),
            what,
        ]);
    }
    write!(w, "{t}")
}

// ---------------------------------------------------------------------------
// log --promise --from --to --limit

/// The options `log` takes besides `--client` and `--kind`.
#[derive(Args, Debug, Clone, Default)]
pub struct LogWindowArgs {
    /// Only events about this promise (made, moved, kept, broken, released)
    #[arg(long, value_name = "ID")]
    pub promise: Option<PromiseId>,
    /// Only events that happened (occurred_at) at or after WHEN
    #[arg(long, value_name = "WHEN", allow_hyphen_values = true)]
    pub from: Option<String>,
    /// …and at or before WHEN (a date means the end of that day)
    #[arg(long, value_name = "WHEN", allow_hyphen_values = true)]
    pub to: Option<String>,
    /// Only the last N events selected (the latest, as `git log -n` gives
    /// the newest), still printed oldest first
    #[arg(long, short = 'n', value_name = "N")]
    pub limit: Option<u64>,
}

/// [`LogWindowArgs`] resolved.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogWindow {
    pub promise: Option<PromiseId>,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    pub limit: Option<u64>,
}

impl LogWindow {
    pub fn new(ctx: &Ctx, a: &LogWindowArgs) -> Result<Self, CliError> {
        let (from, to) = ctx.period(a.from.as_deref(), a.to.as_deref())?;
        Ok(LogWindow {
            promise: a.promise,
            from,
            to,
            limit: a.limit,
        })
    }

    /// The event passes `--promise`, `--from` and `--to`.
    pub fn admits(&self, e: &EnvelopeRef<'_>) -> bool {
        self.promise.is_none_or(|p| e.event.promise() == Some(p))
            && self.from.is_none_or(|f| e.occurred_at >= f)
            && self.to.is_none_or(|t| e.occurred_at <= t)
    }

    /// How many selected events to pass over before printing, given how
    /// many there are: all but the last `--limit`.
    pub fn skip(&self, selected: u64) -> u64 {
        self.limit.map_or(0, |n| selected.saturating_sub(n))
    }
}

/// Notes, in `log`'s first pass, whether `--promise` names a promise the
/// journal made, and the highest id, for the error.
#[derive(Debug, Default)]
pub struct PromiseSeen {
    pub made: bool,
    pub max: PromiseId,
}

impl PromiseSeen {
    pub fn note(&mut self, want: Option<PromiseId>, e: &EventRef<'_>) {
        if let EventRef::PromiseMade { promise, .. } = e {
            self.max = self.max.max(*promise);
            self.made |= want == Some(*promise);
        }
    }

    /// Exit 1 for a `--promise` never made.
    pub fn check(&self, want: Option<PromiseId>) -> Result<(), CliError> {
        match want {
            Some(id) if !self.made => Err(unknown_promise_log(id, self.max)),
            _ => Ok(()),
        }
    }
}

fn unknown_promise_log(id: PromiseId, max: PromiseId) -> CliError {
    // Never made (a retracted one still has its events to show).
    if max == 0 {
        invalid(format!(
            "unknown promise {id}: no promises have been made yet (`trustlog promise make`)"
        ))
    } else {
        invalid(format!(
            "unknown promise {id}: promise ids go from 1 to {max}"
        ))
    }
}
