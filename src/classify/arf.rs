//! Feedback-loop complaints: RFC 5965 ARF reports (`message/feedback-report`), RFC 6591
//! auth-failure reports, RFC 6650's advice to accept any type, any optional-field mix and
//! redacted reports, several reports in one message, and the non-ARF forms providers send:
//! Microsoft JMRP (`multipart/mixed`, the complainer in `X-HmXmrOriginalRecipient` of the
//! embedded message), report fields in a `text/plain` part, and Apple Mail's one-click
//! unsubscribe (`X-Apple-Unsubscribe: true`). First in the pipeline: a complaint must never
//! be taken for a bounce.
//!
//! The complainer is Original-Rcpt-To (each), else Removal-Recipient, else the embedded
//! message's X-HmXmrOriginalRecipient or To. A redacted or missing one is recovered by the
//! pipeline from the VERP address (`classify::mod`).

use super::fields::{self, Field};
use super::message::Message;
use super::verdict::{Kind, Reason, Recipient, Verdict};

/// Extra fields of a complaint, kept as evidence for the admin.
const REPORTED_FIELDS: &[&str] = &[
    "arrival-date",
    "auth-failure",
    "original-mail-from",
    "reported-domain",
    "source-ip",
    "user-agent",
];

/// Parse a feedback report. `None` when the message is not one.
pub fn parse(msg: &Message) -> Option<Verdict> {
    let reports: Vec<Vec<Field>> = msg
        .parts
        .iter()
        .filter(|p| p.content_type == "message/feedback-report")
        .map(|p| {
            fields::parse_groups(&p.text)
                .into_iter()
                .flatten()
                .collect()
        })
        .collect();
    if !reports.is_empty() {
        return Some(from_reports(msg, &reports, "message/feedback-report"));
    }
    // Report fields written into a text part of a multipart/report (report-type
    // feedback-report) or a multipart/mixed: seen from small FBL senders.
    let report_type = msg
        .header("content-type")
        .map(|c| c.to_ascii_lowercase())
        .unwrap_or_default();
    // Without report-type (multipart/mixed), the fields must look like a report: a
    // Feedback-Type beside User-Agent, Version or Original-Rcpt-To.
    let strict = !report_type.contains("feedback-report");
    if report_type.starts_with("multipart/") {
        let text: Vec<Vec<Field>> = msg
            .parts
            .iter()
            .filter(|p| p.depth == 0 && p.content_type.starts_with("text/"))
            // A text that never names the field has no group with it: not worth parsing
            // (this is every bounce's human-readable part).
            .filter(|p| super::lhost::scan::contains_lc(p.text.as_bytes(), b"feedback-type"))
            .map(|p| {
                fields::parse_groups(&p.text)
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
            })
            .filter(|g| fields::get(g, "feedback-type").is_some())
            .filter(|g| {
                !strict
                    || ["user-agent", "version", "original-rcpt-to"]
                        .iter()
                        .any(|n| fields::get(g, n).is_some())
            })
            .collect();
        if !text.is_empty() {
            return Some(from_reports(msg, &text, "feedback-report fields in text"));
        }
    }
    jmrp(msg).or_else(|| apple_unsubscribe(msg))
}

