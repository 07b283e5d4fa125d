//! Bad input never corrupts the journal. A table of cases across every
//! recording command: each runs the real binary against its own copy of a
//! realistic journal (or a missing, foreign or damaged file) and checks the
//! exit code (1 failure, 2 usage, 3 damage), a fragment of the message that
//! names the offending value or what was expected, that nothing went to
//! stdout, and that the journal's bytes — and the rest of its directory —
//! are exactly as they were.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use common::*;
use trustlog::events::Event;
use trustlog::log::format::{FRAME_LEN, F_LEN, HEADER_LEN, H_CRC, H_VERSION};

/// Seqs in the realistic journal that the cases refer to.
const RETRACTED_PROMISE_MADE: u64 = 17; // promise 6, retracted by #18
const RETRACTION: u64 = 18;
const RETRACTED_TALK: u64 = 19; // retracted by #20
const LAST_SEQ: u64 = 22;

/// The bytes of a realistic journal: four clients (umbrella lost), promises
/// in every state (1 open, 2 kept, 3 broken, 4 released, 5 moved and open,
/// 6 retracted), interactions, an expectation, a mismatch, advocacy and two
/// retractions. Built once through the binary, then copied per case.
fn realistic() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| {
        let mut t = Tl::new();
        #[rustfmt::skip]
        let steps: &[(&str, &[&str])] = &[
            ("2026-11-01T09:00", &["client", "add", "acme", "--name", "Acme Ltd"]),
            ("2026-11-01T10:00", &["client", "add", "globex", "--name", "Globex", "--fit", "off-target"]),
            ("2026-11-01T11:00", &["client", "add", "initech"]),
            ("2026-11-01T12:00", &["client", "add", "umbrella"]),
            ("2026-11-02T10:00", &["promise", "make", "acme", "logo drafts", "--due", "2026-11-27"]),
            ("2026-11-02T10:05", &["promise", "make", "acme", "brand book", "--due", "2026-11-10"]),
            ("2026-11-03T09:00", &["promise", "make", "globex", "site mockups", "--due", "2026-11-15"]),
            ("2026-11-04T09:00", &["promise", "make", "initech", "security audit", "--due", "2026-11-18"]),
            ("2026-11-05T09:00", &["promise", "make", "globex", "report", "--due", "2026-11-25T12:00"]),
            ("2026-11-06T09:00", &["talk", "acme", "--kind", "call", "--mood", "1", "--minutes", "30", "kick-off"]),
            ("2026-11-06T09:30", &["client", "want", "acme", "a bold logo"]),
            ("2026-11-07T09:00", &["promise", "move", "5", "--due", "2026-11-30", "--cause", "client", "--agreed"]),
            ("2026-11-09T17:00", &["promise", "keep", "2", "--at", "2026-11-09T16:00"]),
            ("2026-11-12T12:00", &["promise", "break", "3", "--reason", "designer left"]),
            ("2026-11-14T09:30", &["promise", "release", "4", "--reason", "client cancelled"]),
            ("2026-11-15T09:00", &["client", "mismatch", "globex", "expected more pages"]),
            ("2026-11-16T09:00", &["promise", "make", "acme", "typo", "--due", "2026-12-01"]),
            ("2026-11-16T09:01", &["retract", "17", "--reason", "typo"]),
            ("2026-11-17T09:00", &["talk", "globex"]),
            ("2026-11-17T09:05", &["retract", "19", "--reason", "wrong client"]),
            ("2026-11-18T09:00", &["client", "lost", "umbrella", "--reason", "went elsewhere"]),
            ("2026-11-18T10:00", &["client", "praise", "acme", "--kind", "referral"]),
        ];
        for (now, args) in steps {
            t.now = now.to_string();
            t.ok(args);
        }
        let envs = t.replay();
        assert_eq!(envs.len() as u64, LAST_SEQ);
        assert!(matches!(
            envs[RETRACTED_PROMISE_MADE as usize - 1].event,
            Event::PromiseMade { promise: 6, .. }
        ));
        assert!(matches!(
            envs[RETRACTION as usize - 1].event,
            Event::Retracted {
                seq: RETRACTED_PROMISE_MADE,
                ..
            }
        ));
        assert!(matches!(
            envs[RETRACTED_TALK as usize - 1].event,
            Event::Interacted { .. }
        ));
        t.bytes().expect("the journal exists")
    })
}

/// Byte offset of each record's frame in a journal.
fn record_offsets(bytes: &[u8]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut at = HEADER_LEN;
    while at + FRAME_LEN <= bytes.len() {
        out.push(at);
        let len = u32::from_le_bytes(bytes[at + F_LEN..at + F_LEN + 4].try_into().unwrap());
        at += FRAME_LEN + len as usize;
    }
    assert_eq!(at, bytes.len(), "test bug: frames do not tile the file");
    out
}

