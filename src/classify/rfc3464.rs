//! RFC 3464 delivery status notifications (and RFC 6533 `message/global-delivery-status`):
//! every per-recipient block of the `message/delivery-status` part, with Final- and
//! Original-Recipient, Action, Status (RFC 3463), Diagnostic-Code (SMTP reply code and
//! text), Remote-MTA and Will-Retry-Until. Sits after ARF in the pipeline; lhost modules call
//! `parse` themselves and fill what their MTA's text adds.
//!
//! Tolerance, from real reports: blocks not separated by blank lines (a new Final-Recipient
//! starts a new recipient), Status values with comments (`5.1.1 (bad destination)`), a
//! missing Status recovered from the Diagnostic-Code's enhanced code, and the same fields
//! written into a `text/plain` part when the MTA sent no `message/delivery-status` part.

use super::fields::{self, Field};
use super::lhost::Parsed;
use super::message::Message;
use super::verdict::{Action, Kind, Recipient};

/// Content types that carry RFC 3464 fields.
const DSN_TYPES: &[&str] = &[
    "message/delivery-status",
    "message/global-delivery-status",
    "text/delivery-status",
];

/// Parse the DSN fields of `msg`. `None` when the message has none or names no recipient.
/// Many formats ask; within one classification it is parsed once (`super::memo`).
pub fn parse(msg: &Message) -> Option<Parsed> {
    super::memo::dsn(msg, || parse_uncached(msg))
}

fn parse_uncached(msg: &Message) -> Option<Parsed> {
    let mut recipients = Vec::new();
    let mut evidence = Vec::new();
    for part in msg
        .parts
        .iter()
        .filter(|p| p.depth == 0 && DSN_TYPES.contains(&p.content_type.as_str()))
    {
        recipients.extend(parse_fields(&part.text));
        evidence.push(format!("part {}", part.content_type));
    }
    if recipients.is_empty() {
        // Fields written as text: only in the report itself, never the returned message.
        for part in msg.parts.iter().filter(|p| {
            // A multipart/report whose boundary never occurs comes through as one part
            // of type multipart/report (seen from Sendmail 8.8 era reports).
            p.depth == 0
                && (p.content_type.starts_with("text/plain")
                    || p.content_type.starts_with("multipart/"))
        }) {
            if looks_like_dsn_text(&part.text) {
                recipients.extend(parse_fields(&part.text));
                if !recipients.is_empty() {
                    evidence.push("delivery-status fields in text/plain".into());
                    break;
                }
            }
        }
    }
    if recipients.is_empty() {
        return None;
    }
    Some(Parsed {
        kind: kind_of(&recipients),
        recipients,
        evidence,
        feedback_type: None,
        smtp_command: None,
    })
}

/// The Reporting-MTA of the report's delivery-status part (`dns; mx.example.com` ->
/// `mx.example.com`).
pub fn reporting_mta(msg: &Message) -> Option<String> {
    msg.parts
        .iter()
        .filter(|p| p.depth == 0 && DSN_TYPES.contains(&p.content_type.as_str()))
        .flat_map(|p| fields::parse_groups(&p.text))
        .find_map(|g| fields::get(&g, "reporting-mta").map(strip_type))
        .filter(|s| !s.is_empty())
}

fn looks_like_dsn_text(text: &str) -> bool {
    let mut final_rcpt = false;
    let mut action_or_status = false;
    for line in text.lines() {
        let l = line.trim_start().to_ascii_lowercase();
        if l.starts_with("final-recipient:") || l.starts_with("original-recipient:") {
            final_rcpt = true;
        } else if l.starts_with("action:") || l.starts_with("status:") {
            action_or_status = true;
        }
    }
    final_rcpt && action_or_status
}

