//! WASI p2, which every Rust `wasm32-wasip2` guest imports: its host side
//! comes from wasmtime-wasi and is linked for every plugin; what a call's
//! context reaches is decided here, from the plugin's grant (and a one-run
//! `--allow-read`). No sockets, no arguments, no environment but the named
//! variables. A filter's stdio is the call's pipes ([`crate::pipes`]); an
//! older plugin's prints are captured, capped, and shown only when granted.

use wasmtime::component::Linker;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder, WasiView};

use super::GrantInputs;
use crate::dirs::DirIdentity;
use crate::error::Source;
use crate::grants::{self, Covers, Protected};
use crate::manifest::Permissions;
use crate::pipes::Pipes;
use crate::terminal::{self, Lines};

pub use crate::pipes::MAX_PRINT_BYTES;

/// What a call's WASI context grants. The default grants nothing.
#[derive(Debug, Clone, Default)]
pub struct WasiGrant {
    /// Granted directories, each opened and checked at every call.
    pub dirs: Vec<WasiDir>,
    /// What no directory may cover (checked at every call).
    pub protected: Protected,
    /// Environment variables.
    pub env: Vec<(String, String)>,
    /// Whether what the plugin prints reaches the terminal (on stderr).
    pub stdout: bool,
    /// Whether file operations run on the calling thread
    /// ([`Settings::blocking_files`](crate::settings::Settings::blocking_files)).
    pub blocking_files: bool,
}

/// One granted directory of a call.
#[derive(Debug, Clone)]
pub struct WasiDir {
    /// The directory as granted: canonical path and identity.
    pub identity: DirIdentity,
    /// Where the guest sees it.
    pub guest: String,
    /// Read-write (else read-only).
    pub write: bool,
}

impl WasiGrant {
    /// The granted directories (a run adds its `--allow-read` ones), the
    /// named variables' values now, and whether prints are shown.
    pub fn decide(inputs: &GrantInputs<'_>) -> Self {
        let granted = inputs.granted;
        let dirs: Vec<WasiDir> = inputs
            .dirs
            .iter()
            .map(|d| WasiDir {
                guest: grants::expand(&d.asked, inputs.settings.user_home()).display().to_string(),
                identity: d.identity.clone(),
                write: d.write,
            })
            .collect();
        WasiGrant {
            dirs,
            protected: inputs.protected.clone(),
            env: granted.env.iter().filter_map(|k| std::env::var(k).ok().map(|v| (k.clone(), v))).collect(),
            stdout: granted.stdout,
            blocking_files: inputs.settings.blocking_files(),
        }
    }

    /// The WASI context of one call, and its captured output: its stdio is
    /// `pipes` when it is a filter, else captured; its arguments `argv` (a
    /// WASI command's; an isaac plugin's are none). Each directory is opened
    /// without following symlinks, checked against its granted identity,
    /// and handed over as that very open directory (never re-resolved by
    /// name).
    pub(crate) fn open(&self, pipes: Option<&Pipes>, argv: &[String]) -> Result<(WasiCtx, Printed), SetupError> {
        let mut b = WasiCtxBuilder::new();
        b.args(argv);
        b.allow_tcp(false).allow_udp(false).allow_ip_name_lookup(false);
        b.allow_blocking_current_thread(self.blocking_files);
        for (k, v) in &self.env {
            b.env(k, v);
        }
        for dir in &self.dirs {
            let guest = || dir.guest.clone();
            let verified =
                dir.identity.open().map_err(|e| SetupError::Dir { guest: guest(), source: Source::new(e) })?;
            self.protected.check(&dir.guest, &dir.identity.path)?;
            let perms = if dir.write { FsPerms::ReadWrite } else { FsPerms::ReadOnly };
            b.preopened_dir(verified.proc_path(), &dir.guest, perms)
                .map_err(|e| SetupError::Preopen { guest: guest(), source: Source::wasm(e) })?;
        }
        let printed =
            Printed { stdout: MemoryOutputPipe::new(MAX_PRINT_BYTES), stderr: MemoryOutputPipe::new(MAX_PRINT_BYTES) };
        match pipes {
            Some(pipes) => pipes.attach(&mut b),
            None => {
                b.stdout(printed.stdout.clone()).stderr(printed.stderr.clone());
            }
        }
        Ok((b.build(), printed))
    }
}

