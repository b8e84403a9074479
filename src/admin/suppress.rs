//! `rebound suppress ADDRESS... --note TEXT` and `rebound unsuppress ADDRESS... --note TEXT`:
//! the admin's manual decisions. Each is kept in `overrides` (the last decision per address)
//! and in `audit` (all of them, with the note and the invoking login). A manual suppression
//! lasts until unsuppressed; an unsuppress makes every event up to that moment count for
//! nothing, so only a new bounce or complaint can suppress the address again.

use super::{Access, Global};
use crate::exit::AdminExit;
use crate::store::{policy, query, time};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Addresses (exact local part, any case of domain).
    #[arg(required = true, value_name = "ADDRESS")]
    pub addresses: Vec<String>,
    /// Why: kept in the audit table and shown by check and show.
    #[arg(long, short = 'n', value_name = "TEXT")]
    pub note: Option<String>,
}

/// Which of the two.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Suppress,
    Unsuppress,
}

pub fn run(g: &Global, a: &Args, action: Action) -> anyhow::Result<AdminExit> {
    let cfg = g.config()?;
    let mut keys = Vec::new();
    for addr in &a.addresses {
        keys.push(super::address_arg(addr)?);
    }
    let access = match action {
        Action::Suppress => Access::Create,
        Action::Unsuppress => Access::Write,
    };
    let mut db = super::open(&cfg, access)?;
    let store = db.store()?;
    let now = time::now();
    let actor = super::actor();
    let tx = store
        .conn_mut()
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let mut lines = Vec::new();
    for k in &keys {
        let before = query::suppression(&tx, k, &now)?;
        let word = match action {
            Action::Suppress => "suppress",
            Action::Unsuppress => "unsuppress",
        };
        policy::set_override(
            &tx,
            &cfg.policy,
            k,
            word,
            a.note.as_deref(),
            actor.as_deref(),
            &now,
        )?;
        let after = query::suppression(&tx, k, &now)?;
        lines.push(match (action, before, after) {
            (Action::Suppress, Some(b), _) if b.cause != "manual" => {
                format!(
                    "{k}: suppressed by hand (was already suppressed: {})",
                    b.cause
                )
            }
            (Action::Suppress, Some(_), _) => format!("{k}: suppressed by hand (again)"),
            (Action::Suppress, None, _) => format!("{k}: suppressed by hand"),
            (Action::Unsuppress, Some(b), None) => format!("{k}: unsuppressed (was {})", b.cause),
            (Action::Unsuppress, None, None) => {
                format!("{k}: was not suppressed; decision recorded")
            }
            (Action::Unsuppress, _, Some(s)) => {
                format!(
                    "{k}: still suppressed ({}): unexpected, see rebound show",
                    s.cause
                )
            }
        });
    }
    tx.commit()?;
    for l in lines {
        println!("{l}");
    }
    Ok(AdminExit::Ok)
}
