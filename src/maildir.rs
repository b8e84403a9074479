//! Maildir filing (cr.yp.to/proto/maildir.html, Maildir++ folders as Courier and dovecot lay
//! them out). A message is created in `tmp/` with O_EXCL and O_NOFOLLOW under a name unique
//! per host, time and process, written, fsynced, renamed into `new/` under its final name
//! (dovecot's: `<secs>.M<usecs>P<pid>V<dev>I<ino>.<host>,S=<size>`, device and inode of the
//! tmp file making it unique even across PID reuse), and `new/` is fsynced so the rename
//! itself survives a crash. Only then is the message durable and the agent may exit 0. A
//! `Delivery` that is dropped before `commit` unlinks its tmp file: nothing is left in `tmp/`
//! after a failure. Folders (`.Bounces`) and the Maildir itself are created on demand, 0700.

use crate::error::{Error, Result};
use std::fs::{DirBuilder, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A Maildir on disk (its root; folders are `.Name` directories inside it).
#[derive(Debug, Clone)]
pub struct Maildir {
    root: PathBuf,
    host: String,
}

/// A message being written into `tmp/`. Dropped without `commit`: the tmp file is removed.
#[derive(Debug)]
pub struct Delivery {
    file: File,
    tmp_path: PathBuf,
    root: PathBuf,
    folder: String,
    stem: String,
    host: String,
    size: u64,
    synced: bool,
    committed: bool,
}

/// A message durable in `new/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filed {
    /// Base name in `new/`.
    pub name: String,
    /// Full path of the file.
    pub path: PathBuf,
    /// Maildir++ folder (`.Bounces`), `""` for INBOX.
    pub folder: String,
    pub size: u64,
    /// Set when the folder asked for could not be used and the message went to INBOX.
    pub fallback: Option<String>,
}

impl Maildir {
    /// A Maildir rooted at `root` (created on first delivery).
    pub fn new(root: impl Into<PathBuf>) -> Maildir {
        Maildir {
            root: root.into(),
            host: hostname(),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Start a delivery into `folder` (`""` = INBOX, else a `.Name` from `folder_dir`).
    /// Creates the Maildir and the folder on demand.
    pub fn create(&self, folder: &str) -> Result<Delivery> {
        let folder = folder_dir(folder).map_err(Error::Mailbox)?;
        let folder_path = if folder.is_empty() {
            self.root.clone()
        } else {
            self.root.join(&folder)
        };
        let pid = std::process::id();
        let mut created_dirs = false;
        for attempt in 0u32..8 {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default();
            // A clash (same microsecond, same pid: only after a PID wrap) moves the
            // microseconds on; the final name carries device and inode anyway.
            let stem = format!(
                "{}.M{}P{}",
                now.as_secs(),
                now.subsec_micros() + attempt,
                pid
            );
            let tmp_path = folder_path
                .join("tmp")
                .join(format!("{stem}.{}", self.host));
            let opened = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_CLOEXEC)
                .open(&tmp_path);
            match opened {
                Ok(file) => {
                    return Ok(Delivery {
                        file,
                        tmp_path,
                        root: self.root.clone(),
                        folder,
                        stem,
                        host: self.host.clone(),
                        size: 0,
                        synced: false,
                        committed: false,
                    });
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && !created_dirs => {
                    created_dirs = true;
                    make_folder(&self.root, &folder, &folder_path)?;
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(Error::io("create", tmp_path, e)),
            }
        }
        Err(Error::io(
            "create",
            folder_path.join("tmp"),
            std::io::Error::from(std::io::ErrorKind::AlreadyExists),
        ))
    }
}

impl Maildir {
    /// Take over a message this very process wrote and fsynced in a `tmp/` of this Maildir
    /// before it re-executed itself (`watchdog`): the path must be a regular file in the
    /// Maildir's or a folder's `tmp/`, named by `create` for this host and this process id
    /// (execve keeps the pid), so no other file can be moved into the Maildir this way.
    pub fn adopt(&self, tmp_path: &Path) -> Result<Delivery> {
        let refuse = |why: &str| {
            Error::io(
                "take over",
                tmp_path,
                std::io::Error::new(std::io::ErrorKind::InvalidInput, why.to_string()),
            )
        };
        let name = tmp_path
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| refuse("no file name"))?;
        let stem = name
            .strip_suffix(&format!(".{}", self.host))
            .filter(|s| s.ends_with(&format!("P{}", std::process::id())))
            .ok_or_else(|| refuse("not a tmp file of this process"))?;
        let tmp_dir = tmp_path.parent().ok_or_else(|| refuse("no directory"))?;
        let folder_path = tmp_dir
            .parent()
            .filter(|_| tmp_dir.file_name().is_some_and(|n| n == "tmp"))
            .ok_or_else(|| refuse("not in a tmp/ directory"))?;
        let folder = if folder_path == self.root {
            String::new()
        } else {
            // Only a `.Name` directory right inside the root, spelt as `folder_dir` spells it.
            let dir = folder_path
                .file_name()
                .and_then(|f| f.to_str())
                .filter(|_| folder_path.parent() == Some(self.root.as_path()))
                .ok_or_else(|| refuse("not in this Maildir"))?;
            match folder_dir(dir) {
                Ok(f) if f == dir => f,
                _ => return Err(refuse("not in a folder of this Maildir")),
            }
        };
        let file = OpenOptions::new()
            .read(true)
            .custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_CLOEXEC)
            .open(tmp_path)
            .map_err(|e| Error::io("open", tmp_path, e))?;
        let meta = file
            .metadata()
            .map_err(|e| Error::io("stat", tmp_path, e))?;
        if !meta.is_file() {
            return Err(refuse("not a regular file"));
        }
        Ok(Delivery {
            file,
            tmp_path: tmp_path.to_path_buf(),
            root: self.root.clone(),
            folder,
            stem: stem.to_string(),
            host: self.host.clone(),
            size: meta.len(),
            synced: false,
            committed: false,
        })
    }
}

impl Delivery {
    /// The file as written so far, for reading it back (`rebound-lda` after a restart).
    pub fn file(&self) -> &File {
        &self.file
    }

