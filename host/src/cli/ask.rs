//! `isaac ask PROMPT`: the configured model, with the plugins as its tools.

use std::io::{BufRead, IsTerminal};

use clap::Args;

use super::{Context, Failure, output};
use crate::ask::{self, AskOptions, AskUi, CallRecord, Confirm, Step};
use crate::terminal::{self, Lines};
use crate::tools::ToolSpec;

/// Ask the configured model, offering it every runnable plugin command as a
/// tool. Each call it asks for runs in the plugin's sandbox, as `isaac run`
/// would, and its result goes back, until the model answers.
///
/// A command of a plugin granted files or environment variables runs only
/// after you say yes; so does a command that can send data off this machine
/// (a plugin granted http or ai), since what plugins wrote (their tools'
/// descriptions, their output) may be steering the model. Without a
/// terminal such calls are refused and the model is told why. `--yes` runs
/// them all without asking: the model, and whatever the tools tell it, then
/// decides what leaves the machine. Every step is one AI query:
/// the response cache, the provider's limits and `[ai] daily_budget_usd`
/// apply to each. With --json: `{"answer", "steps": [{"text", "calls":
/// [{"tool", "args", "result", "is_error", "refused"}], "usage",
/// "cost_usd", "cached"}]}`.
#[derive(Debug, Args)]
pub struct AskArgs {
    /// The question.
    #[arg(required = true, num_args = 1..)]
    prompt: Vec<String>,
    /// The provider [default: [ai] default_provider, or the only one].
    #[arg(long)]
    provider: Option<String>,
    /// The model [default: the provider's].
    #[arg(long)]
    model: Option<String>,
    /// The most answers asked of the model; each turn that calls tools is one.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..))]
    max_steps: u16,
    /// Run every call without asking: files, environment, network and AI.
    #[arg(long, short = 'y')]
    yes: bool,
}

/// The terminal side of a conversation.
struct Terminal {
    yes: bool,
    stream: bool,
    quiet: bool,
    printer: Box<dyn FnMut(&str) + Send>,
}

impl AskUi for Terminal {
    fn confirm(&mut self, tool: &ToolSpec, args: &[String], why: &Confirm) -> bool {
        if self.yes {
            return true;
        }
        let stdin = std::io::stdin();
        if !stdin.is_terminal() {
            crate::say!("isaac ask: not running {}: {} (--yes allows it)", tool.name, why.reason());
            return false;
        }
        let words = shlex::try_join(args.iter().map(String::as_str)).unwrap_or_default();
        crate::console::prompt(format_args!(
            "The model asks to run `{}:{} {}`; {}. Run it? [y/N] ",
            tool.plugin,
            tool.command,
            terminal::clean(&words, Lines::One),
            why.reason()
        ));
        let mut answer = String::new();
        stdin.lock().read_line(&mut answer).is_ok() && matches!(answer.trim(), "y" | "Y" | "yes")
    }

    fn on_text(&mut self) -> Option<&mut (dyn FnMut(&str) + Send)> {
        if self.stream { Some(&mut *self.printer) } else { None }
    }

    fn on_call(&mut self, call: &CallRecord) {
        if self.quiet {
            return;
        }
        let words = shlex::try_join(call.args.iter().map(String::as_str)).unwrap_or_default();
        let first = call.result.lines().next().unwrap_or("");
        let preview: String = first.chars().take(60).collect();
        let more = if preview.len() < call.result.trim_end().len() { "…" } else { "" };
        let mark = if call.is_error { "failed: " } else { "" };
        crate::say!(
            "[{}] {} -> {mark}{}{more}",
            // The name is the model's: it may be anything.
            terminal::clean(&call.tool.chars().take(64).collect::<String>(), Lines::One),
            terminal::clean(&words, Lines::One),
            terminal::clean(&preview, Lines::One)
        );
    }
}

pub fn run(cx: &Context, args: AskArgs) -> Result<u8, Failure> {
    let runtime = super::runtime()?;
    let host = cx.host()?;
    let router = host.ai()?;
    let loaded = runtime.block_on(host.load_all(&|_| {}))?;
    let stream = !cx.json && crate::console::stdout_is_terminal();
    let mut ui =
        Terminal { yes: args.yes, stream, quiet: cx.quiet() || cx.json, printer: Box::new(crate::console::part) };
    let options = AskOptions { provider: args.provider, model: args.model, max_steps: usize::from(args.max_steps) };
    let prompt = args.prompt.join(" ");
    let mut steps: Vec<Step> = Vec::new();
    let result = runtime.block_on(ask::ask(&router, &loaded, &prompt, &options, &mut ui, &mut steps));
    if cx.json {
        // One object, the error included: the transcript says how far it got.
        let answer = result.as_ref().ok();
        let error = result.as_ref().err().map(|e| crate::error::one_line(e));
        let code = u8::from(error.is_some());
        output::json(&serde_json::json!({ "answer": answer, "steps": steps, "error": error, "exit_code": code }));
        if let Some(error) = error {
            crate::say!("error: {error}");
        }
        return Ok(code);
    }
    match result {
        Ok(_) if stream => {
            output::line("");
            Ok(0)
        }
        Ok(answer) => {
            output::line(&answer);
            Ok(0)
        }
        Err(e) => Err(Failure::from(e)),
    }
}
