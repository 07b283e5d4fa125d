//! The synthetic workload of the side-by-side benchmarks
//! (`examples/synth.rs`, used by `bench/compare.sh`): same seed → same bytes,
//! and every event it writes is one the CLI accepts. The benchmark script
//! itself runs in CI as `bash bench/compare.sh --smoke`, which checks that
//! SQLite's audit counts equal trustlog's on the same events.

mod common;

#[path = "../examples/synth.rs"]
#[allow(dead_code)]
mod synth;

use std::collections::BTreeSet;
use std::path::Path;

use common::Tl;
use trustlog::events::{Envelope, Event, Timestamp, EVENT_KINDS};

fn config(events: u64, seed: u64, out: &Path) -> synth::Config {
    synth::Config {
        events,
        seed,
        end: synth::DEFAULT_END,
        out: out.to_path_buf(),
        journal: true,
        sql: true,
        tasks: true,
    }
}

/// (seq, payload) of every record: what must not depend on the run (the
/// header's random journal id seeds the chain, so frames differ).
fn payloads(journal: &Path) -> Vec<(u64, Vec<u8>)> {
    let mut out = Vec::new();
    trustlog::log::for_each_record(journal, |seq, payload| {
        out.push((seq, payload.to_vec()));
        Ok(())
    })
    .expect("the generated journal reads back");
    out
}

fn read(dir: &Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let (a, b, c) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let sa = synth::generate(&config(5_000, 7, a.path())).unwrap();
    let sb = synth::generate(&config(5_000, 7, b.path())).unwrap();
    synth::generate(&config(5_000, 8, c.path())).unwrap();
    assert_eq!(sa, sb);
    assert_eq!(sa.events, 5_000);
    for name in ["events.sql", "tasks.json", "now.txt"] {
        assert!(
            read(a.path(), name) == read(b.path(), name),
            "{name} differs between two runs with the same seed"
        );
    }
    let pa = payloads(&a.path().join("journal.tlog"));
    assert_eq!(pa.len(), 5_000);
    assert!(
        pa == payloads(&b.path().join("journal.tlog")),
        "journal payloads differ between two runs with the same seed"
    );
    assert!(read(a.path(), "events.sql") != read(c.path(), "events.sql"));
    assert!(pa != payloads(&c.path().join("journal.tlog")));
}

#[test]
fn outputs_describe_the_same_promises() {
    let dir = tempfile::tempdir().unwrap();
    let s = synth::generate(&config(5_000, 3, dir.path())).unwrap();
    let envs = common::replay(&dir.path().join("journal.tlog"));
    let sql = String::from_utf8(read(dir.path(), "events.sql")).unwrap();
    let rows = sql.lines().filter(|l| l.starts_with('(')).count();
    assert_eq!(rows as u64, s.events, "one SQL row per event");
    let made = envs
        .iter()
        .filter(|e| matches!(e.event, Event::PromiseMade { .. }))
        .count() as u64;
    assert_eq!(made, s.promises);
    let retracted_made = envs
        .iter()
        .filter_map(|e| match e.event {
            Event::Retracted { seq, .. } => Some(seq),
            _ => None,
        })
        .filter(|&seq| matches!(envs[(seq - 1) as usize].event, Event::PromiseMade { .. }))
        .count() as u64;
    let tasks = String::from_utf8(read(dir.path(), "tasks.json")).unwrap();
    assert_eq!(
        tasks.lines().count() as u64,
        made - retracted_made,
        "one task per promise whose making was not retracted"
    );
    for line in tasks.lines() {
        let t: serde_json::Value = serde_json::from_str(line).expect("each line is JSON");
        for key in ["uuid", "status", "description", "project", "entry", "due"] {
            assert!(t.get(key).is_some(), "{key} missing in {line}");
        }
        let closed = t["status"] != "pending";
        assert_eq!(t.get("end").is_some(), closed, "end iff closed: {line}");
    }
}

