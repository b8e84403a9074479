//! Ordered migrations. Migration N brings the database to `user_version = N`; append only,
//! never edit a released one. Timestamps are ISO 8601 UTC text (`2026-11-28T03:15:00Z`) so
//! `sqlite3` users can read and compare them as they are.

pub const MIGRATIONS: &[&str] = &[
    // 1: messages, events (one per reported recipient), suppressions, audit.
    r#"
CREATE TABLE messages (
    id            INTEGER PRIMARY KEY,
    file          TEXT NOT NULL,          -- Maildir file name (base name, as first filed in new/)
    folder        TEXT NOT NULL DEFAULT '', -- Maildir++ folder, '' = INBOX
    arrived_at    TEXT NOT NULL,          -- ISO 8601 UTC
    envelope_from TEXT,
    envelope_to   TEXT,
    message_id    TEXT,                   -- Message-ID of the report itself
    subject       TEXT,
    kind          TEXT NOT NULL,          -- bounce, delayed, delivered, complaint, autoreply, other
    detector      TEXT,                   -- which format decided
    evidence      TEXT,                   -- message-level evidence, '; '-joined
    size          INTEGER,
    content_hash  TEXT NOT NULL UNIQUE    -- sha256 of the message as received: a retry is recorded once
);
CREATE INDEX messages_arrived ON messages(arrived_at);
CREATE INDEX messages_kind ON messages(kind);

CREATE TABLE events (
    id                  INTEGER PRIMARY KEY,
    message             INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    at                  TEXT NOT NULL,    -- ISO 8601 UTC, the message's arrival
    address             TEXT NOT NULL,    -- final recipient, lower-case domain
    original            TEXT,             -- VERP-decoded / Original-Recipient when it differs
    domain              TEXT NOT NULL,
    kind                TEXT NOT NULL,
    action              TEXT,
    status              TEXT,
    reply_code          TEXT,
    reason              TEXT,
    hard                INTEGER,          -- 1, 0 or NULL
    diagnostic          TEXT,
    remote_mta          TEXT,
    feedback_type       TEXT,
    returned_message_id TEXT,
    evidence            TEXT
);
CREATE INDEX events_address ON events(address, at);
CREATE INDEX events_domain ON events(domain, at);
CREATE INDEX events_at ON events(at);

CREATE TABLE suppressions (
    address  TEXT PRIMARY KEY,            -- exact local part, lower-case domain
    domain   TEXT NOT NULL,
    cause    TEXT NOT NULL,               -- hard, complaint, soft, manual
    reason   TEXT,
    since    TEXT NOT NULL,
    until    TEXT,                        -- NULL = until removed by hand
    event    INTEGER REFERENCES events(id) ON DELETE SET NULL,
    note     TEXT
);
CREATE INDEX suppressions_since ON suppressions(since);

CREATE TABLE audit (
    id      INTEGER PRIMARY KEY,
    at      TEXT NOT NULL,
    action  TEXT NOT NULL,                -- suppress, unsuppress, import, rebuild, prune
    address TEXT,
    note    TEXT,
    actor   TEXT
);
"#,
    // 2: the admin's side. Manual decisions (`overrides`), the per-address soft count the
    // policy keeps (`soft_counts`), the policy fingerprint (`meta`), indexes for the admin's
    // lookups, and views with plain names for `sqlite3` users (documented in rebound-db(5)).
    r#"
CREATE INDEX IF NOT EXISTS events_original ON events(original) WHERE original IS NOT NULL;
CREATE INDEX IF NOT EXISTS events_message ON events(message);
CREATE INDEX IF NOT EXISTS events_kind ON events(kind, at);
CREATE INDEX IF NOT EXISTS suppressions_domain ON suppressions(domain);

CREATE TABLE overrides (
    address TEXT PRIMARY KEY,             -- exact local part, lower-case domain
    action  TEXT NOT NULL CHECK (action IN ('suppress', 'unsuppress')),
    at      TEXT NOT NULL,                -- ISO 8601 UTC; an unsuppress ignores events up to here
    mark    INTEGER,                      -- highest events.id when decided (same-second tie-break)
    note    TEXT,
    actor   TEXT
);

CREATE TABLE soft_counts (
    address TEXT PRIMARY KEY,
    domain  TEXT NOT NULL,
    days    INTEGER NOT NULL,             -- days with a counted soft failure in the window
    first   TEXT NOT NULL,                -- first counted failure in the current run
    last    TEXT NOT NULL,                -- last counted failure
    reasons TEXT,                         -- distinct reasons counted, ','-joined
    event   INTEGER REFERENCES events(id) ON DELETE SET NULL
);

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,               -- 'policy': the policy of the last evaluation (JSON)
    value TEXT NOT NULL
);

