//! The checkpoint file is a cache, never trusted over the log: a damaged
//! (bytes flipped anywhere), foreign (another journal's), stale (the
//! journal rewritten, salvaged or cut) or deleted checkpoint changes no
//! answer and is rebuilt; one folded with other trust parameters is not
//! used for trust scores; writing it leaves no temporary file behind; a
//! small journal gets none at the default threshold.

mod common;

use std::path::{Path, PathBuf};

use common::{Output, Tl};
use trustlog::app::checkpoint;
use trustlog::events::*;
use trustlog::log::{JournalWriter, DEFAULT_LOCK_WAIT};

const START: i64 = 1_790_000_000;

/// A journal of `n` events over a few clients, with moves, closes and two
/// retractions.
fn events(n: u64, salt: u64) -> Vec<Envelope> {
    let handles = ["acme", "beta", "cora", "dora"];
    let mut out = Vec::new();
    let mut promise = 0u64;
    for i in 0..n {
        let h = handles[(i % 4) as usize].to_string();
        let event = match i {
            0..=3 => Event::ClientAdded {
                handle: h.clone(),
                name: h.to_uppercase(),
                fit: Fit::Target,
                note: String::new(),
            },
            _ if i % 5 == 0 => {
                promise += 1;
                Event::PromiseMade {
                    promise,
                    client: h,
                    what: format!("item {promise}"),
                    due: Due {
                        at: Timestamp((START + (i as i64 + 3) * 3600) * 1_000_000),
                        date_only: false,
                    },
                }
            }
            _ if i % 7 == 0 && promise > 0 => Event::PromiseMoved {
                promise,
                due: Due {
                    at: Timestamp((START + (i as i64 + 9) * 3600) * 1_000_000),
                    date_only: true,
                },
                cause: [Cause::Us, Cause::Client][(i % 2) as usize],
                agreed_by_client: i % 3 == 0,
                reason: String::new(),
            },
            _ if i % 11 == 0 && promise > 1 => Event::PromiseKept {
                promise: promise - 1,
                note: String::new(),
            },
            _ if i == n / 2 || i == n - 3 => Event::Retracted {
                seq: i / 3 + 5,
                reason: "typo".into(),
            },
            _ => Event::Interacted {
                client: h,
                kind: InteractionKind::Meeting,
                mood: ((i + salt) % 5) as i8 - 2,
                minutes: Some(30),
                initiated_by: Party::Client,
                note: "n".into(),
            },
        };
        let at = Timestamp((START + i as i64 * 3600) * 1_000_000);
        out.push(Envelope {
            seq: i + 1,
            recorded_at: at,
            occurred_at: at,
            author: "t".into(),
            event,
        });
    }
    out
}

fn append(path: &Path, envs: &[Envelope]) {
    let mut w = JournalWriter::open(path, START * 1_000_000, DEFAULT_LOCK_WAIT).unwrap();
    let payloads: Vec<Vec<u8>> = envs.iter().map(|e| codec::encode(e).unwrap()).collect();
    w.append_batch(payloads.iter().map(Vec::as_slice)).unwrap();
}

fn run(tl: &Tl, every: &str, args: &[&str]) -> Output {
    let mut c = tl.command();
    c.env("TRUSTLOG_CHECKPOINT_BYTES", every)
        .arg("--journal")
        .arg(&tl.journal)
        .args(args);
    common::output(c)
}

const QUERIES: &[&[&str]] = &[
    &["status", "--json"],
    &["due", "--json"],
    &["audit", "--json"],
    &["audit", "--csv"],
    &["trust", "cora", "--json"],
    &["postmortem", "beta", "--json"],
];

fn answers(tl: &Tl, every: &str) -> Vec<String> {
    QUERIES
        .iter()
        .map(|q| {
            let o = run(tl, every, q);
            assert_eq!(o.code, 0, "{q:?}: {o:?}");
            o.stdout
        })
        .collect()
}

