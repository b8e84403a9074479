//! What the MTA passed and what the admin configured. The command line of rebound-lda is
//! dovecot-lda's (`-d -a -r -f -m -p -c -o -e`, and `-k -i -O -L -s -D` accepted and ignored)
//! so an existing Sendmail `local_procmail` or Postfix `mailbox_command` line works unchanged;
//! Postfix's command environment (`SENDER RECIPIENT ORIGINAL_RECIPIENT EXTENSION`) fills what
//! the flags leave out. Configuration: `/etc/rebound.conf` (TOML), every key with a default,
//! any key overridable with `-o KEY=VALUE` (dotted for tables: `-o policy.soft_threshold=3`,
//! `-o folders.bounce=.B`). A missing default file is fine; an unreadable or invalid one, or
//! a missing `-c` file, is an error naming the file and line.

use crate::error::{Error, Result};
use serde::Deserialize;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// Default configuration file.
pub const DEFAULT_PATH: &str = "/etc/rebound.conf";

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Maildir to file into; `None` means `~/Maildir` of the delivering user.
    pub maildir: Option<PathBuf>,
    /// SQLite database file.
    pub database: PathBuf,
    /// SQLite busy timeout in milliseconds.
    pub busy_timeout_ms: u64,
    /// How many leading bytes of a message are kept for classification.
    pub classify_bytes: usize,
    /// How long classification may take before the message is filed as `other`.
    pub classify_timeout_ms: u64,
    /// VERP separators, detail then at: `+=`.
    pub verp_delimiters: String,
    /// Where to log: `syslog` (falls back to stderr) or `stderr`.
    pub log: String,
    /// The syslog socket (a datagram or stream socket speaking RFC 3164).
    pub syslog_socket: PathBuf,
    /// Maildir++ folder per verdict kind.
    pub folders: Folders,
    /// Suppression policy.
    pub policy: crate::store::policy::Policy,
}

/// Maildir++ folder names per kind; `""` is INBOX.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Folders {
    pub bounce: String,
    pub delayed: String,
    pub delivered: String,
    pub complaint: String,
    pub autoreply: String,
    pub other: String,
}

impl Default for Folders {
    fn default() -> Self {
        Folders {
            bounce: ".Bounces".into(),
            delayed: ".Delays".into(),
            delivered: ".Delivered".into(),
            complaint: ".Complaints".into(),
            autoreply: ".AutoReplies".into(),
            other: String::new(),
        }
    }
}

impl Folders {
    /// The configured folder for a verdict kind.
    pub fn for_kind(&self, kind: crate::classify::Kind) -> &str {
        use crate::classify::Kind;
        match kind {
            Kind::Bounce => &self.bounce,
            Kind::Delayed => &self.delayed,
            Kind::Delivered => &self.delivered,
            Kind::Complaint => &self.complaint,
            Kind::Autoreply => &self.autoreply,
            Kind::Other => &self.other,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            maildir: None,
            database: PathBuf::from("/var/lib/rebound/rebound.db"),
            busy_timeout_ms: 30_000,
            classify_bytes: 4 << 20,
            classify_timeout_ms: 10_000,
            verp_delimiters: "+=".into(),
            log: "syslog".into(),
            syslog_socket: PathBuf::from("/dev/log"),
            folders: Folders::default(),
            policy: crate::store::policy::Policy::default(),
        }
    }
}

