//! The last resort of the reason layer: the basic SMTP reply code (RFC 5321 section 4.2.3,
//! RFC 7504 for 521/556). Only codes whose RFC meaning names one cause are mapped; the
//! catch-alls (`550`, `554`, `450`) say nothing by themselves and map to no reason.

use crate::classify::verdict::Reason;

/// `(code, reason)`, sorted by code.
const CODES: &[(&str, Reason)] = &[
    ("421", Reason::TooManyConn), // RFC 5321 service not available, closing channel
    ("451", Reason::SystemError), // RFC 5321 local error in processing
    ("452", Reason::SystemFull),  // RFC 5321 insufficient system storage
    ("500", Reason::SyntaxError), // RFC 5321 syntax error, command unrecognized
    ("501", Reason::SyntaxError), // RFC 5321 syntax error in parameters or arguments
    ("502", Reason::SyntaxError), // RFC 5321 command not implemented
    ("503", Reason::SyntaxError), // RFC 5321 bad sequence of commands
    ("504", Reason::SyntaxError), // RFC 5321 command parameter not implemented
    ("521", Reason::NotAccept),   // RFC 7504 host does not accept mail
    ("551", Reason::HasMoved),    // RFC 5321 user not local; please try <forward-path>
    ("552", Reason::MailboxFull), // RFC 5321 exceeded storage allocation
    ("556", Reason::NotAccept),   // RFC 7504 domain does not accept mail
];

/// The reason a bare reply code states, if any.
pub fn reason(code: &str) -> Option<Reason> {
    CODES
        .binary_search_by(|(k, _)| k.cmp(&code.trim()))
        .ok()
        .map(|i| CODES[i].1)
}

/// A reply code at the very start of a diagnostic (`550 5.1.1 ...`, `550-5.7.1 ...`,
/// `smtp; 550 ...`), for reports that gave none in a field of its own.
pub fn leading(text: &str) -> Option<&str> {
    let t = text.trim_start();
    let t = t
        .strip_prefix("smtp;")
        .or_else(|| t.strip_prefix("SMTP;"))
        .unwrap_or(t)
        .trim_start();
    let code = t.get(..3)?;
    let next = t.as_bytes().get(3).copied();
    let ok = code.as_bytes()[0].is_ascii_digit()
        && matches!(code.as_bytes()[0], b'2' | b'4' | b'5')
        && code.bytes().all(|b| b.is_ascii_digit())
        && matches!(next, None | Some(b' ' | b'-' | b':'));
    ok.then_some(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted() {
        assert!(CODES.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn maps_and_finds() {
        assert_eq!(reason("552"), Some(Reason::MailboxFull));
        assert_eq!(reason("550"), None);
        assert_eq!(leading("smtp; 550-5.7.1 blocked"), Some("550"));
        assert_eq!(leading("5.1.1 user unknown"), None);
        assert_eq!(leading("4000 items"), None);
    }
}
