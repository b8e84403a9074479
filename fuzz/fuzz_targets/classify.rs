//! Fuzz target: `rebound::classify::classify` on any bytes, with an envelope drawn from the
//! same input. The classifier's contract (DESIGN.md step 4): any byte sequence gets a
//! Verdict, never a panic, in bounded time. The first input byte picks which envelope fields
//! are set, so VERP decoding of hostile recipients is fuzzed together with the message.
//!
//! `classify` catches panics of the code below it (mail-parser 0.11 has some: see
//! tests/hostile_classify.rs) and says so in the verdict: that is the product's contract, so
//! by default only a panic that escapes `classify` is a crash. `FUZZ_STRICT=1` keeps
//! libFuzzer's abort-on-any-panic hook to hunt the caught ones too.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rebound::classify::{Context, classify};

static HOOK: std::sync::Once = std::sync::Once::new();

fuzz_target!(|data: &[u8]| {
    HOOK.call_once(|| {
        if std::env::var_os("FUZZ_STRICT").is_none() {
            // An escaped panic still aborts: libfuzzer-sys checks catch_unwind's result.
            std::panic::set_hook(Box::new(|_| {}));
        }
    });
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