fn rfc(t: Timestamp) -> String {
    t.to_utc()
        .expect("in range")
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

fn due_arg(d: &trustlog::events::Due) -> String {
    if d.date_only {
        d.at.to_utc().unwrap().format("%Y-%m-%d").to_string()
    } else {
        rfc(d.at)
    }
}

/// The command that records `event` (without `--now`/`--at`).
fn command_for(event: &Event) -> Vec<String> {
    let s = |x: &str| x.to_string();
    let mut a: Vec<String> = Vec::new();
    match event {
        Event::ClientAdded {
            handle,
            name,
            fit,
            note,
        } => a.extend([
            s("client"),
            s("add"),
            handle.clone(),
            s("--name"),
            name.clone(),
            s("--fit"),
            fit.to_string(),
            s("--note"),
            note.clone(),
        ]),
        Event::FitChanged {
            client,
            fit,
            reason,
        } => a.extend([
            s("client"),
            s("fit"),
            client.clone(),
            fit.to_string(),
            s("--reason"),
            reason.clone(),
        ]),
        Event::ExpectationNoted { client, text } => {
            a.extend([s("client"), s("want"), client.clone(), text.clone()])
        }
        Event::MismatchNoted { client, text } => {
            a.extend([s("client"), s("mismatch"), client.clone(), text.clone()])
        }
        Event::Interacted {
            client,
            kind,
            mood,
            minutes,
            initiated_by,
            note,
        } => {
            a.extend([
                s("talk"),
                client.clone(),
                s("--kind"),
                kind.to_string(),
                s("--mood"),
                mood.to_string(),
                s("--by"),
                initiated_by.to_string(),
            ]);
            if let Some(m) = minutes {
                a.extend([s("--minutes"), m.to_string()]);
            }
            if !note.is_empty() {
                a.push(note.clone());
            }
        }
        Event::PromiseMade {
            client, what, due, ..
        } => a.extend([
            s("promise"),
            s("make"),
            client.clone(),
            what.clone(),
            s("--due"),
            due_arg(due),
        ]),
        Event::PromiseMoved {
            promise,
            due,
            cause,
            agreed_by_client,
            reason,
        } => {
            a.extend([
                s("promise"),
                s("move"),
                promise.to_string(),
                s("--due"),
                due_arg(due),
                s("--cause"),
                cause.to_string(),
                s("--reason"),
                reason.clone(),
            ]);
            if *agreed_by_client {
                a.push(s("--agreed"));
            }
        }
        Event::PromiseKept { promise, note } => a.extend([
            s("promise"),
            s("keep"),
            promise.to_string(),
            s("--note"),
            note.clone(),
        ]),
        Event::PromiseBroken { promise, reason } => a.extend([
            s("promise"),
            s("break"),
            promise.to_string(),
            s("--reason"),
            reason.clone(),
        ]),
        Event::PromiseReleased { promise, reason } => a.extend([
            s("promise"),
            s("release"),
            promise.to_string(),
            s("--reason"),
            reason.clone(),
        ]),
        Event::Advocated {
            client,
            kind,
            initiated_by_client,
            note,
        } => {
            a.extend([
                s("client"),
                s("praise"),
                client.clone(),
                s("--kind"),
                kind.to_string(),
            ]);
            if !initiated_by_client {
                a.push(s("--by-us"));
            }
            if !note.is_empty() {
                a.push(note.clone());
            }
        }
        Event::ClientLost { client, reason } => a.extend([
            s("client"),
            s("lost"),
            client.clone(),
            s("--reason"),
            reason.clone(),
        ]),
        Event::ClientReturned { client, note } => a.extend([
            s("client"),
            s("back"),
            client.clone(),
            s("--note"),
            note.clone(),
        ]),
        Event::Retracted { seq, reason } => {
            a.extend([s("retract"), seq.to_string(), s("--reason"), reason.clone()])
        }
        Event::ClientRenamed {
            client,
            handle,
            name,
        } => a.extend([
            s("client"),
            s("rename"),
            client.clone(),
            handle.clone(),
            s("--name"),
            name.clone(),
        ]),
        Event::Amended { seq, text, reason } => a.extend([
            s("amend"),
            seq.to_string(),
            s("--text"),
            text.clone(),
            s("--reason"),
            reason.clone(),
        ]),
        Event::PromiseDelivered { promise, note } => a.extend([
            s("promise"),
            s("deliver"),
            promise.to_string(),
            s("--note"),
            note.clone(),
        ]),
        Event::CadenceSet { client, every } => a.extend([
            s("client"),
            s("cadence"),
            client.clone(),
            if *every == 0 {
                s("off")
            } else {
                format!("{}min", every / 60)
            },
        ]),
    }
    a
}

/// Every generated event, recorded one by one through the real binary at its
/// own `recorded_at` (`--now`) and `occurred_at` (`--at`), is accepted, and
/// the journal the CLI writes holds exactly the generated events.
#[test]
fn the_cli_accepts_every_generated_event() {
    let dir = tempfile::tempdir().unwrap();
    // Seed 41 at 1 200 events holds every kind of event and of retraction
    // (checked below); if the generator changes, pick a seed that does.
    synth::generate(&config(1_200, 41, dir.path())).unwrap();
    let generated = common::replay(&dir.path().join("journal.tlog"));
    let kinds: BTreeSet<&str> = generated.iter().map(|e| e.event.kind_name()).collect();
    // Kinds whose recording commands are being built (issues 10, 11, 12.3):
    // each leaves this list when synth generates it.
    const NOT_GENERATED_YET: [&str; 4] =
        ["ClientRenamed", "Amended", "PromiseDelivered", "CadenceSet"];
    let all: BTreeSet<&str> = EVENT_KINDS
        .iter()
        .copied()
        .filter(|k| !NOT_GENERATED_YET.contains(k))
        .collect();
    assert_eq!(
        kinds, all,
        "the test workload should hold every kind of event: pick another seed"
    );
    let retractions: BTreeSet<&str> = generated
        .iter()
        .filter_map(|e| match e.event {
            Event::Retracted { seq, .. } => Some(generated[(seq - 1) as usize].event.kind_name()),
            _ => None,
        })
        .collect();
    for k in ["ClientAdded", "Interacted", "PromiseMade", "PromiseMoved"] {
        assert!(
            retractions.contains(k),
            "no retraction of a {k}: pick another seed"
        );
    }
    assert!(
        ["PromiseKept", "PromiseBroken", "PromiseReleased"]
            .iter()
            .any(|k| retractions.contains(k)),
        "no retraction of a close: pick another seed"
    );

    let mut tl = Tl::new();
    for env in &generated {
        tl.author = env.author.clone();
        let mut args = vec!["--now".to_string(), rfc(env.recorded_at)];
        args.extend(command_for(&env.event));
        args.extend(["--at".to_string(), rfc(env.occurred_at)]);
        let out = tl.run(&args);
        assert!(
            out.code == 0,
            "event #{} refused by the CLI: trustlog {args:?}: {}",
            env.seq,
            out.stderr
        );
        if let Event::PromiseMade { promise, .. } = env.event {
            assert_eq!(out.stdout.trim(), promise.to_string(), "promise id");
        }
    }
    let recorded: Vec<Envelope> = tl.replay();
    assert_eq!(recorded.len(), generated.len());
    for (r, g) in recorded.iter().zip(&generated) {
        assert_eq!(r, g, "event #{} differs when recorded by the CLI", g.seq);
    }
}
