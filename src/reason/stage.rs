//! The SMTP stage a rejection answered (connection, HELO, MAIL FROM, RCPT TO, DATA), as the
//! reporting MTA states it in its diagnostic: Postfix `(in reply to RCPT TO command)`, Exim
//! `SMTP error from remote mail server after RCPT TO:`, qmail `does not like recipient`,
//! Yahoo `[RCPT_TO]`, DragonFly `did not like our final DATA`. The stage changes what a
//! phrase means: "user unknown" after the message body was sent comes from a content
//! filter, not from a mailbox lookup, and "no such domain" in reply to MAIL FROM is about
//! the sender.

/// Where in the SMTP dialogue the remote server refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Connect,
    Helo,
    MailFrom,
    RcptTo,
    Data,
}

impl Stage {
    /// Read a command name a format extracted (`RCPT`, `rcpt to`, `DATA`, `MAIL FROM`, ...).
    pub fn parse(s: &str) -> Option<Stage> {
        let s = s.trim().to_ascii_lowercase();
        let word = s
            .split(|c: char| !c.is_ascii_alphabetic())
            .next()
            .unwrap_or("");
        match word {
            "conn" | "connect" | "connection" | "banner" | "greeting" => Some(Stage::Connect),
            "helo" | "ehlo" | "lhlo" => Some(Stage::Helo),
            "mail" => Some(Stage::MailFrom),
            "rcpt" => Some(Stage::RcptTo),
            "data" | "bdat" | "end" | "body" => Some(Stage::Data),
            _ => None,
        }
    }
}

/// Phrases naming the stage, sorted within each list.
const CONNECT: &[&str] = &[
    "after initial connection",                    // seen in lhost-exim-33.eml
    "while receiving the initial server greeting", // Postfix
];
const HELO: &[&str] = &[
    "after ehlo",                          // Exim
    "after helo",                          // Exim
    "in reply to ehlo command",            // Postfix
    "in reply to helo command",            // Postfix
    "while performing the ehlo handshake", // Postfix
    "while performing the helo handshake", // seen in lhost-postfix-56.eml
];
const MAILFROM: &[&str] = &[
    "[mail_from]",                   // seen in lhost-yahoo-11.eml
    "after mail from",               // seen in lhost-exim-50.eml
    "for mail from command",         // 1&1 / GMX wording
    "in reply to mail from command", // seen in lhost-postfix-10.eml
];
const RCPTTO: &[&str] = &[
    "[rcpt_to]",                          // seen in lhost-yahoo-01.eml
    "after rcpt command",                 // seen in lhost-gmx-03.eml
    "after rcpt to",                      // seen in lhost-exim-02.eml
    "did not like our rcpt to",           // seen in lhost-dragonfly-05.eml
    "does not like recipient",            // seen in lhost-qmail-02.eml
    "error following rcpt command",       // seen in lhost-x6-02.eml
    "for rcpt to command",                // 1&1 / GMX wording
    "in reply to rcpt to command",        // seen in lhost-postfix-02.eml
    "most progress was rcpt to response", // seen in lhost-qmail-01.eml
    "smtp:rcpt",                          // seen in lhost-x3-01.eml
];
const DATA: &[&str] = &[
    "after data",                      // Exim
    "after end of data",               // seen in lhost-mailru-07.eml
    "did not like our data",           // DragonFly
    "did not like our final data",     // seen in lhost-dragonfly-01.eml
    "failed after i sent the message", // seen in lhost-qmail-14.eml
    "for data command",                // 1&1 / GMX wording
    "for text command",                // seen in lhost-einsundeins-03.eml
    "in reply to data command",        // seen in lhost-postfix-41.eml
    "in reply to end of data command", // seen in lhost-postfix-35.eml
];

/// The stage named in a lower-cased diagnostic. When several are named (a transcript),
/// the earliest stage wins: a recipient refused at RCPT TO stays refused there even if the
/// transcript goes on to an empty DATA.
pub fn find(text: &str) -> Option<Stage> {
    [
        (Stage::Connect, CONNECT),
        (Stage::Helo, HELO),
        (Stage::MailFrom, MAILFROM),
        (Stage::RcptTo, RCPTTO),
        (Stage::Data, DATA),
    ]
    .into_iter()
    .find(|(_, phrases)| phrases.iter().any(|p| text.contains(p)))
    .map(|(stage, _)| stage)
}

/// How far after a recipient's address its own explanation may run.
const WINDOW: usize = 1024;

