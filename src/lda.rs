//! The delivery pipeline of rebound-lda, one call per step, read top to bottom:
//! arguments -> privileges -> configuration -> envelope -> read a bounded prefix -> file the
//! whole message, streamed, into the Maildir's tmp/ and fsync it -> classify the prefix
//! (time-limited by `watchdog`) -> rename into the verdict's folder -> record -> log -> exit
//! code. One thread: a second one cost more than the overlap it bought (bench/delivery.sh).
//! Until the rename into `new/` every failure is a temporary one (exit 75, first stderr line
//! `4.x.y ...`); after it the exit is 0 whatever happens, because the message is safe and
//! `rebound import` can bring the database in line later. A panic in the classifier or the
//! store is caught and does not change that.

use crate::classify::{self, Context, Kind, Verdict};
use crate::config::{Config, Envelope, Invocation};
use crate::error::{Error, Result};
use crate::exit::{self, LdaExit};
use crate::log::{Fields, Logger, Severity};
use crate::maildir::{self, Filed, Maildir};
use crate::privileges;
use crate::store::{self, ContentHash, MessageMeta, Recorded, Store};
use crate::watchdog;
use std::io::{Read, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const IDENT: &str = "rebound-lda";
/// WAL size past which a delivery checkpoints and truncates it (`Store::checkpoint_if_over`).
pub const WAL_LIMIT: u64 = 1 << 20;

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
/// (before filing), `panic-classify`, `hang-classify`, `panic-record`, `panic-log`.
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
        let _ = writeln!(std::io::stdout(), "{}", crate::config::USAGE);
        return LdaExit::Delivered;
    }
    if inv.version {
        let _ = writeln!(
            std::io::stdout(),
            "rebound-lda {}",
            env!("CARGO_PKG_VERSION")
        );
        return LdaExit::Delivered;
    }
    match deliver(&inv, &mut logger, start) {
        Ok(()) => LdaExit::Delivered,
        Err(e) => tempfail(&mut logger, &e),
    }
}

/// Print the `4.x.y` line first (the MTA reads the first line), then log the error.
fn tempfail(logger: &mut Logger, e: &Error) -> LdaExit {
    // Not eprintln!: it panics when the MTA's end of the pipe is gone (EPIPE).
    let _ = writeln!(std::io::stderr(), "{}", exit::tempfail_line(e));
    let mut f = Fields::new();
    f.push("outcome", "tempfail")
        .push("status", exit::enhanced_status(e))
        .push("error", &e.to_string());
    logger.line(Severity::Err, f.as_str());
    LdaExit::TempFail
}

/// What the arguments, the environment and the configuration decide before any message byte
/// is read: who we are, where the Maildir is, the envelope.
struct Setup {
    config: Config,
    envelope: Envelope,
    root: PathBuf,
    /// `-m`'s folder directory, if any.
    mailbox: Option<String>,
}

