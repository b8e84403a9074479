//! Sendmail's human-readable bounce text (`Returned mail: ...`, `Warning: could not send message
//! for past N hours`), for the bounces that carry no usable `message/delivery-status` part:
//! Sendmail 5 and other pre-DSN versions, DSN-less configurations, and bounces forwarded by a
//! person (`> ` quoted). Two sections matter: `----- The following addresses had permanent
//! fatal errors -----` (or `transient non-fatal errors` in a delay warning), one address a line
//! with an optional `(reason: ...)`, and `----- Transcript of session follows -----`, where
//! `... while talking to HOST:`, `>>> RCPT To:<addr>` and `<<< 550 ...` show the remote's reply,
//! and `550 5.1.1 <addr>... User unknown` Sendmail's own verdict. Sendmail 5 has only the
//! transcript, with lines such as `554 <addr>... 550 Host unknown`.

use super::{Format, Parsed, scan};
use crate::classify::message::Message;
use crate::classify::verdict::{Action, Kind, Recipient};

pub const FORMAT: Format = Format {
    name: "sendmail",
    sniff,
    parse,
};

/// Subjects of Sendmail's bounces and warnings, lower-case substrings.
const SUBJECTS: &[&str] = &[
    "could not send message for past", // Sendmail delay warning ("Warning: could not send ...")
    "returned mail:",                  // seen in lhost-v5sendmail-01, lhost-sendmail-14 (Fwd:)
];

/// Section headings of Sendmail's text, lower-case; seen in lhost-v5sendmail-01, lhost-x1-01.
const SECTIONS: &[&str] = &[
    "the following addresses had",
    "transcript of session follows",
];

fn sniff(msg: &Message) -> bool {
    let subject = scan::header_lc(msg, "subject");
    // Any mailer daemon too: the parse needs Sendmail's own section markers.
    SUBJECTS.iter().any(|s| subject.contains(s))
        || scan::header_lc(msg, "from").contains("mail delivery subsystem")
        || scan::from_daemon(msg)
}

fn parse(msg: &Message) -> Option<Parsed> {
    let text = scan::report_text(msg);
    let lower = text.to_ascii_lowercase();
    let wrapped = msg
        .parts
        .iter()
        .any(|p| p.depth > 0 && p.content_type == "message/delivery-status");
    if !wrapped && !SECTIONS.iter().any(|s| lower.contains(s)) {
        return None;
    }
    // Checked after the cheap text test: parsing a DSN of thousands of recipients is not free.
    if scan::has_dsn(msg) {
        return None;
    }
    let delayed = scan::header_lc(msg, "subject").contains("could not send message for past")
        || text
            .to_ascii_lowercase()
            .contains("transient non-fatal errors");
    let mut recipients = parse_text(text, delayed);
    if recipients.is_empty() {
        recipients = wrapped_dsn(msg);
    }
    if recipients.is_empty()
        && text
            .to_ascii_lowercase()
            .contains("transcript of session follows")
    {
        // Sendmail 5 names only the host when a connection failed ("421 example.com
        // (smtp)... Deferred: Connection timed out", lhost-v5sendmail-01): the unsent
        // message's single To is whom it was for.
        let to = scan::inline_returned_header(msg, "to")
            .or_else(|| msg.returned_header("to").map(str::to_string))
            .map(|t| scan::addresses_in(&t))
            .unwrap_or_default();
        if let [only] = to.as_slice() {
            let diag = scan::after_line(text, "transcript of session follows").unwrap_or("");
            recipients.push(scan::recipient(only, action_of(delayed), diag));
        }
    }
    if recipients.is_empty() {
        return None;
    }
    // A DSN part whose recipient lacks a local part (lhost-sendmail-15) still has the status.
    scan::fill_single_from_dsn(msg, &mut recipients);
    Some(Parsed {
        kind: if delayed { Kind::Delayed } else { Kind::Bounce },
        recipients,
        evidence: vec!["sendmail: address list / session transcript".into()],
        ..Parsed::default()
    })
}

fn action_of(delayed: bool) -> Action {
    if delayed {
        Action::Delayed
    } else {
        Action::Failed
    }
}

/// A Sendmail DSN returned inside a gateway's own notice (a `message/rfc822` part whose
/// delivery-status names the recipients; seen in lhost-x5-01, wrapped by a Trend Micro relay
/// whose text lists no address).
fn wrapped_dsn(msg: &Message) -> Vec<Recipient> {
    msg.parts
        .iter()
        .filter(|p| p.depth > 0 && p.content_type == "message/delivery-status")
        .flat_map(|p| crate::classify::rfc3464::parse_fields(&p.text))
        .filter(|r| r.address.contains('@'))
        .collect()
}

