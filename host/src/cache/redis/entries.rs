//! The data space on Redis: each entry write is one script (see
//! [`scripts`](super::scripts)) that keeps the namespace's byte count and
//! quota in the same step; reads fetch values with their expiries in one
//! round trip.

use redis::aio::ConnectionManager;

use super::error::RedisFailure;
use super::{RedisStore, number, scripts};
use crate::cache::entry;
use crate::cache::layout::namespace_of;
use crate::cache::store::{Outcome, Quota, StoreError};

impl RedisStore {
    /// The entries `fulls`, encoded, with their expiries: `GET` and
    /// `PEXPIRETIME` for each in one transaction, one round trip.
    pub(super) fn get_data(&self, conn: ConnectionManager, fulls: &[&str]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        if fulls.is_empty() {
            return Ok(Vec::new());
        }
        let data: Vec<String> = fulls.iter().map(|full| self.keys.data(full)).collect();
        let found: Vec<(Option<Vec<u8>>, i64)> = self.run(conn, move |mut c| async move {
            let mut pipe = redis::pipe();
            pipe.atomic();
            for key in &data {
                pipe.get(key).cmd("PEXPIRETIME").arg(key);
            }
            let flat: Vec<redis::Value> = pipe.query_async(&mut c).await?;
            let pairs = flat.chunks(2).map(|pair| redis::Value::Array(pair.to_vec())).collect();
            redis::from_redis_value(redis::Value::Array(pairs)).map_err(Into::into)
        })?;
        Ok(found
            .into_iter()
            .map(|(value, at)| value.map(|v| entry::encode(u64::try_from(at).unwrap_or(0), &v)))
            .collect())
    }

    /// The four keys of an entry script for `full`, and its rest.
    fn entry_keys(&self, full: &str) -> ([String; 4], String, String) {
        let ns = namespace_of(full);
        let [sizes, exp, total] = self.keys.quota(ns);
        let data = self.keys.data(full);
        let entry_prefix = data[..data.len() - (full.len() - ns.len())].to_owned();
        ([data, sizes, exp, total], full[ns.len()..].to_owned(), entry_prefix)
    }

    fn quota_error(full: &str, reply: &[String], limit: Option<Quota>) -> StoreError {
        StoreError::Quota {
            namespace: namespace_of(full).to_owned(),
            used: reply.get(1).map_or(0, |t| number(t)),
            more: reply.get(2).map_or(0, |t| number(t)),
            limit: limit.map_or(0, |q| q.limit),
        }
    }

    pub(super) fn put_data(
        &self,
        conn: ConnectionManager,
        full: &str,
        raw: &[u8],
        quota: Option<Quota>,
    ) -> Result<(), StoreError> {
        let (expires_at, value) = entry::decode(raw).ok_or_else(|| self.failed(RedisFailure::NotEncoded))?;
        let (keys, rest, entry_prefix) = self.entry_keys(full);
        let size = full.len() + raw.len();
        let (limit, now) = limits(quota);
        let value = value.to_vec();
        let reply: Vec<String> = self.run(conn, move |mut c| async move {
            let mut call = scripts::PUT.prepare_invoke();
            call.key(&keys[..]).arg(rest).arg(value).arg(expires_at).arg(now).arg(limit).arg(size).arg(entry_prefix);
            call.invoke_async(&mut c).await
        })?;
        match reply.first().map(String::as_str) {
            Some("ok") => Ok(()),
            _ => Err(Self::quota_error(full, &reply, quota)),
        }
    }

