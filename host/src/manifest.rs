//! `plugin.toml`: a plugin's identity, limits and the permissions it asks for.
//!
//! ```toml
//! name = "notes"              # [a-z0-9-]+: the folder, the cache namespace, the grant, `notes:cmd`
//! version = "0.1.0"
//! description = "Keeps notes"
//! component = "notes.wasm"    # default: the only .wasm file in the folder
//!
//! [limits]
//! memory_mb = 64              # default 64; the host's maximum caps it
//! deadline_ms = 10000         # default 10 s
//!
//! [permissions]               # nothing is granted by default
//! cache = true
//! env = ["LANG"]
//! stdout = false
//! files = { read = ["~/notes"], write = [] }
//! ai = { max_requests = 5, max_tokens = 20000 }
//! ```
//!
//! The commands come from the component's `metadata` export, not from here.
//! Unknown keys are errors, reported with file and line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::tomlfile::{self, Document, Sections, TomlError};

/// The longest plugin name accepted.
pub const MAX_NAME_LEN: usize = 64;

/// A parsed, checked `plugin.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// The plugin's name: `[a-z0-9-]+`.
    pub name: String,
    /// Its version, as the author writes it.
    pub version: String,
    /// One sentence on what it does.
    pub description: String,
    /// The component file, relative to the plugin folder; `None`: the only
    /// `.wasm` file in the folder.
    pub component: Option<PathBuf>,
    /// What the plugin asks of each call's sandbox.
    pub limits: Limits,
    /// What the plugin asks to be granted.
    pub permissions: Permissions,
    /// `[tools.COMMAND]`: how a command is offered as a tool to an AI
    /// (`isaac mcp`, `isaac ask`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tools: BTreeMap<String, ToolManifest>,
    /// What its component is: an isaac-world plugin, or a WASI command.
    #[serde(default, skip_serializing_if = "Kind::is_plugin")]
    pub kind: Kind,
    /// `[commands.NAME]` of a WASI command: the names it is offered under
    /// (it has no `metadata` to ask).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub commands: BTreeMap<String, CommandManifest>,
}

/// `[tools.COMMAND]`: one command as a tool.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolManifest {
    /// The JSON schema of the tool's input (an object). With it, a call's
    /// arguments reach the command as one word: their JSON text.
    pub input_schema: serde_json::Value,
}

/// The largest `input_schema` accepted, as JSON text.
pub const MAX_SCHEMA_BYTES: usize = 16 * 1024;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTool {
    input_schema: toml::Spanned<toml::Value>,
}

/// A declared input schema that is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemaError {
    /// Not a table of `type = "object"`.
    #[error("`input_schema` must be a table with type = \"object\" (a JSON schema of the call's arguments)")]
    NotAnObject,
    /// Over [`MAX_SCHEMA_BYTES`].
    #[error("`input_schema` is larger than {} KiB", MAX_SCHEMA_BYTES / 1024)]
    TooLarge,
    /// A string in it is not plain.
    #[error(transparent)]
    NotPlain(#[from] NotPlain),
}

/// Check a declared input schema: a JSON object of `type = "object"`,
/// small, every string in it plain.
fn check_schema(schema: &serde_json::Value) -> Result<(), SchemaError> {
    fn strings(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::String(s) => out.push(s.clone()),
            serde_json::Value::Array(items) => items.iter().for_each(|i| strings(i, out)),
            serde_json::Value::Object(map) => map.iter().for_each(|(k, v)| {
                out.push(k.clone());
                strings(v, out);
            }),
            _ => {}
        }
    }
    if schema.get("type").and_then(|t| t.as_str()) != Some("object") {
        return Err(SchemaError::NotAnObject);
    }
    if schema.to_string().len() > MAX_SCHEMA_BYTES {
        return Err(SchemaError::TooLarge);
    }
    let mut all = Vec::new();
    strings(schema, &mut all);
    Ok(all.iter().try_for_each(|s| check_plain(s))?)
}