/// `NNN [X.Y.Z] <addr>... text`: Sendmail's own verdict on one address. Returns the address and
/// the text after `... `.
fn verdict_line(line: &str) -> Option<(String, String)> {
    let mut words = line.split_whitespace();
    let code = words.next()?;
    if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let dots = line
        .find("... ")
        .or_else(|| line.strip_suffix("...").map(str::len))?;
    let head = &line[..dots];
    let addr = scan::first_address(head.rsplit(' ').next().unwrap_or(""))?;
    let rest = line.get(dots + 4..).unwrap_or("").trim();
    Some((addr, rest.to_string()))
}

/// Strip one level of `>` quoting when the whole report was forwarded by a person.
fn unquote(text: &str) -> String {
    let quoted = text
        .lines()
        .find(|l| {
            l.to_ascii_lowercase()
                .contains("the following addresses had")
        })
        .is_some_and(|l| l.trim_start().starts_with('>'));
    if !quoted {
        return text.to_string();
    }
    text.lines()
        .map(|l| {
            let l = l.strip_prefix('>').unwrap_or(l);
            l.strip_prefix(' ').unwrap_or(l)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The recipients named in a Sendmail-style report text.
pub(crate) fn parse_text(text: &str, delayed: bool) -> Vec<Recipient> {
    let text = unquote(text);
    let action = if delayed {
        Action::Delayed
    } else {
        Action::Failed
    };
    // address, list reason, transcript verdict, remote reply, remote host
    struct Entry {
        addr: String,
        reason: String,
        verdict: String,
        reply: String,
        host: Option<String>,
        original: Option<String>,
    }
    let mut entries: Vec<Entry> = Vec::new();
    let mut index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    fn entry<'e>(
        entries: &'e mut Vec<Entry>,
        index: &mut std::collections::HashMap<String, usize>,
        addr: &str,
    ) -> &'e mut Entry {
        if let Some(&i) = index.get(addr) {
            return &mut entries[i];
        }
        index.insert(addr.to_string(), entries.len());
        entries.push(Entry {
            addr: addr.to_string(),
            reason: String::new(),
            verdict: String::new(),
            reply: String::new(),
            host: None,
            original: None,
        });
        let last = entries.len() - 1;
        &mut entries[last]
    }

    #[derive(PartialEq)]
    enum Section {
        None,
        List,
        Transcript,
    }
    let mut section = Section::None;
    let mut last_listed: Option<String> = None;
    let mut host: Option<String> = None;
    let mut rcpt: Option<String> = None;
    let mut pending_reply = String::new();
    let mut command = String::new();
    let mut orphan_reply = String::new();
    for raw in text.lines() {
        let line = raw.trim();
        let lower = line.to_ascii_lowercase();
        if lower.contains("the following addresses had") {
            section = Section::List;
            continue;
        }
        if lower.contains("transcript of session follows") {
            section = Section::Transcript;
            continue;
        }
        if line.starts_with("-----") || line.starts_with("---") && line.ends_with("---") {
            section = Section::None;
            continue;
        }
        match section {
            Section::None => {}
            Section::List => {
                if line.is_empty() {
                    continue;
                }
                // "(expanded from: <alias@domain>)": the address the sender used.
                if let Some(from) = line.strip_prefix("(expanded from:") {
                    if let (Some(a), Some(o)) = (&last_listed, scan::first_address(from)) {
                        entry(&mut entries, &mut index, a).original = Some(o);
                    }
                    continue;
                }
                if let Some(reason) = line.strip_prefix("(reason:") {
                    if let Some(a) = &last_listed {
                        entry(&mut entries, &mut index, a).reason =
                            reason.trim_end_matches(')').trim().into();
                    }
                    continue;
                }
                let body = line.trim_start_matches(">>> ");
                let first = body.split_whitespace().next().unwrap_or("");
                if let Some(addr) = scan::first_address(first) {
                    let e = entry(&mut entries, &mut index, &addr);
                    // "user@domain [User unknown]" / "user@domain (reason)"
                    let rest = body[first.len()..].trim();
                    if let Some(inner) = rest.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
                        e.reason = inner.to_string();
                    } else if let Some(inner) =
                        rest.strip_prefix('(').and_then(|r| r.strip_suffix(')'))
                    {
                        e.reason = inner.to_string();
                    }
                    last_listed = Some(addr);
                }
            }
            Section::Transcript => {
                if lower.starts_with("while talking to")
                    || lower.starts_with("... while talking to")
                {
                    let h = line
                        .split_whitespace()
                        .last()
                        .unwrap_or("")
                        .trim_end_matches(':')
                        .trim_end_matches('.');
                    host = Some(h.to_ascii_lowercase());
                    rcpt = None;
                    command.clear();
                    pending_reply.clear();
                } else if let Some(cmd) = line.strip_prefix(">>>") {
                    let cmd = cmd.trim();
                    command = line.to_string();
                    rcpt = if cmd.to_ascii_lowercase().starts_with("rcpt to") {
                        scan::first_address(cmd)
                    } else {
                        None
                    };
                } else if line.starts_with("<<<") {
                    // Keep the command with the reply: the SMTP stage decides what it means.
                    let reply = if command.is_empty() {
                        line.to_string()
                    } else {
                        format!("{command} {line}")
                    };
                    let reply = reply.as_str();
                    match &rcpt {
                        Some(a) => {
                            let e = entry(&mut entries, &mut index, a);
                            if e.reply.is_empty() {
                                e.reply = reply.to_string();
                                e.host = host.clone();
                            }
                        }
                        None => {
                            if pending_reply.is_empty() {
                                pending_reply = reply.to_string();
                            }
                            if orphan_reply.is_empty() {
                                orphan_reply = reply.to_string();
                            }
                        }
                    }
                } else if let Some((addr, rest)) = verdict_line(line) {
                    let verdict = format!("{} {}", &line[..3], rest);
                    // "554 <a>... 550 Host unknown": the inner reply is the real one, and the
                    // line stands on its own (Sendmail 5 lists other hosts' failures after a
                    // session; a reply from that session is not theirs: lhost-v5sendmail-05).
                    let inner = scan::reply_code_in(&rest).is_some_and(|c| rest.starts_with(&c));
                    let e = entry(&mut entries, &mut index, &addr);
                    if e.verdict.is_empty() {
                        e.verdict = if inner { rest } else { verdict };
                    }
                    if !inner && e.reply.is_empty() && !pending_reply.is_empty() {
                        e.reply = pending_reply.clone();
                        e.host = host.clone();
                    }
                } else if !line.is_empty()
                    && scan::reply_code_in(line).is_some_and(|c| line.starts_with(&c))
                    && !line.contains("(smtp)...")
                    && orphan_reply.is_empty()
                {
                    // A bare reply with no address (Active!hunter's "550 sorry, no mailbox").
                    orphan_reply = line.to_string();
                }
            }
        }
    }
    entries
        .into_iter()
        .map(|e| {
            let diag = [e.reply.as_str(), e.verdict.as_str(), e.reason.as_str()]
                .into_iter()
                .find(|s| !s.is_empty())
                .unwrap_or(orphan_reply.as_str())
                .to_string();
            let mut r = scan::recipient(&e.addr, action, &diag);
            if r.status.is_none() {
                // The remote's reply had no enhanced code; Sendmail's own verdict may have one.
                r.status = scan::status_in(&e.verdict).or_else(|| scan::status_in(&e.reason));
            }
            if let Some(h) = e.host.filter(|h| h.contains('.')) {
                r.remote_mta = Some(h);
            }
            r.original = e.original.filter(|o| *o != r.address);
            r
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v5_transcript() {
        let t = "   ----- Transcript of session follows -----\n\
                 While talking to mx.example.net:\n\
                 >>> RCPT To:<a@example.net>\n\
                 <<< 550 <a@example.net>, User Unknown\n\
                 550 <a@example.net>... User unknown\n\
                 554 <b@example.org>... 550 Host unknown (Authoritative answer)\n\
                 \x20  ----- Unsent message follows -----\n";
        let r = parse_text(t, false);
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].address, "a@example.net");
        assert_eq!(r[0].reply_code.as_deref(), Some("550"));
        assert_eq!(r[0].remote_mta.as_deref(), Some("mx.example.net"));
        assert_eq!(
            r[1].diagnostic.as_deref(),
            Some("550 Host unknown (Authoritative answer)")
        );
    }

    #[test]
    fn expanded_alias() {
        let t = "   ----- The following addresses had permanent fatal errors -----\n\
                 joe@example.com\n    (reason: 550 5.1.1 User unknown)\n\
                 \x20   (expanded from: <sales@example.com>)\n";
        let r = parse_text(t, false);
        assert_eq!(r[0].address, "joe@example.com");
        assert_eq!(r[0].original.as_deref(), Some("sales@example.com"));
        assert_eq!(r[0].status.as_deref(), Some("5.1.1"));
    }

    #[test]
    fn fatal_list() {
        let t = "   ----- The following addresses had permanent fatal errors -----\n\
                 <a@example.com>\n    (reason: 550 5.1.1 <a@example.com>... User unknown)\n";
        let r = parse_text(t, false);
        assert_eq!(r[0].status.as_deref(), Some("5.1.1"));
    }
}
