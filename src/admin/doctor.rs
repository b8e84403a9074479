//! `rebound doctor`: check an installation the way a postmaster would before pointing an MTA
//! at rebound-lda, and say what to fix: the configuration parses; the Maildir and the
//! database (and the directory SQLite puts its `-wal`/`-shm` files in) are writable by the
//! delivery user; the database's schema version and policy are current; where Sendmail's
//! smrsh is in use the agent is linked into its directory; and a sample bounce piped through
//! the sibling `rebound-lda` binary is filed into a temporary Maildir and recorded.
//! Exit 0 when nothing failed (warnings allowed), 2 otherwise.

use super::Global;
use super::output::{GREEN, RED, YELLOW, colour_stdout, paint};
use crate::config::{self, Config};
use crate::exit::AdminExit;
use crate::store::{policy, query, schema};
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The user the MTA runs rebound-lda as (`-d` user, mailbox_command user, or the alias
    /// file's owner) [default: owner of the Maildir, else the invoking user].
    #[arg(long, short = 'u', value_name = "USER")]
    pub user: Option<String>,
    /// Skip the sample delivery.
    #[arg(long)]
    pub no_delivery: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    Ok,
    Warn,
    Fail,
}

struct Report {
    colour: bool,
    failed: bool,
}

impl Report {
    fn say(&mut self, level: Level, what: &str, fix: Option<&str>) {
        let tag = match level {
            Level::Ok => paint("ok  ", GREEN, self.colour),
            Level::Warn => paint("warn", YELLOW, self.colour),
            Level::Fail => paint("FAIL", RED, self.colour),
        };
        println!("{tag}  {what}");
        if let Some(f) = fix {
            println!("      fix: {f}");
        }
        self.failed |= level == Level::Fail;
    }
}

/// The delivery user: name, uid and all its groups.
struct DeliveryUser {
    name: String,
    uid: u32,
    gids: Vec<u32>,
    home: Option<PathBuf>,
}

pub fn run(g: &Global, a: &Args) -> anyhow::Result<AdminExit> {
    let mut r = Report {
        colour: colour_stdout(),
        failed: false,
    };
    let (path, explicit) = match &g.config {
        Some(p) => (p.clone(), true),
        None => (PathBuf::from(config::DEFAULT_PATH), false),
    };
    let cfg = match Config::load(&path, explicit, &g.options) {
        Ok(c) => {
            let what = if path.exists() {
                format!("configuration {} parses", path.display())
            } else {
                format!("no {} (every key at its default)", path.display())
            };
            r.say(Level::Ok, &what, None);
            c
        }
        Err(e) => {
            r.say(
                Level::Fail,
                &format!("configuration: {e}"),
                Some("correct the file (rebound.conf(5)); the line number is given"),
            );
            println!("(the other checks need a configuration; stopping here)");
            return Ok(AdminExit::Error);
        }
    };
    match cfg.policy.validate() {
        Ok(()) => r.say(Level::Ok, "policy.* values are valid", None),
        Err(e) => r.say(
            Level::Fail,
            &e,
            Some("use reason names of rebound.conf(5), POLICY"),
        ),
    }

    let user = delivery_user(a.user.as_deref(), &cfg);
    let user = match user {
        Ok(u) => {
            r.say(
                Level::Ok,
                &format!("delivery user {} (uid {})", u.name, u.uid),
                None,
            );
            Some(u)
        }
        Err(e) => {
            r.say(
                Level::Fail,
                &e,
                Some("name the user the MTA runs rebound-lda as with --user"),
            );
            None
        }
    };

    // Maildir.
    let maildir = match (&cfg.maildir, &user) {
        (Some(m), u) => match m.strip_prefix("~") {
            Ok(rest) => u
                .as_ref()
                .and_then(|u| u.home.as_ref())
                .map(|h| h.join(rest)),
            Err(_) => Some(m.clone()),
        },
        (None, Some(u)) => u.home.as_ref().map(|h| h.join("Maildir")),
        (None, None) => None,
    };
    if let (Some(md), Some(u)) = (&maildir, &user) {
        check_maildir(&mut r, md, u);
    } else {
        r.say(
            Level::Warn,
            "Maildir location unknown (no maildir setting and no home directory)",
            Some("set maildir in rebound.conf"),
        );
    }

    // Database.
    if let Some(u) = &user {
        check_database(&mut r, &cfg, u);
    }

    // smrsh.
    for dir in ["/etc/smrsh", "/etc/mail/smrsh"] {
        let d = Path::new(dir);
        if !d.is_dir() {
            continue;
        }
        let link = d.join("rebound-lda");
        if link.exists() {
            r.say(
                Level::Ok,
                &format!("smrsh: {} present", link.display()),
                None,
            );
        } else {
            let target =
                sibling("rebound-lda").unwrap_or_else(|| PathBuf::from("/usr/bin/rebound-lda"));
            r.say(
                Level::Warn,
                &format!("smrsh directory {dir} exists but has no rebound-lda: a Sendmail alias pipe to it will fail"),
                Some(&format!("ln -s {} {}/ (only needed for `|rebound-lda` alias pipes under FEATURE(smrsh))", target.display(), dir)),
            );
        }
    }

    check_selinux(&mut r, &cfg);

    if !a.no_delivery {
        sample_delivery(&mut r, g, user.as_ref());
    }
    println!();
    if r.failed {
        println!(
            "{}",
            paint("problems found: fix the FAIL lines above", RED, r.colour)
        );
        Ok(AdminExit::Error)
    } else {
        println!("{}", paint("no problems found", GREEN, r.colour));
        Ok(AdminExit::Ok)
    }
}

