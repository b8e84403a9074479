//! 1&1 / IONOS bounces (`From: "Mail Delivery System" <mailer-daemon@kundenserver.de>`,
//! `Subject: Mail delivery failed: returning message to sender`): the same "Nemesis" text as
//! GMX (United Internet runs both), with "The following address failed:", the address alone
//! on a line, "For the following reason:" and a link to postmaster.1and1.com. Read by
//! `gmx::read`.

use super::report::header_has;
use super::scan::header_lc;
use super::{Format, Parsed};
use crate::classify::message::Message;

pub const FORMAT: Format = Format {
    name: "einsundeins",
    sniff,
    parse,
};

/// Domains of 1&1's outgoing bounce hosts (lower-case substrings of From / Received).
const HOSTS: &[&str] = &[
    "1and1.",
    "1und1.",
    "ionos.",
    "kundenserver.", // seen in lhost-einsundeins-02
];

fn sniff(msg: &Message) -> bool {
    let from = header_lc(msg, "from");
    (from.contains("mailer-daemon@") && HOSTS.iter().any(|h| from.contains(h)))
        || (header_lc(msg, "subject").starts_with("mail delivery failed")
            && HOSTS.iter().any(|h| header_has(msg, "received", h)))
}

fn parse(msg: &Message) -> Option<Parsed> {
    super::gmx::read(msg, "1&1", super::gmx::OPENINGS)
}
