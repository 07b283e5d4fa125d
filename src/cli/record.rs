//! The recording commands: clap's arguments of each, turned into an
//! [`app::Recording`](crate::app::Recording) that the journal handle
//! validates (`app::rules`) and appends; then the result rendered. On any
//! error nothing is written.

use clap::Args;

use super::context::Ctx;
use super::error::{invalid, CliError};
use super::out::Out;
use super::output;
use crate::app::rules::Wording;
use crate::app::{Journal, JournalOptions, RecordError, Recording};
use crate::events::{AdvocacyKind, Cause, Due, Fit, InteractionKind, Party, PromiseId, Seq};
use crate::log::DEFAULT_LOCK_WAIT;

/// `--at WHEN`, taken by every recording command.
#[derive(Args, Debug, Clone, Default)]
pub struct AtArg {
    /// When it happened (default: now). Same forms as --due.
    #[arg(long, value_name = "WHEN", global = true, allow_hyphen_values = true)]
    pub at: Option<String>,
}

#[derive(Args, Debug)]
pub struct ClientAddArgs {
    /// Short name: lower-case letters and digits of any script, '-' and '_' (e.g. acme, 에이투지)
    #[arg(value_parser = crate::cli::context::handle_arg)]
    pub handle: String,
    /// Display name (default: the handle)
    #[arg(long)]
    pub name: Option<String>,
    /// target or off-target
    #[arg(long, default_value = "target", value_parser = crate::cli::words::words::<Fit>(Fit::WORDS))]
    pub fit: Fit,
    #[arg(long, default_value = "")]
    pub note: String,
}

#[derive(Args, Debug)]
pub struct ClientFitArgs {
    #[arg(value_parser = crate::cli::context::handle_arg)]
    pub handle: String,
    /// target or off-target
    #[arg(value_parser = crate::cli::words::words::<Fit>(Fit::WORDS))]
    pub fit: Fit,
    #[arg(long, default_value = "")]
    pub reason: String,
}

#[derive(Args, Debug)]
pub struct ClientTextArgs {
    #[arg(value_parser = crate::cli::context::handle_arg)]
    pub handle: String,
    /// In the client's words
    #[arg(required = true, num_args = 1..)]
    pub text: Vec<String>,
}

#[derive(Args, Debug)]
pub struct ClientLostArgs {
    #[arg(value_parser = crate::cli::context::handle_arg)]
    pub handle: String,
    #[arg(long)]
    pub reason: String,
}

#[derive(Args, Debug)]
pub struct ClientBackArgs {
    #[arg(value_parser = crate::cli::context::handle_arg)]
    pub handle: String,
    #[arg(long, default_value = "")]
    pub note: String,
}

#[derive(Args, Debug)]
pub struct ClientPraiseArgs {
    #[arg(value_parser = crate::cli::context::handle_arg)]
    pub handle: String,
    /// referral, testimonial, upsell or cross-sell
    #[arg(long, value_parser = crate::cli::words::words::<AdvocacyKind>(AdvocacyKind::WORDS))]
    pub kind: AdvocacyKind,
    /// We asked for it (default: the client offered it on their own)
    #[arg(long)]
    pub by_us: bool,
    pub text: Vec<String>,
}

#[derive(Args, Debug)]
pub struct TalkArgs {
    #[arg(value_parser = crate::cli::context::handle_arg)]
    pub handle: String,
    /// meeting, call, email, message, visit, delivery or other
    #[arg(long, default_value = "other", value_parser = crate::cli::words::words::<InteractionKind>(InteractionKind::WORDS))]
    pub kind: InteractionKind,
    /// How it went: -2 (very bad) to 2 (very good)
    #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
    pub mood: i64,
    /// How long it lasted
    #[arg(long, allow_negative_numbers = true)]
    pub minutes: Option<i64>,
    /// Who took the initiative: us or client
    #[arg(long = "by", default_value = "us", value_parser = crate::cli::words::words::<Party>(Party::WORDS))]
    pub by: Party,
    pub text: Vec<String>,
}

