//! Fuzz target: `rebound::classify::classify` on any bytes, with an envelope drawn from the
//! same input. The classifier's contract (DESIGN.md step 4): any byte sequence gets a
//! Verdict, never a panic, in bounded time. The first input byte picks which envelope fields
//! are set, so VERP decoding of hostile recipients is fuzzed together with the message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rebound::classify::{Context, classify};

fuzz_target!(|data: &[u8]| {
    let (flags, rest) = data.split_first().map_or((0, data), |(f, r)| (*f, r));
    // Envelope strings come from the head of the input, the message from the rest.
    let cut = rest.iter().position(|b| *b == 0).unwrap_or(0);
    let (head, raw) = rest.split_at(cut);
    let head = String::from_utf8_lossy(head).into_owned();
    let ctx = Context {
        sender: (flags & 1 != 0).then(|| head.clone()),
        recipient: (flags & 2 != 0).then(|| head.clone()),
        original_recipient: (flags & 4 != 0).then(|| head.clone()),
        extension: (flags & 8 != 0).then(|| head.clone()),
        ..Context::default()
    };
    let verdict = classify(raw, &ctx);
    // A verdict always serialises: the JSON line, the rows and the log line all come from it.
    let _ = format!("{verdict:?}");
});
