//! The read side of the store, for the `rebound` admin command: a read-only connection for
//! admins who may read but not write the database, the suppression of one address as of now,
//! and the filtered selections behind `list`, `export`, `show` and `stats`. Everything reads
//! the tables and views of migrations 1 and 2 (rebound-db(5)); nothing here writes.

use rusqlite::{Connection, OpenFlags, OptionalExtension, ToSql, params};
use std::path::Path;

/// Open an existing database read-only (no migrations, no policy sync). A WAL database
/// can only be read by a connection that may create its `-shm` file; an admin who may read
/// the file but not write its directory, while no agent has it open, gets an `immutable`
/// snapshot instead (what `sqlite3 'file:...?immutable=1'` does).
pub fn open_read_only(path: &Path, busy_timeout_ms: u64) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(std::time::Duration::from_millis(busy_timeout_ms))?;
    match conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    }) {
        Ok(_) => Ok(conn),
        Err(_) => {
            let uri = format!("file:{}?immutable=1", uri_path(path));
            let conn = Connection::open_with_flags(uri, flags | OpenFlags::SQLITE_OPEN_URI)?;
            conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
                r.get::<_, i64>(0)
            })?;
            Ok(conn)
        }
    }
}

/// A path as the path part of an SQLite `file:` URI (RFC 3986 percent-encoding).
fn uri_path(path: &Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    let mut out = String::new();
    for &b in path.as_os_str().as_bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// One active suppression with the event that caused it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Suppressed {
    pub address: String,
    pub cause: String,
    pub reason: Option<String>,
    pub since: String,
    pub until: Option<String>,
    pub note: Option<String>,
    pub event: Option<i64>,
    pub status: Option<String>,
    pub diagnostic: Option<String>,
    pub feedback_type: Option<String>,
    pub file: Option<String>,
}

const SUPPRESSED_COLUMNS: &str = "s.address, s.cause, s.reason, s.since, s.until, s.note, s.event,
     e.status, e.diagnostic, e.feedback_type, m.file";

const SUPPRESSED_FROM: &str = "FROM suppressions s
     LEFT JOIN events e ON e.id = s.event
     LEFT JOIN messages m ON m.id = e.message";

fn suppressed_row(r: &rusqlite::Row) -> rusqlite::Result<Suppressed> {
    Ok(Suppressed {
        address: r.get(0)?,
        cause: r.get(1)?,
        reason: r.get(2)?,
        since: r.get(3)?,
        until: r.get(4)?,
        note: r.get(5)?,
        event: r.get(6)?,
        status: r.get(7)?,
        diagnostic: r.get(8)?,
        feedback_type: r.get(9)?,
        file: r.get(10)?,
    })
}

/// The active suppression of `address` (exact, as the store keys it) at `now`.
pub fn suppression(
    conn: &Connection,
    address: &str,
    now: &str,
) -> rusqlite::Result<Option<Suppressed>> {
    conn.prepare_cached(&format!(
        "SELECT {SUPPRESSED_COLUMNS} {SUPPRESSED_FROM}
         WHERE s.address = ?1 AND (s.until IS NULL OR s.until > ?2)"
    ))?
    .query_row(params![address, now], suppressed_row)
    .optional()
}

/// Filters of `list` and `export`.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Suppressed (or event) at or after this stored timestamp.
    pub since: Option<String>,
    /// Reason name (REASONS.md) or, for complaints, the feedback type.
    pub reason: Option<String>,
    /// Suppression cause (`hard`, `complaint`, `soft`, `manual`) or event kind.
    pub kind: Option<String>,
    /// Domain, case-insensitive; `example.com` also matches its subdomains.
    pub domain: Option<String>,
    pub limit: Option<u32>,
}

impl Filter {
    fn clauses(
        &self,
        at: &str,
        reason: &str,
        kind: &str,
        domain: &str,
    ) -> (String, Vec<Box<dyn ToSql>>) {
        let mut sql = String::new();
        let mut args: Vec<Box<dyn ToSql>> = Vec::new();
        if let Some(s) = &self.since {
            sql.push_str(&format!(" AND {at} >= ?"));
            args.push(Box::new(s.clone()));
        }
        if let Some(r) = &self.reason {
            sql.push_str(&format!(" AND lower({reason}) = lower(?)"));
            args.push(Box::new(r.clone()));
        }
        if let Some(k) = &self.kind {
            sql.push_str(&format!(" AND {kind} = lower(?)"));
            args.push(Box::new(k.clone()));
        }
        if let Some(d) = &self.domain {
            let d = d.trim().trim_start_matches('@').to_ascii_lowercase();
            sql.push_str(&format!(
                " AND ({domain} = ? OR {domain} LIKE ? ESCAPE '\\')"
            ));
            args.push(Box::new(d.clone()));
            let escaped = d
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            args.push(Box::new(format!("%.{escaped}")));
        }
        (sql, args)
    }

    fn limit(&self) -> String {
        self.limit
            .map(|n| format!(" LIMIT {n}"))
            .unwrap_or_default()
    }
}

