//! The hostile plugin behind `isaac mcp`: what it prints and says about
//! itself reaches the client sanitised, its attacks end as tool errors, and
//! the server keeps serving the other tools.

use crate::mcp::{Client, call, connect, text};
use crate::support::{TestHome, dist, distinct, fixture, manifest, runtime};

/// What a client could show that would drive a terminal.
fn has_controls(s: &str) -> bool {
    s.chars().any(|c| (c.is_control() && c != '\n' && c != '\t') || ('\u{202a}'..='\u{202e}').contains(&c))
}

#[test]
fn a_hostile_plugin_behind_mcp_reaches_the_client_sanitised_and_contained() {
    let home = TestHome::new();
    home.plant("hostile", &manifest("hostile", ""), "hostile.wasm", &distinct(&fixture("hostile"), 17));
    home.ok(&["plugins", "add", dist("wordcount").to_str().unwrap()]);
    runtime().block_on(async {
        let service = connect(&home, Client::default()).await;
        let tools = service.list_all_tools().await.unwrap();
        let ansi = tools.iter().find(|t| t.name == "hostile__ansi").expect("hostile__ansi listed");
        assert!(!has_controls(ansi.description.as_deref().unwrap()), "{ansi:?}");

        // Output and error text that would rewrite a terminal.
        let out = service.call_tool(call("hostile__ansi", &[])).await.unwrap();
        assert_eq!(out.is_error, Some(false));
        assert!(!has_controls(&text(&out)) && text(&out).contains("all permissions granted"), "{:?}", text(&out));
        let out = service.call_tool(call("hostile__fail-ansi", &[])).await.unwrap();
        assert_eq!(out.is_error, Some(true));
        assert!(!has_controls(&text(&out)) && text(&out).contains("forged"), "{:?}", text(&out));

        // Reaching outside the sandbox: tool errors, nothing read or written.
        let secret = home.path().join("secret.txt");
        std::fs::write(&secret, "hunter2").unwrap();
        for (tool, args) in [
            ("hostile__read", vec![secret.to_str().unwrap()]),
            ("hostile__write", vec![home.path().join("pwned").to_str().unwrap().to_owned().leak() as &str]),
            ("hostile__env", vec!["HOME"]),
            ("hostile__bomb", vec![]),
            ("hostile__big-return", vec![]),
        ] {
            let out = service.call_tool(call(tool, &args)).await.unwrap();
            assert_eq!(out.is_error, Some(true), "{tool}: {}", text(&out));
            assert!(!text(&out).contains("hunter2"), "{tool}: {}", text(&out));
        }
        assert!(!home.path().join("pwned").exists());

        // A client's tool name is echoed back without its controls.
        let err = service.call_tool(call("x\u{1b}]0;pwned\u{7}__y", &[])).await.unwrap_err().to_string();
        assert!(!has_controls(&err), "{err:?}");

        // The server still serves.
        let out = service.call_tool(call("wordcount__wc", &["still here"])).await.unwrap();
        assert_eq!(text(&out), "1 2 10");
        service.cancel().await.unwrap();
    });
}

#[test]
fn the_http_endpoint_runs_nothing_for_a_client_without_the_token() {
    use std::os::unix::fs::PermissionsExt;
    let home = TestHome::new();
    // A plugin with a visible effect: `note add` writes to its cache.
    home.ok(&["plugins", "add", dist("notes").to_str().unwrap(), "--yes"]);
    let (server, url, token) = crate::mcp::serve_http(&home);
    let mode = std::fs::metadata(home.path().join("mcp-token")).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "the token file is its owner's alone");
    let initialize = serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "other-user", "version": "1"}}});
    let call = serde_json::json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": {"name": "notes__note", "arguments": {"args": ["add", "planted by another user"]}}});
    runtime().block_on(async {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::new();
        let wrong = format!("{}x", &token[..token.len() - 1]);
        for auth in [None, Some(format!("Bearer {wrong}")), Some(format!("Basic {token}")), Some(token.clone())] {
            for body in [&initialize, &call] {
                let mut request = http.post(&url).header("accept", "application/json, text/event-stream").json(body);
                if let Some(auth) = &auth {
                    request = request.header("authorization", auth);
                }
                let answer = request.send().await.unwrap();
                assert_eq!(answer.status(), 401, "{auth:?}");
                assert!(answer.headers()["www-authenticate"].to_str().unwrap().starts_with("Bearer"));
            }
        }
        // Other paths are behind the token too.
        assert_eq!(http.get(url.replace("/mcp", "/")).send().await.unwrap().status(), 401);
    });
    drop(server);
    let notes = home.run(&["run", "note", "list"]);
    assert!(!String::from_utf8_lossy(&notes.stdout).contains("planted"), "nothing ran");
}
