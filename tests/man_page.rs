//! `trustlog man` (issue 12.13): the manual pages come from the clap
//! definitions, so every command users can type has a page.

mod common;

use common::*;

/// Every subcommand path (`promise make`, `audit` …), from the binary's
/// own `--help` (the list is not repeated here, so a new command is
/// covered the day it is added).
fn subcommands(t: &Tl, path: &[&str]) -> Vec<Vec<String>> {
    let mut args: Vec<&str> = path.to_vec();
    args.push("--help");
    let help = t.ok(&args).stdout;
    let Some(start) = help.find("Commands:") else {
        return vec![];
    };
    let mut out = Vec::new();
    for line in help[start..].lines().skip(1) {
        if line.trim().is_empty() || !line.starts_with("  ") {
            break;
        }
        let name = line.split_whitespace().next().unwrap_or("");
        if name == "help" || name.is_empty() {
            continue;
        }
        let mut p: Vec<String> = path.iter().map(|s| s.to_string()).collect();
        p.push(name.to_string());
        let borrowed: Vec<&str> = p.iter().map(String::as_str).collect();
        let below = subcommands(t, &borrowed);
        out.push(p);
        out.extend(below);
    }
    out
}

#[test]
fn man_prints_the_page_of_trustlog_with_every_command() {
    let t = Tl::new();
    let page = t.ok(&["man"]).stdout;
    assert!(page.contains(".TH trustlog 1"), "{page}");
    let commands = subcommands(&t, &[]);
    assert!(commands.len() > 20, "{commands:?}");
    for c in commands.iter().filter(|c| c.len() == 1) {
        // roff escapes '-' as '\-'.
        let name = c[0].replace('-', "\\-");
        assert!(page.contains(&name), "{name} is not on the page");
    }
}

#[test]
fn man_dir_writes_a_page_per_command() {
    let t = Tl::new();
    let dir = t.dir.path().join("man1");
    std::fs::create_dir(&dir).unwrap();
    let out = t.ok(&["man".as_ref(), "--dir".as_ref(), dir.as_os_str()]);
    assert!(out.stdout.starts_with("wrote "), "{out:?}");
    assert!(dir.join("trustlog.1").is_file());
    for c in subcommands(&t, &[]) {
        let file = dir.join(format!("trustlog-{}.1", c.join("-")));
        let page =
            std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert!(page.contains(".TH "), "{}", file.display());
    }
}

#[test]
fn man_dir_that_is_not_a_directory_is_refused() {
    let t = Tl::new();
    let missing = t.dir.path().join("no-such-dir");
    let out = t.run(&["man".as_ref(), "--dir".as_ref(), missing.as_os_str()]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("not a directory"), "{out:?}");
    assert!(!missing.exists());
}
