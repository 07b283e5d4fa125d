//! Bad input through the library: a file that is not a journal, a future
//! format version, a damaged header, a missing journal, an unwritable
//! place, a directory. Each gives a clear error naming the file (the CLI
//! maps `is_damage()` to exit 3, the rest to 1), and an existing file is
//! byte-for-byte what it was.

#[path = "common/engine.rs"]
mod engine;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use trustlog::log::format::Header;
use trustlog::log::scan::DamageKind;
use trustlog::log::{for_each_record, head, open_scan, salvage, verify, JournalWriter, LogError};

use engine::{journal_bytes, journal_bytes_with, payloads};

const WAIT: Duration = Duration::from_millis(100);

fn names(e: &LogError, path: &Path) {
    let msg = e.to_string();
    assert!(
        msg.contains(&path.display().to_string()),
        "error does not name {}: {msg}",
        path.display()
    );
}

/// Every entry point on `path`, collecting the errors (verify and salvage
/// may also answer with a report).
struct Outcomes {
    writer: LogError,
    scan: LogError,
    read: LogError,
    head: LogError,
    verify: Result<trustlog::log::VerifyReport, LogError>,
}

fn try_everything(path: &Path) -> Outcomes {
    Outcomes {
        writer: JournalWriter::open(path, 0, WAIT)
            .err()
            .expect("the writer must refuse"),
        scan: open_scan(path, false, false)
            .err()
            .expect("a read must refuse"),
        read: for_each_record(path, |_, _| Ok(())).expect_err("a read must refuse"),
        head: head(path).expect_err("head must refuse"),
        verify: verify(path, None, &mut |_, _| {}),
    }
}

fn dir_with(name: &str, bytes: &[u8]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    fs::write(&path, bytes).unwrap();
    (dir, path)
}

/// Nothing but `path` in its directory: no side file, no temp file.
fn alone(dir: &tempfile::TempDir, path: &Path) {
    let entries: Vec<PathBuf> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(entries, vec![path.to_path_buf()], "files were created");
}

#[test]
fn a_text_file_is_not_a_journal_and_is_left_untouched() {
    let text = b"date,client,note\n2026-11-22,acme,called about the logo\n\
                 2026-11-23,globex,sent the invoice\n";
    for bytes in [&text[..], &text[..20], b"not a log"] {
        let (dir, path) = dir_with("notes.csv", bytes);
        let o = try_everything(&path);
        for e in [&o.writer, &o.scan, &o.read, &o.head] {
            assert!(matches!(e, LogError::NotAJournal(p) if *p == path), "{e:?}");
            assert!(!e.is_damage(), "not a journal is exit 1, not 3");
            names(e, &path);
        }
        assert!(
            matches!(&o.verify, Err(LogError::NotAJournal(p)) if *p == path),
            "{:?}",
            o.verify
        );
        assert_eq!(fs::read(&path).unwrap(), bytes, "the file was modified");
        alone(&dir, &path);
    }
}

/// Fewer bytes than the magic: still "not a journal" unless they are a
/// prefix of the magic (or zeros), which a creation cut short leaves.
#[test]
fn a_tiny_foreign_file_is_not_a_journal_and_untouched() {
    for bytes in [&b"hi\n"[..], b"x", b"\x89TLX"] {
        let (dir, path) = dir_with("tiny", bytes);
        let o = try_everything(&path);
        for e in [&o.writer, &o.scan, &o.read, &o.head] {
            assert!(matches!(e, LogError::NotAJournal(p) if *p == path), "{e:?}");
            names(e, &path);
        }
        assert!(
            matches!(&o.verify, Err(LogError::NotAJournal(_))),
            "{:?}",
            o.verify
        );
        assert_eq!(fs::read(&path).unwrap(), bytes);
        alone(&dir, &path);
    }
}