/// Byte range of section `kind` of a checkpoint, from its header's table
/// (`docs/format.md`: 24-byte entries from offset 152).
fn section(ck: &[u8], kind: u32) -> std::ops::Range<usize> {
    let u32_at = |i: usize| u32::from_le_bytes(ck[i..i + 4].try_into().unwrap());
    let u64_at = |i: usize| u64::from_le_bytes(ck[i..i + 8].try_into().unwrap()) as usize;
    for e in 0..5 {
        let b = 152 + e * 24;
        if u32_at(b) == kind {
            return u64_at(b + 8)..u64_at(b + 8) + u64_at(b + 16);
        }
    }
    panic!("no section {kind}");
}

fn ck(tl: &Tl) -> PathBuf {
    checkpoint::path_for(&tl.journal)
}

/// A journal of 400 events with a checkpoint after the first 300, and the
/// answers of a full replay without any checkpoint.
fn setup() -> (Tl, Vec<String>) {
    let mut tl = Tl::new();
    tl.now = "2026-11-10T00:00".into();
    let envs = events(400, 0);
    append(&tl.journal, &envs[..300]);
    run(&tl, "1", &["due"]);
    assert!(ck(&tl).exists(), "a fold of the whole journal wrote one");
    append(&tl.journal, &envs[300..]);
    let expected = answers(&tl, "0");
    (tl, expected)
}

/// The checkpoint is valid and current: rebuilt by the last fold.
fn assert_rebuilt(tl: &Tl, before: &[u8]) {
    let now = std::fs::read(ck(tl)).unwrap();
    assert_ne!(now, before, "the checkpoint was not rewritten");
    // A fresh one, built from scratch, is the same bytes.
    let fresh = Tl::new();
    std::fs::copy(&tl.journal, &fresh.journal).unwrap();
    run(&fresh, "1", &["due"]);
    assert_eq!(now, std::fs::read(ck(&fresh)).unwrap());
}

#[test]
fn a_checkpoint_and_its_tail_answer_as_a_full_replay() {
    let (tl, expected) = setup();
    assert_eq!(answers(&tl, "1000000000"), expected);
}

/// The sections are streamed and the header written last: its table must
/// still tile the file exactly after it, in order, each CRC that of the
/// bytes there, and the header's own CRC hold.
#[test]
fn the_streamed_checkpoint_has_a_table_that_tiles_the_file() {
    let (tl, _) = setup();
    run(&tl, "1", &["status"]);
    let ck = std::fs::read(ck(&tl)).unwrap();
    let u32_at = |i: usize| u32::from_le_bytes(ck[i..i + 4].try_into().unwrap());
    let header_len = 152 + 5 * 24 + 4;
    assert_eq!(
        crc32fast::hash(&ck[..header_len - 4]),
        u32_at(header_len - 4)
    );
    let mut at = header_len;
    for (e, kind) in [1u32, 2, 3, 4, 5].into_iter().enumerate() {
        let r = section(&ck, kind);
        assert_eq!(r.start, at, "section {kind} follows the one before");
        assert_eq!(crc32fast::hash(&ck[r.clone()]), u32_at(152 + e * 24 + 4));
        at = r.end;
    }
    assert_eq!(at, ck.len(), "nothing after the last section");
}

