//! The checkpoint's state section (kind 2): the hot part of the state in a
//! layout that can be read two ways (`docs/format.md`, "The state
//! section"):
//!
//! - **whole** (`status`, `due`, a refused recording's second look): one
//!   read, the section's CRC, then fixed-layout records decoded in one pass
//!   (no serde visitors; this replaced the bincode form, which spent most of
//!   a warm `status` in generic decoding);
//! - **sparse** (a recording command): only the client or promise the
//!   command names, found by binary search in sorted indexes, reading a few
//!   4 KiB pages. Every page has its own CRC in a page table at the end of
//!   the section (itself CRC-checked, as is the footer that locates it), so
//!   a sparse read checks everything it uses without reading the rest. Its
//!   cost does not grow with the journal, the clients or the open promises.
//!
//! Data (all integers little-endian; `str` = u32 length + UTF-8 bytes):
//!
//! ```text
//! head (96 bytes): max promise id, last seq, #clients, #open promises,
//!   #retractions, #retracted after the checkpoint (u64 each), then the
//!   offsets (in the data) of: client index, promise index, retractions,
//!   retracted after the checkpoint, records, end of records
//! client index: #clients × (FNV-1a 64 of the handle, record offset),
//!   sorted (equal hashes: every candidate is read and its handle compared)
//! promise index: #open × (promise id, record offset), sorted by id
//! retractions: #retractions × (retracted seq, retraction's seq), sorted
//! retracted after the checkpoint: u64 seqs, sorted
//! records: clients in the state's row order, then open promises by id;
//!   each is a u32 length and the record
//! ```
//!
//! Then the page table (CRC-32 of each 4 KiB page of the data, u32 each)
//! and a 24-byte footer: magic `TLHOT\0\0\x01`, data length (u64), CRC-32
//! of the page table (u32), CRC-32 of the footer's first 20 bytes (u32).
//!
//! Anything that does not check or decode makes the reader give up
//! (`None`): the caller then reads the section whole, or folds from scratch.

use std::collections::BTreeMap;
use std::fs::File;
use std::os::unix::fs::FileExt;

use rustc_hash::{FxHashMap, FxHashSet};

use crate::events::{Due, Fit, PromiseId, Seq, Timestamp};
use crate::projections::state::{Client, Promise, PromiseStatus, State};
use crate::projections::table::{HandleMap, IdMap};

const MAGIC: [u8; 8] = *b"TLHOT\0\0\x01";
const PAGE: u64 = 4096;
const HEAD_LEN: usize = 96;
const FOOTER_LEN: u64 = 24;

