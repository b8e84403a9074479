//! The delivery pipeline of rebound-lda, one call per step, read top to bottom:
//! arguments -> privileges -> configuration -> envelope -> read a bounded prefix ->
//! classify it -> file the whole message (streamed) into the Maildir -> record -> log ->
//! exit code. Until the rename into `new/` every failure is a temporary one (exit 75, first
//! stderr line `4.x.y ...`); after it the exit is 0 whatever happens, because the message is
//! safe and `rebound import` can bring the database in line later. A panic in the classifier
//! or the store is caught and does not change that.

use crate::classify::{self, Context, Kind, Verdict};
use crate::config::{Config, Envelope, Invocation};
use crate::error::{Error, Result};
use crate::exit::{self, LdaExit};
use crate::log::{Fields, Logger, Severity};
use crate::maildir::{self, Filed, Maildir};
use crate::privileges;
use crate::store::{self, ContentHash, MessageMeta, Recorded, Store};
use std::io::Read;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

const IDENT: &str = "rebound-lda";

/// Set once the message is durable in `new/`: from then on even an escaped panic exits 0.
static FILED: AtomicBool = AtomicBool::new(false);
/// The last panic's message and location, for the log (the default hook would print it to
/// stderr ahead of the `4.x.y` line).
static PANIC: Mutex<Option<String>> = Mutex::new(None);

/// Whether the message has been filed (for the binary's last-resort panic handler).
pub fn filed() -> bool {
    FILED.load(Ordering::SeqCst)
}

/// Replace the default panic hook: remember the message instead of printing it.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let payload = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic".into());
        let text = match info.location() {
            Some(l) => format!("{payload} at {}:{}", l.file(), l.line()),
            None => payload,
        };
        if let Ok(mut slot) = PANIC.lock() {
            *slot = Some(text);
        }
    }));
}

/// The last panic message, if any.
pub fn last_panic() -> String {
    PANIC
        .lock()
        .ok()
        .and_then(|mut p| p.take())
        .unwrap_or_else(|| "panic".into())
}

/// Fault injection for the tests of the panic paths (`REBOUND_LDA_FAULT`): `panic-read`
/// (before filing), `panic-classify`, `panic-record`, `panic-log` (after filing).
fn fault(point: &str) {
    if let Some(v) = std::env::var_os("REBOUND_LDA_FAULT") {
        if v == point {
            panic!("injected fault {point}");
        }
    }
}

/// Run the agent with `args` (without argv[0]); returns the exit code.
pub fn main(args: impl IntoIterator<Item = std::ffi::OsString>) -> LdaExit {
    let start = Instant::now();
    let mut logger = Logger::syslog(IDENT, std::path::Path::new("/dev/log"));
    let inv = match Invocation::parse(args) {
        Ok(inv) => inv,
        Err(e) => return tempfail(&mut logger, &e),
    };
    if inv.help {
        println!("{}", crate::config::USAGE);
        return LdaExit::Delivered;
    }
    if inv.version {
        println!("rebound-lda {}", env!("CARGO_PKG_VERSION"));
        return LdaExit::Delivered;
    }
    match deliver(&inv, &mut logger, start) {
        Ok(()) => LdaExit::Delivered,
        Err(e) => tempfail(&mut logger, &e),
    }
}

/// Print the `4.x.y` line first (the MTA reads the first line), then log the error.
fn tempfail(logger: &mut Logger, e: &Error) -> LdaExit {
    eprintln!("{}", exit::tempfail_line(e));
    let mut f = Fields::new();
    f.push("outcome", "tempfail")
        .push("status", exit::enhanced_status(e))
        .push("error", &e.to_string());
    logger.line(Severity::Err, f.as_str());
    LdaExit::TempFail
}

