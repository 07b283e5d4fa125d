//! Aligned plain-text tables for people. No colour, so output is the same
//! on a terminal, in a pipe and with NO_COLOR. Every cell is shown
//! [`visible`]: a control character in a name or a note can neither drive
//! the terminal nor break a row in two.
//!
//! Widths are terminal cells, not characters (issue 12.4): `주식회사` is
//! eight cells, `☕` two. [`unicode_width`] measures them (UAX #11 East
//! Asian Width, emoji presentation; since 0.2 an emoji ZWJ sequence such as
//! 👩‍💻 and a flag such as 🇰🇷 count as one two-cell picture). On a terminal
//! ([`Table::fit`]) the one free-text column is cut with `…` so that a row
//! fits the terminal's width; in a pipe nothing is ever cut.

use std::fmt;

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use super::out::Out;
use super::text::visible;

/// How a cell is coloured, from its text: the words that matter to a
/// reader of the table (overdue, broken, kept on time), nothing else.
pub type Paint = fn(&str) -> Option<anstyle::Style>;

pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
    right: Vec<bool>,
    /// The column that may be cut to fit (`what`, `note`, `why`…).
    free: Option<usize>,
    /// The width to fit in, in cells (a terminal's); `None`: never cut.
    max_width: Option<usize>,
    /// Colour of the cells of a column, decided by their text; used only
    /// when the table is coloured (`colour`). Applied around the padded
    /// cell, so widths are counted on the text alone.
    paint: Vec<Option<Paint>>,
    colour: bool,
}

impl Table {
    pub fn new(header: &[&str]) -> Self {
        Table {
            header: header.iter().map(|s| s.to_string()).collect(),
            rows: Vec::new(),
            right: vec![false; header.len()],
            free: None,
            max_width: None,
            paint: vec![None; header.len()],
            colour: super::out::colour_enabled(),
        }
    }

    /// Colours the cells of `col` with `paint`, when the table is coloured.
    pub fn paint(&mut self, col: usize, paint: Paint) {
        if let Some(p) = self.paint.get_mut(col) {
            *p = Some(paint);
        }
    }

    /// Whether to colour (`Out::colour`: a terminal, no `$NO_COLOR`, or
    /// `--color always`).
    pub fn colour(&mut self, on: bool) {
        self.colour = on;
    }

    /// Numbers read better right-aligned.
    pub fn right_align(&mut self, col: usize) {
        if let Some(r) = self.right.get_mut(col) {
            *r = true;
        }
    }

    /// Marks `col` as the free-text column: the one cut to fit.
    pub fn free_text(&mut self, col: usize) {
        if col < self.header.len() {
            self.free = Some(col);
        }
    }

    /// Fit rows in `width` cells by cutting the free-text column (`None`:
    /// leave rows whole, as in a pipe). A row still wider (the other
    /// columns alone exceed the width) is left to the terminal to wrap.
    pub fn fit(&mut self, width: Option<usize>) {
        self.max_width = width;
    }

