//! The query commands: each replays the journal (as known at `--as-of`)
//! into the projections it needs and renders the answer as an aligned
//! table, or JSON with `--json`.

use std::collections::HashMap;
use std::io::Write;

use clap::Args;
use serde_json::json;

use super::chart;
use super::context::{cut_as_of, read_all, Ctx};
use super::csv;
use super::error::{invalid, CliError};
use super::out::{failed, Out};
use super::output::summary;
use super::table::{paint, terminal_width, Table};
use super::text::visible;
use super::zone;
use crate::app::checkpoint::{self, Needs};
use crate::app::replay;
use crate::events::json::envelope_json;
use crate::events::{Due, Envelope, EventRef, Timestamp, EVENT_KINDS};
use crate::projections::audit::{AuditQuery, AuditReport, AuditRow};
use crate::projections::due;
use crate::projections::postmortem::{Postmortem, PostmortemReport};
use crate::projections::state::State;
use crate::projections::status::Status;
use crate::projections::trust::{Trust, TrustEntry, TrustReport};
use crate::projections::words;

/// `--as-of WHEN`, taken by every query.
#[derive(Args, Debug, Clone, Default)]
pub struct AsOfArg {
    /// Answer as it was known then: only events recorded by WHEN count, and
    /// "now" is WHEN
    #[arg(long, value_name = "WHEN", allow_hyphen_values = true)]
    pub as_of: Option<String>,
}

#[derive(Args, Debug)]
pub struct LogArgs {
    /// Only events about this client (its promises included)
    #[arg(long, value_name = "HANDLE", value_parser = crate::cli::context::handle_arg)]
    pub client: Option<String>,
    /// Only events of this kind, e.g. PromiseMoved (case and dashes ignored)
    #[arg(long, value_name = "KIND", value_parser = crate::cli::words::words::<String>(&crate::events::EVENT_KINDS))]
    pub kind: Option<String>,
    #[command(flatten)]
    pub window: super::show::LogWindowArgs,
    #[command(flatten)]
    pub as_of: AsOfArg,
}

/// `--as-of` as an instant (`None` without it), and the instant that counts
/// as "now" for the answer.
pub fn as_of_and_now(
    ctx: &Ctx,
    as_of: &AsOfArg,
) -> Result<(Option<Timestamp>, Timestamp), CliError> {
    let t = match &as_of.as_of {
        None => None,
        Some(s) => Some(ctx.when("--as-of", s, true)?.at),
    };
    Ok((t, t.unwrap_or_else(|| ctx.now_ts())))
}

/// Streams the journal as known at `as_of` into `fresh()`'s projections
/// (no checkpoint: for the per-client histories, which are as long as the
/// log).
fn replay_full<P: crate::projections::Projection>(
    ctx: &Ctx,
    as_of: Option<Timestamp>,
    mut fresh: impl FnMut() -> P,
) -> Result<P, CliError> {
    Ok(replay::replay(&ctx.journal, as_of, &mut |_| fresh(), &mut || None)?.projections)
}

/// The events as known at `--as-of` (all of them without it), and the
/// instant that counts as "now" for the answer. Holds every event in
/// memory: queries fold with `checkpoint::fold` or `replay` instead.
pub fn load(ctx: &Ctx, as_of: &AsOfArg) -> Result<(Vec<Envelope>, Timestamp), CliError> {
    let t = match &as_of.as_of {
        None => None,
        Some(s) => Some(ctx.when("--as-of", s, true)?.at),
    };
    let envs = cut_as_of(read_all(&ctx.journal)?, t);
    Ok((envs, t.unwrap_or_else(|| ctx.now_ts())))
}

fn normalise_kind(k: &str) -> String {
    k.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase()
}

