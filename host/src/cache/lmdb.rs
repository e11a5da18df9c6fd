//! The cold tier in the home's LMDB environment (`heed`): the `cache`
//! database holds entries, `cache-meta` the generation (key `generation`),
//! the meta records and the counters (8 bytes little-endian; the two spaces
//! share it, their keys never meet). Each [`ColdStore::apply`] is one write
//! transaction.

use std::sync::Arc;

use heed::{MdbError, RoTxn};

use std::collections::HashMap;

use super::entry;
use super::layout::namespace_of;
use super::store::{Applied, ColdStore, Footprint, Matching, Op, Outcome, Quota, Space, StoreError};
use crate::error::Source;
use crate::state::State;

const GENERATION: &str = "generation";
/// Meta keys `bytes/NAMESPACE`: the namespace's bytes and earliest expiry.
const BYTES_PREFIX: &str = "bytes/";

/// Room kept free for the host's own writes: a data put is refused once the
/// store is within this much of full (an eighth of the map, at most 64 MiB).
fn headroom(map_size: u64) -> u64 {
    (map_size / 8).min(64 << 20)
}

/// What a namespace holds: bytes of keys and values, and the earliest expiry
/// among its entries (0: none expires).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Usage {
    bytes: u64,
    next_expiry: u64,
}

impl Usage {
    fn decode(raw: &[u8]) -> Option<Self> {
        let bytes = u64::from_le_bytes(raw.get(..8)?.try_into().ok()?);
        let next_expiry = u64::from_le_bytes(raw.get(8..16)?.try_into().ok()?);
        Some(Usage { bytes, next_expiry })
    }

    fn encode(self) -> [u8; 16] {
        let mut out = [0; 16];
        out[..8].copy_from_slice(&self.bytes.to_le_bytes());
        out[8..].copy_from_slice(&self.next_expiry.to_le_bytes());
        out
    }

    /// Count an entry of `len` bytes expiring at `expires_at`.
    fn add(&mut self, len: u64, expires_at: u64) {
        self.bytes += len;
        if expires_at != 0 && (self.next_expiry == 0 || expires_at < self.next_expiry) {
            self.next_expiry = expires_at;
        }
    }
}

/// The expiry an encoded entry carries (0: never, or unreadable).
fn expiry_of(raw: &[u8]) -> u64 {
    entry::decode(raw).map_or(0, |(at, _)| at)
}

/// L3 in LMDB.
pub struct LmdbStore {
    state: Arc<State>,
}

impl LmdbStore {
    /// The store in `state`'s environment.
    pub fn new(state: Arc<State>) -> Self {
        LmdbStore { state }
    }

    fn db(&self, space: Space) -> heed::Database<heed::types::Str, heed::types::Bytes> {
        match space {
            Space::Data => self.state.cache,
            Space::Meta | Space::Counters => self.state.cache_meta,
        }
    }

    fn err(&self, e: heed::Error) -> StoreError {
        let path = self.state.path().display().to_string();
        match e {
            heed::Error::Mdb(MdbError::MapFull) => StoreError::Full { path, message: e.to_string() },
            e => StoreError::Failed { path, source: Source::new(e) },
        }
    }

    fn read_generation(&self, txn: &RoTxn) -> Result<u64, StoreError> {
        let raw = self.state.cache_meta.get(txn, GENERATION).map_err(|e| self.err(e))?;
        Ok(raw.map_or(0, read_u64))
    }
}

impl LmdbStore {
    /// What namespace `ns` holds; counted from its entries when no count was
    /// kept yet (data written by an older isaac).
    fn usage(&self, txn: &RoTxn, ns: &str) -> Result<Usage, StoreError> {
        match self.kept_usage(txn, ns)? {
            Some(usage) => Ok(usage),
            None => self.count(txn, ns),
        }
    }

    /// The count kept for namespace `ns`, if one was.
    fn kept_usage(&self, txn: &RoTxn, ns: &str) -> Result<Option<Usage>, StoreError> {
        let key = format!("{BYTES_PREFIX}{ns}");
        Ok(self.state.cache_meta.get(txn, &key).map_err(|e| self.err(e))?.and_then(Usage::decode))
    }