/// A granted directory that cannot be handed to a call.
#[derive(Debug, Clone, thiserror::Error, serde::Serialize, serde::Deserialize)]
pub enum SetupError {
    /// It is gone, or is no longer the directory that was granted.
    #[error("the granted directory {guest:?}")]
    Dir {
        /// Where the guest sees it.
        guest: String,
        /// What is wrong with it.
        #[source]
        source: Source,
    },
    /// It now reaches isaac's own files.
    #[error(transparent)]
    Covers(#[from] Covers),
    /// WASI refused it.
    #[error("the granted directory {guest:?} cannot be opened")]
    Preopen {
        /// Where the guest sees it.
        guest: String,
        /// What WASI said.
        #[source]
        source: Source,
    },
}

/// The captured stdout and stderr of one call.
pub struct Printed {
    stdout: MemoryOutputPipe,
    stderr: MemoryOutputPipe,
}

impl Printed {
    /// Whether either stream reached its cap (and was closed).
    pub fn full(&self) -> bool {
        self.stdout.contents().len() >= MAX_PRINT_BYTES || self.stderr.contents().len() >= MAX_PRINT_BYTES
    }

    /// Show what was printed, on stderr, each line prefixed with the plugin.
    pub fn show(&self, plugin: &str) {
        for pipe in [&self.stdout, &self.stderr] {
            let text = pipe.contents();
            for line in String::from_utf8_lossy(&text).lines() {
                crate::say!("{plugin}| {}", terminal::sanitize(line, Lines::One));
            }
        }
    }
}

/// Link the interfaces of WASI p2 that `wanted` names (`wasi:cli/stdin`,
/// no version): with every name, what `wasmtime_wasi::p2::add_to_linker_async`
/// links, one interface at a time.
pub fn add_to_linker<T: WasiView>(linker: &mut Linker<T>, wanted: &dyn Fn(&str) -> bool) -> wasmtime::Result<()> {
    for (name, add) in interfaces::<T>() {
        if wanted(name) {
            add(linker)?;
        }
    }
    Ok(())
}

/// How one interface is linked.
type Add<T> = fn(&mut Linker<T>) -> wasmtime::Result<()>;

/// Each interface of WASI p2 and how it is linked, as in
/// `wasmtime_wasi::p2::add_to_linker_with_options_async` (wasmtime 48).
fn interfaces<T: WasiView>() -> [(&'static str, Add<T>); 27] {
    use wasmtime_wasi::cli::{WasiCli, WasiCliView as _};
    use wasmtime_wasi::clocks::{WasiClocks, WasiClocksView as _};
    use wasmtime_wasi::filesystem::{WasiFilesystem, WasiFilesystemView as _};
    use wasmtime_wasi::p2::bindings::{cli, clocks, filesystem, io, random, sockets};
    use wasmtime_wasi::random::WasiRandom;
    use wasmtime_wasi::sockets::{WasiSockets, WasiSocketsView as _};
    [
        ("wasi:io/error", |l| io::error::add_to_linker::<T, Io>(l, |t| t.ctx().table)),
        ("wasi:io/poll", |l| io::poll::add_to_linker::<T, Io>(l, |t| t.ctx().table)),
        ("wasi:io/streams", |l| io::streams::add_to_linker::<T, Io>(l, |t| t.ctx().table)),
        ("wasi:clocks/wall-clock", |l| clocks::wall_clock::add_to_linker::<T, WasiClocks>(l, T::clocks)),
        ("wasi:clocks/monotonic-clock", |l| clocks::monotonic_clock::add_to_linker::<T, WasiClocks>(l, T::clocks)),
        ("wasi:filesystem/preopens", |l| filesystem::preopens::add_to_linker::<T, WasiFilesystem>(l, T::filesystem)),
        ("wasi:filesystem/types", |l| filesystem::types::add_to_linker::<T, WasiFilesystem>(l, T::filesystem)),
        ("wasi:random/random", |l| random::random::add_to_linker::<T, WasiRandom>(l, |t| t.ctx().ctx.random())),
        ("wasi:random/insecure", |l| random::insecure::add_to_linker::<T, WasiRandom>(l, |t| t.ctx().ctx.random())),
        ("wasi:random/insecure-seed", |l| {
            random::insecure_seed::add_to_linker::<T, WasiRandom>(l, |t| t.ctx().ctx.random())
        }),
        ("wasi:cli/exit", |l| cli::exit::add_to_linker::<T, WasiCli>(l, T::cli)),
        ("wasi:cli/environment", |l| cli::environment::add_to_linker::<T, WasiCli>(l, T::cli)),
        ("wasi:cli/stdin", |l| cli::stdin::add_to_linker::<T, WasiCli>(l, T::cli)),
        ("wasi:cli/stdout", |l| cli::stdout::add_to_linker::<T, WasiCli>(l, T::cli)),
        ("wasi:cli/stderr", |l| cli::stderr::add_to_linker::<T, WasiCli>(l, T::cli)),
        ("wasi:cli/terminal-input", |l| cli::terminal_input::add_to_linker::<T, WasiCli>(l, T::cli)),
        ("wasi:cli/terminal-output", |l| cli::terminal_output::add_to_linker::<T, WasiCli>(l, T::cli)),
        ("wasi:cli/terminal-stdin", |l| cli::terminal_stdin::add_to_linker::<T, WasiCli>(l, T::cli)),
        ("wasi:cli/terminal-stdout", |l| cli::terminal_stdout::add_to_linker::<T, WasiCli>(l, T::cli)),
        ("wasi:cli/terminal-stderr", |l| cli::terminal_stderr::add_to_linker::<T, WasiCli>(l, T::cli)),
        ("wasi:sockets/tcp-create-socket", |l| {
            sockets::tcp_create_socket::add_to_linker::<T, WasiSockets>(l, T::sockets)
        }),
        ("wasi:sockets/instance-network", |l| {
            sockets::instance_network::add_to_linker::<T, WasiSockets>(l, T::sockets)
        }),
        ("wasi:sockets/network", |l| {
            sockets::network::add_to_linker::<T, WasiSockets>(l, &Default::default(), T::sockets)
        }),
        ("wasi:sockets/ip-name-lookup", |l| sockets::ip_name_lookup::add_to_linker::<T, WasiSockets>(l, T::sockets)),
        ("wasi:sockets/tcp", |l| sockets::tcp::add_to_linker::<T, WasiSockets>(l, T::sockets)),
        ("wasi:sockets/udp", |l| sockets::udp::add_to_linker::<T, WasiSockets>(l, T::sockets)),
        ("wasi:sockets/udp-create-socket", |l| {
            sockets::udp_create_socket::add_to_linker::<T, WasiSockets>(l, T::sockets)
        }),
    ]
}

/// The data of `wasi:io`'s interfaces: the call's resource table.
struct Io;

impl wasmtime::component::HasData for Io {
    type Data<'a> = &'a mut wasmtime::component::ResourceTable;
}

/// The review's lines for what `asked` asks of WASI: directories,
/// variables (a secret-looking one marked) and output.
pub fn describe(asked: &Permissions) -> Vec<String> {
    let mut lines = Vec::new();
    for dir in &asked.files.read {
        lines.push(format!("read files in {dir}"));
    }
    for dir in &asked.files.write {
        lines.push(format!("read and write files in {dir}"));
    }
    for var in &asked.env {
        if grants::looks_secret(var) {
            lines.push(format!("environment variable {var}  (warning: this looks like a secret)"));
        } else {
            lines.push(format!("environment variable {var}"));
        }
    }
    if asked.stdout {
        lines.push(
            "print to the terminal (on stderr; for plugins built against isaac:plugin 0.2.0 or older)".to_owned(),
        );
    }
    lines
}
