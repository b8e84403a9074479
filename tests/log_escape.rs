//! Log injection through the real `rebound-lda`: a hostile sender controls the Subject,
//! Message-ID and From of what comes back, and the envelope sender. Raw CR, ESC and BEL in
//! header values, and CR/LF hidden in RFC 2047 encoded-words, must never reach the log line
//! as such: no forged second line (`outcome=...` at a line start), no terminal escape
//! sequence in a postmaster's `tail -f`. Checked on the stderr log (`-o log=stderr`), which
//! carries the same line as syslog.

mod fault_support;

use fault_support::*;

fn assert_clean(stderr: &[u8], what: &str) {
    let text = String::from_utf8_lossy(stderr);
    for line in stderr.split(|b| *b == b'\n') {
        let bad: Vec<u8> = line
            .iter()
            .copied()
            .filter(|b| (*b < 0x20 && *b != b'\t') || *b == 0x7f)
            .collect();
        assert!(
            bad.is_empty(),
            "{what}: control bytes {bad:02x?} in log line {:?}",
            String::from_utf8_lossy(line)
        );
    }
    for line in text.lines() {
        let l = line.trim_start();
        assert!(
            !l.starts_with("outcome=forged") && !l.starts_with("X-Injected"),
            "{what}: a header forged a log line: {line:?}\nwhole log:\n{text}"
        );
    }
}

#[test]
fn raw_control_characters_in_headers_are_escaped() {
    let area = Area::new();
    let md = area.maildir();
    let msg = b"Return-Path: <>\n\
From: Mail Delivery \x1b[2J\x1b[31mSystem <MAILER-DAEMON@mx.example.net>\n\
To: bounces+joe=example.com@sender.example.net\n\
Subject: Undelivered\rX-Injected: yes\r\noutcome=forged \x1b]0;owned\x07 end\n\
Message-ID: <esc\x1b[5m\x07\x7f@mx.example.net>\n\
Date: Sat, 28 Nov 2026 03:00:00 +0000\n\
Content-Type: text/plain\n\
\n\
Your message could not be delivered.\n";
    let mut cmd = lda(&md, &area.db());
    cmd.arg("-f")
        .arg("evil\x1b[31m\r\noutcome=forged@example.net");
    let out = deliver(cmd, msg);
    assert_delivered(&out, "message with raw control characters");
    assert!(!out.stderr.is_empty(), "the agent must log a line");
    assert_clean(&out.stderr, "raw controls");
    assert_eq!(filed(&md).len(), 1);
}

#[test]
fn encoded_control_characters_in_headers_are_escaped() {
    let area = Area::new();
    let md = area.maildir();
    let msg = b"Return-Path: <>\n\
From: =?utf-8?q?Mailer=0D=0Aoutcome=3Dforged=1B=5B31m?= <MAILER-DAEMON@mx.example.net>\n\
To: bounces+joe=example.com@sender.example.net\n\
Subject: =?utf-8?b?VW5kZWxpdmVyZWQKb3V0Y29tZT1mb3JnZWQbWzMxbQ==?=\n\
Message-ID: <=?utf-8?q?a=0Ab?=@mx.example.net>\n\
Date: Sat, 28 Nov 2026 03:00:00 +0000\n\
Content-Type: text/plain\n\
\n\
Your message could not be delivered.\n";
    let out = deliver(lda(&md, &area.db()), msg);
    assert_delivered(&out, "message with encoded control characters");
    assert!(!out.stderr.is_empty(), "the agent must log a line");
    assert_clean(&out.stderr, "encoded controls");
}
