//! The audit's section of the checkpoint file: its columns as they are in
//! memory, then the small parts in serde form (layout in `docs/format.md`).

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use super::*;
use crate::events::codec;

/// Reads a checkpoint's audit section in order (the caller checks its CRC
/// over every byte read, and that all were read).
pub trait SectionReader {
    /// Fills `buf` with the next bytes; `None` past the end or on error.
    fn read_exact(&mut self, buf: &mut [u8]) -> Option<()>;
    /// Bytes not read yet.
    fn remaining(&self) -> u64;
    /// Every byte was read and they are the bytes written (the section's
    /// CRC): asked before the serde part is decoded, since a damaged
    /// length there could ask for any amount of memory.
    fn intact(&mut self) -> bool;
}

/// The small parts of the audit, in the checkpoint's serde form.
#[derive(Serialize)]
struct MetaRef<'a> {
    only: &'a Option<String>,
    clients: &'a HandleMap<()>,
    late_moves: &'a [LateMove],
    backdated: &'a [Backdated],
    retracted_promises: &'a BTreeMap<PromiseId, (String, Timestamp)>,
    skipped: &'a BTreeMap<Seq, Skipped>,
    retractions: &'a [Retraction],
    latest: &'a Option<(Timestamp, Seq)>,
    out_of_order: &'a [OutOfOrder],
}

#[derive(Deserialize)]
struct Meta {
    only: Option<String>,
    clients: HandleMap<()>,
    late_moves: Vec<LateMove>,
    backdated: Vec<Backdated>,
    retracted_promises: BTreeMap<PromiseId, (String, Timestamp)>,
    skipped: BTreeMap<Seq, Skipped>,
    retractions: Vec<Retraction>,
    latest: Option<(Timestamp, Seq)>,
    out_of_order: Vec<OutOfOrder>,
}

/// Bytes of text skipped per read when only some texts are kept.
const SKIP_CHUNK: usize = 64 * 1024;

impl Audit {
    /// The audit's checkpoint section (layout in `docs/format.md`,
    /// "Derived files"): four u64 counts (slots N, moves M, text bytes T,
    /// meta bytes L), the slot columns (id N×u64, client N×u32, original due
    /// N×i64, due N×i64, closed at N×i64, bits N×u8), the move columns (slot
    /// M×u32, seq M×u64, bits M×u8), the text ends (N×u64), the texts (T
    /// bytes of UTF-8), then the rest in serde form (L bytes). An audit
    /// without every text cannot be written.
    pub fn to_checkpoint(&self) -> Result<Vec<u8>, EventsError> {
        let mut b = Vec::new();
        self.write_checkpoint(&mut b)?;
        Ok(b)
    }

    /// Writes what [`Audit::to_checkpoint`] returns straight into `w`,
    /// part by part (at 10M events the section is hundreds of MB: never
    /// all of it in memory again).
    pub fn write_checkpoint(&self, w: &mut dyn std::io::Write) -> Result<(), EventsError> {
        let Texts::All(texts) = &self.texts else {
            return Err(EventsError::Encode(
                "the audit holds only the texts of its flags".into(),
            ));
        };
        let meta = codec::encode_checkpoint(&MetaRef {
            only: &self.only,
            clients: &self.clients,
            late_moves: &self.late_moves,
            backdated: &self.backdated,
            retracted_promises: &self.retracted_promises,
            skipped: &self.skipped,
            retractions: &self.retractions,
            latest: &self.latest,
            out_of_order: &self.out_of_order,
        })?;
        let (sl, mv) = (&self.slots, &self.moves);
        let mut put = |b: &[u8]| {
            w.write_all(b)
                .map_err(|e| EventsError::Encode(e.to_string()))
        };
        for n in [sl.len(), mv.len(), texts.text.len(), meta.len()] {
            put(&(n as u64).to_le_bytes())?;
        }
        let parts: [&[u8]; 12] = [
            &sl.id.0,
            &sl.client.0,
            &sl.original_due.0,
            &sl.due.0,
            &sl.closed_at.0,
            &sl.bits,
            &mv.slot.0,
            &mv.seq.0,
            &mv.bits,
            &texts.ends.0,
            texts.text.as_bytes(),
            &meta,
        ];
        for p in parts {
            put(p)?;
        }
        Ok(())
    }

