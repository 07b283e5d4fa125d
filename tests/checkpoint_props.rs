//! Checkpoint correctness, through the real binary: for random journals and
//! a checkpoint written at a random position, every query answered from the
//! checkpoint plus the tail is byte for byte the answer of a full replay
//! without any checkpoint, `--as-of` (before and after the checkpoint)
//! included; so is what a recording command accepts or refuses.
//!
//! The journals come from random operations (clients, interactions,
//! promises made, moved, kept, broken and released, lost and returned
//! clients, advocacy, and retractions of any earlier event, before or after
//! the checkpoint), written through the library with pinned clocks that
//! now and then go back (records out of order, as imports bring them: the
//! audit flags them, and a checkpoint must carry the latest time seen).

mod common;

use std::collections::HashSet;
use std::path::Path;

use proptest::prelude::*;

use common::Tl;
use trustlog::events::*;
use trustlog::log::{JournalWriter, DEFAULT_LOCK_WAIT};

const HANDLES: [&str; 3] = ["acme", "beta", "cora"];
const DAY: i64 = 86_400;
const START: i64 = 1_790_000_000; // 2026-09-21

#[derive(Debug, Clone)]
enum Op {
    Add(usize),
    Talk(usize, i8),
    Make(usize, i64),
    Move(u64, i64, usize, bool),
    Keep(u64),
    Break(u64),
    Release(u64),
    Mismatch(usize),
    Praise(usize),
    Lost(usize),
    Back(usize),
    Retract(usize),
}

fn op() -> impl Strategy<Value = Op> {
    let h = 0..HANDLES.len();
    let p = 0u64..10;
    prop_oneof![
        2 => h.clone().prop_map(Op::Add),
        4 => (h.clone(), -2i8..=2).prop_map(|(h, m)| Op::Talk(h, m)),
        3 => (h.clone(), -3i64..20).prop_map(|(h, d)| Op::Make(h, d)),
        2 => (p.clone(), -3i64..20, 0usize..3, any::<bool>()).prop_map(|(p, d, c, a)| Op::Move(p, d, c, a)),
        2 => p.clone().prop_map(Op::Keep),
        1 => p.clone().prop_map(Op::Break),
        1 => p.prop_map(Op::Release),
        1 => h.clone().prop_map(Op::Mismatch),
        1 => h.clone().prop_map(Op::Praise),
        1 => h.clone().prop_map(Op::Lost),
        1 => h.prop_map(Op::Back),
        1 => (0usize..1000).prop_map(Op::Retract),
    ]
}

