//! `rebound`: the admin command. Thin: parse the command line, run the subcommand, map the
//! outcome to an exit code (`rebound::exit::AdminExit`: 0 ok, 1 `check` found a suppressed
//! address, 2 any error). Errors never exit otherwise, so scripts can rely on the three.

use clap::{Parser, Subcommand};
use rebound::admin::{self, Global};
use rebound::exit::AdminExit;

#[derive(Parser)]
#[command(
    name = "rebound",
    version,
    about = "Query and manage the rebound bounce database",
    long_about = "Query and manage the rebound bounce database: may an address be mailed, \
                  why is it suppressed, the suppression list for the sending application, \
                  manual decisions, imports of existing mailboxes, VERP addresses, upkeep.\n\n\
                  Exit status: 0 success, 1 (check) an address is suppressed, 2 error.",
    after_help = "See rebound(8), rebound.conf(5) and rebound-db(5)."
)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// May these addresses be mailed? Exit 0 all may, 1 one is suppressed, 2 error.
    Check(admin::check::Args),
    /// List suppressed addresses (or with --events, recorded events).
    List(admin::list::Args),
    /// Everything about one address, event or message, with evidence.
    Show(admin::show::Args),
    /// Counts by day, reason, domain or kind.
    Stats(admin::stats::Args),
    /// The suppression list for the sending application (CSV, JSON).
    Export(admin::export::Args),
    /// Suppress addresses by hand, with a note (audited).
    Suppress(admin::suppress::Args),
    /// Lift suppressions by hand, with a note (audited).
    Unsuppress(admin::suppress::Args),
    /// Record Maildirs, mbox files or message files (idempotent).
    Import(admin::import::Args),
    /// Build or decode VERP return paths.
    Verp(admin::verp::Args),
    /// Delete old messages and events; suppressions stay.
    Prune(admin::prune::Args),
    /// Re-evaluate every suppression under the configured policy.
    Rebuild(admin::rebuild::Args),
    /// Check an installation and say what to fix.
    Doctor(admin::doctor::Args),
    /// Classify messages and print one JSON line each; writes nothing.
    Parse(admin::parse::Args),
}

fn run(cli: &Cli) -> anyhow::Result<AdminExit> {
    let g = &cli.global;
    match &cli.command {
        Command::Check(a) => admin::check::run(g, a),
        Command::List(a) => admin::list::run(g, a),
        Command::Show(a) => admin::show::run(g, a),
        Command::Stats(a) => admin::stats::run(g, a),
        Command::Export(a) => admin::export::run(g, a),
        Command::Suppress(a) => admin::suppress::run(g, a, admin::suppress::Action::Suppress),
        Command::Unsuppress(a) => admin::suppress::run(g, a, admin::suppress::Action::Unsuppress),
        Command::Import(a) => admin::import::run(g, a),
        Command::Verp(a) => admin::verp::run(g, a),
        Command::Prune(a) => admin::prune::run(g, a),
        Command::Rebuild(a) => admin::rebuild::run(g, a),
        Command::Doctor(a) => admin::doctor::run(g, a),
        Command::Parse(a) => {
            let cfg = g.config()?;
            let ctx = rebound::classify::Context {
                verp: cfg.verp(),
                ..rebound::classify::Context::default()
            };
            admin::parse::run(a, &ctx).map(|()| AdminExit::Ok)
        }
    }
}

fn main() {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            // --help and --version are not errors; every usage error exits 2.
            let _ = e.print();
            std::process::exit(if e.use_stderr() {
                AdminExit::Error as i32
            } else {
                AdminExit::Ok as i32
            });
        }
    };
    let code = match run(&cli) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("rebound: {e:#}");
            AdminExit::Error
        }
    };
    std::process::exit(code as i32);
}
