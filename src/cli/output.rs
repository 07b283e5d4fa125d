//! How events look to people: one line per event, dues in words, what a
//! recording command prints. The JSON form (for scripts, `export` and
//! `import`) is `events::json`.

use std::io::Write;

use super::context::Ctx;
use super::text::visible;
use crate::events::json::envelope_json;
use crate::events::{Due, Envelope, Event, Timestamp};
use crate::projections::audit::{Closed, Outcome};
use crate::projections::state::Promise;
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
/// with `--json`, the appended event. On a terminal (`terminal`), a promise
/// made or kept says more: what, for whom, and for a keep whether it was on
/// time against the ORIGINAL due; `before` is the promise as it stood just
/// before the recording (from the state it was validated against).
pub fn write_recorded(
    w: &mut impl Write,
    json: bool,
    terminal: bool,
    env: &Envelope,
    before: Option<&Promise>,
) -> std::io::Result<()> {
    if json {
        return writeln!(w, "{}", envelope_json(env));
    }
    match (&env.event, terminal, before) {
        (
            Event::PromiseMade {
                promise,
                client,
                what,
                due,
            },
            true,
            _,
        ) => writeln!(
            w,
            "promise {promise} made: {} for {}, due {}",
            visible(what),
            visible(client),
            due_text(due)
        ),
        (Event::PromiseKept { promise, .. }, true, Some(p)) => writeln!(
            w,
            "promise {promise} ({} for {}) {}",
            visible(&p.what),
            visible(&p.client),
            kept_words(p, env.occurred_at)
        ),
        (Event::PromiseMade { promise, .. }, false, _) => writeln!(w, "{promise}"),
        (e, _, _) => writeln!(w, "#{} {}", env.seq, visible(&summary(e))),
    }
}

/// "kept on time (due 2026-03-05)", or "kept 2 days late against the
/// original 2026-03-05 (last due 2026-03-07)": judged as the audit judges
/// it, against the original due (or the earlier due it was pulled in to).
pub fn kept_words(p: &Promise, kept_at: Timestamp) -> String {
    // Judged by the audit's one rule (`Outcome::judge`), so these words can
    // never say "on time" where the audit says otherwise.
    let pulled_in = p.due.at < p.original_due.at;
    let kept = Some((Closed::Kept, kept_at));
    if Outcome::judge(p.original_due.at, p.due.at, kept, kept_at) == Outcome::KeptOnTime {
        return if p.moves == 0 || p.due == p.original_due {
            format!("kept on time (due {})", due_text(&p.due))
        } else {
            format!(
                "kept on time (original due {}, last due {})",
                due_text(&p.original_due),
                due_text(&p.due)
            )
        };
    }
    let late =
        words::days(Outcome::days_late(p.original_due.at, p.due.at, kept, kept_at).unwrap_or(0));
    if pulled_in {
        format!(
            "kept {late} late against the due it was pulled in to, {} (original {})",
            due_text(&p.due),
            due_text(&p.original_due)
        )
    } else if p.moves == 0 || p.due == p.original_due {
        format!("kept {late} late (due {})", due_text(&p.due))
    } else {
        format!(
            "kept {late} late against the original {} (last due {})",
            due_text(&p.original_due),
            due_text(&p.due)
        )
    }
}
