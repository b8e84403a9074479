//! fml, the Japanese mailing-list manager: its notices to a poster, sent from `LIST-admin@`,
//! about a message the list refused (`You ... are not member (LIST ML)`, `Loop Alert:
//! Duplicated Message-ID (LIST ML)`). The list address is what failed: the reported recipient.

use super::{Format, Parsed, scan};
use crate::classify::message::Message;
use crate::classify::verdict::{Action, Kind, Reason};

pub const FORMAT: Format = Format {
    name: "fml",
    sniff,
    parse,
};

/// Subjects of fml's refusals and what they state, lower-case substrings.
const NOTICES: &[(&str, Option<Reason>)] = &[
    ("are not member", Some(Reason::Rejected)), // seen in lhost-fml-02 (poster not a member)
    ("loop alert:", Some(Reason::SystemError)), // seen in lhost-fml-03 (duplicated Message-ID)
];

fn sniff(msg: &Message) -> bool {
    let from = scan::header_lc(msg, "from");
    let subject = scan::header_lc(msg, "subject");
    from.contains("-admin@") && subject.ends_with(" ml)")
}

fn parse(msg: &Message) -> Option<Parsed> {
    let subject = scan::header_lc(msg, "subject");
    let (_, reason) = NOTICES.iter().find(|(s, _)| subject.contains(s))?;
    let text = scan::report_text(msg);
    // The list address: "<list@domain>" in the text, else the admin address without -admin.
    let address = text
        .lines()
        .take(20)
        .find_map(|l| {
            let lt = l.find('<')?;
            let gt = l[lt..].find('>')?;
            scan::first_address(&l[lt..lt + gt])
        })
        .or_else(|| {
            scan::first_address(&scan::header_lc(msg, "from"))
                .map(|a| a.replacen("-admin@", "@", 1))
        })?;
    let first_line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    let mut r = scan::recipient(&address, Action::Failed, first_line);
    r.reason = *reason;
    if r.reason.is_some() {
        r.evidence.push(format!("fml notice \"{subject}\""));
    }
    Some(Parsed {
        kind: Kind::Bounce,
        recipients: vec![r],
        evidence: vec!["fml: list manager refusal".into()],
        ..Parsed::default()
    })
}
