//! Reading the input as a stream of lines with a cap on a line's length,
//! so that memory is bounded whatever the file: no line (or Taskwarrior
//! task) longer than [`MAX_LINE`] is ever held, and reading stops inside
//! one that is longer — its rest is never read.

use std::io::{self, BufRead};

use super::scan::find_newline;
use crate::events::codec::MAX_PAYLOAD;

/// The longest line (or Taskwarrior task) read: the longest line `export`
/// can write for one event. A record holds at most [`MAX_PAYLOAD`] bytes;
/// written as JSON its text takes at most 6 bytes per byte (a control
/// character is `\u00XX`), plus the keys, times and id.
pub const MAX_LINE: usize = 6 * MAX_PAYLOAD + 64 * 1024;

/// Why the input was not read to its end.
#[derive(Debug)]
pub(super) enum Stop {
    /// Line `line` (or task `line`) is longer than `MAX_LINE`.
    TooLong {
        line: usize,
    },
    Io(io::Error),
}

impl Stop {
    /// The reason, as the rejection of the line (or task) says it; `what`
    /// it cannot be.
    pub(super) fn too_long_reason(what: &str) -> String {
        format!(
            "is longer than {MAX_LINE} bytes, the most one event takes in `export`'s JSON \
             (a record holds at most {MAX_PAYLOAD} bytes): not {what}; the input was \
             not read past it"
        )
    }
}

/// How a line ended.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum End {
    /// At a `\n` (appended to the buffer).
    Newline,
    /// At the end of the input (nothing appended when the line is empty).
    Eof,
}

/// Appends the next line of `r` to `buf`, its `\n` included; at most
/// `max` bytes of it (the `\n` not counted), else `Err(None)` with `buf`
/// holding at most `max` of its bytes plus one buffer of `r`. An I/O error
/// is `Err(Some(e))`.
pub(super) fn read_line(
    r: &mut dyn BufRead,
    buf: &mut Vec<u8>,
    max: usize,
) -> Result<End, Option<io::Error>> {
    let mut len = 0usize;
    loop {
        let avail = match r.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Some(e)),
        };
        if avail.is_empty() {
            return Ok(End::Eof);
        }
        let (take, done) = match find_newline(avail) {
            Some(n) => (n + 1, true),
            None => (avail.len(), false),
        };
        let content = if done { take - 1 } else { take };
        if len + content > max {
            // Not consumed: the caller stops reading here.
            return Err(None);
        }
        buf.extend_from_slice(&avail[..take]);
        len += content;
        r.consume(take);
        if done {
            return Ok(End::Newline);
        }
    }
}