impl Setup {
    fn new(inv: &Invocation, logger: &mut Logger) -> Result<Setup> {
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
        if config.log == "stderr" || config.syslog_socket != std::path::Path::new("/dev/log") {
            *logger = logger_for(&config);
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
        Ok(Setup {
            config,
            envelope,
            root,
            mailbox,
        })
    }
}

/// Everything up to a durable message (errors are temporary failures), then record and log.
fn deliver(inv: &Invocation, logger: &mut Logger, start: Instant) -> Result<()> {
    let setup = Setup::new(inv, logger)?;
    if let Some(tmp) = std::env::var_os(watchdog::RESUME_ENV) {
        return resume(setup, PathBuf::from(tmp), logger, start);
    }
    let Setup {
        config,
        envelope,
        root,
        mailbox,
    } = setup;

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

    let ctx = Context {
        sender: sender.clone(),
        recipient: envelope.recipient.clone(),
        original_recipient: envelope.original_recipient.clone(),
        extension: envelope.extension.clone(),
        verp: config.verp(),
    };
    let mut notes: Vec<String> = Vec::new();
    let message = &prefix[body_start..];

    // Write: added headers, the prefix, then the rest of the input, hashed as written, and
    // fsync. The tmp file sits in the `-m` folder when there is one, else in the Maildir's
    // own tmp/; the verdict picks the folder whose new/ it is renamed into.
    let maildir = Maildir::new(root);
    let mut mailbox = mailbox;
    let mut delivery = match maildir.create(mailbox.as_deref().unwrap_or("")) {
        Ok(d) => d,
        Err(e) if mailbox.is_some() => {
            // The message matters more than its folder: INBOX, with a note.
            notes.push(format!(
                "folder {} unusable ({e}), filed to INBOX",
                mailbox.take().unwrap_or_default()
            ));
            mailbox = Some(String::new());
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
        stream(&mut input, &input_name, &mut hash, |piece| {
            delivery.write_all(piece)
        })?;
    }
    drop(input);
    delivery.sync()?;
    for i in &inv.ignored {
        notes.push(format!("ignored dovecot-lda option {i}"));
    }

    // The verdict. The message is safe in tmp/ now: a classifier that has not finished after
    // classify_timeout_ms restarts the process (`watchdog`), which files it as `other`.
    let limit = Duration::from_millis(config.classify_timeout_ms);
    let armed = watchdog::arm(delivery.tmp_path(), limit);
    if let Err(e) = &armed {
        notes.push(format!("classification runs without its time limit: {e}"));
    }
    let (verdict, classifier_notes) = classify_caught(message, &ctx);
    drop(armed);
    notes.extend(classifier_notes);
    let filing = Filing {
        delivery,
        mailbox,
        meta: message_meta(sender, &envelope, &config, hash),
        config,
        notes,
        start,
    };
    finish(filing, verdict, logger)
}

/// The second half of a delivery whose classifier ran out of time: this process image was
/// started by the watchdog (same pid, arguments and environment) with the tmp file the first
/// one wrote and fsynced. Files it as `other`, records and logs it, like any delivery.
fn resume(setup: Setup, tmp: PathBuf, logger: &mut Logger, start: Instant) -> Result<()> {
    let Setup {
        config,
        envelope,
        root,
        mailbox,
    } = setup;
    let delivery = Maildir::new(root).adopt(&tmp)?;
    let mut hash = ContentHash::new();
    let mut head = Vec::new();
    stream(&mut delivery.file(), &tmp, &mut hash, |piece| {
        let room = 4096usize.saturating_sub(head.len());
        head.extend_from_slice(&piece[..piece.len().min(room)]);
        Ok(())
    })?;
    // The first image wrote the envelope sender as Return-Path when the message had none.
    let sender = envelope.sender.clone().or_else(|| return_path(&head));
    let notes = vec![format!(
        "classification did not finish within classify_timeout_ms ({} ms), filed as other",
        config.classify_timeout_ms
    )];
    let filing = Filing {
        delivery,
        mailbox,
        meta: message_meta(sender, &envelope, &config, hash),
        config,
        notes,
        start,
    };
    finish(filing, fallback_verdict("timeout"), logger)
}

/// Read `input` to its end in 128 KiB pieces, hashing each and handing it to `sink`.
fn stream(
    input: &mut impl Read,
    name: &std::path::Path,
    hash: &mut ContentHash,
    mut sink: impl FnMut(&[u8]) -> Result<()>,
) -> Result<()> {
    let mut buf = vec![0u8; 128 * 1024];
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::io("read", name, e)),
        };
        hash.update(&buf[..n]);
        sink(&buf[..n])?;
    }
}

/// The envelope and content hash of a filed message; file, folder, arrival and size are
/// filled in on filing.
fn message_meta(
    sender: Option<String>,
    envelope: &Envelope,
    config: &Config,
    hash: ContentHash,
) -> MessageMeta {
    MessageMeta {
        envelope_from: sender,
        envelope_to: envelope_to(envelope, config),
        content_hash: hash.finish(),
        ..MessageMeta::default()
    }
}

