//! `rebound import PATH...`: bring the database in line with messages on disk: a Maildir
//! (its `new/` and `cur/`, and every Maildir++ folder `.Name/`), an mbox file (split by
//! `crate::mbox`), a single message file, or a directory of those. Each message is
//! classified as rebound-lda would (envelope sender from `Return-Path:` or the mbox postmark,
//! recipient from `Delivered-To:` / `X-Original-To:`) and recorded as the LDA records
//! (`Store::batch`: the same code, many messages a transaction), keyed by the SHA-256 of its
//! bytes: running an import twice, or over files the agent already recorded, changes
//! nothing. This is how the mailbox dovecot-lda filled before rebound is taken over, and how
//! the database catches up after a failed write. A progress bar on a terminal, quiet
//! otherwise, a summary at the end.

use super::{Access, Global, pipeline};
use crate::classify::{self, Context};
use crate::config::Config;
use crate::exit::AdminExit;
use crate::mbox;
use crate::store::{ContentHash, MessageMeta, Recorded, time};
use anyhow::Context as _;
use serde_json::json;
use std::collections::BTreeMap;
use std::io::{IsTerminal, Read};
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Maildirs, mbox files, message files, or directories of them.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Keep `>From ` lines of mbox files as stored (default: unquote one level, mboxrd).
    #[arg(long)]
    pub no_unquote: bool,
    /// Print the summary as one JSON object.
    #[arg(long)]
    pub json: bool,
    /// No progress bar even on a terminal.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Classify on N threads (default: the CPUs this process may use, at most 8); messages
    /// are recorded in the order they are read whatever N is.
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<NonZeroUsize>,
}

/// An import commits its records at most this many messages, or this long, apart.
const BATCH_MESSAGES: usize = 500;
const BATCH_TIME: std::time::Duration = std::time::Duration::from_millis(200);

/// Where the messages of one input come from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Source {
    /// A file in a Maildir's `new/` or `cur/`, with its Maildir++ folder (`""` = INBOX).
    Maildir { path: PathBuf, folder: String },
    /// A file outside a Maildir: an mbox or a single message, decided by its first line.
    File { path: PathBuf },
}

impl Source {
    fn path(&self) -> &Path {
        match self {
            Source::Maildir { path, .. } | Source::File { path } => path,
        }
    }
}

#[derive(Debug, Default)]
struct Summary {
    files: u64,
    messages: u64,
    new: u64,
    duplicates: u64,
    skipped: u64,
    errors: u64,
    kinds: BTreeMap<&'static str, u64>,
}

