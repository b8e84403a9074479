//! GMX / mail.com / WEB.DE bounces (`From: MAILER-DAEMON@mail.gmx.com`, `Subject: Mail delivery
//! failed: returning message to sender`, sent by United Internet's "Nemesis" MTA): an Exim-like
//! text, but each failed address stands alone on a line (`"a@example.jp":`, `<a@example.jp>`
//! or bare), followed by unindented lines "SMTP error from remote server after RCPT
//! command:", "host: mx.example.jp", the remote reply, or a "Reason:" section; the header of
//! the returned message follows "--- The header of the original message is following. ---".
//! 1&1 (`einsundeins`) sends the same text and reuses `read` here.

use super::report::{header_has, host_after, is_address_line};
use super::scan::{bounded, cut_at, header_lc, recipient};
use super::{Format, Parsed};
use crate::classify::message::Message;
use crate::classify::verdict::{Action, Kind};

pub const FORMAT: Format = Format {
    name: "gmx",
    sniff,
    parse,
};

/// Where the returned message starts (lower-case line prefixes).
const RETURNED: &[&str] = &[
    "--- the header of the original message is following. ---", // seen in lhost-gmx-01
    "------ this is a copy of the message, including",
];

/// Lines that open the list of failed (or deferred) addresses (lower-case substrings).
pub(crate) const OPENINGS: &[&str] = &[
    "the following address deferred",     // Exim's delay warning wording
    "the following address failed",       // seen in lhost-einsundeins-02
    "the following address(es) deferred", // Exim's delay warning wording
    "the following address(es) failed",   // seen in lhost-einsundeins-03
    "the following address\n",            // seen in lhost-gmx-01 ("address" + newline + "failed:")
    "the following address(es)\n",        // seen in lhost-einsundeins-03 (folded)
];

/// Sentences of a delay warning (lower-case substrings): the message is still queued.
const DEFERRED: &[&str] = &[
    "address deferred",
    "address(es) deferred",
    "has not yet been delivered to one or more", // Exim's delay warning
];

/// Lines after the address list that end it (lower-case prefixes, trimmed).
const TRAILERS: &[&str] = &[
    "**********", // seen in lhost-mailru-01 (between the Russian and English texts)
    "no action is required", // Exim's delay warning, after the deferred list
    "рекомендуем вам", // seen in lhost-mailru-01 ("check the addresses")
];

/// Section labels that are not part of the diagnostic (lower-case, trimmed).
const LABELS: &[&str] = &["for the following reason:", "reason:"];

fn sniff(msg: &Message) -> bool {
    let from = header_lc(msg, "from");
    (from.contains("mailer-daemon@") || from.contains("postmaster@"))
        && (from.contains("gmx.") || from.contains("web.de") || from.contains("mail.com"))
        || header_has(msg, "received", "mout-bounce.gmx")
}

fn parse(msg: &Message) -> Option<Parsed> {
    read(msg, "gmx", OPENINGS)
}

/// Read an Exim-style report of `msg`: after the first of `openings` (lower-case), every line
/// that is only an address opens a recipient and the lines after it are its diagnostic.
/// `who` names the provider in the evidence.
pub(crate) fn read(msg: &Message, who: &str, openings: &[&str]) -> Option<Parsed> {
    let text = cut_at(bounded(msg.body_text()), RETURNED);
    let lower = text.to_ascii_lowercase().replace("\r\n", "\n");
    let opening = openings.iter().find(|o| lower.contains(*o))?;
    // Start reading at the line after the opening sentence ends ("failed:").
    let text = text.replace("\r\n", "\n");
    let at = lower.find(opening)?;
    let after = &text[at..];
    let after = after.split_once('\n').map(|(_, r)| r).unwrap_or("");
    let mut blocks: Vec<(String, String)> = Vec::new();
    for line in after.lines() {
        let t = line.trim();
        if t.eq_ignore_ascii_case("failed:") || t.eq_ignore_ascii_case("deferred:") || t.is_empty()
        {
            continue;
        }
        if TRAILERS.iter().any(|p| t.to_lowercase().starts_with(p)) {
            break;
        }
        if let Some(addr) = is_address_line(t) {
            blocks.push((addr, String::new()));
            continue;
        }
        if LABELS.iter().any(|l| t.eq_ignore_ascii_case(l)) {
            continue;
        }
        if let Some((_, diag)) = blocks.last_mut() {
            diag.push_str(t);
            diag.push('\n');
        }
    }
    if blocks.is_empty() {
        return None;
    }
    let delayed = DEFERRED.iter().any(|d| lower.contains(d));
    let (kind, action) = if delayed {
        (Kind::Delayed, Action::Delayed)
    } else {
        (Kind::Bounce, Action::Failed)
    };
    let mut out = Parsed {
        kind,
        evidence: vec![format!("{who} report \"{}\"", opening.trim())],
        ..Parsed::default()
    };
    for (addr, diag) in blocks {
        let mut r = recipient(&addr, action, &diag);
        if let Some(h) = host_after(&diag, "host:") {
            r.remote_mta = Some(h);
        }
        out.recipients.push(r);
    }
    Some(out)
}
