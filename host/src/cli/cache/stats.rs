//! `isaac cache stats [--reset] [--plugin NAME]`

use clap::Args;

use crate::cli::{Context, Failure, output};

/// Print the cache's statistics: totals over every isaac process since the
/// last reset. With --json, one object: every counter (`l1_hits`, `l2_hits`,
/// `l3_hits`, `misses`, `sets`, `l1_evictions`, `l2_evictions`,
/// `expirations`, `invalidations`), `hits`, `hit_rate`, `memory_hit_rate`,
/// and the sizes `l1_entries`, `l2_entries`, `memory_bytes`, `l3_entries`,
/// `l3_bytes`, `l3_tier`. With --plugin NAME: that plugin's bytes in the cache and its
/// quota (`{"plugin", "used_bytes", "quota_bytes"}`).
#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Zero the counters and the usage counts warming ranks keys by.
    #[arg(long)]
    reset: bool,
    /// Show how much of its quota plugin NAME uses instead.
    #[arg(long, value_name = "NAME")]
    plugin: Option<String>,
}

pub fn run(cx: &Context, args: StatsArgs) -> Result<u8, Failure> {
    let host = cx.host()?;
    let cache = host.cache();
    if args.reset {
        cache.reset_stats()?;
    }
    if let Some(name) = &args.plugin {
        crate::manifest::check_name(name).map_err(|why| Failure { code: 2, error: anyhow::anyhow!(why) })?;
        let used = cache.bytes_used(&crate::cache::Namespace::plugin(name))?;
        let quota = host.settings().cache_quota_for(name);
        if cx.json {
            output::json(&serde_json::json!({ "plugin": name, "used_bytes": used, "quota_bytes": quota }));
        } else {
            let percent = if quota == 0 { 100.0 } else { used as f64 * 100.0 / quota as f64 };
            output::line(&format!("{name}: {used} of {} bytes ({percent:.1} % of its quota)", quota));
        }
        return Ok(0);
    }
    let s = cache.stats()?;
    if cx.json {
        output::json(&serde_json::to_value(&s)?);
        return Ok(0);
    }
    let c = &s.counters;
    let gets = s.hits + c.misses;
    output::line(&format!(
        "gets        {gets}\n  L1 hits   {}\n  L2 hits   {}\n  L3 hits   {}\n  misses    {}\n\
         hit rate    {:.1} % (memory tiers alone {:.1} %)\n\
         sets        {}\nevictions   {} from L1 to L2, {} out of L2\nexpirations {}\ninvalidated {}\n\
         L3          {} entries, {} bytes, in {}",
        c.l1_hits,
        c.l2_hits,
        c.l3_hits,
        c.misses,
        s.hit_rate * 100.0,
        s.memory_hit_rate * 100.0,
        c.sets,
        c.l1_evictions,
        c.l2_evictions,
        c.expirations,
        c.invalidations,
        s.l3_entries,
        s.l3_bytes,
        s.l3_tier,
    ));
    Ok(0)
}
