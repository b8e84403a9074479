//! Robustness of the classifier on generated inputs: random mutations and truncations of the
//! project's own samples, CR-only and CRLF line ends, arbitrary bytes, 1000-level nesting,
//! ten thousand recipients and a 100 MB returned message. Every input must get a verdict
//! without a panic (the classifier reports a caught panic in its evidence) and within a
//! generous time guard that only a blow-up would cross (speed: `benches/parse_speed.sh`).

use proptest::prelude::*;
use rebound::classify::{self, Context, Kind, Verdict};
use std::path::Path;
use std::time::{Duration, Instant};

/// Only catches a blow-up (quadratic work, a hang): debug builds on a loaded shared
/// machine. Speed itself is measured by `benches/parse_speed.sh`, not asserted here.
const LIMIT: Duration = Duration::from_secs(30);

fn samples() -> Vec<Vec<u8>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/samples");
    let mut out = Vec::new();
    for dir in std::fs::read_dir(root).unwrap().flatten() {
        if !dir.path().is_dir() {
            continue;
        }
        for f in std::fs::read_dir(dir.path()).unwrap().flatten() {
            let p = f.path();
            if p.extension().is_some_and(|x| x == "eml") {
                out.push(std::fs::read(p).unwrap());
            }
        }
    }
    assert!(!out.is_empty(), "no samples to mutate");
    out
}

fn check(raw: &[u8]) -> Verdict {
    let start = Instant::now();
    let v = classify::classify(raw, &Context::default());
    let took = start.elapsed();
    assert!(
        !v.evidence.iter().any(|e| e.contains("panicked")),
        "classifier panicked on {} bytes",
        raw.len()
    );
    assert!(took < LIMIT, "took {took:?} on {} bytes", raw.len());
    v
}

