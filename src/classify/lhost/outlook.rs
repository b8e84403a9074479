//! Hotmail / Outlook.com / MSN (and the Windows SMTP service they grew from) delivery status
//! notifications in their text form: "This is an automatically generated Delivery Status
//! Notification.", then "Delivery to the following recipients failed." (or "... has been
//! delayed.") with the addresses indented below. Their usual form adds a
//! `message/delivery-status` part, which `rfc3464` reads; this module reads the text when
//! that part is missing or unreadable.

use super::report::header_has;
use super::scan::{addresses_in, bounded, cut_at, header_lc, recipient};
use super::{Format, Parsed};
use crate::classify::message::Message;
use crate::classify::verdict::{Action, Kind};

pub const FORMAT: Format = Format {
    name: "outlook",
    sniff,
    parse,
};

/// Headings of the address list (lower-case substrings) and the action they mean.
const HEADINGS: &[(&str, Action)] = &[
    (
        "delivery to the following recipients failed",
        Action::Failed,
    ), // seen in lhost-outlook-01
    (
        "delivery to the following recipients has been delayed",
        Action::Delayed,
    ),
    (
        "delivery to the following recipients was delayed",
        Action::Delayed,
    ),
];

/// Microsoft's consumer mail domains (lower-case substrings of From).
const DOMAINS: &[&str] = &["hotmail.", "live.", "msn.com", "outlook."];

/// Where the returned message starts (lower-case line prefixes).
const RETURNED: &[&str] = &["----- original message -----", "original message headers:"];

fn sniff(msg: &Message) -> bool {
    let from = header_lc(msg, "from");
    (from.contains("postmaster@") && DOMAINS.iter().any(|d| from.contains(d)))
        || header_has(msg, "subject", "delivery status notification")
}

fn parse(msg: &Message) -> Option<Parsed> {
    if crate::classify::rfc3464::parse(msg).is_some() {
        return None;
    }
    let text = cut_at(bounded(msg.body_text()), RETURNED);
    let lower = text.to_ascii_lowercase();
    let (at, heading, action) = HEADINGS
        .iter()
        .filter_map(|(h, a)| lower.find(h).map(|at| (at, *h, *a)))
        .min_by_key(|(at, _, _)| *at)?;
    let mut addrs = Vec::new();
    let mut diag = Vec::new();
    for line in text[at..].lines().skip(1) {
        let t = line.trim();
        if t.is_empty() {
            if !addrs.is_empty() && !diag.is_empty() {
                break;
            }
            continue;
        }
        let found = addresses_in(t);
        if found.len() == 1 && !t.contains(' ') {
            addrs.extend(found);
        } else if !addrs.is_empty() {
            diag.push(t);
        }
    }
    if addrs.is_empty() {
        return None;
    }
    let diag = diag.join(" ");
    let mut out = Parsed {
        kind: if action == Action::Delayed {
            Kind::Delayed
        } else {
            Kind::Bounce
        },
        evidence: vec![format!("outlook heading \"{heading}\"")],
        ..Parsed::default()
    };
    for a in addrs {
        out.recipients.push(recipient(&a, action, &diag));
    }
    Some(out)
}
