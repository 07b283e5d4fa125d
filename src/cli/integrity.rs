//! `head`, `verify` and `repair`: the integrity commands over the log layer.

use clap::Args;
use serde_json::json;

use super::context::Ctx;
use super::error::{invalid, CliError};
use crate::app::checkpoint;
use crate::app::progress::{Progress, Unit};
use crate::log::format::{from_hex, to_hex};
use crate::log::{self, DEFAULT_LOCK_WAIT};

#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// A digest printed earlier by `trustlog head`: prove the history up to
    /// it is unchanged (exit 3 if not)
    #[arg(long, value_name = "DIGEST")]
    pub head: Option<String>,
}

#[derive(Args, Debug)]
pub struct RepairArgs {
    /// Also rebuild a journal damaged inside: keep every intact record in a
    /// new journal (new chain), keep the old file under a new name
    #[arg(long)]
    pub salvage: bool,
}

pub fn head(ctx: &Ctx) -> Result<(), CliError> {
    let (seq, digest) = log::head(&ctx.journal)?;
    if ctx.json {
        println!("{}", json!({"seq": seq, "head": to_hex(&digest)}));
    } else {
        println!("{seq} {}", to_hex(&digest));
    }
    Ok(())
}

pub fn verify(ctx: &Ctx, a: &VerifyArgs) -> Result<(), CliError> {
    let expect = match &a.head {
        None => None,
        Some(s) => {
            // Accept what `head` prints ("<seq> <digest>") as well as the digest.
            let hex = s.split_whitespace().last().unwrap_or("");
            Some(from_hex(hex).ok_or_else(|| {
                invalid(format!(
                    "--head {s:?} is not a digest: expected the 64 hex digits printed by `trustlog head`"
                ))
            })?)
        }
    };
    let mut bar = Progress::new("verifying", Unit::Bytes, 0);
    let mut progress = |done: u64, total: u64| {
        bar.set_total(total);
        bar.at(done);
    };
    let r = log::verify(&ctx.journal, expect.as_ref(), &mut progress)?;
    // The derived files (the checkpoint) against a fresh fold of the log.
    let derived = checkpoint::verify_derived(
        &ctx.journal,
        ctx.trust_params().ok().as_ref(),
        ctx.now_ts().0,
    );
    let bad_derived = derived
        .iter()
        .find(|d| d.status == checkpoint::DerivedStatus::Differs);
    if ctx.json {
        let damage: Vec<_> = r
            .damage
            .iter()
            .map(|d| json!({"offset": d.offset, "seq": d.seq, "kind": d.kind.as_str(), "len": d.len}))
            .collect();
        let mut v = json!({
            "ok": r.ok() && bad_derived.is_none(), "records": r.records, "bytes": r.bytes,
            "last_seq": r.last_seq, "head": to_hex(&r.head), "damage": damage,
            "derived": derived_json(&derived),
        });
        if let Some(found) = r.head_found {
            v["head_found"] = json!(found);
        }
        if r.holes > 0 {
            v["holes"] = json!(r.holes);
        }
        println!("{v}");
    } else {
        println!(
            "{}: {} records, {} bytes, last #{}, head {}",
            ctx.journal.display(),
            r.records,
            r.bytes,
            r.last_seq,
            to_hex(&r.head)
        );
        if r.holes > 0 {
            println!(
                "{} records were lost in an earlier salvage (holes keep their numbers)",
                r.holes
            );
        }
        for d in &r.damage {
            let seq = d.seq.map(|s| format!(" (record #{s})")).unwrap_or_default();
            let lost = d
                .lost
                .map(|(a, b)| format!(", records #{a}..#{b} unreadable"))
                .unwrap_or_default();
            println!(
                "damage: {} at offset {}{seq}, {} bytes{lost}",
                d.kind.as_str(),
                d.offset,
                d.len
            );
        }
        match r.head_found {
            Some(true) => println!("the history up to the given head is unchanged"),
            Some(false) => println!(
                "the given head is NOT in this journal's chain: history up to it was rewritten, \
                 or it belongs to another journal"
            ),
            None => {}
        }
        for d in &derived {
            println!("{} {}: {}", d.kind, d.file.display(), d.detail);
        }
        if r.ok() && bad_derived.is_none() {
            println!("ok");
        }
    }
    if !r.ok() {
        return Err(CliError::Damaged(format!(
            "journal {} failed verification",
            ctx.journal.display()
        )));
    }
    match bad_derived {
        None => Ok(()),
        Some(d) => Err(CliError::Damaged(format!(
            "{} {} does not match the log: {} {}",
            d.kind,
            d.file.display(),
            d.section
                .map_or(String::new(), |s| format!("(first difference: {s})")),
            d.detail
        ))),
    }
}