#[test]
fn flipped_bytes_anywhere_in_the_checkpoint_are_ignored_and_rebuilt() {
    let (tl, expected) = setup();
    let good = std::fs::read(ck(&tl)).unwrap();
    // The header (magic, key, position, section table, CRC) and spots in
    // every section.
    let len = good.len();
    let spots = [
        0,
        9,
        20,
        45,
        60,
        100,
        140,
        160,
        checkpoint::HEADER_LEN - 1,
        checkpoint::HEADER_LEN,
        checkpoint::HEADER_LEN + 7,
        len / 4,
        len / 2,
        len * 3 / 4,
        len - 1,
        section(&good, 5).start + 3,
    ];
    // The closed promises and event kinds (section 5) are read only by what
    // needs them: a recording command's second look at a refusal.
    let cold = section(&good, 5);
    let refusal = |tl: &Tl, every: &str| run(tl, every, &["promise", "keep", "1"]);
    let plain = Tl::new();
    std::fs::copy(&tl.journal, &plain.journal).unwrap();
    let refused = refusal(&plain, "0");
    assert_eq!(refused.code, 1, "{refused:?}");
    for at in spots {
        let mut bad = good.clone();
        bad[at] ^= 0x20;
        std::fs::write(ck(&tl), &bad).unwrap();
        assert_eq!(answers(&tl, "1000000000"), expected, "flip at {at}");
        let o = refusal(&tl, "1000000000");
        assert_eq!(
            (o.code, &o.stderr),
            (refused.code, &refused.stderr),
            "flip at {at}"
        );
        if !cold.contains(&at) {
            // The fold that met it from scratch replaced it.
            assert_rebuilt(&tl, &bad);
        }
    }
    // Truncated, empty, garbage: the same.
    for bad in [good[..len / 2].to_vec(), Vec::new(), vec![0xAB; 4096]] {
        std::fs::write(ck(&tl), &bad).unwrap();
        assert_eq!(answers(&tl, "1000000000"), expected);
        assert_rebuilt(&tl, &bad);
    }
}

#[test]
fn another_journals_checkpoint_is_ignored_and_rebuilt() {
    let (tl, expected) = setup();
    // Same events, another journal (its own id): its checkpoint swapped in.
    let other = Tl::new();
    append(&other.journal, &events(400, 0));
    run(&other, "1", &["due"]);
    let foreign = std::fs::read(ck(&other)).unwrap();
    std::fs::write(ck(&tl), &foreign).unwrap();
    assert_eq!(answers(&tl, "1000000000"), expected);
    assert_rebuilt(&tl, &foreign);
    // A journal with other events, too.
    let third = Tl::new();
    append(&third.journal, &events(400, 3));
    run(&third, "1", &["due"]);
    let foreign = std::fs::read(ck(&third)).unwrap();
    std::fs::write(ck(&tl), &foreign).unwrap();
    assert_eq!(answers(&tl, "1000000000"), expected);
    assert_rebuilt(&tl, &foreign);
}

#[test]
fn a_rewritten_history_with_the_same_header_makes_the_checkpoint_stale() {
    // The checkpoint of journal A after 300 events; then A's file is
    // replaced by a journal with A's header (same id) but other events:
    // the record at the checkpoint's offset no longer has its digest.
    let (tl, _) = setup();
    let a_header = std::fs::read(&tl.journal).unwrap()[..64].to_vec();
    let b = Tl::new();
    append(&b.journal, &events(400, 1));
    let mut bytes = std::fs::read(&b.journal).unwrap();
    bytes[..64].copy_from_slice(&a_header);
    std::fs::write(&tl.journal, &bytes).unwrap();
    let expected = answers(&tl, "0");
    let stale = std::fs::read(ck(&tl)).unwrap();
    assert_eq!(answers(&tl, "1000000000"), expected);
    assert_rebuilt(&tl, &stale);
}

#[test]
fn a_salvaged_or_cut_journal_makes_the_checkpoint_stale() {
    let (tl, _) = setup();
    let stale = std::fs::read(ck(&tl)).unwrap();
    // Cut back to 200 events: the checkpoint (after 300) points past the end.
    let short = Tl::new();
    append(&short.journal, &events(200, 0));
    let mut bytes = std::fs::read(&tl.journal).unwrap();
    bytes.truncate(std::fs::metadata(&short.journal).unwrap().len() as usize);
    std::fs::write(&tl.journal, &bytes).unwrap();
    let expected = answers(&tl, "0");
    std::fs::write(ck(&tl), &stale).unwrap();
    assert_eq!(answers(&tl, "1000000000"), expected);
    assert_rebuilt(&tl, &stale);

    // A salvage writes a new journal (new id, new chain).
    let (tl, _) = setup();
    let stale = std::fs::read(ck(&tl)).unwrap();
    let mut bytes = std::fs::read(&tl.journal).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xFF;
    std::fs::write(&tl.journal, &bytes).unwrap();
    let o = run(&tl, "0", &["repair", "--salvage"]);
    assert_eq!(o.code, 0, "{o:?}");
    let expected = answers(&tl, "0");
    assert_eq!(answers(&tl, "1000000000"), expected);
    assert_rebuilt(&tl, &stale);
}

