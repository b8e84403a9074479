//! Fault injection on the Maildir side, through the real `rebound-lda`: a full disk (a small
//! tmpfs mounted by the test), a read-only mount, and `new/` replaced by a plain file. Each
//! must end the way an MTA needs: exit 75 with a `4.x.y` first stderr line (Sendmail and
//! Postfix keep the message and retry), nothing in `new/`, nothing left in `tmp/`. The
//! database on a full file system is the opposite case: the message is safe in the Maildir,
//! so the exit is 0, the failed write is logged with the file name, and `rebound import`
//! repairs the database once space is back. Mounting needs root: these skip outside CI when
//! not root and are required under `CI=true`.

mod fault_support;

use fault_support::*;

#[test]
fn maildir_on_full_disk_tempfails_and_leaves_nothing() {
    if !root_or_skip("maildir_on_full_disk") {
        return;
    }
    let area = Area::new();
    let fs = Tmpfs::mount(&area.path().join("disk"), "256k");
    let md = fs.dir.join("Maildir");
    make_maildir(&md);

    // A message bigger than the whole disk: the write itself fails (ENOSPC).
    let out = deliver(lda(&md, &area.db()), &big_bounce(1, 600 * 1024));
    assert_tempfail(&out, "600 KB message onto a 256 KB disk");
    assert_nothing_filed(&md);

    // A disk already full to the last byte: even a 2 KB message cannot be written.
    fs.fill();
    let out = deliver(lda(&md, &area.db()), &bounce(2));
    assert_tempfail(&out, "small message onto a full disk");
    assert_nothing_filed(&md);
}

#[test]
fn maildir_on_read_only_mount_tempfails() {
    if !root_or_skip("maildir_on_read_only_mount") {
        return;
    }
    let area = Area::new();
    let fs = Tmpfs::mount(&area.path().join("ro"), "1m");
    let md = fs.dir.join("Maildir");
    make_maildir(&md);
    fs.remount("ro");
    let out = deliver(lda(&md, &area.db()), &bounce(1));
    assert_tempfail(&out, "Maildir on a read-only mount");
    assert!(filed(&md).is_empty());

    // A Maildir that does not exist yet on a read-only mount cannot be created either.
    let out = deliver(lda(&fs.dir.join("Other"), &area.db()), &bounce(2));
    assert_tempfail(&out, "missing Maildir on a read-only mount");
}

#[test]
fn new_replaced_by_a_file_tempfails_and_cleans_tmp() {
    let area = Area::new();
    let md = area.maildir();
    make_maildir(&md);
    std::fs::remove_dir(md.join("new")).expect("rmdir new");
    std::fs::write(md.join("new"), b"not a directory\n").expect("write new");
    give_to_agent(&md.join("new"));
    let out = deliver(lda(&md, &area.db()), &bounce(1));
    assert_tempfail(&out, "new/ is a file");
    assert_tmp_clean(&md);
    assert_eq!(
        std::fs::read(md.join("new")).expect("read new"),
        b"not a directory\n",
        "the agent must not replace what it found"
    );
}

#[test]
fn database_on_full_disk_files_logs_and_import_repairs() {
    if !root_or_skip("database_on_full_disk") {
        return;
    }
    let area = Area::new();
    let md = area.maildir();
    let fs = Tmpfs::mount(&area.path().join("dbdisk"), "2m");
    let db = fs.dir.join("rebound.db");

    let out = deliver(lda(&md, &db), &bounce(0));
    assert_delivered(&out, "first delivery creates the database");
    assert_eq!(rows(&db, "SELECT count(*) FROM messages"), 1);

    let filler = fs.fill();
    for seq in 1..=3 {
        let out = deliver(lda(&md, &db), &bounce(seq));
        assert_delivered(&out, "database on a full disk: the message is safe, exit 0");
        assert_logged_with_file(&out, &md, seq, "the failed database write");
    }
    assert!(in_tmp(&md).is_empty());

    std::fs::remove_file(filler).expect("free space");
    let out = import(&md, &db);
    assert!(
        out.status.success(),
        "rebound import failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(rows(&db, "SELECT count(*) FROM messages"), 4);
}