CREATE VIEW suppressed AS
SELECT s.address, s.domain, s.cause, s.reason, s.since, s.until, s.note,
       e.status, e.reply_code, e.feedback_type, e.diagnostic, m.file, m.folder, s.event
FROM suppressions s
LEFT JOIN events e ON e.id = s.event
LEFT JOIN messages m ON m.id = e.message
WHERE s.until IS NULL OR s.until > strftime('%Y-%m-%dT%H:%M:%SZ', 'now');

CREATE VIEW hard_bounces AS
SELECT e.at, e.address, e.original, e.domain, e.status, e.reply_code, e.reason,
       e.diagnostic, e.remote_mta, e.returned_message_id, m.file, m.folder, e.id AS event
FROM events e JOIN messages m ON m.id = e.message
WHERE e.kind = 'bounce' AND e.hard = 1;

CREATE VIEW soft_bounces AS
SELECT e.at, e.address, e.original, e.domain, e.status, e.reply_code, e.reason,
       e.diagnostic, e.remote_mta, e.returned_message_id, m.file, m.folder, e.id AS event
FROM events e JOIN messages m ON m.id = e.message
WHERE e.kind = 'bounce' AND coalesce(e.hard, 0) = 0;

CREATE VIEW complaints AS
SELECT e.at, e.address, e.original, e.domain, coalesce(e.feedback_type, 'unknown') AS feedback_type,
       e.returned_message_id, m.envelope_from, m.subject, m.file, m.folder, e.id AS event
FROM events e JOIN messages m ON m.id = e.message
WHERE e.kind = 'complaint';

CREATE VIEW delays AS
SELECT e.at, e.address, e.original, e.domain, e.status, e.reason, e.diagnostic,
       m.file, e.id AS event
FROM events e JOIN messages m ON m.id = e.message
WHERE e.kind = 'delayed';

CREATE VIEW autoreplies AS
SELECT m.arrived_at AS at, m.envelope_from, m.envelope_to, m.subject, m.file, m.folder
FROM messages m
WHERE m.kind = 'autoreply';

CREATE VIEW soft_bounce_counts AS
SELECT c.address, c.domain, c.days,
       CAST(json_extract(p.value, '$.soft_threshold') AS INTEGER) AS threshold,
       c.first, c.last, c.reasons
FROM soft_counts c LEFT JOIN meta p ON p.key = 'policy'
WHERE c.last > strftime('%Y-%m-%dT%H:%M:%SZ', 'now',
        '-' || coalesce(json_extract(p.value, '$.soft_stale_days'), 7) || ' days');

CREATE VIEW history AS
SELECT e.at, e.address, e.original, e.kind, e.action, e.status, e.reply_code, e.reason,
       CASE e.hard WHEN 1 THEN 'yes' WHEN 0 THEN 'no' END AS hard,
       e.feedback_type, e.diagnostic, e.remote_mta, e.evidence, m.file, m.folder,
       e.id AS event, m.id AS message
