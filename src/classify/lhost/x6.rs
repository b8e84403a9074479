//! An unidentified MTA ("We had trouble delivering your message. Full details follow:", subject
//! `There was an error sending your mail`): "N error(s):" then one sentence per failure, `SMTP
//! Server <host> rejected recipient <user@domain> (Error following RCPT command). It responded
//! as follows: [550 5.1.1 User unknown]`.

use super::{Format, Parsed, scan};
use crate::classify::message::Message;
use crate::classify::verdict::{Action, Kind, Recipient};

pub const FORMAT: Format = Format {
    name: "x6",
    sniff,
    parse,
};

fn sniff(msg: &Message) -> bool {
    // seen in lhost-x6-02
    scan::header_lc(msg, "subject").starts_with("there was an error sending your mail")
}

fn parse(msg: &Message) -> Option<Parsed> {
    let text = scan::report_text(msg);
    let mut recipients: Vec<Recipient> = Vec::new();
    for line in text.lines() {
        let lower = line.to_ascii_lowercase();
        let Some(p) = lower.find("rejected recipient") else {
            continue;
        };
        let Some(a) = scan::first_address(&line[p..]) else {
            continue;
        };
        let reply = line
            .find("responded as follows:")
            .map_or(line, |q| &line[q + "responded as follows:".len()..])
            .trim()
            .trim_start_matches('[')
            .trim_end_matches(']');
        let mut r = scan::recipient(&a, Action::Failed, reply);
        r.remote_mta = line
            .find("Server <")
            .and_then(|q| line[q + 8..].split('>').next())
            .map(str::to_ascii_lowercase);
        recipients.push(r);
    }
    if recipients.is_empty() {
        return None;
    }
    Some(Parsed {
        kind: Kind::Bounce,
        recipients,
        evidence: vec!["x6: rejected recipient".into()],
        ..Parsed::default()
    })
}