fn delivery_user(name: Option<&str>, cfg: &Config) -> Result<DeliveryUser, String> {
    let user = match name {
        Some(n) => crate::users::by_name(n)
            .map_err(|e| format!("user {n}: {e}"))?
            .ok_or_else(|| format!("no such user {n}"))?,
        None => {
            let owner = cfg
                .maildir
                .as_ref()
                .filter(|m| !m.starts_with("~"))
                .and_then(|m| std::fs::metadata(m).ok())
                .map(|m| m.uid());
            let uid = owner.unwrap_or_else(|| nix::unistd::Uid::current().as_raw());
            crate::users::by_uid(uid)
                .map_err(|e| format!("uid {uid}: {e}"))?
                .ok_or_else(|| format!("uid {uid} has no passwd entry"))?
        }
    };
    let gids = crate::users::groups(&user).unwrap_or_else(|_| vec![user.gid]);
    Ok(DeliveryUser {
        name: user.name,
        uid: user.uid,
        gids,
        home: Some(user.home),
    })
}

/// Whether `u` may write (and, for a directory, enter) `path`, from its mode bits.
fn writable_by(path: &Path, u: &DeliveryUser) -> std::io::Result<bool> {
    let m = std::fs::metadata(path)?;
    if u.uid == 0 {
        return Ok(true);
    }
    let need = if m.is_dir() { 0o3 } else { 0o2 };
    let mode = m.mode();
    let bits = if m.uid() == u.uid {
        mode >> 6
    } else if u.gids.contains(&m.gid()) {
        mode >> 3
    } else {
        mode
    };
    Ok(bits & need == need)
}

fn check_maildir(r: &mut Report, md: &Path, u: &DeliveryUser) {
    if !md.exists() {
        let parent = md.parent().unwrap_or(Path::new("/"));
        match writable_by(parent, u) {
            Ok(true) => r.say(
                Level::Ok,
                &format!("Maildir {} will be created on first delivery", md.display()),
                None,
            ),
            _ => r.say(
                Level::Fail,
                &format!(
                    "Maildir {} does not exist and {} may not create it in {}",
                    md.display(),
                    u.name,
                    parent.display()
                ),
                Some(&format!(
                    "install -d -o {0} -m 0700 {1} {1}/cur {1}/new {1}/tmp",
                    u.name,
                    md.display()
                )),
            ),
        }
        return;
    }
    let mut bad = Vec::new();
    for d in [
        md.to_path_buf(),
        md.join("tmp"),
        md.join("new"),
        md.join("cur"),
    ] {
        match writable_by(&d, u) {
            Ok(true) => {}
            Ok(false) => bad.push(d.display().to_string()),
            Err(_) if d != md => {} // created on demand
            Err(e) => bad.push(format!("{} ({e})", d.display())),
        }
    }
    if bad.is_empty() {
        r.say(
            Level::Ok,
            &format!("Maildir {} writable by {}", md.display(), u.name),
            None,
        );
    } else {
        r.say(
            Level::Fail,
            &format!("not writable by {}: {}", u.name, bad.join(", ")),
            Some(&format!("chown -R {} {}", u.name, md.display())),
        );
    }
}