/// The stage for one recipient in the human-readable notification of a bounce (the text
/// part of a DSN, or the body of a non-standard one). Postfix explains each recipient as
/// `<addr>: host ... said: 550 ... (in reply to RCPT TO command)`; Sendmail, Courier and
/// others quote the session transcript: `>>> RCPT To:<addr>` then `<<< 550 ...` (refused at
/// RCPT TO), or `<<< 250 ...`, `>>> DATA`, `<<< 550 ...` (refused after DATA).
pub fn find_for(notification: &str, address: &str) -> Option<Stage> {
    if address.is_empty() {
        return None;
    }
    let lower = notification.to_ascii_lowercase();
    let address = address.to_ascii_lowercase();
    let mut from = 0;
    for _ in 0..4 {
        let at = from + lower.get(from..)?.find(address.as_str())?;
        from = at + address.len();
        let start = lower[..at].rfind('\n').map_or(0, |n| n + 1);
        let line_head = &lower[start..at];
        let mut end = (at + WINDOW).min(lower.len());
        while !lower.is_char_boundary(end) {
            end -= 1;
        }
        let window = &lower[from..end];
        if line_head.contains(">>> rcpt to") {
            if let Some(stage) = transcript(window) {
                return Some(stage);
            }
            continue;
        }
        // The recipient's own paragraph: up to the next blank line.
        let para = window.split("\n\n").next().unwrap_or(window);
        let para = para.replace('\n', " ");
        let para: String = para.split_whitespace().collect::<Vec<_>>().join(" ");
        if let Some(stage) = find(&para) {
            return Some(stage);
        }
    }
    None
}

/// After `>>> RCPT To:<addr>`: the first server answer decides; a 2xx answer moves on to
/// the answer after `>>> DATA`.
fn transcript(after: &str) -> Option<Stage> {
    let mut stage = Stage::RcptTo;
    for line in after.lines().map(str::trim_start) {
        if let Some(reply) = line.strip_prefix("<<<") {
            match reply.trim_start().as_bytes().first() {
                Some(b'4' | b'5') => return Some(stage),
                _ => continue,
            }
        }
        if let Some(cmd) = line.strip_prefix(">>>") {
            match Stage::parse(cmd) {
                Some(Stage::Data) => stage = Stage::Data,
                // Another recipient's command: this one was accepted.
                Some(Stage::RcptTo) if stage == Stage::RcptTo => return None,
                _ => {}
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_sorted() {
        for list in [CONNECT, HELO, MAILFROM, RCPTTO, DATA] {
            assert!(list.windows(2).all(|w| w[0] < w[1]), "{list:?}");
        }
    }

    #[test]
    fn finds_stages() {
        assert_eq!(
            find("said: 550 user unknown (in reply to rcpt to command)"),
            Some(Stage::RcptTo)
        );
        assert_eq!(
            find("smtp error from remote mail server after end of data: 550 x"),
            Some(Stage::Data)
        );
        assert_eq!(find("550 user unknown"), None);
        assert_eq!(Stage::parse("RCPT TO"), Some(Stage::RcptTo));
        assert_eq!(Stage::parse("end of DATA"), Some(Stage::Data));
    }

    #[test]
    fn finds_the_stage_of_one_recipient() {
        let postfix = "<a@example.jp>: host mx.example.jp[192.0.2.1] said: 550 5.1.1\n    <a@example.jp>... User Unknown (in reply to RCPT TO\n    command)\n\n<b@example.jp>: host mx.example.jp[192.0.2.1] said: 550\n    Unknown user (in reply to end of DATA command)\n";
        assert_eq!(find_for(postfix, "a@example.jp"), Some(Stage::RcptTo));
        assert_eq!(find_for(postfix, "B@Example.JP"), Some(Stage::Data));
        let sendmail = "... while talking to mx.example.org.:\n>>> MAIL From:<s@example.net>\n<<< 250 ok\n>>> RCPT To:<c@example.org>\n<<< 550 5.1.1 <c@example.org>... User unknown\n>>> RCPT To:<d@example.org>\n<<< 250 ok\n>>> DATA\n<<< 554 5.7.1 rejected\n";
        assert_eq!(find_for(sendmail, "c@example.org"), Some(Stage::RcptTo));
        assert_eq!(find_for(sendmail, "d@example.org"), Some(Stage::Data));
        assert_eq!(find_for(sendmail, "e@example.org"), None);
    }
}