    /// Append bytes to the message.
    pub fn write_all(&mut self, buf: &[u8]) -> Result<()> {
        self.file
            .write_all(buf)
            .map_err(|e| Error::io("write", &self.tmp_path, e))?;
        self.size += buf.len() as u64;
        Ok(())
    }

    /// Bytes written so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The tmp file's path (for error messages).
    pub fn tmp_path(&self) -> &Path {
        &self.tmp_path
    }

    /// fsync the file (done once; `commit` skips it afterwards). Called before the verdict
    /// is known, so the disk works while the classifier does.
    pub fn sync(&mut self) -> Result<()> {
        if !self.synced {
            self.file
                .sync_all()
                .map_err(|e| Error::io("fsync", &self.tmp_path, e))?;
            self.synced = true;
        }
        Ok(())
    }

    /// fsync the file, rename it into `new/` of the folder it was created in under its
    /// final name, fsync `new/`. On error the tmp file is removed (by `Drop`).
    pub fn commit(self) -> Result<Filed> {
        let folder = self.folder.clone();
        self.commit_into(&folder)
    }

    /// Like `commit`, into `new/` of `folder` (a name for `folder_dir`; the tmp file may sit
    /// in another folder's `tmp/`: all are one file system). A folder that cannot be created
    /// sends the message to INBOX, noted in `Filed::fallback`: the message matters more
    /// than where it lands.
    pub fn commit_into(mut self, folder: &str) -> Result<Filed> {
        self.sync()?;
        let meta = self
            .file
            .metadata()
            .map_err(|e| Error::io("stat", &self.tmp_path, e))?;
        let name = format!(
            "{}V{:x}I{:x}.{},S={}",
            self.stem,
            meta.dev(),
            meta.ino(),
            self.host,
            self.size
        );
        let folder = folder_dir(folder).map_err(Error::Mailbox)?;
        let mut fallback = None;
        let folder = match self.rename_into(&folder, &name) {
            Ok(()) => folder,
            Err(e) if !folder.is_empty() => {
                fallback = Some(format!("folder {folder} unusable ({e}), filed to INBOX"));
                self.rename_into("", &name)?;
                String::new()
            }
            Err(e) => return Err(e),
        };
        let new_dir = self.folder_dir_path(&folder).join("new");
        // From here the name is in new/; make the directory entry itself durable.
        File::open(&new_dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| Error::io("fsync", &new_dir, e))?;
        Ok(Filed {
            path: new_dir.join(&name),
            name,
            folder,
            size: self.size,
            fallback,
        })
    }

    fn folder_dir_path(&self, folder: &str) -> PathBuf {
        if folder.is_empty() {
            self.root.clone()
        } else {
            self.root.join(folder)
        }
    }

