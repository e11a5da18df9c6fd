//! Broken plugins are each reported by name with a clear error, and skipped:
//! the others load and run, and the host never panics.

use isaac_host::RunOptions;
use isaac_host::error::{Source, one_line};
use isaac_host::{InstallError, LoadError, PluginFailure};

use crate::support::{TestHome, example_wasm, fixture, manifest, runtime, text};

/// A home with hello and one plugin of every broken kind.
fn broken_home() -> TestHome {
    let home = TestHome::new();
    let hello = example_wasm("hello");
    home.plant("hello", &manifest("hello", ""), "hello.wasm", &hello);
    home.plant("not-wasm", &manifest("not-wasm", ""), "not-wasm.wasm", b"#!/bin/sh\necho not wasm\n");
    home.plant("truncated", &manifest("truncated", ""), "truncated.wasm", &hello[..hello.len() / 2]);
    home.plant("core-module", &manifest("core-module", ""), "core-module.wasm", b"\0asm\x01\0\0\0");
    home.plant("no-run", &manifest("no-run", ""), "no-run.wasm", &fixture("no-run"));
    home.plant("metadata-trap", &manifest("metadata-trap", ""), "metadata-trap.wasm", &fixture("metadata-trap"));
    home.plant("future-wit", &manifest("future-wit", ""), "future-wit.wasm", &fixture("future-wit"));
    home.plant("bad-manifest", "name = \"bad-manifest\"\nversion = \"1\"\ncolor = \"blue\"\n", "x.wasm", &hello);
    home.plant("misnamed", &manifest("other-name", ""), "other-name.wasm", &hello);
    home.plant("no-component", &manifest("no-component", ""), "elsewhere.wasm", &hello);
    home
}

/// Each broken plugin and a fragment its error must contain.
const EXPECTED: &[(&str, &str)] = &[
    ("bad-manifest", "plugin.toml:3:1: unknown field `color`"),
    ("core-module", "is a core WebAssembly module, not a component"),
    ("future-wit", "built against isaac:plugin@0.9.0, but this isaac supports isaac:plugin@0.3.0, 0.2.0 and 0.1.0"),
    ("metadata-trap", "calling its `metadata` export failed: plugin `metadata-trap` crashed"),
    ("misnamed", "holds plugin `other-name`; an installed plugin's folder must be named after it"),
    ("no-component", "cannot read"),
    ("no-run", "does not implement the isaac:plugin/plugin@0.1.0 world"),
    ("not-wasm", "is not a WebAssembly file"),
    ("truncated", "is not a valid component"),
];

fn assert_reported(failures: &[PluginFailure]) {
    let mut names: Vec<&str> = failures.iter().map(|f| f.plugin.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, EXPECTED.iter().map(|(n, _)| *n).collect::<Vec<_>>());
    for (name, fragment) in EXPECTED {
        let failure = failures.iter().find(|f| f.plugin == *name).unwrap();
        let message = one_line(failure);
        assert!(message.contains(fragment), "{name}: {message}");
        assert!(message.starts_with(&format!("plugin `{name}` is not loaded")), "{message}");
    }
}

#[test]
fn every_broken_plugin_is_reported_and_the_rest_load() {
    let home = broken_home();
    let rt = runtime();
    let report = rt.block_on(home.host().load_all(&|_| {})).unwrap();
    assert_eq!(report.plugins.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["hello"]);
    assert_reported(&report.failures);
    assert!(
        report
            .failures
            .iter()
            .any(|f| matches!(f.error, LoadError::IncompatibleWit { ref found, .. } if found == "0.9.0"))
    );

    // A second load reads the failures from the index and says the same,
    // each the same kind of error.
    let catalog = rt.block_on(home.host().catalog()).unwrap();
    assert_reported(&catalog.failures);
    let stored = catalog.failures.iter().find(|f| f.plugin == "future-wit").unwrap();
    assert!(matches!(stored.error, LoadError::IncompatibleWit { ref found, .. } if found == "0.9.0"), "{stored:?}");
    assert_eq!(home.host().run("hello", &[], &RunOptions::default()).unwrap(), "Hello, world!");
}