/// With the header's CRC valid for it, and (issue 13: the CRC was checked
/// before the version, so this said "damaged") with a CRC that is not: a
/// future format may checksum its header some other way.
#[test]
fn a_future_format_version_asks_for_an_upgrade() {
    let mut h = Header::new([3u8; 16], 1_795_000_000_000_000);
    h.version = 2; // encode() computes a valid CRC for it
    let (valid, _) = journal_bytes_with(&h, &payloads(3));
    let mut other_crc = valid.clone();
    other_crc[60..64].copy_from_slice(&[0x0b, 0xad, 0xc0, 0xde]);
    assert_ne!(
        crc32fast::hash(&other_crc[..60]).to_le_bytes(),
        [0x0b, 0xad, 0xc0, 0xde]
    );
    for bytes in [valid, other_crc] {
        a_future_version(&bytes);
    }
}

fn a_future_version(bytes: &[u8]) {
    let (dir, path) = dir_with("journal.tlog", bytes);
    let o = try_everything(&path);
    for e in [&o.writer, &o.scan, &o.read, &o.head] {
        assert!(
            matches!(e, LogError::UnsupportedVersion { path: p, version: 2 } if *p == path),
            "{e:?}"
        );
        assert!(!e.is_damage(), "a newer format is not damage");
        names(e, &path);
        assert!(e.to_string().contains("version 2"), "{e}");
    }
    assert!(
        matches!(
            &o.verify,
            Err(LogError::UnsupportedVersion { version: 2, .. })
        ),
        "{:?}",
        o.verify
    );
    let e = salvage(&path, 0, WAIT).expect_err("salvage refuses it too");
    assert!(matches!(e, LogError::UnsupportedVersion { .. }), "{e:?}");
    assert_eq!(fs::read(&path).unwrap(), bytes);
    alone(&dir, &path);
}

#[test]
fn a_header_with_a_bad_checksum_is_damage() {
    let (mut bytes, _) = journal_bytes(&payloads(3));
    bytes[30] ^= 0x01; // creation time
    let (dir, path) = dir_with("journal.tlog", &bytes);
    let o = try_everything(&path);
    for e in [&o.writer, &o.scan, &o.read, &o.head] {
        assert!(
            matches!(e, LogError::HeaderDamaged(p) if *p == path),
            "{e:?}"
        );
        assert!(e.is_damage(), "a damaged header is exit 3");
        names(e, &path);
    }
    // verify goes on past the header and reads every record.
    let r = o.verify.expect("verify reports header damage");
    assert!(!r.ok());
    assert_eq!(r.records, 3);
    assert_eq!(r.damage.len(), 1);
    assert_eq!(
        (r.damage[0].offset, r.damage[0].kind),
        (0, DamageKind::Header)
    );
    assert_eq!(fs::read(&path).unwrap(), bytes);
    alone(&dir, &path);
}

#[test]
fn a_missing_journal_is_not_found_for_every_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nothing-here.tlog");
    let errors = [
        open_scan(&path, false, false).err().expect("scan"),
        for_each_record(&path, |_, _| Ok(())).expect_err("read"),
        head(&path).expect_err("head"),
        verify(&path, None, &mut |_, _| {}).expect_err("verify"),
        salvage(&path, 0, WAIT).expect_err("salvage"),
    ];
    for e in &errors {
        assert!(matches!(e, LogError::NotFound(p) if *p == path), "{e:?}");
        names(e, &path);
    }
    // A read never creates the journal.
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn a_directory_is_not_a_journal_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.tlog");
    fs::create_dir(&path).unwrap();
    let o = try_everything(&path);
    for e in [&o.writer, &o.scan, &o.read, &o.head] {
        assert!(
            matches!(e, LogError::NotRegular { path: p, what: "a directory" } if *p == path),
            "{e:?}"
        );
        names(e, &path);
        assert!(e.to_string().contains("expected a regular file"), "{e}");
    }
    assert!(
        matches!(&o.verify, Err(LogError::NotRegular { path: p, .. }) if *p == path),
        "{:?}",
        o.verify
    );
    assert!(path.is_dir());
    assert_eq!(fs::read_dir(&path).unwrap().count(), 0);
}

