//! Walking key ranges on Redis: `SCAN` and `HSCAN` cursors run to the end,
//! and deleting what a pattern matches, space by space.

use redis::AsyncCommands;
use redis::aio::ConnectionManager;

use super::{RedisStore, number};
use crate::cache::layout::namespace_of;
use crate::cache::store::{Matching, Space, StoreError};

/// Keys asked for per `SCAN`.
pub(super) const SCAN_COUNT: usize = 1000;

impl RedisStore {
    /// Run a cursor command (`SCAN`, `HSCAN`) built by `command` to the end,
    /// handing each batch to `batch`.
    fn each_batch<T: redis::FromRedisValue + Send + 'static>(
        &self,
        conn: &ConnectionManager,
        command: impl Fn(u64) -> redis::Cmd,
        mut batch: impl FnMut(T) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut cursor = 0u64;
        loop {
            let cmd = command(cursor);
            let (next, items): (u64, T) =
                self.run(conn.clone(), move |mut c| async move { cmd.query_async(&mut c).await })?;
            batch(items)?;
            if next == 0 {
                return Ok(());
            }
            cursor = next;
        }
    }

    /// Every key `SCAN MATCH pattern` finds, batch by batch.
    pub(super) fn scan_keys(
        &self,
        conn: &ConnectionManager,
        pattern: &str,
        batch: impl FnMut(Vec<Vec<u8>>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let command = |cursor: u64| {
            let mut cmd = redis::cmd("SCAN");
            cmd.arg(cursor).arg("MATCH").arg(pattern).arg("COUNT").arg(SCAN_COUNT);
            cmd
        };
        self.each_batch(conn, command, batch)
    }

    /// The counters whose names match `pattern`, with their values, by name.
    pub(super) fn scan_counters(
        &self,
        conn: &ConnectionManager,
        pattern: &str,
    ) -> Result<Vec<(String, u64)>, StoreError> {
        let key = self.keys.counters();
        let command = |cursor: u64| {
            let mut cmd = redis::cmd("HSCAN");
            cmd.arg(&key).arg(cursor).arg("MATCH").arg(pattern).arg("COUNT").arg(SCAN_COUNT);
            cmd
        };
        let mut out = Vec::new();
        self.each_batch(conn, command, |pairs: Vec<(String, String)>| {
            out.extend(pairs.into_iter().map(|(name, value)| (name, number(&value))));
            Ok(())
        })?;
        // A cursor may return an entry twice.
        out.sort();
        out.dedup_by(|a, b| a.0 == b.0);
        Ok(out)
    }

    pub(super) fn delete_where(
        &self,
        conn: &ConnectionManager,
        space: Space,
        prefix: &str,
        matching: Matching<'_>,
    ) -> Result<u32, StoreError> {
        match space {
            // Redis expires entries itself; their bytes are reclaimed at the
            // namespace's next quota check.
            Space::Data if matches!(matching, Matching::Expired { .. }) => Ok(0),
            Space::Data => {
                let glob = match matching {
                    Matching::Glob { namespace, pattern } => Some((namespace, pattern)),
                    _ => None,
                };
                let Some(pattern) = self.keys.data_pattern(prefix, glob) else { return Ok(0) };
                let mut removed = 0;
                self.scan_keys(conn, &pattern, |batch| {
                    let mut by_ns: std::collections::BTreeMap<String, Vec<String>> = Default::default();
                    for full in batch.iter().filter_map(|k| self.keys.full_of(k)) {
                        if full.starts_with(prefix) && matching.matches(&full, &[]) {
                            by_ns.entry(namespace_of(&full).to_owned()).or_default().push(full);
                        }
                    }
                    for (ns, fulls) in by_ns {
                        removed += self.delete_many(conn, &ns, &fulls)?;
                    }
                    Ok(())
                })?;
                Ok(removed)
            }
            Space::Counters => {
                let names: Vec<String> = self
                    .scan_counters(conn, &self.keys.name_pattern(prefix, false))?
                    .into_iter()
                    .map(|(n, _)| n)
                    .collect();
                let mut removed = 0;
                for chunk in names.chunks(SCAN_COUNT) {
                    let (key, chunk) = (self.keys.counters(), chunk.to_vec());
                    removed +=
                        self.run::<u32, _>(conn.clone(), move |mut c| async move { c.hdel(key, chunk).await })?;
                }
                Ok(removed)
            }
            Space::Meta => {
                let mut removed = 0;
                self.scan_keys(conn, &self.keys.name_pattern(prefix, true), |batch| {
                    if !batch.is_empty() {
                        removed +=
                            self.run::<u32, _>(conn.clone(), move |mut c| async move { c.unlink(batch).await })?;
                    }
                    Ok(())
                })?;
                Ok(removed)
            }
        }
    }
}
