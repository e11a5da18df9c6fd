//! The `isaac` binary: subcommands, global flags, exit codes, JSON output.

use crate::support::{TestHome, dist, example_wasm, manifest, text};

fn installed_home() -> TestHome {
    let home = TestHome::new();
    for name in ["hello", "wordcount"] {
        let out = home.run(&["plugins", "add", dist(name).to_str().unwrap()]);
        assert!(out.status.success(), "{}", text(&out).1);
        assert!(text(&out).0.starts_with(&format!("installed {name} 0.1.0")));
    }
    home
}

#[test]
fn run_prints_the_result_and_passes_every_argument_through() {
    let home = installed_home();
    let out = home.run(&["run", "wc", "one two", "three"]);
    assert_eq!((text(&out).0.as_str(), out.status.code()), ("1 3 13\n", Some(0)));
    // After COMMAND everything belongs to the plugin, isaac's own flags too.
    let out = home.run(&["run", "echo", "-v", "--json", "--home", "x", "--"]);
    assert_eq!(text(&out).0, "-v --json --home x --\n");
    // Before COMMAND they are isaac's.
    let out = home.run(&["run", "--json", "hello", "bars"]);
    let value: serde_json::Value = serde_json::from_str(&text(&out).0).unwrap();
    assert_eq!(value, serde_json::json!({ "command": "hello", "output": "Hello, bars!" }));
}

#[test]
fn usage_errors_exit_2_with_suggestions() {
    let home = installed_home();
    let out = home.run(&["run", "helo"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).1.contains("unknown command `helo`; did you mean `hello`?"), "{}", text(&out).1);
    let out = home.run(&["run", "hello", "a", "b"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).1.contains("hello:hello: usage: hello [NAME]"));
    assert_eq!(home.run(&["run"]).status.code(), Some(2));
    let out = home.run(&["--json", "run", "nope"]);
    let value: serde_json::Value = serde_json::from_str(&text(&out).0).unwrap();
    assert_eq!(value["exit_code"], 2);
}

#[test]
fn a_qualified_name_runs_its_plugin_as_it_is_now_and_bare_names_see_every_plugin() {
    let home = TestHome::new();
    home.plant("tool", &manifest("tool", ""), "tool.wasm", &example_wasm("hello"));
    home.plant("other", &manifest("other", ""), "other.wasm", &example_wasm("wordcount"));
    assert_eq!(home.ok(&["run", "tool:hello", "x"]), "Hello, x!\n");
    // The plugin changes under the same name: the next qualified run sees it.
    home.plant("tool", &manifest("tool", ""), "tool.wasm", &example_wasm("wordcount"));
    assert_eq!(home.ok(&["run", "tool:wc", "a b"]), "1 2 3\n");
    assert!(home.fails(&["run", "tool:hello", "x"]).contains("unknown command `tool:hello`"));
    // A bare name is decided by every plugin: two now offer `wc`.
    assert!(home.fails(&["run", "wc", "a"]).contains("offered by several plugins"));
    // A plugin removed: its qualified name is unknown, even though indexed.
    std::fs::remove_dir_all(home.path().join("plugins/other")).unwrap();
    assert!(home.fails(&["run", "other:wc", "a"]).contains("unknown command `other:wc`"));
    assert_eq!(home.ok(&["run", "wc", "a b"]), "1 2 3\n");
}

#[test]
fn plugins_list_json_has_the_documented_shape() {
    let home = installed_home();
    let out = home.run(&["plugins", "list", "--json"]);
    assert!(out.status.success());
    let list: serde_json::Value = serde_json::from_str(&text(&out).0).unwrap();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["name"], "hello");
    assert_eq!(list[0]["version"], "0.1.0");
    assert_eq!(list[0]["commands"], serde_json::json!(["hello", "echo"]));
    assert_eq!(list[0]["from_cache"], true, "compiled at install, so listed from the cache");
    assert_eq!(list[0]["loaded"], true);
    assert!(list[0]["load_ms"].as_f64().unwrap() >= 0.0);
    assert_eq!(list[1]["name"], "wordcount");

    // --jobs after the subcommand, and a cold load after the cache is gone.
    std::fs::remove_dir_all(home.path().join("compiled")).unwrap();
    let out = home.run(&["plugins", "list", "--jobs", "1", "--json"]);
    let list: serde_json::Value = serde_json::from_str(&text(&out).0).unwrap();
    assert!(list.as_array().unwrap().iter().all(|p| p["from_cache"] == false));
}

#[test]
fn plugins_info_add_force_and_remove() {
    let home = installed_home();
    let out = home.run(&["plugins", "info", "wordcount", "--json"]);
    let info: serde_json::Value = serde_json::from_str(&text(&out).0).unwrap();
    assert_eq!(info["commands"][0]["name"], "wc");
    assert_eq!(info["limits"]["memory_mb"], 64);
    assert_eq!(info["wit_version"], isaac_host::bindings::WIT_VERSION);
    let (stdout, _) = text(&home.run(&["plugins", "info", "hello"]));
    assert!(stdout.contains("usage: hello [NAME]") && stdout.contains("16 MiB"), "{stdout}");

    let out = home.run(&["plugins", "add", dist("hello").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).1.contains("already installed; add --force"));
    let out = home.run(&["plugins", "add", "--force", dist("hello").to_str().unwrap()]);
    assert!(text(&out).0.starts_with("replaced hello"));

    assert!(home.run(&["plugins", "remove", "hello"]).status.success());
    let out = home.run(&["plugins", "remove", "hello"]);
    assert!(text(&out).1.contains("plugin `hello` is not installed"));
    assert_eq!(home.run(&["plugins", "info", "hello"]).status.code(), Some(2));
}

#[test]
fn a_bad_config_file_names_file_and_line() {
    let home = installed_home();
    let config = home.path().join("custom.toml");
    std::fs::write(&config, "[limits]\nmemory_mb = 64\nspeed = 3\n").unwrap();
    let out = home.run(&["run", "--config", config.to_str().unwrap(), "hello"]);
    assert_eq!(out.status.code(), Some(1));
    let (_, stderr) = text(&out);
    assert!(stderr.contains("custom.toml:3:1: unknown field `speed`"), "{stderr}");
    let out = home.run(&["run", "--config", "/nonexistent/isaac.toml", "hello"]);
    assert!(text(&out).1.contains("/nonexistent/isaac.toml: cannot read"), "{}", text(&out).1);
}

#[test]
fn a_closed_stdout_is_not_an_error() {
    let home = installed_home();
    let mut child = home
        .isaac()
        .args(["run", "hello"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
}

#[test]
fn without_room_for_the_pool_the_engine_falls_back_to_on_demand() {
    let home = installed_home();
    // 16 GB of address space: enough for LMDB's map, not for the instance pool.
    let script = format!("ulimit -v 16000000; exec '{}' -vv plugins list", crate::support::isaac_bin().display());
    let out = std::process::Command::new("sh").args(["-c", &script]).env("ISAAC_HOME", home.path()).output().unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("pooling allocator unavailable"), "{stderr}");
    assert!(stdout.contains("hello") && stdout.contains("wordcount"), "{stdout}");
}
