//! `isaac new NAME --lang LANG [--install] [--no-build] [--dir PARENT]`
//!
//! The templates are the `greet` example plugins themselves (one command
//! that counts visits in the cache and logs a line; in Python and
//! JavaScript it also greets the lines of stdin, and a second command
//! streams an AI answer), renamed, with the WIT files, `toolchains.sh` (the
//! toolchains and build steps that example-plugins/build.sh uses) and a
//! `build.sh` that builds into `dist/`. A Rust plugin gets a copy of the
//! plugin SDK, so the folder builds anywhere.
//!
//! With `--command` (Rust and C) the template is a plain WASI command
//! instead (`kind = "command"`): the program of the `upper` or `rot13`
//! example in `example-plugins/commands/`, with no SDK and no bindings.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use clap::{Args, ValueEnum};

use super::{Context, Failure, output};

/// Write a new plugin folder: plugin.toml, the source of one command that
/// uses the cache and logs, the build files and a README; then build it
/// into NAME/dist/ (a missing toolchain is named with the command that
/// installs it; --install runs it).
#[derive(Debug, Args)]
pub struct NewArgs {
    /// The plugin's name (lowercase letters, digits and `-`): its folder,
    /// its command and its component.
    name: String,
    /// Its language.
    #[arg(long, value_enum)]
    lang: Lang,
    /// A plain WASI command instead (rust, c): a program with a `main`,
    /// no SDK, no cache or AI (`kind = "command"`).
    #[arg(long)]
    command: bool,
    /// Install a missing toolchain (once, into ~/.cache/isaac-tools).
    #[arg(long)]
    install: bool,
    /// Write the folder only.
    #[arg(long)]
    no_build: bool,
    /// Where to create the folder (default: here).
    #[arg(long, value_name = "DIR", default_value = ".")]
    dir: PathBuf,
}

/// The languages `isaac new` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Lang {
    /// Rust, with the isaac plugin SDK.
    Rust,
    /// Python, with componentize-py.
    Python,
    /// JavaScript, with componentize-js.
    Js,
    /// C, with wit-bindgen c and clang.
    C,
    /// Go, with wit-bindgen go.
    Go,
    /// Zig, on the C bindings.
    Zig,
    /// C++, with wit-bindgen cpp and clang.
    Cpp,
    /// AssemblyScript, with hand-written canonical-ABI glue.
    Assemblyscript,
}

/// A file of the repository, embedded.
macro_rules! embed {
    ($path:literal) => {
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../", $path))
    };
}

/// The isaac:plugin WIT files.
const WIT: [(&str, &str); 5] = [
    ("ai.wit", embed!("wit/ai.wit")),
    ("cache.wit", embed!("wit/cache.wit")),
    ("log.wit", embed!("wit/log.wit")),
    ("types.wit", embed!("wit/types.wit")),
    ("world.wit", embed!("wit/world.wit")),
];

const SDK: [(&str, &str); 5] = [
    ("lib.rs", embed!("plugin-sdk/src/lib.rs")),
    ("cache.rs", embed!("plugin-sdk/src/cache.rs")),
    ("log.rs", embed!("plugin-sdk/src/log.rs")),
    ("http.rs", embed!("plugin-sdk/src/http.rs")),
    ("ai.rs", embed!("plugin-sdk/src/ai.rs")),
];

