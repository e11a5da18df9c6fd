//! `isaac ai stats`, `isaac ai cache clear`

use clap::{Args, Subcommand};

use crate::cli::{Context, Failure, output};

/// Print the response cache's `hits`, `misses`, `hit_rate` and `cost_saved`,
/// `spent_today`, and per provider (`providers.NAME`): `requests`, `errors`,
/// `cancelled` (sent, then dropped: a fallback's losers), `p50_ms`, `p95_ms`, `input_tokens`, `output_tokens`, `cost`. Totals over
/// every isaac process.
#[derive(Debug, Args)]
pub struct StatsArgs {}

pub fn run(cx: &Context, _args: StatsArgs) -> Result<u8, Failure> {
    let host = cx.host()?;
    let stats = host.ai()?.stats()?;
    if cx.json {
        output::json(&serde_json::to_value(&stats)?);
        return Ok(0);
    }
    let c = &stats.cache;
    let mut text = format!(
        "response cache  {} hits, {} misses, hit rate {:.1} %, saved ${:.6}\nspent today     ${:.6}\n",
        c.hits,
        c.misses,
        c.hit_rate * 100.0,
        c.cost_saved,
        stats.spent_today
    );
    let ms = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{v:.0} ms"));
    for (name, p) in &stats.providers {
        text.push_str(&format!(
            "{name:<15} {} requests, {} errors, {} cancelled, p50 {}, p95 {}, {} in / {} out tokens, ${:.6}\n",
            p.requests,
            p.errors,
            p.cancelled,
            ms(p.p50_ms),
            ms(p.p95_ms),
            p.input_tokens,
            p.output_tokens,
            p.cost
        ));
    }
    output::line(&text);
    Ok(0)
}

/// The response cache.
#[derive(Debug, Subcommand)]
pub enum CacheCommand {
    /// Delete every cached answer (cached prompts and answers are private data).
    Clear,
}

pub fn cache(cx: &Context, command: CacheCommand) -> Result<u8, Failure> {
    let CacheCommand::Clear = command;
    let host = cx.host()?;
    let removed = host.ai()?.clear_cache()?;
    if cx.json {
        output::json(&serde_json::json!({ "removed": removed }));
    } else {
        output::line(&format!("removed {removed} cached answers"));
    }
    Ok(0)
}
