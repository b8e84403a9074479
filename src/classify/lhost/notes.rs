//! Lotus Notes' SMTP MTA bounce (`Undeliverable message`): a `------- Failure Reasons
//! --------` section with the reason (often in the sender's language, e.g. Japanese "not in
//! the directory list") followed by the failed address alone on a line, then `-------
//! Returned Message --------`.

use super::{Format, Parsed, scan};
use crate::classify::message::Message;
use crate::classify::verdict::{Action, Kind, Recipient};

pub const FORMAT: Format = Format {
    name: "notes",
    sniff,
    parse,
};

/// Section marker; seen in lhost-notes-01.
const FAILURE_REASONS: &str = "------- failure reasons";

fn sniff(msg: &Message) -> bool {
    scan::header_lc(msg, "subject").starts_with("undeliverable message")
}

fn parse(msg: &Message) -> Option<Parsed> {
    let text = scan::report_text(msg);
    let section = scan::after_line(text, FAILURE_REASONS)?;
    let mut recipients: Vec<Recipient> = Vec::new();
    let mut reason: Vec<&str> = Vec::new();
    for line in section.lines() {
        let t = line.trim();
        if t.is_empty() {
            continue;
        }
        let address = (!t.contains(' ')).then(|| scan::first_address(t)).flatten();
        match address {
            Some(a) if !recipients.iter().any(|r| r.address == a) => {
                recipients.push(scan::recipient(&a, Action::Failed, &reason.join(" ")));
                reason.clear();
            }
            Some(_) => {}
            None => reason.push(t),
        }
    }
    if recipients.is_empty() {
        return None;
    }
    Some(Parsed {
        kind: Kind::Bounce,
        recipients,
        evidence: vec!["notes: failure reasons section".into()],
        ..Parsed::default()
    })
}
