//! The query commands: each replays the journal (as known at `--as-of`)
//! into the projections it needs and renders the answer as an aligned
//! table, or JSON with `--json`.

use std::collections::HashMap;

use clap::Args;
use serde_json::{json, Value};

use super::context::{cut_as_of, read_all, Ctx};
use super::error::{invalid, CliError};
use super::output::{envelope_json, summary};
use super::table::Table;
use crate::events::{Envelope, Event, Timestamp, EVENT_KINDS};

/// `--as-of WHEN`, taken by every query.
#[derive(Args, Debug, Clone, Default)]
pub struct AsOfArg {
    /// Answer as it was known then: only events recorded by WHEN count, and
    /// "now" is WHEN
    #[arg(long, value_name = "WHEN")]
    pub as_of: Option<String>,
}

#[derive(Args, Debug)]
pub struct LogArgs {
    /// Only events about this client (its promises included)
    #[arg(long, value_name = "HANDLE")]
    pub client: Option<String>,
    /// Only events of this kind, e.g. PromiseMoved (case and dashes ignored)
    #[arg(long, value_name = "KIND")]
    pub kind: Option<String>,
    #[command(flatten)]
    pub as_of: AsOfArg,
}

/// The events as known at `--as-of` (all of them without it), and the
/// instant that counts as "now" for the answer.
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

pub fn log(ctx: &Ctx, a: &LogArgs) -> Result<(), CliError> {
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
    let (envs, _) = load(ctx, &a.as_of)?;
    if let Some(c) = &a.client {
        let known = envs
            .iter()
            .any(|e| matches!(&e.event, Event::ClientAdded { handle, .. } if handle == c));
        if !known {
            return Err(invalid(format!(
                "unknown client {c:?}: no ClientAdded event names it"
            )));
        }
    }
    let mut promise_client: HashMap<u64, &str> = HashMap::new();
    let mut retracted_by: HashMap<u64, u64> = HashMap::new();
    for e in &envs {
        match &e.event {
            Event::PromiseMade {
                promise, client, ..
            } => {
                promise_client.insert(*promise, client);
            }
            Event::Retracted { seq, .. } => {
                retracted_by.insert(*seq, e.seq);
            }
            _ => {}
        }
    }
    let client_of = |e: &Envelope| -> Option<String> {
        e.event.client().map(str::to_string).or_else(|| {
            e.event
                .promise()
                .and_then(|p| promise_client.get(&p).map(|c| c.to_string()))
        })
    };
    let selected: Vec<&Envelope> = envs
        .iter()
        .filter(|e| kind.is_none_or(|k| e.event.kind_name() == k))
        .filter(|e| {
            a.client
                .as_ref()
                .is_none_or(|c| client_of(e).as_deref() == Some(c.as_str()))
        })
        .collect();
    if ctx.json {
        let rows: Vec<Value> = selected
            .iter()
            .map(|e| {
                let mut v = envelope_json(e);
                v["retracted_by"] = json!(retracted_by.get(&e.seq));
                v
            })
            .collect();
        println!("{}", Value::Array(rows));
        return Ok(());
    }
    let mut t = Table::new(&["#", "occurred", "author", "kind", "what"]);
    t.right_align(0);
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
        println!("no events");
    } else {
        print!("{t}");
    }
    Ok(())
}