/// Things that are not regular files, made in `dir` (None: not possible
/// here).
fn special_files(dir: &Path) -> Vec<(&'static str, PathBuf, &'static str)> {
    let fifo = dir.join("fifo");
    let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
    let sock = dir.join("socket");
    let listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    std::mem::forget(listener); // keep it bound while the test runs
    let subdir = dir.join("adir");
    fs::create_dir(&subdir).unwrap();
    let link_to_fifo = dir.join("link-to-fifo");
    std::os::unix::fs::symlink(&fifo, &link_to_fifo).unwrap();
    vec![
        ("a FIFO", fifo, "a FIFO (named pipe)"),
        (
            "a symbolic link to a FIFO",
            link_to_fifo,
            "a FIFO (named pipe)",
        ),
        ("a socket", sock, "a socket"),
        ("a directory", subdir, "a directory"),
        (
            "/dev/null",
            PathBuf::from("/dev/null"),
            "a character device",
        ),
    ]
}

/// Runs the binary, failing the test (instead of blocking CI) if it has
/// not finished after a generous while: issue 15.9's FIFO hung forever.
fn run_bin_or_hang(journal: &Path, args: &[&str]) -> (i32, String, String) {
    use std::io::Read;
    let mut child = engine::trustlog_bin(journal)
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn trustlog");
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("trustlog {args:?} on {} hangs", journal.display());
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let (mut out, mut err) = (String::new(), String::new());
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    (status.code().unwrap_or(-1), out, err)
}

/// Issue 15.9: `--journal FIFO status` hung forever, `--journal FIFO client
/// add` said "Illegal seek", `--journal DIR talk` "Is a directory (os error
/// 21)". Every command on anything but a regular file now fails at once,
/// exit 1, naming the path and what it is, and leaves it as it was.
#[test]
fn a_journal_that_is_not_a_regular_file_is_refused_by_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let commands: [&[&str]; 8] = [
        &["status"],
        &["log"],
        &["verify"],
        &["head"],
        &["client", "add", "acme"],
        &["talk", "acme", "hello"],
        &["repair", "--salvage"],
        &["audit"],
    ];
    for (what, path, kind) in special_files(dir.path()) {
        for args in commands {
            let ctx = format!("{what}, {args:?}");
            let (code, out, err) = run_bin_or_hang(&path, args);
            assert_eq!(code, 1, "{ctx}: exit {code}: {out}{err}");
            assert!(
                err.contains(&format!("is {kind}, expected a regular file")),
                "{ctx}: {err}"
            );
            assert!(err.contains(&path.display().to_string()), "{ctx}: {err}");
            for bad in ["Illegal seek", "os error"] {
                assert!(!err.contains(bad), "{ctx}: {err}");
            }
        }
    }
    // Nothing was created next to them, and the directory is still empty.
    let mut names: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["adir", "fifo", "link-to-fifo", "socket"]);
    assert_eq!(fs::read_dir(dir.path().join("adir")).unwrap().count(), 0);
}

/// The same through the library, for every entry point.
#[test]
fn a_fifo_is_refused_by_every_entry_point_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    for (what, path, kind) in special_files(dir.path()) {
        // In a thread, so that an open that blocks fails the test instead
        // of hanging it (the blocked thread dies with the test process).
        let (tx, rx) = std::sync::mpsc::channel();
        let p = path.clone();
        std::thread::spawn(move || {
            let o = try_everything(&p);
            let s = salvage(&p, 0, WAIT);
            let _ = tx.send((o, s));
        });
        let (o, salvaged) = rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("{what}: an entry point blocks"));
        for e in [&o.writer, &o.scan, &o.read, &o.head] {
            assert!(
                matches!(e, LogError::NotRegular { path: p, what: k } if *p == path && *k == kind),
                "{what}: {e:?}"
            );
            assert!(!e.is_damage());
        }
        assert!(
            matches!(o.verify, Err(LogError::NotRegular { .. })),
            "{what}"
        );
        let e = salvaged.expect_err("salvage refuses");
        assert!(matches!(e, LogError::NotRegular { .. }), "{what}: {e:?}");
    }
}

