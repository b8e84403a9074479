//! Fuzz target: the whole delivery path of the real `rebound-lda` binary with a generated
//! envelope (`-f`, `-a`, `-m`, Postfix's `SENDER`/`RECIPIENT`/`EXTENSION`) and a generated
//! message, into a fresh Maildir and database. Whatever the input: exit 0 with exactly one
//! complete file in a `new/` and an empty `tmp/`, or exit 75 with a `4.x.y` first stderr line
//! and nothing filed; never a panic exit (101), never a path outside the Maildir. The binary is
//! `$REBOUND_LDA`, default `../target/release/rebound-lda` (fuzz/ci-run.sh builds it).
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn lda() -> PathBuf {
    std::env::var_os("REBOUND_LDA").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/release/rebound-lda"),
        PathBuf::from,
    )
}

/// Splits `data` at NUL bytes: up to five envelope fields, then the message.
fn fields(data: &[u8]) -> (Vec<String>, &[u8]) {
    let mut out = Vec::new();
    let mut rest = data;
    while out.len() < 5 {
        match rest.iter().position(|b| *b == 0) {
            Some(i) => {
                out.push(String::from_utf8_lossy(&rest[..i]).replace('\0', ""));
                rest = &rest[i + 1..];
            }
            None => break,
        }
    }
    (out, rest)
}

fn files(dir: &Path, sub: &str) -> Vec<PathBuf> {
    let mut v = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return v;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.file_name() == Some(sub.as_ref()) {
            v.extend(
                std::fs::read_dir(&p)
                    .into_iter()
                    .flatten()
                    .flatten()
                    .map(|e| e.path()),
            );
        } else if e.file_name().to_string_lossy().starts_with('.') && p.is_dir() {
            v.extend(files(&p, sub));
        }
    }
    v
}

fuzz_target!(|data: &[u8]| {
    let (f, message) = fields(data);
    let get = |i: usize| f.get(i).filter(|s| !s.is_empty()).cloned();
    let area = tempfile::tempdir().expect("tempdir");
    let md = area.path().join("Maildir");
    let mut cmd = Command::new(lda());
    cmd.env_clear()
        .env("PATH", "/usr/bin:/bin")
        .arg("-o")
        .arg("log=stderr")
        .arg("-o")
        .arg(format!("maildir={}", md.display()))
        .arg("-o")
        .arg(format!(
            "database={}",
            area.path().join("rebound.db").display()
        ));
    if let Some(s) = get(0) {
        cmd.arg("-f").arg(s);
    }
    if let Some(s) = get(1) {
        cmd.arg("-a").arg(s);
    }
    if let Some(s) = get(2) {
        cmd.arg("-m").arg(s);
    }
    if let Some(s) = get(3) {
        cmd.env("RECIPIENT", s);
    }
    if let Some(s) = get(4) {
        cmd.env("EXTENSION", s);
    }
    // The message comes from a file, not a pipe: an agent that exits before reading it all
    // must not kill the fuzzer with SIGPIPE (libFuzzer does not ignore it).
    let input = area.path().join("input.eml");
    std::fs::write(&input, message).expect("write input");
    let out = cmd
        .stdin(Stdio::from(
            std::fs::File::open(&input).expect("open input"),
        ))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .expect("run rebound-lda (build it: cargo build --release --bin rebound-lda)");
    std::fs::remove_file(&input).expect("remove input");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let filed = files(&md, "new");
    match out.status.code() {
        Some(0) => {
            assert_eq!(
                filed.len(),
                1,
                "exit 0 must file exactly one message; stderr:\n{stderr}"
            );
            let got = std::fs::read(&filed[0]).expect("read filed");
            // The agent may prepend Return-Path:/Delivered-To:, and it turns a leading mbox
            // `From ` line into the sender; everything else is filed as received.
            assert!(
                message.starts_with(b"From ") || got.ends_with(message),
                "the filed message must end with the bytes received"
            );
        }
        Some(75) => {
            assert!(
                filed.is_empty(),
                "exit 75 but a message was filed; stderr:\n{stderr}"
            );
            assert!(
                stderr.starts_with("4."),
                "exit 75 needs a 4.x.y first line: {stderr}"
            );
        }
        other => {
            panic!("rebound-lda exited {other:?} (only 0 or 75 are allowed); stderr:\n{stderr}")
        }
    }
    assert!(
        files(&md, "tmp").is_empty(),
        "tmp/ must be empty after the agent exits"
    );
    // Nothing may appear beside the Maildir and the database.
    for e in std::fs::read_dir(area.path()).expect("read area").flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        assert!(
            name == "Maildir" || name.starts_with("rebound.db"),
            "the agent wrote outside the Maildir: {name}"
        );
    }
});