    /// Remove the data entry `key`, counted in its namespace.
    fn delete_data(&self, txn: &mut heed::RwTxn, key: &str) -> Result<u32, StoreError> {
        let Some(len) = self.state.cache.get(txn, key).map_err(|e| self.err(e))?.map(|v| (key.len() + v.len()) as u64)
        else {
            return Ok(0);
        };
        let ns = namespace_of(key);
        let kept = self.kept_usage(txn, ns)?;
        self.state.cache.delete(txn, key).map_err(|e| self.err(e))?;
        let usage = match kept {
            Some(mut usage) => {
                usage.bytes = usage.bytes.saturating_sub(len);
                usage
            }
            None => self.count(txn, ns)?,
        };
        self.set_usage(txn, ns, usage)?;
        Ok(1)
    }

    /// Count what namespace `ns` holds, entry by entry.
    fn count(&self, txn: &RoTxn, ns: &str) -> Result<Usage, StoreError> {
        let mut usage = Usage::default();
        for item in self.state.cache.prefix_iter(txn, ns).map_err(|e| self.err(e))? {
            let (key, value) = item.map_err(|e| self.err(e))?;
            usage.add((key.len() + value.len()) as u64, expiry_of(value));
        }
        Ok(usage)
    }

    fn set_usage(&self, txn: &mut heed::RwTxn, ns: &str, usage: Usage) -> Result<(), StoreError> {
        let key = format!("{BYTES_PREFIX}{ns}");
        self.state.cache_meta.put(txn, &key, &usage.encode()).map_err(|e| self.err(e))
    }

    /// A data put, counted in its namespace and checked against `quota`.
    fn put_data(&self, txn: &mut heed::RwTxn, key: &str, value: &[u8], quota: Option<Quota>) -> Result<(), StoreError> {
        let ns = namespace_of(key);
        let old = self.state.cache.get(txn, key).map_err(|e| self.err(e))?.map_or(0, |v| (key.len() + v.len()) as u64);
        let new = (key.len() + value.len()) as u64;
        let mut usage = self.usage(txn, ns)?;
        if let Some(quota) = quota {
            if usage.next_expiry != 0 && usage.next_expiry <= quota.now_ms {
                self.delete_where(txn, Space::Data, ns, Matching::Expired { now_ms: quota.now_ms })?;
                usage = self.count(txn, ns)?;
            }
            let after = usage.bytes.saturating_sub(old) + new;
            if new > old && after > quota.limit {
                let more = new - old;
                return Err(StoreError::Quota {
                    namespace: ns.to_owned(),
                    used: usage.bytes,
                    more,
                    limit: quota.limit,
                });
            }
        }
        self.state.cache.put(txn, key, value).map_err(|e| self.err(e))?;
        usage.bytes = usage.bytes.saturating_sub(old);
        usage.add(new, expiry_of(value));
        self.set_usage(txn, ns, usage)
    }

    /// The live value of data entry `key` at `now` (expired or unreadable:
    /// none), handed to `decide` within the transaction.
    fn with_live<R>(
        &self,
        txn: &RoTxn,
        key: &str,
        now: u64,
        decide: impl FnOnce(Option<(u64, &[u8])>) -> R,
    ) -> Result<R, StoreError> {
        let raw = self.state.cache.get(txn, key).map_err(|e| self.err(e))?;
        Ok(decide(raw.and_then(entry::decode).filter(|(at, _)| !entry::expired(*at, now))))
    }

    /// An [`Op::Increment`], decided on what `txn` reads.
    fn increment(
        &self,
        txn: &mut heed::RwTxn,
        key: &str,
        delta: i64,
        new_expiry: u64,
        now: u64,
        quota: Option<Quota>,
    ) -> Result<Outcome, StoreError> {
        let current = self.with_live(txn, key, now, |live| match live {
            Some((at, value)) => entry::integer(value).map(|n| (n, at)),
            None => Some((0, new_expiry)),
        })?;
        let (current, expires_at) = current.ok_or_else(|| StoreError::NotAnInteger { key: key.to_owned() })?;
        let value =
            current.checked_add(delta).ok_or_else(|| StoreError::Overflow { key: key.to_owned(), current, delta })?;
        self.put_data(txn, key, &entry::encode(expires_at, value.to_string().as_bytes()), quota)?;
        Ok(Outcome::Counted { value, expires_at })
    }

