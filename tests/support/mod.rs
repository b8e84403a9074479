//! End-to-end test builder for the real built binaries, in the style of just's and fd's test
//! helpers: `Test::lda().stdin(..).arg(..).status(75).maildir_new(1)`. Each `Test` owns a
//! temporary directory with a Maildir, a SQLite database and an (empty) config file, and
//! passes `-c`, `-o maildir=`, `-o database=` and `-o log=stderr` unless told otherwise, so
//! a machine's own `/etc/rebound.conf` or syslog never changes a result. The first assertion
//! runs the command; later ones look at the same run. `Test::rebound()` drives the admin
//! command against the same directory.
#![allow(dead_code)]

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;

/// Run `cmd` with `input` on its standard input; its standard output and error are collected.
pub fn pipe(cmd: &mut Command, input: &[u8]) -> Output {
    use std::io::Write;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input)
        .expect("write stdin");
    child.wait_with_output().expect("wait")
}

/// The crate root, where `samples/` lives.
pub fn crate_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A sample message shipped in `samples/`.
pub fn sample(name: &str) -> Vec<u8> {
    let p = crate_root().join("samples").join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()))
}

/// Every `.eml` in `samples/`, sorted.
pub fn samples() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(crate_root().join("samples"))
        .expect("samples/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    v.sort();
    assert!(!v.is_empty(), "samples/ holds no .eml");
    v
}

/// Whether we run as root (some tests need it; under CI=true they must run).
pub fn is_root() -> bool {
    nix::unistd::Uid::effective().is_root()
}

/// Whether the environment says we are in CI (then skipping is failing).
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Skip a test with a message; under CI that is a failure.
pub fn skip(why: &str) {
    assert!(!in_ci(), "cannot skip under CI=true: {why}");
    eprintln!("SKIPPED: {why}");
}

/// A scratch area shared by several runs (Maildir, database, config).
#[derive(Clone)]
pub struct Area {
    dir: Arc<tempfile::TempDir>,
}

impl Area {
    pub fn new() -> Area {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("rebound.conf"), "").expect("write config");
        Area { dir: Arc::new(dir) }
    }
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
    pub fn maildir(&self) -> PathBuf {
        self.path().join("Maildir")
    }
    pub fn database(&self) -> PathBuf {
        self.path().join("rebound.db")
    }
    pub fn config(&self) -> PathBuf {
        self.path().join("rebound.conf")
    }

    /// Files in `new/` of the Maildir and every Maildir++ folder.
    pub fn new_files(&self) -> Vec<PathBuf> {
        self.files_in("new")
    }

    /// Files in `tmp/` of the Maildir and every folder.
    pub fn tmp_files(&self) -> Vec<PathBuf> {
        self.files_in("tmp")
    }

    fn files_in(&self, sub: &str) -> Vec<PathBuf> {
        let root = self.maildir();
        let mut dirs = vec![root.join(sub)];
        if let Ok(rd) = std::fs::read_dir(&root) {
            for e in rd.flatten() {
                if e.file_name().to_string_lossy().starts_with('.') {
                    dirs.push(e.path().join(sub));
                }
            }
        }
        let mut out = Vec::new();
        for d in dirs {
            if let Ok(rd) = std::fs::read_dir(&d) {
                out.extend(rd.flatten().map(|e| e.path()));
            }
        }
        out.sort();
        out
    }

    /// `SELECT count(*) FROM table` (0 when the database does not exist).
    pub fn rows(&self, table: &str) -> i64 {
        if !self.database().exists() {
            return 0;
        }
        let c = rusqlite::Connection::open(self.database()).expect("open db");
        c.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .expect("count")
    }

    /// First column of the first row of `sql`, as text.
    pub fn query(&self, sql: &str) -> Option<String> {
        let c = rusqlite::Connection::open(self.database()).expect("open db");
        c.query_row(sql, [], |r| r.get::<_, Option<String>>(0))
            .ok()
            .flatten()
    }
}

impl Default for Area {
    fn default() -> Self {
        Area::new()
    }
}

/// One run of a binary, with assertions.
pub struct Test {
    bin: PathBuf,
    area: Area,
    args: Vec<OsString>,
    env: Vec<(String, String)>,
    env_clear: bool,
    stdin: Vec<u8>,
    defaults: bool,
    output: Option<Output>,
}

impl Test {
    /// rebound-lda in a fresh area.
    pub fn lda() -> Test {
        Test::lda_in(&Area::new())
    }

    /// rebound-lda in a shared area (several deliveries into one Maildir and database).
    pub fn lda_in(area: &Area) -> Test {
        Test::new(env!("CARGO_BIN_EXE_rebound-lda"), area)
    }

    /// The admin command against an area.
    pub fn rebound_in(area: &Area) -> Test {
        let mut t = Test::new(env!("CARGO_BIN_EXE_rebound"), area);
        t.defaults = false;
        t
    }

    fn new(bin: &str, area: &Area) -> Test {
        Test {
            bin: PathBuf::from(bin),
            area: area.clone(),
            args: Vec::new(),
            env: Vec::new(),
            env_clear: true,
            stdin: Vec::new(),
            defaults: true,
            output: None,
        }
    }

    pub fn area(&self) -> &Area {
        &self.area
    }

    pub fn arg(mut self, a: impl Into<OsString>) -> Self {
        self.args.push(a.into());
        self
    }

    pub fn args<I: IntoIterator<Item = S>, S: Into<OsString>>(mut self, a: I) -> Self {
        self.args.extend(a.into_iter().map(Into::into));
        self
    }

