//! Started as root (Sendmail's local_procmail mailer has the `S` flag), rebound-lda becomes the
//! `-d` user before it opens any file: the message, the folders and the database it creates
//! belong to that user. Needs root: skipped with a message otherwise, but never under CI=true
//! (CI runs as root). Uses the system's `nobody` account.

mod support;

use std::os::unix::fs::MetadataExt;
use support::{Area, Test, is_root, sample, skip};

fn nobody() -> rebound::users::Account {
    rebound::users::by_name("nobody")
        .unwrap()
        .expect("a `nobody` user")
}

/// An area that `nobody` may write in.
fn area_for(user: &rebound::users::Account) -> Area {
    let area = Area::new();
    std::os::unix::fs::chown(area.path(), Some(user.uid), Some(user.gid)).unwrap();
    area
}

#[test]
fn files_as_the_d_user() {
    if !is_root() {
        skip("not root: cannot test the switch to the -d user");
        return;
    }
    let user = nobody();
    let area = area_for(&user);
    let t = Test::lda_in(&area)
        .args([
            "-f",
            "MAILER-DAEMON",
            "-a",
            "joe=example.com",
            "-d",
            "nobody",
        ])
        .stdin(sample("dsn-userunknown.eml"))
        .status(0)
        .tmp_empty()
        .rows("messages", 1);
    let (_t, file) = t.filed();
    for p in [
        file.clone(),
        file.parent().unwrap().to_path_buf(),
        area.maildir(),
        area.database(),
    ] {
        let m = std::fs::metadata(&p).unwrap();
        assert_eq!(m.uid(), user.uid, "owner of {}", p.display());
        assert_eq!(m.gid(), user.gid, "group of {}", p.display());
    }
    assert_eq!(
        area.query("SELECT envelope_to FROM messages").as_deref(),
        Some("nobody+joe=example.com")
    );
}

#[test]
fn the_d_user_cannot_write_where_root_could() {
    if !is_root() {
        skip("not root: cannot test the switch to the -d user");
        return;
    }
    // The area stays root's (0700): after the switch, nobody may not create the Maildir.
    let area = Area::new();
    Test::lda_in(&area)
        .args(["-d", "nobody"])
        .stdin(sample("human-reply.eml"))
        .tempfail()
        .stderr_has("Permission denied");
    assert!(!area.maildir().exists());
}

#[test]
fn default_maildir_is_in_the_users_home() {
    if !is_root() {
        skip("not root: cannot test the switch to the -d user");
        return;
    }
    // nobody's home (/nonexistent on Debian) cannot hold a Maildir: a temporary failure,
    // never a file written elsewhere as root.
    let user = nobody();
    let area = area_for(&user);
    let home = user.home.clone();
    let mut t = Test::lda_in(&area)
        .no_defaults()
        .arg("-c")
        .arg(area.config())
        .args(["-o", "log=stderr", "-d", "nobody"])
        .arg("-o")
        .arg(format!("database={}", area.database().display()))
        .stdin(sample("human-reply.eml"));
    if home.join("Maildir").exists() {
        eprintln!(
            "nobody has a Maildir at {}: not touching it",
            home.display()
        );
        return;
    }
    t = t.status(75);
    assert!(t.stderr().contains(&home.display().to_string()));
}

/// A small tmpfs mounted for one test, unmounted on drop. `None` where mounting is not
/// permitted (an unprivileged container).
struct SmallFs(std::path::PathBuf);

impl SmallFs {
    fn mount(at: std::path::PathBuf, size: &str) -> Option<SmallFs> {
        std::fs::create_dir_all(&at).unwrap();
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&at)
            .status()
            .is_ok_and(|s| s.success());
        ok.then_some(SmallFs(at))
    }
}

impl Drop for SmallFs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn disk_full_before_filing_is_a_temporary_failure() {
    if !is_root() {
        skip("not root: cannot mount a small file system");
        return;
    }
    let area = Area::new();
    let Some(fs) = SmallFs::mount(area.path().join("full"), "64k") else {
        eprintln!("SKIPPED: mounting a tmpfs is not permitted here");
        return;
    };
    let mut big = b"Subject: too big\n\n".to_vec();
    big.resize(256 * 1024, b'x');
    Test::lda_in(&area)
        .set(&format!("maildir={}/Maildir", fs.0.display()))
        .stdin(big)
        .status(75)
        .stderr_has("4.2.2");
    let tmp = fs.0.join("Maildir/tmp");
    assert_eq!(
        std::fs::read_dir(&tmp).unwrap().count(),
        0,
        "tmp/ not empty"
    );
    assert_eq!(
        std::fs::read_dir(fs.0.join("Maildir/new")).unwrap().count(),
        0
    );
}

#[test]
fn database_disk_full_after_filing_still_exits_0() {
    if !is_root() {
        skip("not root: cannot mount a small file system");
        return;
    }
    let area = Area::new();
    let Some(fs) = SmallFs::mount(area.path().join("dbfs"), "64k") else {
        eprintln!("SKIPPED: mounting a tmpfs is not permitted here");
        return;
    };
    // Fill the file system so the database cannot even be created.
    let _ = std::fs::write(fs.0.join("filler"), vec![0u8; 64 * 1024]);
    Test::lda_in(&area)
        .set(&format!("database={}/rebound.db", fs.0.display()))
        .stdin(sample("dsn-userunknown.eml"))
        .status(0)
        .maildir_new(1)
        .tmp_empty()
        .stderr_has("db=error outcome=filed");
}
