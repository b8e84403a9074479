//! VERP addresses (variable envelope return paths): `bounces+joe=example.com@sender.example`
//! stands for `joe@example.com`. Encoding for the sending side (`rebound verp`), decoding for
//! the agent from whichever envelope it got (full address, bare `+detail`, Postfix env).

use serde::Deserialize;

/// The two VERP separators: after the bounce local part (`+`) and in place of `@` (`=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct Separators {
    pub detail: char,
    pub at: char,
}

impl Default for Separators {
    fn default() -> Self {
        Separators {
            detail: '+',
            at: '=',
        }
    }
}

/// Encode `recipient` into the bounce address: (`joe@example.com`, `bounces@sender.example`)
/// -> `bounces+joe=example.com@sender.example`.
pub fn encode(recipient: &str, bounce_address: &str, sep: Separators) -> Option<String> {
    let (rl, rd) = recipient.rsplit_once('@')?;
    let (bl, bd) = bounce_address.rsplit_once('@')?;
    if rl.is_empty() || rd.is_empty() || bl.is_empty() || bd.is_empty() {
        return None;
    }
    Some(format!("{bl}{}{rl}{}{rd}@{bd}", sep.detail, sep.at))
}

/// Decode a full VERP address: `bounces+joe=example.com@sender.example` -> `joe@example.com`.
pub fn decode(address: &str, sep: Separators) -> Option<String> {
    let addr = address.trim().trim_matches(['<', '>']);
    let (local, _domain) = addr.rsplit_once('@')?;
    let (_, detail) = local.split_once(sep.detail)?;
    decode_detail(detail, sep)
}

/// Decode the detail alone (`joe=example.com`, Postfix `EXTENSION` or Sendmail `$h`).
pub fn decode_detail(detail: &str, sep: Separators) -> Option<String> {
    let detail = detail.trim().trim_start_matches(sep.detail);
    let (l, d) = detail.rsplit_once(sep.at)?;
    if l.is_empty() || d.is_empty() || !d.contains('.') || d.contains('@') {
        return None;
    }
    Some(format!("{l}@{}", d.to_ascii_lowercase()))
}
