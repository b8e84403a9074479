//! A tolerant, read-only view of one message for the classifiers: top-level headers (unfolded,
//! RFC 2047-decoded where unstructured), every MIME leaf in document order with its content
//! type and decoded text, and the header blocks of the returned messages (`message/rfc822`,
//! `text/rfc822-headers`). Built on mail-parser; `message/delivery-status` and
//! `message/feedback-report` bodies come through as raw text for `fields.rs` to parse.
//!
//! Bounded work: only the first `MAX_BYTES` of the input are parsed (the report parts of a DSN
//! or ARF come before the returned message, RFC 3464 section 2 and RFC 5965 section 2), nested
//! messages are followed `MAX_DEPTH` levels deep and at most `MAX_PARTS` leaves are kept, so
//! the time spent does not grow with the returned message. Never fails: unparsable input gives
//! a view with the input as one text part.

use mail_parser::{HeaderName, HeaderValue, MessageParser, MimeHeaders, PartType};

/// Bytes of the input looked at. A report's own parts fit in a few kilobytes; this leaves
/// room for ten thousand recipient blocks.
pub const MAX_BYTES: usize = 2 * 1024 * 1024;
/// Levels of `message/rfc822` followed (a bounce of a bounce of a bounce is three).
pub const MAX_DEPTH: usize = 8;
/// MIME leaves kept.
pub const MAX_PARTS: usize = 256;

/// One MIME leaf.
#[derive(Debug, Clone)]
pub struct Part {
    /// Lower-case `type/subtype`, `text/plain` when absent.
    pub content_type: String,
    /// Nesting depth of message/rfc822 containers (0 = the report itself).
    pub depth: usize,
    /// Decoded body as text (lossy UTF-8 for binary bodies).
    pub text: String,
}

/// The header block of a returned (or reported) message: a `message/rfc822` part's headers
/// or a `text/rfc822-headers` body.
#[derive(Debug, Clone, Default)]
pub struct Attached {
    /// Depth of the message these headers open (1 = returned by the report itself).
    pub depth: usize,
    /// Lower-case name, unfolded value, in order.
    pub headers: Vec<(String, String)>,
}

impl Attached {
    /// First value of a header (name case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        find(&self.headers, name)
    }
}

/// The classifier's view of a message.
#[derive(Debug, Clone, Default)]
pub struct Message {
    /// Top-level headers in order: lower-case name, unfolded decoded value.
    pub headers: Vec<(String, String)>,
    /// All leaves in order, nested messages included (with depth > 0).
    pub parts: Vec<Part>,
    /// Header blocks of embedded messages, in document order.
    pub attached: Vec<Attached>,
    /// True when the input was cut at `MAX_BYTES` or nesting/part limits were hit.
    pub truncated: bool,
}

impl Message {
    pub fn parse(raw: &[u8]) -> Message {
        let mut truncated = false;
        let raw = if raw.len() > MAX_BYTES {
            truncated = true;
            &raw[..MAX_BYTES]
        } else {
            raw
        };
        let raw = skip_mbox_line(raw);
        let normalized;
        let raw = if is_cr_only(raw) {
            normalized = raw
                .iter()
                .map(|&b| if b == b'\r' { b'\n' } else { b })
                .collect::<Vec<u8>>();
            &normalized[..]
        } else {
            raw
        };
        let mut out = Message {
            truncated,
            ..Message::default()
        };
        let parsed = parser().parse(raw);
        let Some(parsed) = parsed.filter(|p| !p.headers().is_empty()) else {
            out.parts.push(Part {
                content_type: "text/plain".into(),
                depth: 0,
                text: String::from_utf8_lossy(raw).into_owned(),
            });
            return out;
        };
        out.headers = headers_of(&parsed, 0);
        collect(&parsed, 0, &mut out);
        out
    }

    /// First value of a top-level header (name case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        find(&self.headers, name)
    }

    /// Every value of a top-level header, in order.
    pub fn headers_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The first body part of a given type (e.g. `message/delivery-status`).
    pub fn part(&self, content_type: &str) -> Option<&Part> {
        self.parts.iter().find(|p| p.content_type == content_type)
    }

    /// Every body part of a given type, in order.
    pub fn parts_of<'a>(&'a self, content_type: &'a str) -> impl Iterator<Item = &'a Part> + 'a {
        self.parts
            .iter()
            .filter(move |p| p.content_type == content_type)
    }

    /// The first `text/*` part of the report itself (depth 0), the human-readable bounce.
    /// `text/plain` is preferred over `text/html`.
    pub fn body_text(&self) -> &str {
        self.parts
            .iter()
            .find(|p| p.depth == 0 && p.content_type == "text/plain")
            .or_else(|| {
                self.parts
                    .iter()
                    .find(|p| p.depth == 0 && p.content_type.starts_with("text/"))
            })
            .map(|p| p.text.as_str())
            .unwrap_or("")
    }

    /// The headers of the returned message (the first embedded header block), if any.
    pub fn returned(&self) -> Option<&Attached> {
        self.attached.first()
    }

    /// A header of the returned message.
    pub fn returned_header(&self, name: &str) -> Option<&str> {
        self.returned().and_then(|a| a.header(name))
    }
}

