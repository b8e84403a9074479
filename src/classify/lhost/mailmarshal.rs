//! Trustwave/Marshal MailMarshal SMTP's bounce (`Undeliverable Mail: "subject"`): "Could not
//! be delivered because of" with the reply, then "The following recipients were affected:"
//! with one indented address a line, then "Additional Information" (Remote-MTA etc.).

use super::{Format, Parsed, scan};
use crate::classify::message::Message;
use crate::classify::verdict::{Action, Kind, Recipient};

pub const FORMAT: Format = Format {
    name: "mailmarshal",
    sniff,
    parse,
};

fn sniff(msg: &Message) -> bool {
    // seen in lhost-mailmarshal-02
    scan::header_lc(msg, "subject").starts_with("undeliverable mail: ")
}

fn parse(msg: &Message) -> Option<Parsed> {
    let text = scan::report_text(msg);
    let because = scan::after_line(text, "could not be delivered because of")?;
    let reason: Vec<&str> = because
        .lines()
        .map(str::trim)
        .skip_while(|l| l.is_empty())
        .take_while(|l| !l.is_empty())
        .collect();
    let list = scan::after_line(because, "the following recipients were affected")?;
    let remote = list
        .lines()
        .find(|l| l.trim_start().starts_with("Remote-MTA:"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().trim_matches(['<', '>']).to_string());
    let mut recipients: Vec<Recipient> = Vec::new();
    for line in list.lines() {
        let t = line.trim();
        if t.is_empty() && !recipients.is_empty() {
            break;
        }
        if let Some(a) = (!t.contains(' ')).then(|| scan::first_address(t)).flatten() {
            let mut r = scan::recipient(&a, Action::Failed, &reason.join(" "));
            if remote.is_some() {
                r.remote_mta.clone_from(&remote);
            }
            recipients.push(r);
        }
    }
    if recipients.is_empty() {
        return None;
    }
    Some(Parsed {
        kind: Kind::Bounce,
        recipients,
        evidence: vec!["mailmarshal: recipients affected".into()],
        ..Parsed::default()
    })
}
