//! The SQLite store: open (WAL, busy timeout), ordered migrations versioned with
//! `PRAGMA user_version`, one short transaction per message. The Maildir is the record of
//! truth; this database is an index of it that `rebound import` can rebuild. Recording is
//! idempotent: a message is keyed by the SHA-256 of its bytes as filed, so an MTA retry of the
//! same message (Postfix may run a command twice for one delivery) is recorded once, and an
//! import of a file the agent already recorded is a no-op.

pub mod policy;
pub mod query;
pub mod schema;
pub mod time;

use crate::classify::Verdict;
use crate::error::{Error, Result};
use policy::Policy;
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Total wait allowed for one lock (the configured busy timeout), and waited so far.
static BUSY_LIMIT_US: AtomicU64 = AtomicU64::new(30_000_000);
static BUSY_WAITED_US: AtomicU64 = AtomicU64::new(0);

/// SQLite busy handler: `tries` counts the calls for this lock. Sleeps 0.1 ms, then 0.1 ms
/// more each try up to 2 ms, until the busy timeout is used up.
fn short_busy_wait(tries: i32) -> bool {
    if tries == 0 {
        BUSY_WAITED_US.store(0, Ordering::Relaxed);
    }
    let waited = BUSY_WAITED_US.load(Ordering::Relaxed);
    if waited >= BUSY_LIMIT_US.load(Ordering::Relaxed) {
        return false;
    }
    let step = (100 * (tries.max(0) as u64 + 1)).min(2_000);
    std::thread::sleep(Duration::from_micros(step));
    BUSY_WAITED_US.store(waited + step, Ordering::Relaxed);
    true
}

/// An open database.
pub struct Store {
    conn: Connection,
    path: PathBuf,
    busy_timeout: Duration,
    /// The schema version as `open` found or left it: what `record` and `batch` check,
    /// without asking SQLite again in every delivery.
    version: i64,
}

/// What the store needs to know about a filed message besides its verdict.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MessageMeta {
    /// Maildir file name (base name, as filed in `new/`).
    pub file: String,
    /// Maildir++ folder, `""` for INBOX.
    pub folder: String,
    /// Arrival, `store::time` format (`2026-11-28T03:15:00Z`).
    pub arrived_at: String,
    /// Envelope sender (`""` for the null sender).
    pub envelope_from: Option<String>,
    /// Envelope recipient (the VERP address when the MTA passed it).
    pub envelope_to: Option<String>,
    /// Size in bytes as filed.
    pub size: Option<u64>,
    /// Lower-case hex SHA-256 of the bytes as filed (`ContentHash`).
    pub content_hash: String,
}

/// The outcome of `Store::record`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// A new `messages` row (its id) and this many `events` rows.
    New { message: i64, events: usize },
    /// The same content was recorded before (its `messages` id); nothing was written.
    Duplicate { message: i64 },
}

/// Streaming SHA-256 of a message as filed: the key that makes recording idempotent.
#[derive(Default, Clone)]
pub struct ContentHash(Sha256);

impl ContentHash {
    pub fn new() -> ContentHash {
        ContentHash(Sha256::new())
    }

    pub fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    /// Lower-case hex digest.
    pub fn finish(self) -> String {
        let digest = self.0.finalize();
        let mut out = String::with_capacity(64);
        for b in digest {
            out.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
            out.push(char::from(b"0123456789abcdef"[usize::from(b & 15)]));
        }
        out
    }

    /// Hash of a whole byte slice.
    pub fn of(bytes: &[u8]) -> String {
        let mut h = ContentHash::new();
        h.update(bytes);
        h.finish()
    }
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy) | Some(rusqlite::ErrorCode::DatabaseLocked)
    )
}

