//! `export`: the journal's events out as JSON lines or CSV, for backups,
//! spreadsheets, scripts and other journals (`import` reads the JSON lines
//! back).
//!
//! One line per event, in journal order, every event included (retracted
//! ones too, and the retractions: a reader or an importer then sees exactly
//! what the journal holds). Each line is [`envelope_json`] plus two keys
//! ([`EXPORT_EXTRA_KEYS`]): `id`, the event's stable id
//! `<journal id in hex>-<seq>` — the journal id is the 16 random bytes of the
//! file header, fixed at creation, so the id names this event in this
//! journal for good, and two journals never share ids — and, on promise
//! events that only carry a promise id, the `client` of that promise.
//!
//! Filters: `--client H` keeps the client's own events and the events of
//! its promises; `--from`/`--to` keep events whose `occurred_at` falls in
//! the period. A retraction travels with the event it retracts (it is kept
//! whenever that event is, whatever its own time), so the filtered events
//! replay the way they do in the journal.

use std::collections::HashMap;
use std::io::Write;

use clap::{Args, ValueEnum};
use serde_json::{json, Map, Value};

use super::context::Ctx;
use super::csv;
use super::error::{invalid, CliError};
use super::out::{failed, Out};
use super::zone;
use crate::app::replay;
use crate::events::json::{envelope_json, parse_rfc3339, EXPORT_EXTRA_KEYS};
use crate::events::{Envelope, EventRef, PromiseId, Seq};
use crate::log;

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// One JSON object per line (what `import` reads)
    Jsonl,
    /// A header and one row per event, a fixed set of columns
    Csv,
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    #[arg(long, value_enum, default_value = "jsonl")]
    pub format: ExportFormat,
    /// Only this client's events (its promises' events included)
    #[arg(long, value_name = "HANDLE", value_parser = crate::cli::context::handle_arg)]
    pub client: Option<String>,
    /// Only events that occurred at or after WHEN
    #[arg(long, value_name = "WHEN")]
    pub from: Option<String>,
    /// …and at or before WHEN (a date means the end of that day)
    #[arg(long, value_name = "WHEN")]
    pub to: Option<String>,
    /// With --format csv: begin with the UTF-8 byte order mark Excel needs
    /// to read Korean and other non-ASCII text
    #[arg(long)]
    pub excel: bool,
}

/// The CSV columns, in order. Fixed: a column is empty where the event has
/// no such field, so every row has the same shape whatever its kind.
pub const CSV_COLUMNS: [&str; 25] = [
    "id",
    "seq",
    "kind",
    "recorded_at",
    "occurred_at",
    "author",
    "client",
    "promise",
    "name",
    "fit",
    "note",
    "reason",
    "text",
    "interaction",
    "advocacy",
    "mood",
    "minutes",
    "by",
    "what",
    "due",
    "due_date_only",
    "cause",
    "agreed",
    "by_client",
    "retracted",
];

/// `<journal id in hex>-<seq>`: the stable id of an event.
pub fn event_id(journal_id: &[u8; 16], seq: Seq) -> String {
    let mut s = String::with_capacity(32 + 1 + 20);
    for b in journal_id {
        s.push_str(&format!("{b:02x}"));
    }
    s.push('-');
    s.push_str(&seq.to_string());
    s
}

