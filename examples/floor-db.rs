//! floor-db: the least a delivery can do that keeps rebound-lda's promises, for
//! bench/delivery.sh. What bench/floor.c does with `-d` (read stdin, write tmp/<unique>,
//! fsync, rename into new/, fsync new/), hashing the bytes on the way as rebound-lda does,
//! then one record in rebound's database through rebound's own store: open (WAL, schema),
//! one transaction of a fixed one-recipient hard bounce (message, event, suppression), the
//! WAL limit rebound-lda keeps. No configuration, no classifier, no log line, no privilege
//! checks. Beside floor+dir it prices the database; beside rebound-lda, everything else.
//!
//! Usage: floor-db MAILDIR DATABASE < message        exit 0 or 75

use rebound::classify::{Action, Kind, Reason, Recipient, Verdict};
use rebound::store::{self, ContentHash, MessageMeta, Store};
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 3 {
        eprintln!("4.3.5 usage: floor-db MAILDIR DATABASE < message");
        return ExitCode::from(75);
    }
    match deliver(Path::new(&args[1]), Path::new(&args[2])) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("4.3.0 floor-db: {e}");
            ExitCode::from(75)
        }
    }
}

fn deliver(maildir: &Path, database: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?;
    let name = format!(
        "{}.M{:06}P{}.floor",
        now.as_secs(),
        now.subsec_micros(),
        std::process::id()
    );
    let tmp = maildir.join("tmp").join(&name);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .custom_flags(nix::libc::O_NOFOLLOW)
        .open(&tmp)?;
    let mut hash = ContentHash::new();
    let mut size = 0u64;
    let mut buf = vec![0u8; 64 * 1024];
    let mut stdin = std::io::stdin().lock();
    loop {
        let n = match stdin.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        };
        file.write_all(&buf[..n])?;
        hash.update(&buf[..n]);
        size += n as u64;
    }
    file.sync_all()?;
    drop(file);
    let new = maildir.join("new");
    std::fs::rename(&tmp, new.join(&name))?;
    std::fs::File::open(&new)?.sync_all()?;

    let content_hash = hash.finish();
    let meta = MessageMeta {
        file: name,
        folder: String::new(),
        arrived_at: store::time::now(),
        envelope_from: Some(String::new()),
        envelope_to: None,
        size: Some(size),
        content_hash: content_hash.clone(),
    };
    // A different address each message, as a mailing list's bounces are.
    let verdict = Verdict {
        kind: Kind::Bounce,
        recipients: vec![Recipient {
            address: format!("user-{}@example.com", &content_hash[..12]),
            action: Some(Action::Failed),
            status: Some("5.1.1".into()),
            reply_code: Some("550".into()),
            reason: Some(Reason::UserUnknown),
            hard: Some(true),
            diagnostic: Some("smtp; 550 5.1.1 User unknown".into()),
            remote_mta: Some("mx.example.com".into()),
            evidence: vec!["status 5.1.1".into()],
            ..Recipient::default()
        }],
        detector: "rfc3464".into(),
        evidence: vec!["multipart/report; report-type=delivery-status".into()],
        ..Verdict::default()
    };
    let mut store = Store::open(database, 5000)?;
    store.record(&meta, &verdict, &Default::default())?;
    let _ = store.checkpoint_if_over(rebound::lda::WAL_LIMIT);
    // As rebound-lda: not closed, the process ends here.
    std::mem::forget(store);
    Ok(())
}
