//! A tolerant, read-only view of one message for the classifiers: top-level headers (unfolded,
//! RFC 2047-decoded), and every MIME leaf in document order with its content type and decoded
//! text. Built on mail-parser; `message/delivery-status` and `message/feedback-report` bodies
//! come through as raw text for `fields.rs` to parse. Never fails: unparsable input gives a view
//! with the whole input as one text part.

use mail_parser::{MessageParser, MimeHeaders, PartType};

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

/// The classifier's view of a message.
#[derive(Debug, Clone, Default)]
pub struct Message {
    /// Top-level headers in order: lower-case name, unfolded decoded value.
    pub headers: Vec<(String, String)>,
    /// All leaves in order, nested messages included (with depth > 0).
    pub parts: Vec<Part>,
}

impl Message {
    pub fn parse(raw: &[u8]) -> Message {
        let mut out = Message::default();
        let Some(parsed) = MessageParser::default().parse(raw) else {
            out.parts.push(Part {
                content_type: "text/plain".into(),
                depth: 0,
                text: String::from_utf8_lossy(raw).into_owned(),
            });
            return out;
        };
        for h in parsed.headers() {
            let name = h.name().to_ascii_lowercase();
            let value = parsed
                .header_raw(h.name())
                .map(|v| unfold(v))
                .unwrap_or_default();
            out.headers.push((name, value));
        }
        collect(&parsed, 0, &mut out.parts);
        out
    }

    /// First value of a top-level header (name case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The first body part of a given type (e.g. `message/delivery-status`).
    pub fn part(&self, content_type: &str) -> Option<&Part> {
        self.parts.iter().find(|p| p.content_type == content_type)
    }

    /// The first `text/plain` part of the report itself (depth 0), the human-readable bounce.
    pub fn body_text(&self) -> &str {
        self.parts
            .iter()
            .find(|p| p.depth == 0 && p.content_type.starts_with("text/"))
            .map(|p| p.text.as_str())
            .unwrap_or("")
    }
}

fn unfold(v: &str) -> String {
    v.split(['\r', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn collect(msg: &mail_parser::Message, depth: usize, out: &mut Vec<Part>) {
    for part in &msg.parts {
        let ct = part
            .content_type()
            .map(|c| match c.subtype() {
                Some(s) => format!("{}/{}", c.ctype(), s).to_ascii_lowercase(),
                None => c.ctype().to_ascii_lowercase(),
            })
            .unwrap_or_else(|| "text/plain".into());
        match &part.body {
            PartType::Text(t) | PartType::Html(t) => out.push(Part {
                content_type: ct,
                depth,
                text: t.to_string(),
            }),
            PartType::Binary(b) | PartType::InlineBinary(b) => out.push(Part {
                content_type: ct,
                depth,
                text: String::from_utf8_lossy(b).into_owned(),
            }),
            PartType::Message(m) => {
                if depth < 16 {
                    collect(m, depth + 1, out)
                }
            }
            PartType::Multipart(_) => {}
        }
    }
}
