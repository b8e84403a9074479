//! SurfControl (Websense) E-mail Filter delivery failures (X-Mailer `SurfControl E-mail
//! Filter`): "Your message could not be sent. A transcript of the attempts to send the message
//! follows.", `Addressed To: user@domain`, then the attempt (`user@domain: [192.0.2.1], 554
//! Service currently unavailable`) and "--- Message non-deliverable.".

use super::{Format, Parsed, scan};
use crate::classify::message::Message;
use crate::classify::verdict::{Action, Kind, Recipient};

pub const FORMAT: Format = Format {
    name: "surfcontrol",
    sniff,
    parse,
};

fn sniff(msg: &Message) -> bool {
    // seen in lhost-surfcontrol-02
    scan::header_lc(msg, "x-mailer").contains("surfcontrol")
}

fn parse(msg: &Message) -> Option<Parsed> {
    let text = scan::report_text(msg);
    let mut recipients: Vec<Recipient> = Vec::new();
    for line in text.lines() {
        let t = line.trim();
        if let Some(v) = t.strip_prefix("Addressed To:") {
            if let Some(a) = scan::first_address(v) {
                recipients.push(scan::recipient(&a, Action::Failed, ""));
            }
        } else if let Some((head, reply)) = t.split_once(": ") {
            // "user@domain: [192.0.2.244], 554 Service currently unavailable"
            let Some(a) = (!head.contains(' '))
                .then(|| scan::first_address(head))
                .flatten()
            else {
                continue;
            };
            let diag = reply.split_once("], ").map_or(reply, |(_, r)| r);
            let mut r = scan::recipient(&a, Action::Failed, diag);
            r.remote_mta = reply
                .strip_prefix('[')
                .and_then(|x| x.split(']').next())
                .map(str::to_string);
            match recipients.iter_mut().rev().find(|x| x.address == a) {
                Some(x) if x.diagnostic.is_none() => *x = r,
                Some(_) => {}
                None => recipients.push(r),
            }
        }
    }
    scan::dedupe(&mut recipients);
    if recipients.is_empty() {
        return None;
    }
    Some(Parsed {
        kind: Kind::Bounce,
        recipients,
        evidence: vec!["surfcontrol: transcript of the attempts".into()],
        ..Parsed::default()
    })
}
