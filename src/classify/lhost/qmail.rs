//! qmail-send's bounce (`failure notice`, "Hi. This is the qmail-send program at ...") and the
//! derivatives that keep its layout: netqmail, notqmail, indimail, qmail-ldap, vpopmail, Plesk.
//! Each failed address stands alone on a line as `<user@domain>:`, followed by qmail's words
//! (`Sorry, no mailbox here by that name. (#5.1.1)`, `Sorry, I couldn't find any host named
//! example.com. (#5.1.2)`, `192.0.2.1 does not like recipient.` / `Remote host said: 550 ...`).
//! The `(#X.Y.Z)` code qmail appends is the status it carries, even a 4.x.x one on a message it
//! gave up on (`I'm not going to try again; this message has been in the queue too long.`).

use super::{Format, Parsed, scan};
use crate::classify::message::Message;
use crate::classify::verdict::{Action, Kind};

pub const FORMAT: Format = Format {
    name: "qmail",
    sniff,
    parse,
};

/// Opening lines of qmail-send's bounce, lower-case substrings of the report.
const OPENERS: &[&str] = &[
    "i'm afraid i wasn't able to deliver your message", // seen in lhost-qmail-01
    "this is the qmail-send program",                   // seen in lhost-qmail-01
    "this is the qmail-send program at",                // indimail, seen in lhost-qmail-20
];

fn sniff(msg: &Message) -> bool {
    let subject = scan::header_lc(msg, "subject");
    subject.contains("failure notice")
        || subject.contains("delivery failure")
        || msg
            .headers
            .iter()
            .any(|(n, v)| n == "received" && v.contains("qmail"))
        || scan::from_daemon(msg)
}

/// `<user@domain>:` alone on a line (qmail writes nothing else there).
fn opening(line: &str) -> Option<String> {
    let t = line.trim();
    let inner = t.strip_prefix('<')?.strip_suffix(">:")?;
    if inner.contains('@') && !inner.contains(' ') {
        Some(inner.to_ascii_lowercase())
    } else {
        None
    }
}

fn parse(msg: &Message) -> Option<Parsed> {
    let text = scan::report_text(msg);
    let lower = text.to_ascii_lowercase();
    let start = OPENERS.iter().filter_map(|o| lower.find(o)).min()?;
    let blocks = scan::blocks(&text[start..], opening);
    let recipients: Vec<_> = blocks
        .iter()
        .map(
            |scan::Block {
                 address: addr,
                 lines,
                 ..
             }| {
                // indimail prefixes "From: <sender> RCPT: <rcpt>" on the first line.
                let diag: Vec<&str> = lines
                    .iter()
                    .map(|l| {
                        match l
                            .find(" RCPT: <")
                            .and_then(|p| l[p..].find('>').map(|q| p + q + 1))
                        {
                            Some(end) if l.starts_with("From: ") => l[end..].trim(),
                            _ => l.trim(),
                        }
                    })
                    .collect();
                scan::recipient(addr, Action::Failed, &diag.join(" "))
            },
        )
        .collect();
    if recipients.is_empty() {
        return None;
    }
    Some(Parsed {
        kind: Kind::Bounce,
        recipients,
        evidence: vec!["qmail: qmail-send failure notice".into()],
        ..Parsed::default()
    })
}
