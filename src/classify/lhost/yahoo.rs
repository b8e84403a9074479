//! Yahoo! Mail (and AOL, Yahoo! JAPAN) bounces: `Subject: Failure Notice` from
//! `MAILER-DAEMON@yahoo.com`, a qmail-descended text: "Sorry, we were unable to deliver your
//! message to the following address.", then per recipient an `<address>:` line and the
//! remote host's reply ("Remote host said: 550 5.1.1 ... [RCPT_TO]"), then the returned
//! message after "--- Below this line is a copy of the message.". Tried before the generic
//! qmail reader, which would take the same text without the provider's marks.

use super::report::{header_has, is_address_line};
use super::scan::{bounded, cut_at, header_lc, recipient};
use super::{Format, Parsed};
use crate::classify::message::Message;
use crate::classify::verdict::{Action, Kind};

pub const FORMAT: Format = Format {
    name: "yahoo",
    sniff,
    parse,
};

/// Where the returned message starts (lower-case line prefixes).
const RETURNED: &[&str] = &[
    "--- below this line is a copy of the message", // seen in lhost-yahoo-01
];

/// The opening sentence of the report (lower-case).
const OPENING: &str = "sorry, we were unable to deliver your message"; // seen in lhost-yahoo-01

/// Headers only Yahoo's own systems add at the top of a bounce (lower-case names).
const YAHOO_HEADERS: &[&str] = &[
    "x-yahoo-newman-property", // seen in lhost-yahoo-03
    "x-yahoofilteredbulk",     // seen in lhost-yahoo-01
    "x-ymailisg",              // seen in lhost-yahoo-01
];

fn sniff(msg: &Message) -> bool {
    if !header_lc(msg, "subject").contains("failure notice") {
        return false;
    }
    header_lc(msg, "from").contains("yahoo")
        || header_has(msg, "received", "yahoo")
        || header_has(msg, "received", ".bullet.mail.")
        || msg
            .headers
            .iter()
            .any(|(n, _)| YAHOO_HEADERS.contains(&n.as_str()))
}

fn parse(msg: &Message) -> Option<Parsed> {
    let text = cut_at(bounded(msg.body_text()), RETURNED);
    let lower = text.to_ascii_lowercase();
    let start = lower.find(OPENING)?;
    let body = &text[start..];
    let mut blocks: Vec<(String, String)> = Vec::new();
    for line in body.lines().skip(1) {
        let t = line.trim();
        if t.starts_with('<') && t.ends_with(':') {
            if let Some(addr) = is_address_line(t) {
                blocks.push((addr, String::new()));
                continue;
            }
        }
        if let Some((_, diag)) = blocks.last_mut() {
            if !t.is_empty() {
                let t = t.strip_prefix("Remote host said:").unwrap_or(t).trim();
                diag.push_str(t);
                diag.push(' ');
            }
        }
    }
    if blocks.is_empty() {
        return None;
    }
    let mut out = Parsed {
        kind: Kind::Bounce,
        evidence: vec![format!("yahoo report \"{OPENING}\"")],
        ..Parsed::default()
    };
    for (addr, diag) in blocks {
        out.recipients.push(recipient(&addr, Action::Failed, &diag));
    }
    Some(out)
}