impl Store {
    /// Open (creating if needed) the database at `path`: busy timeout, WAL (a persistent
    /// setting, switched only when not yet on), `synchronous=NORMAL` (in WAL mode a commit is
    /// durable at the next checkpoint; the Maildir is the record of truth), foreign keys, and
    /// the migrations the file has not seen yet.
    pub fn open(path: &Path, busy_timeout_ms: u64) -> Result<Store> {
        let db = |source| Error::Db {
            path: path.to_path_buf(),
            source,
        };
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(db)?;
        let busy_timeout = Duration::from_millis(busy_timeout_ms);
        // Perf fix (benchmark engineer): SQLite's own busy handler sleeps 1, 2, 5, 10, 15, 20,
        // 25 ms ... between tries, so with 8 agents queueing for a write lock held ~1 ms each,
        // most of an agent's time went to oversleeping (bench/delivery.sh par8). This one
        // retries after 0.1 ms, growing to 2 ms, for the same total timeout.
        BUSY_LIMIT_US.store(busy_timeout.as_micros() as u64, Ordering::Relaxed);
        conn.busy_handler(Some(short_busy_wait)).map_err(db)?;
        // Each rebound-lda is usually the only connection: SQLite would checkpoint the WAL
        // into the database and delete it at every close (four fsyncs, measured 1-10 ms a
        // message). The other side: a first connection rebuilds the WAL index by reading the
        // whole WAL (callgrind: 2 of 5 million instructions per delivery at 3.7 MB of WAL)
        // and, the index being new, cannot tell which frames were already checkpointed, so
        // SQLite's automatic checkpoint would copy them again and the WAL would never
        // restart. Hence no automatic checkpoint either: `checkpoint_if_over` truncates the
        // WAL once it passes a size, one delivery in many paying for the fsyncs.
        conn.set_db_config(
            rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE,
            true,
        )
        .map_err(db)?;
        let mut store = Store {
            conn,
            path: path.to_path_buf(),
            busy_timeout,
            version: 0,
        };
        store.retry_busy(|s| s.prepare())?;
        Ok(store)
    }

