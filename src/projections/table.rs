//! The two maps every projection keeps, built for replay speed and for
//! checkpoints:
//!
//! - [`HandleMap`]: per client, keyed by handle. Lookups hash the handle
//!   (FxHash: a handle is a short slug, and a fold looks one up for almost
//!   every event; a `BTreeMap<String, _>` spent most of replay in `memcmp`).
//!   Iteration is in handle order, as the `BTreeMap` it replaces, because
//!   reports list clients by handle.
//! - [`IdMap`]: per promise, keyed by id. Promise ids are counters handed
//!   out in order, so they live in a vector indexed by id; ids far from the
//!   others (an imported journal may hold any `u64`) go to a `BTreeMap`, so
//!   a hostile id never makes the vector huge. Iteration is in id order.
//!
//! Both serialize as their entries in order (what a checkpoint stores) and
//! rebuild their index when decoded, so a decoded map is whatever its
//! entries say, never an inconsistent index. Equality is equality of the
//! entries, whatever the layout.

use std::collections::BTreeMap;
use std::fmt;

use rustc_hash::FxHashMap;
use serde::de::{Deserialize, Deserializer, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeSeq, Serializer};

use super::ClientKey;

/// Entries keyed by client handle; see the module docs.
#[derive(Clone)]
pub struct HandleMap<T> {
    index: FxHashMap<Box<str>, u32>,
    rows: Vec<(Box<str>, T)>,
    /// Rows already found for the [`ClientKey`]s of one replay run: index =
    /// key id, `NO_ROW` when not known yet. A replay looks a handle up for
    /// almost every event, in several maps; this turns each lookup after
    /// the first into a vector read instead of hashing and comparing the
    /// handle (whose bytes are a cache miss away on a large journal).
    /// Only rows that exist are remembered, and rows never move, so an
    /// entry stays right for the life of the run.
    keyed: KeyCache,
}

#[derive(Clone, Default)]
struct KeyCache {
    /// The run the rows belong to (0: none).
    run: u32,
    rows: Vec<u32>,
}

const NO_ROW: u32 = u32::MAX;
/// The handle is known not to be in the map (see `HandleMap::insert`).
const ABSENT: u32 = u32::MAX - 1;

impl<T> Default for HandleMap<T> {
    fn default() -> Self {
        HandleMap {
            index: FxHashMap::default(),
            rows: Vec::new(),
            keyed: KeyCache::default(),
        }
    }
}

impl<T> HandleMap<T> {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn get(&self, handle: &str) -> Option<&T> {
        let i = *self.index.get(handle)?;
        self.rows.get(i as usize).map(|r| &r.1)
    }

    pub fn get_mut(&mut self, handle: &str) -> Option<&mut T> {
        let i = *self.index.get(handle)?;
        self.rows.get_mut(i as usize).map(|r| &mut r.1)
    }

    pub fn contains_key(&self, handle: &str) -> bool {
        self.index.contains_key(handle)
    }

    /// The row number of `handle`: stable for the life of the map (rows
    /// are never removed, and a decoded map keeps the encoded order), so a
    /// projection can refer to a client by it instead of by its handle.
    pub fn index_of(&self, handle: &str) -> Option<u32> {
        self.index.get(handle).copied()
    }

    /// [`HandleMap::index_of`] for a handle the replay driver interned as
    /// `key` (the same handle for every event of its run).
    #[inline]
    pub fn index_of_keyed(&mut self, handle: &str, key: Option<ClientKey>) -> Option<u32> {
        let Some(k) = key else {
            return self.index_of(handle);
        };
        if self.keyed.run == k.run {
            match self.keyed.rows.get(k.id as usize) {
                Some(&ABSENT) => return None,
                Some(&row) if row != NO_ROW => return Some(row),
                _ => {}
            }
        }
        let row = self.index_of(handle);
        self.remember(k, row.unwrap_or(ABSENT));
        row
    }

    /// [`HandleMap::get_mut`] by interned key; see [`HandleMap::index_of_keyed`].
    #[inline]
    pub fn get_mut_keyed(&mut self, handle: &str, key: Option<ClientKey>) -> Option<&mut T> {
        let row = self.index_of_keyed(handle, key)?;
        self.rows.get_mut(row as usize).map(|r| &mut r.1)
    }

    fn remember(&mut self, k: ClientKey, row: u32) {
        if self.keyed.run != k.run {
            self.keyed.run = k.run;
            self.keyed.rows.clear();
        }
        let i = k.id as usize;
        if self.keyed.rows.len() <= i {
            self.keyed.rows.resize(i + 1, NO_ROW);
        }
        self.keyed.rows[i] = row;
    }

