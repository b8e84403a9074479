//! Amazon SES notifications delivered by e-mail through Amazon SNS (`From: ...
//! <no-reply@sns.amazonaws.com>`, `Subject: AWS Notification Message`, `x-amz-sns-message-id`):
//! the body is SES's JSON event - `notificationType` (or `eventType` for configuration-set
//! event publishing) `Bounce`, `Complaint`, `Delivery` or `DeliveryDelay`, with `bouncedRecipients` (address,
//! action, status, diagnosticCode), `complainedRecipients` and `complaintFeedbackType`, or
//! `delivery.recipients`. Long lines arrive folded by the relaying MTA (`!` + newline + space,
//! Sendmail's line-length split), which is undone before the JSON is read. SES's own DSNs
//! (`MAILER-DAEMON@amazonses.com`) are ordinary RFC 3464 reports and go to `rfc3464`.

use super::report::header_has;
use super::scan::{header_lc, reply_code_in, status_in};
use super::{Format, Parsed};
use crate::classify::message::Message;
use crate::classify::verdict::{Action, Kind, Reason, Recipient};
use serde_json::Value;

pub const FORMAT: Format = Format {
    name: "amazonses",
    sniff,
    parse,
};

/// The JSON of one notification is a few KiB; a mailbox of headers can make it larger, but a
/// notification beyond this is not read.
const JSON_LIMIT: usize = 1024 * 1024;

fn sniff(msg: &Message) -> bool {
    let from = header_lc(msg, "from");
    msg.header("x-amz-sns-message-id").is_some()
        || from.contains("@sns.amazonaws.com")
        || header_has(msg, "subject", "aws notification message")
        || (from.contains("amazonses.com") && header_has(msg, "content-type", "report"))
}

fn parse(msg: &Message) -> Option<Parsed> {
    if msg.part("message/delivery-status").is_some() {
        return relayed(msg);
    }
    let text = msg
        .parts
        .iter()
        .filter(|p| p.depth == 0)
        .find(|p| p.text.contains("notificationType") || p.text.contains("eventType"))?
        .text
        .as_str();
    let mut event = json(text)?;
    // SNS without "raw message delivery": the SES event is a JSON string in the envelope's
    // "Message" field (lhost-amazonses-10).
    if let Some(inner) = event.get("Message").and_then(Value::as_str) {
        event = serde_json::from_str(inner).ok()?;
    }
    let kind = event
        .get("notificationType")
        .or_else(|| event.get("eventType"))?
        .as_str()?
        .to_ascii_lowercase();
    match kind.as_str() {
        "bounce" => bounce(event.get("bounce")?),
        "complaint" => complaint(event.get("complaint")?),
        "delivery" => delivery(event.get("delivery")?),
        "deliverydelay" => delay(event.get("deliveryDelay")?),
        _ => None,
    }
}

/// SES's own DSN for a message it relayed: an RFC 3464 report whose Diagnostic-Code wraps the
/// remote server's reply, "5.1.0 - Unknown address error 550-'5.2.2 <a@b>... Mailbox Full'
/// (delivery attempts: 0)" (lhost-amazonses-03). The quoted reply is the remote's own: its
/// reply code and, when it has one, its status replace SES's summary code.
fn relayed(msg: &Message) -> Option<Parsed> {
    let mut out = crate::classify::rfc3464::parse(msg)?;
    for r in &mut out.recipients {
        let Some(diag) = r.diagnostic.as_deref() else {
            continue;
        };
        let Some((code, inner)) = ses_wrapped(diag) else {
            continue;
        };
        r.reply_code = Some(code.to_string());
        if let Some(st) = status_in(inner) {
            r.status = Some(st);
        } else if r.status.as_deref().is_none_or(|s| s.ends_with(".0.0")) {
            r.status = status_in(diag).or(r.status.take());
        }
        r.evidence
            .push(format!("ses-wrapped remote reply {code}-'...'"));
    }
    Some(out)
}

/// `NNN-'reply'` inside an SES diagnostic: the code and the quoted reply.
fn ses_wrapped(diag: &str) -> Option<(&str, &str)> {
    let at = diag.find("-'")?;
    let code = diag.get(at.checked_sub(3)?..at)?;
    if !code.bytes().all(|b| b.is_ascii_digit()) || !matches!(code.as_bytes()[0], b'4' | b'5') {
        return None;
    }
    let inner = &diag[at + 2..];
    let inner = inner.rsplit_once('\'').map(|(i, _)| i).unwrap_or(inner);
    Some((code, inner))
}

/// The JSON object in `text`: from the first `{` to the last `}`, with the MTA's line folds
/// removed.
fn json(text: &str) -> Option<Value> {
    let start = text.find('{')?;
    let end = text.rfind('}')?;
    if end <= start || end - start > JSON_LIMIT {
        return None;
    }
    let raw = &text[start..=end];
    if let Ok(v) = serde_json::from_str(raw) {
        return Some(v);
    }
    let unfolded = raw
        .replace("!\r\n ", "")
        .replace("!\n ", "")
        .replace("\r\n", "")
        .replace('\n', "");
    serde_json::from_str(&unfolded).ok()
}

