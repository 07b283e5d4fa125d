//! `trustlog import`: clap's arguments, opening the file (read as a
//! stream by `app::import`), and the report
//! (words or `--json`). Planning, the rules and the write are the
//! application layer's (`app::import`).

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use serde_json::json;

use super::context::Ctx;
use super::error::{invalid, CliError};
use super::out::{failed, Out};
use super::output;
use super::text::visible;
use crate::app::import::{self, plural, ImportFormat, ImportOptions, Imported};
use crate::log::DEFAULT_LOCK_WAIT;

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// JSON lines as written by `trustlog export`
    Jsonl,
    /// The JSON of `task export` (an array, or one task per line)
    Taskwarrior,
}

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// The file to import; `-` reads standard input
    pub file: PathBuf,
    #[arg(long, value_enum, default_value = "jsonl")]
    pub format: FormatArg,
    /// Check everything and say what would be imported; write nothing
    #[arg(long)]
    pub dry_run: bool,
}

/// How many rejected lines an error message lists before "… and N more".
const SHOW_REJECTED: usize = 50;

pub fn import(ctx: &Ctx, out: &mut Out, a: &ImportArgs) -> Result<(), CliError> {
    let name = if a.file.as_os_str() == "-" {
        "standard input".to_string()
    } else {
        a.file.display().to_string()
    };
    let (mut reader, len) = open_input(&a.file, &name)?;
    let opts = ImportOptions {
        format: match a.format {
            FormatArg::Jsonl => ImportFormat::Jsonl,
            FormatArg::Taskwarrior => ImportFormat::Taskwarrior,
        },
        dry_run: a.dry_run,
        author: ctx.author.clone(),
        lock_wait: DEFAULT_LOCK_WAIT,
    };
    let input = import::Input {
        reader: &mut *reader,
        len,
    };
    let done = import::import(&ctx.journal, input, &opts, ctx.now_ts())?;
    output::say_cut(ctx, &done.cut);
    if let Some((first, last)) = done.written {
        // Durable from here: a failed report must say so.
        out.recorded(first, last);
    }
    if done.rejected().is_empty() {
        return write_report(out, ctx.json, &name, &opts, &done).map_err(failed);
    }
    // With --json the report goes to stdout too, so a script sees every
    // reason.
    if ctx.json {
        write_report(out, ctx.json, &name, &opts, &done).map_err(failed)?;
    }
    let rejected = done.rejected();
    let mut msg = format!(
        "nothing imported from {name}: {} of its {} rejected; the journal is unchanged:",
        rejected.len(),
        plural(done.total(), "event", "events"),
    );
    for r in rejected.iter().take(SHOW_REJECTED) {
        msg.push_str(&format!("\n  {}: {}", r.origin, r.reason));
    }
    if rejected.len() > SHOW_REJECTED {
        // The last one is shown too when the reading stopped: it says why
        // the count ends there ("not read further").
        let stopped = rejected.len() > import::MAX_REJECTED;
        let hidden = rejected.len() - SHOW_REJECTED - usize::from(stopped);
        msg.push_str(&format!("\n  … and {hidden} more"));
        if let (true, Some(r)) = (stopped, rejected.last()) {
            msg.push_str(&format!("\n  {}: {}", r.origin, r.reason));
        }
    }
    Err(invalid(msg))
}

/// The file to import (or standard input), opened to be read as a
/// stream, and its length when known. Read errors name it.
fn open_input(file: &Path, name: &str) -> Result<(Box<dyn BufRead + Send>, Option<u64>), CliError> {
    const BUF: usize = 256 * 1024;
    if file.as_os_str() == "-" {
        let r = Named {
            inner: std::io::stdin(),
            name: name.to_string(),
        };
        return Ok((Box::new(BufReader::with_capacity(BUF, r)), None));
    }
    let f = match std::fs::File::open(file) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(invalid(format!(
                "no file to import at {}: expected the path of an export (or - for standard input)",
                file.display()
            )))
        }
        Err(e) => return Err(CliError::Io(format!("opening {}: {e}", file.display()))),
    };
    let meta = f
        .metadata()
        .map_err(|e| CliError::Io(format!("reading {}: {e}", file.display())))?;
    if meta.is_dir() {
        return Err(invalid(format!(
            "{} is a directory: expected the path of an export (or - for standard input)",
            file.display()
        )));
    }
    let len = meta.is_file().then_some(meta.len());
    let r = Named {
        inner: f,
        name: name.to_string(),
    };
    Ok((Box::new(BufReader::with_capacity(BUF, r)), len))
}

