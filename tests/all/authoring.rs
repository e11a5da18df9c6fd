//! `isaac new` and `isaac dev` through the real binary: a new plugin in
//! every language builds with its own build.sh and runs; `dev` rebuilds on a
//! save and keeps the last working install when a build breaks.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::support::{TestHome, require_example};

/// (language, the example whose toolchain it shares)
const LANGS: [(&str, &str); 8] = [
    ("rust", "greet-rs"),
    ("python", "greet-py"),
    ("js", "greet-js"),
    ("c", "greet-c"),
    ("go", "greet-go"),
    ("zig", "greet-zig"),
    ("cpp", "greet-cpp"),
    ("assemblyscript", "greet-as"),
];

/// Where new Rust plugins build: one folder for every test run, so their
/// dependencies compile once.
fn cargo_target() -> PathBuf {
    let base = std::env::var_os("CARGO_TARGET_DIR").map_or_else(std::env::temp_dir, PathBuf::from);
    base.join("new-plugins")
}

/// `isaac new NAME --lang LANG --dir DIR EXTRA...`, which must succeed.
fn new(home: &TestHome, dir: &Path, name: &str, lang: &str, extra: &[&str]) {
    let out = home
        .isaac()
        .env("CARGO_TARGET_DIR", cargo_target())
        .args(["new", name, "--lang", lang, "--dir"])
        .arg(dir)
        .args(extra)
        .output()
        .unwrap();
    let (stdout, stderr) = crate::support::text(&out);
    assert!(out.status.success(), "isaac new {name} --lang {lang}: {stdout}{stderr}");
}

#[test]
fn new_plugins_build_and_run_in_every_language() {
    for (lang, example) in LANGS {
        require_example(example, lang);
        let work = tempfile::tempdir().unwrap();
        let home = TestHome::new();
        let name = format!("hi-{lang}");
        new(&home, work.path(), &name, lang, &[]);
        let dist = work.path().join(&name).join("dist");
        assert!(dist.join(format!("{name}.wasm")).is_file(), "{lang}: built into dist/");
        for file in ["plugin.toml", "build.sh", "README.md", "wit/world.wit"] {
            assert!(work.path().join(&name).join(file).is_file(), "{lang}: {file}");
        }
        home.ok(&["plugins", "add", "--yes", dist.to_str().unwrap()]);
        assert_eq!(home.ok(&["run", &name, "you"]), "Hello, you! (visit #1)\n", "{lang}");
        assert_eq!(home.ok(&["run", &name, "you"]), "Hello, you! (visit #2)\n", "{lang}: counted in the cache");
    }
}

/// (language, the example command it is made from)
const COMMAND_LANGS: [(&str, &str); 2] = [("rust", "upper"), ("c", "rot13")];

/// Run the command component `wasm` as `wasmtime run` does (the WASI 0.2
/// command world, nothing granted): `argv`, `stdin`; its exit status and stdout.
fn run_wasi_command(wasm: &Path, argv: &[&str], stdin: &str) -> (i32, String) {
    use wasmtime::component::{Component, Linker, ResourceTable};
    use wasmtime_wasi::p2::pipe::{MemoryInputPipe, MemoryOutputPipe};
    use wasmtime_wasi::{I32Exit, WasiCtx, WasiCtxView, WasiView};
    struct State(WasiCtx, ResourceTable);
    impl WasiView for State {
        fn ctx(&mut self) -> WasiCtxView<'_> {
            WasiCtxView { ctx: &mut self.0, table: &mut self.1 }
        }
    }
    let engine = wasmtime::Engine::default();
    let component = Component::from_file(&engine, wasm).unwrap();
    let mut linker = Linker::new(&engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker).unwrap();
    let stdout = MemoryOutputPipe::new(1 << 20);
    let ctx =
        WasiCtx::builder().args(argv).stdin(MemoryInputPipe::new(stdin.to_owned())).stdout(stdout.clone()).build();
    let mut store = wasmtime::Store::new(&engine, State(ctx, ResourceTable::new()));
    let command = wasmtime_wasi::p2::bindings::sync::Command::instantiate(&mut store, &component, &linker).unwrap();
    let status = match command.wasi_cli_run().call_run(&mut store) {
        Ok(result) => i32::from(result.is_err()),
        Err(e) => e.downcast_ref::<I32Exit>().unwrap_or_else(|| panic!("{}: {e:?}", wasm.display())).0,
    };
    drop(store);
    (status, String::from_utf8(stdout.contents().to_vec()).unwrap())
}

#[test]
fn new_commands_build_plain_wasi_commands_in_rust_and_c() {
    let (work, home) = (tempfile::tempdir().unwrap(), TestHome::new());
    for (lang, example) in COMMAND_LANGS {
        require_example(example, lang);
        let name = format!("cmd-{lang}");
        new(&home, work.path(), &name, lang, &["--command"]);
        let folder = work.path().join(&name);
        assert!(["build.sh", "toolchains.sh", "README.md"].iter().all(|f| folder.join(f).is_file()), "{lang}");
        let dist = folder.join("dist");
        let manifest = std::fs::read_to_string(dist.join("plugin.toml")).unwrap();
        assert!(manifest.contains("kind = \"command\""), "{lang}: {manifest}");
        assert!(manifest.contains(&format!("[commands.{name}]")), "{lang}: {manifest}");
        // A plain WASI command: it runs as `wasmtime run` runs it.
        let wasm = dist.join(format!("{name}.wasm"));
        match lang {
            "rust" => {
                assert_eq!(run_wasi_command(&wasm, &[&name], "hello\nworld\n"), (0, "HELLO\nWORLD\n".into()));
                assert_eq!(run_wasi_command(&wasm, &[&name, "--lower"], "Hello\n"), (0, "hello\n".into()));
                // Its status 2 for a bad option: WASI 0.2's `exit` says failure, 1.
                assert_eq!(run_wasi_command(&wasm, &[&name, "--bogus"], ""), (1, String::new()));
            }
            _ => {
                assert_eq!(run_wasi_command(&wasm, &[&name], "hello\n"), (0, "uryyb\n".into()));
                // A status of its own, through `exit-with-code`.
                assert_eq!(run_wasi_command(&wasm, &[&name, "-e", "3", "hi", "there"], ""), (3, "uv gurer\n".into()));
                assert_eq!(run_wasi_command(&wasm, &[&name, "-x"], ""), (2, String::new()));
            }
        }
    }
    // Only Rust and C have a command template.
    let err = home.fails(&["new", "x", "--lang", "python", "--command", "--dir", work.path().to_str().unwrap()]);
    assert!(err.contains("--command") && err.contains("rust or c"), "{err}");
}

