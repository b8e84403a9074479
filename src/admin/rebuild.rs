//! `rebound rebuild`: re-evaluate the suppression of every address from its stored events
//! under the configured policy (`store::policy::rebuild`), e.g. after tuning `policy.*`.
//! Manual decisions are kept. Audited.

use super::{Access, Global};
use crate::exit::AdminExit;
use crate::store::{policy, time};
use rusqlite::params;

#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(g: &Global, _a: &Args) -> anyhow::Result<AdminExit> {
    let cfg = g.config()?;
    let mut db = super::open(&cfg, Access::Write)?;
    let store = db.store()?;
    let now = time::now();
    let count = |c: &rusqlite::Connection| -> rusqlite::Result<i64> {
        c.query_row(
            "SELECT count(*) FROM suppressions WHERE until IS NULL OR until > ?1",
            [&now],
            |r| r.get(0),
        )
    };
    let before = count(store.conn())?;
    let tx = store
        .conn_mut()
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let n = policy::rebuild(&tx, &cfg.policy, &now)?;
    tx.execute(
        "INSERT INTO audit (at, action, address, note, actor) VALUES (?1, 'rebuild', NULL, ?2, ?3)",
        params![now, format!("{n} addresses re-evaluated"), super::actor()],
    )?;
    tx.commit()?;
    let after = count(store.conn())?;
    println!("{n} addresses re-evaluated; suppressed: {before} before, {after} now");
    Ok(AdminExit::Ok)
}
