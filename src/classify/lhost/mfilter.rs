//! Digital Arts m-FILTER's bounce (X-Mailer `m-FILTER`, subject `failure notice`, Japanese
//! text): after the Japanese explanation the failed address stands alone on a line, then
//! `-------server message` with the remote's reply and `-------SMTP command` with the command
//! that failed, and `-------original message` / `-------original mail info`.

use super::{Format, Parsed, scan};
use crate::classify::message::Message;
use crate::classify::verdict::{Action, Kind};

pub const FORMAT: Format = Format {
    name: "mfilter",
    sniff,
    parse,
};

/// Section marker before the remote's reply; seen in lhost-mfilter-01.
const SERVER_MESSAGE: &str = "-------server message";
/// Section marker before the SMTP command the reply answered; seen in lhost-mfilter-01.
const SMTP_COMMAND: &str = "-------smtp command";

fn sniff(msg: &Message) -> bool {
    // seen in lhost-mfilter-01 ("X-Mailer: m-FILTER"); -05 says "local-mailhub" with the
    // same text, so the subject alone (qmail's wording) also lets the parse try.
    scan::header_lc(msg, "x-mailer").contains("m-filter")
        || scan::header_lc(msg, "subject") == "failure notice"
}

fn parse(msg: &Message) -> Option<Parsed> {
    let text = scan::report_text(msg);
    let lower = text.to_ascii_lowercase();
    let at = lower.find(SERVER_MESSAGE)?;
    // The address: the last line before the server message that is only an address.
    let address = text[..at].lines().rev().map(str::trim).find_map(|l| {
        (!l.is_empty() && !l.contains(' '))
            .then(|| scan::first_address(l))
            .flatten()
    })?;
    let after = &text[at..];
    let after = after.split_once('\n').map_or("", |(_, r)| r);
    let reply: Vec<&str> = after
        .lines()
        .take_while(|l| !l.starts_with("-------"))
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let r = scan::recipient(&address, Action::Failed, &reply.join(" "));
    // The command the reply answered: the first line under `-------SMTP command` (seen in
    // lhost-mfilter-01.eml: DATA, so its "unknown user" is a filter's answer).
    let command = lower.find(SMTP_COMMAND).and_then(|at| {
        text[at + SMTP_COMMAND.len()..]
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .and_then(|l| l.split_whitespace().next())
            .map(str::to_string)
    });
    Some(Parsed {
        kind: Kind::Bounce,
        recipients: vec![r],
        smtp_command: command,
        evidence: vec!["mfilter: server message section".into()],
        ..Parsed::default()
    })
}
