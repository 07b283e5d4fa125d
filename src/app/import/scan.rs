//! Byte scans eight bytes at a time (SWAR): JSON-lines files are big and
//! their lines long, so finding newlines and the ends of strings a word at
//! a time is worth its few lines of bit twiddling.

const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
const NEWLINES: u64 = 0x0a0a_0a0a_0a0a_0a0a;

/// The high bit of each byte of `w` (little-endian) that is zero,
/// exactly (no false positives from carries).
fn zero_bits(v: u64) -> u64 {
    !(((v & LOW7) + LOW7) | v | LOW7)
}

/// The high bit of each byte of `w` that is a newline.
fn newline_bits(w: u64) -> u64 {
    zero_bits(w ^ NEWLINES)
}

/// The position of the first byte that ends or escapes a JSON string's
/// plain run: `"`, `\\` or a control character (below 0x20).
pub(super) fn find_string_special(b: &[u8]) -> Option<usize> {
    const QUOTES: u64 = 0x2222_2222_2222_2222;
    const BACKSLASHES: u64 = 0x5c5c_5c5c_5c5c_5c5c;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    const BELOW_0X20: u64 = 0x6060_6060_6060_6060;
    let mut chunks = b.chunks_exact(8);
    for (i, c) in chunks.by_ref().enumerate() {
        let w = word(c);
        // A byte below 0x80 plus 0x60 reaches 0x80 exactly when it is at
        // least 0x20.
        let control = !(((w & LOW7) + BELOW_0X20) | w) & HIGH;
        let bits = zero_bits(w ^ QUOTES) | zero_bits(w ^ BACKSLASHES) | control;
        if bits != 0 {
            return Some(i * 8 + bits.trailing_zeros() as usize / 8);
        }
    }
    let tail = chunks.remainder();
    let at = b.len() - tail.len();
    tail.iter()
        .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
        .map(|i| at + i)
}

fn word(chunk: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(chunk);
    u64::from_le_bytes(b)
}

/// The position of the first `\n`, eight bytes at a time (lines are long).
pub(super) fn find_newline(b: &[u8]) -> Option<usize> {
    let mut chunks = b.chunks_exact(8);
    for (i, c) in chunks.by_ref().enumerate() {
        let bits = newline_bits(word(c));
        if bits != 0 {
            return Some(i * 8 + bits.trailing_zeros() as usize / 8);
        }
    }
    let tail = chunks.remainder();
    let at = b.len() - tail.len();
    tail.iter().position(|&c| c == b'\n').map(|i| at + i)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `len` bytes drawn from `alphabet` by an xorshift generator in `x`.
    fn draw(x: &mut u64, len: usize, alphabet: &[u8]) -> Vec<u8> {
        (0..len)
            .map(|_| {
                *x ^= *x << 13;
                *x ^= *x >> 7;
                *x ^= *x << 17;
                alphabet[(*x % alphabet.len() as u64) as usize]
            })
            .collect()
    }

    #[test]
    fn newlines_are_found_as_bytewise() {
        let mut x: u64 = 7;
        for len in 0..200 {
            let b = draw(
                &mut x,
                len,
                &[b'\n', 0x0b, 0x09, 0x8a, 0x0a ^ 0x80, b'a', 0xff, 0],
            );
            for from in 0..len.min(9) {
                assert_eq!(
                    find_newline(&b[from..]),
                    b[from..].iter().position(|&c| c == b'\n')
                );
            }
        }
    }

    #[test]
    fn string_ends_are_found_as_bytewise() {
        let mut x: u64 = 11;
        for len in 0..200 {
            let b = draw(
                &mut x,
                len,
                &[
                    b'"', b'\\', 0x1f, 0x20, 0x00, 0x7f, 0x80, 0xa2, 0xdc, b'a', 0x9f, 0x21,
                ],
            );
            for from in 0..len.min(9) {
                assert_eq!(
                    find_string_special(&b[from..]),
                    b[from..]
                        .iter()
                        .position(|&c| c == b'"' || c == b'\\' || c < 0x20),
                    "{:?}",
                    &b[from..]
                );
            }
        }
    }
}
