//! KDDI au one net (`@dion.ne.jp`, `auone-net.jp`) bounces: `From: no-reply@<host>.dion.ne.jp`,
//! a Japanese line and the server's own English words - "Your mail sent on: <date>",
//! "Could not be delivered to: <a@example.jp>", "As their mailbox is full." - in a
//! `multipart/mixed` report with the returned message as `message/rfc822`.

use super::report::header_has;
use super::scan::{addresses_in, bounded, header_lc, recipient};
use super::{Format, Parsed};
use crate::classify::message::Message;
use crate::classify::verdict::{Action, Kind};

pub const FORMAT: Format = Format {
    name: "kddi",
    sniff,
    parse,
};

/// The line naming the address (lower-case prefix).
const DELIVERED_TO: &str = "could not be delivered to:"; // seen in lhost-kddi-01

/// KDDI's hosts (lower-case substrings of From / Received).
const HOSTS: &[&str] = &[
    ".dion.ne.jp",  // seen in lhost-kddi-01
    "auone-net.jp", // seen in lhost-kddi-01
];

fn sniff(msg: &Message) -> bool {
    let from = header_lc(msg, "from");
    HOSTS.iter().any(|h| from.contains(h))
        || HOSTS.iter().any(|h| header_has(msg, "received", h))
            && (from.contains("no-reply@") || from.contains("postmaster@"))
}

fn parse(msg: &Message) -> Option<Parsed> {
    let text = bounded(msg.body_text());
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Parsed {
        kind: Kind::Bounce,
        evidence: vec![format!("kddi line \"{DELIVERED_TO}\"")],
        ..Parsed::default()
    };
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim();
        if !t.to_ascii_lowercase().starts_with(DELIVERED_TO) {
            continue;
        }
        let Some(addr) = addresses_in(t).into_iter().next() else {
            continue;
        };
        let diag: Vec<&str> = lines[i + 1..]
            .iter()
            .map(|l| l.trim())
            .take_while(|l| !l.is_empty())
            .take(4)
            .collect();
        out.recipients
            .push(recipient(&addr, Action::Failed, &diag.join(" ")));
    }
    (!out.recipients.is_empty()).then_some(out)
}
