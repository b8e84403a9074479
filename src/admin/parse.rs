//! `rebound parse [FILE|DIR]...`: a dry run of the classifier that writes nothing. One JSON
//! line per message in the corpus format (FORMAT.md) plus rebound's own fields (detector,
//! evidence, diagnostic, remote MTA, the returned message's Message-ID). A directory means
//! every regular file in it (sorted by name); an mbox file holding several messages gives one
//! line per message, named `FILE#N`. `--explain` prints the same verdict readably.

use crate::classify::{self, Context, Verdict};
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Message files, mbox files or directories (every regular file in it).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Print the evidence readably instead of JSON lines.
    #[arg(long)]
    pub explain: bool,
}

#[derive(Serialize)]
struct Line<'a> {
    file: &'a str,
    #[serde(flatten)]
    verdict: &'a Verdict,
}

pub fn run(args: &Args, ctx: &Context) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for path in &args.paths {
        for file in files(path)? {
            let raw =
                std::fs::read(&file).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let messages = split_mbox(&raw);
            let many = messages.len() > 1;
            for (i, m) in messages.iter().enumerate() {
                let verdict = classify::classify(m, ctx);
                let label = if many {
                    format!("{name}#{}", i + 1)
                } else {
                    name.clone()
                };
                if args.explain {
                    explain(&mut out, &label, &verdict)?;
                } else {
                    serde_json::to_writer(
                        &mut out,
                        &Line {
                            file: &label,
                            verdict: &verdict,
                        },
                    )?;
                    out.write_all(b"\n")?;
                }
            }
        }
    }
    out.flush()?;
    Ok(())
}

fn explain(out: &mut impl Write, label: &str, v: &Verdict) -> std::io::Result<()> {
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

/// Split an mbox (messages separated by `From ` lines at the start of the file and after a
/// blank line, mboxrd/mboxo) into messages; anything else is one message. Each message keeps
/// its `From ` line, which the classifier skips.
fn split_mbox(raw: &[u8]) -> Vec<&[u8]> {
    if !raw.starts_with(b"From ") {
        return vec![raw];
    }
    let mut starts = vec![0usize];
    let mut i = 0;
    while let Some(p) = find(&raw[i..], b"\n\nFrom ").or_else(|| find(&raw[i..], b"\n\r\nFrom ")) {
        let at = i + p + if raw[i + p + 1] == b'\r' { 3 } else { 2 };
        starts.push(at);
        i = at;
    }
    let mut out = Vec::with_capacity(starts.len());
    for (k, s) in starts.iter().enumerate() {
        let e = starts.get(k + 1).copied().unwrap_or(raw.len());
        out.push(&raw[*s..e]);
    }
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
