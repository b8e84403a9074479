//! `rebound export`: the suppression list for the sending application, CSV with a header
//! line by default (or JSON, or a table), one row per address suppressed now. Columns, in
//! this order, are a stable interface: address, domain, cause, reason, since, until, status,
//! feedback_type, event, note.

use super::output::{Format, FormatArgs, Rows};
use super::{Access, Global};
use crate::exit::AdminExit;
use crate::store::{query, time};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only addresses suppressed at or after this date, timestamp or duration ago (7d).
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
    /// Only this cause: hard, complaint, soft or manual.
    #[arg(long, value_name = "CAUSE")]
    pub cause: Option<String>,
    /// Only this domain (and its subdomains).
    #[arg(long, value_name = "DOMAIN")]
    pub domain: Option<String>,
    #[command(flatten)]
    pub format: FormatArgs,
}

pub fn run(g: &Global, a: &Args) -> anyhow::Result<AdminExit> {
    let cfg = g.config()?;
    let db = super::open(&cfg, Access::Read)?;
    let filter = query::Filter {
        since: a.since.as_deref().map(super::since_arg).transpose()?,
        kind: super::choice_arg("--cause", a.cause.as_deref(), super::CAUSES)?,
        domain: a.domain.clone(),
        ..query::Filter::default()
    };
    let (sql, args) = query::suppressions_sql(&filter, &time::now());
    let rows = Rows::query(db.conn(), &sql, rusqlite::params_from_iter(args.iter()))?;
    rows.print(a.format.get(Format::Csv))?;
    Ok(AdminExit::Ok)
}
