//! AI queries against simulated providers: real HTTP servers on loopback
//! that speak the OpenAI and Anthropic wire formats. Nothing leaves the
//! machine.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use isaac_host::ai::{AiError, AiRequest, AiRouter};
use isaac_host::cache::MultiLevelCache;
use isaac_host::cache::clock::SystemClock;
use isaac_host::cache::lmdb::LmdbStore;
use isaac_host::config::{AiConfig, CacheConfig, ProviderConfig, ProviderKind};
use isaac_host::state::State;
use isaac_host::testing::{Fault, SimConfig, SimStats, Simulator};

use crate::support::{TestHome, dist, manifest, text};

/// Simulated providers on a runtime of their own, alive as long as this is.
pub(crate) struct Sims {
    pub(crate) runtime: tokio::runtime::Runtime,
    servers: Vec<(String, ProviderKind, Simulator)>,
}

impl Sims {
    pub(crate) fn new() -> Self {
        // The tests' own reqwest clients (built without a default provider).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        Sims { runtime, servers: Vec::new() }
    }

    pub(crate) fn add(mut self, name: &str, kind: ProviderKind, config: SimConfig) -> Self {
        let sim = self.runtime.block_on(Simulator::start(config, 0)).unwrap();
        self.servers.push((name.to_owned(), kind, sim));
        self
    }

    fn server(&self, name: &str) -> &Simulator {
        &self.servers.iter().find(|(n, _, _)| n == name).unwrap().2
    }

    pub(crate) fn stats(&self, name: &str) -> &SimStats {
        &self.server(name).stats
    }

    pub(crate) fn addr(&self, name: &str) -> std::net::SocketAddr {
        self.server(name).addr
    }

    fn provider(&self, name: &str, kind: ProviderKind, base_url: String) -> ProviderConfig {
        let _ = self;
        ProviderConfig {
            price_input_per_mtok: 3.0,
            price_output_per_mtok: 15.0,
            timeout_ms: 5_000,
            ..ProviderConfig::new(kind, base_url, format!("{name}-model"))
        }
    }

    pub(crate) fn ai_config(&self) -> AiConfig {
        let mut config = AiConfig { retry_base_ms: 10, ..AiConfig::default() };
        for (name, kind, sim) in &self.servers {
            let url = match kind {
                ProviderKind::Openai => sim.openai_url(),
                ProviderKind::Anthropic => sim.anthropic_url(),
            };
            config.providers.insert(name.clone(), self.provider(name, *kind, url));
        }
        config
    }

    /// The same providers as a config file.
    pub(crate) fn toml(&self, extra: &str) -> String {
        let mut out = format!("[ai]\nretry_base_ms = 10\n{extra}\n");
        for (name, p) in &self.ai_config().providers {
            let kind = match p.kind {
                ProviderKind::Openai => "openai",
                ProviderKind::Anthropic => "anthropic",
            };
            out.push_str(&format!(
                "[ai.providers.{name}]\nkind = \"{kind}\"\nbase_url = \"{}\"\nmodel = \"{}\"\nprice_input_per_mtok = 3.0\nprice_output_per_mtok = 15.0\n",
                p.base_url, p.model
            ));
        }
        out
    }
}

pub(crate) fn router(config: &AiConfig, dir: &std::path::Path) -> AiRouter {
    let state = State::open(dir, 256).unwrap();
    let cache =
        Arc::new(MultiLevelCache::new(Arc::new(LmdbStore::new(state)), CacheConfig::default(), Arc::new(SystemClock)));
    AiRouter::new(config, cache, Arc::new(SystemClock)).unwrap()
}

/// Whether an error is of the expected kind.
type Check = dyn Fn(&AiError) -> bool;

pub(crate) fn latency(ms: u64) -> SimConfig {
    SimConfig { latency: Duration::from_millis(ms), ..SimConfig::default() }
}

