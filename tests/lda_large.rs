//! Bounded memory: a 100 MB message streams to disk and is filed byte-exact, while the agent
//! keeps only the classification prefix (`classify_bytes`, 4 MiB by default) in memory. Peak
//! RSS is measured with GNU time (`/usr/bin/time -v`, Debian package `time`).

mod support;

use std::io::Write;
use std::process::{Command, Stdio};
use support::{Area, Test, skip};

const SIZE: usize = 100 << 20;

fn big_message() -> Vec<u8> {
    let mut m = Vec::with_capacity(SIZE + 4096);
    m.extend_from_slice(
        b"Return-Path: <>\nFrom: MAILER-DAEMON@mx.sender.example\nTo: bounces+big=example.com@sender.example\nSubject: huge\nMessage-ID: <huge@mx.sender.example>\nContent-Type: text/plain\n\n",
    );
    let mut i: u64 = 0;
    while m.len() < SIZE {
        // Varying lines, so a wrong offset anywhere shows in the comparison.
        writeln!(
            m,
            "line {i:012} of a very large returned message body 0123456789"
        )
        .unwrap();
        i += 1;
    }
    m
}

#[test]
fn hundred_megabytes_byte_exact_in_bounded_memory() {
    let time = std::path::Path::new("/usr/bin/time");
    if !time.exists() {
        skip("/usr/bin/time (package `time`) is not installed");
        return;
    }
    let area = Area::new();
    let msg = big_message();
    let input = area.path().join("big.eml");
    std::fs::write(&input, &msg).unwrap();
    let lda = Test::lda_in(&area).command();
    let mut cmd = Command::new(time);
    cmd.arg("-v").arg(lda.get_program()).args(lda.get_args());
    cmd.env_clear().env("PATH", "/usr/bin:/bin");
    let out = cmd
        .stdin(std::fs::File::open(&input).unwrap())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let rss_kb: u64 = err
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("Maximum resident set size (kbytes): ")
        })
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no RSS in {err}"));
    eprintln!("peak RSS {rss_kb} kB for a {} MB message", SIZE >> 20);
    assert!(rss_kb < 40 * 1024, "peak RSS {rss_kb} kB");
    let files = area.new_files();
    assert_eq!(files.len(), 1);
    assert!(area.tmp_files().is_empty());
    let filed = std::fs::read(&files[0]).unwrap();
    assert!(
        filed == msg,
        "filed message differs ({} vs {} bytes)",
        filed.len(),
        msg.len()
    );
    assert_eq!(area.rows("messages"), 1);

    // -p reads the file itself, the same way.
    let area2 = Area::new();
    Test::lda_in(&area2)
        .arg("-p")
        .arg(&input)
        .status(0)
        .maildir_new(1);
    assert!(std::fs::read(&area2.new_files()[0]).unwrap() == msg);
}
