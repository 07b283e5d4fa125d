//! `report --html FILE`: one self-contained HTML page to show a client, a
//! partner or oneself — the deadline audit (summary, outcomes, month by
//! month, every promise), the overdue promises, a trust curve per client
//! with the events that moved it marked, and the post-mortem of each lost
//! client.
//!
//! Self-contained means: the CSS is inline, the charts are inline SVG, no
//! script runs, nothing is fetched (no fonts, images or URLs), so the file
//! reads the same offline, in a mail attachment and on paper. Every string
//! that comes from the journal is HTML-escaped. The page is responsive
//! (phone first; tables scroll sideways inside their box) and has print
//! styles. It is written atomically: a temp file in the same directory,
//! synced, renamed over FILE, and the directory synced. FILE must be new, a
//! regular file, or a symbolic link to one (the file it points at is
//! replaced, the link stays); anything else is refused (see [`target`]).
//!
//! The journal is streamed (`app::replay`): memory holds the projections,
//! not the events. Every read error fails the command before FILE is
//! touched.
//!
//! The numbers are the projections' own (`Audit::report`, `due::report`,
//! `Trust::report`, `Postmortem::report`, `Status::report`), replayed as
//! known at `--as-of`, so the page agrees with `audit`, `due`, `trust`,
//! `postmortem` and `status` run with the same options.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use clap::Args;

use super::chart::{on_time_by_month, MonthRate};
use super::context::Ctx;
use super::error::{invalid, CliError};
use super::out::{failed, Out};
use super::output::due_text;
use super::query::{as_of_and_now, AsOfArg};
use super::text::visible;
use crate::app::replay;
use crate::events::{Due, EnvelopeRef, Timestamp};
use crate::log::atomic::AtomicFile;
use crate::projections::audit::{Audit, AuditQuery, AuditReport, Outcome};
use crate::projections::due;
use crate::projections::postmortem::{Postmortem, PostmortemReport};
use crate::projections::state::State;
use crate::projections::status::{Status, StatusReport};
use crate::projections::trust::{Trust, TrustReport};
use crate::projections::{ClientKey, Projection};

const STYLE: &str = include_str!("report/style.css");

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// Write the report to FILE (replaced atomically if it is a regular file;
    /// through a symbolic link to one; anything else is refused)
    #[arg(long, value_name = "FILE")]
    pub html: PathBuf,
    /// Only this client
    #[arg(long, value_name = "HANDLE", value_parser = crate::cli::context::handle_arg)]
    pub client: Option<String>,
    #[command(flatten)]
    pub as_of: AsOfArg,
}

/// Everything the page shows, computed before any HTML is written.
struct Data {
    now: Timestamp,
    as_of: bool,
    client: Option<String>,
    journal_name: String,
    last_seq: u64,
    head: Option<(u64, String)>,
    status: StatusReport,
    audit: AuditReport,
    overdue: Vec<due::DueItem>,
    trust: Vec<TrustReport>,
    postmortems: Vec<PostmortemReport>,
}

