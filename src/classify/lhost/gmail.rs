//! Gmail and Google Workspace bounces in their plain-text form (no `message/delivery-status`
//! part): `From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>`, a
//! "Delivery to the following recipient failed permanently:" (or "has been delayed:") heading
//! with the indented addresses, then "Technical details of permanent failure:" with the remote
//! server's reply, and the returned message after "----- Original message -----". The newer
//! wording ("Your message wasn't delivered to ... because", "The response from the remote
//! server was:") is read the same way. Google's DSN form is left to `rfc3464`.

use super::report::{failed_recipients, header_has, host_after, is_address_line};
use super::scan::{addresses_in, bounded, cut_at, header_lc, recipient};
use super::{Format, Parsed};
use crate::classify::message::Message;
use crate::classify::verdict::{Action, Kind};

pub const FORMAT: Format = Format {
    name: "gmail",
    sniff,
    parse,
};

/// Where Google starts quoting the returned message (lower-case line prefixes).
const RETURNED: &[&str] = &[
    "----- message header follows -----", // seen in older Gmail bounces
    "----- original message -----",       // seen in lhost-gmail-01
    "----- original message headers -----",
];

/// Headings before the failed addresses (lower-case substrings), with the action they mean.
const HEADINGS: &[(&str, Action)] = &[
    (
        "delivery to the following recipient failed permanently",
        Action::Failed,
    ), // seen in lhost-gmail-01
    (
        "delivery to the following recipient has been delayed",
        Action::Delayed,
    ), // seen in lhost-gmail-08
    (
        "delivery to the following recipients failed permanently",
        Action::Failed,
    ),
    (
        "delivery to the following recipients has been delayed",
        Action::Delayed,
    ),
    (
        "delivery to the following recipients have been delayed",
        Action::Delayed,
    ),
    ("delivery to the following recipient failed", Action::Failed),
    (
        "delivery to the following recipients failed",
        Action::Failed,
    ),
];

/// Sentences of the newer wording that name the address in the same line.
/// The first match wins, so the delayed wording precedes its failed counterpart.
const INLINE: &[(&str, Action)] = &[
    (
        "temporary problem delivering your message to ",
        Action::Delayed,
    ), // "** Delivery incomplete **"
    ("problem delivering your message to ", Action::Failed), // "** Message not delivered **"
    ("message wasn't delivered to ", Action::Failed),        // seen in rhost-gsuite-02
    ("message was not delivered to ", Action::Failed),
    ("message was not delivered to ", Action::Failed),
    ("message couldn't be delivered to ", Action::Failed),
    ("message hasn't been delivered to ", Action::Delayed),
    ("message has not been delivered to ", Action::Delayed),
];

/// Sentences saying Google keeps trying (lower-case substrings): a delay warning.
const RETRYING: &[&str] = &[
    "gmail will retry for",        // "** Delivery incomplete **" notices
    "message will be retried for", // seen in lhost-gmail-08
];

/// Lines that introduce the remote server's words (lower-case substrings).
const DETAILS: &[&str] = &[
    "technical details of permanent failure", // seen in lhost-gmail-01
    "technical details of temporary failure", // seen in lhost-gmail-17
    "the response from the remote server was",
    "the response was",
];

fn sniff(msg: &Message) -> bool {
    let from = header_lc(msg, "from");
    (from.contains("mailer-daemon@googlemail.com") || from.contains("mailer-daemon@google.com"))
        || (from.contains("mail delivery subsystem")
            && header_has(msg, "subject", "delivery status notification")
            && header_has(msg, "message-id", "google.com"))
}

