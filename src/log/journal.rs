//! A journal file on disk: creating it durably, the single-writer lock,
//! cutting a torn tail aside, and the integrity operations (`head`,
//! `verify`, `repair`). Everything here is about files; the byte layout is
//! in `format`, record parsing in `scan`, appending in `writer`.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::atomic::AtomicFile;
use super::error::LogError;
use super::format::{self, Digest, Header, HeaderError, HEADER_LEN, MAGIC};
use super::scan::{Damage, DamageKind, Item, OpenError, Scanner};
use super::storage::{read_full, FileStorage, Storage};
use super::writer::{find_tail, Appended, Writer};

/// How long a second writer waits for the lock before giving up.
pub const DEFAULT_LOCK_WAIT: Duration = Duration::from_secs(3);

/// A torn tail that was cut off and saved next to the journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TornCut {
    pub offset: u64,
    pub len: u64,
    pub saved_to: PathBuf,
}

/// The single writer of a journal: holds the exclusive lock while it lives.
pub struct JournalWriter {
    writer: Writer<FileStorage>,
    header: Header,
    path: PathBuf,
    /// Set when opening cut a torn tail; the CLI tells the user.
    pub cut: Option<TornCut>,
    pub created: bool,
}

impl JournalWriter {
    /// Opens (creating if missing) the journal for appending, waiting at most
    /// `lock_wait` for another writer. `created_micros` stamps a new header.
    pub fn open(path: &Path, created_micros: i64, lock_wait: Duration) -> Result<Self, LogError> {
        Self::lock(path, lock_wait, true)?.into_writer(created_micros)
    }

    /// Takes the writer's lock without changing the file, so the caller can
    /// validate against what is on disk before anything is written. With
    /// `create`, a missing journal is created (empty; the header is written
    /// by `into_writer`).
    pub fn lock(path: &Path, lock_wait: Duration, create: bool) -> Result<Locked, LogError> {
        let (file, _) = lock_journal(path, lock_wait, create)?;
        Ok(Locked {
            file,
            path: path.to_path_buf(),
        })
    }
}

/// A journal file under the exclusive lock, not yet changed in any way.
pub struct Locked {
    file: File,
    path: PathBuf,
}

impl Locked {
    /// Readies the file for appending: writes the header of a new journal,
    /// cuts a torn tail aside. The lock stays held.
    pub fn into_writer(self, created_micros: i64) -> Result<JournalWriter, LogError> {
        let Locked { file, path } = self;
        let path = path.as_path();
        let mut storage = FileStorage::new(file);
        let len = storage
            .size()
            .map_err(|e| LogError::io(path, "reading the length of", e))?;
        let mut cut = None;
        let header = if len < HEADER_LEN as u64 {
            // New, or a creation that crashed before its header was whole.
            let mut head = vec![0u8; len as usize];
            read_full(&storage, 0, &mut head).map_err(|e| LogError::io(path, "reading", e))?;
            if !looks_like_partial_header(&head) {
                return Err(LogError::NotAJournal(path.to_path_buf()));
            }
            if len > 0 {
                cut = Some(save_aside(path, &head, 0)?);
                storage
                    .truncate(0)
                    .map_err(|e| LogError::io(path, "truncating", e))?;
            }
            let h = Header::new(random_id()?, created_micros);
            storage
                .write_at(0, &h.encode())
                .map_err(|e| LogError::io(path, "writing the header of", e))?;
            storage
                .sync_all()
                .map_err(|e| LogError::io(path, "syncing", e))?;
            sync_dir(path)?;
            h
        } else {
            read_header(&storage, path)?
        };
        let mut tail = find_tail(&storage, &header, path)?;
        if let Some((offset, torn_len)) = tail.torn {
            let mut bytes = vec![0u8; torn_len as usize];
            read_full(&storage, offset, &mut bytes)
                .map_err(|e| LogError::io(path, "reading", e))?;
            cut = Some(save_aside(path, &bytes, offset)?);
            storage
                .truncate(offset)
                .map_err(|e| LogError::io(path, "cutting the torn tail of", e))?;
            storage
                .sync_all()
                .map_err(|e| LogError::io(path, "syncing", e))?;
            tail.torn = None;
        }
        Ok(JournalWriter {
            writer: Writer::new(storage, path.to_path_buf(), &tail),
            header,
            path: path.to_path_buf(),
            cut,
            // Whoever finds the file empty under the lock writes the header:
            // that writer, and only that one, created the journal (the
            // existence check before opening races with other writers).
            created: len == 0,
        })
    }
}

