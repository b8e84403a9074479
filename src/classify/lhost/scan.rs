//! Shared text scanners for the non-standard bounce formats in `lhost/`: where the human-readable
//! report ends and the returned message begins, e-mail addresses in free text, RFC 3463 enhanced
//! status codes, RFC 5321 reply codes and the remote host an MTA names. Formats use these to
//! *extract*; nothing here interprets a reason. Every scanner is linear in its input and works
//! on a bounded prefix of the report, so a 100 MB returned message costs nothing.

use crate::classify::message::Message;
use crate::classify::verdict::{Action, Recipient};

/// The most report text any format looks at. Human-readable bounce texts are a few KiB, but
/// a list bounce can name thousands of addresses (about 100 bytes each in Exim's layout); the
/// rest of a large single-part bounce is the returned message.
pub(crate) const REPORT_LIMIT: usize = 512 * 1024;

/// Lines (lower-case, trimmed, compared as prefixes) after which a single-part bounce carries
/// the returned message rather than the report.
pub(crate) const RETURNED_MARKERS: &[&str] = &[
    "--- below this line is a copy of the message.", // seen in lhost-qmail-01 (qmail-send)
    "--- enclosed is a copy of the message.",        // seen in lhost-qmail-20 (indimail)
    "--- original message follows.",                 // seen in lhost-x2-01 (Yahoo! classic)
    "--- the header of the original message is following. ---", // 1&1 (Exim derivative)
    "----- original message -----",                  // common MUA/MTA wording
    "----- original message follows -----",          // Exchange / generic wording
    "----- this is a copy of the message, including", // seen in lhost-exim-05 (Exim 2)
    "----- unsent message follows -----",            // seen in lhost-v5sendmail-01 (Sendmail 5)
    "------ this is a copy of the message's headers.", // Exim with bounce_return_body false
    "------ this is a copy of the message, including", // seen in lhost-exim-01 (Exim 4)
    "------- returned message --------",             // seen in lhost-notes-01 (Lotus Notes)
    "-------original mail info",                     // seen in lhost-mfilter-03 (m-FILTER)
    "-------original message",                       // seen in lhost-mfilter-01 (m-FILTER)
    "content-type: message/rfc822",                  // inline MIME parts in a text body
    "included is a copy of the message header:",     // seen in lhost-mxlogic-01 (MX Logic)
    "message headers follow.",                       // seen in lhost-dragonfly-01 (DMA)
    "original mail as follows:",                     // seen in lhost-fml-03 (fml)
    "original message follows.",                     // seen in lhost-imailserver-01 (IMail)
    "original message headers:", // Exchange 2007+ / Office 365 text notice, seen in lhost-office365-02
];

/// The report text of a message: its first top-level text part, cut where the returned
/// message begins (one of `RETURNED_MARKERS`), at most `REPORT_LIMIT` bytes.
pub(crate) fn report_text(msg: &Message) -> &str {
    // Every format that looks asks: cut once per classification (`memo`).
    let text = bounded(msg.body_text());
    let len = crate::classify::memo::report_len(msg, || cut_at(text, RETURNED_MARKERS).len());
    text.get(..len).unwrap_or(text)
}

/// A header of the returned message that a single-part bounce carries inline after one of
/// `RETURNED_MARKERS` (qmail, Sendmail 5, Exim, IMail): the first header block after the
/// marker, unfolded. `None` when there is no marker or no such header before the blank line.
pub(crate) fn inline_returned_header(msg: &Message, name: &str) -> Option<String> {
    let text = bounded(msg.body_text());
    let report = report_text(msg);
    let rest = &text[report.len()..];
    let mut lines = rest.lines().skip(1).skip_while(|l| l.trim().is_empty());
    let mut value: Option<String> = None;
    for line in lines.by_ref() {
        if line.trim().is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            if let Some(v) = value.as_mut() {
                v.push(' ');
                v.push_str(line.trim());
            }
            continue;
        }
        if value.is_some() {
            break;
        }
        if let Some((n, v)) = line.split_once(':') {
            if n.trim().eq_ignore_ascii_case(name) {
                value = Some(v.trim().to_string());
            }
        }
    }
    value
}