/// A symbolic link to a regular file is followed (docs/format.md): the
/// records go into the target, and the link stays a link.
#[test]
fn a_symbolic_link_to_a_journal_is_followed() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("real.tlog");
    let link = dir.path().join("journal.tlog");
    let (bytes, _) = journal_bytes(&payloads(2));
    fs::write(&target, &bytes).unwrap();
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let mut w = JournalWriter::open(&link, 0, WAIT).unwrap();
    assert_eq!(w.append(b"third").unwrap().first_seq, 3);
    drop(w);
    assert!(fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    let r = verify(&target, None, &mut |_, _| {}).unwrap();
    assert!(r.ok() && r.records == 3, "{r:?}");
}

/// A place the journal cannot be created. Permission bits do not stop root
/// (tests may run as root), so the reliable case is a parent that is a
/// regular file; the permission case runs too when permissions apply.
#[test]
fn an_unwritable_place_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("a-file");
    fs::write(&blocker, b"not a directory").unwrap();

    // Parent is a regular file: opening fails (ENOTDIR), naming the journal.
    let path = blocker.join("journal.tlog");
    let e = JournalWriter::open(&path, 0, WAIT).err().expect("refused");
    assert!(
        matches!(&e, LogError::Io { path: p, op, .. } if *p == path && *op == "opening"),
        "{e:?}"
    );
    names(&e, &path);

    // A missing directory below a file: creating it fails, naming it.
    let deeper = blocker.join("sub").join("journal.tlog");
    let e = JournalWriter::open(&deeper, 0, WAIT)
        .err()
        .expect("refused");
    assert!(matches!(&e, LogError::Io { .. }), "{e:?}");
    names(&e, &blocker.join("sub"));
    assert_eq!(fs::read(&blocker).unwrap(), b"not a directory");

    // A read-only directory, where permissions are enforced.
    let ro = dir.path().join("read-only");
    fs::create_dir(&ro).unwrap();
    fs::set_permissions(&ro, fs::Permissions::from_mode(0o555)).unwrap();
    let privileged = fs::write(ro.join("probe"), b"").is_ok();
    if privileged {
        eprintln!("running with privileges that ignore permission bits: read-only directory case not applicable");
        fs::remove_file(ro.join("probe")).unwrap();
    } else {
        let path = ro.join("journal.tlog");
        let e = JournalWriter::open(&path, 0, WAIT).err().expect("refused");
        assert!(
            matches!(&e, LogError::Io { path: p, .. } if *p == path),
            "{e:?}"
        );
        names(&e, &path);
        assert!(!path.exists());
    }
    fs::set_permissions(&ro, fs::Permissions::from_mode(0o755)).unwrap();
}

/// An existing journal the process may not write: the writer refuses with
/// an error naming it, and the bytes stay as they were.
#[test]
fn a_read_only_journal_is_refused_and_untouched() {
    let (bytes, _) = journal_bytes(&payloads(2));
    let (_dir, path) = dir_with("journal.tlog", &bytes);
    fs::set_permissions(&path, fs::Permissions::from_mode(0o444)).unwrap();
    match JournalWriter::open(&path, 0, WAIT) {
        Err(e) => {
            assert!(
                matches!(&e, LogError::Io { path: p, .. } if *p == path),
                "{e:?}"
            );
            names(&e, &path);
        }
        // Root ignores the mode bits; then the open must at least not
        // have changed anything.
        Ok(w) => assert_eq!(w.last_seq(), 2),
    }
    assert_eq!(fs::read(&path).unwrap(), bytes);
    // Readers need no write permission.
    assert!(verify(&path, None, &mut |_, _| {}).unwrap().ok());
}

