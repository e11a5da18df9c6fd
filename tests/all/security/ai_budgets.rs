//! AI budgets count real money: every HTTP request sent counts against the
//! plugin's `max_requests` (a fallback list is de-duplicated and cut), every
//! request reserves the tokens it may use and is sent with that `max_tokens`,
//! the daily cap is a reservation that a concurrent batch cannot overshoot,
//! cancelled requests are recorded, a guest names only listed models, the
//! response cache is kept per plugin, and a plugin's batch keeps to the
//! provider's `max_concurrency`.

use std::sync::atomic::Ordering;

use isaac_host::config::ProviderKind;
use isaac_host::testing::SimConfig;

use crate::ai::{Sims, home_with, latency};
use crate::support::{TestHome, distinct, fixture, manifest, text};

fn plant_asker(home: &TestHome, name: &str, budget: &str, copy: usize) {
    let perms = format!("[permissions]\nai = {{ {budget} }}\n");
    home.plant(name, &manifest(name, &perms), &format!("{name}.wasm"), &distinct(&fixture("hostile"), copy));
    home.grant(name);
}

fn ai_stats(home: &TestHome) -> serde_json::Value {
    serde_json::from_str(&text(&home.run(&["ai", "stats", "--json"])).0).unwrap()
}

#[test]
fn a_fallback_over_many_copies_sends_what_the_budget_allows() {
    let sims = Sims::new().add("sim", ProviderKind::Openai, latency(200));
    let home = home_with(&sims, "");
    plant_asker(&home, "racer", "max_requests = 1, max_tokens = 100000", 41);
    let out = home.run(&["run", "racer:ai-fallback", "sim", "200"]);
    assert!(out.status.success(), "{}", text(&out).1);
    let received = sims.stats("sim").requests.load(Ordering::SeqCst);
    eprintln!("requests the provider received for one fallback call of 200 copies under max_requests = 1: {received}");
    assert_eq!(received, 1);
    assert_eq!(ai_stats(&home)["providers"]["sim"]["requests"], 1);
}

#[test]
fn cancelled_losers_are_recorded_as_sent() {
    let sims =
        Sims::new().add("fast", ProviderKind::Openai, latency(100)).add("slow", ProviderKind::Openai, latency(5000));
    let home = home_with(&sims, "");
    plant_asker(&home, "racer", "max_requests = 5, max_tokens = 100000", 42);
    let out = home.run(&["run", "racer:ai-fallback", "fast,slow", "3"]);
    assert!(out.status.success(), "{}", text(&out).1);
    let stats = ai_stats(&home);
    for name in ["fast", "slow"] {
        let received = sims.stats(name).requests.load(Ordering::SeqCst);
        assert_eq!(stats["providers"][name]["requests"], received, "{name}: {stats}");
        assert_eq!(received, 1, "the list was de-duplicated");
    }
    assert_eq!(stats["providers"]["slow"]["cancelled"], 1, "{stats}");
    assert_eq!(stats["providers"]["fast"]["cancelled"], 0, "{stats}");
}

#[test]
fn a_batch_reserves_tokens_before_it_sends() {
    let sims = Sims::new().add("sim", ProviderKind::Openai, latency(100));
    let home = home_with(&sims, "");
    plant_asker(&home, "batcher", "max_requests = 20, max_tokens = 1000", 43);
    // Ten requests that may each write 1024 tokens: one fits the budget.
    let out = home.run(&["run", "batcher:ai-batch", "10"]);
    assert_eq!(text(&out).0, "1 of 10 answered\n", "{}", text(&out).1);
    assert_eq!(sims.stats("sim").requests.load(Ordering::SeqCst), 1);
    // Asking for 50 tokens each, all ten fit, each sent with max_tokens 50.
    let out = home.run(&["run", "batcher:ai-batch", "10", "50"]);
    assert_eq!(text(&out).0, "10 of 10 answered\n", "{}", text(&out).1);
    let stats = ai_stats(&home);
    assert_eq!(stats["providers"]["sim"]["requests"], 11);
    // The simulator writes 20 tokens, cut to max_tokens when smaller.
    assert!(stats["providers"]["sim"]["output_tokens"].as_u64().unwrap() <= 11 * 20, "{stats}");
}

