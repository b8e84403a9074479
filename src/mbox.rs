//! mbox files (RFC 4155, `application/mbox`): split one file into its messages for
//! `rebound import` and `rebound parse`. Streams with bounded memory per message.
//!
//! Separator policy: a message starts at a `From ` line that is the first line of the file or
//! follows an empty line, and that looks like a real postmark (`From sender date`, where the
//! date has an `HH:MM` time: `From MAILER-DAEMON  Sat Nov 28 03:15:00 2026` as written by
//! Postfix local(8), procmail, Sendmail's prog mailer and mutt). A body line such as
//! `From here on, ...` after a blank line is therefore not a separator, which matters for
//! mboxo files whose writer did not quote it. The empty line before a separator belongs to
//! the separator, not to the message, and so does the one that ends the file. `Content-Length:` (mboxcl2) is not trusted: the
//! writers on the hosts rebound serves do not use it.
//!
//! Unquoting policy (mboxrd): a line `>From `, `>>From `, ... loses one `>`. This restores
//! mboxrd exactly; in an mboxo file a body line that truly began with `>From ` loses its `>`,
//! which classification does not mind. [`Unquote::None`] keeps the bytes as stored.

use std::io::BufRead;

/// What to do with `>From ` lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Unquote {
    /// Strip one `>` from lines matching `^>+From ` (mboxrd).
    #[default]
    Mboxrd,
    /// Keep every line as stored.
    None,
}

/// One message of an mbox file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MboxMessage {
    /// The `From ` line, without its line end.
    pub from_line: String,
    /// The message (headers and body), line ends as stored.
    pub data: Vec<u8>,
    /// 1-based line number of the `From ` line in the file.
    pub line: u64,
}

impl MboxMessage {
    /// The envelope sender of the postmark (`MAILER-DAEMON` for a bounce), `None` if empty.
    pub fn sender(&self) -> Option<String> {
        postmark(self.from_line.as_bytes())
            .map(|(s, _)| s)
            .filter(|s| !s.is_empty())
    }

    /// The postmark's date (asctime, `Sat Nov 28 03:15:00 2026`, taken as UTC) in Unix
    /// seconds, when it parses.
    pub fn date(&self) -> Option<i64> {
        postmark(self.from_line.as_bytes()).and_then(|(_, d)| asctime(&d))
    }
}

/// Is the file at `path`, whose first bytes are `prefix`, an mbox to split? A `.eml` file is
/// one message by convention, even when it starts with the `From ` line an MTA put there and
/// quotes another message's postmark in its body (a bounce that returns an mbox-style copy of
/// the original); any other file is an mbox when its first line is a postmark.
pub fn is_mbox_file(path: &std::path::Path, prefix: &[u8]) -> bool {
    let eml = path
        .extension()
        .is_some_and(|x| x.eq_ignore_ascii_case("eml"));
    !eml && looks_like_mbox(prefix)
}

/// Does this look like an mbox file (its first line a postmark)?
pub fn looks_like_mbox(prefix: &[u8]) -> bool {
    let first = prefix.split(|b| *b == b'\n').next().unwrap_or_default();
    is_postmark(first)
}

/// Is `line` (with or without its line end) a `From ` postmark?
pub fn is_postmark(line: &[u8]) -> bool {
    postmark(line).is_some()
}

/// (sender, date text) of a postmark line.
fn postmark(line: &[u8]) -> Option<(String, String)> {
    let line = trim_eol(line);
    let rest = line.strip_prefix(b"From ")?;
    let text = String::from_utf8_lossy(rest);
    let text = text.trim_start_matches(' ');
    let (sender, date) = match text.split_once([' ', '\t']) {
        Some((s, d)) => (s.to_string(), d.trim().to_string()),
        None => return None,
    };
    // A time `HH:MM` somewhere in the date is what tells a postmark from prose.
    let b = date.as_bytes();
    let has_time = b.windows(5).any(|w| {
        w[0].is_ascii_digit()
            && w[1].is_ascii_digit()
            && w[2] == b':'
            && w[3].is_ascii_digit()
            && w[4].is_ascii_digit()
    });
    has_time.then_some((sender, date))
}

fn trim_eol(line: &[u8]) -> &[u8] {
    let l = line.strip_suffix(b"\n").unwrap_or(line);
    l.strip_suffix(b"\r").unwrap_or(l)
}

