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
];
