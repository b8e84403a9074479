//! Microsoft Exchange 5.5 / 2000 / 2003 non-delivery reports (Internet Mail Service, Internet
//! Mail Connector), sent before Exchange wrote RFC 3464 reports: "Your message ... did not
//! reach the following recipient(s):", then one line per recipient, `user@domain on DATE`,
//! followed by indented reason lines and an `MSEXCH:IMS:...` / `MSEXCH:IMC:...` diagnostic
//! whose hexadecimal code (`(000C05A6)` unknown recipient) is the only precise evidence.

use super::{Format, Parsed, scan};
use crate::classify::message::Message;
use crate::classify::verdict::{Action, Kind, Recipient};

pub const FORMAT: Format = Format {
    name: "exchange2003",
    sniff,
    parse,
};

/// X-Mailer values of the Exchange connectors, lower-case substrings.
const MAILERS: &[&str] = &[
    "internet mail service", // seen in lhost-exchange2003-02 (Exchange 5.5)
    "microsoft exchange server internet mail", // seen in lhost-exchange2003-04 (IMC 4.0)
];

/// Sentences before the recipient list, lower-case substrings.
const LIST_OPENERS: &[&str] = &[
    "did not reach the following recipient(s):", // seen in lhost-exchange2003-02
    "the following recipient(s) could not be reached:", // seen in lhost-exchange2003-04
];

fn sniff(msg: &Message) -> bool {
    let mailer = scan::header_lc(msg, "x-mailer");
    MAILERS.iter().any(|m| mailer.contains(m))
        || scan::header_lc(msg, "subject").starts_with("undeliverable")
        || msg.header("x-ms-embedded-report").is_some()
        // seen in lhost-exchange2003-03: no X-Mailer, subject "E", From postmaster
        || scan::from_daemon(msg)
}

/// `user@domain on DATE` (the opening line of one recipient).
fn opening(line: &str) -> Option<String> {
    let t = line.trim();
    let (addr, _) = t.split_once(" on ")?;
    if addr.contains(' ') {
        return None;
    }
    scan::first_address(addr)
}

fn parse(msg: &Message) -> Option<Parsed> {
    let text = scan::report_text(msg);
    let lower = text.to_ascii_lowercase();
    let at = LIST_OPENERS.iter().filter_map(|o| lower.find(o)).min()?;
    let list = text[at..].split_once('\n').map_or("", |(_, r)| r);
    let mut recipients: Vec<Recipient> = Vec::new();
    for scan::Block {
        address: addr,
        lines,
        ..
    } in scan::blocks(list, opening)
    {
        let diag: Vec<&str> = lines
            .iter()
            .map(|l| l.trim())
            .filter(|l| !l.is_empty() && !l.to_ascii_lowercase().starts_with("the mts-id"))
            .collect();
        recipients.push(scan::recipient(&addr, Action::Failed, &diag.join(" ")));
    }
    scan::dedupe(&mut recipients);
    if recipients.is_empty() {
        return None;
    }
    Some(Parsed {
        kind: Kind::Bounce,
        recipients,
        evidence: vec!["exchange2003: did not reach the following recipient(s)".into()],
        ..Parsed::default()
    })
}
