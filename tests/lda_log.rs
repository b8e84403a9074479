//! The log: one RFC 3164 datagram per message to the syslog socket, facility mail, a
//! `key=value` line; errors as lines of their own; control characters from the message
//! escaped so header bytes can never forge a second line.

mod support;

use std::os::unix::net::UnixDatagram;
use std::time::Duration;
use support::{Area, Test, sample};

fn collect(sock: &UnixDatagram) -> Vec<String> {
    sock.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut lines = Vec::new();
    let mut buf = vec![0u8; 65536];
    while let Ok(n) = sock.recv(&mut buf) {
        lines.push(String::from_utf8_lossy(&buf[..n]).into_owned());
    }
    lines
}

#[test]
fn one_datagram_per_message_facility_mail() {
    let area = Area::new();
    let path = area.path().join("log.sock");
    let sock = UnixDatagram::bind(&path).unwrap();
    let mut t = Test::lda_in(&area)
        .set("log=syslog")
        .set(&format!("syslog_socket={}", path.display()))
        .args(["-f", "", "-a", "bounces+joe=example.com@sender.example"])
        .stdin(sample("dsn-userunknown.eml"))
        .status(0);
    assert_eq!(t.stderr(), "", "nothing on stderr when syslog works");
    let lines = collect(&sock);
    assert_eq!(lines.len(), 1, "{lines:?}");
    let l = &lines[0];
    assert!(l.starts_with("<22>rebound-lda["), "{l}");
    for want in [
        "]: file=",
        " msgid=<20261128030001.4Z1A2B3C4D@mx.sender.example>",
        " from=<>",
        " to=bounces+joe=example.com@sender.example",
        " kind=",
        " folder=",
        " db=recorded",
        " outcome=filed",
        " ms=",
    ] {
        assert!(l.contains(want), "{want:?} missing in {l}");
    }
    assert!(!l.contains('\n'));
}

#[test]
fn hostile_header_bytes_are_escaped() {
    let area = Area::new();
    let path = area.path().join("log.sock");
    let sock = UnixDatagram::bind(&path).unwrap();
    Test::lda_in(&area)
        .set("log=syslog")
        .set(&format!("syslog_socket={}", path.display()))
        .args(["-f", "a\rb\x01c@example.net"])
        .stdin(b"Message-ID: <x\x1b[31m\x01@example.net>\nSubject: x\n\n".to_vec())
        .status(0);
    let lines = collect(&sock);
    assert_eq!(lines.len(), 1, "{lines:?}");
    let l = &lines[0];
    assert!(!l.chars().any(|c| c.is_control()), "{l:?}");
    assert!(l.contains("\\x01"), "{l}");
}

#[test]
fn errors_are_lines_of_their_own() {
    let area = Area::new();
    let path = area.path().join("log.sock");
    let sock = UnixDatagram::bind(&path).unwrap();
    Test::lda_in(&area)
        .set("log=syslog")
        .set(&format!("syslog_socket={}", path.display()))
        .set(&format!("database={}/missing/x.db", area.path().display()))
        .stdin(sample("human-reply.eml"))
        .status(0);
    let lines = collect(&sock);
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(
        lines[0].starts_with("<19>") && lines[0].contains("error="),
        "{lines:?}"
    );
    assert!(
        lines[1].starts_with("<22>") && lines[1].contains("db=error"),
        "{lines:?}"
    );
}

#[test]
fn stderr_when_there_is_no_socket() {
    let area = Area::new();
    Test::lda_in(&area)
        .set("log=syslog")
        .set(&format!("syslog_socket={}/none", area.path().display()))
        .stdin(sample("human-reply.eml"))
        .status(0)
        .stderr_has("outcome=filed");
}
