//! The shared corpus (`../shared/corpus/sisimai`, beside the crate) through the real
//! binaries, as the acceptance check runs it: every message piped through
//! `rebound-lda -o maildir=DIR -o database=DB`, then `rebound export --format csv`.
//!
//! What it asserts:
//! 1. every message is filed (exit 0);
//! 2. the policy adds and drops nothing: the exported list is exactly the hard-bounced
//!    (kind bounce, hard true, action failed or none) and complained-about (kind complaint,
//!    feedback type not `not-spam`/`auth-failure`) recipients of `rebound parse` on the same
//!    files, final and original addresses;
//! 3. against `expected.jsonl`: the export misses no expected hard/complaint recipient and
//!    lists no address whose every expected failure is soft or sender-related, except where
//!    `rebound parse` itself disagrees with the expectation for that address (printed);
//! 4. `check` gives 1 for the exported addresses (a sample) and 0 for a never-seen one;
//! 5. `import` of the filled Maildir changes no count, and into an empty database
//!    reproduces the same list.
//!
//! Skips (saying so) where the corpus is absent; under `CI=true` it must be there.

mod support;

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

const LDA: &str = env!("CARGO_BIN_EXE_rebound-lda");
const REBOUND: &str = env!("CARGO_BIN_EXE_rebound");

fn corpus() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/sisimai");
    if dir.join("expected.jsonl").is_file() {
        return Some(dir);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("corpus {} is required under CI=true", dir.display());
    }
    eprintln!("skipping: no corpus at {}", dir.display());
    None
}