/// Envelopes from operations; `recorded_at` goes back now and then (a
/// negative step).
fn build(ops: Vec<(Op, i64)>) -> Vec<Envelope> {
    let mut clock = START;
    let mut next_promise = 1u64;
    let mut out: Vec<Envelope> = Vec::new();
    let mut retracted: HashSet<Seq> = HashSet::new();
    for (op, advance) in ops {
        clock += advance;
        let due = |d: i64| Due {
            at: Timestamp((clock + d * DAY) * 1_000_000),
            date_only: d % 2 == 0,
        };
        let c = |h: usize| HANDLES[h].to_string();
        let pid = |raw: u64| 1 + raw % next_promise.max(2).saturating_sub(1).max(1);
        let event = match op {
            Op::Add(h) => Event::ClientAdded {
                handle: c(h),
                name: c(h).to_uppercase(),
                fit: if h == 2 { Fit::OffTarget } else { Fit::Target },
                note: String::new(),
            },
            Op::Talk(h, mood) => Event::Interacted {
                client: c(h),
                kind: InteractionKind::Call,
                mood,
                minutes: Some(20),
                initiated_by: Party::Us,
                note: "n".into(),
            },
            Op::Make(h, d) => {
                next_promise += 1;
                Event::PromiseMade {
                    promise: next_promise - 1,
                    client: c(h),
                    what: format!("deliverable {}", next_promise - 1),
                    due: due(d),
                }
            }
            Op::Move(p, d, cause, agreed) => Event::PromiseMoved {
                promise: pid(p),
                due: due(d),
                cause: [Cause::Us, Cause::Client, Cause::External][cause],
                agreed_by_client: agreed,
                reason: String::new(),
            },
            Op::Keep(p) => Event::PromiseKept {
                promise: pid(p),
                note: String::new(),
            },
            Op::Break(p) => Event::PromiseBroken {
                promise: pid(p),
                reason: "b".into(),
            },
            Op::Release(p) => Event::PromiseReleased {
                promise: pid(p),
                reason: "r".into(),
            },
            Op::Mismatch(h) => Event::MismatchNoted {
                client: c(h),
                text: "not that".into(),
            },
            Op::Praise(h) => Event::Advocated {
                client: c(h),
                kind: AdvocacyKind::Referral,
                initiated_by_client: true,
                note: String::new(),
            },
            Op::Lost(h) => Event::ClientLost {
                client: c(h),
                reason: "gone".into(),
            },
            Op::Back(h) => Event::ClientReturned {
                client: c(h),
                note: String::new(),
            },
            Op::Retract(k) => {
                let candidates: Vec<Seq> = out
                    .iter()
                    .filter(|e| !matches!(e.event, Event::Retracted { .. }))
                    .map(|e| e.seq)
                    .filter(|s| !retracted.contains(s))
                    .collect();
                if candidates.is_empty() {
                    continue;
                }
                let seq = candidates[k % candidates.len()];
                retracted.insert(seq);
                Event::Retracted {
                    seq,
                    reason: "mistake".into(),
                }
            }
        };
        let at = Timestamp(clock * 1_000_000);
        out.push(Envelope {
            seq: out.len() as Seq + 1,
            recorded_at: at,
            occurred_at: at,
            author: "prop".into(),
            event,
        });
    }
    out
}

fn stream() -> impl Strategy<Value = Vec<Envelope>> {
    let step = prop_oneof![9 => 0i64..2 * DAY, 1 => -3 * DAY..0];
    // A stream of retractions alone builds no event; the properties cut a
    // journal somewhere, so it needs one (an empty stream made
    // `Index::index(0)` panic now and then).
    proptest::collection::vec((op(), step), 1..50)
        .prop_map(build)
        .prop_filter("a journal with at least one event", |e| !e.is_empty())
}

fn append(path: &Path, envs: &[Envelope]) {
    let mut w = JournalWriter::open(path, START * 1_000_000, DEFAULT_LOCK_WAIT).unwrap();
    let payloads: Vec<Vec<u8>> = envs.iter().map(|e| codec::encode(e).unwrap()).collect();
    if !payloads.is_empty() {
        w.append_batch(payloads.iter().map(Vec::as_slice)).unwrap();
    }
}

/// `trustlog <args>` with checkpoints written after `every` bytes of
/// replay (`0`: never).
fn run(tl: &Tl, every: &str, args: &[&str]) -> common::Output {
    let mut c = tl.command();
    c.env("TRUSTLOG_CHECKPOINT_BYTES", every)
        .arg("--journal")
        .arg(&tl.journal)
        .args(args);
    common::output(c)
}

/// A WHEN the binary reads (the tests pin `TZ=UTC`).
/// Two journals of `envs` with the same "now" (three days after the last
/// event): the second has a checkpoint after event `k` (written by a
/// `query` over the first `k` events, the rest appended after); the first,
/// the reference, never had one.
fn checkpointed_at(envs: &[Envelope], k: usize, query: &str) -> Result<(Tl, Tl), TestCaseError> {
    let mut tl = Tl::new();
    let last = envs
        .iter()
        .map(|e| e.recorded_at.0)
        .max()
        .unwrap_or(START * 1_000_000);
    tl.now = rfc(Timestamp(last + 3 * DAY * 1_000_000));
    let mut plain = Tl::new();
    plain.now = tl.now.clone();
    append(&plain.journal, envs);
    append(&tl.journal, &envs[..k]);
    let w = run(&tl, "1", &[query, "--json"]);
    prop_assert_eq!(w.code, 0, "{:?}", w);
    let ck = trustlog::app::checkpoint::path_for(&tl.journal);
    prop_assert!(ck.exists());
    append(&tl.journal, &envs[k..]);
    Ok((tl, plain))
}

