//! The simulator speaks the providers' wire formats as their official SDKs
//! read them: each format's stream, event by event, against a checked-in
//! transcript of the reference shapes (`tests/fixtures/ai/`), and the model
//! lists the SDKs ask for.

use isaac_host::config::ProviderKind;
use serde_json::{Value, json};

use crate::ai::{Sims, latency};

/// One server-sent event: its `event:` name (if any) and its data.
#[derive(Debug)]
struct Event {
    name: Option<String>,
    data: String,
}

fn events(text: &str) -> Vec<Event> {
    text.split("\n\n")
        .filter(|block| !block.trim().is_empty())
        .map(|block| {
            let mut event = Event { name: None, data: String::new() };
            for line in block.lines() {
                if let Some(name) = line.strip_prefix("event:") {
                    event.name = Some(name.trim().to_owned());
                } else if let Some(data) = line.strip_prefix("data:") {
                    event.data.push_str(data.trim_start());
                }
            }
            event
        })
        .collect()
}

/// What an event is, for lining the two streams up: Anthropic names it;
/// an OpenAI chunk is told by what its first choice carries.
fn kind(event: &Event) -> String {
    if let Some(name) = &event.name {
        return name.clone();
    }
    if event.data == "[DONE]" {
        return "[DONE]".into();
    }
    let v: Value = serde_json::from_str(&event.data).unwrap();
    let choice = &v["choices"][0];
    match () {
        _ if v["choices"].as_array().is_some_and(Vec::is_empty) => "usage",
        _ if choice["delta"].get("role").is_some() => "role",
        _ if !choice["finish_reason"].is_null() => "finish",
        _ => "content",
    }
    .into()
}

/// Whether `actual` has every field of `reference`, of the same JSON type
/// (a `null` in the reference only asks for the field).
fn same_shape(reference: &Value, actual: &Value, path: &str) -> Result<(), String> {
    match (reference, actual) {
        (Value::Null, _) => Ok(()),
        (Value::Object(r), Value::Object(a)) => r.iter().try_for_each(|(key, value)| match a.get(key) {
            Some(found) => same_shape(value, found, &format!("{path}.{key}")),
            None => Err(format!("{path}.{key} is missing")),
        }),
        (Value::Array(r), Value::Array(a)) => match r.first() {
            Some(first) => a.iter().enumerate().try_for_each(|(i, v)| same_shape(first, v, &format!("{path}[{i}]"))),
            None => Ok(()),
        },
        (r, a) if std::mem::discriminant(r) == std::mem::discriminant(a) => Ok(()),
        (r, a) => Err(format!("{path} is {a}, the reference has {r}")),
    }
}

/// Group consecutive events of the same kind.
fn runs(events: &[Event]) -> Vec<(String, Vec<&Event>)> {
    let mut out: Vec<(String, Vec<&Event>)> = Vec::new();
    for event in events {
        let k = kind(event);
        match out.last_mut() {
            Some((last, group)) if *last == k => group.push(event),
            _ => out.push((k, vec![event])),
        }
    }
    out
}

fn check_stream(reference: &str, actual: &str) {
    let (reference, actual) = (events(reference), events(actual));
    let (want, got) = (runs(&reference), runs(&actual));
    let kinds = |r: &[(String, Vec<&Event>)]| r.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>();
    assert_eq!(kinds(&got), kinds(&want), "the events, in order");
    for ((kind, references), (_, actuals)) in want.iter().zip(&got) {
        for a in actuals {
            if a.data == "[DONE]" {
                continue;
            }
            let a: Value = serde_json::from_str(&a.data).unwrap();
            let r: Value = serde_json::from_str(&references[0].data).unwrap();
            if let Err(why) = same_shape(&r, &a, kind) {
                panic!("{why}\n  simulator: {a}\n  reference: {r}");
            }
        }
    }
}