#[test]
fn new_refuses_bad_names_and_existing_folders_and_names_missing_toolchains() {
    let work = tempfile::tempdir().unwrap();
    let home = TestHome::new();
    let err = home.fails(&["new", "Bad_Name", "--lang", "rust", "--dir", work.path().to_str().unwrap()]);
    assert!(err.contains("plugin name"), "{err}");
    new(&home, work.path(), "twice", "python", &["--no-build"]);
    let err = home.fails(&["new", "twice", "--lang", "python", "--dir", work.path().to_str().unwrap()]);
    assert!(err.contains("exists"), "{err}");
    // A toolchain cache without componentize-py: the build names the
    // command that installs it, and the folder stays for later.
    let empty_tools = tempfile::tempdir().unwrap();
    let out = home
        .isaac()
        .env("ISAAC_TOOLS", empty_tools.path())
        .args(["new", "later", "--lang", "python", "--dir"])
        .arg(work.path())
        .output()
        .unwrap();
    let (_, stderr) = crate::support::text(&out);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("componentize-py") && stderr.contains("pip install"), "{stderr}");
    assert!(stderr.contains("--install"), "{stderr}");
    assert!(work.path().join("later/plugin.toml").is_file());
}

/// `command` started with its stdout and stderr on one pipe, and the lines
/// of that pipe as they come, in the order they were written (two pipes
/// read by two threads could deliver a line of one after a later line of
/// the other).
fn spawn_with_lines(command: &mut Command) -> (Child, mpsc::Receiver<String>) {
    let (reader, writer) = std::io::pipe().unwrap();
    let child = command.stdout(writer.try_clone().unwrap()).stderr(writer).spawn().unwrap();
    // The command's copies of the write end close here, so the pipe ends
    // when the child's do.
    command.stdout(Stdio::null()).stderr(Stdio::null());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || BufReader::new(reader).lines().map_while(Result::ok).for_each(|l| drop(tx.send(l))));
    (child, rx)
}

/// Wait for a line containing `wanted`, at most `within`; the lines before it.
fn wait_for(rx: &mpsc::Receiver<String>, wanted: &str, within: Duration) -> Vec<String> {
    let start = Instant::now();
    let mut seen = Vec::new();
    while let Some(left) = within.checked_sub(start.elapsed()) {
        match rx.recv_timeout(left) {
            Ok(line) if line.contains(wanted) => return seen,
            Ok(line) => seen.push(line),
            Err(_) => break,
        }
    }
    panic!("no line with {wanted:?} within {within:?}; saw:\n{}", seen.join("\n"));
}

#[test]
fn dev_rebuilds_on_save_and_keeps_the_last_working_install() {
    require_example("greet-py", "python");
    let work = tempfile::tempdir().unwrap();
    let home = TestHome::new();
    new(&home, work.path(), "hi-dev", "python", &["--no-build"]);
    let folder = work.path().join("hi-dev");
    // Tiered, as a user's `isaac dev` is: each rebuilt Python plugin runs on
    // Winch code at once (a Cranelift compile of it alone took over 20 s on
    // this 2-core machine under load).
    // -vv: `dev` says which changes it saw and built nothing for.
    let (mut child, rx) = spawn_with_lines(
        home.isaac().env("ISAAC_TIERED", "1").args(["-vv", "dev", "--yes"]).arg(&folder).args(["--", "hi-dev", "you"]),
    );
    wait_for(&rx, "Hello, you! (visit #1)", Duration::from_secs(120));
    wait_for(&rx, "watching", Duration::from_secs(10));

    let app = folder.join("app.py");
    let source = std::fs::read_to_string(&app).unwrap();
    std::fs::write(&app, source.replace("Hello, ", "Howdy, ")).unwrap();
    wait_for(&rx, "Howdy, you! (visit #2)", Duration::from_secs(60));

    // A broken edit: the build fails, the last working install stays.
    std::fs::write(&app, "def broken(:\n").unwrap();
    wait_for(&rx, "the last working install stays", Duration::from_secs(60));
    assert_eq!(home.ok(&["run", "hi-dev", "you"]), "Howdy, you! (visit #3)\n");
    // Build outputs are not edits: `dev` sees a write into dist/ and starts
    // no build for it.
    std::fs::write(folder.join("dist/noise.txt"), "x").unwrap();
    let before = wait_for(&rx, "no build: dist/noise.txt is a build output", Duration::from_secs(60));
    let _ = child.kill();
    let _ = child.wait();
    let after: Vec<String> = before.into_iter().chain(rx.try_iter()).collect();
    assert!(!after.iter().any(|l| l.contains("building")), "{after:?}");
}
