//! Hundreds of events through the real binary, then a replay through the
//! library: every field of every envelope must come back exactly as sent.
//!
//! A seeded generator picks, at each step, a command that is valid for a
//! small model of the journal (which clients exist and are lost, which
//! promises are open, their dues and when they were made), runs it with the
//! clock advancing, and writes down the envelope it must produce. Texts
//! carry Unicode, quotes, newlines and tabs; `--at` is used in the past,
//! with and without an offset; authors change along the way.

mod common;

use chrono::{Duration, NaiveDateTime};
use common::*;
use trustlog::events::*;

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len() as u64) as usize]
    }
}

const TEXTS: &[&str] = &[
    "kick-off",
    "liked the drafts, wants a bolder blue",
    "Zürich office — «très bien» 👍",
    "said \"not what we asked for\"",
    "line one\nline two",
    "tab\tseparated",
    "O'Brien's team; 50% done & on track",
    "日本語のメモ",
    "a/b\\c $HOME `id`",
];

struct ClientM {
    handle: String,
    fit: Fit,
    lost: bool,
}

struct PromiseM {
    id: PromiseId,
    made_at: Timestamp,
    due: Timestamp,
    open: bool,
}

struct Gen {
    rng: Rng,
    now: NaiveDateTime,
    clients: Vec<ClientM>,
    promises: Vec<PromiseM>,
    /// Seqs of events that can be retracted without changing what later
    /// commands may do (interactions, expectations, mismatches, advocacy).
    retractable: Vec<Seq>,
    expected: Vec<Envelope>,
}

fn micros(t: NaiveDateTime) -> Timestamp {
    Timestamp(t.and_utc().timestamp_micros())
}

fn naive(t: Timestamp) -> NaiveDateTime {
    chrono::DateTime::from_timestamp_micros(t.0)
        .unwrap()
        .naive_utc()
}

impl Gen {
    fn now_ts(&self) -> Timestamp {
        micros(self.now)
    }

    /// A text for a positional argument list (several words) or an option.
    fn text(&mut self) -> String {
        let t = self.rng.pick(TEXTS).to_string();
        if self.rng.chance(10) {
            // Surrounding blanks are trimmed by trustlog.
            format!("  {t} ")
        } else {
            t
        }
    }

    /// Optionally adds `--at` somewhere between `earliest` and now; returns
    /// the expected `occurred_at`.
    fn at(&mut self, args: &mut Vec<String>, earliest: Option<Timestamp>) -> Timestamp {
        if !self.rng.chance(35) {
            return self.now_ts();
        }
        // Whole seconds (as `now` and every earlier `--at`), so each form
        // below says the instant exactly.
        let back = Duration::seconds(self.rng.below(3 * 24 * 3600) as i64);
        let mut at = self.now - back;
        if let Some(e) = earliest {
            at = at.max(naive(e));
        }
        assert_eq!(at.and_utc().timestamp_subsec_micros(), 0);
        args.push("--at".into());
        if self.rng.chance(30) {
            // The same instant as seen from UTC+02:00.
            let local = at + Duration::hours(2);
            args.push(format!("{}+02:00", local.format("%Y-%m-%dT%H:%M:%S")));
        } else {
            args.push(at.format("%Y-%m-%dT%H:%M:%S").to_string());
        }
        micros(at)
    }

    /// A due after `after`: `(the WHEN to type, the expected Due)`.
    fn due(&mut self, after: NaiveDateTime) -> (String, Due) {
        let days = 1 + self.rng.below(40) as i64;
        if self.rng.chance(50) {
            let day = (after + Duration::days(days)).date();
            (
                day.format("%Y-%m-%d").to_string(),
                Due {
                    at: end_of_day(&day.format("%Y-%m-%d").to_string()),
                    date_only: true,
                },
            )
        } else {
            let t = after + Duration::days(days) + Duration::minutes(self.rng.below(600) as i64);
            let t = t.format("%Y-%m-%dT%H:%M").to_string();
            let at = ts(&t);
            (
                t,
                Due {
                    at,
                    date_only: false,
                },
            )
        }
    }

    fn client_index(&mut self, want_lost: Option<bool>) -> Option<usize> {
        let idx: Vec<usize> = (0..self.clients.len())
            .filter(|&i| want_lost.is_none_or(|l| self.clients[i].lost == l))
            .collect();
        if idx.is_empty() {
            None
        } else {
            Some(*self.rng.pick(&idx))
        }
    }