pub(crate) fn home_with(sims: &Sims, extra: &str) -> TestHome {
    let home = TestHome::new();
    std::fs::write(home.path().join("config.toml"), sims.toml(extra)).unwrap();
    home
}

#[test]
fn a_batch_runs_at_once_and_answers_in_order() {
    let sims = Sims::new().add("sim", ProviderKind::Openai, latency(200));
    let home = home_with(&sims, "");
    let lines: String =
        (1..=50).map(|i| format!("{{\"messages\": [{{\"role\": \"user\", \"content\": \"q{i}\"}}]}}\n")).collect();
    std::fs::write(home.path().join("batch.jsonl"), lines).unwrap();
    let out = home.run(&["ai", "batch", home.path().join("batch.jsonl").to_str().unwrap()]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let answers: Vec<serde_json::Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    for (i, a) in answers.iter().enumerate() {
        assert_eq!(a["text"], format!("Simulated answer to: q{}", i + 1));
        assert_eq!(a["provider"], "sim");
        assert_eq!(a["cached"], false);
        assert_eq!(a["usage"]["output_tokens"], 20);
    }
    assert_eq!(answers.len(), 50);
    // The default max_concurrency (64) sends all fifty in one wave.
    assert_eq!(sims.stats("sim").max_in_flight.load(Ordering::SeqCst), 50, "all fifty were in flight at once");
}

#[test]
fn batch_lines_may_be_prompts_and_bad_lines_say_what_a_line_takes() {
    let sims = Sims::new().add("sim", ProviderKind::Openai, latency(0));
    let home = home_with(&sims, "");
    let lines = [
        r#"{"prompt": "first"}"#,
        r#"{"messages": [{"role": "user", "content": "second"}], "max_tokens": 5}"#,
        r#"{"promt": "typo"}"#,
        r#"{"prompt": "both", "messages": []}"#,
        r#"{"model": "sim-1"}"#,
    ];
    std::fs::write(home.path().join("batch.jsonl"), lines.join("\n")).unwrap();
    let out = home.run(&["ai", "batch", home.path().join("batch.jsonl").to_str().unwrap()]);
    let (stdout, _) = text(&out);
    assert_eq!(out.status.code(), Some(1), "three lines failed");
    let answers: Vec<serde_json::Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(answers[0]["text"], "Simulated answer to: first");
    assert_eq!(answers[1]["text"], "Simulated answer to: second");
    let error = |i: usize| answers[i]["error"].as_str().unwrap().to_owned();
    assert!(error(2).contains(":3:") && error(2).contains("`promt`"), "{}", error(2));
    assert!(error(2).contains("`prompt`") && error(2).contains("`messages`"), "lists both: {}", error(2));
    assert!(error(3).contains("not both"), "{}", error(3));
    assert!(error(4).contains("`prompt`") && error(4).contains("`messages`"), "{}", error(4));
}

#[test]
fn each_provider_keeps_to_its_max_concurrency_and_the_batch_cap() {
    let sims =
        Sims::new().add("narrow", ProviderKind::Openai, latency(30)).add("wide", ProviderKind::Anthropic, latency(30));
    let mut config = sims.ai_config();
    config.providers.get_mut("narrow").unwrap().max_concurrency = 3;
    let dir = tempfile::tempdir().unwrap();
    let reqs: Vec<AiRequest> = (0..40)
        .map(|i| AiRequest { provider: Some(["narrow", "wide"][i % 2].into()), ..AiRequest::prompt(format!("q{i}")) })
        .collect();
    let answers = sims.runtime.block_on(router(&config, dir.path()).batch(&reqs));
    assert!(answers.iter().all(Result::is_ok), "{answers:?}");
    let most = |name: &str| sims.stats(name).max_in_flight.load(Ordering::SeqCst);
    assert_eq!((most("narrow"), most("wide")), (3, 20), "narrow holds to 3, wide takes its 20 at once");
    // `[ai] concurrency` still caps a batch as a whole.
    config.concurrency = Some(4);
    config.cache_ttl_secs = 0;
    let dir = tempfile::tempdir().unwrap();
    let only_wide: Vec<AiRequest> = reqs.iter().filter(|r| r.provider.as_deref() == Some("wide")).cloned().collect();
    sims.stats("wide").max_in_flight.store(0, Ordering::SeqCst);
    let answers = sims.runtime.block_on(router(&config, dir.path()).batch(&only_wide));
    assert!(answers.iter().all(Result::is_ok));
    assert_eq!(most("wide"), 4);
}

#[test]
fn a_429_narrows_the_provider_and_answers_widen_it_again() {
    // A provider that answers 8 at once and refuses more with 429 and
    // Retry-After: 1, as a rate limiter does.
    let limited = SimConfig {
        capacity: Some(8),
        retry_after: Some(1),
        latency: Duration::from_millis(50),
        ..SimConfig::default()
    };
    let sims = Sims::new().add("limited", ProviderKind::Openai, limited);
    let config = AiConfig { max_retries: 4, cache_ttl_secs: 0, ..sims.ai_config() };
    let dir = tempfile::tempdir().unwrap();
    let router = router(&config, dir.path());
    assert_eq!(router.limits()["limited"], 64);
    let reqs: Vec<AiRequest> = (0..40).map(|i| AiRequest::prompt(format!("q{i}"))).collect();
    let answers = sims.runtime.block_on(router.batch(&reqs));
    assert!(answers.iter().all(Result::is_ok), "{:?}", answers.iter().find(|a| a.is_err()));
    let narrowed = router.limits()["limited"];
    assert!(narrowed <= 16, "rounds of 429s halve the limit from 64 toward 8, got {narrowed}");
    assert!(sims.stats("limited").throttled.load(Ordering::SeqCst) > 0);
    // Answers raise it again, one per round of answers.
    for r in &reqs[..10] {
        sims.runtime.block_on(router.query(r)).unwrap();
    }
    let ten_later = router.limits()["limited"];
    for _ in 0..30 {
        let answers = sims.runtime.block_on(router.batch(&reqs[..8]));
        assert!(answers.iter().all(Result::is_ok));
    }
    let widened = router.limits()["limited"];
    assert!(widened > ten_later && ten_later >= narrowed, "{narrowed} -> {ten_later} -> {widened}");
}

#[test]
fn fallback_takes_the_fastest_success_and_cancels_the_others() {
    let sims = Sims::new()
        .add("slow", ProviderKind::Openai, latency(400))
        .add("fast", ProviderKind::Anthropic, latency(100))
        .add("mid", ProviderKind::Openai, latency(200));
    let dir = tempfile::tempdir().unwrap();
    let router = router(&sims.ai_config(), dir.path());
    let names = ["slow", "fast", "mid"].map(String::from);
    let answer = sims.runtime.block_on(router.query_with_fallback(&AiRequest::prompt("race"), &names)).unwrap();
    assert_eq!(answer.provider, "fast");
    assert_eq!(answer.model, "fast-model");
    // The losers' servers see their connections dropped.
    let deadline = Instant::now() + Duration::from_secs(5);
    while (sims.stats("slow").cancelled.load(Ordering::SeqCst) == 0
        || sims.stats("mid").cancelled.load(Ordering::SeqCst) == 0)
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(10));
    }
    for loser in ["slow", "mid"] {
        let s = sims.stats(loser);
        assert_eq!((s.cancelled.load(Ordering::SeqCst), s.completed.load(Ordering::SeqCst)), (1, 0), "{loser}");
    }
    // Sequential fallback asks one after another, in order.
    let answer = sims.runtime.block_on(router.query_sequential(&AiRequest::prompt("in turn"), &names)).unwrap();
    assert_eq!(answer.provider, "slow");
}

