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
    "(state 6)",   // Gmail's SMTP-client state after MAIL FROM, seen in lhost-gmail-07.eml
    "[mail_from]", // seen in lhost-yahoo-11.eml
    "after mail from", // seen in lhost-exim-50.eml
    "for mail from command", // 1&1 / GMX wording
    "in reply to mail from command", // seen in lhost-postfix-10.eml
];
const RCPTTO: &[&str] = &[
    "(state 14)",                         // Gmail's SMTP-client state after RCPT TO
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
    "(state 15)",                      // Gmail's SMTP-client states after DATA
    "(state 17)",                      // Gmail
    "(state 18)",                      // Gmail, seen in lhost-gmail-03.eml
    "after data",                      // Exim
    "after end of data",               // seen in lhost-mailru-07.eml
    "did not like our data",           // DragonFly
    "did not like our final data",     // seen in lhost-dragonfly-01.eml
    "failed after i sent the message", // seen in lhost-qmail-14.eml
    "for data command",                // 1&1 / GMX wording
    "for text command",                // seen in lhost-einsundeins-03.eml
    "in reply to data command",        // seen in lhost-postfix-41.eml
    "in reply to end of data command", // seen in lhost-postfix-35.eml
    "rejected after data",             // Exim ACL wording
];

/// The stage named in a lower-cased diagnostic. When several are named (a transcript),
/// the earliest stage wins: a recipient refused at RCPT TO stays refused there even if the
/// transcript goes on to an empty DATA.
pub fn find(text: &str) -> Option<Stage> {
    const STAGES: [(Stage, &[&str]); 5] = [
        (Stage::Connect, CONNECT),
        (Stage::Helo, HELO),
        (Stage::MailFrom, MAILFROM),
        (Stage::RcptTo, RCPTTO),
        (Stage::Data, DATA),
    ];
    // All lists in one pass (`super::phrases`); none of these phrases has a ` * ` gap, so
    // the match is the plain substring test it always was.
    static SET: std::sync::OnceLock<super::phrases::Set> = std::sync::OnceLock::new();
    let set = SET.get_or_init(|| super::phrases::Set::new(&STAGES.map(|s| s.1)));
    set.first(text)
        .and_then(|(i, _)| STAGES.get(i))
        .map(|s| s.0)
}

/// How far after a recipient's address its own explanation may run.
const WINDOW: usize = 1024;
/// How much of a notification is searched for a recipient's address.
const SEARCHED: usize = 4 * 1024 * 1024;
/// Texts up to this size are searched directly, without the shared index.
const SHORT: usize = 16 * 1024;

/// A notification prefix lower-cased once, with the positions of every address in it.
#[derive(Default)]
struct Lowered {
    original: String,
    lower: String,
    /// Address (lower-case) -> byte offsets in `lower`.
    index: std::collections::HashMap<String, Vec<usize>>,
}

impl Lowered {
    fn new(prefix: &str) -> Lowered {
        let lower = prefix.to_ascii_lowercase();
        let mut index: std::collections::HashMap<String, Vec<usize>> = Default::default();
        let bytes = lower.as_bytes();
        let is_addr = |b: u8| b.is_ascii_alphanumeric() || b"._%+-=!#$&'*/?^`{|}~".contains(&b);
        for (at, _) in lower.match_indices('@') {
            let mut start = at;
            while start > 0 && is_addr(bytes[start - 1]) {
                start -= 1;
            }
            let mut end = at + 1;
            while end < bytes.len() && is_addr(bytes[end]) {
                end += 1;
            }
            let token = lower[start..end].trim_end_matches('.');
            if start < at && end > at + 1 {
                index.entry(token.to_string()).or_default().push(start);
            }
        }
        Lowered {
            original: prefix.to_string(),
            lower,
            index,
        }
    }
}

thread_local! {
    /// The last notification searched: a report with 10 000 recipients is lower-cased and
    /// indexed once, not once per recipient (recognising it again costs a memcmp).
    static LOWERED: std::cell::RefCell<Lowered> = std::cell::RefCell::new(Lowered::default());
}

