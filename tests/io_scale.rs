//! Import at scale, with retractions of every kind: a journal of a few
//! thousand events in which promises, keeps, moves, interactions, losses
//! and whole clients are retracted (and then built on: a reopened promise
//! kept again, a handle added again), exported and imported into an empty
//! journal, must answer `status`, `due`, `audit` and `log` exactly as the
//! source; importing it again adds nothing and changes no byte.
//!
//! This is also the workload that made import quadratic (each retraction
//! replayed everything before it); the unit test
//! `retractions_cost_what_they_touch_not_what_came_before` pins the cost,
//! this one the result.

mod common;

use std::path::Path;
use std::time::Duration;

use common::*;
use trustlog::events::{
    codec, Cause, Due, Envelope, Event, Fit, InteractionKind, Party, Timestamp,
};
use trustlog::log::JournalWriter;

/// A small deterministic generator.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

#[derive(Clone)]
struct ClientM {
    handle: String,
    /// Seq of its current `ClientAdded`; `None` once that was retracted.
    added: Option<u64>,
    lost: Option<u64>,
}

#[derive(Clone)]
struct PromiseM {
    id: u64,
    client: usize,
    made: u64,
    /// The original due, then each move still standing: (seq, due).
    dues: Vec<(u64, Timestamp)>,
    /// Seq of the keep, break or release closing it.
    closed: Option<u64>,
    gone: bool,
}