/// What the journal path holds before the command runs.
#[derive(Clone, Copy, Debug)]
enum Fixture {
    /// A copy of the realistic journal.
    Journal,
    /// Nothing: not the file, not its parent directory.
    Missing,
    /// A file that is not a journal.
    Foreign(&'static [u8]),
    /// The realistic journal with one payload byte of record #10 flipped.
    DamagedRecord,
    /// The realistic journal with a byte of the header's journal id flipped.
    DamagedHeader,
    /// The realistic journal claiming format version 2 (checksum fixed up).
    FutureVersion,
}

impl Fixture {
    fn bytes(self) -> Option<Vec<u8>> {
        match self {
            Fixture::Journal => Some(realistic().to_vec()),
            Fixture::Missing => None,
            Fixture::Foreign(b) => Some(b.to_vec()),
            Fixture::DamagedRecord => {
                let mut b = realistic().to_vec();
                let at = record_offsets(&b)[9] + FRAME_LEN + 2;
                b[at] ^= 0x40;
                Some(b)
            }
            Fixture::DamagedHeader => {
                let mut b = realistic().to_vec();
                b[20] ^= 0x01;
                Some(b)
            }
            Fixture::FutureVersion => {
                let mut b = realistic().to_vec();
                b[H_VERSION..H_VERSION + 2].copy_from_slice(&2u16.to_le_bytes());
                let crc = crc32fast::hash(&b[..H_CRC]);
                b[H_CRC..H_CRC + 4].copy_from_slice(&crc.to_le_bytes());
                Some(b)
            }
        }
    }
}

struct Case {
    name: &'static str,
    fixture: Fixture,
    args: Vec<String>,
    code: i32,
    /// Each must appear in stderr.
    fragments: Vec<&'static str>,
}

fn case(
    name: &'static str,
    fixture: Fixture,
    args: &[&str],
    code: i32,
    fragments: &[&'static str],
) -> Case {
    Case {
        name,
        fixture,
        args: args.iter().map(|s| s.to_string()).collect(),
        code,
        fragments: fragments.to_vec(),
    }
}

fn listing(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<_> = walk(dir);
    v.sort();
    v
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            }
            out.push(p);
        }
    }
    out
}

/// Runs one case; returns what went wrong, if anything.
fn check(c: &Case) -> Option<String> {
    let mut t = Tl::new();
    t.journal = match c.fixture {
        // A missing parent directory must not be created either.
        Fixture::Missing => t.dir.path().join("not/yet/journal.tlog"),
        _ => t.dir.path().join("journal.tlog"),
    };
    if let Some(b) = c.fixture.bytes() {
        fs::write(&t.journal, b).unwrap();
    }
    let before = t.bytes();
    let files_before = listing(t.dir.path());
    let out = t.run(&c.args);
    let after = t.bytes();
    let files_after = listing(t.dir.path());

    let mut problems = Vec::new();
    if out.code != c.code {
        problems.push(format!("exit {} (expected {})", out.code, c.code));
    }
    for f in &c.fragments {
        if !out.stderr.contains(f) {
            problems.push(format!("stderr lacks {f:?}"));
        }
    }
    let prefix = if c.code == 2 {
        "error:"
    } else {
        "trustlog: error:"
    };
    if !out.stderr.starts_with(prefix) {
        problems.push(format!("stderr does not start with {prefix:?}"));
    }
    if !out.stdout.is_empty() {
        problems.push("something went to stdout".to_string());
    }
    // Nothing that could drive a terminal (issue 15.12): line breaks only.
    if let Some(c) = out.stderr.chars().find(|c| c.is_control() && *c != '\n') {
        problems.push(format!("a raw control character {c:?} on stderr"));
    }
    if before != after {
        problems.push(match (&before, &after) {
            (None, Some(_)) => "the journal was created".to_string(),
            (Some(b), Some(a)) => format!("the journal changed ({} → {} bytes)", b.len(), a.len()),
            _ => "the journal was removed".to_string(),
        });
    }
    if files_before != files_after {
        problems.push(format!("files changed: {files_before:?} → {files_after:?}"));
    }
    if problems.is_empty() {
        None
    } else {
        Some(format!(
            "{}: trustlog {}\n    {}\n    stderr: {}",
            c.name,
            c.args.join(" "),
            problems.join("; "),
            out.stderr.trim_end()
        ))
    }
}

