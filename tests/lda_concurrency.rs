//! Any number of rebound-lda processes at once on one Maildir and one database: every
//! message filed, every record written, no "database is locked" losses (busy timeout,
//! BEGIN IMMEDIATE, WAL). The first deliveries also race to create the Maildir, the folders
//! and the database with its migrations.

mod support;

use std::process::Stdio;
use support::{Area, Test, sample};

fn message(i: usize) -> Vec<u8> {
    // Distinct content per delivery: a retry of the same bytes would be recorded once.
    let base = String::from_utf8(sample("dsn-userunknown.eml")).unwrap();
    base.replace(
        "Message-Id: <20261128030001.4Z1A2B3C4D@mx.sender.example>",
        &format!("Message-Id: <{i}.concurrent@mx.sender.example>"),
    )
    .into_bytes()
}

fn deliver_all(area: &Area, first: usize, count: usize) -> Vec<(i32, String)> {
    let mut children = Vec::new();
    for i in first..first + count {
        let mut cmd = Test::lda_in(area).command();
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let msg = message(i);
        let writer = std::thread::spawn(move || {
            use std::io::Write;
            stdin.write_all(&msg).unwrap();
        });
        children.push((child, writer));
    }
    children
        .into_iter()
        .map(|(c, w)| {
            w.join().unwrap();
            let out = c.wait_with_output().unwrap();
            (
                out.status.code().unwrap_or(-1),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            )
        })
        .collect()
}

fn check(area: &Area, results: &[(i32, String)], n: usize) {
    for (code, err) in results {
        assert_eq!(*code, 0, "{err}");
        assert!(err.contains("db=recorded"), "{err}");
        assert!(!err.contains("locked"), "{err}");
    }
    assert_eq!(area.new_files().len(), n);
    assert!(area.tmp_files().is_empty());
    assert_eq!(area.rows("messages"), n as i64);
}

#[test]
fn fifty_at_once() {
    let area = Area::new();
    let results = deliver_all(&area, 0, 50);
    check(&area, &results, 50);
}

#[test]
fn five_hundred_from_sixteen_streams() {
    let area = Area::new();
    let streams: Vec<_> = (0..16)
        .map(|s| {
            let area = area.clone();
            std::thread::spawn(move || {
                let mut all = Vec::new();
                let (start, end) = (s * 500 / 16, (s + 1) * 500 / 16);
                for i in start..end {
                    all.extend(deliver_all(&area, i, 1));
                }
                all
            })
        })
        .collect();
    let results: Vec<_> = streams
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    assert_eq!(results.len(), 500);
    check(&area, &results, 500);
}
