//! `rebound prune --older-than DURATION`: delete messages (and their events) that arrived
//! before now minus DURATION. Suppressions stay: the events of an address that is suppressed
//! now are kept, so the evidence and a later `rebound rebuild` still hold. The Maildir is not
//! touched (it is the record of truth). Audited.

use super::{Access, Global};
use crate::exit::AdminExit;
use crate::store::time;
use anyhow::bail;
use rusqlite::params;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Age of what to delete: 30d, 12h, 2w, 90m (a bare number is days).
    #[arg(long, value_name = "DURATION", required = true)]
    pub older_than: String,
    /// Only say what would be deleted.
    #[arg(long, short = 'n')]
    pub dry_run: bool,
}

/// Messages to delete: older than the cutoff and reporting no address suppressed now.
const DOOMED: &str = "SELECT m.id FROM messages m
 WHERE m.arrived_at < ?1
   AND NOT EXISTS (
     SELECT 1 FROM events e JOIN suppressions s ON s.address IN (e.address, e.original)
     WHERE e.message = m.id AND (s.until IS NULL OR s.until > ?2))";

pub fn run(g: &Global, a: &Args) -> anyhow::Result<AdminExit> {
    let Some(d) = time::parse_duration(&a.older_than) else {
        bail!(
            "--older-than {:?}: give a duration like 30d, 12h, 2w",
            a.older_than
        );
    };
    let cfg = g.config()?;
    let mut db = super::open(&cfg, Access::Write)?;
    let store = db.store()?;
    let now = time::now();
    let cutoff = time::format(time::parse(&now).unwrap_or(0) - d);
    let tx = store
        .conn_mut()
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    tx.execute("CREATE TEMP TABLE doomed (id INTEGER PRIMARY KEY)", [])?;
    tx.execute(
        &format!("INSERT INTO doomed {DOOMED}"),
        params![cutoff, now],
    )?;
    let messages: i64 = tx.query_row("SELECT count(*) FROM doomed", [], |r| r.get(0))?;
    let events: i64 = tx.query_row(
        "SELECT count(*) FROM events WHERE message IN (SELECT id FROM doomed)",
        [],
        |r| r.get(0),
    )?;
    let kept: i64 = tx.query_row(
        "SELECT count(*) FROM messages WHERE arrived_at < ?1 AND id NOT IN (SELECT id FROM doomed)",
        [&cutoff],
        |r| r.get(0),
    )?;
    let verb = if a.dry_run { "would delete" } else { "deleted" };
    if !a.dry_run {
        tx.execute(
            "UPDATE suppressions SET event = NULL WHERE event IN
               (SELECT id FROM events WHERE message IN (SELECT id FROM doomed))",
            [],
        )?;
        tx.execute(
            "UPDATE soft_counts SET event = NULL WHERE event IN
               (SELECT id FROM events WHERE message IN (SELECT id FROM doomed))",
            [],
        )?;
        tx.execute(
            "DELETE FROM events WHERE message IN (SELECT id FROM doomed)",
            [],
        )?;
        tx.execute(
            "DELETE FROM messages WHERE id IN (SELECT id FROM doomed)",
            [],
        )?;
        tx.execute(
            "INSERT INTO audit (at, action, address, note, actor) VALUES (?1, 'prune', NULL, ?2, ?3)",
            params![
                now,
                format!("older than {} ({cutoff}): {messages} messages, {events} events", a.older_than),
                super::actor()
            ],
        )?;
    }
    tx.execute("DROP TABLE temp.doomed", [])?;
    tx.commit()?;
    println!(
        "{verb} {messages} messages and {events} events that arrived before {cutoff}; kept {kept} older messages of addresses suppressed now"
    );
    Ok(AdminExit::Ok)
}
