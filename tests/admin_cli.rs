//! End-to-end tests of the `rebound` admin command through the real built binaries: a real
//! SQLite file filled by piping the samples of `tests/samples/admin/` through the real
//! rebound-lda into a real Maildir, then `export`, `check`, `import`, `suppress` /
//! `unsuppress`, `list`, `show`, `stats`, `verp`, `prune`, `rebuild` and `doctor` as an
//! admin or a script would run them.

mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const LDA: &str = env!("CARGO_BIN_EXE_rebound-lda");
const REBOUND: &str = env!("CARGO_BIN_EXE_rebound");

fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/samples/admin")
}

/// A Maildir and a database in a temporary directory, and no configuration file.
struct Site {
    dir: tempfile::TempDir,
}

impl Site {
    fn new() -> Site {
        Site {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn maildir(&self) -> PathBuf {
        self.dir.path().join("Maildir")
    }

    fn db(&self) -> PathBuf {
        self.dir.path().join("rebound.db")
    }

    /// Pipe one message through rebound-lda; it must exit 0.
    fn deliver(&self, message: &[u8]) {
        let out = support::pipe(
            Command::new(LDA)
                .args(["-o", &format!("maildir={}", self.maildir().display())])
                .args(["-o", &format!("database={}", self.db().display())])
                .args(["-o", "log=stderr"]),
            message,
        );
        assert_eq!(
            out.status.code(),
            Some(0),
            "rebound-lda: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn fill(&self) {
        let mut files: Vec<_> = std::fs::read_dir(samples())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        files.sort();
        for f in files {
            self.deliver(&std::fs::read(f).unwrap());
        }
    }

    /// Run `rebound` with the site's options (a config file that does not exist must be
    /// given with -c, so use -o only) against `db`.
    fn run_on(&self, db: &Path, args: &[&str]) -> Output {
        let mut cmd = Command::new(REBOUND);
        cmd.args(["-o", &format!("database={}", db.display())])
            .args(["-o", &format!("maildir={}", self.maildir().display())])
            .args(["-o", "log=stderr"])
            .args(args)
            .env("NO_COLOR", "1")
            .env("USER", "tester");
        cmd.output().unwrap()
    }

    fn run(&self, args: &[&str]) -> Output {
        self.run_on(&self.db(), args)
    }

    fn stdout(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "rebound {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn sql(&self, db: &Path, q: &str) -> i64 {
        let c = rusqlite::Connection::open(db).unwrap();
        c.query_row(q, [], |r| r.get(0)).unwrap()
    }
}

/// The addresses of an `export --format csv`, checking the header line.
fn csv_addresses(csv: &str) -> BTreeSet<String> {
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("address,domain,cause,reason,since,until,status,feedback_type,event,note")
    );
    lines
        .map(|l| l.split(',').next().unwrap().to_string())
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

const SUPPRESSED: &[&str] = &[
    "ann@nxdomain.example.org",
    "complainer@example.com",
    "joe@example.com",
];

#[test]
fn export_lists_hard_and_complaints_only() {
    let site = Site::new();
    site.fill();
    let csv = site.stdout(&["export", "--format", "csv"]);
    assert_eq!(csv_addresses(&csv), set(SUPPRESSED), "{csv}");
    // JSON: the same addresses, with cause and the event that caused each.
    let json: serde_json::Value =
        serde_json::from_str(&site.stdout(&["export", "--json"])).unwrap();
    let arr = json.as_array().unwrap();
    assert_eq!(arr.len(), SUPPRESSED.len());
    for o in arr {
        let cause = o["cause"].as_str().unwrap();
        assert!(cause == "hard" || cause == "complaint", "{o}");
        assert!(o["event"].as_i64().is_some(), "{o}");
    }
    let complaint = arr
        .iter()
        .find(|o| o["address"] == "complainer@example.com")
        .unwrap();
    assert_eq!(complaint["cause"], "complaint");
    assert_eq!(complaint["feedback_type"], "abuse");
    assert_eq!(complaint["reason"], "abuse");
    // The soft one is counted, not suppressed.
    assert_eq!(
        site.sql(
            &site.db(),
            "SELECT count(*) FROM soft_bounce_counts WHERE address = 'full@example.net'"
        ),
        1
    );
}

#[test]
fn check_exit_codes() {
    let site = Site::new();
    site.fill();
    for a in SUPPRESSED {
        let out = site.run(&["check", a]);
        assert_eq!(out.status.code(), Some(1), "{a}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("suppressed"), "{text}");
    }
    for a in [
        "never@example.com",
        "full@example.net",
        "spam@example.jp",
        "blocked@example.jp",
        "slow@example.net",
        "ok@example.com",
        "away@example.com",
    ] {
        assert_eq!(site.run(&["check", a]).status.code(), Some(0), "{a}");
    }
    // Case-insensitive domain, exact local part.
    assert_eq!(
        site.run(&["check", "joe@EXAMPLE.Com"]).status.code(),
        Some(1)
    );
    assert_eq!(
        site.run(&["check", "JOE@example.com"]).status.code(),
        Some(0)
    );
    // Several at once: 1 if any; -q prints nothing.
    let out = site.run(&["check", "-q", "never@example.com", "joe@example.com"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    // Addresses from standard input.
    let out = support::pipe(
        Command::new(REBOUND)
            .args(["-o", &format!("database={}", site.db().display())])
            .args(["check", "--format", "csv", "-"]),
        b"never@example.com\n\nann@nxdomain.example.org\n",
    );
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("\r\nnever@example.com,ok,"), "{text}");
    assert!(
        text.contains("\r\nann@nxdomain.example.org,suppressed,hard,"),
        "{text}"
    );
    // JSON for scripts.
    let out = site.run(&["check", "--json", "joe@example.com", "never@example.com"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["status"], "suppressed");
    assert_eq!(v[0]["cause"], "hard");
    assert_eq!(v[1]["status"], "ok");
    // Errors are 2: not an address, no database, a bad option.
    assert_eq!(site.run(&["check", "nonsense"]).status.code(), Some(2));
    let missing = site.dir.path().join("missing.db");
    assert_eq!(
        site.run_on(&missing, &["check", "a@example.com"])
            .status
            .code(),
        Some(2)
    );
    assert!(!missing.exists(), "check must not create a database");
    assert_eq!(site.run(&["check", "--bogus"]).status.code(), Some(2));
    assert_eq!(site.run(&["check"]).status.code(), Some(2));
    assert_eq!(site.run(&["check", "--help"]).status.code(), Some(0));
}

#[test]
fn import_is_idempotent_and_reproduces_the_list() {
    let site = Site::new();
    site.fill();
    let counts = |db: &Path| {
        (
            site.sql(db, "SELECT count(*) FROM messages"),
            site.sql(db, "SELECT count(*) FROM events"),
            site.sql(db, "SELECT count(*) FROM suppressions"),
        )
    };
    let before = counts(&site.db());
    let audit = |db: &Path| site.sql(db, "SELECT count(*) FROM audit");
    let audited = audit(&site.db());
    let md = site.maildir().display().to_string();
    let out = site.stdout(&["import", &md]);
    assert!(out.contains("0 new"), "{out}");
    assert_eq!(counts(&site.db()), before, "import into the same database");
    assert_eq!(audit(&site.db()), audited, "a no-op import is not audited");
    // Into an empty database: the same suppression list.
    let fresh = site.dir.path().join("fresh.db");
    let out = site.run_on(&fresh, &["import", "--json", &md]);
    assert_eq!(out.status.code(), Some(0));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["new"].as_i64(), Some(before.0));
    assert_eq!(summary["errors"].as_i64(), Some(0));
    let a = site.stdout(&["export"]);
    let b = String::from_utf8(site.run_on(&fresh, &["export"]).stdout).unwrap();
    assert_eq!(csv_addresses(&a), csv_addresses(&b));
    // Twice into the fresh one: nothing changes.
    let again = counts(&fresh);
    assert_eq!(site.run_on(&fresh, &["import", &md]).status.code(), Some(0));
    assert_eq!(counts(&fresh), again);
}

#[test]
fn import_mbox_and_soft_threshold_over_days() {
    let site = Site::new();
    // Five mailbox-full bounces for one address on five days, as an mbox (postmark dates),
    // plus the same as a Maildir whose file names carry the delivery times.
    let sample = std::fs::read_to_string(samples().join("soft-mailboxfull.eml")).unwrap();
    let mut mbox = String::new();
    let md = site.dir.path().join("old/Maildir");
    std::fs::create_dir_all(md.join(".Bounces/new")).unwrap();
    std::fs::create_dir_all(md.join("cur")).unwrap();
    for day in 1..=5 {
        let msg = sample.replace(
            "Message-ID: <soft-mailboxfull@mx.example.net>",
            &format!("Message-ID: <soft-{day}@mx.example.net>"),
        );
        mbox.push_str(&format!(
            "From MAILER-DAEMON  Sun Nov {:2} 10:00:00 2026\n{msg}\n",
            day
        ));
        let secs = 1_793_527_200 + (day - 1) * 86_400; // 2026-11-0{day}T10:00:00Z
        std::fs::write(
            md.join(format!(".Bounces/new/{secs}.M1P{day}.old.example,S=1")),
            &msg,
        )
        .unwrap();
    }
    let mbox_path = site.dir.path().join("bounces.mbox");
    std::fs::write(&mbox_path, &mbox).unwrap();
    // A far-away policy clock would expire the soft suppression; keep it for good.
    let keep = ["-o", "policy.soft_suppress_days=0"];
    let mb = site.dir.path().join("mbox.db");
    let out = site.run_on(
        &mb,
        &[
            keep[0],
            keep[1],
            "import",
            "--json",
            &mbox_path.display().to_string(),
        ],
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["messages"], 5, "{summary}");
    let out = site.run_on(
        &mb,
        &[keep[0], keep[1], "check", "--json", "full@example.net"],
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1), "{v}");
    assert_eq!(v[0]["cause"], "soft");
    // Maildir++: same outcome, folder kept.
    let mdb = site.dir.path().join("md.db");
    let out = site.run_on(
        &mdb,
        &[keep[0], keep[1], "import", &md.display().to_string()],
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        site.sql(
            &mdb,
            "SELECT count(*) FROM messages WHERE folder = '.Bounces'"
        ),
        5
    );
    assert_eq!(
        site.run_on(&mdb, &[keep[0], keep[1], "check", "full@example.net"])
            .status
            .code(),
        Some(1)
    );
    // A stricter policy on the next open: threshold 6 lifts it (re-evaluation).
    assert_eq!(
        site.run_on(
            &mdb,
            &[
                keep[0],
                keep[1],
                "-o",
                "policy.soft_threshold=6",
                "check",
                "full@example.net"
            ]
        )
        .status
        .code(),
        Some(0)
    );
}

#[test]
fn suppress_unsuppress_round_trip_audited() {
    let site = Site::new();
    site.fill();
    let out = site.stdout(&["suppress", "new@Example.COM", "--note", "asked by phone"]);
    assert!(out.contains("new@example.com"), "{out}");
    assert_eq!(
        site.run(&["check", "new@example.com"]).status.code(),
        Some(1)
    );
    let csv = site.stdout(&["export", "--cause", "manual"]);
    assert!(csv.contains("new@example.com,example.com,manual"), "{csv}");
    site.stdout(&["unsuppress", "new@example.com", "--note", "by mistake"]);
    assert_eq!(
        site.run(&["check", "new@example.com"]).status.code(),
        Some(0)
    );
    // Unsuppress a hard bounce: it stays lifted through a rebuild of the same events.
    site.stdout(&[
        "unsuppress",
        "joe@example.com",
        "--note",
        "mailbox restored",
    ]);
    assert_eq!(
        site.run(&["check", "joe@example.com"]).status.code(),
        Some(0)
    );
    site.stdout(&["rebuild"]);
    assert_eq!(
        site.run(&["check", "joe@example.com"]).status.code(),
        Some(0)
    );
    // A new hard bounce after the unsuppress suppresses again.
    let again = std::fs::read_to_string(samples().join("hard-userunknown.eml"))
        .unwrap()
        .replace("<hard-userunknown@mx", "<hard-userunknown-2@mx");
    site.deliver(again.as_bytes());
    assert_eq!(
        site.run(&["check", "joe@example.com"]).status.code(),
        Some(1)
    );
    // Every decision is in the audit table, with note and actor.
    let c = rusqlite::Connection::open(site.db()).unwrap();
    let rows: Vec<(String, String, String, String)> = c
        .prepare(
            "SELECT action, address, note, actor FROM audit
             WHERE action IN ('suppress', 'unsuppress') ORDER BY id",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let s = |a: &str, b: &str, n: &str| (a.into(), b.into(), n.into(), "tester".into());
    assert_eq!(
        rows,
        vec![
            s("suppress", "new@example.com", "asked by phone"),
            s("unsuppress", "new@example.com", "by mistake"),
            s("unsuppress", "joe@example.com", "mailbox restored"),
        ]
    );
    // show tells the whole story.
    let show = site.stdout(&["show", "joe@example.com"]);
    assert!(show.contains("unsuppress"), "{show}");
    assert!(show.contains("5.1.1"), "{show}");
}

#[test]
fn list_show_stats_and_formats() {
    let site = Site::new();
    site.fill();
    let table = site.stdout(&["list"]);
    assert!(
        table.lines().next().unwrap().starts_with("address"),
        "{table}"
    );
    assert_eq!(table.lines().count(), 1 + SUPPRESSED.len(), "{table}");
    let hard = site.stdout(&["list", "--kind", "HARD", "--format", "csv"]);
    assert_eq!(
        site.run(&["list", "--kind", "bounce"]).status.code(),
        Some(2)
    );
    assert_eq!(
        site.run(&["export", "--cause", "nonsense"]).status.code(),
        Some(2)
    );
    assert_eq!(hard.lines().count(), 3, "{hard}");
    let dom = site.stdout(&["list", "--domain", "EXAMPLE.org", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&dom).unwrap();
    assert_eq!(v[0]["address"], "ann@nxdomain.example.org");
    let ev = site.stdout(&["list", "--events", "--kind", "delayed", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&ev).unwrap();
    assert_eq!(v[0]["address"], "slow@example.net", "{ev}");
    let r = site.stdout(&[
        "list",
        "--events",
        "--reason",
        "userunknown",
        "--since",
        "1d",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&r).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 1, "{r}");
    // show: an address, an event id, a file.
    let j: serde_json::Value =
        serde_json::from_str(&site.stdout(&["show", "--json", "joe@example.com"])).unwrap();
    assert_eq!(j["suppressed"], true);
    let event = j["events"][0]["event"].as_i64().unwrap();
    let file = j["events"][0]["file"].as_str().unwrap().to_string();
    assert!(j["events"][0]["evidence"].is_string(), "{j}");
    let e = site.stdout(&["show", &event.to_string()]);
    assert!(e.contains("joe@example.com"), "{e}");
    let m = site.stdout(&["show", &file]);
    assert!(m.contains("joe@example.com"), "{m}");
    assert_eq!(site.run(&["show", "999999"]).status.code(), Some(2));
    // stats by every key, in every format.
    for by in ["day", "reason", "domain", "kind"] {
        for f in ["table", "csv", "json"] {
            site.stdout(&["stats", "--by", by, "--format", f]);
        }
    }
    let k: serde_json::Value =
        serde_json::from_str(&site.stdout(&["stats", "--by", "kind", "--json"])).unwrap();
    let total: i64 = k
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["messages"].as_i64().unwrap())
        .sum();
    assert_eq!(total, 9);
}

#[test]
fn verp_round_trip() {
    let site = Site::new();
    let enc = site.stdout(&[
        "verp",
        "joe@example.com",
        "--bounce-address",
        "bounces@sender.example",
    ]);
    assert_eq!(enc.trim(), "bounces+joe=example.com@sender.example");
    let dec = site.stdout(&["verp", "--decode", enc.trim()]);
    assert_eq!(dec.trim(), "joe@example.com");
    let other = site.stdout(&[
        "-o",
        "verp_delimiters=-#",
        "verp",
        "joe@example.com",
        "-b",
        "bounces@sender.example",
    ]);
    assert_eq!(other.trim(), "bounces-joe#example.com@sender.example");
    assert_eq!(
        site.run(&["verp", "--decode", "plain@sender.example"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        site.run(&["verp", "joe@example.com"]).status.code(),
        Some(2)
    );
}

#[test]
fn prune_keeps_suppressions() {
    let site = Site::new();
    site.fill();
    // Timestamps have whole seconds: let the messages be older than now.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let out = site.stdout(&["prune", "--older-than", "0s", "--dry-run"]);
    assert!(out.starts_with("would delete"), "{out}");
    assert_eq!(site.sql(&site.db(), "SELECT count(*) FROM messages"), 9);
    site.stdout(&["prune", "--older-than", "0s"]);
    // The three suppressed addresses keep their messages and events; the rest is gone.
    assert_eq!(site.sql(&site.db(), "SELECT count(*) FROM messages"), 3);
    assert_eq!(csv_addresses(&site.stdout(&["export"])), set(SUPPRESSED));
    site.stdout(&["rebuild"]);
    assert_eq!(csv_addresses(&site.stdout(&["export"])), set(SUPPRESSED));
    assert_eq!(
        site.sql(
            &site.db(),
            "SELECT count(*) FROM audit WHERE action = 'prune'"
        ),
        1
    );
    assert_eq!(
        site.run(&["prune", "--older-than", "soon"]).status.code(),
        Some(2)
    );
}

#[test]
fn doctor_runs_a_sample_delivery() {
    let site = Site::new();
    let out = site.run(&["doctor"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("sample bounce filed and recorded"), "{text}");
    assert_eq!(out.status.code(), Some(0), "{text}");
    // A broken configuration is a FAIL with what to fix, exit 2.
    let bad = site.dir.path().join("bad.conf");
    std::fs::write(&bad, "database = [1,\n").unwrap();
    let out = Command::new(REBOUND)
        .args(["-c", &bad.display().to_string(), "doctor"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stdout).contains("FAIL"));
}

#[test]
fn every_subcommand_has_help() {
    for sub in [
        "check",
        "list",
        "show",
        "stats",
        "export",
        "suppress",
        "unsuppress",
        "import",
        "verp",
        "prune",
        "rebuild",
        "doctor",
        "parse",
    ] {
        let out = Command::new(REBOUND)
            .args([sub, "--help"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{sub}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("--config"), "{sub}: {text}");
        assert!(text.contains("--option"), "{sub}: {text}");
    }
}

/// An admin who may read the database but not write it or its directory still gets answers
/// (run as `nobody` when the tests run as root, as in CI).
#[test]
fn read_only_admin_can_check_and_export() {
    if !nix::unistd::Uid::effective().is_root() {
        eprintln!("skipping: needs root to run a command as nobody");
        return;
    }
    let site = Site::new();
    site.fill();
    use std::os::unix::fs::PermissionsExt;
    for p in [site.dir.path().to_path_buf(), site.db()] {
        let mode = if p.is_dir() { 0o755 } else { 0o644 };
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    let as_nobody = |args: &[&str]| {
        Command::new("setpriv")
            .args([
                "--reuid=nobody",
                "--regid=nogroup",
                "--clear-groups",
                REBOUND,
            ])
            .args(["-o", &format!("database={}", site.db().display())])
            .args(args)
            .output()
            .unwrap()
    };
    let probe = as_nobody(&["--version"]);
    if !probe.status.success() {
        eprintln!("skipping: setpriv cannot run the binary as nobody");
        return;
    }
    assert_eq!(
        as_nobody(&["check", "joe@example.com"]).status.code(),
        Some(1)
    );
    assert_eq!(
        as_nobody(&["check", "never@example.com"]).status.code(),
        Some(0)
    );
    let out = as_nobody(&["export"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        csv_addresses(&String::from_utf8_lossy(&out.stdout)),
        set(SUPPRESSED)
    );
    // Writing is refused with exit 2, and says why.
    let out = as_nobody(&["suppress", "x@example.com"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("readonly"));
}

/// A plain directory of message files (and a README that is not one) and a single file.
#[test]
fn import_plain_files() {
    let site = Site::new();
    let out = site.run(&["import", "--json", &samples().display().to_string()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["messages"], 9, "{v}");
    assert_eq!(v["skipped"], 1, "{v}");
    assert_eq!(v["kinds"]["bounce"], 5, "{v}");
    assert_eq!(csv_addresses(&site.stdout(&["export"])), set(SUPPRESSED));
    let one = samples().join("hard-userunknown.eml");
    let out = site.stdout(&["import", &one.display().to_string()]);
    assert!(out.contains("1 already recorded"), "{out}");
    // A path that does not exist is an error.
    assert_eq!(
        site.run(&["import", "/nonexistent/x"]).status.code(),
        Some(2)
    );
}

/// A message larger than `classify_bytes` is read with bounded memory and still hashed
/// whole: importing what the agent filed finds it already recorded.
#[test]
fn import_large_message_hashes_whole() {
    let site = Site::new();
    let mut big = std::fs::read_to_string(samples().join("hard-userunknown.eml")).unwrap();
    big = big.replace("--=_hard-userunknown--\n", "");
    big.push_str("--=_hard-userunknown\nContent-Type: text/plain\n\n");
    for i in 0..5000 {
        big.push_str(&format!(
            "filler line {i} of a large returned message body\n"
        ));
    }
    big.push_str("--=_hard-userunknown--\n");
    let out = support::pipe(
        Command::new(LDA)
            .args(["-o", &format!("maildir={}", site.maildir().display())])
            .args(["-o", &format!("database={}", site.db().display())])
            .args(["-o", "log=stderr", "-o", "classify_bytes=65536"]),
        big.as_bytes(),
    );
    assert_eq!(out.status.code(), Some(0));
    let md = site.maildir().display().to_string();
    let out = site.stdout(&["-o", "classify_bytes=65536", "import", "--json", &md]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (v["new"].as_i64(), v["duplicates"].as_i64()),
        (Some(0), Some(1)),
        "{v}"
    );
    let fresh = site.dir.path().join("fresh.db");
    let out = site.run_on(
        &fresh,
        &["-o", "classify_bytes=65536", "import", "--json", &md],
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["new"], 1, "{v}");
    let size = |db: &Path| site.sql(db, "SELECT size FROM messages");
    assert_eq!(size(&fresh), size(&site.db()));
    assert!(size(&fresh) > 200_000);
}

/// `rebound parse` prints the same bytes in the same order on one thread or several, and a
/// reader that stops early (`rebound parse ... | head`) ends it rather than leaving a thread
/// blocked.
#[test]
fn parse_output_does_not_depend_on_jobs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/samples");
    let dirs: Vec<String> = ["rfc", "mta", "provider", "admin"]
        .iter()
        .map(|d| root.join(d).display().to_string())
        .collect();
    let parse = |extra: &[&str]| {
        let out = Command::new(REBOUND)
            .arg("parse")
            .args(extra)
            .args(&dirs)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{extra:?}");
        out.stdout
    };
    for explain in [&[][..], &["--explain"][..]] {
        let one = parse(&[explain, &["--jobs", "1"]].concat());
        assert!(one.len() > 20_000, "{}", one.len());
        for jobs in ["2", "3", "8"] {
            let many = parse(&[explain, &["--jobs", jobs]].concat());
            assert!(
                many == one,
                "--jobs {jobs} {explain:?} differs from --jobs 1"
            );
        }
    }

    // Ten times the samples: more output than a pipe holds, read a little, then close it.
    let many: Vec<&String> = dirs.iter().cycle().take(10 * dirs.len()).collect();
    let mut child = Command::new(REBOUND)
        .args(["parse", "--jobs", "2"])
        .args(&many)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 100];
    std::io::Read::read_exact(child.stdout.as_mut().unwrap(), &mut first).unwrap();
    drop(child.stdout.take());
    // A liveness guard only (a blocked thread never ends); it finishes in milliseconds.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "rebound parse still running after its reader left"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(2), "a write error is an error");
}

/// A process that may not start threads (RLIMIT_NPROC, a container's pids limit) still
/// parses, on its own thread, rather than panic (run as `nobody` with a limit of one
/// process when the tests run as root, as in CI).
#[test]
fn parse_without_threads_works_alone() {
    if !nix::unistd::Uid::effective().is_root() {
        eprintln!("skipping: needs root to run a command as nobody");
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let rfc = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/samples/rfc");
    for entry in std::fs::read_dir(rfc).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "eml") {
            let copy = dir.path().join(path.file_name().unwrap());
            std::fs::copy(&path, &copy).unwrap();
            std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
    }
    let limited = |args: &[&str]| {
        Command::new("prlimit")
            .args(["--nproc=1", "setpriv", "--reuid=nobody", "--regid=nogroup"])
            .args(["--clear-groups", REBOUND])
            .args(args)
            .output()
            .unwrap()
    };
    if !limited(&["--version"]).status.success() {
        eprintln!("skipping: prlimit/setpriv cannot run the binary as nobody");
        return;
    }
    let dir = dir.path().display().to_string();
    let alone = limited(&["parse", "--jobs", "4", &dir]);
    assert_eq!(
        alone.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&alone.stderr)
    );
    let one = Command::new(REBOUND)
        .args(["parse", "--jobs", "1", &dir])
        .output()
        .unwrap();
    assert!(one.stdout.len() > 1000);
    assert!(alone.stdout == one.stdout, "output differs without threads");
}

/// `rebound import` records in the order it reads whatever the number of threads that
/// classify: the same rows, ids included, from `--jobs 1` and `--jobs 3`, from a Maildir
/// and from the samples of every format as plain files.
#[test]
fn import_does_not_depend_on_jobs() {
    let site = Site::new();
    site.fill();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/samples");
    let md = site.maildir().display().to_string();
    let dump = |db: &Path| -> Vec<String> {
        let conn = rusqlite::Connection::open(db).unwrap();
        let mut rows = Vec::new();
        for table in ["messages", "events", "suppressions", "soft_counts"] {
            let mut stmt = conn
                .prepare(&format!("SELECT * FROM {table} ORDER BY 1"))
                .unwrap();
            let n = stmt.column_count();
            let mut q = stmt.query([]).unwrap();
            while let Some(r) = q.next().unwrap() {
                let cells: Vec<String> = (0..n)
                    .map(|i| format!("{:?}", r.get_ref(i).unwrap()))
                    .collect();
                rows.push(format!("{table}: {}", cells.join("|")));
            }
        }
        rows
    };
    let mut dumps = Vec::new();
    for jobs in ["1", "3"] {
        let db = site.dir.path().join(format!("jobs{jobs}.db"));
        let mut args = vec!["import", "-q", "--jobs", jobs, md.as_str()];
        let dirs: Vec<String> = ["rfc", "mta", "provider"]
            .iter()
            .map(|d| root.join(d).display().to_string())
            .collect();
        args.extend(dirs.iter().map(String::as_str));
        let out = site.run_on(&db, &args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        dumps.push(dump(&db));
    }
    assert!(dumps[0].len() > 100, "{}", dumps[0].len());
    assert!(
        dumps[0] == dumps[1],
        "--jobs 3 recorded differently from --jobs 1"
    );
}
