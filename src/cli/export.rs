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

use std::collections::{HashMap, HashSet};
use std::io::{BufWriter, Write};

use clap::{Args, ValueEnum};
use serde_json::{json, Map, Value};

use super::context::{read_all, Ctx};
use super::error::{invalid, CliError};
use crate::events::json::{envelope_json, EXPORT_EXTRA_KEYS};
use crate::events::{Envelope, Event, PromiseId, Seq};
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
    #[arg(long, value_name = "HANDLE")]
    pub client: Option<String>,
    /// Only events that occurred at or after WHEN
    #[arg(long, value_name = "WHEN")]
    pub from: Option<String>,
    /// …and at or before WHEN (a date means the end of that day)
    #[arg(long, value_name = "WHEN")]
    pub to: Option<String>,
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

pub fn export(ctx: &Ctx, a: &ExportArgs) -> Result<(), CliError> {
    let (from, to) = ctx.period(a.from.as_deref(), a.to.as_deref())?;
    // The id needs the header; reading it first also gives the usual
    // "no journal at …" error for a missing file.
    let journal_id = log::open_scan(&ctx.journal, false, false)?
        .header()
        .journal_id;
    let envs = read_all(&ctx.journal)?;

    let mut promise_client: HashMap<PromiseId, String> = HashMap::new();
    for e in &envs {
        if let Event::PromiseMade {
            promise, client, ..
        } = &e.event
        {
            promise_client.insert(*promise, client.clone());
        }
    }
    if let Some(c) = &a.client {
        let known = envs
            .iter()
            .any(|e| matches!(&e.event, Event::ClientAdded { handle, .. } if handle == c));
        if !known {
            return Err(invalid(format!(
                "unknown client {c:?}: no ClientAdded event in {} names it",
                ctx.journal.display()
            )));
        }
    }
    let selected = select(&envs, &promise_client, a.client.as_deref(), from, to);

    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let io = |e: std::io::Error| CliError::Io(format!("writing the export to stdout: {e}"));
    if a.format == ExportFormat::Csv {
        out.write_all(csv_line(CSV_COLUMNS.iter().map(|c| c.to_string())).as_bytes())
            .map_err(io)?;
    }
    for e in selected {
        let m = export_json(e, &journal_id, &promise_client);
        let line = match a.format {
            ExportFormat::Jsonl => {
                let mut s = Value::Object(m).to_string();
                s.push('\n');
                s
            }
            ExportFormat::Csv => csv_line(CSV_COLUMNS.iter().map(|c| csv_cell(m.get(*c)))),
        };
        out.write_all(line.as_bytes()).map_err(io)?;
    }
    out.flush().map_err(io)
}

/// The events kept by the filters, in journal order (see the module docs).
fn select<'e>(
    envs: &'e [Envelope],
    promise_client: &HashMap<PromiseId, String>,
    client: Option<&str>,
    from: Option<crate::events::Timestamp>,
    to: Option<crate::events::Timestamp>,
) -> Vec<&'e Envelope> {
    let client_of = |e: &Envelope| -> Option<String> {
        e.event.client().map(str::to_string).or_else(|| {
            e.event
                .promise()
                .and_then(|p| promise_client.get(&p).cloned())
        })
    };
    let keep_own = |e: &Envelope| -> bool {
        client.is_none_or(|c| client_of(e).as_deref() == Some(c))
            && from.is_none_or(|f| e.occurred_at >= f)
            && to.is_none_or(|t| e.occurred_at <= t)
    };
    let kept: HashSet<Seq> = envs
        .iter()
        .filter(|e| !matches!(e.event, Event::Retracted { .. }) && keep_own(e))
        .map(|e| e.seq)
        .collect();
    envs.iter()
        .filter(|e| match &e.event {
            Event::Retracted { seq, .. } => kept.contains(seq),
            _ => kept.contains(&e.seq),
        })
        .collect()
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

/// RFC 4180: CRLF line ends; a field holding a comma, quote or line break
/// is quoted, with quotes doubled.
fn csv_line(fields: impl Iterator<Item = String>) -> String {
    let cells: Vec<String> = fields
        .map(|f| {
            if f.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", f.replace('"', "\"\""))
            } else {
                f
            }
        })
        .collect();
    format!("{}\r\n", cells.join(","))
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
    fn csv_quotes_only_when_needed() {
        let line = csv_line(
            ["a", "b,c", "say \"hi\"", "x\ny"]
                .iter()
                .map(|s| s.to_string()),
        );
        assert_eq!(line, "a,\"b,c\",\"say \"\"hi\"\"\",\"x\ny\"\r\n");
        assert_eq!(csv_cell(Some(&json!(null))), "");
        assert_eq!(csv_cell(Some(&json!(-2))), "-2");
        assert_eq!(csv_cell(Some(&json!(true))), "true");
        assert_eq!(csv_cell(None), "");
    }
}