impl JournalWriter {
    pub fn append(&mut self, payload: &[u8]) -> Result<Appended, LogError> {
        self.writer.append(payload)
    }

    pub fn append_batch<'p, I>(&mut self, payloads: I) -> Result<Appended, LogError>
    where
        I: IntoIterator<Item = &'p [u8]>,
    {
        self.writer.append_batch(payloads)
    }

    pub fn last_seq(&self) -> u64 {
        self.writer.last_seq()
    }

    pub fn head(&self) -> Digest {
        self.writer.head()
    }

    pub fn header(&self) -> &Header {
        &self.header
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A scan of what is in the file now (the writer's lock is held, so the
    /// scan sees exactly the records this writer will extend).
    pub fn scan(&self) -> Result<Scanner<FileStorage>, LogError> {
        open_scan(&self.path, false, false)
    }
}

/// True for the bytes a crash during creation can leave: nothing, zeros,
/// or a prefix of a header (starting with the magic).
fn looks_like_partial_header(b: &[u8]) -> bool {
    let n = b.len().min(MAGIC.len());
    b[..n] == MAGIC[..n] || b.iter().all(|&x| x == 0)
}

fn random_id() -> Result<[u8; 16], LogError> {
    let mut id = [0u8; 16];
    getrandom::fill(&mut id).map_err(|e| {
        LogError::io(
            "the system's random source",
            "reading",
            io::Error::other(e.to_string()),
        )
    })?;
    Ok(id)
}

fn read_header<S: Storage>(storage: &S, path: &Path) -> Result<Header, LogError> {
    let (decoded, _) =
        super::scan::decode_header(storage).map_err(|e| LogError::io(path, "reading", e))?;
    decoded.map_err(|e| header_error(e, path))
}

fn header_error(e: HeaderError, path: &Path) -> LogError {
    match e {
        HeaderError::Short(n) => LogError::Truncated {
            path: path.to_path_buf(),
            len: n as u64,
        },
        HeaderError::NotAJournal => LogError::NotAJournal(path.to_path_buf()),
        HeaderError::UnsupportedVersion(v) => LogError::UnsupportedVersion {
            path: path.to_path_buf(),
            version: v,
        },
        HeaderError::Checksum => LogError::HeaderDamaged(path.to_path_buf()),
    }
}

/// Opens the journal file and takes the exclusive lock, waiting up to
/// `wait`. After locking, it checks that the path still names the locked
/// file: `repair --salvage` may have replaced it while this process waited.
fn lock_journal(path: &Path, wait: Duration, create: bool) -> Result<(File, bool), LogError> {
    let start = Instant::now();
    loop {
        let mut created = false;
        if create {
            if let Some(dir) = parent_dir(path) {
                if !dir.exists() {
                    fs::create_dir_all(&dir)
                        .map_err(|e| LogError::io(&dir, "creating the directory", e))?;
                }
            }
            created = !path.exists();
        }
        // Checked before opening, so that a FIFO is never opened at all;
        // a path that cannot be examined gets the open's error below.
        if let Ok(m) = fs::metadata(path) {
            check_regular(path, &m)?;
        }
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(create)
            .mode(0o600)
            .custom_flags(libc::O_NONBLOCK)
            .open(path)
            .map_err(|e| match e.kind() {
                io::ErrorKind::NotFound if !create => LogError::NotFound(path.to_path_buf()),
                _ => LogError::io(path, "opening", e),
            })?;
        check_open_regular(path, &file)?;
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(fs::TryLockError::WouldBlock) => {
                    if start.elapsed() >= wait {
                        return Err(LogError::Locked {
                            path: path.to_path_buf(),
                            waited_ms: start.elapsed().as_millis() as u64,
                        });
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(fs::TryLockError::Error(e)) => return Err(LogError::io(path, "locking", e)),
            }
        }
        let same = match (file.metadata(), fs::metadata(path)) {
            (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
            _ => false,
        };
        if same {
            return Ok((file, created));
        }
        if start.elapsed() >= wait {
            return Err(LogError::Locked {
                path: path.to_path_buf(),
                waited_ms: start.elapsed().as_millis() as u64,
            });
        }
    }
}

/// The journal must be a regular file (a symbolic link to one is
/// followed): anything else is refused with its kind named, before it is
/// read, so that a FIFO never blocks a command and a directory or device
/// gets a clear message rather than an OS error.
fn check_regular(path: &Path, m: &fs::Metadata) -> Result<(), LogError> {
    use std::os::unix::fs::FileTypeExt;
    let t = m.file_type();
    let what = if t.is_file() {
        return Ok(());
    } else if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO (named pipe)"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else {
        "not a regular file"
    };
    Err(LogError::NotRegular {
        path: path.to_path_buf(),
        what,
    })
}

/// `check_regular` on the open file: the path may have been replaced
/// between the check and the open (the open itself is non-blocking, so a
/// FIFO swapped in cannot block it either).
fn check_open_regular(path: &Path, file: &File) -> Result<(), LogError> {
    let m = file
        .metadata()
        .map_err(|e| LogError::io(path, "examining", e))?;
    check_regular(path, &m)
}

/// Opens the journal for reading: checked to be a regular file first,
/// opened non-blocking (no effect on a regular file's reads), checked again.
fn open_read(path: &Path) -> Result<File, LogError> {
    let not_found = |e: io::Error| match e.kind() {
        io::ErrorKind::NotFound => LogError::NotFound(path.to_path_buf()),
        _ => LogError::io(path, "opening", e),
    };
    let m = fs::metadata(path).map_err(not_found)?;
    check_regular(path, &m)?;
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(not_found)?;
    check_open_regular(path, &file)?;
    Ok(file)
}

fn parent_dir(path: &Path) -> Option<PathBuf> {
    match path.parent() {
        Some(p) if p.as_os_str().is_empty() => Some(PathBuf::from(".")),
        Some(p) => Some(p.to_path_buf()),
        None => None,
    }
}

/// Makes a new or renamed directory entry durable.
fn sync_dir(path: &Path) -> Result<(), LogError> {
    if let Some(dir) = parent_dir(path) {
        File::open(&dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| LogError::io(&dir, "syncing the directory", e))?;
    }
    Ok(())
}

fn unix_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// `<journal>.<what>-<offset>-<unix secs>`, made unique with a counter.
fn side_path(path: &Path, what: &str, offset: u64) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "journal".into());
    let base = format!("{name}.{what}-{offset}-{}", unix_secs());
    let mut candidate = path.with_file_name(&base);
    let mut i = 1;
    while candidate.exists() {
        candidate = path.with_file_name(format!("{base}.{i}"));
        i += 1;
    }
    candidate
}

