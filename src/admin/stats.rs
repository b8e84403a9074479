//! `rebound stats`: counts by day, reason, domain or kind (events, distinct addresses, hard,
//! soft, complaints, delays), plus with the default table a one-line summary of what is
//! suppressed now.

use super::output::{Format, FormatArgs, Rows};
use super::{Access, Global};
use crate::exit::AdminExit;
use crate::store::query::{self, StatsBy};
use crate::store::time;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// What to group by.
    #[arg(long, value_enum, default_value = "kind")]
    pub by: StatsBy,
    /// Only since this date, timestamp or duration ago.
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
    /// At most this many rows.
    #[arg(long, short = 'n', value_name = "N")]
    pub limit: Option<u32>,
    #[command(flatten)]
    pub format: FormatArgs,
}

pub fn run(g: &Global, a: &Args) -> anyhow::Result<AdminExit> {
    let cfg = g.config()?;
    let db = super::open(&cfg, Access::Read)?;
    let since = a.since.as_deref().map(super::since_arg).transpose()?;
    let (sql, args) = query::stats_sql(a.by, since.as_deref(), a.limit);
    let rows = Rows::query(db.conn(), &sql, rusqlite::params_from_iter(args.iter()))?;
    let format = a.format.get(Format::Table);
    rows.print(format)?;
    if format == Format::Table {
        let summary = Rows::query(
            db.conn(),
            "SELECT cause, count(*) FROM suppressions WHERE until IS NULL OR until > ?1
             GROUP BY cause ORDER BY cause",
            [time::now()],
        )?;
        let parts: Vec<String> = summary
            .rows
            .iter()
            .map(|r| {
                format!(
                    "{} {}",
                    super::output::plain(&r[1]),
                    super::output::plain(&r[0])
                )
            })
            .collect();
        let total: i64 = summary.rows.iter().filter_map(|r| r[1].as_i64()).sum();
        println!();
        if parts.is_empty() {
            println!("suppressed now: none");
        } else {
            println!("suppressed now: {total} ({})", parts.join(", "));
        }
    }
    Ok(AdminExit::Ok)
}
