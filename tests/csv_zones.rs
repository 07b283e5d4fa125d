//! Time zones in human tables and the CSV (issue 12.9): one journal,
//! recorded in Seoul and in Paris, read with TZ=Asia/Seoul and
//! TZ=Europe/Paris. Tables name the zone in each time column's header; a
//! date-only due read in another zone than the one it was recorded in
//! shows its local end; the CSV writes date-only dues as days and other
//! times in the local zone with its offset; `--excel` begins with the UTF-8
//! BOM. JSON stays UTC.

mod common;

use common::*;

const SEOUL: &str = "Asia/Seoul";
const PARIS: &str = "Europe/Paris";

/// #1 `견적서` due 2026-12-10 (a day, said in Seoul), #2 due 2026-12-11
/// 18:00 Seoul time, #3 `devis` due 2026-12-12 (a day, said in Paris).
fn journal() -> Tl {
    let mut t = Tl::new();
    t.tz = SEOUL.into();
    t.now = "2026-11-02T09:00".into();
    t.ok(&["client", "add", "a2z", "--name", "주식회사 에이투지"]);
    t.ok(&["promise", "make", "a2z", "견적서", "--due", "2026-12-10"]);
    t.ok(&[
        "promise",
        "make",
        "a2z",
        "call",
        "--due",
        "2026-12-11T18:00",
    ]);
    t.tz = PARIS.into();
    t.now = "2026-11-03T09:00".into();
    t.ok(&["client", "add", "dupont"]);
    t.ok(&["promise", "make", "dupont", "devis", "--due", "2026-12-12"]);
    t.now = NOW.into();
    t
}

fn in_zone(t: &mut Tl, tz: &str, args: &[&str]) -> String {
    t.tz = tz.into();
    t.ok(args).stdout
}

/// The row of `table` whose first cell is `#id`.
fn row<'a>(table: &'a str, id: &str) -> &'a str {
    table
        .lines()
        .find(|l| l.split_whitespace().next() == Some(id))
        .unwrap_or_else(|| panic!("no row #{id} in\n{table}"))
}

#[test]
fn due_names_the_zone_and_shows_a_foreign_days_local_end() {
    let mut t = journal();
    let seoul = in_zone(&mut t, SEOUL, &["due"]);
    assert!(
        seoul
            .lines()
            .next()
            .unwrap_or("")
            .contains("due (Asia/Seoul)"),
        "{seoul}"
    );
    assert!(
        row(&seoul, "1").contains("2026-12-10  "),
        "the day alone:\n{seoul}"
    );
    assert!(!row(&seoul, "1").contains("ends"), "{seoul}");
    assert!(row(&seoul, "2").contains("2026-12-11 18:00"), "{seoul}");
    // Paris's 12-12 ends at 23:59 Paris time: 07:59 on 12-13 in Seoul.
    assert!(
        row(&seoul, "3").contains("2026-12-13 (ends 07:59)"),
        "{seoul}"
    );

    let paris = in_zone(&mut t, PARIS, &["due"]);
    assert!(
        paris
            .lines()
            .next()
            .unwrap_or("")
            .contains("due (Europe/Paris)"),
        "{paris}"
    );
    // Seoul's 12-10 ends at 23:59 Seoul time: 15:59 the same day in Paris.
    assert!(
        row(&paris, "1").contains("2026-12-10 (ends 15:59)"),
        "{paris}"
    );
    assert!(row(&paris, "2").contains("2026-12-11 10:00"), "{paris}");
    assert!(row(&paris, "3").contains("2026-12-12  "), "{paris}");
    assert!(!row(&paris, "3").contains("ends"), "{paris}");
}

#[test]
fn every_time_column_names_the_zone() {
    let mut t = journal();
    for (args, cols) in [
        (&["log"][..], &["occurred (Europe/Paris)"][..]),
        (
            &["status"],
            &["next due (Europe/Paris)", "last contact (Europe/Paris)"],
        ),
        (
            &["audit"],
            &["original due (Europe/Paris)", "last due (Europe/Paris)"],
        ),
    ] {
        let out = in_zone(&mut t, PARIS, args);
        for c in cols {
            assert!(out.contains(c), "{args:?} lacks {c:?}:\n{out}");
        }
    }
}