    pub(super) fn delete_data(&self, conn: ConnectionManager, full: &str) -> Result<u32, StoreError> {
        let (keys, rest, _) = self.entry_keys(full);
        let removed: u32 = self.run(conn, move |mut c| async move {
            let mut call = scripts::DELETE.prepare_invoke();
            call.key(&keys[..]).arg(rest);
            call.invoke_async(&mut c).await
        })?;
        Ok(removed)
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn increment(
        &self,
        conn: ConnectionManager,
        full: &str,
        delta: i64,
        new_expiry: u64,
        now: u64,
        quota: Option<Quota>,
    ) -> Result<Outcome, StoreError> {
        let (keys, rest, entry_prefix) = self.entry_keys(full);
        let base = full.len() + entry::HEADER;
        let (limit, _) = limits(quota);
        let reply: Vec<String> = self.run(conn, move |mut c| async move {
            let mut call = scripts::INCREMENT.prepare_invoke();
            call.key(&keys[..]).arg(rest).arg(delta).arg(new_expiry).arg(now).arg(limit).arg(base).arg(entry_prefix);
            call.invoke_async(&mut c).await
        })?;
        match reply.first().map(String::as_str) {
            Some("ok") => {
                let value = reply.get(1).and_then(|v| v.parse().ok());
                let odd = || self.failed(RedisFailure::Reply { script: "INCREMENT", reply: reply.clone() });
                let value = value.ok_or_else(odd)?;
                Ok(Outcome::Counted { value, expires_at: reply.get(2).map_or(0, |t| number(t)) })
            }
            // INCRBY refused: the value is no integer, or the sum would leave
            // the range of i64; the value itself tells which.
            Some("error") => match self.get_data_value(full)? {
                Some(current) if current.checked_add(delta).is_none() => {
                    Err(StoreError::Overflow { key: full.to_owned(), current, delta })
                }
                _ => Err(StoreError::NotAnInteger { key: full.to_owned() }),
            },
            _ => Err(Self::quota_error(full, &reply, quota)),
        }
    }

    /// The integer an entry holds, if it holds one.
    fn get_data_value(&self, full: &str) -> Result<Option<i64>, StoreError> {
        let conn = self.connection()?;
        let raw = self.get_data(conn, &[full])?.pop().flatten();
        Ok(raw.as_deref().and_then(entry::decode).and_then(|(_, v)| entry::integer(v)))
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn compare_and_swap(
        &self,
        conn: ConnectionManager,
        full: &str,
        expected: Option<&[u8]>,
        value: &[u8],
        expires_at: u64,
        now: u64,
        quota: Option<Quota>,
    ) -> Result<Outcome, StoreError> {
        let (keys, rest, entry_prefix) = self.entry_keys(full);
        let size = full.len() + entry::HEADER + value.len();
        let (limit, _) = limits(quota);
        let (has, expected) = (if expected.is_some() { "1" } else { "0" }, expected.unwrap_or_default().to_vec());
        let value = value.to_vec();
        let reply: Vec<String> = self.run(conn, move |mut c| async move {
            let mut call = scripts::COMPARE_AND_SWAP.prepare_invoke();
            call.key(&keys[..]).arg(rest).arg(has).arg(expected).arg(value);
            call.arg(expires_at).arg(now).arg(limit).arg(size).arg(entry_prefix);
            call.invoke_async(&mut c).await
        })?;
        match reply.first().map(String::as_str) {
            Some("swapped") => Ok(Outcome::Swapped(reply.get(1).is_some_and(|v| v == "1"))),
            _ => Err(Self::quota_error(full, &reply, quota)),
        }
    }

    pub(super) fn delete_many(&self, conn: &ConnectionManager, ns: &str, fulls: &[String]) -> Result<u32, StoreError> {
        let [sizes, exp, total] = self.keys.quota(ns);
        let keys: Vec<String> =
            [sizes, exp, total].into_iter().chain(fulls.iter().map(|f| self.keys.data(f))).collect();
        let rests: Vec<String> = fulls.iter().map(|f| f[ns.len()..].to_owned()).collect();
        self.run(conn.clone(), move |mut c| async move {
            let mut call = scripts::DELETE_MANY.prepare_invoke();
            call.key(&keys[..]).arg(&rests[..]);
            call.invoke_async(&mut c).await
        })
    }
}

/// `(limit, now)` as the scripts take them (`-1`: no limit).
fn limits(quota: Option<Quota>) -> (i64, u64) {
    quota.map_or((-1, 0), |q| (i64::try_from(q.limit).unwrap_or(i64::MAX), q.now_ms))
}
