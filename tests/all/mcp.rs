//! `isaac mcp`, driven by a real MCP client (the official Rust SDK's,
//! `rmcp`) over stdio and by raw HTTP requests over Streamable HTTP.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::{NotificationContext, RunningService};
use rmcp::transport::TokioChildProcess;
use rmcp::{ClientHandler, RoleClient, ServiceExt};
use serde_json::json;
use tokio::sync::Notify;

use crate::support::{TestHome, dist, example_wasm, fixture, manifest, runtime};

/// A client that counts `notifications/tools/list_changed`.
#[derive(Clone, Default)]
pub(crate) struct Client {
    changed: Arc<Notify>,
}

impl ClientHandler for Client {
    async fn on_tool_list_changed(&self, _context: NotificationContext<RoleClient>) {
        self.changed.notify_one();
    }
}

/// The spinning plugin's deadline (`home`): no call cuts it sooner.
const SPIN_DEADLINE: Duration = Duration::from_millis(1500);

fn home() -> TestHome {
    let home = TestHome::new();
    for name in ["hello", "wordcount"] {
        home.ok(&["plugins", "add", dist(name).to_str().unwrap()]);
    }
    let limits = format!("[limits]\ndeadline_ms = {}\n", SPIN_DEADLINE.as_millis());
    home.plant("misbehave", &manifest("misbehave", &limits), "misbehave.wasm", &fixture("misbehave"));
    home.grant("misbehave");
    home
}

pub(crate) async fn connect(home: &TestHome, client: Client) -> RunningService<RoleClient, Client> {
    let mut cmd = tokio::process::Command::from(home.isaac());
    cmd.arg("mcp").arg("-q");
    client.serve(TokioChildProcess::new(cmd).unwrap()).await.unwrap()
}

