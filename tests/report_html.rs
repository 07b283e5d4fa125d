//! `report --html`: the file itself (self-contained, escaped, atomic,
//! deterministic, scoped by --client and --as-of), and the page as a real
//! browser renders it — headless Chromium dumps the DOM (the clients and
//! numbers are there, the hostile strings are text) and takes screenshots
//! at phone and desktop sizes, decoded here to check that something, in
//! the report's colours, was drawn. Without Chromium the browser test is
//! skipped loudly, except under CI=true, where it fails.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// Two clients, every outcome the page colours, hostile strings.
/// Audit at NOW: 5 promises — kept on time, kept late, broken, open and
/// overdue, open — so 1 of 4 decided was kept as first promised: 25%.
fn journal() -> Tl {
    let mut t = Tl::new();
    #[rustfmt::skip]
    let steps: &[(&str, &[&str])] = &[
        ("2026-09-01T09:00", &["client", "add", "acme", "--name", "Acme <b>Ltd</b> & \"Sons\""]),
        ("2026-09-01T10:00", &["talk", "acme", "--kind", "call", "--mood", "-2", "--minutes", "20", "a rough start"]),
        ("2026-09-02T09:00", &["promise", "make", "acme", "logo <drafts>", "--due", "2026-09-10"]),
        ("2026-09-03T09:00", &["promise", "make", "acme", "brand book", "--due", "2026-09-20"]),
        ("2026-09-04T09:00", &["promise", "make", "acme", "truck livery", "--due", "2026-10-01"]),
        ("2026-09-09T09:00", &["promise", "keep", "1"]),
        ("2026-09-25T09:00", &["promise", "keep", "2"]),
        ("2026-10-02T09:00", &["promise", "break", "3", "--reason", "printer went bust"]),
        ("2026-10-03T09:00", &["client", "mismatch", "acme", "<script>alert(1)</script>"]),
        ("2026-10-10T09:00", &["client", "lost", "acme", "--reason", "went <elsewhere>"]),
        ("2026-10-11T09:00", &["client", "add", "globex", "--name", "Globex Corporation"]),
        ("2026-10-11T10:00", &["talk", "globex", "--kind", "meeting", "--mood", "2", "--minutes", "60", "great kick-off"]),
        ("2026-10-12T09:00", &["promise", "make", "globex", "site map", "--due", "2026-11-10"]),
        ("2026-10-12T09:05", &["promise", "make", "globex", "final files", "--due", "2026-12-01"]),
        ("2026-10-20T09:00", &["client", "praise", "globex", "--kind", "referral", "sent us Initech"]),
    ];
    for (now, args) in steps {
        t.now = now.to_string();
        t.ok(args);
    }
    t.now = NOW.to_string();
    t
}

fn report(t: &Tl, name: &str, extra: &[&str]) -> (PathBuf, String) {
    let path = t.dir.path().join(name);
    let mut args = vec!["report", "--html", path.to_str().unwrap()];
    args.extend_from_slice(extra);
    let out = t.ok(&args);
    assert!(out.stdout.starts_with("wrote "), "{}", out.stdout);
    let html = fs::read_to_string(&path).expect("the report");
    (path, html)
}

fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn the_page_is_self_contained_escaped_and_has_every_part() {
    let t = journal();
    let (_, html) = report(&t, "report.html", &[]);
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(
        html.contains("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
    );
    assert!(html.contains("@media print"), "print styles");
    assert!(html.contains("@media (min-width"), "responsive styles");
    // Nothing to fetch, nothing to run.
    for needle in [
        "http://", "https://", "//", "<script", "<link", "<img", "<iframe", "src=", "url(",
        "@import",
    ] {
        assert!(!html.contains(needle), "the report contains {needle:?}");
    }
    // User strings are escaped, never markup.
    assert!(html.contains("Acme &lt;b&gt;Ltd&lt;/b&gt; &amp; &quot;Sons&quot;"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("logo &lt;drafts&gt;"));
    assert!(html.contains("went &lt;elsewhere&gt;"));
    assert!(!html.contains("<b>Ltd</b>"));
    // The parts.
    for id in [
        "id=\"audit\"",
        "id=\"overdue\"",
        "id=\"promises\"",
        "id=\"clients\"",
        "id=\"postmortems\"",
    ] {
        assert!(html.contains(id), "{id}");
    }
    assert!(
        html.contains("<b>25%</b>kept as originally promised"),
        "the hit rate"
    );
    assert!(html.contains("kept on time: <b>1</b>") && html.contains("broken: <b>1</b>"));
    assert!(html.contains("open, overdue: <b>1</b>"));
    assert!(html.contains("id=\"client-acme\"") && html.contains("id=\"client-globex\""));
    assert!(html.contains("id=\"postmortem-acme\""), "acme is lost");
    assert!(!html.contains("id=\"postmortem-globex\""), "globex is not");
    // One trust curve per client, with a dot per event that moved it.
    assert_eq!(html.matches("aria-label=\"trust of ").count(), 2);
    assert!(
        html.matches("<circle class=\"down\"").count() >= 3,
        "the bad start, the late keep, the break"
    );
    assert!(html.contains("<circle class=\"up\""));
    assert!(
        html.contains("first impression, mood −2"),
        "the reason of a move, in words"
    );
    // The overdue table holds the site map, 10 days overdue.
    let overdue =
        &html[html.find("id=\"overdue\"").unwrap()..html.find("id=\"promises\"").unwrap()];
    assert!(
        overdue.contains("site map") && overdue.contains("<td class=\"num\">10</td>"),
        "{overdue}"
    );
    assert!(!overdue.contains("final files"));
    // The footer gives the head digest to verify against.
    let head = t.ok(&["head"]).stdout;
    let digest = head.split_whitespace().nth(1).expect("head digest");
    assert!(html.contains(&format!("trustlog verify --head {digest}")));
}

#[test]
fn the_report_is_deterministic_and_replaced_atomically() {
    let t = journal();
    let (_, first) = report(&t, "r.html", &[]);
    let (_, second) = report(&t, "r.html", &[]);
    assert_eq!(first, second, "same journal, same now: same bytes");
    assert_eq!(
        listing(t.dir.path()),
        ["journal.tlog", "r.html"],
        "no temp file left behind"
    );
    // Into a subdirectory given by a relative path.
    fs::create_dir(t.dir.path().join("out")).unwrap();
    let mut c = t.command();
    c.arg("--journal")
        .arg(&t.journal)
        .args(["report", "--html", "out/r.html"]);
    let o = output(c);
    assert_eq!(o.code, 0, "{o:?}");
    assert_eq!(
        fs::read_to_string(t.dir.path().join("out/r.html")).unwrap(),
        first
    );
}

#[test]
fn client_and_as_of_narrow_the_page() {
    let t = journal();
    let (_, g) = report(&t, "g.html", &["--client", "globex"]);
    assert!(!g.contains("Acme"), "only globex");
    assert!(g.contains("Globex Corporation"));
    assert!(
        g.contains("<b>0%</b>kept as originally promised"),
        "1 decided, 0 on time"
    );
    assert!(g.contains("No client lost."));

    let (_, early) = report(&t, "early.html", &["--as-of", "2026-09-30"]);
    assert!(!early.contains("Globex"), "globex came later");
    assert!(early.contains("No client lost."), "acme was not lost yet");
    assert!(
        !early.contains("class=\"chip o-broken\""),
        "nothing was broken yet"
    );
    assert!(early.contains("truck livery"), "but it was promised");
    assert!(early.contains("as known on 2026-09-30"));
}

#[test]
fn refusals_touch_nothing() {
    let t = journal();
    let before = t.bytes().unwrap();
    let out = t.run(&["report", "--html", t.journal.to_str().unwrap()]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("is the journal itself"),
        "{}",
        out.stderr
    );
    let dir = t.dir.path().join("adir");
    fs::create_dir(&dir).unwrap();
    let out = t.run(&["report", "--html", dir.to_str().unwrap()]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("is a directory"), "{}", out.stderr);
    let out = t.run(&["report", "--html", "x.html", "--client", "nobody"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("unknown client \"nobody\""),
        "{}",
        out.stderr
    );
    assert_eq!(t.bytes().unwrap(), before);
    assert_eq!(listing(t.dir.path()), ["adir", "journal.tlog"]);
}

// ---------------------------------------------------------------------------
// In a real browser

fn chromium(test: &str) -> Option<&'static str> {
    for name in ["chromium", "chromium-browser"] {
        if Command::new(name)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
        {
            return Some(name);
        }
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{test}: Chromium is not installed and CI=true: .ci/run installs the Debian package `chromium`");
    }
    eprintln!("\n*** SKIPPED {test}: Chromium is not installed (apt-get install chromium) ***\n");
    None
}

/// Runs headless Chromium on `file` with `args`, with a fresh profile and
/// everything that talks to the network in the background turned off;
/// returns stdout. Killed after two minutes.
fn run_chromium(bin: &str, profile: &Path, file: &Path, args: &[String]) -> Vec<u8> {
    let mut c = Command::new(bin);
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--disable-default-apps",
        "--hide-scrollbars",
    ])
    .arg(format!("--user-data-dir={}", profile.display()))
    .args(args)
    .arg(format!("file://{}", file.display()))
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = c.spawn().expect("start chromium");
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if child.try_wait().expect("wait for chromium").is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("chromium {args:?} did not finish in 2 minutes");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().expect("chromium output");
    assert!(
        out.status.success(),
        "chromium {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn chromium_renders_the_clients_and_numbers_at_phone_and_desktop_sizes() {
    let Some(bin) = chromium("chromium_renders_the_clients_and_numbers_at_phone_and_desktop_sizes")
    else {
        return;
    };
    let t = journal();
    let (path, _) = report(&t, "report.html", &[]);
    let profile = tempfile::tempdir().unwrap();

    let dom = String::from_utf8(run_chromium(
        bin,
        profile.path(),
        &path,
        &["--dump-dom".into()],
    ))
    .expect("the DOM is UTF-8");
    for text in [
        "Promises and trust",
        "Acme &lt;b&gt;Ltd&lt;/b&gt; &amp; \"Sons\"",
        "Globex Corporation",
        "<b>25%</b>kept as originally promised",
        "site map",
        "went &lt;elsewhere&gt;",
        "&lt;script&gt;alert(1)&lt;/script&gt;",
        "Warning signs, most serious first",
    ] {
        assert!(dom.contains(text), "the rendered DOM lacks {text:?}");
    }
    assert!(
        !dom.contains("<script"),
        "no script element came out of a user string"
    );

    // The check below tells a blank page from a drawn one: a blank page
    // of the same size fails it.
    let blank = t.dir.path().join("blank.html");
    fs::write(&blank, "<!DOCTYPE html><html><body></body></html>").unwrap();
    let blank_png = t.dir.path().join("blank.png");
    run_chromium(
        bin,
        profile.path(),
        &blank,
        &[
            format!("--screenshot={}", blank_png.display()),
            "--window-size=412,2200".into(),
        ],
    );
    let b = png::decode(&fs::read(&blank_png).unwrap()).expect("blank.png decodes");
    assert_eq!((b.width, b.height), (412, 2200));
    let bs = b.stats();
    assert!(
        bs.distinct_colours <= 2 && bs.non_background < 0.001,
        "a blank page looks blank"
    );

    for (w, h, name) in [(412, 2200, "phone"), (1280, 2200, "desktop")] {
        let png_path = t.dir.path().join(format!("{name}.png"));
        run_chromium(
            bin,
            profile.path(),
            &path,
            &[
                format!("--screenshot={}", png_path.display()),
                format!("--window-size={w},{h}"),
            ],
        );
        let png = fs::read(&png_path).expect("the screenshot");
        let img = png::decode(&png).unwrap_or_else(|e| panic!("{name}.png: {e}"));
        assert_eq!((img.width, img.height), (w, h), "{name}: screenshot size");
        let stats = img.stats();
        assert!(
            stats.distinct_colours > 50,
            "{name}: only {} colours: a blank or broken page",
            stats.distinct_colours
        );
        assert!(
            stats.non_background > 0.05,
            "{name}: only {:.1}% of pixels differ from the background",
            stats.non_background * 100.0
        );
        // The outcome colours of the stylesheet were drawn: on time (green),
        // broken (red), open and overdue (orange).
        for (rgb, what) in [
            ((0x2e, 0x7d, 0x32), "kept on time green"),
            ((0xc6, 0x28, 0x28), "broken red"),
            ((0xe4, 0x57, 0x2e), "overdue orange"),
        ] {
            assert!(img.count(rgb) > 50, "{name}: no {what} pixels");
        }
    }
}

/// Just enough PNG to look at a screenshot: chunks, zlib inflate (stored,
/// fixed and dynamic Huffman blocks), scanline filters; 8-bit RGB / RGBA.
mod png {
    pub struct Image {
        pub width: u32,
        pub height: u32,
        /// RGB, row by row.
        pub rgb: Vec<[u8; 3]>,
    }

    pub struct Stats {
        pub distinct_colours: usize,
        /// Share of pixels that differ from the most common colour.
        pub non_background: f64,
    }

    impl Image {
        pub fn stats(&self) -> Stats {
            let mut counts = std::collections::HashMap::new();
            for p in &self.rgb {
                *counts.entry(*p).or_insert(0usize) += 1;
            }
            let top = counts.values().copied().max().unwrap_or(0);
            Stats {
                distinct_colours: counts.len(),
                non_background: 1.0 - top as f64 / self.rgb.len().max(1) as f64,
            }
        }

        pub fn count(&self, (r, g, b): (u8, u8, u8)) -> usize {
            self.rgb.iter().filter(|p| **p == [r, g, b]).count()
        }
    }

    pub fn decode(data: &[u8]) -> Result<Image, String> {
        if data.len() < 8 || data[..8] != [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a] {
            return Err("not a PNG".into());
        }
        let mut pos = 8;
        let (mut width, mut height, mut channels) = (0u32, 0u32, 0usize);
        let mut idat = Vec::new();
        while pos + 8 <= data.len() {
            let len = u32::from_be_bytes(data[pos..pos + 4].try_into().unwrap()) as usize;
            let kind = &data[pos + 4..pos + 8];
            let body = data
                .get(pos + 8..pos + 8 + len)
                .ok_or("chunk past the end")?;
            match kind {
                b"IHDR" => {
                    width = u32::from_be_bytes(body[0..4].try_into().unwrap());
                    height = u32::from_be_bytes(body[4..8].try_into().unwrap());
                    let (depth, colour, interlace) = (body[8], body[9], body[12]);
                    channels = match colour {
                        2 => 3,
                        6 => 4,
                        c => return Err(format!("colour type {c} not handled")),
                    };
                    if depth != 8 || interlace != 0 {
                        return Err(format!("depth {depth} / interlace {interlace} not handled"));
                    }
                }
                b"IDAT" => idat.extend_from_slice(body),
                b"IEND" => break,
                _ => {}
            }
            pos += 12 + len;
        }
        if channels == 0 {
            return Err("no IHDR".into());
        }
        let raw = inflate(idat.get(2..).ok_or("no zlib header")?)?;
        let stride = width as usize * channels;
        if raw.len() < (stride + 1) * height as usize {
            return Err(format!(
                "{} bytes of pixels, expected {}",
                raw.len(),
                (stride + 1) * height as usize
            ));
        }
        let mut prev = vec![0u8; stride];
        let mut rgb = Vec::with_capacity((width * height) as usize);
        for y in 0..height as usize {
            let line = &raw[y * (stride + 1)..(y + 1) * (stride + 1)];
            let (filter, src) = (line[0], &line[1..]);
            let mut cur = vec![0u8; stride];
            for i in 0..stride {
                let a = if i >= channels {
                    cur[i - channels] as i32
                } else {
                    0
                };
                let b = prev[i] as i32;
                let c = if i >= channels {
                    prev[i - channels] as i32
                } else {
                    0
                };
                let pred = match filter {
                    0 => 0,
                    1 => a,
                    2 => b,
                    3 => (a + b) / 2,
                    4 => {
                        let p = a + b - c;
                        let (pa, pb, pc) = ((p - a).abs(), (p - b).abs(), (p - c).abs());
                        if pa <= pb && pa <= pc {
                            a
                        } else if pb <= pc {
                            b
                        } else {
                            c
                        }
                    }
                    f => return Err(format!("filter {f}")),
                };
                cur[i] = src[i].wrapping_add(pred as u8);
            }
            for px in cur.chunks(channels) {
                rgb.push([px[0], px[1], px[2]]);
            }
            prev = cur;
        }
        Ok(Image { width, height, rgb })
    }

    struct Bits<'a> {
        data: &'a [u8],
        pos: usize,
        bit: u32,
    }

    impl Bits<'_> {
        fn bit(&mut self) -> Result<u32, String> {
            let byte = *self.data.get(self.pos).ok_or("deflate stream ends early")?;
            let b = (byte >> self.bit) & 1;
            self.bit += 1;
            if self.bit == 8 {
                self.bit = 0;
                self.pos += 1;
            }
            Ok(b as u32)
        }
        fn bits(&mut self, n: u32) -> Result<u32, String> {
            let mut v = 0;
            for i in 0..n {
                v |= self.bit()? << i;
            }
            Ok(v)
        }
    }

    /// Canonical Huffman code: how many codes of each length, and the
    /// symbols in code order (zlib's puff.c).
    struct Huffman {
        count: [u16; 16],
        symbol: Vec<u16>,
    }

    impl Huffman {
        fn new(lengths: &[u8]) -> Self {
            let mut count = [0u16; 16];
            for &l in lengths {
                count[l as usize] += 1;
            }
            count[0] = 0;
            let mut offs = [0u16; 16];
            for i in 1..16 {
                offs[i] = offs[i - 1] + count[i - 1];
            }
            let mut symbol = vec![0u16; lengths.len()];
            for (s, &l) in lengths.iter().enumerate() {
                if l != 0 {
                    symbol[offs[l as usize] as usize] = s as u16;
                    offs[l as usize] += 1;
                }
            }
            Huffman { count, symbol }
        }

        fn decode(&self, b: &mut Bits) -> Result<u16, String> {
            let (mut code, mut first, mut index) = (0i32, 0i32, 0i32);
            for len in 1..16 {
                code |= b.bit()? as i32;
                let count = self.count[len] as i32;
                if code - count < first {
                    return Ok(self.symbol[(index + code - first) as usize]);
                }
                index += count;
                first += count;
                first <<= 1;
                code <<= 1;
            }
            Err("bad Huffman code".into())
        }
    }

    const LBASE: [u16; 29] = [
        3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115,
        131, 163, 195, 227, 258,
    ];
    const LEXT: [u8; 29] = [
        0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
    ];
    const DBASE: [u16; 30] = [
        1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
        2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
    ];
    const DEXT: [u8; 30] = [
        0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12,
        13, 13,
    ];

    fn inflate(data: &[u8]) -> Result<Vec<u8>, String> {
        let mut out = Vec::new();
        let mut b = Bits {
            data,
            pos: 0,
            bit: 0,
        };
        loop {
            let last = b.bit()?;
            match b.bits(2)? {
                0 => {
                    if b.bit != 0 {
                        b.bit = 0;
                        b.pos += 1;
                    }
                    let h = data.get(b.pos..b.pos + 4).ok_or("stored block header")?;
                    let len = u16::from_le_bytes([h[0], h[1]]) as usize;
                    b.pos += 4;
                    out.extend_from_slice(data.get(b.pos..b.pos + len).ok_or("stored block")?);
                    b.pos += len;
                }
                1 => {
                    let mut l = [8u8; 288];
                    l[144..256].fill(9);
                    l[256..280].fill(7);
                    codes(
                        &mut b,
                        &mut out,
                        &Huffman::new(&l),
                        &Huffman::new(&[5u8; 30]),
                    )?;
                }
                2 => {
                    let nlen = b.bits(5)? as usize + 257;
                    let ndist = b.bits(5)? as usize + 1;
                    let ncode = b.bits(4)? as usize + 4;
                    const ORDER: [usize; 19] = [
                        16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
                    ];
                    let mut cl = [0u8; 19];
                    for &o in ORDER.iter().take(ncode) {
                        cl[o] = b.bits(3)? as u8;
                    }
                    let ch = Huffman::new(&cl);
                    let mut lengths = Vec::with_capacity(nlen + ndist);
                    while lengths.len() < nlen + ndist {
                        let sym = ch.decode(&mut b)?;
                        let (value, repeat) = match sym {
                            0..=15 => (sym as u8, 1),
                            16 => (
                                *lengths.last().ok_or("repeat with no length")?,
                                3 + b.bits(2)?,
                            ),
                            17 => (0, 3 + b.bits(3)?),
                            _ => (0, 11 + b.bits(7)?),
                        };
                        for _ in 0..repeat {
                            lengths.push(value);
                        }
                    }
                    let lit = Huffman::new(&lengths[..nlen]);
                    let dist = Huffman::new(&lengths[nlen..nlen + ndist]);
                    codes(&mut b, &mut out, &lit, &dist)?;
                }
                t => return Err(format!("block type {t}")),
            }
            if last == 1 {
                return Ok(out);
            }
        }
    }

    fn codes(b: &mut Bits, out: &mut Vec<u8>, lit: &Huffman, dist: &Huffman) -> Result<(), String> {
        loop {
            let sym = lit.decode(b)? as usize;
            if sym < 256 {
                out.push(sym as u8);
            } else if sym == 256 {
                return Ok(());
            } else {
                let i = sym - 257;
                let len =
                    *LBASE.get(i).ok_or("bad length")? as usize + b.bits(LEXT[i] as u32)? as usize;
                let d = dist.decode(b)? as usize;
                let back = *DBASE.get(d).ok_or("bad distance")? as usize
                    + b.bits(DEXT[d] as u32)? as usize;
                if back > out.len() {
                    return Err("distance before the start".into());
                }
                let start = out.len() - back;
                for k in 0..len {
                    let v = out[start + k];
                    out.push(v);
                }
            }
        }
    }
}