impl Lang {
    fn id(self) -> &'static str {
        match self {
            Lang::Rust => "rust",
            Lang::Python => "python",
            Lang::Js => "js",
            Lang::C => "c",
            Lang::Go => "go",
            Lang::Zig => "zig",
            Lang::Cpp => "cpp",
            Lang::Assemblyscript => "assemblyscript",
        }
    }

    /// The example's name, its manifest, and its source files (path, text).
    fn example(self, name: &str) -> (&'static str, &'static str, Vec<(String, &'static str)>) {
        match self {
            Lang::Rust => (
                "greet-rs",
                embed!("example-plugins/rust/greet/plugin.toml"),
                vec![("src/lib.rs".into(), embed!("example-plugins/rust/greet/src/lib.rs"))],
            ),
            Lang::Python => (
                "greet-py",
                embed!("example-plugins/python/greet/plugin.toml"),
                vec![("app.py".into(), embed!("example-plugins/python/greet/app.py"))],
            ),
            Lang::Js => (
                "greet-js",
                embed!("example-plugins/js/greet/plugin.toml"),
                vec![
                    ("app.js".into(), embed!("example-plugins/js/greet/app.js")),
                    ("wit/world.wit".into(), embed!("example-plugins/js/greet/wit/world.wit")),
                    ("wit/deps/cli.wit".into(), embed!("example-plugins/js/greet/wit/deps/cli.wit")),
                    ("wit/deps/io.wit".into(), embed!("example-plugins/js/greet/wit/deps/io.wit")),
                ],
            ),
            Lang::C => (
                "greet-c",
                embed!("example-plugins/c/greet/plugin.toml"),
                vec![(format!("{name}.c"), embed!("example-plugins/c/greet/greet.c"))],
            ),
            Lang::Go => (
                "greet-go",
                embed!("example-plugins/go/greet/plugin.toml"),
                vec![(
                    format!("export_wit_world/{name}.go"),
                    embed!("example-plugins/go/greet/export_wit_world/greet.go"),
                )],
            ),
            Lang::Zig => (
                "greet-zig",
                embed!("example-plugins/zig/greet/plugin.toml"),
                vec![("plugin.zig".into(), embed!("example-plugins/zig/greet/greet.zig"))],
            ),
            Lang::Cpp => (
                "greet-cpp",
                embed!("example-plugins/cpp/greet/plugin.toml"),
                vec![(format!("{name}.cpp"), embed!("example-plugins/cpp/greet/greet.cpp"))],
            ),
            Lang::Assemblyscript => (
                "greet-as",
                embed!("example-plugins/assemblyscript/greet/plugin.toml"),
                vec![
                    ("plugin.ts".into(), embed!("example-plugins/assemblyscript/greet/greet.ts")),
                    ("isaac.ts".into(), embed!("example-plugins/assemblyscript/greet/isaac.ts")),
                ],
            ),
        }
    }

    /// Where the isaac:plugin WIT files go: `wit/`, or for JavaScript
    /// `wit/deps/isaac-plugin/`, under the example's own world (the plugin
    /// world plus WASI stdin and stdout, which a script can import only
    /// when its world names them).
    fn wit_dir(self) -> &'static str {
        if self == Lang::Js { "wit/deps/isaac-plugin" } else { "wit" }
    }
}

/// Every file of a new plugin `name` in `lang`: relative path, contents.
pub fn files(name: &str, lang: Lang) -> Vec<(PathBuf, String)> {
    let (example, manifest, sources) = lang.example(name);
    let renamed = |text: &str| text.replace(example, name);
    let mut files: Vec<(PathBuf, String)> = vec![
        ("plugin.toml".into(), renamed(manifest)),
        ("build.sh".into(), build_script(name, lang, false)),
        ("toolchains.sh".into(), embed!("example-plugins/toolchains.sh").to_owned()),
        ("README.md".into(), readme(name, lang)),
        (".gitignore".into(), "dist/\ntarget/\nnode_modules/\n__pycache__/\n".into()),
    ];
    files.extend(sources.into_iter().map(|(path, text)| (PathBuf::from(path), renamed(text))));
    files.extend(WIT.iter().map(|(file, text)| (Path::new(lang.wit_dir()).join(file), (*text).to_owned())));
    if lang == Lang::Rust {
        files.push(("Cargo.toml".into(), rust_manifest(name, false)));
        let sdk = Path::new("isaac-plugin-sdk");
        files.push((sdk.join("Cargo.toml"), SDK_MANIFEST.to_owned()));
        files.extend(SDK.iter().map(|(file, text)| (sdk.join("src").join(file), (*text).to_owned())));
        files.extend(WIT.iter().map(|(file, text)| (sdk.join("wit").join(file), (*text).to_owned())));
    }
    files
}

/// Every file of a new plain WASI command `name` in `lang` (Rust or C):
/// relative path, contents. The program is the example's, unchanged (it
/// names itself by `argv[0]`); the manifest offers it under `name`.
pub fn command_files(name: &str, lang: Lang) -> Vec<(PathBuf, String)> {
    let (description, usage, sources): (_, _, Vec<(String, &str)>) = match lang {
        Lang::Rust => (
            "Upper-case stdin or the named files",
            format!("{name} [--lower] [FILE...]"),
            vec![("src/main.rs".into(), embed!("example-plugins/commands/upper/src/main.rs"))],
        ),
        _ => (
            "ROT13 TEXT, or stdin; exit with STATUS",
            format!("{name} [-e STATUS] [TEXT...]"),
            vec![
                (format!("{name}.c"), embed!("example-plugins/commands/c-rot13/rot13.c")),
                ("wit/world.wit".into(), embed!("example-plugins/commands/c-rot13/wit/world.wit")),
                ("wit/deps/cli/exit.wit".into(), embed!("example-plugins/commands/c-rot13/wit/deps/cli/exit.wit")),
            ],
        ),
    };
    let manifest = format!(
        r#"# A plain WASI 0.2 command (see docs/manifest.md in the isaac repository).
name = "{name}"
version = "0.1.0"
description = "{description}"
component = "{name}.wasm"
kind = "command"

[commands.{name}]
description = "{description}"
usage = "{usage}"
args = []
"#
    );
    let mut files: Vec<(PathBuf, String)> = vec![
        ("plugin.toml".into(), manifest),
        ("build.sh".into(), build_script(name, lang, true)),
        ("toolchains.sh".into(), embed!("example-plugins/toolchains.sh").to_owned()),
        ("README.md".into(), command_readme(name, lang, &usage)),
        (".gitignore".into(), "dist/\ntarget/\n".into()),
    ];
    files.extend(sources.into_iter().map(|(path, text)| (PathBuf::from(path), text.to_owned())));
    if lang == Lang::Rust {
        files.push(("Cargo.toml".into(), rust_manifest(name, true)));
    }
    files
}