fn check_database(r: &mut Report, cfg: &Config, u: &DeliveryUser) {
    let db = cfg.database.as_path();
    let dir = db
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    match writable_by(dir, u) {
        Ok(true) => r.say(Level::Ok, &format!("database directory {} writable by {}", dir.display(), u.name), None),
        Ok(false) => r.say(
            Level::Fail,
            &format!("database directory {} not writable by {} (SQLite creates the -wal and -shm files there)", dir.display(), u.name),
            Some(&format!("install -d -o {} -m 0750 {}", u.name, dir.display())),
        ),
        Err(e) => r.say(
            Level::Fail,
            &format!("database directory {}: {e}", dir.display()),
            Some(&format!("install -d -o {} -m 0750 {}", u.name, dir.display())),
        ),
    }
    if !db.exists() {
        r.say(
            Level::Ok,
            &format!(
                "database {} will be created on first delivery",
                db.display()
            ),
            None,
        );
        return;
    }
    match writable_by(db, u) {
        Ok(true) => r.say(
            Level::Ok,
            &format!("database {} writable by {}", db.display(), u.name),
            None,
        ),
        _ => r.say(
            Level::Fail,
            &format!("database {} not writable by {}", db.display(), u.name),
            Some(&format!("chown {} {}*", u.name, db.display())),
        ),
    }
    match query::open_read_only(db, cfg.busy_timeout_ms) {
        Ok(c) => {
            let v: i64 = c
                .query_row("PRAGMA user_version", [], |r| r.get(0))
                .unwrap_or(-1);
            let known = schema::MIGRATIONS.len() as i64;
            if v == known {
                r.say(Level::Ok, &format!("schema version {v} (current)"), None);
            } else if v < known {
                r.say(Level::Warn, &format!("schema version {v}, this rebound brings {known}"), Some("the next delivery or any rebound command run by a user who may write it migrates it"));
            } else {
                r.say(
                    Level::Fail,
                    &format!("schema version {v} is newer than this rebound ({known})"),
                    Some("install the rebound that wrote this database"),
                );
            }
            match policy::stored_fingerprint(&c) {
                Ok(Some(f)) if f != cfg.policy.fingerprint() => r.say(
                    Level::Warn,
                    "the configured policy differs from the one the suppressions were evaluated with",
                    Some("rebound rebuild (any writing rebound command does it too)"),
                ),
                _ => {}
            }
        }
        Err(e) => r.say(
            Level::Fail,
            &format!("database {}: {e}", db.display()),
            Some("check the file is an SQLite database and readable"),
        ),
    }
}

/// SELinux (EL8/EL9 targeted policy): Sendmail and Postfix run a `bin_t` program without a
/// domain transition, and their domains may write `~/Maildir` but not `/var/lib`. The agent
/// must carry an MTA delivery label (`procmail_exec_t`, or the packaged `rebound_exec_t`).
fn check_selinux(r: &mut Report, cfg: &Config) {
    let enforcing = std::fs::read_to_string("/sys/fs/selinux/enforce")
        .map(|s| s.trim() == "1")
        .unwrap_or(false);
    if !enforcing {
        return;
    }
    let lda = sibling("rebound-lda").unwrap_or_else(|| PathBuf::from("/usr/bin/rebound-lda"));
    let context = |p: &Path| {
        Command::new("stat")
            .args(["-c", "%C"])
            .arg(p)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    match context(&lda) {
        Some(c) if c.contains(":procmail_exec_t:") || c.contains(":rebound_exec_t:") => {
            r.say(Level::Ok, &format!("SELinux: {} is {c}", lda.display()), None)
        }
        Some(c) => r.say(
            Level::Warn,
            &format!("SELinux is enforcing and {} is {c}: the MTA will run it in its own domain, which may not write the database", lda.display()),
            Some(&format!(
                "install the rebound SELinux module, or: semanage fcontext -a -t procmail_exec_t {0} && restorecon -v {0}",
                lda.display()
            )),
        ),
        None => r.say(Level::Warn, "SELinux is enforcing; cannot read the label of rebound-lda", None),
    }
    if let Some(dir) = cfg.database.parent().filter(|p| p.is_dir()) {
        if let Some(c) = context(dir) {
            r.say(
                Level::Ok,
                &format!("SELinux: {} is {c}", dir.display()),
                None,
            );
        }
    }
}

/// A binary installed next to this one.
fn sibling(name: &str) -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let p = exe.parent()?.join(name);
    p.is_file().then_some(p)
}

