//! Replays the fuzz targets' seed corpora (`fuzz/corpus/<target>/`) through
//! the very same checks the fuzzers run, so that stable `cargo test`
//! exercises them on every run. The checks live in `fuzz/src/` as plain
//! functions over bytes and are included here by path; the fuzz targets are
//! thin `fuzz_target!` wrappers around them.
//!
//! The seed files are written by the ignored test at the bottom:
//! `TRUSTLOG_WRITE_SEEDS=1 cargo test --test fuzz_corpus_replay -- --ignored`.
//! Inputs the fuzzers found interesting can be added to the corpus as they
//! are (any file name not starting with a dot).

#[allow(dead_code)]
#[path = "../fuzz/src/append_crash_model.rs"]
mod append_crash_model;
#[allow(dead_code)]
#[path = "../fuzz/src/decode_frames.rs"]
mod decode_frames;

use std::fs;
use std::path::PathBuf;

use append_crash_model::{Garbage, Op};
use trustlog::events::{codec, Envelope, Event, Fit, Timestamp};
use trustlog::log::format::{chain_next, encode_frame, Header, FRAME_LEN, HEADER_LEN};

fn corpus_dir(target: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target)
}

fn corpus(target: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(corpus_dir(target))
        .unwrap_or_else(|e| panic!("corpus of {target}: {e}"))
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.is_file()
                && !p
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    files.sort();
    files
}

fn replay(target: &str, min: usize, check: fn(&[u8])) {
    let files = corpus(target);
    assert!(
        files.len() >= min,
        "{target}: only {} seed files; the corpus is missing",
        files.len()
    );
    for f in files {
        let data = fs::read(&f).unwrap();
        // Named on stderr so that a failure says which seed it was.
        eprintln!("replaying {}", f.display());
        check(&data);
    }
}

#[test]
fn decode_frames_corpus_replays() {
    replay("decode_frames", 12, decode_frames::check);
}

#[test]
fn append_crash_model_corpus_replays() {
    replay("append_crash_model", 11, append_crash_model::run);
}

/// The seed writer relies on `encode` being the inverse of the decoder.
#[test]
fn model_ops_encode_to_what_they_decode_from() {
    for ops in model_seeds().into_iter().map(|(_, ops)| ops) {
        let bytes = Op::encode(&ops);
        // Decoding is internal to `run`; re-encode the decoded form through
        // a run of the model, which must accept what the seeds say.
        append_crash_model::run(&bytes);
        assert!(!bytes.is_empty());
    }
}

/// Replays one input (a crash the fuzzer wrote under `fuzz/artifacts/`),
/// printing the model's operations:
/// `TRUSTLOG_FUZZ_INPUT=path cargo test --test fuzz_corpus_replay one_input -- --ignored --nocapture`
/// (the target is guessed from the path; default append_crash_model).
#[test]
#[ignore = "replays TRUSTLOG_FUZZ_INPUT"]
fn one_input() {
    let Some(path) = std::env::var_os("TRUSTLOG_FUZZ_INPUT") else {
        return;
    };
    let data = fs::read(&path).unwrap();
    if path.to_string_lossy().contains("decode_frames") {
        decode_frames::check(&data);
    } else {
        for op in append_crash_model::ops(&data) {
            eprintln!("{op:?}");
        }
        append_crash_model::run(&data);
    }
}

// ---- seeds -------------------------------------------------------------

fn journal(h: &Header, payloads: &[&[u8]]) -> (Vec<u8>, Vec<usize>) {
    let mut out = h.encode().to_vec();
    let mut chain = h.chain_seed();
    let mut offsets = Vec::new();
    for (i, p) in payloads.iter().enumerate() {
        let seq = i as u64 + 1;
        chain = chain_next(&chain, seq, p);
        offsets.push(out.len());
        encode_frame(&mut out, seq, &chain, p);
    }
    (out, offsets)
}

fn envelope() -> Envelope {
    Envelope {
        seq: 1,
        recorded_at: Timestamp(1_795_000_000_000_000),
        occurred_at: Timestamp(1_794_999_000_000_000),
        author: "seed".into(),
        event: Event::ClientAdded {
            handle: "acme".into(),
            name: "Acme Ltd".into(),
            fit: Fit::Target,
            note: "met at the fair".into(),
        },
    }
}