const SDK_MANIFEST: &str = r#"# The isaac plugin SDK, copied by `isaac new`.
[package]
name = "isaac-plugin-sdk"
version = "0.1.0"
edition = "2024"
publish = false

[dependencies]
wit-bindgen = { version = "0.61", default-features = false, features = ["macros", "realloc"] }
wasip2 = { version = "1", default-features = false, features = ["std"] }
"#;

/// A plugin's Cargo.toml: a library on the SDK, or a command's `[[bin]]`
/// on the standard library alone.
fn rust_manifest(name: &str, command: bool) -> String {
    let target = if command {
        format!("[[bin]]\nname = \"{name}\"\npath = \"src/main.rs\"")
    } else {
        "[lib]\ncrate-type = [\"cdylib\"]\n\n[dependencies]\nisaac-plugin-sdk = { path = \"isaac-plugin-sdk\" }".into()
    };
    format!(
        r#"[package]
name = "{name}"
version = "0.1.0"
edition = "2024"
publish = false

{target}

# Not part of any enclosing workspace.
[workspace]

# Small components compile fast in the host: optimise for size.
[profile.release]
opt-level = "s"
lto = true
codegen-units = 1
strip = true
panic = "abort"
"#
    )
}

/// The folder's build.sh: the toolchain's setup and build steps of
/// toolchains.sh (a command's: `setup_c_command`, `build_rust_command`, ...).
fn build_script(name: &str, lang: Lang, command: bool) -> String {
    let id = lang.id();
    // A C command needs no bindings: a setup of its own (no wit-bindgen).
    let setup = if command && lang == Lang::C { "c_command".to_owned() } else { id.to_owned() };
    let build = if command { format!("{id}_command") } else { id.to_owned() };
    format!(
        r#"#!/usr/bin/env bash
# Build the isaac plugin `{name}` into dist/ (plugin.toml + {name}.wasm):
#   ./build.sh            build; a missing toolchain is named, with the command that installs it
#   ./build.sh --install  install a missing toolchain first (once, into ~/.cache/isaac-tools)
set -euo pipefail
here="$(cd "$(dirname "${{BASH_SOURCE[0]}}")" && pwd)"
wit="$here/wit"
tools="${{ISAAC_TOOLS:-${{XDG_CACHE_HOME:-$HOME/.cache}}/isaac-tools}}"
install=0
[[ "${{1:-}}" == --install ]] && install=1
say() {{ echo "build.sh: $*" >&2; }}
# shellcheck source=toolchains.sh
source "$here/toolchains.sh"
if ! setup_{setup}; then
    say "$why; install it with: $hint (or: ./build.sh --install)"
    exit 2
fi
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
build_{build} "$here" {name} "$out"
mkdir -p "$here/dist"
cp "$out/{name}.wasm" "$here/dist/{name}.wasm"
cp "$here/plugin.toml" "$here/dist/plugin.toml"
say "built $here/dist: isaac plugins add $here/dist"
"#
    )
}

fn readme(name: &str, lang: Lang) -> String {
    let filter = match lang {
        Lang::Python | Lang::Js => format!(
            r#"
Without WHO it is a filter: it greets each line of stdin as the line arrives
(`printf 'ann\nbob\n' | isaac run {name}`). Its second command, `ask
QUESTION...` (or the question on stdin), prints the AI's answer while the
model writes it (`ai` in plugin.toml; the providers are in isaac's config
file, see docs/ai.md).
"#
        ),
        _ => String::new(),
    };
    let interface = match lang {
        Lang::Js => "`wit/world.wit` (`isaac:plugin`, in\n`wit/deps/isaac-plugin/`, and WASI stdin and stdout)",
        _ => "`wit/` (`isaac:plugin`)",
    };
    let lang = lang.id();
    format!(
        r#"# {name}

An isaac plugin in {lang}, made by `isaac new`. Its command `{name} WHO` greets
WHO and counts the visits in the host's cache (`cache = true` in
plugin.toml), and logs one line.
{filter}
```sh
./build.sh                     # build into dist/ (--install: install a missing toolchain first)
isaac plugins add --yes dist   # install it, granting what plugin.toml asks for
isaac run {name} you           # Hello, you! (visit #1)
isaac dev . -- {name} you      # rebuild, reinstall and run again on every save
```

The plugin's interface is in {interface}; the guide for {lang}
plugins is docs/plugins/{lang}.md in the isaac repository.
"#
    )
}