/// Whether `r` has nothing more to read.
pub(super) fn at_eof(r: &mut dyn BufRead) -> io::Result<bool> {
    loop {
        match r.fill_buf() {
            Ok(b) => return Ok(b.is_empty()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
}

/// A run of whole lines read from the input, the first being line `line`;
/// `last` when the input ends with it.
pub(super) struct Chunk {
    pub(super) bytes: Vec<u8>,
    pub(super) line: usize,
    pub(super) last: bool,
    /// Input bytes read up to its end.
    pub(super) offset: u64,
}

/// Cuts the input into chunks of whole lines of about `size` bytes, none
/// longer than `max`.
pub(super) struct Chunker<'r> {
    r: &'r mut dyn BufRead,
    size: usize,
    max: usize,
    line: usize,
    offset: u64,
    done: bool,
    /// Why the input ended, told after the chunk of the lines before it.
    pending: Option<Stop>,
}

impl<'r> Chunker<'r> {
    pub(super) fn new(r: &'r mut dyn BufRead, size: usize, max: usize) -> Self {
        Chunker {
            r,
            size,
            max,
            line: 1,
            offset: 0,
            done: false,
            pending: None,
        }
    }

    /// The next chunk; `Ok(None)` after the last. A line that is too long
    /// or an I/O error ends the input: the lines before it come first (in
    /// a chunk that is not `last`), then the `Stop`.
    pub(super) fn next(&mut self) -> Result<Option<Chunk>, Stop> {
        if let Some(stop) = self.pending.take() {
            return Err(stop);
        }
        if self.done {
            return Ok(None);
        }
        let first = self.line;
        let mut bytes = Vec::with_capacity(self.size + self.size / 4);
        loop {
            let before = bytes.len();
            match read_line(self.r, &mut bytes, self.max) {
                Ok(End::Newline) => {
                    self.line += 1;
                    self.offset += (bytes.len() - before) as u64;
                    if bytes.len() >= self.size {
                        let last = at_eof(self.r).map_err(Stop::Io)?;
                        self.done = last;
                        return Ok(Some(Chunk {
                            bytes,
                            line: first,
                            last,
                            offset: self.offset,
                        }));
                    }
                }
                Ok(End::Eof) => {
                    self.offset += (bytes.len() - before) as u64;
                    self.done = true;
                    return Ok(Some(Chunk {
                        bytes,
                        line: first,
                        last: true,
                        offset: self.offset,
                    }));
                }
                Err(e) => {
                    self.done = true;
                    bytes.truncate(before);
                    if before > 0 {
                        // The whole lines first; the stop on the next call.
                        self.pending = Some(match e {
                            None => Stop::TooLong { line: self.line },
                            Some(e) => Stop::Io(e),
                        });
                        return Ok(Some(Chunk {
                            bytes,
                            line: first,
                            last: false,
                            offset: self.offset,
                        }));
                    }
                    return Err(match e {
                        None => Stop::TooLong { line: self.line },
                        Some(e) => Stop::Io(e),
                    });
                }
            }
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use std::io::{BufReader, Read};
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;

    /// A reader that counts the bytes read from it.
    pub(in crate::app::import) struct Counting<R> {
        pub(in crate::app::import) inner: R,
        pub(in crate::app::import) read: Arc<AtomicU64>,
    }

    impl<R: Read> Read for Counting<R> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.inner.read(buf)?;
            self.read.fetch_add(n as u64, Ordering::Relaxed);
            Ok(n)
        }
    }

    #[test]
    fn chunks_hold_every_line_once_with_its_number() {
        let texts: [&[u8]; 7] = [
            b"",
            b"\n",
            b"a\nbb\n\nccc",
            b"a\nbb\n\nccc\n",
            b"\n\n\n{\"x\":1}\r\n  \n\xff\n",
            b"abcdefghij\nk\nlmnopqrstuvwxyz\n\n",
            b"abcdefghij\nk\nlmnopqrstuvwxyz\n\nabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz\n",
        ];
        for text in texts {
            // What splitting at every `\n` sees: the lines and their numbers.
            let want: Vec<(usize, Vec<u8>)> = text
                .split(|&b| b == b'\n')
                .enumerate()
                .map(|(i, l)| (i + 1, l.to_vec()))
                .collect();
            for size in 0..text.len() + 2 {
                for cap in [1, 3, 64] {
                    let mut r = BufReader::with_capacity(cap, text);
                    let mut c = Chunker::new(&mut r, size, 1 << 20);
                    let mut got = Vec::new();
                    let mut parsed = 0;
                    let mut lasts = 0;
                    while let Some(ch) = c.next().unwrap() {
                        assert_eq!(ch.line, got.len() + 1, "chunks in order");
                        lasts += usize::from(ch.last);
                        parsed += super::super::fast::parse_chunk(&ch).len();
                        let mut lines: Vec<&[u8]> = ch.bytes.split(|&b| b == b'\n').collect();
                        if !ch.last {
                            // Whole lines: it ends in a line break.
                            assert_eq!(lines.pop(), Some(&b""[..]));
                        }
                        for l in lines {
                            got.push((got.len() + 1, l.to_vec()));
                        }
                    }
                    assert_eq!(lasts, 1, "{text:?}");
                    assert_eq!(got, want, "{text:?} in chunks of {size}, buffer {cap}");
                    assert_eq!(parsed, want.len(), "parse_chunk sees each line once");
                }
            }
        }
    }

    #[test]
    fn a_line_too_long_stops_the_reading_inside_it() {
        let max = 1000;
        for (before, long) in [(&b""[..], 1001), (b"{}\n{}\n", 1001), (b"x\n", 50_000)] {
            let read = Arc::new(AtomicU64::new(0));
            let src = Counting {
                inner: before.chain(io::repeat(b'a').take(long)),
                read: read.clone(),
            };
            let mut r = BufReader::with_capacity(64, src);
            let mut c = Chunker::new(&mut r, 1 << 16, max);
            let mut lines = 0;
            let stop = loop {
                match c.next() {
                    Ok(Some(ch)) => {
                        assert!(!ch.last);
                        lines += ch.bytes.iter().filter(|&&b| b == b'\n').count();
                    }
                    Ok(None) => panic!("the long line was read whole"),
                    Err(s) => break s,
                }
            };
            assert_eq!(lines, before.iter().filter(|&&b| b == b'\n').count());
            let want = lines + 1;
            assert!(
                matches!(stop, Stop::TooLong { line } if line == want),
                "{stop:?}"
            );
            let n = read.load(Ordering::Relaxed);
            assert!(
                n <= (before.len() + max + 64) as u64,
                "{n} bytes read for a limit of {max}"
            );
        }
        // A line of exactly `max` bytes is read.
        let text = [vec![b'a'; 1000], b"\nb".to_vec()].concat();
        let mut r = BufReader::with_capacity(64, &text[..]);
        let ch = Chunker::new(&mut r, 10, max).next().unwrap().unwrap();
        assert_eq!(ch.bytes.len(), 1001);
    }
}