#[test]
fn deleting_the_checkpoint_changes_no_answer() {
    let (tl, expected) = setup();
    std::fs::remove_file(ck(&tl)).unwrap();
    // A journal shorter than the threshold gets none back…
    assert_eq!(answers(&tl, "1000000000"), expected);
    assert!(!ck(&tl).exists());
    // …a longer one does, from the first fold, and answers the same.
    assert_eq!(answers(&tl, "1000"), expected);
    assert!(ck(&tl).exists());
    assert_eq!(answers(&tl, "1000000000"), expected);
}

#[test]
fn trust_scores_folded_with_other_parameters_are_not_used() {
    let (tl, _) = setup();
    let config = tl.dir.path().join("trust.toml");
    std::fs::write(
        &config,
        "[trust]\nfirst_impression_weight = 1.0\nbroken = 40\n",
    )
    .unwrap();
    let status = |every: &str| {
        let c = config.to_str().unwrap();
        run(&tl, every, &["status", "--json", "--config", c])
    };
    let expected = status("0");
    assert_eq!(status("1000000000").stdout, expected.stdout);
    assert_ne!(
        expected.stdout,
        run(&tl, "0", &["status", "--json"]).stdout,
        "the parameters change the scores"
    );
    // And back with the default parameters.
    assert_eq!(
        run(&tl, "1000000000", &["status", "--json"]).stdout,
        run(&tl, "0", &["status", "--json"]).stdout
    );
}

#[test]
fn recording_uses_and_refreshes_the_checkpoint_and_leaves_no_temp_file() {
    let (mut tl, _) = setup();
    tl.now = "2026-11-10T00:00".into();
    let o = run(&tl, "1", &["talk", "acme", "--mood", "1"]);
    assert_eq!(o.code, 0, "{o:?}");
    // The checkpoint now ends at the new record: the next fold reads nothing.
    let after = std::fs::read(ck(&tl)).unwrap();
    let o = run(&tl, "1", &["due", "--json"]);
    assert_eq!(o.code, 0);
    assert_eq!(
        std::fs::read(ck(&tl)).unwrap(),
        after,
        "nothing new to fold"
    );
    let mut names: Vec<String> = std::fs::read_dir(tl.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "home" && n != "trust.toml")
        .collect();
    names.sort();
    assert_eq!(names, ["journal.tlog", "journal.tlog.checkpoint"]);
    // A refused command touches neither file.
    let j = std::fs::read(&tl.journal).unwrap();
    let o = run(&tl, "1", &["promise", "keep", "999"]);
    assert_eq!(o.code, 1);
    assert_eq!(std::fs::read(&tl.journal).unwrap(), j);
    assert_eq!(std::fs::read(ck(&tl)).unwrap(), after);
}

#[test]
fn a_small_journal_gets_no_checkpoint_at_the_default_threshold() {
    let tl = Tl::new();
    append(&tl.journal, &events(100, 0));
    let mut c = tl.command();
    c.env_remove("TRUSTLOG_CHECKPOINT_BYTES")
        .arg("--journal")
        .arg(&tl.journal)
        .args(["audit", "--json"]);
    assert_eq!(common::output(c).code, 0);
    assert!(!ck(&tl).exists());
}

