//! `isaac ask PROMPT`: the configured model, with the plugins as its tools.

use std::io::{BufRead, IsTerminal};

use clap::Args;

use super::{Context, Failure, output};
use crate::ask::{self, AskOptions, AskUi, CallRecord, Confirm, Step};
use crate::settings::Settings;
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

/// `isaac ask`, resolved once from its flags, the global settings and the
/// terminal: what the handler reads.
#[derive(Debug)]
struct AskSettings {
    /// The question, its words joined.
    prompt: String,
    /// Provider, model and step budget (the provider's default is the AI
    /// router's, as for every other query).
    options: AskOptions,
    /// `--yes`: run every call without asking.
    yes: bool,
    /// Print the answer as it arrives: on a terminal, never with `--json`.
    stream: bool,
    /// Say each tool call on stderr: not with `-q` or `--json`.
    narrate: bool,
}

impl AskSettings {
    /// Resolve `args` over `settings`; `json` is `--json`, `stdout_terminal`
    /// whether stdout is a terminal.
    fn resolve(args: AskArgs, settings: &Settings, json: bool, stdout_terminal: bool) -> Self {
        let options = AskOptions { provider: args.provider, model: args.model, max_steps: usize::from(args.max_steps) };
        AskSettings {
            prompt: args.prompt.join(" "),
            options,
            yes: args.yes,
            stream: stdout_terminal && !json,
            narrate: !settings.quiet() && !json,
        }
    }
}

/// The terminal side of a conversation.
struct Terminal {
    yes: bool,
    stream: bool,
    narrate: bool,
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
        if !self.narrate {
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
    let AskSettings { prompt, options, yes, stream, narrate } =
        AskSettings::resolve(args, &cx.settings, cx.json, crate::console::stdout_is_terminal());
    let runtime = super::runtime()?;
    let host = cx.host()?;
    let router = host.ai()?;
    let loaded = runtime.block_on(host.load_all(&|_| {}))?;
    let mut ui = Terminal { yes, stream, narrate, printer: Box::new(crate::console::part) };
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::testing::{parse, settings};
    use crate::settings::Flags;

    #[test]
    fn the_flags_are_the_conversation_and_the_terminal_decides_streaming() {
        let (_home, plain) = settings("", Flags::default());
        let args = parse::<AskArgs>(&["what", "is", "up", "--provider", "p", "--max-steps", "3", "-y"]);
        let ask = AskSettings::resolve(args, &plain, false, true);
        assert_eq!(ask.prompt, "what is up");
        assert_eq!((ask.options.provider.as_deref(), ask.options.model.as_deref()), (Some("p"), None));
        assert_eq!(ask.options.max_steps, 3);
        assert!(ask.yes && ask.stream && ask.narrate);
        let ask = AskSettings::resolve(parse::<AskArgs>(&["hi"]), &plain, false, false);
        assert_eq!(ask.options.max_steps, 8, "the default step budget");
        assert!(!ask.yes && !ask.stream, "no terminal, no streaming");
    }

    #[test]
    fn json_and_quiet_silence_the_narration() {
        let (_home, plain) = settings("", Flags::default());
        let ask = AskSettings::resolve(parse::<AskArgs>(&["hi"]), &plain, true, true);
        assert!(!ask.stream && !ask.narrate, "--json: one object, nothing streamed or said");
        let (_home, quiet) = settings("", Flags { quiet: true, ..Flags::default() });
        let ask = AskSettings::resolve(parse::<AskArgs>(&["hi"]), &quiet, false, true);
        assert!(ask.stream && !ask.narrate, "-q: the answer streams, the calls are not said");
    }
}
