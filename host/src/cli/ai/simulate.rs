//! `isaac ai simulate`

use std::time::Duration;

use clap::{Args, ValueEnum};

use crate::ai::simulator::{Fault, SimConfig, Simulator};
use crate::cli::Failure;

/// Serve a simulated AI provider on 127.0.0.1 until Ctrl-C. Point a provider
/// at it with `base_url = "http://127.0.0.1:PORT/v1"` (kind openai) or
/// `"http://127.0.0.1:PORT"` (kind anthropic).
#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// The port (0: any free one).
    #[arg(long, default_value_t = 8089)]
    port: u16,
    /// Time before each answer: `2s`, `200ms`, `0`.
    #[arg(long, default_value = "0", value_parser = parse_duration)]
    latency: Duration,
    /// Up to this much more, at random.
    #[arg(long, default_value = "0", value_parser = parse_duration)]
    jitter: Duration,
    /// Time between the pieces of a streamed answer: `300ms`, `0`.
    #[arg(long, default_value = "0", value_parser = parse_duration)]
    piece_delay: Duration,
    /// The share of requests (0 to 1) that fail.
    #[arg(long, default_value_t = 0.0)]
    error_rate: f64,
    /// The HTTP status of a failure.
    #[arg(long, default_value_t = 500)]
    error_status: u16,
    /// `Retry-After` seconds sent with failures.
    #[arg(long)]
    retry_after: Option<u64>,
    /// The first N requests fail.
    #[arg(long, default_value_t = 0)]
    fail_first: u64,
    /// Output tokens of every answer.
    #[arg(long, default_value_t = 20)]
    output_tokens: u64,
    /// A fault in every answer.
    #[arg(long, value_enum, default_value_t = FaultArg::None)]
    fault: FaultArg,
    /// Require this API key (Authorization: Bearer, or x-api-key).
    #[arg(long)]
    api_key: Option<String>,
    /// Answer at most N requests at once; refuse more with 429 (and
    /// `--retry-after`).
    #[arg(long)]
    capacity: Option<u64>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum FaultArg {
    None,
    Malformed,
    Truncated,
    CutStream,
}

/// A duration argument that is not one.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DurationError {
    /// Not in humantime's syntax.
    #[error("{text:?}: write a duration such as 2s, 200ms or 1m 30s")]
    Unreadable {
        /// What was written.
        text: String,
        /// Why it does not read.
        #[source]
        why: humantime::DurationError,
    },
    /// Over a day.
    #[error("{0:?}: at most a day")]
    OutOfRange(String),
}

/// A duration in humantime's syntax (`2s`, `150ms`, `1m 30s`, `0`), at
/// most a day.
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    let duration = humantime::parse_duration(text.trim())
        .map_err(|why| DurationError::Unreadable { text: text.to_owned(), why })?;
    if duration > Duration::from_secs(86_400) {
        return Err(DurationError::OutOfRange(text.to_owned()));
    }
    Ok(duration)
}

pub fn run(args: SimulateArgs) -> Result<u8, Failure> {
    let config = SimConfig {
        latency: args.latency,
        jitter: args.jitter,
        piece_delay: args.piece_delay,
        error_rate: args.error_rate,
        error_status: args.error_status,
        retry_after: args.retry_after,
        fail_first: args.fail_first,
        output_tokens: args.output_tokens,
        fault: match args.fault {
            FaultArg::None => Fault::None,
            FaultArg::Malformed => Fault::Malformed,
            FaultArg::Truncated => Fault::Truncated,
            FaultArg::CutStream => Fault::CutStream,
        },
        api_key: args.api_key,
        capacity: args.capacity,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    runtime
        .block_on(async {
            let sim = Simulator::start(config, args.port).await?;
            crate::say!(
                "simulated AI provider on http://{} (openai base_url: {}, anthropic base_url: {}); Ctrl-C to stop",
                sim.addr,
                sim.openai_url(),
                sim.anthropic_url()
            );
            tokio::signal::ctrl_c().await?;
            Ok::<u8, std::io::Error>(0)
        })
        .map_err(Failure::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("200ms"), Ok(Duration::from_millis(200)));
        assert_eq!(parse_duration("1s 500ms"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert!(matches!(parse_duration("fast"), Err(DurationError::Unreadable { .. })));
        assert!(matches!(parse_duration("-1s"), Err(DurationError::Unreadable { .. })));
        assert_eq!(parse_duration("2days"), Err(DurationError::OutOfRange("2days".into())));
    }
}