pub fn report(ctx: &Ctx, out: &mut Out, a: &ReportArgs) -> Result<(), CliError> {
    refuse_journal_path(&ctx.journal, &a.html)?;
    // Before any work: a target that cannot be replaced is refused now
    // (and looked at again just before the rename).
    target(&a.html)?;
    let params = ctx.trust_params()?;
    let (as_of, now) = as_of_and_now(ctx, &a.as_of)?;
    // One streaming pass for everything but the post-mortems: nothing but
    // the projections is held, whatever the journal's length. Any read
    // error fails the report; the journal's head (for the footer) is the
    // last record this very pass read, not a second read that could fail
    // or see a later append.
    let first = replay::replay(
        &ctx.journal,
        as_of,
        &mut |_| {
            (
                Status {
                    state: State::new(),
                    trust: Trust::new(params.clone()),
                },
                Audit::new(),
                LastSeq::default(),
            )
        },
        &mut || None,
    )?;
    let (status, audit, last) = first.projections;
    if let Some(h) = &a.client {
        if !status.state.clients.contains_key(h) {
            let known: Vec<&str> = status.state.clients.keys().take(10).collect();
            return Err(invalid(if known.is_empty() {
                format!("unknown client {h:?}: the journal has no clients (as known then)")
            } else {
                format!(
                    "unknown client {h:?}: known clients are {}",
                    known.join(", ")
                )
            }));
        }
    }
    let in_scope = |h: &str| a.client.as_deref().is_none_or(|c| c == h);

    // Post-mortems of the clients lost (as known then), in one more pass
    // over the same records (up to where the first pass ended, so that an
    // append in between is not in one part of the page and not the other).
    let lost: Vec<String> = status
        .state
        .clients
        .values()
        .filter(|c| c.lost.is_some() && in_scope(&c.handle))
        .map(|c| c.handle.clone())
        .collect();
    let pms: Vec<Postmortem> = if lost.is_empty() {
        Vec::new()
    } else {
        replay::replay_to(
            &ctx.journal,
            as_of,
            first.at.end,
            &mut |_| {
                Each(
                    lost.iter()
                        .map(|h| Postmortem::new(h, params.clone()))
                        .collect(),
                )
            },
            &mut || None,
        )?
        .projections
        .0
    };

    // The report copies what it shows: the fold is dropped once its part
    // is made, not held beside the rest.
    let audit_report = audit.report(
        now,
        &AuditQuery {
            client: a.client.clone(),
            from: None,
            to: None,
        },
    );
    drop(audit);
    let head = first.header.map(|_| {
        (
            first.at.seq,
            crate::log::journal::digest_hex(&first.at.chain),
        )
    });
    let data = Data {
        now,
        as_of: a.as_of.as_of.is_some(),
        client: a.client.clone(),
        journal_name: ctx
            .journal
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        last_seq: last.0,
        head,
        status: status.report(now, a.client.as_deref()),
        audit: audit_report,
        overdue: due::report(&status.state, now, None)
            .promises
            .into_iter()
            .filter(|p| p.overdue && in_scope(&p.client))
            .collect(),
        trust: status
            .state
            .clients
            .keys()
            .filter(|h| in_scope(h))
            .filter_map(|h| status.trust.report(h))
            .collect(),
        postmortems: pms.iter().filter_map(|p| p.report(now)).collect(),
    };
    let bytes = write_atomic(&a.html, &mut |file| {
        let mut page = Page::new(file);
        render(&data, &mut page);
        page.finish()
    })?;
    if ctx.json {
        writeln!(
            out,
            "{}",
            serde_json::json!({
                "file": a.html.display().to_string(),
                "bytes": bytes,
                "clients": data.trust.len(),
                "promises": data.audit.promises.total,
                "overdue": data.overdue.len(),
                "postmortems": data.postmortems.len(),
            })
        )
    } else {
        writeln!(
            out,
            "wrote {} ({} clients, {} promises, {} overdue, {} post-mortems)",
            visible(&a.html.display().to_string()),
            data.trust.len(),
            data.audit.promises.total,
            data.overdue.len(),
            data.postmortems.len()
        )
    }
    .map_err(failed)
}

/// The seq of the last event known (as of the fold), retracted or not:
/// the "N events" of the page.
#[derive(Default)]
struct LastSeq(u64);

impl Projection for LastSeq {
    fn apply(&mut self, env: &EnvelopeRef<'_>) {
        self.0 = self.0.max(env.seq);
    }
    fn skip(&mut self, env: &EnvelopeRef<'_>) {
        self.0 = self.0.max(env.seq);
    }
}

/// Several projections of one type, fed together in one pass.
struct Each<P>(Vec<P>);

impl<P: Projection> Projection for Each<P> {
    fn apply(&mut self, env: &EnvelopeRef<'_>) {
        for p in &mut self.0 {
            p.apply(env);
        }
    }
    fn skip(&mut self, env: &EnvelopeRef<'_>) {
        for p in &mut self.0 {
            p.skip(env);
        }
    }
    fn apply_keyed(&mut self, env: &EnvelopeRef<'_>, key: Option<ClientKey>) {
        for p in &mut self.0 {
            p.apply_keyed(env, key);
        }
    }
}