impl Config {
    /// Load `path` (TOML) and apply `-o` overrides in order. A missing file is fine unless
    /// `explicit` (given with `-c`); an unreadable or invalid one names the file and line.
    pub fn load(path: &Path, explicit: bool, overrides: &[String]) -> Result<Config> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => Some(t),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => None,
            Err(e) => {
                return Err(Error::Config {
                    path: path.to_path_buf(),
                    message: format!("cannot read: {e}"),
                });
            }
        };
        let config = match (&text, overrides.is_empty()) {
            (None, true) => Config::default(),
            (Some(t), true) => from_toml(path, t)?,
            (text, false) => {
                let mut table = match text {
                    Some(t) => {
                        // Parse once typed first, so a wrong type is reported with its line.
                        from_toml(path, t)?;
                        t.parse::<toml::Table>()
                            .map_err(|e| toml_error(path, t, &e))?
                    }
                    None => toml::Table::new(),
                };
                for o in overrides {
                    apply_override(&mut table, o)?;
                }
                Config::deserialize(toml::Value::Table(table)).map_err(|e| Error::Config {
                    path: PathBuf::from("-o"),
                    message: e.message().to_string(),
                })?
            }
        };
        config.validate(path)?;
        Ok(config)
    }

    /// The VERP separators of `verp_delimiters`.
    pub fn verp(&self) -> crate::verp::Separators {
        let mut chars = self.verp_delimiters.chars();
        match (chars.next(), chars.next()) {
            (Some(detail), Some(at)) => crate::verp::Separators { detail, at },
            _ => crate::verp::Separators::default(),
        }
    }

    fn validate(&self, path: &Path) -> Result<()> {
        let bad = |message: String| Error::Config {
            path: path.to_path_buf(),
            message,
        };
        if self.verp_delimiters.chars().count() != 2 {
            return Err(bad(format!(
                "verp_delimiters must be two characters (detail, at), not {:?}",
                self.verp_delimiters
            )));
        }
        if self.log != "syslog" && self.log != "stderr" {
            return Err(bad(format!(
                "log must be \"syslog\" or \"stderr\", not {:?}",
                self.log
            )));
        }
        self.policy.validate().map_err(&bad)?;
        if self.classify_bytes < 4096 {
            return Err(bad("classify_bytes must be at least 4096".into()));
        }
        let f = &self.folders;
        for (key, name) in [
            ("bounce", &f.bounce),
            ("delayed", &f.delayed),
            ("delivered", &f.delivered),
            ("complaint", &f.complaint),
            ("autoreply", &f.autoreply),
            ("other", &f.other),
        ] {
            crate::maildir::folder_dir(name).map_err(|e| bad(format!("folders.{key}: {e}")))?;
        }
        Ok(())
    }
}

fn from_toml(path: &Path, text: &str) -> Result<Config> {
    toml::from_str::<Config>(text).map_err(|e| toml_error(path, text, &e))
}

/// `FILE:LINE: message`, the line computed from the error's byte span.
fn toml_error(path: &Path, text: &str, e: &toml::de::Error) -> Error {
    let message = match e.span() {
        Some(span) => {
            let line = text.as_bytes()[..span.start.min(text.len())]
                .iter()
                .filter(|&&b| b == b'\n')
                .count()
                + 1;
            format!("line {line}: {}", e.message().trim())
        }
        None => e.message().trim().to_string(),
    };
    Error::Config {
        path: path.to_path_buf(),
        message,
    }
}

/// Apply one `KEY=VALUE`: the value as TOML when it parses and the result still fits the
/// schema (`3`, `true`, `"x"`), else as a plain string (`/srv/mail`, `.Bounces`).
fn apply_override(table: &mut toml::Table, o: &str) -> Result<()> {
    let bad = |message: String| Error::Config {
        path: PathBuf::from("-o"),
        message,
    };
    let (key, value) = o
        .split_once('=')
        .ok_or_else(|| bad(format!("{o:?}: expected KEY=VALUE")))?;
    let key = key.trim();
    let path: Vec<&str> = key.split('.').collect();
    if path.iter().any(|p| p.is_empty()) {
        return Err(bad(format!("{o:?}: empty key")));
    }
    let typed = format!("v = {value}")
        .parse::<toml::Table>()
        .ok()
        .and_then(|mut t| t.remove("v"));
    let plain = toml::Value::String(value.to_string());
    let candidates: Vec<toml::Value> = match typed {
        Some(v) if !v.is_str() => vec![v, plain],
        Some(v) => vec![v],
        None => vec![plain],
    };
    let mut last_error = String::new();
    for candidate in candidates {
        let mut trial = table.clone();
        set_path(&mut trial, &path, candidate).map_err(|m| bad(format!("{o:?}: {m}")))?;
        match Config::deserialize(toml::Value::Table(trial.clone())) {
            Ok(_) => {
                *table = trial;
                return Ok(());
            }
            Err(e) => last_error = e.message().to_string(),
        }
    }
    Err(bad(format!("{o:?}: {last_error}")))
}

fn set_path(table: &mut toml::Table, path: &[&str], value: toml::Value) -> Result<(), String> {
    match path {
        [] => Err("empty key".into()),
        [last] => {
            table.insert((*last).to_string(), value);
            Ok(())
        }
        [first, rest @ ..] => {
            let entry = table
                .entry((*first).to_string())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            match entry {
                toml::Value::Table(t) => set_path(t, rest, value),
                _ => Err(format!("{first} is not a table")),
            }
        }
    }
}