fn is_blank(line: &[u8]) -> bool {
    trim_eol(line).is_empty()
}

/// Iterator over the messages of an mbox stream. I/O errors end it with an `Err`.
pub struct Reader<R> {
    input: R,
    unquote: Unquote,
    /// The postmark of the next message, already read.
    next_from: Option<(String, u64)>,
    line_no: u64,
    started: bool,
    done: bool,
    /// Lines before the first postmark (not an mbox, or junk at the top).
    pub skipped_lines: u64,
}

impl<R: BufRead> Reader<R> {
    pub fn new(input: R, unquote: Unquote) -> Reader<R> {
        Reader {
            input,
            unquote,
            next_from: None,
            line_no: 0,
            started: false,
            done: false,
            skipped_lines: 0,
        }
    }

    fn read_line(&mut self, buf: &mut Vec<u8>) -> std::io::Result<bool> {
        buf.clear();
        let n = self.input.read_until(b'\n', buf)?;
        if n > 0 {
            self.line_no += 1;
        }
        Ok(n > 0)
    }

    fn next_message(&mut self) -> std::io::Result<Option<MboxMessage>> {
        let mut line = Vec::new();
        if !self.started {
            self.started = true;
            // Find the first postmark; anything before it is not a message.
            let mut prev_blank = true;
            loop {
                if !self.read_line(&mut line)? {
                    return Ok(None);
                }
                if prev_blank && is_postmark(&line) {
                    let text = String::from_utf8_lossy(trim_eol(&line)).into_owned();
                    self.next_from = Some((text, self.line_no));
                    break;
                }
                prev_blank = is_blank(&line);
                self.skipped_lines += 1;
            }
        }
        let Some((from_line, at)) = self.next_from.take() else {
            return Ok(None);
        };
        let mut data: Vec<u8> = Vec::new();
        // A blank line is held back until we know whether a postmark follows it.
        let mut held: Option<Vec<u8>> = None;
        loop {
            if !self.read_line(&mut line)? {
                // A writer ends every message, the last one too, with the empty line that
                // separates it from the next (RFC 4155): it is not part of the message.
                break;
            }
            if held.is_some() && is_postmark(&line) {
                let text = String::from_utf8_lossy(trim_eol(&line)).into_owned();
                self.next_from = Some((text, self.line_no));
                break;
            }
            if let Some(h) = held.take() {
                data.extend_from_slice(&h);
            }
            if is_blank(&line) {
                held = Some(line.clone());
                continue;
            }
            match self.unquote {
                Unquote::Mboxrd if is_quoted_from(&line) => data.extend_from_slice(&line[1..]),
                _ => data.extend_from_slice(&line),
            }
        }
        Ok(Some(MboxMessage {
            from_line,
            data,
            line: at,
        }))
    }
}

/// `^>+From `.
fn is_quoted_from(line: &[u8]) -> bool {
    let n = line.iter().take_while(|b| **b == b'>').count();
    n > 0 && line[n..].starts_with(b"From ")
}

