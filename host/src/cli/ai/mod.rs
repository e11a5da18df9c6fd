//! `isaac ai ...`: queries, batches, statistics, the response cache and the
//! simulated provider.

mod batch;
mod query;
mod simulate;

pub use simulate::parse_duration;
mod stats;

use clap::Subcommand;

use super::{Context, Failure};

/// Ask AI providers, alone or many at once.
#[derive(Debug, Subcommand)]
pub enum AiCommand {
    /// Ask one question (--fallback: several providers at once, the first answer wins).
    Query(query::QueryArgs),
    /// Run every request of a JSON-lines file at once; print one JSON answer per line, in order.
    Batch(batch::BatchArgs),
    /// Response-cache hits, misses and money saved; per-provider requests, errors, latency, tokens, cost.
    Stats(stats::StatsArgs),
    /// The response cache.
    #[command(subcommand)]
    Cache(stats::CacheCommand),
    /// Run a simulated provider on loopback (OpenAI and Anthropic wire formats) until Ctrl-C.
    Simulate(simulate::SimulateArgs),
}

pub fn run(cx: &Context, command: AiCommand) -> Result<u8, Failure> {
    match command {
        AiCommand::Query(args) => query::run(cx, args),
        AiCommand::Batch(args) => batch::run(cx, args),
        AiCommand::Stats(args) => stats::run(cx, args),
        AiCommand::Cache(command) => stats::cache(cx, command),
        AiCommand::Simulate(args) => simulate::run(args),
    }
}
