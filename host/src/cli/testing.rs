//! Helpers for the commands' unit tests: parse a command's flags as clap
//! would, and resolve settings in a scratch home.

use clap::{Args, Command};

use crate::settings::{Flags, Settings};

/// `words` parsed as the flags and arguments of `A` (panics on a usage error).
pub fn parse<A: Args>(words: &[&str]) -> A {
    let command = A::augment_args(Command::new("isaac"));
    let matches = command.try_get_matches_from(std::iter::once("isaac").chain(words.iter().copied())).unwrap();
    A::from_arg_matches(&matches).unwrap()
}

/// Settings resolved from `flags` in a scratch home whose config file is
/// `config`, and no environment. Keep the folder while the settings live.
pub fn settings(config: &str, flags: Flags) -> (tempfile::TempDir, Settings) {
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("config.toml"), config).unwrap();
    let flags = Flags { home: Some(home.path().to_owned()), ..flags };
    let settings = Settings::resolve(&flags, &[][..], crate::capabilities::CONFIG_SECTIONS).unwrap();
    (home, settings)
}
