//! The only place a sysexits number appears. rebound-lda exits 0 (durable) or 75
//! (EX_TEMPFAIL, the MTA keeps the message and retries); nothing else on the delivery path:
//! Postfix bounces every status but 75 and 71, Sendmail bounces 64, 67, 78 and any
//! non-sysexits code, and a bounced bounce is lost. The first stderr line of a temporary
//! failure starts with an RFC 3463 code, which Postfix's pipe(8) and local(8) take as the
//! reported status. The admin command uses 0 / 1 / 2 as documented in rebound(8).

use crate::error::Error;

/// Exit codes of rebound-lda.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LdaExit {
    /// The message is durable in the Maildir.
    Delivered = 0,
    /// EX_TEMPFAIL: nothing was filed; the MTA must retry.
    TempFail = 75,
}

/// Exit codes of the `rebound` admin command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminExit {
    Ok = 0,
    /// `check`: at least one address is suppressed.
    Suppressed = 1,
    /// Usage, configuration, database or I/O error.
    Error = 2,
}

/// RFC 3463 status for an error that stopped filing. Class 4 always: the MTA retries.
pub fn enhanced_status(err: &Error) -> &'static str {
    match err {
        // ENOSPC / EDQUOT: 4.2.2 "mailbox full" is what dovecot and Postfix report for quota.
        Error::Io { source, .. } => match source.raw_os_error() {
            Some(28) | Some(122) => "4.2.2",
            _ => "4.3.0",
        },
        Error::UnknownUser { .. } => "4.1.1",
        Error::Mailbox(_) => "4.2.0",
        // Usage, configuration, privileges: the system is not correctly configured (X.3.5).
        Error::Config { .. } | Error::Usage(_) | Error::Privileges(_) => "4.3.5",
        Error::Db { .. } | Error::Schema { .. } => "4.3.0",
    }
}

/// The first stderr line of a temporary failure: `4.x.y rebound-lda: <what>`.
pub fn tempfail_line(err: &Error) -> String {
    format!(
        "{} rebound-lda: {}",
        enhanced_status(err),
        crate::log::escape_line(&err.to_string())
    )
}

/// The first stderr line when a panic stopped the agent before the message was filed.
pub fn panic_line(what: &str) -> String {
    format!(
        "4.3.0 rebound-lda: internal error before filing: {}",
        crate::log::escape_line(what)
    )
}