    fn prepare(&mut self) -> rusqlite::Result<()> {
        let mode: String = self
            .conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            let _: String = self
                .conn
                .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
        }
        self.conn.execute_batch(
            "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA wal_autocheckpoint=0;",
        )?;
        let known = schema::MIGRATIONS.len() as i64;
        self.version = self.user_version()?;
        if self.version < known {
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            // Another agent may have migrated while this one waited for the lock.
            let current: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
            for (i, sql) in schema::MIGRATIONS.iter().enumerate() {
                if (i as i64) >= current {
                    tx.execute_batch(sql)?;
                }
            }
            if current < known {
                tx.execute_batch(&format!("PRAGMA user_version = {known}"))?;
            }
            tx.commit()?;
            self.version = current.max(known);
        }
        Ok(())
    }

    fn user_version(&self) -> rusqlite::Result<i64> {
        self.conn.query_row("PRAGMA user_version", [], |r| r.get(0))
    }

    /// Run `f`, retrying while SQLite reports busy/locked beyond its own busy handler (a WAL
    /// recovery or a journal-mode switch can return SQLITE_BUSY at once), up to the timeout.
    fn retry_busy<T>(&mut self, mut f: impl FnMut(&mut Store) -> rusqlite::Result<T>) -> Result<T> {
        let deadline = Instant::now() + self.busy_timeout;
        loop {
            match f(self) {
                Ok(v) => return Ok(v),
                Err(e) if is_busy(&e) && Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(source) => {
                    return Err(Error::Db {
                        path: self.path.clone(),
                        source,
                    });
                }
            }
        }
    }

    /// Checkpoint the WAL into the database and truncate it when it has grown past
    /// `limit` bytes (see `open`: connections do not checkpoint on close). Waits at most
    /// 100 ms for other connections; a busy database is simply left for a later call.
    /// Returns whether a checkpoint ran.
    pub fn checkpoint_if_over(&mut self, limit: u64) -> Result<bool> {
        let mut wal = self.path.clone().into_os_string();
        wal.push("-wal");
        let size = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
        if size <= limit {
            return Ok(false);
        }
        let db = |source| Error::Db {
            path: self.path.clone(),
            source,
        };
        self.conn
            .busy_timeout(Duration::from_millis(100))
            .map_err(db)?;
        let done = self
            .conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
                r.get::<_, i64>(0)
            });
        self.conn.busy_timeout(self.busy_timeout).map_err(db)?;
        match done {
            Ok(busy) => Ok(busy == 0),
            Err(e) if is_busy(&e) => Ok(false),
            Err(e) => Err(db(e)),
        }
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version (`PRAGMA user_version`) after opening.
    pub fn schema_version(&self) -> Result<i64> {
        self.user_version().map_err(|source| Error::Db {
            path: self.path.clone(),
            source,
        })
    }

    /// The connection, for queries (`rebound` subcommands).
    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// The connection, for transactions of its own.
    pub fn conn_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// Record one filed message and its verdict in one `BEGIN IMMEDIATE` transaction: a
    /// `messages` row, one `events` row per reported recipient, then the suppression of every
    /// address named (final and original) re-evaluated by `policy::update_address` in the
    /// same transaction. A message whose `content_hash` is already stored is a no-op reported
    /// as `Recorded::Duplicate`. Used by rebound-lda after filing; `rebound import` records
    /// the same way through [`Store::batch`], many messages a transaction.
    pub fn record(
        &mut self,
        meta: &MessageMeta,
        verdict: &Verdict,
        policy: &Policy,
    ) -> Result<Recorded> {
        self.check_schema()?;
        self.retry_busy(|s| s.record_once(meta, verdict, policy))
    }

    /// Refuse a database a newer rebound has migrated past what this one knows.
    fn check_schema(&self) -> Result<()> {
        let known = schema::MIGRATIONS.len() as i64;
        if self.version > known {
            return Err(Error::Schema {
                path: self.path.clone(),
                found: self.version,
                known,
            });
        }
        Ok(())
    }

    /// Start recording many messages in one transaction (`rebound import`), see [`Batch`].
    pub fn batch(&mut self) -> Result<Batch<'_>> {
        self.check_schema()?;
        self.retry_busy(|s| s.conn.execute_batch("BEGIN IMMEDIATE"))?;
        Ok(Batch {
            store: self,
            open: true,
        })
    }

    fn record_once(
        &mut self,
        meta: &MessageMeta,
        verdict: &Verdict,
        policy: &Policy,
    ) -> rusqlite::Result<Recorded> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let recorded = record_in(&tx, meta, verdict, policy)?;
        match recorded {
            Recorded::New { .. } => tx.commit()?,
            Recorded::Duplicate { .. } => tx.rollback()?,
        }
        Ok(recorded)
    }
}

/// Many messages recorded in one `BEGIN IMMEDIATE` transaction, for `rebound import`. A
/// transaction per message, what each rebound-lda process needs, writes the same index
/// pages into the WAL again for every message; a batch writes them once per commit. It
/// holds the write lock until [`Batch::commit`] (deliveries meanwhile wait, within their busy
/// timeout: keep batches short with [`Batch::commit_and_continue`]). Dropped uncommitted, it
/// rolls back everything since its last commit.
pub struct Batch<'a> {
    store: &'a mut Store,
    open: bool,
}

impl Batch<'_> {
    /// Record one message, as [`Store::record`] does, in the batch's transaction.
    pub fn record(
        &mut self,
        meta: &MessageMeta,
        verdict: &Verdict,
        policy: &Policy,
    ) -> Result<Recorded> {
        record_in(&self.store.conn, meta, verdict, policy).map_err(|source| self.error(source))
    }

    /// Commit what is recorded so far, let waiting writers in, and go on in a new
    /// transaction.
    pub fn commit_and_continue(&mut self) -> Result<()> {
        self.commit_open()?;
        self.store
            .retry_busy(|s| s.conn.execute_batch("BEGIN IMMEDIATE"))?;
        self.open = true;
        Ok(())
    }

    /// Commit what is recorded since the last commit.
    pub fn commit(mut self) -> Result<()> {
        self.commit_open()
    }

    fn commit_open(&mut self) -> Result<()> {
        self.store
            .conn
            .execute_batch("COMMIT")
            .map_err(|source| self.error(source))?;
        self.open = false;
        Ok(())
    }

    fn error(&self, source: rusqlite::Error) -> Error {
        Error::Db {
            path: self.store.path.clone(),
            source,
        }
    }
}

