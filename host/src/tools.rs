//! Installed plugin commands as tools an AI can call: their names, their
//! descriptions and input schema, and the words a call's arguments become.
//! Shared by `isaac mcp` (MCP tools) and `isaac ask` (the provider's tools).
//!
//! A tool is `PLUGIN__COMMAND` (plugin and command names are lowercase
//! letters, digits and `-`, so the name fits MCP's, OpenAI's and
//! Anthropic's alphabets). Its input is `{"args": ["word", ...]}`: the words
//! `isaac run COMMAND` would get; or, when the plugin's `plugin.toml`
//! declares `[tools.COMMAND] input_schema`, an object of that schema, which
//! reaches the command as one word, its JSON text.

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
}

impl ToolSpec {
    /// The JSON schema of this tool's input: the declared one, or `args`.
    pub fn schema(&self) -> Map<String, Value> {
        self.declared.clone().unwrap_or_else(ToolSpec::args_schema)
    }

    /// The words a call's `arguments` become: with a declared schema, one
    /// word, their JSON text; otherwise `args`.
    pub fn words(&self, arguments: Option<&Map<String, Value>>) -> Result<Vec<String>, ArgsError> {
        match &self.declared {
            Some(_) => Ok(vec![Value::Object(arguments.cloned().unwrap_or_default()).to_string()]),
            None => words(arguments),
        }
    }

    /// The JSON schema of a tool's input without a declared one: `args`.
    pub fn args_schema() -> Map<String, Value> {
        let schema = json!({
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
            });
        }
    }
    tools.sort_by(|a, b| a.name.cmp(&b.name));
    tools
}

/// A call's arguments that are not `{"args": [strings]}`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArgsError {
    /// A key other than `args`.
    #[error("unknown argument `{0}`: a tool takes only `args`, a list of strings")]
    Unknown(String),
    /// `args` is a list holding something else than strings.
    #[error("`args` must be a list of strings, not one holding {0}")]
    NotAString(Value),
    /// `args` is not a list.
    #[error("`args` must be a list of strings, not {0}")]
    NotAList(Value),
}

/// The words a call's `arguments` become: `{"args": [strings]}`, or nothing.
pub fn words(arguments: Option<&Map<String, Value>>) -> Result<Vec<String>, ArgsError> {
    let Some(arguments) = arguments else { return Ok(Vec::new()) };
    if let Some(other) = arguments.keys().find(|k| *k != "args") {
        return Err(ArgsError::Unknown(other.clone()));
    }
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
    fn arguments_become_words() {
        let args = |v: Value| words(v.as_object());
        assert_eq!(words(None), Ok(vec![]));
        assert_eq!(args(json!({})), Ok(vec![]));
        assert_eq!(args(json!({"args": ["a b", "-v"]})), Ok(vec!["a b".to_owned(), "-v".to_owned()]));
        assert_eq!(args(json!({"args": "a b"})), Err(ArgsError::NotAList(json!("a b"))));
        assert_eq!(args(json!({"args": [1]})), Err(ArgsError::NotAString(json!(1))));
        assert_eq!(args(json!({"text": "x"})), Err(ArgsError::Unknown("text".into())));
    }

    #[test]
    fn only_named_plugins_are_exposed() {
        let only = Exposed::Only(["notes".to_owned()].into());
        assert!(only.includes("notes") && !only.includes("wordcount"));
        assert!(Exposed::All.includes("wordcount"));
    }
}
