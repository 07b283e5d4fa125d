//! The checkpoint's state section (`app::checkpoint::hot`) and its two
//! readers: whole (`decode`) and sparse (`decode_sparse`, which reads only
//! the pages holding the client or promise asked for, each checked against
//! the page table). The first input byte picks the mode:
//! - odd: the rest is a section as found in a file: neither reader panics,
//!   and when both decode it they agree on the counters (both read the same
//!   head);
//! - even: the rest drives a sequence of events folded into a state, which
//!   is encoded; then both readers must give back exactly that state (the
//!   whole one all of it, the sparse one the clients and open promises
//!   asked for, present or not, and the counters and retracted seqs after
//!   the checkpoint). With bit 1 of the mode byte set, one byte of the
//!   section is changed first: the sparse reader, whose every byte read is
//!   CRC-checked (a CRC-32 catches any change within one byte), must then
//!   give up (`None`) or still give exactly the same answer; the whole
//!   reader (whose CRC is checked by its caller) must not panic.
//!
//! Shared by the `checkpoint_sparse` fuzz target and by the main crate's
//! `tests/fuzz_corpus_replay.rs`; it depends on `trustlog` and std only.

use std::collections::BTreeSet;
use std::fs::File;
use std::sync::atomic::{AtomicUsize, Ordering};

use trustlog::app::checkpoint::hot::{self, Subset};
use trustlog::events::{Due, Envelope, Event, Fit, Timestamp};
use trustlog::projections::state::{PromiseStatus, State};
use trustlog::projections::Projection;

/// Bytes before the section in the file, so offsets are exercised.
const PREFIX: usize = 13;

pub fn check(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 1 {
        arbitrary(rest);
        return;
    }
    let (state, future, want) = fold(rest);
    let section = hot::encode(&state, &future);
    let whole = hot::decode(&section).expect("a section as encoded decodes whole");
    same_state(&whole, &state);
    let expected = sparse(&section, &want).expect("a section as encoded decodes sparsely");
    same_subset(&expected.0, &state, &want);
    assert_eq!(
        expected.1,
        future.iter().copied().collect::<BTreeSet<u64>>(),
        "retracted after the checkpoint"
    );
    if mode & 2 != 0 && !section.is_empty() {
        let at = (usize::from(mode >> 2) * 7919 + rest.len()) % section.len();
        let mut changed = section.clone();
        changed[at] ^= rest.first().copied().unwrap_or(0x5a) | 1;
        let _ = hot::decode(&changed);
        if let Some(got) = sparse(&changed, &want) {
            same_subset(&got.0, &state, &want);
            assert_eq!(got.1, expected.1, "byte {at} changed: retracted seqs");
        }
    }
}

fn arbitrary(section: &[u8]) {
    let want = Subset {
        clients: vec!["acme".into(), String::new(), "c0".into()],
        promises: vec![0, 1, 2, u64::MAX],
    };
    let whole = hot::decode(section);
    let part = sparse(section, &want);
    if let (Some(w), Some((p, _))) = (whole, part) {
        assert_eq!(
            (w.max_promise_id, w.last_seq),
            (p.max_promise_id, p.last_seq),
            "whole and sparse readers disagree on the counters"
        );
    }
}

