//! Zoho Mail bounces (`From: mailer-daemon@mail.zoho.com`, `X-Mailer: Zoho Mail`): one line
//! per failed address, "a@example.jp Invalid Address, ERROR_CODE :550, ERROR_CODE :5.2.1
//! <a@example.jp>... User Unknown", and for a delay warning ("Mail Delivery Status
//! Notification (Delay)", "THIS IS A WARNING MESSAGE ONLY") a bracketed line "[Status:
//! Error, Address: <a@example.jp>, ResponseCode 421, , Host not reachable.]" with "Message
//! will be retried for 4 more day(s)". The returned message's headers follow directly.

use super::report::header_has;
use super::scan::{addresses_in, bounded, header_lc, recipient};
use super::{Format, Parsed};
use crate::classify::message::Message;
use crate::classify::verdict::{Action, Kind};

pub const FORMAT: Format = Format {
    name: "zoho",
    sniff,
    parse,
};

/// Sentences meaning the message is still queued (lower-case substrings).
const DELAYED: &[&str] = &[
    "message will be retried for", // seen in lhost-zoho-04
    "this is a warning message only",
];

fn sniff(msg: &Message) -> bool {
    header_lc(msg, "from").contains("@mail.zoho.")
        || header_has(msg, "x-mailer", "zoho mail")
        || msg.header("x-zohomail").is_some()
}

fn parse(msg: &Message) -> Option<Parsed> {
    let text = bounded(msg.body_text());
    let lower = text.to_ascii_lowercase();
    let delayed = DELAYED.iter().any(|d| lower.contains(d));
    let action = if delayed {
        Action::Delayed
    } else {
        Action::Failed
    };
    let mut out = Parsed {
        kind: if delayed { Kind::Delayed } else { Kind::Bounce },
        evidence: Vec::new(),
        ..Parsed::default()
    };
    for line in text.lines() {
        let t = line.trim();
        let l = t.to_ascii_lowercase();
        // "a@b Invalid Address, ERROR_CODE :550, ERROR_CODE :5.2.1 ..." (lhost-zoho-02)
        if let Some(at) = l.find(", error_code :") {
            let head = &t[..at];
            let Some(addr) = head
                .split_whitespace()
                .next()
                .and_then(|w| addresses_in(w).pop())
            else {
                continue;
            };
            let label = head.split_once(' ').map(|(_, l)| l.trim()).unwrap_or("");
            let diag = t[at..]
                .split(", ERROR_CODE :")
                .map(|f| f.trim().trim_start_matches(',').trim())
                .filter(|f| !f.is_empty())
                .collect::<Vec<_>>()
                .join(" ");
            let mut r = recipient(&addr, action, &diag);
            r.evidence.push(format!("zoho label \"{label}\""));
            out.recipients.push(r);
            out.evidence.push("zoho line \"ERROR_CODE\"".into());
        // "[Status: Error, Address: <a@b>, ResponseCode 421, , Host not reachable.]" (lhost-zoho-04)
        } else if l.starts_with("[status:") && l.contains("address:") {
            let Some(addr) = addresses_in(t).into_iter().next() else {
                continue;
            };
            let diag = t
                .trim_matches(['[', ']'])
                .split(',')
                .filter(|f| {
                    let f = f.trim().to_ascii_lowercase();
                    !f.is_empty() && !f.starts_with("status:") && !f.starts_with("address:")
                })
                .map(|f| f.trim().trim_start_matches("ResponseCode").trim())
                .collect::<Vec<_>>()
                .join(" ");
            out.recipients.push(recipient(&addr, action, &diag));
            out.evidence
                .push("zoho line \"[Status: ..., Address: ...]\"".into());
        }
    }
    out.evidence.dedup();
    (!out.recipients.is_empty()).then_some(out)
}
