//! `rebound`: the admin command. Thin: parse the command line, run the subcommand, map the
//! outcome to an exit code (`rebound::exit::AdminExit`).

use clap::{Parser, Subcommand};
use rebound::admin;
use rebound::exit::AdminExit;

#[derive(Parser)]
#[command(
    name = "rebound",
    version,
    about = "Query and manage the rebound bounce database"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Classify messages and print one JSON line each; writes nothing.
    Parse(admin::parse::Args),
}

fn main() {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Parse(a) => admin::parse::run(a, &rebound::classify::Context::default()),
    };
    match result {
        Ok(()) => std::process::exit(AdminExit::Ok as i32),
        Err(e) => {
            eprintln!("rebound: {e:#}");
            std::process::exit(AdminExit::Error as i32);
        }
    }
}
