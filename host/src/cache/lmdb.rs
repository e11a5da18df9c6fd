//! The cold tier in the home's LMDB environment (`heed`): the `cache`
//! database holds entries, `cache-meta` the generation (key `generation`),
//! counters, usage counts and the hot set. Each [`ColdStore::apply`] is one
//! write transaction.

use std::sync::Arc;

use heed::{MdbError, RoTxn};

use super::store::{Applied, ColdStore, Footprint, Op, Space, StoreError};
use crate::state::State;

const GENERATION: &str = "generation";

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
            Space::Meta => self.state.cache_meta,
        }
    }

    fn err(&self, e: heed::Error) -> StoreError {
        let path = self.state.path().display().to_string();
        match e {
            heed::Error::Mdb(MdbError::MapFull) => StoreError::Full { path, message: e.to_string() },
            e => StoreError::Failed { path, message: e.to_string() },
        }
    }

    fn read_generation(&self, txn: &RoTxn) -> Result<u64, StoreError> {
        let raw = self.state.cache_meta.get(txn, GENERATION).map_err(|e| self.err(e))?;
        Ok(raw.map_or(0, read_u64))
    }
}

impl LmdbStore {
    fn delete_where(
        &self,
        txn: &mut heed::RwTxn,
        space: Space,
        prefix: &str,
        matches: &dyn Fn(&str, &[u8]) -> bool,
    ) -> Result<u32, StoreError> {
        let db = self.db(space);
        let mut deleted = 0;
        macro_rules! sweep {
            ($iter:expr) => {{
                let mut iter = $iter.map_err(|e| self.err(e))?;
                while let Some(item) = iter.next() {
                    let (key, value) = item.map_err(|e| self.err(e))?;
                    if matches(key, value) {
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
        Ok(deleted)
    }
}

impl LmdbStore {
    fn counter(&self, txn: &RoTxn, space: Space, key: &str) -> Result<u64, StoreError> {
        Ok(self.db(space).get(txn, key).map_err(|e| self.err(e))?.map_or(0, read_u64))
    }

    fn set_counter(&self, txn: &mut heed::RwTxn, space: Space, key: &str, value: u64) -> Result<(), StoreError> {
        self.db(space).put(txn, key, &value.to_le_bytes()).map_err(|e| self.err(e))
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
        let mut txn = self.state.env().write_txn().map_err(|e| self.err(e))?;
        let generation_before = self.read_generation(&txn)?;
        let mut deleted = 0u32;
        for op in ops {
            match *op {
                Op::Put { space, key, value } => self.db(space).put(&mut txn, key, value).map_err(|e| self.err(e))?,
                Op::Delete { space, key } => {
                    deleted += u32::from(self.db(space).delete(&mut txn, key).map_err(|e| self.err(e))?);
                }
                Op::Add { space, key, delta } => {
                    let old = self.counter(&txn, space, key)?;
                    self.set_counter(&mut txn, space, key, old.saturating_add(delta))?;
                }
                Op::Sub { space, key, delta } => {
                    let old = self.counter(&txn, space, key)?;
                    self.set_counter(&mut txn, space, key, old.saturating_sub(delta))?;
                }
                Op::AddCapped { space, key, delta, cap } => {
                    let old = self.counter(&txn, space, key)?;
                    if old.saturating_add(delta) > cap {
                        return Err(StoreError::OverCap { key: key.to_owned(), current: old, delta, cap });
                    }
                    self.set_counter(&mut txn, space, key, old + delta)?;
                }
                Op::DeleteWhere { space, prefix, matches } => {
                    deleted += self.delete_where(&mut txn, space, prefix, matches)?;
                }
            }
        }
        if ops.iter().any(Op::touches_data) {
            let next = generation_before.wrapping_add(1).to_le_bytes();
            self.state.cache_meta.put(&mut txn, GENERATION, &next).map_err(|e| self.err(e))?;
        }
        txn.commit().map_err(|e| self.err(e))?;
        Ok(Applied { generation_before, deleted })
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

    fn sync(&self) -> Result<(), StoreError> {
        self.state
            .sync()
            .map_err(|e| StoreError::Failed { path: self.state.path().display().to_string(), message: e.to_string() })
    }
}
