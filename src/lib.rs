//! rebound: a local delivery agent for bounce mailboxes.
//!
//! ```text
//! MTA --stdin--> read (bounded memory) --> Maildir tmp/ --fsync, rename--> new/ (or a folder)
//!                     |                                   ^ the message is safe from here on
//!                     +--> classify (prefix of the message + envelope) --> Verdict
//!                                                         |
//!                        SQLite (one short transaction) <-+--> one syslog line --> exit code
//! ```
//!
//! Modules in pipeline order: `config` (what the MTA passed + the config file), `maildir`
//! (filing), `classify` + `reason` + `verp` (the verdict), `store` (SQLite), `log` (the one
//! line), `lda` (the pipeline itself), `exit` (the codes). `admin` holds the `rebound`
//! subcommands.
// Denied everywhere; `watchdog` alone allows it (a signal handler and two libc calls).
#![deny(unsafe_code)]

pub mod admin;
pub mod classify;
pub mod config;
pub mod error;
pub mod exit;
pub mod lda;
pub mod log;
pub mod maildir;
pub mod mbox;
pub mod privileges;
pub mod reason;
pub mod store;
pub mod users;
pub mod verp;
pub mod watchdog;