/// A server process, killed when dropped (also when a test fails).
pub(crate) struct Served(std::process::Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `isaac mcp --http` on a free loopback port: the server, its URL, and the
/// bearer token it printed (the one in its token file too).
pub(crate) fn serve_http(home: &TestHome) -> (Served, String, String) {
    let mut child =
        home.isaac().args(["mcp", "--http", "127.0.0.1:0"]).stderr(std::process::Stdio::piped()).spawn().unwrap();
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let child = Served(child);
    let mut line = String::new();
    std::io::BufRead::read_line(&mut stderr, &mut line).unwrap();
    let url = line.split_whitespace().find(|w| w.starts_with("http://")).unwrap_or_else(|| panic!("{line}")).to_owned();
    // The token file is written before the server says where it listens.
    let token = std::fs::read_to_string(home.path().join("mcp-token")).expect("the token file").trim().to_owned();
    line.clear();
    std::io::BufRead::read_line(&mut stderr, &mut line).unwrap();
    assert!(line.contains(&format!("Bearer {token}")), "the token is printed once: {line}");
    // Keep reading what the server says, so it never writes to a closed pipe.
    std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
    (child, url, token)
}

pub(crate) fn call(name: &str, args: &[&str]) -> CallToolRequestParams {
    let arguments = json!({ "args": args });
    CallToolRequestParams::new(name.to_owned()).with_arguments(arguments.as_object().unwrap().clone())
}

pub(crate) fn text(result: &CallToolResult) -> String {
    result.content.iter().filter_map(|c| c.as_text()).map(|t| t.text.as_str()).collect()
}

async fn names(service: &RunningService<RoleClient, Client>) -> Vec<String> {
    service.list_all_tools().await.unwrap().into_iter().map(|t| t.name.into_owned()).collect()
}

#[test]
fn lists_and_calls_plugin_commands_as_tools() {
    let home = home();
    runtime().block_on(async {
        let service = connect(&home, Client::default()).await;
        let info = service.peer_info().unwrap();
        assert_eq!(info.server_info.as_ref().unwrap().name, "isaac");

        let tools = service.list_all_tools().await.unwrap();
        let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
        assert_eq!(
            names,
            [
                "hello__echo",
                "hello__hello",
                "misbehave__crash",
                "misbehave__fail",
                "misbehave__grow",
                "misbehave__shout",
                "misbehave__spin",
                "wordcount__wc"
            ]
        );
        let wc = tools.iter().find(|t| t.name == "wordcount__wc").unwrap();
        assert!(wc.description.as_deref().unwrap().contains("Usage: wc [TEXT...]"), "{wc:?}");
        assert_eq!(wc.input_schema["properties"]["args"]["type"], "array");
        assert_eq!(wc.input_schema["properties"]["stdin"]["type"], "string", "a filter's tool takes stdin");

        let result = service.call_tool(call("wordcount__wc", &["one two"])).await.unwrap();
        assert_eq!((text(&result).as_str(), result.is_error), ("1 2 7", Some(false)));

        // A usage error is a tool error with isaac's message, not a protocol error.
        let result = service.call_tool(call("hello__hello", &["two", "names"])).await.unwrap();
        assert_eq!(result.is_error, Some(true));
        assert!(text(&result).starts_with("hello:hello: "), "{}", text(&result));

        // So is a trap.
        let result = service.call_tool(call("misbehave__crash", &[])).await.unwrap();
        assert_eq!(result.is_error, Some(true), "{}", text(&result));

        // Arguments that are not a list of strings: a tool error naming the tool.
        let bad = CallToolRequestParams::new("hello__hello")
            .with_arguments(json!({"args": [1]}).as_object().unwrap().clone());
        let result = service.call_tool(bad).await.unwrap();
        assert!(result.is_error == Some(true) && text(&result).contains("list of strings"), "{}", text(&result));

        // An unknown tool is a protocol error.
        let err = service.call_tool(call("nope__nothing", &[])).await.unwrap_err();
        assert!(err.to_string().contains("unknown tool `nope__nothing`"), "{err}");
        service.cancel().await.unwrap();
    });
}

/// Call `misbehave__spin`, and 200 ms later `wordcount__wc`: when each
/// answered, from the first call.
async fn spin_and_count(service: &RunningService<RoleClient, Client>) -> (Duration, Duration) {
    let start = Instant::now();
    let spin = async {
        let result = service.call_tool(call("misbehave__spin", &[])).await.unwrap();
        assert_eq!(result.is_error, Some(true));
        assert!(text(&result).contains("deadline"), "{}", text(&result));
        start.elapsed()
    };
    let wc = async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let result = service.call_tool(call("wordcount__wc", &["a b c"])).await.unwrap();
        assert_eq!(text(&result), "1 3 5");
        start.elapsed()
    };
    tokio::join!(spin, wc)
}

#[test]
fn a_looping_plugin_meets_its_deadline_while_other_calls_complete() {
    let home = home();
    runtime().block_on(async {
        let service = connect(&home, Client::default()).await;
        let (spin_done, wc_done) = spin_and_count(&service).await;
        // The short call did not wait for the loop to be cut.
        assert!(wc_done < spin_done, "wc answered at {wc_done:?}, the spin was cut at {spin_done:?}");
        // And the server is still there.
        assert_eq!(text(&service.call_tool(call("hello__hello", &["again"])).await.unwrap()), "Hello, again!");
        service.cancel().await.unwrap();
    });
    // One call at a time: the short call waits its turn.
    std::fs::write(home.path().join("config.toml"), "[mcp]\nmax_concurrent_calls = 1\n").unwrap();
    runtime().block_on(async {
        let service = connect(&home, Client::default()).await;
        // The short call ran only once the spin was cut near its deadline
        // (not at 0.2 s, as above). Which answer reaches the client first is
        // a race: the spin's permit is free before its answer is written.
        let (spin_done, wc_done) = spin_and_count(&service).await;
        assert!(wc_done > SPIN_DEADLINE / 2, "wc answered at {wc_done:?}, the spin was cut at {spin_done:?}");
        service.cancel().await.unwrap();
    });
}