/// A report must never replace the journal it reports on (by its name, a
/// symbolic link to it or another hard link of it).
fn refuse_journal_path(journal: &Path, out: &Path) -> Result<(), CliError> {
    use std::os::unix::fs::MetadataExt;
    let same = match (journal.canonicalize(), out.canonicalize()) {
        (Ok(j), Ok(o)) => {
            j == o
                || match (std::fs::metadata(&j), std::fs::metadata(&o)) {
                    (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
                    _ => false,
                }
        }
        _ => journal == out,
    };
    if same {
        return Err(invalid(format!(
            "--html {} is the journal itself: expected another file for the report",
            out.display()
        )));
    }
    Ok(())
}

/// The file the report replaces for `--html path`: `path` itself when it
/// does not exist or is a regular file; for a symbolic link to a regular
/// file, that file (the link stays, and the file it points at is replaced
/// in its own directory). Anything else is refused: a directory, a device
/// (`/dev/full`, `/dev/null`), a FIFO, a socket, a link to one of those or
/// to nothing — replacing the node with a file would break what uses it,
/// and writing into it would not be atomic.
fn target(path: &Path) -> Result<PathBuf, CliError> {
    let refuse = |what: String| {
        invalid(format!(
            "--html {} {what}: expected a regular file or a new file name; nothing written",
            path.display()
        ))
    };
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            // Said here, naming the directory: else the error would be
            // about the temp file the atomic write makes in it.
            let dir = match path.parent() {
                Some(d) if !d.as_os_str().is_empty() => d,
                _ => Path::new("."),
            };
            return match std::fs::metadata(dir) {
                Ok(m) if m.is_dir() => Ok(path.to_path_buf()),
                Ok(_) => Err(invalid(format!(
                    "--html {}: {} is not a directory: expected a file in an existing directory; nothing written",
                    path.display(),
                    dir.display()
                ))),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(invalid(format!(
                    "--html {}: the directory {} does not exist: expected a file in an existing directory; nothing written",
                    path.display(),
                    dir.display()
                ))),
                Err(e) => Err(CliError::Io(format!(
                    "looking at the directory {} of --html {}: {e}",
                    dir.display(),
                    path.display()
                ))),
            };
        }
        Err(e) => {
            return Err(CliError::Io(format!(
                "looking at --html {}: {e}",
                path.display()
            )))
        }
    };
    if meta.file_type().is_symlink() {
        let real = match path.canonicalize() {
            Ok(r) => r,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(refuse(
                    "is a symbolic link to a file that does not exist".to_string(),
                ))
            }
            Err(e) => {
                return Err(CliError::Io(format!(
                    "following the link --html {}: {e}",
                    path.display()
                )))
            }
        };
        let m = std::fs::metadata(&real)
            .map_err(|e| CliError::Io(format!("looking at {}: {e}", real.display())))?;
        if !m.file_type().is_file() {
            return Err(refuse(format!(
                "is a symbolic link to {}, which is {}",
                real.display(),
                kind_of(&m.file_type())
            )));
        }
        return Ok(real);
    }
    if meta.file_type().is_dir() {
        return Err(invalid(format!(
            "--html {} is a directory: expected a file name, e.g. {}/report.html",
            path.display(),
            path.display()
        )));
    }
    if !meta.file_type().is_file() {
        return Err(refuse(format!("is {}", kind_of(&meta.file_type()))));
    }
    Ok(path.to_path_buf())
}

/// "a FIFO (named pipe)", "a character device" …, for messages.
fn kind_of(t: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO (named pipe)"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_symlink() {
        "a symbolic link"
    } else if t.is_file() {
        "a regular file"
    } else {
        "not a regular file"
    }
}

/// Temp file in the directory of the file replaced, written, synced,
/// renamed over it, then the directory synced: at every instant the
/// report is the old one or the whole new one. What is replaced is
/// [`target`]'s answer, asked again here, just before the rename.
fn write_atomic(
    path: &Path,
    write: &mut dyn FnMut(&mut dyn std::io::Write) -> std::io::Result<u64>,
) -> Result<u64, CliError> {
    let err =
        |what: &str, e: std::io::Error| CliError::Io(format!("{what} {}: {e}", path.display()));
    let dest = target(path)?;
    // The one atomic replace of the code base (log::atomic): temp file in
    // the target's directory, fsync, rename, directory fsync.
    let mut tmp =
        AtomicFile::create(&dest, ".trustlog-report-").map_err(|e| CliError::Io(e.to_string()))?;
    let bytes = write(tmp.file_mut()).map_err(|e| err("writing the report", e))?;
    // The last look: a node put there since the first one is not replaced.
    if target(path)? != dest {
        return Err(invalid(format!(
            "--html {} changed while the report was written; nothing written",
            path.display()
        )));
    }
    tmp.commit().map_err(|e| CliError::Io(e.to_string()))?;
    Ok(bytes)
}

// ---------------------------------------------------------------------------
// HTML

/// Escapes text for HTML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn pct(r: Option<f64>) -> String {
    r.map(|x| format!("{:.0}%", x * 100.0))
        .unwrap_or_else(|| "n/a".into())
}

fn when(t: Timestamp) -> String {
    esc(&t.to_local_string())
}

/// The outcomes in the order people read them, with their words.
const OUTCOMES: [(Outcome, &str); 7] = [
    (Outcome::KeptOnTime, "kept on time"),
    (Outcome::KeptAfterMove, "kept after a move"),
    (Outcome::KeptLate, "kept late"),
    (Outcome::Broken, "broken"),
    (Outcome::OpenOverdue, "open, overdue"),
    (Outcome::Open, "open"),
    (Outcome::Released, "released"),
];

fn outcome_words(o: Outcome) -> &'static str {
    OUTCOMES
        .iter()
        .find(|(x, _)| *x == o)
        .map_or("", |(_, w)| w)
}

fn chip(o: Outcome) -> String {
    format!(
        "<span class=\"chip o-{}\">{}</span>",
        o.as_str(),
        outcome_words(o)
    )
}

/// The page as it is written: straight into the temp file through a
/// buffer, so that memory holds the numbers, not the page (megabytes for a
/// long journal). `write!` and `push_str` as on a `String`; the first write
/// error is kept (and what follows it dropped) for `finish`.
struct Page<'a> {
    out: std::io::BufWriter<&'a mut dyn std::io::Write>,
    bytes: u64,
    error: Option<std::io::Error>,
}

