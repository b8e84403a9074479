//! Amazon WorkMail bounces (`X-Mailer: Amazon WorkMail`, sent through SES as
//! `MAILER-DAEMON@<region>.amazonses.com`): a `multipart/mixed` report whose `text/plain`
//! part says "An error occurred while trying to deliver the mail to the following
//! recipients:" and then carries the RFC 3464 fields themselves as text after
//! "Technical report:" (Reporting-MTA, then per recipient Action, Final-Recipient,
//! Diagnostic-Code, Status), quoted-printable encoded, with no `message/delivery-status` part.

use super::report::header_has;
use super::scan::bounded;
use super::{Format, Parsed};
use crate::classify::message::Message;
use crate::classify::rfc3464;
use crate::classify::verdict::{Action, Recipient};

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
    let recipients = rfc3464::parse_fields(&text[at..]);
    if recipients.is_empty() {
        return None;
    }
    let mut out = Parsed {
        kind: rfc3464::kind_of(&recipients),
        evidence: vec!["amazon workmail technical report".into()],
        ..Parsed::default()
    };
    for mut r in recipients {
        if r.action.is_none() {
            r.action = Some(Action::Failed);
        }
        last_reply(&mut r);
        out.recipients.push(r);
    }
    Some(out)
}

/// WorkMail ends an expiry diagnostic with the remote's last answer in angle brackets,
/// "554 4.4.7 Message expired: unable to deliver in 840 minutes.<421 4.4.2 Connection timed
/// out>" (lhost-amazonworkmail-05): the remote's own codes, of the same class as the Status
/// WorkMail summarises with, are the ones the report carries about the recipient.
fn last_reply(r: &mut Recipient) {
    let Some(diag) = r.diagnostic.as_deref() else {
        return;
    };
    let Some(open) = diag.trim_end().strip_suffix('>').and_then(|d| d.rfind('<')) else {
        return;
    };
    let inner = &diag[open + 1..];
    let (reply, status) = rfc3464::smtp_codes(inner);
    let (Some(reply), Some(status)) = (reply, status) else {
        return;
    };
    if r.status
        .as_deref()
        .is_some_and(|s| s.as_bytes()[0] == status.as_bytes()[0])
    {
        r.evidence.push(format!(
            "remote's last reply <{reply} {status}> inside the diagnostic"
        ));
        r.status = Some(status);
        r.reply_code = Some(reply);
    }
}