/// Per-call limits a plugin asks for. The config file may override them per
/// plugin, and the host's maximum caps both.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Linear memory, in MiB.
    pub memory_mb: Option<u64>,
    /// Wall-clock time per call, in milliseconds.
    pub deadline_ms: Option<u64>,
}

/// The permissions a plugin asks for. Nothing is granted by default; the
/// user grants them when installing the plugin.
///
/// WASI's own (`files`, `env`, `stdout`) are fields here; every other
/// capability's part of `[permissions]` is its own: checked by it when the
/// manifest is read ([`Manifest::parse`]'s owners, the host's list of
/// capabilities) and kept in [`Permissions::capabilities`], in canonical
/// form, for it to read back.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Permissions {
    /// Directories it may read, and separately write.
    #[serde(default)]
    pub files: FilePermissions,
    /// Environment variables it may read, by name.
    #[serde(default, deserialize_with = "plain_list")]
    pub env: Vec<String>,
    /// Whether what it prints reaches the terminal (on stderr): for plugins
    /// built against 0.2.0 or 0.1.0, whose prints are captured. (A 0.3.0
    /// plugin's stdout is its output, its stderr its diagnostics.)
    #[serde(default)]
    pub stdout: bool,
    /// Each capability's permission, by its name.
    #[serde(flatten)]
    pub capabilities: Asked,
}

impl Permissions {
    /// WASI's keys of `[permissions]` (the struct's own fields).
    pub const WASI_KEYS: &'static [&'static str] = &["env", "files", "stdout"];
}

/// The capabilities' parts of `[permissions]`, by name: each checked by its
/// capability and canonical (the same asks compare equal however written;
/// one not asked is absent).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Asked(pub tomlfile::Owned);

/// Canonical permissions hold no floats, so no NaN: equality is total. (A
/// NaN would only make a grant compare stale: asked again, never widened.)
impl Eq for Asked {}

impl<'de> Deserialize<'de> for Asked {
    /// A permission not asked is absent; `null` and `false` are how grants
    /// stored before each permission was its capability's own wrote one
    /// (`"ai": null`, `"cache": false`), so they read as absent.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let all = BTreeMap::<String, Option<toml::Value>>::deserialize(d)?;
        let asked = |(k, v): (String, Option<toml::Value>)| Some((k, v?)).filter(|(_, v)| v.as_bool() != Some(false));
        Ok(Asked(all.into_iter().filter_map(asked).collect()))
    }
}

impl Asked {
    /// Capability `name`'s permission, as its type: its default when not
    /// asked, or when what was kept does not read back as it (a grant
    /// stored by another version): nothing, never more.
    pub fn get<P: Default + serde::de::DeserializeOwned>(&self, name: &str) -> P {
        self.0.get(name).and_then(|value| P::deserialize(value.clone()).ok()).unwrap_or_default()
    }
}

/// Directories a plugin asks to read or write.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilePermissions {
    /// Read-only directories.
    #[serde(default, deserialize_with = "plain_list")]
    pub read: Vec<String>,
    /// Read-write directories.
    #[serde(default, deserialize_with = "plain_list")]
    pub write: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    name: toml::Spanned<String>,
    version: toml::Spanned<String>,
    #[serde(default, deserialize_with = "plain")]
    description: String,
    component: Option<toml::Spanned<PathBuf>>,
    #[serde(default)]
    limits: Limits,
    #[serde(default)]
    permissions: Permissions,
    #[serde(default)]
    tools: BTreeMap<String, RawTool>,
    #[serde(default)]
    kind: Option<toml::Spanned<Kind>>,
    #[serde(default)]
    commands: BTreeMap<String, toml::Spanned<CommandManifest>>,
}

mod kind;

pub use kind::{CommandManifest, Kind};

/// The keys of `[permissions]` a manifest declares itself: WASI's.
const OWN_PERMISSIONS: &[&str] = Permissions::WASI_KEYS;

impl Manifest {
    /// The file name of a manifest inside a plugin folder.
    pub const FILE_NAME: &'static str = "plugin.toml";

