//! Shared harness of the fault-injection tests (`tests/fault_*.rs`): runs the real built
//! `rebound-lda` and `rebound` binaries on a real Maildir and SQLite file, mounts small tmpfs
//! file systems to make disks fill up or turn read-only, and checks what an MTA and a
//! Maildir reader would see afterwards. As root (CI) the agent runs as `nobody`, the way
//! Postfix's `mailbox_command` runs it as the recipient: root would skip permission checks
//! and rebound-lda refuses to file as root without `-d`.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

pub const NOBODY: u32 = 65534;

/// True when the tests that need root (mounts) can run. Outside CI a non-root run skips with a
/// message; under `CI=true` the tests are required and a non-root run fails.
pub fn root_or_skip(test: &str) -> bool {
    if nix::unistd::geteuid().is_root() {
        return true;
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{test}: needs root (mounts a tmpfs) and CI=true requires it");
    }
    eprintln!("{test}: skipped, needs root to mount a tmpfs");
    false
}

pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// A scratch area the agent (as `nobody` under root) can write: Maildir and database paths.
pub struct Area {
    pub dir: tempfile::TempDir,
}

impl Area {
    pub fn new() -> Area {
        let dir = tempfile::Builder::new()
            .prefix("rebound-fault.")
            .tempdir()
            .expect("tempdir");
        give_to_agent(dir.path());
        Area { dir }
    }
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
    pub fn maildir(&self) -> PathBuf {
        self.dir.path().join("Maildir")
    }
    pub fn db(&self) -> PathBuf {
        self.dir.path().join("rebound.db")
    }
}

/// Hands a path to the user the agent runs as (only meaningful as root).
pub fn give_to_agent(path: &Path) {
    if is_root() {
        let id = Some(nix::unistd::Uid::from_raw(NOBODY));
        let gid = Some(nix::unistd::Gid::from_raw(NOBODY));
        nix::unistd::chown(path, id, gid).expect("chown");
    }
}

/// Creates `tmp/ new/ cur/` owned by the agent's user.
pub fn make_maildir(maildir: &Path) {
    for sub in ["", "tmp", "new", "cur"] {
        let p = maildir.join(sub);
        std::fs::create_dir_all(&p).expect("mkdir");
        give_to_agent(&p);
    }
}

/// `rebound-lda` with `-o log=stderr`, `-o maildir=` and `-o database=`, run as `nobody`
/// when the test runs as root.
pub fn lda(maildir: &Path, db: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_rebound-lda"));
    c.arg("-o")
        .arg("log=stderr")
        .arg("-o")
        .arg(format!("maildir={}", maildir.display()))
        .arg("-o")
        .arg(format!("database={}", db.display()));
    as_agent(&mut c);
    c
}

pub fn as_agent(c: &mut Command) {
    use std::os::unix::process::CommandExt;
    if is_root() {
        // std clears the supplementary groups when root sets a uid.
        c.uid(NOBODY).gid(NOBODY);
    }
    c.env_remove("SENDER")
        .env_remove("RECIPIENT")
        .env_remove("ORIGINAL_RECIPIENT")
        .env_remove("EXTENSION");
}

/// `rebound -o database=DB import MAILDIR` (as root: the admin repairs the database).
pub fn import(maildir: &Path, db: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rebound"))
        .arg("-o")
        .arg(format!("database={}", db.display()))
        .arg("import")
        .arg(maildir)
        .stdin(Stdio::null())
        .output()
        .expect("run rebound import")
}

/// Starts the agent with `msg` on stdin (written from a thread so a large message cannot
/// dead-lock against a full pipe).
pub fn spawn(mut cmd: Command, msg: &[u8]) -> Child {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn rebound-lda");
    let mut stdin = child.stdin.take().expect("stdin");
    let msg = msg.to_vec();
    std::thread::spawn(move || {
        // EPIPE when the agent gave up early (or was killed) is expected.
        let _ = stdin.write_all(&msg);
    });
    child
}

pub fn deliver(cmd: Command, msg: &[u8]) -> Output {
    spawn(cmd, msg).wait_with_output().expect("wait")
}

