//! Write [isaac](https://example.invalid/isaac) plugins in Rust.
//!
//! An isaac plugin is a WebAssembly component that targets the
//! `isaac:plugin/plugin@0.3.0` world. With this crate a plugin author
//! implements one plain trait, [`Plugin`], and calls one macro,
//! [`export_plugin!`]; the generated WIT bindings stay inside this crate.
//!
//! ```no_run
//! use isaac_plugin_sdk::{export_plugin, log, CommandInfo, Error, Plugin, PluginInfo};
//!
//! struct Shout;
//!
//! impl Plugin for Shout {
//!     fn metadata() -> PluginInfo {
//!         PluginInfo::new("shout", "0.1.0", "Says things loudly")
//!             .command(CommandInfo::new("shout", "Upper-case the arguments", "shout TEXT..."))
//!     }
//!
//!     fn run(command: &str, args: Vec<String>) -> Result<String, Error> {
//!         match command {
//!             "shout" if args.is_empty() => Err(Error::Usage("usage: shout TEXT...".into())),
//!             "shout" => {
//!                 log::debug(&format!("shouting {} words", args.len()));
//!                 Ok(args.join(" ").to_uppercase())
//!             }
//!             other => Err(Error::Failed(format!("unknown command `{other}`"))),
//!         }
//!     }
//! }
//!
//! export_plugin!(Shout);
//! ```
//!
//! A plugin is a Unix filter: `std::io::stdin()` is what the user piped
//! into `isaac run` (empty on a terminal), what it writes to
//! `std::io::stdout()` reaches isaac's stdout as it is written (flush to
//! show a line before it ends), and `std::io::stderr()` is its diagnostics.
//! The returned string is printed after what it wrote.
//!
//! Build it as a `cdylib` for `wasm32-wasip2` (`cargo build --release --target
//! wasm32-wasip2`); the `.wasm` file that comes out is a component. Put it in a
//! folder with a `plugin.toml` and install it with `isaac plugins add FOLDER`.
//!
//! This crate carries its own copy of the WIT package (`wit/`), so it builds
//! outside the isaac repository.

extern crate self as isaac_plugin_sdk;

#[doc(hidden)]
pub use wit_bindgen as __wit_bindgen;

/// The generated bindings. Not a public API: use the items re-exported at the
/// crate root instead.
#[doc(hidden)]
#[allow(missing_docs, clippy::all)]
pub mod __bindings {
    wit_bindgen::generate!({
        path: "wit",
        world: "isaac:plugin/plugin",
        pub_export_macro: true,
        export_macro_name: "__export_isaac_world",
        default_bindings_module: "isaac_plugin_sdk::__bindings",
        runtime_path: "isaac_plugin_sdk::__wit_bindgen::rt",
    });
}

pub mod ai;
pub mod cache;
pub mod http;
pub mod log;

pub use __bindings::isaac::plugin::types::{CommandInfo, Error, PluginInfo};

/// The WIT package version this SDK was built against.
pub const WIT_VERSION: &str = "0.3.0";

/// What a plugin implements. Both functions are associated functions: a
/// plugin keeps no state between calls (each call runs in a fresh instance);
/// state that must last belongs in the host's cache.
pub trait Plugin {
    /// Describe the plugin and its commands. The host calls this once per
    /// build of the plugin, so it must not depend on input or on time.
    fn metadata() -> PluginInfo;

    /// Run `command` with the arguments the user typed after it.
    ///
    /// Return [`Error::Usage`] when the arguments are wrong (`isaac run`
    /// exits with status 2) and [`Error::Failed`] when the command could not
    /// do its job (status 1). A panic ends the call as a trap.
    fn run(command: &str, args: Vec<String>) -> Result<String, Error>;
}

impl PluginInfo {
    /// A plugin description with no commands yet; add them with
    /// [`PluginInfo::command`].
    pub fn new(name: &str, version: &str, description: &str) -> Self {
        PluginInfo {
            name: name.to_owned(),
            version: version.to_owned(),
            description: description.to_owned(),
            commands: Vec::new(),
        }
    }

    /// Add one command.
    #[must_use]
    pub fn command(mut self, command: CommandInfo) -> Self {
        self.commands.push(command);
        self
    }
}

impl CommandInfo {
    /// Describe one command: its name, a one-line summary and its usage.
    pub fn new(name: &str, summary: &str, usage: &str) -> Self {
        CommandInfo { name: name.to_owned(), summary: summary.to_owned(), usage: usage.to_owned() }
    }
}

#[doc(hidden)]
pub mod __private {
    use core::marker::PhantomData;

    /// Connects a [`crate::Plugin`] to the generated `Guest` trait.
    pub struct Adapter<P>(PhantomData<P>);

    impl<P: crate::Plugin> crate::__bindings::Guest for Adapter<P> {
        fn metadata() -> crate::PluginInfo {
            P::metadata()
        }

        /// Runs the command, then flushes stdout: std's stdout buffers a
        /// line not ended yet, and a plugin's call ends without the exit
        /// that would flush it.
        fn run(command: String, args: Vec<String>) -> Result<String, crate::Error> {
            let result = P::run(&command, args);
            let _ = std::io::Write::flush(&mut std::io::stdout());
            result
        }
    }
}

/// Export a type that implements [`Plugin`] as this component's plugin.
/// Call it once, at the root of a `cdylib` crate.
#[macro_export]
macro_rules! export_plugin {
    ($plugin:ty) => {
        #[doc(hidden)]
        type __IsaacPluginAdapter = $crate::__private::Adapter<$plugin>;
        $crate::__bindings::__export_isaac_world!(__IsaacPluginAdapter with_types_in $crate::__bindings);
    };
}
