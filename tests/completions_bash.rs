//! The bash completion script, exercised in a real bash (issue 12.6): the
//! closed sets (`--cause`, `--kind`, `--fit`, `--by`, `log --kind`) complete
//! to their words, not to file names.

mod common;

use std::process::Command;

use common::*;

/// Sources `trustlog completions bash` in bash and asks `_trustlog` to
/// complete the last word of `words`; returns COMPREPLY.
fn complete(t: &Tl, words: &[&str]) -> Option<Vec<String>> {
    let script = t.dir.path().join("trustlog.bash");
    std::fs::write(&script, t.ok(&["completions", "bash"]).stdout).expect("write the script");
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let n = words.len();
    let cur = words[n - 1];
    let prev = words[n - 2];
    let body = format!(
        "source '{}'; COMP_WORDS=({}); COMP_CWORD={}; _trustlog trustlog '{cur}' '{prev}'; \
         printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        script.display(),
        quoted.join(" "),
        n - 1
    );
    let out = match Command::new("bash")
        .args(["--norc", "-c", &body])
        .current_dir(t.dir.path())
        .output()
    {
        Ok(o) => o,
        Err(e) => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "bash is missing under CI: {e}"
            );
            eprintln!("\n*** SKIPPED completion test: no bash ({e}) ***\n");
            return None;
        }
    };
    assert!(out.status.success(), "{out:?}");
    Some(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .filter(|l| !l.is_empty())
            .collect(),
    )
}

#[test]
fn closed_sets_complete_to_their_words() {
    let t = Tl::new();
    // A file that a file-name completion would offer.
    std::fs::write(t.dir.path().join("us-notes.txt"), "").unwrap();
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["trustlog", "promise", "move", "1", "--cause", ""],
            &["us", "client", "external"],
        ),
        (
            &["trustlog", "talk", "acme", "--kind", "m"],
            &["meeting", "message"],
        ),
        (&["trustlog", "talk", "acme", "--by", ""], &["us", "client"]),
        (
            &["trustlog", "client", "add", "acme", "--fit", ""],
            &["target", "off-target"],
        ),
        (
            &["trustlog", "client", "praise", "acme", "--kind", "t"],
            &["testimonial"],
        ),
        (
            &["trustlog", "log", "--kind", "PromiseM"],
            &["PromiseMade", "PromiseMoved"],
        ),
    ];
    for (words, want) in cases {
        let Some(got) = complete(&t, words) else {
            return;
        };
        assert_eq!(&got, want, "{words:?}");
    }
}