#[test]
fn retries_on_5xx_and_429_with_retry_after() {
    let flaky = SimConfig { fail_first: 2, ..SimConfig::default() };
    let limited = SimConfig { fail_first: 1, error_status: 429, retry_after: Some(1), ..SimConfig::default() };
    let sims = Sims::new().add("flaky", ProviderKind::Openai, flaky).add("limited", ProviderKind::Anthropic, limited);
    let dir = tempfile::tempdir().unwrap();
    let router = router(&sims.ai_config(), dir.path());
    let req = |p: &str| AiRequest { provider: Some(p.into()), ..AiRequest::prompt("retry me") };
    let answer = sims.runtime.block_on(router.query(&req("flaky"))).unwrap();
    assert_eq!(answer.text, "Simulated answer to: retry me");
    assert_eq!(sims.stats("flaky").requests.load(Ordering::SeqCst), 3);
    let start = Instant::now();
    sims.runtime.block_on(router.query(&req("limited"))).unwrap();
    assert!(start.elapsed() >= Duration::from_secs(1), "Retry-After: 1 was honoured");
    assert_eq!(sims.stats("limited").requests.load(Ordering::SeqCst), 2);
    let stats = router.stats().unwrap();
    assert_eq!((stats.providers["flaky"].requests, stats.providers["flaky"].errors), (3, 2));
}