/// mail-parser as configured here, built once: every header its defaults parse is parsed the
/// same way, except Received, the address headers (From, To, List-*, ...) and the headers it
/// does not know, which it skips (their place is kept). `headers_of` reads those from their
/// raw bytes anyway, and parsing them into structures nobody read (or copying them) cost 8%
/// of the instructions of `rebound parse`. (Date and Message-ID stay:
/// mail-parser's date parser may run past the end of a malformed field, and what it
/// swallows must not change.)
fn parser() -> &'static MessageParser {
    static PARSER: std::sync::OnceLock<MessageParser> = std::sync::OnceLock::new();
    PARSER.get_or_init(|| {
        MessageParser::new()
            .with_mime_headers()
            .header_text(HeaderName::Subject)
            .header_text(HeaderName::Comments)
            .header_date(HeaderName::Date)
            .header_date(HeaderName::ResentDate)
            .header_id(HeaderName::MessageId)
            .header_id(HeaderName::References)
            .header_id(HeaderName::InReplyTo)
            .header_id(HeaderName::ReturnPath)
            .header_id(HeaderName::ResentMessageId)
            .header_comma_separated(HeaderName::Keywords)
            .header_comma_separated(HeaderName::ContentLanguage)
            .default_header_ignore()
    })
}

fn find<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// An mbox `From ` separator line (or its `>From ` escape) before the headers.
fn skip_mbox_line(raw: &[u8]) -> &[u8] {
    if raw.starts_with(b"From ") || raw.starts_with(b">From ") {
        match raw.iter().position(|&b| b == b'\n') {
            Some(i) => &raw[i + 1..],
            None => raw,
        }
    } else {
        raw
    }
}

/// Old Mac line ends: carriage returns and no line feed at all in the header area.
fn is_cr_only(raw: &[u8]) -> bool {
    let head = &raw[..raw.len().min(8192)];
    head.contains(&b'\r') && !head.contains(&b'\n')
}

/// Unfold a header value: continuation lines joined by one space.
pub fn unfold(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    // Line ends found with memchr (every header of every message goes through here); the
    // pieces are cut at ASCII bytes, so at character boundaries.
    let mut start = 0;
    for end in super::find::positions2(b'\r', b'\n', v.as_bytes()).chain([v.len()]) {
        let piece = v[start..end].trim();
        start = end + 1;
        if piece.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(piece);
    }
    out
}

/// Headers of part `idx` of `msg`: structured ones from their raw text, unstructured ones
/// (Subject, unknown names) decoded as mail-parser decoded them (RFC 2047).
fn headers_of(msg: &mail_parser::Message, idx: usize) -> Vec<(String, String)> {
    let Some(part) = msg.parts.get(idx) else {
        return Vec::new();
    };
    let raw = msg.raw_message();
    part.headers
        .iter()
        .map(|h| {
            let name = h.name.as_str().to_ascii_lowercase();
            let raw_value = raw
                .get(h.offset_start as usize..h.offset_end as usize)
                .map(String::from_utf8_lossy)
                .unwrap_or_default();
            let value = match &h.value {
                HeaderValue::Text(t) if has_encoded_word(&raw_value) => unfold(t),
                _ => unfold(&raw_value),
            };
            (name, value)
        })
        .collect()
}

/// `=?` (an RFC 2047 encoded word may start there), without setting up a substring search
/// for every header.
fn has_encoded_word(v: &str) -> bool {
    let b = v.as_bytes();
    super::find::positions(b'=', b).any(|i| b.get(i + 1) == Some(&b'?'))
}

/// Header block of an embedded message. mail-parser's nested header offsets do not always
/// point into the nested message's own bytes (seen with unencoded `message/rfc822` parts),
/// so the block is read from the parent's bytes at the part's body offset, bounded.
fn embedded_headers(
    parent: &mail_parser::Message,
    part: &mail_parser::MessagePart,
    nested: &mail_parser::Message,
) -> Vec<(String, String)> {
    let raw = parent.raw_message();
    let start = part.offset_body as usize;
    let end = raw.len().min(start.saturating_add(64 * 1024));
    let from_parent = raw
        .get(start..end)
        .map(super::fields::parse_block_bytes)
        .unwrap_or_default();
    if from_parent.iter().any(|(_, v)| !v.is_empty()) {
        return from_parent;
    }
    headers_of(nested, 0)
}

/// Text of a part mail-parser keeps as bytes (`message/delivery-status`, ...). Its fields
/// are ASCII by RFC 3464, but Japanese MTAs write the Diagnostic-Code in ISO-2022-JP
/// (seen from Lotus Domino: `ESC $B ... ESC ( B`), which is decoded here so the reason
/// layer sees the words.
fn binary_text(b: &[u8]) -> String {
    let has_jis = b.windows(3).any(|w| w == b"\x1b$B" || w == b"\x1b$@");
    if has_jis {
        if let Some(decode) = mail_parser::decoders::charsets::map::charset_decoder(b"iso-2022-jp")
        {
            return decode(b);
        }
    }
    String::from_utf8_lossy(b).into_owned()
}

