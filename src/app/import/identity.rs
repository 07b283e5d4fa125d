//! Content identities (see the module docs of `import`): the BLAKE3 digest
//! of what an event says, with its references replaced by the identities of
//! what they point at, so that an event is recognised in another journal
//! and a re-import adds nothing.

use rustc_hash::FxHashMap;

use crate::events::{EnvelopeRef, EventRef, PromiseId, Seq};

type Key = [u8; 32];

/// The first 128 bits of an identity: what the maps are keyed by (among
/// millions of random 128-bit values a collision is not a concern), so
/// that they stay small. References are hashed with the whole identity.
pub(super) fn short(k: &Key) -> u128 {
    let mut b = [0u8; 16];
    b.copy_from_slice(&k[..16]);
    u128::from_le_bytes(b)
}

/// The identity of the `n`-th event (from 0) with this content digest.
fn identity(content: &Key, n: u64) -> Key {
    let mut h = blake3::Hasher::new();
    h.update(content);
    h.update(&n.to_le_bytes());
    *h.finalize().as_bytes()
}

pub(super) enum Ref {
    None,
    Found(Key),
    Missing,
}

/// The stand-in identity of a reference a journal cannot resolve itself
/// (it cannot happen through the CLI), derived from the raw number, so it
/// still compares.
fn dangling(e: &EventRef<'_>) -> Key {
    let (what, n) = match e.seq_ref() {
        Some(seq) => ("seq", seq),
        None => ("promise", e.promise().unwrap_or(0)),
    };
    *blake3::hash(format!("trustlog dangling {what} {n}").as_bytes()).as_bytes()
}

/// Content digests, with one buffer for the event's JSON.
#[derive(Default)]
pub(super) struct Digester {
    buf: Vec<u8>,
}

impl Digester {
    /// Kind, times and fields, with the reference fields zeroed and the
    /// referenced identity in their place. Not the author (module docs).
    fn content(&mut self, env: &EnvelopeRef<'_>, reference: Option<&Key>) -> Key {
        self.buf.clear();
        // Writing into a vector does not fail, nor does serialising these
        // types; the bytes are `serde_json::to_vec` of the owned event with
        // its reference zeroed (`EventRef` serialises as `Event` does).
        let _ = serde_json::to_writer(&mut self.buf, &env.event.without_reference());
        let mut h = blake3::Hasher::new();
        h.update(b"trustlog event identity v1\0");
        h.update(env.event.kind_name().as_bytes());
        h.update(&[0]);
        h.update(&env.recorded_at.0.to_le_bytes());
        h.update(&env.occurred_at.0.to_le_bytes());
        h.update(&(self.buf.len() as u64).to_le_bytes());
        h.update(&self.buf);
        h.update(reference.unwrap_or(&[0; 32]));
        *h.finalize().as_bytes()
    }
}

/// The journal's side: the identity of each of its events.
#[derive(Default)]
pub(super) struct JournalIds {
    /// identity → seq. Only the journal's events: the file's own new
    /// events never match a later line of the file (occurrence numbers
    /// tell repeats apart).
    pub(super) seq_of: FxHashMap<u128, Seq>,
    /// (seq, identity) in seq order, the new events' appended as they are
    /// accepted: what a reference by seq resolves to. Kept after reading
    /// only for a file exported from this journal (the only one whose
    /// references are looked up here).
    pub(super) by_seq: Vec<(Seq, Key)>,
    /// promise id → identity of its `PromiseMade` (new ones included).
    promise: FxHashMap<PromiseId, Key>,
    /// seq of each of the journal's `PromiseMade` → its promise id.
    pub(super) promise_at: FxHashMap<Seq, PromiseId>,
}

impl JournalIds {
    fn key_at(&self, seq: Seq) -> Option<&Key> {
        let i = self.by_seq.binary_search_by_key(&seq, |e| e.0).ok()?;
        Some(&self.by_seq[i].1)
    }

    /// What `e`'s reference resolves to among these events.
    pub(super) fn reference(&self, e: &EventRef<'_>) -> Ref {
        let k = match e {
            EventRef::PromiseMade { .. } => return Ref::None,
            e if e.seq_ref().is_some() => e.seq_ref().and_then(|s| self.key_at(s)),
            e => match e.promise() {
                None => return Ref::None,
                Some(p) => self.promise.get(&p),
            },
        };
        k.map_or(Ref::Missing, |k| Ref::Found(*k))
    }