/// Parse the text of a delivery-status body into recipients (the per-message block is
/// skipped; its fields name no recipient).
pub fn parse_fields(text: &str) -> Vec<Recipient> {
    let mut out: Vec<Recipient> = Vec::new();
    for group in fields::parse_groups(text) {
        let mut cur: Option<Block> = None;
        // Recipient fields written before the first Final-/Original-Recipient of the group
        // (seen: Diagnostic-Code and Status first, Final-Recipient last) belong to it.
        let mut pending = Block::default();
        for field in &group {
            let starts = matches!(field.0.as_str(), "final-recipient" | "original-recipient");
            if starts {
                let new = match &cur {
                    Some(b) if field.0 == "final-recipient" => b.final_rcpt.is_some(),
                    // Original-Recipient may follow Final-Recipient in the same block; it
                    // opens the next block only once this one has its Action or Status.
                    Some(b) => {
                        b.original.is_some() || (b.final_rcpt.is_some() && b.body_after_final)
                    }
                    None => true,
                };
                if new {
                    match cur.take() {
                        Some(b) => {
                            out.extend(b.into_recipient());
                            cur = Some(Block::default());
                        }
                        None => cur = Some(std::mem::take(&mut pending)),
                    }
                }
            }
            match cur.as_mut() {
                Some(b) => b.set(field),
                None => pending.set(field),
            }
        }
        if let Some(b) = cur {
            out.extend(b.into_recipient());
        }
    }
    out
}

#[derive(Default)]
struct Block {
    final_rcpt: Option<String>,
    original: Option<String>,
    action: Option<String>,
    status: Option<String>,
    diagnostic: Option<String>,
    remote_mta: Option<String>,
    will_retry: Option<String>,
    /// Action or Status seen after Final-Recipient: a later Original-Recipient then opens
    /// the next block (Amazon SES writes Action first, Original-Recipient after Final).
    body_after_final: bool,
}

impl Block {
    fn set(&mut self, (name, value): &Field) {
        if self.final_rcpt.is_some() && matches!(name.as_str(), "action" | "status") {
            self.body_after_final = true;
        }
        let slot = match name.as_str() {
            "final-recipient" => &mut self.final_rcpt,
            "original-recipient" => &mut self.original,
            "action" => &mut self.action,
            "status" => &mut self.status,
            "diagnostic-code" => &mut self.diagnostic,
            "remote-mta" => &mut self.remote_mta,
            "will-retry-until" => &mut self.will_retry,
            _ => return,
        };
        if slot.is_none() && !value.trim().is_empty() {
            *slot = Some(value.trim().to_string());
        }
    }

    fn into_recipient(self) -> Option<Recipient> {
        let final_addr = self.final_rcpt.as_deref().and_then(dsn_address);
        let orig_addr = self.original.as_deref().and_then(dsn_address);
        let (address, original) = match (final_addr, orig_addr) {
            (Some(f), Some(o)) if f != o => (f, Some(o)),
            (Some(f), _) => (f, None),
            (None, Some(o)) => (o, None),
            (None, None) => return None,
        };
        let mut r = Recipient {
            address,
            original,
            ..Recipient::default()
        };
        let diag = self.diagnostic.as_deref().map(diagnostic_text);
        let (reply, diag_status) = diag.as_deref().map(smtp_codes).unwrap_or((None, None));
        let status = self.status.as_deref().and_then(status_code);
        r.status = match (status, diag_status) {
            // A generic X.0.0 beside a specific code of the same class in the remote's
            // reply: the reply's code is the one the message really carries.
            // The remote's own enhanced code in its reply, of the same class as the Status
            // field, is the more precise one: MTAs summarise (Sendmail writes 4.4.7 on expiry
            // over the remote's 450 4.7.1, Mimecast 5.0.0 over 550 5.7.54).
            // Not over X.4.7: "delivery time expired" is why the message finally failed,
            // the reply only what the last attempt met (Sendmail expiry bounces).
            (Some(s), Some(d))
                if d != s && d.as_bytes()[0] == s.as_bytes()[0] && !s.ends_with(".4.7") =>
            {
                r.evidence
                    .push(format!("status {d} from diagnostic over {s}"));
                Some(d)
            }
            (Some(s), _) => Some(s),
            (None, d) => d,
        };
        r.reply_code = reply;
        r.action = self.action.as_deref().and_then(Action::parse);
        if r.action.is_none() && self.will_retry.is_some() {
            r.action = Some(Action::Delayed);
        }
        r.diagnostic = diag.filter(|d| !d.is_empty());
        r.remote_mta = self
            .remote_mta
            .as_deref()
            .map(strip_type)
            .filter(|s| !s.is_empty());
        if let Some(w) = self.will_retry {
            r.evidence.push(format!("will-retry-until {w}"));
        }
        Some(r)
    }
}

