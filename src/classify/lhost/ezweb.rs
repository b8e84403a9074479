//! au by KDDI (EZweb) mobile mail bounces: `From: Postmaster@ezweb.ne.jp`, `Subject: Mail
//! System Error - Returned Mail`, a Japanese preface (ISO-2022-JP) and English lines that name
//! the cause - "Each of the following recipients was rejected by a remote mail server.",
//! "The user(s) account is disabled.", "Your message was not delivered within 0 days and 1
//! hours." - with the addresses alone on a line (`<a@ezweb.ne.jp>`) or as "Recipient: <a@...>"
//! followed by the SMTP exchange (">>> RCPT TO:<...>", "<<< 550 <...>: User unknown"). Old
//! ones are plain text with the returned headers after a line of dashes; newer ones are
//! `multipart/mixed`, or `multipart/report` with a thin DSN (then `rfc3464` reads the fields).

use super::report::header_has;
use super::scan::{addresses_in, bounded, header_lc, recipient};
use super::{Format, Parsed};
use crate::classify::message::Message;
use crate::classify::verdict::{Action, Kind, Reason};

pub const FORMAT: Format = Format {
    name: "ezweb",
    sniff,
    parse,
};

/// au's mail domains (lower-case substrings).
const DOMAINS: &[&str] = &[
    "@au.com",
    "@ezweb.ne.jp", // seen in lhost-ezweb-01
];

/// Sentences that say the message was not delivered (lower-case substrings), with the reason
/// where EZweb's sentence names it; at least one must be present.
const FAILED: &[(&str, Option<Reason>)] = &[
    ("did not receive this message", None), // seen in lhost-ezweb-05
    ("each of the following recipients was rejected by", None), // seen in lhost-ezweb-01
    ("the user(s) account is", None),       // other states of the account, left to the reason layer
    ("the user(s) account is disabled", Some(Reason::Suspend)), // seen in lhost-ezweb-03
    ("was not delivered within", Some(Reason::Expired)), // seen in lhost-ezweb-05
];

fn sniff(msg: &Message) -> bool {
    let from = header_lc(msg, "from");
    (DOMAINS.iter().any(|d| from.contains(d)) && from.contains("postmaster"))
        || (header_has(msg, "subject", "mail system error - returned mail")
            && header_has(msg, "received", "ezweb.ne.jp"))
}

fn parse(msg: &Message) -> Option<Parsed> {
    let text = bounded(msg.body_text());
    let lower = text.to_ascii_lowercase();
    let (marker, _) = FAILED.iter().find(|(m, _)| lower.contains(m))?;
    let stated = FAILED
        .iter()
        .filter(|(m, _)| lower.contains(m))
        .find_map(|(m, r)| r.map(|r| (*m, r)));
    // (address, ">>> command", "<<< reply") per recipient, in order
    let mut blocks: Vec<(String, Option<&str>, Option<&str>)> = Vec::new();
    let mut sentences: Vec<&str> = Vec::new();
    for line in text.lines() {
        let t = line.trim();
        // the returned message's headers follow a rule of dashes (lhost-ezweb-01)
        if t.len() >= 20 && t.chars().all(|c| c == '-') {
            break;
        }
        let l = t.to_ascii_lowercase();
        if let Some(rest) = l.strip_prefix("recipient:") {
            blocks.extend(addresses_in(rest).into_iter().map(|a| (a, None, None)));
        } else if t.starts_with("<<<") {
            if let Some(b) = blocks.last_mut() {
                b.2.get_or_insert(t);
            }
        } else if t.starts_with(">>>") {
            if let Some(b) = blocks.last_mut() {
                b.1.get_or_insert(t);
            }
        } else if t.is_empty() || !t.is_ascii() {
        } else if t.starts_with('<') && t.ends_with('>') && !t.contains(' ') {
            blocks.extend(addresses_in(t).into_iter().map(|a| (a, None, None)));
        } else if sentences.len() < 8 {
            sentences.push(t);
        }
    }
    if blocks.is_empty() {
        // A thin DSN beside the text (lhost-ezweb-02): the addresses come from its fields.
        blocks = crate::classify::rfc3464::parse(msg)
            .map(|p| {
                p.recipients
                    .into_iter()
                    .map(|r| (r.address, None, None))
                    .collect()
            })
            .unwrap_or_default();
    }
    if blocks.is_empty() {
        return None;
    }
    let general = sentences.join(" ");
    let mut out = Parsed {
        kind: Kind::Bounce,
        evidence: vec![format!("ezweb sentence \"{marker}\"")],
        ..Parsed::default()
    };
    for (a, command, reply) in blocks {
        // Keep the SMTP exchange as EZweb prints it: ">>> RCPT TO:<a> <<< 550 ..." (lhost-ezweb-04).
        let diag = match reply {
            Some(r) => [command.unwrap_or(""), r].join(" "),
            None => general.clone(),
        };
        let mut r = recipient(&a, Action::Failed, &diag);
        if let Some((m, reason)) = stated {
            r.reason = Some(reason);
            r.evidence.push(format!("ezweb states \"{m}\""));
        }
        out.recipients.push(r);
    }
    Some(out)
}