/// `s` truncated to `REPORT_LIMIT` bytes on a character boundary.
pub(crate) fn bounded(s: &str) -> &str {
    if s.len() <= REPORT_LIMIT {
        return s;
    }
    let mut end = REPORT_LIMIT;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// `text` up to (not including) the first line that starts, after trimming and lower-casing,
/// with one of `markers` (lower-case).
pub(crate) fn cut_at<'a>(text: &'a str, markers: &[&str]) -> &'a str {
    // The first byte of a line (past ASCII blanks) rules out most lines before any marker
    // is compared; a line starting with a non-ASCII byte (U+3000 is a blank to `trim`)
    // takes the full comparison.
    let mut firsts = [false; 128];
    let mut any_line = false;
    for m in markers {
        match m.as_bytes().first() {
            Some(&b) if b.is_ascii() => firsts[usize::from(b.to_ascii_lowercase())] = true,
            Some(_) => {}
            None => any_line = true,
        }
    }
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let lead = line
            .bytes()
            .find(|b| !matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'));
        let candidate = match lead {
            None => false,
            Some(b) if b.is_ascii() => any_line || firsts[usize::from(b.to_ascii_lowercase())],
            Some(_) => true,
        };
        if candidate {
            let t = line.trim().as_bytes();
            if !t.is_empty() && markers.iter().any(|m| starts_with_lc(t, m.as_bytes())) {
                return &text[..offset];
            }
        }
        offset += line.len();
    }
    text
}

/// The part of `text` after the first line containing `marker` (lower-case), or `None`.
pub(crate) fn after_line<'a>(text: &'a str, marker: &str) -> Option<&'a str> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        offset += line.len();
        if contains_lc(line.as_bytes(), marker.as_bytes()) {
            return Some(&text[offset..]);
        }
    }
    None
}

/// `s.to_ascii_lowercase().starts_with(lower)`, without lower-casing a copy of `s` (which
/// cost an allocation per line of every report, for every format that looked). A `lower`
/// with an upper-case ASCII letter matches nothing, as before.
fn starts_with_lc(s: &[u8], lower: &[u8]) -> bool {
    s.get(..lower.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(lower))
        && !lower.iter().any(u8::is_ascii_uppercase)
}

/// `s.to_ascii_lowercase().contains(lower)`, without the copy (see `starts_with_lc`).
pub(crate) fn contains_lc(s: &[u8], lower: &[u8]) -> bool {
    let Some(&first) = lower.first() else {
        return true;
    };
    if lower.iter().any(u8::is_ascii_uppercase) {
        return false;
    }
    let fits = |at: usize| {
        s.get(at..at + lower.len())
            .is_some_and(|w| w.eq_ignore_ascii_case(lower))
    };
    // Candidates by the first byte in either case (a SIMD scan), then the whole needle.
    let upper = first.to_ascii_uppercase();
    if upper == first {
        crate::classify::find::positions(first, s).any(fits)
    } else {
        crate::classify::find::positions2(first, upper, s).any(fits)
    }
}

/// Does the message carry a usable RFC 3464 `message/delivery-status` part (one recipient or
/// more)? Formats whose MTA also writes one leave such messages to the DSN parser and only
/// handle the text-only ones.
/// A recipient that is a pipe or a file (Exim's `Final-Recipient: rfc822;/var/mail/x`, seen in
/// lhost-exim-60) or one without a local part (`@mx.example.org`, lhost-sendmail-15) does not count: the text names the address behind it.
pub(crate) fn has_dsn(msg: &Message) -> bool {
    crate::classify::rfc3464::parse(msg).is_some_and(|p| {
        !p.recipients.is_empty()
            && p.recipients
                .iter()
                .all(|r| usable(&r.address) || r.original.as_deref().is_some_and(usable))
    })
}

/// An address with a local part, not a pipe or a file. A source route (`@relay:user@host`,
/// Sun Messaging Server, lhost-messagingserver-02) still names a mailbox.
fn usable(address: &str) -> bool {
    address.rfind('@').is_some_and(|at| at > 0) && !address.starts_with(['/', '|'])
}

/// When the text names one recipient and the DSN part one other (a pipe or file, a routed or
/// mangled address: lhost-exim-60, lhost-domino-03), the DSN's fields still describe it: fill
/// what the text left empty. The pipeline's own fill matches by address only.
pub(crate) fn fill_single_from_dsn(msg: &Message, recipients: &mut [Recipient]) {
    let [r] = recipients else {
        return;
    };
    let Some(dsn) = crate::classify::rfc3464::parse(msg) else {
        return;
    };
    let [d] = dsn.recipients.as_slice() else {
        return;
    };
    if r.status.is_none() {
        r.status.clone_from(&d.status);
    }
    if r.reply_code.is_none() {
        r.reply_code.clone_from(&d.reply_code);
    }
    if r.remote_mta.is_none() {
        r.remote_mta.clone_from(&d.remote_mta);
    }
    if r.diagnostic.is_none() {
        r.diagnostic.clone_from(&d.diagnostic);
    }
}

