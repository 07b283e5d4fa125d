//! How events look to people: one line per event, dues in words, what a
//! recording command prints. The JSON form (for scripts, `export` and
//! `import`) is `events::json`.

use std::io::Write;

use super::context::Ctx;
use super::text::visible;
use crate::events::json::envelope_json;
use crate::events::{Due, Envelope, Event};
use crate::projections::words;

/// One line for people: what happened, in words (acknowledgements and
/// `log`). Not yet one with `projections::words::describe` (timelines,
/// retraction flags): their wordings differ, and describe's words are
/// stored in audit checkpoints, so changing them needs a checkpoint
/// `LAYOUT` bump (issue 13, left open).
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
    words::due(d)
}

/// Tells the user that opening the journal for writing cut a torn tail
/// (a crash mid-append) and where its bytes were saved.
pub fn say_cut(ctx: &Ctx, cut: &Option<crate::log::TornCut>) {
    if let Some(cut) = cut {
        // A stderr that cannot be written has no one to tell.
        let _ = writeln!(
            std::io::stderr(),
            "trustlog: cut {} bytes of an incomplete write at offset {} of {} (a crash mid-append); saved them to {}",
            cut.len,
            cut.offset,
            visible(&ctx.journal.display().to_string()),
            visible(&cut.saved_to.display().to_string())
        );
    }
}

/// What a recording command prints: `promise make` prints the new id
/// alone (for `id=$(trustlog promise make …)`), the others `#seq summary`;
/// with `--json`, the appended event.
pub fn write_recorded(w: &mut impl Write, json: bool, env: &Envelope) -> std::io::Result<()> {
    if json {
        return writeln!(w, "{}", envelope_json(env));
    }
    match &env.event {
        Event::PromiseMade { promise, .. } => writeln!(w, "{promise}"),
        e => writeln!(w, "#{} {}", env.seq, visible(&summary(e))),
    }
}
