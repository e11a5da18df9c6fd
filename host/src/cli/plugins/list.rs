//! `isaac plugins list`

use clap::Args;

use crate::cli::{Context, Failure, output};
use crate::engine::Tier;
use crate::host::LoadReport;

/// Load every installed plugin, compiling what the compiled-code cache lacks
/// with --jobs threads, and list them.
///
/// With --json, prints one array; each element is
/// `{"name", "loaded": true, "version", "description", "commands": [names],
/// "from_cache", "load_ms", "wit_version", "tier", "sha256", "granted",
/// "source"}` (`tier`: `optimized`, or `baseline` while Winch code runs
/// and Cranelift compiles in the background)
/// for a plugin that loaded (`granted`: false when it asks for permissions
/// it was not granted: `isaac plugins grant NAME`; `source`: `{"kind",
/// "location", "digest", "fetched_at_ms"}` or null), or
/// `{"name", "loaded": false, "error"}` for one that did not.
/// Exit status 1 when any plugin failed to load.
#[derive(Debug, Args)]
pub struct ListArgs {}

pub fn run(cx: &Context, _args: ListArgs) -> Result<u8, Failure> {
    let runtime = crate::cli::runtime()?;
    let host = cx.host()?;
    let bar = output::progress(host.installed().len() as u64, "loading plugins", cx.json);
    let report = runtime.block_on(host.load_all(&|_| bar.inc(1)))?;
    bar.finish_and_clear();
    if cx.json {
        output::json(&to_json(host, &report));
    } else {
        print_table(host, &report);
    }
    if !cx.json && !cx.quiet() {
        crate::say!(
            "{} plugin(s) loaded in {:.1} ms with {} compile thread(s)",
            report.plugins.len(),
            report.elapsed.as_secs_f64() * 1e3,
            host.jobs()
        );
    }
    for failure in &report.failures {
        crate::say!("error: {}", crate::error::OneLine(failure));
    }
    Ok(u8::from(!report.failures.is_empty()))
}

fn to_json(host: &crate::host::Host, report: &LoadReport) -> serde_json::Value {
    let mut items: Vec<(String, serde_json::Value)> = report
        .plugins
        .iter()
        .map(|p| {
            let value = serde_json::json!({
                "name": p.name,
                "loaded": true,
                "version": p.manifest.version,
                "description": p.manifest.description,
                "commands": p.meta.commands.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
                "from_cache": p.from_cache,
                "load_ms": p.load_time.as_secs_f64() * 1e3,
                "wit_version": p.meta.wit_version,
                "tier": p.meta.tier,
                "functions": host.function_counts(&p.meta.sha256),
                "sha256": p.meta.sha256,
                "granted": p.refused().is_none(),
                "source": host.sources().get(&p.name).ok().flatten(),
            });
            (p.name.clone(), value)
        })
        .chain(report.failures.iter().map(|f| {
            let value =
                serde_json::json!({ "name": f.plugin, "loaded": false, "error": crate::error::one_line(&f.error) });
            (f.plugin.clone(), value)
        }))
        .collect();
    items.sort_by(|a, b| a.0.cmp(&b.0));
    serde_json::Value::Array(items.into_iter().map(|(_, v)| v).collect())
}

fn print_table(host: &crate::host::Host, report: &LoadReport) {
    let rows: Vec<[String; 7]> = report
        .plugins
        .iter()
        .map(|p| {
            [
                p.name.clone(),
                p.manifest.version.clone(),
                p.meta.commands.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", "),
                match (p.from_cache, p.refused().is_some()) {
                    (_, true) => "needs grant",
                    (true, false) => "cached",
                    (false, false) => "compiled",
                }
                .to_owned(),
                match p.meta.tier {
                    Tier::Optimized => "optimized",
                    Tier::Baseline => "baseline",
                }
                .to_owned(),
                host.function_counts(&p.meta.sha256).map_or("-".to_owned(), |c| format!("{:.0} %", c.reused_percent())),
                format!("{:.1} ms", p.load_time.as_secs_f64() * 1e3),
            ]
        })
        .collect();
    output::line(&super::table(["NAME", "VERSION", "COMMANDS", "CODE", "TIER", "REUSED", "LOAD"], &rows));
}