    /// Read and check `path` ([`Manifest::parse`]): the manifest, and the
    /// text it was parsed from.
    pub fn read(path: &Path, owners: &dyn Sections) -> Result<(Self, String), TomlError> {
        let text = tomlfile::read_text(path, "the plugin manifest")?;
        Ok((Self::parse(path, &text, owners)?, text))
    }

    /// Parse and check `text`, the contents of `path`; `owners` check the
    /// capabilities' parts of `[permissions]` (the host's list of
    /// capabilities, `isaac_host::PERMISSION_SECTIONS`).
    pub fn parse(path: &Path, text: &str, owners: &dyn Sections) -> Result<Self, TomlError> {
        let mut document = Document::parse(path, text)?;
        let asked = document.take_sections(&["permissions"], OWN_PERMISSIONS, owners)?;
        let mut raw: RawManifest = document.into()?;
        raw.permissions.capabilities = Asked(asked);
        let at = |span, message: String| TomlError::at(path, text, Some(span), message);
        if let Err(why) = check_name(raw.name.get_ref()) {
            return Err(at(raw.name.span(), why.to_string()));
        }
        if let Err(why) = check_plain(raw.version.get_ref()) {
            return Err(at(raw.version.span(), why.to_string()));
        }
        if raw.version.get_ref().trim().is_empty() {
            return Err(at(raw.version.span(), "`version` is empty; write e.g. version = \"0.1.0\"".into()));
        }
        let component = match raw.component {
            Some(c) => Some(check_component(c).map_err(|(span, why)| at(span, why))?),
            None => None,
        };
        let mut tools = BTreeMap::new();
        for (command, tool) in raw.tools {
            let span = tool.input_schema.span();
            let schema =
                serde_json::to_value(tool.input_schema.into_inner()).map_err(|e| at(span.clone(), e.to_string()))?;
            check_schema(&schema).map_err(|why| at(span, format!("[tools.{command}] {why}")))?;
            tools.insert(command, ToolManifest { input_schema: schema });
        }
        let kind = raw.kind.as_ref().map_or(Kind::Plugin, |k| *k.get_ref());
        let mut commands = BTreeMap::new();
        for (name, command) in raw.commands {
            let span = command.span();
            if kind != Kind::Command {
                let why = "[commands] is for a WASI command: add kind = \"command\", or let an isaac plugin's metadata name its commands";
                return Err(at(span, why.into()));
            }
            if let Err(why) = check_name_of(NameOf::Command, &name) {
                return Err(at(span, format!("[commands.{name}]: {why}")));
            }
            commands.insert(name, command.into_inner());
        }
        if let Some(k) = raw.kind.filter(|_| kind == Kind::Command && commands.is_empty()) {
            let why = "a WASI command names its commands: add a [commands.NAME] table with description and usage";
            return Err(at(k.span(), why.into()));
        }
        Ok(Manifest {
            name: raw.name.into_inner(),
            version: raw.version.into_inner(),
            description: raw.description,
            component,
            limits: raw.limits,
            permissions: raw.permissions,
            tools,
            kind,
            commands,
        })
    }
}

/// The component file a manifest names (or `NAME.wasm`), read from `text`
/// alone and checked as [`Manifest::parse`] checks it: for a download,
/// which must name its files before the folder can be read. `None` when
/// the text names no valid one.
pub fn component_file(text: &str) -> Option<PathBuf> {
    #[derive(Deserialize)]
    struct Named {
        name: String,
        component: Option<toml::Spanned<PathBuf>>,
    }
    let named: Named = toml::from_str(text).ok()?;
    match named.component {
        Some(c) => check_component(c).ok(),
        None => check_name(&named.name).ok().map(|()| format!("{}.wasm", named.name).into()),
    }
}

/// A `component` that is a plain `.wasm` file name inside the folder; the
/// error's span and text otherwise.
fn check_component(c: toml::Spanned<PathBuf>) -> Result<PathBuf, (std::ops::Range<usize>, String)> {
    let file = c.get_ref();
    if let Err(why) = check_plain(&file.to_string_lossy()) {
        return Err((c.span(), why.to_string()));
    }
    if file.is_absolute() || file.components().count() != 1 || file.extension().is_none_or(|e| e != "wasm") {
        let message = format!(
            "`component` must name a .wasm file inside the plugin folder, got {:?}",
            file.display().to_string()
        );
        return Err((c.span(), message));
    }
    Ok(c.into_inner())
}