#[test]
fn the_cli_lists_broken_plugins_and_still_runs_the_good_one() {
    let home = broken_home();
    let out = home.run(&["plugins", "list", "--json"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let list: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), EXPECTED.len() + 1);
    for (name, fragment) in EXPECTED {
        let item = list.iter().find(|p| p["name"] == *name).unwrap();
        assert_eq!(item["loaded"], false);
        assert!(item["error"].as_str().unwrap().contains(fragment), "{item}");
        assert!(stderr.contains(&format!("plugin `{name}` is not loaded")), "{stderr}");
    }
    assert!(!stderr.contains("panicked"), "{stderr}");

    let out = home.run(&["run", "hello", "again"]);
    assert_eq!(text(&out).0, "Hello, again!\n");
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn an_unknown_command_mentions_plugins_that_failed_to_load() {
    let home = broken_home();
    let out = home.run(&["run", "nosuchcommand"]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr.contains("unknown command `nosuchcommand`"), "{stderr}");
    assert!(stderr.contains("9 plugin(s) failed to load"), "{stderr}");
}

#[test]
fn install_refuses_a_broken_plugin_and_installs_nothing() {
    let home = TestHome::new();
    let src = tempfile::tempdir().unwrap();
    std::fs::write(src.path().join("plugin.toml"), manifest("trap", "")).unwrap();
    std::fs::write(src.path().join("trap.wasm"), fixture("metadata-trap")).unwrap();
    let out = home.run(&["plugins", "add", src.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).1.contains("plugin `trap` is not loaded: calling its `metadata` export failed"),
        "{}",
        text(&out).1
    );
    assert!(!home.path().join("plugins/trap").exists());
}

#[test]
fn two_plugins_claiming_one_command_are_ambiguous() {
    let home = TestHome::new();
    let hello = example_wasm("hello");
    home.plant("hello", &manifest("hello", ""), "hello.wasm", &hello);
    home.plant("hello-two", &manifest("hello-two", ""), "hello-two.wasm", &crate::support::distinct(&hello, 2));
    let out = home.run(&["run", "hello"]);
    assert_eq!(out.status.code(), Some(2));
    let (_, stderr) = text(&out);
    assert!(
        stderr.contains("command `hello` is offered by several plugins; run one of: hello:hello, hello-two:hello"),
        "{stderr}"
    );
    let out = home.run(&["run", "hello-two:hello", "two"]);
    assert_eq!(text(&out).0, "Hello, two!\n");
}

#[test]
fn a_failed_install_keeps_its_causes_as_a_chain() {
    let home = TestHome::new();
    let src = tempfile::tempdir().unwrap();
    let gone = src.path().join("gone.wasm");
    std::fs::write(src.path().join("plugin.toml"), manifest("gone", "")).unwrap();

    // Through the library: three levels, each its own type, each saying
    // only its own part.
    let Err(error) = runtime().block_on(home.host().install(src.path(), false)) else { panic!("installed") };
    let levels: Vec<&(dyn std::error::Error + 'static)> = isaac_host::error::chain(&error).collect();
    assert_eq!(levels.len(), 3, "{error:?}");
    let plugin = src.path().file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        matches!(levels[0].downcast_ref(), Some(InstallError::Invalid(PluginFailure { plugin: p, .. })) if *p == plugin)
    );
    assert_eq!(levels[0].to_string(), format!("plugin `{plugin}` is not loaded"));
    assert!(matches!(levels[1].downcast_ref(), Some(LoadError::Io { path, .. }) if *path == gone));
    assert_eq!(levels[1].to_string(), format!("cannot read {}", gone.display()));
    let io = Source::peel(levels[2]).downcast_ref::<std::io::Error>().expect("the OS's error");
    assert_eq!(io.kind(), std::io::ErrorKind::NotFound);
    assert_eq!(levels[2].to_string(), io.to_string());

    // Through the binary: the chain on one line, each part once.
    let out = home.run(&["plugins", "add", src.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let expected = format!("error: plugin `{plugin}` is not loaded: cannot read {}: {io}\n", gone.display());
    assert_eq!(text(&out).1, expected);
}
