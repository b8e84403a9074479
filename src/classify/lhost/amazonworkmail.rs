//! Amazon WorkMail bounces (`X-Mailer: Amazon WorkMail`, sent through SES as
//! `MAILER-DAEMON@<region>.amazonses.com`): a `multipart/mixed` report whose `text/plain`
//! part says "An error occurred while trying to deliver the mail to the following
//! recipients:" and then carries the RFC 3464 fields themselves as text after
//! "Technical report:" (Reporting-MTA, then per recipient Action, Final-Recipient,
//! Diagnostic-Code, Status), quoted-printable encoded, with no `message/delivery-status` part.

use super::report::header_has;
use super::scan::{bounded, reply_code_in, squash, status_in};
use super::{Format, Parsed};
use crate::classify::fields;
use crate::classify::message::Message;
use crate::classify::verdict::{Action, Kind, Recipient};

pub const FORMAT: Format = Format {
    name: "amazonworkmail",
    sniff,
    parse,
};

/// The line after which WorkMail prints the DSN fields (lower-case).
const REPORT: &str = "technical report:"; // seen in lhost-amazonworkmail-03

fn sniff(msg: &Message) -> bool {
    header_has(msg, "x-mailer", "amazon workmail")
        || header_has(msg, "x-original-mailer", "amazon workmail")
}

fn parse(msg: &Message) -> Option<Parsed> {
    let text = bounded(msg.body_text());
    let at = text.to_ascii_lowercase().find(REPORT)? + REPORT.len();
    let groups = fields::parse_groups(&text[at..]);
    let mut out = Parsed {
        kind: Kind::Bounce,
        evidence: vec!["amazon workmail technical report".into()],
        ..Parsed::default()
    };
    for g in &groups {
        let Some(address) = fields::get(g, "final-recipient").and_then(fields::address) else {
            continue;
        };
        let diag = fields::get(g, "diagnostic-code").map(|d| {
            let d = squash(d);
            match d.split_once(';') {
                Some((t, rest)) if t.trim().eq_ignore_ascii_case("smtp") => rest.trim().to_string(),
                _ => d,
            }
        });
        let status = fields::get(g, "status")
            .and_then(status_in)
            .or_else(|| diag.as_deref().and_then(status_in));
        let action = fields::get(g, "action").and_then(Action::parse);
        if action == Some(Action::Delayed) {
            out.kind = Kind::Delayed;
        }
        out.recipients.push(Recipient {
            address,
            action: action.or(Some(Action::Failed)),
            status,
            reply_code: diag.as_deref().and_then(reply_code_in),
            diagnostic: diag,
            remote_mta: fields::get(g, "remote-mta").map(|v| {
                v.rsplit(';')
                    .next()
                    .unwrap_or(v)
                    .trim()
                    .to_ascii_lowercase()
            }),
            ..Recipient::default()
        });
    }
    (!out.recipients.is_empty()).then_some(out)
}
