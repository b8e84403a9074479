//! The one result type of classification: a `Verdict` for the whole message and one
//! `Recipient` per reported address. The same values become the JSON line of `rebound parse`
//! (corpus FORMAT.md), the SQLite rows and the syslog line, so the three never disagree.

use serde::Serialize;

/// What the message is, in the vocabulary of the corpus format (FORMAT.md `kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A delivery failure report.
    Bounce,
    /// A delay warning: the original is still queued.
    Delayed,
    /// A success DSN (delivered, relayed, expanded).
    Delivered,
    /// An ARF / feedback-loop report.
    Complaint,
    /// RFC 3834 auto-reply, vacation, out-of-office, challenge-response.
    Autoreply,
    /// Anything else: human mail, newsletters.
    #[default]
    Other,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Bounce => "bounce",
            Kind::Delayed => "delayed",
            Kind::Delivered => "delivered",
            Kind::Complaint => "complaint",
            Kind::Autoreply => "autoreply",
            Kind::Other => "other",
        }
    }
}

/// RFC 3464 section 2.3.3 Action field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Failed,
    Delayed,
    Delivered,
    Relayed,
    Expanded,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Failed => "failed",
            Action::Delayed => "delayed",
            Action::Delivered => "delivered",
            Action::Relayed => "relayed",
            Action::Expanded => "expanded",
        }
    }

    /// Tolerant parse of an Action value ("failed", "Failed (permanent)", "delayed").
    pub fn parse(s: &str) -> Option<Action> {
        let s = s.trim().to_ascii_lowercase();
        let word = s
            .split(|c: char| !c.is_ascii_alphabetic())
            .next()
            .unwrap_or("");
        match word {
            "failed" | "failure" => Some(Action::Failed),
            "delayed" => Some(Action::Delayed),
            "delivered" => Some(Action::Delivered),
            "relayed" => Some(Action::Relayed),
            "expanded" => Some(Action::Expanded),
            _ => None,
        }
    }
}

/// The bounce reason vocabulary of corpus REASONS.md (Sisimai's names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Reason {
    AuthFailure,
    BadReputation,
    Blocked,
    ContentError,
    Delivered,
    ExceedLimit,
    Expired,
    Feedback,
    Filtered,
    HasMoved,
    HostUnknown,
    MailboxFull,
    MailerError,
    MesgTooBig,
    NetworkError,
    NoRelaying,
    NotAccept,
    NotCompliantRfc,
    OnHold,
    PolicyViolation,
    Rejected,
    RequirePtr,
    SecurityError,
    SpamDetected,
    Speeding,
    Suspend,
    SyntaxError,
    SystemError,
    SystemFull,
    TooManyConn,
    Undefined,
    UserUnknown,
    Vacation,
    VirusDetected,
}