FROM events e JOIN messages m ON m.id = e.message;
"#,
    // 3: the same views, spelt with fewer expressions. Every rebound-lda process parses the
    // whole schema when it opens the database, views included (SQLite builds and copies each
    // view's SELECT tree), and that was half of a delivery's instructions, the views two
    // thirds of it (callgrind). Columns are qualified only where two joined tables share
    // the name; the views return the same columns, names and rows (store tests compare).
    r#"
DROP VIEW suppressed;
CREATE VIEW suppressed AS
SELECT s.address, s.domain, cause, s.reason, since, until, note,
       status, reply_code, feedback_type, diagnostic, file, folder, event
FROM suppressions s
LEFT JOIN events e ON e.id = s.event
LEFT JOIN messages m ON m.id = e.message
WHERE until IS NULL OR until > strftime('%Y-%m-%dT%H:%M:%SZ', 'now');

DROP VIEW hard_bounces;
CREATE VIEW hard_bounces AS
SELECT at, address, original, domain, status, reply_code, reason,
       diagnostic, remote_mta, returned_message_id, file, folder, e.id AS event
FROM events e JOIN messages m ON m.id = e.message
WHERE e.kind = 'bounce' AND hard = 1;

DROP VIEW soft_bounces;
CREATE VIEW soft_bounces AS
SELECT at, address, original, domain, status, reply_code, reason,
       diagnostic, remote_mta, returned_message_id, file, folder, e.id AS event
FROM events e JOIN messages m ON m.id = e.message
WHERE e.kind = 'bounce' AND coalesce(hard, 0) = 0;

DROP VIEW complaints;
CREATE VIEW complaints AS
SELECT at, address, original, domain, coalesce(feedback_type, 'unknown') AS feedback_type,
       returned_message_id, envelope_from, subject, file, folder, e.id AS event
FROM events e JOIN messages m ON m.id = e.message
WHERE e.kind = 'complaint';

DROP VIEW delays;
CREATE VIEW delays AS
SELECT at, address, original, domain, status, reason, diagnostic, file, e.id AS event
FROM events e JOIN messages m ON m.id = e.message
WHERE e.kind = 'delayed';

DROP VIEW autoreplies;
CREATE VIEW autoreplies AS
SELECT arrived_at AS at, envelope_from, envelope_to, subject, file, folder
FROM messages
WHERE kind = 'autoreply';

DROP VIEW soft_bounce_counts;
CREATE VIEW soft_bounce_counts AS
SELECT address, domain, days,
       CAST(json_extract(value, '$.soft_threshold') AS INTEGER) AS threshold,
       first, last, reasons
FROM soft_counts LEFT JOIN meta ON key = 'policy'
WHERE last > strftime('%Y-%m-%dT%H:%M:%SZ', 'now',
        '-' || coalesce(json_extract(value, '$.soft_stale_days'), 7) || ' days');

DROP VIEW history;
CREATE VIEW history AS
SELECT at, address, original, e.kind, action, status, reply_code, reason,
       CASE e.hard WHEN 1 THEN 'yes' WHEN 0 THEN 'no' END AS hard,
       feedback_type, diagnostic, remote_mta, e.evidence, file, folder,
       e.id AS event, m.id AS message
FROM events e JOIN messages m ON m.id = e.message;
"#,
];

#[cfg(test)]
mod tests {
    use super::MIGRATIONS;
    use rusqlite::Connection;

    const VIEWS: &[&str] = &[
        "suppressed",
        "hard_bounces",
        "soft_bounces",
        "complaints",
        "delays",
        "autoreplies",
        "soft_bounce_counts",
        "history",
    ];

    /// Column names and every row, as text, of each view.
    fn snapshot(c: &Connection) -> Vec<(Vec<String>, Vec<Vec<String>>)> {
        VIEWS
            .iter()
            .map(|v| {
                let mut st = c
                    .prepare(&format!("SELECT * FROM {v} ORDER BY 1, 2, 3"))
                    .unwrap();
                let names = st.column_names().iter().map(|s| s.to_string()).collect();
                let n = st.column_count();
                let rows = st
                    .query_map([], |r| {
                        (0..n)
                            .map(|i| {
                                r.get::<_, rusqlite::types::Value>(i)
                                    .map(|v| format!("{v:?}"))
                            })
                            .collect::<Result<Vec<_>, _>>()
                    })
                    .unwrap()
                    .collect::<Result<Vec<_>, _>>()
                    .unwrap();
                (names, rows)
            })
            .collect()
    }