    /// Rename the tmp file to `<folder>/new/<name>`, creating the folder when missing.
    fn rename_into(&mut self, folder: &str, name: &str) -> Result<()> {
        let folder_path = self.folder_dir_path(folder);
        let path = folder_path.join("new").join(name);
        let mut result = rename_noreplace(&self.tmp_path, &path);
        if matches!(&result, Err(e) if e.kind() == std::io::ErrorKind::NotFound) {
            make_folder(&self.root, folder, &folder_path)?;
            result = rename_noreplace(&self.tmp_path, &path);
        }
        result.map_err(|e| Error::io("rename into", &path, e))?;
        self.committed = true;
        Ok(())
    }
}

/// Create the Maildir (and the folder) with tmp/new/cur, mode 0700; a Maildir++ folder also
/// gets its empty `maildirfolder` file. Races with other agents are harmless.
fn make_folder(root: &Path, folder: &str, folder_path: &Path) -> Result<()> {
    let mut builder = DirBuilder::new();
    builder.recursive(true).mode(0o700);
    for sub in ["cur", "new", "tmp"] {
        let dir = root.join(sub);
        builder
            .create(&dir)
            .map_err(|e| Error::io("create directory", dir, e))?;
    }
    if !folder.is_empty() {
        for sub in ["cur", "new", "tmp"] {
            let dir = folder_path.join(sub);
            builder
                .create(&dir)
                .map_err(|e| Error::io("create directory", dir, e))?;
        }
        let marker = folder_path.join("maildirfolder");
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&marker)
        {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(Error::io("create", marker, e)),
        }
    }
    Ok(())
}

impl Drop for Delivery {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.tmp_path);
        }
    }
}

/// How often `clean_tmp` looks into a tmp/ directory, and how old a file there must be to
/// go: dovecot's rule (8 hours, 36 hours), the tmp/ directory's atime recording the last look.
const TMP_SCAN_EVERY: Duration = Duration::from_secs(8 * 3600);
const TMP_MAX_AGE: Duration = Duration::from_secs(36 * 3600);

