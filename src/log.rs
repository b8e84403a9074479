//! Logging: exactly one `key=value` line per message (like Postfix's and dovecot's delivery
//! lines), and error or note lines of their own, to syslog facility mail. The line is one
//! RFC 3164 datagram written to the syslog socket (`/dev/log`): `<PRI>rebound-lda[PID]: text`.
//! The TIMESTAMP and HOSTNAME fields are left out on purpose: glibc would need the local time
//! zone to write them, and the local receivers (rsyslog's imuxsock, systemd-journald,
//! busybox syslogd) stamp local messages with their own reception time anyway (RFC 3164
//! section 4.3.1 lets a receiver add a missing timestamp). Without a socket the lines go to
//! stderr. Values are quoted when they contain spaces, and control characters are escaped:
//! header bytes of a hostile message can never start a new log line.

use std::fmt::Write as _;
use std::io::Write as _;
use std::os::unix::net::{UnixDatagram, UnixStream};
use std::path::Path;

/// RFC 3164 facility mail (2), shifted.
const FACILITY_MAIL: u8 = 2 << 3;

/// Syslog severities used here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Err = 3,
    Warning = 4,
    Notice = 5,
    Info = 6,
}

enum Sink {
    Datagram(UnixDatagram),
    Stream(UnixStream),
    Stderr,
}

/// Where the lines go. Opening never fails: without a socket, stderr.
pub struct Logger {
    sink: Sink,
    ident: &'static str,
    pid: u32,
}

impl Logger {
    /// Log to stderr only.
    pub fn stderr(ident: &'static str) -> Logger {
        Logger {
            sink: Sink::Stderr,
            ident,
            pid: std::process::id(),
        }
    }

    /// Log to the syslog socket at `path` (datagram, else stream), else stderr.
    pub fn syslog(ident: &'static str, path: &Path) -> Logger {
        let sink = match UnixDatagram::unbound().and_then(|s| s.connect(path).map(|()| s)) {
            Ok(s) => Sink::Datagram(s),
            Err(_) => match UnixStream::connect(path) {
                Ok(s) => Sink::Stream(s),
                Err(_) => Sink::Stderr,
            },
        };
        Logger {
            sink,
            ident,
            pid: std::process::id(),
        }
    }

    /// Whether lines go to stderr (then a temporary failure's status line must come first).
    pub fn is_stderr(&self) -> bool {
        matches!(self.sink, Sink::Stderr)
    }

    /// Write one line. Never fails: a line that cannot be sent to syslog goes to stderr.
    pub fn line(&mut self, severity: Severity, text: &str) {
        let text = escape_line(text);
        let sent = match &mut self.sink {
            Sink::Datagram(s) => {
                let msg = format!(
                    "<{}>{}[{}]: {}",
                    FACILITY_MAIL | severity as u8,
                    self.ident,
                    self.pid,
                    text
                );
                s.send(msg.as_bytes()).is_ok()
            }
            Sink::Stream(s) => {
                // Stream sockets (syslog-ng's unix-stream) take NUL-terminated messages.
                let msg = format!(
                    "<{}>{}[{}]: {}\0",
                    FACILITY_MAIL | severity as u8,
                    self.ident,
                    self.pid,
                    text
                );
                s.write_all(msg.as_bytes()).is_ok()
            }
            Sink::Stderr => false,
        };
        if !sent {
            let _ = writeln!(
                std::io::stderr().lock(),
                "{}[{}]: {}",
                self.ident,
                self.pid,
                text
            );
        }
    }
}

/// Escape control characters (`\n` -> `\n` literally, others `\xNN`) so a value can never
/// break the one-line format.
pub fn escape_line(s: &str) -> String {
    if !s.chars().any(|c| c.is_control()) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// A `key=value` line under construction. Values with spaces, quotes, backslashes or nothing
/// at all are double-quoted with `\"` and `\\` escaped; control characters are always
/// escaped. An `=` inside a value needs no quotes: the key ends at the first one.
#[derive(Debug, Default, Clone)]
pub struct Fields(String);

impl Fields {
    pub fn new() -> Fields {
        Fields(String::with_capacity(256))
    }

    /// Append `key=value`.
    pub fn push(&mut self, key: &str, value: &str) -> &mut Self {
        if !self.0.is_empty() {
            self.0.push(' ');
        }
        self.0.push_str(key);
        self.0.push('=');
        let needs_quotes = value.is_empty()
            || value
                .chars()
                .any(|c| c == ' ' || c == '"' || c == '\\' || c.is_control());
        if needs_quotes {
            self.0.push('"');
            for c in value.chars() {
                match c {
                    '"' => self.0.push_str("\\\""),
                    '\\' => self.0.push_str("\\\\"),
                    '\n' => self.0.push_str("\\n"),
                    '\r' => self.0.push_str("\\r"),
                    '\t' => self.0.push_str("\\t"),
                    c if c.is_control() => {
                        let _ = write!(self.0, "\\x{:02x}", c as u32);
                    }
                    c => self.0.push(c),
                }
            }
            self.0.push('"');
        } else {
            self.0.push_str(value);
        }
        self
    }

    /// Append `key=value` when there is a value.
    pub fn opt(&mut self, key: &str, value: Option<&str>) -> &mut Self {
        if let Some(v) = value {
            self.push(key, v);
        }
        self
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_and_escaping() {
        let mut f = Fields::new();
        f.push("a", "plain")
            .push("b", "two words")
            .push("c", "x\ny\"z")
            .push("d", "");
        assert_eq!(f.as_str(), r#"a=plain b="two words" c="x\ny\"z" d="""#);
        assert_eq!(escape_line("a\nb\u{1}"), "a\\nb\\x01");
    }

    #[test]
    fn datagram_format() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        let server = UnixDatagram::bind(&path).unwrap();
        let mut l = Logger::syslog("rebound-lda", &path);
        l.line(Severity::Info, "file=x outcome=filed\nforged");
        let mut buf = [0u8; 512];
        let n = server.recv(&mut buf).unwrap();
        let got = std::str::from_utf8(&buf[..n]).unwrap();
        let want = format!(
            "<22>rebound-lda[{}]: file=x outcome=filed\\nforged",
            std::process::id()
        );
        assert_eq!(got, want);
    }
}
