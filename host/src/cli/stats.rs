//! `isaac stats`: the run history.

use clap::Args;

use super::{Context, Failure, output};
use crate::metrics::{RunRecord, sparkline};

/// Show what recent isaac processes did: start-up, load and total time,
/// plugins loaded, cache hits and misses, AI requests, tokens, cost and
/// savings, peak memory. Totals, then trends over the last runs (sparklines
/// on a terminal). `isaac stats` itself records nothing.
#[derive(Debug, Args)]
pub struct StatsArgs {
    /// How many recent runs to show.
    #[arg(long, default_value_t = 20)]
    last: usize,
    /// Forget the history.
    #[arg(long)]
    clear: bool,
}

pub fn run(cx: &Context, args: StatsArgs) -> Result<u8, Failure> {
    let host = cx.host()?;
    if args.clear {
        host.history().clear()?;
        if !cx.json {
            output::line("run history cleared");
            return Ok(0);
        }
    }
    let records = host.history().list()?;
    if cx.json {
        output::json(&serde_json::to_value(&records)?);
        return Ok(0);
    }
    if records.is_empty() {
        output::line("no runs recorded yet");
        return Ok(0);
    }
    output::line(&summary(&records, args.last, crate::console::stdout_is_terminal()));
    Ok(0)
}

/// Reads one figure of a record.
type Field = fn(&RunRecord) -> f64;

fn summary(records: &[RunRecord], last: usize, terminal: bool) -> String {
    let recent = &records[records.len().saturating_sub(last.max(1))..];
    let sum = |f: fn(&RunRecord) -> f64| records.iter().map(f).sum::<f64>();
    let mut out = format!(
        "{} runs recorded; totals: {} cache hits, {} misses; {} AI requests, {} tokens, ${:.6} spent, ${:.6} saved\n\
         compiled functions: {} reused from the function cache, {} compiled, {} rejected entries\n\n",
        records.len(),
        sum(|r| r.cache_hits as f64),
        sum(|r| r.cache_misses as f64),
        sum(|r| r.ai_requests as f64),
        sum(|r| r.ai_tokens as f64),
        sum(|r| r.ai_cost),
        sum(|r| r.ai_cost_saved),
        sum(|r| r.functions_reused as f64),
        sum(|r| r.functions_compiled as f64),
        sum(|r| r.functions_rejected as f64),
    );
    out.push_str(&format!("{:<14} {:>10} {:>10} {:>10}  last {} runs\n", "", "last", "median", "max", recent.len()));
    let series: [(&str, Field); 4] = [
        ("startup ms", |r| r.startup_ms),
        ("load ms", |r| r.load_ms),
        ("total ms", |r| r.total_ms),
        ("peak RSS MiB", |r| r.peak_rss_kb as f64 / 1024.0),
    ];
    for (name, f) in series {
        let values: Vec<f64> = recent.iter().map(f).collect();
        let mut sorted = values.clone();
        sorted.sort_by(f64::total_cmp);
        let trend = if terminal { sparkline(&values) } else { String::new() };
        out.push_str(&format!(
            "{name:<14} {:>10.2} {:>10.2} {:>10.2}  {trend}\n",
            values.last().copied().unwrap_or(0.0),
            sorted[sorted.len() / 2],
            sorted.last().copied().unwrap_or(0.0),
        ));
    }
    out.push('\n');
    for r in recent {
        out.push_str(&format!(
            "{:<24} start {:>7.2} ms  total {:>8.2} ms  {:>3} plugins  {:>6.1} MiB\n",
            r.command,
            r.startup_ms,
            r.total_ms,
            r.plugins_loaded,
            r.peak_rss_kb as f64 / 1024.0
        ));
    }
    out.trim_end().to_owned()
}