#[rustfmt::skip]
fn cases() -> Vec<Case> {
    use Fixture::*;
    // Seqs as text; `realistic` asserts they are what these rows say.
    let (rr, rn, rt) = ("17", "18", "19");
    assert_eq!(
        (RETRACTED_PROMISE_MADE, RETRACTION, RETRACTED_TALK),
        (17, 18, 19)
    );
    vec![
        // client add
        case("handle taken", Journal, &["client", "add", "acme"], 1, &["\"acme\"", "already taken", "Acme Ltd"]),
        case("handle of a lost client", Journal, &["client", "add", "umbrella"], 1, &["\"umbrella\"", "already taken", "client back"]),
        case("handle with capitals", Journal, &["client", "add", "Acme"], 1, &["invalid handle \"Acme\"", "lowercase letters"]),
        case("handle with a space", Journal, &["client", "add", "big co"], 1, &["invalid handle \"big co\""]),
        case("handle with a slash", Journal, &["client", "add", "a/b"], 1, &["invalid handle \"a/b\""]),
        case("handle starting with _", Journal, &["client", "add", "_x"], 1, &["invalid handle \"_x\"", "starting with a letter or digit"]),
        case("handle too long", Journal, &["client", "add", "abcdefghijklmnopqrstuvwxyz0123456"], 1, &["abcdefghijklmnopqrstuvwxyz0123456", "1 to 32"]),
        case("empty handle", Journal, &["client", "add", ""], 1, &["invalid handle \"\""]),
        case("blank --name", Journal, &["client", "add", "hooli", "--name", "  "], 1, &["--name is empty"]),
        case("bad --fit word", Journal, &["client", "add", "hooli", "--fit", "maybe"], 2, &["'maybe'", "target, off-target"]),
        case("bad handle, no journal yet", Missing, &["client", "add", "Big Co"], 1, &["invalid handle \"Big Co\""]),
        case("client add --at in the future", Missing, &["client", "add", "hooli", "--at", "tomorrow"], 1, &["--at \"tomorrow\"", "after now"]),
        // client fit
        case("fit: unknown client, close to one", Journal, &["client", "fit", "acmee", "off-target"], 1, &["unknown client \"acmee\"", "did you mean \"acme\""]),
        case("fit unchanged", Journal, &["client", "fit", "globex", "off-target"], 1, &["globex", "already off-target"]),
        case("bad fit word", Journal, &["client", "fit", "acme", "perfect"], 2, &["'perfect'", "target, off-target"]),
        // client want / mismatch
        case("blank expectation", Journal, &["client", "want", "acme", "   "], 1, &["expectation is empty"]),
        case("want: no text at all", Journal, &["client", "want", "acme"], 2, &["<TEXT>"]),
        case("want: unknown client", Journal, &["client", "want", "zzzzzz", "x"], 1, &["unknown client \"zzzzzz\""]),
        case("blank mismatch", Journal, &["client", "mismatch", "globex", ""], 1, &["mismatch is empty"]),
        case("mismatch: unknown client, prefix of one", Journal, &["client", "mismatch", "glob", "x"], 1, &["unknown client \"glob\"", "did you mean \"globex\""]),
        case("want: no clients yet", Missing, &["client", "want", "acme", "x"], 1, &["unknown client \"acme\"", "no clients yet"]),
        // client lost / back
        case("lost twice", Journal, &["client", "lost", "umbrella", "--reason", "again"], 1, &["umbrella", "already lost", "2026-11-18 09:00"]),
        case("lost: blank reason", Journal, &["client", "lost", "acme", "--reason", " "], 1, &["--reason is empty"]),
        case("lost: no --reason", Journal, &["client", "lost", "acme"], 2, &["--reason"]),
        case("back when not lost", Journal, &["client", "back", "acme"], 1, &["acme is not lost"]),
        case("back: unknown client", Journal, &["client", "back", "umbrela"], 1, &["unknown client \"umbrela\"", "did you mean \"umbrella\""]),
        // client praise
        case("bad praise kind", Journal, &["client", "praise", "acme", "--kind", "fanmail"], 2, &["'fanmail'", "referral, testimonial, upsell, cross-sell"]),
        case("praise without --kind", Journal, &["client", "praise", "acme"], 2, &["--kind"]),
        case("praise: unknown client", Journal, &["client", "praise", "initec", "--kind", "upsell"], 1, &["unknown client \"initec\"", "did you mean \"initech\""]),
        // talk
        case("mood too high", Journal, &["talk", "acme", "--mood", "3"], 1, &["--mood 3", "-2", "2"]),
        case("mood too low", Journal, &["talk", "acme", "--mood", "-3"], 1, &["--mood -3", "expected -2"]),
        case("mood not a number", Journal, &["talk", "acme", "--mood", "great"], 2, &["'great'", "--mood"]),
        case("mood not an integer", Journal, &["talk", "acme", "--mood", "1.5"], 2, &["'1.5'"]),
        case("negative minutes", Journal, &["talk", "acme", "--minutes", "-5"], 1, &["--minutes -5", "negative", "0 or more"]),
        case("minutes over a day", Journal, &["talk", "acme", "--minutes", "2000"], 1, &["--minutes 2000", "1440"]),
        case("bad talk kind", Journal, &["talk", "acme", "--kind", "lunch"], 2, &["'lunch'", "meeting, call, email"]),
        case("bad --by", Journal, &["talk", "acme", "--by", "boss"], 2, &["'boss'", "us, client"]),
        case("talk: unknown client", Journal, &["talk", "acne"], 1, &["unknown client \"acne\"", "did you mean \"acme\""]),
        case("talk --at in the future", Journal, &["talk", "acme", "--at", "2026-11-20T10:01"], 1, &["--at \"2026-11-20T10:01\"", "after now"]),
        case("talk --at +4h", Journal, &["talk", "acme", "--at", "+4h"], 1, &["--at \"+4h\"", "after now"]),
        case("talk --at unknown form", Journal, &["talk", "acme", "--at", "last blursday"], 1, &["--at", "\"last blursday\"", "expected one of"]),
        // promise make
        case("promise to a lost client", Journal, &["promise", "make", "umbrella", "x", "--due", "fri"], 1, &["umbrella", "lost", "client back umbrella"]),
        case("promise: unknown client", Journal, &["promise", "make", "globx", "x", "--due", "fri"], 1, &["unknown client \"globx\"", "did you mean \"globex\""]),
        case("due before it is made", Journal, &["promise", "make", "acme", "x", "--due", "yesterday"], 1, &["--due \"yesterday\"", "before the promise is made"]),
        case("due before a backdated making", Journal, &["promise", "make", "acme", "x", "--due", "2026-11-05", "--at", "2026-11-10"], 1, &["--due \"2026-11-05\"", "before the promise is made", "2026-11-10 00:00"]),
        case("due: unknown form", Journal, &["promise", "make", "acme", "x", "--due", "soonish"], 1, &["--due", "\"soonish\"", "expected one of", "eom"]),
        case("due: GNU-only form", Journal, &["promise", "make", "acme", "x", "--due", "next friday"], 1, &["\"next friday\"", "expected one of"]),
        case("due: no such date", Journal, &["promise", "make", "acme", "x", "--due", "2026-02-30"], 1, &["2026-02-30", "not a date"]),
        case("due: no such time", Journal, &["promise", "make", "acme", "x", "--due", "2026-11-27T25:00"], 1, &["25:00", "not a time of day"]),
        case("due: no such offset", Journal, &["promise", "make", "acme", "x", "--due", "2026-11-27T10:00+24:00"], 1, &["+24:00", "not a UTC offset"]),
        case("due: empty", Journal, &["promise", "make", "acme", "x", "--due", ""], 1, &["--due", "expected one of"]),
        case("empty promise", Journal, &["promise", "make", "acme", " ", "--due", "fri"], 1, &["what was promised is empty"]),
        case("promise without --due", Journal, &["promise", "make", "acme", "x"], 2, &["--due"]),
        case("promise: no clients yet", Missing, &["promise", "make", "acme", "x", "--due", "fri"], 1, &["unknown client \"acme\""]),
        // promise move
        case("move an unknown promise", Journal, &["promise", "move", "99", "--due", "fri", "--cause", "us"], 1, &["unknown promise 99", "1 to 6"]),
        case("move a kept promise", Journal, &["promise", "move", "2", "--due", "fri", "--cause", "us"], 1, &["promise 2", "not open", "kept on 2026-11-09 16:00"]),
        case("move to the same due", Journal, &["promise", "move", "1", "--due", "2026-11-27", "--cause", "us"], 1, &["promise 1 is already due 2026-11-27", "different due"]),
        case("move to the same due, said as fri", Journal, &["promise", "move", "1", "--due", "fri", "--cause", "client"], 1, &["promise 1 is already due 2026-11-27"]),
        case("move to the same moved due", Journal, &["promise", "move", "5", "--due", "2026-11-30", "--cause", "us"], 1, &["promise 5 is already due 2026-11-30"]),
        case("move before it was made", Journal, &["promise", "move", "1", "--due", "2026-11-01", "--cause", "us"], 1, &["new due (2026-11-01 23:59)", "before promise 1 was made", "2026-11-02 10:00"]),
        case("move --at before it was made", Journal, &["promise", "move", "1", "--due", "2026-12-04", "--cause", "us", "--at", "2026-11-01"], 1, &["--at", "before promise 1 was made"]),
        case("move a retracted promise", Journal, &["promise", "move", "6", "--due", "2026-12-04", "--cause", "us"], 1, &["promise 6", "retracted"]),
        case("bad --cause", Journal, &["promise", "move", "1", "--due", "fri", "--cause", "weather"], 2, &["'weather'", "us, client, external"]),
        case("move without --cause", Journal, &["promise", "move", "1", "--due", "2026-12-04"], 2, &["--cause"]),
        case("promise id not a number", Journal, &["promise", "move", "one", "--due", "fri", "--cause", "us"], 2, &["'one'"]),
        // promise keep / break / release
        case("keep a kept promise", Journal, &["promise", "keep", "2"], 1, &["promise 2", "\"brand book\"", "kept on 2026-11-09 16:00", "#13"]),
        case("keep a broken promise", Journal, &["promise", "keep", "3"], 1, &["promise 3", "broken on 2026-11-12 12:00", "#14"]),
        case("keep a released promise", Journal, &["promise", "keep", "4"], 1, &["promise 4", "released on 2026-11-14 09:30", "#15"]),
        case("keep --at before it was made", Journal, &["promise", "keep", "1", "--at", "2026-11-01T12:00"], 1, &["2026-11-01 12:00", "before promise 1 was made"]),
        case("keep --at in the future", Journal, &["promise", "keep", "1", "--at", "2026-11-21"], 1, &["--at \"2026-11-21\"", "after now"]),
        case("keep an unknown promise", Journal, &["promise", "keep", "7"], 1, &["unknown promise 7"]),
        case("keep, no promises yet", Missing, &["promise", "keep", "1"], 1, &["unknown promise 1", "no promises"]),
        case("break a released promise", Journal, &["promise", "break", "4", "--reason", "x"], 1, &["promise 4", "released on 2026-11-14 09:30"]),
        case("break: blank reason", Journal, &["promise", "break", "1", "--reason", ""], 1, &["--reason is empty"]),
        case("break --at before it was made", Journal, &["promise", "break", "5", "--reason", "x", "--at", "2026-11-04T09:00"], 1, &["before promise 5 was made"]),
        case("release a broken promise", Journal, &["promise", "release", "3", "--reason", "x"], 1, &["promise 3", "broken on 2026-11-12 12:00"]),
        case("release a kept promise", Journal, &["promise", "release", "2", "--reason", "x"], 1, &["kept on 2026-11-09 16:00"]),
        case("release without --reason", Journal, &["promise", "release", "1"], 2, &["--reason"]),
        // retract
        case("retract an unknown event", Journal, &["retract", "999", "--reason", "x"], 1, &["no event #999", "#1 to #22"]),
        case("retract an already retracted event", Journal, &["retract", rr, "--reason", "x"], 1, &["event #17 (PromiseMade) is already retracted, by #18"]),
        case("retract a retracted talk again", Journal, &["retract", rt, "--reason", "x"], 1, &["event #19", "already retracted, by #20"]),
        case("retract a retraction", Journal, &["retract", rn, "--reason", "x"], 1, &["event #18 is itself a retraction"]),
        case("retract: blank reason", Journal, &["retract", "1", "--reason", "  "], 1, &["--reason is empty"]),
        case("retract: seq not a number", Journal, &["retract", "last", "--reason", "x"], 2, &["'last'"]),
        case("retract: seq 0", Journal, &["retract", "0", "--reason", "x"], 1, &["no event #0"]),
        // the clock
        case("--now unknown form", Journal, &["--now", "teatime", "talk", "acme"], 1, &["--now", "\"teatime\"", "expected one of"]),
        case("--now unknown form, no journal yet", Missing, &["--now", "teatime", "client", "add", "acme"], 1, &["\"teatime\""]),
        // Issue 15.2: the last record (#22) was written at 2026-11-18 10:00.
        case(CLOCK_PINNED_BACK, Journal, &["--now", "2026-11-18T09:00", "promise", "keep", "1", "--at", "2026-11-17T09:00"], 1, &["2026-11-18 09:00", "2026-11-18 10:00", "expected a time at or after it"]),
        // the file itself
        case("a text file is not a journal", Foreign(b"name,phone\nacme,555-0100\nglobex,555-0199\ninitech,555-0123\numbrella,555-0142\n"), &["client", "add", "acme"], 1, &["journal.tlog", "not a trustlog journal", "left untouched"]),
        case("a short text file is not a journal", Foreign(b"todo: call acme\n"), &["talk", "acme"], 1, &["journal.tlog", "not a trustlog journal"]),
        case("a damaged record in the middle", DamagedRecord, &["talk", "acme"], 3, &["journal.tlog", "damaged at byte offset", "record #10", "trustlog verify"]),
        case("a damaged record, even for a bad handle", DamagedRecord, &["client", "add", "hooli"], 3, &["damaged"]),
        case("a damaged header", DamagedHeader, &["talk", "acme"], 3, &["journal.tlog", "header", "damaged"]),
        case("a newer format version", FutureVersion, &["talk", "acme"], 1, &["journal.tlog", "version 2", "upgrade trustlog"]),
        // Issue 15.12: a value quoted in a message shows its control
        // characters escaped (and `check` finds none raw on stderr).
        case("handle with an escape", Journal, &["client", "add", "a\u{1b}[2Jb"], 1, &["invalid handle \"a\\u{1b}[2Jb\""]),
        case("--fit word with CR and BEL", Journal, &["client", "add", "hooli", "--fit", "a\rb\u{7}"], 2, &["'a\\rb"]),
        case("import a path with an escape", Journal, &["import", "no\u{1b}]0;x\u{7}.jsonl"], 1, &["no file to import at no\\e]0;x\\a.jsonl"]),
        case("--now with an escape", Journal, &["--now", "\u{1b}[2J", "talk", "acme"], 1, &["--now", "\"\\u{1b}[2J\""]),
        // Issue 12.11: an empty handle is said to be empty (it was "unknown
        // client \"\": did you mean …"); a report into a missing directory
        // names it (it named the atomic write's temp file).
        case(EMPTY_HANDLE, Journal, &["talk", "", "hi"], 1, &["the handle is empty"]),
        case("promise make: empty handle", Journal, &["promise", "make", "", "x", "--due", "fri"], 1, &["the handle is empty"]),
        case("client want: empty handle, no clients yet", Missing, &["client", "want", "", "x"], 1, &["the handle is empty"]),
        case(REPORT_NO_DIR, Journal, &["report", "--html", "/no/such/dir/r.html"], 1, &["--html /no/such/dir/r.html", "the directory /no/such/dir does not exist"]),
    ]
}