impl<'a> Page<'a> {
    fn new(out: &'a mut dyn std::io::Write) -> Self {
        Page {
            out: std::io::BufWriter::with_capacity(64 * 1024, out),
            bytes: 0,
            error: None,
        }
    }

    fn push_str(&mut self, s: &str) {
        if self.error.is_none() {
            match self.out.write_all(s.as_bytes()) {
                Ok(()) => self.bytes += s.len() as u64,
                Err(e) => self.error = Some(e),
            }
        }
    }

    /// The bytes written, or the first error.
    fn finish(mut self) -> std::io::Result<u64> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.out.flush()?;
        Ok(self.bytes)
    }
}

impl std::fmt::Write for Page<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.push_str(s);
        Ok(())
    }
}

fn render(d: &Data, h: &mut Page<'_>) {
    let scope = match &d.client {
        Some(c) => format!("client {c}"),
        None => "all clients".to_string(),
    };
    let date = d.now.to_local_string();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"trustlog\">\n\
         <title>Promises and trust — {} — {}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n",
        esc(&scope),
        esc(&date)
    );
    let _ = write!(
        h,
        "<header>\n<h1>Promises and trust</h1>\n<p class=\"meta\">{} · {} {} · {} events</p>\n",
        esc(&scope),
        if d.as_of { "as known on" } else { "as of" },
        esc(&date),
        d.last_seq
    );
    h.push_str(
        "<nav><ul><li><a href=\"#audit\">Deadline audit</a></li>\
         <li><a href=\"#overdue\">Overdue</a></li>\
         <li><a href=\"#promises\">Every promise</a></li>\
         <li><a href=\"#clients\">Clients and trust</a></li>\
         <li><a href=\"#postmortems\">Post-mortems</a></li></ul></nav>\n</header>\n<main>\n",
    );
    audit_section(h, d);
    overdue_section(h, d);
    promises_section(h, d);
    clients_section(h, d);
    postmortem_section(h, d);
    h.push_str("</main>\n<footer>\n");
    let _ = writeln!(
        h,
        "<p>Made by trustlog from the journal <code>{}</code>. Promises are judged against their <em>original</em> due; \
         a slip the client caused is still a slip.</p>",
        esc(&d.journal_name)
    );
    if let Some((seq, digest)) = &d.head {
        let _ = writeln!(
            h,
            "<p>Journal head when this page was made: event #{seq}, digest <code>{}</code>. \
             <code>trustlog verify --head {}</code> proves that history up to it was not rewritten.</p>",
            esc(digest),
            esc(digest)
        );
    }
    h.push_str("</footer>\n</body>\n</html>\n");
}

fn audit_section(h: &mut Page<'_>, d: &Data) {
    let a = &d.audit;
    let p = &a.promises;
    h.push_str("<section id=\"audit\">\n<h2>Deadline audit</h2>\n<div class=\"kpis\">\n");
    let rate_class = match a.original_date_hit_rate {
        Some(r) if r >= 0.8 => "kpi good",
        Some(r) if r < 0.5 => "kpi bad",
        _ => "kpi",
    };
    let _ = write!(
        h,
        "<div class=\"{rate_class}\"><b>{}</b>kept as originally promised</div>\n\
         <div class=\"kpi\"><b>{}</b>promises</div>\n\
         <div class=\"kpi{}\"><b>{}</b>open and overdue</div>\n\
         <div class=\"kpi\"><b>{}</b>moves ({} by us, {} by the client, {} external)</div>\n</div>\n",
        pct(a.original_date_hit_rate),
        p.total,
        if p.open_overdue > 0 { " bad" } else { "" },
        p.open_overdue,
        a.moves.us + a.moves.client + a.moves.external,
        a.moves.us,
        a.moves.client,
        a.moves.external,
    );
    if p.total > 0 {
        outcome_bar(h, a);
    } else {
        h.push_str("<p class=\"empty\">No promises yet.</p>\n");
    }
    if a.moves.after_due > 0 {
        let _ = writeln!(
            h,
            "<p>{} move(s) recorded after the due had already passed.</p>",
            a.moves.after_due
        );
    }
    if !a.flags.is_empty() {
        h.push_str("<h3>Flags</h3>\n<ul class=\"flags\">\n");
        for f in &a.flags {
            let _ = writeln!(
                h,
                "<li><span class=\"kind\">{}</span> {}</li>",
                esc(f.kind),
                esc(&f.message)
            );
        }
        h.push_str("</ul>\n");
    }
    let months = on_time_by_month(&a.rows);
    if !months.is_empty() {
        h.push_str("<h3>Kept as originally promised, by month of the original due</h3>\n");
        month_chart(h, &months);
    }
    h.push_str("</section>\n");
}

