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
#[path = "../fuzz/src/checkpoint_sparse.rs"]
mod checkpoint_sparse;
#[allow(dead_code)]
#[path = "../fuzz/src/decode_frames.rs"]
mod decode_frames;
#[allow(dead_code)]
#[path = "../fuzz/src/decode_ref_vs_decode.rs"]
mod decode_ref_vs_decode;
#[allow(dead_code)]
#[path = "../fuzz/src/import_fast.rs"]
mod import_fast;
#[allow(dead_code)]
#[path = "../fuzz/src/when_parse.rs"]
mod when_parse;

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

#[test]
fn decode_ref_vs_decode_corpus_replays() {
    replay("decode_ref_vs_decode", 16, decode_ref_vs_decode::check);
}

#[test]
fn import_fast_corpus_replays() {
    replay("import_fast", 8, import_fast::check);
}

#[test]
fn checkpoint_sparse_corpus_replays() {
    replay("checkpoint_sparse", 6, checkpoint_sparse::check);
}

#[test]
fn when_parse_corpus_replays() {
    replay("when_parse", 12, when_parse::check);
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
    let p = path.to_string_lossy();
    if p.contains("decode_frames") {
        decode_frames::check(&data);
    } else if p.contains("decode_ref_vs_decode") {
        decode_ref_vs_decode::check(&data);
    } else if p.contains("import_fast") {
        import_fast::check(&data);
    } else if p.contains("checkpoint_sparse") {
        checkpoint_sparse::check(&data);
    } else if p.contains("when_parse") {
        when_parse::check(&data);
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
    for (target, seeds) in [
        ("decode_ref_vs_decode", codec_seeds()),
        ("import_fast", import_seeds()),
        ("checkpoint_sparse", checkpoint_seeds()),
        ("when_parse", when_seeds()),
    ] {
        let d = corpus_dir(target);
        fs::create_dir_all(&d).unwrap();
        for (name, bytes) in seeds {
            fs::write(d.join(format!("seed-{name}")), bytes).unwrap();
        }
    }
}

/// Every variant's golden encoding (`tests/fixtures/v1.golden`), some cut
/// short or with a trailing byte, and a non-canonical varint.
fn codec_seeds() -> Vec<(String, Vec<u8>)> {
    let golden = fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/v1.golden"),
    )
    .unwrap();
    let mut out = Vec::new();
    for line in golden.lines().filter(|l| !l.starts_with('#')) {
        let Some((kind, hex)) = line.split_once(' ') else {
            continue;
        };
        let bytes: Vec<u8> = (0..hex.len() / 2)
            .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
            .collect();
        out.push((kind.to_string(), [&[6u8][..], &bytes].concat()));
        if kind == "PromiseMade" || kind == "Retracted" {
            let cut = &bytes[..bytes.len() - 3];
            out.push((format!("{kind}-cut"), [&[0u8][..], cut].concat()));
            out.push((
                format!("{kind}-trailing"),
                [&[1u8][..], &bytes, &[0]].concat(),
            ));
        }
    }
    let mut wide = codec::encode(&envelope()).unwrap();
    // The variant index as a 3-byte varint (251 = u16 follows): valid
    // bincode, not the canonical form the fast path takes.
    wide.splice(0..1, [251u8, 0, 0]);
    out.push(("non-canonical-varint".into(), [&[2u8][..], &wide].concat()));
    out
}