/// Lower-cased top-level header value, empty when absent.
pub(crate) fn header_lc(msg: &Message, name: &str) -> String {
    msg.header(name).unwrap_or("").to_ascii_lowercase()
}

/// Is the report sent by a mailer daemon / postmaster (From or its absence)?
pub(crate) fn from_daemon(msg: &Message) -> bool {
    let from = header_lc(msg, "from");
    from.is_empty()
        || from.contains("mailer-daemon")
        || from.contains("postmaster")
        || from.contains("mail delivery")
        || from.contains("<>")
}

fn is_local_char(c: char) -> bool {
    // '%' too: source-routed local parts ("user%domain@relay") seen in lhost-exim-60
    c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.%".contains(c)
}

fn is_domain_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_'
}

/// Every e-mail address in `s` (bare, in `<>`, after `mailto:` or `rfc822;`), lower-cased, in
/// order of appearance, without duplicates.
pub(crate) fn addresses_in(s: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let bytes = s.as_bytes();
    for (at, _) in s.match_indices('@') {
        let mut start = at;
        while start > 0 {
            let c = bytes[start - 1] as char;
            if bytes[start - 1] < 0x80 && is_local_char(c) {
                start -= 1;
            } else {
                break;
            }
        }
        let mut end = at + 1;
        while end < bytes.len() && bytes[end] < 0x80 && is_domain_char(bytes[end] as char) {
            end += 1;
        }
        let local = s[start..at].trim_start_matches(['.', '\'', '=', '/']);
        let local = local.strip_prefix("mailto:").unwrap_or(local);
        let domain = s[at + 1..end].trim_end_matches(['.', '-', '_']);
        if local.is_empty() || domain.is_empty() || !domain.chars().any(|c| c.is_ascii_alphabetic())
        {
            continue;
        }
        let addr = format!("{local}@{domain}").to_ascii_lowercase();
        if !out.contains(&addr) {
            out.push(addr);
        }
    }
    out
}

/// The first e-mail address in `s`.
pub(crate) fn first_address(s: &str) -> Option<String> {
    addresses_in(s).into_iter().next()
}

/// The first RFC 3463 enhanced status code (`X.Y.Z`, class 2, 4 or 5) in `s`. Not one that is
/// part of an IP address, a version number or a longer dotted string.
pub(crate) fn status_in(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if matches!(c, b'2' | b'4' | b'5')
            && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'.'))
            && b.get(i + 1) == Some(&b'.')
        {
            let (n1, j) = digits(b, i + 2);
            if (1..=3).contains(&n1) && b.get(j) == Some(&b'.') {
                let (n2, k) = digits(b, j + 1);
                let followed_ok = match b.get(k) {
                    None => true,
                    Some(&d) if d.is_ascii_alphanumeric() => false,
                    Some(b'.') => !b.get(k + 1).is_some_and(u8::is_ascii_digit),
                    Some(_) => true,
                };
                if (1..=3).contains(&n2) && followed_ok {
                    return Some(s[i..k].to_string());
                }
            }
        }
        i += 1;
    }
    None
}

fn digits(b: &[u8], from: usize) -> (usize, usize) {
    let mut j = from;
    while j < b.len() && b[j].is_ascii_digit() {
        j += 1;
    }
    (j - from, j)
}

/// The first SMTP reply code (`2xx`, `4xx`, `5xx`) in `s` that stands as a word (followed by
/// a space, `-` or the end, not part of a number, address, date or time).
pub(crate) fn reply_code_in(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut i = 0;
    while i + 3 <= b.len() {
        if matches!(b[i], b'2' | b'4' | b'5')
            && b[i + 1].is_ascii_digit()
            && b[i + 2].is_ascii_digit()
            && (i == 0
                || matches!(
                    b[i - 1],
                    b' ' | b'\t' | b'\n' | b'\r' | b'[' | b'(' | b'"' | b':' | b'='
                ))
            && (i < 1 || b[i - 1] != b':' || i < 3 || !b[i - 2].is_ascii_digit())
            && match b.get(i + 3) {
                None => true,
                // ':' and ',' too: Yahoo "550: : User unknown", Zoho "ERROR_CODE :421,"
                Some(&c) => matches!(
                    c,
                    b' ' | b'-' | b'\r' | b'\n' | b'\t' | b']' | b')' | b':' | b','
                ),
            }
        {
            return Some(s[i..i + 3].to_string());
        }
        i += 1;
    }
    None
}

