//! Ipswitch IMail Server's bounce (`Undeliverable Mail`, X-Mailer `<SMTP32 vX>`): one line
//! `Reason: user@domain` per recipient ("Unknown user: ...", "User mailbox exceeds allowed
//! size: ...", "Delivery failed N attempts: ..."), or "undeliverable to user@domain" followed
//! by "Body of message generated response:" and the remote's reply, then "Original message
//! follows.".

use super::{Format, Parsed, scan};
use crate::classify::message::Message;
use crate::classify::verdict::{Action, Kind, Recipient};

pub const FORMAT: Format = Format {
    name: "imailserver",
    sniff,
    parse,
};

fn sniff(msg: &Message) -> bool {
    // seen in lhost-imailserver-01: "X-Mailer: <SMTP32 v990729>"
    scan::header_lc(msg, "x-mailer").starts_with("<smtp32 v")
}

fn parse(msg: &Message) -> Option<Parsed> {
    let text = scan::report_text(msg);
    let mut recipients: Vec<Recipient> = Vec::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let t = line.trim();
        let lower = t.to_ascii_lowercase();
        if let Some(rest) = lower.strip_prefix("undeliverable to ") {
            // The remote's reply follows "Body of message generated response:".
            let addr = match scan::first_address(rest) {
                Some(a) => a,
                None => continue,
            };
            let mut diag = Vec::new();
            for l in lines.by_ref() {
                let l = l.trim();
                if l.to_ascii_lowercase()
                    .starts_with("body of message generated response")
                {
                    continue;
                }
                if l.is_empty() && !diag.is_empty() {
                    break;
                }
                if !l.is_empty() {
                    diag.push(l);
                }
            }
            recipients.push(scan::recipient(&addr, Action::Failed, &diag.join(" ")));
        } else if let Some((reason, addr)) = t.rsplit_once(": ") {
            // Header lines of IMail's "Save to the following Address Book" block are not reasons.
            let header_like = [
                "to", "cc", "bcc", "from", "reply-to", "sender", "subject", "date",
            ]
            .contains(&reason.trim().to_ascii_lowercase().as_str());
            if header_like || reason.contains('@') || addr.contains(' ') {
                continue;
            }
            if let Some(a) = scan::first_address(addr) {
                recipients.push(scan::recipient(&a, Action::Failed, reason));
            }
        }
    }
    if recipients.is_empty() {
        return None;
    }
    Some(Parsed {
        kind: Kind::Bounce,
        recipients,
        evidence: vec!["imailserver: IMail reason lines".into()],
        ..Parsed::default()
    })
}
