//! Active!hunter (a Japanese anti-spam gateway by Tokyo Network Laboratory): a Sendmail-like
//! report in a `multipart/report` without a delivery-status part, subject `FAILURE NOTICE :
//! ...`, boundary `------=_Active!Hunter_...`: "----- The following addresses had permanent
//! fatal errors -----", `>>> user@domain <user@domain>`, and a transcript with the reply.

use super::{Format, Parsed, scan, sendmail};
use crate::classify::message::Message;
use crate::classify::verdict::Kind;

pub const FORMAT: Format = Format {
    name: "activehunter",
    sniff,
    parse,
};

fn sniff(msg: &Message) -> bool {
    // seen in lhost-activehunter-01
    scan::header_lc(msg, "subject").starts_with("failure notice :")
        || scan::header_lc(msg, "content-type").contains("active!hunter")
}

fn parse(msg: &Message) -> Option<Parsed> {
    let recipients = sendmail::parse_text(scan::report_text(msg), false);
    if recipients.is_empty() {
        return None;
    }
    Some(Parsed {
        kind: Kind::Bounce,
        recipients,
        evidence: vec!["activehunter: permanent fatal errors list".into()],
        ..Parsed::default()
    })
}
