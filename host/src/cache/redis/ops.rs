//! The [`ColdStore`] operations on Redis: each space's gets, scans and
//! writes mapped to commands and scripts; a batch's run of counter additions
//! sent as one transaction.

use std::sync::atomic::Ordering;

use redis::AsyncCommands;
use redis::aio::ConnectionManager;

use super::{RedisStore, number, redact, scripts};
use crate::cache::store::{Applied, ColdStore, Footprint, Op, Space, StoreError};

impl RedisStore {
    /// A run of counter additions, in one transaction.
    fn add_all(&self, conn: &ConnectionManager, adds: &[(String, u64)]) -> Result<(), StoreError> {
        if adds.is_empty() {
            return Ok(());
        }
        let (key, adds) = (self.keys.counters(), adds.to_vec());
        self.run(conn.clone(), move |mut c| async move {
            let mut pipe = redis::pipe();
            pipe.atomic();
            for (name, delta) in &adds {
                pipe.hincr(&key, name, *delta).ignore();
            }
            pipe.query_async::<()>(&mut c).await
        })
    }
}

impl ColdStore for RedisStore {
    fn get(&self, space: Space, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let conn = self.connection()?;
        match space {
            Space::Data => Ok(self.get_data(conn, &[key])?.pop().flatten()),
            Space::Meta => {
                let key = self.keys.meta(key);
                self.run(conn, |mut c| async move { c.get(key).await })
            }
            Space::Counters => {
                let (hash, name) = (self.keys.counters(), key.to_owned());
                let value: Option<String> = self.run(conn, |mut c| async move { c.hget(hash, name).await })?;
                Ok(value.map(|v| number(&v).to_le_bytes().to_vec()))
            }
        }
    }

    fn get_many(&self, space: Space, keys: &[&str]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        let conn = self.connection()?;
        match space {
            Space::Data => self.get_data(conn, keys),
            _ => keys.iter().map(|key| self.get(space, key)).collect(),
        }
    }

    fn scan(&self, space: Space, prefix: &str, visit: &mut dyn FnMut(&str, &[u8]) -> bool) -> Result<(), StoreError> {
        let conn = self.connection()?;
        let mut found: Vec<(String, Vec<u8>)> = Vec::new();
        match space {
            Space::Counters => {
                let pattern = self.keys.name_pattern(prefix, false);
                found = self
                    .scan_counters(&conn, &pattern)?
                    .into_iter()
                    .filter(|(name, _)| name.starts_with(prefix))
                    .map(|(name, value)| (name, value.to_le_bytes().to_vec()))
                    .collect();
            }
            Space::Meta | Space::Data => {
                let pattern = match space {
                    Space::Meta => self.keys.name_pattern(prefix, true),
                    _ => self.keys.data_pattern(prefix, None).unwrap_or_default(),
                };
                let mut names = Vec::new();
                self.scan_keys(&conn, &pattern, |batch| {
                    names.extend(batch.iter().filter_map(|k| match space {
                        Space::Meta => {
                            std::str::from_utf8(k).ok().and_then(|k| self.keys.meta_of(k)).map(str::to_owned)
                        }
                        _ => self.keys.full_of(k),
                    }));
                    Ok(())
                })?;
                names.sort();
                names.dedup();
                for name in names.into_iter().filter(|n| n.starts_with(prefix)) {
                    if let Some(value) = self.get(space, &name)? {
                        found.push((name, value));
                    }
                }
            }
        }
        for (key, value) in &found {
            if !visit(key, value) {
                break;
            }
        }
        Ok(())
    }

