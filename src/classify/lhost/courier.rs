//! The Courier mail server's delivery status notifications (`NOTICE: mail delivery status.`,
//! "This is a delivery status notification from HOST, running the Courier mail server"). Its
//! delivery-status part always says 5.0.0 / 4.0.0; the human-readable part shows, per
//! recipient (`<user@domain>:` at column 0), the remote host and the SMTP exchange that failed
//! (`>>> RCPT TO:<...>` / `<<< 550 5.1.1 ...`), whose command tells the reason layer the stage
//! and whose code is the better status. The DSN part fills what the text lacks.

use super::{Format, Parsed, scan};
use crate::classify::message::Message;
use crate::classify::verdict::{Action, Kind};

pub const FORMAT: Format = Format {
    name: "courier",
    sniff,
    parse,
};

/// Headings of Courier's report, lower-case substrings, and the action each states.
const HEADINGS: &[(&str, Action)] = &[
    ("cannot be delivered:", Action::Failed), // seen in lhost-courier-01 ("UNDELIVERABLE MAIL")
    ("has been delayed", Action::Delayed),    // Courier's "DELAYED MAIL" notice
    ("was successfully delivered", Action::Delivered), // Courier's "DELIVERED" notice
];

fn sniff(msg: &Message) -> bool {
    // seen in lhost-courier-01: boundary "=_courier_0", subject "NOTICE: mail delivery status."
    scan::header_lc(msg, "content-type").contains("=_courier_")
        || scan::header_lc(msg, "subject").starts_with("notice: mail delivery status")
}

/// `<user@domain>:` alone on a line.
fn opening(line: &str) -> Option<String> {
    let inner = line.trim_end().strip_prefix('<')?.strip_suffix(">:")?;
    (!inner.contains(' '))
        .then(|| scan::first_address(inner))
        .flatten()
}

fn parse(msg: &Message) -> Option<Parsed> {
    let text = scan::report_text(msg);
    let lower = text.to_ascii_lowercase();
    if !lower.contains("courier mail server") {
        return None;
    }
    let (at, action) = HEADINGS
        .iter()
        .filter_map(|(h, a)| lower.find(h).map(|p| (p, *a)))
        .min_by_key(|(p, _)| *p)?;
    let list = scan::cut_at(&text[at..], &["-----"]);
    let mut recipients: Vec<_> = scan::blocks(list, opening)
        .into_iter()
        .map(|b| {
            let mut r = scan::recipient(&b.address, action, &b.lines.join(" "));
            // "    mx.example.jp [192.0.2.45]:" names the remote host.
            r.remote_mta = b
                .lines
                .iter()
                .map(|l| l.trim())
                .find(|l| l.ends_with("]:") && l.contains(" ["))
                .and_then(|l| l.split(' ').next())
                .map(str::to_ascii_lowercase);
            r
        })
        .collect();
    scan::dedupe(&mut recipients);
    if recipients.is_empty() {
        return None;
    }
    Some(Parsed {
        kind: match action {
            Action::Delayed => Kind::Delayed,
            Action::Delivered => Kind::Delivered,
            _ => Kind::Bounce,
        },
        recipients,
        evidence: vec!["courier: per-recipient SMTP exchange".into()],
        ..Parsed::default()
    })
}