    fn open_promise(&mut self) -> Option<usize> {
        let idx: Vec<usize> = (0..self.promises.len())
            .filter(|&i| self.promises[i].open)
            .collect();
        if idx.is_empty() {
            None
        } else {
            Some(*self.rng.pick(&idx))
        }
    }

    /// One command valid for the model: its arguments, the event it must
    /// record and its `occurred_at`. `None` when the chosen kind does not
    /// apply right now (the caller picks again).
    fn step(&mut self, seq: Seq) -> Option<(Vec<String>, Event, Timestamp)> {
        let s = |x: &str| x.to_string();
        let roll = if self.clients.len() < 3 {
            0
        } else {
            self.rng.below(100)
        };
        let mut args = Vec::new();
        let event = match roll {
            0..=4 => {
                let handle = format!("client-{}", self.clients.len() + 1);
                args.extend([s("client"), s("add"), handle.clone()]);
                let name = if self.rng.chance(70) {
                    let n = format!("{} {}", self.rng.pick(TEXTS).trim(), self.clients.len());
                    args.extend([s("--name"), n.clone()]);
                    n
                } else {
                    handle.clone()
                };
                let fit = if self.rng.chance(30) {
                    args.extend([s("--fit"), s("off-target")]);
                    Fit::OffTarget
                } else {
                    if self.rng.chance(50) {
                        args.extend([s("--fit"), s("target")]);
                    }
                    Fit::Target
                };
                let note = if self.rng.chance(50) {
                    let n = self.text();
                    args.extend([s("--note"), n.clone()]);
                    n.trim().to_string()
                } else {
                    String::new()
                };
                self.clients.push(ClientM {
                    handle: handle.clone(),
                    fit,
                    lost: false,
                });
                Event::ClientAdded {
                    handle,
                    name,
                    fit,
                    note,
                }
            }
            5..=9 => {
                let i = self.client_index(None)?;
                let c = &mut self.clients[i];
                c.fit = match c.fit {
                    Fit::Target => Fit::OffTarget,
                    Fit::OffTarget => Fit::Target,
                };
                let (client, fit) = (c.handle.clone(), c.fit);
                args.extend([s("client"), s("fit"), client.clone(), s(fit.as_str())]);
                let reason = if self.rng.chance(50) {
                    let r = self.text();
                    args.extend([s("--reason"), r.clone()]);
                    r.trim().to_string()
                } else {
                    String::new()
                };
                Event::FitChanged {
                    client,
                    fit,
                    reason,
                }
            }
            10..=29 => {
                let i = self.client_index(None)?;
                let client = self.clients[i].handle.clone();
                args.extend([s("talk"), client.clone()]);
                let kind = *self.rng.pick(&[
                    InteractionKind::Meeting,
                    InteractionKind::Call,
                    InteractionKind::Email,
                    InteractionKind::Message,
                    InteractionKind::Visit,
                    InteractionKind::Delivery,
                    InteractionKind::Other,
                ]);
                if kind != InteractionKind::Other || self.rng.chance(50) {
                    args.extend([s("--kind"), s(kind.as_str())]);
                }
                let mood = self.rng.below(5) as i8 - 2;
                if mood != 0 || self.rng.chance(50) {
                    args.extend([s("--mood"), mood.to_string()]);
                }
                let minutes = if self.rng.chance(60) {
                    let m = self.rng.below(1441) as u32;
                    args.extend([s("--minutes"), m.to_string()]);
                    Some(m)
                } else {
                    None
                };
                let initiated_by = if self.rng.chance(40) {
                    args.extend([s("--by"), s("client")]);
                    Party::Client
                } else {
                    if self.rng.chance(50) {
                        args.extend([s("--by"), s("us")]);
                    }
                    Party::Us
                };
                let note = self.words(&mut args);
                self.retractable.push(seq);
                Event::Interacted {
                    client,
                    kind,
                    mood,
                    minutes,
                    initiated_by,
                    note,
                }
            }
            30..=43 => {
                let i = self.client_index(None)?;
                let client = self.clients[i].handle.clone();
                let want = roll <= 37;
                args.extend([
                    s("client"),
                    s(if want { "want" } else { "mismatch" }),
                    client.clone(),
                ]);
                let text = loop {
                    let t = self.words(&mut args);
                    if !t.is_empty() {
                        break t;
                    }
                };
                self.retractable.push(seq);
                if want {
                    Event::ExpectationNoted { client, text }
                } else {
                    Event::MismatchNoted { client, text }
                }
            }
            44..=49 => {
                let i = self.client_index(None)?;
                let client = self.clients[i].handle.clone();
                let kind = *self.rng.pick(&[
                    AdvocacyKind::Referral,
                    AdvocacyKind::Testimonial,
                    AdvocacyKind::Upsell,
                    AdvocacyKind::CrossSell,
                ]);
                args.extend([
                    s("client"),
                    s("praise"),
                    client.clone(),
                    s("--kind"),
                    s(kind.as_str()),
                ]);
                let by_us = self.rng.chance(30);
                if by_us {
                    args.push(s("--by-us"));
                }
                let note = self.words(&mut args);
                self.retractable.push(seq);
                Event::Advocated {
                    client,
                    kind,
                    initiated_by_client: !by_us,
                    note,
                }
            }
            50..=52 => {
                let i = self.client_index(Some(false))?;
                self.clients[i].lost = true;
                let client = self.clients[i].handle.clone();
                let reason = self.text();
                args.extend([
                    s("client"),
                    s("lost"),
                    client.clone(),
                    s("--reason"),
                    reason.clone(),
                ]);
                Event::ClientLost {
                    client,
                    reason: reason.trim().to_string(),
                }
            }
            53..=56 => {
                let i = self.client_index(Some(true))?;
                self.clients[i].lost = false;
                let client = self.clients[i].handle.clone();
                args.extend([s("client"), s("back"), client.clone()]);
                let note = if self.rng.chance(50) {
                    let n = self.text();
                    args.extend([s("--note"), n.clone()]);
                    n.trim().to_string()
                } else {
                    String::new()
                };
                Event::ClientReturned { client, note }
            }
            57..=71 => {
                let i = self.client_index(Some(false))?;
                let client = self.clients[i].handle.clone();
                let what = self.text();
                let made = self.at(&mut args, None);
                let (when, due) = self.due(naive(made).max(self.now));
                let id = self.promises.len() as PromiseId + 1;
                args.splice(
                    0..0,
                    [
                        s("promise"),
                        s("make"),
                        client.clone(),
                        what.clone(),
                        s("--due"),
                        when,
                    ],
                );
                self.promises.push(PromiseM {
                    id,
                    made_at: made,
                    due: due.at,
                    open: true,
                });
                return Some((
                    args,
                    Event::PromiseMade {
                        promise: id,
                        client,
                        what: what.trim().to_string(),
                        due,
                    },
                    made,
                ));
            }
            72..=79 => {
                let i = self.open_promise()?;
                let (id, made_at, old) = {
                    let p = &self.promises[i];
                    (p.id, p.made_at, p.due)
                };
                let (when, due) = loop {
                    let d = self.due(self.now - Duration::days(3));
                    if d.1.at != old && d.1.at >= made_at {
                        break d;
                    }
                };
                self.promises[i].due = due.at;
                let cause = *self.rng.pick(&[Cause::Us, Cause::Client, Cause::External]);
                args.extend([
                    s("promise"),
                    s("move"),
                    id.to_string(),
                    s("--due"),
                    when,
                    s("--cause"),
                    s(cause.as_str()),
                ]);
                let agreed = self.rng.chance(50);
                if agreed {
                    args.push(s("--agreed"));
                }
                let reason = if self.rng.chance(60) {
                    let r = self.text();
                    args.extend([s("--reason"), r.clone()]);
                    r.trim().to_string()
                } else {
                    String::new()
                };
                let at = self.at(&mut args, Some(made_at));
                return Some((
                    args,
                    Event::PromiseMoved {
                        promise: id,
                        due,
                        cause,
                        agreed_by_client: agreed,
                        reason,
                    },
                    at,
                ));
            }
            80..=94 => {
                let i = self.open_promise()?;
                self.promises[i].open = false;
                let (id, made_at) = (self.promises[i].id, self.promises[i].made_at);
                let how = self.rng.below(4);
                let text = self.text();
                let event = match how {
                    0 | 1 => {
                        args.extend([s("promise"), s("keep"), id.to_string()]);
                        let note = if self.rng.chance(50) {
                            args.extend([s("--note"), text.clone()]);
                            text.trim().to_string()
                        } else {
                            String::new()
                        };
                        Event::PromiseKept { promise: id, note }
                    }
                    2 => {
                        args.extend([
                            s("promise"),
                            s("break"),
                            id.to_string(),
                            s("--reason"),
                            text.clone(),
                        ]);
                        Event::PromiseBroken {
                            promise: id,
                            reason: text.trim().to_string(),
                        }
                    }
                    _ => {
                        args.extend([
                            s("promise"),
                            s("release"),
                            id.to_string(),
                            s("--reason"),
                            text.clone(),
                        ]);
                        Event::PromiseReleased {
                            promise: id,
                            reason: text.trim().to_string(),
                        }
                    }
                };
                let at = self.at(&mut args, Some(made_at));
                return Some((args, event, at));
            }
            _ => {
                if self.retractable.is_empty() {
                    return None;
                }
                let k = self.rng.below(self.retractable.len() as u64) as usize;
                let target = self.retractable.swap_remove(k);
                let reason = self.text();
                args.extend([
                    s("retract"),
                    target.to_string(),
                    s("--reason"),
                    reason.clone(),
                ]);
                Event::Retracted {
                    seq: target,
                    reason: reason.trim().to_string(),
                }
            }
        };
        let at = self.at(&mut args, None);
        Some((args, event, at))
    }

