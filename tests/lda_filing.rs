//! rebound-lda files every message once, byte for byte, into the right Maildir folder, and
//! records it: the happy paths an MTA takes, through the real binary, a real Maildir and a
//! real SQLite file.

mod support;

use std::os::unix::fs::PermissionsExt;
use support::{Area, Test, sample, samples};

#[test]
fn every_sample_is_filed_once_and_recorded() {
    let area = Area::new();
    let all = samples();
    for path in &all {
        let raw = std::fs::read(path).unwrap();
        Test::lda_in(&area)
            .stdin(raw)
            .status(0)
            .tmp_empty()
            .stderr_has("outcome=filed")
            .stderr_has("db=recorded");
    }
    assert_eq!(area.new_files().len(), all.len());
    assert_eq!(area.rows("messages"), all.len() as i64);
    // The same messages again (an MTA retry): filed again, never recorded twice.
    let first = &all[0];
    Test::lda_in(&area)
        .stdin(std::fs::read(first).unwrap())
        .status(0)
        .stderr_has("db=duplicate");
    assert_eq!(area.rows("messages"), all.len() as i64);
}

#[test]
fn filed_bytes_are_the_message() {
    let raw = sample("dsn-userunknown.eml");
    // The sample carries Return-Path and Delivered-To: nothing is added.
    let (_t, file) = Test::lda()
        .stdin(raw.clone())
        .arg("-f")
        .arg("")
        .arg("-a")
        .arg("bounces+joe=example.com@sender.example")
        .status(0)
        .filed();
    assert_eq!(std::fs::read(&file).unwrap(), raw);
    let name = file.file_name().unwrap().to_string_lossy().into_owned();
    // dovecot-style: <secs>.M<usecs>P<pid>V<dev>I<ino>.<host>,S=<size>
    let (stem, size) = name.rsplit_once(",S=").unwrap();
    assert_eq!(size.parse::<usize>().unwrap(), raw.len());
    let secs = stem.split('.').next().unwrap();
    assert!(secs.parse::<u64>().is_ok(), "{name}");
    assert!(stem.contains(".M") && stem.contains('P') && stem.contains('V') && stem.contains('I'));
    assert!(!name.contains('/') && !name.contains(':'));
}

#[test]
fn return_path_and_delivered_to_added_only_when_absent() {
    let msg = b"Subject: hi\nMessage-ID: <x1@example.com>\n\nbody\n".to_vec();
    let (_t, file) = Test::lda()
        .stdin(msg.clone())
        .args(["-f", "<>", "-a", "bounces+joe=example.com@sender.example"])
        .status(0)
        .filed();
    let got = std::fs::read(&file).unwrap();
    let mut want =
        b"Return-Path: <>\nDelivered-To: bounces+joe=example.com@sender.example\n".to_vec();
    want.extend_from_slice(&msg);
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(&want)
    );

    // Postfix already wrote both (and a different case): nothing added.
    let msg = b"return-path: <>\nDELIVERED-TO: b@sender.example\nSubject: x\n\nb\n".to_vec();
    let (_t, file) = Test::lda()
        .stdin(msg.clone())
        .args(["-f", "", "-a", "bounces+joe=example.com@sender.example"])
        .status(0)
        .filed();
    assert_eq!(std::fs::read(&file).unwrap(), msg);
}

#[test]
fn crlf_message_gets_crlf_headers() {
    let msg = b"Subject: hi\r\n\r\nbody\r\n".to_vec();
    let (_t, file) = Test::lda()
        .stdin(msg)
        .args(["-f", "a@example.net"])
        .status(0)
        .filed();
    assert_eq!(
        std::fs::read(&file).unwrap(),
        b"Return-Path: <a@example.net>\r\nSubject: hi\r\n\r\nbody\r\n"
    );
}