/// The command line as MTAs pass it, dovecot-lda style.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Invocation {
    /// `-d USER`: the user to deliver for (required when started as root).
    pub user: Option<String>,
    /// `-a ADDRESS`: the original envelope recipient; a bare `+detail` from Sendmail's `$h`.
    pub address: Option<String>,
    /// `-r ADDRESS`: the final envelope recipient.
    pub final_address: Option<String>,
    /// `-f SENDER`: the envelope sender (`""` or `<>` is the null sender).
    pub sender: Option<String>,
    /// `-m MAILBOX`: folder to file into; `""` is ignored (Postfix's `-m ${extension}`).
    pub mailbox: Option<String>,
    /// `-p PATH`: read the message from a file instead of stdin.
    pub path: Option<PathBuf>,
    /// `-c FILE`.
    pub config: Option<PathBuf>,
    /// `-o KEY=VALUE`, in order.
    pub overrides: Vec<String>,
    /// `-e`: report rejections on stderr (rebound never rejects; accepted for drop-in use).
    pub rejections_to_stderr: bool,
    /// dovecot-lda flags accepted and ignored, for the log note.
    pub ignored: Vec<String>,
    /// `--help` / `--version` asked.
    pub help: bool,
    pub version: bool,
}

/// Usage text (also the man page synopsis).
pub const USAGE: &str = "usage: rebound-lda [-e] [-d user] [-a address] [-r address] [-f sender] \
[-m mailbox] [-p path] [-c config] [-o key=value]...";

impl Invocation {
    /// getopt-style parse: `-dUSER` and `-d USER`, clustered flags (`-ek`), `--` ends the
    /// options. Any operand or unknown option is a usage error (exit 75 upstream).
    pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Invocation> {
        let mut inv = Invocation::default();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let arg = arg
                .into_string()
                .map_err(|a| Error::Usage(format!("argument is not UTF-8: {a:?}")))?;
            match arg.as_str() {
                "--" => {
                    if let Some(extra) = args.next() {
                        return Err(Error::Usage(format!("unexpected argument {extra:?}")));
                    }
                    break;
                }
                "--help" => {
                    inv.help = true;
                    continue;
                }
                "--version" => {
                    inv.version = true;
                    continue;
                }
                _ => {}
            }
            let Some(flags) = arg.strip_prefix('-').filter(|f| !f.is_empty()) else {
                return Err(Error::Usage(format!("unexpected argument {arg:?}")));
            };
            for (i, c) in flags.char_indices() {
                if matches!(c, 'a' | 'c' | 'd' | 'f' | 'i' | 'm' | 'o' | 'p' | 'r') {
                    let rest = &flags[i + c.len_utf8()..];
                    let value = if !rest.is_empty() {
                        rest.to_string()
                    } else {
                        args.next()
                            .ok_or_else(|| Error::Usage(format!("option -{c} needs a value")))?
                            .into_string()
                            .map_err(|a| {
                                Error::Usage(format!("value of -{c} is not UTF-8: {a:?}"))
                            })?
                    };
                    match c {
                        'a' => inv.address = Some(value),
                        'c' => inv.config = Some(PathBuf::from(value)),
                        'd' => inv.user = Some(value),
                        'f' => inv.sender = Some(value),
                        'i' => inv.ignored.push(format!("-i {value}")),
                        'm' => inv.mailbox = Some(value),
                        'o' => inv.overrides.push(value),
                        'p' => inv.path = Some(PathBuf::from(value)),
                        _ => inv.final_address = Some(value),
                    }
                    break;
                }
                match c {
                    'e' => inv.rejections_to_stderr = true,
                    'k' | 'O' | 'L' | 's' | 'D' => inv.ignored.push(format!("-{c}")),
                    _ => return Err(Error::Usage(format!("unknown option -{c}"))),
                }
            }
        }
        Ok(inv)
    }
}

/// The envelope as far as the MTA told it: flags first, then Postfix's environment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Envelope {
    /// Envelope sender; `Some("")` is the null sender `<>`; `None` when nobody said.
    pub sender: Option<String>,
    /// Full recipient address (may be a VERP address).
    pub recipient: Option<String>,
    /// Original recipient (`-r` / `ORIGINAL_RECIPIENT`).
    pub original_recipient: Option<String>,
    /// The `+detail` alone (`EXTENSION`, or Sendmail's `-a $h` without `@`).
    pub extension: Option<String>,
    /// The `-d` user.
    pub user: Option<String>,
}