/// A manifest string with a control character in it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("control character {0:?} in a manifest string; plugin.toml strings must be plain text")]
pub struct NotPlain(pub char);

/// Refuse a manifest string with control characters (an escape sequence in
/// a description could rewrite the permission request on the user's
/// terminal). The TOML deserializer reports the string's line and column.
pub fn check_plain(text: &str) -> Result<(), NotPlain> {
    match text.chars().find(|c| c.is_control()) {
        Some(c) => Err(NotPlain(c)),
        None => Ok(()),
    }
}

fn plain<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let text = String::deserialize(d)?;
    check_plain(&text).map_err(serde::de::Error::custom)?;
    Ok(text)
}

pub(crate) fn plain_list<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let list = Vec::<String>::deserialize(d)?;
    for text in &list {
        check_plain(text).map_err(serde::de::Error::custom)?;
    }
    Ok(list)
}

/// What a name that is not `[a-z0-9-]+` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum NameOf {
    /// A plugin (`plugin.toml`'s `name`).
    Plugin,
    /// A command (from a plugin's `metadata`).
    Command,
}

/// A plugin or command name that is not `[a-z0-9-]+`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error(
    "invalid {} name {name:?}: use lowercase letters, digits and `-` (at most {MAX_NAME_LEN}, not starting with `-`)",
    match of { NameOf::Plugin => "plugin", NameOf::Command => "command" }
)]
pub struct BadName {
    /// What it names.
    pub of: NameOf,
    /// The name.
    pub name: String,
}

/// Check a plugin name: `[a-z0-9-]+`, starting with a letter or digit.
pub fn check_name(name: &str) -> Result<(), BadName> {
    check_name_of(NameOf::Plugin, name)
}