/// Regression: a CRC-valid frame numbered u64::MAX (hostile bytes) made the
/// scanner overflow computing the next expected number — a panic in debug
/// builds and in the fuzzers. It is sequence damage like any other jump.
#[test]
fn a_record_numbered_u64_max_is_damage_not_a_panic() {
    use trustlog::log::format::{chain_next, encode_frame};
    let h = Header::new([9u8; 16], 0);
    let mut bytes = h.encode().to_vec();
    let chain = chain_next(&h.chain_seed(), u64::MAX, b"max");
    encode_frame(&mut bytes, u64::MAX, &chain, b"max");
    let (dir, path) = dir_with("journal.tlog", &bytes);
    let r = verify(&path, None, &mut |_, _| {}).unwrap();
    assert!(!r.ok());
    assert_eq!(r.damage.len(), 1, "{:?}", r.damage);
    let d = r.damage[0];
    assert_eq!((d.offset, d.kind), (64, DamageKind::Sequence));
    assert_eq!(d.lost, Some((1, u64::MAX - 1)));
    assert_eq!(r.last_seq, u64::MAX);
    let e = JournalWriter::open(&path, 0, WAIT).err().expect("refused");
    assert!(matches!(e, LogError::Damaged { offset: 64, .. }), "{e:?}");
    assert_eq!(fs::read(&path).unwrap(), bytes);
    alone(&dir, &path);
}

/// Issue 15.6: a damaged magic with other damage in the header too (so the
/// header's CRC cannot tell) is still a journal's when record 1 follows:
/// damage at offset 0, every record still read. The same header with no
/// record after it has no trustlog structure left: not a journal.
#[test]
fn a_damaged_magic_before_a_valid_first_record_is_damage() {
    let (mut bytes, _) = journal_bytes(&payloads(3));
    bytes[0] = b'P'; // the magic...
    bytes[30] ^= 0x40; // ...and the creation time
    let (dir, path) = dir_with("journal.tlog", &bytes);
    let o = try_everything(&path);
    for e in [&o.writer, &o.scan, &o.read, &o.head] {
        assert!(
            matches!(e, LogError::HeaderDamaged(p) if *p == path),
            "{e:?}"
        );
        assert!(e.is_damage(), "{e:?}");
        names(e, &path);
    }
    let r = o.verify.expect("verify reports the damage");
    assert_eq!(r.records, 3);
    assert_eq!(r.damage.len(), 1, "{:?}", r.damage);
    assert_eq!(
        (r.damage[0].offset, r.damage[0].kind),
        (0, DamageKind::Header)
    );
    assert_eq!(fs::read(&path).unwrap(), bytes);
    alone(&dir, &path);

    let (dir, path) = dir_with("journal.tlog", &bytes[..64]);
    let o = try_everything(&path);
    assert!(matches!(o.scan, LogError::NotAJournal(_)), "{:?}", o.scan);
    alone(&dir, &path);
}

/// Issue 15.6, through the real binary: files with no trustlog structure
/// (text, random bytes, a few bytes of whitespace) are "not a trustlog
/// journal", exit 1, for reads, `verify` and writes, and stay as they were.
#[test]
fn foreign_files_are_not_a_journal_through_the_binary() {
    let mut rng = engine::Rng(0x0f0e_1a90 ^ 0x5eed);
    let files: Vec<(&str, Vec<u8>)> = vec![
        (
            "text",
            b"Dear Acme,\nthank you for the call today.\n".repeat(20),
        ),
        ("random", rng.bytes(4096)),
        ("random, 64 bytes", rng.bytes(64)),
        ("a newline", b"\n".to_vec()),
        ("whitespace", b" \t \n".repeat(30)),
    ];
    for (what, bytes) in files {
        for args in [&["log"][..], &["verify"], &["talk", "acme", "hello"]] {
            let (dir, path) = dir_with("journal.tlog", &bytes);
            let (code, _, err) = engine::run_bin(&path, args);
            assert_eq!(code, 1, "{what}, {args:?}: exit {code}: {err}");
            assert!(
                err.contains("not a trustlog journal"),
                "{what}, {args:?}: {err}"
            );
            names_in(&err, &path);
            assert_eq!(fs::read(&path).unwrap(), bytes, "{what}: modified");
            alone(&dir, &path);
        }
    }
}

fn names_in(msg: &str, path: &Path) {
    assert!(
        msg.contains(&path.display().to_string()),
        "does not name {}: {msg}",
        path.display()
    );
}
