//! Started as root (Sendmail's local_procmail mailer has the `S` flag), rebound-lda becomes the
//! `-d` user before it opens any file: the message, the folders and the database it creates
//! belong to that user. Needs root: skipped with a message otherwise, but never under CI=true
//! (CI runs as root). Uses the system's `nobody` account.

mod support;

use std::os::unix::fs::MetadataExt;
use support::{Area, Test, is_root, sample, skip};

fn nobody() -> nix::unistd::User {
    nix::unistd::User::from_name("nobody")
        .unwrap()
        .expect("a `nobody` user")
}

/// An area that `nobody` may write in.
fn area_for(user: &nix::unistd::User) -> Area {
    let area = Area::new();
    nix::unistd::chown(area.path(), Some(user.uid), Some(user.gid)).unwrap();
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
        assert_eq!(m.uid(), user.uid.as_raw(), "owner of {}", p.display());
        assert_eq!(m.gid(), user.gid.as_raw(), "group of {}", p.display());
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
    let home = user.dir.clone();
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
