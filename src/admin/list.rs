//! `rebound list`: who is suppressed and why, newest first; with `--events`, the recorded
//! events themselves (bounces, delays, complaints, successes). Filters: `--since`,
//! `--reason`, `--kind` (a suppression cause, or with --events an event kind), `--domain`.

use super::output::{Format, FormatArgs, Rows};
use super::{Access, Global};
use crate::exit::AdminExit;
use crate::store::{query, time};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// List events instead of suppressions.
    #[arg(long, short = 'e')]
    pub events: bool,
    /// Only since this date, timestamp or duration ago (2026-11-01, 7d, 12h).
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
    /// Only this reason (userunknown, mailboxfull, ...) or feedback type (abuse, ...).
    #[arg(long, value_name = "REASON")]
    pub reason: Option<String>,
    /// Only this cause (hard, complaint, soft, manual), or with --events this kind
    /// (bounce, delayed, delivered, complaint, autoreply, other).
    #[arg(long, value_name = "KIND")]
    pub kind: Option<String>,
    /// Only this domain (and its subdomains).
    #[arg(long, value_name = "DOMAIN")]
    pub domain: Option<String>,
    /// At most this many rows.
    #[arg(long, short = 'n', value_name = "N")]
    pub limit: Option<u32>,
    #[command(flatten)]
    pub format: FormatArgs,
}

pub fn run(g: &Global, a: &Args) -> anyhow::Result<AdminExit> {
    let cfg = g.config()?;
    let db = super::open(&cfg, Access::Read)?;
    let filter = query::Filter {
        since: a.since.as_deref().map(super::since_arg).transpose()?,
        reason: a.reason.clone(),
        kind: super::choice_arg(
            "--kind",
            a.kind.as_deref(),
            if a.events {
                super::KINDS
            } else {
                super::CAUSES
            },
        )?,
        domain: a.domain.clone(),
        limit: a.limit,
    };
    let (sql, args) = if a.events {
        query::events_sql(&filter)
    } else {
        query::suppressions_sql(&filter, &time::now())
    };
    let rows = Rows::query(db.conn(), &sql, rusqlite::params_from_iter(args.iter()))?;
    rows.print(a.format.get(Format::Table))?;
    Ok(AdminExit::Ok)
}
