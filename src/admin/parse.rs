//! `rebound parse [FILE|DIR]...`: a dry run of the classifier that writes nothing. One JSON
//! line per message in the corpus format (FORMAT.md) plus rebound's own fields (detector,
//! evidence, diagnostic, remote MTA, the returned message's Message-ID). A directory means
//! every regular file in it (sorted by name); an mbox file (`crate::mbox`) holding several
//! messages gives one line per message, named `FILE#N`. Only the bounded prefix the
//! classifier looks at is read from a plain file. `--explain` prints the verdict readably.
//!
//! Messages are classified on as many threads as the machine gives this process (`--jobs`,
//! `super::pipeline`): the output is the same, byte for byte, whatever the number of jobs.

use super::pipeline;
use crate::classify::message::MAX_BYTES;
use crate::classify::{self, Context, Verdict};
use crate::mbox;
use serde::Serialize;
use std::io::{Read, Write};
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Message files, mbox files or directories (every regular file in it).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Print the evidence readably instead of JSON lines.
    #[arg(long)]
    pub explain: bool,
    /// Classify on N threads (default: the CPUs this process may use, at most 8). The output
    /// is in input order whatever N is.
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<NonZeroUsize>,
}

#[derive(Serialize)]
struct Line<'a> {
    file: &'a str,
    #[serde(flatten)]
    verdict: &'a Verdict,
}

pub fn run(args: &Args, ctx: &Context) -> anyhow::Result<()> {
    let jobs = args
        .jobs
        .map_or_else(pipeline::default_jobs, NonZeroUsize::get);
    // Block-buffered (not line-flushed): one write per 64 KiB of output.
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout().lock());
    pipeline::ordered(
        jobs,
        |(_, raw): &(String, Vec<u8>)| raw.len(),
        |feed| {
            each_message(&args.paths, |label, raw| {
                match feed((label.into(), raw.to_vec())) {
                    true => Ok(()),
                    // The output failed; its error is the one reported.
                    false => Err(anyhow::anyhow!("output stopped")),
                }
            })
        },
        |(label, raw)| {
            let mut rendered = Vec::new();
            let verdict = classify::classify(&raw, ctx);
            render(&mut rendered, args.explain, &label, &verdict).map(|()| rendered)
        },
        |rendered| Ok(out.write_all(&rendered?)?),
    )?;
    out.flush()?;
    Ok(())
}

/// One message's output: a JSON line, or the `--explain` text.
fn render(out: &mut Vec<u8>, explain: bool, label: &str, verdict: &Verdict) -> std::io::Result<()> {
    if explain {
        return explain_verdict(out, label, verdict);
    }
    serde_json::to_writer(
        &mut *out,
        &Line {
            file: label,
            verdict,
        },
    )?;
    out.push(b'\n');
    Ok(())
}

/// Call `emit(label, bytes)` for every message under `paths`, in order: a plain file's
/// bounded prefix, or each message of an mbox.
fn each_message(
    paths: &[PathBuf],
    mut emit: impl FnMut(&str, &[u8]) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    // One buffer for every file's prefix, grown as needed and never zeroed again.
    let mut buffer = Vec::new();
    for path in paths {
        for file in files(path)? {
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let open = || {
                std::fs::File::open(&file).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))
            };
            // Only a bounded prefix is ever classified: read no more of a plain file.
            let len = read_prefix(&mut open()?, &mut buffer, MAX_BYTES)
                .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            let prefix = &buffer[..len];
            if !mbox::is_mbox_file(&file, prefix) {
                emit(&name, prefix)?;
                continue;
            }
            // An mbox: one line per message, named FILE#N when there are several; the
            // first is held back until it is known whether a second follows.
            let reader = mbox::Reader::new(std::io::BufReader::new(open()?), mbox::Unquote::Mboxrd);
            let mut held: Option<Vec<u8>> = None;
            let mut n = 0usize;
            for m in reader {
                let mut data = m
                    .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?
                    .data;
                // The classifier reads no further either; what waits for a worker stays small.
                data.truncate(MAX_BYTES);
                n += 1;
                if n == 1 {
                    held = Some(data);
                    continue;
                }
                if let Some(first) = held.take() {
                    emit(&format!("{name}#1"), &first)?;
                }
                emit(&format!("{name}#{n}"), &data)?;
            }
            if let Some(first) = held {
                emit(&name, &first)?;
            } else if n == 0 {
                emit(&name, prefix)?;
            }
        }
    }
    Ok(())
}

/// Read up to `limit` bytes of `file` into the start of `buffer` (grown as needed, kept
/// between files); their number. A regular file comes in one read and one that says EOF
/// (`read_to_end` without a size hint probed and grew in up to ten reads per file).
fn read_prefix(file: &mut impl Read, buffer: &mut Vec<u8>, limit: usize) -> std::io::Result<usize> {
    let mut len = 0;
    while len < limit {
        if len == buffer.len() {
            let grown = (buffer.len() * 2).clamp(64 * 1024, limit);
            buffer.resize(grown, 0);
        }
        let end = buffer.len().min(limit);
        match file.read(&mut buffer[len..end]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(len)
}

fn explain_verdict(out: &mut impl Write, label: &str, v: &Verdict) -> std::io::Result<()> {
    writeln!(
        out,
        "{label}: {} (detector {})",
        v.kind.as_str(),
        v.detector
    )?;
    if let Some(t) = &v.feedback_type {
        writeln!(out, "  feedback-type: {t}")?;
    }
    for e in &v.evidence {
        writeln!(out, "  because: {e}")?;
    }
    if let Some(m) = &v.returned_message_id {
        writeln!(out, "  returned message: {m}")?;
    }
    for r in &v.recipients {
        let opt = |o: &Option<String>| o.clone().unwrap_or_else(|| "-".into());
        writeln!(
            out,
            "  recipient {}{}",
            r.address,
            r.original
                .as_deref()
                .map(|o| format!(" (originally {o})"))
                .unwrap_or_default()
        )?;
        writeln!(
            out,
            "    action {} status {} reply {} reason {} hard {}",
            r.action.map(|a| a.as_str()).unwrap_or("-"),
            opt(&r.status),
            opt(&r.reply_code),
            r.reason.map(|x| x.as_str()).unwrap_or("-"),
            r.hard.map(|h| h.to_string()).unwrap_or_else(|| "-".into())
        )?;
        if let Some(d) = &r.diagnostic {
            writeln!(out, "    diagnostic: {d}")?;
        }
        if let Some(m) = &r.remote_mta {
            writeln!(out, "    remote MTA: {m}")?;
        }
        for e in &r.evidence {
            writeln!(out, "    because: {e}")?;
        }
    }
    Ok(())
}

/// Every regular file of a directory (sorted), or the path itself.
fn files(path: &Path) -> anyhow::Result<Vec<PathBuf>> {
    if path.is_dir() {
        let mut v: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
            .filter_map(|e| e.ok())
            .filter(|e| {
                std::fs::metadata(e.path())
                    .map(|m| m.is_file())
                    .unwrap_or(false)
            })
            .map(|e| e.path())
            .collect();
        v.sort();
        Ok(v)
    } else {
        Ok(vec![path.to_path_buf()])
    }
}
