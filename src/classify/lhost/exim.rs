//! Exim's own bounce and delay-warning texts (`Mail delivery failed: returning message to
//! sender`, `Warning: message ... delayed ...`), with or without the RFC 3464 part Exim adds
//! since 4.82. Exim lists each failed address indented by two spaces, followed by more deeply
//! indented lines: the remote host, `SMTP error from remote mail server after RCPT TO:...`, the
//! remote reply, or Exim's own words (`Unrouteable address`, `retry timeout exceeded`,
//! `all hosts have been failing for a long time`). Exim's DSN part always says 5.0.0 / 4.0.0;
//! the remote's real code is only in this text. Also MX Logic and other Exim-based gateways.

use super::{Format, Parsed, scan};
use crate::classify::message::Message;
use crate::classify::verdict::{Action, Kind, Recipient};

pub const FORMAT: Format = Format {
    name: "exim",
    sniff,
    parse,
};

/// Subjects Exim uses (`bounce_message_file` / `warn_message_file` defaults), lower-case.
const SUBJECTS: &[&str] = &[
    "mail delivery failed", // seen in lhost-exim-01 ("...: returning message to sender")
    "mail failure",         // Exim 3 and some configurations
    "warning: message ",    // seen in lhost-exim-38 ("Warning: message X delayed 24 hours")
];

/// Lines that open the list of addresses, lower-case substrings.
const LIST_OPENERS: &[&str] = &[
    "address(es) failed",                           // seen in lhost-exim-01
    "following address failed",                     // seen in lhost-mxlogic-01
    "has not yet been delivered to one or more",    // seen in lhost-exim-38 (delay warning)
    "recipient addresses that were",                // seen in lhost-exim-52 (malformed address)
    "the address to which the message has not yet", // seen in lhost-exim-38
    "the following addresses have not yet",         // Exim delay warning, several addresses
];

/// Lines that end the list (lower-case prefixes of a non-indented line).
const LIST_CLOSERS: &[&str] = &[
    "----- ",                             // Exim 2 marker, seen in lhost-exim-05
    "------ ",                            // "------ This is a copy of the message"
    "included is a copy of the message",  // seen in lhost-mxlogic-01
    "no action is required on your part", // seen in lhost-exim-38
    "reporting-mta:",                     // the DSN part of a one-part message
    "the following text was generated during the delivery attempt", // seen in lhost-exim-44
];

fn sniff(msg: &Message) -> bool {
    let subject = scan::header_lc(msg, "subject");
    msg.header("x-failed-recipients").is_some()
        || (scan::from_daemon(msg) && SUBJECTS.iter().any(|s| subject.starts_with(s)))
        || msg
            .headers
            .iter()
            .any(|(n, v)| n == "message-id" && v.trim_start().starts_with("<E1"))
}

/// A line that names a failed address: indented by at most two spaces, beginning with an
/// address (optionally in `<>` and followed by `:`), a pipe (`pipe to |...`), a file
/// (`save to ...`, `/path`) or an Exim router name.
fn opening(line: &str) -> Option<String> {
    let indent = line.len() - line.trim_start().len();
    let t = line.trim();
    if indent > 2 || t.is_empty() {
        return None;
    }
    let first = t.split_whitespace().next().unwrap_or("");
    // "name@host <addr@host>: malformed address: ..." names the address in brackets.
    let head = t.split(": ").next().unwrap_or("");
    if let (Some(lt), Some(gt)) = (head.find('<'), head.rfind('>')) {
        if lt < gt && first.contains('@') {
            return scan::first_address(&head[lt..gt]);
        }
    }
    if first.contains('@') && !first.contains("://") {
        return scan::first_address(first);
    }
    if t.starts_with("pipe to |") || t.starts_with("save to ") || t.starts_with('/') {
        return Some(format!("!{t}"));
    }
    None
}