fn post(sims: &Sims, url: &str, headers: &[(&str, &str)], body: Value) -> String {
    sims.runtime.block_on(async {
        let mut request = reqwest::Client::new().post(url).json(&body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.unwrap().error_for_status().unwrap().text().await.unwrap()
    })
}

fn get(sims: &Sims, url: &str, headers: &[(&str, &str)]) -> Value {
    sims.runtime.block_on(async {
        let mut request = reqwest::Client::new().get(url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.unwrap().error_for_status().unwrap().json().await.unwrap()
    })
}

#[test]
fn the_simulator_streams_the_reference_shapes() {
    let sims = Sims::new().add("sim", ProviderKind::Openai, latency(0));
    let base = format!("http://{}", sims.addr("sim"));
    let anthropic = post(
        &sims,
        &format!("{base}/v1/messages"),
        &[("anthropic-version", "2023-06-01")],
        json!({ "model": "claude-sonnet-4-5", "max_tokens": 64, "stream": true,
                "messages": [{ "role": "user", "content": "say hello" }] }),
    );
    check_stream(include_str!("../fixtures/ai/anthropic-stream.sse"), &anthropic);
    let openai = post(
        &sims,
        &format!("{base}/v1/chat/completions"),
        &[],
        json!({ "model": "gpt-4o-mini", "stream": true, "stream_options": { "include_usage": true },
                "messages": [{ "role": "user", "content": "say hello" }] }),
    );
    check_stream(include_str!("../fixtures/ai/openai-stream.sse"), &openai);
}

#[test]
fn a_stream_that_misses_a_field_fails_the_check() {
    let reference = include_str!("../fixtures/ai/anthropic-stream.sse");
    // The simulator's old message_start, without type, role and content.
    let old = reference.replacen(
        r#"{"type": "message_start", "message": {"id": "msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY", "type": "message", "role": "assistant", "content": [], "model""#,
        r#"{"type": "message_start", "message": {"id": "sim", "model""#,
        1,
    );
    assert_ne!(old, reference);
    let caught = std::panic::catch_unwind(|| check_stream(reference, &old));
    assert!(caught.is_err(), "a message_start without role and content passed");
}

#[test]
fn both_formats_list_their_models() {
    let sims = Sims::new().add("sim", ProviderKind::Openai, latency(0));
    let base = format!("http://{}", sims.addr("sim"));
    let openai = get(&sims, &format!("{base}/v1/models"), &[]);
    assert_eq!(openai["object"], "list");
    assert_eq!(openai["data"][0]["object"], "model");
    assert!(openai["data"][0]["id"].is_string() && openai["data"][0]["owned_by"].is_string());
    let anthropic = get(&sims, &format!("{base}/v1/models"), &[("anthropic-version", "2023-06-01")]);
    assert_eq!(anthropic["data"][0]["type"], "model");
    assert!(anthropic["data"][0]["display_name"].is_string() && anthropic["data"][0]["created_at"].is_string());
    assert_eq!(anthropic["has_more"], false);
}

/// The Python with the official `openai` and `anthropic` packages, which
/// `scripts/setup.sh` installs into the toolchain venv; the test fails
/// without them.
fn sdk_python() -> std::path::PathBuf {
    let python = std::path::Path::new(env!("ISAAC_TEST_TOOLS")).join("venv/bin/python");
    let found = std::process::Command::new(&python)
        .args(["-c", "import openai, anthropic"])
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        found,
        "{} has no openai and anthropic packages: run scripts/setup.sh, then the tests again",
        python.display()
    );
    python
}

#[test]
fn the_official_python_sdks_read_the_simulator() {
    let python = sdk_python();
    let sims = Sims::new().add("sim", ProviderKind::Openai, latency(0));
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ai/sdk_clients.py");
    let out =
        std::process::Command::new(python).arg(script).arg(format!("http://{}", sims.addr("sim"))).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();
    let text = |key: &str| got[key].as_str().unwrap_or_default().to_owned();
    assert!(!text("openai_whole").is_empty(), "{got}");
    assert_eq!(text("openai_stream"), text("openai_whole"), "the stream says what the whole answer says");
    assert_eq!(text("openai_finish"), "stop");
    assert_eq!(text("anthropic_stream"), text("anthropic_whole"));
    assert!(!text("anthropic_whole").is_empty());
    assert_eq!(text("anthropic_stop"), "end_turn");
    assert!(got["anthropic_output_tokens"].as_u64().unwrap() > 0, "{got}");
    for list in ["openai_models", "anthropic_models"] {
        assert!(!got[list].as_array().unwrap().is_empty(), "{got}");
    }
}