    pub fn row(&mut self, cells: Vec<String>) {
        let cells = cells
            .into_iter()
            .map(|c| match visible(&c) {
                std::borrow::Cow::Borrowed(_) => c,
                std::borrow::Cow::Owned(v) => v,
            })
            .collect();
        self.rows.push(cells);
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// The width tables on `out` fit in: the terminal's columns (`$COLUMNS`,
/// else the TIOCGWINSZ ioctl), `None` when stdout is no terminal (scripts
/// and tests read whole text) or its width is unknown.
pub fn terminal_width(out: &Out) -> Option<usize> {
    if !out.is_terminal() {
        return None;
    }
    if let Some(n) = std::env::var("COLUMNS")
        .ok()
        .and_then(|s| s.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
    {
        return Some(n);
    }
    let mut ws = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ writes one `winsize` through the pointer, which
    // points at a live, writable one; a failure leaves it and returns -1.
    let rc = unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut ws) };
    (rc == 0 && ws.ws_col > 0).then_some(ws.ws_col as usize)
}

/// Terminal cells `s` takes.
pub fn width(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

/// `s` cut to at most `max` cells, ending in `…` when cut. Cuts only
/// between pictures: never inside a wide character, before a combining
/// mark, variation selector or skin tone, after a zero-width joiner, or
/// between the two halves of a flag.
pub fn truncate(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let room = max - 1; // for the `…`, one cell
    let mut best = 0;
    let mut prev: Option<char> = None;
    let mut regional = 0usize; // regional indicators seen in a run
    for (i, c) in s.char_indices() {
        let is_ri = ('\u{1F1E6}'..='\u{1F1FF}').contains(&c);
        let skin_tone = ('\u{1F3FB}'..='\u{1F3FF}').contains(&c);
        let joins = prev == Some('\u{200D}')
            || c.width().unwrap_or(0) == 0
            || skin_tone
            || (is_ri && regional % 2 == 1);
        if !joins && i > 0 {
            if width(&s[..i]) <= room {
                best = i;
            } else {
                break;
            }
        }
        regional = if is_ri { regional + 1 } else { 0 };
        prev = Some(c);
    }
    // "보내기 …" reads worse than "보내기…".
    let mut out = s[..best].trim_end().to_string();
    out.push('…');
    out
}

impl Table {
    /// Column widths in cells, the free column narrowed to fit
    /// `max_width` when one is set.
    fn widths(&self) -> Vec<usize> {
        let cols = self.header.len();
        let mut w: Vec<usize> = self.header.iter().map(|h| width(h)).collect();
        for r in &self.rows {
            for (i, c) in r.iter().enumerate().take(cols) {
                w[i] = w[i].max(width(c));
            }
        }
        if let (Some(max), Some(f)) = (self.max_width, self.free) {
            let total = w.iter().sum::<usize>() + 2 * cols.saturating_sub(1);
            if total > max {
                // Never narrower than its header, nor than a few cells of
                // text (a cell of `…` alone says nothing).
                let floor = width(&self.header[f]).max(8).min(w[f]);
                w[f] = w[f].saturating_sub(total - max).max(floor);
            }
        }
        w
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cols = self.header.len();
        let w = self.widths();
        let line = |f: &mut fmt::Formatter<'_>, cells: &[String], body: bool| -> fmt::Result {
            let mut out = String::new();
            for (i, wi) in w.iter().enumerate() {
                let c = cells.get(i).map(String::as_str).unwrap_or("");
                let style = match self.paint.get(i) {
                    Some(Some(p)) if body && self.colour => p(c),
                    _ => None,
                };
                let cut;
                let c = if Some(i) == self.free && width(c) > *wi {
                    cut = truncate(c, *wi);
                    cut.as_str()
                } else {
                    c
                };
                let pad = wi.saturating_sub(width(c));
                if i > 0 {
                    out.push_str("  ");
                }
                let (on, off) = match style {
                    Some(s) => (s.render().to_string(), s.render_reset().to_string()),
                    None => (String::new(), String::new()),
                };
                if self.right[i] {
                    out.push_str(&" ".repeat(pad));
                    out.push_str(&on);
                    out.push_str(c);
                    out.push_str(&off);
                } else {
                    out.push_str(&on);
                    out.push_str(c);
                    out.push_str(&off);
                    if i + 1 < cols {
                        out.push_str(&" ".repeat(pad));
                    }
                }
            }
            writeln!(f, "{}", out.trim_end())
        };
        line(f, &self.header, false)?;
        for r in &self.rows {
            line(f, r, true)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligns_columns() {
        let mut t = Table::new(&["#", "name"]);
        t.right_align(0);
        t.row(vec!["7".into(), "acme".into()]);
        t.row(vec!["12".into(), "globex".into()]);
        assert_eq!(t.to_string(), " #  name\n 7  acme\n12  globex\n");
    }

    #[test]
    fn cells_show_control_characters_escaped() {
        let mut t = Table::new(&["name", "x"]);
        t.row(vec!["a\nb\u{1b}[2J".into(), "1".into()]);
        assert_eq!(t.to_string(), "name       x\na\\nb\\e[2J  1\n");
    }

    #[test]
    fn wide_characters_count_two_cells() {
        let mut t = Table::new(&["name", "x"]);
        t.row(vec!["주식회사".into(), "1".into()]);
        t.row(vec!["acme".into(), "2".into()]);
        t.row(vec!["☕".into(), "3".into()]);
        assert_eq!(
            t.to_string(),
            "name      x\n주식회사  1\nacme      2\n☕        3\n"
        );
    }

    #[test]
    fn what_unicode_width_measures() {
        // Pinned, because the table's alignment rests on it.
        assert_eq!(width("주식회사 에이투지"), 17);
        assert_eq!(width("株式会社"), 8);
        assert_eq!(width("☕"), 2);
        assert_eq!(width("👩\u{200d}💻"), 2, "a ZWJ sequence is one picture");
        assert_eq!(width("🇰🇷"), 2, "a flag is one picture");
        assert_eq!(width("café"), 4);
        assert_eq!(width("e\u{301}"), 1, "a combining accent takes no cell");
    }

    #[test]
    fn truncate_cuts_at_cell_boundaries() {
        assert_eq!(truncate("hello", 5), "hello");
        assert_eq!(truncate("hello world", 6), "hello…");
        // 주식회사: two cells each; 6 cells leave room for two and `…`
        // (5 cells), never half of the third.
        assert_eq!(truncate("주식회사", 6), "주식…");
        assert_eq!(truncate("주식회사", 7), "주식회…");
        assert_eq!(truncate("ab👩\u{200d}💻cd", 4), "ab…");
        assert_eq!(truncate("ab👩\u{200d}💻cd", 5), "ab👩\u{200d}💻…");
        assert_eq!(truncate("a🇰🇷🇫🇷b", 4), "a🇰🇷…");
        assert_eq!(truncate("a🇰🇷🇫🇷b", 3), "a…");
        assert_eq!(truncate("cafe\u{301}st", 5), "cafe\u{301}…");
        assert_eq!(truncate("x", 0), "");
        assert_eq!(truncate("ab👍🏽cd", 4), "ab…");
        assert_eq!(truncate("ab👍🏽cd", 5), "ab👍🏽…");
        for s in [
            "주식회사 에이투지",
            "ab👩\u{200d}💻cd",
            "a🇰🇷🇫🇷b",
            "日本語のテキスト",
        ] {
            for max in 0..20 {
                assert!(width(&truncate(s, max)) <= max, "{s:?} in {max}");
            }
        }
    }

    #[test]
    fn fit_cuts_the_free_column_to_the_width() {
        let mut t = Table::new(&["#", "what", "due"]);
        t.right_align(0);
        t.free_text(1);
        t.row(vec![
            "1".into(),
            "견적서 보내기 및 계약 검토".into(),
            "2026-12-10".into(),
        ]);
        t.row(vec!["2".into(), "short".into(), "2026-12-11".into()]);
        t.fit(Some(30));
        let s = t.to_string();
        for l in s.lines() {
            assert!(width(l) <= 30, "{l:?} is {} cells", width(l));
        }
        assert_eq!(
            s,
            "#  what             due\n1  견적서 보내기…   2026-12-10\n2  short            2026-12-11\n"
        );
        // Without a width (a pipe) nothing is cut.
        t.fit(None);
        assert!(t.to_string().contains("견적서 보내기 및 계약 검토"));
    }
}

/// Colours people expect: overdue, late and broken in red, moved in
/// yellow, on time in green.
pub mod paint {
    use anstyle::{AnsiColor, Style};

    fn fg(c: AnsiColor) -> Option<Style> {
        Some(Style::new().fg_color(Some(c.into())))
    }

    /// An outcome word (`kept_on_time`, `open_overdue` …).
    pub fn outcome(cell: &str) -> Option<Style> {
        match cell {
            "kept_on_time" => fg(AnsiColor::Green),
            "kept_after_move" => fg(AnsiColor::Yellow),
            "kept_late" | "broken" | "open_overdue" => fg(AnsiColor::Red),
            _ => None,
        }
    }

    /// `due`'s "when" column: overdue in red.
    pub fn overdue(cell: &str) -> Option<Style> {
        if cell.starts_with("OVERDUE") {
            fg(AnsiColor::Red)
        } else {
            None
        }
    }

    /// A count of overdue promises, red when not 0.
    pub fn nonzero(cell: &str) -> Option<Style> {
        match cell {
            "0" | "" | "-" => None,
            _ => fg(AnsiColor::Red),
        }
    }
}