pub fn log(ctx: &Ctx, out: &mut Out, a: &LogArgs) -> Result<(), CliError> {
    let kind = match &a.kind {
        None => None,
        Some(k) => {
            let want = normalise_kind(k);
            let found = EVENT_KINDS
                .iter()
                .find(|name| normalise_kind(name) == want)
                .ok_or_else(|| {
                    invalid(format!(
                        "unknown event kind {k:?}: expected one of {}",
                        EVENT_KINDS.join(", ")
                    ))
                })?;
            Some(*found)
        }
    };
    // Two streaming passes, so that no event is held in memory: the first
    // learns who each promise belongs to and what was retracted (and finds
    // any damage before anything is printed), the second prints.
    let window = super::show::LogWindow::new(ctx, &a.window)?;
    let mut promise_seen = super::show::PromiseSeen::default();
    let (t, _) = as_of_and_now(ctx, &a.as_of)?;
    let mut known = a.client.is_none();
    let mut promise_client: HashMap<u64, String> = HashMap::new();
    let mut retracted_by: HashMap<u64, u64> = HashMap::new();
    let last = replay::for_each_event(&ctx.journal, t, None, &mut |e| {
        promise_seen.note(window.promise, &e.event);
        match e.event {
            EventRef::ClientAdded { handle, .. } => {
                known |= a.client.as_deref() == Some(handle);
            }
            EventRef::PromiseMade {
                promise, client, ..
            } if a.client.is_some() => {
                promise_client.insert(promise, client.to_string());
            }
            EventRef::Retracted { seq, .. } => {
                retracted_by.insert(seq, e.seq);
            }
            _ => {}
        }
        Ok(())
    })?;
    if let Some(c) = &a.client {
        if !known {
            return Err(invalid(format!(
                "unknown client {c:?}: no ClientAdded event names it"
            )));
        }
    }
    promise_seen.check(window.promise)?;
    let selected = |env: &crate::events::EnvelopeRef<'_>| {
        let e = &env.event;
        window.admits(env)
            && kind.is_none_or(|k| e.kind_name() == k)
            && a.client.as_deref().is_none_or(|c| {
                let client = e.client().or_else(|| {
                    e.promise()
                        .and_then(|p| promise_client.get(&p).map(String::as_str))
                });
                client == Some(c)
            })
    };
    // --limit N: the last N selected; a counting pass says how many to
    // pass over (nothing is held to find them).
    let mut skip = 0;
    if window.limit.is_some() {
        let mut n = 0u64;
        replay::for_each_event(&ctx.journal, t, Some(last), &mut |e| {
            n += u64::from(selected(e));
            Ok(())
        })?;
        skip = window.skip(n);
    }
    let mut selected = |e: &crate::events::EnvelopeRef<'_>| {
        if !selected(e) {
            return false;
        }
        if skip > 0 {
            skip -= 1;
            return false;
        }
        true
    };
    if ctx.json {
        // One JSON array, written as it is read.
        let mut first = true;
        out.write_all(b"[").map_err(failed)?;
        replay::for_each_event(&ctx.journal, t, Some(last), &mut |e| {
            if !selected(e) {
                return Ok(());
            }
            let mut v = envelope_json(&e.to_owned());
            v["retracted_by"] = json!(retracted_by.get(&e.seq));
            if !first {
                out.write_all(b",").map_err(failed)?;
            }
            first = false;
            serde_json::to_writer(&mut *out, &v).map_err(|e| failed(e.into()))
        })?;
        out.write_all(b"]\n").map_err(failed)?;
        return Ok(());
    }
    let mut selected_envs: Vec<Envelope> = Vec::new();
    replay::for_each_event(&ctx.journal, t, Some(last), &mut |e| {
        if selected(e) {
            selected_envs.push(e.to_owned());
        }
        Ok(())
    })?;
    let selected = selected_envs;
    let occurred = zone::header("occurred");
    let mut t = Table::new(&["#", &occurred, "author", "kind", "what"]);
    t.right_align(0);
    t.free_text(4);
    t.fit(terminal_width(out));
    for e in &selected {
        let mut what = summary(&e.event);
        if let Some(by) = retracted_by.get(&e.seq) {
            what = format!("[retracted by #{by}] {what}");
        }
        t.row(vec![
            e.seq.to_string(),
            e.occurred_at.to_local_string(),
            e.author.clone(),
            e.event.kind_name().to_string(),
            what,
        ]);
    }
    if t.is_empty() {
        writeln!(out, "no events")
    } else {
        write!(out, "{t}")
    }
    .map_err(failed)
}

#[derive(Args, Debug)]
pub struct StatusArgs {
    /// One client only
    #[arg(value_parser = crate::cli::context::handle_arg)]
    pub handle: Option<String>,
    #[command(flatten)]
    pub as_of: AsOfArg,
}

