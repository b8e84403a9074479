//! The reason layer: interprets what the formats extracted (status code, SMTP reply code,
//! diagnostic text, remote host) as a `Reason` of corpus REASONS.md and decides `hard`.
//! Formats extract; this layer interprets. `hard` only with positive evidence.

use crate::classify::verdict::{Kind, Recipient};

/// What the reason layer may use besides the recipient's own fields.
#[derive(Debug, Clone, Copy, Default)]
pub struct Hints<'a> {
    /// Kind of the whole message (a `delayed` recipient is never hard).
    pub kind: Kind,
    /// Detector that extracted the recipient (`rfc3464`, `lhost/exim`, ...).
    pub detector: &'a str,
}

/// Fill `reason` and `hard` where the format left them `None`, appending evidence.
pub fn interpret(rcpt: &mut Recipient, hints: &Hints) {
    let _ = (rcpt, hints);
}
