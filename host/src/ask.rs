//! `isaac ask`: one conversation with the configured model in which the
//! installed plugin commands are offered as tools. Each call the model asks
//! for runs in its plugin's sandbox (as `isaac run` would) and its result
//! goes back, until the model answers or the steps run out. Every step is a
//! query like any other: the response cache, the providers' limits and the
//! daily budget apply to each.
//!
//! A tool's description and output are words its plugin, or a page it
//! fetched, chose: they can tell the model what to do next. So a call that
//! could carry data off this machine (a plugin granted `http` or `ai`) runs
//! only with the user's yes (the question names the tools whose output the
//! model has read), and so does a call that reaches the user's files or
//! environment. Without a terminal to ask on (and without `--yes`) such a
//! call is refused and the model is told why.

use serde::Serialize;
use serde_json::Value;

use crate::ai::{AiError, AiRequest, AiRouter, Message, ToolCall, ToolDef, Usage};
use crate::host::{LoadReport, LoadedPlugin};
use crate::tools::{self, Exposed, ToolSpec};

/// The most tool calls run for one answer; the rest are answered with an
/// error (a model steered by a tool's output could ask for thousands).
pub const MAX_CALLS_PER_STEP: usize = 32;

/// How a conversation runs.
#[derive(Debug, Clone, Default)]
pub struct AskOptions {
    /// The provider; default: the configured default.
    pub provider: Option<String>,
    /// The model; default: the provider's.
    pub model: Option<String>,
    /// The most answers asked of the model (each tool-calling turn is one).
    pub max_steps: usize,
}

/// One answer of the model and the tools it called.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    /// Its text (often empty when it calls tools).
    pub text: String,
    /// The calls it asked for, with their results.
    pub calls: Vec<CallRecord>,
    /// Its token counts.
    pub usage: Usage,
    /// What it cost, in dollars.
    pub cost_usd: f64,
    /// Whether it came from the response cache.
    pub cached: bool,
}

/// One tool call and what came of it.
#[derive(Debug, Clone, Serialize)]
pub struct CallRecord {
    /// The tool (`PLUGIN__COMMAND`).
    pub tool: String,
    /// The words the command got.
    pub args: Vec<String>,
    /// Its output, or why it failed.
    pub result: String,
    /// Whether it failed (or was refused, or named no tool).
    pub is_error: bool,
    /// Whether the user refused to run it.
    pub refused: bool,
}

/// Why a conversation ended without an answer.
#[derive(Debug, thiserror::Error)]
pub enum AskError {
    /// A query failed (the provider, the budget).
    #[error("step {step}")]
    Ai {
        /// The step that failed.
        step: usize,
        /// Why.
        #[source]
        source: AiError,
    },
    /// The model kept calling tools.
    #[error("the model was still calling tools after {0} steps: raise --max-steps, or ask more narrowly")]
    MaxSteps(usize),
}

/// Why a call needs the user's yes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirm {
    /// Its plugin was granted files or environment variables.
    pub local_data: bool,
    /// Its plugin can send data off the machine (`http`, `ai`).
    pub off_machine: bool,
    /// The tools whose output the model has read so far.
    pub after: Vec<String>,
}

impl Confirm {
    /// What the call may do, for the question asked and the refusal.
    pub fn reason(&self) -> String {
        let mut parts = Vec::new();
        if self.local_data {
            parts.push("it may read your files or environment".to_owned());
        }
        if self.off_machine {
            parts.push(match self.after.is_empty() {
                true => "it can send data off this machine, and the model chose it after reading the tools' descriptions, which plugins wrote".to_owned(),
                false => format!(
                    "it can send data off this machine, and the conversation holds the output of {}, which may be steering the model",
                    self.after.join(", ")
                ),
            });
        }
        parts.join("; ")
    }
}

/// What the conversation needs from whoever runs it.
pub trait AskUi {
    /// Whether `tool` may run with `args`: asked only for a call that
    /// needs a yes, and why.
    fn confirm(&mut self, tool: &ToolSpec, args: &[String], why: &Confirm) -> bool;
    /// Text of the model's answer as it arrives; `None`: wait for whole answers.
    fn on_text(&mut self) -> Option<&mut (dyn FnMut(&str) + Send)>;
    /// A call has run.
    fn on_call(&mut self, call: &CallRecord);
}

/// The tools `isaac ask` offers: every command of a plugin that may run.
pub fn offered(loaded: &LoadReport) -> Vec<ToolSpec> {
    // A model passes words only: what it sends is what the user confirms.
    let offered = |t: ToolSpec| ToolSpec { stdin: false, ..t };
    tools::list(loaded, &Exposed::All).into_iter().filter(|t| t.refused.is_none()).map(offered).collect()
}