pub fn run(g: &Global, a: &Args) -> anyhow::Result<AdminExit> {
    let cfg = g.config()?;
    let mut sources = Vec::new();
    for p in &a.paths {
        let meta = std::fs::metadata(p).with_context(|| format!("{}", p.display()))?;
        if meta.is_dir() {
            walk(p, &mut sources).with_context(|| format!("{}", p.display()))?;
        } else {
            sources.push(Source::File { path: p.clone() });
        }
    }
    let mut db = super::open(&cfg, Access::Create)?;
    let store = db.store()?;
    let now = time::now();
    let suppressed = |c: &rusqlite::Connection| -> rusqlite::Result<i64> {
        c.query_row(
            "SELECT count(*) FROM suppressions WHERE until IS NULL OR until > ?1",
            [&now],
            |r| r.get(0),
        )
    };
    let before = suppressed(store.conn())?;
    // Checkpointing the WAL every 1000 pages as usual would cost fsyncs all through a long
    // import. Let it grow while importing (one checkpoint at the end); the delivery agent's
    // own connections are unaffected.
    store
        .conn()
        .execute_batch("PRAGMA wal_autocheckpoint = 65536")?;
    let total: u64 = sources
        .iter()
        .map(|s| std::fs::metadata(s.path()).map(|m| m.len()).unwrap_or(0))
        .sum();
    // Recording a message per transaction, as each rebound-lda process does, rewrote the same
    // index pages into the WAL for every message; a batch commits them once per
    // BATCH_MESSAGES messages or BATCH_TIME, whichever comes first, so that a delivery
    // running meanwhile waits for the write lock at most about that long.
    let mut batch = store.batch()?;
    let mut batched = 0usize;
    let mut batch_start = Instant::now();
    let bar = progress(total, a.quiet);
    let start = Instant::now();
    let verp = cfg.verp();
    let unquote = if a.no_unquote {
        mbox::Unquote::None
    } else {
        mbox::Unquote::Mboxrd
    };
    let jobs = a
        .jobs
        .map_or_else(pipeline::default_jobs, NonZeroUsize::get);
    // Read (files, errors, skipped) by the reading thread; recorded (messages, new,
    // duplicates, kinds) here. Messages are recorded in the order they are read.
    let mut read = Summary::default();
    let mut sum = Summary::default();
    pipeline::ordered(
        jobs,
        |found: &Found| found.prefix.len(),
        |feed| read_sources(&sources, &cfg, unquote, &now, &bar, &mut read, feed),
        |found| {
            let ctx = context(&found.prefix, found.mbox_sender, verp);
            let verdict = classify::classify(&found.prefix, &ctx);
            let meta = MessageMeta {
                file: found.file,
                folder: found.folder,
                arrived_at: found.arrived_at,
                envelope_from: ctx.sender,
                envelope_to: ctx.recipient,
                size: Some(found.size),
                content_hash: found.hash,
            };
            (meta, verdict)
        },
        |(meta, verdict)| {
            sum.messages += 1;
            match batch.record(&meta, &verdict, &cfg.policy)? {
                Recorded::New { .. } => {
                    sum.new += 1;
                    *sum.kinds.entry(verdict.kind.as_str()).or_default() += 1;
                }
                Recorded::Duplicate { .. } => sum.duplicates += 1,
            }
            batched += 1;
            if batched >= BATCH_MESSAGES || batch_start.elapsed() >= BATCH_TIME {
                batch.commit_and_continue()?;
                batched = 0;
                batch_start = Instant::now();
            }
            Ok(())
        },
    )?;
    sum.files = read.files;
    sum.skipped = read.skipped;
    sum.errors = read.errors;
    bar.finish_and_clear();
    batch.commit()?;
    store
        .conn()
        .execute_batch("PRAGMA wal_autocheckpoint = 1000; PRAGMA wal_checkpoint(TRUNCATE);")?;
    let after = suppressed(store.conn())?;
    let secs = start.elapsed().as_secs_f64();
    // Audited when it changed something: a repeated import leaves the database as it was.
    if sum.new > 0 {
        store.conn().execute(
            "INSERT INTO audit (at, action, address, note, actor) VALUES (?1, 'import', NULL, ?2, ?3)",
            rusqlite::params![
                time::now(),
                format!(
                    "{} files, {} messages: {} new, {} duplicate, {} errors",
                    sum.files, sum.messages, sum.new, sum.duplicates, sum.errors
                ),
                super::actor()
            ],
        )?;
    }
    if a.json {
        println!(
            "{}",
            json!({
                "files": sum.files, "messages": sum.messages, "new": sum.new,
                "duplicates": sum.duplicates, "skipped": sum.skipped, "errors": sum.errors,
                "kinds": sum.kinds, "suppressed_before": before, "suppressed_after": after,
                "seconds": (secs * 1000.0).round() / 1000.0,
            })
        );
    } else {
        let kinds: Vec<String> = sum.kinds.iter().map(|(k, n)| format!("{n} {k}")).collect();
        println!(
            "imported {} messages from {} files in {secs:.2} s: {} new{}, {} already recorded, {} skipped (not a message), {} errors",
            sum.messages,
            sum.files,
            sum.new,
            if kinds.is_empty() {
                String::new()
            } else {
                format!(" ({})", kinds.join(", "))
            },
            sum.duplicates,
            sum.skipped,
            sum.errors
        );
        println!("suppressed: {before} before, {after} now");
    }
    Ok(if sum.errors > 0 {
        AdminExit::Error
    } else {
        AdminExit::Ok
    })
}

/// One message found on disk, read and hashed, waiting to be classified.
struct Found {
    /// The first classify_bytes of the message (all of a small one).
    prefix: Vec<u8>,
    /// SHA-256 and size of the whole message.
    hash: String,
    size: u64,
    file: String,
    folder: String,
    arrived_at: String,
    mbox_sender: Option<String>,
}

