//! What several detectors ask of the same message, computed once per classification. The
//! formats of `lhost/` are tried one after the other and many of them ask the same
//! questions: the RFC 3464 fields (`rfc3464::parse`, through `scan::has_dsn` and the
//! formats that complete a DSN) and the report text (`scan::report_text`, where the
//! returned message begins). Asked afresh each time, these were a tenth of the time of
//! classifying a message.
//!
//! The memo lives for one `classify` call (`begin` returns the guard that ends it) and
//! belongs to the message it was begun for: a question about any other message (or asked
//! outside a classification, as the unit tests do) is computed as before. Values are pure
//! functions of the message, so the answers are the same either way.

use super::lhost::Parsed;
use super::message::Message;
use std::cell::RefCell;

#[derive(Default)]
struct Memo {
    /// Address of the message the memo belongs to.
    message: usize,
    dsn: Option<Option<Parsed>>,
    report_len: Option<usize>,
}

thread_local! {
    static CURRENT: RefCell<Option<Memo>> = const { RefCell::new(None) };
}

/// Ends the memo of one classification (and restores an enclosing one) when dropped,
/// unwinding included.
pub struct Guard {
    outer: Option<Memo>,
}

impl Drop for Guard {
    fn drop(&mut self) {
        let outer = self.outer.take();
        // Never panics: a thread-local being torn down has nothing left to restore.
        let _ = CURRENT.try_with(|c| c.replace(outer));
    }
}

/// Start the memo of `msg`, for as long as the guard lives (and `msg` with it).
pub fn begin(msg: &Message) -> Guard {
    let memo = Memo {
        message: key(msg),
        ..Memo::default()
    };
    Guard {
        outer: CURRENT.try_with(|c| c.replace(Some(memo))).ok().flatten(),
    }
}

fn key(msg: &Message) -> usize {
    std::ptr::from_ref(msg) as usize
}

/// With the memo of `msg`, if one is running.
fn with<T>(msg: &Message, f: impl FnOnce(&mut Memo) -> T) -> Option<T> {
    CURRENT
        .try_with(|c| {
            let mut c = c.try_borrow_mut().ok()?;
            c.as_mut().filter(|m| m.message == key(msg)).map(f)
        })
        .ok()
        .flatten()
}

/// `rfc3464::parse(msg)`, computed once per classification.
pub fn dsn(msg: &Message, compute: impl FnOnce() -> Option<Parsed>) -> Option<Parsed> {
    if let Some(Some(known)) = with(msg, |m| m.dsn.clone()) {
        return known;
    }
    let parsed = compute();
    with(msg, |m| m.dsn = Some(parsed.clone()));
    parsed
}

/// The length of `scan::report_text(msg)`, computed once per classification.
pub fn report_len(msg: &Message, compute: impl FnOnce() -> usize) -> usize {
    if let Some(Some(known)) = with(msg, |m| m.report_len) {
        return known;
    }
    let len = compute();
    with(msg, |m| m.report_len = Some(len));
    len
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_only_for_its_message_and_only_while_it_runs() {
        let a = Message::parse(b"From: a@example.com\n\nbody a\n");
        let b = Message::parse(b"From: b@example.com\n\nbody b\n");
        let mut calls = 0;
        {
            let _guard = begin(&a);
            assert_eq!(report_len(&a, || 5), 5);
            assert_eq!(report_len(&a, || 7), 5);
            // Another message is computed afresh, every time.
            assert_eq!(report_len(&b, || 9), 9);
            assert_eq!(report_len(&b, || 8), 8);
            for _ in 0..3 {
                dsn(&a, || {
                    calls += 1;
                    None
                });
            }
            assert_eq!(calls, 1);
            {
                // A classification inside another has its own memo, and the outer one
                // comes back after it.
                let _inner = begin(&b);
                assert_eq!(report_len(&b, || 3), 3);
                assert_eq!(report_len(&a, || 4), 4);
            }
            assert_eq!(report_len(&a, || 6), 5);
        }
        // No classification running: nothing remembered.
        assert_eq!(report_len(&a, || 1), 1);
        assert_eq!(report_len(&a, || 2), 2);
    }
}