fn content_type(part: &mail_parser::MessagePart) -> String {
    part.content_type()
        .map(|c| match c.subtype() {
            Some(s) => format!("{}/{}", c.ctype(), s).to_ascii_lowercase(),
            None => c.ctype().to_ascii_lowercase(),
        })
        .unwrap_or_else(|| "text/plain".into())
}

/// Walk the parts of `msg` (mail-parser keeps each message's parts flat) and of nested
/// messages, with an explicit stack so deep nesting cannot overflow ours.
fn collect(root: &mail_parser::Message, root_depth: usize, out: &mut Message) {
    let mut stack: Vec<(&mail_parser::Message, usize, usize)> = vec![(root, root_depth, 0)];
    while let Some((msg, depth, start)) = stack.pop() {
        for i in start..msg.parts.len() {
            if out.parts.len() >= MAX_PARTS {
                out.truncated = true;
                return;
            }
            let part = &msg.parts[i];
            let mut ct = content_type(part);
            if ct.starts_with("multipart/") && matches!(part.body, PartType::Text(_)) {
                // A multipart whose boundary never appears in the body is parsed as one
                // text leaf: it is the whole report in plain text, readable as such (seen
                // in rfc3464-06.eml, a Sendmail report whose boundary lines were lost).
                ct = "text/plain".into();
            }
            match &part.body {
                PartType::Text(t) | PartType::Html(t) => {
                    if ct == "text/rfc822-headers" {
                        out.attached.push(Attached {
                            depth: depth + 1,
                            headers: super::fields::parse_block(t),
                        });
                    }
                    out.parts.push(Part {
                        content_type: ct,
                        depth,
                        text: t.to_string(),
                    })
                }
                PartType::Binary(b) | PartType::InlineBinary(b) => {
                    let text = binary_text(b);
                    if ct == "message/rfc822" || ct == "text/rfc822-headers" {
                        // mail-parser gave up on the embedded message (too deep, broken):
                        // its header block is still what the classifiers need.
                        out.attached.push(Attached {
                            depth: depth + 1,
                            headers: super::fields::parse_block(&text),
                        });
                    }
                    out.parts.push(Part {
                        content_type: ct,
                        depth,
                        text,
                    })
                }
                PartType::Message(m) => {
                    if depth + 1 > MAX_DEPTH {
                        out.truncated = true;
                        continue;
                    }
                    out.attached.push(Attached {
                        depth: depth + 1,
                        headers: embedded_headers(msg, part, m),
                    });
                    // Finish this message's remaining parts after the nested one (document
                    // order), then descend.
                    stack.push((msg, depth, i + 1));
                    stack.push((m, depth + 1, 0));
                    break;
                }
                PartType::Multipart(_) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The view a parser gives of `raw`.
    fn view(raw: &[u8], parser: &MessageParser) -> String {
        let Some(parsed) = parser.parse(raw).filter(|p| !p.headers().is_empty()) else {
            return "none".into();
        };
        let mut out = Message {
            headers: headers_of(&parsed, 0),
            ..Message::default()
        };
        collect(&parsed, 0, &mut out);
        format!("{out:?}")
    }

    proptest::proptest! {
        /// The memchr unfolding joins the pieces splitting at CR and LF joined.
        #[test]
        fn unfold_as_split(v in "([ a\t\r\n\u{3000}\u{e9}]){0,16}") {
            let mut want = String::new();
            for piece in v.split(['\r', '\n']).map(str::trim).filter(|p| !p.is_empty()) {
                if !want.is_empty() {
                    want.push(' ');
                }
                want.push_str(piece);
            }
            proptest::prop_assert_eq!(unfold(&v), want);
        }

        /// Headers kept raw give the view mail-parser's defaults gave, whatever they hold.
        #[test]
        fn configured_parser_gives_the_default_view(
            fields in proptest::collection::vec((
                "(From|To|Cc|Sender|Reply-To|List-Id|Received|Date|Message-ID|Keywords|X-Other|Subject)",
                "([ a-z<>@.,;:()\"=?\\\\\r\n\t\u{e9}-]|=\\?utf-8\\?[qb]\\?[a-z=_]{0,4}\\?=|\n |\r\n\t){0,30}",
            ), 0..8),
            body in "[a-z\n]{0,10}",
        ) {
            let mut raw = String::new();
            for (name, value) in fields {
                raw.push_str(&format!("{name}:{value}\n"));
            }
            raw.push('\n');
            raw.push_str(&body);
            proptest::prop_assert_eq!(
                view(raw.as_bytes(), &MessageParser::default()),
                view(raw.as_bytes(), parser())
            );
        }
    }
}