fn rfc(t: Timestamp) -> String {
    t.to_utc()
        .map(|d| d.format("%Y-%m-%dT%H:%M:%S").to_string())
        .unwrap_or_default()
}

/// Every query's answer, and the exit code and messages with it.
fn answers(tl: &Tl, every: &str, as_of: &[String]) -> Vec<String> {
    let mut queries: Vec<Vec<String>> = vec![
        vec!["status".into(), "--json".into()],
        vec!["due".into(), "--json".into()],
        vec!["due".into(), "--within".into(), "3d".into()],
        vec!["audit".into(), "--json".into()],
        vec!["audit".into(), "--csv".into()],
        vec!["audit".into()],
        vec!["log".into(), "--json".into()],
    ];
    for h in HANDLES {
        queries.push(vec!["status".into(), h.into(), "--json".into()]);
        queries.push(vec![
            "audit".into(),
            "--client".into(),
            h.into(),
            "--json".into(),
        ]);
        queries.push(vec!["trust".into(), h.into(), "--json".into()]);
        queries.push(vec!["postmortem".into(), h.into(), "--json".into()]);
    }
    let mut out = Vec::new();
    for q in &queries {
        for t in std::iter::once(None).chain(as_of.iter().map(Some)) {
            let mut args: Vec<&str> = q.iter().map(String::as_str).collect();
            if let Some(t) = t {
                args.extend(["--as-of", t.as_str()]);
            }
            let o = run(tl, every, &args);
            out.push(format!("{args:?} -> {} {} {}", o.code, o.stdout, o.stderr));
        }
    }
    out
}