/// A recipient field's address: type prefix and brackets removed, RFC 6533 `\x{HH}`
/// escapes of `utf-8` addresses decoded. Values that are not addresses give `None`.
fn dsn_address(value: &str) -> Option<String> {
    let v = value.trim();
    let decoded;
    let v = if v.to_ascii_lowercase().starts_with("utf-8") && v.contains("\\x{") {
        decoded = decode_utf8_xtext(v);
        decoded.as_str()
    } else {
        v
    };
    let a = fields::address(v)?;
    if a.contains('@') || !a.contains(' ') {
        Some(a)
    } else {
        None
    }
}

fn decode_utf8_xtext(v: &str) -> String {
    let mut out = String::new();
    let mut rest = v;
    while let Some(i) = rest.find("\\x{") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 3..];
        match after.find('}') {
            Some(j) => {
                match u32::from_str_radix(&after[..j], 16)
                    .ok()
                    .and_then(char::from_u32)
                {
                    Some(c) => out.push(c),
                    None => out.push_str(&rest[i..i + 3 + j + 1]),
                }
                rest = &after[j + 1..];
            }
            None => {
                out.push_str(&rest[i..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// `dns; mx.example.com` -> `mx.example.com`.
fn strip_type(v: &str) -> String {
    match v.split_once(';') {
        Some((_, rest)) => rest.trim().to_string(),
        None => v.trim().to_string(),
    }
}

/// Diagnostic-Code value without its type: `smtp; 550 5.1.1 ...` -> `550 5.1.1 ...`.
pub fn diagnostic_text(v: &str) -> String {
    let v = v.trim();
    match v.split_once(';') {
        Some((t, rest))
            if t.len() < 20
                && !t.trim().is_empty()
                && t.trim()
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
        {
            rest.trim().to_string()
        }
        _ => v.to_string(),
    }
}

/// An RFC 3463 code at the start of `v` (`5.1.1`, `5.1.1 (comment)`), validated:
/// class 2, 4 or 5, subject and detail of one to three digits.
pub fn status_code(v: &str) -> Option<String> {
    let t = v.trim().trim_start_matches('#');
    let end = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let code = t[..end].trim_end_matches('.');
    is_status(code).then(|| code.to_string())
}

fn is_status(code: &str) -> bool {
    let mut it = code.split('.');
    let (Some(c), Some(s), Some(d), None) = (it.next(), it.next(), it.next(), it.next()) else {
        return false;
    };
    matches!(c, "2" | "4" | "5")
        && (1..=3).contains(&s.len())
        && (1..=3).contains(&d.len())
        && s.bytes().all(|b| b.is_ascii_digit())
        && d.bytes().all(|b| b.is_ascii_digit())
}

/// The SMTP reply code and the enhanced status code an SMTP reply text carries:
/// `550 5.1.1 <joe@example.com>: user unknown` -> (`550`, `5.1.1`), `550-5.7.1 ...`,
/// `host mx.example.com said: 550 ...`. Codes are taken only where a reply would put them
/// (the start of the text or of a reply quoted after a colon), so numbers in prose are not
/// mistaken for codes.
pub fn smtp_codes(text: &str) -> (Option<String>, Option<String>) {
    let mut reply = None;
    let mut status = None;
    let bytes = text.as_bytes();
    let mut i = 0;
    // Candidate starts: offset 0 and after ": ", "said: ", "(", "#", whitespace.
    while i < bytes.len() && (reply.is_none() || status.is_none()) {
        let at_boundary = i == 0
            || matches!(
                bytes[i - 1],
                b' ' | b'\t' | b'(' | b'#' | b':' | b'[' | b'<' | b'"' | b'='
            );
        if at_boundary && bytes[i].is_ascii_digit() {
            let rest = &text[i..];
            if reply.is_none() {
                if let Some(code) = reply_at(rest) {
                    // A reply code counts at the very start or when a status code or the
                    // reply text follows; a lone number mid-sentence does not.
                    let after = rest[3..].trim_start_matches(['-', ' ']);
                    if i == 0 || status_code(after).is_some() || prev_is_colon(text, i) {
                        reply = Some(code);
                        if status.is_none() {
                            if let Some(s) = status_code(after) {
                                status = Some(s);
                            }
                        }
                        i += 3;
                        continue;
                    }
                }
            }
            if status.is_none() {
                if let Some(s) = status_code(rest) {
                    // Require the code to end at a word boundary (not a version or IP).
                    let end = i + s.len();
                    let ok_end = bytes.get(end).is_none_or(|b| {
                        !b.is_ascii_digit() && *b != b'.'
                            || *b == b'.' && bytes.get(end + 1).is_none_or(|n| !n.is_ascii_digit())
                    });
                    if ok_end {
                        status = Some(s);
                    }
                }
            }
        }
        i += 1;
    }
    (reply, status)
}

fn prev_is_colon(text: &str, i: usize) -> bool {
    text[..i].trim_end().ends_with(':')
}

fn reply_at(s: &str) -> Option<String> {
    let b = s.as_bytes();
    if b.len() >= 3
        && matches!(b[0], b'2' | b'4' | b'5')
        && b[1].is_ascii_digit()
        && b[2].is_ascii_digit()
        && b.get(3).is_none_or(|c| matches!(c, b' ' | b'-' | b'\t'))
    {
        Some(s[..3].to_string())
    } else {
        None
    }
}

/// The kind of a report from its recipients' actions (then status classes): any failure
/// makes a bounce; only delays a delay warning; only successes a success DSN.
pub fn kind_of(recipients: &[Recipient]) -> Kind {
    let actions: Vec<Action> = recipients.iter().filter_map(|r| r.action).collect();
    if actions.contains(&Action::Failed) {
        return Kind::Bounce;
    }
    if !actions.is_empty() && actions.iter().all(|a| *a == Action::Delayed) {
        return Kind::Delayed;
    }
    if !actions.is_empty()
        && actions
            .iter()
            .all(|a| matches!(a, Action::Delivered | Action::Relayed | Action::Expanded))
    {
        return Kind::Delivered;
    }
    if actions.contains(&Action::Delayed) {
        // Mixed delayed and delivered: the delay is what needs attention.
        return Kind::Delayed;
    }
    let classes: Vec<u8> = recipients
        .iter()
        .filter_map(|r| r.status.as_ref().and_then(|s| s.bytes().next()))
        .collect();
    if !classes.is_empty() && classes.iter().all(|c| *c == b'2') {
        return Kind::Delivered;
    }
    Kind::Bounce
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes() {
        assert_eq!(
            smtp_codes("550 5.1.1 <joe@example.com>: Recipient address rejected"),
            (Some("550".into()), Some("5.1.1".into()))
        );
        assert_eq!(
            smtp_codes("host mx.example.com[192.0.2.1] said: 452 4.2.2 Mailbox full"),
            (Some("452".into()), Some("4.2.2".into()))
        );
        assert_eq!(smtp_codes("exceeds 500 messages per day").0, None);
        assert_eq!(smtp_codes("version 5.1.12.4 here").1, None);
        assert_eq!(status_code("5.1.1 (unknown)").as_deref(), Some("5.1.1"));
        assert_eq!(status_code("5.1"), None);
    }

    #[test]
    fn blocks_without_blank_lines() {
        let t = "Reporting-MTA: dns; mx.example.com\n\nFinal-Recipient: rfc822; a@example.com\nAction: failed\nStatus: 5.1.1\nFinal-Recipient: rfc822; b@example.com\nAction: delayed\nStatus: 4.2.2\nWill-Retry-Until: tomorrow\n";
        let r = parse_fields(t);
        assert_eq!(r.len(), 2);
        assert_eq!(r[1].address, "b@example.com");
        assert_eq!(r[1].status.as_deref(), Some("4.2.2"));
        assert_eq!(kind_of(&r), Kind::Bounce);
    }

    #[test]
    fn action_before_final_recipient() {
        let t = "Reporting-MTA: dns; mx.example.com\n\nAction: failed\nFinal-Recipient: rfc822; a@example.com\nOriginal-Recipient: rfc822; a@example.com\nStatus: 5.1.1\n";
        let r = parse_fields(t);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].action, Some(Action::Failed));
        assert_eq!(r[0].status.as_deref(), Some("5.1.1"));
    }

    #[test]
    fn utf8_address() {
        assert_eq!(
            dsn_address("utf-8; j\\x{F6}rg@example.com").as_deref(),
            Some("jörg@example.com")
        );
    }
}
