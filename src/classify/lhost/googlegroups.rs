//! Google Groups refusals: Gmail's mailer-daemon answers a post to a group that does not exist
//! or does not let the sender post, in the sender's language, naming the group address only in
//! `X-Failed-Recipients` (the address in the greeting is the sender's own). Google's text
//! states the cause itself - the group refuses this sender ("you don't have permission to
//! post") - so the reason is set here as `rejected`. Tried before `gmail`.

use super::report::{failed_recipients, prefix};
use super::scan::header_lc;
use super::{Format, Parsed};
use crate::classify::message::Message;
use crate::classify::verdict::{Action, Kind, Reason, Recipient};

pub const FORMAT: Format = Format {
    name: "googlegroups",
    sniff,
    parse,
};

/// Marks of a Groups refusal in the report text (lower-case substrings).
const MARKS: &[&str] = &[
    "google groups", // seen in lhost-googlegroups-01 (signature, every language)
    "groups.google.com/support/", // seen in lhost-googlegroups-01
];

fn sniff(msg: &Message) -> bool {
    let from = header_lc(msg, "from");
    (from.contains("mailer-daemon@googlemail.com") || from.contains("mailer-daemon@google.com"))
        && msg.header("x-failed-recipients").is_some()
}

fn parse(msg: &Message) -> Option<Parsed> {
    let text = msg.body_text();
    let head = prefix(text, 8192).to_ascii_lowercase();
    let mark = MARKS.iter().find(|m| head.contains(*m))?;
    let recipients: Vec<Recipient> = failed_recipients(msg)
        .into_iter()
        .map(|address| Recipient {
            address,
            action: Some(Action::Failed),
            reason: Some(Reason::Rejected),
            evidence: vec![format!("google groups refusal \"{mark}\"")],
            ..Recipient::default()
        })
        .collect();
    if recipients.is_empty() {
        return None;
    }
    Some(Parsed {
        kind: Kind::Bounce,
        recipients,
        evidence: vec!["google groups: group missing or posting not permitted".into()],
        ..Parsed::default()
    })
}