/// Remove files left in `tmp_dir` for over 36 hours: a delivery killed by SIGKILL or a power
/// cut between create and rename leaves its tmp file behind (an agent that fails otherwise
/// removes its own). Looks at most once per 8 hours, like dovecot: one stat(2) of the
/// directory decides, its atime (set here after each look; neither a rename nor a create
/// touches it) telling when the last look was. Returns how many files were removed.
pub fn clean_tmp(tmp_dir: &Path) -> std::io::Result<usize> {
    let now = SystemTime::now();
    let dir = std::fs::metadata(tmp_dir)?;
    let last = dir.accessed()?;
    if now.duration_since(last).unwrap_or_default() < TMP_SCAN_EVERY {
        return Ok(0);
    }
    // Mark first: a concurrent agent then skips the scan instead of repeating it.
    File::open(tmp_dir)?.set_times(std::fs::FileTimes::new().set_accessed(now))?;
    let mut removed = 0;
    for entry in std::fs::read_dir(tmp_dir)?.flatten() {
        let Ok(meta) = entry.metadata() else { continue };
        if !meta.file_type().is_file() {
            continue;
        }
        // mtime: the last write of the agent that created it (only agents write in tmp/).
        let old = |t: SystemTime| now.duration_since(t).unwrap_or_default() >= TMP_MAX_AGE;
        if meta.modified().is_ok_and(old) && std::fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    Ok(removed)
}

/// rename(2) that never replaces an existing message (renameat2 RENAME_NOREPLACE), falling
/// back to plain rename where the file system does not support the flag.
fn rename_noreplace(from: &Path, to: &Path) -> std::io::Result<()> {
    use nix::fcntl::{RenameFlags, renameat2};
    match renameat2(None, from, None, to, RenameFlags::RENAME_NOREPLACE) {
        Ok(()) => Ok(()),
        Err(nix::errno::Errno::EINVAL) | Err(nix::errno::Errno::ENOSYS) => {
            std::fs::rename(from, to)
        }
        Err(e) => Err(std::io::Error::from_raw_os_error(e as i32)),
    }
}

/// The host part of Maildir names: `/` and `:` written as `\057` and `\072` (the Maildir
/// spec's rule; `:` separates the info part, `/` would be a path).
fn hostname() -> String {
    let raw = nix::unistd::gethostname()
        .map(|h| h.to_string_lossy().into_owned())
        .unwrap_or_else(|_| "localhost".into());
    sanitize_host(&raw)
}

fn sanitize_host(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        match c {
            '/' => out.push_str("\\057"),
            ':' => out.push_str("\\072"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    if out.is_empty() {
        out.push_str("localhost");
    }
    out
}

/// The directory of a folder name: `""` and `INBOX` are the Maildir itself; `Bounces`,
/// `.Bounces` and `INBOX.Bounces` are `.Bounces`; hierarchy uses `.` (Maildir++).
/// Refused: `/`, empty segments (`..`, a trailing dot), control characters, over-long names:
/// nothing can escape the Maildir.
pub fn folder_dir(name: &str) -> std::result::Result<String, String> {
    if name.is_empty() || name.eq_ignore_ascii_case("INBOX") {
        return Ok(String::new());
    }
    let mut rest = name.strip_prefix('.').unwrap_or(name);
    if rest.len() > 6 && rest[..6].eq_ignore_ascii_case("INBOX.") {
        rest = &rest[6..];
    }
    if rest.len() > 200 {
        return Err(format!("folder name too long: {name:?}"));
    }
    if rest.contains('/') || rest.chars().any(|c| c.is_control()) {
        return Err(format!("invalid folder name {name:?}"));
    }
    if rest.split('.').any(|segment| segment.is_empty()) {
        return Err(format!("invalid folder name {name:?}"));
    }
    Ok(format!(".{rest}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_names() {
        assert_eq!(folder_dir("").unwrap(), "");
        assert_eq!(folder_dir("inbox").unwrap(), "");
        assert_eq!(folder_dir("Bounces").unwrap(), ".Bounces");
        assert_eq!(folder_dir(".Bounces").unwrap(), ".Bounces");
        assert_eq!(folder_dir("INBOX.Lists.x").unwrap(), ".Lists.x");
        for bad in [
            "..",
            "../x",
            "a/b",
            ".",
            "a..b",
            "a.",
            "/etc",
            "a\nb",
            "..Bounces",
        ] {
            assert!(folder_dir(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn host_sanitised() {
        assert_eq!(sanitize_host("a/b:c"), "a\\057b\\072c");
        assert_eq!(sanitize_host(""), "localhost");
    }

    #[test]
    fn commit_into_another_folder_or_inbox() {
        let dir = tempfile::tempdir().unwrap();
        let md = Maildir::new(dir.path().join("Maildir"));
        let mut d = md.create("").unwrap();
        d.write_all(b"x").unwrap();
        let f = d.commit_into(".Bounces").unwrap();
        assert_eq!(f.folder, ".Bounces");
        assert_eq!(f.fallback, None);
        assert_eq!(
            f.path.parent().unwrap(),
            dir.path().join("Maildir/.Bounces/new")
        );
        // A folder that cannot be created (a file is in the way): INBOX, noted.
        std::fs::write(dir.path().join("Maildir/.Blocked"), "").unwrap();
        let mut d = md.create("").unwrap();
        d.write_all(b"y").unwrap();
        let f = d.commit_into(".Blocked").unwrap();
        assert_eq!(f.folder, "");
        assert!(f.fallback.is_some());
        assert_eq!(
            std::fs::read_dir(dir.path().join("Maildir/tmp"))
                .unwrap()
                .count(),
            0
        );
    }

    #[test]
    fn stale_tmp_files_go_once_per_scan_period() {
        let dir = tempfile::tempdir().unwrap();
        let tmp = dir.path().join("tmp");
        std::fs::create_dir(&tmp).unwrap();
        let long_ago = SystemTime::now() - Duration::from_secs(40 * 3600);
        let stale = tmp.join("1.M1P1.host");
        std::fs::write(&stale, "x").unwrap();
        File::options()
            .write(true)
            .open(&stale)
            .unwrap()
            .set_times(std::fs::FileTimes::new().set_modified(long_ago))
            .unwrap();
        let fresh = tmp.join("2.M2P2.host");
        std::fs::write(&fresh, "y").unwrap();
        // Looked at recently (atime now): nothing is scanned.
        File::open(&tmp)
            .unwrap()
            .set_times(std::fs::FileTimes::new().set_accessed(SystemTime::now()))
            .unwrap();
        assert_eq!(clean_tmp(&tmp).unwrap(), 0);
        assert!(stale.exists());
        // Last look 9 hours ago: the 40-hour-old file goes, the fresh one stays.
        File::open(&tmp)
            .unwrap()
            .set_times(
                std::fs::FileTimes::new()
                    .set_accessed(SystemTime::now() - Duration::from_secs(9 * 3600)),
            )
            .unwrap();
        assert_eq!(clean_tmp(&tmp).unwrap(), 1);
        assert!(!stale.exists() && fresh.exists());
        // The scan moved the atime to now: the next call does not scan again.
        let atime = std::fs::metadata(&tmp).unwrap().accessed().unwrap();
        assert!(SystemTime::now().duration_since(atime).unwrap() < Duration::from_secs(60));
    }

    #[test]
    fn dropped_delivery_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let md = Maildir::new(dir.path().join("Maildir"));
        let mut d = md.create(".Bounces").unwrap();
        d.write_all(b"x").unwrap();
        drop(d);
        assert_eq!(
            std::fs::read_dir(dir.path().join("Maildir/.Bounces/tmp"))
                .unwrap()
                .count(),
            0
        );
        let mut d = md.create("").unwrap();
        d.write_all(b"Subject: x\n\nhi\n").unwrap();
        let f = d.commit().unwrap();
        assert!(f.name.ends_with(",S=15"));
        assert_eq!(std::fs::read(&f.path).unwrap(), b"Subject: x\n\nhi\n");
        assert!(dir.path().join("Maildir/.Bounces/maildirfolder").exists());
    }
}