impl Reason {
    /// Every reason, in the order of REASONS.md.
    pub const ALL: &'static [Reason] = &[
        Reason::AuthFailure,
        Reason::BadReputation,
        Reason::Blocked,
        Reason::ContentError,
        Reason::Delivered,
        Reason::ExceedLimit,
        Reason::Expired,
        Reason::Feedback,
        Reason::Filtered,
        Reason::HasMoved,
        Reason::HostUnknown,
        Reason::MailboxFull,
        Reason::MailerError,
        Reason::MesgTooBig,
        Reason::NetworkError,
        Reason::NoRelaying,
        Reason::NotAccept,
        Reason::NotCompliantRfc,
        Reason::OnHold,
        Reason::PolicyViolation,
        Reason::Rejected,
        Reason::RequirePtr,
        Reason::SecurityError,
        Reason::SpamDetected,
        Reason::Speeding,
        Reason::Suspend,
        Reason::SyntaxError,
        Reason::SystemError,
        Reason::SystemFull,
        Reason::TooManyConn,
        Reason::Undefined,
        Reason::UserUnknown,
        Reason::Vacation,
        Reason::VirusDetected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Reason::AuthFailure => "authfailure",
            Reason::BadReputation => "badreputation",
            Reason::Blocked => "blocked",
            Reason::ContentError => "contenterror",
            Reason::Delivered => "delivered",
            Reason::ExceedLimit => "exceedlimit",
            Reason::Expired => "expired",
            Reason::Feedback => "feedback",
            Reason::Filtered => "filtered",
            Reason::HasMoved => "hasmoved",
            Reason::HostUnknown => "hostunknown",
            Reason::MailboxFull => "mailboxfull",
            Reason::MailerError => "mailererror",
            Reason::MesgTooBig => "mesgtoobig",
            Reason::NetworkError => "networkerror",
            Reason::NoRelaying => "norelaying",
            Reason::NotAccept => "notaccept",
            Reason::NotCompliantRfc => "notcompliantrfc",
            Reason::OnHold => "onhold",
            Reason::PolicyViolation => "policyviolation",
            Reason::Rejected => "rejected",
            Reason::RequirePtr => "requireptr",
            Reason::SecurityError => "securityerror",
            Reason::SpamDetected => "spamdetected",
            Reason::Speeding => "speeding",
            Reason::Suspend => "suspend",
            Reason::SyntaxError => "syntaxerror",
            Reason::SystemError => "systemerror",
            Reason::SystemFull => "systemfull",
            Reason::TooManyConn => "toomanyconn",
            Reason::Undefined => "undefined",
            Reason::UserUnknown => "userunknown",
            Reason::Vacation => "vacation",
            Reason::VirusDetected => "virusdetected",
        }
    }

    pub fn parse(s: &str) -> Option<Reason> {
        let s = s.trim().to_ascii_lowercase();
        Reason::ALL.iter().copied().find(|r| r.as_str() == s)
    }
}

/// One reported recipient: the fields of corpus FORMAT.md plus what an admin needs to see why.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Recipient {
    /// Final recipient, lower-cased, no brackets, no `rfc822;`.
    pub address: String,
    /// The address originally mailed (Original-Recipient or the VERP-decoded envelope), when it differs.
    pub original: Option<String>,
    pub action: Option<Action>,
    /// RFC 3463 `X.Y.Z` exactly as the report carries it; never invented.
    pub status: Option<String>,
    /// 3-digit SMTP reply code.
    pub reply_code: Option<String>,
    pub reason: Option<Reason>,
    /// `Some(true)` only with positive evidence of a permanent address-level failure.
    pub hard: Option<bool>,
    /// Diagnostic text (Diagnostic-Code or the MTA's human-readable line), unfolded.
    pub diagnostic: Option<String>,
    /// Remote-MTA (or the host named in the text).
    pub remote_mta: Option<String>,
    /// Which rules decided, e.g. `status 5.1.1`, `phrase "user unknown"`.
    pub evidence: Vec<String>,
}

/// The verdict for one whole message.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Verdict {
    pub kind: Kind,
    pub recipients: Vec<Recipient>,
    /// ARF Feedback-Type for complaints (`abuse`, `fraud`, `auth-failure`, ...), lower-case.
    pub feedback_type: Option<String>,
    /// Name of the detector that decided: `arf`, `rfc3464`, `lhost/exim`, `rfc3834`, `none`.
    pub detector: String,
    /// Message-level evidence (why this kind).
    pub evidence: Vec<String>,
    /// Message-ID of the returned (original) message, when the report carries it.
    pub returned_message_id: Option<String>,
    /// Message-ID of the report itself.
    pub message_id: Option<String>,
    /// Subject of the report itself.
    pub subject: Option<String>,
    /// The SMTP command the remote server answered, where the format states it apart from
    /// the reply (m-FILTER's `SMTP command` section); read by the reason layer, not printed.
    #[serde(skip)]
    pub smtp_command: Option<String>,
}
