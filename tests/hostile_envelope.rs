//! Hostile envelopes and addresses through the real `rebound-lda`: whoever writes a bounce
//! controls the addresses in it, and a misconfigured MTA line controls `-m`. Addresses must
//! never be pasted into SQL (a quote in a local part is legal, RFC 5321 section 4.1.2) nor
//! into paths, and `-m` must never lead outside the Maildir (`..`, `/`, absolute paths).
//! Either the message is filed inside the Maildir (exit 0) or the MTA is told to retry
//! (exit 75); nothing else appears beside the Maildir and the database.

mod fault_support;

use fault_support::*;

fn only_maildir_and_db(area: &Area, what: &str) {
    for e in std::fs::read_dir(area.path()).expect("read area").flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        assert!(
            name == "Maildir" || name.starts_with("rebound.db"),
            "{what}: the agent wrote {name} outside the Maildir"
        );
    }
}

#[test]
fn quotes_and_sql_in_addresses_are_data() {
    let area = Area::new();
    let md = area.maildir();
    let db = area.db();
    let evil = "\"o'brien'); DROP TABLE events; --\"@example.com";
    let msg = format!(
        "Return-Path: <>\n\
From: MAILER-DAEMON@mx.example.net\n\
To: bounces@sender.example.net\n\
Subject: Undelivered Mail Returned to Sender\n\
Message-ID: <sql-1@mx.example.net>\n\
MIME-Version: 1.0\n\
Content-Type: multipart/report; report-type=delivery-status; boundary=\"q\"\n\
\n\
--q\n\
Content-Type: message/delivery-status\n\
\n\
Reporting-MTA: dns; mx.example.net\n\
\n\
Final-Recipient: rfc822; {evil}\n\
Action: failed\n\
Status: 5.1.1\n\
Diagnostic-Code: smtp; 550 5.1.1 {evil}: User unknown'; DELETE FROM messages; --\n\
--q--\n"
    );
    let mut cmd = lda(&md, &db);
    cmd.arg("-a")
        .arg("bounces+x'%27;--=example.com@sender.example.net");
    let out = deliver(cmd, msg.as_bytes());
    assert_delivered(&out, "quotes in addresses");
    assert_eq!(filed(&md).len(), 1);
    assert_eq!(rows(&db, "SELECT count(*) FROM messages"), 1);
    // The events table still exists and holds the address as data, if it was recorded.
    let n = rows(
        &db,
        "SELECT count(*) FROM events WHERE address LIKE '%o''brien%' OR address LIKE '%DROP TABLE%'",
    );
    assert!(n <= 1, "one event at most for one recipient, got {n}");
    only_maildir_and_db(&area, "quotes in addresses");
}

#[test]
fn mailbox_names_cannot_escape_the_maildir() {
    for name in [
        "..",
        "../escape",
        ".Bounces/../../escape",
        "/tmp/rebound-absolute-escape",
        "a/b",
        ".",
        "./.",
        "",
    ] {
        let area = Area::new();
        let md = area.maildir();
        let mut cmd = lda(&md, &area.db());
        cmd.arg("-m").arg(name);
        let out = deliver(cmd, &bounce(1));
        match out.status.code() {
            Some(0) => {
                let f = filed(&md);
                assert_eq!(f.len(), 1, "-m {name:?}: exit 0 must file one message");
                assert!(
                    f[0].starts_with(&md),
                    "-m {name:?}: filed outside: {:?}",
                    f[0]
                );
            }
            Some(75) => assert_tempfail(&out, &format!("-m {name:?}")),
            other => panic!(
                "-m {name:?}: exit {other:?}; stderr:\n{}",
                String::from_utf8_lossy(&out.stderr)
            ),
        }
        only_maildir_and_db(&area, &format!("-m {name:?}"));
        assert!(!std::path::Path::new("/tmp/rebound-absolute-escape").exists());
    }
}

#[test]
fn verp_recipient_with_path_characters_stays_data() {
    let area = Area::new();
    let md = area.maildir();
    let mut cmd = lda(&md, &area.db());
    cmd.env("RECIPIENT", "bounces+..=..@sender.example.net")
        .env("EXTENSION", "../../etc/passwd");
    let out = deliver(cmd, &bounce(2));
    assert_delivered(&out, "path characters in the VERP recipient");
    assert_eq!(filed(&md).len(), 1);
    assert!(filed(&md)[0].starts_with(&md));
    only_maildir_and_db(&area, "path characters in the VERP recipient");
}