/// The export line of one event: [`envelope_json`] + `id` (+ `client` on
/// promise events, from `promise_client`).
pub fn export_json(
    env: &Envelope,
    journal_id: &[u8; 16],
    promise_client: &HashMap<PromiseId, String>,
) -> Map<String, Value> {
    let mut m = match envelope_json(env) {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    debug_assert!(EXPORT_EXTRA_KEYS.contains(&"id"));
    m.insert("id".into(), json!(event_id(journal_id, env.seq)));
    if !m.contains_key("client") {
        if let Some(c) = env.event.promise().and_then(|p| promise_client.get(&p)) {
            m.insert("client".into(), json!(c));
        }
    }
    m
}

pub fn export(ctx: &Ctx, out: &mut Out, a: &ExportArgs) -> Result<(), CliError> {
    if a.excel && a.format != ExportFormat::Csv {
        return Err(invalid(
            "--excel writes a byte order mark for spreadsheets: it goes with --format csv",
        ));
    }
    let (from, to) = ctx.period(a.from.as_deref(), a.to.as_deref())?;
    // The id needs the header; reading it first also gives the usual
    // "no journal at …" error for a missing file.
    let journal_id = log::open_scan(&ctx.journal, false, false)?
        .header()
        .journal_id;
    if let Some(c) = &a.client {
        // A first pass, so that an unknown client is an error before any
        // output (the events of a client only follow its ClientAdded).
        let mut known = false;
        replay::for_each_event(&ctx.journal, None, None, &mut |e| {
            known |= matches!(e.event, EventRef::ClientAdded { handle, .. } if handle == c);
            Ok(())
        })?;
        if !known {
            return Err(invalid(format!(
                "unknown client {c:?}: no ClientAdded event in {} names it",
                ctx.journal.display()
            )));
        }
    }

    if a.format == ExportFormat::Csv {
        if a.excel {
            out.write_all(zone::BOM).map_err(failed)?;
        }
        csv::row(out, CSV_COLUMNS).map_err(failed)?;
    }
    // Streamed (issue 13): nothing but who each promise belongs to and
    // which events were kept is held, whatever the journal's size.
    let mut promise_client: HashMap<PromiseId, String> = HashMap::new();
    let mut kept = SeqSet::default();
    replay::for_each_event(&ctx.journal, None, None, &mut |e| {
        if let EventRef::PromiseMade {
            promise, client, ..
        } = e.event
        {
            promise_client.insert(promise, client.to_string());
        }
        let keep = match e.event {
            // A retraction travels with the event it retracts.
            EventRef::Retracted { seq, .. } => kept.contains(seq),
            _ => {
                let client_of = e.event.client().or_else(|| {
                    e.event
                        .promise()
                        .and_then(|p| promise_client.get(&p).map(String::as_str))
                });
                let own = a.client.as_deref().is_none_or(|c| client_of == Some(c))
                    && from.is_none_or(|f| e.occurred_at >= f)
                    && to.is_none_or(|t| e.occurred_at <= t);
                if own {
                    kept.insert(e.seq);
                }
                own
            }
        };
        if !keep {
            return Ok(());
        }
        let m = export_json(&e.to_owned(), &journal_id, &promise_client);
        match a.format {
            ExportFormat::Jsonl => serde_json::to_writer(&mut *out, &m)
                .map_err(std::io::Error::from)
                .and_then(|()| out.write_all(b"\n")),
            ExportFormat::Csv => csv::row(out, CSV_COLUMNS.iter().map(|c| csv_value(&m, c))),
        }
        .map_err(failed)
    })?;
    Ok(())
}

/// A set of seqs as one bit each (seqs are dense from 1): which events
/// the filters kept, for the retractions that follow them.
#[derive(Default)]
struct SeqSet(Vec<u64>);

impl SeqSet {
    fn insert(&mut self, seq: Seq) {
        let (word, bit) = ((seq / 64) as usize, seq % 64);
        if self.0.len() <= word {
            self.0.resize(word + 1, 0);
        }
        self.0[word] |= 1 << bit;
    }

    fn contains(&self, seq: Seq) -> bool {
        let (word, bit) = ((seq / 64) as usize, seq % 64);
        self.0.get(word).is_some_and(|w| w & (1 << bit) != 0)
    }
}

/// The CSV cell of column `col` of an event's export JSON `m`: times in
/// the local zone with its offset, a date-only due as its day (see
/// [`zone::csv_due`]); the rest as [`csv_cell`].
fn csv_value(m: &Map<String, Value>, col: &str) -> String {
    let time = |k: &str| m.get(k).and_then(Value::as_str).and_then(parse_rfc3339);
    match col {
        "recorded_at" | "occurred_at" => match time(col) {
            Some(t) => zone::csv_time(t),
            None => csv_cell(m.get(col)),
        },
        "due" => match time(col) {
            Some(t) => zone::csv_due(t, m.get("due_date_only") == Some(&Value::Bool(true))),
            None => csv_cell(m.get(col)),
        },
        _ => csv_cell(m.get(col)),
    }
}

/// A JSON value as a CSV cell: strings as they are, numbers and booleans
/// as JSON writes them, null or absent as an empty cell.
fn csv_cell(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_id_is_hex_journal_id_and_seq() {
        let mut id = [0u8; 16];
        id[0] = 0xab;
        id[15] = 0x01;
        assert_eq!(event_id(&id, 42), "ab000000000000000000000000000001-42");
    }

    #[test]
    fn seq_set_holds_what_was_inserted() {
        let mut s = SeqSet::default();
        for q in [1, 63, 64, 1000] {
            s.insert(q);
        }
        assert!(s.contains(1) && s.contains(63) && s.contains(64) && s.contains(1000));
        assert!(!s.contains(2) && !s.contains(65) && !s.contains(5000));
    }

    #[test]
    fn csv_cells_of_json_values() {
        assert_eq!(csv_cell(Some(&json!(null))), "");
        assert_eq!(csv_cell(Some(&json!(-2))), "-2");
        assert_eq!(csv_cell(Some(&json!(true))), "true");
        assert_eq!(csv_cell(None), "");
    }
}
