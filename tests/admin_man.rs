//! rebound(8) kept true: every subcommand the binary knows has its own subsection, and every
//! long option its `--help` lists is on the page (the clap definitions are the one registry;
//! this test holds the hand-written page to it).

use std::path::Path;
use std::process::Command;

const REBOUND: &str = env!("CARGO_BIN_EXE_rebound");

fn help(args: &[&str]) -> String {
    let out = Command::new(REBOUND).args(args).output().unwrap();
    assert!(out.status.success(), "rebound {args:?} --help");
    String::from_utf8(out.stdout).unwrap()
}

/// Subcommand names from the `Commands:` block of `rebound --help`.
fn subcommands() -> Vec<String> {
    let text = help(&["--help"]);
    text.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(str::to_string)
        .collect()
}

/// Long options (`--name`) of a help text.
fn long_options(text: &str) -> Vec<String> {
    let mut v: Vec<String> = text
        .split(|c: char| c.is_whitespace() || c == ',' || c == '[' || c == ']')
        .filter(|w| w.starts_with("--") && w.len() > 2)
        .map(|w| {
            w.trim_end_matches(|c: char| !c.is_ascii_alphanumeric())
                .split(['=', '<'])
                .next()
                .unwrap_or_default()
                .to_string()
        })
        .filter(|w| w.len() > 2)
        .collect();
    v.sort();
    v.dedup();
    v
}

#[test]
fn every_subcommand_and_option_is_on_the_page() {
    let page = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("man/rebound.8"))
        .unwrap()
        .replace("\\-", "-");
    let subs = subcommands();
    assert!(subs.len() >= 13, "{subs:?}");
    let mut missing = Vec::new();
    for s in &subs {
        if !page
            .lines()
            .any(|l| l.starts_with(".SS ") && l.split_whitespace().any(|w| w == s.as_str()))
        {
            missing.push(format!("subsection for {s}"));
        }
        for o in long_options(&help(&[s, "--help"])) {
            if matches!(o.as_str(), "--help" | "--version") {
                continue;
            }
            if !page.contains(&o) {
                missing.push(format!("{s} {o}"));
            }
        }
    }
    assert!(missing.is_empty(), "not in rebound(8): {missing:?}");
    // The exit codes the binary documents are the page's.
    for code in ["0", "1", "2"] {
        assert!(page.contains(&format!(".B {code}\n")), "exit status {code}");
    }
}
