//! Every function of every capability, in every WIT version this host
//! links, refuses a plugin that was not granted the capability: the table
//! has one row per function of the WIT files (checked), each called on the
//! context an ungranted call gets.

use std::future::Future;
use std::pin::Pin;

use super::ai::AiCtx;
use super::cache::CacheCtx;
use super::log::LogCtx;
use super::{View, http};
use wasmtime::component::Resource;

use crate::bindings::v0_1::{ai as ai1, cache as cache1, log as log1};
use crate::bindings::v0_2::{ai as ai2, cache as cache2, log as log2};
use crate::bindings::{
    AiAnswerHost, AiHost, CacheHost, Level, LogHost, WitAiError, WitCacheError, WitExpiry, WitRequest,
};

type Check = Pin<Box<dyn Future<Output = bool>>>;

fn ungranted<C>() -> View<'static, C> {
    View(None)
}

fn request() -> WitRequest {
    WitRequest { messages: Vec::new(), model: None, max_tokens: None, temperature: None }
}

fn request1() -> ai1::Request {
    ai1::Request { messages: Vec::new(), model: None, max_tokens: None, temperature: None }
}

fn denied<T>(result: Result<T, WitCacheError>) -> bool {
    matches!(result, Err(WitCacheError::Denied))
}

fn denied1<T>(result: Result<T, cache1::CacheError>) -> bool {
    matches!(result, Err(cache1::CacheError::Denied))
}

fn request2() -> ai2::Request {
    ai2::Request { messages: Vec::new(), model: None, max_tokens: None, temperature: None }
}

fn denied2<T>(result: Result<T, cache2::CacheError>) -> bool {
    matches!(result, Err(cache2::CacheError::Denied))
}