#[test]
fn export_csv_gives_days_and_local_times_with_offsets() {
    let mut t = journal();
    let seoul = in_zone(&mut t, SEOUL, &["export", "--format", "csv"]);
    let lines: Vec<&str> = seoul.split("\r\n").collect();
    // seq 2: #1 made 2026-11-02 09:00 Seoul, due the day 2026-12-10.
    let made = lines
        .iter()
        .find(|l| l.contains(",견적서,"))
        .expect("#1's row");
    assert!(made.contains(",2026-11-02T09:00:00+09:00,"), "{made}");
    assert!(made.contains(",2026-12-10,true,"), "{made}");
    let call = lines
        .iter()
        .find(|l| l.contains(",call,"))
        .expect("#2's row");
    assert!(call.contains(",2026-12-11T18:00:00+09:00,false,"), "{call}");
    let devis = lines
        .iter()
        .find(|l| l.contains(",devis,"))
        .expect("#3's row");
    assert!(
        devis.contains(",2026-11-03T17:00:00+09:00,"),
        "Paris 09:00 in Seoul: {devis}"
    );
    assert!(
        devis.contains(",2026-12-13T07:59:59.999999+09:00,true,"),
        "a Paris day is no Seoul day: its exact end: {devis}"
    );

    let paris = in_zone(&mut t, PARIS, &["export", "--format", "csv"]);
    let made = paris
        .split("\r\n")
        .find(|l| l.contains(",견적서,"))
        .expect("#1's row");
    assert!(made.contains(",2026-11-02T01:00:00+01:00,"), "{made}");
    assert!(
        made.contains(",2026-12-10T15:59:59.999999+01:00,true,"),
        "{made}"
    );
    let devis = paris
        .split("\r\n")
        .find(|l| l.contains(",devis,"))
        .expect("#3's row");
    assert!(devis.contains(",2026-12-12,true,"), "{devis}");

    // JSON lines stay UTC, whatever the zone.
    let jsonl = in_zone(&mut t, PARIS, &["export"]);
    assert!(
        jsonl.contains("\"due\":\"2026-12-10T14:59:59.999999Z\""),
        "{jsonl}"
    );
    assert_eq!(jsonl, in_zone(&mut t, SEOUL, &["export"]));
}

#[test]
fn audit_csv_gives_days_and_local_times_with_offsets() {
    let mut t = journal();
    let seoul = in_zone(&mut t, SEOUL, &["audit", "--csv"]);
    assert!(
        seoul.contains("\r\n1,a2z,견적서,2026-12-10,2026-12-10,0,open,0\r\n"),
        "{seoul}"
    );
    assert!(
        seoul.contains("\r\n2,a2z,call,2026-12-11T18:00:00+09:00,"),
        "{seoul}"
    );
    let paris = in_zone(&mut t, PARIS, &["audit", "--csv"]);
    assert!(
        paris.contains("\r\n1,a2z,견적서,2026-12-10T15:59:59.999999+01:00,"),
        "{paris}"
    );
    assert!(
        paris.contains("\r\n3,dupont,devis,2026-12-12,2026-12-12,"),
        "{paris}"
    );
}

fn raw(t: &Tl, args: &[&str]) -> Vec<u8> {
    let out = t
        .command()
        .arg("--journal")
        .arg(&t.journal)
        .args(args)
        .output()
        .expect("run");
    assert!(out.status.success(), "{args:?}: {out:?}");
    out.stdout
}

#[test]
fn excel_begins_with_the_utf8_bom() {
    let t = journal();
    for args in [&["export", "--format", "csv"][..], &["audit", "--csv"]] {
        let plain = raw(&t, args);
        let excel = raw(&t, &[args, &["--excel"]].concat());
        assert_eq!(&excel[..3], [0xEF, 0xBB, 0xBF], "{args:?}");
        assert_eq!(
            excel[3..],
            plain[..],
            "{args:?}: the BOM, then the same CSV"
        );
        assert_ne!(plain[0], 0xEF, "no BOM without --excel");
    }
    // --excel is for the CSV only.
    let jsonl = t.run(&["export", "--excel"]);
    assert_eq!(jsonl.code, 1, "{jsonl:?}");
    assert!(jsonl.stderr.contains("--format csv"), "{}", jsonl.stderr);
    assert_eq!(t.run(&["audit", "--excel"]).code, 2, "needs --csv (usage)");
}
