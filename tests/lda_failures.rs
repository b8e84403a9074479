//! Everything that stops filing is a temporary failure: exit 75, a first stderr line that
//! starts `4.x.y`, nothing in `new/`, nothing left in `tmp/`. Everything after filing is exit
//! 0 with the error logged. Never 1, 64, 78 or 101.

mod support;

use std::os::unix::fs::PermissionsExt;
use support::{Area, Test, is_root, sample, skip};

#[test]
fn unknown_option() {
    Test::lda()
        .stdin(sample("human-reply.eml"))
        .arg("-x")
        .tempfail()
        .stderr_has("unknown option -x");
}

#[test]
fn extra_operand_and_missing_value() {
    Test::lda()
        .stdin(sample("human-reply.eml"))
        .arg("extra")
        .tempfail();
    Test::lda()
        .stdin(sample("human-reply.eml"))
        .arg("-d")
        .tempfail()
        .stderr_has("needs a value");
}

#[test]
fn config_syntax_error_names_file_and_line() {
    let area = Area::new();
    Test::lda_in(&area)
        .config("database = \"/tmp/x.db\"\nmaildir = \n")
        .stdin(sample("human-reply.eml"))
        .tempfail()
        .stderr_has("rebound.conf: line 2");
}

#[test]
fn config_unknown_key_and_bad_value() {
    Test::lda()
        .config("verp_delimiter = \"+=\"\n")
        .stdin(sample("human-reply.eml"))
        .tempfail()
        .stderr_has("line 1");
    Test::lda()
        .set("busy_timeout_ms=soon")
        .stdin(sample("human-reply.eml"))
        .tempfail();
    Test::lda()
        .set("folders.bounce=../../etc")
        .stdin(sample("human-reply.eml"))
        .tempfail();
}

#[test]
fn explicit_config_missing_or_unreadable() {
    let area = Area::new();
    Test::lda_in(&area)
        .arg("-c")
        .arg(area.path().join("nope.conf"))
        .stdin(sample("human-reply.eml"))
        .tempfail()
        .stderr_has("nope.conf");
    // A directory cannot be read as a file, even by root.
    Test::lda_in(&area)
        .arg("-c")
        .arg(area.path())
        .stdin(sample("human-reply.eml"))
        .tempfail();
}

#[test]
fn unknown_user() {
    Test::lda()
        .args(["-d", "no-such-user-rebound"])
        .stdin(sample("human-reply.eml"))
        .tempfail()
        .stderr_has("4.1.1");
}

#[test]
fn maildir_that_cannot_be_created() {
    let area = Area::new();
    let blocker = area.path().join("file");
    std::fs::write(&blocker, "").unwrap();
    Test::lda_in(&area)
        .set(&format!("maildir={}/Maildir", blocker.display()))
        .stdin(sample("human-reply.eml"))
        .tempfail();
    assert!(area.tmp_files().is_empty());
}

#[test]
fn unwritable_maildir_leaves_nothing() {
    if is_root() {
        // root ignores permission bits; the -d test in lda_root covers a real user.
        eprintln!("as root: permission bits do not stop root; covered by lda_root");
        return;
    }
    let area = Area::new();
    Test::lda_in(&area)
        .stdin(b"Subject: x\n\n".to_vec())
        .status(0);
    let new = area.maildir().join("new");
    std::fs::set_permissions(&new, std::fs::Permissions::from_mode(0o500)).unwrap();
    Test::lda_in(&area)
        .stdin(sample("human-reply.eml"))
        .status(75);
    std::fs::set_permissions(&new, std::fs::Permissions::from_mode(0o700)).unwrap();
    assert!(area.tmp_files().is_empty());
}

#[test]
fn bad_mailbox_names_are_refused() {
    for bad in ["../escape", "a/b", "..", "x..y", "."] {
        Test::lda()
            .args(["-m", bad])
            .stdin(sample("human-reply.eml"))
            .tempfail()
            .stderr_has("4.2.0");
    }
}

#[test]
fn unreadable_input_file() {
    let area = Area::new();
    Test::lda_in(&area)
        .arg("-p")
        .arg(area.path().join("missing.eml"))
        .tempfail();
}

#[test]
fn database_that_cannot_be_opened_still_files() {
    let area = Area::new();
    Test::lda_in(&area)
        .set(&format!(
            "database={}/no/such/dir/rebound.db",
            area.path().display()
        ))
        .stdin(sample("dsn-userunknown.eml"))
        .status(0)
        .maildir_new(1)
        .tmp_empty()
        .stderr_has("error=\"database ")
        .stderr_has("db=error outcome=filed");
}