/// `verify --json`'s `derived` array: one object per derived file next to
/// the journal (see README).
fn derived_json(derived: &[checkpoint::DerivedCheck]) -> serde_json::Value {
    derived
        .iter()
        .map(|d| {
            json!({
                "file": d.file.display().to_string(), "kind": d.kind,
                "status": d.status.as_str(), "seq": d.seq, "section": d.section,
                "detail": d.detail,
                "moved_to": d.moved_to.as_ref().map(|p| p.display().to_string()),
            })
        })
        .collect()
}

/// After a query: the one line that says the journal ended in a torn tail
/// the answer left out (a flip inside the last record reads as one), if a
/// read of it met one. Queries still answer; this is what keeps the
/// omission from being silent.
pub fn say_torn_tail(journal: &std::path::Path) {
    use std::io::Write as _;
    if let Some(t) = crate::app::replay::take_torn_tail(journal) {
        let _ = writeln!(
            std::io::stderr(),
            "trustlog: warning: journal {} ends in {} bytes at offset {} that are not a whole \
             record (a write cut short, or damage in the last record), left out of this answer: \
             run `trustlog verify`",
            journal.display(),
            t.len,
            t.offset
        );
    }
}

pub fn repair(ctx: &Ctx, a: &RepairArgs) -> Result<(), CliError> {
    let r = log::verify(&ctx.journal, None, &mut |_, _| {})?;
    let inner: Vec<_> = r
        .damage
        .iter()
        .filter(|d| d.kind != log::DamageKind::TornTail)
        .collect();
    if inner.is_empty() {
        if r.damage.is_empty() {
            println!(
                "nothing to repair: {} verifies clean",
                ctx.journal.display()
            );
            return Ok(());
        }
        // Only a torn tail: opening for writing cuts it (saved aside).
        let w = log::JournalWriter::open(&ctx.journal, ctx.now_ts().0, DEFAULT_LOCK_WAIT)?;
        match &w.cut {
            Some(cut) => println!(
                "cut {} bytes of an incomplete write at offset {}; saved to {}",
                cut.len,
                cut.offset,
                cut.saved_to.display()
            ),
            None => println!("nothing to repair"),
        }
        return Ok(());
    }
    if !a.salvage {
        return Err(CliError::Damaged(format!(
            "journal {} is damaged inside (first at offset {}); `trustlog repair --salvage` \
             rebuilds it from every intact record (the damaged file is kept)",
            ctx.journal.display(),
            inner[0].offset
        )));
    }
    let s = log::salvage(&ctx.journal, ctx.now_ts().0, DEFAULT_LOCK_WAIT)?;
    let lost: u64 = s
        .damage
        .iter()
        .filter_map(|d| d.lost.map(|(a, b)| b - a + 1))
        .sum();
    if ctx.json {
        println!(
            "{}",
            json!({
                "kept": s.kept, "holes": s.holes, "lost_records": lost,
                "original": s.original_saved_to.display().to_string(),
                "last_seq": s.last_seq, "head": to_hex(&s.new_head),
            })
        );
    } else {
        println!(
            "salvaged {}: kept {} records, {} lost (kept as numbered holes); new head {} at #{}",
            ctx.journal.display(),
            s.kept,
            s.holes,
            to_hex(&s.new_head),
            s.last_seq
        );
        println!(
            "the damaged original is kept as {}",
            s.original_saved_to.display()
        );
        println!("note: digests given out before this repair no longer verify (new chain)");
    }
    Ok(())
}
