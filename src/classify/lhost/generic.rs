//! The last resort for bounces of MTAs without a module of their own: a report from a mailer
//! daemon or postmaster (or with a bounce subject) whose human-readable text says delivery
//! failed. Each address the text names, other than the report's own sender and addressee, is
//! a recipient; its diagnostic is the line that names it and the lines that follow up to a
//! blank line. Status and reply code come from that diagnostic, else from the report text.
//! It never shadows a usable RFC 3464 part (the DSN parser handles those) and leaves
//! auto-replies alone.

use super::{Format, Parsed, scan};
use crate::classify::message::Message;
use crate::classify::verdict::{Action, Kind, Recipient};

pub const FORMAT: Format = Format {
    name: "generic",
    sniff,
    parse,
};

/// Subjects of bounces, lower-case substrings (several languages).
const SUBJECTS: &[&str] = &[
    "could not be delivered", // seen in lhost-trendmicro-02 ("Mail could not be delivered")
    "delivery failure",       // seen in lhost-x2-07
    "delivery has failed",    // seen in lhost-mailfoundry-01
    "delivery notification",  // "Delivery Notification: Delivery has failed"
    "delivery problem",       // "Delivery problems"
    "delivery status",        // seen in lhost-mcafee-01 ("Delivery Status")
    "failed delivery",        // "Failed delivery" / "failure delivery"
    "failure delivery",       // seen in lhost-x2-05
    "failure notice",         // qmail wording, used by many gateways
    "mail delivery failed",   // Exim wording, used by many gateways
    "mail failure",           // Exim 3 wording
    "mail system error",      // "Mail System Error - Returned Mail"
    "message not delivered",  // common wording
    "niet bezorgd",           // Dutch Exchange ("Onbestelbaar")
    "non recapitabile",       // Italian Exchange
    "non remis",              // French Exchange ("Non remis :")
    "nondeliverable",         // "Nondeliverable mail"
    "onbestelbaar",           // Dutch Exchange
    "returned mail",          // Sendmail wording, used by many gateways
    "undeliverable",          // Exchange and many gateways
    "undelivered mail",       // Postfix wording, used by many gateways
    "unzustellbar",           // German Exchange
    "warning: could not send message", // Sendmail delay warning
];

/// Sentences that say delivery failed, lower-case substrings of the report text.
const FAILURE_PHRASES: &[&str] = &[
    "cannot be delivered",            // Sun/Oracle Messaging Server, Yahoo! classic
    "could not be delivered",         // Exim, MailMarshal, many gateways
    "could not be reached",           // Exchange 5.5 "could not be reached"
    "couldn't be delivered",          // Office 365 wording
    "delivery failed",                // seen in lhost-x2-07
    "delivery has failed",            // Exchange 2007
    "delivery problems",              // "encountered delivery problems" (Exchange, McAfee)
    "delivery to the following",      // "Delivery to the following recipients failed"
    "did not reach",                  // Exchange 2003 "did not reach the following recipient(s)"
    "did not receive your message",   // "The following recipients did not receive your message"
    "failed permanently",             // Gmail wording
    "failed to deliver",              // common wording
    "konnte nicht zugestellt werden", // German ("Die Nachricht konnte nicht zugestellt werden")
    "n'a pas pu être remis",          // French ("Le message n'a pas pu être remis")
    "no se pudo entregar",            // Spanish ("El mensaje no se pudo entregar")
    "non è stato possibile recapitare", // Italian
    "permanent error",                // qmail, Exim
    "permanent failure",              // MailFoundry
    "rejected",                       // gateway notices ("rejected recipient")
    "unable to deliver",              // IMail, InterScan, Yahoo! classic
    "undeliverable",                  // Netscape "This Message was undeliverable"
    "unzustellbar",                   // German Exchange / gateways
    "was not delivered",              // Domino
    "wasn't able to deliver",         // qmail
];

/// Sentences that say the message is still queued (a delay warning), lower-case.
const DELAY_PHRASES: &[&str] = &[
    "delivery attempts will continue", // Exim warning, seen in lhost-exim-38
    "has not yet been delivered",      // Exim warning, seen in lhost-exim-38
    "no action is required on your part", // Exim warning, seen in lhost-exim-38
    "this is a warning only",          // Postfix "THIS IS A WARNING ONLY"
    "will be retried",                 // Exchange / Lotus delay notices
    "will continue trying",            // Exchange "will continue trying to deliver"
];

/// Local parts that name a mail system, not a recipient, when they send the report.
const SYSTEM_LOCALS: &[&str] = &["mailer-daemon", "postmaster"];

fn sniff(msg: &Message) -> bool {
    let subject = scan::header_lc(msg, "subject");
    scan::from_daemon(msg) || SUBJECTS.iter().any(|s| subject.contains(s))
}

