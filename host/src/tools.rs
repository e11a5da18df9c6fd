//! Installed plugin commands as tools an AI can call: their names, their
//! descriptions and input schema, and the words a call's arguments become.
//! Shared by `isaac mcp` (MCP tools) and `isaac ask` (the provider's tools).
//!
//! A tool is `PLUGIN__COMMAND` (plugin and command names are lowercase
//! letters, digits and `-`, so the name fits MCP's, OpenAI's and
//! Anthropic's alphabets). Its input is `{"args": ["word", ...]}`: the words
//! `isaac run COMMAND` would get; or, when the plugin's `plugin.toml`
//! declares `[tools.COMMAND] input_schema`, an object of that schema, which
//! reaches the command as one word, its JSON text. A filter's tool (a
//! plugin built against `isaac:plugin@0.3.0`) also takes `stdin`, text the
//! command reads as its stdin; its result is what the command wrote to
//! stdout, then its returned string.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use crate::host::LoadReport;
use crate::terminal::{self, Lines};

/// Between a tool's plugin and command.
pub const SEPARATOR: &str = "__";

/// The longest description a tool gets (a plugin's summary and usage are
/// its own words; a client shows them to a model).
const MAX_DESCRIPTION: usize = 1024;

/// One plugin command offered as a tool.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolSpec {
    /// `PLUGIN__COMMAND`.
    pub name: String,
    /// The plugin.
    pub plugin: String,
    /// The command.
    pub command: String,
    /// Summary and usage, sanitised; says so when the plugin may not run.
    pub description: String,
    /// Why calls are refused (the grant is missing or stale), if so.
    pub refused: Option<String>,
    /// The input schema `plugin.toml` declares for the command, if any.
    pub declared: Option<Map<String, Value>>,
    /// Whether a call may pass `stdin` (the plugin is a filter, and the
    /// input is `args`).
    pub stdin: bool,
}

/// What a call's arguments become.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ToolInput {
    /// The command's words.
    pub words: Vec<String>,
    /// Its stdin, if given.
    pub stdin: Option<String>,
}

impl ToolSpec {
    /// The JSON schema of this tool's input: the declared one, or `args`
    /// (and `stdin` for a filter).
    pub fn schema(&self) -> Map<String, Value> {
        self.declared.clone().unwrap_or_else(|| ToolSpec::args_schema(self.stdin))
    }

    /// What a call's `arguments` become: with a declared schema, one word,
    /// their JSON text; otherwise `args` (and `stdin` for a filter).
    pub fn input(&self, arguments: Option<&Map<String, Value>>) -> Result<ToolInput, ArgsError> {
        match &self.declared {
            Some(_) => Ok(ToolInput {
                words: vec![Value::Object(arguments.cloned().unwrap_or_default()).to_string()],
                stdin: None,
            }),
            None => input(arguments, self.stdin),
        }
    }

    /// The JSON schema of a tool's input without a declared one: `args`,
    /// and `stdin` when `stdin`.
    pub fn args_schema(stdin: bool) -> Map<String, Value> {
        let mut schema = json!({
            "type": "object",
            "properties": {
                "args": {
                    "type": "array",
                    "items": { "type": "string" },
                    "description": "The command's arguments, one word each, as typed after the command on a command line."
                }
            },
            "additionalProperties": false
        });
        if stdin {
            schema["properties"]["stdin"] = json!({
                "type": "string",
                "description": "Text for the command to read as its standard input, as if piped into it (`echo TEXT | isaac run COMMAND`)."
            });
        }
        match schema {
            Value::Object(map) => map,
            _ => unreachable!("an object literal"),
        }
    }
}

/// The tool named `name`'s plugin and command.
pub fn split_name(name: &str) -> Option<(&str, &str)> {
    name.split_once(SEPARATOR).filter(|(p, c)| !p.is_empty() && !c.is_empty())
}

/// Which plugins are offered: all, or the ones named.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Exposed {
    /// Every installed plugin.
    #[default]
    All,
    /// Only these.
    Only(BTreeSet<String>),
}

impl Exposed {
    /// Whether `plugin` is offered.
    pub fn includes(&self, plugin: &str) -> bool {
        match self {
            Exposed::All => true,
            Exposed::Only(names) => names.contains(plugin),
        }
    }
}