/// FNV-1a, 64 bits: the handle's key in the client index. Fixed here (not
/// a library hasher, whose output may change with a dependency update),
/// because a lookup that missed would make a taken handle look free.
pub fn handle_key(handle: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in handle.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

// ---- encoding ----

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn put_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put_i64(out: &mut Vec<u8>, v: i64) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn fit_byte(f: Fit) -> u8 {
    match f {
        Fit::Target => 0,
        Fit::OffTarget => 1,
    }
}

fn status_byte(s: PromiseStatus) -> u8 {
    match s {
        PromiseStatus::Open => 0,
        PromiseStatus::Kept => 1,
        PromiseStatus::Broken => 2,
        PromiseStatus::Released => 3,
    }
}

fn client_record(out: &mut Vec<u8>, c: &Client) {
    put_str(out, &c.handle);
    put_str(out, &c.name);
    out.push(fit_byte(c.fit));
    put_i64(out, c.added_at.0);
    put_u64(out, c.added_seq);
    match &c.lost {
        Some((at, reason)) => {
            out.push(1);
            put_i64(out, at.0);
            put_str(out, reason);
        }
        None => out.push(0),
    }
    match c.last_contact {
        Some(t) => {
            out.push(1);
            put_i64(out, t.0);
        }
        None => out.push(0),
    }
}

fn promise_record(out: &mut Vec<u8>, p: &Promise) {
    put_u64(out, p.id);
    put_str(out, &p.client);
    put_str(out, &p.what);
    put_u64(out, p.made_seq);
    put_i64(out, p.made_at.0);
    put_i64(out, p.original_due.at.0);
    out.push(u8::from(p.original_due.date_only));
    put_i64(out, p.due.at.0);
    out.push(u8::from(p.due.date_only));
    out.extend_from_slice(&p.moves.to_le_bytes());
    out.push(status_byte(p.status));
    match p.closed {
        Some((t, seq)) => {
            out.push(1);
            put_i64(out, t.0);
            put_u64(out, seq);
        }
        None => out.push(0),
    }
}

/// A record with its u32 length in front; returns its offset in `out`.
fn framed(out: &mut Vec<u8>, write: impl FnOnce(&mut Vec<u8>)) -> u64 {
    let at = out.len();
    out.extend_from_slice(&[0; 4]);
    write(out);
    let len = (out.len() - at - 4) as u32;
    out[at..at + 4].copy_from_slice(&len.to_le_bytes());
    at as u64
}

/// The section's bytes for `state` (its hot part), with `future`: the
/// retracted seqs after the checkpoint's last seq (the part of the
/// driver's retracted set a fold of the tail can meet).
pub fn encode(state: &State, future: &[Seq]) -> Vec<u8> {
    let open: Vec<&Promise> = state
        .promises
        .values()
        .filter(|p| p.status == PromiseStatus::Open)
        .collect();
    let retractions: Vec<(Seq, Seq)> = state.retractions().collect();
    let mut future = future.to_vec();
    future.sort_unstable();
    future.dedup();

    let n_clients = state.clients.len();
    let off_clients = HEAD_LEN;
    let off_promises = off_clients + n_clients * 16;
    let off_retracted = off_promises + open.len() * 16;
    let off_future = off_retracted + retractions.len() * 16;
    let off_records = off_future + future.len() * 8;

    let mut records = Vec::with_capacity(n_clients * 64 + open.len() * 96);
    let mut client_index: Vec<(u64, u64)> = Vec::with_capacity(n_clients);
    for (handle, c) in state.clients.iter_unordered() {
        let at = framed(&mut records, |o| client_record(o, c));
        client_index.push((handle_key(handle), off_records as u64 + at));
    }
    client_index.sort_unstable();
    let mut promise_index: Vec<(u64, u64)> = Vec::with_capacity(open.len());
    for p in &open {
        let at = framed(&mut records, |o| promise_record(o, p));
        promise_index.push((p.id, off_records as u64 + at));
    }
    let end = off_records + records.len();

    let mut data = Vec::with_capacity(end);
    for v in [
        state.max_promise_id,
        state.last_seq,
        n_clients as u64,
        open.len() as u64,
        retractions.len() as u64,
        future.len() as u64,
        off_clients as u64,
        off_promises as u64,
        off_retracted as u64,
        off_future as u64,
        off_records as u64,
        end as u64,
    ] {
        put_u64(&mut data, v);
    }
    for (a, b) in client_index
        .iter()
        .chain(&promise_index)
        .chain(&retractions)
    {
        put_u64(&mut data, *a);
        put_u64(&mut data, *b);
    }
    for s in &future {
        put_u64(&mut data, *s);
    }
    data.extend_from_slice(&records);

    // Page table and footer.
    let mut table = Vec::with_capacity(data.len().div_ceil(PAGE as usize) * 4);
    for page in data.chunks(PAGE as usize) {
        table.extend_from_slice(&crc32fast::hash(page).to_le_bytes());
    }
    let data_len = data.len() as u64;
    let table_crc = crc32fast::hash(&table);
    data.extend_from_slice(&table);
    let foot_at = data.len();
    data.extend_from_slice(&MAGIC);
    put_u64(&mut data, data_len);
    data.extend_from_slice(&table_crc.to_le_bytes());
    let foot_crc = crc32fast::hash(&data[foot_at..]);
    data.extend_from_slice(&foot_crc.to_le_bytes());
    data
}

// ---- decoding ----

/// A bounds-checked reader over record bytes.
struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn new(b: &'a [u8]) -> Self {
        Reader { b, pos: 0 }
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.b.get(self.pos..self.pos.checked_add(n)?)?;
        self.pos += n;
        Some(s)
    }

    fn u8(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }

    fn flag(&mut self) -> Option<bool> {
        match self.u8()? {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }
    }

    fn u32(&mut self) -> Option<u32> {
        let mut a = [0u8; 4];
        a.copy_from_slice(self.take(4)?);
        Some(u32::from_le_bytes(a))
    }

    fn u64(&mut self) -> Option<u64> {
        let mut a = [0u8; 8];
        a.copy_from_slice(self.take(8)?);
        Some(u64::from_le_bytes(a))
    }

    fn i64(&mut self) -> Option<i64> {
        self.u64().map(|v| v as i64)
    }

    fn str(&mut self) -> Option<&'a str> {
        let n = self.u32()? as usize;
        std::str::from_utf8(self.take(n)?).ok()
    }

    fn string(&mut self) -> Option<String> {
        self.str().map(str::to_string)
    }

    fn due(&mut self) -> Option<Due> {
        Some(Due {
            at: Timestamp(self.i64()?),
            date_only: self.flag()?,
        })
    }

    /// The next length-framed record.
    fn record(&mut self) -> Option<Reader<'a>> {
        let n = self.u32()? as usize;
        Some(Reader::new(self.take(n)?))
    }

    fn done(&self) -> bool {
        self.pos == self.b.len()
    }
}

