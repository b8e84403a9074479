//! Office 365 / Exchange Online non-delivery reports in their text form (`Subject:
//! Undeliverable: ...` from `postmaster@<tenant>.onmicrosoft.com` or `postmaster@outlook.com`,
//! sent through `*.prod.outlook.com` / `*.protection.outlook.com`): "Delivery has failed to
//! these recipients or groups:" with `a@b<mailto:a@b>` lines and an explanation, then
//! "Diagnostic information for administrators:" - "Generating server:", optionally
//! "Receiving server:", and per recipient the address followed by "Remote Server returned
//! '550 5.1.1 RESOLVER.ADR.RecipNotFound; not found'" (or "#550 5.1.1 ... ##"), then
//! "Original message headers:". When the NDR carries a `message/delivery-status` part,
//! `rfc3464` reads that instead.

use super::report::{header_has, host_after, is_address_line, plain_text};
use super::scan::{addresses_in, bounded, cut_at, header_lc, recipient};
use super::{Format, Parsed};
use crate::classify::message::Message;
use crate::classify::verdict::{Action, Kind};

pub const FORMAT: Format = Format {
    name: "office365",
    sniff,
    parse,
};

/// Where the returned message's headers start (lower-case line prefixes; Exchange localises
/// them with the recipient's language).
const RETURNED: &[&str] = &[
    "en-têtes de message d'origine",       // French
    "encabezados del mensaje original",    // Spanish
    "original message headers:",           // seen in lhost-office365-02
    "ursprüngliche nachrichtenkopfzeilen", // German
    "元のメッセージ ヘッダー",             // Japanese
];

/// Headings of the per-recipient technical section (lower-case, localised like `RETURNED`).
const ADMIN: &[&str] = &[
    "diagnoseinformationen für administratoren", // German
    "diagnostic information for administrators", // seen in lhost-office365-02
    "información de diagnóstico para administradores", // Spanish
    "informations de diagnostic pour les administrateurs", // French
    "管理者向けの診断情報",                      // Japanese
];

/// Headings of the user-facing list of failed addresses (lower-case substrings).
const FAILED: &[&str] = &[
    "delivery has failed to these recipients or groups", // seen in lhost-office365-02
    "your message to ",                                  // "... couldn't be delivered."
];

/// Microsoft's hosted-mail host names (lower-case substrings of From / Received).
const HOSTS: &[&str] = &[
    ".onmicrosoft.com", // seen in lhost-office365-02
    ".outlook.com",     // seen in lhost-office365-02 (prod.outlook.com)
    "@outlook.com",
    "protection.outlook.com",
];

fn sniff(msg: &Message) -> bool {
    let from = header_lc(msg, "from");
    let subject = header_lc(msg, "subject");
    let microsoft = HOSTS.iter().any(|h| from.contains(h))
        || HOSTS.iter().any(|h| header_has(msg, "received", h))
        || msg
            .headers
            .iter()
            .any(|(n, _)| n.starts_with("x-ms-exchange-") || n == "x-microsoft-antispam");
    microsoft && (subject.starts_with("undeliverable") || from.contains("postmaster"))
}

fn parse(msg: &Message) -> Option<Parsed> {
    if msg.part("message/delivery-status").is_some() {
        return None;
    }
    let html = plain_text(bounded(msg.body_text()));
    let text = cut_at(&html, RETURNED);
    let lower = text.to_ascii_lowercase();
    let mut out = Parsed {
        kind: Kind::Bounce,
        ..Parsed::default()
    };
    if let Some((at, heading)) = ADMIN
        .iter()
        .filter_map(|h| lower.find(h).map(|at| (at, *h)))
        .min()
    {
        let section = &text[at + heading.len()..];
        let section = section.split_once('\n').map(|(_, r)| r).unwrap_or("");
        let receiving = section
            .lines()
            .find(|l| {
                l.trim()
                    .to_ascii_lowercase()
                    .starts_with("receiving server:")
            })
            .and_then(|l| host_after(l, "server:"));
        let mut current: Option<(String, Vec<&str>)> = None;
        let mut blocks = Vec::new();
        for line in section.lines() {
            let t = line.trim();
            if let Some(addr) = is_address_line(t) {
                blocks.extend(current.take());
                current = Some((addr, Vec::new()));
            } else if t.is_empty() {
                blocks.extend(current.take());
            } else if let Some((_, diag)) = current.as_mut() {
                diag.push(t);
            }
        }
        blocks.extend(current.take());
        for (addr, lines) in blocks {
            if lines.is_empty() {
                continue;
            }
            let diag = lines.iter().map(|l| clean(l)).collect::<Vec<_>>().join(" ");
            let mut r = recipient(&addr, Action::Failed, &diag);
            if receiving.is_some() {
                r.remote_mta = receiving.clone();
            }
            out.recipients.push(r);
        }
        out.evidence
            .push(format!("office365 section \"{heading}\""));
    }
    if out.recipients.is_empty() {
        // Only the user-facing list: "a@b<mailto:a@b>" then an explanation line.
        let start = FAILED.iter().filter_map(|f| lower.find(f)).min()?;
        let mut lines = text[start..].lines().skip(1).peekable();
        while let Some(line) = lines.next() {
            let t = line.trim();
            if t.is_empty() {
                continue;
            }
            let addrs = addresses_in(t);
            let Some(addr) = addrs.first() else {
                break;
            };
            let explanation = lines.peek().map(|l| l.trim()).unwrap_or("");
            out.recipients
                .push(recipient(addr, Action::Failed, explanation));
        }
        out.evidence
            .push("office365 list of failed recipients".into());
    }
    (!out.recipients.is_empty()).then_some(out)
}

/// "Remote Server returned '550 5.1.1 ...'" -> "550 5.1.1 ..."; "#550 5.1.1 ... ##" ->
/// "550 5.1.1 ...".
fn clean(line: &str) -> &str {
    let l = line
        .strip_prefix("Remote Server returned")
        .or_else(|| line.strip_prefix("Remote server returned"))
        .unwrap_or(line)
        .trim();
    l.trim_matches(['\'', '#', ' ', '<', '>'])
}