/// Every command of the loaded plugins that `exposed` offers, sorted by name.
pub fn list(loaded: &LoadReport, exposed: &Exposed) -> Vec<ToolSpec> {
    let mut tools = Vec::new();
    for plugin in loaded.plugins.iter().filter(|p| exposed.includes(&p.name)) {
        let refused = plugin.refused().map(str::to_owned);
        for command in &plugin.meta.commands {
            let mut description = format!("{}\nUsage: {}", command.summary, command.usage);
            description = terminal::clean(&description, Lines::Keep);
            if description.len() > MAX_DESCRIPTION {
                let cut = (0..=MAX_DESCRIPTION).rev().find(|&i| description.is_char_boundary(i)).unwrap_or(0);
                description.truncate(cut);
                description.push('…');
            }
            if let Some(why) = &refused {
                description = format!("[not runnable: {}] {description}", terminal::clean(why, Lines::One));
            }
            tools.push(ToolSpec {
                name: format!("{}{SEPARATOR}{}", plugin.name, command.name),
                plugin: plugin.name.clone(),
                command: command.name.clone(),
                description,
                refused: refused.clone(),
                declared: plugin.manifest.tools.get(&command.name).and_then(|t| t.input_schema.as_object().cloned()),
                stdin: plugin.filters(),
            });
        }
    }
    tools.sort_by(|a, b| a.name.cmp(&b.name));
    tools
}

/// A call's arguments that are not `{"args": [strings]}` (with `"stdin":
/// string` for a filter).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArgsError {
    /// A key other than `args` (and `stdin`).
    #[error("unknown argument `{0}`: a tool takes only `args`, a list of strings{note}", note = stdin_note(*.1))]
    Unknown(String, bool),
    /// `stdin` is not a string.
    #[error("`stdin` must be a string, not {0}")]
    StdinNotAString(Value),
    /// `args` is a list holding something else than strings.
    #[error("`args` must be a list of strings, not one holding {0}")]
    NotAString(Value),
    /// `args` is not a list.
    #[error("`args` must be a list of strings, not {0}")]
    NotAList(Value),
}

fn stdin_note(stdin: bool) -> &'static str {
    if stdin { ", and `stdin`, a string" } else { "" }
}

/// What a call's `arguments` become: `{"args": [strings]}`, and
/// `"stdin": string` when `stdin` may be given; or nothing.
pub fn input(arguments: Option<&Map<String, Value>>, stdin: bool) -> Result<ToolInput, ArgsError> {
    let Some(arguments) = arguments else { return Ok(ToolInput::default()) };
    if let Some(other) = arguments.keys().find(|k| *k != "args" && !(stdin && *k == "stdin")) {
        return Err(ArgsError::Unknown(other.clone(), stdin));
    }
    let stdin = match arguments.get("stdin") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => Some(text.clone()),
        Some(other) => return Err(ArgsError::StdinNotAString(other.clone())),
    };
    Ok(ToolInput { words: words(arguments)?, stdin })
}

/// The words of `{"args": [strings]}`.
fn words(arguments: &Map<String, Value>) -> Result<Vec<String>, ArgsError> {
    match arguments.get("args") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                Value::String(s) => Ok(s.clone()),
                other => Err(ArgsError::NotAString(other.clone())),
            })
            .collect(),
        Some(other) => Err(ArgsError::NotAList(other.clone())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_split_at_the_first_separator() {
        assert_eq!(split_name("wordcount__wc"), Some(("wordcount", "wc")));
        assert_eq!(split_name("a__b__c"), Some(("a", "b__c")));
        assert_eq!(split_name("__wc"), None);
        assert_eq!(split_name("wc"), None);
    }

    #[test]
    fn arguments_become_words_and_stdin() {
        let args = |v: Value| input(v.as_object(), false).map(|i| i.words);
        assert_eq!(input(None, true), Ok(ToolInput::default()));
        assert_eq!(args(json!({})), Ok(vec![]));
        assert_eq!(args(json!({"args": ["a b", "-v"]})), Ok(vec!["a b".to_owned(), "-v".to_owned()]));
        assert_eq!(args(json!({"args": "a b"})), Err(ArgsError::NotAList(json!("a b"))));
        assert_eq!(args(json!({"args": [1]})), Err(ArgsError::NotAString(json!(1))));
        assert_eq!(args(json!({"text": "x"})), Err(ArgsError::Unknown("text".into(), false)));
        // Only a filter's tool takes stdin.
        assert_eq!(args(json!({"stdin": "x"})), Err(ArgsError::Unknown("stdin".into(), false)));
        let piped = input(json!({"args": ["-l"], "stdin": "a\nb\n"}).as_object(), true).unwrap();
        assert_eq!(piped, ToolInput { words: vec!["-l".into()], stdin: Some("a\nb\n".into()) });
        let bad = input(json!({"stdin": 3}).as_object(), true);
        assert_eq!(bad, Err(ArgsError::StdinNotAString(json!(3))));
        assert!(ToolSpec::args_schema(true)["properties"].get("stdin").is_some());
        assert!(ToolSpec::args_schema(false)["properties"].get("stdin").is_none());
    }

    #[test]
    fn only_named_plugins_are_exposed() {
        let only = Exposed::Only(["notes".to_owned()].into());
        assert!(only.includes("notes") && !only.includes("wordcount"));
        assert!(Exposed::All.includes("wordcount"));
    }
}