/// The address of a leading `Return-Path:` header (`""` for `<>`).
fn return_path(head: &[u8]) -> Option<String> {
    let line = head.split(|&b| b == b'\n').next()?;
    let value = line
        .get(..12)
        .filter(|n| n.eq_ignore_ascii_case(b"return-path:"))
        .map(|_| &line[12..])?;
    let value = String::from_utf8_lossy(value);
    let value = value.trim();
    Some(
        value
            .strip_prefix('<')
            .and_then(|v| v.strip_suffix('>'))
            .unwrap_or(value)
            .to_string(),
    )
}

/// What finishing a delivery needs once the message is written and fsynced in tmp/.
struct Filing {
    delivery: maildir::Delivery,
    /// `-m`, or `Some("")` after its folder proved unusable.
    mailbox: Option<String>,
    /// Envelope and content hash; file, folder, arrival and size are filled in on filing.
    meta: MessageMeta,
    config: Config,
    notes: Vec<String>,
    start: Instant,
}

fn fallback_verdict(detector: &str) -> Verdict {
    Verdict {
        kind: Kind::Other,
        detector: detector.into(),
        ..Verdict::default()
    }
}

fn logger_for(config: &Config) -> Logger {
    if config.log == "stderr" {
        Logger::stderr(IDENT)
    } else {
        Logger::syslog(IDENT, &config.syslog_socket)
    }
}

/// The verdict and the verdict's notes.
type Classified = (Verdict, Vec<String>);

/// Classify, a panic becoming kind `other` with a note.
fn classify_caught(message: &[u8], ctx: &Context) -> Classified {
    match catch_unwind(AssertUnwindSafe(|| {
        fault("panic-classify");
        if std::env::var_os("REBOUND_LDA_FAULT").is_some_and(|v| v == "hang-classify") {
            loop {
                std::thread::sleep(Duration::from_secs(1));
            }
        }
        classify::classify(message, ctx)
    })) {
        Ok(v) => (v, Vec::new()),
        Err(_) => (
            fallback_verdict("panic"),
            vec![format!(
                "classifier panicked, filed as other: {}",
                last_panic()
            )],
        ),
    }
}

/// Rename into the verdict's folder (the message is safe from here), then record and log.
/// Only the rename can fail; nothing after it changes the exit code.
fn finish(filing: Filing, verdict: Verdict, logger: &mut Logger) -> Result<()> {
    let Filing {
        delivery,
        mailbox,
        mut meta,
        config,
        mut notes,
        start,
    } = filing;
    let folder = mailbox.unwrap_or_else(|| config.folders.for_kind(verdict.kind).to_string());
    let arrived_at = store::time::now();
    let tmp_dir = delivery
        .tmp_path()
        .parent()
        .map(std::path::Path::to_path_buf);
    let filed = delivery.commit_into(&folder)?;
    FILED.store(true, Ordering::SeqCst);
    notes.extend(filed.fallback.clone());
    meta.file = filed.name.clone();
    meta.folder = filed.folder.clone();
    meta.arrived_at = arrived_at;
    meta.size = Some(filed.size);
    let db = match catch_unwind(AssertUnwindSafe(|| {
        let mut store = Store::open(&config.database, config.busy_timeout_ms)?;
        fault("panic-record");
        let recorded = store.record(&meta, &verdict, &config.policy)?;
        // Keep the WAL short (1 MiB); a failure here loses nothing, the record is in.
        let _ = store.checkpoint_if_over(WAL_LIMIT);
        // Not closed: the process ends right after the log line and the kernel releases
        // the file locks. Closing would only free the parsed schema (callgrind: 4% of a
        // delivery); it checkpoints nothing (SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, see
        // `Store::open`) and the transaction is committed.
        std::mem::forget(store);
        Ok::<_, Error>(recorded)
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
    // Files a killed agent left in tmp/ (one stat(2) a delivery, a scan every 8 hours).
    if let Some(dir) = tmp_dir {
        let _ = catch_unwind(AssertUnwindSafe(|| maildir::clean_tmp(&dir)));
    }
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
        // `from=<>` is the null sender; no `from` at all when nobody named one.
        .opt(
            "from",
            meta.envelope_from
                .as_ref()
                .map(|s| format!("<{s}>"))
                .as_deref(),
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
