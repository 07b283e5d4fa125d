//! The JSON-lines importer's fast path (`app::import::fast`): a typed
//! reading of lines as `export` writes them, which must give exactly what
//! the general reading (serde_json, `envelope_from_json`) gives for every
//! line it accepts, and leave everything else to it. Also its RFC 3339
//! reader against chrono's. The input is read as text (lossily), each line
//! checked on its own, and then the whole input as one line.
//!
//! Properties: no panic; whenever the fast path accepts a line, the general
//! reading accepts it too, with an equal envelope; whenever the fast time
//! reader accepts a string, chrono's gives the same instant.
//!
//! Shared by the `import_fast` fuzz target and by the main crate's
//! `tests/fuzz_corpus_replay.rs`; it depends on `trustlog` and std only.

use trustlog::app::import::{fuzz_line, fuzz_rfc3339};

pub fn check(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for line in text.lines().chain(std::iter::once(text.as_ref())) {
        let (fast, general) = fuzz_line(line);
        if let Some(f) = fast {
            assert_eq!(
                Some(&f),
                general.as_ref(),
                "the fast path and the general reading differ on {line:?}"
            );
        }
        // Every string-looking token as a time, too.
        for piece in line.split('"') {
            let (fast, chrono) = fuzz_rfc3339(piece);
            if let Some(t) = fast {
                assert_eq!(Some(t), chrono, "times differ on {piece:?}");
            }
        }
    }
}