#[derive(Args, Debug)]
pub struct DueArgs {
    /// Only promises due within this span from now, e.g. 7d, 2w, 12h
    /// (overdue ones are always listed)
    #[arg(long, value_name = "SPAN")]
    pub within: Option<String>,
    /// Only this client's promises
    #[arg(long, value_name = "HANDLE", value_parser = crate::cli::context::handle_arg)]
    pub client: Option<String>,
    #[command(flatten)]
    pub as_of: AsOfArg,
}

#[derive(Args, Debug)]
pub struct AuditArgs {
    /// Only this client's promises
    #[arg(long, value_name = "HANDLE", value_parser = crate::cli::context::handle_arg)]
    pub client: Option<String>,
    /// Promises whose ORIGINAL due is at or after WHEN
    #[arg(long, value_name = "WHEN", allow_hyphen_values = true)]
    pub from: Option<String>,
    /// …and at or before WHEN (a date means the end of that day)
    #[arg(long, value_name = "WHEN", allow_hyphen_values = true)]
    pub to: Option<String>,
    /// One CSV row per promise instead of the report
    #[arg(long)]
    pub csv: bool,
    /// With --csv: begin with the UTF-8 byte order mark Excel needs to read
    /// Korean and other non-ASCII text
    #[arg(long, requires = "csv")]
    pub excel: bool,
    #[command(flatten)]
    pub as_of: AsOfArg,
}

#[derive(Args, Debug)]
pub struct TrustArgs {
    #[arg(value_parser = crate::cli::context::handle_arg)]
    pub handle: String,
    /// Every change, with its reason in words
    #[arg(long)]
    pub history: bool,
    #[command(flatten)]
    pub as_of: AsOfArg,
}

#[derive(Args, Debug)]
pub struct PostmortemArgs {
    #[arg(value_parser = crate::cli::context::handle_arg)]
    pub handle: String,
    #[command(flatten)]
    pub as_of: AsOfArg,
}

/// `7d`, `2w`, `12h`, `30min` → seconds.
fn parse_span(s: &str) -> Result<i64, CliError> {
    let t = s.trim().trim_start_matches('+').to_ascii_lowercase();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: i64 = num.parse().map_err(|_| span_error(s))?;
    let unit_s = match unit {
        "d" | "day" | "days" => 86_400,
        "w" | "week" | "weeks" => 7 * 86_400,
        "h" | "hour" | "hours" => 3_600,
        "min" | "mins" | "minutes" => 60,
        _ => return Err(span_error(s)),
    };
    n.checked_mul(unit_s).ok_or_else(|| span_error(s))
}

fn span_error(s: &str) -> CliError {
    invalid(format!(
        "--within {s:?} is not a span: expected a number and a unit, e.g. 7d, 2w, 12h, 30min"
    ))
}

fn known_client(state: &State, handle: &str) -> Result<(), CliError> {
    if state.clients.contains_key(handle) {
        return Ok(());
    }
    let known: Vec<&str> = state.clients.keys().take(10).collect();
    Err(invalid(if known.is_empty() {
        format!("unknown client {handle:?}: the journal has no clients (as known then)")
    } else {
        format!(
            "unknown client {handle:?}: known clients are {}",
            known.join(", ")
        )
    }))
}

fn opt_local(t: Option<Timestamp>) -> String {
    t.map(|t| t.to_local_string()).unwrap_or_else(|| "-".into())
}

/// `v` as one line of JSON, written as it is made (the text, a few MB for
/// `due` on a large journal, is never held whole).
fn json_out<T: serde::Serialize>(out: &mut Out, v: &T) -> Result<(), CliError> {
    serde_json::to_writer(&mut *out, v)
        .map_err(std::io::Error::from)
        .and_then(|()| out.write_all(b"\n"))
        .map_err(failed)
}

/// Lets go of the projections a query folded without freeing them piece by
/// piece: the process exits once the answer is printed, and the OS takes
/// the memory back at once (freeing the clients and open promises of a
/// large journal one string at a time was a tenth of a warm `due`).
fn exit_keeps<T>(v: T) {
    std::mem::forget(v);
}

