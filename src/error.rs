//! Typed errors of the library. Each carries what failed (path, errno) and answers
//! `is_temporary()`; binaries map them to exit codes through `exit.rs`.

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
}

impl Error {
    /// Every error on the delivery path is temporary: the MTA keeps the message.
    pub fn is_temporary(&self) -> bool {
        true
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Io { op, path, source } => write!(f, "{op} {}: {source}", path.display()),
            Error::Config { path, message } => write!(f, "{}: {message}", path.display()),
            Error::Usage(m) => write!(f, "usage: {m}"),
            Error::Db { path, source } => write!(f, "database {}: {source}", path.display()),
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
