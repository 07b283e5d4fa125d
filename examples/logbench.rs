//! Engine benchmarks (run by `bench/engine.sh`, never by the tests):
//!
//!   logbench gen N PATH      write N realistic events (seeded, deterministic)
//!   logbench scan PATH       stream every record with CRC checks; records/s
//!   logbench decode PATH     stream and decode every event; events/s
//!   logbench append PATH     one durable append from a fresh process
//!   logbench replay PATH     decode and fold every event into all projections
//!   logbench fold PATH       the same replay without the read+decode step first
//!
//! The generator is a simple seeded mix: a client per ~200 events,
//! interactions with moods and minutes, promises that are moved, kept (on
//! time or late), broken or released, lost and returned clients.

use std::path::Path;
use std::time::Instant;

use trustlog::events::*;
use trustlog::log::{self, Item, JournalWriter, DEFAULT_LOCK_WAIT};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*: deterministic, fast, good enough for a workload.
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

const START: i64 = 1_704_067_200; // 2024-01-01T00:00:00Z

fn ts(s: i64) -> Timestamp {
    Timestamp(s * 1_000_000)
}

fn gen(n: u64, path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let mut w = JournalWriter::open(path, ts(START).0, DEFAULT_LOCK_WAIT)?;
    let mut rng = Rng(0x5EED_1234_ABCD_0001);
    let mut clients: Vec<String> = Vec::new();
    let mut open: Vec<(u64, usize, i64)> = Vec::new(); // promise, client, due
    let mut next_promise = 1u64;
    let mut batch: Vec<Vec<u8>> = Vec::with_capacity(10_000);
    let step = (3 * 365 * 86_400) / n.max(1) as i64; // spread over three years
    let seq0 = w.last_seq();
    for i in 0..n {
        let now = START + (i as i64) * step.max(1);
        let r = rng.below(1000);
        let event = if clients.is_empty() || r < 5 {
            let h = format!("client-{}", clients.len());
            clients.push(h.clone());
            Event::ClientAdded {
                handle: h,
                name: format!("Client {} Ltd", clients.len()),
                fit: if rng.below(4) == 0 {
                    Fit::OffTarget
                } else {
                    Fit::Target
                },
                note: String::new(),
            }
        } else if r < 450 {
            let c = rng.below(clients.len() as u64) as usize;
            Event::Interacted {
                client: clients[c].clone(),
                kind: [
                    InteractionKind::Call,
                    InteractionKind::Meeting,
                    InteractionKind::Email,
                ][rng.below(3) as usize],
                mood: rng.below(5) as i8 - 2,
                minutes: Some(5 + rng.below(90) as u32),
                initiated_by: if rng.below(2) == 0 {
                    Party::Us
                } else {
                    Party::Client
                },
                note: "talked about the next steps".into(),
            }
        } else if r < 650 || open.is_empty() {
            let c = rng.below(clients.len() as u64) as usize;
            let due = now + 86_400 * (1 + rng.below(30) as i64);
            open.push((next_promise, c, due));
            next_promise += 1;
            Event::PromiseMade {
                promise: next_promise - 1,
                client: clients[c].clone(),
                what: "deliver the next milestone".into(),
                due: Due {
                    at: ts(due),
                    date_only: true,
                },
            }
        } else if r < 750 {
            let k = rng.below(open.len() as u64) as usize;
            let new_due = open[k].2 + 86_400 * (1 + rng.below(10) as i64);
            open[k].2 = new_due;
            Event::PromiseMoved {
                promise: open[k].0,
                due: Due {
                    at: ts(new_due),
                    date_only: true,
                },
                cause: [Cause::Us, Cause::Client, Cause::External][rng.below(3) as usize],
                agreed_by_client: rng.below(2) == 0,
                reason: "scope changed".into(),
            }
        } else if r < 950 {
            let k = rng.below(open.len() as u64) as usize;
            let (p, _, _) = open.swap_remove(k);
            match rng.below(10) {
                0 => Event::PromiseBroken {
                    promise: p,
                    reason: "could not".into(),
                },
                1 => Event::PromiseReleased {
                    promise: p,
                    reason: "no longer needed".into(),
                },
                _ => Event::PromiseKept {
                    promise: p,
                    note: String::new(),
                },
            }
        } else if r < 980 {
            let c = rng.below(clients.len() as u64) as usize;
            Event::ExpectationNoted {
                client: clients[c].clone(),
                text: "fast answers".into(),
            }
        } else {
            let c = rng.below(clients.len() as u64) as usize;
            Event::Advocated {
                client: clients[c].clone(),
                kind: AdvocacyKind::Referral,
                initiated_by_client: true,
                note: String::new(),
            }
        };
        let env = Envelope {
            seq: seq0 + i + 1,
            recorded_at: ts(now),
            occurred_at: ts(now),
            author: "bench".into(),
            event,
        };
        batch.push(codec::encode(&env)?);
        if batch.len() == batch.capacity() {
            w.append_batch(batch.iter().map(Vec::as_slice))?;
            batch.clear();
        }
    }
    if !batch.is_empty() {
        w.append_batch(batch.iter().map(Vec::as_slice))?;
    }
    eprintln!("wrote {n} events to {}", path.display());
    Ok(())
}

