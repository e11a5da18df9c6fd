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
