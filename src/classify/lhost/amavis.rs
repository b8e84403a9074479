//! amavisd-new's notices to the sender of a message its content checks stopped (From "Content-
//! filter at HOST", subjects `Undeliverable mail, MTA-BLOCKED`, `Considered UNSOLICITED BULK
//! EMAIL, apparently from you`, `VIRUS (...) IN MAIL FROM YOU`, `BANNED CONTENTS ALERT`).
//! Recipients follow `-> ` ("A message from <x> to:\n-> user@domain") or stand as `<user@domain>:
//! [127.0.0.1] said: ...` after "The message WAS NOT relayed to:". Amavis names what it found,
//! so the format states the reason for spam and viruses; the DSN part, when present, fills the
//! status.

use super::{Format, Parsed, scan};
use crate::classify::message::Message;
use crate::classify::verdict::{Action, Kind, Reason, Recipient};

pub const FORMAT: Format = Format {
    name: "amavis",
    sniff,
    parse,
};

/// What amavis says it found, lower-case substrings, and the reason that states.
const FINDINGS: &[(&str, Reason)] = &[
    ("banned contents", Reason::PolicyViolation), // subject "BANNED CONTENTS ALERT"
    ("considered unsolicited bulk e-mail", Reason::SpamDetected), // seen in lhost-amavis-03
    ("virus (", Reason::VirusDetected), // subject "VIRUS (Eicar-Test-Signature) IN MAIL FROM YOU"
    ("virus: ", Reason::VirusDetected), // "Our content checker found\n    virus: Eicar-..."
];

fn sniff(msg: &Message) -> bool {
    // seen in lhost-amavis-01: From "Content-filter at neko1.example.com" <postmaster@...>
    scan::header_lc(msg, "from").contains("content-filter at")
}

fn parse(msg: &Message) -> Option<Parsed> {
    let text = scan::report_text(msg);
    let lower = text.to_ascii_lowercase();
    let subject = scan::header_lc(msg, "subject");
    let finding = FINDINGS
        .iter()
        .find(|(f, _)| lower.contains(f) || subject.contains(f))
        .map(|(_, r)| *r);
    let mut recipients: Vec<Recipient> = Vec::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let t = line.trim();
        if let Some(rest) = t.strip_prefix("-> ") {
            if let Some(a) = scan::first_address(rest) {
                // What amavis found: "virus: X", "was considered unsolicited bulk e-mail".
                let diag = text
                    .lines()
                    .map(str::trim)
                    .find(|l| {
                        let l = l.to_ascii_lowercase();
                        ["was considered", "virus: ", "banned"]
                            .iter()
                            .any(|w| l.contains(w))
                    })
                    .unwrap_or("")
                    .to_string();
                recipients.push(scan::recipient(&a, Action::Failed, &diag));
            }
        } else if t.starts_with('<') && t.contains(">:") {
            let (addr, said) = t.split_once(">:").unwrap_or((t, ""));
            let Some(a) = scan::first_address(addr) else {
                continue;
            };
            // The reply follows on the next, more deeply indented line.
            let mut diag = said.trim().to_string();
            while let Some(next) = lines.peek() {
                if next.starts_with("   ") && !next.trim().is_empty() {
                    diag.push(' ');
                    diag.push_str(next.trim());
                    lines.next();
                } else {
                    break;
                }
            }
            recipients.push(scan::recipient(&a, Action::Failed, &diag));
        }
    }
    scan::dedupe(&mut recipients);
    if recipients.is_empty() {
        return None;
    }
    if let Some(reason) = finding {
        for r in &mut recipients {
            r.reason = Some(reason);
            r.evidence
                .push(format!("amavis states {}", reason.as_str()));
        }
    }
    Some(Parsed {
        kind: Kind::Bounce,
        recipients,
        evidence: vec!["amavis: content filter notice".into()],
        ..Parsed::default()
    })
}