/// Everything up to a durable message (errors are temporary failures), then record and log.
fn deliver(inv: &Invocation, logger: &mut Logger, start: Instant) -> Result<()> {
    // Privileges first: nothing is opened as root.
    let explicit_maildir = inv.overrides.iter().any(|o| {
        o.split_once('=')
            .is_some_and(|(k, _)| k.trim() == "maildir")
    });
    let user = privileges::become_user(inv.user.as_deref(), explicit_maildir)?;
    let config_path = inv
        .config
        .clone()
        .unwrap_or_else(|| PathBuf::from(crate::config::DEFAULT_PATH));
    let config = Config::load(&config_path, inv.config.is_some(), &inv.overrides)?;
    if config.log == "stderr" {
        *logger = Logger::stderr(IDENT);
    } else if config.syslog_socket != std::path::Path::new("/dev/log") {
        *logger = Logger::syslog(IDENT, &config.syslog_socket);
    }
    let envelope = Envelope::from_invocation(inv, |k| std::env::var(k).ok());
    let home = || {
        user.as_ref()
            .map(|u| u.home.clone())
            .or_else(privileges::current_home)
    };
    let root = match &config.maildir {
        Some(m) => match m.strip_prefix("~") {
            Ok(rest) => home()
                .ok_or_else(|| config_error(&config_path, "maildir: no home directory for ~"))?
                .join(rest),
            Err(_) => m.clone(),
        },
        None => home()
            .ok_or_else(|| config_error(&config_path, "maildir: no home directory"))?
            .join("Maildir"),
    };
    // `-m ""` is ignored (Postfix's `-m ${extension}` with no extension).
    let mailbox = match inv.mailbox.as_deref().filter(|m| !m.is_empty()) {
        Some(m) => Some(maildir::folder_dir(m).map_err(Error::Mailbox)?),
        None => None,
    };

    // Read the prefix kept for classification; the rest streams to disk below.
    let mut input: Box<dyn Read> = match &inv.path {
        Some(p) => Box::new(std::fs::File::open(p).map_err(|e| Error::io("open", p, e))?),
        None => Box::new(std::io::stdin().lock()),
    };
    let input_name = inv
        .path
        .clone()
        .unwrap_or_else(|| PathBuf::from("standard input"));
    let mut prefix = Vec::with_capacity(64 * 1024);
    (&mut input)
        .take(config.classify_bytes as u64)
        .read_to_end(&mut prefix)
        .map_err(|e| Error::io("read", &input_name, e))?;
    fault("panic-read");
    let (from_line_sender, body_start) = mbox_from_line(&prefix);
    let sender = envelope.sender.clone().or(from_line_sender);
    let message = &prefix[body_start..];

    let ctx = Context {
        sender: sender.clone(),
        recipient: envelope.recipient.clone(),
        original_recipient: envelope.original_recipient.clone(),
        extension: envelope.extension.clone(),
        verp: config.verp(),
    };
    let mut notes: Vec<String> = Vec::new();
    let verdict = match catch_unwind(AssertUnwindSafe(|| {
        fault("panic-classify");
        classify::classify(message, &ctx)
    })) {
        Ok(v) => v,
        Err(_) => {
            notes.push(format!(
                "classifier panicked, filed as other: {}",
                last_panic()
            ));
            Verdict {
                kind: Kind::Other,
                detector: "panic".into(),
                ..Verdict::default()
            }
        }
    };

    // File: added headers, the prefix, then the rest of the input, hashed as written.
    let maildir = Maildir::new(root);
    let folder = mailbox.unwrap_or_else(|| config.folders.for_kind(verdict.kind).to_string());
    let mut delivery = match maildir.create(&folder) {
        Ok(d) => d,
        Err(e) if !folder.is_empty() => {
            // The message matters more than its folder: INBOX, with a note.
            notes.push(format!("folder {folder} unusable ({e}), filed to INBOX"));
            maildir.create("")?
        }
        Err(e) => return Err(e),
    };
    let mut hash = ContentHash::new();
    let eol: &[u8] = if crlf(message) { b"\r\n" } else { b"\n" };
    let mut added = Vec::new();
    if let Some(s) = &sender {
        if !has_header(message, b"return-path") {
            added.extend_from_slice(b"Return-Path: <");
            added.extend_from_slice(s.as_bytes());
            added.extend_from_slice(b">");
            added.extend_from_slice(eol);
        }
    }
    if let Some(r) = &envelope.recipient {
        if !has_header(message, b"delivered-to") {
            added.extend_from_slice(b"Delivered-To: ");
            added.extend_from_slice(r.as_bytes());
            added.extend_from_slice(eol);
        }
    }
    for chunk in [&added[..], message] {
        if !chunk.is_empty() {
            hash.update(chunk);
            delivery.write_all(chunk)?;
        }
    }
    if prefix.len() as u64 == config.classify_bytes as u64 {
        let mut buf = vec![0u8; 128 * 1024];
        loop {
            let n = match input.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::io("read", &input_name, e)),
            };
            hash.update(&buf[..n]);
            delivery.write_all(&buf[..n])?;
        }
    }
    drop(input);
    let arrived_at = store::time::now();
    let filed = delivery.commit()?;
    FILED.store(true, Ordering::SeqCst);

    // The message is safe. Nothing below may turn into a temporary failure.
    for i in &inv.ignored {
        notes.push(format!("ignored dovecot-lda option {i}"));
    }
    let meta = MessageMeta {
        file: filed.name.clone(),
        folder: filed.folder.clone(),
        arrived_at,
        envelope_from: sender.clone(),
        envelope_to: envelope_to(&envelope, &config),
        size: Some(filed.size),
        content_hash: hash.finish(),
    };
    let db = match catch_unwind(AssertUnwindSafe(|| {
        fault("panic-record");
        Store::open(&config.database, config.busy_timeout_ms)
            .and_then(|mut s| s.record(&meta, &verdict, &config.policy))
    })) {
        Ok(Ok(Recorded::New { .. })) => "recorded",
        Ok(Ok(Recorded::Duplicate { .. })) => "duplicate",
        Ok(Err(e)) => {
            let mut f = Fields::new();
            f.push("file", &filed.name)
                .push("folder", folder_label(&filed))
                .push("error", &e.to_string());
            logger.line(Severity::Err, f.as_str());
            "error"
        }
        Err(_) => {
            let mut f = Fields::new();
            f.push("file", &filed.name)
                .push("folder", folder_label(&filed))
                .push("error", &format!("store panicked: {}", last_panic()));
            logger.line(Severity::Err, f.as_str());
            "error"
        }
    };
    for n in &notes {
        let mut f = Fields::new();
        f.push("file", &filed.name).push("note", n);
        logger.line(Severity::Notice, f.as_str());
    }
    let _ = catch_unwind(AssertUnwindSafe(|| {
        fault("panic-log");
        let line = delivery_line(&filed, &meta, &verdict, db, start);
        logger.line(Severity::Info, &line);
    }));
    Ok(())
}