pub fn status(ctx: &Ctx, out: &mut Out, a: &StatusArgs) -> Result<(), CliError> {
    if let Some(h) = &a.handle {
        return super::show::client_view(ctx, out, h, &a.as_of);
    }
    let params = ctx.trust_params()?;
    let (t, now) = as_of_and_now(ctx, &a.as_of)?;
    let needs = Needs {
        trust: Some(params.clone()),
        ..Needs::default()
    };
    let core = checkpoint::fold(&ctx.journal, t, &needs, Some(&params), true)?.core;
    let st = Status {
        trust: core.trust.unwrap_or_else(|| Trust::scores_only(params)),
        state: core.state,
    };
    if let Some(h) = &a.handle {
        known_client(&st.state, h)?;
    }
    let r = st.report(now, a.handle.as_deref());
    exit_keeps(st);
    if ctx.json {
        return json_out(out, &r);
    }
    if r.clients.is_empty() {
        return writeln!(
            out,
            "no clients yet: add one with `trustlog client add <handle>`"
        )
        .map_err(failed);
    }
    let (next_due, last_contact) = (zone::header("next due"), zone::header("last contact"));
    let mut t = Table::new(&[
        "client",
        "name",
        "fit",
        "status",
        "open",
        &next_due,
        "overdue",
        &last_contact,
        "trust",
    ]);
    for c in [4, 6, 8] {
        t.right_align(c);
    }
    t.paint(6, paint::nonzero);
    t.free_text(1);
    t.fit(terminal_width(out));
    for c in &r.clients {
        let next = match (c.next_promise, c.next_due) {
            (Some(p), Some(d)) => format!("{} (#{p})", d.to_local_string()),
            _ => "-".into(),
        };
        t.row(vec![
            c.client.clone(),
            c.name.clone(),
            c.fit.to_string(),
            c.status.to_string(),
            c.open_promises.to_string(),
            next,
            c.overdue.to_string(),
            opt_local(c.last_contact),
            c.trust
                .map(|s| format!("{:.0}", s.round()))
                .unwrap_or_else(|| "-".into()),
        ]);
    }
    write!(out, "{t}").map_err(failed)
}

pub fn due(ctx: &Ctx, out: &mut Out, a: &DueArgs) -> Result<(), CliError> {
    let span = a.within.as_deref().map(parse_span).transpose()?;
    let (t, now) = as_of_and_now(ctx, &a.as_of)?;
    // "Due within 7d" includes whatever is due on the seventh day, so a span
    // of whole days runs to the end of that (local) day.
    let within = span.map(|s| {
        if s % 86_400 != 0 {
            return s;
        }
        let end = now.plus_seconds(s);
        match end.to_local().and_then(|d| {
            let next = d.date_naive().succ_opt()?.and_hms_opt(0, 0, 0)?;
            next.and_local_timezone(chrono::Local).earliest()
        }) {
            Some(midnight) => now.seconds_until(Timestamp::from_datetime(&midnight)) - 1,
            None => s,
        }
    });
    let params = ctx.trust_params().ok();
    let state = checkpoint::fold(&ctx.journal, t, &Needs::default(), params.as_ref(), true)?
        .core
        .state;
    if let Some(h) = &a.client {
        super::show::known_client(&state, h)?;
    }
    let mut r = due::report(&state, now, within);
    if let Some(h) = &a.client {
        r.promises.retain(|p| &p.client == h);
    }
    exit_keeps(state);
    if ctx.json {
        return json_out(out, &r);
    }
    if r.promises.is_empty() {
        return writeln!(out, "nothing due").map_err(failed);
    }
    let due_h = zone::header("due");
    let mut t = Table::new(&["#", "client", "what", &due_h, "when", "moves"]);
    t.paint(4, paint::overdue);
    t.right_align(0);
    t.right_align(5);
    t.free_text(2);
    t.fit(terminal_width(out));
    for p in &r.promises {
        let when = if p.overdue {
            format!("OVERDUE {}d", p.days_overdue)
        } else {
            in_words(p.seconds_left)
        };
        let due = Due {
            at: p.due,
            date_only: p.date_only,
        };
        let client = if p.client_lost {
            format!("{} (lost)", p.client)
        } else {
            p.client.clone()
        };
        t.row(vec![
            p.promise.to_string(),
            client,
            p.what.clone(),
            zone::due_cell(&due),
            when,
            p.moves.to_string(),
        ]);
    }
    write!(out, "{t}").map_err(failed)
}

