//! The SQLite store: open (WAL, busy timeout), ordered migrations versioned with
//! `PRAGMA user_version`, one short transaction per message. The Maildir is the record of
//! truth; this database is an index of it that `rebound import` can rebuild.

pub mod policy;
pub mod schema;
