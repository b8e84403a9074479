//! OpenSMTPD's bounce and delay texts (`Delivery status notification: error` / `: warning`,
//! "This is the MAILER-DAEMON, please DO NOT REPLY to this e-mail."). Recipients follow "for
//! the following list of recipients:", one a line at column 0 as `user@domain: reason`
//! (`550 5.1.1 ...`, `Domain does not exist`, `Envelope expired`, `Network error on
//! destination MXs`), up to "Below is a copy of the original message:". A warning ("A message
//! is delayed for more than ...") is a delay, even the one that says the envelope expired.

use super::{Format, Parsed, scan};
use crate::classify::message::Message;
use crate::classify::verdict::{Action, Kind, Recipient};

pub const FORMAT: Format = Format {
    name: "opensmtpd",
    sniff,
    parse,
};

/// The end of the sentence before the list, lower-case; seen in lhost-opensmtpd-01 and -04
/// (where "the following" and "list of recipients:" sit on two lines).
const LIST_OPENER: &str = "list of recipients:";

/// Lines that end the list, lower-case prefixes; seen in lhost-opensmtpd-01 and -04.
const LIST_CLOSERS: &[&str] = &[
    "below is a copy of the original message",
    "please note that this is only a temporary failure report",
];

fn sniff(msg: &Message) -> bool {
    scan::header_lc(msg, "subject").starts_with("delivery status notification")
}

fn parse(msg: &Message) -> Option<Parsed> {
    let text = scan::bounded(msg.body_text());
    let lower = text.to_ascii_lowercase();
    if !lower.contains("this is the mailer-daemon") {
        return None;
    }
    let at = lower.find(LIST_OPENER)?;
    let list = &text[at..];
    let list = list.split_once('\n').map_or("", |(_, rest)| rest);
    let list = scan::cut_at(list, LIST_CLOSERS);
    let delayed = lower.contains("a message is delayed for more than")
        || scan::header_lc(msg, "subject").contains("warning");
    let action = if delayed {
        Action::Delayed
    } else {
        Action::Failed
    };
    let mut recipients: Vec<Recipient> = Vec::new();
    for line in list.lines() {
        if line.starts_with([' ', '\t']) {
            continue;
        }
        let Some((addr, reason)) = line.split_once(": ") else {
            continue;
        };
        let Some(a) = scan::first_address(addr).filter(|_| !addr.contains(' ')) else {
            continue;
        };
        recipients.push(scan::recipient(&a, action, reason));
    }
    scan::dedupe(&mut recipients);
    if recipients.is_empty() {
        return None;
    }
    Some(Parsed {
        kind: if delayed { Kind::Delayed } else { Kind::Bounce },
        recipients,
        evidence: vec!["opensmtpd: list of recipients".into()],
        ..Parsed::default()
    })
}