fn decode_seeds() -> Vec<(&'static str, Vec<u8>)> {
    let h = decode_frames::fixed_header();
    let ev = codec::encode(&envelope()).unwrap();
    let ps: Vec<&[u8]> = vec![b"one", &[7u8; 40], &ev, b"four"];
    let (j, offs) = journal(&h, &ps);
    let whole = |b: &[u8]| [&[1u8][..], b].concat();
    let body = |b: &[u8]| [&[0u8][..], &b[HEADER_LEN..]].concat();

    let mut flipped = j.clone();
    flipped[offs[1] + FRAME_LEN + 3] ^= 0x08;
    let mut torn = j.clone();
    torn.truncate(j.len() - 5);
    let mut fake = b"payload ending in a frame: ".to_vec();
    encode_frame(&mut fake, 99, &[0x42; 32], b"inner");
    let (embedded, _) = journal(&h, &[b"one", &fake]);
    let mut stale = j.clone();
    stale.extend_from_slice(&j[offs[3]..offs[3] + 10]);
    stale.extend_from_slice(&j[offs[0]..offs[1]]);
    let mut bad_crc = j.clone();
    bad_crc[30] ^= 1;
    let mut v2 = h;
    v2.version = 2;
    let (future, _) = journal(&v2, &ps);
    let (holes, _) = journal(&h, &[b"kept", b"", b"", b"kept too"]);
    let mut deleted = j[..offs[1]].to_vec();
    deleted.extend_from_slice(&j[offs[2]..]);
    let mut duplicated = j.clone();
    duplicated.extend_from_slice(&j[offs[3]..]);
    let mut seq_max = h.encode().to_vec();
    let c = chain_next(&h.chain_seed(), u64::MAX, b"max");
    encode_frame(&mut seq_max, u64::MAX, &c, b"max");
    encode_frame(&mut seq_max, 0, &c, b"zero");
    let fixture =
        fs::read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/v1.tlog")).unwrap();

    vec![
        ("body-four-records", body(&j)),
        ("whole-four-records", whole(&j)),
        ("whole-torn-tail", whole(&torn)),
        ("whole-bit-flip-record-2", whole(&flipped)),
        ("whole-frame-inside-last-payload", whole(&embedded)),
        ("whole-stale-frame-after-torn-tail", whole(&stale)),
        ("whole-bad-header-crc", whole(&bad_crc)),
        ("whole-version-2", whole(&future)),
        ("whole-holes", whole(&holes)),
        ("whole-deleted-record", whole(&deleted)),
        ("whole-duplicated-record", whole(&duplicated)),
        ("whole-header-only", whole(&h.encode())),
        ("whole-text", whole(b"date,client\n2026-11-22,acme\n")),
        ("whole-fixture-v1", whole(&fixture)),
        ("whole-seq-u64-max", whole(&seq_max)),
        ("codec-envelope", [&[0u8][..], &ev].concat()),
    ]
}

