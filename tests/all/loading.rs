//! Loading: install, run, parallel vs sequential, the compiled-code cache,
//! lazy loading in `run`, re-indexing a changed plugin.

use isaac_host::RunOptions;
use isaac_host::registry::ResolveError;
use isaac_host::{Host, RunError};

use crate::support::{TestHome, dist, example_wasm, manifest, runtime};

fn args(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn installs_and_runs_the_example_plugins() {
    let home = TestHome::new();
    let host = home.host();
    let rt = runtime();
    let hello = rt.block_on(host.install(&dist("hello"), false)).unwrap();
    assert_eq!(hello.plugin.name, "hello");
    assert!(!hello.replaced);
    rt.block_on(host.install(&dist("wordcount"), false)).unwrap();

    assert_eq!(host.run("hello", &args(&["bars"]), &RunOptions::default()).unwrap(), "Hello, bars!");
    assert_eq!(host.run("hello", &[], &RunOptions::default()).unwrap(), "Hello, world!");
    assert_eq!(host.run("wordcount:wc", &args(&["one two", "three\nfour"]), &RunOptions::default()).unwrap(), "2 4 18");
    assert_eq!(host.run("echo", &args(&["-v", "--x", "y z"]), &RunOptions::default()).unwrap(), "-v --x y z");
}

#[test]
fn a_plugin_rejecting_its_arguments_is_a_usage_error() {
    let home = TestHome::new();
    let host = home.host();
    let rt = runtime();
    rt.block_on(host.install(&dist("primes"), false)).unwrap();
    let err = host.run("primes", &["many".to_owned()], &RunOptions::default()).unwrap_err();
    assert!(
        matches!(&err, RunError::Usage { plugin, command, .. } if plugin == "primes" && command == "primes"),
        "{err}"
    );
    assert_eq!(err.exit_code(), 2);
}

fn registry_of(host: &Host) -> Vec<(String, Vec<String>)> {
    let report = runtime().block_on(host.load_all(&|_| {})).unwrap();
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    report.registry.plugins().to_vec()
}

#[test]
fn parallel_and_sequential_loads_give_the_same_registry() {
    let (one, two) = (TestHome::new(), TestHome::new());
    one.plant_hellos(6);
    two.plant_hellos(6);
    let sequential = registry_of(&one.host_with_jobs(1));
    let parallel = registry_of(&two.host_with_jobs(2));
    assert_eq!(sequential.len(), 6);
    assert_eq!(sequential, parallel);
}

#[test]
fn a_warm_start_comes_from_the_compiled_cache() {
    let home = TestHome::new();
    home.plant_hellos(3);
    let rt = runtime();
    let cold = rt.block_on(home.host().load_all(&|_| {})).unwrap();
    assert!(cold.plugins.iter().all(|p| !p.from_cache));
    let warm = rt.block_on(home.host().load_all(&|_| {})).unwrap();
    assert_eq!(warm.plugins.len(), 3);
    assert!(warm.plugins.iter().all(|p| p.from_cache));
    // Deleting the compiled code makes the next load cold again.
    std::fs::remove_dir_all(home.path().join("compiled")).unwrap();
    std::fs::create_dir(home.path().join("compiled")).unwrap();
    let cold_again = rt.block_on(home.host().load_all(&|_| {})).unwrap();
    assert!(cold_again.plugins.iter().all(|p| !p.from_cache));
}

#[test]
fn run_compiles_only_the_plugin_it_runs() {
    let home = TestHome::new();
    home.plant_hellos(4);
    let rt = runtime();
    rt.block_on(home.host().load_all(&|_| {})).unwrap();
    let compiled = home.path().join("compiled");
    std::fs::remove_dir_all(&compiled).unwrap();
    std::fs::create_dir(&compiled).unwrap();
    let out = home.host().run("hello-2:hello", &args(&["x"]), &RunOptions::default()).unwrap();
    assert_eq!(out, "Hello, x!");
    assert_eq!(home.artifacts().len(), 1, "only hello-2 should have been compiled");
}

#[test]
fn a_changed_component_is_reindexed() {
    let home = TestHome::new();
    home.plant("tool", &manifest("tool", ""), "tool.wasm", &example_wasm("hello"));
    assert_eq!(home.host().run("hello", &[], &RunOptions::default()).unwrap(), "Hello, world!");
    // The plugin's component is replaced by another one, with other commands.
    home.plant("tool", &manifest("tool", ""), "tool.wasm", &example_wasm("wordcount"));
    let host = home.host();
    assert_eq!(host.run("wc", &args(&["a b"]), &RunOptions::default()).unwrap(), "1 2 3");
    let err = host.run("hello", &[], &RunOptions::default()).unwrap_err();
    assert!(matches!(err, RunError::Resolve { error: ResolveError::Unknown { .. }, .. }), "{err}");
}

#[test]
fn install_refuses_a_duplicate_unless_forced_and_remove_cleans_up() {
    let home = TestHome::new();
    let host = home.host();
    let rt = runtime();
    rt.block_on(host.install(&dist("hello"), false)).unwrap();
    let err = rt.block_on(host.install(&dist("hello"), false)).err().unwrap();
    assert!(err.to_string().contains("--force"), "{err}");
    let again = rt.block_on(host.install(&dist("hello"), true)).unwrap();
    assert!(again.replaced);
    assert_eq!(home.artifacts().len(), 1);

    host.remove("hello").unwrap();
    assert!(!home.path().join("plugins/hello").exists());
    assert!(home.artifacts().is_empty());
    let err = host.run("hello", &[], &RunOptions::default()).unwrap_err();
    assert_eq!(err.exit_code(), 2);
    assert!(host.remove("hello").unwrap_err().to_string().contains("not installed"));
}

#[test]
fn install_from_a_wasm_file_with_a_manifest_beside_it() {
    let home = TestHome::new();
    let host = home.host();
    let rt = runtime();
    let installed = rt.block_on(host.install(&dist("wordcount").join("wordcount.wasm"), false)).unwrap();
    assert_eq!(installed.plugin.name, "wordcount");
    assert_eq!(host.run("wc", &args(&["x"]), &RunOptions::default()).unwrap(), "1 1 1");
}

#[test]
fn install_warns_about_commands_another_plugin_offers() {
    let home = TestHome::new();
    let host = home.host();
    let rt = runtime();
    rt.block_on(host.install(&dist("hello"), false)).unwrap();
    let src = tempfile::tempdir().unwrap();
    std::fs::write(src.path().join("plugin.toml"), manifest("hola", "")).unwrap();
    std::fs::write(src.path().join("hola.wasm"), example_wasm("hello")).unwrap();
    let installed = rt.block_on(host.install(src.path(), false)).unwrap();
    assert_eq!(installed.shared_commands, vec!["hello".to_owned(), "echo".to_owned()]);
}
