//! The on-disk format is a promise: journals written by every released
//! format version must replay forever. `tests/fixtures/v1.tlog` was written
//! by format version 1 and holds every event variant; this test decodes it
//! and compares with the events it must contain, checks its chain against
//! the head digest recorded when it was made, and pins the codec's bytes.
//!
//! To (re)create a fixture for a NEW format version, run
//! `TRUSTLOG_WRITE_FIXTURE=1 cargo test --test format_fixtures write_fixture -- --ignored`
//! and commit it under a new name; never rewrite a released fixture.

use std::path::PathBuf;

use trustlog::events::*;
use trustlog::log;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn t(s: i64) -> Timestamp {
    // 2026-11-01T00:00:00Z plus `s` seconds
    Timestamp((1_793_491_200 + s) * 1_000_000)
}

fn env(seq: Seq, event: Event) -> Envelope {
    Envelope {
        seq,
        recorded_at: t(seq as i64 * 3600),
        occurred_at: t(seq as i64 * 3600 - 60),
        author: "fixture".into(),
        event,
    }
}

/// Every variant, in enum order, with non-default field values.
fn expected() -> Vec<Envelope> {
    let due = |s| Due {
        at: t(s),
        date_only: true,
    };
    let evs = vec![
        Event::ClientAdded {
            handle: "acme".into(),
            name: "Acme Ltd — Zürich".into(),
            fit: Fit::Target,
            note: "met at a fair".into(),
        },
        Event::FitChanged {
            client: "acme".into(),
            fit: Fit::OffTarget,
            reason: "price only".into(),
        },
        Event::ExpectationNoted {
            client: "acme".into(),
            text: "a logo for trucks".into(),
        },
        Event::MismatchNoted {
            client: "acme".into(),
            text: "expected three concepts".into(),
        },
        Event::Interacted {
            client: "acme".into(),
            kind: InteractionKind::Meeting,
            mood: -2,
            minutes: Some(45),
            initiated_by: Party::Client,
            note: "tense kick-off".into(),
        },
        Event::PromiseMade {
            promise: 1,
            client: "acme".into(),
            what: "drafts".into(),
            due: due(10 * 86400),
        },
        Event::PromiseMoved {
            promise: 1,
            due: Due {
                at: t(12 * 86400 + 3600),
                date_only: false,
            },
            cause: Cause::External,
            agreed_by_client: true,
            reason: "courier strike".into(),
        },
        Event::PromiseKept {
            promise: 1,
            note: "sent by mail".into(),
        },
        Event::PromiseBroken {
            promise: 2,
            reason: "cannot".into(),
        },
        Event::PromiseReleased {
            promise: 3,
            reason: "dropped".into(),
        },
        Event::Advocated {
            client: "acme".into(),
            kind: AdvocacyKind::CrossSell,
            initiated_by_client: true,
            note: "asked for a website".into(),
        },
        Event::ClientLost {
            client: "acme".into(),
            reason: "moved away".into(),
        },
        Event::ClientReturned {
            client: "acme".into(),
            note: String::new(),
        },
        Event::Retracted {
            seq: 4,
            reason: "wrong client".into(),
        },
        // Added after format v1's fixture (same frame format; v2.tlog).
        Event::ClientRenamed {
            client: "acme".into(),
            handle: "acme-zürich".into(),
            name: "Acme AG".into(),
        },
        Event::Amended {
            seq: 5,
            text: "tense kick-off, budget unclear".into(),
            reason: "typo".into(),
        },
        Event::PromiseDelivered {
            promise: 1,
            note: "first sketches".into(),
        },
        Event::CadenceSet {
            client: "acme-zürich".into(),
            every: 14 * 86_400,
        },
    ];
    evs.into_iter()
        .enumerate()
        .map(|(i, e)| env(i as u64 + 1, e))
        .collect()
}

/// The fixtures: each holds the variants there were when it was written,
/// in enum order; the newest holds every variant.
const FIXTURES: [(&str, usize); 2] = [("v1", 14), ("v2", 18)];

#[test]
fn newest_fixture_has_every_variant() {
    let (_, n) = FIXTURES[FIXTURES.len() - 1];
    let kinds: Vec<_> = expected()[..n]
        .iter()
        .map(|e| e.event.kind_name())
        .collect();
    assert_eq!(kinds, EVENT_KINDS.to_vec());
}

#[test]
fn every_fixture_replays_exactly() {
    for (name, n) in FIXTURES {
        let path = fixture(&format!("{name}.tlog"));
        let mut got = Vec::new();
        log::for_each_record(&path, |seq, payload| {
            got.push(codec::decode(seq, payload).expect("fixture record decodes"));
            Ok(())
        })
        .expect("fixture reads");
        assert_eq!(got, expected()[..n], "{name}");
    }
}

#[test]
fn every_fixture_verifies_against_its_recorded_head() {
    for (name, n) in FIXTURES {
        let path = fixture(&format!("{name}.tlog"));
        let head = std::fs::read_to_string(fixture(&format!("{name}.head"))).expect("head file");
        let digest = log::format::from_hex(head.trim()).expect("the head file holds a digest");
        let r = log::verify(&path, Some(&digest), &mut |_, _| {}).expect("verify runs");
        assert!(r.ok(), "{name}: {r:?}");
        assert_eq!(r.records, n as u64, "{name}");
        assert_eq!(r.head_found, Some(true), "{name}");
    }
}

/// Golden bytes: the encoding of each variant is frozen. A failure here
/// means a change to `Event` or the codec that old journals cannot survive.
/// v2.golden repeats v1's lines and adds the new variants' (checked equal).
#[test]
fn codec_golden_bytes() {
    let v1 = include_str!("fixtures/v1.golden");
    let golden = include_str!("fixtures/v2.golden");
    let lines: Vec<&str> = golden.lines().filter(|l| !l.starts_with('#')).collect();
    let old: Vec<&str> = v1.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(
        lines[..old.len()],
        old[..],
        "v2.golden changed a v1 variant"
    );
    let envs = expected();
    assert_eq!(lines.len(), envs.len());
    for (line, e) in lines.iter().zip(&envs) {
        let (kind, hex) = line.split_once(' ').expect("'<kind> <hex>'");
        assert_eq!(kind, e.event.kind_name());
        let bytes = codec::encode(e).expect("encodes");
        assert_eq!(to_hex(&bytes), hex, "encoding of {kind} changed");
        assert_eq!(codec::decode(e.seq, &bytes).expect("decodes"), *e);
    }
}

fn to_hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
#[ignore = "writes a new fixture; run by hand for a new format version"]
fn write_fixture() {
    if std::env::var("TRUSTLOG_WRITE_FIXTURE").is_err() {
        return;
    }
    let (name, n) = FIXTURES[FIXTURES.len() - 1];
    let path = fixture(&format!("{name}.tlog"));
    assert!(!path.exists(), "never overwrite a released fixture");
    let mut w = log::JournalWriter::open(&path, t(0).0, log::DEFAULT_LOCK_WAIT).unwrap();
    let mut golden =
        format!("# <kind> <hex of codec::encode> for each variant of fixture {name}\n");
    for e in &expected()[..n] {
        let bytes = codec::encode(e).unwrap();
        w.append(&bytes).unwrap();
        golden.push_str(&format!("{} {}\n", e.event.kind_name(), to_hex(&bytes)));
    }
    std::fs::write(fixture(&format!("{name}.golden")), golden).unwrap();
    std::fs::write(
        fixture(&format!("{name}.head")),
        log::format::to_hex(&w.head()) + "\n",
    )
    .unwrap();
}