    /// Adds the journal's next event. The occurrence number is found by
    /// asking which identities of this content are already taken.
    pub(super) fn add(&mut self, d: &mut Digester, env: &EnvelopeRef<'_>) {
        let r = match self.reference(&env.event) {
            Ref::None => None,
            Ref::Found(k) => Some(k),
            Ref::Missing => Some(dangling(&env.event)),
        };
        let content = d.content(env, r.as_ref());
        let mut n = 0u64;
        let id = loop {
            let id = identity(&content, n);
            if !self.seq_of.contains_key(&short(&id)) {
                break id;
            }
            n += 1;
        };
        self.seq_of.insert(short(&id), env.seq);
        self.record(env, id);
        if let EventRef::PromiseMade { promise, .. } = env.event {
            self.promise_at.insert(env.seq, promise);
        }
    }

    pub(super) fn record(&mut self, env: &EnvelopeRef<'_>, id: Key) {
        if self.by_seq.last().is_none_or(|l| l.0 < env.seq) {
            self.by_seq.push((env.seq, id));
        } else if let Ok(i) = self.by_seq.binary_search_by_key(&env.seq, |e| e.0) {
            self.by_seq[i].1 = id;
        }
        if let EventRef::PromiseMade { promise, .. } = env.event {
            self.promise.insert(promise, id);
        }
    }
}

/// One of the file's events whose identity was computed.
pub(super) struct SourceEntry {
    seq: Seq,
    id: Key,
    /// Its seq in the journal, once it is found there or accepted (0: not).
    pub(super) journal_seq: Seq,
}

/// The file's side.
#[derive(Default)]
pub(super) struct SourceIds {
    /// Whether identities are computed at all: they only serve to find
    /// events already in the journal, and an empty journal has none (its
    /// events then carry a zero identity, and only where they are is kept).
    pub(super) identify: bool,
    /// content digest → events with it so far (occurrence numbers).
    pub(super) occurrences: FxHashMap<u128, u64>,
    /// In the file's order, so by increasing seq.
    pub(super) events: Vec<SourceEntry>,
    /// The file's promise id → the identity of its `PromiseMade`, and the
    /// journal's promise id for it once known.
    pub(super) promise: FxHashMap<PromiseId, (Key, Option<PromiseId>)>,
}

impl SourceIds {
    pub(super) fn entry(&self, seq: Seq) -> Option<&SourceEntry> {
        let i = self.events.binary_search_by_key(&seq, |e| e.seq).ok()?;
        Some(&self.events[i])
    }

    pub(super) fn reference(&self, e: &EventRef<'_>) -> Ref {
        let k = match e {
            EventRef::PromiseMade { .. } => return Ref::None,
            e if e.seq_ref().is_some() => e.seq_ref().and_then(|s| self.entry(s)).map(|e| &e.id),
            e => match e.promise() {
                None => return Ref::None,
                Some(p) => self.promise.get(&p).map(|e| &e.0),
            },
        };
        k.map_or(Ref::Missing, |k| Ref::Found(*k))
    }

