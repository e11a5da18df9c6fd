//! `isaac bench`: the seed suite's report.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::{Context, Failure, output};
use crate::suite::{Report, SuiteOptions};

/// Run the seed system's benchmark suite against isaac on this machine, with
/// no network: command routing, async AI (a simulated provider on
/// loopback), plugin loading (N distinct copies of the hello plugin in a
/// temporary home), the cache (tier access times, hit rate on a Zipf trace),
/// start-up (`isaac run` as a separate process), peak memory of each phase,
/// and tiered compilation (a big plugin installed Winch first beside
/// Cranelift only, and a CPU-bound command on each tier's code). Prints
/// each figure beside the seed's target and isaac's own, with PASS or FAIL;
/// exit status 0 when every applicable target passes.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Smaller: 10 plugins, 200 ms AI latency, 1000 dispatches, a 200k-request trace, 10 start-ups, 2 add-and-run cycles.
    #[arg(long)]
    quick: bool,
    /// Simulated AI latency [default: 2s; --quick: 200ms].
    #[arg(long, value_parser = super::ai::parse_duration)]
    ai_latency: Option<Duration>,
    /// Plugins installed for loading and start-up [default: 50; --quick: 10].
    #[arg(long)]
    plugins: Option<usize>,
    /// The hello example plugin's folder [default: example-plugins/dist/hello, else $ISAAC_HOME/plugins/hello].
    #[arg(long, value_name = "DIR")]
    plugin: Option<PathBuf>,
    /// The big plugin of the tiering phase [default: greet-py beside the hello plugin's folder].
    #[arg(long, value_name = "DIR")]
    tiered_plugin: Option<PathBuf>,
    /// The CPU-bound plugin of the tiering phase, run as `NAME N` [default: primes beside the hello plugin's folder].
    #[arg(long, value_name = "DIR")]
    cpu_plugin: Option<PathBuf>,
}

pub fn run(cx: &Context, args: BenchArgs) -> Result<u8, Failure> {
    let plugin = match args.plugin {
        Some(dir) => dir,
        None => [PathBuf::from("example-plugins/dist/hello"), cx.settings.home().join("plugins/hello")]
            .into_iter()
            .find(|d| d.join("hello.wasm").is_file())
            .ok_or_else(|| {
                anyhow::anyhow!("no hello plugin found: run example-plugins/build.sh, or pass --plugin DIR")
            })?,
    };
    let isaac = std::env::current_exe()?;
    let mut options = if args.quick { SuiteOptions::quick(plugin, isaac) } else { SuiteOptions::full(plugin, isaac) };
    if let Some(latency) = args.ai_latency {
        options.ai_latency = latency;
    }
    if let Some(n) = args.plugins {
        options.plugins = n.max(1);
    }
    options.tiered_plugin = args.tiered_plugin.unwrap_or(options.tiered_plugin);
    options.cpu_plugin = args.cpu_plugin.unwrap_or(options.cpu_plugin);
    let bar = output::progress(6, "benchmarking", cx.json);
    let report = crate::suite::run(&options, &|phase| {
        bar.set_message(phase.to_owned());
        bar.inc(1);
    });
    bar.finish_and_clear();
    let report = report?;
    if cx.json {
        output::json(&serde_json::to_value(&report)?);
    } else {
        output::line(&table(&report));
        // The suite's cache phase measures LMDB in a scratch home; say which
        // cold tier this home's cache uses (`cargo bench --bench cold_tiers`
        // compares the two).
        let cold = crate::config::redact(&cx.settings.storage().cold);
        output::line(&format!("cache phase: cold tier lmdb (a scratch home); this home's cold tier: {cold}"));
    }
    Ok(u8::from(!report.passed))
}

fn table(report: &Report) -> String {
    let mut out = format!(
        "isaac bench: {} cores, {} plugins, AI latency {:.0} ms, {:.1} s\n\n{:<58} {:>12}  {:<34} {:<4}  {:<24} {:<4}\n",
        report.cores,
        report.plugins,
        report.ai_latency_ms,
        report.seconds,
        "figure",
        "value",
        "seed target",
        "",
        "isaac target",
        ""
    );
    for f in &report.figures {
        let value = format!("{:.2} {}", f.value, f.unit);
        out.push_str(&format!(
            "{:<58} {:>12}  {:<34} {:<4}  {:<24} {:<4}\n",
            format!("[{}] {}", f.phase, f.name),
            value,
            f.seed_target,
            if f.seed_target.is_empty() { "" } else { f.seed.label() },
            f.isaac_target,
            if f.isaac_target.is_empty() { "" } else { f.isaac.label() },
        ));
    }
    for note in &report.notes {
        out.push_str(&format!("\n{note}"));
    }
    for f in &report.figures {
        if let crate::suite::Verdict::NotApplicable(why) = &f.seed
            && !f.seed_target.is_empty()
        {
            out.push_str(&format!("\nn/a: {}: {why}", f.name));
        }
    }
    out.push_str(if report.passed { "\n\nevery applicable target: PASS" } else { "\n\nsome targets: FAIL" });
    out
}