pub(crate) fn parse(msg: &Message) -> Option<Parsed> {
    let text = scan::bounded(msg.body_text());
    let lower = text.to_ascii_lowercase();
    let start = LIST_OPENERS.iter().filter_map(|m| lower.find(m)).min()?;
    let list_at = text[start..].find('\n').map(|n| start + n + 1)?;
    let rest = &text[list_at..];
    let mut section_end = rest.len();
    let mut offset = 0;
    let mut seen_address = false;
    for line in rest.split_inclusive('\n') {
        let t = line.trim_start();
        let indent = line.len() - t.len();
        let tl = t.trim_end().to_ascii_lowercase();
        let closes = LIST_CLOSERS.iter().any(|c| tl.starts_with(c));
        let loose_text = seen_address && indent == 0 && !tl.is_empty() && opening(line).is_none();
        if closes || loose_text {
            section_end = offset;
            break;
        }
        if opening(line).is_some() {
            seen_address = true;
        }
        offset += line.len();
    }
    let section = &rest[..section_end];
    let delayed = lower.contains("has not yet been delivered")
        || scan::header_lc(msg, "subject").starts_with("warning:");
    let action = if delayed {
        Action::Delayed
    } else {
        Action::Failed
    };

    // The "generated during the delivery attempt" transcript belongs to the addresses above it.
    let extra = scan::after_line(
        &rest[section_end..],
        "generated during the delivery attempt",
    )
    .map(|t| scan::cut_at(t, scan::RETURNED_MARKERS))
    .unwrap_or("");

    let failed_header = msg
        .header("x-failed-recipients")
        .map(scan::addresses_in)
        .unwrap_or_default();
    let blocks = scan::blocks(section, opening);
    let mut recipients: Vec<Recipient> = Vec::new();
    for scan::Block {
        address: addr,
        first,
        lines,
    } in &blocks
    {
        let mut diag_lines: Vec<&str> = Vec::new();
        let mut generated_by = None;
        let mut generated_from = None;
        for l in lines {
            let t = l.trim();
            let tl = t.to_ascii_lowercase();
            if tl.starts_with("generated by ") {
                generated_by = scan::first_address(t);
            } else if tl.starts_with("(generated from ")
                || tl.starts_with("(ultimately generated from ")
            {
                generated_from = scan::first_address(t);
            } else {
                diag_lines.push(t);
            }
        }
        let mut diag = diag_lines.join(" ");
        // The original line may carry the reply after the address: "<a@b>: 550 5.1.1 ..."
        if !addr.starts_with('!') {
            if let Some(p) = first.find(">:") {
                let after = first[p + 2..].trim();
                if !after.is_empty() {
                    diag = format!("{after} {diag}");
                }
            }
        }
        if blocks.len() == 1 && !extra.trim().is_empty() {
            diag = format!("{diag} {}", extra.trim());
        }
        let address = if addr.starts_with('!') {
            match generated_by.clone().or_else(|| {
                (blocks.len() == 1 && failed_header.len() == 1).then(|| failed_header[0].clone())
            }) {
                Some(a) => a,
                None => continue,
            }
        } else {
            addr.clone()
        };
        let diag = diag.trim_start_matches("Delay reason:").trim();
        let mut r = scan::recipient(&address, action, diag);
        if let Some(orig) = generated_from.filter(|o| *o != r.address) {
            r.original = Some(orig);
        }
        recipients.push(r);
    }
    if recipients.is_empty() {
        for a in failed_header {
            recipients.push(scan::recipient(&a, action, ""));
        }
    }
    scan::dedupe(&mut recipients);
    if recipients.is_empty() {
        return None;
    }
    // Exim's DSN part (4.82+) says 5.0.0 / 4.0.0; the text's code is better and the pipeline
    // fills the rest by address. A pipe or file recipient only matches one to one.
    scan::fill_single_from_dsn(msg, &mut recipients);
    Some(Parsed {
        kind: if delayed { Kind::Delayed } else { Kind::Bounce },
        recipients,
        evidence: vec!["exim: failed-address list".into()],
        ..Parsed::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_address() {
        let raw = std::fs::read("tests/samples/mta/exim-malformed.eml").unwrap();
        let msg = Message::parse(&raw);
        let p = parse(&msg).unwrap();
        assert_eq!(p.recipients[0].address, "ann@example.net");
    }
}