/// Up to four places where `address` appears in `notification` (its first `SEARCHED`
/// bytes), each as the lower-cased start of its line and the lower-cased text that follows
/// it (at most `WINDOW` bytes).
fn occurrences(notification: &str, address: &str) -> Vec<(String, String)> {
    let needle = address.to_ascii_lowercase();
    if needle.is_empty() {
        return Vec::new();
    }
    let mut cut = notification.len().min(SEARCHED);
    while !notification.is_char_boundary(cut) {
        cut -= 1;
    }
    let prefix = &notification[..cut];
    // A short text (a diagnostic) is simply searched; a long one (a notification shared
    // by many recipients) is lower-cased and indexed once.
    if prefix.len() <= SHORT {
        let lower = prefix.to_ascii_lowercase();
        let positions: Vec<usize> = lower
            .match_indices(needle.as_str())
            .map(|(p, _)| p)
            .collect();
        return around(&lower, &positions, needle.len());
    }
    LOWERED.with(|cell| {
        let mut cached = cell.borrow_mut();
        if cached.original != prefix {
            *cached = Lowered::new(prefix);
        }
        let lower = cached.lower.as_str();
        match cached.index.get(&needle) {
            Some(p) => around(lower, p, needle.len()),
            // An address the index could not cut out (a quoted local part): look it up.
            None => {
                let positions: Vec<usize> = lower
                    .match_indices(needle.as_str())
                    .map(|(p, _)| p)
                    .take(4)
                    .collect();
                around(lower, &positions, needle.len())
            }
        }
    })
}

/// For up to four positions of a needle of `len` bytes in `lower`: the start of its line
/// and the `WINDOW` bytes after it.
fn around(lower: &str, positions: &[usize], len: usize) -> Vec<(String, String)> {
    positions
        .iter()
        .take(4)
        .map(|&at| {
            let after = at + len;
            let start = lower[..at].rfind('\n').map_or(0, |n| n + 1);
            let mut end = (after + WINDOW).min(lower.len());
            while !lower.is_char_boundary(end) {
                end -= 1;
            }
            (lower[start..at].to_string(), lower[after..end].to_string())
        })
        .collect()
}

