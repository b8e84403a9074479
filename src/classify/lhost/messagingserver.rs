//! Oracle Communications (Sun Java System, iPlanet) Messaging Server reports: "This report
//! relates to a message you sent with the following header fields:", then "Your message cannot
//! be delivered to the following recipients:" (or "... has been delayed ..."), and one indented
//! block per recipient: `Recipient address:`, `Original address:`, `Reason:`, `Diagnostic
//! code: smtp;550 ...`, `Remote system: dns;host (...)`. The `Recipient address` can be a
//! routed form (`@relay:user@host`); the `Original address` is the one the sender used.

use super::{Format, Parsed, scan};
use crate::classify::message::Message;
use crate::classify::verdict::{Action, Kind, Recipient};

pub const FORMAT: Format = Format {
    name: "messagingserver",
    sniff,
    parse,
};

/// The report's opening, lower-case; seen in lhost-messagingserver-02.
const OPENER: &str = "this report relates to a message you sent";

/// Sentences of the delay warning, lower-case; seen in lhost-messagingserver-07.
const DELAY_WORDINGS: &[&str] = &["has been delayed", "has been enqueued and undeliverable"];

fn sniff(msg: &Message) -> bool {
    // seen in lhost-messagingserver-01: boundary "Boundary_(ID_...)", subjects "Delivery
    // Notification: Delivery has failed" / "Delivery Notification: Delivery has been delayed"
    scan::header_lc(msg, "content-type").contains("boundary_(id_")
        || scan::header_lc(msg, "subject").starts_with("delivery notification:")
}

/// The value after `name:` on a line of a recipient block.
fn field<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    let t = line.trim();
    let (n, v) = t.split_once(':')?;
    n.eq_ignore_ascii_case(name).then(|| v.trim())
}

fn parse(msg: &Message) -> Option<Parsed> {
    let text = scan::report_text(msg);
    let lower = text.to_ascii_lowercase();
    if !lower.contains(OPENER) {
        return None;
    }
    // "Your message has been enqueued and undeliverable for 1 day" is a delay warning
    // (subject "Delivery has been delayed", Action: delayed; lhost-messagingserver-07).
    let delayed = scan::header_lc(msg, "subject").contains("has been delayed")
        || DELAY_WORDINGS.iter().any(|w| lower.contains(w));
    let action = if delayed {
        Action::Delayed
    } else {
        Action::Failed
    };
    let mut recipients: Vec<Recipient> = Vec::new();
    for b in scan::blocks(text, |l| field(l, "recipient address").map(str::to_string)) {
        let mut original = None;
        let mut reason = "";
        let mut diagnostic = "";
        let mut remote = None;
        for l in b.lines.iter().take_while(|l| !l.trim().is_empty()) {
            if let Some(v) = field(l, "original address") {
                original = scan::first_address(v);
            } else if let Some(v) = field(l, "reason") {
                reason = v;
            } else if let Some(v) = field(l, "diagnostic code") {
                diagnostic = v;
            } else if let Some(v) = field(l, "remote system") {
                remote = v
                    .trim_start_matches("dns;")
                    .split_whitespace()
                    .next()
                    .map(str::to_ascii_lowercase);
            }
        }
        // "@relay:user@host" is a route to the mailbox; the original address names it.
        let routed = b.address.starts_with('@');
        let address = match (&original, routed) {
            (Some(o), true) => o.clone(),
            _ => b.address.trim_start_matches('@').to_string(),
        };
        let diag = if diagnostic.is_empty() {
            reason.to_string()
        } else {
            format!("{} {reason}", diagnostic.trim_start_matches("smtp;"))
        };
        let mut r = scan::recipient(&address, action, &diag);
        r.original = original.filter(|o| *o != r.address);
        if remote.is_some() {
            r.remote_mta = remote;
        }
        recipients.push(r);
    }
    scan::dedupe(&mut recipients);
    if recipients.is_empty() {
        return None;
    }
    Some(Parsed {
        kind: if delayed { Kind::Delayed } else { Kind::Bounce },
        recipients,
        evidence: vec!["messagingserver: recipient address blocks".into()],
        ..Parsed::default()
    })
}
