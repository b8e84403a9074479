//! An unidentified MTA of Japanese ISPs ("Mail Deliver System" <MAILER-DAEMON>, subjects
//! `Returned Mail: ...` and `Warning--Could not send mail for past N hours`): a Sendmail-like
//! text, "---The following addresses had delivery errors---", then `user@domain [reason]` one
//! a line. The warning subject marks a delay; the rest are failures.

use super::{Format, Parsed, scan, sendmail};
use crate::classify::message::Message;
use crate::classify::verdict::Kind;

pub const FORMAT: Format = Format {
    name: "x1",
    sniff,
    parse,
};

fn sniff(msg: &Message) -> bool {
    // seen in lhost-x1-01: From: "Mail Deliver System" (sic)
    scan::header_lc(msg, "from").contains("mail deliver system")
}

fn parse(msg: &Message) -> Option<Parsed> {
    let delayed = scan::header_lc(msg, "subject").starts_with("warning--");
    let recipients = sendmail::parse_text(scan::report_text(msg), delayed);
    if recipients.is_empty() {
        return None;
    }
    Some(Parsed {
        kind: if delayed { Kind::Delayed } else { Kind::Bounce },
        recipients,
        evidence: vec!["x1: following addresses had delivery errors".into()],
        ..Parsed::default()
    })
}