#[test]
fn a_repeated_query_is_answered_from_the_cache_in_a_new_process() {
    let sims = Sims::new().add("sim", ProviderKind::Openai, latency(50));
    let home = home_with(&sims, "");
    let first: serde_json::Value =
        serde_json::from_str(&text(&home.run(&["ai", "query", "what is isaac?", "--json"])).0).unwrap();
    assert_eq!(first["cached"], false);
    let second: serde_json::Value =
        serde_json::from_str(&text(&home.run(&["ai", "query", "what is isaac?", "--json"])).0).unwrap();
    assert_eq!(second["cached"], true);
    assert_eq!(second["text"], first["text"]);
    assert_eq!(sims.stats("sim").requests.load(Ordering::SeqCst), 1);
    let stats: serde_json::Value = serde_json::from_str(&text(&home.run(&["ai", "stats", "--json"])).0).unwrap();
    assert_eq!((stats["hits"].as_u64(), stats["misses"].as_u64()), (Some(1), Some(1)), "{stats}");
    // 3 input tokens at $3/M and 20 output tokens at $15/M.
    let cost = 3.0 * 3.0 / 1e6 + 20.0 * 15.0 / 1e6;
    assert!((stats["cost_saved"].as_f64().unwrap() - cost).abs() < 1e-9, "{stats}");
    assert_eq!(stats["providers"]["sim"]["requests"], 1);
    assert!(stats["providers"]["sim"]["p50_ms"].as_f64().unwrap() >= 50.0, "{stats}");
    // Cached prompts and answers are private: they can be cleared.
    assert_eq!(text(&home.run(&["ai", "cache", "clear"])).0, "removed 1 cached answers\n");
    let third: serde_json::Value =
        serde_json::from_str(&text(&home.run(&["ai", "query", "what is isaac?", "--json"])).0).unwrap();
    assert_eq!(third["cached"], false);
}

#[test]
fn streams_on_both_wire_formats() {
    let sims = Sims::new().add("o", ProviderKind::Openai, latency(0)).add("a", ProviderKind::Anthropic, latency(0));
    let home = home_with(&sims, "default_provider = \"o\"");
    for provider in ["o", "a"] {
        let out = home.run(&["ai", "query", "stream this", "--stream", "--provider", provider]);
        let (stdout, stderr) = text(&out);
        assert_eq!(stdout, "Simulated answer to: stream this\n", "{stderr}");
        assert!(stderr.contains("2 in, 20 out"), "usage read from the stream: {stderr}");
    }
}

