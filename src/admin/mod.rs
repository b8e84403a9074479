//! The `rebound` admin subcommands, one file each, and what they share: the global options
//! (`-c FILE`, `-o KEY=VALUE`, read through `config::Config::load` like rebound-lda does),
//! opening the database, and keeping its suppressions in line with the configured policy
//! (a changed `policy.*` re-evaluates every address on the next writable open).

pub mod check;
pub mod doctor;
pub mod export;
pub mod import;
pub mod list;
pub mod output;
pub mod parse;
pub mod pipeline;
pub mod prune;
pub mod rebuild;
pub mod show;
pub mod stats;
pub mod suppress;
pub mod verp;

use crate::config::{self, Config};
use crate::store::{Store, policy, query, time};
use anyhow::{Context as _, bail};
use std::path::{Path, PathBuf};

/// Options every subcommand takes, before or after its name.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Global {
    /// Configuration file [default: /etc/rebound.conf; a missing default file is fine].
    #[arg(short = 'c', long = "config", global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Override a configuration key, e.g. -o database=/tmp/r.db -o policy.soft_threshold=3
    /// (repeatable).
    #[arg(short = 'o', long = "option", global = true, value_name = "KEY=VALUE")]
    pub options: Vec<String>,
}

impl Global {
    /// The configuration: the file (if any), then every `-o` in order.
    pub fn config(&self) -> anyhow::Result<Config> {
        let (path, explicit) = match &self.config {
            Some(p) => (p.clone(), true),
            None => (PathBuf::from(config::DEFAULT_PATH), false),
        };
        let cfg = Config::load(&path, explicit, &self.options)?;
        if let Err(e) = cfg.policy.validate() {
            bail!("{}: {e}", path.display());
        }
        Ok(cfg)
    }
}

/// How a subcommand needs the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Read only; the file must exist. Falls back to a read-only connection when the admin
    /// may read but not write it.
    Read,
    /// Read and write; the file must exist.
    Write,
    /// Read and write, created when missing (import, suppress).
    Create,
}

/// An open database for the admin: the LDA's `Store` when writable, else a read-only view.
pub enum Db {
    Store(Store),
    ReadOnly(rusqlite::Connection),
}

impl Db {
    pub fn conn(&self) -> &rusqlite::Connection {
        match self {
            Db::Store(s) => s.conn(),
            Db::ReadOnly(c) => c,
        }
    }

    /// The store, for writing; an error for a read-only view.
    pub fn store(&mut self) -> anyhow::Result<&mut Store> {
        match self {
            Db::Store(s) => Ok(s),
            Db::ReadOnly(_) => bail!("the database is open read-only"),
        }
    }
}

/// Open the configured database. A writable open also applies a changed policy
/// (`policy::sync`), so every answer follows the configuration in force.
pub fn open(cfg: &Config, access: Access) -> anyhow::Result<Db> {
    let path = cfg.database.as_path();
    if access != Access::Create && !path.exists() {
        bail!(
            "database {} does not exist (nothing recorded yet, or another `database` setting; see rebound doctor)",
            path.display()
        );
    }
    let opened = Store::open(path, cfg.busy_timeout_ms)
        .map_err(anyhow::Error::from)
        .and_then(|mut store| {
            sync_policy(&mut store, &cfg.policy)?;
            Ok(store)
        });
    match opened {
        Ok(store) => Ok(Db::Store(store)),
        // Reading needs no write access: an admin in the database's group with read rights.
        Err(e) if access == Access::Read => {
            let conn = query::open_read_only(path, cfg.busy_timeout_ms)
                .with_context(|| format!("{e:#}; read-only open failed too"))?;
            check_schema(&conn, path)?;
            if policy::stored_fingerprint(&conn)?.is_some_and(|f| f != cfg.policy.fingerprint()) {
                eprintln!(
                    "rebound: warning: the policy changed since the last evaluation and the database is read-only; answers follow the old policy (run rebound rebuild as a user who may write it)"
                );
            }
            Ok(Db::ReadOnly(conn))
        }
        Err(e) => Err(e),
    }
}

fn sync_policy(store: &mut Store, p: &policy::Policy) -> anyhow::Result<()> {
    // The common case, read without taking the write lock the agents need.
    if policy::stored_fingerprint(store.conn())?.is_some_and(|f| f == p.fingerprint()) {
        return Ok(());
    }
    let path = store.path().to_path_buf();
    let tx = store
        .conn_mut()
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .with_context(|| format!("database {}", path.display()))?;
    if policy::sync(&tx, p, &time::now())? {
        eprintln!("rebound: the policy changed: every address was re-evaluated");
    }
    tx.commit()?;
    Ok(())
}

fn check_schema(conn: &rusqlite::Connection, path: &Path) -> anyhow::Result<()> {
    let v: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let known = crate::store::schema::MIGRATIONS.len() as i64;
    if v < known {
        bail!(
            "database {} has schema version {v}, this rebound needs {known}; open it once as a user who may write it",
            path.display()
        );
    }
    Ok(())
}

/// Who is acting, for the audit table: the invoking login (`SUDO_USER`, `LOGNAME`, `USER`).
pub fn actor() -> Option<String> {
    ["SUDO_USER", "LOGNAME", "USER"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
}

/// An address typed by the admin, as the store keys it; an error when it has no `@`.
pub fn address_arg(a: &str) -> anyhow::Result<String> {
    let n = policy::normalize_address(a);
    match n.rsplit_once('@') {
        Some((l, d)) if !l.is_empty() && !d.is_empty() && !d.contains(['<', '>', ' ']) => Ok(n),
        _ => bail!("not an address: {a:?}"),
    }
}

/// A `--since` value: a timestamp/date, or a duration back from now (`7d`, `12h`).
pub fn since_arg(s: &str) -> anyhow::Result<String> {
    if let Some(t) = time::normalize(s) {
        return Ok(t);
    }
    if let Some(d) = time::parse_duration(s) {
        let now = time::parse(&time::now()).unwrap_or(0);
        return Ok(time::format(now - d));
    }
    bail!(
        "--since {s:?}: give a date (2026-11-01), a timestamp (2026-11-01T12:00:00Z) or a duration (7d, 12h)"
    )
}

/// Suppression causes, as `--kind` / `--cause` take them.
pub const CAUSES: &[&str] = &["complaint", "hard", "manual", "soft"];

/// Event kinds (corpus FORMAT.md), as `list --events --kind` takes them.
pub const KINDS: &[&str] = &[
    "autoreply",
    "bounce",
    "complaint",
    "delayed",
    "delivered",
    "other",
];

/// Check a `--kind` / `--cause` value against `allowed`, lower-casing it.
pub fn choice_arg(flag: &str, v: Option<&str>, allowed: &[&str]) -> anyhow::Result<Option<String>> {
    match v.map(|s| s.trim().to_ascii_lowercase()) {
        None => Ok(None),
        Some(s) if allowed.contains(&s.as_str()) => Ok(Some(s)),
        Some(s) => bail!("{flag} {s:?}: one of {}", allowed.join(", ")),
    }
}
