//! The `isaac` command line: raw arguments → settings → one subcommand →
//! exit status. One file per subcommand; the clap doc comments are the help.
//! A subcommand whose flags combine with the settings, the terminal or
//! defaults resolves them once into its own `XSettings` (beside its
//! `XArgs`), which is all its handler reads.
//!
//! Results go to stdout, diagnostics to stderr; `--json` prints results as
//! JSON; a progress bar appears only when stderr is a terminal; a closed
//! stdout (`isaac ... | head`) is not an error.

mod ai;
mod ask;
mod bench;
mod cache;
mod context;
mod dev;
mod diagnostics;
mod exit;
mod mcp;
mod new;
mod output;
mod parse;
mod plugins;
mod rlimit;
mod run;
mod shell;
mod stats;
#[cfg(test)]
mod testing;

use std::process::ExitCode;

use clap::Subcommand;

pub use context::{Context, GlobalArgs};

/// isaac: run sandboxed WebAssembly plugins of an AI command assistant.
///
/// Plugins are WebAssembly components (written in any language) installed
/// into $ISAAC_HOME. Each command runs in its own sandbox with a memory
/// limit, a deadline and only the capabilities you granted.
#[derive(Debug, clap::Parser)]
#[command(name = "isaac", version, propagate_version = true, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a plugin command: `isaac run COMMAND [ARGS...]`.
    Run(run::RunArgs),
    /// Install, list, inspect and remove plugins.
    #[command(subcommand)]
    Plugins(plugins::PluginsCommand),
    /// The three-tier cache: get, set, delete, invalidate, stats, clear, warm.
    #[command(subcommand)]
    Cache(cache::CacheCommand),
    /// Keep every plugin loaded and run one command per line (reads a script from a pipe).
    Shell(shell::ShellArgs),
    /// AI queries: one, a batch, with fallback; statistics; the response cache; a simulated provider.
    #[command(subcommand)]
    Ai(ai::AiCommand),
    /// What recent isaac processes did: start-up, load, memory, cache and AI use.
    Stats(stats::StatsArgs),
    /// Run the seed suite's benchmarks against isaac and report PASS or FAIL for each target.
    Bench(bench::BenchArgs),
    /// Serve the plugins' commands as tools of an MCP server (stdio, or `--http` on loopback).
    Mcp(mcp::McpArgs),
    /// Ask the configured AI model, with the plugins' commands as its tools.
    Ask(ask::AskArgs),
    /// Write a new plugin folder in a language, ready to build (and build it).
    New(new::NewArgs),
    /// Build, install and run a plugin folder; again on every save.
    Dev(dev::DevArgs),
    /// Compile a component's optimised code in the background (started by
    /// isaac itself for tiered compilation).
    #[command(hide = true)]
    CompileOptimized(CompileOptimizedArgs),
}

/// `isaac compile-optimized WASM SHA256`
#[derive(Debug, clap::Args)]
struct CompileOptimizedArgs {
    /// The component file.
    wasm: std::path::PathBuf,
    /// Its digest, checked before compiling.
    sha256: String,
}

impl Command {
    /// Whether this command makes one call (or a few) and exits, rather
    /// than hosting many ([`Flags::one_call`](crate::settings::Flags::one_call)).
    fn one_call(&self) -> bool {
        match self {
            Command::Run(_)
            | Command::Cache(_)
            | Command::Ai(_)
            | Command::Stats(_)
            | Command::Ask(_)
            | Command::New(_)
            | Command::Dev(_)
            | Command::CompileOptimized(_) => true,
            Command::Plugins(_) | Command::Shell(_) | Command::Bench(_) | Command::Mcp(_) => false,
        }
    }