/// Lines as `export` writes them (the fast path takes these; the file
/// `seed-export-six-events` is a whole `trustlog export`), and variations
/// it must leave to the general reading.
fn import_seeds() -> Vec<(String, Vec<u8>)> {
    let made = r#"{"author":"root","client":"acme","due":"2026-11-27T23:59:59.999999Z","due_date_only":true,"id":"a3c43fc43a25dcdeb6dd831039a16621-2","kind":"PromiseMade","occurred_at":"2026-11-20T10:00:00Z","promise":1,"recorded_at":"2026-11-20T10:00:00Z","seq":2,"what":"send the \"logo\" drafts"}"#;
    let lines = [
        made.to_string(),
        made.replace(r#""seq":2"#, r#""seq":2,"extra":true"#),
        made.replace(r#""promise":1"#, r#""promise": 1 "#),
        made.replace("10:00:00Z", "11:00:00+01:00"),
        made.replace(r#""kind":"PromiseMade""#, r#""kind":"Promise\u004dade""#),
        made.replace(r#""promise":1"#, r#""promise":18446744073709551616"#),
        r#"{"author":"root","by":"us","client":"acme","id":"a3c43fc43a25dcdeb6dd831039a16621-3","interaction":"other","kind":"Interacted","minutes":null,"mood":-2,"note":"called about it","occurred_at":"1969-12-31T23:59:59.5Z","recorded_at":"2026-02-29T10:00:00Z","seq":3}"#.to_string(),
        "not json\n{}\n[1,2]\n{\"kind\":\"ClientAdded\"}\n".to_string(),
    ];
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| (format!("line-{i}"), l.as_bytes().to_vec()))
        .collect()
}

/// Event programs for the checkpoint section (mode byte first).
fn checkpoint_seeds() -> Vec<(String, Vec<u8>)> {
    let program: Vec<u8> = (0..=255u8)
        .cycle()
        .take(600)
        .map(|b| b.wrapping_mul(37))
        .collect();
    // An arbitrary-mode seed: a real section's bytes, as a file has them.
    let (state, future, _) = checkpoint_sparse::fold(&program);
    let section = trustlog::app::checkpoint::hot::encode(&state, &future);
    vec![
        ("empty-state".into(), vec![0]),
        (
            "clients-and-promises".into(),
            [&[0u8][..], &program[..200]].concat(),
        ),
        ("many-events".into(), [&[0u8][..], &program].concat()),
        (
            "one-byte-changed".into(),
            [&[2u8][..], &program[..300]].concat(),
        ),
        (
            "another-byte-changed".into(),
            [&[0x96u8][..], &program].concat(),
        ),
        ("arbitrary-section".into(), [&[1u8][..], &section].concat()),
        (
            "arbitrary-garbage".into(),
            [&[1u8][..], b"TLHOT\0\0\x01 not a section"].concat(),
        ),
    ]
}

/// WHEN inputs at a few nows and offsets.
fn when_seeds() -> Vec<(String, Vec<u8>)> {
    let now = |micros: i64, minutes: i16, flags: u8, text: &str| -> Vec<u8> {
        let mut v = micros.to_le_bytes().to_vec();
        v.extend_from_slice(&(minutes + 14 * 60).to_le_bytes());
        v.push(flags);
        v.extend_from_slice(text.as_bytes());
        v
    };
    // 2026-11-20T10:00:00Z, a Friday; the folding keeps it as it is.
    let fri = 1_795_168_800_000_000 + 2_208_988_800_000_000;
    let mut out: Vec<(String, Vec<u8>)> = [
        "2026-11-22",
        "2026-11-22T14:30",
        "2026-11-22 14:30:15.123456789 +05:30",
        "2026-02-29",
        "now",
        "today",
        "TOMORROW",
        "yesterday",
        "fri",
        "friday",
        "+3d",
        "-1d",
        "+2w",
        "+4h",
        "+30min",
        "eow",
        "eom",
        "2026-11-22T25:00",
        "2026-11-22T10:00+24:00",
        "9999-12-31T23:59:59.999999Z",
        "0000-01-01",
    ]
    .iter()
    .enumerate()
    .map(|(i, t)| (format!("form-{i}"), now(fri, 60, 0, t)))
    .collect();
    out.push(("far-east-eom".into(), now(fri, 14 * 60, 0, "eom")));
    out.push((
        "far-west-tomorrow".into(),
        now(fri, -14 * 60, 0, "tomorrow"),
    ));
    out.push(("extreme-now".into(), now(i64::MAX - 5, 0, 1, "tomorrow")));
    out.push((
        "extreme-negative-now".into(),
        now(-8_000_000_000_000_000_000, -300, 1, "+2w"),
    ));
    out
}