impl Envelope {
    /// Combine the flags with the environment (`env` is a lookup, `std::env::var` in the agent).
    pub fn from_invocation(inv: &Invocation, env: impl Fn(&str) -> Option<String>) -> Envelope {
        let nonempty = |v: Option<String>| v.filter(|s| !s.is_empty());
        let (recipient, ext_from_a) = match &inv.address {
            Some(a) if a.contains('@') => (Some(a.clone()), None),
            Some(a) if !a.is_empty() => (None, Some(a.clone())),
            _ => (None, None),
        };
        Envelope {
            sender: inv
                .sender
                .as_deref()
                .map(normalize_sender)
                .or_else(|| env("SENDER").map(|s| normalize_sender(&s))),
            recipient: recipient.or_else(|| nonempty(env("RECIPIENT"))),
            original_recipient: nonempty(inv.final_address.clone())
                .or_else(|| nonempty(env("ORIGINAL_RECIPIENT"))),
            extension: ext_from_a.or_else(|| nonempty(env("EXTENSION"))),
            user: inv.user.clone(),
        }
    }
}

/// `<>` and `""` are the null sender; brackets are dropped.
fn normalize_sender(s: &str) -> String {
    s.trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Invocation> {
        Invocation::parse(args.iter().map(OsString::from))
    }

    #[test]
    fn dovecot_style_flags() {
        let inv = parse(&[
            "-d", "bounces", "-abob", "-f", "", "-ek", "-o", "x=1", "-i", "i1",
        ])
        .unwrap();
        assert_eq!(inv.user.as_deref(), Some("bounces"));
        assert_eq!(inv.address.as_deref(), Some("bob"));
        assert_eq!(inv.sender.as_deref(), Some(""));
        assert!(inv.rejections_to_stderr);
        assert_eq!(inv.ignored, vec!["-k", "-i i1"]);
        assert_eq!(inv.overrides, vec!["x=1"]);
    }

    #[test]
    fn usage_errors() {
        assert!(parse(&["-x"]).is_err());
        assert!(parse(&["-d"]).is_err());
        assert!(parse(&["extra"]).is_err());
        assert!(parse(&["--", "extra"]).is_err());
        assert!(parse(&["-"]).is_err());
    }

    #[test]
    fn overrides_typed_and_plain() {
        let c = Config::load(
            Path::new("/nonexistent/rebound.conf"),
            false,
            &[
                "policy.soft_threshold=3".into(),
                "folders.bounce=.B".into(),
                "maildir=/srv/m".into(),
                "database=123".into(),
                "busy_timeout_ms=5".into(),
            ],
        )
        .unwrap();
        assert_eq!(c.policy.soft_threshold, 3);
        assert_eq!(c.folders.bounce, ".B");
        assert_eq!(c.maildir.as_deref(), Some(Path::new("/srv/m")));
        assert_eq!(c.database, Path::new("123"));
        assert_eq!(c.busy_timeout_ms, 5);
        assert!(Config::load(Path::new("/nonexistent"), false, &["nope=1".into()]).is_err());
        assert!(Config::load(Path::new("/nonexistent"), true, &[]).is_err());
    }

    #[test]
    fn file_errors_name_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("rebound.conf");
        std::fs::write(&p, "database = \"/x\"\n\nbusy_timeout_ms = \"soon\"\n").unwrap();
        let e = Config::load(&p, true, &[]).unwrap_err().to_string();
        assert!(e.contains("rebound.conf: line 3"), "{e}");
        std::fs::write(&p, "database = \n").unwrap();
        let e = Config::load(&p, true, &["log=stderr".into()])
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 1"), "{e}");
    }

    #[test]
    fn envelope_from_flags_and_env() {
        let inv = parse(&["-d", "bounces", "-a", "joe=example.com"]).unwrap();
        let env = |k: &str| match k {
            "SENDER" => Some(String::new()),
            "RECIPIENT" => Some("bounces+x=example.net@sender.example".into()),
            _ => None,
        };
        let e = Envelope::from_invocation(&inv, env);
        assert_eq!(e.sender.as_deref(), Some(""));
        assert_eq!(e.extension.as_deref(), Some("joe=example.com"));
        assert_eq!(
            e.recipient.as_deref(),
            Some("bounces+x=example.net@sender.example")
        );
    }
}
