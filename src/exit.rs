//! The only place a sysexits number appears. rebound-lda exits 0 (durable) or 75
//! (EX_TEMPFAIL, the MTA keeps the message and retries); nothing else on the delivery path.
//! The admin command uses 0 / 1 / 2 as documented in rebound(8).

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