/// The host an MTA names as the remote side: `host NAME [IP]` (Exim), `NAME [IP] did not
/// like` (DMA), `remote host IP said` (qmail).
pub(crate) fn remote_host_in(s: &str) -> Option<String> {
    let lower = s.to_ascii_lowercase();
    for key in ["host ", "server "] {
        let mut from = 0;
        while let Some(pos) = lower[from..].find(key) {
            let start = from + pos + key.len();
            let word: String = s[start..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':'))
                .collect();
            let word = word.trim_end_matches(['.', ':']);
            if word.contains('.') && !word.starts_with('.') {
                return Some(word.to_ascii_lowercase());
            }
            from = start;
        }
    }
    None
}

/// Keep the first recipient of each address, in order. Linear, for reports that name
/// thousands of addresses.
pub(crate) fn dedupe(recipients: &mut Vec<Recipient>) {
    let mut seen = std::collections::HashSet::new();
    recipients.retain(|r| seen.insert(r.address.clone()));
}

/// Collapse runs of whitespace to one space and trim.
pub(crate) fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A recipient of `address` whose status, reply code, diagnostic and remote host come from
/// `diagnostic` (the MTA's text about it). `action` is what the format's wording says.
/// For a failure or a delay only a 4xx/5xx code counts: a transcript's `250 2.1.0 Ok` before
/// the refusal is not the recipient's status.
pub(crate) fn recipient(address: &str, action: Action, diagnostic: &str) -> Recipient {
    let diag = squash(diagnostic);
    let failure = matches!(action, Action::Failed | Action::Delayed);
    Recipient {
        address: address.trim().trim_matches(['<', '>']).to_ascii_lowercase(),
        action: Some(action),
        status: if failure {
            failure_code(&diag, status_in)
        } else {
            status_in(&diag)
        },
        reply_code: if failure {
            failure_code(&diag, reply_code_in)
        } else {
            reply_code_in(&diag)
        },
        remote_mta: remote_host_in(&diag),
        diagnostic: (!diag.is_empty()).then_some(diag),
        ..Recipient::default()
    }
}

/// The first code `find` sees in `s` that is not of class 2 (success).
fn failure_code(s: &str, find: fn(&str) -> Option<String>) -> Option<String> {
    let mut rest = s;
    while let Some(code) = find(rest) {
        if !code.starts_with('2') {
            return Some(code);
        }
        // Continue after this occurrence (codes are ASCII, so the offset is a boundary).
        let at = rest
            .find(code.as_str())
            .map_or(rest.len(), |p| p + code.len());
        rest = &rest[at..];
    }
    None
}

/// One recipient's lines in a report: the line that opened it and the lines that follow.
#[derive(Debug, Clone)]
pub(crate) struct Block<'a> {
    pub address: String,
    pub first: &'a str,
    pub lines: Vec<&'a str>,
}

