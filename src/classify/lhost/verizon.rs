//! Verizon Wireless (vtext.com SMS / vzwpix.com MMS gateways) bounces: `From:
//! post_master@vtext.com`, a short text "Error: Invalid user address", "Error message
//! below:" with the SMTP reply ("550 - Requested action not taken: no such user here"), and
//! "Message details:" where the envelope is repeated ("RCPT TO: a@vtext.com"); without that
//! block, the returned message's single To address.

use super::report::{any_body, header_has};
use super::scan::{addresses_in, bounded, header_lc, recipient};
use super::{Format, Parsed};
use crate::classify::message::Message;
use crate::classify::verdict::{Action, Kind};

pub const FORMAT: Format = Format {
    name: "verizon",
    sniff,
    parse,
};

/// Verizon's gateway domains (lower-case).
const DOMAINS: &[&str] = &[
    "vtext.com", // seen in lhost-verizon-02
    "vzwpix.com",
];

fn sniff(msg: &Message) -> bool {
    let from = header_lc(msg, "from");
    DOMAINS.iter().any(|d| from.contains(d))
        || (from.contains("verizon") && header_has(msg, "received", "verizon"))
}

fn parse(msg: &Message) -> Option<Parsed> {
    let text = bounded(any_body(msg));
    let mut error = None;
    let mut reply: Vec<&str> = Vec::new();
    let mut addrs: Vec<String> = Vec::new();
    let mut in_reply = false;
    for line in text.lines() {
        let t = line.trim();
        let l = t.to_ascii_lowercase();
        if l.starts_with("error message below:") {
            in_reply = true;
        } else if in_reply {
            if t.is_empty() {
                in_reply = false;
            } else {
                reply.push(t);
            }
        } else if let Some(rest) = l.strip_prefix("rcpt to:") {
            addrs.extend(addresses_in(rest));
        } else if l.starts_with("error:") {
            error.get_or_insert(t);
        }
    }
    if addrs.is_empty() && error.is_some() {
        // No envelope repeated: the returned message's To, when it names exactly one address.
        let to = msg
            .returned_header("to")
            .map(addresses_in)
            .unwrap_or_default();
        if to.len() == 1 {
            addrs = to;
        }
    }
    if addrs.is_empty() {
        return None;
    }
    let diag = match (reply.is_empty(), error) {
        (false, Some(e)) => format!("{} ({e})", reply.join(" ")),
        (true, Some(e)) => e.to_string(),
        _ => reply.join(" "),
    };
    let mut out = Parsed {
        kind: Kind::Bounce,
        evidence: vec!["verizon \"Error message below:\" / \"RCPT TO:\"".into()],
        ..Parsed::default()
    };
    for a in addrs {
        out.recipients.push(recipient(&a, Action::Failed, &diag));
    }
    Some(out)
}