/// The seven outcomes as one stacked bar, with a legend that carries the
/// numbers (the bar alone would need colour to be read).
fn outcome_bar(h: &mut Page<'_>, a: &AuditReport) {
    let total = a.promises.total.max(1) as f64;
    let mut x = 0.0;
    h.push_str("<svg viewBox=\"0 0 600 28\" role=\"img\" aria-label=\"promises by outcome\">\n");
    for (o, words) in OUTCOMES {
        let n = a.promises.get(o);
        if n == 0 {
            continue;
        }
        let w = 600.0 * n as f64 / total;
        let _ = writeln!(
            h,
            "<rect x=\"{x:.2}\" y=\"0\" width=\"{w:.2}\" height=\"28\" style=\"fill:var(--{})\"><title>{words}: {n}</title></rect>",
            css_var(o)
        );
        x += w;
    }
    h.push_str("</svg>\n<ul class=\"legend\">\n");
    for (o, words) in OUTCOMES {
        let _ = writeln!(
            h,
            "<li style=\"--c:var(--{})\">{words}: <b>{}</b></li>",
            css_var(o),
            a.promises.get(o)
        );
    }
    h.push_str("</ul>\n");
}

fn css_var(o: Outcome) -> &'static str {
    match o {
        Outcome::KeptOnTime => "on-time",
        Outcome::KeptAfterMove => "after-move",
        Outcome::KeptLate => "late",
        Outcome::Broken => "broken",
        Outcome::Released => "released",
        Outcome::OpenOverdue => "overdue",
        Outcome::Open => "open",
    }
}

/// Vertical bars, one per month (the last 24), height = on-time rate.
fn month_chart(h: &mut Page<'_>, months: &[MonthRate]) {
    let shown = &months[months.len().saturating_sub(24)..];
    let (w, ht, left, bottom, top) = (400.0, 150.0, 40.0, 30.0, 18.0);
    let plot_h = ht - bottom - top;
    let slot = (w - left) / shown.len() as f64;
    let bar = (slot * 0.7).min(40.0);
    let _ = writeln!(
        h,
        "<svg viewBox=\"0 0 {w} {ht}\" role=\"img\" aria-label=\"on-time rate by month\">"
    );
    for (v, label) in [(0.0, "0%"), (0.5, "50%"), (1.0, "100%")] {
        let y = top + plot_h * (1.0 - v);
        let _ = writeln!(
            h,
            "<line class=\"grid\" x1=\"{left}\" x2=\"{w}\" y1=\"{y:.1}\" y2=\"{y:.1}\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{label}</text>",
            left - 4.0,
            y + 4.0
        );
    }
    for (i, m) in shown.iter().enumerate() {
        let cx = left + slot * (i as f64 + 0.5);
        let label_every = shown.len().div_ceil(6).max(1);
        if i % label_every == 0 || i + 1 == shown.len() {
            let _ = writeln!(
                h,
                "<text x=\"{cx:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                ht - bottom + 16.0,
                esc(&m.month)
            );
        }
        match m.rate() {
            Some(r) => {
                let bh = (plot_h * r).max(1.5);
                let _ = writeln!(
                    h,
                    "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{bar:.1}\" height=\"{bh:.1}\" style=\"fill:var(--on-time)\"><title>{}: {} of {} kept on time ({})</title></rect>",
                    cx - bar / 2.0,
                    top + plot_h - bh,
                    esc(&m.month),
                    m.kept_on_time,
                    m.decided,
                    pct(Some(r))
                );
                if shown.len() <= 12 {
                    let _ = writeln!(
                        h,
                        "<text class=\"tag\" x=\"{cx:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                        top + plot_h - bh - 4.0,
                        pct(Some(r))
                    );
                }
            }
            None => {
                let _ = writeln!(
                    h,
                    "<text x=\"{cx:.1}\" y=\"{:.1}\" text-anchor=\"middle\">n/a</text>",
                    top + plot_h - 4.0
                );
            }
        }
    }
    h.push_str("</svg>\n");
}