/// "in 3d", "in 5h", "in 20min".
fn in_words(seconds: i64) -> String {
    if seconds >= 86_400 {
        format!("in {}d", seconds / 86_400)
    } else if seconds >= 3_600 {
        format!("in {}h", seconds / 3_600)
    } else {
        format!("in {}min", (seconds / 60).max(0))
    }
}

pub fn audit(ctx: &Ctx, out: &mut Out, a: &AuditArgs) -> Result<(), CliError> {
    if a.csv && ctx.json {
        return Err(invalid("--csv and --json ask for two formats: choose one"));
    }
    let (from, to) = ctx.period(a.from.as_deref(), a.to.as_deref())?;
    let (t, now) = as_of_and_now(ctx, &a.as_of)?;
    let params = ctx.trust_params().ok();
    // JSON has no rows: the audit then keeps only the texts its flags
    // print, and builds no row per promise.
    let json_only = ctx.json && !a.csv;
    let needs = Needs {
        audit: true,
        audit_rows: !json_only,
        ..Needs::default()
    };
    let core = checkpoint::fold(&ctx.journal, t, &needs, params.as_ref(), true)?.core;
    let state = core.state;
    let au = core.audit.unwrap_or_default();
    if let Some(h) = &a.client {
        known_client(&state, h)?;
    }
    let q = AuditQuery {
        client: a.client.clone(),
        from,
        to,
    };
    if json_only {
        // SPEC's keys in SPEC's order, the client first when asked for;
        // written as made, through one buffer.
        au.write_json(now, &q, &mut *out)
            .and_then(|()| out.write_all(b"\n"))
            .map_err(failed)?;
        // The command ends here: handing the projections' allocations
        // back one by one would cost more than it saves.
        std::mem::forget((au, state));
        return Ok(());
    }
    let r = au.report(now, &q);
    // The command ends after printing: handing the projections'
    // allocations back one by one would cost more than it saves.
    std::mem::forget((au, state));
    if a.csv {
        if a.excel {
            out.write_all(zone::BOM).map_err(failed)?;
        }
        return write_audit_csv(out, &r).map_err(failed);
    }
    let terminal = out.is_terminal();
    let width = terminal_width(out);
    write_audit(out, &r, terminal, width).map_err(failed)
}

/// `audit --csv`: a header and one row per promise.
fn write_audit_csv(w: &mut impl Write, r: &AuditReport) -> std::io::Result<()> {
    csv::row(w, AuditRow::CSV_HEADER)?;
    for row in &r.rows {
        csv::row(w, row.csv_fields(zone::csv_due))?;
    }
    Ok(())
}

/// The audit for people: scope, rate, outcomes, (on a terminal) the rate
/// by month, moves, flags, and one row per promise (fitted to `width`).
fn write_audit(
    w: &mut impl Write,
    r: &AuditReport,
    terminal: bool,
    width: Option<usize>,
) -> std::io::Result<()> {
    let p = &r.promises;
    let scope = r.client.as_deref().map_or("all clients".into(), visible);
    let period = match (r.period.from, r.period.to) {
        (None, None) => "all time".to_string(),
        (f, t) => format!(
            "original due from {} to {}",
            f.map(|t| t.to_local_string())
                .unwrap_or_else(|| "the start".into()),
            t.map(|t| t.to_local_string())
                .unwrap_or_else(|| "any time later".into())
        ),
    };
    writeln!(w, "deadline audit: {scope}, {period}")?;
    let rate = r
        .original_date_hit_rate
        .map(|x| format!("{:.0}%", x * 100.0))
        .unwrap_or_else(|| "n/a (nothing decided yet)".into());
    writeln!(w, "kept as originally promised: {rate}")?;
    let mut t = Table::new(&["outcome", "promises"]);
    t.right_align(1);
    for (name, n) in [
        ("kept on time", p.kept_on_time),
        ("kept after a move", p.kept_after_move),
        ("kept late", p.kept_late),
        ("broken", p.broken),
        ("released", p.released),
        ("open, overdue", p.open_overdue),
        ("open", p.open),
        ("total", p.total),
    ] {
        t.row(vec![name.to_string(), n.to_string()]);
    }
    write!(w, "{t}")?;
    if terminal && !r.rows.is_empty() {
        writeln!(
            w,
            "kept as originally promised, by month of the original due:"
        )?;
        write!(
            w,
            "{}",
            chart::month_bars(&chart::on_time_by_month(&r.rows), 20, 12)
        )?;
    }
    writeln!(
        w,
        "moves: {} by us, {} by the client, {} external, {} pulled in to an earlier due; {} recorded after the due had passed",
        r.moves.us, r.moves.client, r.moves.external, r.moves.earlier, r.moves.after_due
    )?;
    if !r.flags.is_empty() {
        writeln!(w, "flags:")?;
        for f in &r.flags {
            writeln!(w, "  [{}] {}", f.kind, visible(&f.message))?;
        }
    }
    if !r.rows.is_empty() {
        writeln!(w)?;
        let (original, last) = (zone::header("original due"), zone::header("last due"));
        let mut t = Table::new(&[
            "#",
            "client",
            "what",
            &original,
            &last,
            "moves",
            "outcome",
            "days late",
        ]);
        t.right_align(0);
        t.right_align(5);
        t.right_align(7);
        t.paint(6, paint::outcome);
        t.free_text(2);
        t.fit(width);
        for row in &r.rows {
            t.row(vec![
                row.promise.to_string(),
                row.client.clone(),
                row.what.clone(),
                zone::due_cell(&Due {
                    at: row.original_due,
                    date_only: row.original_due_date_only,
                }),
                zone::due_cell(&Due {
                    at: row.last_due,
                    date_only: row.last_due_date_only,
                }),
                row.moves.to_string(),
                row.outcome.as_str().to_string(),
                row.days_late
                    .map(|d| d.to_string())
                    .unwrap_or_else(|| "-".into()),
            ]);
        }
        write!(w, "{t}")?;
    }
    Ok(())
}