#[test]
fn corrupt_database_still_files() {
    let area = Area::new();
    std::fs::write(area.database(), vec![b'x'; 8192]).unwrap();
    Test::lda_in(&area)
        .stdin(sample("dsn-userunknown.eml"))
        .status(0)
        .maildir_new(1)
        .stderr_has("db=error");
}

#[test]
fn locked_database_past_the_timeout_still_files() {
    let area = Area::new();
    Test::lda_in(&area)
        .stdin(b"Subject: first\n\n".to_vec())
        .status(0);
    let conn = rusqlite::Connection::open(area.database()).unwrap();
    conn.execute_batch("BEGIN EXCLUSIVE").unwrap();
    Test::lda_in(&area)
        .set("busy_timeout_ms=200")
        .stdin(sample("dsn-userunknown.eml"))
        .status(0)
        .maildir_new(2)
        .stderr_has("db=error");
    conn.execute_batch("ROLLBACK").unwrap();
}

#[test]
fn panics_before_and_after_filing() {
    Test::lda()
        .env("REBOUND_LDA_FAULT", "panic-read")
        .stdin(sample("human-reply.eml"))
        .tempfail()
        .stderr_has("internal error before filing");
    Test::lda()
        .env("REBOUND_LDA_FAULT", "panic-classify")
        .stdin(sample("dsn-userunknown.eml"))
        .status(0)
        .maildir_new(1)
        .rows("messages", 1)
        .stderr_has("kind=other detector=panic");
    Test::lda()
        .env("REBOUND_LDA_FAULT", "hang-classify")
        .set("classify_timeout_ms=300")
        .stdin(sample("dsn-userunknown.eml"))
        .status(0)
        .maildir_new(1)
        .rows("messages", 1)
        .stderr_has("classification did not finish within classify_timeout_ms")
        .stderr_has("kind=other detector=timeout");
    Test::lda()
        .env("REBOUND_LDA_FAULT", "panic-record")
        .stdin(sample("dsn-userunknown.eml"))
        .status(0)
        .maildir_new(1)
        .rows("messages", 0)
        .stderr_has("store panicked");
    Test::lda()
        .env("REBOUND_LDA_FAULT", "panic-log")
        .stdin(sample("dsn-userunknown.eml"))
        .status(0)
        .maildir_new(1)
        .rows("messages", 1);
}

#[test]
fn a_restart_takes_over_only_its_own_tmp_file() {
    // REBOUND_LDA_RESUME is how the classifier's timer hands the fsynced tmp file to the
    // restarted agent. Anything else it could name stays where it is: the wrong directory, a
    // tmp/ file of another process, a symlink. Each is a temporary failure with nothing filed.
    let area = Area::new();
    let tmp = area.maildir().join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    std::fs::create_dir_all(area.maildir().join("new")).unwrap();
    let outside = area.path().join("secret");
    std::fs::write(&outside, "not a message\n").unwrap();
    let other = tmp.join("1795855546.M1P1.otherhost");
    std::fs::write(&other, "From another agent\n").unwrap();
    let link = tmp.join("1795855546.M2P2.link");
    std::os::unix::fs::symlink(&outside, &link).unwrap();
    for target in [&outside, &other, &link] {
        Test::lda_in(&area)
            .env("REBOUND_LDA_RESUME", target.to_str().unwrap())
            .stdin(sample("dsn-userunknown.eml"))
            .status(75)
            .stderr_has("4.3.0 rebound-lda: take over")
            .maildir_new(0);
    }
    assert!(outside.exists() && other.exists() && link.exists());
}

#[test]
fn root_without_user_refuses() {
    if !is_root() {
        skip("not root: the root-without--d refusal needs root");
        return;
    }
    Test::lda()
        .no_defaults()
        .args(["-o", "log=stderr"])
        .stdin(sample("human-reply.eml"))
        .status(75)
        .stderr_has("4.3.5")
        .stderr_has("without -d");
}

#[test]
fn a_closed_stderr_never_turns_into_101() {
    use std::process::Stdio;
    for (extra, want) in [(vec!["-x"], 75), (vec![], 0)] {
        let t = Test::lda().args(extra);
        let mut cmd = t.command();
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Close our end first: every write to stderr fails with EPIPE.
        drop(child.stderr.take());
        {
            use std::io::Write;
            let mut stdin = child.stdin.take().unwrap();
            let _ = stdin.write_all(&sample("human-reply.eml"));
        }
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(want));
    }
}