fn scan(path: &Path, decode: bool) -> Result<(), Box<dyn std::error::Error>> {
    let t = Instant::now();
    let mut sc = log::open_scan(path, false, false)?;
    let (mut n, mut bytes) = (0u64, 0u64);
    while let Some(item) = sc.next_item()? {
        if let Item::Record(r) = item {
            n += 1;
            bytes += r.payload.len() as u64;
            if decode {
                std::hint::black_box(codec::decode(r.seq, r.payload)?);
            }
        }
    }
    let s = t.elapsed().as_secs_f64();
    println!(
        "{n} records, {:.1} MB payload, {:.3} s, {:.2} M records/s",
        bytes as f64 / 1e6,
        s,
        n as f64 / s / 1e6
    );
    Ok(())
}

/// CPU seconds (user + system) of the whole process so far: with other
/// jobs on the machine, wall time says little; this says what it cost.
fn cpu_seconds() -> f64 {
    // SAFETY: `getrusage` only writes into the zeroed struct it is given.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) } != 0 {
        return f64::NAN;
    }
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(u.ru_utime) + tv(u.ru_stime)
}

fn replay(path: &Path, read_first: bool) -> Result<(), Box<dyn std::error::Error>> {
    use trustlog::app::replay::replay;
    use trustlog::projections::{audit::Audit, postmortem::Postmortem, state::State, trust::Trust};
    // The first step alone: read, check and decode every event.
    let t = Instant::now();
    let c = cpu_seconds();
    let mut n = 0u64;
    if read_first {
        log::for_each_record(path, |seq, payload| {
            std::hint::black_box(codec::decode_ref(seq, payload).map_err(|e| {
                log::LogError::io(path, "decoding", std::io::Error::other(e.to_string()))
            })?);
            n += 1;
            Ok(())
        })?;
    }
    let read = t.elapsed().as_secs_f64();
    let read_cpu = cpu_seconds() - c;
    // The whole replay, streaming: read, decode and fold into state, audit,
    // trust (every client: scores, as `status` and checkpoints keep it) and
    // one client's post-mortem (its trust history included).
    let t = Instant::now();
    let c = cpu_seconds();
    let r = replay(
        path,
        None,
        &mut |_| {
            (
                State::new(),
                Audit::new(),
                Trust::scores_only(Default::default()),
                Postmortem::new("client-0", Default::default()),
            )
        },
        &mut || None,
    )?;
    let total = t.elapsed().as_secs_f64();
    let total_cpu = cpu_seconds() - c;
    std::hint::black_box(&r.projections);
    if read_first {
        println!(
            "{n} events: read+decode {read:.3} s ({read_cpu:.3} s CPU); streaming replay into state+audit+trust+postmortem {total:.3} s ({total_cpu:.3} s CPU)",
        );
    } else {
        println!(
            "{} events: streaming replay into state+audit+trust+postmortem {total:.3} s ({total_cpu:.3} s CPU)",
            r.events_read
        );
    }
    // Dropping the projections is not part of the replay.
    std::mem::forget(r);
    Ok(())
}

fn append(path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let mut w = JournalWriter::open(path, ts(START).0, DEFAULT_LOCK_WAIT)?;
    let env = Envelope {
        seq: w.last_seq() + 1,
        recorded_at: ts(START),
        occurred_at: ts(START),
        author: "bench".into(),
        event: Event::ExpectationNoted {
            client: "client-0".into(),
            text: "one more".into(),
        },
    };
    w.append(&codec::encode(&env)?)?;
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("gen") if args.len() == 4 => gen(args[2].parse()?, Path::new(&args[3])),
        Some("scan") if args.len() == 3 => scan(Path::new(&args[2]), false),
        Some("decode") if args.len() == 3 => scan(Path::new(&args[2]), true),
        Some("append") if args.len() == 3 => append(Path::new(&args[2])),
        Some("replay") if args.len() == 3 => replay(Path::new(&args[2]), true),
        Some("fold") if args.len() == 3 => replay(Path::new(&args[2]), false),
        _ => Err(
            "usage: logbench gen N PATH | scan PATH | decode PATH | append PATH | replay PATH | fold PATH"
                .into(),
        ),
    }
}