/// What the MTA owes a temporary failure: exit 75 and a first stderr line `4.x.y ...`.
pub fn assert_tempfail(out: &Output, what: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(75),
        "{what}: expected exit 75, got {:?}; stderr:\n{stderr}",
        out.status
    );
    let first = stderr.lines().next().unwrap_or("");
    let code = first.split_whitespace().next().unwrap_or("");
    let parts: Vec<&str> = code.split('.').collect();
    assert!(
        parts.len() == 3
            && parts[0] == "4"
            && parts[1..]
                .iter()
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())),
        "{what}: first stderr line must start with a 4.x.y code, got {first:?}"
    );
}

pub fn assert_delivered(out: &Output, what: &str) {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{what}: expected exit 0, got {:?}; stderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Every Maildir folder (INBOX and Maildir++ `.Folder`s) under `maildir`.
pub fn folders(maildir: &Path) -> Vec<PathBuf> {
    let mut v = vec![maildir.to_path_buf()];
    if let Ok(rd) = std::fs::read_dir(maildir) {
        for e in rd.flatten() {
            let name = e.file_name();
            if name.to_string_lossy().starts_with('.') && e.path().join("new").is_dir() {
                v.push(e.path());
            }
        }
    }
    v
}

fn files_in(maildir: &Path, sub: &str) -> Vec<PathBuf> {
    let mut v = Vec::new();
    for f in folders(maildir) {
        if let Ok(rd) = std::fs::read_dir(f.join(sub)) {
            v.extend(rd.flatten().map(|e| e.path()));
        }
    }
    v.sort();
    v
}

/// Files in `new/` of every folder.
pub fn filed(maildir: &Path) -> Vec<PathBuf> {
    files_in(maildir, "new")
}

/// Files in `tmp/` of every folder.
pub fn in_tmp(maildir: &Path) -> Vec<PathBuf> {
    files_in(maildir, "tmp")
}

/// Nothing filed in `new/` and nothing left in `tmp/`: what a refused delivery must leave.
pub fn assert_nothing_filed(maildir: &Path) {
    let filed = filed(maildir);
    assert!(filed.is_empty(), "nothing may be filed: {filed:?}");
    assert_tmp_clean(maildir);
}

/// Nothing left in `tmp/` of any folder.
pub fn assert_tmp_clean(maildir: &Path) {
    let left = in_tmp(maildir);
    assert!(left.is_empty(), "tmp/ must be cleaned: {left:?}");
}

/// The filed message `seq` (by its X-Rebound-Test-Seq header), whose file name the agent's
/// stderr (its log line) must name, as it must when the database write failed (`what`).
pub fn assert_logged_with_file(out: &Output, maildir: &Path, seq: usize, what: &str) -> PathBuf {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let name = filed(maildir)
        .into_iter()
        .find(|p| seq_of_complete(p) == Some(seq))
        .unwrap_or_else(|| panic!("message {seq} not filed; stderr:\n{stderr}"));
    let base = name
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    assert!(
        stderr.contains(&base),
        "{what} must be logged with the file name {base}; stderr:\n{stderr}"
    );
    name
}

pub fn rows(db: &Path, sql: &str) -> i64 {
    let c = rusqlite::Connection::open(db).expect("open db");
    c.query_row(sql, [], |r| r.get(0)).expect("query")
}

/// A small RFC 3464 bounce, distinct per `seq` (its `X-Seq` header and Message-ID), with
/// `Return-Path:` and `Delivered-To:` already present so the agent files it byte-exact.
pub fn bounce(seq: usize) -> Vec<u8> {
    format!(
        "Return-Path: <>\n\
Delivered-To: bounces+user{seq}=example.com@sender.example.net\n\
X-Seq: {seq}\n\
From: MAILER-DAEMON@mx.sender.example.net (Mail Delivery System)\n\
To: bounces+user{seq}=example.com@sender.example.net\n\
Subject: Undelivered Mail Returned to Sender\n\
Date: Sat, 28 Nov 2026 03:00:00 +0000\n\
Message-Id: <fault-{seq}@mx.sender.example.net>\n\
MIME-Version: 1.0\n\
Content-Type: multipart/report; report-type=delivery-status; boundary=\"B{seq}\"\n\
\n\
--B{seq}\n\
Content-Type: text/plain\n\
\n\
<user{seq}@example.com>: host mx.example.com[192.0.2.25] said: 550 5.1.1\n\
    <user{seq}@example.com>: Recipient address rejected: User unknown\n\
\n\
--B{seq}\n\
Content-Type: message/delivery-status\n\
\n\
Reporting-MTA: dns; mx.sender.example.net\n\
\n\
Final-Recipient: rfc822; user{seq}@example.com\n\
Action: failed\n\
Status: 5.1.1\n\
Remote-MTA: dns; mx.example.com\n\
Diagnostic-Code: smtp; 550 5.1.1 <user{seq}@example.com>: Recipient address rejected:\n\
    User unknown\n\
\n\
--B{seq}\n\
Content-Type: text/rfc822-headers\n\
\n\
From: news@sender.example.net\n\
To: user{seq}@example.com\n\
Subject: News {seq}\n\
Message-ID: <news-{seq}@sender.example.net>\n\
\n\
--B{seq}--\n"
    )
    .into_bytes()
}

/// `bounce(seq)` padded past `size` bytes with a text part before the closing boundary.
pub fn big_bounce(seq: usize, size: usize) -> Vec<u8> {
    let mut m = bounce(seq);
    let close = format!("--B{seq}--\n");
    m.truncate(m.len() - close.len());
    m.extend_from_slice(format!("--B{seq}\nContent-Type: text/plain\n\n").as_bytes());
    let line = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcd\n";
    while m.len() < size {
        m.extend_from_slice(line);
    }
    m.extend_from_slice(close.as_bytes());
    m
}

/// The `X-Seq` of a filed message, if it is one of ours and complete (ends with the closing
/// boundary: nothing half-written).
pub fn seq_of_complete(path: &Path) -> Option<usize> {
    let data = std::fs::read(path).ok()?;
    let text = String::from_utf8_lossy(&data);
    let seq: usize = text
        .lines()
        .find_map(|l| l.strip_prefix("X-Seq: "))?
        .trim()
        .parse()
        .ok()?;
    if data == bounce(seq) { Some(seq) } else { None }
}

/// A tmpfs of `size` (e.g. "256k") mounted on `dir`, owned by the agent's user; unmounted on
/// drop.
pub struct Tmpfs {
    pub dir: PathBuf,
}

impl Tmpfs {
    pub fn mount(dir: &Path, size: &str) -> Tmpfs {
        std::fs::create_dir_all(dir).expect("mkdir mount point");
        let uid = if is_root() { NOBODY } else { 0 };
        let st = Command::new("mount")
            .args(["-t", "tmpfs", "-o"])
            .arg(format!("size={size},mode=0755,uid={uid},gid={uid}"))
            .arg("tmpfs")
            .arg(dir)
            .status()
            .expect("run mount");
        assert!(st.success(), "mount tmpfs on {}", dir.display());
        Tmpfs {
            dir: dir.to_path_buf(),
        }
    }

    pub fn remount(&self, opts: &str) {
        let st = Command::new("mount")
            .arg("-o")
            .arg(format!("remount,{opts}"))
            .arg(&self.dir)
            .status()
            .expect("run mount");
        assert!(st.success(), "remount {opts} {}", self.dir.display());
    }

    /// Fills the file system up to the last byte with `filler` (written as root, so no
    /// reserve is left that the agent's user could still use).
    pub fn fill(&self) -> PathBuf {
        let p = self.dir.join("filler");
        let mut f = std::fs::File::create(&p).expect("create filler");
        let block = vec![0x5au8; 4096];
        loop {
            if f.write_all(&block).is_err() {
                break;
            }
        }
        // Byte-granular tail so not even a small write fits.
        loop {
            if f.write_all(&block[..1]).is_err() {
                break;
            }
        }
        let _ = f.sync_all();
        p
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
    }
}

/// Deterministic xorshift, so a failing kill pattern can be replayed from its seed.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}