    /// Zero to three positional words; returns them as trustlog joins them.
    fn words(&mut self, args: &mut Vec<String>) -> String {
        let n = self.rng.below(4);
        let words: Vec<String> = (0..n).map(|_| self.text()).collect();
        args.extend(words.iter().cloned());
        words.join(" ").trim().to_string()
    }
}

#[test]
fn hundreds_of_events_replay_with_every_field_intact() {
    const EVENTS: u64 = 300;
    let mut t = Tl::new();
    let mut g = Gen {
        rng: Rng(0x7275_7374_6c6f_6721),
        now: ts("2026-01-05T08:00").to_utc().unwrap().naive_utc(),
        clients: Vec::new(),
        promises: Vec::new(),
        retractable: Vec::new(),
        expected: Vec::new(),
    };
    let authors = ["alice", "bob", "Zoë Ünal"];
    for seq in 1..=EVENTS {
        g.now += Duration::seconds(60 + g.rng.below(4 * 3600) as i64);
        if g.rng.chance(5) {
            t.author = g.rng.pick(&authors).to_string();
        }
        let (mut args, event, occurred_at) = loop {
            if let Some(x) = g.step(seq) {
                break x;
            }
        };
        let json = g.rng.chance(25);
        if json {
            args.insert(0, "--json".into());
        }
        t.now = g.now.format("%Y-%m-%dT%H:%M:%S").to_string();
        let out = t.ok(&args);
        // What was printed names the same event.
        match (&event, json) {
            (_, true) => {
                let j = out.json();
                assert_eq!(j["seq"], seq, "{args:?} → {j}");
                assert_eq!(j["author"], t.author.as_str(), "{j}");
            }
            (Event::PromiseMade { promise, .. }, false) => {
                assert_eq!(out.stdout, format!("{promise}\n"), "{args:?}");
            }
            (_, false) => {
                assert!(
                    out.stdout.starts_with(&format!("#{seq} ")),
                    "{args:?} → {out:?}"
                );
            }
        }
        g.expected.push(Envelope {
            seq,
            recorded_at: g.now_ts(),
            occurred_at,
            author: t.author.clone(),
            event,
        });
    }

    // Every kind of event was exercised.
    let kinds: std::collections::BTreeSet<_> =
        g.expected.iter().map(|e| e.event.kind_name()).collect();
    // Kinds whose recording commands are being built (issues 10, 11, 12.3):
    // each leaves this list when this generator records it.
    const NOT_GENERATED_YET: [&str; 4] =
        ["ClientRenamed", "Amended", "PromiseDelivered", "CadenceSet"];
    assert_eq!(
        kinds.len(),
        EVENT_KINDS.len() - NOT_GENERATED_YET.len(),
        "kinds seen: {kinds:?}"
    );
    assert!(
        g.expected.iter().any(|e| e.occurred_at != e.recorded_at),
        "some events must be backdated"
    );

    let got = t.replay();
    assert_eq!(got.len(), g.expected.len());
    for (got, want) in got.iter().zip(&g.expected) {
        assert_eq!(got, want, "event #{} differs", want.seq);
    }

    let head = t.ok(&["head"]);
    assert!(
        head.stdout.starts_with(&format!("{EVENTS} ")),
        "{}",
        head.stdout
    );
    t.ok(&["verify"]);
}