    /// The label of this process in the run history; `None`: not recorded.
    fn label(&self) -> Option<String> {
        let name =
            |c: &dyn std::fmt::Debug| format!("{c:?}").split(['(', ' ', '{']).next().unwrap_or("").to_lowercase();
        Some(match self {
            Command::Run(args) => format!("run {}", args.command()),
            Command::Plugins(c) => format!("plugins {}", name(c)),
            Command::Cache(c) => format!("cache {}", name(c)),
            Command::Ai(c) => format!("ai {}", name(c)),
            Command::Shell(_) => "shell".to_owned(),
            Command::Ask(_) => "ask".to_owned(),
            Command::Stats(_)
            | Command::Bench(_)
            | Command::Mcp(_)
            | Command::New(_)
            | Command::Dev(_)
            | Command::CompileOptimized(_) => return None,
        })
    }
}

/// An error at the binary's edge, with the exit status it maps to.
#[derive(Debug)]
pub struct Failure {
    /// 1: the command failed; 2: usage error.
    pub code: u8,
    /// What to print.
    pub error: anyhow::Error,
}

impl<E: Into<anyhow::Error>> From<E> for Failure {
    fn from(error: E) -> Self {
        Failure { code: 1, error: error.into() }
    }
}

/// Parse the process arguments, run, and return the exit status.
pub fn main() -> ExitCode {
    crate::metrics::process_start();
    rlimit::raise_open_files();
    let cli = parse::parse();
    // Only `isaac run` makes exactly one call and may block on its files
    // (`ask` makes several, and one stuck file read would stall the rest);
    // it also leaves without taking the host apart.
    let run = matches!(cli.command, Command::Run(_));
    let cx = match Context::new(&cli.global, cli.command.one_call(), run) {
        Ok(cx) => cx,
        Err(e) => return ExitCode::from(report(&Failure::from(e), false)),
    };
    let label = cli.command.label();
    cx.init_tracing();
    let result = match cli.command {
        Command::Run(args) => run::run(&cx, args),
        Command::Plugins(command) => plugins::run(&cx, command),
        Command::Cache(command) => cache::run(&cx, command),
        Command::Shell(args) => shell::run(&cx, args),
        Command::Ai(command) => ai::run(&cx, command),
        Command::Stats(args) => stats::run(&cx, args),
        Command::Bench(args) => bench::run(&cx, args),
        Command::Mcp(args) => mcp::run(&cx, args),
        Command::Ask(args) => ask::run(&cx, args),
        Command::New(args) => new::run(&cx, args),
        Command::Dev(args) => dev::run(&cx, args),
        Command::CompileOptimized(args) => crate::tiers::optimize(&cx.settings, &args.wasm, &args.sha256)
            .map(|_| 0)
            .map_err(|e| anyhow::Error::from(e).into()),
    };
    cx.finish(label.as_deref());
    if cx.profile_memory {
        let mib = |kb: Option<u64>| kb.map_or("?".to_owned(), |kb| format!("{:.1} MiB", kb as f64 / 1024.0));
        crate::say!(
            "memory: {} resident now, {} at the peak",
            mib(crate::metrics::current_rss_kb()),
            mib(crate::metrics::peak_rss_kb())
        );
    }
    let status = match result {
        Ok(_) if output::failed() => 1,
        Ok(code) => code,
        Err(failure) => report(&failure, cx.json),
    };
    if run {
        exit::leave(cx);
    }
    ExitCode::from(status)
}

fn report(failure: &Failure, json: bool) -> u8 {
    // The error and its sources, each said once. Its text may hold bytes a
    // plugin, a server or a registry chose: shown, never obeyed.
    let message = crate::error::one_line(failure.error.as_ref());
    let message = crate::terminal::clean(&message, crate::terminal::Lines::Keep);
    if json {
        output::json(&serde_json::json!({ "error": message, "exit_code": failure.code }));
    }
    crate::say!("error: {message}");
    failure.code
}

/// The async runtime for one command: one thread is enough, plugins are
/// called one at a time and host calls await on it.
fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread().enable_time().enable_io().build()
}