    /// The identity of `env`, whose reference resolves to `reference`;
    /// records it (as the last entry).
    pub(super) fn add(
        &mut self,
        d: &mut Digester,
        env: &EnvelopeRef<'_>,
        reference: Option<&Key>,
    ) -> Key {
        let id = if self.identify {
            let content = d.content(env, reference);
            let n = self.occurrences.entry(short(&content)).or_insert(0);
            let id = identity(&content, *n);
            *n += 1;
            id
        } else {
            [0; 32]
        };
        self.events.push(SourceEntry {
            seq: env.seq,
            id,
            journal_seq: 0,
        });
        if let EventRef::PromiseMade { promise, .. } = env.event {
            self.promise
                .entry(promise)
                .and_modify(|e| e.0 = id)
                .or_insert((id, None));
        }
        id
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::events::{codec, Envelope, Event, Timestamp};

    /// One event of each kind (two `Interacted`: with and without
    /// minutes), shared with the JSON tests.
    pub(in crate::app::import) use crate::events::json::tests::every_kind;

    pub(in crate::app::import) fn env(seq: Seq, event: Event) -> Envelope {
        Envelope {
            seq,
            recorded_at: Timestamp(1_700_000_000_000_000 + seq as i64),
            occurred_at: Timestamp(1_600_000_000_000_000 + seq as i64),
            author: "ana".into(),
            event,
        }
    }

    #[test]
    fn payloads_encoded_into_one_buffer_are_encode_s() {
        let mut buf = vec![1, 2, 3];
        for (i, ev) in every_kind().into_iter().enumerate() {
            let e = env(i as Seq + 1, ev);
            let start = buf.len();
            let n = codec::encode_into(&e, &mut buf).unwrap();
            assert_eq!(&buf[start..], &codec::encode(&e).unwrap()[..]);
            assert_eq!(n, buf.len() - start);
        }
    }

    /// Content digests of one event of each kind (`every_kind`, as `env`
    /// dates them), with a reference of `[i; 32]` for the `i`-th and with
    /// none, as computed when identities were first defined. They must
    /// never change: a re-import would no longer recognise what an earlier
    /// one wrote. Renaming a field, a variant or a word changes them.
    const GOLDEN: [(&str, &str, &str); 19] = [
        (
            "ClientAdded",
            "204b22e6f12920c8d22fb42121e0427d38e627f67b65f976ac87ab28cbc8e4f6",
            "204b22e6f12920c8d22fb42121e0427d38e627f67b65f976ac87ab28cbc8e4f6",
        ),
        (
            "FitChanged",
            "6d4d3ae26b4eafe49d888bf4ae8568bad3910690e00cdc1c71e6c14fc90f3747",
            "9133c6f35d0e6ec13d01b3c47da256c5fd2cdf9c47ddb0e9b05dc62b9a3c528d",
        ),
        (
            "ExpectationNoted",
            "aaa79bb13d5c717a8e6de531b37d16abf630578930ad7c98b99bf3c15f069f4c",
            "16f9f003871960edb87e0abe47fbfcc6526355078b84d86a9a8924ffb485c86c",
        ),
        (
            "MismatchNoted",
            "6b54c73ab77dbea3aaf158613150f97404f1287c50f2ab411c4c7f0351a90d12",
            "713e998b26aa5c78bfa180a35aa807d9c22a65fac77e7deb048e45f4431ee8bb",
        ),
        (
            "Interacted",
            "d737d6ce5e11419acd45d95134b3e893a324bc429d2a9698b4e133bc62dcf683",
            "d58fc2a272a751bd9ccda7b0df4e4f59b909fe11625647f1d3e20fda812d2f01",
        ),
        (
            "Interacted",
            "4dcf9afdb93f27fdf274fc688f52205d3e7da7a4f39944c45b0ac4b7a2a2a89e",
            "4db9f231b143a1ec972bbaea40af1df0c9bb2c920cfcfb86b6e9e8fa0f04cea7",
        ),
        (
            "PromiseMade",
            "3f48cf36555879c74dac48e836ad45f1017ff8fa020befcd9d33e526460b3188",
            "32a91e05f72f5e4b8dd5fd86cd6ec1ed5ba12eb5f915c592dfb418a5ae84e8c5",
        ),
        (
            "PromiseMoved",
            "18563796b07b84c4ebfceacebefc5a7450e23055bc87a682d0b68dd837366852",
            "cf047ba91ee08a3449e06613374e6f8df63b3a4818e3ecd9213d686f58ea6cd5",
        ),
        (
            "PromiseKept",
            "d417f0071e7aca02e0e0230e0ad77e7b75d287118f9b5397505389ce2aa82384",
            "7cecef8c5c24b30c362d790de1551e75b634ec50921032af5379c59366297dfd",
        ),
        (
            "PromiseBroken",
            "217866a9296f7b753c22e52a148db36a1bc7fe4990ed93045cffa48e893982f5",
            "94769fbaecf719d7f323ac323c020ad3bd16f9e760d6ffc89f1f85c132e834d4",
        ),
        (
            "PromiseReleased",
            "b1744d9eef4979f053237ed1d5745558bce079ad1b279e5891e8b1d39bf64acc",
            "6ba6189d99cc12d5edd0106c1a60bad5a79000ebccb4b21f213ce114cec2d1a8",
        ),
        (
            "Advocated",
            "165276c26c822622a1fbffb0a3fab076519847348163e12fed71902a41e4e310",
            "db0a5a8e41c805bd85adaff4e952c831dbaf65f5c419fcc00cd8f4295a02a712",
        ),
        (
            "ClientLost",
            "a11376bc4d681d5cc201a1ae52c6df66fdebc0ee9051c47730d3c27804128a8d",
            "425637f2e751856f62e671c3902dfe78b376802a933f2e3133497817cdf70cc5",
        ),
        (
            "ClientReturned",
            "9840fa44f86784edfb2c129b6f98cd73f16fed169911288cdc641d6cba817012",
            "aeb18dca9aad18e335884fbdd95c5dd9158121ebfda20510215034c7b4a4810f",
        ),
        (
            "Retracted",
            "139c06a4ef8b4d94b858453efe3b4500c71e42376f3b073c431c2237a1e6cc56",
            "5162869943476f79100b575f44c13acff63dd94276f7b8f68a3e8d9caae80a45",
        ),
        (
            "ClientRenamed",
            "a86568c7355c0eb2e781dedbe3dcf9d17d2f859228500007767e350e9f721d7e",
            "e2e76b337772268fe499e39667c7751587b08818493bbfbcd95bcd50d52bc48f",
        ),
        (
            "Amended",
            "df464a4305f3d887a2573c148464604f907005c4dcf0e8dc761ccf79f8b065cb",
            "d2022e92aeca5d986d7bee49cdd8aa389ccbfff7150f63470ed849cee6001b82",
        ),
        (
            "PromiseDelivered",
            "7752cbcc0eb4744fe2e0189317271c746914e04b68db3b9b6a834e2b8d07a3fe",
            "81cfc70cda93c160b3374fecc7fbe0a5ef6834bf74490dfd769057bd60df778e",
        ),
        (
            "CadenceSet",
            "a1cfcc305a16717f2d5fdaac1501ae9a82e7c54a56204165870c393ce41165f4",
            "b2efd0b3c88f648d24fd4135693fa1b7a7c2659f3c72cd78957c40af13e736db",
        ),
    ];

    fn hex(k: &Key) -> String {
        k.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn content_digests_are_pinned_per_kind() {
        let mut d = Digester::default();
        let events = every_kind();
        assert_eq!(events.len(), GOLDEN.len());
        for (i, (ev, (kind, with_ref, without))) in events.into_iter().zip(GOLDEN).enumerate() {
            let e = env(i as Seq + 1, ev);
            assert_eq!(e.event.kind_name(), kind);
            let r = [i as u8; 32];
            assert_eq!(hex(&d.content(&e.as_ref(), Some(&r))), with_ref, "{e:?}");
            assert_eq!(hex(&d.content(&e.as_ref(), None)), without, "{e:?}");
        }
    }

    #[test]
    fn identical_events_are_told_apart_by_occurrence() {
        let ids = || SourceIds {
            identify: true,
            ..SourceIds::default()
        };
        let e = Envelope {
            seq: 1,
            recorded_at: Timestamp(5),
            occurred_at: Timestamp(5),
            author: "a".into(),
            event: Event::ClientLost {
                client: "acme".into(),
                reason: "x".into(),
            },
        };
        let mut d = Digester::default();
        let mut source = ids();
        let a = source.add(&mut d, &e.as_ref(), None);
        let b = source.add(
            &mut d,
            &Envelope {
                seq: 2,
                ..e.clone()
            }
            .as_ref(),
            None,
        );
        assert_ne!(a, b);
        // The journal's side numbers occurrences the same way.
        let mut j = JournalIds::default();
        j.add(&mut d, &e.as_ref());
        j.add(
            &mut d,
            &Envelope {
                seq: 2,
                ..e.clone()
            }
            .as_ref(),
        );
        assert_eq!(j.key_at(1), Some(&a));
        assert_eq!(j.key_at(2), Some(&b));
        // The author is not part of the identity; the times are.
        let c = ids().add(
            &mut d,
            &Envelope {
                author: "bob".into(),
                ..e.clone()
            }
            .as_ref(),
            None,
        );
        assert_eq!(a, c);
        let later = Envelope {
            recorded_at: Timestamp(6),
            ..e
        };
        assert_ne!(a, ids().add(&mut d, &later.as_ref(), None));
        // Without a journal to compare with, no identity is computed.
        assert_eq!(
            SourceIds::default().add(&mut d, &later.as_ref(), None),
            [0; 32]
        );
    }
}
