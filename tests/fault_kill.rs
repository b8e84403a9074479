//! SIGKILL at random points during 200 deliveries through the real `rebound-lda`, the way an
//! OOM killer, an admin's `kill -9` or a power cut hits a delivery agent. The test plays the
//! MTA: a delivery that did not exit 0 (killed, or 75) is run again until it does. Afterwards
//! every message is in `new/` (a duplicate only where a kill landed between the rename and
//! the exit, which no agent can rule out: the MTA never heard "0"), no file in `new/` is
//! half-written, `tmp/` holds nothing that shadows a filed name, and after `rebound import`
//! the database holds every message exactly once. The kill points are drawn from a seeded
//! xorshift over 0..1.5x the agent's measured run time; `REBOUND_KILL_SEED` replays a run.

mod fault_support;

use fault_support::*;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

const MESSAGES: usize = 200;

#[test]
fn sigkill_at_random_points_loses_nothing() {
    let area = Area::new();
    let md = area.maildir();
    let db = area.db();

    // Calibrate: how long one delivery takes here, into a scratch Maildir.
    let scratch = Area::new();
    let mut runs = Vec::new();
    for seq in 0..7 {
        let t = Instant::now();
        let out = deliver(
            lda(&scratch.maildir(), &scratch.db()),
            &bounce(10_000 + seq),
        );
        assert_delivered(&out, "calibration delivery");
        runs.push(t.elapsed());
    }
    runs.sort();
    let typical = runs[runs.len() / 2];
    let span_us = (typical.as_micros() as u64 * 3 / 2).max(1000);

    let seed: u64 = std::env::var("REBOUND_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_1795_8360_0001);
    eprintln!("kill seed {seed}, typical delivery {typical:?}, kill window {span_us} us");
    let mut rng = Rng(seed);

    let mut attempts: BTreeMap<usize, usize> = BTreeMap::new();
    let mut killed_total = 0;
    for seq in 0..MESSAGES {
        let msg = bounce(seq);
        let mut tries = 0;
        loop {
            tries += 1;
            assert!(
                tries <= 10,
                "message {seq}: not delivered after 10 attempts"
            );
            // The first attempt is always shot at; retries run undisturbed half of the time.
            let shoot = tries == 1 || rng.below(2) == 0;
            let mut child = spawn(lda(&md, &db), &msg);
            if shoot {
                std::thread::sleep(Duration::from_micros(rng.below(span_us)));
                let _ = child.kill();
            }
            let out = child.wait_with_output().expect("wait");
            match out.status.code() {
                Some(0) => break,
                Some(75) => {
                    assert_tempfail(&out, "a failed attempt");
                }
                Some(other) => panic!(
                    "message {seq}: exit {other} is never allowed; stderr:\n{}",
                    String::from_utf8_lossy(&out.stderr)
                ),
                None => killed_total += 1,
            }
        }
        attempts.insert(seq, tries);
    }

    // Nothing half-written in new/, every message there, duplicates only after a kill.
    let mut count: BTreeMap<usize, usize> = BTreeMap::new();
    for f in filed(&md) {
        let seq = seq_of_complete(&f)
            .unwrap_or_else(|| panic!("half-written or foreign file in new/: {}", f.display()));
        *count.entry(seq).or_default() += 1;
    }
    let mut duplicates = 0;
    for seq in 0..MESSAGES {
        let n = count.get(&seq).copied().unwrap_or(0);
        let tries = attempts[&seq];
        assert!(n >= 1, "message {seq} lost ({tries} attempts)");
        assert!(
            n <= tries,
            "message {seq} filed {n} times in {tries} attempts"
        );
        if tries == 1 {
            assert_eq!(n, 1, "message {seq} delivered once but filed {n} times");
        }
        duplicates += n - 1;
    }

    // tmp/ may hold the partial file of a killed agent (a reader never looks there; Maildir
    // cleaners remove it after 36 hours), but never a name that also stands in new/.
    let new_names: std::collections::HashSet<_> = filed(&md)
        .iter()
        .filter_map(|p| p.file_name().map(|n| n.to_os_string()))
        .collect();
    let leftovers = in_tmp(&md);
    for t in &leftovers {
        let name = t.file_name().expect("name").to_os_string();
        assert!(
            !new_names.contains(&name),
            "{} in tmp/ shadows a filed message",
            t.display()
        );
    }
    assert!(
        leftovers.len() <= killed_total,
        "{} files in tmp/ but only {killed_total} agents were killed",
        leftovers.len()
    );
    eprintln!(
        "{MESSAGES} messages, {killed_total} agents killed, {duplicates} duplicates in new/, {} partial files in tmp/",
        leftovers.len()
    );

    let out = import(&md, &db);
    assert!(
        out.status.success(),
        "rebound import failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        rows(&db, "SELECT count(*) FROM messages"),
        MESSAGES as i64,
        "after import every message is in the database exactly once"
    );
    assert_eq!(
        rows(&db, "SELECT count(DISTINCT message_id) FROM messages"),
        MESSAGES as i64
    );
}