#[test]
fn every_fault_is_a_typed_error_naming_the_provider() {
    let free_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let sims = Sims::new()
        .add("down", ProviderKind::Openai, SimConfig { error_rate: 1.0, ..SimConfig::default() })
        .add("sleepy", ProviderKind::Openai, latency(2_000))
        .add("garbled", ProviderKind::Openai, SimConfig { fault: Fault::Malformed, ..SimConfig::default() })
        .add("halved", ProviderKind::Anthropic, SimConfig { fault: Fault::Truncated, ..SimConfig::default() })
        .add("cut", ProviderKind::Openai, SimConfig { fault: Fault::CutStream, ..SimConfig::default() })
        .add("ok", ProviderKind::Openai, SimConfig::default());
    let mut config = sims.ai_config();
    config.providers.get_mut("sleepy").unwrap().timeout_ms = 200;
    let refused = sims.provider("refused", ProviderKind::Openai, format!("http://127.0.0.1:{free_port}/v1"));
    config.providers.insert("refused".into(), refused);
    let mut keyed = sims.provider("keyed", ProviderKind::Anthropic, "http://127.0.0.1:9".into());
    keyed.api_key_env = Some("ISAAC_TEST_KEY_THAT_IS_NOT_SET".into());
    config.providers.insert("keyed".into(), keyed);
    let dir = tempfile::tempdir().unwrap();
    let router = router(&config, dir.path());
    let ask = |p: &str| {
        let req = AiRequest { provider: Some(p.into()), ..AiRequest::prompt("fault") };
        sims.runtime.block_on(router.query(&req)).unwrap_err()
    };
    let cases: [(&str, &Check, &str); 6] = [
        ("down", &|e| matches!(e, AiError::Status { status: 500, .. }), "answered HTTP 500"),
        ("sleepy", &|e| matches!(e, AiError::Timeout { timeout_ms: 200, .. }), "did not answer within 200 ms"),
        ("refused", &|e| matches!(e, AiError::Connect { .. }), "cannot reach provider `refused`"),
        ("garbled", &|e| matches!(e, AiError::BadResponse { .. }), "malformed JSON"),
        ("halved", &|e| matches!(e, AiError::BadResponse { .. }), "malformed JSON"),
        (
            "keyed",
            &|e| matches!(e, AiError::MissingKey { .. }),
            "ISAAC_TEST_KEY_THAT_IS_NOT_SET (config: ai.providers.keyed.api_key_env)",
        ),
    ];
    for (provider, is, fragment) in cases {
        let e = ask(provider);
        assert!(is(&e), "{provider}: {e:?}");
        let said = isaac_host::error::one_line(&e);
        assert!(said.contains(&format!("`{provider}`")), "{provider}: {said}");
        assert!(said.contains(fragment), "{provider}: {said}");
    }
    assert_eq!(sims.stats("down").requests.load(Ordering::SeqCst), 3, "two retries, then the error");
    let req = AiRequest { provider: Some("cut".into()), ..AiRequest::prompt("cut") };
    let e = sims.runtime.block_on(router.stream(&req, &mut |_| {})).unwrap_err();
    let said = isaac_host::error::one_line(&e);
    assert!(said.contains("provider `cut`") && said.contains("stream ended"), "{said}");
    // In a batch, the other answers still arrive.
    let reqs: Vec<AiRequest> = ["ok", "down", "ok"]
        .iter()
        .enumerate()
        .map(|(i, p)| AiRequest { provider: Some((*p).into()), ..AiRequest::prompt(format!("b{i}")) })
        .collect();
    let results = sims.runtime.block_on(router.batch(&reqs));
    assert!(results[0].is_ok() && results[1].is_err() && results[2].is_ok());
    // All fallbacks failing: one error listing each.
    let e =
        sims.runtime.block_on(router.query_with_fallback(&AiRequest::prompt("x"), &["down".into(), "garbled".into()]));
    let message = e.unwrap_err().to_string();
    assert!(message.contains("[down]") && message.contains("[garbled]"), "{message}");
}