    /// `-c CONFIG -o database=DB -o maildir=MAILDIR` of the area, here in the argument list
    /// (for `rebound SUBCOMMAND ...`, whose defaults are off).
    pub fn area_args(self) -> Self {
        let (c, d, m) = (
            self.area.config(),
            self.area.database(),
            self.area.maildir(),
        );
        self.arg("-c")
            .arg(c)
            .arg("-o")
            .arg(format!("database={}", d.display()))
            .arg("-o")
            .arg(format!("maildir={}", m.display()))
    }

    /// `-o KEY=VALUE`.
    pub fn set(self, kv: &str) -> Self {
        self.arg("-o").arg(kv)
    }

    pub fn env(mut self, k: &str, v: &str) -> Self {
        self.env.push((k.into(), v.into()));
        self
    }

    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.stdin = bytes.into();
        self
    }

    /// Write the area's config file.
    pub fn config(self, text: &str) -> Self {
        std::fs::write(self.area.config(), text).expect("write config");
        self
    }

    /// Do not pass `-c`, `-o maildir=`, `-o database=`, `-o log=stderr`.
    pub fn no_defaults(mut self) -> Self {
        self.defaults = false;
        self
    }

    /// The command as it will run (for spawning many at once).
    pub fn command(&self) -> Command {
        let mut cmd = Command::new(&self.bin);
        if self.env_clear {
            // A clean environment like an MTA's: PATH only, no SENDER/RECIPIENT leaking in.
            cmd.env_clear().env("PATH", "/usr/bin:/bin");
        }
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        if self.defaults {
            cmd.arg("-c").arg(self.area.config());
            cmd.arg("-o")
                .arg(format!("maildir={}", self.area.maildir().display()));
            cmd.arg("-o")
                .arg(format!("database={}", self.area.database().display()));
            cmd.arg("-o").arg("log=stderr");
        }
        cmd.args(&self.args);
        cmd
    }

    /// Run now (once) and return the output.
    pub fn run(&mut self) -> &Output {
        if self.output.is_none() {
            let mut cmd = self.command();
            cmd.stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            let mut child = cmd.spawn().expect("spawn");
            let stdin = std::mem::take(&mut self.stdin);
            let mut pipe = child.stdin.take().expect("stdin");
            let writer = std::thread::spawn(move || {
                use std::io::Write;
                // The agent may exit before reading (a usage error): ignore EPIPE.
                let _ = pipe.write_all(&stdin);
            });
            let out = child.wait_with_output().expect("wait");
            let _ = writer.join();
            self.output = Some(out);
        }
        self.output.as_ref().expect("ran")
    }

    fn describe(&mut self) -> String {
        let out = self.run().clone();
        format!(
            "status {:?}\n--- stdout\n{}--- stderr\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    }

    pub fn stdout(&mut self) -> String {
        String::from_utf8_lossy(&self.run().stdout).into_owned()
    }

    pub fn stderr(&mut self) -> String {
        String::from_utf8_lossy(&self.run().stderr).into_owned()
    }

    /// Assert the exit status.
    pub fn status(mut self, code: i32) -> Self {
        let got = self.run().status.code();
        if got != Some(code) {
            panic!("expected exit {code}\n{}", self.describe());
        }
        self
    }

    /// Assert a temporary failure: exit 75, first stderr line `4.x.y ...`, nothing filed,
    /// `tmp/` empty.
    pub fn tempfail(self) -> Self {
        let mut t = self.status(75);
        let err = t.stderr();
        let first = err.lines().next().unwrap_or("");
        let code = first.split(' ').next().unwrap_or("");
        let parts: Vec<&str> = code.split('.').collect();
        assert!(
            parts.len() == 3
                && parts[0] == "4"
                && parts[1..]
                    .iter()
                    .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())),
            "first stderr line must start with 4.x.y: {first:?}\n{}",
            t.describe()
        );
        t.maildir_new(0).tmp_empty()
    }

    /// Assert how many messages are in `new/` (all folders).
    pub fn maildir_new(mut self, n: usize) -> Self {
        self.run();
        let files = self.area.new_files();
        if files.len() != n {
            panic!(
                "expected {n} message(s) in new/, found {files:?}\n{}",
                self.describe()
            );
        }
        self
    }

    /// Assert `tmp/` is empty everywhere.
    pub fn tmp_empty(mut self) -> Self {
        self.run();
        let files = self.area.tmp_files();
        if !files.is_empty() {
            panic!("tmp/ not empty: {files:?}\n{}", self.describe());
        }
        self
    }

    /// Assert a table's row count.
    pub fn rows(mut self, table: &str, n: i64) -> Self {
        self.run();
        let got = self.area.rows(table);
        if got != n {
            panic!(
                "expected {n} row(s) in {table}, found {got}\n{}",
                self.describe()
            );
        }
        self
    }

    /// Assert stderr contains `text`.
    pub fn stderr_has(mut self, text: &str) -> Self {
        let err = self.stderr();
        if !err.contains(text) {
            panic!("stderr lacks {text:?}\n{}", self.describe());
        }
        self
    }

    /// Assert stderr does not contain `text`.
    pub fn stderr_lacks(mut self, text: &str) -> Self {
        let err = self.stderr();
        if err.contains(text) {
            panic!("stderr has {text:?}\n{}", self.describe());
        }
        self
    }

    /// The one filed message (asserts there is exactly one).
    pub fn filed(mut self) -> (Self, PathBuf) {
        self.run();
        let files = self.area.new_files();
        if files.len() != 1 {
            panic!(
                "expected one filed message, found {files:?}\n{}",
                self.describe()
            );
        }
        let f = files[0].clone();
        (self, f)
    }
}
