//! Shared by the integration tests and the benchmarks: where the built guest
//! components are, temporary isaac homes, and the `isaac` binary.
#![allow(dead_code)]

use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use isaac_host::settings::Flags;
use isaac_host::{Host, Settings};

pub mod recorder;
pub mod redis;
pub mod registry;

/// The folder of the example plugin `name`, as `example-plugins/build.sh`
/// built it for this test run.
pub fn dist(name: &str) -> PathBuf {
    Path::new(env!("ISAAC_TEST_DIST")).join(name)
}

/// Example plugin `name`, written in `lang` (`rust`, `python`, `js`, `c`,
/// `go`, ...), which must have been built: a language whose toolchain was
/// missing at build time fails the test that needs it, with build.sh's
/// reason and the command that installs it.
pub fn require_example(name: &str, lang: &str) {
    if dist(name).join("plugin.toml").exists() {
        return;
    }
    let skipped = std::fs::read_to_string(dist("SKIPPED")).unwrap_or_default();
    let why = skipped.lines().find_map(|l| l.strip_prefix(&format!("{lang}: "))).unwrap_or("not built");
    panic!("example plugin {name} ({lang}) was not built: {why}; run scripts/setup.sh, then the tests again");
}

/// The component of the broken fixture plugin `name` (tests/fixtures/plugins).
pub fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("ISAAC_TEST_FIXTURES")).join(format!("{}.wasm", name.replace('-', "_")));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The bytes of an example plugin's component.
pub fn example_wasm(name: &str) -> Vec<u8> {
    std::fs::read(dist(name).join(format!("{name}.wasm"))).unwrap()
}

/// `wasm` with a custom section appended that makes it a distinct component
/// (another sha256, so another compile) with the same behaviour.
pub use isaac_host::testing::distinct;

/// A `plugin.toml` for a plugin `name` whose component is `NAME.wasm`.
pub fn manifest(name: &str, extra: &str) -> String {
    format!(
        "name = \"{name}\"\nversion = \"0.1.0\"\ndescription = \"test plugin\"\ncomponent = \"{name}.wasm\"\n{extra}"
    )
}

/// A temporary isaac home.
pub struct TestHome {
    dir: tempfile::TempDir,
}

impl TestHome {
    pub fn new() -> Self {
        TestHome { dir: tempfile::tempdir().unwrap() }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn settings(&self) -> Settings {
        Settings::for_home(self.path(), isaac_host::CONFIG_SECTIONS).unwrap()
    }

    pub fn host(&self) -> Host {
        Host::open(&self.settings()).unwrap()
    }

    pub fn host_with_jobs(&self, jobs: usize) -> Host {
        let flags = Flags { home: Some(self.path().to_owned()), jobs: NonZeroUsize::new(jobs), ..Flags::default() };
        Host::open(&Settings::resolve(&flags, &[][..], isaac_host::CONFIG_SECTIONS).unwrap()).unwrap()
    }

    /// Put a plugin folder straight into `plugins/` (as a user copying files
    /// by hand would), bypassing `isaac plugins add` and its checks.
    pub fn plant(&self, folder: &str, manifest: &str, wasm_name: &str, wasm: &[u8]) -> PathBuf {
        let dir = self.path().join("plugins").join(folder);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("plugin.toml"), manifest).unwrap();
        std::fs::write(dir.join(wasm_name), wasm).unwrap();
        dir
    }

    /// Plant example plugin `name` as build.sh built it, without granting
    /// what it asks for.
    pub fn plant_ungranted(&self, name: &str) -> PathBuf {
        let manifest = std::fs::read_to_string(dist(name).join("plugin.toml")).unwrap();
        let wasm = std::fs::read(dist(name).join(format!("{name}.wasm"))).unwrap();
        self.plant(name, &manifest, &format!("{name}.wasm"), &wasm)
    }

