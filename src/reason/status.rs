//! RFC 3463 enhanced status codes (and the later registrations of RFC 5248's IANA registry:
//! RFC 4954, 5248, 7293, 7372, 7505, 8689) read as a bounce reason. This is the third
//! source of evidence, after provider rules and diagnostic phrases, and before the bare SMTP
//! reply code. Codes whose detail says nothing (`X.0.0`, `X.1.0`, `X.3.0`, `X.5.0`) map to no
//! reason, so that a vague code never overrules a reply code that says more.

use crate::classify::verdict::Reason;

/// `(subject.detail, reason)`, sorted by the code string; the class digit (4 or 5) is
/// matched separately. Codes above 99 in the detail are provider-specific and live in
/// `rhost.rs`.
const CODES: &[(&str, Reason)] = &[
    ("1.1", Reason::UserUnknown), // RFC 3463 bad destination mailbox address
    ("1.10", Reason::NotAccept),  // RFC 7505 recipient address has null MX
    ("1.2", Reason::HostUnknown), // RFC 3463 bad destination system address
    ("1.3", Reason::UserUnknown), // RFC 3463 bad destination mailbox address syntax
    ("1.4", Reason::UserUnknown), // RFC 3463 destination mailbox address ambiguous
    ("1.6", Reason::HasMoved),    // RFC 3463 destination mailbox has moved
    ("1.7", Reason::Rejected),    // RFC 3463 bad sender's mailbox address syntax
    ("1.8", Reason::Rejected),    // RFC 3463 bad sender's system address
    ("2.0", Reason::Filtered),    // RFC 3463 other or undefined mailbox status
    ("2.1", Reason::Suspend),     // RFC 3463 mailbox disabled, not accepting messages
    ("2.2", Reason::MailboxFull), // RFC 3463 mailbox full
    ("2.3", Reason::ExceedLimit), // RFC 3463 message length exceeds administrative limit
    ("2.4", Reason::SystemError), // RFC 3463 mailing list expansion problem
    ("3.1", Reason::SystemFull),  // RFC 3463 mail system full
    ("3.2", Reason::TooManyConn), // RFC 3463 system not accepting network messages
    ("3.3", Reason::SystemError), // RFC 3463 system not capable of selected features
    ("3.4", Reason::MesgTooBig),  // RFC 3463 message too big for system
    ("3.5", Reason::SystemError), // RFC 3463 system incorrectly configured
    ("4.0", Reason::NetworkError), // RFC 3463 other or undefined network or routing status
    ("4.1", Reason::NetworkError), // RFC 3463 no answer from host
    ("4.2", Reason::NetworkError), // RFC 3463 bad connection
    ("4.3", Reason::SystemError), // RFC 3463 directory server failure
    ("4.4", Reason::HostUnknown), // RFC 3463 unable to route
    ("4.5", Reason::SystemFull),  // RFC 3463 mail system congestion
    ("4.6", Reason::NetworkError), // RFC 3463 routing loop detected
    ("4.7", Reason::Expired),     // RFC 3463 delivery time expired
    ("5.1", Reason::SyntaxError), // RFC 3463 invalid command
    ("5.2", Reason::SyntaxError), // RFC 3463 syntax error
    ("5.3", Reason::TooManyConn), // RFC 3463 too many recipients
    ("5.4", Reason::SyntaxError), // RFC 3463 invalid command arguments
    ("5.5", Reason::SyntaxError), // RFC 3463 wrong protocol version
    ("5.6", Reason::SyntaxError), // RFC 4954 authentication exchange line too long
    ("6.0", Reason::ContentError), // RFC 3463 other or undefined media error
    ("6.1", Reason::ContentError), // RFC 3463 media not supported
    ("6.2", Reason::ContentError), // RFC 3463 conversion required and prohibited
    ("6.3", Reason::ContentError), // RFC 3463 conversion required but not supported
    ("6.4", Reason::ContentError), // RFC 3463 conversion with loss performed
    ("6.5", Reason::ContentError), // RFC 3463 conversion failed
    ("6.6", Reason::ContentError), // RFC 4468 message content not available
    ("6.7", Reason::ContentError), // RFC 6531 non-ASCII addresses not permitted
    ("6.8", Reason::ContentError), // RFC 6531 UTF-8 string reply required
    ("6.9", Reason::ContentError), // RFC 6531 UTF-8 header not permitted
    ("7.0", Reason::SecurityError), // RFC 3463 other or undefined security status
    ("7.1", Reason::SecurityError), // RFC 3463 delivery not authorized, message refused
    ("7.10", Reason::SecurityError), // RFC 5248 encryption needed
    ("7.11", Reason::SecurityError), // RFC 4954 encryption required for auth mechanism
    ("7.12", Reason::SecurityError), // RFC 4954 a password transition is needed
    ("7.13", Reason::Suspend),    // RFC 5248 user account disabled
    ("7.14", Reason::SecurityError), // RFC 5248 trust relationship required
    ("7.15", Reason::PolicyViolation), // RFC 6710 priority level is too low
    ("7.16", Reason::MesgTooBig), // RFC 6710 message is too big for the priority
    ("7.17", Reason::HasMoved),   // RFC 7293 mailbox owner has changed
    ("7.18", Reason::HasMoved),   // RFC 7293 domain owner has changed
    ("7.2", Reason::PolicyViolation), // RFC 3463 mailing list expansion prohibited
    ("7.20", Reason::AuthFailure), // RFC 7372 no passing DKIM signature found
    ("7.21", Reason::AuthFailure), // RFC 7372 no acceptable DKIM signature found
    ("7.22", Reason::AuthFailure), // RFC 7372 no valid author-matched DKIM signature
    ("7.23", Reason::AuthFailure), // RFC 7372 SPF validation failed
    ("7.24", Reason::AuthFailure), // RFC 7372 SPF validation error
    ("7.25", Reason::RequirePtr), // RFC 7372 reverse DNS validation failed
    ("7.26", Reason::AuthFailure), // RFC 7372 multiple authentication checks failed
    ("7.27", Reason::Rejected),   // RFC 7505 sender address has null MX
    ("7.28", Reason::Speeding),   // IANA registry: mail flood detected
    ("7.29", Reason::AuthFailure), // RFC 8617 ARC validation failure
    ("7.3", Reason::SecurityError), // RFC 3463 security conversion required, not possible
    ("7.30", Reason::SecurityError), // RFC 8689 REQUIRETLS support required
    ("7.4", Reason::SecurityError), // RFC 3463 security features not supported
    ("7.5", Reason::SecurityError), // RFC 3463 cryptographic failure
    ("7.6", Reason::SecurityError), // RFC 3463 cryptographic algorithm not supported
    ("7.7", Reason::SecurityError), // RFC 3463 message integrity failure
    ("7.8", Reason::SecurityError), // RFC 4954 authentication credentials invalid
    ("7.9", Reason::SecurityError), // RFC 4954 authentication mechanism is too weak
];