    fn apply(&self, ops: &[Op<'_>]) -> Result<Applied, StoreError> {
        let conn = self.connection()?;
        let generation_before = if ops.iter().any(Op::touches_data) {
            self.generation.fetch_add(1, Ordering::SeqCst)
        } else {
            self.generation.load(Ordering::SeqCst)
        };
        let (mut deleted, mut outcome) = (0u32, None);
        let mut adds: Vec<(String, u64)> = Vec::new();
        for op in ops {
            if let Op::Add { key, delta } = *op {
                adds.push((key.to_owned(), delta));
                continue;
            }
            self.add_all(&conn, &std::mem::take(&mut adds))?;
            match *op {
                Op::Add { .. } => unreachable!("additions are gathered above"),
                Op::Put { space: Space::Data, key, value, quota } => self.put_data(conn.clone(), key, value, quota)?,
                Op::Put { space: Space::Meta, key, value, .. } => {
                    let (key, value) = (self.keys.meta(key), value.to_vec());
                    self.run::<(), _>(conn.clone(), |mut c| async move { c.set(key, value).await })?;
                }
                Op::Put { space: Space::Counters, key, value, .. } => {
                    let n = value.try_into().map_or(0, u64::from_le_bytes);
                    let (hash, name) = (self.keys.counters(), key.to_owned());
                    self.run::<(), _>(conn.clone(), move |mut c| async move { c.hset(hash, name, n).await })?;
                }
                Op::Delete { space: Space::Data, key } => deleted += self.delete_data(conn.clone(), key)?,
                Op::Delete { space: Space::Meta, key } => {
                    let key = self.keys.meta(key);
                    deleted += self.run::<u32, _>(conn.clone(), |mut c| async move { c.del(key).await })?;
                }
                Op::Delete { space: Space::Counters, key } => {
                    let (hash, name) = (self.keys.counters(), key.to_owned());
                    deleted += self.run::<u32, _>(conn.clone(), |mut c| async move { c.hdel(hash, name).await })?;
                }
                Op::Sub { key, delta } => {
                    let (hash, name) = (self.keys.counters(), key.to_owned());
                    self.run::<i64, _>(conn.clone(), move |mut c| async move {
                        scripts::SUB.key(hash).arg(name).arg(delta).invoke_async(&mut c).await
                    })?;
                }
                Op::AddCapped { key, delta, cap } => {
                    let (hash, name) = (self.keys.counters(), key.to_owned());
                    let reply: Vec<String> = self.run(conn.clone(), move |mut c| async move {
                        scripts::ADD_CAPPED.key(hash).arg(name).arg(delta).arg(cap).invoke_async(&mut c).await
                    })?;
                    if reply.first().is_some_and(|r| r == "over") {
                        let current = reply.get(1).map_or(0, |t| number(t));
                        return Err(StoreError::OverCap { key: key.to_owned(), current, delta, cap });
                    }
                }
                Op::Increment { key, delta, expires_at, now_ms, quota } => {
                    outcome = Some(self.increment(conn.clone(), key, delta, expires_at, now_ms, quota)?);
                }
                Op::CompareAndSwap { key, expected, value, expires_at, now_ms, quota } => {
                    let swapped =
                        self.compare_and_swap(conn.clone(), key, expected, value, expires_at, now_ms, quota)?;
                    outcome = Some(swapped);
                }
                Op::DeleteWhere { space, prefix, matching } => {
                    deleted += self.delete_where(&conn, space, prefix, matching)?;
                }
            }
        }
        self.add_all(&conn, &adds)?;
        Ok(Applied { generation_before, deleted, outcome })
    }

    fn generation(&self) -> Result<u64, StoreError> {
        Ok(self.generation.load(Ordering::SeqCst))
    }

    fn footprint(&self) -> Result<Footprint, StoreError> {
        let conn = self.connection()?;
        let (entries, info): (u64, String) = self.run(conn, |mut c| async move {
            redis::pipe().cmd("DBSIZE").cmd("INFO").arg("memory").query_async(&mut c).await
        })?;
        let bytes = info.lines().find_map(|l| l.strip_prefix("used_memory:")).map_or(0, |v| number(v.trim()));
        Ok(Footprint { entries, bytes })
    }

    fn namespace_bytes(&self, ns: &str) -> Result<u64, StoreError> {
        let conn = self.connection()?;
        let [_, _, total] = self.keys.quota(ns);
        let value: Option<i64> = self.run(conn, |mut c| async move { c.get(total).await })?;
        Ok(value.map_or(0, |v| u64::try_from(v).unwrap_or(0)))
    }

    fn sync(&self) -> Result<(), StoreError> {
        // Durability is the server's: `appendfsync always`.
        self.connection()?;
        Ok(())
    }

    fn describe(&self) -> String {
        format!("redis ({})", redact(&self.url))
    }
}
