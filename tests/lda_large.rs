//! Bounded memory: a 100 MB message streams to disk and is filed byte-exact, while the agent
//! keeps only the classification prefix (`classify_bytes`, 4 MiB by default) in memory. Peak
//! RSS is the kernel's: getrusage(RUSAGE_CHILDREN) once the agent was waited for. The test
//! itself never holds the message in memory: a child's `ru_maxrss` starts from the parent's
//! high-water mark (the kernel copies it at fork and keeps it across exec).

mod support;

use std::io::{BufWriter, Read, Write};
use std::path::Path;
use std::process::Stdio;
use support::{Area, Test};

const SIZE: u64 = 100 << 20;

/// Write a message of at least `SIZE` bytes, streamed.
fn write_big_message(path: &Path) {
    let mut w = BufWriter::new(std::fs::File::create(path).unwrap());
    w.write_all(
        b"Return-Path: <>\nFrom: MAILER-DAEMON@mx.sender.example\nTo: bounces+big=example.com@sender.example\nSubject: huge\nMessage-ID: <huge@mx.sender.example>\nContent-Type: text/plain\n\n",
    )
    .unwrap();
    let mut written = 0u64;
    let mut i: u64 = 0;
    while written < SIZE {
        // Varying lines, so a wrong offset anywhere shows in the comparison.
        let line = format!("line {i:012} of a very large returned message body 0123456789\n");
        w.write_all(line.as_bytes()).unwrap();
        written += line.len() as u64;
        i += 1;
    }
    w.flush().unwrap();
}

/// Compare two files chunk by chunk.
fn same_bytes(a: &Path, b: &Path) -> bool {
    let (mut fa, mut fb) = (
        std::fs::File::open(a).unwrap(),
        std::fs::File::open(b).unwrap(),
    );
    if fa.metadata().unwrap().len() != fb.metadata().unwrap().len() {
        return false;
    }
    let (mut ba, mut bb) = (vec![0u8; 1 << 20], vec![0u8; 1 << 20]);
    loop {
        let n = fa.read(&mut ba).unwrap();
        if n == 0 {
            return true;
        }
        fb.read_exact(&mut bb[..n]).unwrap();
        if ba[..n] != bb[..n] {
            return false;
        }
    }
}

#[test]
fn hundred_megabytes_byte_exact_in_bounded_memory() {
    let area = Area::new();
    let input = area.path().join("big.eml");
    write_big_message(&input);
    let out = Test::lda_in(&area)
        .command()
        .stdin(std::fs::File::open(&input).unwrap())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    // Linux reports ru_maxrss in kilobytes.
    let rss_kb = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN)
        .unwrap()
        .max_rss();
    eprintln!("peak RSS {rss_kb} kB for a {} MB message", SIZE >> 20);
    assert!(rss_kb > 0 && rss_kb < 40 * 1024, "peak RSS {rss_kb} kB");
    let files = area.new_files();
    assert_eq!(files.len(), 1);
    assert!(area.tmp_files().is_empty());
    assert!(same_bytes(&input, &files[0]), "filed message differs");
    assert_eq!(area.rows("messages"), 1);

    // -p reads the file itself, the same way.
    let area2 = Area::new();
    Test::lda_in(&area2)
        .arg("-p")
        .arg(&input)
        .status(0)
        .maildir_new(1);
    assert!(same_bytes(&input, &area2.new_files()[0]));
}