/// Split `text` into per-recipient blocks: `start` recognises a line that opens a block and
/// returns its address; every following line up to the next opening line belongs to it.
/// Lines before the first opening line are dropped. Linear in the text.
pub(crate) fn blocks<'a>(text: &'a str, start: impl Fn(&str) -> Option<String>) -> Vec<Block<'a>> {
    let mut out: Vec<Block<'a>> = Vec::new();
    for line in text.lines() {
        if let Some(address) = start(line) {
            out.push(Block {
                address,
                first: line,
                lines: Vec::new(),
            });
        } else if let Some(last) = out.last_mut() {
            last.lines.push(line);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_codes() {
        assert_eq!(
            status_in("550 5.1.1 <a@example.com>").as_deref(),
            Some("5.1.1")
        );
        assert_eq!(status_in("(#4.4.1)").as_deref(), Some("4.4.1"));
        assert_eq!(
            status_in("550-5.7.26 Unauthenticated").as_deref(),
            Some("5.7.26")
        );
        assert_eq!(status_in("host [192.0.2.5] said 550"), None);
        assert_eq!(status_in("Exim 4.5.2.1"), None);
        assert_eq!(status_in("v5.5.2657.72"), None);
        assert_eq!(status_in("[#4.1.9]."), Some("4.1.9".into()));
    }

    #[test]
    fn reply_codes() {
        assert_eq!(
            reply_code_in("host x [192.0.2.1]: 550 5.1.1 no").as_deref(),
            Some("550")
        );
        assert_eq!(reply_code_in("550-5.7.26 Unauth").as_deref(), Some("550"));
        assert_eq!(reply_code_in("at 23:34:45 +0900"), None);
        assert_eq!(reply_code_in("192.0.2.250 said"), None);
        assert_eq!(reply_code_in("550: : User unknown").as_deref(), Some("550"));
        assert_eq!(reply_code_in("ERROR_CODE :421, x").as_deref(), Some("421"));
        assert_eq!(reply_code_in("at 12:45:00"), None);
    }

    #[test]
    fn addresses() {
        assert_eq!(
            addresses_in("<a@Example.com>: rejected, mailto:b@example.net. c@d"),
            vec!["a@example.com", "b@example.net", "c@d"]
        );
        assert!(addresses_in("user@[192.0.2.1]").is_empty());
        assert_eq!(
            first_address("rfc822;x.y@example.jp").as_deref(),
            Some("x.y@example.jp")
        );
    }

    #[test]
    fn cut_and_blocks() {
        let t = "a\n<x@example.com>:\nsaid 550\n--- Below this line is a copy of the message.\nTo: y@example.com\n";
        let r = cut_at(t, RETURNED_MARKERS);
        let b = blocks(r, |l| {
            l.starts_with('<').then(|| first_address(l)).flatten()
        });
        assert_eq!(b.len(), 1);
        assert_eq!(b[0].address, "x@example.com");
        assert_eq!(b[0].first, "<x@example.com>:");
        assert_eq!(b[0].lines, vec!["said 550"]);
    }

    /// `cut_at` as it was written first: lower-case every trimmed line.
    fn cut_at_reference<'a>(text: &'a str, markers: &[&str]) -> &'a str {
        let mut offset = 0;
        for line in text.split_inclusive('\n') {
            let t = line.trim().to_ascii_lowercase();
            if !t.is_empty() && markers.iter().any(|m| t.starts_with(m)) {
                return &text[..offset];
            }
            offset += line.len();
        }
        text
    }

    proptest::proptest! {
        /// Lines of marker pieces, blanks (ASCII and Unicode) and noise.
        #[test]
        fn cut_at_agrees_with_lowercasing_lines(
            lines in proptest::collection::vec(
                (0usize..40, 0usize..60, "[ \t\u{3000}\u{a0}]{0,2}", "[a-zA-Z -]{0,4}", proptest::bool::ANY),
                0..8,
            )
        ) {
            let mut text = String::new();
            for (which, len, blank, noise, upper) in lines {
                let m = RETURNED_MARKERS[which % RETURNED_MARKERS.len()];
                let m = &m[..len.min(m.len())];
                text.push_str(&blank);
                text.push_str(&if upper { m.to_ascii_uppercase() } else { m.to_string() });
                text.push_str(&noise);
                text.push('\n');
            }
            proptest::prop_assert_eq!(cut_at(&text, RETURNED_MARKERS), cut_at_reference(&text, RETURNED_MARKERS));
            let odd = ["", "Upper", "\u{3000}x", "x"];
            proptest::prop_assert_eq!(cut_at(&text, &odd[1..]), cut_at_reference(&text, &odd[1..]));
            proptest::prop_assert_eq!(cut_at(&text, &odd), cut_at_reference(&text, &odd));
        }
    }

    proptest::proptest! {
        /// The allocation-free comparisons agree with lower-casing a copy.
        #[test]
        fn case_folding_matches_lowercasing(s in "[a-cA-C é-]{0,12}", m in "[a-cA-C é-]{0,4}") {
            let lc = s.to_ascii_lowercase();
            proptest::prop_assert_eq!(starts_with_lc(s.as_bytes(), m.as_bytes()), lc.starts_with(m.as_str()));
            proptest::prop_assert_eq!(contains_lc(s.as_bytes(), m.as_bytes()), lc.contains(m.as_str()));
        }
    }

    #[test]
    fn inline_returned() {
        let raw = b"From: MAILER-DAEMON\nSubject: x\n\nreport\n   ----- Unsent message follows -----\nReceived: by x;\n    Thu, 29 Apr 1995\nTo: a@example.com,\n  b@example.net\nSubject: s\n\nTo: c@example.org\n";
        let msg = Message::parse(raw);
        assert_eq!(
            inline_returned_header(&msg, "to").as_deref(),
            Some("a@example.com, b@example.net")
        );
        assert_eq!(inline_returned_header(&msg, "cc"), None);
    }

    #[test]
    fn failure_codes_skip_success() {
        let r = recipient(
            "a@example.com",
            Action::Failed,
            "<-- 250 2.1.0 Ok --> RCPT To:<a@example.com> <-- 550 5.1.1 unknown",
        );
        assert_eq!(r.status.as_deref(), Some("5.1.1"));
        assert_eq!(r.reply_code.as_deref(), Some("550"));
    }

    #[test]
    fn remote_host() {
        assert_eq!(
            remote_host_in("host mx.example.jp [192.0.2.20]: 550").as_deref(),
            Some("mx.example.jp")
        );
    }
}

