//! `isaac bench`: the seed suite's report.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::{Context, Failure, output};
use crate::settings::Settings;
use crate::suite::{Report, SuiteOptions};

/// Run the seed system's benchmark suite against isaac on this machine, with
/// no network: command routing, async AI (a simulated provider on
/// loopback), plugin loading (N distinct copies of the hello plugin in a
/// temporary home), the cache (tier access times, hit rate on a Zipf trace),
/// start-up (`isaac run` as a separate process), peak memory of each phase,
/// and tiered compilation (a big plugin installed Winch first beside
/// Cranelift only, a CPU-bound command on each tier's code, and a second
/// Python and a second JavaScript plugin with and without the function
/// cache; --quick leaves out all but the Winch-first adds). Prints
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
    /// A second plugin in the big plugin's language, for the function cache [default: fetch-py beside the hello plugin's folder].
    #[arg(long, value_name = "DIR")]
    second_plugin: Option<PathBuf>,
    /// A JavaScript plugin, installed before the second one [default: greet-js beside the hello plugin's folder].
    #[arg(long, value_name = "DIR")]
    js_plugin: Option<PathBuf>,
    /// A second JavaScript plugin, for the function cache [default: wordfreq-js beside the hello plugin's folder].
    #[arg(long, value_name = "DIR")]
    second_js_plugin: Option<PathBuf>,
}

/// `isaac bench`, resolved once: the suite's options (a flag wins over the
/// `--quick` or full preset) and what the report says of this home.
#[derive(Debug)]
struct BenchSettings {
    /// What the suite runs.
    suite: SuiteOptions,
    /// This home's cold tier, its password hidden (the suite measures LMDB
    /// in a scratch home).
    cold_tier: String,
}

/// Where the hello plugin is looked for without `--plugin`, in order: the
/// repository's build output, then this home's installed copy.
fn hello_folders(settings: &Settings) -> [PathBuf; 2] {
    [PathBuf::from("example-plugins/dist/hello"), settings.home().join("plugins/hello")]
}

impl BenchSettings {
    /// Resolve `args` over `settings`; the `isaac` the start-up phase runs
    /// is this binary.
    fn resolve(args: BenchArgs, settings: &Settings) -> Result<Self, Failure> {
        let plugin = match args.plugin {
            Some(dir) => dir,
            None => hello_folders(settings).into_iter().find(|d| d.join("hello.wasm").is_file()).ok_or_else(|| {
                anyhow::anyhow!("no hello plugin found: run example-plugins/build.sh, or pass --plugin DIR")
            })?,
        };
        let isaac = std::env::current_exe()?;
        let preset = if args.quick { SuiteOptions::quick } else { SuiteOptions::full };
        let mut suite = preset(plugin, isaac);
        suite.ai_latency = args.ai_latency.unwrap_or(suite.ai_latency);
        suite.plugins = args.plugins.map_or(suite.plugins, |n| n.max(1));
        suite.tiered_plugin = args.tiered_plugin.unwrap_or(suite.tiered_plugin);
        suite.cpu_plugin = args.cpu_plugin.unwrap_or(suite.cpu_plugin);
        suite.second_plugin = args.second_plugin.unwrap_or(suite.second_plugin);
        suite.js_plugin = args.js_plugin.unwrap_or(suite.js_plugin);
        suite.second_js_plugin = args.second_js_plugin.unwrap_or(suite.second_js_plugin);
        Ok(BenchSettings { suite, cold_tier: crate::config::redact(&settings.storage().cold) })
    }
}

pub fn run(cx: &Context, args: BenchArgs) -> Result<u8, Failure> {
    let bench = BenchSettings::resolve(args, &cx.settings)?;
    let bar = output::progress(6, "benchmarking", cx.json);
    let report = crate::suite::run(&bench.suite, &|phase| {
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
        let cold = &bench.cold_tier;
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

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::cli::testing::{parse, settings};
    use crate::settings::Flags;

    /// A home with the hello plugin installed (its component a placeholder).
    fn home_with_hello() -> (tempfile::TempDir, Settings) {
        let (home, settings) = settings("", Flags::default());
        let hello = settings.home().join("plugins/hello");
        std::fs::create_dir_all(&hello).unwrap();
        std::fs::write(hello.join("hello.wasm"), b"").unwrap();
        (home, settings)
    }

    #[test]
    fn a_flag_beats_the_preset() {
        let (_home, settings) = home_with_hello();
        let bench = BenchSettings::resolve(parse(&["--quick", "--ai-latency", "20ms", "--plugins", "0"]), &settings);
        let suite = bench.unwrap().suite;
        assert_eq!(suite.ai_latency, Duration::from_millis(20), "the flag wins over --quick's 200 ms");
        assert_eq!(suite.plugins, 1, "at least one plugin");
        assert_eq!(suite.startup_runs, SuiteOptions::quick(PathBuf::new(), PathBuf::new()).startup_runs);
        let suite = BenchSettings::resolve(parse(&[]), &settings).unwrap().suite;
        let full = SuiteOptions::full(PathBuf::new(), PathBuf::new());
        assert_eq!((suite.ai_latency, suite.plugins), (full.ai_latency, full.plugins), "no flag: the full suite");
    }

    #[test]
    fn the_hello_plugin_is_the_flag_else_the_installed_one() {
        let (_home, settings) = home_with_hello();
        let installed = settings.home().join("plugins/hello");
        let suite = BenchSettings::resolve(parse(&[]), &settings).unwrap().suite;
        assert_eq!(suite.plugin, installed);
        assert_eq!(suite.tiered_plugin, settings.home().join("plugins/greet-py"), "beside the hello plugin");
        let args = parse(&["--plugin", "/p/hello", "--cpu-plugin", "/q/primes"]);
        let suite = BenchSettings::resolve(args, &settings).unwrap().suite;
        assert_eq!(suite.plugin, Path::new("/p/hello"));
        assert_eq!(suite.tiered_plugin, Path::new("/p/greet-py"));
        assert_eq!(suite.cpu_plugin, Path::new("/q/primes"));
        assert_eq!(
            (suite.js_plugin.as_path(), suite.second_js_plugin.as_path()),
            (Path::new("/p/greet-js"), Path::new("/p/wordfreq-js"))
        );
        let js = parse(&["--plugin", "/p/hello", "--js-plugin", "/j/a", "--second-js-plugin", "/j/b"]);
        let suite = BenchSettings::resolve(js, &settings).unwrap().suite;
        assert_eq!(
            (suite.js_plugin.as_path(), suite.second_js_plugin.as_path()),
            (Path::new("/j/a"), Path::new("/j/b"))
        );
        let (_empty, nothing) = crate::cli::testing::settings("", Flags::default());
        let error = BenchSettings::resolve(parse(&[]), &nothing).unwrap_err().error.to_string();
        assert!(error.contains("--plugin DIR"), "{error}");
    }

    #[test]
    fn the_report_names_this_homes_cold_tier() {
        let (_home, settings) = home_with_hello();
        assert_eq!(BenchSettings::resolve(parse(&[]), &settings).unwrap().cold_tier, "lmdb");
        let (_shared, shared) = crate::cli::testing::settings(
            "[storage]\ncold = \"redis://isaac:secret@127.0.0.1:6379/0\"\n",
            Flags::default(),
        );
        let plugin = parse(&["--plugin", "/p/hello"]);
        let cold = BenchSettings::resolve(plugin, &shared).unwrap().cold_tier;
        assert_eq!(cold, "redis://isaac:***@127.0.0.1:6379/0", "the password hidden");
    }
}