/// `args` run on a copy of `tl`'s journal with `checkpoint` next to it (the
/// threshold keeps it from being rewritten, so a recording reads it
/// sparsely), and on a copy with none: exit code, output and messages.
fn recorded_both_ways(tl: &Tl, checkpoint: &[u8], args: &[&str]) -> (Output, Output) {
    let mut with = Tl::new();
    with.now = tl.now.clone();
    std::fs::copy(&tl.journal, &with.journal).unwrap();
    std::fs::write(ck(&with), checkpoint).unwrap();
    let mut plain = Tl::new();
    plain.now = tl.now.clone();
    std::fs::copy(&tl.journal, &plain.journal).unwrap();
    (run(&with, "1000000000", args), run(&plain, "0", args))
}

/// Recording commands accepted and refused on the journal of `setup`: a
/// known and a misspelt client, a taken and a free handle, an open and a
/// closed promise, the next promise id.
fn recordings(tl: &Tl) -> Vec<Vec<String>> {
    let due = run(tl, "0", &["due", "--json"]).json();
    let open = due["promises"][0]["promise"].as_u64().unwrap().to_string();
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<String>>();
    vec![
        s(&["talk", "acme", "--mood", "1"]),
        s(&["talk", "acne", "--mood", "1"]),
        s(&["client", "add", "beta"]),
        s(&["client", "add", "zed"]),
        s(&["promise", "keep", &open]),
        s(&["promise", "keep", "1"]),
        s(&["promise", "move", &open, "--due", "+9d", "--cause", "us"]),
        s(&["promise", "make", "cora", "more", "--due", "+3d"]),
    ]
}

fn assert_recordings_as_a_full_replay(tl: &Tl, checkpoint: &[u8], what: &str) {
    for args in recordings(tl) {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (a, b) = recorded_both_ways(tl, checkpoint, &args);
        assert_eq!(
            (a.code, &a.stdout, &a.stderr),
            (b.code, &b.stdout, &b.stderr),
            "{what}: {args:?}"
        );
    }
}

#[test]
fn recording_reads_of_a_flipped_or_foreign_state_section_change_no_answer() {
    let (mut tl, _) = setup();
    tl.now = "2026-11-10T00:00".into();
    let good = std::fs::read(ck(&tl)).unwrap();
    assert_recordings_as_a_full_replay(&tl, &good, "intact");
    // The state section (kind 2): its head, indexes, records, page table
    // (near the end) and footer (the last 24 bytes).
    let st = section(&good, 2);
    let spots = [
        st.start,
        st.start + 9,
        st.start + 100,
        st.start + 130,
        st.start + (st.end - st.start) / 3,
        st.start + (st.end - st.start) / 2,
        st.end - 40,
        st.end - 30,
        st.end - 24,
        st.end - 14,
        st.end - 5,
        st.end - 1,
    ];
    for at in spots {
        let mut bad = good.clone();
        bad[at] ^= 0x04;
        assert_recordings_as_a_full_replay(&tl, &bad, &format!("flip at {at}"));
    }
    // Another journal's checkpoint, of the same events and of others.
    for salt in [0, 3] {
        let other = Tl::new();
        append(&other.journal, &events(300, salt));
        run(&other, "1", &["due"]);
        let foreign = std::fs::read(ck(&other)).unwrap();
        assert_recordings_as_a_full_replay(&tl, &foreign, &format!("foreign {salt}"));
    }
}

// ---------------------------------------------------------------------------
// Issue 15: a checkpoint is a cache, never trusted over the log.

/// A journal, recorded through the binary, with a broken and a kept
/// promise; its checkpoint written by a query after the last record.
fn with_broken_promise() -> Tl {
    let tl = Tl::new();
    for args in [
        &["client", "add", "acme"][..],
        &["promise", "make", "acme", "logo", "--due", "2026-11-25"],
        &["promise", "make", "acme", "site", "--due", "2026-11-27"],
        &["promise", "break", "1", "--reason", "printer"],
        &["promise", "keep", "2"],
    ] {
        let o = run(&tl, "0", args);
        assert_eq!(o.code, 0, "{args:?}: {o:?}");
    }
    let o = run(&tl, "1", &["audit", "--json"]);
    assert_eq!(o.json()["promises"]["broken"], 1, "{o:?}");
    assert!(ck(&tl).exists(), "the query wrote a checkpoint");
    tl
}