/// A reader whose errors say what was being read.
struct Named<R> {
    inner: R,
    name: String,
}

impl<R: Read> Read for Named<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.inner.read(buf).map_err(|e| {
            if e.kind() == std::io::ErrorKind::Interrupted {
                e
            } else {
                std::io::Error::new(e.kind(), format!("reading {}: {e}", self.name))
            }
        })
    }
}

/// The import's report for people (or as JSON): what was written,
/// skipped, not mapped or ignored.
fn write_report(
    w: &mut impl Write,
    json: bool,
    name: &str,
    opts: &ImportOptions,
    done: &Imported,
) -> std::io::Result<()> {
    let format = opts.format.as_str();
    if json {
        let v = json!({
            "file": name,
            "format": format,
            "dry_run": opts.dry_run,
            "new": done.new_events(),
            "skipped": done.skipped(),
            "rejected": done.rejected().len(),
            "first_seq": done.written.map(|w| w.0),
            "last_seq": done.written.map(|w| w.1),
            "rejections": done.rejected().iter().map(|r| json!({
                "line": r.line, "origin": r.origin, "reason": r.reason
            })).collect::<Vec<_>>(),
            "not_mapped": done.not_mapped().iter().map(|n| json!({
                "task": n.task, "description": n.description, "reason": n.reason
            })).collect::<Vec<_>>(),
            "migrated": done.migrated().iter().map(|n| json!({
                "task": n.task, "description": n.description, "how": n.reason
            })).collect::<Vec<_>>(),
            "ignored_attributes": done.ignored_attributes(),
        });
        return writeln!(w, "{v}");
    }
    let name = visible(name);
    let new = done.new_events();
    let skipped = plural(done.skipped(), "skipped", "skipped");
    let mut out = String::new();
    match done.written {
        Some((first, last)) => out.push_str(&format!(
            "imported {format} from {name}: {} (#{first}–#{last}), {skipped} (already in the journal), 0 rejected\n",
            plural(new, "new event", "new events"),
        )),
        None if opts.dry_run => out.push_str(&format!(
            "dry run, nothing written: {name} has {}, {skipped} (already in the journal), 0 rejected\n",
            plural(new, "new event", "new events"),
        )),
        None => out.push_str(&format!(
            "nothing to import from {name}: 0 new, {skipped} (already in the journal), 0 rejected\n",
        )),
    }
    task_list(
        &mut out,
        "not mapped ({}): these tasks are not in the journal",
        done.not_mapped(),
    );
    task_list(
        &mut out,
        "migrated ({}): entered after their due, made at their due",
        done.migrated(),
    );
    if !done.ignored_attributes().is_empty() {
        let parts: Vec<String> = done
            .ignored_attributes()
            .iter()
            .map(|(k, n)| format!("{} ({})", visible(k), plural(*n as usize, "task", "tasks")))
            .collect();
        out.push_str(&format!(
            "Taskwarrior attributes with no place in trustlog, ignored: {}\n",
            parts.join(", ")
        ));
    }
    w.write_all(out.as_bytes())
}

/// A heading with the count (`{}` in `heading`), then one line per task.
fn task_list(out: &mut String, heading: &str, tasks: &[import::NotMapped]) {
    if tasks.is_empty() {
        return;
    }
    out.push_str(&heading.replacen("{}", &tasks.len().to_string(), 1));
    out.push('\n');
    for n in tasks {
        out.push_str(&format!(
            "  task {} {:?}: {}\n",
            visible(&n.task),
            n.description,
            visible(&n.reason)
        ));
    }
}
