//! Load through the real `rebound-lda`: 500 deliveries from 16 concurrent processes against
//! one Maildir and one SQLite database, the bounce storm a sender in trouble gets. Every
//! message must be filed exactly once, recorded exactly once, every agent must exit 0, and
//! no agent may log an error line (a "database is locked" logged and swallowed would still
//! be a lost record until the next import).

mod fault_support;

use fault_support::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

const MESSAGES: usize = 500;
const WORKERS: usize = 16;

#[test]
fn five_hundred_deliveries_from_sixteen_processes() {
    let area = Area::new();
    let md = area.maildir();
    let db = area.db();
    let next = Arc::new(AtomicUsize::new(0));
    let problems = Arc::new(Mutex::new(Vec::<String>::new()));
    let logs = Arc::new(Mutex::new(Vec::<String>::new()));

    let mut handles = Vec::new();
    for _ in 0..WORKERS {
        let (md, db) = (md.clone(), db.clone());
        let (next, problems, logs) = (next.clone(), problems.clone(), logs.clone());
        handles.push(std::thread::spawn(move || {
            loop {
                let seq = next.fetch_add(1, Ordering::SeqCst);
                if seq >= MESSAGES {
                    break;
                }
                let out = deliver(lda(&md, &db), &bounce(seq));
                let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
                if out.status.code() != Some(0) {
                    problems
                        .lock()
                        .expect("lock")
                        .push(format!("message {seq}: {:?}: {stderr}", out.status));
                }
                logs.lock().expect("lock").push(stderr);
            }
        }));
    }
    for h in handles {
        h.join().expect("worker");
    }
    let problems = problems.lock().expect("lock");
    assert!(
        problems.is_empty(),
        "{} failed deliveries, first: {}",
        problems.len(),
        problems[0]
    );

    let mut seen = vec![0usize; MESSAGES];
    for f in filed(&md) {
        let seq = seq_of_complete(&f)
            .unwrap_or_else(|| panic!("incomplete or foreign file {}", f.display()));
        seen[seq] += 1;
    }
    let wrong: Vec<_> = seen.iter().enumerate().filter(|(_, n)| **n != 1).collect();
    assert!(
        wrong.is_empty(),
        "(message, times filed) not once: {wrong:?}"
    );
    assert!(in_tmp(&md).is_empty(), "tmp/ not empty: {:?}", in_tmp(&md));
    assert_eq!(
        rows(&db, "SELECT count(*) FROM messages"),
        MESSAGES as i64,
        "every delivery recorded"
    );

    let logs = logs.lock().expect("lock");
    let errors: Vec<&str> = logs
        .iter()
        .flat_map(|s| s.lines())
        .filter(|l| {
            let l = l.to_ascii_lowercase();
            l.contains("error") || l.contains("locked") || l.contains("busy")
        })
        .collect();
    assert!(
        errors.is_empty(),
        "{} error lines, first: {}",
        errors.len(),
        errors[0]
    );
}