fn command_readme(name: &str, lang: Lang, usage: &str) -> String {
    let (example, what, status, try_it) = match lang {
        Lang::Rust => (
            "upper",
            "It upper-cases stdin, or the files named (`--lower`: lower-cases).",
            "Rust's standard library exits through WASI 0.2's `exit`, which carries\n\
             success or failure only: any failure reaches isaac as status 1.",
            format!(
                "echo hello | isaac run {name}   # HELLO\n\
                 isaac run --allow-read ~/notes {name} ~/notes/todo.txt   # a directory granted for one run"
            ),
        ),
        _ => (
            "c-rot13",
            "It prints the ROT13 of its arguments, or of stdin, and exits with the\nstatus `-e` asks for.",
            "A status of its own, not just success or failure, goes through WASI\n\
             0.2's `exit-with-code`, declared in `wit/` and embedded by build.sh.",
            format!("echo hello | isaac run {name}   # uryyb\nisaac run {name} -e 3 hi; echo $?   # uv, then 3"),
        ),
    };
    let lang = lang.id();
    format!(
        r#"# {name}

A plain WASI command in {lang}, made by `isaac new --command` from
isaac's example-plugins/commands/{example}: `{usage}`.
{what}

It is an ordinary program (a `main`, no isaac SDK or bindings) built into a
WASI 0.2 command component, so `wasmtime run` runs it too. isaac gives it
its arguments (`argv[0]` is the command's name), stdin, stdout and stderr,
the directories the user grants, and passes its exit status on.
{status}

It cannot use isaac's cache or AI: for those, write an isaac-world plugin
(`isaac new NAME --lang {lang}`); docs/writing-plugins.md, "Two kinds of
plugin", tells how to choose.

```sh
./build.sh                     # build into dist/ (--install: install a missing toolchain first)
isaac plugins add --yes dist   # install it; plugin.toml names its command
{try_it}
```
"#
    )
}

pub fn run(cx: &Context, args: NewArgs) -> Result<u8, Failure> {
    crate::manifest::check_name(&args.name)?;
    if args.command && !matches!(args.lang, Lang::Rust | Lang::C) {
        return Err(anyhow::anyhow!(
            "--command writes a plain WASI command in rust or c, not {}; without --command, an isaac plugin",
            args.lang.id()
        )
        .into());
    }
    let dest = args.dir.join(&args.name);
    if dest.exists() {
        return Err(anyhow::anyhow!("{} exists: choose another name or folder", dest.display()).into());
    }
    let (files, kind) = if args.command {
        (command_files(&args.name, args.lang), "command")
    } else {
        (files(&args.name, args.lang), "plugin")
    };
    write(&dest, &files).map_err(|e| anyhow::anyhow!("cannot write the new plugin into {}: {e}", dest.display()))?;
    output::line(&format!("created {} ({} {kind} `{}`)", dest.display(), args.lang.id(), args.name));
    if args.no_build {
        return Ok(0);
    }
    let mut build = Command::new("bash");
    build.arg(dest.join("build.sh"));
    if args.install {
        build.arg("--install");
    }
    let status = build.status().map_err(|e| anyhow::anyhow!("cannot run bash for {}/build.sh: {e}", dest.display()))?;
    if !status.success() {
        crate::say!("the folder is ready; build it with `{}/build.sh` once the toolchain is there", dest.display());
        return Ok(1);
    }
    if !cx.quiet() && args.command {
        crate::say!("next: isaac plugins add --yes {}/dist && echo hello | isaac run {}", dest.display(), args.name);
    } else if !cx.quiet() {
        crate::say!(
            "next: isaac plugins add --yes {0}/dist && isaac run {1} you   (or: isaac dev {0} -- {1} you)",
            dest.display(),
            args.name
        );
    }
    Ok(0)
}

/// Write `files` into the new folder `dest`; `build.sh` executable.
fn write(dest: &Path, files: &[(PathBuf, String)]) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(dest.parent().unwrap_or(Path::new(".")))?;
    std::fs::create_dir(dest)?;
    for (path, text) in files {
        let path = dest.join(path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::File::create_new(&path)?.write_all(text.as_bytes())?;
        if path.extension().is_some_and(|e| e == "sh") {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
        }
    }
    Ok(())
}
