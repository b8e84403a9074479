//! Password and group lookups without glibc's NSS. The release binaries are linked statically
//! (`scripts/build`: a dynamic rebound-lda spent a fifth of a delivery in the dynamic loader),
//! and a static glibc must not load NSS modules: it dlopen()s the host's `libnss_*.so`, which
//! belong to another copy of glibc, and a lookup that reaches them can crash the process. So
//! `/etc/passwd` and `/etc/group` are read here, and a user they do not know (SSSD, LDAP,
//! systemd's dynamic users) is asked of `getent(1)`, a dynamic program with the host's own NSS.

use std::io;
use std::path::PathBuf;
use std::process::{Command, Stdio};

const PASSWD: &str = "/etc/passwd";
const GROUP: &str = "/etc/group";
/// Where getent lives on the systems rebound runs on (an MTA may start the agent with no PATH).
const GETENT: &[&str] = &["/usr/bin/getent", "/bin/getent"];

/// A password database entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub home: PathBuf,
    /// Found in `/etc/passwd` (else through getent).
    pub local: bool,
}

/// The account called `name`.
pub fn by_name(name: &str) -> io::Result<Option<Account>> {
    if name.is_empty() || name.contains([':', '\n', '\0']) {
        return Ok(None);
    }
    lookup(|a| a.name == name, name)
}

/// The account with user id `uid` (the first, as getpwuid(3) gives it).
pub fn by_uid(uid: u32) -> io::Result<Option<Account>> {
    lookup(|a| a.uid == uid, &uid.to_string())
}

fn lookup(matches: impl Fn(&Account) -> bool, key: &str) -> io::Result<Option<Account>> {
    match std::fs::read(PASSWD) {
        Ok(text) => {
            if let Some(a) = text
                .split(|&b| b == b'\n')
                .filter_map(parse_passwd)
                .find(|a| matches(a))
            {
                return Ok(Some(Account { local: true, ..a }));
            }
        }
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
        Err(_) => {}
    }
    let out = getent(&["passwd", key])?;
    Ok(out
        .as_deref()
        .and_then(|o| o.split(|&b| b == b'\n').find_map(parse_passwd))
        .filter(|a| matches(a)))
}

/// The group ids `name` belongs to, `gid` first: what initgroups(3) would set.
pub fn groups(account: &Account) -> io::Result<Vec<u32>> {
    let mut gids = vec![account.gid];
    let mut add = |g: u32| {
        if !gids.contains(&g) {
            gids.push(g);
        }
    };
    match std::fs::read(GROUP) {
        Ok(text) => {
            for line in text.split(|&b| b == b'\n') {
                if let Some(g) = member_of(line, &account.name) {
                    add(g);
                }
            }
        }
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
        Err(_) => {}
    }
    if !account.local {
        // `getent initgroups NAME` prints the name, then every supplementary group id.
        if let Some(out) = getent(&["initgroups", &account.name])? {
            let text = String::from_utf8_lossy(&out);
            for g in text
                .split_whitespace()
                .skip(1)
                .filter_map(|g| g.parse().ok())
            {
                add(g);
            }
        }
    }
    Ok(gids)
}

/// `name:password:uid:gid:gecos:home:shell`; `None` for comments, NIS `+` lines and junk.
fn parse_passwd(line: &[u8]) -> Option<Account> {
    let line = std::str::from_utf8(line).ok()?;
    let f: Vec<&str> = line.trim_end_matches('\r').split(':').collect();
    if f.len() < 7 || f[0].is_empty() || f[0].starts_with(['#', '+', '-']) {
        return None;
    }
    Some(Account {
        name: f[0].to_string(),
        uid: f[2].parse().ok()?,
        gid: f[3].parse().ok()?,
        home: PathBuf::from(f[5]),
        local: false,
    })
}

/// The gid of an `/etc/group` line (`name:password:gid:member,member`) that lists `user`.
fn member_of(line: &[u8], user: &str) -> Option<u32> {
    let line = std::str::from_utf8(line).ok()?;
    let f: Vec<&str> = line.trim_end_matches('\r').split(':').collect();
    if f.len() < 4 || f[0].starts_with(['#', '+', '-']) {
        return None;
    }
    f[3].split(',')
        .any(|m| m.trim() == user)
        .then(|| f[2].parse().ok())
        .flatten()
}

/// getent's output, `None` when it knows no such key (exit 2) or is not installed.
fn getent(args: &[&str]) -> io::Result<Option<Vec<u8>>> {
    let Some(prog) = GETENT.iter().find(|p| std::path::Path::new(p).exists()) else {
        return Ok(None);
    };
    let out = Command::new(prog)
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .env_clear()
        .output()?;
    match out.status.code() {
        Some(0) => Ok(Some(out.stdout)),
        Some(2) => Ok(None),
        _ => Err(io::Error::other(format!(
            "getent {} failed ({})",
            args.join(" "),
            out.status
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwd_lines() {
        let a = parse_passwd(b"bounces:x:991:990:Bounce mailbox:/var/spool/bounces:/sbin/nologin")
            .unwrap();
        assert_eq!((a.name.as_str(), a.uid, a.gid), ("bounces", 991, 990));
        assert_eq!(a.home, PathBuf::from("/var/spool/bounces"));
        for junk in [
            &b""[..],
            b"# comment",
            b"+@netgroup::::::",
            b"short:x:1:1",
            b"bad:x:uid:1::/:/bin/sh",
        ] {
            assert_eq!(
                parse_passwd(junk),
                None,
                "{}",
                String::from_utf8_lossy(junk)
            );
        }
    }

    #[test]
    fn group_members() {
        assert_eq!(member_of(b"mail:x:8:postfix,bounces", "bounces"), Some(8));
        assert_eq!(member_of(b"mail:x:8:postfix,bounces2", "bounces"), None);
        assert_eq!(member_of(b"mail:x:8:", "bounces"), None);
        assert_eq!(member_of(b"mail:x:eight:bounces", "bounces"), None);
    }

    #[test]
    fn root_is_uid_0() {
        let root = by_uid(0).unwrap().expect("uid 0 in the password database");
        assert_eq!(root.uid, 0);
        assert_eq!(by_name(&root.name).unwrap().map(|a| a.uid), Some(0));
        assert!(groups(&root).unwrap().contains(&root.gid));
        assert_eq!(by_name("no-such-user-rebound-test").unwrap(), None);
        assert_eq!(by_name("").unwrap(), None);
        assert_eq!(by_name("a:b").unwrap(), None);
    }
}
