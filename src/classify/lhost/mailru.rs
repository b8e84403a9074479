//! Mail.ru bounces (`From: mailer-daemon@corp.mail.ru`, Subject "Ваше сообщение не
//! доставлено. Mail failure."): Exim underneath, so the report is Exim's indented text -
//! the failed address, then its diagnostic ("SMTP error from remote mail server after RCPT
//! TO:...", "host mx.example.jp [192.0.2.1]: 550 5.1.1 ...") - printed twice, first under a
//! Russian preface, then in Exim's English wording; the English list is read when present
//! (`gmx::read`), the Russian one otherwise. The returned message follows "------ This is a
//! copy of the message, including all the headers. ------".

use super::report::header_has;
use super::scan::header_lc;
use super::{Format, Parsed};
use crate::classify::message::Message;

pub const FORMAT: Format = Format {
    name: "mailru",
    sniff,
    parse,
};

/// Openings of the address list, English first (lower-case substrings).
const OPENINGS: &[&str] = &[
    "the following address(es) deferred", // Exim's delay warning
    "the following address(es) failed",   // seen in lhost-mailru-01 (Exim's English text)
    "recipients. this is a permanent error. the following address(es) failed",
    "не может быть доставлено одному или нескольким получателям", // seen in lhost-mailru-01
];

/// Mail.ru's own domains (lower-case substrings of the From address).
const DOMAINS: &[&str] = &[
    "@bk.ru",
    "@corp.mail.ru", // seen in lhost-mailru-01
    "@inbox.ru",
    "@list.ru",
    "@mail.ru",
];

fn sniff(msg: &Message) -> bool {
    let from = header_lc(msg, "from");
    (from.contains("mailer-daemon") && DOMAINS.iter().any(|d| from.contains(d)))
        || (header_has(msg, "subject", "mail failure") && header_has(msg, "received", ".mail.ru"))
}

fn parse(msg: &Message) -> Option<Parsed> {
    super::gmx::read(msg, "mail.ru", OPENINGS)
}