/// Copies bytes about to be cut into a side file, durably, first.
fn save_aside(path: &Path, bytes: &[u8], offset: u64) -> Result<TornCut, LogError> {
    let side = side_path(path, "torn", offset);
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&side)
        .map_err(|e| LogError::io(&side, "creating", e))?;
    f.write_all(bytes)
        .and_then(|_| f.sync_all())
        .map_err(|e| LogError::io(&side, "writing", e))?;
    sync_dir(&side)?;
    Ok(TornCut {
        offset,
        len: bytes.len() as u64,
        saved_to: side,
    })
}

/// A read-only scan of the journal. Readers take no lock and never block
/// the writer; they read the file as long as it was when opened.
pub fn open_scan(
    path: &Path,
    check_chain: bool,
    lenient_header: bool,
) -> Result<Scanner<FileStorage>, LogError> {
    let file = open_read(path)?;
    Scanner::open(FileStorage::new(file), check_chain, lenient_header).map_err(|e| match e {
        OpenError::Io(e) => LogError::io(path, "reading", e),
        OpenError::Header(h) => header_error(h, path),
    })
}

/// Calls `f` with every intact record in tolerate-corrupted-tail mode: a
/// torn tail ends the scan quietly, any other damage is an error. Holes
/// (records lost to an earlier salvage) are skipped.
pub fn for_each_record<F>(path: &Path, mut f: F) -> Result<(), LogError>
where
    F: FnMut(u64, &[u8]) -> Result<(), LogError>,
{
    let mut sc = match open_scan(path, false, false) {
        Ok(sc) => sc,
        // A creation cut short by a crash holds no records yet; the next
        // write completes it.
        Err(LogError::Truncated { .. }) => return Ok(()),
        Err(e) => return Err(e),
    };
    while let Some(item) = sc
        .next_item()
        .map_err(|e| LogError::io(path, "reading", e))?
    {
        match item {
            Item::Record(r) if r.is_hole() => {}
            Item::Record(r) => f(r.seq, r.payload)?,
            Item::Damage(d) if d.kind == DamageKind::TornTail => {}
            Item::Damage(d) => return Err(LogError::damaged(path, &d)),
        }
    }
    Ok(())
}