    #[test]
    fn migration_3_keeps_every_view_as_it_was() {
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch(MIGRATIONS[0]).unwrap();
        c.execute_batch(MIGRATIONS[1]).unwrap();
        c.execute_batch(
            "INSERT INTO messages (id, file, folder, arrived_at, envelope_from, envelope_to,
                 subject, kind, content_hash) VALUES
               (1, 'a', '.Bounces', '2026-11-27T01:00:00Z', '', 'b+x=example.com@s.example', 'fail', 'bounce', 'h1'),
               (2, 'b', '.Complaints', '2026-11-27T02:00:00Z', 'fbl@example.net', NULL, 'abuse', 'complaint', 'h2'),
               (3, 'c', '', '2026-11-27T03:00:00Z', 'joe@example.com', 'b@s.example', 'away', 'autoreply', 'h3'),
               (4, 'd', '.Delays', '2026-11-27T04:00:00Z', '', NULL, 'delayed', 'delayed', 'h4');
             INSERT INTO events (id, message, at, address, original, domain, kind, action, status,
                 reply_code, reason, hard, diagnostic, remote_mta, feedback_type,
                 returned_message_id, evidence) VALUES
               (1, 1, '2026-11-27T01:00:00Z', 'x@example.com', 'b+x=example.com@s.example',
                'example.com', 'bounce', 'failed', '5.1.1', '550', 'userunknown', 1, 'no such user',
                'mx.example.com', NULL, '<r1@s.example>', 'status 5.1.1'),
               (2, 1, '2026-11-27T01:00:00Z', 'y@example.com', NULL, 'example.com', 'bounce',
                'failed', '4.2.2', '452', 'mailboxfull', 0, 'full', NULL, NULL, NULL, NULL),
               (3, 2, '2026-11-27T02:00:00Z', 'z@example.net', NULL, 'example.net', 'complaint',
                NULL, NULL, NULL, 'feedback', 0, NULL, NULL, NULL, '<r2@s.example>', 'arf'),
               (4, 4, '2026-11-27T04:00:00Z', 'w@example.jp', NULL, 'example.jp', 'delayed',
                'delayed', '4.4.7', NULL, 'expired', NULL, 'still trying', NULL, NULL, NULL, NULL);
             INSERT INTO suppressions (address, domain, cause, reason, since, until, event, note)
               VALUES ('x@example.com', 'example.com', 'hard', 'userunknown', '2026-11-27T01:00:00Z', NULL, 1, NULL),
                      ('z@example.net', 'example.net', 'complaint', 'feedback', '2026-11-27T02:00:00Z', NULL, 3, 'fbl'),
                      ('old@example.com', 'example.com', 'soft', 'mailboxfull', '2026-01-01T00:00:00Z', '2026-02-01T00:00:00Z', NULL, NULL);
             INSERT INTO soft_counts (address, domain, days, first, last, reasons, event)
               VALUES ('y@example.com', 'example.com', 2, '2026-11-26T01:00:00Z', '2099-01-01T00:00:00Z', 'mailboxfull', 2);
             INSERT INTO meta (key, value) VALUES ('policy', '{\"soft_threshold\": 3, \"soft_stale_days\": 7}');",
        )
        .unwrap();
        let before = snapshot(&c);
        assert!(
            before.iter().all(|(_, rows)| !rows.is_empty()),
            "{before:?}"
        );
        c.execute_batch(MIGRATIONS[2]).unwrap();
        assert_eq!(snapshot(&c), before);
    }
}
