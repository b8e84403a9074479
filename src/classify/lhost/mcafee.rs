//! McAfee Email Gateway (formerly Secure Computing IronMail / WebShield) delivery reports:
//! `Delivery Status`, a text part `deliveryproblems.txt` with "--- The following addresses had
//! delivery problems ---" and `<user@domain>   (reason)` one a line, and a delivery-status part
//! that often has only `Original-Recipient` but the remote's full reply. The text is read
//! when that part is missing or names nobody.

use super::{Format, Parsed, scan, sendmail};
use crate::classify::message::Message;
use crate::classify::verdict::Kind;

pub const FORMAT: Format = Format {
    name: "mcafee",
    sniff,
    parse,
};

fn sniff(msg: &Message) -> bool {
    // seen in lhost-mcafee-01: "Subject: Delivery Status" from MAILER-DAEMON or Postmaster
    scan::header_lc(msg, "subject") == "delivery status" && scan::from_daemon(msg)
}

fn parse(msg: &Message) -> Option<Parsed> {
    let text = scan::report_text(msg);
    if !text
        .to_ascii_lowercase()
        .contains("the following addresses had delivery problems")
    {
        return None;
    }
    // Its delivery-status part carries the remote's full reply; the text only a summary.
    if scan::has_dsn(msg) {
        return None;
    }
    let recipients = sendmail::parse_text(text, false);
    if recipients.is_empty() {
        return None;
    }
    Some(Parsed {
        kind: Kind::Bounce,
        recipients,
        evidence: vec!["mcafee: addresses had delivery problems".into()],
        ..Parsed::default()
    })
}
