//! Configuration: `/etc/rebound.conf` (TOML), every key with a default, any key overridable
//! with `-o KEY=VALUE` (dotted for tables: `-o policy.soft_threshold=3`). A missing default
//! file is fine; an unreadable or invalid one is an error naming the file and line.

use serde::Deserialize;
use std::path::PathBuf;

/// Default configuration file.
pub const DEFAULT_PATH: &str = "/etc/rebound.conf";

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Maildir to file into; `None` means `~/Maildir` of the delivering user.
    pub maildir: Option<PathBuf>,
    /// SQLite database file.
    pub database: PathBuf,
    /// SQLite busy timeout in milliseconds.
    pub busy_timeout_ms: u64,
    /// How many leading bytes of a message are kept for classification.
    pub classify_bytes: usize,
    /// VERP separators, detail then at: `+=`.
    pub verp_delimiters: String,
    /// Where to log: `syslog` (falls back to stderr) or `stderr`.
    pub log: String,
    /// Maildir++ folder per verdict kind.
    pub folders: Folders,
    /// Suppression policy.
    pub policy: crate::store::policy::Policy,
}

/// Maildir++ folder names per kind; `""` is INBOX.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Folders {
    pub bounce: String,
    pub delayed: String,
    pub delivered: String,
    pub complaint: String,
    pub autoreply: String,
    pub other: String,
}

impl Default for Folders {
    fn default() -> Self {
        Folders {
            bounce: ".Bounces".into(),
            delayed: ".Delays".into(),
            delivered: ".Delivered".into(),
            complaint: ".Complaints".into(),
            autoreply: ".AutoReplies".into(),
            other: String::new(),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            maildir: None,
            database: PathBuf::from("/var/lib/rebound/rebound.db"),
            busy_timeout_ms: 30_000,
            classify_bytes: 4 << 20,
            verp_delimiters: "+=".into(),
            log: "syslog".into(),
            folders: Folders::default(),
            policy: crate::store::policy::Policy::default(),
        }
    }
}