/// A client record, and its handle borrowed from the bytes (the map's key:
/// no second copy of it).
fn client_from<'a>(mut r: Reader<'a>) -> Option<(&'a str, Client)> {
    let handle = r.str()?;
    let c = Client {
        handle: handle.to_string(),
        name: r.string()?,
        fit: match r.u8()? {
            0 => Fit::Target,
            1 => Fit::OffTarget,
            _ => return None,
        },
        added_at: Timestamp(r.i64()?),
        added_seq: r.u64()?,
        lost: match r.flag()? {
            true => Some((Timestamp(r.i64()?), r.string()?)),
            false => None,
        },
        last_contact: match r.flag()? {
            true => Some(Timestamp(r.i64()?)),
            false => None,
        },
    };
    r.done().then_some((handle, c))
}

fn promise_from(mut r: Reader<'_>) -> Option<Promise> {
    let p = Promise {
        id: r.u64()?,
        client: r.string()?,
        what: r.string()?,
        made_seq: r.u64()?,
        made_at: Timestamp(r.i64()?),
        original_due: r.due()?,
        due: r.due()?,
        moves: r.u32()?,
        status: match r.u8()? {
            0 => PromiseStatus::Open,
            1 => PromiseStatus::Kept,
            2 => PromiseStatus::Broken,
            3 => PromiseStatus::Released,
            _ => return None,
        },
        closed: match r.flag()? {
            true => Some((Timestamp(r.i64()?), r.u64()?)),
            false => None,
        },
    };
    r.done().then_some(p)
}

/// The head's fields.
struct Head {
    max_promise_id: PromiseId,
    last_seq: Seq,
    n_clients: u64,
    n_promises: u64,
    n_retracted: u64,
    n_future: u64,
    off_clients: u64,
    off_promises: u64,
    off_retracted: u64,
    off_future: u64,
    off_records: u64,
    end: u64,
}

impl Head {
    fn read(b: &[u8]) -> Option<Head> {
        let mut r = Reader::new(b.get(..HEAD_LEN)?);
        let h = Head {
            max_promise_id: r.u64()?,
            last_seq: r.u64()?,
            n_clients: r.u64()?,
            n_promises: r.u64()?,
            n_retracted: r.u64()?,
            n_future: r.u64()?,
            off_clients: r.u64()?,
            off_promises: r.u64()?,
            off_retracted: r.u64()?,
            off_future: r.u64()?,
            off_records: r.u64()?,
            end: r.u64()?,
        };
        // The parts follow each other as written, within `end`.
        let fits = |off: u64, n: u64, size: u64, next: u64| {
            n.checked_mul(size)
                .and_then(|l| l.checked_add(off))
                .is_some_and(|e| e == next)
        };
        let ok = h.off_clients == HEAD_LEN as u64
            && fits(h.off_clients, h.n_clients, 16, h.off_promises)
            && fits(h.off_promises, h.n_promises, 16, h.off_retracted)
            && fits(h.off_retracted, h.n_retracted, 16, h.off_future)
            && fits(h.off_future, h.n_future, 8, h.off_records)
            && h.off_records <= h.end;
        ok.then_some(h)
    }
}

/// The data part of a section whose bytes were checked whole (its CRC in
/// the checkpoint header), from the footer.
fn data_of(section: &[u8]) -> Option<&[u8]> {
    let foot = section.len().checked_sub(FOOTER_LEN as usize)?;
    let f = &section[foot..];
    if f[..8] != MAGIC {
        return None;
    }
    let mut r = Reader::new(&f[8..]);
    let data_len = usize::try_from(r.u64()?).ok()?;
    section.get(..data_len)
}