fn overdue_section(h: &mut Page<'_>, d: &Data) {
    h.push_str("<section id=\"overdue\">\n<h2>Overdue promises</h2>\n");
    if d.overdue.is_empty() {
        h.push_str("<p class=\"empty\">Nothing overdue.</p>\n</section>\n");
        return;
    }
    h.push_str(
        "<div class=\"scroll\"><table>\n<thead><tr><th class=\"num\">#</th><th>client</th><th>what</th>\
         <th>due</th><th>first promised</th><th class=\"num\">days overdue</th><th class=\"num\">moves</th></tr></thead>\n<tbody>\n",
    );
    // How the original due was said (a day, or a time), from the audit.
    let original: std::collections::HashMap<u64, Due> = d
        .audit
        .rows
        .iter()
        .map(|r| {
            (
                r.promise,
                Due {
                    at: r.original_due,
                    date_only: r.original_due_date_only,
                },
            )
        })
        .collect();
    for p in &d.overdue {
        let _ = writeln!(
            h,
            "<tr><td class=\"num\">{}</td><td>{}{}</td><td class=\"text\">{}</td><td class=\"when\">{}</td><td class=\"when\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            p.promise,
            esc(&p.client),
            if p.client_lost { " <small>(lost)</small>" } else { "" },
            esc(&p.what),
            esc(&due_text(&Due { at: p.due, date_only: p.date_only })),
            esc(&original.get(&p.promise).map_or_else(|| p.original_due.to_local_string(), due_text)),
            p.days_overdue,
            p.moves
        );
    }
    h.push_str("</tbody></table></div>\n</section>\n");
}

fn promises_section(h: &mut Page<'_>, d: &Data) {
    h.push_str("<section id=\"promises\">\n<h2>Every promise</h2>\n");
    if d.audit.rows.is_empty() {
        h.push_str("<p class=\"empty\">No promises yet.</p>\n</section>\n");
        return;
    }
    promise_table(h, &d.audit);
    h.push_str("</section>\n");
}

fn promise_table(h: &mut Page<'_>, a: &AuditReport) {
    h.push_str(
        "<div class=\"scroll\"><table>\n<thead><tr><th class=\"num\">#</th><th>client</th><th>what</th>\
         <th>first promised</th><th>last due</th><th class=\"num\">moves</th><th>outcome</th>\
         <th class=\"num\">days late</th></tr></thead>\n<tbody>\n",
    );
    for r in &a.rows {
        let _ = writeln!(
            h,
            "<tr><td class=\"num\">{}</td><td>{}</td><td class=\"text\">{}</td><td class=\"when\">{}</td><td class=\"when\">{}</td><td class=\"num\">{}</td><td>{}</td><td class=\"num\">{}</td></tr>",
            r.promise,
            esc(&r.client),
            esc(&r.what),
            esc(&due_text(&Due { at: r.original_due, date_only: r.original_due_date_only })),
            esc(&due_text(&Due { at: r.last_due, date_only: r.last_due_date_only })),
            r.moves,
            chip(r.outcome),
            r.days_late.map(|d| d.to_string()).unwrap_or_else(|| "–".into())
        );
    }
    h.push_str("</tbody></table></div>\n");
}

fn clients_section(h: &mut Page<'_>, d: &Data) {
    h.push_str("<section id=\"clients\">\n<h2>Clients and trust</h2>\n");
    if d.status.clients.is_empty() {
        h.push_str("<p class=\"empty\">No clients yet.</p>\n</section>\n");
        return;
    }
    h.push_str(
        "<p class=\"muted\">Trust starts at a neutral 50. Each dot is an event that moved it \
         (green up, red down; hover or tap for the reason); the numbered ones are the largest moves, listed under the curve.</p>\n",
    );
    for c in &d.status.clients {
        let _ = write!(
            h,
            "<article class=\"client\" id=\"client-{}\">\n<h3>{} <small>{} · {} · {}</small></h3>\n",
            esc(&c.client),
            esc(&c.name),
            esc(&c.client),
            esc(&c.fit.to_string()),
            esc(c.status)
        );
        let trust = d.trust.iter().find(|t| t.client == c.client);
        let _ = writeln!(
            h,
            "<p>Trust <b>{}</b> / 100 · {} open promise(s), {} overdue · last contact {}{}</p>",
            c.trust.map_or_else(|| "–".into(), |t| format!("{t:.0}")),
            c.open_promises,
            c.overdue,
            c.last_contact.map_or_else(|| "never".into(), when),
            match (&c.lost_at, &c.lost_reason) {
                (Some(at), Some(r)) => format!(" · lost {}: {}", when(*at), esc(r)),
                _ => String::new(),
            }
        );
        if let Some(t) = trust {
            trust_curve(h, t);
        }
        h.push_str("</article>\n");
    }
    h.push_str("</section>\n");
}

/// How many of the largest moves get a number on the curve and a row below.
const TAGGED_MOVES: usize = 6;