impl<R: BufRead> Iterator for Reader<R> {
    type Item = std::io::Result<MboxMessage>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.next_message() {
            Ok(Some(m)) => Some(Ok(m)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

/// asctime date of a postmark (`Sat Nov 28 03:15:00 2026`, optionally with a zone or the
/// year before the time), taken as UTC.
fn asctime(s: &str) -> Option<i64> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let words: Vec<&str> = s.split_whitespace().collect();
    let mut month = None;
    let mut day = None;
    let mut year = None;
    let mut hms = None;
    for w in &words {
        let lw = w.to_ascii_lowercase();
        if let Some(i) = MONTHS.iter().position(|m| lw.starts_with(m)) {
            month = Some(i as u32 + 1);
        } else if w.contains(':') {
            let p: Vec<i64> = w.split(':').filter_map(|x| x.parse().ok()).collect();
            if p.len() >= 2 {
                hms = Some((p[0], p[1], p.get(2).copied().unwrap_or(0)));
            }
        } else if let Ok(n) = w.parse::<u32>() {
            if n > 31 {
                year = Some(n);
            } else if day.is_none() {
                day = Some(n);
            }
        }
    }
    let (h, m, sec) = hms?;
    let date = format!("{:04}-{:02}-{:02}", year?, month?, day?);
    crate::store::time::parse(&date).map(|d| d + h * 3600 + m * 60 + sec)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(s: &str, u: Unquote) -> Vec<MboxMessage> {
        Reader::new(s.as_bytes(), u).map(|m| m.unwrap()).collect()
    }

    #[test]
    fn splits_on_postmarks_after_blank_lines() {
        let mbox = "From MAILER-DAEMON  Sat Nov 28 03:15:00 2026\nSubject: one\n\nbody\n\nFrom here on, prose.\n>From the quoted line\n\nFrom bounce@example.net Sat Nov 28 04:00:00 2026\r\nSubject: two\r\n\r\nx\r\n";
        let m = split(mbox, Unquote::Mboxrd);
        assert_eq!(m.len(), 2);
        assert_eq!(
            String::from_utf8_lossy(&m[0].data),
            "Subject: one\n\nbody\n\nFrom here on, prose.\nFrom the quoted line\n"
        );
        assert_eq!(m[0].sender().as_deref(), Some("MAILER-DAEMON"));
        assert_eq!(
            m[0].date().map(crate::store::time::format).as_deref(),
            Some("2026-11-28T03:15:00Z")
        );
        assert_eq!(m[1].line, 9);
        assert_eq!(
            String::from_utf8_lossy(&m[1].data),
            "Subject: two\r\n\r\nx\r\n"
        );
        let raw = split(mbox, Unquote::None);
        assert!(String::from_utf8_lossy(&raw[0].data).contains(">From the quoted"));
    }

    #[test]
    fn not_an_mbox() {
        assert!(!looks_like_mbox(b"Return-Path: <>\nFrom: x\n"));
        assert!(!looks_like_mbox(b"From: MAILER-DAEMON\n"));
        assert!(looks_like_mbox(
            b"From MAILER-DAEMON Sat Nov 28 03:15:00 2026\n"
        ));
        let mut r = Reader::new(&b"Subject: x\n\nbody\n"[..], Unquote::Mboxrd);
        assert!(r.next().is_none());
        assert_eq!(r.skipped_lines, 3);
    }

    #[test]
    fn mboxrd_unquotes_one_level() {
        let m = split(
            "From a@example.com Sat Nov 28 03:15:00 2026\n\n>>From x\n>From y\n>Fromage\n",
            Unquote::Mboxrd,
        );
        assert_eq!(
            String::from_utf8_lossy(&m[0].data),
            "\n>From x\nFrom y\n>Fromage\n"
        );
    }

    /// mboxrd writing: quote every `^>*From ` line with one more `>`.
    fn write_mboxrd(messages: &[String]) -> String {
        let mut out = String::new();
        for m in messages {
            out.push_str("From MAILER-DAEMON  Sat Nov 28 03:15:00 2026\n");
            for line in m.split_inclusive('\n') {
                let n = line.bytes().take_while(|b| *b == b'>').count();
                if line[n..].starts_with("From ") {
                    out.push('>');
                }
                out.push_str(line);
            }
            out.push('\n');
        }
        out
    }

    proptest::proptest! {
        #[test]
        fn mboxrd_round_trip(bodies in proptest::collection::vec(
            proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::strategy::Just("From here on 10:00 it goes\n".to_string()),
                    proptest::strategy::Just(">From quoted\n".to_string()),
                    proptest::strategy::Just("\n".to_string()),
                    "[a-zA-Z0-9 :>]{0,20}\n",
                ],
                0..12,
            ),
            1..5,
        )) {
            let messages: Vec<String> = bodies
                .iter()
                .map(|lines| format!("Subject: x\n\n{}", lines.concat()))
                .collect();
            let text = write_mboxrd(&messages);
            let got: Vec<String> = Reader::new(text.as_bytes(), Unquote::Mboxrd)
                .map(|m| String::from_utf8(m.unwrap().data).unwrap())
                .collect();
            proptest::prop_assert_eq!(got, messages);
        }

        #[test]
        fn any_bytes_split_without_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..2000)) {
            let mut with_postmark = b"From a@example.com Sat Nov 28 03:15:00 2026\n".to_vec();
            with_postmark.extend_from_slice(&bytes);
            for input in [&bytes[..], &with_postmark[..]] {
                for m in Reader::new(input, Unquote::Mboxrd) {
                    let m = m.unwrap();
                    let _ = (m.sender(), m.date());
                }
            }
        }
    }
}
