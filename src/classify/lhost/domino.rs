//! HCL/IBM Domino's bounce (`DELIVERY FAILURE: ...`, `DELIVERY FAILURE: User ... not listed in
//! Domino Directory`): "Your message ... was not delivered to: <address> because: <reason>".
//! Newer Domino adds a `message/delivery-status` part whose Status is 5.0.0 and whose
//! Final-Recipient can be the routed address; the text names the address the sender used, and
//! the DSN fills in what the text lacks.

use super::{Format, Parsed, scan};
use crate::classify::message::Message;
use crate::classify::verdict::{Action, Kind};

pub const FORMAT: Format = Format {
    name: "domino",
    sniff,
    parse,
};

fn sniff(msg: &Message) -> bool {
    // seen in lhost-domino-01 ("Subject: DELIVERY FAILURE: User ... not listed in")
    scan::header_lc(msg, "subject").starts_with("delivery failure:")
        || scan::header_lc(msg, "subject").starts_with("delivery report:")
}

fn parse(msg: &Message) -> Option<Parsed> {
    let text = scan::report_text(msg);
    let after = scan::after_line(text, "was not delivered to:")?;
    let mut lines = after.lines().map(str::trim).filter(|l| !l.is_empty());
    let address = scan::first_address(lines.next()?)?;
    let reason: Vec<&str> = match scan::after_line(after, "because:") {
        Some(b) => b
            .lines()
            .map(str::trim)
            .skip_while(|l| l.is_empty())
            .take_while(|l| !l.is_empty())
            .collect(),
        None => Vec::new(),
    };
    let mut recipients = vec![scan::recipient(&address, Action::Failed, &reason.join(" "))];
    scan::fill_single_from_dsn(msg, &mut recipients);
    Some(Parsed {
        kind: Kind::Bounce,
        recipients,
        evidence: vec!["domino: was not delivered to / because".into()],
        ..Parsed::default()
    })
}
