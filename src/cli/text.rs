//! User-supplied text made safe for a terminal (issue 15.12). Names,
//! notes, reasons and authors are stored exactly as given; shown to people
//! they could carry escape sequences that drive the terminal (`\e]0;…\a`
//! sets the window title, `\e[2J` clears the screen) or a newline that
//! breaks a table. Human output shows every control character as a
//! visible escape instead; JSON output keeps the text exact.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Whether `c` is a control character a terminal may act on: C0
/// (U+0000–U+001F, ESC, BEL, CR, LF, TAB and NUL among them), DEL and C1
/// (U+0080–U+009F; U+009B is a one-character CSI on some terminals).
fn is_control(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}')
}

/// `s` with each control character written as a visible escape: `\e`
/// (ESC), `\a` (BEL), `\r`, `\n`, `\t`, `\0`, `\b`, `\f`, `\v`, other C0
/// characters and DEL as `\x01`…`\x7f`, C1 characters as `\u{9b}`. Text
/// without any is borrowed as it is.
pub fn visible(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_control) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\u{1b}' => out.push_str("\\e"),
            '\u{7}' => out.push_str("\\a"),
            '\r' => out.push_str("\\r"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\0' => out.push_str("\\0"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x80 && is_control(c) => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if is_control(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// A multi-line message (an error that lists one problem per line) with
/// each line made [`visible`]: the message's own line breaks stay, anything
/// a value quoted inside a line carries is escaped.
pub fn visible_lines(s: &str) -> String {
    s.split('\n').map(visible).collect::<Vec<_>>().join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_borrowed() {
        assert!(matches!(visible("Acme Ltd – café ☕"), Cow::Borrowed(_)));
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(
            visible("a\u{1b}]0;pwned\u{7}b\u{1b}[2J\r\n\t\0\u{7f}\u{9b}\u{1}"),
            "a\\e]0;pwned\\ab\\e[2J\\r\\n\\t\\0\\x7f\\u{9b}\\x01"
        );
    }

    #[test]
    fn message_lines_stay_lines() {
        assert_eq!(
            visible_lines("nothing imported:\n  line 2: bad \u{1b}[2J"),
            "nothing imported:\n  line 2: bad \\e[2J"
        );
    }
}