    /// Reads what [`Audit::to_checkpoint`] wrote; `None` when it does not
    /// hold together. With `all_texts` false, keeps only the texts a flag
    /// may print (see [`Audit::flag_texts_only`]), reading past the rest.
    pub fn from_checkpoint(r: &mut dyn SectionReader, all_texts: bool) -> Option<Audit> {
        let mut count = || -> Option<usize> {
            let mut b = [0u8; 8];
            r.read_exact(&mut b)?;
            usize::try_from(u64::from_le_bytes(b)).ok()
        };
        let (n, m, t, l) = (count()?, count()?, count()?, count()?);
        // Every part must be there before anything is allocated for it.
        let col = |r: &mut dyn SectionReader, len: usize, size: usize| -> Option<Vec<u8>> {
            let bytes = len.checked_mul(size)?;
            if bytes as u64 > r.remaining() {
                return None;
            }
            let mut v = vec![0u8; bytes];
            r.read_exact(&mut v)?;
            Some(v)
        };
        let slots = Slots {
            id: Col(col(r, n, 8)?),
            client: Col(col(r, n, 4)?),
            original_due: Col(col(r, n, 8)?),
            due: Col(col(r, n, 8)?),
            closed_at: Col(col(r, n, 8)?),
            bits: col(r, n, 1)?,
        };
        let moves = Moves {
            slot: Col(col(r, m, 4)?),
            seq: Col(col(r, m, 8)?),
            bits: col(r, m, 1)?,
        };
        if slots.bits.iter().any(|b| b & !P_KNOWN != 0)
            || moves
                .bits
                .iter()
                .any(|b| b & !M_KNOWN != 0 || b & M_CAUSE == 3)
            || (0..m).any(|i| moves.slot.u32(i) as usize >= n)
        {
            return None;
        }
        let texts = if all_texts {
            let ends = Col(col(r, n, 8)?);
            let text = String::from_utf8(col(r, t, 1)?).ok()?;
            let mut prev = 0u64;
            for s in 0..n {
                let e = ends.u64(s);
                if e < prev || e > t as u64 || !text.is_char_boundary(e as usize) {
                    return None;
                }
                prev = e;
            }
            Texts::All(TextCol { text, ends })
        } else {
            // Open and flagged promises: a flag may print their text.
            let wanted = |s: usize| {
                slots.bits(s) & P_DEAD == 0
                    && (slots.close(s) == OPEN || slots.bits(s) & P_FLAGGED != 0)
            };
            let mut ranges = Vec::new();
            let mut prev = 0u64;
            let mut chunk = vec![0u8; SKIP_CHUNK];
            let mut s = 0;
            while s < n {
                let k = (n - s).min(SKIP_CHUNK / 8);
                r.read_exact(&mut chunk[..k * 8])?;
                for (j, e) in chunk[..k * 8].chunks_exact(8).enumerate() {
                    let e = u64::from_le_bytes(e.try_into().ok()?);
                    if e < prev || e > t as u64 {
                        return None;
                    }
                    if wanted(s + j) {
                        ranges.push((s + j, prev, e));
                    }
                    prev = e;
                }
                s += k;
            }
            let mut kept = FxHashMap::default();
            let mut at = 0u64;
            let mut skip = |r: &mut dyn SectionReader, mut n: u64| -> Option<()> {
                while n > 0 {
                    let k = n.min(SKIP_CHUNK as u64) as usize;
                    r.read_exact(&mut chunk[..k])?;
                    n -= k as u64;
                }
                Some(())
            };
            for (s, start, end) in ranges {
                skip(r, start - at)?;
                let text = String::from_utf8(col(r, (end - start) as usize, 1)?).ok()?;
                kept.insert(s as u32, text.into_boxed_str());
                at = end;
            }
            skip(r, t as u64 - at)?;
            Texts::ForFlags(kept)
        };
        let meta = col(r, l, 1)?;
        if !r.intact() {
            return None;
        }
        let meta: Meta = codec::decode_checkpoint(&meta, "audit").ok()?;
        // Every move after its due has its details, in move order; every
        // backdated keep is a keep.
        let late = moves.bits.iter().filter(|b| *b & M_AFTER_DUE != 0).count();
        if r.remaining() != 0
            || late != meta.late_moves.len()
            || meta.late_moves.windows(2).any(|w| w[0].index >= w[1].index)
            || meta.late_moves.iter().any(|x| {
                moves
                    .bits
                    .get(x.index as usize)
                    .is_none_or(|b| b & M_AFTER_DUE == 0)
            })
            || meta
                .backdated
                .iter()
                .any(|x| slots.close(x.slot as usize) != KEPT)
            // Each record out of order is before the latest time seen, in
            // seq order.
            || meta.out_of_order.windows(2).any(|w| w[0].seq >= w[1].seq)
            || meta
                .out_of_order
                .iter()
                .any(|o| meta.latest.is_none_or(|(at, _)| o.recorded_at >= at))
        {
            return None;
        }
        let mut a = Audit {
            only: meta.only,
            clients: meta.clients,
            slots,
            index: None,
            texts,
            moves,
            late_moves: meta.late_moves,
            backdated: meta.backdated,
            retracted_promises: meta.retracted_promises,
            skipped: meta.skipped,
            retractions: meta.retractions,
            latest: meta.latest,
            out_of_order: meta.out_of_order,
        };
        if (1..n).any(|s| a.slots.id.u64(s - 1) >= a.slots.id.u64(s)) {
            a.build_index();
        }
        Some(a)
    }
}