fn config_error(path: &std::path::Path, message: &str) -> Error {
    Error::Config {
        path: path.to_path_buf(),
        message: message.to_string(),
    }
}

fn folder_label(filed: &Filed) -> &str {
    if filed.folder.is_empty() {
        "INBOX"
    } else {
        &filed.folder
    }
}

/// The one line per message: `file=... msgid=<...> from=<...> to=... kind=bounce
/// rcpt=joe@example.com status=5.1.1 reason=userunknown hard=1 folder=.Bounces db=recorded
/// outcome=filed ms=2.1`, the rcpt group repeated per reported recipient.
fn delivery_line(
    filed: &Filed,
    meta: &MessageMeta,
    verdict: &Verdict,
    db: &str,
    start: Instant,
) -> String {
    let mut f = Fields::new();
    f.push("file", &filed.name)
        .opt("msgid", verdict.message_id.as_deref())
        .push(
            "from",
            &format!("<{}>", meta.envelope_from.as_deref().unwrap_or("")),
        )
        .opt("to", meta.envelope_to.as_deref())
        .push("kind", verdict.kind.as_str())
        .push("detector", &verdict.detector);
    if let Some(t) = &verdict.feedback_type {
        f.push("feedback", t);
    }
    for r in &verdict.recipients {
        f.push("rcpt", &r.address)
            .opt("orig", r.original.as_deref())
            .opt("status", r.status.as_deref())
            .opt("reason", r.reason.map(|x| x.as_str()))
            .opt("hard", r.hard.map(|h| if h { "1" } else { "0" }));
    }
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    f.push("size", &filed.size.to_string())
        .push("folder", folder_label(filed))
        .push("db", db)
        .push("outcome", "filed")
        .push("ms", &format!("{ms:.1}"));
    f.as_str().to_string()
}

/// The envelope recipient to record: the full address when the MTA gave one, else the `-d`
/// user with the `+detail` Sendmail passed (`bounces+joe=example.com`).
fn envelope_to(e: &Envelope, config: &Config) -> Option<String> {
    if let Some(r) = e.recipient.as_ref().or(e.original_recipient.as_ref()) {
        return Some(r.clone());
    }
    match (&e.user, &e.extension) {
        (Some(u), Some(x)) => Some(format!("{u}{}{x}", config.verp().detail)),
        (Some(u), None) => Some(u.clone()),
        (None, Some(x)) => Some(x.clone()),
        (None, None) => None,
    }
}

/// A leading mbox `From sender date` line (Postfix local(8), Sendmail's prog mailer): the
/// sender it names, and where the message itself starts.
fn mbox_from_line(buf: &[u8]) -> (Option<String>, usize) {
    if !buf.starts_with(b"From ") {
        return (None, 0);
    }
    let end = match buf.iter().position(|&b| b == b'\n') {
        Some(i) => i + 1,
        None => buf.len(),
    };
    let line = String::from_utf8_lossy(&buf[5..end]);
    let sender = line
        .split_ascii_whitespace()
        .next()
        .map(|s| s.trim_matches(['<', '>']).to_string());
    (sender, end)
}

/// Whether the header block (up to the first empty line) has a field `name` (lower-case).
fn has_header(message: &[u8], name: &[u8]) -> bool {
    for line in message.split(|&b| b == b'\n') {
        if line.is_empty() || line == b"\r" {
            return false;
        }
        if line.len() > name.len()
            && line[..name.len()].eq_ignore_ascii_case(name)
            && line[name.len()..]
                .iter()
                .find(|&&b| b != b' ' && b != b'\t')
                == Some(&b':')
        {
            return true;
        }
    }
    false
}

/// Whether the message's first line ends in CRLF (added headers then use CRLF too).
fn crlf(message: &[u8]) -> bool {
    match message.iter().position(|&b| b == b'\n') {
        Some(i) => i > 0 && message[i - 1] == b'\r',
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_line() {
        let (s, i) = mbox_from_line(b"From MAILER-DAEMON  Sat Nov 28 03:20:17 2026\nSubject: x\n");
        assert_eq!(s.as_deref(), Some("MAILER-DAEMON"));
        assert_eq!(i, 45);
        assert_eq!(mbox_from_line(b"Subject: x\n"), (None, 0));
    }

    #[test]
    fn headers() {
        let m = b"Subject: x\nReturn-Path : <>\n\nDelivered-To: y\n";
        assert!(has_header(m, b"return-path"));
        assert!(!has_header(m, b"delivered-to"));
        assert!(!has_header(b"Return-Pathx: y\n", b"return-path"));
        assert!(crlf(b"A: b\r\n"));
        assert!(!crlf(b"A: b\n"));
    }
}