fn str_of<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn bounce(b: &Value) -> Option<Parsed> {
    let bounce_type = str_of(b, "bounceType").unwrap_or("");
    let sub_type = str_of(b, "bounceSubType").unwrap_or("");
    // remoteMtaIp is the receiving server; reportingMTA is SES's own host, not the remote.
    let remote = str_of(b, "remoteMtaIp").map(str::to_string);
    let mut out = Parsed {
        kind: Kind::Bounce,
        evidence: vec![format!("ses bounce {bounce_type}/{sub_type}")],
        ..Parsed::default()
    };
    for r in b.get("bouncedRecipients")?.as_array()? {
        let Some(addr) = str_of(r, "emailAddress") else {
            continue;
        };
        let diag = str_of(r, "diagnosticCode").unwrap_or("");
        let diag = diag.strip_prefix("smtp;").unwrap_or(diag).trim();
        let status = str_of(r, "status")
            .filter(|s| status_in(s).as_deref() == Some(s.trim()))
            .map(|s| s.trim().to_string())
            .or_else(|| status_in(diag));
        let mut rcpt = Recipient {
            address: bare(addr),
            action: str_of(r, "action")
                .and_then(Action::parse)
                .or(Some(Action::Failed)),
            status,
            reply_code: reply_code_in(diag),
            diagnostic: (!diag.is_empty()).then(|| diag.to_string()),
            remote_mta: remote.clone(),
            ..Recipient::default()
        };
        // SES states these itself: "Suppressed" means SES refused to send to an address on its
        // suppression list; "OnAccountSuppressionList" likewise for the account's list.
        if bounce_type.eq_ignore_ascii_case("permanent")
            && (sub_type.eq_ignore_ascii_case("suppressed")
                || sub_type.eq_ignore_ascii_case("onaccountsuppressionlist"))
        {
            rcpt.evidence.push(format!(
                "ses bounceSubType {sub_type}: address on a suppression list"
            ));
        }
        out.recipients.push(rcpt);
    }
    (!out.recipients.is_empty()).then_some(out)
}

fn complaint(c: &Value) -> Option<Parsed> {
    let feedback = str_of(c, "complaintFeedbackType").unwrap_or("abuse");
    let mut out = Parsed {
        kind: Kind::Complaint,
        feedback_type: Some(feedback.to_ascii_lowercase()),
        evidence: vec![format!("ses complaint, feedback type {feedback}")],
        ..Parsed::default()
    };
    for r in c.get("complainedRecipients")?.as_array()? {
        if let Some(addr) = str_of(r, "emailAddress") {
            out.recipients.push(Recipient {
                address: bare(addr),
                reason: Some(Reason::Feedback),
                evidence: vec![format!("ses complaintFeedbackType {feedback}")],
                ..Recipient::default()
            });
        }
    }
    (!out.recipients.is_empty()).then_some(out)
}

fn delivery(d: &Value) -> Option<Parsed> {
    let remote = str_of(d, "remoteMtaIp").map(str::to_string);
    let diag = str_of(d, "smtpResponse").unwrap_or("");
    let mut out = Parsed {
        kind: Kind::Delivered,
        evidence: vec!["ses delivery notification".into()],
        ..Parsed::default()
    };
    for r in d.get("recipients")?.as_array()? {
        if let Some(addr) = r.as_str() {
            out.recipients.push(Recipient {
                address: bare(addr),
                action: Some(Action::Delivered),
                status: status_in(diag),
                reply_code: reply_code_in(diag),
                reason: Some(Reason::Delivered),
                diagnostic: (!diag.is_empty()).then(|| diag.to_string()),
                remote_mta: remote.clone(),
                ..Recipient::default()
            });
        }
    }
    (!out.recipients.is_empty()).then_some(out)
}

/// A configuration-set `DeliveryDelay` event: SES is still retrying `delayedRecipients`.
fn delay(d: &Value) -> Option<Parsed> {
    let delay_type = str_of(d, "delayType").unwrap_or("");
    let remote = str_of(d, "remoteMtaIp").map(str::to_string);
    let mut out = Parsed {
        kind: Kind::Delayed,
        evidence: vec![format!("ses delivery delay {delay_type}")],
        ..Parsed::default()
    };
    for r in d.get("delayedRecipients")?.as_array()? {
        let Some(addr) = str_of(r, "emailAddress") else {
            continue;
        };
        let diag = str_of(r, "diagnosticCode").unwrap_or("");
        let diag = diag.strip_prefix("smtp;").unwrap_or(diag).trim();
        out.recipients.push(Recipient {
            address: bare(addr),
            action: Some(Action::Delayed),
            status: str_of(r, "status")
                .and_then(status_in)
                .or_else(|| status_in(diag)),
            reply_code: reply_code_in(diag),
            diagnostic: (!diag.is_empty()).then(|| diag.to_string()),
            remote_mta: remote.clone(),
            ..Recipient::default()
        });
    }
    (!out.recipients.is_empty()).then_some(out)
}

/// `"Name" <a@b>` or `a@b` -> `a@b`, lower-cased.
fn bare(s: &str) -> String {
    super::scan::first_address(s).unwrap_or_else(|| s.trim().to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folded_json_is_unfolded() {
        let text = "{\"a\":\"x\",\"b\":\"!\n y\"}\n--\nfooter";
        assert_eq!(
            json(text).and_then(|v| v["b"].as_str().map(str::to_string)),
            Some("y".into())
        );
        assert!(json("no json here").is_none());
        assert!(json("} {").is_none());
    }

    #[test]
    fn ses_wrapper() {
        let d = "5.1.0 - Unknown address error 550-'5.2.2 <a@example.jp>... Mailbox Full' (delivery attempts: 0)";
        assert_eq!(
            ses_wrapped(d),
            Some(("550", "5.2.2 <a@example.jp>... Mailbox Full"))
        );
        assert_eq!(ses_wrapped("550 5.1.1 user unknown"), None);
        assert_eq!(ses_wrapped("-'x"), None);
    }
}