fn parse(msg: &Message) -> Option<Parsed> {
    let text = cut_at(bounded(msg.body_text()), RETURNED);
    let lines: Vec<&str> = text.lines().collect();
    let mut found: Vec<(String, Action)> = Vec::new();
    let mut action = None;
    let mut evidence = Vec::new();
    // Google's own sentence about the failure ("Your message wasn't delivered to a@b because
    // the address couldn't be found. ..."). Not a statement of the cause: Google writes the
    // same words over "501 5.1.8 Sender address rejected" (rhost-gsuite-11) and "the domain
    // ... couldn't be found" over a Null MX or a DNS timeout (rhost-gsuite-03, -13).
    let mut sentence: Option<&str> = None;
    let mut i = 0;
    while i < lines.len() {
        let lower = lines[i].to_ascii_lowercase();
        if let Some((h, a)) = HEADINGS.iter().find(|(h, _)| lower.contains(h)) {
            action = Some(*a);
            evidence.push(format!("gmail heading \"{h}\""));
            let mut j = i + 1;
            while j < lines.len() {
                match is_address_line(lines[j]) {
                    Some(addr) => found.push((addr, *a)),
                    None if lines[j].trim().is_empty() => {}
                    None => break,
                }
                j += 1;
            }
            i = j;
            continue;
        }
        if let Some((p, a)) = INLINE.iter().find(|(p, _)| lower.contains(p)) {
            if let Some(at) = lower.find(p) {
                let tail = &lines[i][at + p.len()..];
                if let Some(addr) = addresses_in(tail).into_iter().next() {
                    action.get_or_insert(*a);
                    sentence.get_or_insert(lines[i].trim());
                    evidence.push(format!("gmail sentence \"{}\"", p.trim()));
                    found.push((addr, *a));
                }
            }
        }
        i += 1;
    }
    if found.is_empty() {
        let action = action?;
        for addr in failed_recipients(msg) {
            found.push((addr, action));
        }
        evidence.push("X-Failed-Recipients".into());
    }
    if found.is_empty() {
        return None;
    }
    let (diag, remote) = details(text);
    // Without the remote server's words, Google's own sentence is the diagnostic.
    let diag = diag.or_else(|| sentence.map(str::to_string));
    let lower = text.to_ascii_lowercase();
    let delayed = found.iter().all(|(_, a)| *a == Action::Delayed)
        || RETRYING.iter().any(|r| lower.contains(r));
    let mut out = Parsed {
        kind: if delayed { Kind::Delayed } else { Kind::Bounce },
        evidence,
        ..Parsed::default()
    };
    // One technical-details block serves every listed address; when it quotes some of them,
    // it is about those only (the others get no diagnostic rather than a borrowed one).
    let named: Vec<bool> = found
        .iter()
        .map(|(addr, _)| {
            diag.as_deref()
                .is_some_and(|d| d.to_ascii_lowercase().contains(addr.as_str()))
        })
        .collect();
    let any_named = named.iter().any(|n| *n);
    for ((addr, a), named) in found.into_iter().zip(named) {
        let a = if delayed { Action::Delayed } else { a };
        let own = if any_named && !named {
            None
        } else {
            diag.as_deref()
        };
        let mut r = recipient(&addr, a, own.unwrap_or(""));

        if remote.is_some() {
            r.remote_mta = remote.clone();
        }
        out.recipients.push(r);
    }
    Some(out)
}

/// The remote server's words: the text after a details heading, narrowed to what follows
/// "returned was:" when Google quotes the reply there; and the host Google names
/// ("rejected ... by mx.example.jp. [192.0.2.1]", lhost-gmail-01).
fn details(text: &str) -> (Option<String>, Option<String>) {
    let lower = text.to_ascii_lowercase();
    let Some(at) = DETAILS.iter().filter_map(|d| lower.find(d)).min() else {
        return (None, None);
    };
    let rest = &text[at..];
    let rest = rest.split_once(':').map(|(_, r)| r).unwrap_or(rest);
    let reply = match rest.to_ascii_lowercase().find("returned was:") {
        Some(p) => &rest[p + "returned was:".len()..],
        None => rest,
    };
    let remote = host_after(&rest[..rest.len() - reply.len()], " by ");
    let d = reply.trim();
    ((!d.is_empty()).then(|| d.to_string()), remote)
}
