//! PowerMTA (Port25 / Bird) delivery reports: `Subject: Delivery report`, an RFC 3464
//! `message/delivery-status` part whose per-message block carries `X-PowerMTA-VirtualMTA`
//! and whose per-recipient blocks add PowerMTA's own verdict, `X-PowerMTA-BounceCategory:
//! bad-mailbox` (quota-issues, bad-domain, spam-related, ...). The fields are read by
//! `rfc3464`; this module adds the category, which PowerMTA states itself, as the reason.

use super::scan::header_lc;
use super::{Format, Parsed};
use crate::classify::fields;
use crate::classify::message::Message;
use crate::classify::verdict::Reason;

pub const FORMAT: Format = Format {
    name: "powermta",
    sniff,
    parse,
};

/// PowerMTA's bounce categories (its documented `bounce-category` names, lower-case) and the
/// reason each one states. Categories that do not name a cause (`other`, `bad-configuration`,
/// `routing-errors`) are left to the reason layer.
const CATEGORIES: &[(&str, Reason)] = &[
    ("bad-connection", Reason::NetworkError),
    ("bad-domain", Reason::HostUnknown),
    ("bad-mailbox", Reason::UserUnknown), // seen in lhost-powermta-01
    ("content-related", Reason::ContentError),
    ("inactive-mailbox", Reason::Suspend),
    ("invalid-sender", Reason::Rejected),
    ("message-expired", Reason::Expired),
    ("no-answer-from-host", Reason::NetworkError),
    ("policy-related", Reason::PolicyViolation),
    ("protocol-errors", Reason::SyntaxError),
    ("quota-issues", Reason::MailboxFull),
    ("relaying-issues", Reason::NoRelaying),
    ("spam-related", Reason::SpamDetected),
    ("virus-related", Reason::VirusDetected),
];

fn sniff(msg: &Message) -> bool {
    header_lc(msg, "subject").trim() == "delivery report"
        || msg
            .part("message/delivery-status")
            .is_some_and(|p| p.text.to_ascii_lowercase().contains("x-powermta-"))
}

fn parse(msg: &Message) -> Option<Parsed> {
    let dsn = msg.part("message/delivery-status")?;
    if !dsn.text.to_ascii_lowercase().contains("x-powermta-") {
        return None;
    }
    let mut out = crate::classify::rfc3464::parse(msg)?;
    out.evidence.push("powermta X-PowerMTA fields".into());
    // category of each Final-Recipient, in the DSN's own groups
    let mut categories: Vec<(String, String)> = Vec::new();
    for group in fields::parse_groups(&dsn.text) {
        let mut current: Option<String> = None;
        for (name, value) in &group {
            match name.as_str() {
                "final-recipient" => current = fields::address(value),
                "x-powermta-bouncecategory" => {
                    if let Some(a) = current.clone() {
                        categories.push((a, value.trim().to_ascii_lowercase()));
                    }
                }
                _ => {}
            }
        }
    }
    for r in &mut out.recipients {
        let Some((_, cat)) = categories.iter().find(|(a, _)| *a == r.address) else {
            continue;
        };
        r.evidence.push(format!("X-PowerMTA-BounceCategory: {cat}"));
        if let Some((_, reason)) = CATEGORIES.iter().find(|(c, _)| c == cat) {
            r.reason = Some(*reason);
        }
    }
    Some(out)
}
