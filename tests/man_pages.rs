//! The man pages stay true to the binaries: `man/*.5` and `man/*.8` lint clean with
//! `mandoc -Tlint -W warning` (style notes such as long source lines are not errors) and
//! render with `man -l`; every option that `rebound-lda --help`, `rebound --help` and each
//! subcommand's `--help` print, every subcommand, every configuration key (the default
//! `packaging/rebound.conf` and the `Config`, `Folders` and `Policy` structs) and every exit
//! code of `src/exit.rs` appears in its page. The default `packaging/rebound.conf` with every
//! key uncommented must also be accepted by the real binary, so it cannot name a key the
//! program does not know. Without mandoc/man the lint steps skip, except under `CI=true`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const LDA: &str = env!("CARGO_BIN_EXE_rebound-lda");
const ADMIN: &str = env!("CARGO_BIN_EXE_rebound");

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn page(name: &str) -> String {
    let path = root().join("man").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn pages() -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(root().join("man"))
        .expect("man/ exists")
        .map(|e| e.expect("readable man/").path())
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("5" | "8")))
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no man pages in man/");
    out
}

/// Roff source as a reader sees the words: `\-` is a dash, font changes and zero-width
/// escapes vanish, quotes around macro arguments are dropped.
fn plain(roff: &str) -> String {
    let mut s = roff
        .replace("\\-", "-")
        .replace("\\&", "")
        .replace("\\c", "");
    for font in [
        "\\fB", "\\fI", "\\fR", "\\fP", "\\f(CW", "\\f(CB", "\\f[]", "\\fC",
    ] {
        s = s.replace(font, "");
    }
    s.replace('"', " ")
}

/// `word` occurs in `text` with no letter, digit, `-` or `_` glued to either side.
fn has_word(text: &str, word: &str) -> bool {
    let glued = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    text.match_indices(word).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + word.len()..].chars().next();
        !before.is_some_and(glued) && !after.is_some_and(glued)
    })
}

fn run(bin: &str, args: &[&str]) -> String {
    let out = Command::new(bin)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{bin}: {e}"));
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    text
}

/// Options named in a help text: `-d`, `--format`, wherever they stand (clap's option
/// list or a one-line usage like `[-d user] [-o key=value]...`).
fn options(help: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for raw in help.split(|c: char| c.is_whitespace() || "[](),|".contains(c)) {
        let token = raw.split(['=', '<']).next().unwrap_or("");
        let long = token.strip_prefix("--");
        let ok = match long {
            Some(name) => {
                name.len() > 1
                    && name.starts_with(|c: char| c.is_ascii_lowercase())
                    && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            }
            None => {
                token.len() == 2
                    && token.starts_with('-')
                    && token[1..].chars().all(|c| c.is_ascii_alphabetic())
            }
        };
        if ok {
            found.insert(token.to_string());
        }
    }
    // clap's own flags; the pages document what the programs do, not how to ask for help.
    for builtin in ["-h", "--help"] {
        found.remove(builtin);
    }
    found
}

fn missing<'a>(text: &str, words: impl IntoIterator<Item = &'a String>) -> Vec<String> {
    words
        .into_iter()
        .filter(|w| !has_word(text, w))
        .cloned()
        .collect()
}

/// Skip (or, under CI, fail) when a tool is absent.
fn tool(name: &str) -> bool {
    let there = Command::new(name)
        .arg("-h")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !there {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{name} is required under CI=true (apt-get install mandoc man-db)"
        );
        eprintln!("man_pages: {name} not installed, skipping");
    }
    there
}

#[test]
fn pages_lint_clean_with_mandoc() {
    if !tool("mandoc") {
        return;
    }
    let mut report = String::new();
    for p in pages() {
        let out = Command::new("mandoc")
            .args(["-Tlint", "-W", "warning"])
            .arg(&p)
            .output()
            .expect("mandoc runs");
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        if !out.status.success() || !text.trim().is_empty() {
            report.push_str(&text);
        }
    }
    assert!(report.is_empty(), "mandoc -Tlint -W warning:\n{report}");
}

#[test]
fn pages_render_with_man() {
    if !tool("man") {
        return;
    }
    for p in pages() {
        let out = Command::new("man")
            .arg("-l")
            .arg(&p)
            .env("MANPAGER", "cat")
            .env("PAGER", "cat")
            .env("MANWIDTH", "80")
            .output()
            .expect("man runs");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "man -l {}: {err}", p.display());
        assert!(err.trim().is_empty(), "man -l {} warns: {err}", p.display());
        assert!(
            out.stdout.len() > 500,
            "man -l {} rendered almost nothing",
            p.display()
        );
    }
}