#[derive(Args, Debug)]
pub struct PromiseMakeArgs {
    #[arg(value_parser = crate::cli::context::handle_arg)]
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
    #[arg(long, value_parser = crate::cli::words::words::<Cause>(Cause::WORDS))]
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

/// Runs a recording through the journal handle and renders the result.
/// `due` is the `--due` the user typed, for the words of a refusal.
fn record(
    ctx: &Ctx,
    out: &mut Out,
    at: &AtArg,
    due: Option<&str>,
    rec: Recording,
) -> Result<(), CliError> {
    let wording = Wording::Command {
        at: at.at.as_deref(),
        due,
    };
    // The rules of the event by itself come before `--at` is read, as they
    // always did (the first error a user sees stays the same).
    rec.to_event(0).map_err(|e| invalid(e.render(wording)))?;
    let at_ts = match &at.at {
        None => None,
        Some(s) => Some(ctx.when("--at", s, false)?.at),
    };
    let journal = Journal::open(
        &ctx.journal,
        JournalOptions {
            author: ctx.author.clone(),
            trust: ctx.trust_params().ok(),
            lock_wait: DEFAULT_LOCK_WAIT,
        },
    );
    match journal.record(rec, at_ts, ctx.now_ts()) {
        Ok(r) => {
            output::say_cut(ctx, &r.cut);
            // Durable from here: a failed confirmation must say so.
            out.recorded(r.envelope.seq, r.envelope.seq);
            let terminal = out.is_terminal();
            output::write_recorded(
                out,
                ctx.json,
                terminal,
                &r.envelope,
                r.promise_before.as_ref(),
            )
            .map_err(super::out::failed)
        }
        Err(RecordError::Refused(e)) => Err(invalid(e.render(wording))),
        Err(RecordError::Failed(e)) => Err(e),
    }
}

fn text(parts: &[String]) -> String {
    parts.join(" ")
}

fn due(ctx: &Ctx, s: &str) -> Result<Due, CliError> {
    let w = ctx.when("--due", s, true)?;
    Ok(Due {
        at: w.at,
        date_only: w.date_only,
    })
}

pub fn client_add(ctx: &Ctx, out: &mut Out, at: &AtArg, a: &ClientAddArgs) -> Result<(), CliError> {
    let rec = Recording::ClientAdd {
        handle: a.handle.clone(),
        name: a.name.clone(),
        fit: a.fit,
        note: a.note.clone(),
    };
    record(ctx, out, at, None, rec)
}

pub fn client_fit(ctx: &Ctx, out: &mut Out, at: &AtArg, a: &ClientFitArgs) -> Result<(), CliError> {
    let rec = Recording::ClientFit {
        client: a.handle.clone(),
        fit: a.fit,
        reason: a.reason.clone(),
    };
    record(ctx, out, at, None, rec)
}

pub fn client_want(
    ctx: &Ctx,
    out: &mut Out,
    at: &AtArg,
    a: &ClientTextArgs,
) -> Result<(), CliError> {
    let rec = Recording::Expectation {
        client: a.handle.clone(),
        text: text(&a.text),
    };
    record(ctx, out, at, None, rec)
}

pub fn client_mismatch(
    ctx: &Ctx,
    out: &mut Out,
    at: &AtArg,
    a: &ClientTextArgs,
) -> Result<(), CliError> {
    let rec = Recording::Mismatch {
        client: a.handle.clone(),
        text: text(&a.text),
    };
    record(ctx, out, at, None, rec)
}

pub fn client_lost(
    ctx: &Ctx,
    out: &mut Out,
    at: &AtArg,
    a: &ClientLostArgs,
) -> Result<(), CliError> {
    let rec = Recording::ClientLost {
        client: a.handle.clone(),
        reason: a.reason.clone(),
    };
    record(ctx, out, at, None, rec)
}

pub fn client_back(
    ctx: &Ctx,
    out: &mut Out,
    at: &AtArg,
    a: &ClientBackArgs,
) -> Result<(), CliError> {
    let rec = Recording::ClientBack {
        client: a.handle.clone(),
        note: a.note.clone(),
    };
    record(ctx, out, at, None, rec)
}

pub fn client_praise(
    ctx: &Ctx,
    out: &mut Out,
    at: &AtArg,
    a: &ClientPraiseArgs,
) -> Result<(), CliError> {
    let rec = Recording::Praise {
        client: a.handle.clone(),
        kind: a.kind,
        by_client: !a.by_us,
        note: text(&a.text),
    };
    record(ctx, out, at, None, rec)
}

pub fn talk(ctx: &Ctx, out: &mut Out, at: &AtArg, a: &TalkArgs) -> Result<(), CliError> {
    let rec = Recording::Talk {
        client: a.handle.clone(),
        kind: a.kind,
        mood: a.mood,
        minutes: a.minutes,
        by: a.by,
        note: text(&a.text),
    };
    record(ctx, out, at, None, rec)
}

pub fn promise_make(
    ctx: &Ctx,
    out: &mut Out,
    at: &AtArg,
    a: &PromiseMakeArgs,
) -> Result<(), CliError> {
    if a.what.trim().is_empty() {
        // Before --due is read, as it always was.
        let e = crate::app::RuleError::Empty(crate::app::rules::Field::What);
        return Err(invalid(e.render(Wording::Command {
            at: None,
            due: None,
        })));
    }
    let rec = Recording::PromiseMake {
        client: a.handle.clone(),
        what: a.what.clone(),
        due: due(ctx, &a.due)?,
    };
    record(ctx, out, at, Some(&a.due), rec)
}

pub fn promise_move(
    ctx: &Ctx,
    out: &mut Out,
    at: &AtArg,
    a: &PromiseMoveArgs,
) -> Result<(), CliError> {
    let rec = Recording::PromiseMove {
        promise: a.id,
        due: due(ctx, &a.due)?,
        cause: a.cause,
        agreed: a.agreed,
        reason: a.reason.clone(),
    };
    record(ctx, out, at, Some(&a.due), rec)
}

pub fn promise_keep(
    ctx: &Ctx,
    out: &mut Out,
    at: &AtArg,
    a: &PromiseKeepArgs,
) -> Result<(), CliError> {
    let rec = Recording::PromiseKeep {
        promise: a.id,
        note: a.note.clone(),
    };
    record(ctx, out, at, None, rec)
}

pub fn promise_break(
    ctx: &Ctx,
    out: &mut Out,
    at: &AtArg,
    a: &PromiseCloseArgs,
) -> Result<(), CliError> {
    let rec = Recording::PromiseBreak {
        promise: a.id,
        reason: a.reason.clone(),
    };
    record(ctx, out, at, None, rec)
}

pub fn promise_release(
    ctx: &Ctx,
    out: &mut Out,
    at: &AtArg,
    a: &PromiseCloseArgs,
) -> Result<(), CliError> {
    let rec = Recording::PromiseRelease {
        promise: a.id,
        reason: a.reason.clone(),
    };
    record(ctx, out, at, None, rec)
}

pub fn retract(ctx: &Ctx, out: &mut Out, at: &AtArg, a: &RetractArgs) -> Result<(), CliError> {
    let rec = Recording::Retract {
        seq: a.seq,
        reason: a.reason.clone(),
    };
    record(ctx, out, at, None, rec)
}