/// The trust history as a table (time, seq, score, change, why), fitted
/// to `width` on a terminal: `trust --history` and a client's page.
pub fn trust_table(entries: &[TrustEntry], width: Option<usize>) -> Table {
    let when = zone::header("when");
    let mut t = Table::new(&[&when, "#", "score", "change", "why"]);
    for c in 1..4 {
        t.right_align(c);
    }
    t.free_text(4);
    t.fit(width);
    for e in entries {
        t.row(vec![
            e.at.to_local_string(),
            e.seq.to_string(),
            format!("{:.1}", e.score_points()),
            format!("{:+.1}", e.change_points()),
            e.reason.clone(),
        ]);
    }
    t
}

pub fn trust(ctx: &Ctx, out: &mut Out, a: &TrustArgs) -> Result<(), CliError> {
    let params = ctx.trust_params()?;
    let (t, _) = as_of_and_now(ctx, &a.as_of)?;
    let (state, tr) = replay_full(ctx, t, || {
        (
            State::hot_only(),
            Trust::for_client(&a.handle, params.clone()),
        )
    })?;
    known_client(&state, &a.handle)?;
    let r = tr
        .report(&a.handle)
        .ok_or_else(|| invalid(format!("no trust history for {:?}", a.handle)))?;
    if ctx.json {
        return json_out(out, &r);
    }
    let terminal = out.is_terminal();
    let width = terminal_width(out);
    write_trust(out, &r, a.history, terminal, width).map_err(failed)
}

/// A client's trust for people; with `history`, every change and why.
fn write_trust(
    w: &mut impl Write,
    r: &TrustReport,
    history: bool,
    terminal: bool,
    width: Option<usize>,
) -> std::io::Result<()> {
    writeln!(
        w,
        "{}: trust {:.0} / 100",
        visible(&r.client),
        r.score_points().round()
    )?;
    if r.debt_minutes_left > 0 {
        writeln!(
            w,
            "recovery debt: {:.1} h of positive contact still owed after a bad first impression",
            r.debt_minutes_left as f64 / 60.0
        )?;
    }
    if history {
        write!(w, "{}", trust_table(&r.history, width))?;
        if terminal {
            let points: Vec<f64> = r.history.iter().map(|e| e.score_points()).collect();
            write!(w, "{}", chart::curve(&points, 60, 8))?;
        }
    }
    Ok(())
}

