//! Trend Micro InterScan Messaging Security Suite (and InterScan VirusWall) notifications:
//! "Unable to deliver message to <user@domain> (and other recipients in the same domain).", or
//! the SMTP exchange it had (`Sent <<< RCPT TO:<user@domain>`, `Received >>> 550 5.1.1 ...`).

use super::{Format, Parsed, scan};
use crate::classify::message::Message;
use crate::classify::verdict::{Action, Kind, Recipient};

pub const FORMAT: Format = Format {
    name: "trendmicro",
    sniff,
    parse,
};

fn sniff(msg: &Message) -> bool {
    // seen in lhost-trendmicro-01 (From: "InterScan MSS") and -02 ("InterScan Notification")
    scan::header_lc(msg, "from").contains("interscan")
        || scan::header_lc(msg, "content-type").contains("interscan")
        || scan::header_lc(msg, "subject") == "mail could not be delivered"
}

fn parse(msg: &Message) -> Option<Parsed> {
    let text = scan::report_text(msg);
    let mut recipients: Vec<Recipient> = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        let t = line.trim();
        let lower = t.to_ascii_lowercase();
        if let Some(p) = lower.find("unable to deliver message to") {
            if let Some(a) = scan::first_address(&t[p..]) {
                if !recipients.iter().any(|r| r.address == a) {
                    recipients.push(scan::recipient(&a, Action::Failed, &t[p..]));
                }
            }
        } else if lower.starts_with("sent <<< rcpt to:") {
            current = scan::first_address(t);
        } else if let Some(reply) = t.strip_prefix("Received >>> ") {
            if let Some(a) = current.take() {
                if !recipients.iter().any(|r| r.address == a) {
                    recipients.push(scan::recipient(&a, Action::Failed, reply));
                }
            }
        }
    }
    if recipients.is_empty() {
        return None;
    }
    Some(Parsed {
        kind: Kind::Bounce,
        recipients,
        evidence: vec!["trendmicro: InterScan notification".into()],
        ..Parsed::default()
    })
}
