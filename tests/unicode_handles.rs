//! Handles in any script (issue 12.5): `에이투지`, `société` are handles;
//! one handle has one spelling (NFC): typed decomposed it is the same
//! client; an imported event keeps its bytes, so a decomposed handle there
//! is refused, naming the composed form; Taskwarrior projects in Korean
//! become clients.

mod common;

use common::*;
use serde_json::json;

/// "café" typed with a combining accent (NFD).
const CAFE_NFD: &str = "cafe\u{301}";

#[test]
fn a_korean_handle_is_a_client_and_every_view_finds_it() {
    let t = Tl::new();
    t.ok(&["client", "add", "에이투지", "--name", "주식회사 에이투지"]);
    t.ok(&["talk", "에이투지", "--mood", "1", "첫 미팅"]);
    t.ok(&["promise", "make", "에이투지", "로고", "--due", "2026-12-20"]);
    let s = t.ok(&["--json", "status"]).json();
    assert_eq!(s["clients"][0]["client"], "에이투지", "{s}");
    for args in [
        &["status", "에이투지"][..],
        &["trust", "에이투지"],
        &["due", "--client", "에이투지"],
        &["log", "--client", "에이투지"],
        &["audit", "--client", "에이투지"],
    ] {
        t.ok(args);
    }
}

#[test]
fn a_handle_typed_decomposed_is_the_same_client() {
    let t = Tl::new();
    t.ok(&["client", "add", CAFE_NFD]);
    let log = t.ok(&["--json", "log"]).json();
    assert_eq!(log[0]["client"], "café", "stored composed: {log}");
    // The composed spelling is taken by the decomposed one: one handle.
    let again = t.run(&["client", "add", "café"]);
    assert_eq!(again.code, 1, "{again:?}");
    assert!(again.stderr.contains("already taken"), "{again:?}");
    // And the decomposed spelling finds it.
    t.ok(&["talk", CAFE_NFD, "hello"]);
    t.ok(&["status", CAFE_NFD]);
}

#[test]
fn upper_case_and_symbols_are_still_not_handles() {
    let t = Tl::new();
    for bad in [
        "ACME",
        "Société",
        "x!",
        "a b",
        "🙂",
        "x".repeat(33).as_str(),
    ] {
        let out = t.run(&["client", "add", bad]);
        assert_eq!(out.code, 1, "{bad:?}: {out:?}");
        assert!(out.stderr.contains("invalid handle"), "{bad:?}: {out:?}");
    }
    // 32 characters of Hangul (96 bytes) is a handle: the limit counts characters.
    t.ok(&["client", "add", &"가".repeat(32)]);
}

#[test]
fn an_import_with_a_decomposed_handle_is_refused_naming_the_composed_form() {
    let t = Tl::new();
    // A real export whose handle is then spelled decomposed.
    let src = Tl::new();
    src.ok(&["client", "add", "cafe"]);
    let export = src
        .ok(&["export"])
        .stdout
        .replace("\"cafe\"", &format!("\"{CAFE_NFD}\""));
    assert!(export.contains(CAFE_NFD), "{export}");
    let f = t.dir.path().join("in.jsonl");
    std::fs::write(&f, export).unwrap();
    let before = t.bytes();
    let out = t.run(&["import", f.to_str().unwrap()]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("NFC"), "{out:?}");
    assert!(out.stderr.contains("\"café\""), "{out:?}");
    assert_eq!(t.bytes(), before);
}

#[test]
fn a_korean_taskwarrior_project_becomes_a_client() {
    let t = Tl::new();
    let tasks = json!([
        {"uuid": "00000000-0000-0000-0000-000000000001", "description": "로고", "status": "pending",
         "project": "주식회사 에이투지", "entry": "20261101T090000Z", "due": "20261130T170000Z"}
    ]);
    let f = t.dir.path().join("t.json");
    std::fs::write(&f, tasks.to_string()).unwrap();
    let v = t
        .ok(&[
            "import",
            f.to_str().unwrap(),
            "--format",
            "taskwarrior",
            "--json",
        ])
        .json();
    assert_eq!(v["not_mapped"].as_array().map(Vec::len), Some(0), "{v}");
    let s = t.ok(&["--json", "status"]).json();
    assert_eq!(s["clients"][0]["client"], "주식회사-에이투지", "{s}");
}