#[test]
fn the_daily_cap_is_a_reservation_that_a_batch_cannot_overshoot() {
    let sims = Sims::new().add("sim", ProviderKind::Openai, latency(200));
    // Each request may cost up to 22 input and 50 output tokens: $0.000816.
    let home = home_with(&sims, "daily_budget_usd = 0.002");
    plant_asker(&home, "spender", "max_requests = 20, max_tokens = 100000", 44);
    let out = home.run(&["run", "spender:ai-batch", "10", "50"]);
    assert_eq!(text(&out).0, "2 of 10 answered\n", "{}", text(&out).1);
    assert_eq!(sims.stats("sim").requests.load(Ordering::SeqCst), 2);
    let spent = ai_stats(&home)["spent_today"].as_f64().unwrap();
    assert!(spent > 0.0 && spent <= 0.002, "spent {spent}");
}

#[test]
fn a_guest_names_only_listed_models_priced_as_listed() {
    let sims = Sims::new().add("sim", ProviderKind::Openai, SimConfig::default());
    let home = home_with(&sims, "");
    let config = std::fs::read_to_string(home.path().join("config.toml")).unwrap()
        + "models = [{ name = \"big\", price_input_per_mtok = 300.0, price_output_per_mtok = 1500.0 }]\n";
    std::fs::write(home.path().join("config.toml"), config).unwrap();
    plant_asker(&home, "picker", "max_requests = 5, max_tokens = 100000", 45);
    let out = home.run(&["run", "picker:ai-ask", "hello", "free-model"]);
    assert!(text(&out).1.contains("not granted"), "{}", text(&out).1);
    assert_eq!(sims.stats("sim").requests.load(Ordering::SeqCst), 0);
    let out = home.run(&["run", "picker:ai-ask", "hello", "big"]);
    assert_eq!(text(&out).0, "Simulated answer to: hello cached=false\n", "{}", text(&out).1);
    // 1 input and 20 output tokens at the big model's prices.
    let cost = ai_stats(&home)["providers"]["sim"]["cost"].as_f64().unwrap();
    assert!((cost - (300.0 + 20.0 * 1500.0) / 1e6).abs() < 1e-9, "{cost}");
}

#[test]
fn one_plugin_does_not_see_another_plugins_answers() {
    let sims = Sims::new().add("sim", ProviderKind::Openai, SimConfig::default());
    let home = home_with(&sims, "");
    plant_asker(&home, "first", "max_requests = 5, max_tokens = 100000", 46);
    plant_asker(&home, "second", "max_requests = 5, max_tokens = 100000", 47);
    let ask = |who: &str| text(&home.run(&["run", &format!("{who}:ai-ask"), "the secret prompt"])).0;
    assert!(ask("first").ends_with("cached=false\n"));
    assert!(ask("first").ends_with("cached=true\n"), "a plugin's own answers are cached");
    assert!(ask("second").ends_with("cached=false\n"), "another plugin's answers are not its to see");
    // Shared only where config.toml says so.
    let shared = std::fs::read_to_string(home.path().join("config.toml"))
        .unwrap()
        .replace("[ai]\n", "[ai]\nshared_response_cache = true\n");
    std::fs::write(home.path().join("config.toml"), shared).unwrap();
    assert!(ask("first").ends_with("cached=false\n"));
    assert!(ask("second").ends_with("cached=true\n"));
}

#[test]
fn a_plugins_wide_batch_cannot_put_more_than_max_concurrency_on_the_wire() {
    // A hostile plugin asks for 100 answers in one batch, within its budget.
    // The provider is configured for 4 at once: the batch waits its turn
    // rather than opening 100 connections.
    let sims = Sims::new().add("sim", ProviderKind::Openai, latency(50));
    let home = home_with(&sims, "cache_ttl_secs = 0");
    let config = home.path().join("config.toml");
    let text_before = std::fs::read_to_string(&config).unwrap();
    let narrowed = text_before.replace("model = \"sim-model\"", "model = \"sim-model\"\nmax_concurrency = 4");
    assert_ne!(narrowed, text_before);
    std::fs::write(&config, narrowed).unwrap();
    plant_asker(&home, "flooder", "max_requests = 100, max_tokens = 1000000", 45);
    let out = home.run(&["run", "flooder:ai-batch", "100", "5"]);
    assert_eq!(text(&out).0, "100 of 100 answered\n", "{}", text(&out).1);
    let stats = sims.stats("sim");
    assert_eq!(stats.requests.load(Ordering::SeqCst), 100);
    assert_eq!(stats.max_in_flight.load(Ordering::SeqCst), 4, "never more than max_concurrency at once");
}