/// The whole hot state from the section's bytes (already CRC-checked).
pub fn decode(section: &[u8]) -> Option<State> {
    let data = data_of(section)?;
    let h = Head::read(data)?;
    if h.end != data.len() as u64 {
        return None;
    }
    let mut recs = Reader::new(data.get(usize::try_from(h.off_records).ok()?..)?);
    // Sized by the count, capped by what the bytes can hold.
    let cap = |n: u64| usize::try_from(n).unwrap_or(0).min(data.len() / 16);
    let mut clients = HandleMap::new();
    for _ in 0..h.n_clients {
        let (handle, c) = client_from(recs.record()?)?;
        clients.insert(handle, c);
    }
    let mut promises = IdMap::new();
    for _ in 0..h.n_promises {
        let p = promise_from(recs.record()?)?;
        promises.insert(p.id, p);
    }
    if !recs.done() {
        return None;
    }
    let mut r = Reader::new(
        data.get(usize::try_from(h.off_retracted).ok()?..usize::try_from(h.off_future).ok()?)?,
    );
    let mut retracted = Vec::with_capacity(cap(h.n_retracted));
    for _ in 0..h.n_retracted {
        retracted.push((r.u64()?, r.u64()?));
    }
    // Sorted when written: a map built from it in one pass.
    let retracted: BTreeMap<Seq, Seq> = retracted.into_iter().collect();
    Some(State::from_hot_parts(
        clients,
        promises,
        h.max_promise_id,
        h.last_seq,
        retracted,
    ))
}

/// What a sparse read loads: the clients and promises a recording command
/// names.
#[derive(Debug, Clone, Default)]
pub struct Subset {
    pub clients: Vec<String>,
    pub promises: Vec<PromiseId>,
}

/// The section read in place, page by page, each page checked against the
/// page table.
struct Paged<'f> {
    file: &'f File,
    /// Where the section's data starts in the file.
    base: u64,
    data_len: u64,
    table: Vec<u32>,
    pages: FxHashMap<u64, Vec<u8>>,
}