#[test]
fn every_lda_option_is_in_rebound_lda_8() {
    let help = run(LDA, &["--help"]);
    let opts = options(&help);
    for needed in ["-d", "-a", "-f", "-m", "-p", "-c", "-o", "-r", "-e"] {
        assert!(
            opts.contains(needed),
            "rebound-lda --help lacks {needed}:\n{help}"
        );
    }
    let text = plain(&page("rebound-lda.8"));
    let gone = missing(&text, &opts);
    assert!(gone.is_empty(), "rebound-lda.8 lacks options {gone:?}");
}

/// Subcommands from `rebound --help` ("Commands:" up to the blank line), without `help`.
fn subcommands() -> Vec<String> {
    let help = run(ADMIN, &["--help"]);
    let list: Vec<String> = help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_string)
        .collect();
    assert!(list.len() >= 5, "no subcommands found in:\n{help}");
    list
}

#[test]
fn every_subcommand_has_a_section_in_rebound_8() {
    let text = plain(&page("rebound.8"));
    let sections: BTreeSet<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix(".SS "))
        .flat_map(str::split_whitespace)
        .collect();
    let gone: Vec<String> = subcommands()
        .into_iter()
        .filter(|s| !sections.contains(s.as_str()))
        .collect();
    // `.SS suppress address... and unsuppress address...` covers both.
    assert!(gone.is_empty(), "rebound.8 has no .SS naming {gone:?}");
}

#[test]
fn every_admin_option_is_in_rebound_8() {
    let text = plain(&page("rebound.8"));
    let mut report = Vec::new();
    let top = options(&run(ADMIN, &["--help"]));
    for gone in missing(&text, &top) {
        report.push(format!("rebound {gone}"));
    }
    for sub in subcommands() {
        let opts = options(&run(ADMIN, &[sub.as_str(), "--help"]));
        for gone in missing(&text, &opts) {
            report.push(format!("rebound {sub} {gone}"));
        }
    }
    assert!(report.is_empty(), "rebound.8 lacks {report:?}");
}

/// Keys of packaging/rebound.conf, commented out or not: `maildir`, `policy.soft_threshold`.
fn conf_keys() -> Vec<String> {
    let path = root().join("packaging/rebound.conf");
    let text = std::fs::read_to_string(&path).expect("packaging/rebound.conf");
    let mut section = String::new();
    let mut keys = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = format!("{name}.");
            continue;
        }
        let body = line.strip_prefix('#').unwrap_or(line);
        let Some((key, _)) = body.split_once(" = ") else {
            continue;
        };
        if !key.is_empty() && key.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
            keys.push(format!("{section}{key}"));
        }
    }
    assert!(keys.len() >= 10, "too few keys in {}", path.display());
    keys
}

/// Field names of `pub struct NAME` in a source file.
fn struct_fields(src: &str, name: &str) -> Vec<(String, String)> {
    let start = format!("pub struct {name} {{");
    let Some(body) = src.split(&start).nth(1) else {
        panic!("pub struct {name} not found")
    };
    body.split("\n}")
        .next()
        .unwrap_or("")
        .lines()
        .filter_map(|l| l.trim().strip_prefix("pub "))
        .filter_map(|l| l.split_once(':'))
        .map(|(k, ty)| {
            (
                k.trim().to_string(),
                ty.trim().trim_end_matches(',').to_string(),
            )
        })
        .collect()
}

/// Keys the program knows: fields of `Config`, with `Folders` and `Policy` as tables.
fn struct_keys() -> Vec<String> {
    let config = std::fs::read_to_string(root().join("src/config.rs")).expect("src/config.rs");
    let policy =
        std::fs::read_to_string(root().join("src/store/policy.rs")).expect("src/store/policy.rs");
    let mut keys = Vec::new();
    for (field, ty) in struct_fields(&config, "Config") {
        let table = match ty.rsplit("::").next() {
            Some("Folders") => Some(struct_fields(&config, "Folders")),
            Some("Policy") => Some(struct_fields(&policy, "Policy")),
            _ => None,
        };
        match table {
            Some(inner) => keys.extend(inner.into_iter().map(|(k, _)| format!("{field}.{k}"))),
            None => keys.push(field),
        }
    }
    keys
}