#[test]
fn installs_and_removals_reach_a_connected_client() {
    let home = home();
    runtime().block_on(async {
        let client = Client::default();
        let changed = client.changed.clone();
        let service = connect(&home, client).await;
        assert!(!names(&service).await.contains(&"notes__notes".to_owned()));

        let isaac = home.isaac();
        let notes = dist("notes");
        let out =
            tokio::process::Command::from(isaac).args(["plugins", "add", "--yes"]).arg(&notes).output().await.unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        tokio::time::timeout(Duration::from_secs(60), changed.notified())
            .await
            .expect("no tools/list_changed after an install");
        let after = names(&service).await;
        assert!(after.iter().any(|n| n.starts_with("notes__")), "{after:?}");

        let out = tokio::process::Command::from(home.isaac())
            .args(["plugins", "remove", "wordcount"])
            .output()
            .await
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        tokio::time::timeout(Duration::from_secs(60), changed.notified())
            .await
            .expect("no tools/list_changed after a removal");
        assert!(!names(&service).await.contains(&"wordcount__wc".to_owned()));
        let err = service.call_tool(call("wordcount__wc", &["x"])).await.unwrap_err();
        assert!(err.to_string().contains("unknown tool"), "{err}");
        service.cancel().await.unwrap();
    });
}

#[test]
fn only_exposed_plugins_are_tools_and_an_ungranted_one_refuses_calls() {
    let home = home();
    // fetch asks for network access and is not granted.
    home.plant_ungranted("fetch");
    std::fs::write(home.path().join("config.toml"), "[mcp]\nexpose = [\"wordcount\", \"fetch\"]\n").unwrap();
    runtime().block_on(async {
        let service = connect(&home, Client::default()).await;
        let tools = service.list_all_tools().await.unwrap();
        let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
        assert_eq!(names, ["fetch__fetch", "wordcount__wc"]);
        let fetch = &tools[0];
        assert!(fetch.description.as_deref().unwrap().starts_with("[not runnable: "), "{fetch:?}");
        let result = service.call_tool(call("fetch__fetch", &["http://127.0.0.1:9/"])).await.unwrap();
        assert_eq!(result.is_error, Some(true));
        assert!(text(&result).contains("isaac plugins grant fetch"), "{}", text(&result));
        // Not exposed: not a tool at all.
        assert!(service.call_tool(call("hello__hello", &[])).await.is_err());
        service.cancel().await.unwrap();
    });
}

#[test]
fn streamable_http_serves_loopback_clients_and_no_web_page() {
    let home = home();
    let (server, url, token) = serve_http(&home);
    let initialize = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "test", "version": "1"}}});
    runtime().block_on(async {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::new();
        let post = |origin: Option<&str>| {
            let mut request = http
                .post(&url)
                .header("accept", "application/json, text/event-stream")
                .bearer_auth(&token)
                .json(&initialize);
            if let Some(origin) = origin {
                request = request.header("origin", origin);
            }
            request.send()
        };
        let mut answer = post(None).await.unwrap();
        assert_eq!(answer.status(), 200);
        // The answer is an event stream that stays open: read up to the result.
        let mut body = String::new();
        while !body.contains("\"serverInfo\"") {
            let chunk = tokio::time::timeout(Duration::from_secs(30), answer.chunk()).await.unwrap().unwrap();
            body.push_str(&String::from_utf8_lossy(&chunk.expect("the stream ended before the result")));
        }
        assert!(body.contains("\"name\":\"isaac\""), "{body}");
        // A page in a browser carries its origin: refused.
        let answer = post(Some("https://evil.example")).await.unwrap();
        assert_eq!(answer.status(), 403);
    });
    drop(server);

    let out = home.run(&["mcp", "--http", "0.0.0.0:8931"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("loopback only"));
}