impl<'f> Paged<'f> {
    /// The section at `offset`..`offset + len` of `file`: its footer and
    /// page table, checked.
    fn open(file: &'f File, offset: u64, len: u64) -> Option<Paged<'f>> {
        let foot_at = offset.checked_add(len.checked_sub(FOOTER_LEN)?)?;
        let mut f = [0u8; FOOTER_LEN as usize];
        file.read_exact_at(&mut f, foot_at).ok()?;
        let mut r = Reader::new(&f);
        let magic = r.take(8)?;
        let data_len = r.u64()?;
        let table_crc = r.u32()?;
        let foot_crc = r.u32()?;
        if magic != MAGIC || crc32fast::hash(&f[..20]) != foot_crc {
            return None;
        }
        let n_pages = data_len.div_ceil(PAGE);
        if data_len
            .checked_add(n_pages.checked_mul(4)?)?
            .checked_add(FOOTER_LEN)?
            != len
        {
            return None;
        }
        let mut t = vec![0u8; usize::try_from(n_pages * 4).ok()?];
        file.read_exact_at(&mut t, offset.checked_add(data_len)?)
            .ok()?;
        if crc32fast::hash(&t) != table_crc {
            return None;
        }
        let table = t
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        Some(Paged {
            file,
            base: offset,
            data_len,
            table,
            pages: FxHashMap::default(),
        })
    }

    fn page(&mut self, i: u64) -> Option<&[u8]> {
        if !self.pages.contains_key(&i) {
            let start = i.checked_mul(PAGE)?;
            let len = PAGE.min(self.data_len.checked_sub(start)?);
            let mut b = vec![0u8; usize::try_from(len).ok()?];
            self.file
                .read_exact_at(&mut b, self.base.checked_add(start)?)
                .ok()?;
            if crc32fast::hash(&b) != *self.table.get(usize::try_from(i).ok()?)? {
                return None;
            }
            self.pages.insert(i, b);
        }
        self.pages.get(&i).map(Vec::as_slice)
    }

    /// `len` bytes of data at `at`, every page they touch checked.
    fn read(&mut self, at: u64, len: u64) -> Option<Vec<u8>> {
        let end = at.checked_add(len)?;
        if end > self.data_len {
            return None;
        }
        let mut out = Vec::with_capacity(usize::try_from(len).ok()?);
        let mut pos = at;
        while pos < end {
            let i = pos / PAGE;
            let from = usize::try_from(pos - i * PAGE).ok()?;
            let upto = usize::try_from(end.min((i + 1) * PAGE) - i * PAGE).ok()?;
            out.extend_from_slice(self.page(i)?.get(from..upto)?);
            pos = (i + 1) * PAGE;
        }
        Some(out)
    }

    fn u64_at(&mut self, at: u64) -> Option<u64> {
        Reader::new(&self.read(at, 8)?).u64()
    }

    /// The length-framed record at `at`.
    fn record(&mut self, at: u64) -> Option<Vec<u8>> {
        let len = Reader::new(&self.read(at, 4)?).u32()?;
        self.read(at.checked_add(4)?, u64::from(len))
    }

    /// The first entry of the sorted 16-byte `(key, value)` index at `off`
    /// (`n` entries) whose key is at least `key`.
    fn lower_bound(&mut self, off: u64, n: u64, key: u64) -> Option<u64> {
        let (mut lo, mut hi) = (0u64, n);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.u64_at(off.checked_add(mid.checked_mul(16)?)?)? < key {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        Some(lo)
    }
}

/// A partial state holding only `want`'s clients and open promises (when
/// the checkpoint has them), with exact counters; and the retracted seqs
/// after the checkpoint's last seq (what the driver needs to fold the
/// tail). `offset`/`len`: the section in `file`.
pub fn decode_sparse(
    file: &File,
    offset: u64,
    len: u64,
    want: &Subset,
) -> Option<(State, FxHashSet<Seq>)> {
    let mut p = Paged::open(file, offset, len)?;
    let h = Head::read(&p.read(0, HEAD_LEN as u64)?)?;
    if h.end != p.data_len {
        return None;
    }
    let in_records = |at: u64| at >= h.off_records && at < h.end;
    let mut clients = HandleMap::new();
    for handle in &want.clients {
        let key = handle_key(handle);
        let mut i = p.lower_bound(h.off_clients, h.n_clients, key)?;
        while i < h.n_clients {
            let e = h.off_clients + i * 16;
            if p.u64_at(e)? != key {
                break;
            }
            let at = p.u64_at(e + 8)?;
            if !in_records(at) {
                return None;
            }
            let rec = p.record(at)?;
            let (_, c) = client_from(Reader::new(&rec))?;
            if c.handle == *handle {
                clients.insert(handle, c);
                break;
            }
            i += 1;
        }
    }
    let mut promises = IdMap::new();
    for &id in &want.promises {
        let i = p.lower_bound(h.off_promises, h.n_promises, id)?;
        if i < h.n_promises {
            let e = h.off_promises + i * 16;
            if p.u64_at(e)? == id {
                let at = p.u64_at(e + 8)?;
                if !in_records(at) {
                    return None;
                }
                let pr = promise_from(Reader::new(&p.record(at)?))?;
                if pr.id != id {
                    return None;
                }
                promises.insert(id, pr);
            }
        }
    }
    let mut future = FxHashSet::default();
    let bytes = p.read(h.off_future, h.n_future.checked_mul(8)?)?;
    let mut r = Reader::new(&bytes);
    for _ in 0..h.n_future {
        future.insert(r.u64()?);
    }
    let state = State::from_hot_parts(
        clients,
        promises,
        h.max_promise_id,
        h.last_seq,
        BTreeMap::new(),
    );
    Some((state, future))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{Envelope, Event};
    use crate::projections::Projection;
    use std::io::Write;

    #[test]
    fn fnv_is_pinned() {
        // A changed key function would make every stored index miss.
        assert_eq!(handle_key(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(handle_key("a"), 0xaf63_dc4c_8601_ec8c);
    }

    /// A state of `n` clients, a promise each (every third one kept), a
    /// lost client, and a retraction.
    fn state(n: u64) -> State {
        let mut s = State::hot_only();
        let mut seq = 0;
        let mut push = |s: &mut State, event: Event| {
            seq += 1;
            let env = Envelope {
                seq,
                recorded_at: Timestamp(seq as i64),
                occurred_at: Timestamp(seq as i64),
                author: "t".into(),
                event,
            };
            s.apply(&env.as_ref());
        };
        for i in 0..n {
            let handle = format!("c{i}");
            push(
                &mut s,
                Event::ClientAdded {
                    handle: handle.clone(),
                    name: format!("Client «{i}»"),
                    fit: if i % 2 == 0 {
                        Fit::Target
                    } else {
                        Fit::OffTarget
                    },
                    note: String::new(),
                },
            );
            push(
                &mut s,
                Event::PromiseMade {
                    promise: i + 1,
                    client: handle.clone(),
                    what: format!("thing {i}"),
                    due: Due {
                        at: Timestamp(1_000 + i as i64),
                        date_only: i % 2 == 1,
                    },
                },
            );
            if i % 3 == 0 {
                push(
                    &mut s,
                    Event::PromiseKept {
                        promise: i + 1,
                        note: String::new(),
                    },
                );
            }
        }
        push(
            &mut s,
            Event::ClientLost {
                client: "c1".into(),
                reason: "gone".into(),
            },
        );
        push(
            &mut s,
            Event::Retracted {
                seq: 2,
                reason: "x".into(),
            },
        );
        s
    }

    /// The section written at offset 100 of a file.
    fn file_with(section: &[u8]) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(&[7u8; 100]).unwrap();
        f.write_all(section).unwrap();
        f.flush().unwrap();
        f
    }

    #[test]
    fn whole_decode_gives_back_the_hot_state() {
        for n in [0, 1, 5, 600] {
            let s = state(n);
            let d = decode(&encode(&s, &[])).unwrap();
            assert_eq!(d.clients, s.clients, "{n}");
            assert_eq!(d.promises, s.promises, "{n}");
            assert_eq!(
                (d.max_promise_id, d.last_seq),
                (s.max_promise_id, s.last_seq)
            );
            assert!(d.retractions().eq(s.retractions()));
            assert!(d.is_partial());
        }
    }

    #[test]
    fn sparse_reads_find_exactly_what_the_whole_holds() {
        let s = state(600);
        let bytes = encode(&s, &[9_000, 9_001]);
        let f = file_with(&bytes);
        let len = bytes.len() as u64;
        for i in 0..620u64 {
            let handle = format!("c{i}");
            let want = Subset {
                clients: vec![handle.clone(), "nobody".into()],
                promises: vec![i, 0, u64::MAX],
            };
            let (d, future) = decode_sparse(f.as_file(), 100, len, &want).unwrap();
            assert_eq!(d.clients.get(&handle), s.clients.get(&handle), "{handle}");
            assert!(d.clients.get("nobody").is_none());
            let open = s.promise(i).filter(|p| p.status == PromiseStatus::Open);
            assert_eq!(d.promise(i), open, "promise {i}");
            assert_eq!(
                d.clients.len() + d.promises.len(),
                usize::from(s.clients.contains_key(&handle)) + usize::from(open.is_some())
            );
            assert_eq!(
                (d.max_promise_id, d.last_seq),
                (s.max_promise_id, s.last_seq)
            );
            assert_eq!(future, [9_000, 9_001].into_iter().collect());
        }
    }

    #[test]
    fn a_flipped_byte_anywhere_is_never_read_as_data() {
        let s = state(300);
        let bytes = encode(&s, &[]);
        let len = bytes.len() as u64;
        let want = Subset {
            clients: vec!["c7".into(), "c299".into()],
            promises: vec![8, 300],
        };
        let good = {
            let f = file_with(&bytes);
            decode_sparse(f.as_file(), 100, len, &want).unwrap().0
        };
        for at in (0..bytes.len()).step_by(97).chain([bytes.len() - 1]) {
            let mut bad = bytes.clone();
            bad[at] ^= 0x10;
            let f = file_with(&bad);
            // Either the damage is detected, or it lies in a page the read
            // does not touch and the answer is the same.
            if let Some((d, _)) = decode_sparse(f.as_file(), 100, len, &want) {
                assert_eq!(d.clients, good.clients, "flip at {at}");
                assert_eq!(d.promises, good.promises, "flip at {at}");
                assert_eq!(d.max_promise_id, good.max_promise_id, "flip at {at}");
            }
        }
        // Cut short, or another length: refused.
        let f = file_with(&bytes[..bytes.len() - 1]);
        assert!(decode_sparse(f.as_file(), 100, len - 1, &want).is_none());
        let f = file_with(&bytes);
        assert!(decode_sparse(f.as_file(), 100, len + 1, &want).is_none());
        assert!(decode(&bytes[..bytes.len() - 1]).is_none());
    }
}