    /// An [`Op::CompareAndSwap`], decided on what `txn` reads.
    #[allow(clippy::too_many_arguments)]
    fn compare_and_swap(
        &self,
        txn: &mut heed::RwTxn,
        key: &str,
        expected: Option<&[u8]>,
        value: &[u8],
        expires_at: u64,
        now: u64,
        quota: Option<Quota>,
    ) -> Result<Outcome, StoreError> {
        if !self.with_live(txn, key, now, |live| live.map(|(_, current)| current) == expected)? {
            return Ok(Outcome::Swapped(false));
        }
        self.put_data(txn, key, &entry::encode(expires_at, value), quota)?;
        Ok(Outcome::Swapped(true))
    }

    /// Refuse a data put of `len` bytes when the store is within its
    /// headroom of full. Checked before the write transaction opens.
    fn check_headroom(&self, len: usize) -> Result<(), StoreError> {
        let env = self.state.env();
        let info = env.info();
        let map_size = info.map_size as u64;
        let limit = map_size - headroom(map_size);
        // Pages up to the last one used are an upper bound; only near the
        // limit is the exact figure (a walk of the free list) needed.
        let approx = (info.last_page_number as u64 + 1) * rustix::param::page_size() as u64;
        if approx + len as u64 <= limit {
            return Ok(());
        }
        let used = env.non_free_pages_size().map_err(|e| self.err(e))?;
        if used + len as u64 > limit {
            let path = self.state.path().display().to_string();
            let message = format!("{used} bytes used of {map_size}; the rest is kept for isaac's own records");
            return Err(StoreError::Full { path, message });
        }
        Ok(())
    }

    fn delete_where(
        &self,
        txn: &mut heed::RwTxn,
        space: Space,
        prefix: &str,
        matching: Matching<'_>,
    ) -> Result<u32, StoreError> {
        let db = self.db(space);
        let mut deleted = 0;
        let mut freed: HashMap<String, u64> = HashMap::new();
        macro_rules! sweep {
            ($iter:expr) => {{
                let mut iter = $iter.map_err(|e| self.err(e))?;
                while let Some(item) = iter.next() {
                    let (key, value) = item.map_err(|e| self.err(e))?;
                    if matching.matches(key, value) {
                        if space == Space::Data {
                            *freed.entry(namespace_of(key).to_owned()).or_default() += (key.len() + value.len()) as u64;
                        }
                        // SAFETY: no reference into the database is held across
                        // this call (`key` and `value` are not used after it).
                        unsafe { iter.del_current() }.map_err(|e| self.err(e))?;
                        deleted += 1;
                    }
                }
            }};
        }
        // LMDB cannot position on an empty key: an empty prefix is the whole range.
        if prefix.is_empty() {
            sweep!(db.iter_mut(txn));
        } else {
            sweep!(db.prefix_iter_mut(txn, prefix));
        }
        for (ns, bytes) in freed {
            let usage = match self.kept_usage(txn, &ns)? {
                Some(mut usage) => {
                    usage.bytes = usage.bytes.saturating_sub(bytes);
                    usage
                }
                // No count was kept: count what is left.
                None => self.count(txn, &ns)?,
            };
            self.set_usage(txn, &ns, usage)?;
        }
        Ok(deleted)
    }
}

impl LmdbStore {
    fn counter(&self, txn: &RoTxn, key: &str) -> Result<u64, StoreError> {
        Ok(self.state.cache_meta.get(txn, key).map_err(|e| self.err(e))?.map_or(0, read_u64))
    }

    fn set_counter(&self, txn: &mut heed::RwTxn, key: &str, value: u64) -> Result<(), StoreError> {
        self.state.cache_meta.put(txn, key, &value.to_le_bytes()).map_err(|e| self.err(e))
    }
}

fn read_u64(bytes: &[u8]) -> u64 {
    bytes.try_into().map_or(0, u64::from_le_bytes)
}

impl ColdStore for LmdbStore {
    fn get(&self, space: Space, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let txn = self.state.env().read_txn().map_err(|e| self.err(e))?;
        let value = self.db(space).get(&txn, key).map_err(|e| self.err(e))?;
        Ok(value.map(<[u8]>::to_vec))
    }

