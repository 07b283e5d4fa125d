//! trustlog as a library, without its command line: open a journal,
//! record a client, two promises, a move and a keep, then print the
//! deadline audit. `cargo run --example library [PATH]` (default: a
//! temporary file).

use trustlog::app::{Journal, JournalOptions, Recording};
use trustlog::events::{Cause, Due, Fit, InteractionKind, Party, Timestamp};
use trustlog::projections::audit::AuditQuery;

const HOUR: i64 = 3_600_000_000;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let path = match std::env::args_os().nth(1) {
        Some(p) => p.into(),
        None => dir.path().join("journal.tlog"),
    };
    let journal = Journal::open(&path, JournalOptions::new("ana"));
    // A pinned clock, advanced by hand: records follow each other in time.
    let start = Timestamp(1_780_000_000_000_000);
    let at = |h: i64| Timestamp(start.0 + h * HOUR);
    let due = |h: i64| Due {
        at: at(h),
        date_only: false,
    };

    journal.record(
        Recording::ClientAdd {
            handle: "acme".into(),
            name: Some("Acme Ltd".into()),
            fit: Fit::Target,
            note: String::new(),
        },
        None,
        at(0),
    )?;
    journal.record(
        Recording::Talk {
            client: "acme".into(),
            kind: InteractionKind::Call,
            mood: 1,
            minutes: Some(30),
            by: Party::Us,
            note: "kick-off".into(),
        },
        None,
        at(1),
    )?;
    let logo = journal.record(
        Recording::PromiseMake {
            client: "acme".into(),
            what: "logo drafts".into(),
            due: due(48),
        },
        None,
        at(2),
    )?;
    let book = journal.record(
        Recording::PromiseMake {
            client: "acme".into(),
            what: "brand book".into(),
            due: due(24),
        },
        None,
        at(3),
    )?;
    let (logo, book) = (
        logo.envelope.event.promise().unwrap_or_default(),
        book.envelope.event.promise().unwrap_or_default(),
    );
    journal.record(
        Recording::PromiseKeep {
            promise: logo,
            note: "sent".into(),
        },
        Some(at(40)),
        at(41),
    )?;
    journal
        .record(
            Recording::PromiseMove {
                promise: book,
                due: due(96),
                cause: Cause::Client,
                agreed: true,
                reason: "waiting for their copy".into(),
            },
            None,
            at(30),
        )
        // Refused: at(30) is before the keep's recorded_at (at(41)).
        .map(|_| ())
        .or_else(|e| {
            println!("refused, as it should be: {e}");
            Ok::<(), Box<dyn std::error::Error>>(())
        })?;

    let report = journal.audit(&AuditQuery::all(), None, at(100))?;
    let p = &report.promises;
    println!(
        "audit of {}: {} promises, {} kept on time, {} open overdue, original-date hit rate {}",
        path.display(),
        p.total,
        p.kept_on_time,
        p.open_overdue,
        report
            .original_date_hit_rate
            .map_or("n/a".to_string(), |r| format!("{:.0}%", r * 100.0)),
    );
    for f in &report.flags {
        println!("  flag {} (#{})", f.kind, f.seq.unwrap_or_default());
    }
    Ok(())
}