/// Check a name of `of` as [`check_name`] does a plugin's.
pub fn check_name_of(of: NameOf, name: &str) -> Result<(), BadName> {
    let valid_chars = name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if name.is_empty() || !valid_chars || name.starts_with('-') || name.len() > MAX_NAME_LEN {
        return Err(BadName { of, name: name.to_owned() });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Manifest, TomlError> {
        Manifest::parse(Path::new("plugin.toml"), text, crate::capabilities::PERMISSION_SECTIONS)
    }

    #[test]
    fn minimal_manifest_grants_nothing() {
        let m = parse("name = \"hello\"\nversion = \"0.1.0\"\n").unwrap();
        assert_eq!(m.name, "hello");
        assert_eq!(m.permissions, Permissions::default());
        assert_eq!(m.limits, Limits::default());
        assert_eq!(m.component, None);
    }

    #[test]
    fn full_manifest() {
        let m = parse(
            r#"
name = "notes"
version = "1.0.0"
description = "Keeps notes"
component = "notes.wasm"
[limits]
memory_mb = 32
deadline_ms = 500
[permissions]
cache = true
env = ["LANG"]
files = { read = ["/tmp"] }
ai = { max_requests = 2, max_tokens = 100 }
"#,
        )
        .unwrap();
        assert_eq!(m.limits.memory_mb, Some(32));
        assert!(m.permissions.capabilities.get::<bool>("cache"));
        assert_eq!(m.permissions.files.read, vec!["/tmp".to_owned()]);
        let ai: Option<crate::ai::caller::AiPermission> = m.permissions.capabilities.get("ai");
        assert_eq!(ai.unwrap().max_requests, 2);
    }

    #[test]
    fn a_capability_s_permission_is_checked_by_it_with_its_line() {
        let head = "name = \"a\"\nversion = \"1\"\n[permissions]\n";
        let cases = [
            ("htpp = true\n", (4, 1), "unknown field `htpp`, expected one of `ai`, `cache`, `env`, `files`, `http`, "),
            ("log = true\n", (4, 1), "unknown field `log`"),
            ("cache = \"yes\"\n", (4, 9), "invalid type: string \"yes\", expected a boolean"),
            ("ai = { max_requests = 2 }\n", (4, 6), "missing field `max_tokens`"),
            ("[permissions.http]\nallowed_hosts = []\n", (5, 17), "`allowed_hosts` is empty"),
        ];
        for (rest, position, message) in cases {
            let err = parse(&format!("{head}{rest}")).unwrap_err();
            assert_eq!(err.position, Some(position), "{rest}: {err}");
            assert!(err.message.contains(message), "{rest}: {err}");
        }
    }

    #[test]
    fn a_permission_is_kept_in_one_form_however_written() {
        let head = "name = \"a\"\nversion = \"1\"\n";
        let inline =
            parse(&format!("{head}[permissions]\nhttp = {{ allowed_hosts = [\"https://x.test\"] }}\n")).unwrap();
        let table =
            parse(&format!("{head}[permissions.http]\nallowed_hosts = [\"https://x.test\"]\nmax_requests = 20\n"))
                .unwrap();
        assert_eq!(inline.permissions, table.permissions);
        let stored = serde_json::to_string(&inline.permissions).unwrap();
        assert_eq!(serde_json::from_str::<Permissions>(&stored).unwrap(), inline.permissions);
        // A grant stored when each permission was a field of its own.
        let old = r#"{"cache":false,"ai":null,"files":{"read":[],"write":[]},"env":[],"stdout":false,"http":null}"#;
        assert_eq!(serde_json::from_str::<Permissions>(old).unwrap(), parse(head).unwrap().permissions);
    }

    #[test]
    fn a_download_names_its_component_only_inside_its_folder() {
        assert_eq!(component_file("name = \"a\"\nversion = \"1\"\n"), Some(PathBuf::from("a.wasm")));
        assert_eq!(component_file("name = \"a\"\ncomponent = \"b.wasm\"\n"), Some(PathBuf::from("b.wasm")));
        assert_eq!(component_file("name = \"a\"\ncomponent = \"../b.wasm\"\n"), None);
        assert_eq!(component_file("name = \"../a\"\n"), None);
    }

    #[test]
    fn errors_name_the_line() {
        let cases = [
            ("name = \"hello\"\nversion = \"1\"\ncolour = 3\n", (3, 1), "unknown field `colour`"),
            ("version = \"1\"\nname = \"Hello World\"\n", (2, 8), "invalid plugin name"),
            ("name = \"a\"\nversion = \"1\"\n[limits]\nmemory = 3\n", (4, 1), "unknown field `memory`"),
            ("name = \"a\"\nversion = \"1\"\ncomponent = \"../x.wasm\"\n", (3, 13), "inside the plugin folder"),
            ("name = \"a\"\n", (1, 1), "missing field `version`"),
            ("name = \"a\"\nversion = \"\"\n", (2, 11), "`version` is empty"),
            ("name = \"a\"\nversion = \"1\"\ndescription = \"hi\\u001b[2K\"\n", (3, 15), "control character '\\u{1b}'"),
            ("name = \"a\"\nversion = \"1\\r\"\n", (2, 11), "control character '\\r'"),
            (
                "name = \"a\"\nversion = \"1\"\n[permissions]\nenv = [\"OK\", \"X\\u009b\"]\n",
                (4, 7),
                "control character",
            ),
            (
                "name = \"a\"\nversion = \"1\"\n[permissions]\nfiles = { write = [\"/tmp/\\b\"] }\n",
                (4, 19),
                "control character",
            ),
        ];
        for (text, position, message) in cases {
            let err = parse(text).unwrap_err();
            assert_eq!(err.position, Some(position), "{err}");
            assert!(err.message.contains(message), "{err}");
        }
    }

    #[test]
    fn names() {
        for ok in ["a", "hello", "greet-rs", "x2"] {
            check_name(ok).unwrap();
        }
        for bad in ["", "-a", "A", "a_b", "a:b", "a/b", "..", &"a".repeat(65)] {
            check_name(bad).unwrap_err();
        }
    }
}