#[derive(Debug, Clone)]
enum Mutation {
    Truncate(usize),
    Flip(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Crlf,
    CrOnly,
    Duplicate(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        (
            any::<usize>(),
            prop_oneof![
                proptest::collection::vec(any::<u8>(), 0..64),
                Just(b"\n--".to_vec()),
                Just(b"\nContent-Type: multipart/mixed; boundary=x\n\n--x\n".to_vec()),
                Just(b"\nContent-Type: message/rfc822\n\n".to_vec()),
                Just(b"\nFinal-Recipient: rfc822;\nStatus: 9.9.9\n".to_vec()),
                Just(b"=?utf-8?B?////?=".to_vec()),
                Just(vec![0xff, 0xfe, 0x00, b'\r']),
            ]
        )
            .prop_map(|(i, v)| Mutation::Insert(i, v)),
        (any::<usize>(), 0usize..200).prop_map(|(i, n)| Mutation::Delete(i, n)),
        Just(Mutation::Crlf),
        Just(Mutation::CrOnly),
        (any::<usize>(), 0usize..400).prop_map(|(i, n)| Mutation::Duplicate(i, n)),
    ]
}

fn apply(mut raw: Vec<u8>, m: &Mutation) -> Vec<u8> {
    let len = raw.len().max(1);
    match m {
        Mutation::Truncate(i) => raw.truncate(i % len),
        Mutation::Flip(i, b) => {
            if !raw.is_empty() {
                let i = i % raw.len();
                raw[i] ^= b;
            }
        }
        Mutation::Insert(i, v) => {
            let i = i % (raw.len() + 1);
            raw.splice(i..i, v.iter().copied());
        }
        Mutation::Delete(i, n) => {
            let i = i % (raw.len() + 1);
            let e = (i + n).min(raw.len());
            raw.drain(i..e);
        }
        Mutation::Crlf => {
            raw = raw
                .iter()
                .flat_map(|&b| {
                    if b == b'\n' {
                        vec![b'\r', b'\n']
                    } else {
                        vec![b]
                    }
                })
                .collect()
        }
        Mutation::CrOnly => {
            raw = raw
                .iter()
                .map(|&b| if b == b'\n' { b'\r' } else { b })
                .collect()
        }
        Mutation::Duplicate(i, n) => {
            let i = i % (raw.len() + 1);
            let e = (i + n).min(raw.len());
            let chunk = raw[i..e].to_vec();
            raw.splice(i..i, chunk);
        }
    }
    raw
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn mutated_samples_get_a_verdict(
        pick in any::<usize>(),
        muts in proptest::collection::vec(mutation(), 1..6),
    ) {
        let all = samples();
        let mut raw = all[pick % all.len()].clone();
        for m in &muts {
            raw = apply(raw, m);
        }
        check(&raw);
    }

    #[test]
    fn arbitrary_bytes_get_a_verdict(raw in proptest::collection::vec(any::<u8>(), 0..4096)) {
        check(&raw);
    }
}

#[test]
fn line_ends_do_not_change_the_verdict() {
    for raw in samples() {
        let lf = check(&raw);
        let crlf = check(&apply(raw.clone(), &Mutation::Crlf));
        let cr = check(&apply(raw.clone(), &Mutation::CrOnly));
        assert_eq!(lf.kind, crlf.kind);
        assert_eq!(lf.recipients.len(), crlf.recipients.len());
        assert_eq!(lf.kind, cr.kind, "CR-only line ends");
    }
}

#[test]
fn deep_multipart_nesting() {
    let mut raw =
        String::from("From: MAILER-DAEMON@example.net\nSubject: nest\nMIME-Version: 1.0\n");
    for i in 0..1000 {
        raw.push_str(&format!(
            "Content-Type: multipart/mixed; boundary=\"b{i}\"\n\n--b{i}\n"
        ));
    }
    raw.push_str("Content-Type: text/plain\n\nhello\n");
    for i in (0..1000).rev() {
        raw.push_str(&format!("--b{i}--\n"));
    }
    check(raw.as_bytes());
}

#[test]
fn deep_message_rfc822_nesting() {
    let mut raw = String::new();
    for _ in 0..1000 {
        raw.push_str("From: a@example.com\nContent-Type: message/rfc822\n\n");
    }
    raw.push_str("From: b@example.com\nSubject: inner\n\nbody\n");
    check(raw.as_bytes());
    // The same, each level inside a multipart/report.
    let mut raw = String::new();
    for i in 0..1000 {
        raw.push_str(&format!(
            "From: a@example.com\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"r{i}\"\n\n--r{i}\nContent-Type: message/rfc822\n\n"
        ));
    }
    raw.push_str("From: b@example.com\n\nbody\n");
    check(raw.as_bytes());
}

fn dsn_head() -> String {
    "From: MAILER-DAEMON@mx.example.net\nTo: bounces@example.com\nSubject: Undelivered Mail\n\
     MIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n\n\
     --B\nContent-Type: text/plain\n\nFailed.\n\n--B\nContent-Type: message/delivery-status\n\n\
     Reporting-MTA: dns; mx.example.net\n\n"
        .to_string()
}

#[test]
fn ten_thousand_recipients() {
    let mut raw = dsn_head();
    for i in 0..10_000 {
        raw.push_str(&format!(
            "Final-Recipient: rfc822; user{i}@example.net\nAction: failed\nStatus: 5.1.1\n\n"
        ));
    }
    raw.push_str("--B--\n");
    let v = check(raw.as_bytes());
    assert_eq!(v.kind, Kind::Bounce);
    assert_eq!(v.recipients.len(), 10_000);
}

fn with_returned(size: usize) -> Vec<u8> {
    let mut raw = dsn_head().into_bytes();
    raw.extend_from_slice(
        b"Final-Recipient: rfc822; joe@example.net\nAction: failed\nStatus: 5.1.1\n\n\
          --B\nContent-Type: message/rfc822\n\nFrom: a@example.com\nMessage-ID: <big@example.com>\n\
          Content-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n",
    );
    let line = b"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAx\n";
    while raw.len() < size {
        raw.extend_from_slice(line);
    }
    raw.extend_from_slice(b"\n--B--\n");
    raw
}

#[test]
fn big_returned_message_gets_a_bounded_verdict() {
    // A 100 MB returned message: the verdict comes from the report parts before it, and
    // `check` holds the time to the blow-up guard.
    let big = with_returned(100 * 1024 * 1024);
    let v = check(&big);
    assert_eq!(v.kind, Kind::Bounce);
    assert_eq!(v.recipients.len(), 1);
    assert_eq!(v.returned_message_id.as_deref(), Some("<big@example.com>"));
}