    /// The handle at a row.
    pub fn key_at(&self, row: u32) -> Option<&str> {
        self.rows.get(row as usize).map(|r| &*r.0)
    }

    pub fn get_at(&self, row: u32) -> Option<&T> {
        self.rows.get(row as usize).map(|r| &r.1)
    }

    pub fn get_at_mut(&mut self, row: u32) -> Option<&mut T> {
        self.rows.get_mut(row as usize).map(|r| &mut r.1)
    }

    /// [`HandleMap::insert`] for a handle interned as `key`; returns the row.
    pub fn insert_keyed(&mut self, handle: &str, key: Option<ClientKey>, value: T) -> u32 {
        if let Some(row) = self.index_of_keyed(handle, key) {
            if let Some(r) = self.rows.get_mut(row as usize) {
                r.1 = value;
            }
            return row;
        }
        let row = self.rows.len() as u32;
        // `insert` clears the cache (it may say this handle is absent);
        // keep it for the run when the key is known.
        let run = self.keyed.run;
        self.insert(handle, value);
        if let Some(k) = key {
            self.keyed.run = run;
            self.remember(k, row);
        }
        row
    }

    /// Inserts or replaces; returns the previous value.
    pub fn insert(&mut self, handle: &str, value: T) -> Option<T> {
        if let Some(&i) = self.index.get(handle) {
            if let Some(row) = self.rows.get_mut(i as usize) {
                return Some(std::mem::replace(&mut row.1, value));
            }
        }
        self.index.insert(handle.into(), self.rows.len() as u32);
        self.rows.push((handle.into(), value));
        // The key cache may say this handle is absent: forget it
        // (`insert_keyed` puts the new row back).
        self.keyed.run = 0;
        None
    }

    /// Row numbers in handle order.
    fn sorted(&self) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.rows.len()).collect();
        order.sort_unstable_by(|&a, &b| self.rows[a].0.cmp(&self.rows[b].0));
        order
    }

    /// Entries in handle order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &T)> + '_ {
        self.sorted().into_iter().map(|i| {
            let (k, v) = &self.rows[i];
            (&**k, v)
        })
    }

    /// Handles, in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> + '_ {
        self.iter().map(|(k, _)| k)
    }

    /// Values, in handle order.
    pub fn values(&self) -> impl Iterator<Item = &T> + '_ {
        self.iter().map(|(_, v)| v)
    }

    /// Entries in insertion order (cheaper; for folds that do not care).
    pub fn iter_unordered(&self) -> impl Iterator<Item = (&str, &T)> + '_ {
        self.rows.iter().map(|(k, v)| (&**k, v))
    }
}

impl<T: PartialEq> PartialEq for HandleMap<T> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl<T: Eq> Eq for HandleMap<T> {}

impl<T: fmt::Debug> fmt::Debug for HandleMap<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<T: Serialize> Serialize for HandleMap<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.rows.len()))?;
        for (k, v) in &self.rows {
            seq.serialize_element(&(&**k, v))?;
        }
        seq.end()
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for HandleMap<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = HandleMap<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a sequence of (handle, value)")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
                // Sized once (a checkpoint of a long journal holds tens of
                // thousands of clients), capped so a hostile length cannot
                // reserve much.
                let n = a.size_hint().unwrap_or(0).min(1 << 16);
                let mut m = HandleMap {
                    index: FxHashMap::with_capacity_and_hasher(n, Default::default()),
                    rows: Vec::with_capacity(n),
                    keyed: KeyCache::default(),
                };
                while let Some((k, v)) = a.next_element::<(Box<str>, T)>()? {
                    match m.index.get(&k) {
                        Some(&i) => m.rows[i as usize].1 = v,
                        None => {
                            m.index.insert(k.clone(), m.rows.len() as u32);
                            m.rows.push((k, v));
                        }
                    }
                }
                Ok(m)
            }
        }
        d.deserialize_seq(V(std::marker::PhantomData))
    }
}

/// Interns client handles for a replay run: one hash lookup per event in
/// the driver, then every projection finds the client by its key
/// ([`HandleMap::index_of_keyed`]). Short handles (all that the CLI makes)
/// are keys of a fixed size stored in the table itself, so a lookup
/// compares a few words in place instead of following a pointer.
pub struct Interner {
    run: u32,
    short: FxHashMap<[u8; SHORT], u32>,
    long: FxHashMap<Box<[u8]>, u32>,
}

/// Bytes of a short key: the length, then the handle, zero-padded.
const SHORT: usize = 24;