    fn scan(&self, space: Space, prefix: &str, visit: &mut dyn FnMut(&str, &[u8]) -> bool) -> Result<(), StoreError> {
        let txn = self.state.env().read_txn().map_err(|e| self.err(e))?;
        let db = self.db(space);
        let mut visit_all = |iter: &mut dyn Iterator<Item = heed::Result<(&str, &[u8])>>| {
            for item in iter {
                let (key, value) = item.map_err(|e| self.err(e))?;
                if !visit(key, value) {
                    break;
                }
            }
            Ok(())
        };
        // LMDB cannot position on an empty key: an empty prefix is the whole range.
        if prefix.is_empty() {
            visit_all(&mut db.iter(&txn).map_err(|e| self.err(e))?)
        } else {
            visit_all(&mut db.prefix_iter(&txn, prefix).map_err(|e| self.err(e))?)
        }
    }

    fn apply(&self, ops: &[Op<'_>]) -> Result<Applied, StoreError> {
        for op in ops {
            match op {
                Op::Put { space: Space::Data, value, .. } | Op::CompareAndSwap { value, .. } => {
                    self.check_headroom(value.len())?
                }
                Op::Increment { .. } => self.check_headroom(20)?,
                _ => {}
            }
        }
        let mut txn = self.state.env().write_txn().map_err(|e| self.err(e))?;
        let generation_before = self.read_generation(&txn)?;
        let (mut deleted, mut outcome) = (0u32, None);
        for op in ops {
            match *op {
                Op::Put { space: Space::Data, key, value, quota } => self.put_data(&mut txn, key, value, quota)?,
                Op::Put { space, key, value, .. } => {
                    self.db(space).put(&mut txn, key, value).map_err(|e| self.err(e))?
                }
                Op::Delete { space, key } => {
                    let gone = match space {
                        Space::Data => self.delete_data(&mut txn, key)?,
                        _ => u32::from(self.db(space).delete(&mut txn, key).map_err(|e| self.err(e))?),
                    };
                    deleted += gone;
                }
                Op::Add { key, delta } => {
                    let old = self.counter(&txn, key)?;
                    self.set_counter(&mut txn, key, old.saturating_add(delta))?;
                }
                Op::Sub { key, delta } => {
                    let old = self.counter(&txn, key)?;
                    self.set_counter(&mut txn, key, old.saturating_sub(delta))?;
                }
                Op::AddCapped { key, delta, cap } => {
                    let old = self.counter(&txn, key)?;
                    if old.saturating_add(delta) > cap {
                        return Err(StoreError::OverCap { key: key.to_owned(), current: old, delta, cap });
                    }
                    self.set_counter(&mut txn, key, old + delta)?;
                }
                Op::Increment { key, delta, expires_at, now_ms, quota } => {
                    outcome = Some(self.increment(&mut txn, key, delta, expires_at, now_ms, quota)?);
                }
                Op::CompareAndSwap { key, expected, value, expires_at, now_ms, quota } => {
                    outcome = Some(self.compare_and_swap(&mut txn, key, expected, value, expires_at, now_ms, quota)?);
                }
                Op::DeleteWhere { space, prefix, matching } => {
                    deleted += self.delete_where(&mut txn, space, prefix, matching)?;
                }
            }
        }
        if ops.iter().any(Op::touches_data) {
            let next = generation_before.wrapping_add(1).to_le_bytes();
            self.state.cache_meta.put(&mut txn, GENERATION, &next).map_err(|e| self.err(e))?;
        }
        txn.commit().map_err(|e| self.err(e))?;
        Ok(Applied { generation_before, deleted, outcome })
    }

    fn namespace_bytes(&self, ns: &str) -> Result<u64, StoreError> {
        let txn = self.state.env().read_txn().map_err(|e| self.err(e))?;
        Ok(self.usage(&txn, ns)?.bytes)
    }

    fn generation(&self) -> Result<u64, StoreError> {
        let txn = self.state.env().read_txn().map_err(|e| self.err(e))?;
        self.read_generation(&txn)
    }

    fn footprint(&self) -> Result<Footprint, StoreError> {
        let txn = self.state.env().read_txn().map_err(|e| self.err(e))?;
        let stat = self.state.cache.stat(&txn).map_err(|e| self.err(e))?;
        let pages = (stat.branch_pages + stat.leaf_pages + stat.overflow_pages) as u64;
        Ok(Footprint { entries: stat.entries as u64, bytes: pages * u64::from(stat.page_size) })
    }

    fn describe(&self) -> String {
        format!("lmdb ({})", self.state.path().display())
    }

    fn sync(&self) -> Result<(), StoreError> {
        self.state
            .sync()
            .map_err(|e| StoreError::Failed { path: self.state.path().display().to_string(), source: Source::new(e) })
    }
}