/// Recording commands that may be accepted or refused, by promise id and
/// seq (the same on both journals).
fn recordings(envs: &[Envelope]) -> Vec<Vec<String>> {
    let last = envs.len() as u64;
    vec![
        vec!["promise".into(), "keep".into(), "1".into()],
        vec![
            "promise".into(),
            "break".into(),
            "2".into(),
            "--reason".into(),
            "x".into(),
        ],
        vec![
            "promise".into(),
            "move".into(),
            "3".into(),
            "--due".into(),
            "+5d".into(),
            "--cause".into(),
            "us".into(),
        ],
        vec!["talk".into(), "beta".into(), "--mood".into(), "1".into()],
        vec![
            "promise".into(),
            "make".into(),
            "cora".into(),
            "more".into(),
            "--due".into(),
            "+2d".into(),
        ],
        vec![
            "retract".into(),
            last.max(1).to_string(),
            "--reason".into(),
            "r".into(),
        ],
        vec!["retract".into(), "1".into(), "--reason".into(), "r".into()],
        vec![
            "client".into(),
            "lost".into(),
            "acme".into(),
            "--reason".into(),
            "r".into(),
        ],
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn checkpoint_plus_tail_answers_exactly_as_a_full_replay(
        envs in stream(),
        cut in any::<prop::sample::Index>(),
        pick in any::<prop::sample::Index>(),
    ) {
        let k = cut.index(envs.len()) + 1;
        let (tl, plain) = checkpointed_at(&envs, k, "status")?;
        let last = envs.iter().map(|e| e.recorded_at.0).max().unwrap_or(START * 1_000_000);
        let ck = trustlog::app::checkpoint::path_for(&tl.journal);
        // --as-of: before the checkpoint's events, at an event, after all.
        let t = envs[pick.index(envs.len())].recorded_at;
        let as_of = vec![
            rfc(Timestamp(START * 1_000_000 - 1)),
            rfc(t),
            rfc(envs[k - 1].recorded_at),
            rfc(Timestamp(last)),
        ];
        let plain2 = plain;
        let expected = answers(&plain2, "0", &as_of);
        // Answers with the checkpoint in use, and never rewritten…
        let ck_bytes = std::fs::read(&ck).unwrap();
        let got = answers(&tl, "1000000000", &as_of);
        prop_assert_eq!(&got, &expected);
        // A retraction in the tail of an event the checkpoint holds makes it
        // stale: the fold starts over and replaces it. Otherwise a short tail
        // leaves it as it is.
        let reaches_back = envs[k..]
            .iter()
            .any(|e| matches!(e.event, Event::Retracted { seq, .. } if seq <= k as Seq));
        if !reaches_back {
            prop_assert_eq!(std::fs::read(&ck).unwrap(), ck_bytes, "a short tail rewrites nothing");
        }
        // …and while it is rewritten at every fold.
        let got = answers(&tl, "1", &as_of);
        prop_assert_eq!(&got, &expected);
        // Recording commands accept and refuse the same, with the same words.
        for args in recordings(&envs) {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let a = run(&tl, "1", &args);
            let b = run(&plain2, "0", &args);
            prop_assert_eq!(
                (a.code, &a.stdout, &a.stderr),
                (b.code, &b.stdout, &b.stderr),
                "{:?}", args
            );
        }
        prop_assert_eq!(
            answers(&tl, "1000000000", &[]),
            answers(&plain2, "0", &[])
        );
    }
}

/// A recording command, valid or not: known, unknown and misspelt
/// handles, open, closed, retracted and unknown promise ids, any seq.
fn recording() -> impl Strategy<Value = Vec<String>> {
    let h = prop::sample::select(vec!["acme", "beta", "cora", "dora", "acm"]);
    let id = 0u64..14;
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<String>>();
    prop_oneof![
        3 => (h.clone(), -2i8..=2).prop_map(move |(h, m)| s(&["talk", h, "--mood", &m.to_string(), "hi"])),
        1 => h.clone().prop_map(move |h| s(&["client", "add", h])),
        1 => (h.clone(), any::<bool>()).prop_map(move |(h, f)| s(&["client", "fit", h, if f { "target" } else { "off-target" }])),
        1 => h.clone().prop_map(move |h| s(&["client", "lost", h, "--reason", "r"])),
        1 => h.clone().prop_map(move |h| s(&["client", "back", h])),
        1 => h.clone().prop_map(move |h| s(&["client", "want", h, "more"])),
        1 => h.clone().prop_map(move |h| s(&["client", "praise", h, "--kind", "referral"])),
        3 => (h, -2i64..5).prop_map(move |(h, d)| s(&["promise", "make", h, "it", "--due", &format!("{d:+}d")])),
        2 => (id.clone(), -2i64..9).prop_map(move |(p, d)| s(&["promise", "move", &p.to_string(), "--due", &format!("{d:+}d"), "--cause", "us"])),
        2 => (id.clone(), any::<bool>()).prop_map(move |(p, early)| {
            let mut v = s(&["promise", "keep", &p.to_string()]);
            if early {
                // Before any promise was made: refused for an open one.
                v.extend(s(&["--at", "2026-09-01T00:00:00"]));
            }
            v
        }),
        1 => id.clone().prop_map(move |p| s(&["promise", "break", &p.to_string(), "--reason", "x"])),
        1 => id.prop_map(move |p| s(&["promise", "release", &p.to_string(), "--reason", "x"])),
        1 => (0u64..60).prop_map(move |q| s(&["retract", &q.to_string(), "--reason", "r"])),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// A recording command validated against a checkpoint that is not
    /// rewritten (so it reads only the client or promise it names, then
    /// folds the tail) accepts and refuses exactly as validation against a
    /// full replay, with the same words, one command after another.
    #[test]
    fn sparse_validation_decides_and_words_as_a_full_replay(
        envs in stream(),
        cut in any::<prop::sample::Index>(),
        cmds in proptest::collection::vec(recording(), 1..12),
    ) {
        let k = cut.index(envs.len()) + 1;
        let (tl, plain) = checkpointed_at(&envs, k, "due")?;
        for args in &cmds {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let a = run(&tl, "1000000000", &args);
            let b = run(&plain, "0", &args);
            prop_assert_eq!(
                (a.code, &a.stdout, &a.stderr),
                (b.code, &b.stdout, &b.stderr),
                "{:?}", args
            );
        }
        // The journals hold the same events, and answer the same.
        prop_assert_eq!(
            answers(&tl, "1000000000", &[]),
            answers(&plain, "0", &[])
        );
    }
}