#[test]
fn mbox_from_line_becomes_the_sender_and_is_not_written() {
    let raw = sample("mbox-from-line.eml");
    let t = Test::lda().stdin(raw.clone()).status(0);
    let area = t.area().clone();
    let (_t, file) = t.filed();
    let got = std::fs::read(&file).unwrap();
    let without_from = &raw[raw.iter().position(|&b| b == b'\n').unwrap() + 1..];
    let mut want = b"Return-Path: <MAILER-DAEMON>\n".to_vec();
    want.extend_from_slice(without_from);
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(&want)
    );
    assert_eq!(
        area.query("SELECT envelope_from FROM messages").as_deref(),
        Some("MAILER-DAEMON")
    );
}

#[test]
fn postfix_environment_is_the_envelope() {
    let t = Test::lda()
        .stdin(sample("human-reply.eml"))
        .env("SENDER", "")
        .env("RECIPIENT", "bounces+pat=example.net@sender.example")
        .env("EXTENSION", "pat=example.net")
        .status(0)
        .stderr_has("from=<> to=bounces+pat=example.net@sender.example");
    let area = t.area().clone();
    let (_t, file) = t.filed();
    let got = String::from_utf8(std::fs::read(file).unwrap()).unwrap();
    // The sample has its own Return-Path: kept; Delivered-To was absent: added.
    assert!(
        got.starts_with(
            "Delivered-To: bounces+pat=example.net@sender.example\nReturn-Path: <pat@example.net>\n"
        ),
        "{got}"
    );
    assert_eq!(
        area.query("SELECT envelope_to FROM messages").as_deref(),
        Some("bounces+pat=example.net@sender.example")
    );
}

#[test]
fn sendmail_detail_only_is_recorded_with_the_user() {
    // local_procmail's `-a $h -d $u`, not as root: the -d user is only looked up. (As root
    // the agent switches to the user: lda_root covers that.)
    if support::is_root() {
        eprintln!("as root: covered by lda_root");
        return;
    }
    let user = rebound::users::by_uid(nix::unistd::Uid::current().as_raw())
        .unwrap()
        .unwrap()
        .name;
    let t = Test::lda()
        .stdin(sample("dsn-userunknown.eml"))
        .args(["-f", "MAILER-DAEMON", "-a", "joe=example.com", "-d", &user])
        .status(0);
    assert_eq!(
        t.area()
            .query("SELECT envelope_to FROM messages")
            .as_deref(),
        Some(format!("{user}+joe=example.com").as_str())
    );
}

#[test]
fn mailbox_option_wins_and_creates_a_maildirplusplus_folder() {
    let t = Test::lda()
        .stdin(sample("human-reply.eml"))
        .args(["-m", "Archive.2026"])
        .status(0)
        .stderr_has("folder=.Archive.2026");
    let area = t.area().clone();
    let (_t, file) = t.filed();
    let folder = area.maildir().join(".Archive.2026");
    assert_eq!(file.parent().unwrap(), folder.join("new"));
    assert!(folder.join("maildirfolder").is_file());
    for d in ["", ".Archive.2026"] {
        for sub in ["cur", "new", "tmp"] {
            let p = area.maildir().join(d).join(sub);
            let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o700, "{}", p.display());
        }
    }
    assert_eq!(
        area.query("SELECT folder FROM messages").as_deref(),
        Some(".Archive.2026")
    );
}

#[test]
fn empty_mailbox_option_is_ignored() {
    let t = Test::lda()
        .stdin(sample("human-reply.eml"))
        .args(["-m", ""])
        .status(0);
    let area = t.area().clone();
    let (_t, file) = t.filed();
    assert_eq!(file.parent().unwrap(), area.maildir().join("new"));
}

#[test]
fn message_from_a_file() {
    let area = Area::new();
    let path = area.path().join("msg.eml");
    std::fs::write(&path, sample("autoreply-vacation.eml")).unwrap();
    let (_t, file) = Test::lda_in(&area).arg("-p").arg(&path).status(0).filed();
    assert_eq!(
        std::fs::read(file).unwrap(),
        sample("autoreply-vacation.eml")
    );
}

#[test]
fn dovecot_flags_are_accepted_and_noted() {
    Test::lda()
        .stdin(sample("human-reply.eml"))
        .args(["-e", "-k", "-i", "inst", "-O", "-L", "-s"])
        .status(0)
        .maildir_new(1)
        .stderr_has("ignored dovecot-lda option -k")
        .stderr_has("ignored dovecot-lda option -i inst");
}

