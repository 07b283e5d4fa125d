//! The config file's daily defaults (`[defaults]`: journal, author,
//! time_zone) through the binary, one test per precedence level (flag >
//! environment > config > built-in default), and a broken config refused
//! by recording commands with the journal untouched.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

/// The config at the default location (`$XDG_CONFIG_HOME/trustlog/config.toml`).
fn write_default_config(t: &Tl, text: &str) -> PathBuf {
    let dir = t.dir.path().join("home/.config/trustlog");
    fs::create_dir_all(&dir).unwrap();
    let path = dir.join("config.toml");
    fs::write(&path, text).unwrap();
    path
}

/// `trustlog <args…>` without `--journal`, in the pinned environment.
fn run_bare(mut c: Command, args: &[&str]) -> Output {
    c.args(args);
    output(c)
}

/// `client add acme`, which must succeed.
fn add(c: Command) -> Output {
    run_ok(c, &["client", "add", "acme"])
}

fn exists(p: &Path) -> bool {
    p.exists()
}

#[test]
fn journal_config_is_used_when_neither_flag_nor_env_names_one() {
    let t = Tl::new();
    write_default_config(&t, "[defaults]\njournal = \"work/clients.tlog\"\n");
    fs::create_dir_all(t.dir.path().join("home/.config/trustlog/work")).unwrap();
    add(t.command());
    // Relative to the config file's directory, not to the working directory.
    let configured = t.dir.path().join("home/.config/trustlog/work/clients.tlog");
    assert!(exists(&configured));
    assert!(!exists(
        &t.dir.path().join("home/.local/share/trustlog/journal.tlog")
    ));
    // `~/` is the home directory.
    write_default_config(&t, "[defaults]\njournal = \"~/tilde.tlog\"\n");
    add(t.command());
    assert!(exists(&t.dir.path().join("home/tilde.tlog")));
}

#[test]
fn journal_env_beats_config_and_flag_beats_env() {
    let t = Tl::new();
    write_default_config(&t, "[defaults]\njournal = \"/nonexistent/never.tlog\"\n");
    let env = t.dir.path().join("env.tlog");
    let flag = t.dir.path().join("flag.tlog");
    let mut c = t.command();
    c.env("TRUSTLOG_FILE", &env);
    add(c);
    assert!(exists(&env));
    let mut c = t.command();
    c.env("TRUSTLOG_FILE", t.dir.path().join("other-env.tlog"))
        .arg("--journal")
        .arg(&flag);
    add(c);
    assert!(exists(&flag));
    assert!(!exists(&t.dir.path().join("other-env.tlog")));
}

#[test]
fn journal_default_without_config() {
    let t = Tl::new();
    add(t.command());
    assert!(exists(
        &t.dir.path().join("home/.local/share/trustlog/journal.tlog")
    ));
}

#[test]
fn an_empty_trustlog_file_counts_as_unset() {
    // Was: clap's "a value is required for '--journal <PATH>'", exit 2.
    let t = Tl::new();
    write_default_config(&t, "[defaults]\njournal = \"conf.tlog\"\n");
    let mut c = t.command();
    c.env("TRUSTLOG_FILE", "");
    add(c);
    assert!(exists(
        &t.dir.path().join("home/.config/trustlog/conf.tlog")
    ));
    // Without a config: the built-in default.
    let t = Tl::new();
    let mut c = t.command();
    c.env("TRUSTLOG_FILE", "");
    add(c);
    assert!(exists(
        &t.dir.path().join("home/.local/share/trustlog/journal.tlog")
    ));
    // And an empty `$TRUSTLOG_NOW` is the wall clock, not a bad WHEN.
    let mut c = t.command();
    c.env("TRUSTLOG_NOW", "").args(["status"]);
    let out = output(c);
    assert_eq!(out.code, 0, "{out:?}");
}

fn author_of_last(journal: &Path) -> String {
    replay(journal).last().expect("an event").author.clone()
}

#[test]
fn author_precedence_env_then_config_then_login_name() {
    let t = Tl::new();
    let journal = t.dir.path().join("home/.local/share/trustlog/journal.tlog");
    // Default: the login name ($USER).
    let mut c = t.command();
    c.env_remove("TRUSTLOG_AUTHOR").env("USER", "loginname");
    add(c);
    assert_eq!(author_of_last(&journal), "loginname");
    // Config beats the login name.
    write_default_config(&t, "[defaults]\nauthor = \"Jane Doe\"\n");
    let mut c = t.command();
    c.env_remove("TRUSTLOG_AUTHOR").env("USER", "loginname");
    run_ok(c, &["client", "add", "globex"]);
    assert_eq!(author_of_last(&journal), "Jane Doe");
    // $TRUSTLOG_AUTHOR beats the config.
    let mut c = t.command();
    c.env("TRUSTLOG_AUTHOR", "from-env");
    run_ok(c, &["client", "add", "initech"]);
    assert_eq!(author_of_last(&journal), "from-env");
}

