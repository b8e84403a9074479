//! BIGLOBE (NEC's ISP, `biglobe.ne.jp`) bounces: `From: postmaster@biglobe.ne.jp`, `Subject:
//! Returned mail: ...`, a `multipart/mixed` report whose text part lists the addresses under
//! "----- The following addresses had delivery problems -----" and the cause under
//! "----- Non-delivered information -----", then the returned message as `message/rfc822`.

use super::report::{header_has, is_address_line};
use super::scan::{bounded, header_lc, recipient};
use super::{Format, Parsed};
use crate::classify::message::Message;
use crate::classify::verdict::{Action, Kind};

pub const FORMAT: Format = Format {
    name: "biglobe",
    sniff,
    parse,
};

/// Section rules of the report (lower-case substrings).
const ADDRESSES: &str = "the following addresses had delivery problems"; // seen in lhost-biglobe-01
const INFORMATION: &str = "non-delivered information"; // seen in lhost-biglobe-01

fn sniff(msg: &Message) -> bool {
    let from = header_lc(msg, "from");
    (from.contains("biglobe.ne.jp")
        && (from.contains("postmaster") || from.contains("mailer-daemon")))
        || (header_has(msg, "subject", "returned mail")
            && header_has(msg, "received", "biglobe.ne.jp"))
}

fn parse(msg: &Message) -> Option<Parsed> {
    let text = bounded(msg.body_text());
    let mut addrs = Vec::new();
    let mut diag = Vec::new();
    let mut section = 0;
    for line in text.lines() {
        let t = line.trim();
        let l = t.to_ascii_lowercase();
        if l.contains(ADDRESSES) {
            section = 1;
        } else if l.contains(INFORMATION) {
            section = 2;
        } else if t.starts_with("-----") {
            section = 0;
        } else if section == 1 {
            if let Some(a) = is_address_line(t) {
                addrs.push(a);
            }
        } else if section == 2 && !t.is_empty() {
            diag.push(t);
        }
    }
    if addrs.is_empty() {
        return None;
    }
    let diag = diag.join(" ");
    let mut out = Parsed {
        kind: Kind::Bounce,
        evidence: vec![format!("biglobe section \"{ADDRESSES}\"")],
        ..Parsed::default()
    };
    for a in addrs {
        out.recipients.push(recipient(&a, Action::Failed, &diag));
    }
    Some(out)
}
