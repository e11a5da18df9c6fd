//! `isaac ask` against the simulated provider in both wire formats: the
//! model calls plugin commands as tools, each run in its sandbox.

use isaac_host::ai::{AiRequest, Message, ToolDef};
use isaac_host::config::ProviderKind;
use isaac_host::testing::SimConfig;
use serde_json::{Value, json};

use crate::ai::{Sims, home_with, router};
use crate::support::{TestHome, dist, example_wasm, manifest, text};

const FORMATS: [ProviderKind; 2] = [ProviderKind::Openai, ProviderKind::Anthropic];

fn home(kind: ProviderKind, sim: SimConfig, extra: &str) -> (Sims, TestHome) {
    let sims = Sims::new().add("sim", kind, sim);
    let home = home_with(&sims, extra);
    for name in ["hello", "wordcount"] {
        home.ok(&["plugins", "add", dist(name).to_str().unwrap()]);
    }
    (sims, home)
}

/// `isaac ask --json ARGS`: the exit status and the transcript.
fn ask(home: &TestHome, args: &[&str]) -> (Option<i32>, Value) {
    let out = home.isaac().args(["ask", "--json"]).args(args).output().unwrap();
    let (stdout, stderr) = text(&out);
    let transcript = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"));
    (out.status.code(), transcript)
}

#[test]
fn the_model_calls_a_tool_and_answers_with_its_result() {
    for kind in FORMATS {
        let (sims, home) = home(kind, SimConfig::default(), "");
        let (code, t) = ask(&home, &["how many words in", "wordcount__wc one two three"]);
        assert_eq!(code, Some(0), "{kind:?}: {t}");
        assert_eq!(t["answer"], "The tools answered: \"1 3 13\".", "{kind:?}: {t}");
        let steps = t["steps"].as_array().unwrap();
        assert_eq!(steps.len(), 2, "{t}");
        let call = &steps[0]["calls"][0];
        assert_eq!((call["tool"].as_str(), call["result"].as_str()), (Some("wordcount__wc"), Some("1 3 13")));
        assert_eq!(call["args"], json!(["one", "two", "three"]));
        assert_eq!(call["is_error"], false);
        assert_eq!(sims.stats("sim").requests.load(std::sync::atomic::Ordering::SeqCst), 2);
    }
}

#[test]
fn a_two_step_chain_runs_both_tools_in_order() {
    for kind in FORMATS {
        let (_sims, home) = home(kind, SimConfig::default(), "");
        let (code, t) = ask(&home, &["hello__hello Ada wordcount__wc a b"]);
        assert_eq!(code, Some(0), "{kind:?}: {t}");
        assert_eq!(t["answer"], "The tools answered: \"Hello, Ada!\" then \"1 2 3\".", "{kind:?}: {t}");
        let tools: Vec<&str> = t["steps"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| s["calls"].as_array().unwrap())
            .map(|c| c["tool"].as_str().unwrap())
            .collect();
        assert_eq!(tools, ["hello__hello", "wordcount__wc"]);
    }
}

#[test]
fn max_steps_ends_a_conversation_that_keeps_calling_tools() {
    let (_sims, home) = home(ProviderKind::Openai, SimConfig::default(), "");
    let (code, t) = ask(&home, &["--max-steps", "2", "hello__hello a hello__echo b wordcount__wc c"]);
    assert_eq!(code, Some(1), "{t}");
    assert_eq!(t["steps"].as_array().unwrap().len(), 2);
    assert!(t["error"].as_str().unwrap().contains("still calling tools after 2 steps"), "{t}");
    assert!(t["answer"].is_null());
}

#[test]
fn a_plugin_that_reads_the_environment_runs_only_after_a_yes() {
    for kind in FORMATS {
        let (_sims, home) = home(kind, SimConfig::default(), "");
        let asks_env = manifest("envy", "[permissions]\nenv = [\"HOME\"]\n");
        home.plant("envy", &asks_env, "envy.wasm", &example_wasm("hello"));
        home.grant("envy");
        // No terminal to ask on, no --yes: refused, and the model is told.
        let (code, t) = ask(&home, &["envy__hello Eve"]);
        assert_eq!(code, Some(0), "{t}");
        let call = &t["steps"][0]["calls"][0];
        assert_eq!((call["refused"].as_bool(), call["is_error"].as_bool()), (Some(true), Some(true)), "{t}");
        assert_eq!(t["answer"], "The tools answered: \"the user did not allow this call\".");
        // A plugin without such grants needs no yes; --yes allows the other.
        let (_, t) = ask(&home, &["--yes", "envy__hello Eve"]);
        assert_eq!(t["answer"], "The tools answered: \"Hello, Eve!\".", "{t}");
    }
}