fn parse(msg: &Message) -> Option<Parsed> {
    // Exim and others mark their bounces "Auto-Submitted: auto-replied" too: only a person's
    // auto-reply (not from a mailer daemon) is left to the RFC 3834 parser.
    if is_auto_reply(msg) && !scan::from_daemon(msg) {
        return None;
    }
    let text = scan::report_text(msg);
    let lower = text.to_ascii_lowercase();
    if !FAILURE_PHRASES.iter().any(|p| lower.contains(p)) {
        return returned_only(msg);
    }
    // Checked after the cheap text test: parsing a DSN of thousands of recipients is not free.
    if scan::has_dsn(msg) {
        return None;
    }
    let subject = scan::header_lc(msg, "subject");
    if !scan::from_daemon(msg) && !SUBJECTS.iter().any(|s| subject.contains(s)) {
        return None;
    }
    let delayed = DELAY_PHRASES.iter().any(|p| lower.contains(p))
        || subject.starts_with("warning")
        || subject.contains("delayed");
    let action = if delayed {
        Action::Delayed
    } else {
        Action::Failed
    };

    // The report's own parties are never the failed recipient.
    let mut own: Vec<String> = Vec::new();
    for name in ["from", "to", "cc", "reply-to", "return-path", "sender"] {
        for v in msg.headers_named(name) {
            own.extend(scan::addresses_in(v));
        }
    }
    // A single-part report without a marker runs straight into the returned headers.
    let text = scan::cut_at(text, RETURNED_HEADERS);
    let lines: Vec<&str> = text.lines().collect();
    let mut recipients: Vec<Recipient> = Vec::new();
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for (i, line) in lines.iter().enumerate() {
        if line.contains("://") && !line.contains('<') || is_header_line(line) {
            continue;
        }
        for addr in scan::addresses_in(line) {
            let local = addr.split('@').next().unwrap_or("");
            if own.contains(&addr) || SYSTEM_LOCALS.contains(&local) {
                continue;
            }
            if let Some(&k) = seen.get(&addr) {
                // Named again (a transcript's "<-- 550 5.1.1 <a@b>: ..." after "To: a@b"):
                // this line is the better diagnostic when the first one had no failure code.
                let r = &mut recipients[k];
                if r.status.is_none() && r.reply_code.is_none() {
                    let again = scan::recipient(&addr, action, line);
                    if again.reply_code.is_some() {
                        *r = again;
                    }
                }
                continue;
            }
            seen.insert(addr.clone(), recipients.len());
            let mut diag: Vec<&str> = std::iter::once(*line)
                .chain(
                    lines[i + 1..]
                        .iter()
                        .take(6)
                        .take_while(|l| !l.trim().is_empty())
                        .copied(),
                )
                .map(str::trim)
                .collect();
            // An address alone says nothing; Netscape/Sun put the reason in the paragraph
            // above it ("The user(s) account is temporarily over quota." then "<a@b>").
            let words = diag.join(" ").replace(&addr, "");
            if words.chars().filter(|c| c.is_alphabetic()).count() < 3 {
                let above: Vec<&str> = lines[..i]
                    .iter()
                    .rev()
                    .skip_while(|l| l.trim().is_empty())
                    .take_while(|l| !l.trim().is_empty())
                    .take(3)
                    .map(|l| l.trim())
                    .collect();
                diag = above.into_iter().rev().chain(diag).collect();
            }
            recipients.push(scan::recipient(&addr, action, &diag.join(" ")));
            if recipients.len() >= 50 {
                break;
            }
        }
    }
    // A status stated once for the whole report belongs to each recipient without one.
    let overall = scan::recipient("", action, text).status;
    for r in recipients.iter_mut().filter(|r| r.status.is_none()) {
        r.status.clone_from(&overall);
    }
    if recipients.is_empty() {
        for a in msg
            .header("x-failed-recipients")
            .map(scan::addresses_in)
            .unwrap_or_default()
        {
            recipients.push(scan::recipient(&a, action, ""));
        }
    }
    if recipients.is_empty() {
        return None;
    }
    Some(Parsed {
        kind: if delayed { Kind::Delayed } else { Kind::Bounce },
        recipients,
        evidence: vec!["generic: failure wording and addresses in the report text".into()],
        ..Parsed::default()
    })
}

/// A mailer daemon's report that says nothing readable but returns a message (nonbounce
/// msg_42: "Stuff" and a `message/rfc822` part from `Mail Delivery Subsystem`) is still a
/// bounce; the returned message's To names whom it was for. No reason can be told.
fn returned_only(msg: &Message) -> Option<Parsed> {
    let from = scan::header_lc(msg, "from");
    if !(from.contains("mailer-daemon") || from.contains("mail delivery")) {
        return None;
    }
    // Any delivery-status part is the DSN parser's to read.
    if msg
        .parts
        .iter()
        .any(|p| p.content_type.ends_with("delivery-status"))
    {
        return None;
    }
    let to = msg.returned_header("to")?;
    let recipients: Vec<Recipient> = scan::addresses_in(to)
        .into_iter()
        .take(5)
        .map(|a| scan::recipient(&a, Action::Failed, ""))
        .collect();
    if recipients.is_empty() {
        return None;
    }
    Some(Parsed {
        kind: Kind::Bounce,
        recipients,
        evidence: vec!["generic: mailer daemon returning a message, no readable reason".into()],
        ..Parsed::default()
    })
}

/// Lines that start the returned message's header block, lower-case prefixes.
const RETURNED_HEADERS: &[&str] = &["dkim-signature:", "received:", "return-path:"];

/// Header fields a report quotes from the returned message (`Message-id: <...>`, `From: ...`):
/// their addresses are the sender's or the message's, not the failed recipient's. Seen in
/// lhost-messagingserver-02.
const QUOTED_FIELDS: &[&str] = &[
    "date:",
    "from:",
    "in-reply-to:",
    "message-id:",
    "references:",
    "reply-to:",
    "return-path:",
    "sender:",
    "subject:",
];

fn is_header_line(line: &str) -> bool {
    let t = line.trim_start().to_ascii_lowercase();
    QUOTED_FIELDS.iter().any(|f| t.starts_with(f))
}

/// RFC 3834 marks on the report: an auto-reply is never a bounce, leave it to that parser.
fn is_auto_reply(msg: &Message) -> bool {
    let auto = scan::header_lc(msg, "auto-submitted");
    auto.starts_with("auto-replied")
        || msg.header("x-autoreply").is_some()
        || msg.header("x-autorespond").is_some()
}
