//! `isaac plugins info NAME`

use clap::Args;

use crate::cli::{Context, Failure, output};
use crate::host::Host;

/// Show one installed plugin: version, commands, limits and the permissions
/// it asks for.
#[derive(Debug, Args)]
pub struct InfoArgs {
    /// The plugin's name.
    name: String,
}

pub fn run(cx: &Context, args: InfoArgs) -> Result<u8, Failure> {
    let runtime = crate::cli::runtime()?;
    let host = cx.host()?;
    let catalog = runtime.block_on(host.catalog())?;
    let Some(entry) = catalog.entry(&args.name) else {
        if let Some(failure) = catalog.failures.iter().find(|f| f.plugin == args.name) {
            return Err(Failure { code: 1, error: failure.clone().into() });
        }
        return Err(Failure {
            code: 2,
            error: anyhow::anyhow!("plugin `{}` is not installed (`isaac plugins list` shows what is)", args.name),
        });
    };
    let m = &entry.manifest;
    let limits = host.settings().limits_for(m);
    let meta = entry
        .status
        .as_ref()
        .map_err(|e| crate::loader::PluginFailure { plugin: args.name.clone(), error: e.clone() })?;
    let source = host.sources().get(&args.name)?;
    if cx.json {
        output::json(&serde_json::json!({
            "name": m.name,
            "version": m.version,
            "description": m.description,
            "component": entry.wasm,
            "sha256": meta.sha256,
            "wit_version": meta.wit_version,
            "tier": meta.tier,
            "functions": host.function_counts(&meta.sha256),
            "commands": meta.commands.iter().map(|c| serde_json::json!({
                "name": c.name, "summary": c.summary, "usage": c.usage,
            })).collect::<Vec<_>>(),
            "limits": { "memory_mb": limits.memory_bytes >> 20, "deadline_ms": limits.deadline.as_millis() as u64 },
            "permissions": m.permissions,
            "granted": grant_status(host, &args.name, m, &meta.sha256).is_none(),
            "grant": host.grants().get(&args.name)?,
            "source": source,
        }));
        return Ok(0);
    }
    let mut text = format!(
        "{} {}\n{}\n\ncomponent: {}\nsha256:    {}\nwit:       isaac:plugin@{}\ncode:      {}\nlimits:    {} MiB memory, {} ms per call\n",
        m.name,
        m.version,
        m.description,
        entry.wasm.display(),
        meta.sha256,
        meta.wit_version,
        meta.tier.label(),
        limits.memory_bytes >> 20,
        limits.deadline.as_millis()
    );
    if let Some(counts) = host.function_counts(&meta.sha256) {
        text.push_str(&format!("functions: {}\n", super::functions_line(&counts)));
    }
    text.push_str(&match &source {
        Some(s) => format!("source:    {}\ndigest:    {}\n", s.location, s.digest),
        None => "source:    not recorded (placed in the plugins folder by hand)\n".to_owned(),
    });
    text.push_str("\ncommands:\n");
    for c in &meta.commands {
        text.push_str(&format!("  {:<12} {}\n  {:<12} usage: {}\n", c.name, c.summary, "", c.usage));
    }
    text.push_str("\npermissions asked for:\n");
    let mut asked: Vec<String> =
        crate::capabilities::describe(&host.request(m)).into_iter().map(|l| format!("  {l}")).collect();
    if asked.is_empty() {
        asked.push("  none".to_owned());
    }
    text.push_str(&asked.join("\n"));
    text.push_str(&match grant_status(host, &args.name, m, &meta.sha256) {
        None if host.request(m).asks_anything() => "\n\ngranted: yes, pinned to this component".to_owned(),
        None => String::new(),
        Some(why) => format!("\n\ngranted: no: {why}"),
    });
    // Description, summaries, usage and paths come from the plugin.
    output::line(&text);
    Ok(0)
}

/// Why the plugin may not run with its grant, if so.
fn grant_status(host: &Host, name: &str, manifest: &crate::manifest::Manifest, sha256: &str) -> Option<String> {
    let grant = host.grants().get(name).ok().flatten();
    crate::grants::refusal(name, &host.request(manifest), sha256, grant.as_ref())
}