/// The forgery of issue 15.1, made from `docs/format.md` alone (not with
/// the crate's writer): in the audit section (kind 3), every promise whose
/// close is "broken" (bits 4-8 = 2) becomes "kept" (1); then the section's
/// CRC in the header's table and the header's CRC are recomputed, so every
/// check a reader makes of the file passes. Returns the promises changed.
fn forge_broken_as_kept(ck: &mut [u8]) -> usize {
    let u64_at = |b: &[u8], i: usize| u64::from_le_bytes(b[i..i + 8].try_into().unwrap()) as usize;
    let r = section(ck, 3);
    let n = u64_at(ck, r.start);
    // counts (4 × 8), ids (N × 8), clients (N × 4), original dues, last
    // dues, closed at (N × 8 each), then the promise bits (N × 1).
    let bits = r.start + 32 + n * (8 + 4 + 8 + 8 + 8);
    let mut changed = 0;
    for b in &mut ck[bits..bits + n] {
        if (*b >> 2) & 3 == 2 {
            *b = (*b & !0b1100) | (1 << 2);
            changed += 1;
        }
    }
    let crc = crc32fast::hash(&ck[r]);
    let entry = (0..5)
        .map(|e| 152 + e * 24)
        .find(|&b| u32::from_le_bytes(ck[b..b + 4].try_into().unwrap()) == 3)
        .unwrap();
    ck[entry + 4..entry + 8].copy_from_slice(&crc.to_le_bytes());
    let header_crc = crc32fast::hash(&ck[..272]);
    ck[272..276].copy_from_slice(&header_crc.to_le_bytes());
    changed
}

/// Forges `tl`'s checkpoint in place (its owner and mode 0600 kept).
fn forge(tl: &Tl) {
    let mut bytes = std::fs::read(ck(tl)).unwrap();
    assert_eq!(forge_broken_as_kept(&mut bytes), 1);
    std::fs::write(ck(tl), &bytes).unwrap();
}

fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn regression_15_1_verify_catches_a_forged_checkpoint_and_sets_it_aside() {
    let tl = with_broken_promise();
    let truth = run(&tl, "0", &["audit", "--json"]);
    forge(&tl);
    // The forgery passes every check a query makes (CRCs, journal, record):
    // a warm query answers from it. This is why `verify` compares content.
    let lie = run(&tl, "1000000000", &["audit", "--json"]);
    assert_eq!(
        lie.json()["promises"]["broken"],
        0,
        "the forgery took: {lie:?}"
    );

    let o = run(&tl, "0", &["verify", "--json"]);
    assert_eq!(o.code, 3, "{o:?}");
    let v = o.json();
    assert_eq!(v["ok"], false);
    assert_eq!(
        v["damage"],
        serde_json::json!([]),
        "the journal itself is clean"
    );
    let d = &v["derived"][0];
    assert_eq!(d["kind"], "checkpoint");
    assert_eq!(d["status"], "differs");
    assert_eq!(d["section"], "audit", "the first section that differs");
    assert_eq!(d["file"], ck(&tl).display().to_string());
    assert_eq!(d["seq"], 5);
    let moved = PathBuf::from(d["moved_to"].as_str().unwrap());
    assert!(moved.exists() && !ck(&tl).exists(), "set aside: {d}");
    assert!(
        o.stderr.contains("audit"),
        "the error names the section: {o:?}"
    );

    // The next query folds the log and tells the truth, and writes an
    // honest checkpoint, which verifies.
    let after = run(&tl, "1000000000", &["audit", "--json"]);
    assert_eq!(after.stdout, truth.stdout);
    let o = run(&tl, "1", &["audit", "--json"]);
    assert_eq!(o.stdout, truth.stdout);
    let o = run(&tl, "0", &["verify", "--json"]);
    assert_eq!(o.code, 0, "{o:?}");
    assert_eq!(o.json()["derived"][0]["status"], "ok");
    assert_eq!(o.json()["ok"], true);
}

