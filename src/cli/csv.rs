//! The one CSV writer (`export --format csv`, `audit --csv`): RFC 4180
//! (CRLF line ends; a cell holding a comma, quote or line break is quoted,
//! quotes doubled), and cells a spreadsheet would run as a formula
//! neutralised (issue 15.11).
//!
//! Formula injection (OWASP, "CSV Injection"): a spreadsheet treats a cell
//! that begins with `=`, `+`, `-` or `@` as a formula, and a leading TAB or
//! CR is skipped before it looks; a note imported from elsewhere reading
//! `=HYPERLINK("http://evil","click")` would become a live link. Such a cell
//! is written with a leading `'`, which spreadsheets read as "text" and do
//! not show. A plain number (`-3`, `-0.5`, `+2`) is left as it is: it is no
//! formula, and numeric columns (mood, minutes, days late) stay numbers.
//! JSON lines (`export --format jsonl`) are never changed.

use std::borrow::Cow;
use std::io::{self, Write};

/// Writes one CSV row of `cells`, CRLF-terminated.
pub fn row<I, S>(w: &mut impl Write, cells: I) -> io::Result<()>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut first = true;
    for c in cells {
        if !first {
            w.write_all(b",")?;
        }
        first = false;
        write_cell(w, &neutralise(c.as_ref()))?;
    }
    w.write_all(b"\r\n")
}

fn write_cell(w: &mut impl Write, c: &str) -> io::Result<()> {
    if c.contains([',', '"', '\n', '\r']) {
        w.write_all(b"\"")?;
        w.write_all(c.replace('"', "\"\"").as_bytes())?;
        w.write_all(b"\"")
    } else {
        w.write_all(c.as_bytes())
    }
}

/// The cell as a spreadsheet should see it: prefixed with `'` when it
/// would start a formula (see the module docs).
pub fn neutralise(c: &str) -> Cow<'_, str> {
    let risky = c.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if risky && !is_plain_number(c) {
        Cow::Owned(format!("'{c}"))
    } else {
        Cow::Borrowed(c)
    }
}

/// `-3`, `+2`, `-0.5`: an optional sign, digits, optionally a point and
/// more digits. Nothing else (no exponent, no spaces).
fn is_plain_number(c: &str) -> bool {
    let digits = c.strip_prefix(['-', '+']).unwrap_or(c);
    let (int, frac) = match digits.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (digits, None),
    };
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    all_digits(int) && frac.is_none_or(all_digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(cells: &[&str]) -> String {
        let mut v = Vec::new();
        row(&mut v, cells).unwrap();
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn quotes_only_when_needed() {
        assert_eq!(
            line(&["a", "b,c", "say \"hi\"", "x\ny", ""]),
            "a,\"b,c\",\"say \"\"hi\"\"\",\"x\ny\",\r\n"
        );
    }

    #[test]
    fn formulas_are_prefixed_numbers_are_not() {
        assert_eq!(
            line(&["=HYPERLINK(\"http://evil\",\"click\")"]),
            "\"'=HYPERLINK(\"\"http://evil\"\",\"\"click\"\")\"\r\n"
        );
        assert_eq!(neutralise("+1+2"), "'+1+2");
        assert_eq!(neutralise("-x"), "'-x");
        assert_eq!(neutralise("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(neutralise("\tx"), "'\tx");
        assert_eq!(neutralise("\rx"), "'\rx");
        assert_eq!(neutralise("-"), "'-");
        assert_eq!(neutralise("-1."), "'-1.");
        for n in ["-3", "-0.5", "+2", "17", "0.25"] {
            assert_eq!(neutralise(n), n);
        }
        assert_eq!(neutralise("a=b"), "a=b");
        assert_eq!(neutralise("2026-11-20T10:00:00Z"), "2026-11-20T10:00:00Z");
    }
}
