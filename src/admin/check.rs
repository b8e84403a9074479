//! `rebound check ADDRESS...`: may these addresses be mailed? Exit 0 when every one may,
//! 1 when any is suppressed (each printed with why), 2 on error, so a shell script, a PHP
//! `exec()` or a cron job can use it as it is. The domain is compared case-insensitively,
//! the local part exactly (RFC 5321 section 2.4).

use super::output::{Format, FormatArgs, Rows, cause_colour, colour_stdout, paint};
use super::{Access, Global};
use crate::exit::AdminExit;
use crate::store::{query, time};
use serde_json::Value;
use std::io::BufRead;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Addresses to check; `-` reads more from standard input, one per line.
    #[arg(required = true, value_name = "ADDRESS")]
    pub addresses: Vec<String>,
    /// Print nothing; only the exit status answers.
    #[arg(short, long)]
    pub quiet: bool,
    #[command(flatten)]
    pub format: FormatArgs,
}

pub fn run(g: &Global, a: &Args) -> anyhow::Result<AdminExit> {
    let cfg = g.config()?;
    let mut keys = Vec::with_capacity(a.addresses.len());
    for addr in &a.addresses {
        if addr == "-" {
            for line in std::io::stdin().lock().lines() {
                let line = line?;
                if !line.trim().is_empty() {
                    keys.push(super::address_arg(&line)?);
                }
            }
        } else {
            keys.push(super::address_arg(addr)?);
        }
    }
    let db = super::open(&cfg, Access::Read)?;
    let now = time::now();
    let mut rows = Rows::new(&[
        "address",
        "status",
        "cause",
        "reason",
        "since",
        "until",
        "event",
        "note",
        "diagnostic",
    ]);
    let mut any = false;
    for k in &keys {
        let s = query::suppression(db.conn(), k, &now)?;
        any |= s.is_some();
        let opt = |v: &Option<String>| v.clone().map(Value::from).unwrap_or(Value::Null);
        rows.rows.push(match &s {
            Some(s) => vec![
                Value::from(k.as_str()),
                Value::from("suppressed"),
                Value::from(s.cause.as_str()),
                opt(&s.reason.clone().or(s.feedback_type.clone())),
                Value::from(s.since.as_str()),
                opt(&s.until),
                s.event.map(Value::from).unwrap_or(Value::Null),
                opt(&s.note),
                opt(&s.diagnostic),
            ],
            None => {
                let mut r = vec![Value::from(k.as_str()), Value::from("ok")];
                r.resize(9, Value::Null);
                r
            }
        });
    }
    if !a.quiet {
        match a.format.get(Format::Table) {
            Format::Table => print_human(&rows),
            f => rows.print(f)?,
        }
    }
    Ok(if any {
        AdminExit::Suppressed
    } else {
        AdminExit::Ok
    })
}

/// `joe@example.com: suppressed (hard, userunknown) since ... event 12: 550 5.1.1 ...`.
fn print_human(rows: &Rows) {
    let colour = colour_stdout();
    let get = |r: &Vec<Value>, i: usize| super::output::plain(&r[i]);
    for r in &rows.rows {
        let address = get(r, 0);
        if get(r, 1) == "ok" {
            println!("{address}: {}", paint("ok", cause_colour("ok"), colour));
            continue;
        }
        let cause = get(r, 2);
        let mut why = paint(
            &format!("suppressed ({cause}"),
            cause_colour(&cause),
            colour,
        );
        let reason = get(r, 3);
        if !reason.is_empty() {
            why.push_str(&paint(&format!(", {reason}"), cause_colour(&cause), colour));
        }
        why.push_str(&paint(")", cause_colour(&cause), colour));
        let mut line = format!("{address}: {why} since {}", get(r, 4));
        let until = get(r, 5);
        if !until.is_empty() {
            line.push_str(&format!(" until {until}"));
        }
        let event = get(r, 6);
        if !event.is_empty() {
            line.push_str(&format!("; event {event}"));
        }
        let diag = get(r, 8);
        if !diag.is_empty() {
            line.push_str(&format!(": {diag}"));
        }
        let note = get(r, 7);
        if !note.is_empty() {
            line.push_str(&format!(" [{note}]"));
        }
        println!("{line}");
    }
}
