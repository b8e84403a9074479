//! The bounce of the classic Yahoo! Mail platform, still sent by Yahoo! JAPAN and other hosts
//! of that software (`Delivery failure` / `failure delivery`, "Message from example.com.
//! Unable to deliver message to the following address(es)."). Each address opens a line as
//! `<user@domain>:`, followed by the reason ("This user doesn't have a example.com account",
//! "This account has been disabled or discontinued [#102].", "... [#4.1.9]."), up to "---
//! Original message follows.".

use super::{Format, Parsed, scan};
use crate::classify::message::Message;
use crate::classify::verdict::{Action, Kind, Recipient};

pub const FORMAT: Format = Format {
    name: "yahooclassic",
    sniff,
    parse,
};

/// The sentence before the list, lower-case; seen in lhost-x2-01.
const LIST_OPENER: &str = "unable to deliver message to the following address(es)";

fn sniff(msg: &Message) -> bool {
    let subject = scan::header_lc(msg, "subject");
    // Other subjects too when a mailer daemon sends it: the parse needs Yahoo's own sentence.
    subject == "delivery failure" || subject == "failure delivery" || scan::from_daemon(msg)
}

fn opening(line: &str) -> Option<String> {
    let inner = line.trim().strip_prefix('<')?.strip_suffix(">:")?;
    (!inner.contains(' '))
        .then(|| scan::first_address(inner))
        .flatten()
}

fn parse(msg: &Message) -> Option<Parsed> {
    let text = scan::report_text(msg);
    let lower = text.to_ascii_lowercase();
    let at = lower.find(LIST_OPENER)?;
    let mut recipients: Vec<Recipient> = Vec::new();
    for scan::Block {
        address: addr,
        lines,
        ..
    } in scan::blocks(&text[at..], opening)
    {
        let diag: Vec<&str> = lines.iter().map(|l| l.trim()).collect();
        let mut r = scan::recipient(&addr, Action::Failed, &diag.join(" "));
        // "[#102]" and "[0]" are Yahoo's own numbers, not reply codes.
        if r.reply_code.is_some() && !diag.iter().any(|l| l.starts_with(['4', '5'])) {
            r.reply_code = None;
        }
        recipients.push(r);
    }
    if recipients.is_empty() {
        return None;
    }
    Some(Parsed {
        kind: Kind::Bounce,
        recipients,
        evidence: vec!["yahooclassic: unable to deliver message to the following".into()],
        ..Parsed::default()
    })
}