/// The score after each event as a line over time (or over the order of
/// events when their times go backwards), a dot per event coloured by the
/// direction of the change with the reason as its tooltip, the largest
/// moves numbered and listed.
fn trust_curve(h: &mut Page<'_>, t: &TrustReport) {
    let hist = &t.history;
    if hist.is_empty() {
        return;
    }
    let (w, ht, left, right, top, bottom) = (400.0, 170.0, 30.0, 8.0, 14.0, 26.0);
    let plot_w = w - left - right;
    let plot_h = ht - top - bottom;
    let first = hist[0].at.0;
    let last = hist[hist.len() - 1].at.0;
    let by_time = last > first && hist.windows(2).all(|p| p[0].at <= p[1].at);
    let xs: Vec<f64> = hist
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let f = if by_time {
                (e.at.0 - first) as f64 / (last - first) as f64
            } else if hist.len() > 1 {
                i as f64 / (hist.len() - 1) as f64
            } else {
                0.5
            };
            left + plot_w * f
        })
        .collect();
    let y = |score: f64| top + plot_h * (1.0 - score.clamp(0.0, 100.0) / 100.0);
    let _ = writeln!(
        h,
        "<svg viewBox=\"0 0 {w} {ht}\" role=\"img\" aria-label=\"trust of {} over time, now {:.0}\">",
        esc(&t.client),
        t.score_points()
    );
    for v in [0.0, 50.0, 100.0] {
        let _ = writeln!(
            h,
            "<line class=\"grid\" x1=\"{left}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{v:.0}</text>",
            w - right,
            y(v),
            y(v),
            left - 4.0,
            y(v) + 4.0
        );
    }
    let _ = writeln!(
        h,
        "<text x=\"{left}\" y=\"{:.1}\">{}</text><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
        ht - 6.0,
        when(hist[0].at),
        w - right,
        ht - 6.0,
        when(hist[hist.len() - 1].at)
    );
    // A step line: the score holds until the next event moves it.
    let mut path = format!("M{:.1},{:.1}", xs[0], y(hist[0].score_points()));
    for (i, e) in hist.iter().enumerate().skip(1) {
        let _ = write!(path, " H{:.1} V{:.1}", xs[i], y(e.score_points()));
    }
    let _ = writeln!(h, "<path class=\"curve\" d=\"{path}\"/>");

    // The largest moves, numbered in time order.
    let mut big: Vec<usize> = (1..hist.len()).filter(|&i| hist[i].change != 0).collect();
    big.sort_by_key(|&i| (std::cmp::Reverse(hist[i].change.abs()), i));
    big.truncate(TAGGED_MOVES);
    big.sort_unstable();

    for (i, e) in hist.iter().enumerate() {
        let class = if e.change > 0 {
            "up"
        } else if e.change < 0 {
            "down"
        } else {
            "flat"
        };
        let _ = writeln!(
            h,
            "<circle class=\"{class}\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"4\"><title>{} (#{}): {:+.1} → {:.0}. {}</title></circle>",
            xs[i],
            y(e.score_points()),
            when(e.at),
            e.seq,
            e.change_points(),
            e.score_points(),
            esc(&e.reason)
        );
    }
    for (n, &i) in big.iter().enumerate() {
        let e = &hist[i];
        let above = e.change < 0 || e.score_points() < 85.0;
        let ty = if above {
            y(e.score_points()) - 8.0
        } else {
            y(e.score_points()) + 16.0
        };
        let _ = writeln!(
            h,
            "<text class=\"tag\" x=\"{:.1}\" y=\"{ty:.1}\" text-anchor=\"middle\">{}</text>",
            xs[i],
            n + 1
        );
    }
    h.push_str("</svg>\n");
    if !big.is_empty() {
        // The reason on a row of its own, under its numbers: it is the
        // longest cell, and a phone has no room for it beside them.
        h.push_str(
            "<table class=\"moves\">\n<thead><tr><th class=\"num\"></th><th>when</th>\
             <th class=\"num\">change</th><th class=\"num\">score</th></tr></thead>\n<tbody>\n",
        );
        for (n, &i) in big.iter().enumerate() {
            let e = &hist[i];
            let _ = writeln!(
                h,
                "<tr><td class=\"num\">{}</td><td class=\"when\">{}</td><td class=\"num\">{:+.1}</td><td class=\"num\">{:.0}</td></tr>\n\
                 <tr class=\"why\"><td></td><td colspan=\"3\">{}</td></tr>",
                n + 1,
                when(e.at),
                e.change_points(),
                e.score_points(),
                esc(&e.reason)
            );
        }
        h.push_str("</tbody></table>\n");
    }
}

fn postmortem_section(h: &mut Page<'_>, d: &Data) {
    h.push_str("<section id=\"postmortems\">\n<h2>Lost clients: post-mortems</h2>\n");
    if d.postmortems.is_empty() {
        h.push_str("<p class=\"empty\">No client lost.</p>\n</section>\n");
        return;
    }
    h.push_str(
        "<p class=\"muted\">A lost client is a future client: what happened, in order, as it was known at the time.</p>\n",
    );
    for r in &d.postmortems {
        postmortem(h, r);
    }
    h.push_str("</section>\n");
}

