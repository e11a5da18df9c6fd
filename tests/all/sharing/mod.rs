//! Plugins shared through OCI registries and URLs: publish, add, update,
//! provenance, and downloads that are bounded and safe. Against a real
//! registry (`docker-registry`) and a real HTTP server on loopback.

mod archives;
mod credentials;
mod registry;
mod updates;

use std::path::Path;

use crate::support::{dist, example_wasm};

/// A plugin folder `hello` with `version`, manifest lines `extra`, and the
/// hello component made distinct by `variant` (another digest, same code).
fn hello_folder(version: &str, extra: &str, variant: u32) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_hello(dir.path(), version, extra, variant);
    dir
}

/// (Re)write the hello plugin folder `dir`.
fn write_hello(dir: &Path, version: &str, extra: &str, variant: u32) {
    let wasm = match variant {
        0 => example_wasm("hello"),
        n => crate::support::distinct(&example_wasm("hello"), n as usize),
    };
    std::fs::write(dir.join("hello.wasm"), wasm).unwrap();
    std::fs::write(
        dir.join("plugin.toml"),
        format!(
            "name = \"hello\"\nversion = \"{version}\"\ndescription = \"greets\"\ncomponent = \"hello.wasm\"\n{extra}"
        ),
    )
    .unwrap();
}

/// `path` as a `&str`.
fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// The example hello folder.
fn hello_dist() -> std::path::PathBuf {
    dist("hello")
}