/// Interners made in this process, so a key of one run is never taken for
/// a key of another.
static RUNS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);

/// Most distinct handles a run interns; later ones get no key (and are
/// looked up by handle), so ids stay clear of the cache's markers.
const MAX_KEYS: usize = 1 << 30;

impl Default for Interner {
    fn default() -> Self {
        Self::new()
    }
}

impl Interner {
    pub fn new() -> Self {
        let run = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Interner {
            // 0 means "no run" in a `KeyCache` (after a wrap-around of the
            // counter, which takes four billion replays in one process).
            run: run.max(1),
            short: FxHashMap::default(),
            long: FxHashMap::default(),
        }
    }

    fn len(&self) -> usize {
        self.short.len() + self.long.len()
    }

    /// The key of `handle` in this run.
    #[inline]
    pub fn key(&mut self, handle: &str) -> Option<ClientKey> {
        self.key_bytes(handle.as_bytes())
    }

    /// [`Interner::key`] for a handle's bytes, before they are known to be
    /// UTF-8 (the replay reader interns them from a quick look at the
    /// record): the same bytes get the same key as the handle would.
    #[inline]
    pub fn key_bytes(&mut self, b: &[u8]) -> Option<ClientKey> {
        let n = self.len();
        let id = if b.len() < SHORT {
            let mut k = [0u8; SHORT];
            k[0] = b.len() as u8;
            k[1..=b.len()].copy_from_slice(b);
            match self.short.get(&k) {
                Some(&id) => id,
                None if n < MAX_KEYS => *self.short.entry(k).or_insert(n as u32),
                None => return None,
            }
        } else {
            match self.long.get(b) {
                Some(&id) => id,
                None if n < MAX_KEYS => *self.long.entry(b.into()).or_insert(n as u32),
                None => return None,
            }
        };
        Some(ClientKey { run: self.run, id })
    }
}

/// Texts stored end to end in one string, each known by its number: a
/// projection keeps, say, what every promise was about without one heap
/// allocation per promise, and a checkpoint decodes them as one string.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Arena {
    text: String,
    /// `ends[i]`: where text `i` ends (it starts where `i - 1` ends).
    ends: Vec<u64>,
}

/// Serde form: the text, then the ends as one byte string of u64 LE (one
/// copy to decode, not one varint per text).
impl Serialize for Arena {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeTuple;
        let mut ends = Vec::with_capacity(self.ends.len() * 8);
        for e in &self.ends {
            ends.extend_from_slice(&e.to_le_bytes());
        }
        let mut t = s.serialize_tuple(2)?;
        t.serialize_element(&self.text)?;
        t.serialize_element(&Bytes(&ends))?;
        t.end()
    }
}

/// A byte string in serde's data model (`serialize_bytes`).
struct Bytes<'a>(&'a [u8]);

impl Serialize for Bytes<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(self.0)
    }
}

impl Arena {
    pub fn new() -> Self {
        Self::default()
    }

    /// Stores `s`; returns its number.
    pub fn push(&mut self, s: &str) -> u32 {
        self.text.push_str(s);
        self.ends.push(self.text.len() as u64);
        (self.ends.len() - 1) as u32
    }

    /// Text number `i` ("" for a number never handed out).
    pub fn get(&self, i: u32) -> &str {
        let i = i as usize;
        let Some(&end) = self.ends.get(i) else {
            return "";
        };
        let start = match i.checked_sub(1) {
            Some(j) => self.ends.get(j).copied().unwrap_or(0),
            None => 0,
        };
        self.text.get(start as usize..end as usize).unwrap_or("")
    }
}

impl<'de> Deserialize<'de> for Arena {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct EndsV;
        impl<'de> Visitor<'de> for EndsV {
            type Value = Vec<u64>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("text ends as a byte string of u64 LE")
            }
            fn visit_bytes<E: serde::de::Error>(self, b: &[u8]) -> Result<Self::Value, E> {
                if !b.len().is_multiple_of(8) {
                    return Err(E::custom("text arena: ends are not whole u64s"));
                }
                Ok(b.chunks_exact(8)
                    .map(|c| {
                        let mut a = [0u8; 8];
                        a.copy_from_slice(c);
                        u64::from_le_bytes(a)
                    })
                    .collect())
            }
        }
        struct Ends(Vec<u64>);
        impl<'de> Deserialize<'de> for Ends {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                d.deserialize_bytes(EndsV).map(Ends)
            }
        }
        #[derive(serde::Deserialize)]
        struct Raw {
            text: String,
            ends: Ends,
        }
        let raw = Raw::deserialize(d)?;
        let raw = (raw.text, raw.ends.0);
        struct R {
            text: String,
            ends: Vec<u64>,
        }
        let raw = R {
            text: raw.0,
            ends: raw.1,
        };
        // Every end must follow the previous one and fall on a character
        // boundary, so that `get` slices only whole texts.
        let mut prev = 0u64;
        for &e in &raw.ends {
            if e < prev || e > raw.text.len() as u64 || !raw.text.is_char_boundary(e as usize) {
                return Err(serde::de::Error::custom("text arena: bad end offset"));
            }
            prev = e;
        }
        Ok(Arena {
            text: raw.text,
            ends: raw.ends,
        })
    }
}