impl Drop for Batch<'_> {
    fn drop(&mut self) {
        if self.open {
            let _ = self.store.conn.execute_batch("ROLLBACK");
        }
    }
}

/// One message in the open transaction `tx`: its `messages` row (none for a duplicate), an
/// `events` row per recipient, the suppression of every address named re-evaluated.
fn record_in(
    tx: &Connection,
    meta: &MessageMeta,
    verdict: &Verdict,
    policy: &Policy,
) -> rusqlite::Result<Recorded> {
    let inserted = tx
        .prepare_cached(
            "INSERT INTO messages (file, folder, arrived_at, envelope_from, envelope_to,
                     message_id, subject, kind, detector, evidence, size, content_hash)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
                 ON CONFLICT(content_hash) DO NOTHING",
        )?
        .execute(params![
            meta.file,
            meta.folder,
            meta.arrived_at,
            meta.envelope_from,
            meta.envelope_to,
            verdict.message_id,
            verdict.subject,
            verdict.kind.as_str(),
            verdict.detector,
            joined(&verdict.evidence),
            meta.size.map(|s| s as i64),
            meta.content_hash,
        ])?;
    if inserted == 0 {
        let message: i64 = tx
            .prepare_cached("SELECT id FROM messages WHERE content_hash = ?1")?
            .query_row([&meta.content_hash], |r| r.get(0))
            .optional()?
            .unwrap_or(0);
        return Ok(Recorded::Duplicate { message });
    }
    let message = tx.last_insert_rowid();
    let mut addresses: Vec<String> = Vec::new();
    {
        let mut insert = tx.prepare_cached(
            "INSERT INTO events (message, at, address, original, domain, kind, action,
                     status, reply_code, reason, hard, diagnostic, remote_mta, feedback_type,
                     returned_message_id, evidence)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
        )?;
        for r in &verdict.recipients {
            let address = policy::normalize_address(&r.address);
            let original = r
                .original
                .as_deref()
                .map(policy::normalize_address)
                .filter(|o| !o.is_empty() && *o != address);
            insert.execute(params![
                message,
                meta.arrived_at,
                address,
                original,
                policy::domain_of(&address),
                verdict.kind.as_str(),
                r.action.map(|a| a.as_str()),
                r.status,
                r.reply_code,
                r.reason.map(|x| x.as_str()),
                r.hard.map(i64::from),
                r.diagnostic,
                r.remote_mta,
                verdict.feedback_type,
                verdict.returned_message_id,
                joined(&r.evidence),
            ])?;
            for a in std::iter::once(address).chain(original) {
                if !a.is_empty() && !addresses.contains(&a) {
                    addresses.push(a);
                }
            }
        }
    }
    let now = time::now();
    for a in &addresses {
        policy::update_address(tx, policy, a, &now)?;
    }
    Ok(Recorded::New {
        message,
        events: verdict.recipients.len(),
    })
}