/// The last intact record's sequence number and chain digest, found from the
/// end of the file. An empty journal has seq 0 and its chain seed.
pub fn head(path: &Path) -> Result<(u64, Digest), LogError> {
    let sc = open_scan(path, false, false)?;
    let header = *sc.header();
    let file = open_read(path)?;
    let tail = find_tail(&FileStorage::new(file), &header, path)?;
    Ok((tail.last_seq, tail.last_chain))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Intact records, holes included.
    pub records: u64,
    /// Placeholders for records lost in an earlier salvage.
    pub holes: u64,
    pub bytes: u64,
    pub last_seq: u64,
    pub head: Digest,
    pub damage: Vec<Damage>,
    /// With `verify --head D`: whether D is a digest of this chain.
    pub head_found: Option<bool>,
}

impl VerifyReport {
    pub fn ok(&self) -> bool {
        self.damage.is_empty() && self.head_found != Some(false)
    }
}

/// Absolute consistency: checks the header, every CRC, every sequence
/// number and the whole hash chain, and lists every finding. `progress` is
/// called now and then with (bytes read, file size).
pub fn verify(
    path: &Path,
    expect_head: Option<&Digest>,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<VerifyReport, LogError> {
    let mut sc = match open_scan(path, true, true) {
        Ok(sc) => sc,
        Err(LogError::Truncated { len, .. }) => {
            // A creation cut short: nothing but a torn header.
            return Ok(VerifyReport {
                records: 0,
                holes: 0,
                bytes: len,
                last_seq: 0,
                head: [0u8; 32],
                damage: vec![Damage {
                    offset: 0,
                    seq: None,
                    kind: DamageKind::TornTail,
                    len,
                    lost: None,
                }],
                head_found: expect_head.map(|_| false),
            });
        }
        Err(e) => return Err(e),
    };
    let total = sc.file_len();
    let seed = sc.header().chain_seed();
    let mut head_found = expect_head.map(|d| *d == seed);
    let (mut records, mut holes, mut last_seq, mut head) = (0u64, 0u64, 0u64, seed);
    let mut damage = Vec::new();
    let mut next_report = 0u64;
    while let Some(item) = sc
        .next_item()
        .map_err(|e| LogError::io(path, "reading", e))?
    {
        match item {
            Item::Record(r) => {
                records += 1;
                holes += r.is_hole() as u64;
                last_seq = r.seq;
                head = r.chain;
                if let (Some(want), Some(found)) = (expect_head, head_found.as_mut()) {
                    // Only a chain verified up to here proves the prefix.
                    *found |= *want == r.chain && damage.is_empty();
                }
                if r.offset >= next_report {
                    progress(r.offset, total);
                    next_report = r.offset + (1 << 20);
                }
            }
            Item::Damage(d) => damage.push(d),
        }
    }
    progress(total, total);
    Ok(VerifyReport {
        records,
        holes,
        bytes: total,
        last_seq,
        head,
        damage,
        head_found,
    })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SalvageReport {
    pub kept: u64,
    pub holes: u64,
    pub damage: Vec<Damage>,
    /// The damaged original, kept under a new name.
    pub original_saved_to: PathBuf,
    pub new_head: Digest,
    pub last_seq: u64,
}

/// Skip-corrupted recovery: writes a new journal holding every intact
/// record, with a hole for each record that could not be read (so sequence
/// numbers, which events refer to, stay the same) and a new chain. The
/// original stays under a new name; the journal path switches atomically.
pub fn salvage(
    path: &Path,
    created_micros: i64,
    lock_wait: Duration,
) -> Result<SalvageReport, LogError> {
    // A journal reached through a symbolic link is repaired where it is:
    // renaming the new journal over the link would replace the link with a
    // file and leave the damaged target behind, splitting the journal.
    let target;
    let path = match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => {
            target = fs::canonicalize(path)
                .map_err(|e| LogError::io(path, "following the symbolic link", e))?;
            target.as_path()
        }
        _ => path,
    };
    let (_locked, _) = lock_journal(path, lock_wait, false)?;
    let mut sc = open_scan(path, false, true)?;
    let tmp = AtomicFile::create(path, ".trustlog-salvage-")?;
    let tmp_path = tmp.temp_path().to_path_buf();
    let file = tmp
        .file()
        .try_clone()
        .map_err(|e| LogError::io(&tmp_path, "opening", e))?;
    let mut storage = FileStorage::new(file);
    let header = Header::new(random_id()?, created_micros);
    storage
        .write_at(0, &header.encode())
        .map_err(|e| LogError::io(&tmp_path, "writing", e))?;
    let seed = header.chain_seed();
    let mut w = Writer::new(
        storage,
        tmp_path.clone(),
        &super::writer::Tail {
            end: HEADER_LEN as u64,
            last_seq: 0,
            last_chain: seed,
            torn: None,
        },
    );
    let mut damage = Vec::new();
    let (mut kept, mut holes) = (0u64, 0u64);
    while let Some(item) = sc
        .next_item()
        .map_err(|e| LogError::io(path, "reading", e))?
    {
        match item {
            Item::Record(r) => {
                while w.last_seq() + 1 < r.seq {
                    w.push_hole()?;
                    holes += 1;
                }
                if r.seq <= w.last_seq() {
                    continue; // a duplicate the scan already reported
                }
                if r.is_hole() {
                    w.push_hole()?;
                    holes += 1;
                } else {
                    w.push_record(r.payload)?;
                    kept += 1;
                }
            }
            Item::Damage(d) => damage.push(d),
        }
    }
    // Written, not yet synced: `commit` syncs it once, renames and syncs
    // the directory.
    w.flush()?;
    let original = side_path(path, "damaged", 0);
    fs::hard_link(path, &original)
        .map_err(|e| LogError::io(&original, "keeping the original as", e))?;
    tmp.commit()?;
    Ok(SalvageReport {
        kept,
        holes,
        damage,
        original_saved_to: original,
        new_head: w.head(),
        last_seq: w.last_seq(),
    })
}

/// Hex of a digest, for `head` and `verify`.
pub fn digest_hex(d: &Digest) -> String {
    format::to_hex(d)
}