pub fn postmortem(ctx: &Ctx, out: &mut Out, a: &PostmortemArgs) -> Result<(), CliError> {
    let params = ctx.trust_params()?;
    let (t, now) = as_of_and_now(ctx, &a.as_of)?;
    let (state, pm) = replay_full(ctx, t, || {
        (
            State::hot_only(),
            Postmortem::new(&a.handle, params.clone()),
        )
    })?;
    known_client(&state, &a.handle)?;
    let r = pm
        .report(now)
        .ok_or_else(|| invalid(format!("no history for {:?}", a.handle)))?;
    if ctx.json {
        return json_out(out, &r);
    }
    let terminal = out.is_terminal();
    let width = terminal_width(out);
    write_postmortem(out, &r, terminal, width).map_err(failed)
}

/// A post-mortem for people: how it ended, the warning signs, wanted vs
/// got, the audit, and the timeline.
fn write_postmortem(
    w: &mut impl Write,
    r: &PostmortemReport,
    terminal: bool,
    width: Option<usize>,
) -> std::io::Result<()> {
    writeln!(
        w,
        "post-mortem: {} ({})",
        visible(&r.client),
        visible(&r.name)
    )?;
    match (&r.lost_at, &r.lost_reason) {
        (Some(at), reason) => writeln!(
            w,
            "status: lost on {}: {}",
            at.to_local_string(),
            visible(reason.as_deref().unwrap_or(""))
        )?,
        _ => writeln!(w, "status: {}", r.status)?,
    }
    let fit_note = if r.fit_changes.is_empty() {
        String::new()
    } else {
        format!(
            " (started {}, {})",
            r.initial_fit,
            words::count(r.fit_changes.len() as u64, "change", "changes")
        )
    };
    writeln!(w, "fit: {}{fit_note}", r.fit)?;
    match &r.first_impression {
        Some(f) => writeln!(
            w,
            "first impression: {} on {}, mood {:+}",
            f.kind,
            f.at.to_local_string(),
            f.mood
        )?,
        None => writeln!(w, "first impression: no interaction recorded")?,
    }
    writeln!(
        w,
        "trust: {:.0} at the end, {:.0} now",
        r.trust_at_end.round(),
        r.trust.score_points().round()
    )?;
    if let Some(s) = &r.longest_silence {
        writeln!(
            w,
            "longest silence: {} ({} to {})",
            words::days(s.days),
            s.from.to_local_string(),
            s.to.to_local_string()
        )?;
    }
    if let Some(s) = &r.silence_before_end {
        writeln!(w, "silence before the end: {}", words::days(s.days))?;
    }
    writeln!(w)?;
    writeln!(w, "warning signs, most serious first:")?;
    if r.warnings.is_empty() {
        writeln!(w, "  none found")?;
    }
    // Numbered as listed; `rank` (kept in JSON) counts the kinds not found.
    for (n, x) in r.warnings.iter().enumerate() {
        writeln!(w, "  {}. [{}] {}", n + 1, x.kind, visible(&x.message))?;
    }
    writeln!(w)?;
    writeln!(w, "expectations vs mismatches:")?;
    if r.side_by_side.is_empty() {
        writeln!(w, "  none recorded")?;
    }
    for s in &r.side_by_side {
        match &s.expectation {
            Some(e) => writeln!(
                w,
                "  wanted ({}): {}",
                e.at.to_local_string(),
                visible(&e.text)
            )?,
            None => writeln!(w, "  wanted: (nothing recorded)")?,
        }
        for m in &s.mismatches {
            writeln!(
                w,
                "    not what they expected ({}): {}",
                m.at.to_local_string(),
                visible(&m.text)
            )?;
        }
    }
    writeln!(w)?;
    write_audit(w, &r.audit, terminal, width)?;
    writeln!(w)?;
    writeln!(w, "timeline:")?;
    let when = zone::header("when");
    let mut t = Table::new(&[&when, "#", "event", "trust"]);
    t.right_align(1);
    t.right_align(3);
    t.free_text(2);
    t.fit(width);
    for e in &r.timeline {
        let mut text = e.text.clone();
        if let Some(by) = e.retracted_by {
            text = format!("[retracted by #{by}] {text}");
        }
        t.row(vec![
            e.occurred_at.to_local_string(),
            e.seq.to_string(),
            text,
            e.trust_after
                .map(|s| format!("{:.0}", s.round()))
                .unwrap_or_else(|| "-".into()),
        ]);
    }
    write!(w, "{t}")?;
    if terminal {
        let points: Vec<f64> = r.trust.history.iter().map(|e| e.score_points()).collect();
        write!(w, "{}", chart::curve(&points, 60, 8))?;
    }
    Ok(())
}
