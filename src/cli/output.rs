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
/// `log`): `projections::words::describe`, the one renderer of events, in
/// local time, without side notes.
pub fn summary(e: &Event) -> String {
    words::describe(&e.as_ref(), words::Zone::Local, words::Detail::Line)
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