/// Read every source, in order, handing each message to `feed`; count files, unreadable
/// ones (reported) and files that are not messages in `read`. Stops when `feed` says the
/// recording side has stopped.
fn read_sources(
    sources: &[Source],
    cfg: &Config,
    unquote: mbox::Unquote,
    now: &str,
    bar: &indicatif::ProgressBar,
    read: &mut Summary,
    feed: &mut dyn FnMut(Found) -> bool,
) -> anyhow::Result<()> {
    let mut messages = 0u64;
    let mut send = |found: Found| match feed(found) {
        true => Ok(()),
        // Recording failed; its error is the one reported.
        false => Err(anyhow::anyhow!("recording stopped")),
    };
    for src in sources {
        read.files += 1;
        let path = src.path();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut file = match std::fs::File::open(path) {
            Ok(f) => f,
            Err(e) => {
                bar.suspend(|| eprintln!("rebound: {}: {e}", path.display()));
                read.errors += 1;
                continue;
            }
        };
        let mtime = file
            .metadata()
            .ok()
            .and_then(|m| m.modified().ok())
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_secs() as i64);
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        match src {
            Source::Maildir { folder, .. } => {
                let (prefix, hash, len) = match read_bounded(&mut file, cfg.classify_bytes) {
                    Ok(r) => r,
                    Err(e) => {
                        bar.suspend(|| eprintln!("rebound: {}: {e}", path.display()));
                        read.errors += 1;
                        continue;
                    }
                };
                let base = maildir_base(&name).to_string();
                let at = maildir_time(&base)
                    .or(mtime)
                    .map(time::format)
                    .unwrap_or_else(|| now.to_string());
                messages += 1;
                send(Found {
                    prefix,
                    hash,
                    size: len,
                    file: base,
                    folder: folder.clone(),
                    arrived_at: at,
                    mbox_sender: None,
                })?;
            }
            Source::File { .. } => {
                let mut head = [0u8; 512];
                let n = read_prefix(&mut file, &mut head);
                let head = &head[..n];
                let file = std::io::BufReader::new(std::io::Cursor::new(head.to_vec()).chain(file));
                if mbox::is_mbox_file(path, head) {
                    for (i, m) in mbox::Reader::new(file, unquote).enumerate() {
                        match m {
                            Ok(mut m) => {
                                let at = m
                                    .date()
                                    .or(mtime)
                                    .map(time::format)
                                    .unwrap_or_else(|| now.to_string());
                                let sender = m.sender();
                                let hash = ContentHash::of(&m.data);
                                let len = m.data.len() as u64;
                                m.data.truncate(cfg.classify_bytes);
                                messages += 1;
                                send(Found {
                                    prefix: m.data,
                                    hash,
                                    size: len,
                                    file: format!("{name}#{}", i + 1),
                                    folder: String::new(),
                                    arrived_at: at,
                                    mbox_sender: sender,
                                })?;
                            }
                            Err(e) => {
                                bar.suspend(|| eprintln!("rebound: {}: {e}", path.display()));
                                read.errors += 1;
                                break;
                            }
                        }
                    }
                } else if looks_like_message(head) {
                    let mut file = file;
                    let (prefix, hash, len) = match read_bounded(&mut file, cfg.classify_bytes) {
                        Ok(r) => r,
                        Err(e) => {
                            bar.suspend(|| eprintln!("rebound: {}: {e}", path.display()));
                            read.errors += 1;
                            continue;
                        }
                    };
                    messages += 1;
                    send(Found {
                        prefix,
                        hash,
                        size: len,
                        file: name.clone(),
                        folder: String::new(),
                        arrived_at: mtime.map(time::format).unwrap_or_else(|| now.to_string()),
                        mbox_sender: None,
                    })?;
                } else {
                    read.skipped += 1;
                }
            }
        }
        bar.inc(size);
        bar.set_message(format!("{messages} messages"));
    }
    Ok(())
}

fn progress(total: u64, quiet: bool) -> indicatif::ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(total);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{elapsed_precise} [{wide_bar}] {bytes}/{total_bytes} {msg} (eta {eta})",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// Collect the messages below a directory: a Maildir (with its Maildir++ folders) or a plain
/// directory of files and directories (walked recursively, in name order).
fn walk(dir: &Path, out: &mut Vec<Source>) -> std::io::Result<()> {
    if is_maildir(dir) {
        maildir_files(dir, "", out)?;
        for e in sorted(dir)? {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') && name != "." && name != ".." && is_maildir(&e.path()) {
                maildir_files(&e.path(), &name, out)?;
            }
        }
        return Ok(());
    }
    for e in sorted(dir)? {
        let path = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        let ft = e.file_type()?;
        if ft.is_dir() {
            if name != "tmp" {
                walk(&path, out)?;
            }
        } else if ft.is_file() && !name.starts_with('.') {
            out.push(Source::File { path });
        }
    }
    Ok(())
}

fn is_maildir(dir: &Path) -> bool {
    dir.join("cur").is_dir() || dir.join("new").is_dir()
}

fn maildir_files(dir: &Path, folder: &str, out: &mut Vec<Source>) -> std::io::Result<()> {
    // new/ first: the order the agent filed them; cur/ holds what a reader has seen.
    for sub in ["new", "cur"] {
        let d = dir.join(sub);
        if !d.is_dir() {
            continue;
        }
        for e in sorted(&d)? {
            if e.file_type()?.is_file() && !e.file_name().to_string_lossy().starts_with('.') {
                out.push(Source::Maildir {
                    path: e.path(),
                    folder: folder.to_string(),
                });
            }
        }
    }
    Ok(())
}

