//! What the provider modules of `lhost` (Gmail, Yahoo, GMX, Zoho, the Japanese carriers, ...)
//! need beyond the shared scanners of `scan.rs`: a line that is nothing but an address, the
//! `X-Failed-Recipients` header, header tests for cheap sniffs, the host a provider names.
//! Extraction only, no interpretation; every function is linear in its input.

use super::scan::addresses_in;
use crate::classify::message::Message;

/// Is the whole of `s` (after trimming `<>`, quotes, a trailing colon) one address?
pub(crate) fn is_address_line(s: &str) -> Option<String> {
    let t = s
        .trim()
        .trim_end_matches(':')
        .trim_matches(|c| c == '<' || c == '>' || c == '"' || c == '\'')
        .trim();
    if t.is_empty() || t.contains(char::is_whitespace) {
        return None;
    }
    let found = addresses_in(t);
    (found.len() == 1)
        .then(|| found.into_iter().next())
        .flatten()
}

/// Does header `name` contain `needle` (lower-case) in any of its occurrences?
pub(crate) fn header_has(msg: &Message, name: &str, needle: &str) -> bool {
    msg.headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .any(|(_, v)| super::scan::contains_lc(v.as_bytes(), needle.as_bytes()))
}

/// Addresses of every `X-Failed-Recipients` header (Exim, Gmail, Mail.ru set it).
pub(crate) fn failed_recipients(msg: &Message) -> Vec<String> {
    let mut out = Vec::new();
    for (n, v) in &msg.headers {
        if n == "x-failed-recipients" {
            for a in addresses_in(v) {
                if !out.contains(&a) {
                    out.push(a);
                }
            }
        }
    }
    out
}

/// The host named after `word` (` by `, `host `) in phrases such as
/// `by mx.example.jp. [192.0.2.1]`: the first occurrence that is a host name.
pub(crate) fn host_after(text: &str, word: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let mut from = 0;
    while let Some(found) = lower[from..].find(word) {
        let at = from + found + word.len();
        from = at;
        let rest = text[at..].trim_start_matches([' ', ':']);
        let host: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '-')
            .collect();
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        if host.contains('.') && host.chars().any(|c| c.is_ascii_alphabetic()) {
            return Some(host);
        }
    }
    None
}

/// The report's text: `body_text()`, or else the first top-level part whatever its declared
/// type - a broken nested `multipart/alternative` header (boundary parameter on an
/// unindented line, lhost-verizon-02) leaves the text inside an undecoded multipart leaf.
pub(crate) fn any_body(msg: &Message) -> &str {
    let t = msg.body_text();
    if !t.trim().is_empty() {
        return t;
    }
    msg.parts
        .iter()
        .find(|p| p.depth == 0 && !p.text.trim().is_empty())
        .map(|p| p.text.as_str())
        .unwrap_or("")
}

/// `s` as plain text when it is HTML (a report sent only as `text/html`): tags dropped, block
/// ends (`<br>`, `</p>`, `</div>`, `</tr>`, `</li>`, `</h1>`...) as line ends, the common
/// entities decoded. Plain text comes back unchanged. Linear in `s`.
pub(crate) fn plain_text(s: &str) -> std::borrow::Cow<'_, str> {
    let head = prefix(s, 2048).to_ascii_lowercase();
    if !(head.contains("<html")
        || head.contains("<body")
        || head.contains("<div")
        || head.contains("<p>")
        || head.contains("<br"))
    {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() / 2);
    let mut rest = s;
    // Line ends in HTML source are spaces; only block tags end a line.
    let push_text = |out: &mut String, t: &str| {
        for c in t.chars() {
            out.push(if c == '\n' || c == '\r' { ' ' } else { c });
        }
    };
    while let Some(open) = rest.find('<') {
        push_text(&mut out, &rest[..open]);
        let after = &rest[open + 1..];
        let close = after.find('>').unwrap_or(after.len());
        let tag = after[..close].trim_start_matches('/').to_ascii_lowercase();
        let name: String = tag
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        if matches!(
            name.as_str(),
            "br" | "p" | "div" | "tr" | "li" | "h1" | "h2" | "h3" | "table" | "pre"
        ) {
            out.push('\n');
        }
        rest = after.get(close + 1..).unwrap_or("");
    }
    push_text(&mut out, rest);
    let out = out
        .replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    std::borrow::Cow::Owned(out)
}

/// At most the first `n` bytes of `s`, cut on a character boundary.
pub(crate) fn prefix(s: &str, n: usize) -> &str {
    let mut n = n.min(s.len());
    while !s.is_char_boundary(n) {
        n -= 1;
    }
    &s[..n]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_lines() {
        assert_eq!(
            is_address_line("  <a@example.com>:"),
            Some("a@example.com".into())
        );
        assert_eq!(
            is_address_line("\"a@example.com\":"),
            Some("a@example.com".into())
        );
        assert_eq!(is_address_line("to a@example.com"), None);
    }

    #[test]
    fn hosts() {
        assert_eq!(
            host_after(
                "rejected by the server by mx.example.jp. [192.0.2.1]",
                " by "
            ),
            Some("mx.example.jp".into())
        );
        assert_eq!(prefix("ab\u{e9}", 3), "ab");
        assert_eq!(
            plain_text(
                "<html><body><p>a@example.com</p><p>Remote Server returned &#39;550 5.1.1&#39;<br>x</body></html>"
            ),
            "\na@example.com\n\nRemote Server returned '550 5.1.1'\nx"
        );
        assert_eq!(plain_text("a < b"), "a < b");
    }
}
