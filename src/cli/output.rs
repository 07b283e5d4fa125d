//! How events look to people: one line per event, dues in words, what a
//! recording command prints. The JSON form (for scripts, `export` and
//! `import`) is `events::json`.

use super::context::Ctx;
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

/// What a recording command prints: `promise make` prints the new id
/// alone (for `id=$(trustlog promise make …)`), the others `#seq summary`;
/// with `--json`, the appended event.
/// Tells the user that opening the journal for writing cut a torn tail
/// (a crash mid-append) and where its bytes were saved.
pub fn say_cut(ctx: &Ctx, cut: &Option<crate::log::TornCut>) {
    if let Some(cut) = cut {
        eprintln!(
            "trustlog: cut {} bytes of an incomplete write at offset {} of {} (a crash mid-append); saved them to {}",
            cut.len,
            cut.offset,
            ctx.journal.display(),
            cut.saved_to.display()
        );
    }
}

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