/// Ids beyond the vector by more than this go to the sparse map.
const DENSE_SLACK: u64 = 4096;

/// Entries keyed by promise id; see the module docs.
#[derive(Clone)]
pub struct IdMap<T> {
    /// Index = id. Every id in `sparse` is `>= dense.len()`.
    dense: Vec<Option<T>>,
    sparse: BTreeMap<u64, T>,
    len: usize,
}

impl<T> Default for IdMap<T> {
    fn default() -> Self {
        IdMap {
            dense: Vec::new(),
            sparse: BTreeMap::new(),
            len: 0,
        }
    }
}

impl<T> IdMap<T> {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn get(&self, id: &u64) -> Option<&T> {
        match self.dense.get(usize::try_from(*id).ok()?) {
            Some(slot) => slot.as_ref(),
            None => self.sparse.get(id),
        }
    }

    pub fn get_mut(&mut self, id: &u64) -> Option<&mut T> {
        let i = usize::try_from(*id).ok()?;
        if i < self.dense.len() {
            self.dense[i].as_mut()
        } else {
            self.sparse.get_mut(id)
        }
    }

    pub fn contains_key(&self, id: &u64) -> bool {
        self.get(id).is_some()
    }

    /// Room for `additional` more ids after the highest so far, so that a
    /// map rebuilt in id order (a checkpoint) is not regrown on the way.
    pub fn reserve(&mut self, additional: usize) {
        self.dense.reserve(additional);
    }

    /// Inserts or replaces; returns the previous value.
    pub fn insert(&mut self, id: u64, value: T) -> Option<T> {
        let dense_len = self.dense.len() as u64;
        if id < dense_len {
            let old = self.dense[id as usize].replace(value);
            if old.is_none() {
                self.len += 1;
            }
            return old;
        }
        // Grow the vector only while it stays at least a quarter full: a map
        // of the few open promises among millions of ids stays in the tree.
        let occupied = (self.len as u64 + 1).saturating_mul(4) >= id.saturating_add(1);
        if id - dense_len < DENSE_SLACK && occupied {
            self.dense.resize_with(id as usize + 1, || None);
            // Ids now covered by the vector move into it.
            while let Some(entry) = self.sparse.first_entry() {
                if *entry.key() >= self.dense.len() as u64 {
                    break;
                }
                let (k, v) = entry.remove_entry();
                self.dense[k as usize] = Some(v);
            }
            let old = self.dense[id as usize].replace(value);
            if old.is_none() {
                self.len += 1;
            }
            return old;
        }
        let old = self.sparse.insert(id, value);
        if old.is_none() {
            self.len += 1;
        }
        old
    }

    pub fn remove(&mut self, id: &u64) -> Option<T> {
        let old = match usize::try_from(*id) {
            Ok(i) if i < self.dense.len() => self.dense[i].take(),
            _ => self.sparse.remove(id),
        };
        if old.is_some() {
            self.len -= 1;
            // Mostly empty slots (the open promises of a long journal: ids
            // run into the millions, a few hundred are open): keep the few
            // entries in the map instead of a slot per id ever seen.
            if self.dense.len() >= 1024 && self.len < self.dense.len() / 8 {
                for (k, v) in std::mem::take(&mut self.dense).into_iter().enumerate() {
                    if let Some(v) = v {
                        self.sparse.insert(k as u64, v);
                    }
                }
            }
        }
        old
    }

    /// Entries in id order.
    pub fn iter(&self) -> impl Iterator<Item = (u64, &T)> + '_ {
        self.dense
            .iter()
            .enumerate()
            .filter_map(|(i, v)| v.as_ref().map(|v| (i as u64, v)))
            .chain(self.sparse.iter().map(|(k, v)| (*k, v)))
    }

    pub fn values(&self) -> impl Iterator<Item = &T> + '_ {
        self.iter().map(|(_, v)| v)
    }

    pub fn keys(&self) -> impl Iterator<Item = u64> + '_ {
        self.iter().map(|(k, _)| k)
    }
}