/// The sparse reading of `section` written to a file after `PREFIX` bytes.
fn sparse(section: &[u8], want: &Subset) -> Option<(State, BTreeSet<u64>)> {
    static N: AtomicUsize = AtomicUsize::new(0);
    let path = std::env::temp_dir().join(format!(
        "trustlog-fuzz-hot-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let mut bytes = vec![0xeeu8; PREFIX];
    bytes.extend_from_slice(section);
    std::fs::write(&path, &bytes).expect("write a temporary file");
    let file = File::open(&path).expect("open it");
    let _ = std::fs::remove_file(&path);
    hot::decode_sparse(&file, PREFIX as u64, section.len() as u64, want)
        .map(|(s, f)| (s, f.into_iter().collect()))
}

/// A state folded from events the input describes, the retracted seqs
/// after it, and what a recording command might ask for.
pub fn fold(input: &[u8]) -> (State, Vec<u64>, Subset) {
    let mut st = State::hot_only();
    let mut seq = 0u64;
    let mut handles: Vec<String> = Vec::new();
    let mut next_id = 0u64;
    let mut push = |st: &mut State, event: Event| {
        seq += 1;
        let env = Envelope {
            seq,
            recorded_at: Timestamp(1_700_000_000_000_000 + seq as i64),
            occurred_at: Timestamp(1_700_000_000_000_000 + seq as i64 * 7),
            author: "fuzz".into(),
            event,
        };
        st.apply(&env.as_ref());
    };
    for (i, &b) in input.iter().take(2000).enumerate() {
        let pick = |n: usize| usize::from(b) % n.max(1);
        match b % 6 {
            0 | 1 => {
                // Handles from a small alphabet collide now and then, and
                // some are long or not ASCII.
                let handle = match b % 5 {
                    0 => format!("c{}", i % 17),
                    1 => format!("client-{i}-{}", "x".repeat(usize::from(b) % 40)),
                    2 => format!("zürich-{}", b % 3),
                    _ => format!("c{i}"),
                };
                push(
                    &mut st,
                    Event::ClientAdded {
                        handle: handle.clone(),
                        name: format!("Client «{b}»"),
                        fit: if b % 2 == 0 {
                            Fit::Target
                        } else {
                            Fit::OffTarget
                        },
                        note: String::new(),
                    },
                );
                handles.push(handle);
            }
            2 if !handles.is_empty() => {
                next_id += 1 + u64::from(b % 3 == 0) * 1000;
                push(
                    &mut st,
                    Event::PromiseMade {
                        promise: next_id,
                        client: handles[pick(handles.len())].clone(),
                        what: "w".repeat(usize::from(b) % 50 + 1),
                        due: Due {
                            at: Timestamp(1_800_000_000_000_000 + i64::from(b) * 3_600_000_000),
                            date_only: b % 4 == 0,
                        },
                    },
                );
            }
            3 if next_id > 0 => push(
                &mut st,
                Event::PromiseKept {
                    promise: 1 + u64::from(b) % next_id,
                    note: String::new(),
                },
            ),
            4 if !handles.is_empty() => push(
                &mut st,
                Event::ClientLost {
                    client: handles[pick(handles.len())].clone(),
                    reason: "gone".into(),
                },
            ),
            5 if st.last_seq > 0 => {
                let target = 1 + u64::from(b) % st.last_seq;
                push(
                    &mut st,
                    Event::Retracted {
                        seq: target,
                        reason: "mistake".into(),
                    },
                )
            }
            _ => {}
        }
    }
    let future: Vec<u64> = (0..u64::from(input.last().copied().unwrap_or(0) % 4))
        .map(|k| st.last_seq + 1 + k * 3)
        .collect();
    let mut clients: Vec<String> = handles.iter().step_by(3).cloned().collect();
    clients.extend(["nobody".to_string(), String::new()]);
    let mut promises: Vec<u64> = (0..=next_id.min(40)).collect();
    promises.extend([next_id + 1, u64::MAX]);
    (st, future, Subset { clients, promises })
}

fn open_promises(s: &State) -> Vec<(u64, trustlog::projections::state::Promise)> {
    s.promises
        .iter()
        .filter(|(_, p)| p.status == PromiseStatus::Open)
        .map(|(id, p)| (id, p.clone()))
        .collect()
}

fn same_state(got: &State, want: &State) {
    assert_eq!(got.clients, want.clients, "clients");
    assert_eq!(open_promises(got), open_promises(want), "open promises");
    assert_eq!(
        (got.max_promise_id, got.last_seq),
        (want.max_promise_id, want.last_seq),
        "counters"
    );
    assert_eq!(
        got.retractions().collect::<Vec<_>>(),
        want.retractions().collect::<Vec<_>>(),
        "retractions"
    );
}

fn same_subset(got: &State, want: &State, asked: &Subset) {
    for h in &asked.clients {
        assert_eq!(got.clients.get(h), want.clients.get(h), "client {h:?}");
    }
    for id in &asked.promises {
        let open = want
            .promises
            .get(id)
            .filter(|p| p.status == PromiseStatus::Open);
        assert_eq!(got.promises.get(id), open, "promise {id}");
    }
    assert_eq!(
        (got.max_promise_id, got.last_seq),
        (want.max_promise_id, want.last_seq),
        "counters"
    );
}