/// The active suppressions matching `f`, newest first: the `export` and `list` selection.
/// Columns: address, domain, cause, reason, since, until, status, feedback_type, event, note.
pub fn suppressions_sql(f: &Filter, now: &str) -> (String, Vec<Box<dyn ToSql>>) {
    let (clauses, mut args) = f.clauses(
        "s.since",
        "coalesce(s.reason, e.feedback_type)",
        "s.cause",
        "s.domain",
    );
    let sql = format!(
        "SELECT s.address, s.domain, s.cause, s.reason, s.since, s.until, e.status,
                e.feedback_type, s.event, s.note
         {SUPPRESSED_FROM}
         WHERE (s.until IS NULL OR s.until > ?){clauses}
         ORDER BY s.since DESC, s.address{}",
        f.limit()
    );
    args.insert(0, Box::new(now.to_string()));
    (sql, args)
}

/// Events matching `f`, newest first (`list --events`). `kind` is the event kind.
pub fn events_sql(f: &Filter) -> (String, Vec<Box<dyn ToSql>>) {
    let (clauses, args) = f.clauses(
        "e.at",
        "coalesce(e.reason, e.feedback_type)",
        "e.kind",
        "e.domain",
    );
    let sql = format!(
        "SELECT e.at, e.address, e.original, e.kind, e.action, e.status, e.reply_code, e.reason,
                e.hard, e.feedback_type, e.diagnostic, m.file, e.id AS event
         FROM events e JOIN messages m ON m.id = e.message
         WHERE 1{clauses}
         ORDER BY e.at DESC, e.id DESC{}",
        f.limit()
    );
    (sql, args)
}

/// Every event naming `address` as final or original recipient, oldest first, with the
/// message it came in and its evidence: the body of `show`.
pub const HISTORY_SQL: &str = "SELECT e.id AS event, e.at, e.address, e.original, e.kind, e.action,
        e.status, e.reply_code, e.reason, e.hard, e.feedback_type, e.remote_mta, e.diagnostic,
        e.returned_message_id, e.evidence, m.detector, m.evidence AS message_evidence,
        m.envelope_from, m.subject, m.folder, m.file, m.id AS message
 FROM events e JOIN messages m ON m.id = e.message
 WHERE e.address = ?1 OR e.original = ?1
 ORDER BY e.at, e.id";

/// One event by id, same columns as [`HISTORY_SQL`].
pub const EVENT_SQL: &str = "SELECT e.id AS event, e.at, e.address, e.original, e.kind, e.action,
        e.status, e.reply_code, e.reason, e.hard, e.feedback_type, e.remote_mta, e.diagnostic,
        e.returned_message_id, e.evidence, m.detector, m.evidence AS message_evidence,
        m.envelope_from, m.subject, m.folder, m.file, m.id AS message
 FROM events e JOIN messages m ON m.id = e.message
 WHERE e.id = ?1";

/// A message by its Maildir file name (with or without the `:2,flags` suffix).
pub const MESSAGE_SQL: &str = "SELECT id AS message, file, folder, arrived_at, envelope_from,
        envelope_to, message_id, subject, kind, detector, evidence, size, content_hash
 FROM messages WHERE file = ?1 OR file = substr(?1, 1, instr(?1 || ':', ':') - 1)";

/// What `stats --by` groups on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StatsBy {
    Day,
    Reason,
    Domain,
    Kind,
}

/// The `stats` selection, busiest first (by day: newest first).
pub fn stats_sql(
    by: StatsBy,
    since: Option<&str>,
    limit: Option<u32>,
) -> (String, Vec<Box<dyn ToSql>>) {
    let mut args: Vec<Box<dyn ToSql>> = Vec::new();
    let limit = limit.map(|n| format!(" LIMIT {n}")).unwrap_or_default();
    if by == StatsBy::Kind {
        let mut w = String::new();
        if let Some(s) = since {
            w.push_str(" WHERE m.arrived_at >= ?");
            args.push(Box::new(s.to_string()));
        }
        let sql = format!(
            "SELECT m.kind, count(DISTINCT m.id) AS messages, count(e.id) AS events,
                    count(DISTINCT e.address) AS addresses,
                    coalesce(sum(e.hard = 1), 0) AS hard
             FROM messages m LEFT JOIN events e ON e.message = m.id{w}
             GROUP BY m.kind ORDER BY messages DESC, m.kind{limit}"
        );
        return (sql, args);
    }
    let (key, order) = match by {
        StatsBy::Day => ("substr(e.at, 1, 10) AS day", "day DESC"),
        StatsBy::Reason => (
            "coalesce(e.reason, e.feedback_type, e.kind) AS reason",
            "events DESC, reason",
        ),
        _ => ("e.domain", "events DESC, e.domain"),
    };
    let mut w = String::new();
    if let Some(s) = since {
        w.push_str(" WHERE e.at >= ?");
        args.push(Box::new(s.to_string()));
    }
    let sql = format!(
        "SELECT {key}, count(*) AS events, count(DISTINCT e.address) AS addresses,
                coalesce(sum(e.kind = 'bounce' AND e.hard = 1), 0) AS hard,
                coalesce(sum(e.kind = 'bounce' AND coalesce(e.hard, 0) = 0), 0) AS soft,
                coalesce(sum(e.kind = 'complaint'), 0) AS complaints,
                coalesce(sum(e.kind = 'delayed'), 0) AS delays
         FROM events e{w}
         GROUP BY 1 ORDER BY {order}{limit}"
    );
    (sql, args)
}