impl<T: PartialEq> PartialEq for IdMap<T> {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.iter().eq(other.iter())
    }
}

impl<T: Eq> Eq for IdMap<T> {}

impl<T: fmt::Debug> fmt::Debug for IdMap<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<T: Serialize> Serialize for IdMap<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.len))?;
        for e in self.iter() {
            seq.serialize_element(&e)?;
        }
        seq.end()
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for IdMap<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = IdMap<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a sequence of (id, value)")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
                let mut m = IdMap::new();
                while let Some((k, v)) = a.next_element::<(u64, T)>()? {
                    m.insert(k, v);
                }
                Ok(m)
            }
        }
        d.deserialize_seq(V(std::marker::PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handle_map_iterates_in_handle_order_and_replaces() {
        let mut m = HandleMap::new();
        for (h, v) in [("cora", 1), ("acme", 2), ("beta", 3)] {
            assert_eq!(m.insert(h, v), None);
        }
        assert_eq!(m.insert("acme", 4), Some(2));
        assert_eq!(m.keys().collect::<Vec<_>>(), ["acme", "beta", "cora"]);
        assert_eq!(m.values().copied().collect::<Vec<_>>(), [4, 3, 1]);
        assert_eq!(m.get("beta"), Some(&3));
        assert!(m.get("nobody").is_none());
        *m.get_mut("cora").unwrap() += 10;
        assert_eq!(m.get("cora"), Some(&11));
        assert_eq!(m.len(), 3);
    }

    #[test]
    fn arena_gives_back_each_text_and_nothing_for_unknown_numbers() {
        let mut a = Arena::new();
        let ids: Vec<u32> = ["logo", "", "Zürich brief"]
            .iter()
            .map(|s| a.push(s))
            .collect();
        assert_eq!(ids, [0, 1, 2]);
        assert_eq!((a.get(0), a.get(1), a.get(2)), ("logo", "", "Zürich brief"));
        assert_eq!(a.get(3), "");
        assert_eq!(a.get(u32::MAX), "");
    }

    #[test]
    fn id_map_is_dense_for_counters_and_sparse_for_outliers() {
        let mut m = IdMap::new();
        for id in [1u64, 2, 3, u64::MAX, 0, 10_000_000, 5] {
            assert_eq!(m.insert(id, id), None);
        }
        assert_eq!(m.insert(2, 20), Some(2));
        assert!(m.dense.len() < 10, "outliers stay out of the vector");
        assert_eq!(
            m.keys().collect::<Vec<_>>(),
            [0, 1, 2, 3, 5, 10_000_000, u64::MAX]
        );
        assert_eq!(m.len(), 7);
        assert_eq!(m.remove(&3), Some(3));
        assert_eq!(m.remove(&3), None);
        assert_eq!(m.get(&u64::MAX), Some(&u64::MAX));
        assert_eq!(m.len(), 6);
    }

    #[test]
    fn id_map_of_scattered_ids_does_not_grow_a_vector() {
        let mut m = IdMap::new();
        for id in (0..200_000u64).step_by(23) {
            m.insert(id, id);
        }
        assert!(m.dense.len() < 1_000, "{}", m.dense.len());
        assert_eq!(m.len(), 8_696);
        assert_eq!(m.get(&2_300), Some(&2_300));
        assert!(m.keys().zip(m.keys().skip(1)).all(|(a, b)| a < b));
    }

    #[test]
    fn id_map_gives_up_its_vector_when_most_slots_are_empty() {
        let mut m = IdMap::new();
        for id in 0..10_000u64 {
            m.insert(id, id);
            if id >= 10 {
                m.remove(&(id - 10));
            }
        }
        assert!(m.dense.len() < 10_000, "slots of removed ids are not kept");
        assert_eq!(
            m.keys().collect::<Vec<_>>(),
            (9_990..10_000).collect::<Vec<_>>()
        );
        assert_eq!(m.get(&9_995), Some(&9_995));
        assert_eq!(m.len(), 10);
    }

    #[test]
    fn id_map_moves_sparse_ids_into_the_vector_when_it_reaches_them() {
        let mut m = IdMap::new();
        m.insert(5000, 1);
        assert!(m.dense.is_empty());
        for id in 1..=4999u64 {
            m.insert(id, 0);
        }
        m.insert(5001, 2);
        assert!(m.sparse.is_empty());
        assert_eq!(m.get(&5000), Some(&1));
        assert_eq!(m.len(), 5001);
        let mut other = IdMap::new();
        for (k, v) in m.iter() {
            other.insert(k, *v);
        }
        assert_eq!(m, other);
    }
}