fn postmortem(h: &mut Page<'_>, r: &PostmortemReport) {
    let _ = write!(
        h,
        "<article class=\"pm\" id=\"postmortem-{}\">\n<h3>{} <small>{}</small></h3>\n<ul>\n",
        esc(&r.client),
        esc(&r.name),
        esc(&r.client)
    );
    if let Some(at) = r.lost_at {
        let _ = writeln!(
            h,
            "<li>Lost {}: {}</li>",
            when(at),
            esc(r.lost_reason.as_deref().unwrap_or(""))
        );
    }
    let fit_note = if r.fit_changes.is_empty() {
        String::new()
    } else {
        format!(
            " (started {}, {} change(s))",
            esc(&r.initial_fit.to_string()),
            r.fit_changes.len()
        )
    };
    let _ = writeln!(h, "<li>Fit: {}{fit_note}</li>", esc(&r.fit.to_string()));
    match &r.first_impression {
        Some(f) => {
            let _ = writeln!(
                h,
                "<li>First impression: {} on {}, mood {:+}</li>",
                esc(&f.kind.to_string()),
                when(f.at),
                f.mood
            );
        }
        None => h.push_str("<li>First impression: no interaction recorded</li>\n"),
    }
    let _ = writeln!(h, "<li>Trust {:.0} at the end</li>", r.trust_at_end);
    if let Some(s) = &r.longest_silence {
        let _ = writeln!(
            h,
            "<li>Longest silence: {} days ({} to {})</li>",
            s.days,
            when(s.from),
            when(s.to)
        );
    }
    if let Some(s) = &r.silence_before_end {
        let _ = writeln!(h, "<li>Silence before the end: {} days</li>", s.days);
    }
    let p = &r.audit.promises;
    let _ = writeln!(
        h,
        "<li>Promises: {} — {} kept as first promised ({}), {} kept late or after a move, {} broken</li>",
        p.total,
        p.kept_on_time,
        pct(r.audit.original_date_hit_rate),
        p.kept_late + p.kept_after_move,
        p.broken
    );
    h.push_str("</ul>\n<h4>Warning signs, most serious first</h4>\n");
    if r.warnings.is_empty() {
        h.push_str("<p class=\"empty\">None found.</p>\n");
    } else {
        h.push_str("<ol class=\"warnings\">\n");
        for w in &r.warnings {
            let _ = writeln!(
                h,
                "<li><span class=\"kind\">{}</span> {}</li>",
                esc(w.kind),
                esc(&w.message)
            );
        }
        h.push_str("</ol>\n");
    }
    if !r.side_by_side.is_empty() {
        h.push_str("<h4>What they wanted, and what they said they did not expect</h4>\n");
        for s in &r.side_by_side {
            h.push_str("<div class=\"pair\">\n<div>");
            match &s.expectation {
                Some(e) => {
                    let _ = write!(
                        h,
                        "<small>wanted, {}</small><br>{}",
                        when(e.at),
                        esc(&e.text)
                    );
                }
                None => h.push_str(
                    "<small>wanted</small><br><span class=\"empty\">nothing recorded</span>",
                ),
            }
            h.push_str("</div>\n<div>");
            if s.mismatches.is_empty() {
                h.push_str(
                    "<small>not what they expected</small><br><span class=\"empty\">none</span>",
                );
            }
            for m in &s.mismatches {
                let _ = write!(
                    h,
                    "<small>not what they expected, {}</small><br>{}<br>",
                    when(m.at),
                    esc(&m.text)
                );
            }
            h.push_str("</div>\n</div>\n");
        }
    }
    if !r.audit.rows.is_empty() {
        h.push_str("<h4>Promise record</h4>\n");
        promise_table(h, &r.audit);
    }
    h.push_str(
        "<h4>Timeline</h4>\n<div class=\"scroll\"><table>\n<thead><tr><th>when</th><th class=\"num\">#</th>\
         <th>event</th><th class=\"num\">trust</th></tr></thead>\n<tbody>\n",
    );
    for e in &r.timeline {
        let (class, note) = match e.retracted_by {
            Some(by) => (
                " class=\"retracted\"",
                format!(" <small>(retracted by #{by})</small>"),
            ),
            None => ("", String::new()),
        };
        let _ = writeln!(
            h,
            "<tr{class}><td class=\"when\">{}</td><td class=\"num\">{}</td><td class=\"text\">{}{note}</td><td class=\"num\">{}</td></tr>",
            when(e.occurred_at),
            e.seq,
            esc(&e.text),
            e.trust_after
                .map_or_else(|| "–".into(), |s| format!("{s:.0}"))
        );
    }
    h.push_str("</tbody></table></div>\n</article>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_every_markup_character() {
        assert_eq!(
            esc("<script>alert('x') & \"y\"</script>"),
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;"
        );
        assert_eq!(esc("plain ünïcode"), "plain ünïcode");
    }

    #[test]
    fn the_style_sheet_fetches_nothing() {
        for needle in ["http:", "https:", "//", "url(", "@import"] {
            assert!(!STYLE.contains(needle), "style.css contains {needle:?}");
        }
    }
}