fn run_ok(c: Command, args: &[&str]) -> Output {
    let out = run_bare(c, args);
    assert_eq!(out.code, 0, "{out:?}");
    out
}

/// `log` (human) and `log --json` of a journal with one event recorded at
/// 10:00 UTC, with `TZ` as given (`None`: unset) and the config zone.
fn log_outputs(tz: Option<&str>, zone: Option<&str>) -> (String, String) {
    let t = Tl::new();
    if let Some(z) = zone {
        write_default_config(&t, &format!("[defaults]\ntime_zone = \"{z}\"\n"));
    }
    let with_tz = |mut c: Command| {
        match tz {
            Some(tz) => c.env("TZ", tz),
            None => c.env_remove("TZ"),
        };
        c
    };
    let mut c = with_tz(t.command());
    c.args(["--now", "2026-11-20T10:00:00Z"]);
    add(c);
    let human = run_ok(with_tz(t.command()), &["log"]).stdout;
    let json = run_ok(with_tz(t.command()), &["log", "--json"]).stdout;
    (human, json)
}

#[test]
fn config_time_zone_changes_human_output_not_json() {
    let (utc_human, utc_json) = log_outputs(None, Some("UTC"));
    let (seoul_human, seoul_json) = log_outputs(None, Some("Asia/Seoul"));
    assert!(utc_human.contains("2026-11-20 10:00"), "{utc_human}");
    assert!(seoul_human.contains("2026-11-20 19:00"), "{seoul_human}");
    assert_eq!(utc_json, seoul_json);
    assert!(
        seoul_json.contains("\"occurred_at\":\"2026-11-20T10:00:00Z\""),
        "{seoul_json}"
    );
}

#[test]
fn tz_env_beats_the_config_zone() {
    let (human, _) = log_outputs(Some("Europe/Paris"), Some("Asia/Seoul"));
    assert!(human.contains("2026-11-20 11:00"), "{human}");
    // No config: TZ alone.
    let (human, _) = log_outputs(Some("Asia/Seoul"), None);
    assert!(human.contains("2026-11-20 19:00"), "{human}");
}

#[test]
fn config_time_zone_is_the_zone_of_when() {
    // "today" at 2026-11-20T20:00Z is already the 21st in Seoul.
    let t = Tl::new();
    write_default_config(&t, "[defaults]\ntime_zone = \"Asia/Seoul\"\n");
    let mut c = t.command();
    c.env_remove("TZ").args(["--now", "2026-11-20T20:00:00Z"]);
    add(c);
    let mut c = t.command();
    c.env_remove("TZ").args(["--now", "2026-11-20T20:00:00Z"]);
    let out = run_ok(
        c,
        &["promise", "make", "acme", "x", "--due", "today", "--json"],
    );
    assert!(
        out.stdout
            .contains("\"due\":\"2026-11-21T14:59:59.999999Z\""),
        "{}",
        out.stdout
    );
}

#[test]
fn a_broken_config_is_refused_by_recording_commands_and_the_journal_is_untouched() {
    let t = Tl::new();
    t.ok(&["client", "add", "acme"]);
    let before = t.bytes().unwrap();
    let cases: &[(&str, &str)] = &[
        ("[trust]\nbrokn = 20\n", "brokn"),
        ("[trust]\nbroken = -3\n", "broken"),
        ("[defaults]\ntime_zone = \"Mars/Olympus\"\n", "Mars/Olympus"),
        ("[defaults]\nauthr = \"x\"\n", "authr"),
        ("[defaults\n", "config file"),
    ];
    let recording: &[&[&str]] = &[
        &["client", "add", "globex"],
        &["promise", "make", "acme", "logo", "--due", "fri"],
        &["talk", "acme", "hello"],
        &["retract", "1", "--reason", "x"],
    ];
    for (text, named) in cases {
        let config = write_default_config(&t, text);
        for args in recording {
            let out = t.run(args);
            assert_eq!(out.code, 1, "{text:?} {args:?}: {out:?}");
            assert!(
                out.stderr.contains(named) && out.stderr.contains(&*config.to_string_lossy()),
                "{text:?} {args:?}: {}",
                out.stderr
            );
            assert!(out.stdout.is_empty(), "{out:?}");
            assert_eq!(
                t.bytes().unwrap(),
                before,
                "{text:?} {args:?} changed the journal"
            );
        }
        // An explicit --config is refused the same way.
        let out = t.run(&[
            "--config",
            config.to_str().unwrap(),
            "client",
            "add",
            "globex",
        ]);
        assert_eq!(out.code, 1, "{out:?}");
        assert_eq!(t.bytes().unwrap(), before);
    }
}