/// Issue 15.2: a clock pinned back (`--now` / `$TRUSTLOG_NOW` earlier than
/// the last record) wrote a `recorded_at` before its predecessor's, so a
/// keep recorded late could look recorded on time.
const CLOCK_PINNED_BACK: &str =
    "a clock pinned back before the last record would hide a backdated keep";

#[test]
fn a_clock_pinned_back_before_the_last_record_is_refused() {
    let cases = cases();
    let c = cases
        .iter()
        .find(|c| c.name == CLOCK_PINNED_BACK)
        .expect("the case is in the table");
    assert_eq!(check(c), None);
    // At the last record's time exactly, the same keep is accepted.
    let mut t = Tl::new();
    fs::write(&t.journal, realistic()).unwrap();
    t.now = "2026-11-18T10:00".to_string();
    t.ok(&["promise", "keep", "1", "--at", "2026-11-17T09:00"]);
}

#[test]
fn bad_input_leaves_the_journal_byte_identical() {
    let cases = cases();
    assert!(cases.len() >= 40, "only {} cases", cases.len());
    let failures: Vec<String> = cases.iter().filter_map(check).collect();
    assert!(
        failures.is_empty(),
        "{} of {} bad-input cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// After all those refusals, the journal still takes a good command.
#[test]
fn the_realistic_journal_accepts_good_input() {
    let t = Tl::new();
    fs::write(&t.journal, realistic()).unwrap();
    let out = t.ok(&["promise", "make", "acme", "x", "--due", "fri"]);
    assert_eq!(
        out.stdout, "7\n",
        "ids are never reused, retracted ones included"
    );
    assert_eq!(t.replay().len() as u64, LAST_SEQ + 1);
}

#[test]
fn a_directory_is_not_a_journal() {
    let mut t = Tl::new();
    t.journal = t.dir.path().join("adir");
    fs::create_dir(&t.journal).unwrap();
    let out = t.run(&["client", "add", "acme"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("adir"), "{out:?}");
    assert!(out.stdout.is_empty());
    assert_eq!(listing(t.dir.path()), vec![t.journal.clone()]);
}

/// A second writer waits a bounded time, then fails naming the journal.
#[test]
fn a_locked_journal_is_reported_and_untouched() {
    let t = Tl::new();
    fs::write(&t.journal, realistic()).unwrap();
    let holder = fs::File::open(&t.journal).unwrap();
    holder.lock().unwrap();
    let out = t.run(&["talk", "acme"]);
    holder.unlock().unwrap();
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains("journal.tlog") && out.stderr.contains("locked"),
        "{out:?}"
    );
    assert!(
        t.bytes().as_deref() == Some(realistic()),
        "the journal changed"
    );
}

/// BUG (src/log/journal.rs, `JournalWriter::open`, the `len < HEADER_LEN`
/// branch; the same test in src/log/format.rs `Header::decode`): a file
/// shorter than 8 bytes that is not a prefix of the signature is reported
/// as a truncated journal (exit 3, damage) instead of "not a trustlog
/// journal" (exit 1), though `looks_like_partial_header` has already said
/// it is no journal of ours.
#[test]
fn a_tiny_text_file_is_not_a_journal_rather_than_damage() {
    let t = Tl::new();
    fs::write(&t.journal, b"hello\n").unwrap();
    let out = t.run(&["client", "add", "acme"]);
    assert_eq!(t.bytes().as_deref(), Some(&b"hello\n"[..]));
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("not a trustlog journal"), "{out:?}");
}

/// BUG (src/cli/record.rs, `record`): for an existing journal the writer is
/// opened — and an empty file given its header — before the event is
/// validated, so a command that is refused still writes 64 bytes into an
/// empty journal file (e.g. one made by `touch`).
#[test]
fn a_refused_command_does_not_write_a_header_into_an_empty_file() {
    let t = Tl::new();
    fs::write(&t.journal, b"").unwrap();
    let out = t.run(&["talk", "acme"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("unknown client \"acme\""), "{out:?}");
    let after = t.bytes().unwrap_or_default();
    assert!(after.is_empty(), "{} bytes were written", after.len());
}

/// ROUGH EDGE (src/cli/record.rs, `record`): opening the writer cuts a torn
/// tail (saving it aside) before the event is validated, so a refused
/// command still truncates the journal and adds a side file. SPEC: errors
/// "leave the journal untouched"; the cut belongs to the next real write
/// (or `repair`).
#[test]
fn a_refused_command_does_not_cut_a_torn_tail() {
    let t = Tl::new();
    let mut bytes = realistic().to_vec();
    bytes.extend_from_slice(&[0x20, 0, 0, 0, b'a', b'b', b'c']);
    fs::write(&t.journal, &bytes).unwrap();
    let out = t.run(&["talk", "nobody"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("unknown client \"nobody\""), "{out:?}");
    let after = t.bytes().unwrap_or_default();
    assert!(
        after == bytes,
        "the journal was changed: {} → {} bytes",
        bytes.len(),
        after.len()
    );
    assert_eq!(listing(t.dir.path()), vec![t.journal.clone()]);
}

/// ROUGH EDGE (src/cli/record.rs, `retract`): on a journal without events
/// the message reads "the journal's events go from #1 to #0".
#[test]
fn retracting_in_an_empty_journal_says_there_are_no_events() {
    let t = Tl::new();
    let out = t.run(&["retract", "1", "--reason", "x"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("#1"), "{out:?}");
    assert!(!out.stderr.contains("#0"), "{}", out.stderr);
    assert!(!t.journal.exists());
}

/// Regression (src/cli/record.rs, `open_promise`): `id <= max_promise_id`
/// was also true for id 0, so `promise keep 0` said "promise 0 was
/// retracted" although no promise 0 ever existed.
#[test]
fn promise_zero_is_unknown_not_retracted() {
    let t = Tl::new();
    fs::write(&t.journal, realistic()).unwrap();
    let out = t.run(&["promise", "keep", "0"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("unknown promise 0"), "{}", out.stderr);
    assert!(
        t.bytes().as_deref() == Some(realistic()),
        "the journal changed"
    );
}

const EMPTY_HANDLE: &str = "talk: empty handle";
const REPORT_NO_DIR: &str = "report into a missing directory";

/// Issue 12.11: the rows above say what they should, and no more.
#[test]
fn an_empty_handle_suggests_nothing_and_a_missing_report_dir_names_no_temp_file() {
    let cases = cases();
    for name in [EMPTY_HANDLE, REPORT_NO_DIR] {
        let c = cases.iter().find(|c| c.name == name).expect("in the table");
        assert_eq!(check(c), None);
        let mut t = Tl::new();
        fs::write(&t.journal, realistic()).unwrap();
        t.journal = t.dir.path().join("journal.tlog");
        let out = t.run(&c.args);
        assert!(
            !out.stderr.contains("did you mean") && !out.stderr.contains(".trustlog-report"),
            "{name}: {}",
            out.stderr
        );
    }
}

/// Issue 12.11: options that `$TRUSTLOG_FILE` / `$TRUSTLOG_NOW` can set
/// were shown in the usage line as if required.
#[test]
fn the_usage_line_does_not_show_env_settable_options_as_required() {
    let t = Tl::new();
    let mut c = t.command();
    c.env("TRUSTLOG_FILE", &t.journal)
        .args(["promise", "make", "acme"]);
    let out = output(c);
    assert_eq!(out.code, 2, "{out:?}");
    let usage = out
        .stderr
        .lines()
        .find(|l| l.starts_with("Usage:"))
        .unwrap_or_else(|| panic!("no usage line: {}", out.stderr));
    assert!(
        !usage.contains("--journal") && !usage.contains("--now"),
        "{usage}"
    );
    assert!(usage.contains("--due <WHEN>"), "{usage}");
}

/// Issue 12.11: a `task export` file imported without `--format
/// taskwarrior` gave one "is not JSON" per line.
#[test]
fn a_taskwarrior_export_without_the_format_gets_one_hint() {
    let tasks = [
        concat!(
            "[\n",
            r#"{"id":1,"description":"logo","entry":"20261101T090000Z","status":"pending","uuid":"a1b2c3d4-0000-4000-8000-000000000001","project":"acme"},"#,
            "\n",
            r#"{"id":2,"description":"site","entry":"20261101T090000Z","status":"pending","uuid":"a1b2c3d4-0000-4000-8000-000000000002","project":"acme"}"#,
            "\n]\n"
        ),
        // One task a line, without the array (`task export` of old, or edited).
        concat!(
            r#"{"description":"logo","entry":"20261101T090000Z","status":"pending","uuid":"a1b2c3d4-0000-4000-8000-000000000001"}"#,
            "\n"
        ),
    ];
    for text in tasks {
        let t = Tl::new();
        fs::write(&t.journal, realistic()).unwrap();
        let file = t.dir.path().join("tasks.json");
        fs::write(&file, text).unwrap();
        let out = t.run(&["import", file.to_str().unwrap()]);
        assert_eq!(out.code, 1, "{out:?}");
        assert!(
            out.stderr.contains("looks like a Taskwarrior export")
                && out.stderr.contains("--format taskwarrior"),
            "{}",
            out.stderr
        );
        assert!(!out.stderr.contains("is not JSON"), "{}", out.stderr);
        assert_eq!(out.stderr.trim_end().lines().count(), 1, "{}", out.stderr);
        assert_eq!(t.bytes().unwrap(), realistic());
    }
}

/// Issue 12.11: an unknown key listed `client` twice among the expected.
#[test]
fn an_unknown_import_key_lists_each_expected_key_once() {
    let t = Tl::new();
    let line = r#"{"author":"a","client":"hooli","fit":"target","kind":"ClientAdded","name":"Hooli","note":"","occurred_at":"2026-11-19T09:00:00Z","recorded_at":"2026-11-19T09:00:00Z","seq":1,"zz":2}"#;
    let file = t.dir.path().join("in.jsonl");
    fs::write(&file, format!("{line}\n")).unwrap();
    let out = t.run(&["import", file.to_str().unwrap()]);
    assert_eq!(out.code, 1, "{out:?}");
    let expected = out
        .stderr
        .split("expected only ")
        .nth(1)
        .unwrap_or_else(|| panic!("{}", out.stderr))
        .lines()
        .next()
        .unwrap();
    let keys: Vec<&str> = expected.split(", ").collect();
    let mut unique = keys.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(keys.len(), unique.len(), "{expected}");
    assert!(keys.contains(&"client"), "{expected}");
}

/// Issue 12.11: post-mortem warning signs were numbered by their rank
/// (1 2 4 5 7 8 when some kinds were absent), said "1 mismatch(es)" and
/// "1 promise(s)", and "trust 1.75" beside whole-number scores.
#[test]
fn postmortem_warnings_are_numbered_in_order_in_good_english() {
    let mut t = Tl::new();
    #[rustfmt::skip]
    let steps: &[(&str, &[&str])] = &[
        ("2026-11-01T09:00", &["client", "add", "globex", "--fit", "off-target"]),
        ("2026-11-01T10:00", &["talk", "globex", "--kind", "call", "--mood", "-2", "angry"]),
        ("2026-11-01T11:00", &["promise", "make", "globex", "x", "--due", "2026-11-05"]),
        ("2026-11-06T09:00", &["promise", "break", "1", "--reason", "r"]),
        ("2026-11-07T09:00", &["client", "mismatch", "globex", "not this"]),
        ("2026-11-08T09:00", &["client", "want", "globex", "a thing"]),
        ("2026-11-09T09:00", &["client", "mismatch", "globex", "nope"]),
    ];
    for (now, args) in steps {
        t.now = now.to_string();
        t.ok(args);
    }
    t.now = "2026-11-20T09:00".to_string();
    let config = t.dir.path().join("c.toml");
    fs::write(&config, "[trust]\nbroken = 20.25\n").unwrap();
    let c = config.to_str().unwrap();
    let human = t.ok(&["--config", c, "postmortem", "globex"]).stdout;
    let json = t
        .ok(&["--config", c, "postmortem", "globex", "--json"])
        .json();
    let numbers: Vec<usize> = human
        .lines()
        .skip_while(|l| !l.starts_with("warning signs"))
        .skip(1)
        .take_while(|l| !l.is_empty())
        .map(|l| {
            l.trim_start()
                .split_once(". [")
                .and_then(|(n, _)| n.parse().ok())
                .unwrap_or_else(|| panic!("not a numbered warning: {l:?}"))
        })
        .collect();
    let ranks: Vec<u64> = json["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["rank"].as_u64().unwrap())
        .collect();
    assert!(numbers.len() >= 5, "{human}");
    assert_eq!(numbers, (1..=numbers.len()).collect::<Vec<_>>(), "{human}");
    // JSON keeps the rank, which has gaps here.
    assert_ne!(
        ranks,
        (1..=ranks.len() as u64).collect::<Vec<_>>(),
        "{ranks:?}"
    );
    for bad in ["(es)", "(s)", "1 mismatches", "1 promises"] {
        assert!(!human.contains(bad), "{bad:?} in {human}");
    }
    assert!(human.contains("1 mismatch with no expectation"), "{human}");
    assert!(human.contains("1 promise declared broken"), "{human}");
    // Whole points in the warning as in the rest; JSON keeps 1.75.
    assert_eq!(json["trust_at_end"].as_f64(), Some(1.75), "{json}");
    assert!(human.contains("trust 2 now"), "{human}");
    assert!(!human.contains("1.75"), "{human}");
}

/// Issue 12.11: `verify` of a one-record journal said "1 records".
#[test]
fn verify_counts_one_record_in_the_singular() {
    let t = Tl::new();
    t.ok(&["client", "add", "acme"]);
    let out = t.ok(&["verify"]);
    assert!(out.stdout.contains(": 1 record, "), "{}", out.stdout);
    t.ok(&["client", "add", "globex"]);
    assert!(t.ok(&["verify"]).stdout.contains(": 2 records, "));
}
