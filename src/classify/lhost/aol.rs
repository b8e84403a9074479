//! AOL's own refusal notice (`From: Mail Delivery Subsystem <MAILER-DAEMON@aol.com>`): "Your
//! mail to the following recipients could not be delivered because they are not accepting
//! mail from a@example.com:" with the recipients' AOL screen names indented below, without a
//! domain (they are `@aol.com` addresses). The recipient chose to refuse this sender, which
//! the reason layer reads from the diagnostic. AOL's Sendmail-style and DSN bounces go to the
//! MTA formats and `rfc3464`.

use super::scan::{addresses_in, bounded, header_lc, recipient};
use super::{Format, Parsed};
use crate::classify::message::Message;
use crate::classify::verdict::{Action, Kind};

pub const FORMAT: Format = Format {
    name: "aol",
    sniff,
    parse,
};

/// The sentence before the screen names (lower-case).
const REFUSED: &str = "could not be delivered because they are not accepting mail from";

fn sniff(msg: &Message) -> bool {
    let from = header_lc(msg, "from");
    from.contains("@aol.com") && (from.contains("mailer-daemon") || from.contains("postmaster"))
}

fn parse(msg: &Message) -> Option<Parsed> {
    let text = bounded(msg.body_text());
    let lower = text.to_ascii_lowercase();
    let at = lower.find(REFUSED)?;
    let sentence_end = text[at..].find('\n').map(|n| at + n).unwrap_or(text.len());
    let line_start = text[..at].rfind('\n').map(|n| n + 1).unwrap_or(0);
    let sentence = text[line_start..sentence_end].trim();
    let mut out = Parsed {
        kind: Kind::Bounce,
        evidence: vec![format!("aol sentence \"{REFUSED}\"")],
        ..Parsed::default()
    };
    for line in text[sentence_end..].lines() {
        let t = line.trim();
        if t.is_empty() {
            if out.recipients.is_empty() {
                continue;
            }
            break;
        }
        if t.contains(' ') || t.starts_with('-') {
            break;
        }
        // A screen name is the local part of an aol.com address.
        let addr = match addresses_in(t).into_iter().next() {
            Some(a) => a,
            None if t
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_') =>
            {
                format!("{}@aol.com", t.to_ascii_lowercase())
            }
            None => break,
        };
        out.recipients
            .push(recipient(&addr, Action::Failed, sentence));
    }
    (!out.recipients.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn screen_names_are_aol_addresses() {
        let raw = b"From: Mail Delivery Subsystem <MAILER-DAEMON@aol.com>\r\n\
            Subject: Undeliverable Message\r\n\r\n\
            Your mail to the following recipients could not be delivered because they are \
            not accepting mail from news@sender.example.com:\r\n\tscreenname1\r\n\r\n";
        let msg = Message::parse(raw);
        assert!(sniff(&msg));
        let p = parse(&msg).expect("parsed");
        assert_eq!(p.recipients.len(), 1);
        assert_eq!(p.recipients[0].address, "screenname1@aol.com");
    }
}
