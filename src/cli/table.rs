//! Aligned plain-text tables for people. No colour, so output is the same
//! on a terminal, in a pipe and with NO_COLOR. Every cell is shown
//! [`visible`]: a control character in a name or a note can neither drive
//! the terminal nor break a row in two.

use std::fmt;

use super::text::visible;

pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
    right: Vec<bool>,
}

impl Table {
    pub fn new(header: &[&str]) -> Self {
        Table {
            header: header.iter().map(|s| s.to_string()).collect(),
            rows: Vec::new(),
            right: vec![false; header.len()],
        }
    }

    /// Numbers read better right-aligned.
    pub fn right_align(&mut self, col: usize) {
        if let Some(r) = self.right.get_mut(col) {
            *r = true;
        }
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

fn width(s: &str) -> usize {
    s.chars().count()
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cols = self.header.len();
        let mut w: Vec<usize> = self.header.iter().map(|h| width(h)).collect();
        for r in &self.rows {
            for (i, c) in r.iter().enumerate().take(cols) {
                w[i] = w[i].max(width(c));
            }
        }
        let line = |f: &mut fmt::Formatter<'_>, cells: &[String]| -> fmt::Result {
            let mut out = String::new();
            for (i, wi) in w.iter().enumerate() {
                let c = cells.get(i).map(String::as_str).unwrap_or("");
                let pad = wi.saturating_sub(width(c));
                if i > 0 {
                    out.push_str("  ");
                }
                if self.right[i] {
                    out.push_str(&" ".repeat(pad));
                    out.push_str(c);
                } else {
                    out.push_str(c);
                    if i + 1 < cols {
                        out.push_str(&" ".repeat(pad));
                    }
                }
            }
            writeln!(f, "{}", out.trim_end())
        };
        line(f, &self.header)?;
        for r in &self.rows {
            line(f, r)?;
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
}