fn model_seeds() -> Vec<(&'static str, Vec<Op>)> {
    let p = |n: usize, b: u8| vec![b; n];
    let mut fake = b"a note ending in a frame: ".to_vec();
    encode_frame(&mut fake, 99, &[0x42; 32], b"inner");
    vec![
        (
            "appends-then-crash",
            vec![
                Op::Append(p(10, 1)),
                Op::Append(p(200, 2)),
                Op::Crash {
                    keep: 0,
                    garbage: Garbage::None,
                },
                Op::Append(p(3, 3)),
                Op::Read,
            ],
        ),
        (
            "batch-crash-mid-write-zeros",
            vec![
                Op::Append(p(5, 1)),
                Op::Fault {
                    undo_fails: true,
                    sync: true,
                    partial: 0,
                },
                Op::Batch(vec![p(30, 2), p(40, 3), p(50, 4)]),
                Op::Crash {
                    keep: 100,
                    garbage: Garbage::Zeros(64),
                },
                Op::Append(p(7, 5)),
            ],
        ),
        (
            "sync-fault-poisons-then-reopen",
            vec![
                Op::Append(p(8, 1)),
                Op::Fault {
                    undo_fails: false,
                    sync: true,
                    partial: 0,
                },
                Op::Append(p(9, 2)),
                Op::Append(p(9, 3)),
                Op::Read,
                Op::Reopen,
                Op::Append(p(9, 4)),
                Op::Read,
            ],
        ),
        (
            "short-write-then-crash-random",
            vec![
                Op::Append(p(20, 1)),
                Op::Fault {
                    undo_fails: true,
                    sync: false,
                    partial: 30,
                },
                Op::Append(p(100, 2)),
                Op::Crash {
                    keep: 20,
                    garbage: Garbage::Bytes((0..=255u8).rev().take(90).collect()),
                },
                Op::Append(p(1, 3)),
            ],
        ),
        (
            "crash-with-frame-header-garbage",
            vec![
                Op::Append(p(12, 1)),
                Op::Append(p(12, 2)),
                Op::Fault {
                    undo_fails: true,
                    sync: true,
                    partial: 0,
                },
                Op::Append(p(12, 3)),
                Op::Crash {
                    keep: 13,
                    garbage: Garbage::FrameHeader,
                },
                Op::Read,
            ],
        ),
        (
            "payload-ending-in-a-frame-then-reopen",
            vec![
                Op::Append(p(4, 1)),
                Op::Append(fake.clone()),
                Op::Reopen,
                Op::Append(p(4, 2)),
                Op::Crash {
                    keep: 0,
                    garbage: Garbage::None,
                },
                Op::Append(fake),
            ],
        ),
        (
            "reopen-with-armed-sync-fault-and-torn-tail",
            vec![
                Op::Append(p(6, 1)),
                Op::Fault {
                    undo_fails: false,
                    sync: false,
                    partial: 20,
                },
                Op::Append(p(60, 2)),
                Op::Fault {
                    undo_fails: false,
                    sync: true,
                    partial: 0,
                },
                Op::Reopen,
                Op::Append(p(6, 3)),
                Op::Reopen,
                Op::Append(p(6, 4)),
            ],
        ),
        (
            "sync-fault-rolled-back-then-crash",
            vec![
                Op::Append(p(15, 1)),
                Op::Fault {
                    sync: true,
                    undo_fails: false,
                    partial: 0,
                },
                Op::Batch(vec![p(30, 2), p(40, 3)]),
                Op::Read,
                Op::Crash {
                    keep: 500,
                    garbage: Garbage::None,
                },
                Op::Append(p(7, 4)),
                Op::Read,
            ],
        ),
        (
            "short-write-rolled-back-then-reopen",
            vec![
                Op::Append(p(25, 1)),
                Op::Fault {
                    sync: false,
                    undo_fails: false,
                    partial: 40,
                },
                Op::Append(p(90, 2)),
                Op::Reopen,
                Op::Append(p(9, 3)),
                Op::Crash {
                    keep: 3,
                    garbage: Garbage::Zeros(9),
                },
                Op::Read,
            ],
        ),
        (
            "sync-and-rollback-fail-then-reopen",
            vec![
                Op::Append(p(11, 1)),
                Op::Fault {
                    sync: true,
                    undo_fails: true,
                    partial: 0,
                },
                Op::Append(p(50, 2)),
                Op::Reopen,
                Op::Append(p(11, 3)),
                Op::Read,
            ],
        ),
        (
            "many-small-appends",
            (0..40)
                .map(|i| {
                    if i % 9 == 8 {
                        Op::Crash {
                            keep: (i * 7) as u16,
                            garbage: Garbage::Zeros(i),
                        }
                    } else {
                        Op::Append(p(1 + i % 5, i as u8))
                    }
                })
                .collect(),
        ),
    ]
}

#[test]
#[ignore = "writes the seed corpora; run with TRUSTLOG_WRITE_SEEDS=1"]
fn write_seed_corpus() {
    if std::env::var_os("TRUSTLOG_WRITE_SEEDS").is_none() {
        return;
    }
    let d = corpus_dir("decode_frames");
    fs::create_dir_all(&d).unwrap();
    for (name, bytes) in decode_seeds() {
        fs::write(d.join(format!("seed-{name}")), bytes).unwrap();
    }
    let d = corpus_dir("append_crash_model");
    fs::create_dir_all(&d).unwrap();
    for (name, ops) in model_seeds() {
        fs::write(d.join(format!("seed-{name}")), Op::encode(&ops)).unwrap();
    }
}
