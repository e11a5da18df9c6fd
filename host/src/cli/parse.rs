//! The command line parsed, with a short way for `isaac run`.
//!
//! clap builds the whole command tree (every subcommand and its flags)
//! before it reads an argument: a few hundred allocations and page faults,
//! a tenth of a millisecond that `isaac run` would pay on every start. So a
//! command line naming `run` is first parsed against the global flags and
//! `run` alone. Where that parser accepts the line, the full one would
//! accept it too, with the same values (the same argument structs); on any
//! error (help, version, an unknown flag or subcommand included) the full
//! parser parses the line again, so every message and usage text is the
//! full one's.

use std::ffi::OsString;

use clap::{Parser, Subcommand};

use super::{Cli, Command, GlobalArgs, run};

/// The same `isaac` as [`Cli`], with `run` as its only subcommand.
#[derive(Debug, Parser)]
#[command(name = "isaac", version, propagate_version = true, max_term_width = 100)]
struct RunOnly {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: OnlyRun,
}

#[derive(Debug, Subcommand)]
enum OnlyRun {
    Run(run::RunArgs),
}

/// Parse the process arguments (exiting with clap's message and status on
/// an error, as [`Parser::parse`] does).
pub fn parse() -> Cli {
    let args: Vec<OsString> = std::env::args_os().collect();
    if args.iter().skip(1).any(|a| a == "run")
        && let Ok(RunOnly { global, command: OnlyRun::Run(args) }) = RunOnly::try_parse_from(&args)
    {
        return Cli { global, command: Command::Run(args) };
    }
    Cli::parse_from(args)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn both(line: &[&str]) -> (Option<String>, Result<String, String>) {
        let short = RunOnly::try_parse_from(line).ok().map(|r| format!("{:?} {:?}", r.global, r.command));
        let full =
            Cli::try_parse_from(line).map(|c| format!("{:?} {:?}", c.global, c.command)).map_err(|e| e.to_string());
        (short, full)
    }

    #[test]
    fn what_the_short_parser_accepts_the_full_one_reads_alike() {
        for line in [
            &["isaac", "run", "hello", "a", "-v", "--json"][..],
            &["isaac", "--home", "/h", "-vv", "run", "--allow-read", "x", "wc", "run"],
            &["isaac", "run", "--json", "hello:hello", "--", "--help"],
            &["isaac", "-j", "2", "run", "grep", "-v", "run"],
            // The command word may look like a flag: the plugin decides.
            &["isaac", "run", "--nope", "x"],
        ] {
            let (short, full) = both(line);
            let short = short.unwrap_or_else(|| panic!("{line:?} should parse"));
            assert_eq!(short, full.unwrap(), "{line:?}");
        }
    }

    #[test]
    fn anything_else_is_left_to_the_full_parser() {
        for line in [
            &["isaac", "run"][..],
            &["isaac", "run", "--help"],
            &["isaac", "--version", "run", "x"],
            &["isaac", "help", "run"],
            &["isaac", "plugins", "info", "run"],
            &["isaac", "--nope", "run", "x"],
            &["isaac", "-j", "0", "run", "x"],
        ] {
            assert_eq!(both(line).0, None, "{line:?}");
        }
    }
}
