//! An unidentified MTA (From `Mail Delivery System <Mail.Delivery.System@host>`, subject
//! `Delivery status notification`, `multipart/report` often without a delivery-status part):
//! "Delivery to the following recipients failed permanently:" (or "... was aborted after N
//! hour(s):", sometimes spelled "Delevery"), `   * user@domain` one a line, then "Technical
//! details:" with the SMTP exchange (`SMTP:RCPT host 192.0.2.8: 553 5.3.0 ...`) or a routing
//! error.

use super::{Format, Parsed, scan};
use crate::classify::message::Message;
use crate::classify::verdict::{Action, Kind, Recipient};

pub const FORMAT: Format = Format {
    name: "x3",
    sniff,
    parse,
};

fn sniff(msg: &Message) -> bool {
    // seen in lhost-x3-01
    scan::header_lc(msg, "subject") == "delivery status notification"
        && scan::header_lc(msg, "from").contains("mail delivery system")
}

fn parse(msg: &Message) -> Option<Parsed> {
    let text = scan::report_text(msg);
    let lower = text.to_ascii_lowercase();
    let at = lower.find("to the following recipients")?;
    // Its delivery-status part, where complete, is better than this text (lhost-x3-06).
    if scan::has_dsn(msg) {
        return None;
    }
    // The sentence itself says how it ended ("was aborted after 5.0 hour(s)", lhost-x3-02).
    let sentence = text[at..].lines().next().unwrap_or("");
    let sentence = text[..at].rsplit('\n').next().unwrap_or("").to_string() + sentence;
    let details = scan::after_line(&text[at..], "technical details")
        .map(|d| scan::cut_at(d, &["====="]))
        .unwrap_or("");
    let details = format!("{} {}", sentence.trim(), details);
    let mut recipients: Vec<Recipient> = Vec::new();
    for line in text[at..].lines().skip(1) {
        let t = line.trim();
        if t.starts_with("=====") || t.to_ascii_lowercase().starts_with("technical details") {
            break;
        }
        let Some(a) = t.strip_prefix("* ").and_then(scan::first_address) else {
            continue;
        };
        recipients.push(scan::recipient(&a, Action::Failed, &details));
    }
    if recipients.is_empty() {
        return None;
    }
    Some(Parsed {
        kind: Kind::Bounce,
        recipients,
        evidence: vec!["x3: to the following recipients failed".into()],
        ..Parsed::default()
    })
}