fn sorted(dir: &Path) -> std::io::Result<Vec<std::fs::DirEntry>> {
    let mut v: Vec<_> = std::fs::read_dir(dir)?.collect::<std::io::Result<_>>()?;
    v.sort_by_key(|e| e.file_name());
    Ok(v)
}

/// The Maildir base name: without the `:2,FLAGS` info a reader adds in `cur/`.
fn maildir_base(name: &str) -> &str {
    name.split_once(':').map(|(b, _)| b).unwrap_or(name)
}

/// Delivery time from a Maildir name (`<seconds>.M<usecs>P<pid>.<host>`).
fn maildir_time(name: &str) -> Option<i64> {
    let secs = name.split('.').next()?;
    let n: i64 = secs.parse().ok()?;
    // 2001-09-09 .. 2286: a plausible Unix time, not some other numbering.
    (1_000_000_000..10_000_000_000).contains(&n).then_some(n)
}

/// Read a message with bounded memory, as the agent does: the first `limit` bytes are kept
/// for classification, all of them are hashed. Returns (prefix, SHA-256 hex, size).
fn read_bounded(r: &mut impl Read, limit: usize) -> std::io::Result<(Vec<u8>, String, u64)> {
    let mut prefix = Vec::new();
    r.take(limit as u64).read_to_end(&mut prefix)?;
    let mut hash = ContentHash::new();
    hash.update(&prefix);
    let mut size = prefix.len() as u64;
    let mut buf = vec![0u8; 128 * 1024];
    loop {
        match r.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                hash.update(&buf[..n]);
                size += n as u64;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok((prefix, hash.finish(), size))
}

fn read_prefix(f: &mut std::fs::File, buf: &mut [u8]) -> usize {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    n
}

/// Does a file start like a message (RFC 5322 header field `Name:`), not like data?
fn looks_like_message(head: &[u8]) -> bool {
    let head = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    let first = head.split(|b| *b == b'\n').next().unwrap_or_default();
    match first.iter().position(|b| *b == b':') {
        Some(i) if i > 0 => first[..i]
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_'),
        _ => false,
    }
}

/// The envelope rebound-lda would have had, recovered from what it (or the MTA) wrote into
/// the message: `Return-Path:` (or the mbox postmark) and `Delivered-To:` /
/// `X-Original-To:`.
fn context(data: &[u8], mbox_sender: Option<String>, verp: crate::verp::Separators) -> Context {
    let mut sender = None;
    let mut delivered_to = None;
    let mut original_to = None;
    for line in data.split(|b| *b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            break;
        }
        let Some(i) = line.iter().position(|b| *b == b':') else {
            continue;
        };
        let name = String::from_utf8_lossy(&line[..i]).to_ascii_lowercase();
        let value = String::from_utf8_lossy(&line[i + 1..]).trim().to_string();
        let bare = value
            .trim_start_matches('<')
            .trim_end_matches('>')
            .trim()
            .to_string();
        match name.as_str() {
            "return-path" if sender.is_none() => sender = Some(bare),
            "delivered-to" if delivered_to.is_none() => delivered_to = Some(bare),
            "x-original-to" if original_to.is_none() => original_to = Some(bare),
            _ => {}
        }
    }
    Context {
        sender: sender.or(mbox_sender.map(|s| {
            if s == "MAILER-DAEMON" {
                String::new()
            } else {
                s
            }
        })),
        recipient: delivered_to.clone().or(original_to.clone()),
        original_recipient: original_to.filter(|o| Some(o) != delivered_to.as_ref()),
        extension: None,
        verp,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maildir_names() {
        assert_eq!(
            maildir_base("1764300000.M1P2.host,S=10:2,S"),
            "1764300000.M1P2.host,S=10"
        );
        assert_eq!(maildir_time("1764300000.M1P2.host"), Some(1_764_300_000));
        assert_eq!(maildir_time("42"), None);
    }

    #[test]
    fn message_sniff() {
        assert!(looks_like_message(b"Return-Path: <>\n"));
        assert!(looks_like_message(b"X-Original-To: a@example.com\n"));
        assert!(!looks_like_message(b"{\"file\": \"x\"}\n"));
        assert!(!looks_like_message(b"\x00\x01binary"));
    }

    #[test]
    fn envelope_from_headers() {
        let c = context(
            b"Return-Path: <>\r\nDelivered-To: bounces+joe=example.com@sender.example\r\n\r\nDelivered-To: no\r\n",
            None,
            crate::verp::Separators::default(),
        );
        assert_eq!(c.sender.as_deref(), Some(""));
        assert_eq!(
            c.recipient.as_deref(),
            Some("bounces+joe=example.com@sender.example")
        );
    }
}