    /// Grant planted plugin `name` what it asks for (`isaac plugins grant NAME --yes`).
    pub fn grant(&self, name: &str) {
        let out = self.run(&["plugins", "grant", name, "--yes"]);
        assert!(out.status.success(), "granting {name}: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// Plant `n` distinct copies of the hello plugin, `hello-0` ...
    pub fn plant_hellos(&self, n: usize) {
        let wasm = example_wasm("hello");
        for i in 0..n {
            let name = format!("hello-{i}");
            self.plant(&name, &manifest(&name, ""), &format!("{name}.wasm"), &distinct(&wasm, i));
        }
    }

    /// The compiled-code artifacts (`compiled/*.cwasm`) of this home.
    pub fn artifacts(&self) -> Vec<PathBuf> {
        let mut out: Vec<PathBuf> = std::fs::read_dir(self.path().join("compiled"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "cwasm"))
            .collect();
        out.sort();
        out
    }

    /// The `isaac` binary with `--home` set to this home.
    pub fn isaac(&self) -> Command {
        let mut cmd = Command::new(isaac_bin());
        // Compiled in the foreground: no background optimiser outlives a test
        // (tests/all/tiers.rs turns tiering on where it is the subject).
        cmd.env_remove("ISAAC_CONFIG").env_remove("ISAAC_JOBS").env("ISAAC_HOME", self.path()).env("ISAAC_TIERED", "0");
        cmd
    }

    /// `isaac ARGS` as a python3 running `script` (which ends by exec'ing
    /// `sys.argv[1:]`) starts it: the same binary and environment as
    /// [`Self::isaac`], from a parent the script prepares.
    pub fn isaac_from_python(&self, script: &str, args: &[&str]) -> Command {
        let isaac = self.isaac();
        let mut cmd = Command::new("python3");
        cmd.args(["-c", script]).arg(isaac.get_program()).args(args);
        for (name, value) in isaac.get_envs() {
            match value {
                Some(value) => cmd.env(name, value),
                None => cmd.env_remove(name),
            };
        }
        cmd
    }

    /// Run `isaac ARGS` and return its output.
    pub fn run(&self, args: &[&str]) -> Output {
        self.isaac().args(args).output().unwrap()
    }

    /// Run `isaac ARGS`, which must succeed and print JSON, and return it.
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let stdout = self.ok(args);
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("isaac {args:?}: {e}: {stdout}"))
    }

    /// Run `isaac ARGS`, which must fail, and return its stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let (_, stderr) = text(&out);
        assert!(!out.status.success(), "isaac {args:?} succeeded: {stderr}");
        stderr
    }

    /// Run `isaac ARGS`, which must succeed, and return its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let (stdout, stderr) = text(&out);
        assert!(out.status.success(), "isaac {args:?} failed: {stderr}");
        stdout
    }
}

/// The `isaac` binary of this build: `cargo test --workspace` builds it
/// beside the test executables (the host crate's own tests need it).
pub fn isaac_bin() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(Path::parent).unwrap();
    let bin = profile_dir.join(format!("isaac{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.is_file(),
        "{} is not built: run the tests with `cargo test --workspace` (or `cargo build -p isaac-host` first)",
        bin.display()
    );
    bin
}

/// stdout and stderr of a finished process as text.
pub fn text(output: &Output) -> (String, String) {
    (String::from_utf8_lossy(&output.stdout).into_owned(), String::from_utf8_lossy(&output.stderr).into_owned())
}

/// A single-threaded runtime, as `isaac` uses.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

/// Fail the test unless the server `command` (Debian's package of that
/// name, installed by `scripts/setup.sh`) can be run here.
pub fn require_server(command: &str) {
    let found = std::process::Command::new("sh")
        .args(["-c", &format!("command -v {command}")])
        .stdout(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        found,
        "{command} is not installed: run scripts/setup.sh (apt-get install {command}), then the tests again"
    );
}

/// A free loopback port (nothing listens on it once this returns).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Wait until something accepts connections on loopback `port`.
pub fn wait_for_port(port: u16, what: &str) {
    let start = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(start.elapsed() < std::time::Duration::from_secs(20), "{what} did not listen on port {port}");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}
