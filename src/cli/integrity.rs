//! `head`, `verify` and `repair`: the integrity commands over the log layer.

use std::io::Write;

use clap::Args;
use serde_json::json;

use super::context::Ctx;
use super::error::{invalid, CliError};
use super::out::{failed, Out};
use super::text::visible;
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

pub fn head(ctx: &Ctx, out: &mut Out) -> Result<(), CliError> {
    let (seq, digest) = log::head(&ctx.journal)?;
    if ctx.json {
        writeln!(out, "{}", json!({"seq": seq, "head": to_hex(&digest)}))
    } else {
        writeln!(out, "{seq} {}", to_hex(&digest))
    }
    .map_err(failed)
}

pub fn verify(ctx: &Ctx, out: &mut Out, a: &VerifyArgs) -> Result<(), CliError> {
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
    write_verify(out, ctx, &r, &derived, bad_derived.is_none()).map_err(failed)?;
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

/// What `verify` prints: the summary, each damage, the `--head` verdict,
/// each derived file, and `ok` when all is well (or the JSON of it).
fn write_verify(
    w: &mut impl Write,
    ctx: &Ctx,
    r: &log::VerifyReport,
    derived: &[checkpoint::DerivedCheck],
    derived_ok: bool,
) -> std::io::Result<()> {
    if ctx.json {
        let damage: Vec<_> = r
            .damage
            .iter()
            .map(|d| json!({"offset": d.offset, "seq": d.seq, "kind": d.kind.as_str(), "len": d.len}))
            .collect();
        let mut v = json!({
            "ok": r.ok() && derived_ok, "records": r.records, "bytes": r.bytes,
            "last_seq": r.last_seq, "head": to_hex(&r.head), "damage": damage,
            "derived": derived_json(derived),
        });
        if let Some(found) = r.head_found {
            v["head_found"] = json!(found);
        }
        if r.holes > 0 {
            v["holes"] = json!(r.holes);
        }
        return writeln!(w, "{v}");
    }
    writeln!(
        w,
        "{}: {}, {} bytes, last #{}, head {}",
        path(&ctx.journal),
        crate::projections::words::count(r.records, "record", "records"),
        r.bytes,
        r.last_seq,
        to_hex(&r.head)
    )?;
    if r.holes > 0 {
        writeln!(
            w,
            "{} lost in an earlier salvage (holes keep their numbers)",
            match r.holes {
                1 => "1 record was".to_string(),
                n => format!("{n} records were"),
            }
        )?;
    }
    for d in &r.damage {
        let seq = d.seq.map(|s| format!(" (record #{s})")).unwrap_or_default();
        let lost = d
            .lost
            .map(|(a, b)| format!(", records #{a}..#{b} unreadable"))
            .unwrap_or_default();
        writeln!(
            w,
            "damage: {} at offset {}{seq}, {} bytes{lost}",
            d.kind.as_str(),
            d.offset,
            d.len
        )?;
    }
    match r.head_found {
        Some(true) => writeln!(w, "the history up to the given head is unchanged")?,
        Some(false) => writeln!(
            w,
            "the given head is NOT in this journal's chain: history up to it was rewritten, \
             or it belongs to another journal"
        )?,
        None => {}
    }
    for d in derived {
        writeln!(w, "{} {}: {}", d.kind, path(&d.file), visible(&d.detail))?;
    }
    if r.ok() && derived_ok {
        writeln!(w, "ok")?;
    }
    Ok(())
}

/// A path for people: control characters in a file name shown escaped.
fn path(p: &std::path::Path) -> String {
    visible(&p.display().to_string()).into_owned()
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
    if let Some(t) = crate::app::replay::take_torn_tail(journal) {
        let _ = writeln!(
            std::io::stderr(),
            "trustlog: warning: journal {} ends in {} bytes at offset {} that are not a whole \
             record (a write cut short, or damage in the last record), left out of this answer: \
             run `trustlog verify`",
            path(journal),
            t.len,
            t.offset
        );
    }
}

pub fn repair(ctx: &Ctx, out: &mut Out, a: &RepairArgs) -> Result<(), CliError> {
    let r = log::verify(&ctx.journal, None, &mut |_, _| {})?;
    let inner: Vec<_> = r
        .damage
        .iter()
        .filter(|d| d.kind != log::DamageKind::TornTail)
        .collect();
    if inner.is_empty() {
        if r.damage.is_empty() {
            return writeln!(
                out,
                "nothing to repair: {} verifies clean",
                path(&ctx.journal)
            )
            .map_err(failed);
        }
        // Only a torn tail: opening for writing cuts it (saved aside).
        let w = log::JournalWriter::open(&ctx.journal, ctx.now_ts().0, DEFAULT_LOCK_WAIT)?;
        return match &w.cut {
            Some(cut) => writeln!(
                out,
                "cut {} bytes of an incomplete write at offset {}; saved to {}",
                cut.len,
                cut.offset,
                path(&cut.saved_to)
            ),
            None => writeln!(out, "nothing to repair"),
        }
        .map_err(failed);
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
    write_salvage(out, ctx, &s, lost).map_err(failed)
}

/// What `repair --salvage` prints (or the JSON of it).
fn write_salvage(
    w: &mut impl Write,
    ctx: &Ctx,
    s: &log::SalvageReport,
    lost: u64,
) -> std::io::Result<()> {
    if ctx.json {
        return writeln!(
            w,
            "{}",
            json!({
                "kept": s.kept, "holes": s.holes, "lost_records": lost,
                "original": s.original_saved_to.display().to_string(),
                "last_seq": s.last_seq, "head": to_hex(&s.new_head),
            })
        );
    }
    writeln!(
        w,
        "salvaged {}: kept {}, {} lost (kept as numbered holes); new head {} at #{}",
        path(&ctx.journal),
        crate::projections::words::count(s.kept, "record", "records"),
        s.holes,
        to_hex(&s.new_head),
        s.last_seq
    )?;
    writeln!(
        w,
        "the damaged original is kept as {}",
        path(&s.original_saved_to)
    )?;
    writeln!(
        w,
        "note: digests given out before this repair no longer verify (new chain)"
    )
}
