//! Postfix's human-readable bounce and delay texts (`Undelivered Mail Returned to Sender`,
//! `Delayed Mail (still being retried)`): the form Postfix sent before 2.3 and the text part
//! that fills gaps when the `message/delivery-status` part is missing or unusable. Each
//! recipient opens a line at column 0 as `<user@domain>: ...` or `<user@domain> (expanded from
//! <alias>): ...`, continued on lines indented by four spaces (`host mx[192.0.2.1] said: 550
//! 5.1.1 ... (in reply to RCPT TO command)`). Also the postmaster notice `Postfix SMTP server:
//! errors from ...`, whose session transcript (` In:  RCPT TO:<addr>`, ` Out: 451 4.3.0 ...`)
//! names the recipient and the reply Postfix gave.

use super::{Format, Parsed, scan};
use crate::classify::message::Message;
use crate::classify::verdict::{Action, Kind, Recipient};

pub const FORMAT: Format = Format {
    name: "postfix",
    sniff,
    parse,
};

/// Postfix's subjects, lower-case prefixes.
const SUBJECTS: &[&str] = &[
    "delayed mail (still being retried)", // Postfix delay warning (bounce.cf default)
    "postfix smtp server: errors from",   // seen in lhost-postfix-75 (notice to postmaster)
    "undelivered mail returned to sender", // seen in lhost-postfix-07
];

/// Sentences that open Postfix's report, lower-case substrings.
const OPENERS: &[&str] = &[
    "i'm sorry to have to inform you that the message returned", // seen in lhost-postfix-07
    "i'm sorry to have to inform you that your message could not", // Postfix 2.x
    "this is the mail system at host",                           // Postfix >= 2.3
    "this is the postfix program at host",                       // seen in lhost-postfix-34
];

fn sniff(msg: &Message) -> bool {
    let subject = scan::header_lc(msg, "subject");
    // Any mailer daemon too (translated subjects): the parse needs Postfix's own opening.
    SUBJECTS.iter().any(|s| subject.starts_with(s)) || scan::from_daemon(msg)
}

/// `<user@domain>: text` or `<user@domain> (expanded from <alias>): text` at column 0.
fn opening(line: &str) -> Option<String> {
    let rest = line.strip_prefix('<')?;
    let end = rest.find('>')?;
    let after = &rest[end + 1..];
    if !(after.starts_with(':') || after.starts_with(" (expanded from")) {
        return None;
    }
    scan::first_address(&rest[..end])
}

fn parse(msg: &Message) -> Option<Parsed> {
    if scan::header_lc(msg, "subject").starts_with("postfix smtp server: errors from") {
        return parse_transcript(msg);
    }
    let text = scan::report_text(msg);
    let lower = text.to_ascii_lowercase();
    let start = OPENERS.iter().filter_map(|o| lower.find(o)).min()?;
    // Checked after the cheap text test: parsing a DSN of thousands of recipients is not free.
    if scan::has_dsn(msg) {
        return None;
    }
    let delayed = lower.contains("this is a warning only")
        || scan::header_lc(msg, "subject").starts_with("delayed mail");
    let action = if delayed {
        Action::Delayed
    } else {
        Action::Failed
    };
    let section = scan::cut_at(&text[start..], &["reporting-mta:"]);
    let mut recipients: Vec<Recipient> = Vec::new();
    for scan::Block {
        address: addr,
        first,
        lines,
    } in scan::blocks(section, opening)
    {
        // The first line's own text follows "<addr>: " (or the expansion note).
        let first_text = first.find("):").map_or_else(
            || first.find(">:").map_or("", |p| &first[p + 2..]),
            |p| &first[p + 2..],
        );
        let expanded = first
            .find("(expanded from")
            .and_then(|p| scan::first_address(&first[p..]));
        let cont: Vec<&str> = lines
            .iter()
            .take_while(|l| l.starts_with(' ') || l.starts_with('\t'))
            .map(|l| l.trim())
            .collect();
        let diag = format!("{} {}", first_text.trim(), cont.join(" "));
        let mut r = scan::recipient(&addr, action, &diag);
        r.original = expanded.filter(|e| *e != r.address);
        recipients.push(r);
    }
    scan::dedupe(&mut recipients);
    if recipients.is_empty() {
        return None;
    }
    Some(Parsed {
        kind: if delayed { Kind::Delayed } else { Kind::Bounce },
        recipients,
        evidence: vec!["postfix: recipient lines of the bounce text".into()],
        ..Parsed::default()
    })
}

/// The SMTP session transcript of Postfix's notice to the postmaster: the recipients given in
/// `RCPT TO` and the last error reply (4xx/5xx) Postfix sent.
fn parse_transcript(msg: &Message) -> Option<Parsed> {
    if scan::has_dsn(msg) {
        return None;
    }
    let text = scan::report_text(msg);
    let mut rcpts: Vec<String> = Vec::new();
    let mut error: Option<String> = None;
    for line in text.lines() {
        let t = line.trim();
        if let Some(cmd) = t.strip_prefix("In:") {
            let cmd = cmd.trim();
            if cmd.to_ascii_lowercase().starts_with("rcpt to:") {
                let to = cmd[8..].split_whitespace().next().unwrap_or("");
                if let Some(a) = scan::first_address(to) {
                    rcpts.push(a);
                }
            }
        } else if let Some(reply) = t.strip_prefix("Out:") {
            let reply = reply.trim();
            if reply.starts_with('4') || reply.starts_with('5') {
                error = Some(reply.to_string());
            }
        }
    }
    let error = error?;
    let recipients: Vec<Recipient> = rcpts
        .iter()
        .map(|a| scan::recipient(a, Action::Failed, &error))
        .collect();
    if recipients.is_empty() {
        return None;
    }
    Some(Parsed {
        kind: Kind::Bounce,
        recipients,
        evidence: vec!["postfix: smtpd session transcript".into()],
        ..Parsed::default()
    })
}