fn from_reports(msg: &Message, reports: &[Vec<Field>], evidence: &str) -> Verdict {
    let mut v = Verdict {
        kind: Kind::Complaint,
        detector: "arf".into(),
        ..Verdict::default()
    };
    v.evidence.push(evidence.to_string());
    for (i, report) in reports.iter().enumerate() {
        let ftype = fields::get(report, "feedback-type")
            .map(|t| t.trim().to_ascii_lowercase())
            .unwrap_or_else(|| "other".into());
        if v.feedback_type.is_none() {
            v.feedback_type = Some(ftype.clone());
        }
        v.evidence.push(format!("feedback-type {ftype}"));
        let mut extra = Vec::new();
        for name in REPORTED_FIELDS {
            if let Some(val) = fields::get(report, name) {
                extra.push(format!("{name}: {val}"));
            }
        }
        let mut addrs: Vec<String> = report
            .iter()
            .filter(|(n, _)| n == "original-rcpt-to")
            .filter_map(|(_, v)| fields::clean_address(v))
            .collect();
        if addrs.is_empty() {
            addrs = report
                .iter()
                .filter(|(n, _)| n == "removal-recipient")
                .filter_map(|(_, v)| fields::clean_address(v))
                .collect();
        }
        if addrs.is_empty() {
            // The embedded message that goes with this report (reports and messages pair
            // up in order when a message carries several).
            let embedded = msg.attached.iter().filter(|a| a.depth == 1).nth(i);
            if let Some(a) = embedded {
                if let Some(x) = a
                    .header("x-hmxmroriginalrecipient")
                    .or_else(|| a.header("to"))
                    .and_then(first_address)
                {
                    addrs.push(x);
                }
            }
        }
        for a in addrs {
            if v.recipients.iter().any(|r| r.address == a) {
                continue;
            }
            v.recipients.push(complainer(a, &ftype, &extra));
        }
    }
    v
}

fn complainer(address: String, ftype: &str, extra: &[String]) -> Recipient {
    let mut r = Recipient {
        address,
        reason: Some(Reason::Feedback),
        hard: Some(false),
        ..Recipient::default()
    };
    r.evidence.push(format!("feedback-type {ftype}"));
    r.evidence.extend(extra.iter().cloned());
    r
}

/// Microsoft JMRP: `multipart/mixed` from a Hotmail/Outlook address holding the reported
/// message with `X-HmXmrOriginalRecipient`. Seen in JMRP reports of 2016.
fn jmrp(msg: &Message) -> Option<Verdict> {
    let a = msg
        .attached
        .iter()
        .find(|a| a.header("x-hmxmroriginalrecipient").is_some())?;
    let addr = a.header("x-hmxmroriginalrecipient").and_then(first_address);
    let mut v = Verdict {
        kind: Kind::Complaint,
        detector: "arf/jmrp".into(),
        feedback_type: Some("abuse".into()),
        ..Verdict::default()
    };
    v.evidence
        .push("embedded X-HmXmrOriginalRecipient (Microsoft JMRP)".into());
    if let Some(addr) = addr {
        v.recipients.push(complainer(addr, "abuse", &[]));
    }
    Some(v)
}

/// Apple Mail's unsubscribe: the user's own address mails the List-Unsubscribe mailto with
/// `X-Apple-Unsubscribe: true`; the complainer is the From address.
fn apple_unsubscribe(msg: &Message) -> Option<Verdict> {
    let flag = msg.header("x-apple-unsubscribe")?;
    if !flag.trim().eq_ignore_ascii_case("true") {
        return None;
    }
    let mut v = Verdict {
        kind: Kind::Complaint,
        detector: "arf/apple-unsubscribe".into(),
        feedback_type: Some("opt-out".into()),
        ..Verdict::default()
    };
    v.evidence.push("X-Apple-Unsubscribe: true".into());
    if let Some(a) = msg.header("from").and_then(first_address) {
        v.recipients.push(complainer(a, "opt-out", &[]));
    }
    Some(v)
}

/// First address of an address-list header value.
pub fn first_address(v: &str) -> Option<String> {
    let first = split_list(v).into_iter().next()?;
    fields::clean_address(&first).filter(|a| a.contains('@'))
}

/// Split an address list at commas outside quotes and angle brackets.
fn split_list(v: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let (mut quoted, mut angle) = (false, false);
    for c in v.chars() {
        match c {
            '"' => quoted = !quoted,
            '<' if !quoted => angle = true,
            '>' if !quoted => angle = false,
            ',' if !quoted && !angle => {
                out.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    out.push(cur);
    out.into_iter().filter(|s| !s.trim().is_empty()).collect()
}
