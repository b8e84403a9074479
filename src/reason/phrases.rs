//! Searching a text for every phrase of a list of phrase tables at once (the tables of
//! `text.rs` and `stage.rs`). The tables are asked in decision order, each in its own
//! order, and the first phrase found wins; asked one phrase at a time that meant one pass
//! over the text per phrase (some 350 passes over the 4 KB head of every notification).
//! A `Set` instead reads the text once: at every position the next four bytes, hashed,
//! pick the few phrases that begin with those bytes, and each is compared there. Every
//! phrase occurring anywhere (overlapping occurrences included) is found, and the one that
//! comes first in decision order is kept, which gives the same answer in one pass.
//!
//! A set is built on first use (`std::sync::OnceLock` at each caller) in a few
//! microseconds: the agent classifies one message per process, so a costlier automaton
//! (an Aho-Corasick build takes about a millisecond for these tables) would cost more than
//! it saves. Phrases with a ` * ` gap (`text::contains`) and phrases shorter than four
//! bytes are tried one by one, the gapped ones only when they would win over what the
//! index found.

/// The bucket of four bytes read as a little-endian word (multiplicative hashing), among
/// `1 << bits` buckets.
fn bucket(word: u32, bits: u32) -> usize {
    (word.wrapping_mul(0x9E37_79B1) >> (32 - bits)) as usize
}

/// The first four bytes of `b` as a little-endian word.
fn word(b: &[u8]) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(..4)?.try_into().ok()?))
}

/// The phrases of some tables, searchable in one pass.
pub struct Set {
    /// log2 of the number of buckets: about eight per phrase, so most are empty.
    bits: u32,
    /// Bucket `h` holds `slots[starts[h]..starts[h + 1]]`.
    starts: Vec<u32>,
    /// The indexed phrases by bucket: their first four bytes and their position in
    /// decision order, ascending within a bucket.
    slots: Vec<(u32, u32)>,
    /// Every phrase in decision order: the index of its table, and the phrase.
    order: Vec<(usize, &'static str)>,
    /// Positions in decision order of the phrases tried one by one (gapped or short).
    alone: Vec<u32>,
}

impl Set {
    /// The phrases of `tables`, in decision order: table by table, each in its own order.
    pub fn new(tables: &[&'static [&'static str]]) -> Set {
        let mut order = Vec::new();
        for (t, phrases) in tables.iter().enumerate() {
            order.extend(phrases.iter().map(|p| (t, *p)));
        }
        let bits = (order.len().max(1).ilog2() + 4).clamp(4, 14);
        let mut alone = Vec::new();
        // Bucket of every indexed phrase; then a counting sort by bucket, which keeps
        // decision order within a bucket (no comparison sort: this runs in every process).
        let mut buckets: Vec<(usize, u32)> = Vec::with_capacity(order.len());
        let mut starts = vec![0u32; (1 << bits) + 1];
        for (at, (_, phrase)) in order.iter().enumerate() {
            let gapped = phrase.as_bytes().windows(3).any(|w| w == b" * ");
            match word(phrase.as_bytes()) {
                Some(w) if !gapped => {
                    let h = bucket(w, bits);
                    starts[h + 1] += 1;
                    buckets.push((h, at as u32));
                }
                _ => alone.push(at as u32),
            }
        }
        for h in 0..(1 << bits) {
            starts[h + 1] += starts[h];
        }
        let mut next = starts.clone();
        let mut slots = vec![(0u32, 0u32); buckets.len()];
        for (h, at) in buckets {
            let w = word(order[at as usize].1.as_bytes()).unwrap_or(0);
            slots[next[h] as usize] = (w, at);
            next[h] += 1;
        }
        Set {
            bits,
            starts,
            slots,
            order,
            alone,
        }
    }

    /// The indexed phrases occurring in `text`, by position in decision order; `stop` says
    /// when to give up early (given the best position so far).
    fn scan(&self, text: &[u8], mut best: Option<u32>, stop: impl Fn(u32) -> bool) -> Option<u32> {
        let Some(mut w) = word(text) else {
            return best;
        };
        for i in 0..=text.len() - 4 {
            if i > 0 {
                // The next four bytes: shift the window by one.
                w = (w >> 8) | (u32::from(text[i + 3]) << 24);
            }
            let h = bucket(w, self.bits);
            let (from, to) = (self.starts[h] as usize, self.starts[h + 1] as usize);
            if from == to {
                continue;
            }
            for &(prefix, at) in &self.slots[from..to] {
                if best.is_some_and(|b| at >= b) {
                    break;
                }
                if prefix == w && text[i..].starts_with(self.order[at as usize].1.as_bytes()) {
                    best = Some(at);
                    if stop(at) {
                        return best;
                    }
                    break;
                }
            }
        }
        best
    }

