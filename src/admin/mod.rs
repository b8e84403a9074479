//! The `rebound` admin subcommands, one file each.

pub mod parse;
