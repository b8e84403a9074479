//! `rebound parse [FILE|DIR]...`: a dry run of the classifier that writes nothing. One JSON
//! line per message in the corpus format (FORMAT.md) plus rebound's own fields.

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
    file: String,
    #[serde(flatten)]
    verdict: &'a Verdict,
}

pub fn run(args: &Args, ctx: &Context) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for path in &args.paths {
        for file in files(path)? {
            let raw = std::fs::read(&file)?;
            let verdict = classify::classify(&raw, ctx);
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            serde_json::to_writer(
                &mut out,
                &Line {
                    file: name,
                    verdict: &verdict,
                },
            )?;
            out.write_all(b"\n")?;
        }
    }
    out.flush()?;
    Ok(())
}

fn files(path: &Path) -> anyhow::Result<Vec<PathBuf>> {
    if path.is_dir() {
        let mut v: Vec<PathBuf> = std::fs::read_dir(path)?
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().map(|t| t.is_file()).unwrap_or(false))
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        v.sort();
        Ok(v)
    } else {
        Ok(vec![path.to_path_buf()])
    }
}