    /// The phrase found in `text` that comes first in decision order: the index of its
    /// table and the phrase. The same as asking `super::text::contains` phrase by phrase.
    pub fn first(&self, text: &str) -> Option<(usize, &'static str)> {
        // The index finds the best literal; a phrase tried alone counts only where it would
        // come before it.
        let best = self.scan(text.as_bytes(), None, |at| at == 0);
        let best = self
            .alone
            .iter()
            .copied()
            .take_while(|at| best.is_none_or(|b| *at < b))
            .find(|at| self.alone_in(text, *at))
            .or(best)?;
        self.order.get(best as usize).copied()
    }

    /// Whether the phrase at `at` (tried alone) occurs in `text`: its words before the first
    /// ` * ` gap must, before the full test of `text::contains` is worth making.
    fn alone_in(&self, text: &str, at: u32) -> bool {
        let phrase = self.order[at as usize].1;
        let head = phrase.find(" * ").map_or(phrase, |gap| &phrase[..gap + 1]);
        text.contains(head) && super::text::contains(text, phrase)
    }

    /// Whether any phrase of the set occurs in `text`.
    pub fn any(&self, text: &str) -> bool {
        self.scan(text.as_bytes(), None, |_| true).is_some()
            || self.alone.iter().any(|at| self.alone_in(text, *at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &[&str] = &["mailbox full", "quota * exceeded"];
    const B: &[&str] = &["user unknown", "unknown"];
    const C: &[&str] = &["mailbox", "user unknown"];

    #[test]
    fn decision_order_not_text_order() {
        let set = Set::new(&[A, B, C]);
        assert_eq!(
            set.first("user unknown; mailbox full"),
            Some((0, "mailbox full"))
        );
        assert_eq!(set.first("the user unknown"), Some((1, "user unknown")));
        // Overlapping occurrences all count: "unknown" inside "user unknown".
        assert_eq!(set.first("unknown mailbox"), Some((1, "unknown")));
        assert_eq!(set.first("a mailbox"), Some((2, "mailbox")));
        assert_eq!(set.first("nothing here"), None);
        assert!(set.any("a mailbox") && !set.any("nothing here"));
    }

    #[test]
    fn gapped_phrases_in_their_place() {
        let set = Set::new(&[A, B]);
        assert_eq!(
            set.first("unknown: quota of 5 mb exceeded"),
            Some((0, "quota * exceeded"))
        );
        assert_eq!(set.first("quota exceeded, unknown"), Some((1, "unknown")));
        assert!(set.any("quota of 5 mb exceeded"));
        assert!(!set.any("quota exceeded"));
    }

    /// Phrase by phrase, as the tables were asked before `Set`.
    fn slow(tables: &[&'static [&'static str]], text: &str) -> Option<(usize, &'static str)> {
        tables.iter().enumerate().find_map(|(t, phrases)| {
            phrases
                .iter()
                .find(|p| super::super::text::contains(text, p))
                .map(|p| (t, *p))
        })
    }

    fn reason_tables() -> Vec<&'static [&'static str]> {
        super::super::text::TABLES.iter().map(|t| t.1).collect()
    }

    #[test]
    fn agrees_with_phrase_by_phrase() {
        let tables = reason_tables();
        let set = Set::new(&tables);
        let texts = [
            "550 5.1.1 user unknown; client listed in spamhaus",
            "552 mailbox full or user unknown",
            "dns lookup failure: host mx.example.org not found",
            "delivery failed 20 attempts",
            "ディレクトリには見つかりません",
            "abc",
            "",
        ];
        for text in texts {
            assert_eq!(set.first(text), slow(&tables, text), "{text:?}");
            assert_eq!(set.any(text), slow(&tables, text).is_some(), "{text:?}");
        }
    }

    proptest::proptest! {
        /// Texts made of pieces of phrases (whole, cut, joined without space) and noise.
        #[test]
        fn any_text_agrees_with_phrase_by_phrase(
            pieces in proptest::collection::vec(
                (0usize..400, proptest::bool::ANY, 0usize..40, 0usize..40, "[a-z .:;-]{0,6}"),
                0..12,
            )
        ) {
            let tables = reason_tables();
            let all: Vec<&str> = tables.iter().flat_map(|t| t.iter().copied()).collect();
            let mut text = String::new();
            for (which, whole, from, len, noise) in pieces {
                let p = all[which % all.len()];
                if whole {
                    text.push_str(p);
                }
                let from = (from % (p.len() + 1)).min(p.len());
                let to = (from + len).min(p.len());
                if let Some(piece) = p.get(from..to) {
                    text.push_str(piece);
                }
                text.push_str(&noise);
            }
            let set = Set::new(&tables);
            proptest::prop_assert_eq!(set.first(&text), slow(&tables, &text));
            proptest::prop_assert_eq!(set.any(&text), slow(&tables, &text).is_some());
        }
    }
}
