//! The command line parsed, with a short way for `isaac run`.
//!
//! clap builds its command tree (every subcommand and its flags, or even
//! `run`'s alone) before it reads an argument: allocations and page faults
//! worth a tenth of a millisecond that `isaac run` would pay on every
//! start. So a plain `isaac run` line is read by hand first: the global
//! flags, `--allow-read`, the command word and its arguments. What it
//! accepts, clap accepts too, with the same values (the same argument
//! structs: a test holds the two together); anything else (help, version,
//! `-j`, `--`, a repeated or unknown flag, a flag without its value,
//! arguments that are not UTF-8) is left to clap, so every message and
//! usage text is clap's.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::Parser;

use super::{Cli, Command, GlobalArgs, run};

/// Parse the process arguments (exiting with clap's message and status on
/// an error, as [`Parser::parse`] does).
pub fn parse() -> Cli {
    let args: Vec<OsString> = std::env::args_os().collect();
    run_line(&args).unwrap_or_else(|| Cli::parse_from(args))
}

/// `isaac [GLOBAL]... run [GLOBAL | --allow-read PATH]... COMMAND [ARGS]...`
/// with nothing unusual in it; `None`: for clap to read.
fn run_line(args: &[OsString]) -> Option<Cli> {
    let mut words = args.iter().skip(1).map(|a| a.to_str());
    let mut global = GlobalArgs::default();
    let mut allow_read = Vec::new();
    let mut run = false;
    // `-v`s before `run` and after it: clap keeps the count after it, if
    // any, rather than adding the two.
    let mut verbose = [0u8; 2];
    loop {
        let word = words.next()??;
        if !word.starts_with('-') {
            if !run {
                // Another subcommand, or `help`.
                run = word == "run";
                if run {
                    continue;
                }
                return None;
            }
            // The command: it and everything after it go to the plugin.
            let mut rest = vec![word.to_owned()];
            for word in words {
                rest.push(word.filter(|w| *w != "--")?.to_owned());
            }
            global.verbose = if verbose[1] > 0 { verbose[1] } else { verbose[0] };
            return Some(Cli { global, command: Command::Run(run::RunArgs::new(allow_read, rest)) });
        }
        let (flag, inline) = match word.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag, Some(value)),
            _ => (word, None),
        };
        let mut value = || path(inline.or_else(|| words.next().flatten())?);
        match flag {
            "--home" if global.home.is_none() => global.home = Some(value()?),
            "--config" if global.config.is_none() => global.config = Some(value()?),
            "--allow-read" if run => allow_read.push(value()?),
            _ if inline.is_some() => return None,
            "--json" if !global.json => global.json = true,
            "--profile-memory" if !global.profile_memory => global.profile_memory = true,
            "--quiet" | "-q" if !global.quiet && verbose == [0, 0] => global.quiet = true,
            _ if !global.quiet
                && let Some(n) = verbosity(word) =>
            {
                let count = &mut verbose[usize::from(run)];
                *count = count.checked_add(n)?;
            }
            _ => return None,
        }
    }
}

/// How many `-v`s `word` is (`--verbose`, `-v`, `-vvv`); `None`: it is
/// not one.
fn verbosity(word: &str) -> Option<u8> {
    match word {
        "--verbose" => Some(1),
        _ => match word.strip_prefix('-') {
            Some(vs) if !vs.is_empty() && vs.bytes().all(|b| b == b'v') => u8::try_from(vs.len()).ok(),
            _ => None,
        },
    }
}

/// A flag's value as clap takes it: not empty, not another flag.
fn path(value: &str) -> Option<PathBuf> {
    (!value.is_empty() && !value.starts_with('-')).then(|| PathBuf::from(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn both(line: &[&str]) -> (Option<String>, Result<String, String>) {
        let args: Vec<OsString> = line.iter().map(OsString::from).collect();
        let short = run_line(&args).map(|c| format!("{:?} {:?}", c.global, c.command));
        let full =
            Cli::try_parse_from(line).map(|c| format!("{:?} {:?}", c.global, c.command)).map_err(|e| e.to_string());
        (short, full)
    }

    #[test]
    fn what_the_short_parser_accepts_the_full_one_reads_alike() {
        for line in [
            &["isaac", "run", "hello", "a", "-v", "--json"][..],
            &["isaac", "--home", "/h", "-vv", "run", "--allow-read", "x", "wc", "run"],
            &["isaac", "--home=/h", "--config", "c.toml", "run", "--allow-read=x", "-v", "--verbose", "wc"],
            &["isaac", "run", "--json", "--profile-memory", "hello:hello", "--help", "-q"],
            &["isaac", "-q", "run", "hello", "--home", "x"],
            &["isaac", "--home", "run", "run", "run"],
            &["isaac", "run", "--allow-read", "a", "--allow-read", "b", "grep", "-v", "run"],
            &["isaac", "-v", "run", "-v", "x"],
            &["isaac", "-vv", "run", "--verbose", "x"],
            &["isaac", "-vv", "--verbose", "run", "x"],
            &["isaac", "run", "-v", "-vv", "x"],
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
            // The command word may look like a flag: clap decides.
            &["isaac", "run", "--nope", "x"],
            &["isaac", "-j", "2", "run", "x"],
            &["isaac", "run", "x", "--", "y"],
            &["isaac", "--json", "--json", "run", "x"],
            &["isaac", "--home", "a", "--home", "b", "run", "x"],
            &["isaac", "--home", "run", "x"],
            &["isaac", "--home=", "run", "x"],
            &["isaac", "--home", "--json", "run", "x"],
            &["isaac", "--json=1", "run", "x"],
            &["isaac", "-v", "-q", "run", "x"],
            &["isaac", "-vq", "run", "x"],
            &["isaac", "--allow-read", "x", "run", "y"],
            &["isaac", "run", "--allow-read"],
        ] {
            assert_eq!(both(line).0, None, "{line:?}");
        }
    }
}
