//! The DragonFly Mail Agent (dma, DragonFly BSD's and some Linux distributions' small MTA):
//! a plain-text bounce, "This is the DragonFly Mail Agent vX at host. There was an error
//! delivering your mail to <user@domain>.", then the remote's words (`host [ip] did not like
//! our RCPT TO:` and the reply) or dma's own (`DNS lookup failure: host ... not found`), then
//! `Message headers follow.` and the returned headers. One recipient per bounce.

use super::{Format, Parsed, scan};
use crate::classify::message::Message;
use crate::classify::verdict::{Action, Kind};

pub const FORMAT: Format = Format {
    name: "dragonfly",
    sniff,
    parse,
};

/// The sentence that names the recipient, lower-case. Seen in lhost-dragonfly-01.
const OPENER: &str = "there was an error delivering your mail to";

fn sniff(msg: &Message) -> bool {
    scan::header_lc(msg, "subject").starts_with("mail delivery failed") || scan::from_daemon(msg)
}

fn parse(msg: &Message) -> Option<Parsed> {
    let text = scan::report_text(msg);
    let lower = text.to_ascii_lowercase();
    if !lower.contains("dragonfly mail agent") && !lower.contains(OPENER) {
        return None;
    }
    let at = lower.find(OPENER)?;
    let line_end = text[at..].find('\n').map_or(text.len(), |n| at + n);
    let address = scan::first_address(&text[at..line_end])?;
    let diag = &text[line_end..];
    let r = scan::recipient(&address, Action::Failed, diag);
    Some(Parsed {
        kind: Kind::Bounce,
        recipients: vec![r],
        evidence: vec!["dragonfly: dma bounce text".into()],
        ..Parsed::default()
    })
}
