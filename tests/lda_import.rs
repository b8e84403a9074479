//! The Maildir is the record of truth: what rebound-lda filed but could not record (the
//! database was away) is brought in by `rebound import`, and what it did record is not
//! recorded again, because both key a message on the SHA-256 of its bytes as filed.

mod support;

use support::{Area, Test, samples};

#[test]
fn import_records_what_the_agent_could_not_and_nothing_twice() {
    let area = Area::new();
    let all = samples();
    // The first half is recorded by the agent; the second half finds no database.
    let half = all.len() / 2;
    for (i, path) in all.iter().enumerate() {
        let raw = std::fs::read(path).unwrap();
        let mut t = Test::lda_in(&area).stdin(raw).args(["-f", ""]);
        if i >= half {
            t = t.set(&format!(
                "database={}/missing/rebound.db",
                area.path().display()
            ));
            t.status(0).stderr_has("db=error");
        } else {
            t.status(0).stderr_has("db=recorded");
        }
    }
    assert_eq!(area.rows("messages"), half as i64);
    Test::rebound_in(&area)
        .arg("import")
        .area_args()
        .args(["-q"])
        .arg(area.maildir())
        .status(0);
    assert_eq!(area.rows("messages"), all.len() as i64);
    // Again: idempotent.
    Test::rebound_in(&area)
        .arg("import")
        .area_args()
        .args(["-q"])
        .arg(area.maildir())
        .status(0);
    assert_eq!(area.rows("messages"), all.len() as i64);
    // Same file names and folders as the agent would have recorded.
    let files = area.new_files();
    let c = rusqlite::Connection::open(area.database()).unwrap();
    for f in files {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        let n: i64 = c
            .query_row(
                "SELECT count(*) FROM messages WHERE file = ?1",
                [&name],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(n, 1, "{name}");
    }
}