/// The recipient's own paragraph (from its address to the next blank line), lower-cased
/// with whitespace folded: Postfix's `<addr>: host ... said: ...`, Gmail's "wasn't
/// delivered to <addr> because the address couldn't be found".
fn paragraph(window: &str) -> String {
    let para = window.split("\n\n").next().unwrap_or(window);
    if !para.is_ascii() {
        return para.split_whitespace().collect::<Vec<_>>().join(" ");
    }
    // The same in one pass over ASCII (the common case): ASCII blanks are exactly the
    // characters `split_whitespace` splits ASCII text at.
    let mut out = String::with_capacity(para.len());
    for word in para
        .split(|c: char| c.is_ascii_whitespace() || c == '\x0b')
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// The explanations the notification gives for one recipient, for a diagnostic that says
/// nothing: the paragraph after each mention of the address outside a `>>>` command line
/// (a Sendmail report names the address in its error list, then again in the transcript
/// with the cause: `<a@example.jp>... Deferred: Connection refused by mx.example.jp.`).
pub fn paragraphs_for(notification: &str, address: &str) -> Vec<String> {
    occurrences(notification, address)
        .into_iter()
        .filter(|(head, _)| !head.contains(">>>"))
        .map(|(_, tail)| paragraph(&tail))
        .filter(|p| !p.is_empty())
        .collect()
}

/// The stage for one recipient in the human-readable notification of a bounce (the text
/// part of a DSN, or the body of a non-standard one). Postfix explains each recipient as
/// `<addr>: host ... said: 550 ... (in reply to RCPT TO command)`; Sendmail, Courier and
/// others quote the session transcript: `>>> RCPT To:<addr>` then `<<< 550 ...` (refused at
/// RCPT TO), or `<<< 250 ...`, `>>> DATA`, `<<< 550 ...` (refused after DATA).
pub fn find_for(notification: &str, address: &str) -> Option<Stage> {
    for (head, tail) in occurrences(notification, address) {
        if head.contains(">>> rcpt to") {
            if let Some(stage) = transcript(&tail) {
                return Some(stage);
            }
            continue;
        }
        let para = paragraph(&tail);
        if let Some(stage) = find(&para).or_else(|| failed_command(&para)) {
            return Some(stage);
        }
    }
    None
}

/// In a recipient's own quoted exchange (Courier: `<addr>: host: >>> DATA <<< 550 ...`):
/// the command the first 4xx/5xx answer replied to.
fn failed_command(text: &str) -> Option<Stage> {
    let mut last = None;
    let mut rest = text;
    while let Some(at) = rest.find(">>>").into_iter().chain(rest.find("<<<")).min() {
        let is_reply = rest[at..].starts_with("<<<");
        rest = rest[at + 3..].trim_start();
        if is_reply {
            if matches!(rest.as_bytes().first(), Some(b'4' | b'5')) {
                return last;
            }
        } else {
            last = Stage::parse(rest);
        }
    }
    None
}

/// After `>>> RCPT To:<addr>`: the first server answer decides; a 2xx answer moves on to
/// the answer after `>>> DATA`. Transcripts may be on separate lines or run together.
fn transcript(after: &str) -> Option<Stage> {
    let mut stage = Stage::RcptTo;
    let mut rest = after;
    loop {
        let next = match (rest.find(">>>"), rest.find("<<<")) {
            (Some(c), Some(r)) => c.min(r),
            (Some(c), None) => c,
            (None, Some(r)) => r,
            (None, None) => return None,
        };
        let is_reply = rest[next..].starts_with("<<<");
        rest = &rest[next + 3..];
        let item = rest.trim_start();
        if is_reply {
            if matches!(item.as_bytes().first(), Some(b'4' | b'5')) {
                return Some(stage);
            }
            continue;
        }
        match Stage::parse(item) {
            Some(Stage::Data) => stage = Stage::Data,
            // Another recipient's command: this one was accepted.
            Some(Stage::RcptTo) if stage == Stage::RcptTo => return None,
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_sorted() {
        for list in [CONNECT, HELO, MAILFROM, RCPTTO, DATA] {
            assert!(list.windows(2).all(|w| w[0] < w[1]), "{list:?}");
            // `find` reads them through `phrases::Set`, where ` * ` would be a gap.
            assert!(list.iter().all(|p| !p.contains(" * ")), "{list:?}");
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
    fn finds_a_recipients_paragraph() {
        let gmail = "** Address not found **\n\nYour message wasn't delivered to a@example.it because the address couldn't be found. Check for typos.\n\nThe response was:\n";
        let para = paragraphs_for(gmail, "A@example.it").remove(0);
        assert!(
            para.starts_with("because the address couldn't be found"),
            "{para}"
        );
        assert!(!para.contains("the response was"), "{para}");
        assert!(paragraphs_for(gmail, "b@example.it").is_empty());
        // A long notification goes through the shared index.
        let mut long = "x".repeat(SHORT + 10);
        long.push_str("\n<c@example.org>: host mx.example.org said: 550 5.1.1 unknown (in reply to RCPT TO command)\n");
        assert_eq!(find_for(&long, "c@example.org"), Some(Stage::RcptTo));
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
        let one_line = ">>> RCPT TO:<f@example.jp> <<< 550 <f@example.jp>: User unknown";
        assert_eq!(find_for(one_line, "f@example.jp"), Some(Stage::RcptTo));
        let courier = "<g@example.jp>:\n    mx.example.jp [192.0.2.45]:\n>>> DATA\n<<< 550 Unknown user g@example.jp\n";
        assert_eq!(find_for(courier, "g@example.jp"), Some(Stage::Data));
    }
}
