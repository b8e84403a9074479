//! `rebound show ADDRESS | EVENT-ID | FILE`: everything known about one address (its
//! suppression, the admin's last manual decision, its soft count, and its whole history with
//! diagnostics and the evidence that decided each verdict), one event by id, or one message
//! by its Maildir file name. Humans get labelled blocks; `--json` one object.

use super::output::{Format, FormatArgs, Obj, Rows, cause_colour, colour_stdout, paint, plain};
use super::{Access, Global};
use crate::exit::AdminExit;
use crate::store::{policy, query, time};
use anyhow::bail;
use serde_json::Value;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// An address, an event id (a number) or a message's Maildir file name.
    #[arg(value_name = "ADDRESS|EVENT|FILE")]
    pub what: String,
    #[command(flatten)]
    pub format: FormatArgs,
}

pub fn run(g: &Global, a: &Args) -> anyhow::Result<AdminExit> {
    let cfg = g.config()?;
    let db = super::open(&cfg, Access::Read)?;
    let conn = db.conn();
    let format = a.format.get(Format::Table);
    let what = a.what.trim();
    if !what.is_empty() && what.bytes().all(|b| b.is_ascii_digit()) {
        let rows = Rows::query(conn, query::EVENT_SQL, [what.parse::<i64>()?])?;
        if rows.rows.is_empty() {
            bail!("no event {what}");
        }
        return print_records(&rows, format, "event");
    }
    if !what.contains('@') {
        let base = what.rsplit('/').next().unwrap_or(what);
        let rows = Rows::query(conn, query::MESSAGE_SQL, [base])?;
        if rows.rows.is_empty() {
            bail!("no message filed as {base:?} (and not an address)");
        }
        let id = rows.rows[0][0].as_i64().unwrap_or(0);
        let events = Rows::query(
            conn,
            &query::EVENT_SQL.replace("WHERE e.id = ?1", "WHERE e.message = ?1 ORDER BY e.id"),
            [id],
        )?;
        if format == Format::Table {
            print_records(&rows, format, "message")?;
            println!();
            return print_records(&events, format, "event");
        }
        let mut o = rows.objects().remove(0);
        o.push("events", events.objects());
        println!("{o}");
        return Ok(AdminExit::Ok);
    }
    let address = super::address_arg(what)?;
    let now = time::now();
    let sup = query::suppression(conn, &address, &now)?;
    let ov = policy::override_of(conn, &address)?;
    let soft = Rows::query(
        conn,
        "SELECT days, first, last, reasons FROM soft_counts WHERE address = ?1",
        [&address],
    )?;
    let history = Rows::query(conn, query::HISTORY_SQL, [&address])?;
    if format != Format::Table {
        let opt = |v: &Option<String>| v.clone().map(Value::from).unwrap_or(Value::Null);
        let mut o = Obj::default();
        o.push("address", Value::from(address.as_str()));
        o.push("suppressed", Value::from(sup.is_some()));
        match &sup {
            Some(s) => {
                let mut so = Obj::default();
                so.push("cause", Value::from(s.cause.as_str()))
                    .push("reason", opt(&s.reason))
                    .push("since", Value::from(s.since.as_str()))
                    .push("until", opt(&s.until))
                    .push("note", opt(&s.note))
                    .push("event", s.event.map(Value::from).unwrap_or(Value::Null))
                    .push("status", opt(&s.status))
                    .push("feedback_type", opt(&s.feedback_type))
                    .push("diagnostic", opt(&s.diagnostic))
                    .push("file", opt(&s.file));
                o.push("suppression", so);
            }
            None => {
                o.push("suppression", Value::Null);
            }
        }
        match &ov {
            Some(v) => {
                let mut vo = Obj::default();
                vo.push("action", Value::from(v.action.as_str()))
                    .push("at", Value::from(v.at.as_str()))
                    .push("note", opt(&v.note))
                    .push("actor", opt(&v.actor));
                o.push("override", vo);
            }
            None => {
                o.push("override", Value::Null);
            }
        }
        match soft.objects().into_iter().next() {
            Some(c) => o.push("soft_count", c),
            None => o.push("soft_count", Value::Null),
        };
        o.push("events", history.objects());
        println!("{o}");
        return Ok(AdminExit::Ok);
    }
    let colour = colour_stdout();
    println!("{}", paint(&address, "1", colour));
    match &sup {
        Some(s) => {
            let mut line = format!(
                "  status:     {} since {}",
                paint(
                    &format!("suppressed ({})", s.cause),
                    cause_colour(&s.cause),
                    colour
                ),
                s.since
            );
            if let Some(u) = &s.until {
                line.push_str(&format!(" until {u}"));
            }
            println!("{line}");
            if let Some(r) = s.reason.as_ref().or(s.feedback_type.as_ref()) {
                println!("  reason:     {r}");
            }
            if let Some(e) = s.event {
                println!(
                    "  caused by:  event {e}{}",
                    s.file
                        .as_deref()
                        .map(|f| format!(" ({f})"))
                        .unwrap_or_default()
                );
            }
            if let Some(n) = &s.note {
                println!("  note:       {n}");
            }
        }
        None => println!(
            "  status:     {}",
            paint("may be mailed", cause_colour("ok"), colour)
        ),
    }
    if let Some(o) = &ov {
        println!(
            "  by hand:    {} at {}{}{}",
            o.action,
            o.at,
            o.actor
                .as_deref()
                .map(|a| format!(" by {a}"))
                .unwrap_or_default(),
            o.note
                .as_deref()
                .map(|n| format!(": {n}"))
                .unwrap_or_default()
        );
    }
    if let Some(r) = soft.rows.first() {
        println!(
            "  soft count: {} day(s) of {} needed, {} .. {} ({})",
            plain(&r[0]),
            cfg.policy.soft_threshold,
            plain(&r[1]),
            plain(&r[2]),
            plain(&r[3])
        );
    }
    println!("  events:     {}", history.rows.len());
    if !history.rows.is_empty() {
        println!();
        print_records(&history, format, "event")?;
    }
    Ok(AdminExit::Ok)
}

/// Records as labelled blocks (`event 12` then `  column: value` for non-empty values).
fn print_records(rows: &Rows, format: Format, label: &str) -> anyhow::Result<AdminExit> {
    if format != Format::Table {
        rows.print(format)?;
        return Ok(AdminExit::Ok);
    }
    let colour = colour_stdout();
    let width = rows.columns.iter().map(|c| c.len()).max().unwrap_or(0);
    for (i, r) in rows.rows.iter().enumerate() {
        if i > 0 {
            println!();
        }
        println!(
            "{}",
            paint(&format!("{label} {}", plain(&r[0])), "1", colour)
        );
        for (c, v) in rows.columns.iter().zip(r).skip(1) {
            let text = plain(v);
            if text.is_empty() {
                continue;
            }
            let text = match (c.as_str(), v.as_i64()) {
                ("hard", Some(1)) => "yes".to_string(),
                ("hard", Some(0)) => "no".to_string(),
                _ => text,
            };
            let shown = if c == "kind" {
                paint(&text, cause_colour(&text), colour)
            } else {
                text
            };
            println!("  {c:width$}  {shown}");
        }
    }
    Ok(AdminExit::Ok)
}