#[test]
fn regression_15_1_a_rewrite_never_copies_a_forged_checkpoint_forward() {
    let tl = with_broken_promise();
    forge(&tl);
    // Enough appended since the checkpoint for the next fold to rewrite it.
    for _ in 0..3 {
        let o = run(&tl, "1000000000", &["talk", "acme", "--mood", "1"]);
        assert_eq!(o.code, 0, "{o:?}");
    }
    let truth = run(&tl, "0", &["audit", "--json"]);
    assert_eq!(truth.json()["promises"]["broken"], 1);
    let before = std::fs::read(ck(&tl)).unwrap();
    let o = run(&tl, "1", &["audit", "--json"]);
    assert_eq!(
        o.stdout, truth.stdout,
        "the rewriting query answers from the log"
    );
    assert_ne!(std::fs::read(ck(&tl)).unwrap(), before, "rewritten");
    // The new checkpoint holds the log's answer, not the forgery.
    let warm = run(&tl, "1000000000", &["audit", "--json"]);
    assert_eq!(warm.stdout, truth.stdout);
    let o = run(&tl, "0", &["verify", "--json"]);
    assert_eq!(
        (o.code, &o.json()["derived"][0]["status"]),
        (0, &"ok".into())
    );
    // So does one a recording command rewrites (after a record appended
    // since the checkpoint: a tail to fold).
    forge(&tl);
    let o = run(&tl, "1000000000", &["talk", "acme", "--mood", "1"]);
    assert_eq!(o.code, 0, "{o:?}");
    let o = run(&tl, "1", &["talk", "acme", "--mood", "1"]);
    assert_eq!(o.code, 0, "{o:?}");
    let truth = run(&tl, "0", &["audit", "--json"]);
    let warm = run(&tl, "1000000000", &["audit", "--json"]);
    assert_eq!(warm.stdout, truth.stdout);
}

#[test]
fn regression_15_1_a_checkpoint_others_may_write_or_own_is_ignored() {
    use std::os::unix::fs::PermissionsExt;
    let tl = with_broken_promise();
    let truth = run(&tl, "0", &["audit", "--json"]);
    forge(&tl);
    std::fs::set_permissions(ck(&tl), std::fs::Permissions::from_mode(0o664)).unwrap();
    let o = run(&tl, "1000000000", &["audit", "--json"]);
    assert_eq!(o.stdout, truth.stdout, "group-writable: ignored");
    // …and replaced by the fold, by one of the journal's owner, mode 0600.
    assert_eq!(mode(&ck(&tl)), 0o600);
    let o = run(&tl, "0", &["verify", "--json"]);
    assert_eq!(o.json()["derived"][0]["status"], "ok", "{o:?}");

    // Owned by someone else (only root can give a file away).
    forge(&tl);
    match std::os::unix::fs::chown(ck(&tl), Some(65534), None) {
        Ok(()) => {
            let o = run(&tl, "0", &["verify", "--json"]);
            let d = &o.json()["derived"][0];
            assert_eq!((o.code, &d["status"]), (0, &"ignored".into()), "{o:?}");
            assert!(d["detail"].as_str().unwrap().contains("uid 65534"), "{d}");
            let o = run(&tl, "1000000000", &["audit", "--json"]);
            assert_eq!(o.stdout, truth.stdout, "another owner's: ignored");
        }
        Err(e) => eprintln!("not root ({e}): the ownership half is not exercised"),
    }
}