fn joined(items: &[String]) -> Option<String> {
    (!items.is_empty()).then(|| items.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::{Kind, Recipient};

    fn bounce() -> Verdict {
        Verdict {
            kind: Kind::Bounce,
            detector: "rfc3464".into(),
            recipients: vec![Recipient {
                address: "joe@example.com".into(),
                status: Some("5.1.1".into()),
                hard: Some(true),
                evidence: vec!["status 5.1.1".into()],
                ..Recipient::default()
            }],
            ..Verdict::default()
        }
    }

    #[test]
    fn a_batch_commits_what_it_recorded_and_drops_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.db");
        let mut s = Store::open(&path, 1000).unwrap();
        let meta = |n: u8| MessageMeta {
            file: format!("{n}.M1P1.host"),
            arrived_at: time::now(),
            content_hash: ContentHash::of(&[n]),
            ..MessageMeta::default()
        };
        let p = Policy::default();
        let count = |sql: &str| -> i64 {
            // Another connection, as a delivery or an admin would see the database.
            let other = Connection::open(&path).unwrap();
            other.query_row(sql, [], |r| r.get(0)).unwrap()
        };
        let mut batch = s.batch().unwrap();
        assert!(matches!(
            batch.record(&meta(1), &bounce(), &p).unwrap(),
            Recorded::New { events: 1, .. }
        ));
        // A duplicate inside the batch is found as one across transactions is.
        assert!(matches!(
            batch.record(&meta(1), &bounce(), &p).unwrap(),
            Recorded::Duplicate { .. }
        ));
        assert_eq!(
            count("SELECT count(*) FROM messages"),
            0,
            "not yet committed"
        );
        batch.commit_and_continue().unwrap();
        assert_eq!(count("SELECT count(*) FROM messages"), 1);
        assert_eq!(count("SELECT count(*) FROM suppressions"), 1);
        batch.record(&meta(2), &bounce(), &p).unwrap();
        drop(batch);
        assert_eq!(count("SELECT count(*) FROM messages"), 1, "rolled back");
        let mut batch = s.batch().unwrap();
        batch.record(&meta(2), &bounce(), &p).unwrap();
        batch.commit().unwrap();
        assert_eq!(count("SELECT count(*) FROM messages"), 2);
        // The store goes on as before.
        assert!(matches!(
            s.record(&meta(3), &bounce(), &p).unwrap(),
            Recorded::New { .. }
        ));
    }

    #[test]
    fn a_database_of_a_newer_rebound_is_not_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.db");
        drop(Store::open(&path, 1000).unwrap());
        let newer = schema::MIGRATIONS.len() as i64 + 1;
        Connection::open(&path)
            .unwrap()
            .execute_batch(&format!("PRAGMA user_version = {newer}"))
            .unwrap();
        let mut s = Store::open(&path, 1000).unwrap();
        let meta = MessageMeta {
            content_hash: ContentHash::of(b"x"),
            ..MessageMeta::default()
        };
        let refused =
            |r: Result<()>| matches!(r, Err(Error::Schema { found, .. }) if found == newer);
        assert!(refused(
            s.record(&meta, &bounce(), &Policy::default()).map(|_| ())
        ));
        assert!(refused(s.batch().map(|_| ())));
    }

    #[test]
    fn records_once_and_suppresses() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.db");
        let mut s = Store::open(&path, 1000).unwrap();
        assert_eq!(s.schema_version().unwrap(), schema::MIGRATIONS.len() as i64);
        let meta = MessageMeta {
            file: "1.M1P1.host,S=10".into(),
            arrived_at: time::now(),
            content_hash: ContentHash::of(b"x"),
            ..MessageMeta::default()
        };
        let p = Policy::default();
        assert!(matches!(
            s.record(&meta, &bounce(), &p).unwrap(),
            Recorded::New { events: 1, .. }
        ));
        assert!(matches!(
            s.record(&meta, &bounce(), &p).unwrap(),
            Recorded::Duplicate { .. }
        ));
        let mode: String = s
            .conn()
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        drop(s);
        // Reopening does not migrate again.
        let s = Store::open(&path, 1000).unwrap();
        let n: i64 = s
            .conn()
            .query_row("SELECT count(*) FROM suppressions", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1);
    }

    #[test]
    fn hash_is_hex_sha256() {
        assert_eq!(
            ContentHash::of(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