/// A history where every step is valid under the recording rules, with
/// retractions of promises made, keeps, moves, interactions, losses and
/// clients, and life going on after each.
fn history(steps: usize, seed: u64) -> Vec<Envelope> {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let start = ts("2024-01-01T09:00").0;
    let mut out: Vec<Envelope> = Vec::new();
    let mut clients: Vec<ClientM> = Vec::new();
    let mut promises: Vec<PromiseM> = Vec::new();
    let mut interactions: Vec<u64> = Vec::new();
    let mut retracted: std::collections::HashSet<u64> = Default::default();
    let mut next_promise = 1;
    let author = ["ana", "ben", "chloe"];
    for _ in 0..steps {
        let seq = out.len() as u64 + 1;
        let at = Timestamp(start + seq as i64 * 60_000_000);
        let day = 86_400_000_000i64;
        let live: Vec<usize> = (0..clients.len())
            .filter(|&c| clients[c].added.is_some())
            .collect();
        let open: Vec<usize> = (0..promises.len())
            .filter(|&p| !promises[p].gone && promises[p].closed.is_none())
            .filter(|&p| clients[promises[p].client].added.is_some())
            .collect();
        let event = match rng.below(20) {
            0 | 1 if live.len() < 40 || clients.len() < 3 => {
                // A new client, or one whose addition was retracted, again.
                let again = (0..clients.len()).find(|&c| clients[c].added.is_none());
                let c = match again {
                    Some(c) if rng.below(2) == 0 => c,
                    _ => {
                        clients.push(ClientM {
                            handle: format!("client-{}", clients.len()),
                            added: None,
                            lost: None,
                        });
                        clients.len() - 1
                    }
                };
                clients[c].added = Some(seq);
                clients[c].lost = None;
                Event::ClientAdded {
                    handle: clients[c].handle.clone(),
                    name: format!("Client {c} \"Ltd\""),
                    fit: Fit::Target,
                    note: String::new(),
                }
            }
            2..=5 if !live.is_empty() => {
                let c = live[rng.below(live.len() as u64) as usize];
                if clients[c].lost.is_some() {
                    clients[c].lost = None;
                    Event::ClientReturned {
                        client: clients[c].handle.clone(),
                        note: "back".into(),
                    }
                } else {
                    let id = next_promise;
                    next_promise += 1;
                    let due = Timestamp(at.0 + (1 + rng.below(30) as i64) * day);
                    promises.push(PromiseM {
                        id,
                        client: c,
                        made: seq,
                        dues: vec![(seq, due)],
                        closed: None,
                        gone: false,
                    });
                    Event::PromiseMade {
                        promise: id,
                        client: clients[c].handle.clone(),
                        what: format!("deliverable {id}"),
                        due: Due {
                            at: due,
                            date_only: false,
                        },
                    }
                }
            }
            6 | 7 if !open.is_empty() => {
                let p = &mut promises[open[rng.below(open.len() as u64) as usize]];
                let due = Timestamp(p.dues.last().map_or(at.0, |d| d.1 .0) + day);
                p.dues.push((seq, due));
                Event::PromiseMoved {
                    promise: p.id,
                    due: Due {
                        at: due,
                        date_only: false,
                    },
                    cause: Cause::Client,
                    agreed_by_client: true,
                    reason: "later".into(),
                }
            }
            8..=10 if !open.is_empty() => {
                let p = &mut promises[open[rng.below(open.len() as u64) as usize]];
                p.closed = Some(seq);
                match rng.below(4) {
                    0 => Event::PromiseBroken {
                        promise: p.id,
                        reason: "late".into(),
                    },
                    1 => Event::PromiseReleased {
                        promise: p.id,
                        reason: "cancelled".into(),
                    },
                    _ => Event::PromiseKept {
                        promise: p.id,
                        note: String::new(),
                    },
                }
            }
            11 | 12 if !live.is_empty() => {
                let c = live[rng.below(live.len() as u64) as usize];
                interactions.push(seq);
                Event::Interacted {
                    client: clients[c].handle.clone(),
                    kind: InteractionKind::Call,
                    mood: rng.below(5) as i8 - 2,
                    minutes: Some(rng.below(60) as u32),
                    initiated_by: Party::Us,
                    note: format!("call {seq}"),
                }
            }
            13 if !live.is_empty() => {
                let c = live[rng.below(live.len() as u64) as usize];
                if clients[c].lost.is_some() {
                    continue;
                }
                clients[c].lost = Some(seq);
                Event::ClientLost {
                    client: clients[c].handle.clone(),
                    reason: "quiet".into(),
                }
            }
            _ => {
                // A retraction, of one kind or another.
                let mut target = None;
                match rng.below(6) {
                    0 => {
                        // A promise made: it is gone, with what followed.
                        if let Some(&p) = open.get(rng.below(open.len().max(1) as u64) as usize) {
                            promises[p].gone = true;
                            target = Some(promises[p].made);
                        }
                    }
                    1 => {
                        // A keep, break or release: the promise is open again.
                        let closed: Vec<usize> = (0..promises.len())
                            .filter(|&p| !promises[p].gone && promises[p].closed.is_some())
                            .filter(|&p| clients[promises[p].client].added.is_some())
                            .collect();
                        if let Some(&p) = closed.get(rng.below(closed.len().max(1) as u64) as usize)
                        {
                            target = promises[p].closed.take();
                        }
                    }
                    2 => {
                        // The last move of an open promise: its due goes back.
                        let moved: Vec<usize> = open
                            .iter()
                            .copied()
                            .filter(|&p| promises[p].dues.len() > 1)
                            .collect();
                        if let Some(&p) = moved.get(rng.below(moved.len().max(1) as u64) as usize) {
                            target = promises[p].dues.pop().map(|d| d.0);
                        }
                    }
                    3 => {
                        if !interactions.is_empty() {
                            let i = rng.below(interactions.len() as u64) as usize;
                            target = Some(interactions.swap_remove(i));
                        }
                    }
                    4 => {
                        // A client with nothing open: gone, handle free again.
                        let idle: Vec<usize> = live
                            .iter()
                            .copied()
                            .filter(|&c| !open.iter().any(|&p| promises[p].client == c))
                            .collect();
                        if let Some(&c) = idle.get(rng.below(idle.len().max(1) as u64) as usize) {
                            target = clients[c].added.take();
                            // Its promises stay in the journal, closed; they
                            // are left alone from now on.
                            for p in promises.iter_mut().filter(|p| p.client == c) {
                                p.gone = true;
                            }
                        }
                    }
                    _ => {
                        // A loss: the client is back.
                        let lost: Vec<usize> = live
                            .iter()
                            .copied()
                            .filter(|&c| clients[c].lost.is_some())
                            .collect();
                        if let Some(&c) = lost.get(rng.below(lost.len().max(1) as u64) as usize) {
                            target = clients[c].lost.take();
                        }
                    }
                }
                let Some(target) = target else { continue };
                assert!(retracted.insert(target), "test bug: {target} twice");
                Event::Retracted {
                    seq: target,
                    reason: "recorded by mistake".into(),
                }
            }
        };
        out.push(Envelope {
            seq,
            recorded_at: at,
            occurred_at: at,
            author: author[rng.below(3) as usize].into(),
            event,
        });
    }
    out
}

