//! Fault injection on the database side, through the real `rebound-lda`: the database held
//! by another process (`BEGIN EXCLUSIVE`) for longer than the busy timeout, and a database
//! file that is not a database at all. The Maildir is the record of truth (DESIGN.md, step 5):
//! in both cases the message is filed, the agent exits 0 within a bounded time, the error is
//! logged with the Maildir file name, and `rebound import` brings the database back in line
//! once the fault is gone, without counting any message twice.

mod fault_support;

use fault_support::*;
use std::time::{Duration, Instant};

#[test]
fn database_locked_past_busy_timeout_files_and_logs() {
    let area = Area::new();
    let md = area.maildir();
    let db = area.db();
    let out = deliver(lda(&md, &db), &bounce(0));
    assert_delivered(&out, "first delivery creates the database");

    // The test process is the other process: it holds the write lock while the agent runs.
    let holder = rusqlite::Connection::open(&db).expect("open");
    holder
        .execute_batch("BEGIN EXCLUSIVE; INSERT INTO audit(at, action, note) VALUES ('2026-11-28T03:00:00Z', 'import', 'fault test holds the lock');")
        .expect("take the lock");

    let started = Instant::now();
    let mut cmd = lda(&md, &db);
    cmd.arg("-o").arg("busy_timeout_ms=200");
    let out = deliver(cmd, &bounce(1));
    let took = started.elapsed();
    assert_delivered(&out, "database locked: the message is safe, exit 0");
    assert!(
        took < Duration::from_secs(10),
        "a 200 ms busy timeout must not hold the MTA for {took:?}"
    );
    assert_logged_with_file(&out, &md, 1, "the failed database write");
    assert!(in_tmp(&md).is_empty());

    holder.execute_batch("ROLLBACK;").expect("release");
    drop(holder);
    let out = import(&md, &db);
    assert!(
        out.status.success(),
        "rebound import failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(rows(&db, "SELECT count(*) FROM messages"), 2);
    // Idempotent: a second import changes nothing.
    let out = import(&md, &db);
    assert!(out.status.success());
    assert_eq!(rows(&db, "SELECT count(*) FROM messages"), 2);
}

#[test]
fn database_locked_by_sqlite3_cli() {
    // The same fault made by the tool an admin really uses, when it is installed.
    if std::process::Command::new("sqlite3")
        .arg("-version")
        .output()
        .is_err()
    {
        eprintln!("database_locked_by_sqlite3_cli: skipped, no sqlite3 CLI");
        return;
    }
    let area = Area::new();
    let md = area.maildir();
    let db = area.db();
    assert_delivered(&deliver(lda(&md, &db), &bounce(0)), "first delivery");

    use std::io::{BufRead, Write};
    let mut cli = std::process::Command::new("sqlite3")
        .arg(&db)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("sqlite3");
    let mut stdin = cli.stdin.take().expect("stdin");
    stdin
        .write_all(b"BEGIN EXCLUSIVE;\nDELETE FROM audit WHERE 0;\nSELECT 'locked';\n")
        .expect("write");
    stdin.flush().expect("flush");
    let mut line = String::new();
    std::io::BufReader::new(cli.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("read");
    assert_eq!(line.trim(), "locked");

    let mut cmd = lda(&md, &db);
    cmd.arg("-o").arg("busy_timeout_ms=100");
    let out = deliver(cmd, &bounce(1));
    assert_delivered(&out, "locked by sqlite3");
    assert_eq!(filed(&md).len(), 2);

    stdin.write_all(b"ROLLBACK;\n.quit\n").expect("write");
    drop(stdin);
    let _ = cli.wait();
    assert!(import(&md, &db).status.success());
    assert_eq!(rows(&db, "SELECT count(*) FROM messages"), 2);
}

#[test]
fn corrupt_database_files_and_logs() {
    let area = Area::new();
    let md = area.maildir();
    let db = area.db();
    let garbage: Vec<u8> = (0..64 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    std::fs::write(&db, &garbage).expect("write garbage");
    give_to_agent(&db);

    let out = deliver(lda(&md, &db), &bounce(1));
    assert_delivered(&out, "corrupt database: the message is safe, exit 0");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(filed(&md).len(), 1, "stderr:\n{stderr}");
    assert_logged_with_file(&out, &md, 1, "the database error");
    assert_eq!(
        std::fs::read(&db).expect("read db"),
        garbage,
        "the agent must not overwrite a file it cannot read as a database"
    );

    // A database whose header is right but whose pages are garbage.
    let area = Area::new();
    let md = area.maildir();
    let db = area.db();
    assert_delivered(&deliver(lda(&md, &db), &bounce(0)), "first delivery");
    let mut bytes = std::fs::read(&db).expect("read");
    for b in bytes.iter_mut().skip(100) {
        *b ^= 0xa5;
    }
    std::fs::write(&db, &bytes).expect("corrupt");
    let out = deliver(lda(&md, &db), &bounce(1));
    assert_delivered(&out, "corrupt pages: the message is safe, exit 0");
    assert_eq!(filed(&md).len(), 2);
    assert!(in_tmp(&md).is_empty());
}