/// Whether a model's call of `plugin` needs the user's yes, and why, when
/// the output of the tools in `read` is already in the conversation. A
/// call that can send data off the machine always does: from the first
/// step the conversation holds text plugins chose (the tools'
/// descriptions), and later their output.
pub fn needs_confirmation(plugin: &LoadedPlugin, read: &[String]) -> Option<Confirm> {
    let p = &plugin.manifest.permissions;
    let local_data = !p.files.read.is_empty() || !p.files.write.is_empty() || !p.env.is_empty();
    let off_machine = plugin.sends_off_machine();
    (local_data || off_machine).then(|| Confirm { local_data, off_machine, after: read.to_vec() })
}

/// Ask `prompt`, offering `loaded`'s commands as tools; the answer's text.
/// `steps` gets every step as it ends (it holds what happened also when
/// the conversation fails).
pub async fn ask(
    router: &AiRouter,
    loaded: &LoadReport,
    prompt: &str,
    options: &AskOptions,
    ui: &mut dyn AskUi,
    steps: &mut Vec<Step>,
) -> Result<String, AskError> {
    let specs = offered(loaded);
    let defs: Vec<ToolDef> = specs
        .iter()
        .map(|t| ToolDef {
            name: t.name.clone(),
            description: t.description.clone(),
            parameters: Value::Object(t.schema()),
        })
        .collect();
    let mut messages = vec![Message::user(prompt)];
    // The tools whose output the model has read, in order.
    let mut read: Vec<String> = Vec::new();
    for step in 1..=options.max_steps {
        let req = AiRequest {
            messages: messages.clone(),
            provider: options.provider.clone(),
            model: options.model.clone(),
            tools: defs.clone(),
            ..AiRequest::default()
        };
        let answer = match ui.on_text() {
            Some(on_text) => router.stream(&req, on_text).await,
            None => router.query(&req).await,
        }
        .map_err(|source| AskError::Ai { step, source })?;
        let mut record = Step {
            text: answer.text.clone(),
            calls: Vec::new(),
            usage: answer.usage,
            cost_usd: answer.cost_usd,
            cached: answer.cached,
        };
        if answer.tool_calls.is_empty() {
            steps.push(record);
            return Ok(answer.text);
        }
        messages.push(Message::assistant_calls(answer.text, answer.tool_calls.clone()));
        for (i, call) in answer.tool_calls.iter().enumerate() {
            let done = match i < MAX_CALLS_PER_STEP {
                true => run_call(loaded, &specs, call, ui, &mut read).await,
                false => CallRecord {
                    tool: call.name.clone(),
                    args: Vec::new(),
                    result: format!("not run: at most {MAX_CALLS_PER_STEP} tool calls are run per answer"),
                    is_error: true,
                    refused: false,
                },
            };
            ui.on_call(&done);
            messages.push(Message::tool_result(call.id.clone(), done.result.clone()));
            record.calls.push(done);
        }
        steps.push(record);
    }
    Err(AskError::MaxSteps(options.max_steps))
}

/// Run one call the model asked for; every failure is a result the model reads.
async fn run_call(
    loaded: &LoadReport,
    specs: &[ToolSpec],
    call: &ToolCall,
    ui: &mut dyn AskUi,
    read: &mut Vec<String>,
) -> CallRecord {
    let failed = |args: Vec<String>, result: String| CallRecord {
        tool: call.name.clone(),
        args,
        result,
        is_error: true,
        refused: false,
    };
    let Some(spec) = specs.iter().find(|t| t.name == call.name) else {
        return failed(Vec::new(), format!("there is no tool named `{}`", call.name));
    };
    let arguments: Value = match serde_json::from_str(&call.arguments) {
        Ok(v) => v,
        Err(e) => return failed(Vec::new(), format!("the arguments are not JSON: {e}")),
    };
    let args = match spec.input(arguments.as_object()) {
        Ok(input) => input.words,
        Err(e) => return failed(Vec::new(), e.to_string()),
    };
    let Some(plugin) = loaded.plugins.iter().find(|p| p.name == spec.plugin) else {
        return failed(args, format!("plugin `{}` is not loaded", spec.plugin));
    };
    if let Some(why) = needs_confirmation(plugin, read)
        && !ui.confirm(spec, &args, &why)
    {
        let result = match why.off_machine {
            false => "the user did not allow this call".to_owned(),
            true => format!("the user did not allow this call: {}", why.reason()),
        };
        return CallRecord { refused: true, ..failed(args, result) };
    }
    // From here on its output (or its error, also its words) is in the
    // conversation.
    if !read.contains(&spec.name) {
        read.push(spec.name.clone());
    }
    match plugin.run(&spec.command, &args).await {
        Ok(output) => CallRecord { tool: call.name.clone(), args, result: output, is_error: false, refused: false },
        Err(e) => failed(args, e.tool_text()),
    }
}