/// A provider on loopback, on `runtime`, that answers every request with
/// `body` as it is (a `text/event-stream`), whatever was asked.
fn raw_provider(runtime: &tokio::runtime::Runtime, body: Vec<u8>) -> std::net::SocketAddr {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let addr = listener.local_addr().unwrap();
    let body = Arc::new(body);
    runtime.spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let body = body.clone();
            tokio::spawn(async move {
                // The whole request first: headers, then Content-Length bytes.
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                let end = loop {
                    let n = socket.read(&mut buf).await.unwrap();
                    request.extend_from_slice(&buf[..n]);
                    if let Some(at) = request.windows(4).position(|w| w == b"\r\n\r\n") {
                        break at + 4;
                    }
                };
                let head = String::from_utf8_lossy(&request[..end]).to_lowercase();
                let length: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .map_or(0, |v| v.trim().parse().unwrap());
                while request.len() < end + length {
                    let n = socket.read(&mut buf).await.unwrap();
                    request.extend_from_slice(&buf[..n]);
                }
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                // The client may stop reading at a cap: a failed write is fine.
                let _ = socket.write_all(head.as_bytes()).await;
                let _ = socket.write_all(&body).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    addr
}

#[test]
fn a_stream_is_read_with_any_line_ending_and_within_its_caps() {
    use isaac_host::ai::WireError;
    let sims = Sims::new();
    let chunk = |text: &str| format!("data: {{\"choices\":[{{\"delta\":{{\"content\":\"{text}\"}}}}]}}");
    // Lone CRs, as the spec allows.
    let lone_cr = format!("{}\r\r{}\r\rdata: [DONE]\r\r", chunk("Hello"), chunk(" world"));
    // One event that never ends, past 1 MiB.
    let long_event = format!("data: {}", "x".repeat((1 << 20) + 10));
    // Small events, past 16 MiB in all.
    let piece = chunk(&"y".repeat(1000)) + "\n\n";
    let long_stream = piece.repeat((16 << 20) / piece.len() + 10) + "data: [DONE]\n\n";
    // A long id (the parser keeps it and copies it at every blank line),
    // then blank lines.
    let long_id = format!("id: {}\n{}\n\n{}data: [DONE]\n\n", "i".repeat(300), chunk("x"), "\n".repeat(1 << 16));
    // One event naming more tool calls than an answer may hold.
    let indices: Vec<String> = (0..1000).map(|i| format!("{{\"index\":{i}}}")).collect();
    let many_calls =
        format!("data: {{\"choices\":[{{\"delta\":{{\"tool_calls\":[{}]}}}}]}}\n\ndata: [DONE]\n\n", indices.join(","));
    let mut config = AiConfig { retry_base_ms: 10, ..AiConfig::default() };
    for (name, body) in
        [("cr", lone_cr), ("event", long_event), ("stream", long_stream), ("id", long_id), ("calls", many_calls)]
    {
        let url = format!("http://{}/v1", raw_provider(&sims.runtime, body.into_bytes()));
        config.providers.insert(name.into(), sims.provider(name, ProviderKind::Openai, url));
    }
    let dir = tempfile::tempdir().unwrap();
    let router = router(&config, dir.path());
    let stream = |p: &str| {
        let req = AiRequest { provider: Some(p.into()), ..AiRequest::prompt("stream") };
        sims.runtime.block_on(router.stream(&req, &mut |_| {}))
    };
    assert_eq!(stream("cr").unwrap().text, "Hello world");
    for provider in ["event", "stream", "id"] {
        let e = stream(provider).unwrap_err();
        let too_large = |e: &AiError| {
            matches!(e, AiError::BadResponse { source: WireError::StreamTooLarge { answer, event }, .. }
                if *answer == 16 << 20 && *event == 1 << 20)
        };
        assert!(too_large(&e), "{provider}: {e:?}");
        let said = isaac_host::error::one_line(&e);
        assert!(said.contains(&format!("`{provider}`")) && said.contains("the stream is refused"), "{said}");
    }
    let e = stream("calls").unwrap_err();
    assert!(matches!(e, AiError::BadResponse { source: WireError::TooManyCalls(128), .. }), "{e:?}");
}

#[test]
fn configuration_faults_are_clear() {
    let home = TestHome::new();
    let out = home.run(&["ai", "query", "hello"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).1.contains("no AI provider is configured: add an [ai.providers.NAME] table"),
        "{}",
        text(&out).1
    );
    let sims = Sims::new().add(
        "sim",
        ProviderKind::Openai,
        SimConfig { api_key: Some("right".into()), ..SimConfig::default() },
    );
    let config =
        sims.toml("").replace("model = \"sim-model\"", "model = \"sim-model\"\napi_key_env = \"ISAAC_TEST_SIM_KEY\"");
    std::fs::write(home.path().join("config.toml"), config).unwrap();
    let out = home.isaac().args(["ai", "query", "hello"]).env("ISAAC_TEST_SIM_KEY", "wrong").output().unwrap();
    assert!(
        text(&out).1.contains("provider `sim` answered HTTP 401: the API key was refused; check ISAAC_TEST_SIM_KEY"),
        "{}",
        text(&out).1
    );
    let out = home.isaac().args(["ai", "query", "hello"]).env("ISAAC_TEST_SIM_KEY", "right").output().unwrap();
    assert_eq!(text(&out).0, "Simulated answer to: hello\n");
    let zero = sims.toml("").replace("model = \"sim-model\"", "model = \"sim-model\"\nmax_concurrency = 0");
    std::fs::write(home.path().join("config.toml"), zero).unwrap();
    let out = home.run(&["ai", "query", "hello"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).1.contains("[ai.providers.sim] max_concurrency must be at least 1"), "{}", text(&out).1);
}

#[test]
fn the_daily_budget_refuses_a_request_that_would_pass_it() {
    let sims = Sims::new().add("sim", ProviderKind::Openai, SimConfig::default());
    let home = home_with(&sims, "daily_budget_usd = 0.0005");
    assert!(home.run(&["ai", "query", "first", "--max-tokens", "20"]).status.success());
    let out = home.run(&["ai", "query", "second", "--max-tokens", "20"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).1.contains("daily AI budget of $0.00 would be passed"), "{}", text(&out).1);
    assert!(text(&out).1.contains("daily_budget_usd"), "{}", text(&out).1);
    assert_eq!(sims.stats("sim").requests.load(Ordering::SeqCst), 1);
}

#[test]
fn plugins_query_within_their_permission_and_budget() {
    let sims = Sims::new().add("sim", ProviderKind::Openai, latency(100));
    let home = home_with(&sims, "");
    assert!(home.run(&["plugins", "add", "--yes", dist("summarize").to_str().unwrap()]).status.success());
    let out = home.run(&["run", "summarize", "first text", "second text"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(
        stdout,
        "1. Simulated answer to: Summarize in one sentence: first text\n2. Simulated answer to: Summarize in one sentence: second text\n"
    );
    assert_eq!(sims.stats("sim").max_in_flight.load(Ordering::SeqCst), 2, "one batch, both at once");

    let wasm = crate::support::example_wasm("summarize");
    home.plant("no-ai", &manifest("no-ai", ""), "no-ai.wasm", &crate::support::distinct(&wasm, 1));
    let out = home.run(&["run", "no-ai:summarize", "x"]);
    assert!(text(&out).0.contains("1. (failed: AI queries are not granted to this plugin"), "{}", text(&out).0);

    let budget = "[permissions]\nai = { max_requests = 1, max_tokens = 1000 }\n";
    home.plant("frugal", &manifest("frugal", budget), "frugal.wasm", &crate::support::distinct(&wasm, 2));
    home.grant("frugal");
    let out = home.run(&["run", "frugal:summarize", "a", "b"]);
    let (stdout, _) = text(&out);
    assert!(stdout.starts_with("1. Simulated answer to: Summarize in one sentence: a\n"), "{stdout}");
    assert!(stdout.contains("2. (failed: over budget: this call may send at most 1 AI requests"), "{stdout}");
}
