//! rebound-db(5) kept true: every query of its QUERIES section (an `.EX` block after a
//! `.\" query` line) runs through the real `sqlite3` command-line shell against a database
//! filled by piping `tests/samples/admin/` through the real rebound-lda; and every table,
//! view and column of the real schema is documented on the page.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

const LDA: &str = env!("CARGO_BIN_EXE_rebound-lda");

fn page() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("man/rebound-db.5")).unwrap()
}

/// roff escapes used on the page, back to the characters a user types.
fn unroff(s: &str) -> String {
    s.replace("\\(aq", "'")
        .replace("\\(dq", "\"")
        .replace("\\-", "-")
        .replace("\\e", "\\")
        .replace("\\&", "")
}

/// The documented queries, in page order.
fn queries(page: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut lines = page.lines();
    while let Some(l) = lines.next() {
        if l.trim() != ".\\\" query" {
            continue;
        }
        assert_eq!(
            lines.next().map(str::trim),
            Some(".EX"),
            "query marker without .EX"
        );
        let mut q = String::new();
        for l in lines.by_ref() {
            if l.trim() == ".EE" {
                break;
            }
            q.push_str(&unroff(l));
            q.push('\n');
        }
        out.push(q);
    }
    out
}

fn filled_db(dir: &Path) -> PathBuf {
    let db = dir.join("rebound.db");
    let md = dir.join("Maildir");
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/samples/admin");
    let mut files: Vec<_> = std::fs::read_dir(samples)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    files.sort();
    for f in files {
        let out = support::pipe(
            Command::new(LDA)
                .args(["-o", &format!("maildir={}", md.display())])
                .args(["-o", &format!("database={}", db.display())])
                .args(["-o", "log=stderr"]),
            &std::fs::read(&f).unwrap(),
        );
        assert_eq!(out.status.code(), Some(0));
    }
    db
}

fn sqlite3() -> Option<&'static str> {
    let ok = Command::new("sqlite3")
        .arg("-version")
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        return Some("sqlite3");
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!(
            "the sqlite3 command-line shell is required under CI=true (apt-get install sqlite3)"
        );
    }
    eprintln!("skipping: no sqlite3 command-line shell");
    None
}

#[test]
fn documented_queries_run_in_sqlite3() {
    let Some(sqlite3) = sqlite3() else { return };
    let qs = queries(&page());
    assert!(
        qs.len() >= 10,
        "rebound-db(5) documents {} queries",
        qs.len()
    );
    let dir = tempfile::tempdir().unwrap();
    let db = filled_db(dir.path());
    let mut outputs = Vec::new();
    for q in &qs {
        let out = support::pipe(
            Command::new(sqlite3)
                .args(["-readonly", "-bail", "-header", "-csv"])
                .arg(&db),
            q.as_bytes(),
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && err.is_empty(),
            "query failed: {err}\n{q}"
        );
        outputs.push(String::from_utf8_lossy(&out.stdout).into_owned());
    }
    // The examples answer with the sample data: joe@example.com is hard-bounced.
    assert!(
        outputs[0].contains("joe@example.com,hard,userunknown"),
        "{}",
        outputs[0]
    );
    assert!(outputs[2].contains("bounce"), "{}", outputs[2]);
    assert!(outputs[4].contains("abuse"), "{}", outputs[4]);
}

#[test]
fn every_table_view_and_column_is_documented() {
    let page = unroff(&page());
    let dir = tempfile::tempdir().unwrap();
    let db = filled_db(dir.path());
    let c = rusqlite::Connection::open(&db).unwrap();
    let objects: Vec<(String, String)> = c
        .prepare("SELECT type, name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%'")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(objects.len() >= 10);
    let mut missing = Vec::new();
    for (kind, name) in &objects {
        let heading = match kind.as_str() {
            "table" => format!(".SS {name}\n"),
            _ => format!(".B {name}\n"),
        };
        if !page.contains(&heading) {
            missing.push(format!("{kind} {name}"));
        }
        let cols: Vec<String> = c
            .prepare(&format!("PRAGMA table_info({name})"))
            .unwrap()
            .query_map([], |r| r.get(1))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        for col in cols {
            let documented = page.contains(&format!(".B {col}\n"))
                || page.contains(&format!(".BR {col} "))
                || page.contains(&format!(" {col} \""))
                || page.contains(&format!("\" {col}\n"))
                || page.contains(&format!(".BR {col}\n"))
                || page.contains(&format!("\" {col} "))
                || page.contains(&format!(", {col}\n"))
                || page.contains(&format!(".B {col} "));
            if !documented {
                missing.push(format!("{name}.{col}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "not documented in rebound-db(5): {missing:?}"
    );
}

/// rebound.conf(5), POLICY: every `policy.*` key is documented with its default, and the
/// example parses.
#[test]
fn policy_section_documents_every_key() {
    let page =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("man/rebound.conf.5"))
            .unwrap();
    let start = page.find(".SH POLICY").expect("POLICY section");
    let end = page[start..].find(".\\\" END POLICY").unwrap() + start;
    let section = unroff(&page[start..end]);
    let defaults = serde_json::to_value(rebound::store::policy::Policy::default()).unwrap();
    for (key, value) in defaults.as_object().unwrap() {
        let shown = match value {
            serde_json::Value::Array(a) => format!(
                "[{}]",
                a.iter()
                    .map(|v| format!("\\(dq{}\\(dq", v.as_str().unwrap()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            v => v.to_string(),
        };
        let tag_br = format!(".BR {key} \"");
        let tag_f = format!("\\fB{key}\\fR (");
        assert!(
            section.contains(&tag_br) || section.contains(&tag_f),
            "policy.{key} not documented"
        );
        let line = section
            .lines()
            .find(|l| l.contains(&tag_br) || l.contains(&tag_f))
            .unwrap();
        let shown = unroff(&shown);
        let line_u = unroff(line).replace("\\(dq", "\"");
        assert!(
            line_u.contains(&shown.replace("\\(dq", "\"")),
            "policy.{key}: default {shown} not on {line}"
        );
    }
    let example = section
        .split(".EX\n")
        .nth(1)
        .and_then(|s| s.split(".EE").next())
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("rebound.conf");
    std::fs::write(&conf, example).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_rebound"))
        .args(["-c", &conf.display().to_string()])
        .args(["verp", "--decode", "bounces+a=example.com@sender.example"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