/// `(version, interface, function)` and the check that it refused.
fn table() -> Vec<(&'static str, &'static str, &'static str, Check)> {
    let k = || "key".to_owned();
    vec![
        (
            "0.3.0",
            "log",
            "log",
            Box::pin(async move { LogHost::log(&mut ungranted::<LogCtx>(), Level::Error, k()).await.is_ok() }),
        ),
        (
            "0.3.0",
            "cache",
            "get",
            Box::pin(async move { denied(CacheHost::get(&mut ungranted::<CacheCtx>(), k()).await) }),
        ),
        (
            "0.3.0",
            "cache",
            "set",
            Box::pin(async move {
                denied(CacheHost::set(&mut ungranted::<CacheCtx>(), k(), vec![1], WitExpiry::Never).await)
            }),
        ),
        (
            "0.3.0",
            "cache",
            "delete",
            Box::pin(async move { denied(CacheHost::delete(&mut ungranted::<CacheCtx>(), k()).await) }),
        ),
        (
            "0.3.0",
            "cache",
            "increment",
            Box::pin(async move { denied(CacheHost::increment(&mut ungranted::<CacheCtx>(), k(), 1).await) }),
        ),
        (
            "0.3.0",
            "cache",
            "compare-and-swap",
            Box::pin(async move {
                denied(
                    CacheHost::compare_and_swap(&mut ungranted::<CacheCtx>(), k(), None, vec![1], WitExpiry::Never)
                        .await,
                )
            }),
        ),
        (
            "0.3.0",
            "cache",
            "invalidate",
            Box::pin(async move { denied(CacheHost::invalidate(&mut ungranted::<CacheCtx>(), k()).await) }),
        ),
        (
            "0.3.0",
            "ai",
            "query",
            Box::pin(async {
                matches!(AiHost::query(&mut ungranted::<AiCtx>(), request()).await, Err(WitAiError::Denied))
            }),
        ),
        (
            "0.3.0",
            "ai",
            "batch",
            Box::pin(async {
                let answers = AiHost::batch(&mut ungranted::<AiCtx>(), vec![request(), request()]).await;
                answers.len() == 2 && answers.iter().all(|a| matches!(a, Err(WitAiError::Denied)))
            }),
        ),
        (
            "0.3.0",
            "ai",
            "query-with-fallback",
            Box::pin(async {
                let answer = AiHost::query_with_fallback(&mut ungranted::<AiCtx>(), request(), vec!["p".into()]).await;
                matches!(answer, Err(WitAiError::Denied))
            }),
        ),
        (
            "0.1.0",
            "log",
            "log",
            Box::pin(async move { log1::Host::log(&mut ungranted::<LogCtx>(), log1::Level::Error, k()).await.is_ok() }),
        ),
        (
            "0.1.0",
            "cache",
            "get",
            Box::pin(async move { denied1(cache1::Host::get(&mut ungranted::<CacheCtx>(), k()).await) }),
        ),
        (
            "0.1.0",
            "cache",
            "set",
            Box::pin(async move {
                denied1(cache1::Host::set(&mut ungranted::<CacheCtx>(), k(), vec![1], cache1::Expiry::Never).await)
            }),
        ),
        (
            "0.1.0",
            "cache",
            "delete",
            Box::pin(async move { denied1(cache1::Host::delete(&mut ungranted::<CacheCtx>(), k()).await) }),
        ),
        (
            "0.1.0",
            "cache",
            "invalidate",
            Box::pin(async move { denied1(cache1::Host::invalidate(&mut ungranted::<CacheCtx>(), k()).await) }),
        ),
        (
            "0.1.0",
            "ai",
            "query",
            Box::pin(async {
                matches!(ai1::Host::query(&mut ungranted::<AiCtx>(), request1()).await, Err(ai1::AiError::Denied))
            }),
        ),
        (
            "0.1.0",
            "ai",
            "batch",
            Box::pin(async {
                let answers = ai1::Host::batch(&mut ungranted::<AiCtx>(), vec![request1()]).await;
                answers.len() == 1 && answers.iter().all(|a| matches!(a, Err(ai1::AiError::Denied)))
            }),
        ),
        (
            "0.1.0",
            "ai",
            "query-with-fallback",
            Box::pin(async {
                let answer = ai1::Host::query_with_fallback(&mut ungranted::<AiCtx>(), request1(), vec![]).await;
                matches!(answer, Err(ai1::AiError::Denied))
            }),
        ),
        (
            "0.3.0",
            "ai",
            "query-stream",
            Box::pin(async {
                matches!(AiHost::query_stream(&mut ungranted::<AiCtx>(), request()).await, Err(WitAiError::Denied))
            }),
        ),
        (
            "0.3.0",
            "ai",
            "next",
            Box::pin(async {
                let next = AiAnswerHost::next(&mut ungranted::<AiCtx>(), Resource::new_own(0)).await;
                matches!(next, Err(WitAiError::Denied))
            }),
        ),
        (
            "0.3.0",
            "ai",
            "summary",
            Box::pin(async { AiAnswerHost::summary(&mut ungranted::<AiCtx>(), Resource::new_own(0)).await.is_none() }),
        ),
        (
            "0.2.0",
            "log",
            "log",
            Box::pin(async move { log2::Host::log(&mut ungranted::<LogCtx>(), log2::Level::Error, k()).await.is_ok() }),
        ),
        (
            "0.2.0",
            "cache",
            "get",
            Box::pin(async move { denied2(cache2::Host::get(&mut ungranted::<CacheCtx>(), k()).await) }),
        ),
        (
            "0.2.0",
            "cache",
            "set",
            Box::pin(async move {
                denied2(cache2::Host::set(&mut ungranted::<CacheCtx>(), k(), vec![1], cache2::Expiry::Never).await)
            }),
        ),
        (
            "0.2.0",
            "cache",
            "delete",
            Box::pin(async move { denied2(cache2::Host::delete(&mut ungranted::<CacheCtx>(), k()).await) }),
        ),
        (
            "0.2.0",
            "cache",
            "increment",
            Box::pin(async move { denied2(cache2::Host::increment(&mut ungranted::<CacheCtx>(), k(), 1).await) }),
        ),
        (
            "0.2.0",
            "cache",
            "compare-and-swap",
            Box::pin(async move {
                let new = vec![1];
                denied2(
                    cache2::Host::compare_and_swap(&mut ungranted::<CacheCtx>(), k(), None, new, cache2::Expiry::Never)
                        .await,
                )
            }),
        ),
        (
            "0.2.0",
            "cache",
            "invalidate",
            Box::pin(async move { denied2(cache2::Host::invalidate(&mut ungranted::<CacheCtx>(), k()).await) }),
        ),
        (
            "0.2.0",
            "ai",
            "query",
            Box::pin(async {
                matches!(ai2::Host::query(&mut ungranted::<AiCtx>(), request2()).await, Err(ai2::AiError::Denied))
            }),
        ),
        (
            "0.2.0",
            "ai",
            "batch",
            Box::pin(async {
                let answers = ai2::Host::batch(&mut ungranted::<AiCtx>(), vec![request2()]).await;
                answers.len() == 1 && answers.iter().all(|a| matches!(a, Err(ai2::AiError::Denied)))
            }),
        ),
        (
            "0.2.0",
            "ai",
            "query-with-fallback",
            Box::pin(async {
                let answer = ai2::Host::query_with_fallback(&mut ungranted::<AiCtx>(), request2(), vec![]).await;
                matches!(answer, Err(ai2::AiError::Denied))
            }),
        ),
        ("any", "wasi:http/outgoing-handler", "handle", Box::pin(http::ungranted_refuses("https://example.com/"))),
    ]
}

/// Each `(interface, function)` the WIT files of `dir` declare as imports
/// of the host (not the world's exports).
fn declared(dir: &str) -> Vec<(String, String)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut found = Vec::new();
    for name in ["log", "cache", "ai"] {
        let text = std::fs::read_to_string(root.join(format!("{name}.wit"))).unwrap();
        for line in text.lines().map(str::trim).filter(|l| !l.starts_with("//")) {
            if let Some((function, _)) = line.split_once(": func(") {
                found.push((name.to_owned(), function.trim().to_owned()));
            }
        }
    }
    found.sort();
    found
}

#[test]
fn every_function_of_every_capability_refuses_without_a_grant() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let table = table();
    for (version, dir) in [("0.3.0", "../wit"), ("0.2.0", "wit-0.2.0"), ("0.1.0", "wit-0.1.0")] {
        let mut rows: Vec<(String, String)> = table
            .iter()
            .filter(|(v, ..)| *v == version)
            .map(|(_, interface, function, _)| (interface.to_string(), function.to_string()))
            .collect();
        rows.sort();
        assert_eq!(rows, declared(dir), "isaac:plugin@{version}: one row per function of {dir}");
    }
    for (version, interface, function, check) in table {
        assert!(runtime.block_on(check), "{interface}.{function} ({version}) did not refuse an ungranted call");
    }
}