#[cfg(test)]
mod robustness {
    use crate::classify::lhost::FORMATS;
    use crate::classify::message::Message;

    /// Every format survives report texts built from its own markers in odd orders, with
    /// multi-byte characters next to every marker, and stays fast on thousands of recipients.
    #[test]
    fn formats_survive_marker_soup() {
        let pieces = [
            "The following address(es) failed:\n",
            "  ü@é.example.jp\n",
            "<a@example.com>:\n",
            "Remote host said: 550 5.1.1 ",
            ">>> RCPT To:<b@example.net>\n<<< 550 ",
            "----- Transcript of session follows -----\n",
            "   ----- The following addresses had permanent fatal errors -----\n",
            "did not reach the following recipient(s):\n",
            "x@example.org on Tue\n",
            "list of recipients:\nc@example.org: 550 5.1.1 x\n",
            "was not delivered to:\n\n",
            "because:\n",
            "------- Failure Reasons  --------\n",
            "-------server message\n",
            "Unable to deliver message to: <d@example.jp>\n",
            "There was an error delivering your mail to <e@example.jp>.\n",
            " In:  RCPT TO:\u{e9}\n Out: 5",
            "\u{3042}\u{3044}:@\n",
            "Hi. This is the qmail-send program\n",
            "This is the MAILER-DAEMON\n",
            "rejected recipient <",
            "  pipe to |/bin/x\n    generated by \n",
        ];
        let subjects = [
            "Mail delivery failed",
            "failure notice",
            "Returned mail: x",
            "Undeliverable: x",
            "Delivery status notification: error",
            "Postfix SMTP server: errors from x",
            "DELIVERY FAILURE: x",
            "Undeliverable message",
            "Delivery failure",
        ];
        let mut seed: u64 = 7;
        for round in 0..400 {
            let mut body = String::new();
            for _ in 0..12 {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                body.push_str(pieces[(seed >> 33) as usize % pieces.len()]);
            }
            let raw = format!(
                "From: MAILER-DAEMON@example.com\nSubject: {}\nX-Mailer: <SMTP32 v8>\n\n{body}",
                subjects[round % subjects.len()]
            );
            let msg = Message::parse(raw.as_bytes());
            for f in FORMATS {
                if (f.sniff)(&msg) {
                    let _ = (f.parse)(&msg);
                }
            }
        }
    }

    #[test]
    fn thousands_of_recipients_stay_linear() {
        let mut body = String::from(
            "This message was created automatically by mail delivery software.\n\n\
             A message that you sent could not be delivered to one or more of its\n\
             recipients. This is a permanent error. The following address(es) failed:\n\n",
        );
        for i in 0..10_000 {
            body.push_str(&format!("  u{i}@example.com\n    550 5.1.1 no\n"));
        }
        let raw = format!(
            "From: Mail Delivery System <Mailer-Daemon@example.com>\n\
             Subject: Mail delivery failed: returning message to sender\n\n{body}"
        );
        let msg = Message::parse(raw.as_bytes());
        let start = std::time::Instant::now();
        for f in FORMATS {
            if (f.sniff)(&msg) {
                let _ = (f.parse)(&msg);
            }
        }
        assert!(start.elapsed() < std::time::Duration::from_secs(5));
        let exim = FORMATS.iter().find(|f| f.name == "exim").unwrap();
        assert_eq!((exim.parse)(&msg).unwrap().recipients.len(), 10_000);
    }
}
