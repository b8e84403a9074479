//! MailFoundry gateway bounces (`Message delivery has failed`): "Unable to deliver message to:
//! <user@domain>", "Delivery failed for the following reason:" and the remote's words
//! (`Server mx[192.0.2.1] failed with: 550 ...`), then "This has been a permanent failure.".

use super::{Format, Parsed, scan};
use crate::classify::message::Message;
use crate::classify::verdict::{Action, Kind};

pub const FORMAT: Format = Format {
    name: "mailfoundry",
    sniff,
    parse,
};

fn sniff(msg: &Message) -> bool {
    // seen in lhost-mailfoundry-01
    scan::header_lc(msg, "subject") == "message delivery has failed"
}

fn parse(msg: &Message) -> Option<Parsed> {
    let text = scan::report_text(msg);
    let after = scan::after_line(text, "unable to deliver message to:")?;
    let line = text[..text.len() - after.len()].lines().last()?;
    let address = scan::first_address(line)?;
    let reason =
        scan::after_line(after, "delivery failed for the following reason").unwrap_or(after);
    let reason = scan::cut_at(reason, &["this has been a permanent failure"]);
    let r = scan::recipient(&address, Action::Failed, reason);
    Some(Parsed {
        kind: Kind::Bounce,
        recipients: vec![r],
        evidence: vec!["mailfoundry: unable to deliver message to".into()],
        ..Parsed::default()
    })
}
