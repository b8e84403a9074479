//! Microsoft Exchange Server 2007 and later (on-premises) non-delivery reports: a
//! `multipart/report` whose human-readable part says "Delivery has failed to these recipients
//! or groups:" (localised: "Échec de la remise ...") and, under "Diagnostic information for
//! administrators:", lists each recipient with Exchange's own line (`#550 5.1.1
//! RESOLVER.ADR.RecipNotFound; not found ##`) or the remote's reply (`Remote Server returned
//! '550 5.1.1 ...'`), one line per attempt on an expired message. The delivery-status part
//! names the recipients; this text fills what it lacks. When the message expired
//! (`QUEUE.Expired`, 4.4.7 / 5.4.7) after failed attempts, the last attempt's own code is the
//! better status (lhost-exchange2007-05: "441 4.4.1 ... Failed to connect").

use super::{Format, Parsed, scan};
use crate::classify::message::Message;
use crate::classify::verdict::{Action, Kind, Recipient};

pub const FORMAT: Format = Format {
    name: "exchange2007",
    sniff,
    parse,
};

/// The section heading before the per-recipient diagnostics, lower-case substrings (English,
/// French, German); seen in lhost-exchange2007-01 and -06.
const DIAGNOSTIC_HEADINGS: &[&str] = &[
    "diagnostic information for administrators",
    "diagnoseinformationen für administratoren",
    "informations de diagnostic pour les administrateurs",
];

/// Where the returned headers begin, lower-case prefixes; seen in lhost-exchange2007-01, -06.
const HEADER_HEADINGS: &[&str] = &[
    "en-têtes de message d'origine",
    "original message headers",
    "ursprüngliche nachrichtenkopfzeilen",
];

/// Statuses that only say the queue gave up.
const EXPIRY: &[&str] = &["4.4.7", "5.4.7"];

fn sniff(msg: &Message) -> bool {
    msg.header("x-ms-exchange-message-is-ndr").is_some()
        || scan::header_lc(msg, "subject").starts_with("undeliverable:")
        || scan::header_lc(msg, "subject").starts_with("non remis")
        || scan::header_lc(msg, "subject").starts_with("unzustellbar")
}

fn parse(msg: &Message) -> Option<Parsed> {
    let text = scan::bounded(msg.body_text());
    let lower = text.to_ascii_lowercase();
    let at = DIAGNOSTIC_HEADINGS
        .iter()
        .filter_map(|h| lower.find(h))
        .min()?;
    let diagnostics = scan::cut_at(&text[at..], HEADER_HEADINGS);
    let attempts = attempts_by_recipient(diagnostics);
    let mut recipients: Vec<Recipient> = match crate::classify::rfc3464::parse(msg) {
        Some(dsn) if !dsn.recipients.is_empty() => dsn.recipients,
        _ => attempts
            .iter()
            .map(|(a, lines)| scan::recipient(a, Action::Failed, &lines.join(" ")))
            .collect(),
    };
    if recipients.is_empty() {
        return None;
    }
    for r in &mut recipients {
        let Some((_, lines)) = attempts.iter().find(|(a, _)| *a == r.address) else {
            continue;
        };
        let expired = r.status.as_deref().is_some_and(|s| EXPIRY.contains(&s));
        if !expired {
            continue;
        }
        // Attempts are listed newest first; the newest that is not the expiry itself.
        if let Some(code) = lines
            .iter()
            .filter_map(|l| scan::status_in(l))
            .find(|s| !EXPIRY.contains(&s.as_str()))
        {
            r.evidence.push(format!(
                "exchange2007: last attempt before expiry said {code}"
            ));
            r.status = Some(code);
        }
    }
    Some(Parsed {
        kind: Kind::Other,
        recipients,
        evidence: vec!["exchange2007: diagnostic information for administrators".into()],
        ..Parsed::default()
    })
}

/// Each recipient named alone on a line in the diagnostic section, with the lines below it.
fn attempts_by_recipient(section: &str) -> Vec<(String, Vec<&str>)> {
    scan::blocks(section, |l| {
        let t = l.trim();
        (!t.is_empty() && !t.contains(' '))
            .then(|| scan::first_address(t))
            .flatten()
    })
    .into_iter()
    .map(|b| {
        let lines = b
            .lines
            .into_iter()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        (b.address, lines)
    })
    .collect()
}