#[test]
fn the_daily_budget_applies_to_every_step() {
    // Each answer costs 1000 output tokens at $15/M = $0.015; a step reserves
    // about $0.019 before it is sent. $0.025 pays for the first step only.
    let sim = SimConfig { output_tokens: 1000, ..SimConfig::default() };
    let (_sims, home) = home(ProviderKind::Anthropic, sim, "daily_budget_usd = 0.025");
    let config = std::fs::read_to_string(home.path().join("config.toml")).unwrap();
    std::fs::write(home.path().join("config.toml"), config + "default_max_tokens = 1000\n").unwrap();
    let (code, t) = ask(&home, &["wordcount__wc x y"]);
    assert_eq!(code, Some(1), "{t}");
    let steps = t["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 1, "{t}");
    assert_eq!(steps[0]["calls"][0]["result"], "1 2 3");
    let error = t["error"].as_str().unwrap();
    assert!(error.starts_with("step 2: the daily AI budget of $0.03"), "{error}");
}

#[test]
fn tool_calls_stream_in_both_formats_as_they_come_whole() {
    for kind in FORMATS {
        let sims = Sims::new().add("sim", kind, SimConfig::default());
        let dir = tempfile::tempdir().unwrap();
        let router = router(&sims.ai_config(), dir.path());
        let tool = ToolDef {
            name: "notes__add".into(),
            description: "Add a note".into(),
            parameters: json!({"type": "object"}),
        };
        let req = AiRequest {
            messages: vec![Message::user("please notes__add buy milk")],
            tools: vec![tool],
            ..AiRequest::default()
        };
        let (whole, streamed) = sims.runtime.block_on(async {
            let whole = router.query(&AiRequest { temperature: Some(0.5), ..req.clone() }).await.unwrap();
            let mut text = String::new();
            let streamed = router.stream(&req, &mut |t: &str| text.push_str(t)).await.unwrap();
            (whole, streamed)
        });
        for answer in [&whole, &streamed] {
            assert_eq!(answer.tool_calls.len(), 1, "{kind:?}: {answer:?}");
            assert_eq!(answer.tool_calls[0].name, "notes__add");
            let args: Value = serde_json::from_str(&answer.tool_calls[0].arguments).unwrap();
            assert_eq!(args, json!({"args": ["buy", "milk"]}));
        }
        // The result goes back in the format's own shape, and the answer quotes it.
        let mut messages = req.messages.clone();
        messages.push(Message::assistant_calls("", streamed.tool_calls.clone()));
        messages.push(Message::tool_result(streamed.tool_calls[0].id.clone(), "added 1 note"));
        let next = AiRequest { messages, ..req.clone() };
        let answer = sims.runtime.block_on(router.stream(&next, &mut |_: &str| {})).unwrap();
        assert_eq!(answer.text, "The tools answered: \"added 1 note\".", "{kind:?}");
        assert!(answer.tool_calls.is_empty());
    }
}

#[test]
fn a_plugin_without_its_grant_is_not_offered_to_the_model() {
    let (sims, home) = home(ProviderKind::Openai, SimConfig::default(), "");
    // fetch asks for network access and is not granted.
    home.plant_ungranted("fetch");
    let (code, t) = ask(&home, &["fetch__fetch http://127.0.0.1:9/"]);
    assert_eq!(code, Some(0), "{t}");
    // The model was not offered the tool, so it could not call it.
    assert_eq!(t["steps"].as_array().unwrap().len(), 1, "{t}");
    assert!(t["steps"][0]["calls"].as_array().unwrap().is_empty(), "{t}");
    assert_eq!(t["answer"], "Simulated answer to: fetch__fetch http://127.0.0.1:9/");
    assert_eq!(sims.stats("sim").requests.load(std::sync::atomic::Ordering::SeqCst), 1);
}

#[test]
fn on_a_terminal_the_calls_are_shown_and_the_answer_streams() {
    let (_sims, home) = home(ProviderKind::Anthropic, SimConfig::default(), "");
    let mut cmd = home.isaac();
    cmd.args(["ask", "wordcount__wc one two"]).env("TERM", "xterm");
    let mut p = rexpect::session::spawn_command(cmd, Some(30_000)).unwrap();
    p.exp_string("[wordcount__wc] one two -> 1 2 7").unwrap();
    p.exp_string("The tools answered: \"1 2 7\".").unwrap();
    p.exp_eof().unwrap();
}

#[test]
fn a_tool_that_can_send_data_off_the_machine_runs_only_after_a_yes() {
    let server = crate::http::server::Server::plain();
    for kind in FORMATS {
        let (_sims, home) = home(kind, SimConfig::default(), "");
        let http = format!("[permissions]\nhttp = {{ allowed_hosts = [\"http://{}\"] }}\n", server.addr);
        home.plant("fetch", &manifest("fetch", &http), "fetch.wasm", &example_wasm("fetch"));
        home.grant("fetch");
        let exfil = server.url("http", "/hello?d=secret");

        // After another tool's output (which may be steering the model), no
        // terminal and no --yes: refused, the model is told why, nothing is sent.
        let (code, t) = ask(&home, &[&format!("hello__hello Ada fetch__fetch {exfil}")]);
        assert_eq!(code, Some(0), "{t}");
        assert_eq!(t["steps"][0]["calls"][0]["is_error"], false, "hello runs unasked: {t}");
        let call = &t["steps"][1]["calls"][0];
        assert_eq!((call["tool"].as_str(), call["refused"].as_bool()), (Some("fetch__fetch"), Some(true)), "{t}");
        let said = call["result"].as_str().unwrap();
        assert!(said.contains("send data off this machine") && said.contains("hello__hello"), "{said}");

        // First in the conversation too: the model chose it after reading
        // the tools' descriptions, which plugins wrote.
        let (_, t) = ask(&home, &[&format!("fetch__fetch {exfil}")]);
        let said = t["steps"][0]["calls"][0]["result"].as_str().unwrap();
        assert!(said.contains("send data off this machine") && said.contains("descriptions"), "{t}");
        assert!(server.hosts.lock().unwrap().is_empty(), "{kind:?}: nothing reached the server");

        // --yes gives that away: both calls run.
        let (_, t) = ask(&home, &["--yes", &format!("hello__hello Ada fetch__fetch {exfil}")]);
        assert_eq!(t["steps"][1]["calls"][0]["is_error"], false, "{t}");
        assert_eq!(server.hosts.lock().unwrap().len(), 1, "{kind:?}: {t}");
        server.hosts.lock().unwrap().clear();
    }
}