#[test]
fn config_file_and_dotted_overrides() {
    let area = Area::new();
    Test::lda_in(&area)
        .config("[folders]\nother = \".Other\"\n")
        .stdin(sample("human-reply.eml"))
        .status(0)
        .stderr_has("folder=.Other");
    Test::lda_in(&area)
        .stdin(b"Subject: second\n\nx\n".to_vec())
        .set("folders.other=.Elsewhere")
        .set("policy.soft_threshold=3")
        .status(0)
        .stderr_has("folder=.Elsewhere");
}

#[test]
fn empty_message_is_filed() {
    Test::lda()
        .stdin(Vec::new())
        .status(0)
        .maildir_new(1)
        .rows("messages", 1);
}

#[test]
fn version_and_help() {
    let mut t = Test::lda().no_defaults().arg("--version").status(0);
    assert!(t.stdout().starts_with("rebound-lda "));
    let mut t = Test::lda().no_defaults().arg("--help").status(0);
    assert!(t.stdout().contains("usage: rebound-lda"));
}

/// The folder column of samples/README.md, per sample file.
fn expected_folders() -> Vec<(String, String)> {
    let readme = std::fs::read_to_string(support::crate_root().join("samples/README.md")).unwrap();
    readme
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            let file = cells[1].trim_matches('`').to_string();
            let folder = cells[3].trim_matches('`');
            let folder = if folder == "INBOX" { "" } else { folder };
            (file, folder.to_string())
        })
        .collect()
}

#[test]
fn samples_land_in_the_folder_their_readme_says() {
    let expected = expected_folders();
    assert_eq!(
        expected.len(),
        samples().len(),
        "samples/README.md lists every sample"
    );
    for (file, folder) in expected {
        let raw = sample(&file);
        // The envelope recipient is the sample's To: address, as the MTA would pass it.
        let text = String::from_utf8_lossy(&raw);
        let to = text
            .lines()
            .find_map(|l| l.strip_prefix("To: "))
            .unwrap()
            .trim()
            .to_string();
        let t = Test::lda().stdin(raw).args(["-f", "", "-a", &to]).status(0);
        let area = t.area().clone();
        let (_t, path) = t.filed();
        let want = if folder.is_empty() {
            area.maildir().join("new")
        } else {
            area.maildir().join(&folder).join("new")
        };
        assert_eq!(path.parent().unwrap(), want, "{file}");
        assert_eq!(
            area.query("SELECT folder FROM messages")
                .unwrap_or_default(),
            folder,
            "{file}"
        );
    }
}

#[test]
fn a_hard_bounce_is_recorded_and_suppresses() {
    let t = Test::lda()
        .stdin(sample("dsn-userunknown.eml"))
        .args(["-f", "", "-a", "bounces+joe=example.com@sender.example"])
        .status(0)
        .stderr_has("kind=bounce")
        .stderr_has("rcpt=joe@example.com status=5.1.1 reason=userunknown hard=1")
        .rows("events", 1);
    let area = t.area();
    assert_eq!(
        area.query("SELECT address || ' ' || status || ' ' || hard FROM events")
            .as_deref(),
        Some("joe@example.com 5.1.1 1")
    );
    assert_eq!(
        area.query("SELECT cause FROM suppressions WHERE address = 'joe@example.com'")
            .as_deref(),
        Some("hard")
    );
    // What the sending application then asks.
    Test::rebound_in(area)
        .arg("check")
        .area_args()
        .args(["-q", "joe@example.com"])
        .status(1);
    Test::rebound_in(area)
        .arg("check")
        .area_args()
        .args(["-q", "ann@example.net"])
        .status(0);
}

#[test]
fn unknown_sender_adds_no_return_path() {
    let msg = b"Subject: nobody said\n\nx\n".to_vec();
    let (_t, file) = Test::lda()
        .stdin(msg.clone())
        .status(0)
        .stderr_lacks(" from=")
        .filed();
    assert_eq!(std::fs::read(file).unwrap(), msg);
}
