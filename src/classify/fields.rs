//! Tolerant parser of RFC 822-style field blocks: the bodies of `message/delivery-status`
//! (RFC 3464 section 2.1), `message/feedback-report` (RFC 5965 section 3) and
//! `text/rfc822-headers` (RFC 6522), which mail-parser hands over as raw bytes. Groups are
//! separated by blank lines; continuation lines are unfolded; lines without a colon are
//! kept as continuations of the previous field (broken MTAs wrap long Diagnostic-Code
//! values without indenting them). Never fails.

/// One field: lower-case name, unfolded value.
pub type Field = (String, String);

/// Parse a text into groups of fields separated by blank lines. Empty groups are dropped.
pub fn parse_groups(text: &str) -> Vec<Vec<Field>> {
    let mut groups: Vec<Vec<Field>> = Vec::new();
    let mut cur: Vec<Field> = Vec::new();
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            if !cur.is_empty() {
                groups.push(std::mem::take(&mut cur));
            }
            continue;
        }
        push_line(&mut cur, line);
    }
    if !cur.is_empty() {
        groups.push(cur);
    }
    groups
}

/// Parse one header block (stops at the first blank line after at least one field).
pub fn parse_block(text: &str) -> Vec<Field> {
    block_of_lines(text.lines())
}

/// `parse_block` of the lossy UTF-8 text of `bytes`, converting only the lines it reads: an
/// embedded message's header block is read from up to 64 KB of its parent's bytes, and
/// checking all of them as UTF-8 cost 2% of the instructions of `rebound parse`. Same
/// result: lines split at `\n`, which never belongs to a multi-byte sequence, so each
/// line converts as it would inside the whole.
pub fn parse_block_bytes(bytes: &[u8]) -> Vec<Field> {
    let mut lines = bytes.split(|&b| b == b'\n').peekable();
    block_of_lines(std::iter::from_fn(move || {
        let line = lines.next()?;
        // What follows the last line end is no line (`str::lines`).
        if line.is_empty() && lines.peek().is_none() {
            return None;
        }
        Some(String::from_utf8_lossy(line))
    }))
}

/// The fields of the first block of `lines`: blank lines before it are skipped, the first
/// blank line after a field ends it.
fn block_of_lines<S: AsRef<str>>(lines: impl Iterator<Item = S>) -> Vec<Field> {
    let mut cur: Vec<Field> = Vec::new();
    for line in lines {
        let line = line.as_ref().trim_end_matches('\r');
        if line.trim().is_empty() {
            if cur.is_empty() {
                continue;
            }
            break;
        }
        push_line(&mut cur, line);
    }
    cur
}

fn push_line(cur: &mut Vec<Field>, line: &str) {
    let continuation = line.starts_with([' ', '\t']);
    if !continuation {
        if let Some((name, value)) = split_field(line) {
            cur.push((name, value.trim().to_string()));
            return;
        }
    }
    // A continuation (or a stray line): append to the previous value.
    if let Some((_, v)) = cur.last_mut() {
        let t = line.trim();
        if !t.is_empty() {
            if !v.is_empty() {
                v.push(' ');
            }
            v.push_str(t);
        }
    }
}

/// `Name: value` where Name is a plausible field name (printable ASCII, no spaces).
fn split_field(line: &str) -> Option<(String, &str)> {
    let (name, value) = line.split_once(':')?;
    let name = name.trim_end();
    if name.is_empty()
        || name.len() > 64
        || !name
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b':' && b != b'<' && b != b'>')
    {
        return None;
    }
    Some((name.to_ascii_lowercase(), value))
}

/// First value of a field in a group.
pub fn get<'a>(group: &'a [Field], name: &str) -> Option<&'a str> {
    group
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// Strip an RFC 3464 address-type prefix and brackets: `rfc822; <Joe@Example.COM>` ->
/// `joe@example.com`. Returns `None` for an empty address.
pub fn address(value: &str) -> Option<String> {
    let v = value.trim();
    let v = match v.split_once(';') {
        Some((t, rest)) if !t.contains('@') && t.len() < 16 => rest,
        _ => v,
    };
    clean_address(v)
}

