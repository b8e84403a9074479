//! Typed errors of the library. Each carries what failed (path, errno) and answers
//! `is_temporary()`; binaries map them to exit codes and RFC 3463 status lines through
//! `exit.rs`.

use std::path::PathBuf;

#[derive(Debug)]
pub enum Error {
    /// An I/O operation on a path failed.
    Io {
        op: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    /// The configuration file or an `-o` option is invalid.
    Config { path: PathBuf, message: String },
    /// Bad command-line usage.
    Usage(String),
    /// SQLite failed.
    Db {
        path: PathBuf,
        source: rusqlite::Error,
    },
    /// The `-d` user is not in the password database (or the lookup failed).
    UnknownUser { name: String, detail: String },
    /// Dropping privileges failed, or running as root without `-d`.
    Privileges(String),
    /// A `-m` or configured folder name that is not a safe Maildir++ folder.
    Mailbox(String),
    /// The database was written by a newer rebound (schema version ahead of ours).
    Schema {
        path: PathBuf,
        found: i64,
        known: i64,
    },
}

impl Error {
    /// Every error on the delivery path is temporary: the MTA keeps the message.
    pub fn is_temporary(&self) -> bool {
        true
    }

    /// Wrap an I/O error with the operation and the path it concerned.
    pub fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Io {
            op,
            path: path.into(),
            source,
        }
    }

    /// The errno of an I/O error, if this is one.
    pub fn raw_os_error(&self) -> Option<i32> {
        match self {
            Error::Io { source, .. } => source.raw_os_error(),
            _ => None,
        }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Io { op, path, source } => write!(f, "{op} {}: {source}", path.display()),
            Error::Config { path, message } => write!(f, "{}: {message}", path.display()),
            Error::Usage(m) => write!(f, "usage: {m}"),
            Error::Db { path, source } => write!(f, "database {}: {source}", path.display()),
            Error::UnknownUser { name, detail } => write!(f, "unknown user {name:?}: {detail}"),
            Error::Privileges(m) => write!(f, "privileges: {m}"),
            Error::Mailbox(m) => write!(f, "mailbox: {m}"),
            Error::Schema { path, found, known } => write!(
                f,
                "database {}: schema version {found} is newer than this rebound knows ({known})",
                path.display()
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            Error::Db { source, .. } => Some(source),
            _ => None,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