#[test]
fn default_config_names_every_key_of_the_program() {
    let conf: BTreeSet<String> = conf_keys().into_iter().collect();
    let gone: Vec<String> = struct_keys()
        .into_iter()
        .filter(|k| !conf.contains(k))
        .collect();
    assert!(gone.is_empty(), "packaging/rebound.conf lacks {gone:?}");
}

#[test]
fn every_config_key_is_in_rebound_conf_5() {
    let text = plain(&page("rebound.conf.5"));
    let mut keys: BTreeSet<String> = conf_keys().into_iter().collect();
    keys.extend(struct_keys());
    // A table key may be written `policy.soft_threshold` or as `soft_threshold` under
    // the table's own heading; both need the table's name somewhere in the page.
    let gone: Vec<String> = keys
        .into_iter()
        .filter(|k| match k.split_once('.') {
            Some((table, key)) => !(has_word(&text, table) && has_word(&text, key)),
            None => !has_word(&text, k),
        })
        .collect();
    assert!(gone.is_empty(), "rebound.conf.5 lacks keys {gone:?}");
}

#[test]
fn default_config_file_is_accepted_by_rebound_lda() {
    // Uncomment every key: the defaults as written must parse, with no unknown key.
    let text = std::fs::read_to_string(root().join("packaging/rebound.conf")).expect("conf");
    let active: String = text
        .lines()
        .map(|l| match l.strip_prefix('#') {
            Some(rest) if rest.contains(" = ") && !rest.starts_with(' ') => rest,
            _ => l,
        })
        .map(|l| format!("{l}\n"))
        .collect();
    let dir = tempfile::tempdir().expect("tempdir");
    let conf = dir.path().join("rebound.conf");
    std::fs::write(&conf, active).expect("write conf");
    let maildir = dir.path().join("Maildir");
    let db = dir.path().join("rebound.db");
    let mut child = Command::new(LDA)
        .arg("-c")
        .arg(&conf)
        .arg("-o")
        .arg(format!("maildir={}", maildir.display()))
        .arg("-o")
        .arg(format!("database={}", db.display()))
        .args(["-o", "log=stderr"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("rebound-lda runs");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin
            .write_all(b"From: someone@example.com\nSubject: conf test\n\nhello\n")
            .expect("write message");
    }
    let out = child.wait_with_output().expect("wait");
    assert_eq!(
        out.status.code(),
        Some(0),
        "packaging/rebound.conf rejected: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `(enum, code)` pairs of `src/exit.rs`: `LdaExit` for rebound-lda, `AdminExit` for rebound.
fn exit_codes() -> Vec<(String, String)> {
    let src = std::fs::read_to_string(root().join("src/exit.rs")).expect("src/exit.rs");
    let mut current = String::new();
    let mut codes = Vec::new();
    for line in src.lines() {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("pub enum ") {
            current = rest.trim_end_matches(" {").trim().to_string();
        } else if let Some((_, value)) = line.split_once(" = ") {
            let value = value.trim_end_matches(',');
            if !current.is_empty() && value.chars().all(|c| c.is_ascii_digit()) {
                codes.push((current.clone(), value.to_string()));
            }
        } else if line == "}" {
            current.clear();
        }
    }
    codes
}

/// The text of the EXIT STATUS section (up to the next .SH).
fn exit_section(name: &str) -> String {
    let text = plain(&page(name));
    let mut lines = text.lines().skip_while(|l| {
        let l = l.trim();
        !(l.starts_with(".SH") && l.contains("EXIT STATUS"))
    });
    let head = lines.next();
    assert!(head.is_some(), "{name} has no EXIT STATUS section");
    lines
        .take_while(|l| !l.starts_with(".SH"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn every_exit_code_is_in_its_page() {
    let codes = exit_codes();
    assert!(
        codes.iter().any(|(e, c)| e == "LdaExit" && c == "75"),
        "src/exit.rs: no LdaExit 75 found in {codes:?}"
    );
    let mut gone = Vec::new();
    for (which, page_name) in [("LdaExit", "rebound-lda.8"), ("AdminExit", "rebound.8")] {
        let section = exit_section(page_name);
        for (_, code) in codes.iter().filter(|(e, _)| e == which) {
            if !has_word(&section, code) {
                gone.push(format!("{page_name}: {code}"));
            }
        }
    }
    assert!(gone.is_empty(), "EXIT STATUS lacks {gone:?}");
}

#[test]
fn pages_exist() {
    for name in ["rebound-lda.8", "rebound.8", "rebound.conf.5"] {
        assert!(
            Path::new(&root().join("man").join(name)).is_file(),
            "man/{name} is missing"
        );
    }
}