fn rebound(db: &Path, args: &[&str]) -> std::process::Output {
    Command::new(REBOUND)
        .args(["-o", &format!("database={}", db.display())])
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn exported(db: &Path) -> BTreeSet<String> {
    let out = rebound(db, &["export", "--format", "csv"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    assert!(lines.next().unwrap().starts_with("address,"));
    lines
        .map(|l| {
            // An address with a comma or quote is CSV-quoted.
            if let Some(rest) = l.strip_prefix('"') {
                let mut s = String::new();
                let mut chars = rest.chars().peekable();
                while let Some(c) = chars.next() {
                    if c == '"' {
                        if chars.peek() == Some(&'"') {
                            chars.next();
                            s.push('"');
                        } else {
                            break;
                        }
                    } else {
                        s.push(c);
                    }
                }
                s
            } else {
                l.split(',').next().unwrap().to_string()
            }
        })
        .collect()
}

fn recipients(v: &Value) -> Vec<&Value> {
    v["recipients"]
        .as_array()
        .map(|a| a.iter().collect())
        .unwrap_or_default()
}

fn addrs(r: &Value) -> Vec<String> {
    ["address", "original"]
        .iter()
        .filter_map(|k| r[*k].as_str())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Whether the policy (defaults) suppresses this recipient of this verdict at once.
fn suppresses(v: &Value, r: &Value) -> bool {
    match v["kind"].as_str() {
        Some("bounce") => {
            r["hard"] == Value::Bool(true) && matches!(r["action"].as_str(), None | Some("failed"))
        }
        Some("complaint") => !matches!(
            v["feedback_type"].as_str(),
            Some("not-spam") | Some("auth-failure")
        ),
        _ => false,
    }
}

#[test]
fn corpus_export_matches_policy_and_expectations() {
    let Some(dir) = corpus() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let md = tmp.path().join("Maildir");
    let db = tmp.path().join("rebound.db");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "empty corpus {}", dir.display());

    // 1. Every message through the real agent.
    for f in &files {
        let out = support::pipe(
            Command::new(LDA)
                .args(["-o", &format!("maildir={}", md.display())])
                .args(["-o", &format!("database={}", db.display())])
                .args(["-o", "log=stderr"]),
            &std::fs::read(f).unwrap(),
        );
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}: {}",
            f.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let export = exported(&db);

    // 2. The policy over `rebound parse`'s verdicts gives exactly the export.
    let out = rebound(&db, &["parse", &dir.display().to_string()]);
    assert_eq!(out.status.code(), Some(0));
    let mut parsed: BTreeMap<String, Value> = BTreeMap::new();
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        parsed.insert(v["file"].as_str().unwrap().to_string(), v);
    }
    let mut from_parse = BTreeSet::new();
    for v in parsed.values() {
        for r in recipients(v) {
            if suppresses(v, r) {
                from_parse.extend(addrs(r));
            }
        }
    }
    let added: Vec<_> = export.difference(&from_parse).collect();
    let dropped: Vec<_> = from_parse.difference(&export).collect();
    assert!(
        added.is_empty() && dropped.is_empty(),
        "the policy changed the list: added {added:?}, dropped {dropped:?}"
    );

    // 3. Against the expectations: every difference is one of `rebound parse`'s.
    let mut want = BTreeSet::new();
    let mut seen = BTreeSet::new();
    let mut by_addr: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in std::fs::read_to_string(dir.join("expected.jsonl"))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
    {
        let v: Value = serde_json::from_str(line).unwrap();
        let file = v["file"].as_str().unwrap().to_string();
        for r in recipients(&v) {
            let a = addrs(r);
            for x in &a {
                by_addr.entry(x.clone()).or_default().push(file.clone());
                seen.insert(x.clone());
            }
            if suppresses(&v, r) {
                // Found when either of its addresses is exported.
                want.insert(a);
            }
        }
    }
    let wanted_any: BTreeSet<String> = want.iter().flatten().cloned().collect();
    let missing: Vec<&Vec<String>> = want
        .iter()
        .filter(|a| !a.iter().any(|x| export.contains(x)))
        .collect();
    let extra: Vec<&String> = export
        .iter()
        .filter(|x| seen.contains(*x) && !wanted_any.contains(*x))
        .collect();
    // A difference is the parser's when, in a file naming the address, parse's verdict
    // for it suppresses and the expectation does not, or the other way round.
    let parse_suppresses = |file: &str, x: &str| {
        parsed.get(file).is_some_and(|v| {
            recipients(v)
                .iter()
                .any(|r| addrs(r).iter().any(|a| a == x) && suppresses(v, r))
        })
    };
    let mut not_parser = Vec::new();
    for a in &missing {
        let parser = a.iter().any(|x| {
            by_addr
                .get(x)
                .is_some_and(|fs| fs.iter().all(|f| !parse_suppresses(f, x)))
        });
        if !parser {
            not_parser.push(format!("missing {a:?}"));
        }
    }
    for x in &extra {
        let parser = by_addr
            .get(*x)
            .is_some_and(|fs| fs.iter().any(|f| parse_suppresses(f, x)))
            || from_parse.contains(*x);
        if !parser {
            not_parser.push(format!("extra {x}"));
        }
    }
    eprintln!(
        "corpus: {} files, {} exported, {} expected hard/complaint recipients; {} missing and {} extra, all from rebound parse's verdicts",
        files.len(),
        export.len(),
        want.len(),
        missing.len(),
        extra.len()
    );
    for a in missing.iter().take(40) {
        eprintln!("  missing {a:?} ({:?})", by_addr.get(&a[0]));
    }
    for x in extra.iter().take(40) {
        eprintln!("  extra   {x} ({:?})", by_addr.get(*x));
    }
    assert!(
        not_parser.is_empty(),
        "differences not explained by parse: {not_parser:?}"
    );

    // 4. check: 1 for exported addresses, 0 for a never-seen one.
    for x in export.iter().take(25) {
        assert_eq!(rebound(&db, &["check", x]).status.code(), Some(1), "{x}");
    }
    assert_eq!(
        rebound(&db, &["check", "never-seen@example.com"])
            .status
            .code(),
        Some(0)
    );

    // 5. import: idempotent on the same database, reproduces the list into an empty one.
    let count = |db: &Path, table: &str| -> i64 {
        rusqlite::Connection::open(db)
            .unwrap()
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .unwrap()
    };
    let before: Vec<i64> = ["messages", "events", "suppressions"]
        .iter()
        .map(|t| count(&db, t))
        .collect();
    let out = rebound(&db, &["import", &md.display().to_string()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after: Vec<i64> = ["messages", "events", "suppressions"]
        .iter()
        .map(|t| count(&db, t))
        .collect();
    assert_eq!(
        before, after,
        "import into the same database changed counts"
    );
    let fresh = tmp.path().join("fresh.db");
    let out = rebound(&fresh, &["import", &md.display().to_string()]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(exported(&fresh), export, "import into an empty database");
}
