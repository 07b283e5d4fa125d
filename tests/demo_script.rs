//! `scripts/demo.sh` end to end, without building anything: a stub `cargo`
//! stands in for the build, so the test neither waits for nor contends
//! with the cargo that runs it (which holds the target directory's lock).
//! Checks that the script runs the binary of `$CARGO_TARGET_DIR` (it used
//! `./target` and failed with "No such file or directory" when the
//! variable was set), that `TRUSTLOG_BIN` skips the build, and that the
//! commands it echoes are the ones run, quotes included, `promise make`
//! too (they were swallowed by `$(…| tail -n1)`).

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

fn script(path: &Path, body: &str) {
    fs::write(path, format!("#!/bin/sh\n{body}\n")).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

/// Runs the demo with `cargo` on PATH replaced by `cargo_body`.
fn demo(dir: &Path, cargo_body: &str, env: &[(&str, &Path)]) -> (bool, String, String) {
    let bin = dir.join("bin");
    fs::create_dir_all(&bin).unwrap();
    script(&bin.join("cargo"), cargo_body);
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut c = Command::new("bash");
    c.arg(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/demo.sh"))
        .arg(dir.join("demo.tlog"))
        .env("PATH", path)
        .env("TZ", "UTC")
        .env("HOME", dir.join("home"))
        .env("XDG_CONFIG_HOME", dir.join("home/.config"))
        .env("XDG_DATA_HOME", dir.join("home/.local/share"))
        .env_remove("TRUSTLOG_BIN")
        .env_remove("CARGO_TARGET_DIR");
    for (k, v) in env {
        c.env(k, v);
    }
    let o = c.output().unwrap();
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn assert_full_demo(stdout: &str, stderr: &str) {
    for line in [
        "$ trustlog client add acme --name 'Acme Ltd' --fit target --note 'met at the design fair'",
        "$ trustlog promise make acme 'three logo concepts' --due 2026-09-12",
        "$ trustlog promise make globex 'brand brief' --due 2026-09-05",
        "$ trustlog promise make acme 'truck livery mock-ups' --due 2026-10-05 --at 2026-10-01",
        "$ trustlog promise keep 1 --at 2026-09-10T16:30",
        "$ trustlog verify",
    ] {
        assert!(
            stdout.lines().any(|l| l == line),
            "the demo did not echo {line:?}:\n{stdout}\n{stderr}"
        );
    }
    // `promise make` prints the new id, which the next lines use.
    let ids: Vec<&str> = stdout
        .lines()
        .skip_while(|l| !l.starts_with("$ trustlog promise make acme 'three"))
        .take(2)
        .collect();
    assert_eq!(ids.get(1), Some(&"1"), "{stdout}");
}

#[test]
fn runs_the_binary_of_cargo_target_dir() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("elsewhere");
    fs::create_dir_all(target.join("release")).unwrap();
    let marker = dir.path().join("ran");
    // The "built" binary: says it ran, then is the real one.
    script(
        &target.join("release/trustlog"),
        &format!(
            "echo >> '{}'\nexec '{}' \"$@\"",
            marker.display(),
            env!("CARGO_BIN_EXE_trustlog")
        ),
    );
    let (ok, stdout, stderr) = demo(
        dir.path(),
        "[ \"$1 $2\" = 'build --release' ] || exit 97",
        &[("CARGO_TARGET_DIR", &target)],
    );
    assert!(ok, "the demo failed:\n{stdout}\n{stderr}");
    assert!(
        marker.exists(),
        "the demo did not run $CARGO_TARGET_DIR/release/trustlog"
    );
    assert_full_demo(&stdout, &stderr);
}

#[test]
fn trustlog_bin_skips_the_build() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, stdout, stderr) = demo(
        dir.path(),
        "echo 'cargo was run' >&2; exit 97",
        &[
            ("TRUSTLOG_BIN", Path::new(env!("CARGO_BIN_EXE_trustlog"))),
            ("CARGO_TARGET_DIR", &dir.path().join("never-built")),
        ],
    );
    assert!(ok, "the demo failed:\n{stdout}\n{stderr}");
    assert!(!stderr.contains("cargo was run"), "{stderr}");
    assert_full_demo(&stdout, &stderr);
    assert!(dir.path().join("demo.tlog").exists());
}
