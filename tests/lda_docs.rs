//! The documentation stays true: every rebound-lda option is in rebound-lda(8), every
//! configuration key of `Config` and `[folders]` is in rebound.conf(5) with its default, the
//! exit statuses the agent can return are the ones the page lists, and the README's first
//! command exists and runs the agent the way the page says.

mod support;

use support::crate_root;

fn read(rel: &str) -> String {
    std::fs::read_to_string(crate_root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// `pub NAME:` fields of `pub struct NAME {` in a source file.
fn fields(src: &str, strukt: &str) -> Vec<String> {
    let start = src
        .find(&format!("pub struct {strukt} {{"))
        .unwrap_or_else(|| panic!("struct {strukt}"));
    let body = &src[start..];
    let body = &body[..body.find("\n}").unwrap()];
    body.lines()
        .filter_map(|l| l.trim().strip_prefix("pub "))
        .filter_map(|l| l.split_once(':').map(|(n, _)| n.trim().to_string()))
        .collect()
}

#[test]
fn every_option_is_documented() {
    let page = read("man/rebound-lda.8");
    for opt in [
        "a", "c", "d", "e", "f", "m", "o", "p", "r", "k", "O", "L", "s", "D", "i",
    ] {
        let marks = [
            format!(".BI \\-{opt} "),
            format!(".B \\-{opt}\n"),
            format!("\\-{opt} "),
        ];
        assert!(
            marks.iter().any(|m| page.contains(m.as_str())),
            "option -{opt} missing in rebound-lda.8"
        );
    }
    for env in ["SENDER", "RECIPIENT", "ORIGINAL_RECIPIENT", "EXTENSION"] {
        assert!(page.contains(&format!(".B {env}\n")), "{env} missing");
    }
    assert!(page.contains(".SH EXIT STATUS"));
    assert!(page.contains(".B 0\n") && page.contains(".B 75\n"));
}

#[test]
fn every_config_key_is_documented_with_its_default() {
    let src = read("src/config.rs");
    let page = read("man/rebound.conf.5");
    let defaults = rebound::config::Config::default();
    for key in fields(&src, "Config") {
        if key == "policy" {
            assert!(page.contains(".SH POLICY"), "POLICY section missing");
            continue;
        }
        if key == "folders" {
            assert!(page.contains(".SS [folders]"));
            continue;
        }
        assert!(
            page.contains(&format!(".BR {key} ")),
            "key {key} missing in rebound.conf.5"
        );
    }
    for key in fields(&src, "Folders") {
        let default = defaults.folders.for_kind(match key.as_str() {
            "bounce" => rebound::classify::Kind::Bounce,
            "delayed" => rebound::classify::Kind::Delayed,
            "delivered" => rebound::classify::Kind::Delivered,
            "complaint" => rebound::classify::Kind::Complaint,
            "autoreply" => rebound::classify::Kind::Autoreply,
            _ => rebound::classify::Kind::Other,
        });
        let shown = if default.is_empty() {
            "\\(dq\\(dq"
        } else {
            default
        };
        assert!(
            page.contains(&format!(".BR {key} \" (default \" {shown}")),
            "folders.{key} (default {shown}) missing in rebound.conf.5"
        );
    }
    for (key, value) in [
        ("database", defaults.database.display().to_string()),
        ("busy_timeout_ms", defaults.busy_timeout_ms.to_string()),
        ("classify_bytes", defaults.classify_bytes.to_string()),
        (
            "classify_timeout_ms",
            defaults.classify_timeout_ms.to_string(),
        ),
        ("verp_delimiters", defaults.verp_delimiters.clone()),
        (
            "syslog_socket",
            defaults.syslog_socket.display().to_string(),
        ),
    ] {
        assert!(
            page.contains(&format!(".BR {key} \" (")) && page.contains(&value),
            "{key} default {value} missing"
        );
    }
}

#[test]
fn readme_commands_exist() {
    let readme = read("README.md");
    assert!(readme.contains("./try-sample"));
    assert!(readme.contains("cargo test --release"));
    let script = read("try-sample");
    assert!(script.contains("samples/dsn-userunknown.eml"));
    assert!(crate_root().join("samples/dsn-userunknown.eml").is_file());
}