fn write_journal(path: &Path, envs: &[Envelope]) {
    let mut w = JournalWriter::open(path, envs[0].recorded_at.0, Duration::from_secs(5))
        .expect("create the source journal");
    let payloads: Vec<Vec<u8>> = envs
        .iter()
        .map(|e| codec::encode(e).expect("encode"))
        .collect();
    w.append_batch(payloads.iter().map(Vec::as_slice))
        .expect("write the source journal");
}

fn answers(t: &Tl) -> Vec<String> {
    [
        vec!["status", "--json"],
        vec!["due", "--json"],
        vec!["audit", "--json"],
        vec!["log", "--json"],
    ]
    .iter()
    .map(|q| t.ok(q).stdout)
    .collect()
}

#[test]
fn thousands_of_events_with_retractions_of_every_kind_import_as_they_were() {
    let envs = history(6_000, 3);
    let count = |f: &dyn Fn(&Event) -> bool| envs.iter().filter(|e| f(&e.event)).count();
    let retracted_kinds: std::collections::HashSet<&str> = envs
        .iter()
        .filter_map(|e| match e.event {
            Event::Retracted { seq, .. } => Some(envs[seq as usize - 1].event.kind_name()),
            _ => None,
        })
        .collect();
    // The workload is what it says.
    assert!(count(&|e| matches!(e, Event::Retracted { .. })) > 400);
    for kind in [
        "PromiseMade",
        "PromiseKept",
        "PromiseMoved",
        "Interacted",
        "ClientAdded",
        "ClientLost",
    ] {
        assert!(retracted_kinds.contains(kind), "no {kind} retracted");
    }

    let mut source = Tl::new();
    source.now = "2026-11-20T10:00".into();
    write_journal(&source.journal, &envs);
    let export = source.ok(&["export"]).stdout;
    let file = source.dir.path().join("export.jsonl");
    std::fs::write(&file, &export).expect("write the export");

    let mut target = Tl::new();
    target.now = source.now.clone();
    let out = target
        .ok(&["import", &file.display().to_string(), "--json"])
        .json();
    assert_eq!(out["new"], envs.len());
    assert_eq!(out["rejected"], 0);
    assert_eq!(answers(&target), answers(&source));

    // Again: nothing new, not a byte changed.
    let before = target.bytes();
    let out = target
        .ok(&["import", &file.display().to_string(), "--json"])
        .json();
    assert_eq!(
        (out["new"].as_u64(), out["skipped"].as_u64()),
        (Some(0), Some(envs.len() as u64))
    );
    assert_eq!(target.bytes(), before);

    // Cut anywhere (a promise from its retraction, a client from its
    // promises), the import takes or refuses each line by the rules — and
    // what it takes answers as the source cut there does.
    for cut in [1_000, 2_345, 4_999] {
        let head: String = export.lines().take(cut).map(|l| format!("{l}\n")).collect();
        let part = source.dir.path().join(format!("head-{cut}.jsonl"));
        std::fs::write(&part, head).expect("write the cut");
        let mut t = Tl::new();
        t.now = source.now.clone();
        t.ok(&["import", &part.display().to_string()]);
        let mut s = Tl::new();
        s.now = source.now.clone();
        write_journal(&s.journal, &envs[..cut]);
        assert_eq!(answers(&t), answers(&s), "cut at {cut}");
    }
}