/// A sample bounce (RFC 3464) to a VERP return path.
const SAMPLE: &str = "Return-Path: <>\r
From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\r
To: bounces+doctor=example.com@sender.example\r
Subject: Undelivered Mail Returned to Sender\r
Message-ID: <doctor@mx.example.net>\r
MIME-Version: 1.0\r
Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r
\r
--b\r
Content-Type: text/plain\r
\r
rebound doctor sample delivery.\r
--b\r
Content-Type: message/delivery-status\r
\r
Reporting-MTA: dns; mx.example.net\r
\r
Final-Recipient: rfc822; doctor@example.com\r
Action: failed\r
Status: 5.1.1\r
Diagnostic-Code: smtp; 550 5.1.1 <doctor@example.com>: Recipient address rejected: User unknown\r
--b--\r
";

fn sample_delivery(r: &mut Report, g: &Global, user: Option<&DeliveryUser>) {
    let Some(lda) = sibling("rebound-lda") else {
        r.say(
            Level::Fail,
            "rebound-lda not found next to this rebound",
            Some("install both binaries into the same directory"),
        );
        return;
    };
    let dir = std::env::temp_dir().join(format!("rebound-doctor.{}", std::process::id()));
    if let Err(e) = std::fs::create_dir(&dir) {
        r.say(
            Level::Fail,
            &format!("cannot create {}: {e}", dir.display()),
            None,
        );
        return;
    }
    let root = nix::unistd::Uid::current().is_root();
    if let (true, Some(u)) = (root, user.filter(|u| u.uid != 0)) {
        let _ = nix::unistd::chown(&dir, Some(nix::unistd::Uid::from_raw(u.uid)), None);
    }
    let mut cmd = Command::new(&lda);
    if let Some(c) = &g.config {
        cmd.arg("-c").arg(c);
    }
    // As root the agent needs `-d` to drop to (it never writes as root); a root delivery
    // user is only possible with -o maildir=, which is passed below.
    if let (true, Some(u)) = (root, user.filter(|u| u.uid != 0)) {
        cmd.arg("-d").arg(&u.name);
    }
    for o in &g.options {
        cmd.arg("-o").arg(o);
    }
    let md = dir.join("Maildir");
    let db = dir.join("rebound.db");
    cmd.arg("-o").arg(format!("maildir={}", md.display()));
    cmd.arg("-o").arg(format!("database={}", db.display()));
    cmd.arg("-o").arg("log=stderr");
    cmd.arg("-f").arg("");
    cmd.arg("-a")
        .arg("bounces+doctor=example.com@sender.example");
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let out = cmd.spawn().and_then(|mut child| {
        if let Some(mut stdin) = child.stdin.take() {
            stdin.write_all(SAMPLE.as_bytes())?;
        }
        child.wait_with_output()
    });
    match out {
        Err(e) => r.say(
            Level::Fail,
            &format!("running {}: {e}", lda.display()),
            None,
        ),
        Ok(o) if o.status.code() != Some(0) => {
            let first = String::from_utf8_lossy(&o.stderr)
                .lines()
                .next()
                .unwrap_or("")
                .to_string();
            r.say(
                Level::Fail,
                &format!(
                    "sample delivery: {} exited {:?}: {first}",
                    lda.display(),
                    o.status.code()
                ),
                Some("see the message above; rebound-lda(8)"),
            );
        }
        Ok(o) => {
            let filed = count_files(&md);
            let recorded = query::open_read_only(&db, 1000)
                .and_then(|c| {
                    c.query_row("SELECT count(*) FROM messages", [], |r| r.get::<_, i64>(0))
                })
                .unwrap_or(0);
            let log = String::from_utf8_lossy(&o.stderr);
            if filed == 1 && recorded == 1 {
                r.say(
                    Level::Ok,
                    &format!("sample bounce filed and recorded by {}", lda.display()),
                    None,
                );
            } else {
                r.say(
                    Level::Fail,
                    &format!("sample delivery exited 0 but filed {filed} and recorded {recorded} message(s): {}", log.trim()),
                    None,
                );
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Files in `new/` of the Maildir and of its folders.
fn count_files(md: &Path) -> usize {
    let mut n = 0;
    let mut dirs = vec![md.join("new")];
    if let Ok(rd) = std::fs::read_dir(md) {
        for e in rd.flatten() {
            if e.file_name().to_string_lossy().starts_with('.') {
                dirs.push(e.path().join("new"));
            }
        }
    }
    for d in dirs {
        if let Ok(rd) = std::fs::read_dir(d) {
            n += rd.flatten().count();
        }
    }
    n
}
