//! Who the agent runs as. Sendmail's `local_procmail` mailer has the `S` flag: the agent is
//! started as root with `-d $u` and must become that user (supplementary groups, then gid,
//! then uid: the order in which each step is still permitted) before it opens any file, so
//! nothing is ever written as root. Started as root without `-d`, it refuses, unless the
//! Maildir was named on the command line itself (`-o maildir=DIR`: a person or a test running
//! it by hand into a directory of their choosing; no MTA line does that by accident). Not
//! root, it stays who it is and `-d` only names the user whose home holds the default Maildir.

use crate::error::{Error, Result};
use crate::users::{self, Account};
use nix::unistd::{Gid, Uid};
use std::path::PathBuf;

/// The user the message is delivered for, after any switch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryUser {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub home: PathBuf,
}

/// Become the `-d` user when running as root; look the user up otherwise. An unknown user is
/// an error (exit 75: the MTA retries rather than bouncing a bounce). `explicit_maildir`:
/// the command line named the Maildir, which lets root run without `-d`.
pub fn become_user(user: Option<&str>, explicit_maildir: bool) -> Result<Option<DeliveryUser>> {
    let root = Uid::effective().is_root();
    let Some(name) = user else {
        if root && !explicit_maildir {
            return Err(Error::Privileges(
                "running as root without -d USER (or -o maildir=DIR); refusing to write as root"
                    .into(),
            ));
        }
        return Ok(None);
    };
    let found = users::by_name(name).map_err(|e| Error::UnknownUser {
        name: name.to_string(),
        detail: format!("password database lookup failed: {e}"),
    })?;
    let Some(pw) = found else {
        return Err(Error::UnknownUser {
            name: name.to_string(),
            detail: "no such user".into(),
        });
    };
    if root {
        if pw.uid == 0 {
            return Err(Error::Privileges(format!(
                "-d {name} is uid 0; refusing to write as root"
            )));
        }
        switch(&pw)?;
    }
    Ok(Some(DeliveryUser {
        name: pw.name,
        uid: pw.uid,
        gid: pw.gid,
        home: pw.home,
    }))
}

fn switch(pw: &Account) -> Result<()> {
    let fail = |what: &str, e: nix::Error| Error::Privileges(format!("{what}: {e}"));
    let gids: Vec<Gid> = users::groups(pw)
        .map_err(|e| Error::Privileges(format!("group database: {e}")))?
        .into_iter()
        .map(Gid::from_raw)
        .collect();
    let gid = Gid::from_raw(pw.gid);
    nix::unistd::setgroups(&gids).map_err(|e| fail("setgroups", e))?;
    nix::unistd::setgid(gid).map_err(|e| fail("setgid", e))?;
    nix::unistd::setuid(Uid::from_raw(pw.uid)).map_err(|e| fail("setuid", e))?;
    // setuid as root sets real, effective and saved ids; prove there is no way back.
    if nix::unistd::setuid(Uid::from_raw(0)).is_ok() || Uid::effective().is_root() {
        return Err(Error::Privileges("could not give up root".into()));
    }
    if Gid::effective() != gid {
        return Err(Error::Privileges("gid did not change".into()));
    }
    Ok(())
}

/// Home directory of the current uid (password database), for `~/Maildir` without `-d`.
pub fn current_home() -> Option<PathBuf> {
    if let Some(h) = std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        return Some(PathBuf::from(h));
    }
    users::by_uid(Uid::current().as_raw())
        .ok()
        .flatten()
        .map(|u| u.home)
}