/// Reduce `"Name" <a@b>`, `<a@b>`, `a@b (comment)` to a lower-case bare address.
pub fn clean_address(v: &str) -> Option<String> {
    let v = v.trim();
    let inner = match (v.rfind('<'), v.rfind('>')) {
        (Some(a), Some(b)) if a < b => &v[a + 1..b],
        _ => v,
    };
    // A quoted local part (`"neko..nyaan"@example.org`, RFC 5321 section 4.1.2) keeps its
    // quotes and may hold spaces.
    if let Some(at) = inner.find("\"@") {
        if let Some(open) = inner[..at].find('"') {
            let rest = &inner[at + 2..];
            let dom_end = rest
                .find(|c: char| c.is_whitespace() || matches!(c, '>' | ',' | ';' | ')'))
                .unwrap_or(rest.len());
            let domain = rest[..dom_end].trim_end_matches('.');
            if !domain.is_empty() {
                return Some(format!("{}@{}", &inner[open..=at], domain).to_lowercase());
            }
        }
    }
    let inner = inner
        .split_whitespace()
        .find(|w| w.contains('@'))
        .unwrap_or(inner.trim());
    let inner = inner
        .trim_matches(|c: char| {
            matches!(
                c,
                '<' | '>' | '"' | '\'' | ',' | ';' | '(' | ')' | '[' | ']'
            )
        })
        .trim_end_matches('.');
    if inner.is_empty() {
        return None;
    }
    Some(inner.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_and_continuations() {
        let t = "Reporting-MTA: dns; mx.example.com\r\n\r\nFinal-Recipient: rfc822; Joe@Example.com\nAction: failed\nDiagnostic-Code: smtp; 550 5.1.1\n  user unknown\n\n";
        let g = parse_groups(t);
        assert_eq!(g.len(), 2);
        assert_eq!(
            get(&g[1], "diagnostic-code"),
            Some("smtp; 550 5.1.1 user unknown")
        );
        assert_eq!(
            address(get(&g[1], "final-recipient").unwrap()).as_deref(),
            Some("joe@example.com")
        );
    }

    #[test]
    fn addresses() {
        assert_eq!(
            clean_address("\"Joe\" <Joe@X.example>").as_deref(),
            Some("joe@x.example")
        );
        assert_eq!(
            address("rfc822;<a@b.example>").as_deref(),
            Some("a@b.example")
        );
        assert_eq!(address("rfc822; "), None);
        assert_eq!(
            address("rfc822; \"neko..nyaan\"@Example.org").as_deref(),
            Some("\"neko..nyaan\"@example.org")
        );
    }

    proptest::proptest! {
        /// Reading a block from bytes line by line gives what the lossy text of all of them
        /// gives, whatever the bytes (invalid UTF-8, stray CRs, blank and stray lines).
        #[test]
        fn block_from_bytes_is_block_of_lossy_text(
            parts in proptest::collection::vec(proptest::prop_oneof![
                proptest::strategy::Just(b"\n".to_vec()),
                proptest::strategy::Just(b"\r".to_vec()),
                proptest::strategy::Just(b" ".to_vec()),
                proptest::strategy::Just(b"\t".to_vec()),
                proptest::strategy::Just(b"To: a@example.com".to_vec()),
                proptest::strategy::Just(b":".to_vec()),
                proptest::strategy::Just("\u{3000}".as_bytes().to_vec()),
                proptest::strategy::Just(b"\xe3\x80".to_vec()),
                proptest::strategy::Just(b"\xff".to_vec()),
                proptest::collection::vec(proptest::num::u8::ANY, 0..4),
            ], 0..30)
        ) {
            let bytes = parts.concat();
            proptest::prop_assert_eq!(
                parse_block_bytes(&bytes),
                parse_block(&String::from_utf8_lossy(&bytes))
            );
        }
    }
}
