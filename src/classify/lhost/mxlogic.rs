//! MX Logic (McAfee SaaS Email Protection) relays: an Exim-derived bounce (`Mail delivery
//! failed`, "The following address failed:", `  <user@domain>: 550 5.1.1 ...`, "Included is a
//! copy of the message header:"), recognised by the relay's name and read by Exim's parser.

use super::{Format, Parsed, exim, scan};
use crate::classify::message::Message;

pub const FORMAT: Format = Format {
    name: "mxlogic",
    sniff,
    parse,
};

fn sniff(msg: &Message) -> bool {
    // seen in lhost-mxlogic-03 (From: MAILER-DAEMON@...mxlogic.net) and -01 (relay0.mxl8...)
    let from = scan::header_lc(msg, "from");
    from.contains("mxlogic") || from.contains("@relay0.mxl")
}

fn parse(msg: &Message) -> Option<Parsed> {
    let mut parsed = exim::parse(msg)?;
    parsed.evidence = vec!["mxlogic: Exim-style failed-address list".into()];
    Some(parsed)
}