#[test]
fn a_declared_input_schema_is_the_tools_and_its_arguments_arrive_as_json() {
    let home = TestHome::new();
    let tools = "[tools.echo]\ninput_schema = { type = \"object\", properties = { text = { type = \"string\" } }, required = [\"text\"] }\n";
    home.plant("hello", &manifest("hello", tools), "hello.wasm", &example_wasm("hello"));
    runtime().block_on(async {
        let service = connect(&home, Client::default()).await;
        let listed = service.list_all_tools().await.unwrap();
        let echo = listed.iter().find(|t| t.name == "hello__echo").unwrap();
        assert_eq!(echo.input_schema["required"], json!(["text"]), "{echo:?}");
        let hello = listed.iter().find(|t| t.name == "hello__hello").unwrap();
        assert!(hello.input_schema["properties"].get("args").is_some());
        let args = json!({ "text": "hi there" }).as_object().unwrap().clone();
        let result = service.call_tool(CallToolRequestParams::new("hello__echo").with_arguments(args)).await.unwrap();
        assert_eq!(text(&result), r#"{"text":"hi there"}"#);
        service.cancel().await.unwrap();
    });

    // A schema that is not an object's is refused where it is written.
    let bad = TestHome::new();
    let src = tempfile::tempdir().unwrap();
    let toml = manifest("hello", "[tools.echo]\ninput_schema = { type = \"string\" }\n");
    std::fs::write(src.path().join("plugin.toml"), toml).unwrap();
    std::fs::write(src.path().join("hello.wasm"), example_wasm("hello")).unwrap();
    let out = bad.run(&["plugins", "add", "--yes", src.path().to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("plugin.toml:")
            && stderr.contains("[tools.echo] `input_schema` must be a table with type = \"object\""),
        "{stderr}"
    );

    // A schema whose text would drive the client's terminal is refused too.
    let sneaky = "[tools.echo]\ninput_schema = { type = \"object\", description = \"ok\\u001b]0;pwned\\u0007\" }\n";
    std::fs::write(src.path().join("plugin.toml"), manifest("hello", sneaky)).unwrap();
    let out = bad.run(&["plugins", "add", "--yes", src.path().to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("control character") && !stderr.contains('\x1b'), "{stderr}");
    assert!(!bad.path().join("plugins/hello").exists());
}

#[test]
fn a_reload_neither_waits_for_calls_in_flight_nor_makes_calls_wait() {
    let home = TestHome::new();
    home.ok(&["plugins", "add", dist("wordcount").to_str().unwrap()]);
    let limits = "[limits]\ndeadline_ms = 8000\n";
    home.plant("misbehave", &manifest("misbehave", limits), "misbehave.wasm", &fixture("misbehave"));
    home.grant("misbehave");
    runtime().block_on(async {
        let client = Client::default();
        let changed = client.changed.clone();
        let service = connect(&home, client).await;
        let spin = async {
            let result = service.call_tool(call("misbehave__spin", &[])).await.unwrap();
            assert!(text(&result).contains("deadline"), "{}", text(&result));
            Instant::now()
        };
        let meanwhile = async {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let out = tokio::process::Command::from(home.isaac())
                .args(["plugins", "add", "--yes"])
                .arg(dist("hello"))
                .output()
                .await
                .unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            tokio::time::timeout(Duration::from_secs(60), changed.notified()).await.expect("no tools/list_changed");
            let listed = Instant::now();
            let result = service.call_tool(call("hello__hello", &["reloaded"])).await.unwrap();
            assert_eq!(text(&result), "Hello, reloaded!");
            (listed, Instant::now())
        };
        let (spin_done, (listed, answered)) = tokio::join!(spin, meanwhile);
        assert!(listed < spin_done, "the reload waited for the call in flight");
        assert!(answered < spin_done, "a new call waited for the call in flight");
        service.cancel().await.unwrap();
    });
}
