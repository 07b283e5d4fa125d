//! Progress of long operations (verify, import, a cold replay of a large
//! journal) on stderr: one line redrawn in place, only when stderr is a
//! terminal, only once the work has lasted long enough to be worth it, and
//! erased when done so that the command's own output stays clean. Nothing
//! at all when stderr is a pipe or a file.
//!
//! One implementation for every command, so they all behave alike.
//! `TRUSTLOG_PROGRESS_AFTER_MS` changes the delay before the first line
//! (default 500 ms); the tests set it to 0 to see progress on small
//! journals.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// Work shorter than this shows nothing.
const DEFAULT_AFTER: Duration = Duration::from_millis(500);
/// At most ten redraws a second: a terminal is slow to scroll.
const REDRAW: Duration = Duration::from_millis(100);

/// How many units of work between two looks at the clock.
const CHECK_EVERY: u64 = 4096;

/// What is counted: bytes are shown in MiB, items as they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Bytes,
    Events,
}

pub struct Progress {
    label: &'static str,
    unit: Unit,
    total: u64,
    on: bool,
    started: Instant,
    after: Duration,
    last_draw: Option<Instant>,
    /// Work done at the last look at the clock.
    last_check: u64,
    /// Subtracted from what `at` is given: for work counted by file offset
    /// that starts partway (a fold resumed from a checkpoint).
    base: u64,
}

impl Progress {
    /// `label` says what is being done ("verifying", "replaying the
    /// journal"); `total` is the amount of work in `unit`s.
    pub fn new(label: &'static str, unit: Unit, total: u64) -> Self {
        Self::with_terminal(label, unit, total, std::io::stderr().is_terminal())
    }

    fn with_terminal(label: &'static str, unit: Unit, total: u64, terminal: bool) -> Self {
        let after = std::env::var("TRUSTLOG_PROGRESS_AFTER_MS")
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
            .map(Duration::from_millis)
            .unwrap_or(DEFAULT_AFTER);
        Progress {
            label,
            unit,
            total,
            on: terminal,
            started: Instant::now(),
            after,
            last_draw: None,
            last_check: 0,
            base: 0,
        }
    }

    /// `at` will be given positions counted from `base` (file offsets).
    pub fn from_offset(mut self, base: u64) -> Self {
        self.base = base;
        self
    }

    /// For work whose size is learnt late (a file's length once opened).
    pub fn set_total(&mut self, total: u64) {
        self.total = total;
    }

    /// `done` units of `total` are done. Cheap enough to call per event:
    /// the clock is read only every few thousand units.
    pub fn at(&mut self, done: u64) {
        let done = done.saturating_sub(self.base);
        if !self.on || (done.saturating_sub(self.last_check) < CHECK_EVERY && done < self.total) {
            return;
        }
        self.last_check = done;
        let now = Instant::now();
        if now.duration_since(self.started) < self.after
            || self
                .last_draw
                .is_some_and(|l| now.duration_since(l) < REDRAW)
        {
            return;
        }
        self.last_draw = Some(now);
        let pct = done.min(self.total) * 100 / self.total.max(1);
        let line = match self.unit {
            Unit::Bytes => format!(
                "trustlog: {}… {pct:>3}% ({} of {} MiB)",
                self.label,
                done >> 20,
                self.total >> 20
            ),
            Unit::Events => format!(
                "trustlog: {}… {pct:>3}% ({done} of {} events)",
                self.label, self.total
            ),
        };
        // A progress line is a courtesy: a terminal that fails to take it
        // must not stop (eprint! would panic) the command it decorates.
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[K{line}");
        let _ = err.flush();
    }

    /// Erases the line, if one was drawn. Also done on drop, so an error
    /// path leaves no half line behind its message.
    pub fn finish(&mut self) {
        if self.last_draw.take().is_some() {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[K");
            let _ = err.flush();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_the_terminal_nothing_is_ever_drawn() {
        let mut p = Progress::with_terminal("testing", Unit::Events, 10, false);
        p.after = Duration::ZERO;
        for i in 0..=10 {
            p.at(i);
        }
        assert!(p.last_draw.is_none());
    }

    #[test]
    fn on_a_terminal_it_draws_once_past_the_delay_and_the_end_is_always_checked() {
        let mut p = Progress::with_terminal("testing", Unit::Events, 10, true);
        p.after = Duration::from_secs(3600);
        p.at(10);
        assert!(p.last_draw.is_none(), "drawn before the delay");
        p.after = Duration::ZERO;
        p.at(5);
        assert!(
            p.last_draw.is_none(),
            "the clock is read only every CHECK_EVERY units"
        );
        p.at(10);
        assert!(p.last_draw.is_some());
        p.finish();
        assert!(p.last_draw.is_none());
    }
}
