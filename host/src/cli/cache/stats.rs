//! `isaac cache stats [--reset]`

use clap::Args;

use crate::cli::{Failure, Settings, output};

/// Print the cache's statistics: totals over every isaac process since the
/// last reset. With --json, one object: every counter (`l1_hits`, `l2_hits`,
/// `l3_hits`, `misses`, `sets`, `l1_evictions`, `l2_evictions`,
/// `expirations`, `invalidations`), `hits`, `hit_rate`, `memory_hit_rate`,
/// and the sizes `l1_entries`, `l2_entries`, `memory_bytes`, `l3_entries`,
/// `l3_bytes`.
#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Zero the counters (usage counts for warming are kept).
    #[arg(long)]
    reset: bool,
}

pub fn run(settings: &Settings, args: StatsArgs) -> Result<u8, Failure> {
    let host = super::host(settings)?;
    let cache = host.cache();
    if args.reset {
        cache.reset_stats()?;
    }
    let s = cache.stats()?;
    if settings.json {
        output::json(&serde_json::to_value(&s)?);
        return Ok(0);
    }
    let c = &s.counters;
    let gets = s.hits + c.misses;
    output::line(&format!(
        "gets        {gets}\n  L1 hits   {}\n  L2 hits   {}\n  L3 hits   {}\n  misses    {}\n\
         hit rate    {:.1} % (memory tiers alone {:.1} %)\n\
         sets        {}\nevictions   {} from L1 to L2, {} out of L2\nexpirations {}\ninvalidated {}\n\
         L3          {} entries, {} bytes on disk",
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
    ));
    Ok(0)
}