/// A syntactically valid `class.subject.detail` code, split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Code<'a> {
    /// `2`, `4` or `5`.
    pub class: u8,
    /// `subject.detail`, e.g. `1.1`.
    pub rest: &'a str,
}

impl<'a> Code<'a> {
    /// Parse `5.1.1` (surrounding text such as ` (permanent failure)` must already be cut).
    pub fn parse(s: &'a str) -> Option<Code<'a>> {
        let s = s.trim();
        let mut parts = s.splitn(3, '.');
        let class = parts.next()?;
        let subject = parts.next()?;
        let detail = parts.next()?;
        let ok = |p: &str, max: usize| {
            !p.is_empty() && p.len() <= max && p.bytes().all(|b| b.is_ascii_digit())
        };
        if !matches!(class, "2" | "4" | "5") || !ok(subject, 3) || !ok(detail, 3) {
            return None;
        }
        Some(Code {
            class: class.as_bytes()[0] - b'0',
            rest: &s[2..],
        })
    }

    /// The detail carries no meaning of its own: `X.0.0`, `X.1.0`, `X.3.0`, `X.5.0`.
    pub fn is_vague(&self) -> bool {
        matches!(self.rest, "0.0" | "1.0" | "3.0" | "5.0")
    }

    pub fn is_temporary(&self) -> bool {
        self.class == 4
    }

    /// Subject 1, addressing status (RFC 3463 section 3.2), about the recipient's address:
    /// an unknown-user text under it is about that address. X.1.7 and X.1.8 speak of the
    /// sender's address and are left out.
    pub fn is_address_level(&self) -> bool {
        self.rest.starts_with("1.") && !matches!(self.rest, "1.7" | "1.8")
    }

    /// Subject 2, mailbox status: the address exists, its mailbox has a condition.
    pub fn is_mailbox_level(&self) -> bool {
        self.rest.starts_with("2.")
    }

    /// Subject 7, security or policy status: about the message or the sender.
    pub fn is_policy_level(&self) -> bool {
        self.rest.starts_with("7.")
    }
}

/// The first enhanced status code in free text (`550 5.1.1 <a@b>... User unknown`,
/// `(#5.4.4)`), for diagnostics whose report carried none in a Status field.
pub fn find_in(text: &str) -> Option<Code<'_>> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let boundary = i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'.');
        // Only failure classes: "2.5.1" in free text is more often a version number.
        if boundary && matches!(b, b'4' | b'5') && bytes.get(i + 1) == Some(&b'.') {
            let end = text[i..]
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .map_or(text.len(), |n| i + n);
            let cand = text[i..end].trim_end_matches('.');
            if let Some(code) = Code::parse(cand) {
                return Some(code);
            }
            i = end.max(i + 1);
            continue;
        }
        i += 1;
    }
    None
}

/// The reason an enhanced status code states, if its detail states one.
pub fn reason(code: &Code) -> Option<Reason> {
    if code.class == 2 {
        return Some(Reason::Delivered);
    }
    CODES
        .binary_search_by(|(k, _)| k.cmp(&code.rest))
        .ok()
        .map(|i| CODES[i].1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted() {
        assert!(
            CODES.windows(2).all(|w| w[0].0 < w[1].0),
            "CODES must stay sorted"
        );
    }

    #[test]
    fn parses_and_maps() {
        let c = Code::parse("5.1.1").unwrap();
        assert_eq!(reason(&c), Some(Reason::UserUnknown));
        assert_eq!(
            reason(&Code::parse("4.2.2").unwrap()),
            Some(Reason::MailboxFull)
        );
        assert_eq!(
            reason(&Code::parse("5.7.26").unwrap()),
            Some(Reason::AuthFailure)
        );
        assert_eq!(reason(&Code::parse("5.0.0").unwrap()), None);
        assert!(Code::parse("5.1").is_none());
        assert!(Code::parse("6.1.1").is_none());
        assert!(Code::parse("5.1.1x").is_none());
    }

    #[test]
    fn finds_codes_in_text() {
        assert_eq!(
            find_in("550 5.1.1 <a@example.com>... User unknown").map(|c| c.rest),
            Some("1.1")
        );
        assert_eq!(
            find_in("couldn't find a mail exchanger (#5.4.4)").map(|c| c.rest),
            Some("4.4")
        );
        assert_eq!(find_in("relay 192.0.2.5.1 said"), None);
        assert_eq!(find_in("no code here"), None);
        assert_eq!(find_in("MailServer 2.5.1 says no"), None);
    }
}