#[test]
fn verify_accepts_honest_checkpoints_and_reports_ignored_ones() {
    // Written after 300 of 400 events, with a retraction after it of an
    // event before it: compared with a fold up to its own record.
    let (tl, _) = setup();
    let o = run(&tl, "0", &["verify", "--json"]);
    assert_eq!(o.code, 0, "{o:?}");
    let d = &o.json()["derived"][0];
    assert_eq!(
        (&d["status"], &d["seq"]),
        (&"ok".into(), &300.into()),
        "{d}"
    );
    assert!(ck(&tl).exists());
    // Another journal's: ignored (not used by any command), not a failure.
    let other = Tl::new();
    append(&other.journal, &events(400, 3));
    run(&other, "1", &["due"]);
    std::fs::copy(ck(&other), ck(&tl)).unwrap();
    let o = run(&tl, "0", &["verify"]);
    assert_eq!(o.code, 0, "{o:?}");
    assert!(o.stdout.contains("another journal"), "{o:?}");
    // None at all: an empty list.
    std::fs::remove_file(ck(&tl)).unwrap();
    let o = run(&tl, "0", &["verify", "--json"]);
    assert_eq!(o.json()["derived"], serde_json::json!([]));
}

#[test]
fn regression_15_10_temp_files_of_killed_writers_are_removed_by_the_next_writer() {
    use std::time::{Duration, SystemTime};
    let (mut tl, _) = setup();
    tl.now = "2026-11-10T00:00".into();
    let dir = tl.dir.path();
    let hour_ago = SystemTime::now() - Duration::from_secs(3600);
    let make = |name: &str, old: bool| {
        let p = dir.join(name);
        let f = std::fs::File::create(&p).unwrap();
        std::io::Write::write_all(&mut &f, &[7u8; 4096]).unwrap();
        if old {
            f.set_modified(hour_ago).unwrap();
        }
        f
    };
    // Left by killed writers: old, and nobody holds their lock.
    for i in 0..5 {
        drop(make(&format!(".trustlog-checkpoint-dead{i:02}"), true));
    }
    // A live writer's, however old: it holds the file's lock.
    let live = make(".trustlog-checkpoint-live00", true);
    live.try_lock().unwrap();
    // A writer's that may not have locked it yet: too young to judge.
    drop(make(".trustlog-checkpoint-young0", false));
    // Not a temporary checkpoint.
    drop(make("notes.txt", true));

    let o = run(&tl, "1", &["talk", "acme", "--mood", "1"]);
    assert_eq!(o.code, 0, "{o:?}");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "home")
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            ".trustlog-checkpoint-live00",
            ".trustlog-checkpoint-young0",
            "journal.tlog",
            "journal.tlog.checkpoint",
            "notes.txt"
        ]
    );
    drop(live);
}

/// A checkpoint of an older layout (here 9, before the audit kept the
/// running latest `recorded_at`, issue 15.2) is never read as this one:
/// ignored, the answer is a full fold's, and the next fold rebuilds it in
/// this layout.
#[test]
fn a_checkpoint_of_an_older_layout_is_rebuilt_not_misread() {
    let (tl, expected) = setup();
    run(&tl, "1", &["due"]);
    let mut bytes = std::fs::read(ck(&tl)).unwrap();
    let layout = |b: &[u8]| u32::from_le_bytes(b[12..16].try_into().unwrap());
    assert_eq!(layout(&bytes), checkpoint::LAYOUT);
    // The same file as the older version wrote it: layout 9, header CRC
    // (bytes 0..272, stored at 272) valid
    bytes[12..16].copy_from_slice(&9u32.to_le_bytes());
    let crc = crc32fast::hash(&bytes[..272]);
    bytes[272..276].copy_from_slice(&crc.to_le_bytes());
    std::fs::write(ck(&tl), &bytes).unwrap();
    // An unusable checkpoint is replaced by the first fold, whatever the
    // threshold
    assert_eq!(answers(&tl, "1000000000"), expected);
    let rebuilt = std::fs::read(ck(&tl)).unwrap();
    assert_eq!(layout(&rebuilt), checkpoint::LAYOUT);
    assert_rebuilt(&tl, &bytes);
    assert_eq!(answers(&tl, "1000000000"), expected);
}
