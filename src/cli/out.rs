//! Standard output of every command (issue 15.8, 13): one buffered writer
//! that commands render into, flushed once at the end by `cli::run`, which
//! turns a failed write into an exit code instead of a panic.
//!
//! The first write error is remembered (later writes fail at once), so a
//! command may stop on it through its own error path and `run` still knows
//! the real cause. A recording command marks the seqs it appended
//! ([`Out::recorded`]): if its confirmation then cannot be written, `run`
//! says the event *was* recorded (exit 4) so that a script does not record
//! it again.

use std::io::{self, BufWriter, IsTerminal, Stdout, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use super::error::CliError;
use crate::events::Seq;

/// What the buffer holds before it writes to stdout.
const CAPACITY: usize = 1 << 16;

/// Set by `main` when stdout was closed when the process started
/// (`>&-`): Rust's runtime has put /dev/null there, which would swallow
/// the output (and a new promise's id) without an error.
static CLOSED_AT_START: AtomicBool = AtomicBool::new(false);

/// Tells [`Out`] that stdout was closed when the process started: every
/// write then fails with EBADF, as it would have.
pub fn stdout_was_closed() {
    CLOSED_AT_START.store(true, Ordering::Relaxed);
}

pub struct Out {
    w: BufWriter<Stdout>,
    error: Option<io::Error>,
    /// Whether the error came from the final flush (after the command).
    at_finish: bool,
    recorded: Option<(Seq, Seq)>,
    terminal: bool,
    colour: bool,
}

static COLOUR: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Whether this process colours its tables (decided by [`Out::set_colour`]).
pub fn colour_enabled() -> bool {
    COLOUR.load(std::sync::atomic::Ordering::Relaxed)
}

/// `--color`: when tables are coloured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    /// On a terminal, unless `$NO_COLOR` is set (to anything but empty).
    Auto,
    /// Always, even in a pipe and with `$NO_COLOR` (an explicit request).
    Always,
    Never,
}

/// How a command ended once its output is flushed.
pub enum Failure {
    /// The command's own error.
    Command(CliError),
    /// stdout could not be written; `recorded` are the seqs appended
    /// before that (durable).
    Stdout {
        error: io::Error,
        recorded: Option<(Seq, Seq)>,
    },
}

impl Out {
    pub fn stdout() -> Out {
        let s = io::stdout();
        Out {
            terminal: s.is_terminal(),
            w: BufWriter::with_capacity(CAPACITY, s),
            error: None,
            at_finish: false,
            recorded: None,
            colour: false,
        }
    }

    /// Whether stdout is a terminal (charts are drawn only there).
    pub fn is_terminal(&self) -> bool {
        self.terminal
    }

    /// Decides colour once, from `--color`, the terminal and `$NO_COLOR`
    /// (<https://no-color.org>: set and not empty means no colour).
    pub fn set_colour(&mut self, choice: ColorChoice) {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        self.colour = match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => self.terminal && !no_color,
        };
        // One decision per process, read by every table (so no renderer
        // needs a parameter for it).
        COLOUR.store(self.colour, std::sync::atomic::Ordering::Relaxed);
    }

    /// Whether tables are coloured.
    pub fn colour(&self) -> bool {
        self.colour
    }

    /// Marks `first..=last` as appended and durable: from now on a failed
    /// write says so.
    pub fn recorded(&mut self, first: Seq, last: Seq) {
        self.recorded = Some((first, last));
    }

    /// Flushes, and combines the command's `result` with the state of
    /// stdout. A stdout failure wins over the command's error when it came
    /// first (the command's error is then its consequence).
    pub fn finish(mut self, result: Result<(), CliError>) -> Result<(), Failure> {
        if self.error.is_none() {
            if let Err(e) = self.w.flush() {
                self.error = Some(e);
                self.at_finish = true;
            }
        }
        match (self.error, result) {
            (Some(_), Err(e)) if self.at_finish => Err(Failure::Command(e)),
            (Some(error), _) => Err(Failure::Stdout {
                error,
                recorded: self.recorded,
            }),
            (None, r) => r.map_err(Failure::Command),
        }
    }
}

impl Out {
    /// The first write to a stdout closed at start fails (not the
    /// command: one that writes nothing fails or succeeds on its own).
    fn check_closed(&mut self) {
        if self.error.is_none() && CLOSED_AT_START.load(Ordering::Relaxed) {
            self.error = Some(io::Error::from_raw_os_error(libc::EBADF));
        }
    }
}

/// A copy of `e` to hand back while `Out` keeps the original.
fn dup(e: &io::Error) -> io::Error {
    match e.raw_os_error() {
        Some(code) => io::Error::from_raw_os_error(code),
        None => io::Error::new(e.kind(), e.to_string()),
    }
}

impl Write for Out {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.check_closed();
        if let Some(e) = &self.error {
            return Err(dup(e));
        }
        self.w.write(buf).inspect_err(|e| self.error = Some(dup(e)))
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.check_closed();
        if let Some(e) = &self.error {
            return Err(dup(e));
        }
        self.w
            .write_all(buf)
            .inspect_err(|e| self.error = Some(dup(e)))
    }

    fn flush(&mut self) -> io::Result<()> {
        if let Some(e) = &self.error {
            return Err(dup(e));
        }
        self.w.flush().inspect_err(|e| self.error = Some(dup(e)))
    }
}

/// A failed write to stdout as a command error (what stops the command;
/// `run` reports the remembered cause).
pub fn failed(e: io::Error) -> CliError {
    CliError::Io(format!("writing to stdout: {e}"))
}

/// The exit code and the stderr line (if any) of a stdout failure:
/// 4 when something was recorded (it is durable: do not record it again),
/// 141 for a reader that went away (`trustlog log | head`, what a shell
/// shows for a command killed by SIGPIPE; nothing said), 1 otherwise.
pub fn stdout_failure(error: &io::Error, recorded: Option<(Seq, Seq)>) -> (u8, Option<String>) {
    match recorded {
        Some((a, b)) => {
            let seqs = if a == b {
                format!("seq {a}")
            } else {
                format!("seqs {a}–{b}")
            };
            (
                4,
                Some(format!(
                    "recorded as {seqs}, but its confirmation could not be written to stdout: {error}"
                )),
            )
        }
        None if error.kind() == io::ErrorKind::BrokenPipe => (141, None),
        None => (
            1,
            Some(format!(
                "cannot write to stdout: {error}; the output is incomplete"
            )),
        ),
    }
}
